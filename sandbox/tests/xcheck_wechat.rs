//! Cross-check of the running sandbox's WeChat Pay v3 with npm `wechatpay-axios-plugin`
//! (tests/xcheck/sandbox_wechat.mjs), in both key modes, with the sandbox's own generated keys:
//! - requests signed by their `Wechatpay` client and by their `Formatter` + `Rsa.sign` by hand are
//!   accepted; a one-byte change to the body or the signed target is refused with `401 SIGN_ERROR`;
//! - the sandbox's answers (2xx and errors) verify with their `Rsa.verify` over `Formatter.response`,
//!   and their client refuses them under a wrong platform key;
//! - a payment callback verifies with their verifier and decrypts with their `Aes.AesGcm`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::mpsc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use edgepay_tests::{http_request, node_xcheck, Server};
use serde_json::{json, Value};

const BIN: &str = env!("CARGO_BIN_EXE_sandbox");

/// One callback a loopback listener received: headers and raw body. Answers 204.
fn receive_one(listener: TcpListener, tx: mpsc::Sender<(Vec<(String, String)>, String)>) {
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            stream.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
            let mut raw = Vec::new();
            let mut buf = [0_u8; 4096];
            let split = loop {
                if let Some(p) = raw.windows(4).position(|w| w == b"\r\n\r\n") {
                    break p;
                }
                let n = stream.read(&mut buf).unwrap();
                assert!(n > 0, "connection closed early");
                raw.extend_from_slice(&buf[..n]);
            };
            let head = String::from_utf8(raw[..split].to_vec()).unwrap();
            let headers: Vec<(String, String)> =
                head.lines().skip(1).filter_map(|l| l.split_once(':')).map(|(n, v)| (n.trim().to_owned(), v.trim().to_owned())).collect();
            let length: usize = headers.iter().find(|(n, _)| n.eq_ignore_ascii_case("content-length")).unwrap().1.parse().unwrap();
            let mut body = raw[split + 4..].to_vec();
            while body.len() < length {
                let n = stream.read(&mut buf).unwrap();
                body.extend_from_slice(&buf[..n]);
            }
            stream.write_all(b"HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n").unwrap();
            let _ = tx.send((headers, String::from_utf8(body).unwrap()));
        }
    });
}

fn cross_check(mode: Option<&str>) {
    let stamp = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_millis();
    // One folder per mode: the two tests run at once and each removes its folder at the end.
    let dir = std::env::temp_dir().join(format!(
        "edgepay-sandbox-xcheck-wechat-{}-{}-{stamp}",
        mode.unwrap_or("public_key"),
        std::process::id()
    ));
    let state_dir = dir.to_str().unwrap().to_owned();
    let args = ["--port", "0", "--state-dir", state_dir.as_str(), "--callback-scale", "0.001"];
    let server = match mode {
        None => Server::start(BIN, &args),
        Some(mode) => {
            let variable = format!("SANDBOX_WECHATPAY_MODE={mode}");
            let mut with_env = vec![variable.as_str(), BIN];
            with_env.extend(args);
            Server::start("/usr/bin/env", &with_env)
        }
    };
    let keys: Value = serde_json::from_str(&std::fs::read_to_string(dir.join("keys.json")).unwrap()).unwrap();
    let w = &keys["wechatpay"];
    let platform_serial = if mode == Some("certificate") { &w["platform_cert_serial"] } else { &w["public_key_id"] };
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let notify_url = format!("http://{}/v1/notify/wechatpay", listener.local_addr().unwrap());
    let (tx, rx) = mpsc::channel();
    receive_one(listener, tx);
    let out_trade_no = format!("XC{}{}", std::process::id(), stamp % 1_000_000_000);

    let result = node_xcheck(
        "sandbox_wechat.mjs",
        &json!({
            "step": "requests",
            "url": server.url(),
            "mchid": w["mchid"],
            "appid": w["appid"],
            "merchant_serial": w["merchant_serial"],
            "merchant_private_key": w["merchant_private_key"],
            "merchant_public_key": w["merchant_public_key"],
            "platform_serial": platform_serial,
            "platform_public_key": w["platform_public_key"],
            "notify_url": notify_url,
            "out_trade_no": out_trade_no,
        }),
    );
    // Their client: accepted, and the answers passed its own verification.
    assert_eq!(result["client_create"]["status"], 200, "{result}");
    assert!(result["client_create"]["code_url"].as_str().unwrap().starts_with("weixin://wxpay/bizpayurl?pr="), "{result}");
    assert_eq!(result["client_query"], json!({ "status": 200, "trade_state": "NOTPAY" }));
    assert_eq!(result["client_wrong_key"], "EV3_RES_HEADER_SIGNATURE_DIGEST", "{result}");
    // By hand: accepted, answers verify, a changed answer does not.
    for call in ["hand_post", "hand_get"] {
        let r = &result[call];
        assert_eq!(r["status"], 200, "{call}: {r}");
        assert_eq!(r["serial"], *platform_serial, "{call}");
        assert_eq!((r["verified"].as_bool(), r["tampered_verified"].as_bool()), (Some(true), Some(false)), "{call}: {r}");
    }
    // One byte changed: refused, and the refusal itself is signed.
    for part in ["body", "target", "query"] {
        let r = &result["tampered"][part];
        assert_eq!(r["status"], 401, "{part}: {r}");
        let body: Value = serde_json::from_str(r["body"].as_str().unwrap()).unwrap();
        assert_eq!(body["code"], "SIGN_ERROR", "{part}");
        assert_eq!(r["verified"], true, "{part}: the error answer verifies with their verifier");
    }

    // A callback, verified and decrypted by their code.
    let pay = http_request("POST", &format!("{}/sandbox/control/orders/wechatpay/{out_trade_no}/pay", server.url()), &[], b"");
    assert_eq!(pay.status, 200, "{}", pay.body);
    let (headers, body) = rx.recv_timeout(Duration::from_secs(10)).expect("a callback");
    let headers: serde_json::Map<String, Value> = headers.into_iter().map(|(n, v)| (n, Value::String(v))).collect();
    let checked = node_xcheck(
        "sandbox_wechat.mjs",
        &json!({
            "step": "callback",
            "platform_serial": platform_serial,
            "platform_public_key": w["platform_public_key"],
            "apiv3_key": w["apiv3_key"],
            "headers": headers,
            "body": body,
        }),
    );
    assert_eq!(checked["serial_known"], true, "{checked}");
    assert_eq!(checked["verified"], true, "{checked}");
    assert_eq!(checked["tampered_verified"], false, "{checked}");
    assert_eq!(checked["wrong_aad_refused"], true, "{checked}");
    assert_eq!(checked["event_type"], "TRANSACTION.SUCCESS");
    let transaction: Value = serde_json::from_str(checked["plaintext"].as_str().unwrap()).unwrap();
    assert_eq!(transaction["out_trade_no"], out_trade_no.as_str());
    assert_eq!(transaction["trade_state"], "SUCCESS");
    assert_eq!(transaction["amount"]["total"], 123);
    assert_eq!(transaction["mchid"], w["mchid"]);

    drop(server);
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn wechatpay_axios_plugin_talks_to_the_sandbox_in_public_key_mode() {
    cross_check(None);
}

#[test]
fn wechatpay_axios_plugin_talks_to_the_sandbox_in_certificate_mode() {
    cross_check(Some("certificate"));
}
