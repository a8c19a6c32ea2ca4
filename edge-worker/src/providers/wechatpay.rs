//! WeChat Pay API v3: Native (a QR code), H5 (WeChat's cashier, then back to the shop page),
//! JSAPI (the JS bridge's parameters, once [`crate::oauth`] has put the payer's openid on the
//! session) and the payment callback.
//!
//! Every request is signed with the merchant key (`Authorization`); every answer, non-2xx included,
//! is verified with the platform key its `Wechatpay-Serial` names before anything in it is used.
//! Platform keys come from public-key mode (`WECHATPAY_PUBLIC_KEY_ID` + `WECHATPAY_PUBLIC_KEY`) and
//! certificate mode (`WECHATPAY_PLATFORM_CERTS`) at once: merchants migrate with both live.

use std::collections::BTreeMap;

use payment_core::beijing_time::BeijingTime;
use payment_core::crypto::SecretBytes;
use payment_core::ids::{AppId, MchId};
use payment_core::keys::{private_key_pkcs8_der, public_key_spki_der};
use payment_core::method::PaymentMethod;
use payment_core::wechatpay::canonical::encode_component;
use payment_core::wechatpay::model::{
    beijing_rfc3339, from_body, ApiError as WechatError, H5Info, H5Order, H5SceneInfo, H5Type, JsapiOrder, NativeOrder,
    OpenId, Order, OrderAmount, Payer, PrepayRequest, Transaction,
};
use payment_core::wechatpay::notify::{parse_notification, ApiV3Key, NotificationResource};
use payment_core::wechatpay::sign::{authorization, Request as SignedRequest};
use payment_core::wechatpay::verify::{platform_certificates, verify_response, WechatpayHeaders};
use payment_core::wechatpay::{jsapi_params, JsapiParams, API_BASE_URL};
use worker::{Env, Headers, Method, Url};

use super::{public_url, setting, Attempt, NextAction, ProviderError};
use crate::webcrypto::{random_bytes, AesGcmKey, RsaSigningKey, RsaVerifyingKey};

/// This worker's callback route.
const NOTIFY_PATH: &str = "/v1/notify/wechatpay";

/// The WeChat Pay settings, read when needed.
#[derive(Debug)]
pub(crate) struct Settings {
    /// `scheme://host[:port]` of `WECHATPAY_BASE_URL`.
    origin: String,
    /// Its path, if any (a proxy in front of the API), without the trailing `/`: part of what is signed.
    path_prefix: String,
    pub(super) mchid: MchId,
    pub(super) appid: AppId,
    /// `WECHAT_MINIPROGRAM_APPID`: the merchant's mini-program, bound to the same `mchid` (its
    /// pay page's JSAPI payments, see [`miniprogram_params`]).
    pub(super) miniprogram_appid: Option<AppId>,
    merchant_serial: String,
    merchant_key_pkcs8: SecretBytes,
    pub(super) apiv3_key: ApiV3Key,
    /// `Wechatpay-Serial` → key: `PUB_KEY_ID_…` and certificate serials side by side.
    pub(super) platform_keys: BTreeMap<String, RsaVerifyingKey>,
}

impl Settings {
    /// The settings, or `None` when one is missing or invalid (`/v1/health` names the missing
    /// ones). Platform certificates count only while valid at `now`.
    /// Cached per isolate for the hour of `now` (certificates' validity is re-read every hour).
    pub(crate) fn from_env(env: &Env, now: u64) -> Option<std::rc::Rc<Self>> {
        crate::isolate_cache::get_or_make(now / 3600, || Self::read(env, now))
    }

    fn read(env: &Env, now: u64) -> Option<Self> {
        let mut platform_keys = BTreeMap::new();
        if let (Some(id), Some(key)) = (setting(env, "WECHATPAY_PUBLIC_KEY_ID"), setting(env, "WECHATPAY_PUBLIC_KEY")) {
            if let Ok(spki) = public_key_spki_der(&key, "WECHATPAY_PUBLIC_KEY") {
                platform_keys.insert(id.trim().to_owned(), RsaVerifyingKey::new(&spki));
            }
        }
        if let Some(certs) = setting(env, "WECHATPAY_PLATFORM_CERTS") {
            for (serial, spki) in platform_certificates(&certs, now).unwrap_or_default() {
                platform_keys.insert(serial, RsaVerifyingKey::new(&spki));
            }
        }
        if platform_keys.is_empty() {
            return None;
        }
        let base = Url::parse(&setting(env, "WECHATPAY_BASE_URL").unwrap_or_else(|| API_BASE_URL.to_owned())).ok()?;
        Some(Self {
            origin: base.origin().ascii_serialization(),
            path_prefix: base.path().trim_end_matches('/').to_owned(),
            mchid: MchId::new(setting(env, "WECHATPAY_MCHID")?.trim()).ok()?,
            appid: AppId::new(setting(env, "WECHATPAY_APPID")?.trim()).ok()?,
            miniprogram_appid: setting(env, "WECHAT_MINIPROGRAM_APPID").and_then(|id| AppId::new(id.trim()).ok()),
            merchant_serial: setting(env, "WECHATPAY_MERCHANT_SERIAL")?.trim().to_owned(),
            merchant_key_pkcs8: private_key_pkcs8_der(&setting(env, "WECHATPAY_MERCHANT_PRIVATE_KEY")?, "WECHATPAY_MERCHANT_PRIVATE_KEY").ok()?,
            apiv3_key: ApiV3Key::new(setting(env, "WECHATPAY_APIV3_KEY")?.as_bytes()).ok()?,
            platform_keys,
        })
    }

    /// Whether `appid` is this merchant's: the official account's or the mini-program's.
    pub(super) fn own_appid(&self, appid: &AppId) -> bool {
        *appid == self.appid || self.miniprogram_appid.as_ref() == Some(appid)
    }

    async fn merchant_key(&self) -> Result<RsaSigningKey, ProviderError> {
        RsaSigningKey::import(self.merchant_key_pkcs8.expose()).await.map_err(|_| ProviderError::NotConfigured)
    }

    /// The fields every order carries.
    fn order(&self, env: &Env, attempt: &Attempt<'_>) -> Result<Order, ProviderError> {
        let session = &attempt.record.session;
        Ok(Order {
            appid: self.appid.clone(),
            mchid: self.mchid.clone(),
            description: attempt.record.description.clone(),
            out_trade_no: attempt.out_trade_no.clone(),
            time_expire: Some(beijing_rfc3339(session.expires_at()).map_err(|_| ProviderError::NotConfigured)?),
            attach: None,
            notify_url: public_url(env, NOTIFY_PATH).ok_or(ProviderError::NotConfigured)?,
            amount: OrderAmount { total: session.amount(), currency: session.currency() },
        })
    }

    /// Creates an order (JSAPI, H5 or Native) and returns WeChat Pay's verified answer.
    async fn prepay<R: PrepayRequest>(&self, request: &R, now: u64) -> Result<R::Response, ProviderError> {
        let body = request.to_body().map_err(|_| ProviderError::NotConfigured)?;
        let (status, raw) = self.post(R::PATH, &body, now).await?;
        match status {
            200..=299 => from_body(&raw, "response").map_err(|_| ProviderError::Unavailable),
            500.. => Err(ProviderError::Unavailable),
            _ => match from_body::<WechatError>(&raw, "error") {
                Ok(error) if error.code.is_retryable() => Err(ProviderError::Unavailable),
                _ => Err(ProviderError::Refused),
            },
        }
    }

    /// Sends a signed `POST` and returns the status and raw body of an answer that verified.
    async fn post(&self, path: &str, body: &str, now: u64) -> Result<(u16, Vec<u8>), ProviderError> {
        self.send(Method::Post, path, Some(body), now).await
    }

    /// Sends a signed request (`GET` without a body, `POST` with one) and returns the status and
    /// raw body of an answer that verified.
    pub(super) async fn send(&self, method: Method, path: &str, body: Option<&str>, now: u64) -> Result<(u16, Vec<u8>), ProviderError> {
        let target = format!("{}{path}", self.path_prefix);
        let nonce = nonce()?;
        let key = self.merchant_key().await?;
        let signed = match body {
            Some(body) => SignedRequest::post(&target, body.as_bytes()),
            None => SignedRequest::get(&target),
        };
        let authorization = authorization(&key, &self.mchid, &self.merchant_serial, &signed, now, &nonce)
            .await
            .map_err(|_| ProviderError::NotConfigured)?;
        let user_agent = concat!("edgepay-worker/", env!("CARGO_PKG_VERSION"));
        let mut headers = vec![("Authorization", authorization.as_str()), ("Accept", "application/json"), ("User-Agent", user_agent)];
        if body.is_some() {
            headers.push(("Content-Type", "application/json"));
        }
        let outgoing = crate::http::Outgoing { method: method.as_ref(), headers: &headers, body: body.map(str::as_bytes), timeout_ms: Some(crate::http::PROVIDER_TIMEOUT_MS) };
        let reply = crate::http::send(&format!("{}{target}", self.origin), &outgoing).await?;
        let (status, raw) = (reply.status, &reply.body);
        // Errors are signed too: an answer that does not verify is not WeChat Pay's, whatever its status.
        let headers = WechatpayHeaders::from_lookup(|name| reply.header(name)).map_err(|_| ProviderError::Unavailable)?;
        verify_response(&headers, raw, &self.platform_keys, now).await.map_err(|_| ProviderError::Unavailable)?;
        Ok((status, reply.body))
    }
}

/// The four `Wechatpay-*` signature headers, when all are present once.
pub(crate) fn signature_headers(headers: &Headers) -> Option<WechatpayHeaders> {
    WechatpayHeaders::from_lookup(|name| headers.get(name).ok().flatten()).ok()
}

/// A request nonce: 32 random upper-case hex characters.
fn nonce() -> Result<String, ProviderError> {
    let bytes = random_bytes::<16>().map_err(|_| ProviderError::Unavailable)?;
    Ok(bytes.iter().map(|b| format!("{b:02X}")).collect())
}

/// Creates the order of `attempt` and returns the widget's next action.
pub(crate) async fn create_order(env: &Env, attempt: &Attempt<'_>) -> Result<NextAction, ProviderError> {
    let settings = Settings::from_env(env, attempt.now).ok_or(ProviderError::NotConfigured)?;
    let order = settings.order(env, attempt)?;
    match attempt.method {
        PaymentMethod::WechatNative => {
            let answer = settings.prepay(&NativeOrder { order }, attempt.now).await?;
            Ok(NextAction::Qr { data: answer.code_url, expires_at: attempt.record.session.expires_at() })
        }
        PaymentMethod::WechatH5 => {
            let payer_client_ip = attempt.client_ip.ok_or(ProviderError::MissingContext(
                "WeChat H5 needs the shopper's IP address (CF-Connecting-IP or X-Forwarded-For), and this request has none.",
            ))?;
            let h5_info = H5Info { kind: H5Type::Wap, app_name: None, app_url: None };
            let request = H5Order { order, scene_info: H5SceneInfo { payer_client_ip, h5_info } };
            let answer = settings.prepay(&request, attempt.now).await?;
            // WeChat's cashier sends the shopper back to `redirect_url` (the widget's page) when done.
            let url = match &attempt.return_to {
                Some(page) => {
                    let separator = if answer.h5_url.contains('?') { '&' } else { '?' };
                    format!("{}{separator}redirect_url={}", answer.h5_url, encode_component(page))
                }
                None => answer.h5_url,
            };
            Ok(NextAction::Redirect { url })
        }
        PaymentMethod::WechatJsapi => {
            let Some(openid) = crate::oauth::payer_openid(env, attempt.record).await? else {
                // No payer yet: WeChat's sign-in first; the widget pays again when it is back.
                return Ok(NextAction::Oauth { url: crate::oauth::authorize_url(env, attempt).await? });
            };
            let answer = settings.prepay(&JsapiOrder { order, payer: Payer { openid } }, attempt.now).await?;
            let key = settings.merchant_key().await?;
            let params = jsapi_params(&key, &settings.appid, &answer.prepay_id, attempt.now, &nonce()?)
                .await
                .map_err(|_| ProviderError::NotConfigured)?;
            Ok(NextAction::Jsapi { params })
        }
        _ => Err(ProviderError::NotConfigured),
    }
}

/// The `wx.requestPayment` parameters of the mini-program hand-off `attempt` for the payer
/// `openid` (from the mini-program's `wx.login` → `code2session`): a JSAPI order under
/// `WECHAT_MINIPROGRAM_APPID` with the attempt's own order number, so its callback and queries
/// reach this session like any other attempt's.
///
/// # Errors
/// [`ProviderError::NotConfigured`] without WeChat Pay or `WECHAT_MINIPROGRAM_APPID`; the
/// provider's refusal or unavailability otherwise.
pub(crate) async fn miniprogram_params(env: &Env, attempt: &Attempt<'_>, openid: OpenId) -> Result<JsapiParams, ProviderError> {
    let settings = Settings::from_env(env, attempt.now).ok_or(ProviderError::NotConfigured)?;
    let appid = settings.miniprogram_appid.clone().ok_or(ProviderError::NotConfigured)?;
    let mut order = settings.order(env, attempt)?;
    order.appid = appid.clone();
    let answer = settings.prepay(&JsapiOrder { order, payer: Payer { openid } }, attempt.now).await?;
    let key = settings.merchant_key().await?;
    jsapi_params(&key, &appid, &answer.prepay_id, attempt.now, &nonce()?).await.map_err(|_| ProviderError::NotConfigured)
}

/// Why a callback changes nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Refusal {
    /// WeChat Pay is not configured here.
    NotConfigured,
    /// The signature, the timestamp, the decryption or the body did not check out (probes too).
    Unverified,
    /// It is WeChat Pay's, but for another merchant or app.
    WrongMerchant,
    /// Not a payment (refunds are not handled yet): refused, so WeChat Pay keeps it for later.
    Unhandled,
}

/// Verifies a callback over its raw body (the 300 s window, probes refused), decrypts and parses
/// it with payment-core's one entry point, and checks it is a payment for this merchant and app.
pub(crate) async fn verify_notify(env: &Env, headers: &WechatpayHeaders, raw: &[u8], now: u64) -> Result<Transaction, Refusal> {
    let settings = Settings::from_env(env, now).ok_or(Refusal::NotConfigured)?;
    let aead = AesGcmKey::import(settings.apiv3_key.expose()).await.map_err(|_| Refusal::NotConfigured)?;
    let notification = parse_notification(headers, raw, &settings.platform_keys, &aead, now).await.map_err(|_| Refusal::Unverified)?;
    let NotificationResource::Transaction(transaction) = notification.resource else {
        return Err(Refusal::Unhandled);
    };
    if transaction.mchid != settings.mchid || !settings.own_appid(&transaction.appid) {
        return Err(Refusal::WrongMerchant);
    }
    Ok(*transaction)
}

/// When a transaction was paid: its `success_time`, which WeChat Pay sends in Beijing time
/// (`yyyy-MM-DDTHH:mm:ss+08:00`); `None` when absent or in another form.
pub(crate) fn paid_at(transaction: &Transaction) -> Option<u64> {
    let local = transaction.success_time.as_deref()?.strip_suffix("+08:00")?.replacen('T', " ", 1);
    BeijingTime::parse_alipay(&local, "success_time").ok().map(BeijingTime::unix)
}
