//! The platform's check of every merchant request: `Authorization` verified by
//! `payment_core::wechatpay::sign::verify_authorization` over the method, the request target exactly
//! as it arrived and the raw body; mchid and merchant serial must be the configured ones; the
//! timestamp within ±300 s; a `(nonce, timestamp)` pair is accepted once.

use std::collections::HashMap;
use std::sync::{LazyLock, Mutex};

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::{HeaderMap, Method, Uri};
use axum::response::Response;
use payment_core::ids::MchId;
use payment_core::wechatpay::sign::{verify_authorization, Request as SignedRequest};
use payment_core::wechatpay::MAX_CLOCK_SKEW_SECS;
use payment_core::Error;

use super::{finish, ApiError};
use crate::app::{lock, now, Shared};

/// Accepted `(nonce, timestamp)` pairs → when each may be forgotten (Unix seconds): by then its
/// timestamp is outside the window and the signature is refused anyway.
#[derive(Debug, Default)]
struct SeenNonces {
    forget_at: HashMap<(String, u64), u64>,
    /// When expired pairs were last swept (at most once a second, so a load test stays cheap).
    swept_at: u64,
}

static SEEN_NONCES: LazyLock<Mutex<SeenNonces>> = LazyLock::new(Mutex::default);

/// A merchant request whose signature verified: what the handlers read.
#[derive(Debug)]
pub(super) struct V3Request {
    /// The URI as received (path and query).
    pub uri: Uri,
    /// The headers.
    pub headers: HeaderMap,
    /// The raw body.
    pub body: Bytes,
}

impl V3Request {
    /// The JSON body of a POST: `Content-Type: application/json` and a JSON object, as the platform
    /// requires.
    pub fn json_object(&self) -> Result<serde_json::Map<String, serde_json::Value>, ApiError> {
        let content_type = self.headers.get("content-type").and_then(|v| v.to_str().ok()).unwrap_or_default();
        let essence = content_type.split(';').next().unwrap_or_default().trim();
        if !essence.eq_ignore_ascii_case("application/json") {
            return Err(ApiError::invalid("Http头Content-Type值必须为application/json (Content-Type must be application/json)"));
        }
        match serde_json::from_slice::<serde_json::Value>(&self.body) {
            Ok(serde_json::Value::Object(map)) => Ok(map),
            _ => Err(ApiError::param("请求体格式错误，应为JSON对象 (the body is not a JSON object)")),
        }
    }

    /// One query parameter, percent-decoded.
    pub fn query(&self, name: &str) -> Option<String> {
        let axum::extract::Query(params) = axum::extract::Query::<HashMap<String, String>>::try_from_uri(&self.uri).ok()?;
        params.get(name).cloned()
    }
}

impl FromRequest<Shared> for V3Request {
    type Rejection = Response;

    async fn from_request(request: Request, state: &Shared) -> Result<Self, Self::Rejection> {
        let method: Method = request.method().clone();
        let uri = request.uri().clone();
        let headers = request.headers().clone();
        let body = match Bytes::from_request(request, state).await {
            Ok(body) => body,
            Err(_) => return Err(finish(state, Err(ApiError::param("请求体无法读取 (unreadable body)"))).await),
        };
        match authenticate(state, &method, &uri, &headers, &body).await {
            Ok(()) => Ok(Self { uri, headers, body }),
            Err(e) => Err(finish(state, Err(e)).await),
        }
    }
}

async fn authenticate(state: &Shared, method: &Method, uri: &Uri, headers: &HeaderMap, body: &[u8]) -> Result<(), ApiError> {
    let mut values = headers.get_all("authorization").iter();
    let header = match (values.next(), values.next()) {
        (Some(value), None) => value.to_str().map_err(|_| ApiError::sign("Authorization is not visible ASCII"))?,
        (None, _) => return Err(ApiError::sign("no Authorization header")),
        (Some(_), Some(_)) => return Err(ApiError::sign("two Authorization headers")),
    };
    let target = uri.path_and_query().map_or_else(|| uri.path(), |pq| pq.as_str());
    let request = SignedRequest { method: method.as_str(), target, body };
    let keys = &state.keys.file.wechatpay;
    let mchid = MchId::new(keys.mchid.as_str()).map_err(|_| ApiError::system("configured mchid is invalid"))?;
    let now = now();
    let params = verify_authorization(header, &request, &state.keys.wechat_merchant, &mchid, &keys.merchant_serial, now)
        .await
        .map_err(|e| {
            ApiError::sign(match e {
                Error::Malformed { what } => format!("malformed {what}"),
                Error::Mismatch { .. } => "mchid is not the configured merchant".to_owned(),
                Error::UnknownKey => "serial_no is not the merchant's certificate serial".to_owned(),
                Error::StaleTimestamp => format!("timestamp more than {MAX_CLOCK_SKEW_SECS} s from now"),
                Error::BadSignature => "signature does not verify".to_owned(),
                other => other.to_string(),
            })
        })?;
    let mut seen = lock(&SEEN_NONCES);
    if seen.swept_at < now {
        seen.swept_at = now;
        seen.forget_at.retain(|_, forget_at| *forget_at > now);
    }
    let forget_at = params.timestamp.max(now) + MAX_CLOCK_SKEW_SECS;
    match seen.forget_at.entry((params.nonce_str, params.timestamp)) {
        std::collections::hash_map::Entry::Occupied(mut entry) if *entry.get() > now => {
            entry.insert(forget_at);
            Err(ApiError::sign("replayed nonce_str and timestamp"))
        }
        std::collections::hash_map::Entry::Occupied(mut entry) => {
            entry.insert(forget_at);
            Ok(())
        }
        std::collections::hash_map::Entry::Vacant(entry) => {
            entry.insert(forget_at);
            Ok(())
        }
    }
}
