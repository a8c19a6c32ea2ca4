//! Component tests of the widget in headless Chromium (wasm-bindgen-test-runner + chromedriver).
#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::time::Duration;

use checkout_wasm::mount;
use wasm_bindgen::JsValue;
use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};
use web_sys::Element;

wasm_bindgen_test_configure!(run_in_browser);

fn host() -> Element {
    let document = web_sys::window().unwrap().document().unwrap();
    let host = document.create_element("div").unwrap();
    document.body().unwrap().append_child(&host).unwrap();
    host
}

fn options(endpoint: &str, locale: &str) -> JsValue {
    js_sys::JSON::parse(&format!(r#"{{"endpoint":"{endpoint}","locale":"{locale}"}}"#)).unwrap()
}

/// Waits until `selector` matches inside the widget's shadow root, up to 5 s.
async fn find(host: &Element, selector: &str) -> Element {
    for _ in 0..100 {
        if let Some(found) = host.shadow_root().and_then(|s| s.query_selector(selector).ok().flatten()) {
            return found;
        }
        gloo_timers::future::sleep(Duration::from_millis(50)).await;
    }
    panic!("{selector} never appeared in the widget");
}

#[wasm_bindgen_test]
async fn unreachable_worker_shows_a_retry_and_the_detected_environment() {
    let host = host();
    // Port 9 on loopback: nothing listens, the fetch fails as a shopper's would when offline.
    let mut handle = mount(host.clone(), options("http://127.0.0.1:9", "en")).expect("mounts");
    let card = find(&host, r#"[data-edgepay-state="error"]"#).await;
    let text = card.text_content().unwrap();
    assert!(text.contains("Can't reach the payment service"), "{text}");
    let env = find(&host, r#"[data-field="environment"]"#).await.text_content().unwrap();
    // HeadlessChrome on Linux is a desktop browser.
    assert_eq!(env, "desktop_browser");
    let retry = find(&host, "button.ep-button").await;
    assert_eq!(retry.text_content().unwrap(), "Try again");
    handle.destroy();
    assert!(host.shadow_root().unwrap().query_selector(".ep-card").unwrap().is_none(), "destroy empties the widget");
}

#[wasm_bindgen_test]
async fn speaks_chinese_when_asked() {
    let host = host();
    let mut handle = mount(host.clone(), options("http://127.0.0.1:9", "zh-CN")).expect("mounts");
    let title = find(&host, ".ep-title").await.text_content().unwrap();
    assert_eq!(title, "安全支付");
    let _ = find(&host, r#"[data-edgepay-state="error"]"#).await;
    handle.destroy();
}

#[wasm_bindgen_test]
fn options_without_an_endpoint_are_refused() {
    let result = mount(host(), js_sys::JSON::parse(r#"{"locale":"en"}"#).unwrap());
    assert!(result.is_err());
}
