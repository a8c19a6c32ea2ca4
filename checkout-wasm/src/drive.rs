//! What the browser does with the worker's next action: go to a page, submit a form, open
//! WeChat's payment sheet, hand off to the mini-program. The outcome is only ever a hint: whether
//! it is paid is the worker's word.

use js_sys::{Function, Object, Promise};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::HtmlFormElement;

use crate::api::{get, set, string};

/// How long to wait for `WeixinJSBridgeReady` before saying WeChat's payment is not available.
const BRIDGE_WAIT_MS: i32 = 10_000;

/// Sends the browser to `url`.
pub(crate) fn go(url: &str) -> Option<()> {
    web_sys::window()?.location().assign(url).ok()
}

/// Builds the form in the page (outside the widget) and submits it.
pub(crate) fn submit(action: &str, method: &str, fields: &[(String, String)]) -> Option<()> {
    let document = web_sys::window()?.document()?;
    let form = document.create_element("form").ok()?;
    for (name, value) in [("action", action), ("method", method), ("accept-charset", "utf-8"), ("hidden", "")] {
        form.set_attribute(name, value).ok()?;
    }
    for (name, value) in fields {
        let input = document.create_element("input").ok()?;
        for (attribute, v) in [("type", "hidden"), ("name", name.as_str()), ("value", value.as_str())] {
            input.set_attribute(attribute, v).ok()?;
        }
        form.append_child(&input).ok()?;
    }
    document.body()?.append_child(&form).ok()?;
    form.dyn_into::<HtmlFormElement>().ok()?.submit().ok()
}

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

/// `WeixinJSBridge.invoke('getBrandWCPayRequest', params, callback)`, after `WeixinJSBridgeReady`
/// when the bridge is not there yet.
pub(crate) async fn wechat_pay(params: &JsValue) -> SheetOutcome {
    let Some(window) = web_sys::window() else { return SheetOutcome::NoBridge };
    if get(&window, "WeixinJSBridge").is_undefined() {
        let ready = Promise::new(&mut |resolve, _| {
            if let Some(document) = window.document() {
                let _ = document.add_event_listener_with_callback("WeixinJSBridgeReady", &resolve);
            }
            let _ = window.set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, BRIDGE_WAIT_MS);
        });
        let _ = JsFuture::from(ready).await;
    }
    let bridge = get(&window, "WeixinJSBridge");
    let Ok(invoke) = get(&bridge, "invoke").dyn_into::<Function>() else { return SheetOutcome::NoBridge };
    let answer = Promise::new(&mut |resolve, _| {
        if invoke.call3(&bridge, &"getBrandWCPayRequest".into(), params, &resolve).is_err() {
            let _ = resolve.call0(&JsValue::NULL);
        }
    });
    let message = JsFuture::from(answer).await.ok().and_then(|a| string(&a, "err_msg")).unwrap_or_default();
    match message.rsplit(':').next() {
        Some("ok") => SheetOutcome::Ok,
        Some("cancel") => SheetOutcome::Cancel,
        _ => SheetOutcome::Fail,
    }
}

/// `wx.miniProgram.navigateTo({url: path})` with the host page's WeChat JS-SDK; `None` when the
/// page has none.
pub(crate) fn miniprogram(path: &str) -> Option<()> {
    let window = web_sys::window()?;
    let mini = get(&get(&window, "wx"), "miniProgram");
    let navigate = get(&mini, "navigateTo").dyn_into::<Function>().ok()?;
    let options = Object::new();
    set(&options, "url", &path.into());
    navigate.call1(&mini, &options).ok().map(|_| ())
}
