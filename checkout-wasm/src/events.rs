//! The widget's outcomes as DOM `CustomEvent`s on the host element (`edgepay:statechange`,
//! `edgepay:success`, `edgepay:failure`, `edgepay:cancel`); the JS loader turns them into the
//! `on…` callbacks of `mount`.

use js_sys::Object;
use web_sys::{CustomEvent, CustomEventInit, Element};

/// Dispatches `name` with `detail` on `host`, in a microtask: a listener that destroys or
/// refreshes the widget must not run while the widget is in the middle of rendering.
pub(crate) fn dispatch(host: &Element, name: &'static str, detail: Object) {
    let host = host.clone();
    wasm_bindgen_futures::spawn_local(async move {
        let init = CustomEventInit::new();
        init.set_bubbles(true);
        init.set_composed(true);
        init.set_detail(&detail);
        if let Ok(event) = CustomEvent::new_with_event_init_dict(name, &init) {
            let _ = host.dispatch_event(&event);
        }
    });
}
