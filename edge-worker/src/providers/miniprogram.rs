//! `wechat_miniprogram`: the hand-off to the merchant's own mini-program, for a shopper inside a
//! mini-program's web-view (where JSAPI's `WeixinJSBridge` payment is not available).
//!
//! The widget gets `{"type":"miniprogram","path":"<WECHAT_MINIPROGRAM_PAY_PATH>?session_id=cs_…"}`
//! and navigates there with `wx.miniProgram.navigateTo({url: path})`. That page belongs to the
//! merchant: it sends the session id to the mini-program's backend, which reads the session with
//! the merchant API, creates its own WeChat Pay JSAPI payment under the mini-program's appid (with
//! the openid from `wx.login` → `code2session`) and hands `wx.requestPayment` its parameters. The
//! path carries the session id only — never the client secret, which stays in the web-view.
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
