//! The sandbox binary starts on a free loopback port and answers its health check.
#![allow(clippy::expect_used)]

use edgepay_tests::{http_get, Server};

#[test]
fn serves_health_on_loopback() {
    let dir = std::env::temp_dir().join(format!("edgepay-sandbox-health-{}", std::process::id()));
    let server = Server::start(env!("CARGO_BIN_EXE_sandbox"), &["--port", "0", "--state-dir", dir.to_str().expect("utf-8")]);
    assert!(server.url().starts_with("http://127.0.0.1:"), "{}", server.url());
    let response = http_get(&format!("{}/health", server.url()));
    assert_eq!(response.status, 200);
    let body: serde_json::Value = serde_json::from_str(&response.body).expect("health is JSON");
    assert_eq!(body["status"], "ok");
    assert_eq!(body["service"], "edgepay-sandbox");
    drop(server);
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn refuses_unknown_arguments() {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_sandbox")).arg("--bogus").output().expect("runs");
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("unknown argument: --bogus"));
}

#[test]
fn sandboxes_starting_together_on_one_folder_share_one_set_of_keys() {
    let dir = std::env::temp_dir().join(format!("edgepay-sandbox-race-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let dir_arg = dir.to_str().expect("utf-8").to_owned();
    let servers: Vec<Server> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..4)
            .map(|_| scope.spawn(|| Server::start(env!("CARGO_BIN_EXE_sandbox"), &["--port", "0", "--state-dir", &dir_arg])))
            .collect();
        handles.into_iter().map(|h| h.join().expect("started")).collect()
    });
    let configs: Vec<serde_json::Value> = servers
        .iter()
        .map(|s| serde_json::from_str(&http_get(&format!("{}/sandbox/worker-config", s.url())).body).expect("JSON"))
        .collect();
    for config in &configs[1..] {
        assert_eq!(config["WECHATPAY_MERCHANT_PRIVATE_KEY"], configs[0]["WECHATPAY_MERCHANT_PRIVATE_KEY"]);
        assert_eq!(config["ALIPAY_PUBLIC_KEY"], configs[0]["ALIPAY_PUBLIC_KEY"]);
    }
    let leftovers: Vec<_> = std::fs::read_dir(&dir).expect("dir").filter_map(Result::ok).map(|e| e.file_name()).collect();
    assert_eq!(leftovers, vec![std::ffi::OsString::from("keys.json")], "no temporary files are left behind");
    drop(servers);
    let _ = std::fs::remove_dir_all(dir);
}
