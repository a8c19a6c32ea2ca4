//! WeChat Pay API v3, WeChat OAuth (`snsapi_base`) and a fake `WeixinJSBridge`, as strict as the
//! real platforms. Every protocol rule (canonical strings, signatures, encryption, ids, money) is
//! `payment-core`'s provider side; this module holds the platform's state and business rules.
//!
//! - [`auth`]: every `/v3/…` request is verified like the platform does (`Authorization` over the
//!   request target as sent and the raw body; mchid, merchant serial, ±300 s, nonces remembered for
//!   five minutes) before anything else; refusals are `401 SIGN_ERROR`.
//! - [`pay`]: JSAPI / H5 / Native orders, query by `out_trade_no` or `transaction_id`, close, and the
//!   H5 cashier entry the `h5_url` points at.
//! - [`refund`]: refunds and their query; `PROCESSING`, then `SUCCESS` and a `REFUND.SUCCESS` callback.
//! - [`notify`]: callbacks (encrypted, signed), signature probes, the `/v3/certificates` list.
//! - [`oauth`]: `open.weixin.qq.com/connect/oauth2/authorize` and `api.weixin.qq.com/sns/oauth2/access_token`.
//! - [`bridge`]: `/sandbox/bridge.js` and the endpoint it pays through.
//!
//! Every response, errors included, is signed with the platform key (`Wechatpay-Timestamp`,
//! `-Nonce`, `-Signature`, `-Serial`). The serial names the key the way the merchant configured it:
//!
//! ```text
//! SANDBOX_WECHATPAY_MODE=public_key    (default) Wechatpay-Serial = the PUB_KEY_ID_… (public-key mode)
//! SANDBOX_WECHATPAY_MODE=certificate   Wechatpay-Serial = the platform certificate's serial
//! ```
//!
//! The same platform key signs in both modes, so a worker configured with both the public key and
//! the certificate (merchants mid-migration) verifies either.

mod auth;
mod bridge;
mod notify;
mod oauth;
mod pay;
mod refund;

use std::sync::OnceLock;

use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;

use crate::app::{now, random_token, with_verdict, Shared};
use crate::cashier::escape;
use crate::notifier::Callback;
use crate::store::{Order, RefundRecord};

/// The environment variable that picks how responses and callbacks name the platform key.
pub const MODE_VARIABLE: &str = "SANDBOX_WECHATPAY_MODE";

/// How `Wechatpay-Serial` names the platform key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum KeyMode {
    /// `PUB_KEY_ID_…` (WeChat Pay's public-key mode, the default for new merchants).
    PublicKey,
    /// The platform certificate's serial (certificate mode).
    Certificate,
}

static MODE: OnceLock<KeyMode> = OnceLock::new();

fn read_mode() -> Result<KeyMode, String> {
    match std::env::var(MODE_VARIABLE) {
        Err(std::env::VarError::NotPresent) => Ok(KeyMode::PublicKey),
        Ok(value) => match value.as_str() {
            "" | "public_key" | "public-key" => Ok(KeyMode::PublicKey),
            "certificate" => Ok(KeyMode::Certificate),
            other => Err(format!("{MODE_VARIABLE}: expected public_key or certificate, got {other:?}")),
        },
        Err(e) => Err(format!("{MODE_VARIABLE}: {e}")),
    }
}

fn mode() -> KeyMode {
    *MODE.get_or_init(|| read_mode().unwrap_or(KeyMode::PublicKey))
}

/// The serial responses and callbacks carry in `Wechatpay-Serial`.
fn platform_serial(state: &Shared) -> &str {
    match mode() {
        KeyMode::PublicKey => &state.keys.file.wechatpay.public_key_id,
        KeyMode::Certificate => &state.keys.file.wechatpay.platform_cert_serial,
    }
}

/// The WeChat Pay, WeChat OAuth and bridge routes.
///
/// Exits the process (status 2) when [`MODE_VARIABLE`] holds something else than a known mode:
/// a sandbox that silently signs in the other mode would hide a configuration mistake.
pub fn routes() -> Router<Shared> {
    match read_mode() {
        Ok(mode) => {
            let _ = MODE.set(mode);
        }
        Err(message) => {
            eprintln!("sandbox: {message}");
            std::process::exit(2);
        }
    }
    Router::new()
        .route("/v3/pay/transactions/jsapi", post(pay::create_jsapi))
        .route("/v3/pay/transactions/h5", post(pay::create_h5))
        .route("/v3/pay/transactions/native", post(pay::create_native))
        .route("/v3/pay/transactions/out-trade-no/{no}", get(pay::query_by_out_trade_no))
        .route("/v3/pay/transactions/id/{id}", get(pay::query_by_transaction_id))
        .route("/v3/pay/transactions/out-trade-no/{no}/close", post(pay::close))
        .route("/v3/refund/domestic/refunds", post(refund::create))
        .route("/v3/refund/domestic/refunds/{no}", get(refund::query))
        .route("/v3/certificates", get(notify::certificates))
        .route("/sandbox/wechat/h5", get(pay::h5_entry))
        .route("/connect/oauth2/authorize", get(oauth::authorize))
        .route("/sns/oauth2/access_token", get(oauth::access_token))
        .route("/sandbox/bridge.js", get(bridge::script))
        .route("/sandbox/bridge/wechat/pay", post(bridge::pay).options(bridge::preflight))
}

/// The callback that tells the merchant `order` is paid: `TRANSACTION.SUCCESS`, its transaction
/// encrypted with the APIv3 key, signed with the platform key. `None` without a notify URL or
/// when the order is not paid (WeChat Pay notifies successful payments only).
pub async fn payment_callback(state: &Shared, order: &Order) -> Option<Callback> {
    notify::payment_callback(state, order).await
}

/// The `REFUND.SUCCESS` callback of `refund`, when its request carried a `notify_url` and it succeeded.
pub async fn refund_callback(state: &Shared, order: &Order, refund: &RefundRecord) -> Option<Callback> {
    notify::refund_callback(state, order, refund).await
}

/// A signature probe, as WeChat Pay sends them: a well-formed, decryptable callback whose
/// `Wechatpay-Signature` starts with `WECHATPAY/SIGNTEST/`. The merchant must refuse it.
pub async fn probe_callback(state: &Shared, url: &str) -> Callback {
    notify::probe_callback(state, url).await
}

/// Fresh `Wechatpay-*` headers for another delivery attempt of a payment or refund callback: the
/// platform signs each attempt when it sends it, so a retry hours later carries a current
/// timestamp. `None` for probes (they stay badly signed) and when signing fails.
pub async fn fresh_callback_headers(state: &Shared, callback: &Callback) -> Option<Vec<(String, String)>> {
    notify::fresh_headers(state, callback).await
}

/// The shopper's browser after *pay* on the cashier page: back to the `redirect_url` the merchant
/// appended to the `h5_url` (H5), otherwise a "paid" page (Native is paid on the phone, JSAPI in
/// WeChat).
pub fn after_pay(state: &Shared, order: &Order) -> Response {
    let _ = state;
    match (order.kind.as_str(), order.return_url.as_deref()) {
        ("h5", Some(url)) => Redirect::to(url).into_response(),
        _ => paid_page(order),
    }
}

/// A WeChat Pay transaction id: 28 digits starting `4200`, like the real ones.
pub fn new_transaction_id() -> String {
    format!("4200{}", crate::app::random_digits(24))
}

fn paid_page(order: &Order) -> Response {
    Html(format!(
        r#"<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>支付成功 · sandbox</title></head>
<body style="font-family:sans-serif;text-align:center;padding:48px 16px">
<p style="color:#07c160;font-size:48px;margin:0">✓</p><h1 data-status="paid">支付成功 Paid</h1>
<p>{desc}</p><p><code>{no}</code></p>
<p style="color:#646a73;font-size:13px">edgepay sandbox: no real money moves. 测试环境，不会产生真实扣款。</p>
</body></html>"#,
        desc = escape(&order.description),
        no = escape(&order.out_trade_no),
    ))
    .into_response()
}

/// What a `/v3/…` handler answers before it is signed.
#[derive(Debug)]
enum Answer {
    /// `200` (or another status) with a JSON body.
    Json(StatusCode, serde_json::Value),
    /// `204 No Content`.
    NoContent,
}

/// A WeChat Pay error: status, `code`, `message`, and why, for the request log.
#[derive(Debug)]
struct ApiError {
    status: StatusCode,
    code: &'static str,
    message: String,
    verdict: String,
}

impl ApiError {
    fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        let message = message.into();
        Self { status, code, verdict: format!("{code}: {message}"), message }
    }

    /// `400 PARAM_ERROR`.
    fn param(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "PARAM_ERROR", message)
    }

    /// `400 INVALID_REQUEST`.
    fn invalid(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "INVALID_REQUEST", message)
    }

    /// `401 SIGN_ERROR`; the message stays generic (one opaque failure), the verdict says why.
    fn sign(verdict: impl Into<String>) -> Self {
        Self {
            status: StatusCode::UNAUTHORIZED,
            code: "SIGN_ERROR",
            message: "签名错误，请检查后再试 (signature verification failed)".to_owned(),
            verdict: format!("SIGN_ERROR: {}", verdict.into()),
        }
    }

    /// `500 SYSTEM_ERROR`.
    fn system(verdict: &str) -> Self {
        Self {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            code: "SYSTEM_ERROR",
            message: "系统错误 (sandbox internal error)".to_owned(),
            verdict: format!("SYSTEM_ERROR: {verdict}"),
        }
    }
}

/// Signs and sends a handler's outcome.
async fn finish(state: &Shared, outcome: Result<Answer, ApiError>) -> Response {
    match outcome {
        Ok(Answer::Json(status, body)) => signed(state, status, Some(&body)).await,
        Ok(Answer::NoContent) => signed(state, StatusCode::NO_CONTENT, None).await,
        Err(e) => {
            let body = serde_json::json!({ "code": e.code, "message": e.message });
            with_verdict(signed(state, e.status, Some(&body)).await, e.verdict)
        }
    }
}

/// `Wechatpay-*` headers signing `body` now, with the platform key and the configured serial.
async fn sign_headers(state: &Shared, body: &[u8]) -> Option<Vec<(String, String)>> {
    use payment_core::wechatpay::verify::{sign_response, HEADER_NONCE, HEADER_SERIAL, HEADER_SIGNATURE, HEADER_TIMESTAMP};
    let timestamp = now();
    let nonce = random_token(32);
    let signature = sign_response(&state.keys.wechat_platform, timestamp, &nonce, body).await.ok()?;
    Some(vec![
        (HEADER_TIMESTAMP.to_owned(), timestamp.to_string()),
        (HEADER_NONCE.to_owned(), nonce),
        (HEADER_SIGNATURE.to_owned(), signature),
        (HEADER_SERIAL.to_owned(), platform_serial(state).to_owned()),
    ])
}

/// A response signed like the platform signs every response: `TIMESTAMP\nNONCE\nBODY\n`.
async fn signed(state: &Shared, status: StatusCode, body: Option<&serde_json::Value>) -> Response {
    let bytes = body.map(|b| b.to_string().into_bytes()).unwrap_or_default();
    let Some(headers) = sign_headers(state, &bytes).await else {
        return with_verdict(StatusCode::INTERNAL_SERVER_ERROR, "sandbox could not sign its response");
    };
    let mut builder = Response::builder().status(status).header("Request-ID", random_token(32).to_ascii_lowercase());
    if body.is_some() {
        builder = builder.header("Content-Type", "application/json; charset=utf-8");
    }
    for (name, value) in headers {
        builder = builder.header(name, value);
    }
    builder
        .body(axum::body::Body::from(bytes))
        .unwrap_or_else(|_| with_verdict(StatusCode::INTERNAL_SERVER_ERROR, "sandbox could not build its response"))
}

/// WeChat Pay's trade type for an order kind.
fn trade_type(kind: &str) -> &'static str {
    match kind {
        "jsapi" => "JSAPI",
        "h5" => "MWEB",
        _ => "NATIVE",
    }
}

/// RFC 3339 in Beijing time, as every WeChat Pay time is sent.
fn beijing(unix: u64) -> String {
    payment_core::wechatpay::model::beijing_rfc3339(unix).unwrap_or_default()
}

/// A JSON value with object keys sorted at every level, to compare requests by their parameters.
fn canonical_json(value: &serde_json::Value) -> String {
    fn sorted(value: &serde_json::Value) -> serde_json::Value {
        match value {
            serde_json::Value::Object(map) => {
                let mut entries: Vec<_> = map.iter().collect();
                entries.sort_by(|a, b| a.0.cmp(b.0));
                serde_json::Value::Object(entries.into_iter().map(|(k, v)| (k.clone(), sorted(v))).collect())
            }
            serde_json::Value::Array(items) => serde_json::Value::Array(items.iter().map(sorted).collect()),
            other => other.clone(),
        }
    }
    sorted(value).to_string()
}

/// Whether `url` is an absolute `http(s)://host…` URL (no spaces or control characters).
fn is_web_url(url: &str) -> bool {
    let rest = url.strip_prefix("https://").or_else(|| url.strip_prefix("http://"));
    rest.is_some_and(|r| {
        let host = r.split(['/', '?', '#']).next().unwrap_or_default();
        !host.is_empty() && !host.starts_with(':')
    }) && url.bytes().all(|b| b.is_ascii_graphic())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_json_ignores_key_order_only() {
        let a: serde_json::Value = serde_json::from_str(r#"{"b":1,"a":{"y":[2,1],"x":"s"}}"#).unwrap_or_default();
        let b: serde_json::Value = serde_json::from_str(r#"{"a":{"x":"s","y":[2,1]},"b":1}"#).unwrap_or_default();
        let c: serde_json::Value = serde_json::from_str(r#"{"a":{"x":"s","y":[1,2]},"b":1}"#).unwrap_or_default();
        assert_eq!(canonical_json(&a), canonical_json(&b));
        assert_ne!(canonical_json(&a), canonical_json(&c));
    }

    #[test]
    fn web_urls() {
        assert!(is_web_url("https://shop.example/notify"));
        assert!(is_web_url("http://127.0.0.1:8787/v1/notify/wechatpay"));
        for bad in ["", "ftp://x/y", "https://", "https:///x", "https://a b/", "//x/y", "https://:80/x"] {
            assert!(!is_web_url(bad), "{bad}");
        }
    }

    #[test]
    fn transaction_ids_look_real() {
        let id = new_transaction_id();
        assert_eq!(id.len(), 28);
        assert!(id.starts_with("4200") && id.bytes().all(|b| b.is_ascii_digit()));
        assert!(payment_core::wechatpay::model::TransactionId::new(id).is_ok());
    }
}
