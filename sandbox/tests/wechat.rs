//! The sandbox's WeChat Pay v3, WeChat OAuth and fake JS bridge, driven over HTTP against the real
//! binary, with payment-core's merchant side as the client: signed orders work and their answers
//! verify; every one-byte change to a signed part, a wrong merchant or serial, a stale timestamp or
//! a replayed nonce is refused; business rules; query, close, refund; callbacks (both key modes)
//! that verify, decrypt and are retried until acknowledged; probes; OAuth; the bridge.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support {
    use std::collections::HashMap;
    use std::io::{Read, Write};
    use std::net::TcpListener;
    use std::path::PathBuf;
    use std::sync::{Arc, Mutex, OnceLock};
    use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

    use edgepay_tests::{http_request, HttpResponse, Server};
    use payment_core::ids::MchId;
    use payment_core::native::{block_on, AesGcmKey, RsaPrivateKey, RsaPublicKey};
    use payment_core::wechatpay::notify::{parse_notification, Notification};
    use payment_core::wechatpay::sign::{authorization, Request};
    use payment_core::wechatpay::verify::{platform_certificates, verify_response, WechatpayHeaders};
    use serde_json::{json, Value};

    pub const BIN: &str = env!("CARGO_BIN_EXE_sandbox");

    pub fn now() -> u64 {
        SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs()
    }

    pub fn unique(prefix: &str) -> String {
        static COUNTER: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let n = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        format!("{prefix}{}{n:04}{}", std::process::id(), now() % 100_000)
    }

    /// Test keys generated once per test binary (RSA generation is the slow part of a start), copied
    /// into each sandbox's fresh state folder.
    pub fn template_keys() -> &'static str {
        static TEMPLATE: OnceLock<String> = OnceLock::new();
        TEMPLATE.get_or_init(|| {
            let dir = std::env::temp_dir().join(unique("edgepay-sandbox-wechat-keys-"));
            let output = std::process::Command::new(BIN)
                .args(["--port", "0", "--state-dir", dir.to_str().unwrap(), "--print-worker-config"])
                .output()
                .unwrap();
            assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
            let keys = std::fs::read_to_string(dir.join("keys.json")).unwrap();
            std::fs::remove_dir_all(&dir).unwrap();
            keys
        })
    }

    /// A running sandbox with the merchant's side of its keys.
    pub struct Sandbox {
        pub server: Server,
        pub dir: PathBuf,
        pub keys: Value,
        pub merchant: RsaPrivateKey,
        pub platform: HashMap<String, RsaPublicKey>,
        pub aead: AesGcmKey,
        pub mchid: String,
        pub appid: String,
        pub serial: String,
    }

    impl Drop for Sandbox {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }

    impl Sandbox {
        /// Public-key mode (`mode` None) or `SANDBOX_WECHATPAY_MODE=<mode>`.
        pub fn start(mode: Option<&str>) -> Self {
            let dir = std::env::temp_dir().join(unique("edgepay-sandbox-wechat-"));
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::write(dir.join("keys.json"), template_keys()).unwrap();
            let state_dir = dir.to_str().unwrap().to_owned();
            let args = ["--port", "0", "--state-dir", state_dir.as_str(), "--callback-scale", "0.001"];
            let server = match mode {
                None => Server::start(BIN, &args),
                Some(mode) => {
                    // `env` execs the sandbox, so the child Server kills is the sandbox itself.
                    let variable = format!("SANDBOX_WECHATPAY_MODE={mode}");
                    let mut with_env = vec![variable.as_str(), BIN];
                    with_env.extend(args);
                    Server::start("/usr/bin/env", &with_env)
                }
            };
            let keys: Value = serde_json::from_str(&std::fs::read_to_string(dir.join("keys.json")).unwrap()).unwrap();
            let w = &keys["wechatpay"];
            let text = |name: &str| w[name].as_str().unwrap().to_owned();
            let mut platform: HashMap<String, RsaPublicKey> = platform_certificates(&text("platform_cert"), now())
                .unwrap()
                .into_iter()
                .map(|(serial, spki)| (serial, RsaPublicKey::from_spki_der(&spki, "cert").unwrap()))
                .collect();
            platform.insert(text("public_key_id"), RsaPublicKey::from_text(&text("platform_public_key"), "pub").unwrap());
            Self {
                merchant: RsaPrivateKey::from_text(&text("merchant_private_key"), "merchant").unwrap(),
                aead: AesGcmKey::new(text("apiv3_key").as_bytes(), "apiv3").unwrap(),
                mchid: text("mchid"),
                appid: text("appid"),
                serial: text("merchant_serial"),
                platform,
                keys,
                server,
                dir,
            }
        }

        pub fn url(&self, path: &str) -> String {
            format!("{}{path}", self.server.url())
        }

        pub fn wechat(&self, name: &str) -> String {
            self.keys["wechatpay"][name].as_str().unwrap().to_owned()
        }

        /// The `Authorization` header for a request, signed by the merchant.
        pub fn authorization(&self, method: &str, target: &str, body: &str, timestamp: u64, nonce: &str) -> String {
            let mchid = MchId::new(self.mchid.as_str()).unwrap();
            let request = Request { method, target, body: body.as_bytes() };
            block_on(authorization(&self.merchant, &mchid, &self.serial, &request, timestamp, nonce)).unwrap()
        }

        /// Sends a request with the given `Authorization`.
        pub fn send(&self, method: &str, target: &str, body: &str, authorization: &str) -> HttpResponse {
            let mut headers = vec![("Authorization", authorization), ("Accept", "application/json")];
            if !body.is_empty() {
                headers.push(("Content-Type", "application/json"));
            }
            http_request(method, &self.url(target), &headers, body.as_bytes())
        }

        /// Signs (fresh nonce, now) and sends.
        pub fn call(&self, method: &str, target: &str, body: &str) -> HttpResponse {
            let auth = self.authorization(method, target, body, now(), &unique("n"));
            self.send(method, target, body, &auth)
        }

        /// Checks the response's platform signature with payment-core and returns its JSON body
        /// (`Null` for an empty body).
        pub fn verified(&self, response: &HttpResponse) -> Value {
            self.verify(response).unwrap_or_else(|e| panic!("response signature refused: {e:?}: {response:?}"));
            if response.body.is_empty() {
                Value::Null
            } else {
                serde_json::from_str(&response.body).unwrap()
            }
        }

        pub fn verify(&self, response: &HttpResponse) -> payment_core::Result<()> {
            let headers = WechatpayHeaders::from_pairs(response.headers.iter().map(|(n, v)| (n.as_str(), v.as_str())))?;
            block_on(verify_response(&headers, response.body.as_bytes(), &self.platform, now()))
        }

        /// The error code of a signed error response with `status`.
        pub fn error_code(&self, response: &HttpResponse, status: u16) -> String {
            assert_eq!(response.status, status, "{}", response.body);
            let body = self.verified(response);
            assert!(body["message"].as_str().is_some_and(|m| !m.is_empty()), "{body}");
            body["code"].as_str().unwrap().to_owned()
        }

        pub fn control(&self, method: &str, path: &str, body: &Value) -> HttpResponse {
            if body.is_null() {
                return http_request(method, &self.url(path), &[], b"");
            }
            http_request(method, &self.url(path), &[("Content-Type", "application/json")], body.to_string().as_bytes())
        }

        pub fn order_body(&self, out_trade_no: &str, notify_url: &str, total: u64) -> Value {
            json!({
                "appid": self.appid,
                "mchid": self.mchid,
                "description": "Sandbox 测试商品",
                "out_trade_no": out_trade_no,
                "notify_url": notify_url,
                "amount": { "total": total, "currency": "CNY" },
            })
        }

        /// Creates a Native order and returns its `code_url`.
        pub fn native_order(&self, out_trade_no: &str, notify_url: &str, total: u64) -> String {
            let r = self.call("POST", "/v3/pay/transactions/native", &self.order_body(out_trade_no, notify_url, total).to_string());
            assert_eq!(r.status, 200, "{}", r.body);
            self.verified(&r)["code_url"].as_str().unwrap().to_owned()
        }

        pub fn query(&self, out_trade_no: &str) -> Value {
            let r = self.call("GET", &format!("/v3/pay/transactions/out-trade-no/{out_trade_no}?mchid={}", self.mchid), "");
            assert_eq!(r.status, 200, "{}", r.body);
            self.verified(&r)
        }

        /// Verifies, decrypts and parses a received callback with payment-core.
        pub fn parse_callback(&self, received: &Received) -> payment_core::Result<Notification> {
            let headers = WechatpayHeaders::from_pairs(received.headers.iter().map(|(n, v)| (n.as_str(), v.as_str())))?;
            block_on(parse_notification(&headers, &received.body, &self.platform, &self.aead, now()))
        }
    }

    /// One request a [`Listener`] received.
    #[derive(Debug, Clone)]
    pub struct Received {
        pub path: String,
        pub headers: Vec<(String, String)>,
        pub body: Vec<u8>,
    }

    impl Received {
        pub fn header(&self, name: &str) -> Option<&str> {
            self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
        }
    }

    /// A loopback HTTP server that records requests and answers the given statuses in turn (the
    /// last one repeatedly).
    pub struct Listener {
        pub url: String,
        received: Arc<Mutex<Vec<Received>>>,
    }

    impl Listener {
        pub fn start(statuses: Vec<u16>) -> Self {
            let listener = TcpListener::bind("127.0.0.1:0").unwrap();
            let url = format!("http://{}", listener.local_addr().unwrap());
            let received = Arc::new(Mutex::new(Vec::new()));
            let record = received.clone();
            std::thread::spawn(move || {
                for (i, stream) in listener.incoming().enumerate() {
                    let Ok(mut stream) = stream else { continue };
                    let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
                    let mut raw = Vec::new();
                    let mut buf = [0_u8; 4096];
                    let head_end = loop {
                        if let Some(p) = raw.windows(4).position(|w| w == b"\r\n\r\n") {
                            break Some(p);
                        }
                        match stream.read(&mut buf) {
                            Ok(0) | Err(_) => break None,
                            Ok(n) => raw.extend_from_slice(&buf[..n]),
                        }
                    };
                    let Some(head_end) = head_end else { continue };
                    let head = String::from_utf8_lossy(&raw[..head_end]).into_owned();
                    let mut lines = head.lines();
                    let path = lines.next().and_then(|l| l.split(' ').nth(1)).unwrap_or_default().to_owned();
                    let headers: Vec<(String, String)> = lines
                        .filter_map(|l| l.split_once(':'))
                        .map(|(n, v)| (n.trim().to_owned(), v.trim().to_owned()))
                        .collect();
                    let length: usize = headers
                        .iter()
                        .find(|(n, _)| n.eq_ignore_ascii_case("content-length"))
                        .and_then(|(_, v)| v.parse().ok())
                        .unwrap_or(0);
                    let mut body = raw[head_end + 4..].to_vec();
                    while body.len() < length {
                        match stream.read(&mut buf) {
                            Ok(0) | Err(_) => break,
                            Ok(n) => body.extend_from_slice(&buf[..n]),
                        }
                    }
                    record.lock().unwrap().push(Received { path, headers, body });
                    let status = statuses.get(i).or(statuses.last()).copied().unwrap_or(204);
                    let answer = if status >= 400 { r#"{"code":"FAIL","message":"test listener says no"}"# } else { "" };
                    let _ = write!(
                        stream,
                        "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{answer}",
                        answer.len()
                    );
                }
            });
            Self { url, received }
        }

        pub fn received(&self) -> Vec<Received> {
            self.received.lock().unwrap().clone()
        }

        /// Waits until at least `n` requests arrived (10 s at most).
        pub fn wait_for(&self, n: usize) -> Vec<Received> {
            let deadline = Instant::now() + Duration::from_secs(10);
            loop {
                let received = self.received();
                if received.len() >= n || Instant::now() > deadline {
                    return received;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
        }
    }
}

use std::time::Duration;

use base64::Engine as _;
use edgepay_tests::http_request;
use payment_core::ids::AppId;
use payment_core::native::block_on;
use payment_core::wechatpay::canonical::encode_component;
use payment_core::wechatpay::jsapi::{jsapi_params, JsapiParams};
use payment_core::wechatpay::model::{EventType, PrepayId, RefundStatus, TradeState, Transaction};
use payment_core::wechatpay::notify::{decrypt_ciphertext, NotificationEnvelope, NotificationResource};
use payment_core::Error;
use serde_json::{json, Value};
use support::{now, unique, Listener, Sandbox};

const NATIVE: &str = "/v3/pay/transactions/native";
const NOTIFY: &str = "https://shop.example/v1/notify/wechatpay";

#[test]
fn signed_orders_of_each_kind_work_and_every_answer_is_signed() {
    let sb = Sandbox::start(None);
    // Native: code_url, stored as the QR code the scan page finds.
    let no = unique("NAT");
    let code_url = sb.native_order(&no, NOTIFY, 1);
    assert!(code_url.starts_with("weixin://wxpay/bizpayurl?pr="), "{code_url}");
    let scan = http_request("GET", &sb.url(&format!("/sandbox/scan?data={}", encode_component(&code_url))), &[], b"");
    assert!(scan.header("location").unwrap().ends_with(&format!("/sandbox/cashier/wechatpay/{no}")), "{scan:?}");
    // The same request again: the same answer.
    assert_eq!(sb.native_order(&no, NOTIFY, 1), code_url);

    // H5: h5_url to the sandbox's cashier entry.
    let mut body = sb.order_body(&unique("H5"), NOTIFY, 250);
    body["scene_info"] = json!({ "payer_client_ip": "203.0.113.7", "h5_info": { "type": "Wap" } });
    let r = sb.call("POST", "/v3/pay/transactions/h5", &body.to_string());
    assert_eq!(r.status, 200, "{}", r.body);
    let h5_url = sb.verified(&r)["h5_url"].as_str().unwrap().to_owned();
    assert!(h5_url.starts_with(&sb.url("/sandbox/wechat/h5?prepay_id=wx")) && h5_url.contains("&package="), "{h5_url}");

    // JSAPI: prepay_id.
    let mut body = sb.order_body(&unique("JS"), NOTIFY, 99);
    body["payer"] = json!({ "openid": "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o" });
    let r = sb.call("POST", "/v3/pay/transactions/jsapi", &body.to_string());
    assert_eq!(r.status, 200, "{}", r.body);
    let prepay_id = sb.verified(&r)["prepay_id"].as_str().unwrap().to_owned();
    assert!(PrepayId::new(prepay_id.as_str()).is_ok() && prepay_id.starts_with("wx"), "{prepay_id}");

    // Public-key mode: the serial is the PUB_KEY_ID, and the signature is over this very body.
    assert_eq!(r.header("wechatpay-serial"), Some(sb.wechat("public_key_id").as_str()));
    let mut tampered = r;
    tampered.body = tampered.body.replacen("wx", "wy", 1);
    assert_eq!(sb.verify(&tampered), Err(Error::BadSignature));

    // A fresh order queries NOTPAY, in payment-core's model.
    let t: Transaction = serde_json::from_value(sb.query(&no)).unwrap();
    assert_eq!(t.trade_state, TradeState::NotPay);
    assert_eq!(t.amount.unwrap().total.fen(), 1);
    assert_eq!(t.transaction_id, None);
    // Paid on the phone's cashier: a "paid" page (Native has no way back to the shop).
    let cashier = scan.header("location").unwrap().to_owned();
    let paid = http_request("POST", &format!("{cashier}/pay"), &[], b"");
    assert_eq!(paid.status, 200, "{paid:?}");
    assert!(paid.body.contains("data-status=\"paid\""), "{}", paid.body);
    assert_eq!(sb.query(&no)["trade_state"], "SUCCESS");
}

#[test]
fn each_one_byte_change_to_a_signed_part_is_refused() {
    let sb = Sandbox::start(None);
    let body = sb.order_body(&unique("BYTE"), NOTIFY, 100).to_string();
    let ts = now();
    let nonce = unique("nonce");
    let good = sb.authorization("POST", NATIVE, &body, ts, &nonce);
    let signature = good.split("signature=\"").nth(1).unwrap().trim_end_matches('"').to_owned();
    let mut flipped = base64::engine::general_purpose::STANDARD.decode(&signature).unwrap();
    flipped[100] ^= 1;
    let flipped = base64::engine::general_purpose::STANDARD.encode(flipped);
    let mut tampered_body = body.clone().into_bytes();
    let at = tampered_body.len() - 5;
    tampered_body[at] ^= 1; // a digit of out_trade_no: still valid JSON, another order number
    let cases = [
        ("method", sb.authorization("PUT", NATIVE, &body, ts, &nonce), body.clone()),
        ("target", sb.authorization("POST", "/v3/pay/transactions/nativf", &body, ts, &nonce), body.clone()),
        ("timestamp", good.replace(&format!("timestamp=\"{ts}\""), &format!("timestamp=\"{}\"", ts - 1)), body.clone()),
        ("nonce", good.replace(&format!("nonce_str=\"{nonce}\""), &format!("nonce_str=\"{nonce}x\"")), body.clone()),
        ("body", good.clone(), String::from_utf8(tampered_body).unwrap()),
        ("signature", good.replace(&signature, &flipped), body.clone()),
        ("scheme", good.replacen("WECHATPAY2-SHA256-RSA2048", "WECHATPAY2-SHA256-RSA2049", 1), body.clone()),
        ("missing", String::new(), body.clone()),
    ];
    for (what, authorization, sent_body) in cases {
        let r = if authorization.is_empty() {
            http_request("POST", &sb.url(NATIVE), &[("Content-Type", "application/json")], sent_body.as_bytes())
        } else {
            sb.send("POST", NATIVE, &sent_body, &authorization)
        };
        assert_eq!(r.status, 401, "{what}: {}", r.body);
        assert_eq!(sb.error_code(&r, 401), "SIGN_ERROR", "{what}");
    }
    // The query string is part of the signed target too.
    let target = format!("/v3/pay/transactions/out-trade-no/NOSUCH01?mchid={}", sb.mchid);
    let auth = sb.authorization("GET", &target, "", now(), &unique("n"));
    let r = sb.send("GET", &format!("{target}&x=1"), "", &auth);
    assert_eq!(sb.error_code(&r, 401), "SIGN_ERROR");
    // None of the refused attempts used up the nonce: the untouched request still works, once.
    let r = sb.send("POST", NATIVE, &body, &good);
    assert_eq!(r.status, 200, "{}", r.body);
    // The refusals are in the request log, with why.
    let log: Value = serde_json::from_str(&http_request("GET", &sb.url("/sandbox/control/requests"), &[], b"").body).unwrap();
    let verdicts: Vec<&str> = log.as_array().unwrap().iter().filter_map(|e| e["verdict"].as_str()).collect();
    assert!(verdicts.contains(&"SIGN_ERROR: signature does not verify"), "{verdicts:?}");
    assert!(verdicts.contains(&"SIGN_ERROR: no Authorization header"), "{verdicts:?}");
}

#[test]
fn wrong_merchant_serial_stale_time_and_replays_are_refused() {
    let sb = Sandbox::start(None);
    let body = sb.order_body(&unique("AUTH"), NOTIFY, 100).to_string();
    let good = sb.authorization("POST", NATIVE, &body, now(), &unique("n"));
    let cases = [
        ("mchid", good.replace(&format!("mchid=\"{}\"", sb.mchid), "mchid=\"1900000110\"")),
        ("serial", good.replace(&sb.serial, "5157F09EFDC096DE15EBE81A47057A7232F1B8E1")),
        ("301 s old", sb.authorization("POST", NATIVE, &body, now() - 301, &unique("n"))),
        ("301 s ahead", sb.authorization("POST", NATIVE, &body, now() + 301, &unique("n"))),
    ];
    for (what, authorization) in cases {
        let r = sb.send("POST", NATIVE, &body, &authorization);
        assert_eq!(sb.error_code(&r, 401), "SIGN_ERROR", "{what}");
    }
    // Another merchant key with the right ids.
    let other = payment_core::native::RsaPrivateKey::from_text(&sb.wechat("platform_private_key"), "other").unwrap();
    let mchid = payment_core::ids::MchId::new(sb.mchid.as_str()).unwrap();
    let request = payment_core::wechatpay::sign::Request::post(NATIVE, body.as_bytes());
    let forged = block_on(payment_core::wechatpay::sign::authorization(&other, &mchid, &sb.serial, &request, now(), "forged1")).unwrap();
    assert_eq!(sb.error_code(&sb.send("POST", NATIVE, &body, &forged), 401), "SIGN_ERROR");

    // Within the window, and with the parameters in another order: accepted.
    let old = sb.authorization("POST", NATIVE, &body, now() - 200, &unique("n"));
    let params: Vec<&str> = old.split_once(' ').unwrap().1.split(',').collect();
    let reordered = format!("WECHATPAY2-SHA256-RSA2048 {}", params.iter().rev().copied().collect::<Vec<_>>().join(", "));
    let r = sb.send("POST", NATIVE, &body, &reordered);
    assert_eq!(r.status, 200, "{}", r.body);
    // The very same request again is a replay.
    let r = sb.send("POST", NATIVE, &body, &reordered);
    assert_eq!(sb.error_code(&r, 401), "SIGN_ERROR");
    let r = sb.send("POST", NATIVE, &body, &old);
    assert_eq!(sb.error_code(&r, 401), "SIGN_ERROR");
}

#[test]
fn business_rules_answer_wechat_error_codes() {
    let sb = Sandbox::start(None);
    let base = |no: &str| sb.order_body(no, NOTIFY, 100);
    let with = |path: &[&str], value: Value| {
        let mut body = base(&unique("RULE"));
        let (last, parents) = path.split_last().unwrap();
        let mut target = &mut body;
        for p in parents {
            target = &mut target[*p];
        }
        if value.is_null() {
            target.as_object_mut().unwrap().remove(*last);
        } else {
            target[*last] = value;
        }
        body
    };
    let cases: Vec<(&str, &str, Value, u16, &str)> = vec![
        ("native", "appid", with(&["appid"], json!("wx0000000000000000")), 400, "APPID_MCHID_NOT_MATCH"),
        ("native", "mchid", with(&["mchid"], json!("1900000110")), 400, "APPID_MCHID_NOT_MATCH"),
        ("native", "total 0", with(&["amount", "total"], json!(0)), 400, "PARAM_ERROR"),
        ("native", "total 1.5", with(&["amount", "total"], json!(1.5)), 400, "PARAM_ERROR"),
        ("native", "total 1.0", with(&["amount", "total"], json!(1.0)), 400, "PARAM_ERROR"),
        ("native", "total \"100\"", with(&["amount", "total"], json!("100")), 400, "PARAM_ERROR"),
        ("native", "total -1", with(&["amount", "total"], json!(-1)), 400, "PARAM_ERROR"),
        ("native", "currency USD", with(&["amount", "currency"], json!("USD")), 400, "PARAM_ERROR"),
        ("native", "no notify_url", with(&["notify_url"], Value::Null), 400, "PARAM_ERROR"),
        ("native", "ftp notify_url", with(&["notify_url"], json!("ftp://shop.example/n")), 400, "PARAM_ERROR"),
        ("native", "notify_url query", with(&["notify_url"], json!("https://shop.example/n?a=1")), 400, "PARAM_ERROR"),
        ("native", "short out_trade_no", with(&["out_trade_no"], json!("abc12")), 400, "PARAM_ERROR"),
        ("native", "out_trade_no 订单", with(&["out_trade_no"], json!("订单123456")), 400, "PARAM_ERROR"),
        ("native", "no description", with(&["description"], Value::Null), 400, "PARAM_ERROR"),
        ("native", "time_expire past", with(&["time_expire"], json!("2020-01-01T00:00:00+08:00")), 400, "PARAM_ERROR"),
        ("native", "time_expire format", with(&["time_expire"], json!("2099-01-01 00:00:00")), 400, "PARAM_ERROR"),
        ("jsapi", "no payer", base(&unique("RULE")), 400, "PARAM_ERROR"),
        ("h5", "no scene_info", base(&unique("RULE")), 400, "PARAM_ERROR"),
        (
            "h5",
            "bad ip",
            with(&["scene_info"], json!({ "payer_client_ip": "203.0.113.999", "h5_info": { "type": "Wap" } })),
            400,
            "PARAM_ERROR",
        ),
        ("h5", "no h5_info", with(&["scene_info"], json!({ "payer_client_ip": "203.0.113.9" })), 400, "PARAM_ERROR"),
    ];
    for (kind, what, body, status, code) in cases {
        let r = sb.call("POST", &format!("/v3/pay/transactions/{kind}"), &body.to_string());
        assert_eq!(sb.error_code(&r, status), code, "{kind} {what}");
    }
    // Not JSON, or not declared as JSON.
    let r = sb.call("POST", NATIVE, "appid=wx");
    assert_eq!(sb.error_code(&r, 400), "PARAM_ERROR");
    let body = base(&unique("CT")).to_string();
    let auth = sb.authorization("POST", NATIVE, &body, now(), &unique("n"));
    let r = http_request("POST", &sb.url(NATIVE), &[("Authorization", &auth), ("Content-Type", "text/plain")], body.as_bytes());
    assert_eq!(sb.error_code(&r, 400), "INVALID_REQUEST");
    // What is valid: no currency (CNY by default), a future time_expire in any offset, IPv6.
    let ok = [
        ("native", with(&["amount", "currency"], Value::Null)),
        ("native", with(&["time_expire"], json!("2099-01-01T00:00:00Z"))),
        ("h5", with(&["scene_info"], json!({ "payer_client_ip": "2001:db8::1", "h5_info": { "type": "Wap" } }))),
        ("jsapi", with(&["payer"], json!({ "openid": "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o" }))),
    ];
    for (kind, body) in ok {
        let r = sb.call("POST", &format!("/v3/pay/transactions/{kind}"), &body.to_string());
        assert_eq!(r.status, 200, "{kind}: {}", r.body);
    }
}

#[test]
fn out_trade_no_reuse_and_closing() {
    let sb = Sandbox::start(None);
    let no = unique("REUSE");
    let code_url = sb.native_order(&no, NOTIFY, 100);
    assert_eq!(sb.native_order(&no, NOTIFY, 100), code_url);
    let r = sb.call("POST", NATIVE, &sb.order_body(&no, NOTIFY, 101).to_string());
    assert_eq!(sb.error_code(&r, 403), "OUT_TRADE_NO_USED");
    let mut h5 = sb.order_body(&no, NOTIFY, 100);
    h5["scene_info"] = json!({ "payer_client_ip": "203.0.113.7", "h5_info": { "type": "Wap" } });
    let r = sb.call("POST", "/v3/pay/transactions/h5", &h5.to_string());
    assert_eq!(sb.error_code(&r, 403), "OUT_TRADE_NO_USED");

    let close = format!("/v3/pay/transactions/out-trade-no/{no}/close");
    let r = sb.call("POST", &close, &json!({ "mchid": "1900000110" }).to_string());
    assert_eq!(sb.error_code(&r, 400), "PARAM_ERROR");
    let r = sb.call("POST", &close, &json!({ "mchid": sb.mchid }).to_string());
    assert_eq!(r.status, 204, "{}", r.body);
    assert_eq!(sb.verified(&r), Value::Null);
    assert_eq!(sb.query(&no)["trade_state"], "CLOSED");
    let r = sb.call("POST", NATIVE, &sb.order_body(&no, NOTIFY, 100).to_string());
    assert_eq!(sb.error_code(&r, 400), "ORDER_CLOSED");
    let r = sb.call("POST", "/v3/pay/transactions/out-trade-no/NOSUCH0001/close", &json!({ "mchid": sb.mchid }).to_string());
    assert_eq!(sb.error_code(&r, 404), "ORDER_NOT_EXIST");
}

#[test]
fn query_close_and_refund_flows() {
    let sb = Sandbox::start(None);
    let listener = Listener::start(vec![204]);
    let no = unique("PAID");
    sb.native_order(&no, &format!("{}/notify", listener.url), 100);
    let paid = sb.control("POST", &format!("/sandbox/control/orders/wechatpay/{no}/pay"), &json!({ "payer": "oPayer0000000000000000000001" }));
    assert_eq!(paid.status, 200, "{}", paid.body);

    let value = sb.query(&no);
    let t: Transaction = serde_json::from_value(value.clone()).unwrap();
    assert_eq!(t.trade_state, TradeState::Success);
    assert_eq!(t.trade_type.unwrap().as_str(), "NATIVE");
    assert_eq!(t.appid.as_str(), sb.appid);
    assert_eq!(t.mchid.as_str(), sb.mchid);
    let amount = t.amount.unwrap();
    assert_eq!((amount.total.fen(), amount.payer_total.map(|a| a.fen())), (100, Some(100)));
    assert_eq!(value["amount"]["currency"], "CNY");
    assert_eq!(value["amount"]["payer_currency"], "CNY");
    assert_eq!(t.payer.unwrap().openid.unwrap().as_str(), "oPayer0000000000000000000001");
    assert!(t.success_time.as_deref().unwrap().ends_with("+08:00"));
    let id = t.transaction_id.unwrap();
    let by_id = sb.call("GET", &format!("/v3/pay/transactions/id/{id}?mchid={}", sb.mchid), "");
    assert_eq!(sb.verified(&by_id)["out_trade_no"], no.as_str());
    let r = sb.call("GET", &format!("/v3/pay/transactions/out-trade-no/{no}?mchid=1900000110"), "");
    assert_eq!(sb.error_code(&r, 400), "PARAM_ERROR");
    let r = sb.call("GET", &format!("/v3/pay/transactions/out-trade-no/NOSUCH0001?mchid={}", sb.mchid), "");
    assert_eq!(sb.error_code(&r, 404), "ORDER_NOT_EXIST");
    let r = sb.call("POST", &format!("/v3/pay/transactions/out-trade-no/{no}/close"), &json!({ "mchid": sb.mchid }).to_string());
    assert_eq!(sb.error_code(&r, 400), "ORDER_PAID");

    // Refunds: bounds, idempotency, then SUCCESS and a REFUND.SUCCESS callback.
    let refunds = "/v3/refund/domestic/refunds";
    let refund = |by: (&str, &str), out_refund_no: &str, refund: u64, total: u64, notify: Option<&str>| {
        let mut body = json!({ by.0: by.1, "out_refund_no": out_refund_no, "amount": { "refund": refund, "total": total, "currency": "CNY" } });
        if let Some(url) = notify {
            body["notify_url"] = json!(url);
        }
        sb.call("POST", refunds, &body.to_string())
    };
    let by_no = ("out_trade_no", no.as_str());
    let notify = format!("{}/refund", listener.url);
    assert_eq!(sb.error_code(&refund(by_no, "R1", 30, 99, None), 400), "INVALID_REQUEST");
    assert_eq!(sb.error_code(&refund(by_no, "R1", 101, 100, None), 400), "INVALID_REQUEST");
    assert_eq!(sb.error_code(&refund(by_no, "R1", 0, 100, None), 400), "PARAM_ERROR");
    assert_eq!(sb.error_code(&refund(("out_trade_no", "NOSUCH0001"), "R1", 30, 100, None), 404), "RESOURCE_NOT_EXISTS");
    let first = refund(by_no, "R1", 30, 100, Some(&notify));
    assert_eq!(first.status, 200, "{}", first.body);
    let first = sb.verified(&first);
    assert_eq!(first["status"], "PROCESSING");
    assert_eq!(first["amount"]["refund"], 30);
    let again = sb.verified(&refund(by_no, "R1", 30, 100, Some(&notify)));
    assert_eq!(again["refund_id"], first["refund_id"]);
    assert_eq!(sb.error_code(&refund(by_no, "R1", 31, 100, None), 400), "INVALID_REQUEST");
    assert_eq!(sb.error_code(&refund(by_no, "R2", 71, 100, None), 400), "INVALID_REQUEST");
    let by_id = refund(("transaction_id", id.as_str()), "R2", 70, 100, None);
    assert_eq!(by_id.status, 200, "{}", by_id.body);
    assert_eq!(sb.error_code(&refund(by_no, "R3", 1, 100, None), 400), "INVALID_REQUEST");

    // The payment callback (listener answers 204) and the refund callback of R1 only.
    listener.wait_for(2);
    std::thread::sleep(Duration::from_millis(300));
    let received = listener.received();
    let refund_callbacks: Vec<_> = received.iter().filter(|r| r.path == "/refund").collect();
    assert!(!refund_callbacks.is_empty(), "{received:?}");
    assert!(refund_callbacks.iter().all(|r| r.body == refund_callbacks[0].body));
    let notification = sb.parse_callback(refund_callbacks[0]).unwrap();
    assert_eq!(notification.event_type, EventType::RefundSuccess);
    let NotificationResource::Refund(r) = notification.resource else { panic!("not a refund") };
    assert_eq!(r.refund_status, RefundStatus::Success);
    assert_eq!((r.amount.refund.fen(), r.amount.total.fen()), (30, 100));
    assert_eq!(r.out_refund_no.as_str(), "R1");
    assert_eq!(r.out_trade_no.as_str(), no);

    let query = sb.call("GET", &format!("{refunds}/R1"), "");
    let query = sb.verified(&query);
    assert_eq!(query["status"], "SUCCESS");
    assert!(query["success_time"].as_str().unwrap().ends_with("+08:00"));
    let r = sb.call("GET", &format!("{refunds}/R404"), "");
    assert_eq!(sb.error_code(&r, 404), "RESOURCE_NOT_EXISTS");
    assert_eq!(sb.query(&no)["trade_state"], "REFUND");

    // An unpaid order cannot be refunded.
    let unpaid = unique("UNPAID");
    sb.native_order(&unpaid, NOTIFY, 100);
    assert_eq!(sb.error_code(&refund(("out_trade_no", &unpaid), "R9", 1, 100, None), 400), "INVALID_REQUEST");
}

fn payment_callback_is_signed_encrypted_and_retried(mode: Option<&str>, expected_serial: &str) {
    let sb = Sandbox::start(mode);
    let listener = Listener::start(vec![500, 500, 204]);
    let no = unique("CB");
    sb.native_order(&no, &format!("{}/v1/notify/wechatpay", listener.url), 321);
    let r = sb.call("GET", &format!("/v3/pay/transactions/out-trade-no/{no}?mchid={}", sb.mchid), "");
    assert_eq!(r.header("wechatpay-serial"), Some(sb.wechat(expected_serial).as_str()));
    let paid = sb.control("POST", &format!("/sandbox/control/orders/wechatpay/{no}/pay"), &Value::Null);
    assert_eq!(paid.status, 200, "{}", paid.body);

    let received = listener.wait_for(3);
    assert_eq!(received.len(), 3, "retried after 500s");
    std::thread::sleep(Duration::from_millis(1500));
    assert_eq!(listener.received().len(), 3, "stopped at 204");
    let mut ids = Vec::new();
    for callback in &received {
        assert_eq!(callback.path, "/v1/notify/wechatpay");
        assert!(callback.header("content-type").unwrap().starts_with("application/json"));
        assert_eq!(callback.header("wechatpay-signature-type"), Some("WECHATPAY2-SHA256-RSA2048"));
        assert_eq!(callback.header("wechatpay-serial"), Some(sb.wechat(expected_serial).as_str()));
        let notification = sb.parse_callback(callback).unwrap();
        assert_eq!(notification.event_type, EventType::TransactionSuccess);
        assert!(notification.create_time.ends_with("+08:00"));
        let NotificationResource::Transaction(t) = notification.resource else { panic!("not a transaction") };
        assert_eq!(t.trade_state, TradeState::Success);
        assert_eq!(t.out_trade_no.as_str(), no);
        assert_eq!(t.amount.unwrap().total.fen(), 321);
        assert_eq!(t.appid.as_str(), sb.appid);
        ids.push(notification.id);
        let envelope: NotificationEnvelope = serde_json::from_slice(&callback.body).unwrap();
        assert_eq!(envelope.resource_type, "encrypt-resource");
        assert_eq!(envelope.resource.associated_data, "transaction");
        assert_eq!(envelope.resource.original_type, "transaction");
        assert_eq!(envelope.resource.algorithm, "AEAD_AES_256_GCM");
        // One byte of the body changed: refused before decryption.
        let mut tampered = callback.clone();
        let at = tampered.body.len() / 2;
        tampered.body[at] ^= 1;
        assert!(sb.parse_callback(&tampered).is_err());
    }
    assert!(ids.iter().all(|id| *id == ids[0]), "retries carry the same callback id");
    // Each attempt is signed when sent.
    assert_ne!(received[0].header("wechatpay-nonce"), received[1].header("wechatpay-nonce"));
    let order: Value = serde_json::from_str(&sb.control("GET", &format!("/sandbox/control/orders/wechatpay/{no}"), &Value::Null).body).unwrap();
    let acknowledged: Vec<bool> = order["deliveries"].as_array().unwrap().iter().map(|d| d["acknowledged"].as_bool().unwrap()).collect();
    assert_eq!(acknowledged, [false, false, true]);

    // The certificate list decrypts to the platform certificate, whatever the mode.
    let certs = sb.call("GET", "/v3/certificates", "");
    let certs = sb.verified(&certs);
    let entry = &certs["data"][0];
    assert_eq!(entry["serial_no"], sb.wechat("platform_cert_serial").as_str());
    assert!(entry["effective_time"].as_str().unwrap().ends_with("+08:00"));
    let e = &entry["encrypt_certificate"];
    assert_eq!(e["algorithm"], "AEAD_AES_256_GCM");
    assert_eq!(e["associated_data"], "certificate");
    let pem = block_on(decrypt_ciphertext(&sb.aead, e["nonce"].as_str().unwrap(), "certificate", e["ciphertext"].as_str().unwrap())).unwrap();
    assert_eq!(String::from_utf8(pem).unwrap().trim(), sb.wechat("platform_cert").trim());
}

#[test]
fn payment_callbacks_in_public_key_mode() {
    payment_callback_is_signed_encrypted_and_retried(None, "public_key_id");
}

#[test]
fn payment_callbacks_in_certificate_mode() {
    payment_callback_is_signed_encrypted_and_retried(Some("certificate"), "platform_cert_serial");
}

#[test]
fn an_unknown_key_mode_stops_the_sandbox() {
    let dir = std::env::temp_dir().join(unique("edgepay-sandbox-wechat-mode-"));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("keys.json"), support::template_keys()).unwrap();
    let output = std::process::Command::new(support::BIN)
        .env("SANDBOX_WECHATPAY_MODE", "certificates")
        .args(["--port", "0", "--state-dir", dir.to_str().unwrap()])
        .output()
        .unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("SANDBOX_WECHATPAY_MODE"));
}

#[test]
fn signature_probes_are_refused_by_parse_notification() {
    let sb = Sandbox::start(None);
    let listener = Listener::start(vec![401]);
    let r = sb.control("POST", "/sandbox/control/probe", &json!({ "provider": "wechatpay", "url": format!("{}/probe", listener.url) }));
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(serde_json::from_str::<Value>(&r.body).unwrap()["acknowledged"], false);
    let received = listener.wait_for(1);
    let probe = &received[0];
    assert!(probe.header("wechatpay-signature").unwrap().starts_with("WECHATPAY/SIGNTEST/"));
    assert_eq!(sb.parse_callback(probe).unwrap_err(), Error::BadSignature);
    // Everything else about it is well formed: only the signature gives it away.
    let envelope: NotificationEnvelope = serde_json::from_slice(&probe.body).unwrap();
    let r = &envelope.resource;
    assert!(block_on(decrypt_ciphertext(&sb.aead, &r.nonce, &r.associated_data, &r.ciphertext)).is_ok());
}

#[test]
fn oauth_snsapi_base_round_trip() {
    let sb = Sandbox::start(None);
    let ua = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148 MicroMessenger/8.0.47(0x18002f2f) NetType/WIFI Language/zh_CN";
    let redirect = "https://shop.example/v1/oauth/return?session=cs_1";
    let authorize = |appid: &str, scope: &str, redirect: &str, cookie: Option<&str>, agent: &str| {
        let url = sb.url(&format!(
            "/connect/oauth2/authorize?appid={appid}&redirect_uri={}&response_type=code&scope={scope}&state=st%201",
            encode_component(redirect)
        ));
        let mut headers = vec![("User-Agent", agent)];
        if let Some(cookie) = cookie {
            headers.push(("Cookie", cookie));
        }
        http_request("GET", &url, &headers, b"")
    };
    let r = authorize(&sb.appid, "snsapi_base", redirect, None, ua);
    assert_eq!(r.status, 302, "{}", r.body);
    let location = r.header("location").unwrap().to_owned();
    let prefix = format!("{redirect}&code=");
    assert!(location.starts_with(&prefix) && location.ends_with("&state=st%201"), "{location}");
    let code = location[prefix.len()..].split('&').next().unwrap().to_owned();
    let cookie = r.header("set-cookie").unwrap().split(';').next().unwrap().to_owned();

    let token = |code: &str, secret: &str| {
        let url = sb.url(&format!(
            "/sns/oauth2/access_token?appid={}&secret={secret}&code={code}&grant_type=authorization_code",
            sb.appid
        ));
        let r = http_request("GET", &url, &[], b"");
        assert_eq!(r.status, 200);
        serde_json::from_str::<Value>(&r.body).unwrap()
    };
    let secret = sb.wechat("app_secret");
    assert_eq!(token(&code, "wrongsecret")["errcode"], 40125);
    let ok = token(&code, &secret);
    let openid = ok["openid"].as_str().unwrap().to_owned();
    assert!(openid.starts_with('o') && openid.len() == 28, "{ok}");
    assert_eq!(ok["scope"], "snsapi_base");
    assert_eq!(ok["expires_in"], 7200);
    assert!(ok["access_token"].as_str().is_some() && ok["refresh_token"].as_str().is_some());
    assert_eq!(token(&code, &secret)["errcode"], 40163, "codes are single-use");
    assert_eq!(token("unknowncode", &secret)["errcode"], 40029);

    // The same browser (cookie) gets the same openid; another browser another one.
    let again = authorize(&sb.appid, "snsapi_base", redirect, Some(&cookie), ua);
    assert!(again.header("set-cookie").is_none());
    let code2 = again.header("location").unwrap()[prefix.len()..].split('&').next().unwrap().to_owned();
    assert_eq!(token(&code2, &secret)["openid"], openid.as_str());
    let other = authorize(&sb.appid, "snsapi_base", redirect, None, ua);
    let code3 = other.header("location").unwrap()[prefix.len()..].split('&').next().unwrap().to_owned();
    assert_ne!(token(&code3, &secret)["openid"], openid.as_str());

    // Refusals, with WeChat's error codes on the page.
    for (appid, scope, redirect, agent, errcode) in [
        ("wx0000000000000000", "snsapi_base", redirect, ua, "40013"),
        (sb.appid.as_str(), "snsapi_userinfo", redirect, ua, "10005"),
        (sb.appid.as_str(), "snsapi_base", "not a url", ua, "10003"),
        (sb.appid.as_str(), "snsapi_base", redirect, "Mozilla/5.0 (X11; Linux x86_64) Chrome/120", "10008"),
    ] {
        let r = authorize(appid, scope, redirect, None, agent);
        assert!(r.status >= 400 && r.header("location").is_none(), "{errcode}: {r:?}");
        assert!(r.body.contains(errcode), "{errcode}: {}", r.body);
    }
}

#[test]
fn the_bridge_pays_a_jsapi_order_with_a_valid_pay_sign_only() {
    let sb = Sandbox::start(None);
    let script = http_request("GET", &sb.url("/sandbox/bridge.js"), &[], b"");
    assert_eq!(script.status, 200);
    assert!(script.body.contains("WeixinJSBridge") && script.body.contains("WeixinJSBridgeReady"));
    assert!(script.body.contains(&format!("'{}'", sb.server.url())), "the script knows where the sandbox is");
    assert!(script.body.contains("AlipayJSBridgeReady"));

    let openid = "oJsapiPayer000000000000000001";
    let no = unique("BRIDGE");
    let mut body = sb.order_body(&no, NOTIFY, 88);
    body["payer"] = json!({ "openid": openid });
    let r = sb.call("POST", "/v3/pay/transactions/jsapi", &body.to_string());
    let prepay_id = sb.verified(&r)["prepay_id"].as_str().unwrap().to_owned();
    let appid = AppId::new(sb.appid.as_str()).unwrap();
    let params = block_on(jsapi_params(&sb.merchant, &appid, &PrepayId::new(prepay_id.as_str()).unwrap(), now(), "5K8264ILTKCH16CQ2502SI8ZNMTM67VS")).unwrap();
    let bridge = |params: &JsapiParams, answer: &str| {
        let r = http_request(
            "POST",
            &sb.url(&format!("/sandbox/bridge/wechat/pay?answer={answer}")),
            &[("Content-Type", "application/json"), ("Origin", "http://shop.example")],
            serde_json::to_string(params).unwrap().as_bytes(),
        );
        assert_eq!(r.header("access-control-allow-origin"), Some("*"));
        (r.status, serde_json::from_str::<Value>(&r.body).unwrap())
    };
    let preflight = http_request(
        "OPTIONS",
        &sb.url("/sandbox/bridge/wechat/pay"),
        &[("Origin", "http://shop.example"), ("Access-Control-Request-Method", "POST"), ("Access-Control-Request-Headers", "content-type")],
        b"",
    );
    assert!(preflight.status == 204 && preflight.header("access-control-allow-origin") == Some("*"), "{preflight:?}");

    // Tampered: another prepay id under the same signature, a changed signature, another key.
    let mut other_prepay = params.clone();
    other_prepay.package = format!("prepay_id={}", prepay_id.replacen("wx", "wy", 1));
    let mut bad_sign = params.clone();
    bad_sign.pay_sign = params.pay_sign.replacen(&params.pay_sign[10..11], if &params.pay_sign[10..11] == "A" { "B" } else { "A" }, 1);
    let platform = payment_core::native::RsaPrivateKey::from_text(&sb.wechat("platform_private_key"), "k").unwrap();
    let other_key = block_on(jsapi_params(&platform, &appid, &PrepayId::new(prepay_id.as_str()).unwrap(), now(), "n1")).unwrap();
    let foreign_app = AppId::new("wx0000000000000000").unwrap();
    let other_app = block_on(jsapi_params(&sb.merchant, &foreign_app, &PrepayId::new(prepay_id.as_str()).unwrap(), now(), "n2")).unwrap();
    let unknown_prepay = block_on(jsapi_params(&sb.merchant, &appid, &PrepayId::new("wx00000000000000000000000000000000").unwrap(), now(), "n3")).unwrap();
    for tampered in [&other_prepay, &bad_sign, &other_key, &other_app, &unknown_prepay] {
        let (status, answer) = bridge(tampered, "ok");
        assert_eq!((status, answer["err_msg"].as_str()), (400, Some("get_brand_wcpay_request:fail")), "{answer}");
    }
    // The shopper cancels, then the payment fails: still unpaid.
    assert_eq!(bridge(&params, "cancel").1["err_msg"], "get_brand_wcpay_request:cancel");
    assert_eq!(bridge(&params, "fail").1["err_msg"], "get_brand_wcpay_request:fail");
    assert_eq!(sb.query(&no)["trade_state"], "NOTPAY");
    // Pays.
    assert_eq!(bridge(&params, "ok"), (200, json!({ "err_msg": "get_brand_wcpay_request:ok" })));
    let t = sb.query(&no);
    assert_eq!(t["trade_state"], "SUCCESS");
    assert_eq!(t["trade_type"], "JSAPI");
    assert_eq!(t["payer"]["openid"], openid);
    assert_eq!(bridge(&params, "ok").0, 400, "a paid order cannot be paid again");
}

#[test]
fn the_h5_url_opens_the_cashier_and_returns_to_the_redirect_url() {
    let sb = Sandbox::start(None);
    let no = unique("H5PAY");
    let mut body = sb.order_body(&no, NOTIFY, 500);
    body["scene_info"] = json!({ "payer_client_ip": "203.0.113.7", "h5_info": { "type": "Wap" } });
    let r = sb.call("POST", "/v3/pay/transactions/h5", &body.to_string());
    let h5_url = sb.verified(&r)["h5_url"].as_str().unwrap().to_owned();
    let back = "https://shop.example/return?session=cs_1";
    let url = format!("{h5_url}&redirect_url={}", encode_component(back));
    let mobile = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) Mobile/15E148 Safari/604.1";
    let open = |agent: &str, referer: Option<&str>| {
        let mut headers = vec![("User-Agent", agent)];
        if let Some(referer) = referer {
            headers.push(("Referer", referer));
        }
        http_request("GET", &url, &headers, b"")
    };
    assert_eq!(open(mobile, None).status, 403, "WeChat H5 needs the shop page as Referer");
    assert_eq!(open(&format!("{mobile} MicroMessenger/8.0.47"), Some("https://shop.example/")).status, 403, "not inside WeChat");
    let r = open(mobile, Some("https://shop.example/checkout"));
    assert_eq!(r.status, 303, "{r:?}");
    let cashier = r.header("location").unwrap().to_owned();
    assert!(cashier.ends_with(&format!("/sandbox/cashier/wechatpay/{no}")), "{cashier}");
    let paid = http_request("POST", &format!("{cashier}/pay"), &[], b"");
    assert!(paid.status / 100 == 3 && paid.header("location") == Some(back), "{paid:?}");
    assert_eq!(sb.query(&no)["trade_type"], "MWEB");
}
