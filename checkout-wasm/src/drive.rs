//! What the browser does with the worker's next action: go to a page, submit a form, open
//! WeChat's payment sheet, hand off to the mini-program (`js/drive.js`: plain DOM and bridge
//! calls, smaller as JS). The outcome is only ever a hint: whether it is paid is the worker's word.

use js_sys::Promise;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

#[wasm_bindgen(module = "/js/drive.js")]
extern "C" {
    /// Sends the browser to `url`; false when it cannot.
    pub(crate) fn go(url: &str) -> bool;
    /// Builds the form `fields` (`[[name, value], …]`) in the page and submits it.
    pub(crate) fn submit(action: &str, method: &str, fields: &JsValue) -> bool;
    #[wasm_bindgen(js_name = wechatPay)]
    fn wechat_pay_js(params: &JsValue, wait_ms: u32) -> Promise;
    /// `wx.miniProgram.navigateTo({url: path})`; false without the JS-SDK.
    pub(crate) fn miniprogram(path: &str) -> bool;
}

/// How long to wait for `WeixinJSBridgeReady` before saying WeChat's payment is not available.
const BRIDGE_WAIT_MS: u32 = 10_000;

/// How WeChat's payment sheet closed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SheetOutcome {
    /// `get_brand_wcpay_request:ok`: paid, says WeChat's client (to be confirmed).
    Ok,
    /// The shopper closed it.
    Cancel,
    /// It failed (bad signature, expired prepay id…).
    Fail,
    /// There is no `WeixinJSBridge` here.
    NoBridge,
}

/// `WeixinJSBridge.invoke('getBrandWCPayRequest', params)`, after `WeixinJSBridgeReady` when the
/// bridge is not there yet.
pub(crate) async fn wechat_pay(params: &JsValue) -> SheetOutcome {
    let outcome = JsFuture::from(wechat_pay_js(params, BRIDGE_WAIT_MS)).await.ok().and_then(|o| o.as_string());
    match outcome.as_deref() {
        Some("ok") => SheetOutcome::Ok,
        Some("cancel") => SheetOutcome::Cancel,
        Some("none") => SheetOutcome::NoBridge,
        _ => SheetOutcome::Fail,
    }
}
