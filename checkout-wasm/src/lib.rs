//! edgepay's checkout widget. `mount` renders it into a shadow root of the host element, so no CSS
//! leaks in or out; the JS loader (`js/edgepay.js`) wraps it for web developers.

mod api;
mod components;
mod i18n;

use wasm_bindgen::prelude::*;
use web_sys::{Element, ShadowRootInit, ShadowRootMode};
use yew::AppHandle;

use crate::components::app::{App, AppProps};
use crate::i18n::Locale;

const STYLES: &str = include_str!("../styles/widget.css");

/// Options for `mount`, as the JS loader passes them (already validated there).
#[derive(Debug, serde::Deserialize)]
struct MountOptions {
    endpoint: String,
    #[serde(default)]
    locale: Option<String>,
}

/// A mounted widget: the host page keeps it to refresh or destroy the widget.
#[wasm_bindgen]
#[derive(Debug)]
pub struct WidgetHandle {
    app: Option<AppHandle<App>>,
    props: AppProps,
    root: Element,
}

#[wasm_bindgen]
impl WidgetHandle {
    /// Reloads everything the widget shows from the worker.
    pub fn refresh(&mut self) {
        self.props.generation += 1;
        if let Some(app) = self.app.as_mut() {
            app.update(self.props.clone());
        }
    }

    /// Removes the widget from the page.
    pub fn destroy(&mut self) {
        if let Some(app) = self.app.take() {
            app.destroy();
        }
        self.root.set_inner_html("");
    }
}

/// Mounts the widget into `host`. `options` is `{endpoint, locale?}`.
///
/// # Errors
/// When an option is missing or of the wrong type, or the host cannot take a shadow root.
#[wasm_bindgen]
pub fn mount(host: Element, options: JsValue) -> Result<WidgetHandle, JsError> {
    let json = js_sys::JSON::stringify(&options)
        .map_err(|_| JsError::new("edgepay: options must be an object"))?;
    let options: MountOptions = serde_json::from_str(&String::from(json))
        .map_err(|e| JsError::new(&format!("edgepay: invalid options ({e})")))?;

    let shadow = match host.shadow_root() {
        Some(shadow) => shadow,
        None => host
            .attach_shadow(&ShadowRootInit::new(ShadowRootMode::Open))
            .map_err(|_| JsError::new("edgepay: the host element cannot hold the widget"))?,
    };
    shadow.set_inner_html("");
    let document = host.owner_document().ok_or_else(|| JsError::new("edgepay: host is not in a document"))?;
    let style = document.create_element("style").map_err(|_| JsError::new("edgepay: no DOM"))?;
    style.set_text_content(Some(STYLES));
    let root = document.create_element("div").map_err(|_| JsError::new("edgepay: no DOM"))?;
    root.set_class_name("ep-host");
    shadow.append_child(&style).map_err(|_| JsError::new("edgepay: no DOM"))?;
    shadow.append_child(&root).map_err(|_| JsError::new("edgepay: no DOM"))?;

    let locale = options.locale.as_deref().map_or_else(Locale::from_browser, Locale::parse);
    let props = AppProps { endpoint: options.endpoint.trim_end_matches('/').to_owned(), locale, generation: 0 };
    let app = yew::Renderer::<App>::with_root_and_props(root.clone(), props.clone()).render();
    Ok(WidgetHandle { app: Some(app), props, root })
}
