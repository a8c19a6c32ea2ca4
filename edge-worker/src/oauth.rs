//! WeChat `snsapi_base` OAuth: how a JSAPI payer's `openid` reaches the session
//! (<https://developers.weixin.qq.com/doc/offiaccount/OA_Web_Apps/Wechat_webpage_authorization.html>).
//!
//! `pay` for `wechat_jsapi` without an openid → `Oauth{url}`: WeChat's authorize page, with a state
//! signed with `SESSION_SECRET` that names the session and a round trip recorded in the session's
//! Durable Object (which remembers the page to come back to: WeChat allows 128 bytes of state) →
//! WeChat sends the shopper to `GET /v1/wechat/oauth/callback?code&state` → the state is checked,
//! the code exchanged for the openid, the round trip ended (single use) with the openid stored
//! sealed with AES-GCM under `DATA_ENCRYPTION_KEY` → `302` back to the shop page, where the
//! widget's second `pay` finds the openid.

use std::collections::BTreeMap;

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine as _;
use payment_core::crypto::{AesGcm as _, HmacSha256 as _, SecretBytes};
use payment_core::ids::{AppId, SessionId};
use payment_core::wechatpay::canonical::encode_component;
use payment_core::wechatpay::model::OpenId;
use serde::{Deserialize, Serialize};
use worker::{Env, Method, Response, Result};

use crate::config::Config;
use crate::error::ApiError;
use crate::incoming::Incoming;
use crate::providers::{public_url, setting, Attempt, ProviderError};
use crate::route::RouteContext;
use crate::session_object::SessionRecord;
use crate::sessions::call_object;
use crate::webcrypto::{random_bytes, AesGcmKey, HmacKey};

/// WeChat's authorize page host, the default of `WECHAT_OPEN_BASE_URL`.
const OPEN_BASE_URL: &str = "https://open.weixin.qq.com";
/// WeChat's API host (code → openid), the default of `WECHAT_API_BASE_URL`.
const API_BASE_URL: &str = "https://api.weixin.qq.com";
/// This worker's route WeChat sends the shopper back to.
pub(crate) const CALLBACK_PATH: &str = "/v1/wechat/oauth/callback";
/// How long a round trip may take, from `pay` to the callback.
const STATE_LIFETIME_SECS: u64 = 600;
/// Round trips a session keeps in flight at once (older ones are dropped first).
const MAX_PENDING: usize = 8;
/// What the state's HMAC covers besides its fields, so it can never pass for another MAC of
/// `SESSION_SECRET` (client secrets, idempotent ids).
const STATE_DOMAIN: &str = "edgepay:wechat-oauth-state:";
/// The one sentence for a state that is forged, tampered with, expired or already used.
const STATE_REFUSED: &str = "This WeChat sign-in link is invalid, expired or already used. Go back to the shop and pay again.";

/// The payer's WeChat identity on a session: the openid, sealed, and the OAuth round trips in
/// flight. Kept in the session's Durable Object; never sent to the widget.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub(crate) struct WechatPayer {
    /// The payer's openid under `WECHATPAY_APPID`, sealed with `DATA_ENCRYPTION_KEY`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    openid: Option<Sealed>,
    /// Round trips started and not yet ended, by their state nonce.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pending: BTreeMap<String, Pending>,
}

/// AES-256-GCM output at rest: base64 of the 12-byte nonce and of ciphertext ‖ tag. The
/// associated data (the session id) is not stored: it comes from where the value is read.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Sealed {
    nonce: String,
    ciphertext: String,
}

/// One round trip in flight.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Pending {
    /// The shop page to go back to.
    page: String,
    /// Unix seconds.
    expires_at: u64,
}

impl WechatPayer {
    /// Records a round trip (with the attempt's action, see [`crate::pay::in_object`]), dropping expired ones and, past
    /// [`MAX_PENDING`], the oldest.
    pub(crate) fn begin(&mut self, nonce: String, page: String, expires_at: u64, now: u64) {
        self.pending.retain(|_, p| p.expires_at > now);
        while self.pending.len() >= MAX_PENDING {
            let oldest = self.pending.iter().min_by_key(|(_, p)| p.expires_at).map(|(n, _)| n.clone());
            match oldest {
                Some(nonce) => self.pending.remove(&nonce),
                None => break,
            };
        }
        self.pending.insert(nonce, Pending { page, expires_at });
    }

    /// Ends the round trip `nonce` with the payer's sealed openid (the Durable Object's
    /// `oauth_finish`): the page to go back to, or `None` when that round trip is unknown, already
    /// ended or expired. Each state ends at most once.
    pub(crate) fn finish(&mut self, nonce: &str, openid: Sealed, now: u64) -> Option<String> {
        let pending = self.pending.remove(nonce)?;
        if pending.expires_at <= now {
            return None;
        }
        self.openid = Some(openid);
        Some(pending.page)
    }
}

/// The OAuth settings: WeChat's hosts, the app and its secret, and the key that seals openids.
struct Settings {
    appid: AppId,
    app_secret: SecretBytes,
    open_base_url: String,
    api_base_url: String,
    data_key: SecretBytes,
}

impl Settings {
    /// The settings, or `None` when one is missing or invalid (`/v1/health` names the missing ones).
    fn from_env(env: &Env) -> Option<std::rc::Rc<Self>> {
        crate::isolate_cache::get_or_make(0, || Self::read(env))
    }

    fn read(env: &Env) -> Option<Self> {
        let base = |name: &str, default: &str| setting(env, name).unwrap_or_else(|| default.to_owned()).trim_end_matches('/').to_owned();
        Some(Self {
            appid: AppId::new(setting(env, "WECHATPAY_APPID")?).ok()?,
            app_secret: SecretBytes::new(setting(env, "WECHATPAY_APP_SECRET")?.into_bytes()),
            open_base_url: base("WECHAT_OPEN_BASE_URL", OPEN_BASE_URL),
            api_base_url: base("WECHAT_API_BASE_URL", API_BASE_URL),
            data_key: data_key(env)?,
        })
    }
}

/// `DATA_ENCRYPTION_KEY`: 32 bytes, base64.
fn data_key(env: &Env) -> Option<SecretBytes> {
    let key = SecretBytes::new(STANDARD.decode(setting(env, "DATA_ENCRYPTION_KEY")?.trim()).ok()?);
    (key.expose().len() == 32).then_some(key)
}

/// The associated data binding a sealed openid to its session: it cannot be moved to another.
fn openid_aad(session: &SessionId) -> String {
    format!("edgepay:wechat-openid:{}", session.as_str())
}

/// Seals `openid` for `session` under `key`, with a fresh random nonce.
async fn seal(key: &SecretBytes, session: &SessionId, openid: &OpenId) -> Option<Sealed> {
    let aead = AesGcmKey::import(key.expose()).await.ok()?;
    let nonce = random_bytes::<12>().ok()?;
    let ciphertext = aead.encrypt(&nonce, openid_aad(session).as_bytes(), openid.as_str().as_bytes()).await.ok()?;
    Some(Sealed { nonce: STANDARD.encode(nonce), ciphertext: STANDARD.encode(ciphertext) })
}

/// Opens a sealed openid of `session`; `None` when it does not open (another key, tampered).
async fn open(key: &SecretBytes, session: &SessionId, sealed: &Sealed) -> Option<OpenId> {
    let nonce: [u8; 12] = STANDARD.decode(&sealed.nonce).ok()?.try_into().ok()?;
    let ciphertext = STANDARD.decode(&sealed.ciphertext).ok()?;
    let aead = AesGcmKey::import(key.expose()).await.ok()?;
    let plaintext = aead.decrypt(&nonce, openid_aad(session).as_bytes(), &ciphertext).await.ok()?;
    OpenId::new(String::from_utf8(plaintext).ok()?).ok()
}

/// The payer's openid stored on the session, if there is one that opens with today's key (after
/// a key change the shopper simply signs in again).
///
/// # Errors
/// [`ProviderError::NotConfigured`] without valid OAuth settings.
pub(crate) async fn payer_openid(env: &Env, record: &SessionRecord) -> std::result::Result<Option<OpenId>, ProviderError> {
    let Some(sealed) = &record.wechat.openid else {
        return Ok(None);
    };
    let key = data_key(env).ok_or(ProviderError::NotConfigured)?;
    Ok(open(&key, record.session.id(), sealed).await)
}

/// The payer of a session whose merchant already knows the openid (`wechat_openid` of
/// `POST /v1/sessions`, e.g. from its own sign-in or mini-program login): sealed exactly as the
/// sign-in round trip seals it, so JSAPI needs no OAuth. `None` without a valid
/// `DATA_ENCRYPTION_KEY` (or when WebCrypto fails).
pub(crate) async fn payer_from_merchant(env: &Env, session: &SessionId, openid: &OpenId) -> Option<WechatPayer> {
    let key = data_key(env)?;
    let sealed = seal(&key, session, openid).await?;
    Some(WechatPayer { openid: Some(sealed), pending: BTreeMap::new() })
}

/// The state's signed part: `{session}.{nonce}.{expires_at}`.
fn state_message(session: &SessionId, nonce: &str, expires_at: u64) -> String {
    format!("{}.{nonce}.{expires_at}", session.as_str())
}

/// Signs a state: `{session}.{nonce}.{expires_at}.{base64url HMAC-SHA256}` (about 100 characters,
/// within WeChat's 128).
async fn sign_state(secret: &SecretBytes, session: &SessionId, nonce: &str, expires_at: u64) -> Option<String> {
    let message = state_message(session, nonce, expires_at);
    let key = HmacKey::import(secret.expose()).await.ok()?;
    let tag = key.sign(format!("{STATE_DOMAIN}{message}").as_bytes()).await.ok()?;
    Some(format!("{message}.{}", URL_SAFE_NO_PAD.encode(tag)))
}

/// Checks a state's signature and expiry: its session and nonce.
async fn verify_state(secret: &SecretBytes, state: &str, now: u64) -> Option<(SessionId, String)> {
    let mut parts = state.split('.');
    let (Some(session), Some(nonce), Some(expires_at), Some(tag), None) = (parts.next(), parts.next(), parts.next(), parts.next(), parts.next()) else {
        return None;
    };
    let session = SessionId::new(session).ok()?;
    let expires_at: u64 = expires_at.parse().ok()?;
    let tag = URL_SAFE_NO_PAD.decode(tag).ok()?;
    let key = HmacKey::import(secret.expose()).await.ok()?;
    let message = state_message(&session, nonce, expires_at);
    key.verify(format!("{STATE_DOMAIN}{message}").as_bytes(), &tag).await.ok()?;
    (now < expires_at).then(|| (session, nonce.to_owned()))
}

/// Starts the round trip of `attempt` and returns WeChat's authorize URL; the round trip is left in
/// `attempt.oauth_begun` for the session to record with the action.
///
/// # Errors
/// [`ProviderError::NotConfigured`] without the OAuth settings, `SESSION_SECRET` or
/// `PUBLIC_BASE_URL`; [`ProviderError::MissingContext`] without a page to come back to.
pub(crate) async fn authorize_url(env: &Env, attempt: &Attempt<'_>) -> std::result::Result<String, ProviderError> {
    let page = attempt.return_to.clone().ok_or(ProviderError::MissingContext(
        "WeChat JSAPI needs a page to come back to after signing in: send page_url, or create the session with a return_url.",
    ))?;
    let settings = Settings::from_env(env).ok_or(ProviderError::NotConfigured)?;
    let secret = setting(env, "SESSION_SECRET").map(|s| SecretBytes::new(s.into_bytes())).ok_or(ProviderError::NotConfigured)?;
    let callback = public_url(env, CALLBACK_PATH).ok_or(ProviderError::NotConfigured)?;
    let session = attempt.record.session.id();
    let nonce = URL_SAFE_NO_PAD.encode(random_bytes::<12>().map_err(|_| ProviderError::Unavailable)?);
    let expires_at = attempt.now + STATE_LIFETIME_SECS;
    let state = sign_state(&secret, session, &nonce, expires_at).await.ok_or(ProviderError::NotConfigured)?;
    let url = format!(
        "{}/connect/oauth2/authorize?appid={}&redirect_uri={}&response_type=code&scope=snsapi_base&state={}#wechat_redirect",
        settings.open_base_url,
        encode_component(settings.appid.as_str()),
        encode_component(&callback),
        encode_component(&state),
    );
    // The session's object records it with the attempt's action (see [`crate::pay::in_object`]).
    attempt.oauth_begun.replace(Some(crate::pay::OauthBegun { nonce, page, expires_at }));
    Ok(url)
}

/// WeChat's answer to the code exchange: the openid, or an error code. The access token in it is
/// neither needed nor kept.
#[derive(Debug, Deserialize)]
struct TokenAnswer {
    #[serde(default)]
    openid: Option<String>,
    #[serde(default)]
    errcode: Option<i64>,
}

/// Exchanges `code` for the payer's openid.
async fn exchange(settings: &Settings, code: &str) -> std::result::Result<OpenId, ApiError> {
    let secret = std::str::from_utf8(settings.app_secret.expose()).map_err(|_| ApiError::ProviderNotConfigured)?;
    let url = format!(
        "{}/sns/oauth2/access_token?appid={}&secret={}&code={}&grant_type=authorization_code",
        settings.api_base_url,
        encode_component(settings.appid.as_str()),
        encode_component(secret),
        encode_component(code),
    );
    let request = crate::http::Outgoing { method: "GET", headers: &[], body: None, timeout_ms: Some(crate::http::PROVIDER_TIMEOUT_MS) };
    let reply = crate::http::send(&url, &request).await.map_err(|_| ApiError::ProviderUnavailable)?;
    if reply.status != 200 {
        return Err(ApiError::ProviderUnavailable);
    }
    let answer: TokenAnswer = reply.json().map_err(|_| ApiError::ProviderUnavailable)?;
    match (answer.openid, answer.errcode) {
        (Some(openid), None | Some(0)) => OpenId::new(openid).map_err(|_| ApiError::ProviderUnavailable),
        // -1: WeChat is busy; anything else (a used or unknown code, a wrong secret) is a refusal.
        (_, Some(-1)) => Err(ApiError::ProviderUnavailable),
        _ => Err(ApiError::ProviderRefused),
    }
}

/// The Durable Object's answer to `oauth_finish`.
#[derive(Debug, Deserialize)]
struct Finished {
    /// The shop page to go back to.
    page: String,
}

/// A `302` to `location` (built by hand: the runtime's redirect responses have immutable headers).
fn found(location: &str) -> Result<Response> {
    let mut response = Response::empty()?.with_status(302);
    response.headers_mut().set("Location", location)?;
    response.headers_mut().set("Cache-Control", "no-store")?;
    Ok(response)
}

/// `GET /v1/wechat/oauth/callback?code&state`: WeChat sends the shopper back here.
pub(crate) async fn callback(req: Incoming, ctx: RouteContext<Config>) -> Result<Response> {
    let url = req.url()?;
    let query = |name: &str| url.query_pairs().find(|(k, _)| k == name).map(|(_, v)| v.into_owned()).filter(|v| !v.is_empty());
    let (Some(code), Some(state)) = (query("code"), query("state")) else {
        return ApiError::InvalidRequest(STATE_REFUSED).into_response();
    };
    let Some(secret) = &ctx.data.session_secret else {
        return ApiError::NotConfigured.into_response();
    };
    let now = crate::now();
    let Some((session, nonce)) = verify_state(secret, &state, now).await else {
        return ApiError::InvalidRequest(STATE_REFUSED).into_response();
    };
    let Some(settings) = Settings::from_env(&ctx.env) else {
        return ApiError::ProviderNotConfigured.into_response();
    };
    let openid = match exchange(&settings, &code).await {
        Ok(openid) => openid,
        Err(e) => return e.into_response(),
    };
    let Some(sealed) = seal(&settings.data_key, &session, &openid).await else {
        return ApiError::Internal.into_response();
    };
    let op = serde_json::json!({ "op": "oauth_finish", "nonce": nonce, "openid": sealed, "now": now });
    let finished = call_object(&ctx.env, &session, Method::Post, "/op", Some(op.to_string())).await?;
    match finished.status {
        200 => {}
        404 => return ApiError::SessionNotFound.into_response(),
        _ => return ApiError::InvalidRequest(STATE_REFUSED).into_response(),
    }
    let page = finished.json::<Finished>()?.page;
    if !(page.starts_with("https://") || page.starts_with("http://")) {
        return ApiError::InvalidRequest(STATE_REFUSED).into_response();
    }
    found(&page)
}
