//! The generic parts of the sandbox, against the real binary: the control API (orders, replays,
//! storms, probes, faults, the request log, reset) and the cashier pages. Orders are created the
//! way a merchant creates them, with Alipay precreate signed by payment-core.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod merchant;

use std::time::{Duration, Instant};

use payment_core::alipay::{sign_request, Merchant, Order, Request, Urls};
use payment_core::ids::{AppId, OutTradeNo};
use payment_core::money::Amount;
use payment_core::native::{block_on, RsaPrivateKey, RsaPublicKey};
use serde_json::{json, Value};

use merchant::{http_get, http_request, now, unique, wait_for, HttpResponse, Listener, Sandbox};

const FORM: (&str, &str) = ("content-type", "application/x-www-form-urlencoded;charset=utf-8");
const JSON: (&str, &str) = ("content-type", "application/json");

struct Shop {
    sandbox: Sandbox,
    merchant: Merchant,
    app_key: RsaPrivateKey,
    platform: RsaPublicKey,
}

impl Shop {
    fn start() -> Self {
        let sandbox = Sandbox::start();
        let keys = &sandbox.keys["alipay"];
        Self {
            merchant: Merchant {
                app_id: AppId::new(keys["app_id"].as_str().unwrap()).unwrap(),
                gateway: format!("{}/gateway.do", sandbox.url()),
                cert_serials: None,
            },
            app_key: RsaPrivateKey::from_text(keys["app_private_key"].as_str().unwrap(), "app key").unwrap(),
            platform: RsaPublicKey::from_text(keys["platform_public_key"].as_str().unwrap(), "alipay key").unwrap(),
            sandbox,
        }
    }

    /// Sends a precreate for `fen` fen; returns the HTTP answer.
    fn precreate(&self, no: &str, fen: u64, notify_url: Option<String>) -> HttpResponse {
        let order = Order { out_trade_no: OutTradeNo::new(no).unwrap(), total_amount: Amount::from_fen(fen).unwrap(), subject: "铁观音 Tieguanyin".into(), expiry: None };
        let urls = Urls { notify_url, return_url: None };
        let post = block_on(sign_request(&self.merchant, &Request::Precreate(order), &urls, now(), &self.app_key)).unwrap().post();
        http_request("POST", &post.url, &[FORM], post.body.as_bytes())
    }

    fn order(&self, no: &str, fen: u64) {
        let response = self.precreate(no, fen, None);
        assert!(response.body.contains(r#""code":"10000""#), "{}", response.body);
    }

    fn control(&self, method: &str, path: &str, body: Option<Value>) -> HttpResponse {
        let body = body.map(|b| b.to_string()).unwrap_or_default();
        http_request(method, &format!("{}/sandbox/control{path}", self.sandbox.url()), &[JSON], body.as_bytes())
    }

    fn json(&self, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
        let response = self.control(method, path, body);
        (response.status, serde_json::from_str(&response.body).unwrap_or(Value::Null))
    }
}

#[test]
fn orders_are_listed_and_changed_only_from_pending() {
    let shop = Shop::start();
    let (a, b, c) = (unique("EPCTLA"), unique("EPCTLB"), unique("EPCTLC"));
    for no in [&a, &b, &c] {
        shop.order(no, 8888);
    }
    let (status, list) = shop.json("GET", "/orders", None);
    assert_eq!(status, 200);
    let listed: Vec<&str> = list.as_array().unwrap().iter().map(|o| o["out_trade_no"].as_str().unwrap()).collect();
    for no in [&a, &b, &c] {
        assert!(listed.contains(&no.as_str()), "{no} not listed");
    }

    let (status, paid) = shop.json("POST", &format!("/orders/alipay/{a}/pay"), Some(json!({"payer": "2088000000009999"})));
    assert_eq!(status, 200, "{paid}");
    assert_eq!(paid["status"], "paid");
    assert_eq!(paid["payer"], "2088000000009999");
    assert!(paid["transaction_id"].as_str().is_some_and(|t| !t.is_empty()));
    assert_eq!(shop.json("POST", &format!("/orders/alipay/{a}/pay"), None).0, 409, "paid twice");
    assert_eq!(shop.json("POST", &format!("/orders/alipay/{a}/close"), None).0, 409, "closed after paying");

    assert_eq!(shop.json("POST", &format!("/orders/alipay/{b}/close"), None).1["status"], "closed");
    assert_eq!(shop.json("POST", &format!("/orders/alipay/{c}/fail"), None).1["status"], "failed");
    assert_eq!(shop.json("POST", &format!("/orders/alipay/{c}/pay"), None).0, 409, "a failed order cannot be paid");
    assert_eq!(shop.json("GET", &format!("/orders/alipay/{b}"), None).1["status"], "closed");
    assert_eq!(shop.json("GET", "/orders/alipay/NOSUCHORDER1", None).0, 404);
    assert_eq!(shop.json("POST", &format!("/orders/paypal/{a}/pay"), None).0, 404);
}

#[test]
fn injected_failures_and_hangs_hit_provider_calls_only_and_are_logged() {
    let shop = Shop::start();
    let since = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as u64;
    let (status, faults) = shop.json("PUT", "/faults", Some(json!({"fail_next": 2})));
    assert_eq!((status, faults["fail_next"].as_u64()), (200, Some(2)));

    for _ in 0..2 {
        let response = shop.precreate(&unique("EPFAIL"), 100, None);
        assert_eq!(response.status, 500, "{}", response.body);
        // The control API is not a provider call: it keeps working while faults are armed.
        assert_eq!(shop.control("GET", "/orders", None).status, 200);
    }
    assert_eq!(shop.precreate(&unique("EPFAIL"), 100, None).status, 200, "only the next two calls fail");

    shop.json("PUT", "/faults", Some(json!({"hang_next": 1, "hang_ms": 1500})));
    let started = Instant::now();
    assert_eq!(shop.precreate(&unique("EPHANG"), 100, None).status, 500);
    assert!(started.elapsed() >= Duration::from_millis(1400), "{:?}", started.elapsed());
    assert_eq!(shop.precreate(&unique("EPHANG"), 100, None).status, 200);

    let (_, log) = shop.json("GET", &format!("/requests?since_ms={since}"), None);
    let verdicts: Vec<&str> = log.as_array().unwrap().iter().filter_map(|e| e["verdict"].as_str()).collect();
    assert_eq!(verdicts.iter().filter(|v| **v == "injected 500").count(), 2, "{verdicts:?}");
    assert_eq!(verdicts.iter().filter(|v| **v == "injected hang").count(), 1, "{verdicts:?}");
}

#[test]
fn dropped_callbacks_can_be_replayed_once_or_as_a_storm() {
    let shop = Shop::start();
    let listener = Listener::start(vec![], "success");
    shop.json("PUT", "/faults", Some(json!({"callbacks": "drop"})));
    let no = unique("EPSTORM");
    assert_eq!(shop.precreate(&no, 1234, Some(listener.url("/notify"))).status, 200);
    assert_eq!(shop.json("POST", &format!("/orders/alipay/{no}/pay"), None).0, 200);
    std::thread::sleep(Duration::from_millis(500));
    assert!(listener.requests().is_empty(), "a dropped callback was sent");

    let (status, storm) = shop.json("POST", &format!("/orders/alipay/{no}/notify"), Some(json!({"times": 25})));
    assert_eq!(status, 200, "{storm}");
    assert_eq!(storm, json!({"sent": 25, "acknowledged": 25}));
    wait_for(Duration::from_secs(5), || listener.requests().len() == 25);
    let bodies: std::collections::HashSet<Vec<u8>> = listener.requests().into_iter().map(|r| r.body).collect();
    assert_eq!(bodies.len(), 1, "a storm repeats one callback, byte for byte");
    let notify = block_on(payment_core::alipay::parse_notify(bodies.iter().next().unwrap(), &shop.platform)).unwrap();
    assert_eq!(notify.out_trade_no.as_str(), no);
    let (_, order) = shop.json("GET", &format!("/orders/alipay/{no}"), None);
    assert_eq!(order["deliveries"].as_array().unwrap().len(), 25, "every delivery is recorded");

    let unpaid = unique("EPNOPAY");
    shop.order(&unpaid, 100);
    assert_eq!(shop.json("POST", &format!("/orders/alipay/{unpaid}/notify"), None).0, 409, "nothing to notify");
}

#[test]
fn probes_are_badly_signed_and_a_strict_merchant_does_not_acknowledge_them() {
    let shop = Shop::start();
    // The merchant answers `success` only to what verifies.
    let listener = Listener::start(vec![], "fail");
    let (status, answer) = shop.json("POST", "/probe", Some(json!({"provider": "alipay", "url": listener.url("/notify")})));
    assert_eq!(status, 200);
    assert_eq!(answer["acknowledged"], false);
    let probe = listener.requests().pop().expect("the probe arrived");
    assert!(block_on(payment_core::alipay::parse_notify(&probe.body, &shop.platform)).is_err());
    assert_eq!(shop.json("POST", "/probe", Some(json!({"provider": "nope", "url": "http://127.0.0.1:9/"}))).0, 404);
}

#[test]
fn the_cashier_page_pays_cancels_and_fails() {
    let shop = Shop::start();
    let no = unique("EPCASH");
    shop.order(&no, 8888);
    let page = http_get(&format!("{}/sandbox/cashier/alipay/{no}", shop.sandbox.url()));
    assert_eq!(page.status, 200);
    assert!(page.body.contains("¥88.88") && page.body.contains("铁观音 Tieguanyin"), "{}", page.body);
    assert!(page.body.contains(r#"value="pay""#) && page.body.contains(r#"value="fail""#));

    // Cancel leaves the order pending (no return URL for a QR order: a page says so).
    let cancel = http_request("POST", &format!("{}/sandbox/cashier/alipay/{no}/cancel", shop.sandbox.url()), &[], b"");
    assert_eq!(cancel.status, 200);
    assert_eq!(shop.json("GET", &format!("/orders/alipay/{no}"), None).1["status"], "pending");

    let fail = http_request("POST", &format!("{}/sandbox/cashier/alipay/{no}/fail", shop.sandbox.url()), &[], b"");
    assert_eq!(fail.status, 200);
    assert!(fail.body.contains(r#"data-status="failed""#), "{}", fail.body);
    let pay = http_request("POST", &format!("{}/sandbox/cashier/alipay/{no}/pay", shop.sandbox.url()), &[], b"");
    assert_eq!(pay.status, 409, "a failed order cannot be paid from the cashier");

    let other = unique("EPCASH");
    shop.order(&other, 100);
    let pay = http_request("POST", &format!("{}/sandbox/cashier/alipay/{other}/pay", shop.sandbox.url()), &[], b"");
    assert!(pay.status < 400, "{}", pay.body);
    assert_eq!(shop.json("GET", &format!("/orders/alipay/{other}"), None).1["status"], "paid");

    assert_eq!(http_get(&format!("{}/sandbox/cashier/alipay/NOSUCHORDER1", shop.sandbox.url())).status, 404);
    assert_eq!(http_get(&format!("{}/sandbox/scan?data=weixin%3A%2F%2Fnot-ours", shop.sandbox.url())).status, 404);
}

#[test]
fn reset_forgets_orders_log_and_faults() {
    let shop = Shop::start();
    shop.order(&unique("EPRESET"), 100);
    shop.json("PUT", "/faults", Some(json!({"fail_next": 5})));
    assert_eq!(shop.control("POST", "/reset", None).status, 204);
    assert_eq!(shop.json("GET", "/orders", None).1, json!([]));
    assert_eq!(shop.json("GET", "/faults", None).1["fail_next"], 0);
    assert_eq!(shop.json("GET", "/requests", None).1.as_array().unwrap().len(), 0);
}
