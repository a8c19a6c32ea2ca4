//! `wechat_miniprogram`: the hand-off to the merchant's own mini-program, for a shopper inside a
//! mini-program's web-view (where JSAPI's `WeixinJSBridge` payment is not available).
//!
//! The widget gets `{"type":"miniprogram","path":"<WECHAT_MINIPROGRAM_PAY_PATH>?session_id=cs_…"}`
//! and navigates there with `wx.miniProgram.navigateTo({url: path})`. That page belongs to the
//! merchant: it sends the session id to the mini-program's backend, which (with the payer's openid
//! from `wx.login` → `code2session`) calls `POST /v1/sessions/{id}/miniprogram` with the merchant
//! key and hands `wx.requestPayment` the parameters it gets. The worker creates that JSAPI order
//! as the hand-off attempt itself (its order number, `WECHAT_MINIPROGRAM_APPID`), so the payment's
//! callback and queries reach the session like any other attempt's. The path carries the session
//! id only — never the client secret, which stays in the web-view.
//!
//! `WECHAT_MINIPROGRAM_PAY_PATH` (default [`DEFAULT_PATH`]) is a mini-program page path: it starts
//! with `/` and has no query, fragment, spaces or control characters.

use worker::Env;

use super::{setting, Attempt, NextAction, ProviderError};

/// The page of the merchant's mini-program that pays, when `WECHAT_MINIPROGRAM_PAY_PATH` is unset.
pub(crate) const DEFAULT_PATH: &str = "/pages/edgepay/pay";

/// Whether `path` can be a mini-program page path.
fn valid_path(path: &str) -> bool {
    path.starts_with('/') && path.len() <= 256 && !path.contains(['?', '#', '&']) && !path.chars().any(|c| c.is_whitespace() || c.is_control())
}

/// The hand-off of `attempt`.
///
/// # Errors
/// [`ProviderError::NotConfigured`] when `WECHAT_MINIPROGRAM_PAY_PATH` is not a page path.
pub(crate) fn create_order(env: &Env, attempt: &Attempt<'_>) -> Result<NextAction, ProviderError> {
    let page = setting(env, "WECHAT_MINIPROGRAM_PAY_PATH").unwrap_or_else(|| DEFAULT_PATH.to_owned());
    let page = page.trim();
    if !valid_path(page) {
        return Err(ProviderError::NotConfigured);
    }
    // Session ids are `cs_` and lower-case letters and digits: nothing to escape.
    Ok(NextAction::Miniprogram { path: format!("{page}?session_id={}", attempt.record.session.id().as_str()) })
}

/// The body of `POST /v1/sessions/{id}/miniprogram`.
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct PayRequest {
    /// The payer's openid under `WECHAT_MINIPROGRAM_APPID` (`wx.login` → `code2session`).
    openid: String,
}

/// `POST /v1/sessions/{id}/miniprogram` (merchant, `Bearer MERCHANT_API_KEY`): the mini-program's
/// backend, given the session id by the pay page, asks for the `wx.requestPayment` parameters of
/// the session's hand-off attempt for its payer. Answers `{"type": "jsapi", "params": {appId,
/// timeStamp, nonceStr, package, signType, paySign}}`; the payment's callback then reaches the
/// session like any other.
pub(crate) async fn pay(mut req: crate::incoming::Incoming, ctx: crate::route::RouteContext<crate::config::Config>) -> worker::Result<worker::Response> {
    use crate::error::ApiError;
    if let Err(e) = crate::sessions::authorize_merchant(&req, &ctx.data) {
        return e.into_response();
    }
    let Some(id) = ctx.param("id").and_then(|id| payment_core::ids::SessionId::new(id.as_str()).ok()) else {
        return ApiError::SessionNotFound.into_response();
    };
    // (serde_json on the text: `Request::json` goes through JS objects and ignores unknown fields.)
    let text = req.text().await?;
    let Ok(body) = serde_json::from_str::<PayRequest>(&text) else {
        return ApiError::InvalidRequest("The body must be {\"openid\": \"…\"}.").into_response();
    };
    if payment_core::wechatpay::model::OpenId::new(body.openid.clone()).is_err() {
        return ApiError::InvalidRequest("openid must be a WeChat openid (1–128 visible ASCII characters).").into_response();
    }
    let op = serde_json::json!({ "op": "miniprogram_pay", "openid": body.openid, "now": crate::now() });
    let answer = crate::sessions::call_object(&ctx.env, &id, worker::Method::Post, "/op", Some(op.to_string())).await?;
    let status = answer.status;
    let bytes = answer.body;
    if status == 404 && bytes.is_empty() {
        return ApiError::SessionNotFound.into_response();
    }
    let mut response = worker::Response::from_bytes(bytes)?.with_status(status);
    response.headers_mut().set("Content-Type", "application/json")?;
    Ok(response)
}

/// The `miniprogram_pay` op, in the session's Durable Object: the JSAPI order of the current
/// hand-off attempt (still pending) for `openid`.
pub(crate) async fn pay_in_object(
    object: &crate::session_object::SessionObject,
    record: crate::session_object::SessionRecord,
    openid: String,
    now: u64,
) -> worker::Result<worker::Response> {
    use crate::error::ApiError;
    use payment_core::session::AttemptStatus;
    let Ok(openid) = payment_core::wechatpay::model::OpenId::new(openid) else {
        return ApiError::InvalidRequest("openid must be a WeChat openid (1–128 visible ASCII characters).").into_response();
    };
    let handed_off = record.current.as_deref().and_then(|no| {
        let attempt = record.session.attempts().iter().find(|a| a.out_trade_no.as_str() == no)?;
        let pending = attempt.method == payment_core::method::PaymentMethod::WechatMiniprogram && attempt.status == AttemptStatus::Pending;
        (pending && record.session.status() == payment_core::session::Status::Processing).then(|| attempt.out_trade_no.clone())
    });
    let Some(out_trade_no) = handed_off else {
        // Paid, expired, or the shopper chose another method since the hand-off.
        return ApiError::SessionNotPayable.into_response();
    };
    let attempt = Attempt {
        record: &record,
        out_trade_no: &out_trade_no,
        method: payment_core::method::PaymentMethod::WechatMiniprogram,
        now,
        client_ip: None,
        return_to: None,
        oauth_begun: std::cell::RefCell::new(None),
    };
    let answer = super::wechatpay::miniprogram_params(&object.env, &attempt, openid).await;
    let summary = match &answer {
        Ok(_) => "jsapi".to_owned(),
        Err(error) => super::query::error_code(*error).to_owned(),
    };
    let entry = crate::audit::Entry::new("provider.answer", Some(&out_trade_no), Some(format!("miniprogram {summary}")));
    crate::audit::append(&object.store, vec![entry]).await?;
    match answer {
        Ok(params) => worker::Response::from_json(&serde_json::json!({ "type": "jsapi", "params": params })),
        Err(error) => ApiError::from(error).into_response(),
    }
}
