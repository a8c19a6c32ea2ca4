//! edgepay's checkout widget. `mount` renders it into a shadow root of the host element, so no CSS
//! leaks in or out; the JS loader (`js/edgepay.js`) validates options, starts the first request
//! while the WebAssembly loads, and turns the widget's DOM events into callbacks.

mod api;
mod components;
mod drive;
mod events;
mod hooks;
mod i18n;
mod state;
#[cfg(feature = "prerender")]
mod prerender;

#[cfg(feature = "prerender")]
pub use prerender::prerender;

use std::rc::Rc;

use js_sys::{Array, Object, Promise};
use payment_core::environment::detect;
use payment_core::method::offer;
use wasm_bindgen::prelude::*;
use web_sys::{Element, ShadowRootInit, ShadowRootMode};
use yew::AppHandle;

use crate::api::{get, set, string, Connection};
use crate::components::app::{App, AppProps};
use crate::i18n::{cat, Locale};

/// A free-list allocator instead of std's dlmalloc: smaller code, and it still frees and coalesces
/// (the widget lives as long as the page).
#[cfg(target_arch = "wasm32")]
#[global_allocator]
static ALLOCATOR: lol_alloc::LockedAllocator<lol_alloc::FreeListAllocator> =
    lol_alloc::LockedAllocator::new(lol_alloc::FreeListAllocator::new());

/// `styles/widget.css`, minified by the build script.
const STYLES: &str = include_str!(concat!(env!("OUT_DIR"), "/widget.css"));

/// A mounted widget: the host page keeps it to refresh or destroy the widget.
#[wasm_bindgen]
#[derive(Debug)]
pub struct WidgetHandle {
    app: Option<AppHandle<App>>,
    props: AppProps,
}

#[wasm_bindgen]
impl WidgetHandle {
    /// Reloads the session from the worker.
    pub fn refresh(&mut self) {
        self.props.generation += 1;
        self.props.conn.prefetch.take();
        if let Some(app) = self.app.as_mut() {
            app.update(self.props.clone());
        }
    }

    /// Removes the widget from the page.
    pub fn destroy(&mut self) {
        if let Some(app) = self.app.take() {
            app.destroy();
        }
        if let Some(shadow) = self.props.host.shadow_root() {
            shadow.set_inner_html("");
        }
    }
}

/// Mounts the widget into `host`. `options`: `{endpoint, session, clientSecret, locale?,
/// prefetch?, sessionData?, clicked?, focused?}` (the JS loader validates them first, with friendlier messages).
///
/// # Errors
/// When an option is missing or not a string, or the host cannot take a shadow root.
#[wasm_bindgen]
pub fn mount(host: Element, options: JsValue) -> Result<WidgetHandle, JsError> {
    let option = |name: &str| {
        string(&options, name)
            .filter(|v| !v.is_empty())
            .ok_or_else(|| JsError::new(&cat(&["edgepay: option \"", name, "\" must be a non-empty string"])))
    };
    let endpoint = option("endpoint")?;
    let prefetch = Some(get(&options, "prefetch")).filter(|p| p.is_instance_of::<Promise>());
    let conn = Connection::new(endpoint.trim_end_matches('/'), &option("session")?, &option("clientSecret")?, prefetch, &get(&options, "sessionData"));
    let locale = string(&options, "locale").map_or_else(Locale::from_browser, |tag| Locale::parse(&tag));

    let no_dom = || JsError::new("edgepay: the host element cannot hold the widget");
    let shadow = match host.shadow_root() {
        Some(shadow) => shadow,
        None => host.attach_shadow(&ShadowRootInit::new(ShadowRootMode::Open)).map_err(|_| no_dom())?,
    };
    shadow.set_inner_html("");
    let document = host.owner_document().ok_or_else(no_dom)?;
    let style = document.create_element("style").map_err(|_| no_dom())?;
    style.set_text_content(Some(STYLES));
    let root = document.create_element("div").map_err(|_| no_dom())?;
    root.set_class_name("ep-host");
    shadow.append_child(&style).map_err(|_| no_dom())?;
    shadow.append_child(&root).map_err(|_| no_dom())?;

    let method = |name: &str| string(&options, name).and_then(|m| m.parse().ok());
    let props = AppProps { host, conn: Rc::new(conn), locale, generation: 0, early: (method("clicked"), method("focused")) };
    let app = yew::Renderer::<App>::with_root_and_props(root, props.clone()).render();
    Ok(WidgetHandle { app: Some(app), props })
}

/// Where the shopper is and what can be paid there: `{environment, device, os, methods,
/// blocked: [{method, reason}]}`, with payment-core's rules (every method, no session narrowing).
/// Without arguments it reads this browser (`navigator.userAgent`, `navigator.maxTouchPoints`,
/// `window.__wxjs_environment`, `navigator.platform`); with a User-Agent it uses only what it is
/// given (`hints`: `{maxTouchPoints?, wxjsEnvironment?, platform?}`).
#[wasm_bindgen(js_name = detectEnvironment)]
pub fn detect_environment(user_agent: Option<String>, hints: JsValue) -> JsValue {
    let (user_agent, hints) = match user_agent {
        Some(user_agent) => (user_agent, api::hints_from(&hints)),
        None => {
            let user_agent = web_sys::window().and_then(|w| w.navigator().user_agent().ok());
            let hints = if hints.is_object() { api::hints_from(&hints) } else { api::hints_here() };
            (user_agent.unwrap_or_default(), hints)
        }
    };
    let detected = detect(&user_agent, &hints);
    let offer = offer(&detected, None);
    let out = Object::new();
    set(&out, "environment", &detected.environment.as_str().into());
    set(&out, "device", &detected.device.as_str().into());
    set(&out, "os", &detected.os.as_str().into());
    set(&out, "methods", &offer.allowed.iter().map(|m| JsValue::from_str(m.as_str())).collect::<Array>());
    let blocked = offer.blocked.iter().map(|b| {
        let entry = Object::new();
        set(&entry, "method", &b.method.as_str().into());
        set(&entry, "reason", &b.reason.as_str().into());
        JsValue::from(entry)
    });
    set(&out, "blocked", &blocked.collect::<Array>());
    out.into()
}
