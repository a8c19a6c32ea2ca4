//! The demo shop binary serves the shop page wired to the worker, and the widget files, nothing else.
#![allow(clippy::expect_used)]

use edgepay_tests::{http_get, Server};

fn widget_dir() -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("edgepay-demo-site-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    std::fs::write(dir.join("edgepay.js"), "export function mount() {}").expect("write");
    std::fs::write(dir.join("checkout_wasm_bg.wasm"), b"\0asm\x01\0\0\0").expect("write");
    std::fs::write(dir.join("secret.txt"), "not served").expect("write");
    dir
}

#[test]
fn serves_the_shop_page_wired_to_the_worker() {
    let dir = widget_dir();
    let worker = "http://127.0.0.1:1/\"><script>";
    let server = Server::start(
        env!("CARGO_BIN_EXE_demo-site"),
        &["--port", "0", "--worker-url", worker, "--widget-dir", dir.to_str().expect("utf-8")],
    );
    let page = http_get(&format!("{}/", server.url()));
    assert_eq!(page.status, 200);
    assert!(page.body.contains(r#"content="http://127.0.0.1:1/&quot;&gt;&lt;script&gt;""#), "{}", page.body);
    assert!(page.body.contains("import { mount } from '/widget/edgepay.js'"));

    let js = http_get(&format!("{}/widget/edgepay.js", server.url()));
    assert_eq!(js.status, 200);
    assert_eq!(js.header("content-type"), Some("text/javascript; charset=utf-8"));
    let wasm = http_get(&format!("{}/widget/checkout_wasm_bg.wasm", server.url()));
    assert_eq!(wasm.header("content-type"), Some("application/wasm"));

    for path in ["/widget/secret.txt", "/widget/..%2Fshop.rs", "/widget/.hidden.js", "/widget/missing.js"] {
        assert_eq!(http_get(&format!("{}{path}", server.url())).status, 404, "{path}");
    }
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn refuses_to_start_without_a_widget_build() {
    let empty = std::env::temp_dir().join(format!("edgepay-empty-{}", std::process::id()));
    std::fs::create_dir_all(&empty).expect("temp dir");
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_demo-site"))
        .args(["--worker-url", "http://127.0.0.1:1", "--widget-dir", empty.to_str().expect("utf-8")])
        .output()
        .expect("runs");
    assert_eq!(output.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&output.stderr).contains("no widget build"));
}
