//! The widget's outcomes as DOM `CustomEvent`s on the host element (`edgepay:statechange`,
//! `edgepay:success`, `edgepay:failure`, `edgepay:cancel`); the JS loader turns them into the
//! `on…` callbacks of `mount`.

use js_sys::Object;
use wasm_bindgen::prelude::*;
use web_sys::Element;

#[wasm_bindgen(module = "/js/io.js")]
extern "C" {
    /// Dispatches `name` with `detail` on `host`, in a microtask: a listener that destroys or
    /// refreshes the widget must not run while the widget is in the middle of rendering.
    #[wasm_bindgen(js_name = emit)]
    pub(crate) fn dispatch(host: &Element, name: &str, detail: Object);
}
