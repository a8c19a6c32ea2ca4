//! Checkout sessions: `POST /v1/sessions` for the merchant's backend, `GET /v1/sessions/{id}` for
//! the widget.

use std::collections::BTreeMap;

use base64::Engine as _;
use payment_core::crypto::{constant_time_eq, HmacSha256 as _};
use payment_core::environment::{detect, ClientHints};
use payment_core::ids::{MerchantOrderId, SessionId};
use payment_core::method::{offer, PaymentMethod};
use payment_core::money::{Amount, Currency};
use payment_core::session::{check_client_secret, derive_client_secret, NewSession, Session};
use payment_core::wechatpay::model::OpenId;
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};
use worker::{Env, Method, Response, Result};

use crate::config::Config;
use crate::error::ApiError;
use crate::incoming::Incoming;
use crate::route::RouteContext;
use crate::session_object::SessionRecord;
use crate::webcrypto::{random_bytes, HmacKey};

/// Bounds of `expires_in`, in seconds: 1 minute to 1 day; 30 minutes when omitted.
const EXPIRES_IN: (u64, u64, u64) = (60, 86_400, 1_800);
/// The largest body `POST /v1/sessions` takes (the largest valid request is about 13 KiB).
const MAX_BODY: usize = 64 * 1024;
/// Bounds of `metadata`: keys, key length, value length.
const METADATA_LIMITS: (usize, usize, usize) = (20, 40, 500);

/// The body of `POST /v1/sessions`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CreateSession {
    order_id: String,
    amount: serde_json::Value,
    currency: String,
    description: String,
    #[serde(default)]
    methods: Option<Vec<String>>,
    #[serde(default)]
    return_url: Option<String>,
    #[serde(default)]
    expires_in: Option<u64>,
    #[serde(default)]
    metadata: Option<BTreeMap<String, String>>,
    /// The payer's openid under `WECHATPAY_APPID`, when the merchant knows it (stored sealed).
    #[serde(default)]
    wechat_openid: Option<String>,
    /// The shopper's browser as the merchant's server sees it: the answer then also carries the
    /// session as `GET /v1/sessions/{id}` shows it to that browser (`view`), for the widget's
    /// `sessionData`. Not part of the session (nor of its idempotency).
    #[serde(default)]
    shopper: Option<Shopper>,
}

/// `shopper` of `POST /v1/sessions`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Shopper {
    /// The `User-Agent` the shopper's browser sent the merchant's page.
    user_agent: String,
    /// What only the browser knows (as the widget sends in `X-Edgepay-Hints`), if the page told.
    #[serde(default)]
    hints: ClientHints,
}

/// A validated request, in the canonical form whose hash tells idempotent retries from conflicts.
#[derive(Debug, Serialize)]
struct Validated {
    order_id: MerchantOrderId,
    amount: Amount,
    currency: Currency,
    description: String,
    methods: Option<Vec<PaymentMethod>>,
    return_url: Option<String>,
    expires_in: u64,
    metadata: BTreeMap<String, String>,
    /// Part of the request's hash only; stored sealed, never answered.
    wechat_openid: Option<OpenId>,
}

fn validate(body: CreateSession) -> std::result::Result<Validated, ApiError> {
    use ApiError::InvalidRequest as Invalid;
    let order_id = MerchantOrderId::new(body.order_id).map_err(|_| Invalid("order_id must be 1–64 visible ASCII characters."))?;
    let fen = body.amount.as_u64().filter(|fen| *fen > 0).ok_or(Invalid("amount must be an integer number of fen greater than 0."))?;
    let amount = Amount::from_fen(fen).map_err(|_| Invalid("amount is above the largest payment the providers accept."))?;
    let currency = match body.currency.as_str() {
        "CNY" => Currency::Cny,
        _ => return Err(Invalid("currency must be \"CNY\".")),
    };
    let description = body.description.trim().to_owned();
    if description.is_empty() || description.chars().count() > 127 {
        return Err(Invalid("description must be 1–127 characters."));
    }
    let methods = match body.methods {
        None => None,
        Some(names) if names.is_empty() => return Err(Invalid("methods, when given, must name at least one method.")),
        Some(names) => {
            let mut methods = names
                .iter()
                .map(|name| name.parse::<PaymentMethod>())
                .collect::<std::result::Result<Vec<_>, _>>()
                .map_err(|_| Invalid("methods must be names such as \"wechat_native\" or \"alipay_wap\" (see the API reference)."))?;
            methods.sort();
            methods.dedup();
            Some(methods)
        }
    };
    if let Some(url) = &body.return_url {
        if !(url.starts_with("https://") || url.starts_with("http://")) || url.len() > 2048 || url.contains(char::is_whitespace) {
            return Err(Invalid("return_url must be an http(s) URL of at most 2048 characters."));
        }
    }
    let (min, max, default) = EXPIRES_IN;
    let expires_in = body.expires_in.unwrap_or(default);
    if !(min..=max).contains(&expires_in) {
        return Err(Invalid("expires_in must be between 60 and 86400 seconds."));
    }
    let metadata = body.metadata.unwrap_or_default();
    let (keys, key_len, value_len) = METADATA_LIMITS;
    if metadata.len() > keys || metadata.iter().any(|(k, v)| k.is_empty() || k.len() > key_len || v.len() > value_len) {
        return Err(Invalid("metadata allows at most 20 keys of 1–40 bytes with values of at most 500 bytes."));
    }
    let wechat_openid = match body.wechat_openid {
        None => None,
        Some(openid) => Some(OpenId::new(openid).map_err(|_| Invalid("wechat_openid must be a WeChat openid (1–128 visible ASCII characters)."))?),
    };
    Ok(Validated { order_id, amount, currency, description, methods, return_url: body.return_url, expires_in, metadata, wechat_openid })
}

/// The bearer token of `Authorization`.
pub(crate) fn bearer(req: &Incoming) -> Option<String> {
    req.headers().get("Authorization").ok().flatten()?.strip_prefix("Bearer ").map(|t| t.trim().to_owned())
}

/// The stub of the session's Durable Object.
fn session_stub(env: &Env, id: &SessionId) -> Result<worker::Stub> {
    env.durable_object("SESSIONS")?.id_from_name(id.as_str())?.get_stub()
}

/// Calls the session's Durable Object.
pub(crate) async fn call_object(env: &Env, id: &SessionId, method: Method, path: &str, body: Option<String>) -> Result<crate::http::Reply> {
    let stub = session_stub(env, id)?.into_rpc::<crate::http::ObjectStub>();
    Ok(crate::http::call_object(&stub, method.as_ref(), path, body).await?)
}

/// `POST /v1/sessions`: the merchant backend creates a checkout session.
pub(crate) async fn create(mut req: Incoming, ctx: RouteContext<Config>) -> Result<Response> {
    let config = &ctx.data;
    let (Some(api_key), Some(session_secret)) = (&config.merchant_api_key, &config.session_secret) else {
        return ApiError::NotConfigured.into_response();
    };
    let presented = bearer(&req).unwrap_or_default();
    if !constant_time_eq(presented.as_bytes(), api_key.expose()) {
        return ApiError::Unauthorized.into_response();
    }
    let idempotency_key = req.headers().get("Idempotency-Key").ok().flatten();
    if idempotency_key.as_ref().is_some_and(|k| k.is_empty() || k.len() > 255) {
        return ApiError::InvalidRequest("Idempotency-Key must be 1–255 characters.").into_response();
    }
    // Real requests are a few KiB (metadata included): a larger one is refused unread when it
    // says its length, and unparsed otherwise.
    let declared = req.headers().get("Content-Length").ok().flatten().and_then(|l| l.trim().parse::<usize>().ok());
    if declared.is_some_and(|l| l > MAX_BODY) {
        return ApiError::BodyTooLarge.into_response();
    }
    let text = req.text().await?;
    if text.len() > MAX_BODY {
        return ApiError::BodyTooLarge.into_response();
    }
    let mut body: CreateSession = match serde_json::from_str(&text) {
        Ok(body) => body,
        Err(e) if e.is_data() => {
            return ApiError::InvalidRequest("The body must have order_id, amount, currency and description, and only the documented fields.")
                .into_response()
        }
        Err(_) => return ApiError::InvalidRequest("The body must be a JSON object.").into_response(),
    };
    let shopper = body.shopper.take();
    if shopper.as_ref().is_some_and(|s| s.user_agent.len() > 1024) {
        return ApiError::InvalidRequest("shopper.user_agent must be at most 1024 characters.").into_response();
    }
    let request = match validate(body) {
        Ok(request) => request,
        Err(e) => return e.into_response(),
    };
    let key = HmacKey::import(session_secret.expose()).await.map_err(|_| worker::Error::RustError("hmac".into()))?;
    // With an Idempotency-Key the id is derived from it (unguessable without SESSION_SECRET), so a
    // retry reaches the same Durable Object, which tells a retry from a conflicting reuse.
    let seed: [u8; 15] = match &idempotency_key {
        Some(k) => {
            let tag = key.sign(format!("idempotency:{k}").as_bytes()).await.map_err(|_| worker::Error::RustError("hmac".into()))?;
            tag[..15].try_into().map_err(|_| worker::Error::RustError("seed".into()))?
        }
        None => random_bytes().map_err(|_| worker::Error::RustError("random".into()))?,
    };
    let id = SessionId::from_random(&seed);
    let now = crate::now();
    let session = Session::new(NewSession {
        id: id.clone(),
        order_id: request.order_id.clone(),
        amount: request.amount,
        currency: request.currency,
        metadata: request.metadata.clone(),
        created_at: now,
        expires_at: now + request.expires_in,
    });
    let Ok(session) = session else {
        return ApiError::InvalidRequest("amount must be an integer number of fen greater than 0.").into_response();
    };
    let wechat = match &request.wechat_openid {
        None => Default::default(),
        Some(openid) => match crate::oauth::payer_from_merchant(&ctx.env, &id, openid).await {
            Some(payer) => payer,
            // The openid is kept only sealed: without DATA_ENCRYPTION_KEY it is not kept at all.
            None => return ApiError::NotConfigured.into_response(),
        },
    };
    let canonical = serde_json::to_vec(&request)?;
    let request_hash = base64::engine::general_purpose::STANDARD_NO_PAD.encode(Sha256::digest(canonical));
    let record = SessionRecord {
        session,
        description: request.description,
        methods: request.methods,
        return_url: request.return_url,
        request_hash,
        actions: BTreeMap::new(),
        current: None,
        pending_effects: Vec::new(),
        wechat,
    };
    let stored = call_object(&ctx.env, &id, Method::Post, "/create", Some(serde_json::to_string(&record)?)).await?;
    if stored.status == 409 {
        return ApiError::IdempotencyConflict.into_response();
    }
    let record: SessionRecord = stored.json()?;
    let client_secret = derive_client_secret(&key, &id).await.map_err(|_| worker::Error::RustError("hmac".into()))?;
    let session = &record.session;
    let mut body = serde_json::json!({
        "id": session.id(),
        "client_secret": client_secret,
        "status": session.status().as_str(),
        "amount": session.amount(),
        "currency": session.currency(),
        "expires_at": session.expires_at(),
    });
    if let Some(shopper) = shopper {
        body["view"] = view(&record, &detect(&shopper.user_agent, &shopper.hints));
    }
    Ok(Response::from_json(&body)?.with_status(201))
}

/// Where the caller is: its User-Agent and the hints the widget sends in `X-Edgepay-Hints`.
pub(crate) fn detect_caller(req: &Incoming) -> payment_core::environment::Detected {
    let user_agent = req.headers().get("User-Agent").ok().flatten().unwrap_or_default();
    let hints: ClientHints = req
        .headers()
        .get("X-Edgepay-Hints")
        .ok()
        .flatten()
        .and_then(|h| serde_json::from_str(&h).ok())
        .unwrap_or_default();
    detect(&user_agent, &hints)
}

/// Checks the merchant API key presented by `req` (in constant time).
pub(crate) fn authorize_merchant(req: &Incoming, config: &Config) -> std::result::Result<(), ApiError> {
    let Some(api_key) = &config.merchant_api_key else {
        return Err(ApiError::NotConfigured);
    };
    let presented = bearer(req).unwrap_or_default();
    if constant_time_eq(presented.as_bytes(), api_key.expose()) {
        Ok(())
    } else {
        Err(ApiError::Unauthorized)
    }
}

/// Checks the client secret of session `id` presented by `req`.
pub(crate) async fn authorize_widget(req: &Incoming, config: &Config, id: &SessionId) -> std::result::Result<(), ApiError> {
    let Some(session_secret) = &config.session_secret else {
        return Err(ApiError::NotConfigured);
    };
    let key = HmacKey::import(session_secret.expose()).await.map_err(|_| ApiError::Internal)?;
    let presented = bearer(req).unwrap_or_default();
    check_client_secret(&key, id, &presented).await.map_err(|_| ApiError::Unauthorized)
}

/// `GET /v1/sessions/{id}`: the widget reads the session with its client secret, and learns which
/// methods work where the shopper is (from the User-Agent and the `X-Edgepay-Hints` header).
pub(crate) async fn get(req: Incoming, ctx: RouteContext<Config>) -> Result<Response> {
    let Some(id) = ctx.param("id").and_then(|id| SessionId::new(id.as_str()).ok()) else {
        return ApiError::SessionNotFound.into_response();
    };
    if let Err(e) = authorize_widget(&req, &ctx.data, &id).await {
        return e.into_response();
    }
    let stored = call_object(&ctx.env, &id, Method::Get, "/record", None).await?;
    if stored.status == 404 {
        return ApiError::SessionNotFound.into_response();
    }
    let record: SessionRecord = stored.json()?;
    // While processing, ask the provider itself (rate-limited): a lost callback must not hide a payment.
    let record = crate::providers::query::refresh(&ctx.env, &id, record).await?;
    let mut response = Response::from_json(&view(&record, &detect_caller(&req)))?;
    response.headers_mut().set("Cache-Control", "no-store")?;
    Ok(response)
}

/// The session as a shopper `detected` there sees it: the answer of `GET /v1/sessions/{id}` (and
/// `view` of `POST /v1/sessions` with `shopper`).
fn view(record: &SessionRecord, detected: &payment_core::environment::Detected) -> serde_json::Value {
    let offer = offer(detected, record.methods.as_deref());
    let action = record.current.as_ref().and_then(|no| record.actions.get(no));
    let session = &record.session;
    serde_json::json!({
        "id": session.id(),
        "status": session.status().as_str(),
        "amount": session.amount(),
        "currency": session.currency(),
        "description": record.description,
        "expires_at": session.expires_at(),
        "environment": detected,
        "methods": offer.allowed,
        "blocked": offer.blocked,
        "action": action,
    })
}
