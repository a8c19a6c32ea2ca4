//! The demo shop binary: the merchant backend creates a session at the worker for every shop page
//! view and hands it to the widget in the page; it serves the widget files; it receives the
//! worker's webhooks (verified, idempotent) and shows the orders with their status.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::mpsc;

use edgepay_tests::{http_get, http_request, HttpResponse, Server};
use payment_core::native::{block_on, HmacKey};
use payment_core::webhook::{self, WebhookSecret};

fn widget_dir() -> std::path::PathBuf {
    // Under the target directory (Cargo's temporary directory for integration tests), not the
    // system's: nothing is left in /tmp by a test run.
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("demo-site-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    std::fs::write(dir.join("edgepay.js"), "export function mount() {}").expect("write");
    std::fs::write(dir.join("checkout_wasm_bg.wasm"), b"\0asm\x01\0\0\0").expect("write");
    std::fs::write(dir.join("secret.txt"), "not served").expect("write");
    dir
}

/// The next request that is not the shop's own read of a session (`GET /v1/sessions/{id}`, made
/// for the widget's `sessionData` after each session is known), within `wait`.
fn next_post(seen: &mpsc::Receiver<Seen>, wait: std::time::Duration) -> Option<Seen> {
    let deadline = std::time::Instant::now() + wait;
    loop {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        let request = seen.recv_timeout(left).ok()?;
        let read = request.head.starts_with("GET /v1/sessions/") && !request.head.starts_with("GET /v1/sessions/cs_cccccccccccccccccccccccc/events");
        if !read {
            return Some(request);
        }
    }
}

/// One request as the fake worker saw it.
#[derive(Debug)]
struct Seen {
    head: String,
    body: String,
}

/// A stand-in for the worker's `POST /v1/sessions`: answers every request with `status` and
/// `body`, and reports what it received.
fn fake_worker(status: &'static str, body: &'static str) -> (String, mpsc::Receiver<Seen>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { return };
            let mut reader = BufReader::new(stream.try_clone().expect("clone"));
            let mut head = String::new();
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
                head.push_str(&line);
            }
            let length = head
                .lines()
                .find_map(|l| l.to_ascii_lowercase().strip_prefix("content-length:").map(|v| v.trim().parse::<usize>().unwrap()))
                .unwrap_or(0);
            let mut request_body = vec![0; length];
            reader.read_exact(&mut request_body).expect("body");
            let _ = tx.send(Seen { head, body: String::from_utf8(request_body).expect("utf-8") });
            let answer = format!(
                "HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = stream.write_all(answer.as_bytes());
        }
    });
    (url, rx)
}

fn start_shop(worker: &str, dir: &std::path::Path, key_file: &std::path::Path) -> Server {
    Server::start(
        env!("CARGO_BIN_EXE_demo-site"),
        &[
            "--port", "0",
            "--worker-url", worker,
            "--widget-dir", dir.to_str().expect("utf-8"),
            "--merchant-api-key-file", key_file.to_str().expect("utf-8"),
        ],
    )
}

#[test]
fn each_shop_page_view_creates_a_session_and_hands_it_to_the_widget() {
    let dir = widget_dir();
    let key_file = dir.join("merchant-key");
    std::fs::write(&key_file, "sk_test_demo_key\n").expect("write");
    // A client secret with characters that must not break out of the page's attribute.
    let (worker, seen) = fake_worker(
        "201 Created",
        r#"{"id":"cs_aaaaaaaaaaaaaaaaaaaaaaaa","client_secret":"cs_aaaaaaaaaaaaaaaaaaaaaaaa_secret_\"><script>x","status":"open","amount":6800,"currency":"CNY","expires_at":1}"#,
    );
    let server = start_shop(&worker, &dir, &key_file);

    let page = http_get(&format!("{}/", server.url()));
    assert_eq!(page.status, 200, "{}", page.body);
    assert_eq!(page.header("cache-control"), Some("no-store"));
    assert!(page.body.contains(&format!(r#"data-endpoint="{worker}""#)), "{}", page.body);
    assert!(page.body.contains(r#"data-session="cs_aaaaaaaaaaaaaaaaaaaaaaaa""#), "{}", page.body);
    assert!(
        page.body.contains(r#"data-client-secret="cs_aaaaaaaaaaaaaaaaaaaaaaaa_secret_&quot;&gt;&lt;script&gt;x""#),
        "{}",
        page.body
    );
    assert!(!page.body.contains("<script>x"));
    assert!(page.body.contains("import { mount } from '/widget/edgepay.js'"));

    let request = next_post(&seen, std::time::Duration::from_secs(5)).expect("the shop called the worker");
    assert!(request.head.starts_with("POST /v1/sessions HTTP/1.1\r\n"), "{}", request.head);
    assert!(request.head.to_ascii_lowercase().contains("authorization: bearer sk_test_demo_key\r\n"), "{}", request.head);
    let body: serde_json::Value = serde_json::from_str(&request.body).expect("JSON body");
    assert_eq!(body["amount"], 6800, "the price is the shop's, never the page's");
    assert_eq!(body["currency"], "CNY");
    assert!(body["order_id"].as_str().is_some_and(|id| id.starts_with("demo-")), "{body}");
    assert!(body.get("expires_in").is_none());

    // Another view, another session; the demo's expiry knob goes to the worker.
    let again = http_get(&format!("{}/?expires_in=60", server.url()));
    assert_eq!(again.status, 200);
    let second = next_post(&seen, std::time::Duration::from_secs(5)).expect("second session");
    let second: serde_json::Value = serde_json::from_str(&second.body).expect("JSON body");
    assert_eq!(second["expires_in"], 60);
    assert_ne!(second["order_id"], body["order_id"]);

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
fn a_worker_refusal_shows_on_the_page_without_a_session() {
    let dir = widget_dir().join("refused");
    std::fs::create_dir_all(&dir).expect("dir");
    std::fs::write(dir.join("edgepay.js"), "export function mount() {}").expect("write");
    let key_file = dir.join("merchant-key");
    std::fs::write(&key_file, "sk_wrong").expect("write");
    let (worker, _seen) = fake_worker(
        "401 Unauthorized",
        r#"{"error":{"code":"unauthorized","message":"Missing or invalid credentials.","retryable":false}}"#,
    );
    let server = start_shop(&worker, &dir, &key_file);
    // The page streams out before the session exists, so it is a 200 that says what went wrong.
    let page = http_get(&format!("{}/", server.url()));
    assert_eq!(page.status, 200);
    assert!(page.body.contains("refused to create a session (401 Unauthorized, unauthorized)"), "{}", page.body);
    assert!(page.body.contains(r#"data-session="""#));
    assert!(!page.body.contains("sk_wrong"), "the key never reaches the page");

    // Nothing listens on port 9: the page says the worker could not be reached.
    let unreachable = start_shop("http://127.0.0.1:9", &dir, &key_file);
    let page = http_get(&format!("{}/", unreachable.url()));
    assert_eq!(page.status, 200);
    assert!(page.body.contains("could not reach the payment worker"), "{}", page.body);
}

#[test]
fn refuses_to_start_without_a_widget_build_or_a_merchant_key() {
    let empty = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("demo-site-empty-{}", std::process::id()));
    std::fs::create_dir_all(&empty).expect("temp dir");
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_demo-site"))
        .args(["--worker-url", "http://127.0.0.1:1", "--widget-dir", empty.to_str().expect("utf-8")])
        .env("EDGEPAY_MERCHANT_API_KEY", "sk_test")
        .output()
        .expect("runs");
    assert_eq!(output.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&output.stderr).contains("no widget build"));

    let mut without_key = std::process::Command::new(env!("CARGO_BIN_EXE_demo-site"));
    without_key
        .args(["--worker-url", "http://127.0.0.1:1", "--widget-dir", empty.to_str().expect("utf-8")])
        .env_remove("EDGEPAY_MERCHANT_API_KEY")
        .stdout(std::process::Stdio::null());
    let output = without_key.output().expect("runs");
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("merchant API key is required"));
}

const WEBHOOK_SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

fn now() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("clock").as_secs()
}

/// Delivers `body` to the shop's webhook endpoint as the worker does, signed with `secret`.
fn deliver(server: &Server, secret: &str, id: &str, timestamp: u64, body: &str) -> HttpResponse {
    let key = HmacKey::new(WebhookSecret::parse(secret, "test").expect("secret").key_bytes());
    let headers = block_on(webhook::sign_headers(&key, id, timestamp, body.as_bytes())).expect("sign");
    let mut pairs = headers.pairs().to_vec();
    pairs.push(("content-type", "application/json"));
    http_request("POST", &format!("{}/webhooks/edgepay", server.url()), &pairs, body.as_bytes())
}

fn event(id: &str, kind: &str, created_at: u64, session: &str, order: &str) -> String {
    serde_json::json!({
        "id": id, "type": kind, "created_at": created_at,
        "data": {"session_id": session, "order_id": order, "amount": 6800, "currency": "CNY"},
    })
    .to_string()
}

/// The row of `session` on the orders page.
fn row<'a>(page: &'a str, session: &str) -> &'a str {
    let start = page.find(&format!(r#"<tr data-session="{session}""#)).unwrap_or_else(|| panic!("no row for {session}: {page}"));
    let rest = &page[start..];
    &rest[..rest.find("</tr>").expect("row end")]
}

#[test]
fn webhooks_are_verified_applied_once_and_show_on_the_orders_page() {
    let dir = widget_dir().join("webhooks");
    std::fs::create_dir_all(&dir).expect("dir");
    std::fs::write(dir.join("edgepay.js"), "export function mount() {}").expect("write");
    let key_file = dir.join("merchant-key");
    std::fs::write(&key_file, "sk_test_demo_key").expect("write");
    let secret_file = dir.join("webhook-secret");
    std::fs::write(&secret_file, format!("{WEBHOOK_SECRET}\n")).expect("write");
    let (worker, _seen) = fake_worker(
        "201 Created",
        r#"{"id":"cs_bbbbbbbbbbbbbbbbbbbbbbbb","client_secret":"cs_bbbbbbbbbbbbbbbbbbbbbbbb_secret_x","status":"open","amount":6800,"currency":"CNY","expires_at":1}"#,
    );
    let server = Server::start(
        env!("CARGO_BIN_EXE_demo-site"),
        &[
            "--port", "0",
            "--worker-url", &worker,
            "--widget-dir", dir.to_str().expect("utf-8"),
            "--merchant-api-key-file", key_file.to_str().expect("utf-8"),
            "--webhook-secret-file", secret_file.to_str().expect("utf-8"),
        ],
    );
    let orders = http_get(&format!("{}/orders", server.url()));
    assert_eq!(orders.status, 200);
    assert!(orders.body.contains("Orders · 订单") && orders.body.contains("No orders yet"), "{}", orders.body);

    // A page view creates a session: the order is listed, open, with the shop's amount.
    assert_eq!(http_get(&format!("{}/", server.url())).status, 200);
    let orders = http_get(&format!("{}/orders", server.url())).body;
    let open = row(&orders, "cs_bbbbbbbbbbbbbbbbbbbbbbbb");
    assert!(open.contains(r#"data-status="open""#) && open.contains("¥68.00") && open.contains("demo-"), "{open}");
    assert!(open.contains(r#"<a href="/orders/cs_bbbbbbbbbbbbbbbbbbbbbbbb">"#), "{open}");
    assert!(!orders.contains("secret"), "no client secret on the orders page: {orders}");

    // A valid delivery is applied; its repeat answers 200 and changes nothing.
    let t = now();
    let paid = event("evt_paid1", "payment.succeeded", t, "cs_bbbbbbbbbbbbbbbbbbbbbbbb", "ignored");
    assert_eq!(deliver(&server, WEBHOOK_SECRET, "evt_paid1", t, &paid).status, 200);
    let orders = http_get(&format!("{}/orders", server.url())).body;
    assert!(row(&orders, "cs_bbbbbbbbbbbbbbbbbbbbbbbb").contains(r#"data-status="paid""#), "{orders}");
    assert!(orders.contains("paid · 已支付"), "{orders}");

    // An older event delivered late does not undo a newer status; a refund (newer) does change it.
    let expired = event("evt_expired1", "payment.expired", t - 10, "cs_bbbbbbbbbbbbbbbbbbbbbbbb", "x");
    assert_eq!(deliver(&server, WEBHOOK_SECRET, "evt_expired1", t, &expired).status, 200);
    let orders = http_get(&format!("{}/orders", server.url())).body;
    assert!(row(&orders, "cs_bbbbbbbbbbbbbbbbbbbbbbbb").contains(r#"data-status="paid""#), "{orders}");

    // The same webhook-id again, even with another body that verifies: nothing changes.
    let replay = event("evt_paid1", "refund.succeeded", t + 5, "cs_bbbbbbbbbbbbbbbbbbbbbbbb", "x");
    assert_eq!(deliver(&server, WEBHOOK_SECRET, "evt_paid1", t, &replay).status, 200);
    assert_eq!(deliver(&server, WEBHOOK_SECRET, "evt_paid1", t, &paid).status, 200);
    let orders = http_get(&format!("{}/orders", server.url())).body;
    assert!(row(&orders, "cs_bbbbbbbbbbbbbbbbbbbbbbbb").contains(r#"data-status="paid""#), "{orders}");
    let refund = event("evt_refund1", "refund.succeeded", t + 5, "cs_bbbbbbbbbbbbbbbbbbbbbbbb", "x");
    assert_eq!(deliver(&server, WEBHOOK_SECRET, "evt_refund1", t, &refund).status, 200);
    let orders = http_get(&format!("{}/orders", server.url())).body;
    assert!(row(&orders, "cs_bbbbbbbbbbbbbbbbbbbbbbbb").contains(r#"data-status="refunded""#), "{orders}");

    // Refused with 400 and without effect: another secret, a tampered body, a stale or future
    // timestamp, missing headers.
    let other = "whsec_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";
    let failed = event("evt_bad1", "payment.failed", t + 9, "cs_bbbbbbbbbbbbbbbbbbbbbbbb", "x");
    assert_eq!(deliver(&server, other, "evt_bad1", t, &failed).status, 400);
    let key = HmacKey::new(WebhookSecret::parse(WEBHOOK_SECRET, "t").expect("secret").key_bytes());
    let signed = block_on(webhook::sign_headers(&key, "evt_bad2", t, failed.as_bytes())).expect("sign");
    let tampered = failed.replace("6800", "1");
    let answer = http_request("POST", &format!("{}/webhooks/edgepay", server.url()), &signed.pairs(), tampered.as_bytes());
    assert_eq!(answer.status, 400);
    assert_eq!(deliver(&server, WEBHOOK_SECRET, "evt_bad3", t - 301, &failed).status, 400, "stale");
    assert_eq!(deliver(&server, WEBHOOK_SECRET, "evt_bad4", t + 400, &failed).status, 400, "from the future");
    let bare = http_request("POST", &format!("{}/webhooks/edgepay", server.url()), &[], failed.as_bytes());
    assert_eq!(bare.status, 400);
    let orders = http_get(&format!("{}/orders", server.url())).body;
    assert!(row(&orders, "cs_bbbbbbbbbbbbbbbbbbbbbbbb").contains(r#"data-status="refunded""#), "{orders}");
    // A refused id was not remembered: the genuine delivery with it is still applied.
    assert_eq!(deliver(&server, WEBHOOK_SECRET, "evt_bad1", t, &failed).status, 200);
    let orders = http_get(&format!("{}/orders", server.url())).body;
    assert!(row(&orders, "cs_bbbbbbbbbbbbbbbbbbbbbbbb").contains(r#"data-status="failed""#), "{orders}");

    // An event for a session the shop did not create in this run is listed too, escaped.
    let hostile = event("evt_hostile", "payment.succeeded", t, "cs_<b>x</b>", "<script>alert(1)</script>");
    assert_eq!(deliver(&server, WEBHOOK_SECRET, "evt_hostile", t, &hostile).status, 200);
    let orders = http_get(&format!("{}/orders", server.url())).body;
    assert!(!orders.contains("<script>alert") && !orders.contains("<b>x"), "{orders}");
    assert!(orders.contains("&lt;script&gt;alert(1)&lt;/script&gt;"), "{orders}");
    assert!(!orders.contains(r#"href="/orders/cs_&lt;"#), "no link for an id that is not a session id");
}

#[test]
fn the_order_page_shows_the_audit_trail_escaped_without_the_key() {
    let dir = widget_dir().join("audit");
    std::fs::create_dir_all(&dir).expect("dir");
    std::fs::write(dir.join("edgepay.js"), "export function mount() {}").expect("write");
    let key_file = dir.join("merchant-key");
    std::fs::write(&key_file, "sk_test_audit_key").expect("write");
    let (worker, seen) = fake_worker(
        "200 OK",
        r#"{"events":[{"at_ms":1700000000000,"kind":"attempt.started","out_trade_no":"EPAAAA","detail":"alipay_qr"},{"at_ms":1700000001000,"kind":"callback.refused","detail":"<img src=x onerror=alert(1)>"}],"alarm_at":null}"#,
    );
    let server = start_shop(&worker, &dir, &key_file);
    let page = http_get(&format!("{}/orders/cs_cccccccccccccccccccccccc", server.url()));
    assert_eq!(page.status, 200, "{}", page.body);
    let request = seen.recv_timeout(std::time::Duration::from_secs(5)).expect("the shop asked the worker");
    assert!(request.head.starts_with("GET /v1/sessions/cs_cccccccccccccccccccccccc/events HTTP/1.1\r\n"), "{}", request.head);
    assert!(request.head.to_ascii_lowercase().contains("authorization: bearer sk_test_audit_key\r\n"));
    assert!(page.body.contains("Audit trail · 审计记录"), "{}", page.body);
    assert!(page.body.contains("attempt.started") && page.body.contains("alipay_qr") && page.body.contains("EPAAAA"), "{}", page.body);
    assert!(page.body.contains("&lt;img src=x onerror=alert(1)&gt;") && !page.body.contains("<img"), "{}", page.body);
    assert!(!page.body.contains("sk_test_audit_key"));
    assert_eq!(http_get(&format!("{}/orders/cs_%3Cb%3E", server.url())).status, 404);
    // Without a webhook secret, deliveries are refused (503), not accepted unverified.
    let answer = http_request("POST", &format!("{}/webhooks/edgepay", server.url()), &[], b"{}");
    assert_eq!(answer.status, 503);
}

const SESSION_ANSWER: &str = r#"{"id":"cs_cccccccccccccccccccccccc","client_secret":"cs_cccccccccccccccccccccccc_secret_x","status":"open","amount":1,"currency":"CNY","expires_at":1}"#;

fn session_request(seen: &mpsc::Receiver<Seen>) -> serde_json::Value {
    let request = next_post(seen, std::time::Duration::from_secs(5)).expect("the shop called the worker");
    assert!(request.head.starts_with("POST /v1/sessions HTTP/1.1\r\n"), "{}", request.head);
    serde_json::from_str(&request.body).expect("JSON body")
}

#[test]
fn the_cart_is_a_cookie_of_product_ids_and_the_total_is_the_servers() {
    let dir = widget_dir();
    let key_file = dir.join("merchant-key-cart");
    std::fs::write(&key_file, "sk_test_demo_key\n").expect("write");
    let (worker, seen) = fake_worker("201 Created", SESSION_ANSWER);
    let server = start_shop(&worker, &dir, &key_file);
    let url = server.url();

    // Every product is listed with its price and an add form.
    let page = http_get(&format!("{url}/"));
    for (id, price) in [("oolong", "¥68.00"), ("longjing", "¥128.00"), ("puer", "¥99.00"), ("gaiwan", "¥45.00")] {
        let item = page.body.split(&format!(r#"<li data-product="{id}">"#)).nth(1).expect(id);
        assert!(item.split("</li>").next().is_some_and(|li| li.contains(price) && li.contains(r#"action="/cart""#)), "{id}: {item}");
    }
    assert_eq!(session_request(&seen)["amount"], 6800, "a new visitor's cart: one oolong");

    // Adding to the cart: a cookie of ids and quantities, back to the shop.
    let cookie_of = |answer: &HttpResponse| answer.header("set-cookie").expect("set-cookie").split(';').next().expect("pair").to_owned();
    let form = [("content-type", "application/x-www-form-urlencoded")];
    let added = http_request("POST", &format!("{url}/cart"), &form, b"product=puer&quantity=2");
    assert_eq!(added.status, 303);
    assert_eq!(added.header("location"), Some("/"));
    let set_cookie = added.header("set-cookie").expect("cookie");
    assert!(set_cookie.contains("HttpOnly") && set_cookie.contains("SameSite=Lax"), "{set_cookie}");
    let cookie = cookie_of(&added);
    assert_eq!(cookie, "edgepay_cart=oolong:1|puer:2");

    // The page shows the cart; the session is for the server's total, whatever a cookie says.
    let page = http_request("GET", &format!("{url}/"), &[("cookie", &cookie)], b"");
    assert!(page.body.contains(r#"<tr data-product="puer" data-quantity="2">"#), "{}", page.body);
    assert!(page.body.contains(r#"data-total="26600""#), "{}", page.body);
    let body = session_request(&seen);
    assert_eq!(body["amount"], 6800 + 2 * 9900);
    assert_eq!(body["description"], "3 items: 凤凰单丛 ×1, 普洱熟茶饼 ×2");
    assert_eq!(body["metadata"]["cart"], "oolong:1|puer:2");
    let forged = "edgepay_cart=puer:2|oolong:1:price=1|nothing:5|gaiwan:-3";
    http_request("GET", &format!("{url}/"), &[("cookie", forged)], b"");
    assert_eq!(session_request(&seen)["amount"], 2 * 9900, "unknown products and bad quantities are dropped");

    // Quantity changes, removal, an emptied cart (no session), an unknown product (refused).
    let changed = http_request("POST", &format!("{url}/cart?ua=wechat"), &[form[0], ("cookie", &cookie)], b"product=oolong&quantity=0");
    assert_eq!(changed.header("location"), Some("/?ua=wechat"), "the preview is kept");
    let cookie = cookie_of(&changed);
    assert_eq!(cookie, "edgepay_cart=puer:2");
    let capped = http_request("POST", &format!("{url}/cart"), &[form[0], ("cookie", &cookie)], b"product=puer&quantity=500");
    assert_eq!(cookie_of(&capped), "edgepay_cart=puer:20");
    let emptied = http_request("POST", &format!("{url}/cart"), &[form[0], ("cookie", &cookie)], b"product=puer&quantity=0");
    let cookie = cookie_of(&emptied);
    assert_eq!(cookie, "edgepay_cart=-");
    let page = http_request("GET", &format!("{url}/"), &[("cookie", &cookie)], b"");
    assert!(page.body.contains("Your cart is empty") && page.body.contains(r#"data-session="""#), "{}", page.body);
    assert!(next_post(&seen, std::time::Duration::from_millis(300)).is_none(), "no session for an empty cart");
    let unknown = http_request("POST", &format!("{url}/cart"), &form, b"product=caviar&quantity=1");
    assert_eq!(unknown.status, 400);
}

#[test]
fn a_preview_relays_the_widgets_calls_as_the_environment_and_nothing_else() {
    let dir = widget_dir();
    let key_file = dir.join("merchant-key-preview");
    std::fs::write(&key_file, "sk_test_demo_key\n").expect("write");
    let (worker, seen) = fake_worker("200 OK", SESSION_ANSWER);
    let server = start_shop(&worker, &dir, &key_file);
    let url = server.url();

    let page = http_get(&format!("{url}/?ua=wechat"));
    assert!(page.body.contains(r#"data-endpoint="/preview/wechat""#), "{}", page.body);
    assert!(page.body.contains("Previewing as WeChat") && page.body.contains("MicroMessenger/8.0.35.2360"), "{}", page.body);
    let _ = session_request(&seen);

    let read = http_request(
        "GET",
        &format!("{url}/preview/wechat/v1/sessions/cs_cccccccccccccccccccccccc"),
        &[("authorization", "Bearer cs_cccccccccccccccccccccccc_secret_x"), ("user-agent", "HeadlessChrome")],
        b"",
    );
    assert_eq!(read.status, 200);
    assert_eq!(read.body, SESSION_ANSWER, "the worker's answer passes through");
    let relayed = seen.recv_timeout(std::time::Duration::from_secs(5)).expect("relayed");
    let head = relayed.head.to_ascii_lowercase();
    assert!(head.starts_with("get /v1/sessions/cs_cccccccccccccccccccccccc http/1.1"), "{head}");
    assert!(head.contains("authorization: bearer cs_cccccccccccccccccccccccc_secret_x\r\n"), "{head}");
    assert!(head.contains("micromessenger/8.0.35.2360") && !head.contains("headlesschrome"), "{head}");
    assert!(head.contains(r#"x-edgepay-hints: {"max_touch_points":5,"platform":"linux armv8l"}"#), "{head}");

    let paid = http_request(
        "POST",
        &format!("{url}/preview/miniprogram/v1/sessions/cs_cccccccccccccccccccccccc/pay"),
        &[("content-type", "application/json"), ("authorization", "Bearer x")],
        br#"{"method":"wechat_miniprogram"}"#,
    );
    assert_eq!(paid.status, 200);
    let relayed = seen.recv_timeout(std::time::Duration::from_secs(5)).expect("relayed");
    assert!(relayed.head.starts_with("POST /v1/sessions/cs_cccccccccccccccccccccccc/pay HTTP/1.1"), "{}", relayed.head);
    assert!(relayed.head.contains(r#""wxjs_environment":"miniprogram""#) && relayed.head.contains("MiniProgramEnv/android"), "{}", relayed.head);
    assert_eq!(relayed.body, r#"{"method":"wechat_miniprogram"}"#);

    // Not an open proxy: only the widget's two calls, only known environments.
    for (method, path) in [
        ("GET", "/preview/wechat/v1/health"),
        ("POST", "/preview/wechat/v1/sessions"),
        ("POST", "/preview/wechat/v1/refunds"),
        ("GET", "/preview/wechat/v1/sessions/cs_cccccccccccccccccccccccc/events"),
        ("GET", "/preview/nokia/v1/sessions/cs_cccccccccccccccccccccccc"),
        ("GET", "/preview/wechat/v1/sessions/..%2F..%2Fv1%2Fhealth"),
    ] {
        assert_eq!(http_request(method, &format!("{url}{path}"), &[], b"").status, 404, "{method} {path}");
    }
    assert!(seen.recv_timeout(std::time::Duration::from_millis(300)).is_err(), "nothing else reached the worker");

    // An unknown preview says which exist, and makes no session.
    let page = http_get(&format!("{url}/?ua=nokia"));
    assert!(page.body.contains("Unknown preview ?ua=nokia: use one of desktop, phone, wechat, alipay, miniprogram."), "{}", page.body);
    assert!(seen.recv_timeout(std::time::Duration::from_millis(300)).is_err());
}

#[test]
fn the_environments_page_has_a_checkout_per_environment() {
    let dir = widget_dir();
    let key_file = dir.join("merchant-key-envs");
    std::fs::write(&key_file, "sk_test_demo_key\n").expect("write");
    let (worker, seen) = fake_worker("201 Created", SESSION_ANSWER);
    let server = start_shop(&worker, &dir, &key_file);
    let page = http_get(&format!("{}/environments", server.url()));
    assert_eq!(page.status, 200);
    for (name, expected) in [
        ("desktop", "desktop_browser"),
        ("phone", "mobile_browser"),
        ("wechat", "wechat_inapp"),
        ("alipay", "alipay_inapp"),
        ("miniprogram", "wechat_miniprogram"),
    ] {
        assert!(page.body.contains(&format!(r#"data-env="{name}" data-expected="{expected}""#)), "{name}");
        assert!(page.body.contains(&format!(r#"id="widget-{name}" data-endpoint="/preview/{name}" data-session="cs_cccccccccccccccccccccccc""#)), "{name}");
    }
    let orders: Vec<String> = (0..5).map(|_| session_request(&seen)["order_id"].as_str().expect("order id").to_owned()).collect();
    assert_eq!(orders.iter().collect::<std::collections::HashSet<_>>().len(), 5, "one session per environment");
}

#[test]
fn a_browser_coming_back_to_the_checkout_gets_the_same_session_until_its_cart_changes() {
    let dir = widget_dir();
    let key_file = dir.join("merchant-key-checkout");
    std::fs::write(&key_file, "sk_test_demo_key\n").expect("write");
    let expires_at = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("clock").as_secs() + 1800;
    let body: &'static str = Box::leak(
        format!(r#"{{"id":"cs_bbbbbbbbbbbbbbbbbbbbbbbb","client_secret":"cs_bbbbbbbbbbbbbbbbbbbbbbbb_secret","status":"open","amount":6800,"currency":"CNY","expires_at":{expires_at}}}"#)
            .into_boxed_str(),
    );
    let (worker, seen) = fake_worker("201 Created", body);
    let server = start_shop(&worker, &dir, &key_file);
    let url = format!("{}/", server.url());
    let none = std::time::Duration::from_millis(500);

    // First view: a session, and a checkout cookie naming this browser's checkout.
    let first = http_get(&url);
    assert_eq!(first.status, 200);
    next_post(&seen, std::time::Duration::from_secs(5)).expect("the first session");
    // The widget's sessionData: the session as the worker answers its read (here the fake's
    // one answer), in the page, escaped.
    assert!(first.body.contains(r#"data-session-data="{&quot;id&quot;:&quot;cs_bbbbbbbbbbbbbbbbbbbbbbbb&quot;"#), "{}", first.body);
    let set_cookie = first.header("set-cookie").expect("a checkout cookie");
    assert!(set_cookie.contains("HttpOnly") && set_cookie.contains("SameSite=Lax"), "{set_cookie}");
    let cookie = set_cookie.split(';').next().expect("name=value").to_owned();
    let id = cookie.strip_prefix("edgepay_demo_checkout=").expect("the checkout cookie");
    assert!(id.len() == 32 && id.bytes().all(|b| b.is_ascii_hexdigit()), "{id}");

    // Back from a provider's page, same cart: the same session, no call to the worker.
    let back = http_request("GET", &url, &[("Cookie", &cookie)], b"");
    assert!(back.body.contains(r#"data-session="cs_bbbbbbbbbbbbbbbbbbbbbbbb""#), "{}", back.body);
    assert!(back.header("set-cookie").is_none());
    assert!(next_post(&seen, none).is_none(), "no second session for the same checkout");

    // Another cart: a new session for it.
    let changed = http_request("GET", &url, &[("Cookie", &format!("{cookie}; edgepay_cart=puer:2"))], b"");
    assert_eq!(changed.status, 200);
    let request = next_post(&seen, std::time::Duration::from_secs(5)).expect("a session for the new cart");
    let request: serde_json::Value = serde_json::from_str(&request.body).expect("JSON");
    assert_eq!(request["amount"], 2 * 9900);

    // Another browser (no cookie, or one this shop never gave out) gets its own session.
    http_request("GET", &url, &[("Cookie", "edgepay_demo_checkout=00000000000000000000000000000000")], b"");
    next_post(&seen, std::time::Duration::from_secs(5)).expect("an unknown checkout gets a new session");
    // The demo's expiry knob always asks for a new session.
    http_request("GET", &format!("{url}?expires_in=60"), &[("Cookie", &cookie)], b"");
    next_post(&seen, std::time::Duration::from_secs(5)).expect("?expires_in= makes a new session");
}

/// A session as the worker answers both its creation and its read (the fake answers each request alike).
fn drawable_session(status: &str) -> &'static str {
    let expires_at = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("clock").as_secs() + 1800;
    Box::leak(
        format!(
            r#"{{"id":"cs_cccccccccccccccccccccccc","client_secret":"cs_cccccccccccccccccccccccc_secret","status":"{status}","amount":6800,"currency":"CNY","expires_at":{expires_at},"description":"Tea <b>&</b>","environment":{{"environment":"desktop_browser","device":"desktop","os":"windows"}},"methods":["wechat_native","alipay_qr"],"blocked":[{{"method":"wechat_h5","reason":"mobile_only"}}]}}"#
        )
        .into_boxed_str(),
    )
}

#[test]
fn the_checkout_page_draws_the_widgets_method_list_before_the_widget_loads() {
    let dir = widget_dir();
    let key_file = dir.join("merchant-key-drawn");
    std::fs::write(&key_file, "sk_test_demo_key\n").expect("write");
    let (worker, _seen) = fake_worker("200 OK", drawable_session("open"));
    let server = start_shop(&worker, &dir, &key_file);
    let url = format!("{}/", server.url());

    let page = http_request("GET", &url, &[("Accept-Language", "zh-CN,zh;q=0.9,en;q=0.8")], b"");
    assert_eq!(page.status, 200);
    let drawn = page.body.split_once(r#"<template shadowrootmode="open">"#).expect("a declarative shadow root").1;
    let drawn = drawn.split_once("</template>").expect("closed").0;
    assert!(drawn.starts_with("<style>") && drawn.contains(r#"<div class="ep-host" data-prerendered="">"#), "{drawn}");
    let buttons: Vec<&str> = drawn.split(r#"<button type="button" data-method=""#).skip(1).filter_map(|b| b.split('"').next()).collect();
    assert_eq!(buttons, ["wechat_native", "alipay_qr"], "the worker's methods for this shopper, in its order");
    assert!(drawn.contains(r#"data-reason="mobile_only""#), "blocked methods are shown with their reason");
    assert!(drawn.contains(r#"<section lang="zh-CN""#), "in the shopper's language: {drawn}");
    assert!(drawn.contains("Tea &lt;b&gt;&amp;&lt;/b&gt;") && !drawn.contains("<b>"), "the description is escaped: {drawn}");
    assert!(drawn.contains("¥68.00"));

    let english = http_request("GET", &url, &[("Accept-Language", "en-GB,en;q=0.9")], b"");
    assert!(english.body.contains(r#"<section lang="en""#), "{}", english.body);
    // Without the server's read of the session there is nothing to draw.
    let without = http_get(&format!("{url}?session_data=0"));
    assert_eq!(without.status, 200);
    assert!(!without.body.contains("shadowrootmode"));

    // A session the widget would not offer methods for is not drawn as a list.
    let (paid_worker, _paid_seen) = fake_worker("200 OK", drawable_session("paid"));
    let paid_server = start_shop(&paid_worker, &dir, &key_file);
    let paid = http_get(&format!("{}/", paid_server.url()));
    assert_eq!(paid.status, 200);
    assert!(paid.body.contains(r#"data-session="cs_cccccccccccccccccccccccc""#));
    assert!(!paid.body.contains("shadowrootmode"), "{}", paid.body);
}

#[test]
fn a_new_session_is_created_with_the_shoppers_browser_and_its_view_saves_the_read() {
    let dir = widget_dir();
    let key_file = dir.join("merchant-key-view");
    std::fs::write(&key_file, "sk_test_demo_key\n").expect("write");
    // The worker's creation answer with `view` (the session as the shopper's browser reads it).
    let view = drawable_session("open");
    let answer: &'static str = Box::leak(
        format!(r#"{{"id":"cs_cccccccccccccccccccccccc","client_secret":"cs_cccccccccccccccccccccccc_secret","status":"open","amount":6800,"currency":"CNY","expires_at":1,"view":{view}}}"#)
            .into_boxed_str(),
    );
    let (worker, seen) = fake_worker("201 Created", answer);
    let server = start_shop(&worker, &dir, &key_file);
    let user_agent = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36";

    let page = http_request("GET", &format!("{}/", server.url()), &[("User-Agent", user_agent)], b"");
    assert_eq!(page.status, 200);
    let created = seen.recv_timeout(std::time::Duration::from_secs(5)).expect("the creation");
    assert!(created.head.starts_with("POST /v1/sessions HTTP/1.1"), "{}", created.head);
    let body: serde_json::Value = serde_json::from_str(&created.body).expect("JSON");
    assert_eq!(body["shopper"], serde_json::json!({ "user_agent": user_agent }), "{body}");
    // The page has the view as the widget's sessionData, and the list drawn from it.
    let data = page.body.split_once(r#"data-session-data=""#).expect("sessionData").1.split('"').next().expect("closed");
    assert!(data.contains("&quot;id&quot;:&quot;cs_cccccccccccccccccccccccc&quot;") && data.contains("&quot;methods&quot;:[&quot;wechat_native&quot;"), "{data}");
    assert!(page.body.contains(r#"<template shadowrootmode="open">"#));
    // And no second call: the shop did not read the session back.
    assert!(seen.recv_timeout(std::time::Duration::from_millis(500)).is_err(), "no GET of the session after its creation");

    // Previews and ?session_data=0 do not send the shopper.
    http_get(&format!("{}/?session_data=0", server.url()));
    let plain = seen.recv_timeout(std::time::Duration::from_secs(5)).expect("a creation");
    let plain: serde_json::Value = serde_json::from_str(&plain.body).expect("JSON");
    assert!(plain.get("shopper").is_none(), "{plain}");
}
