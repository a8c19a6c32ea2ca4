//! The sandbox binary starts on a free loopback port and answers its health check.

use edgepay_tests::{http_get, Server};

#[test]
fn serves_health_on_loopback() {
    let server = Server::start(env!("CARGO_BIN_EXE_sandbox"), &["--port", "0"]);
    assert!(server.url().starts_with("http://127.0.0.1:"), "{}", server.url());
    let response = http_get(&format!("{}/health", server.url()));
    assert_eq!(response.status, 200);
    let body: serde_json::Value = serde_json::from_str(&response.body).expect("health is JSON");
    assert_eq!(body["status"], "ok");
    assert_eq!(body["service"], "edgepay-sandbox");
}

#[test]
fn refuses_unknown_arguments() {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_sandbox")).arg("--bogus").output().expect("runs");
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("unknown argument: --bogus"));
}
