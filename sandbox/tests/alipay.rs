//! The sandbox's Alipay gateway against the real binary: requests signed with payment-core and the
//! app key from `<state-dir>/keys.json`; answers, returns and notifications verified with the
//! platform's public key, as a merchant would.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod merchant;

use std::time::Duration;

use payment_core::alipay::response::verify_signed_parts;
use payment_core::alipay::sign::{sign, sign_content};
use payment_core::alipay::{
    parse_notify, sign_request, verify_response, Merchant, Method, Order, Outcome, PrecreateResponse, QueryResponse,
    RefundResponse, Request, TradeRef, Urls,
};
use payment_core::beijing_time::BeijingTime;
use payment_core::form::{encode_pairs, parse_urlencoded};
use payment_core::ids::{AppId, OutRefundNo, OutTradeNo};
use payment_core::money::Amount;
use payment_core::native::{block_on, RsaPrivateKey, RsaPublicKey};
use payment_core::Error;
use serde_json::Value;
use merchant::{http_request, now, tamper, unique, wait_for, HttpResponse, Listener, Sandbox};

const FORM: (&str, &str) = ("content-type", "application/x-www-form-urlencoded;charset=utf-8");

/// A merchant of the sandbox's Alipay app.
struct Alipay {
    sandbox: Sandbox,
    app_id: String,
    seller_id: String,
    app_key: RsaPrivateKey,
    platform: RsaPublicKey,
}

impl Alipay {
    fn start() -> Self {
        let sandbox = Sandbox::start();
        let keys = &sandbox.keys["alipay"];
        Self {
            app_id: keys["app_id"].as_str().unwrap().to_owned(),
            seller_id: keys["seller_id"].as_str().unwrap().to_owned(),
            app_key: RsaPrivateKey::from_text(keys["app_private_key"].as_str().unwrap(), "app key").unwrap(),
            platform: RsaPublicKey::from_text(keys["platform_public_key"].as_str().unwrap(), "alipay key").unwrap(),
            sandbox,
        }
    }

    fn gateway(&self) -> String {
        format!("{}/gateway.do", self.sandbox.url())
    }

    fn merchant(&self) -> Merchant {
        Merchant { app_id: AppId::new(&self.app_id).unwrap(), gateway: self.gateway(), cert_serials: None }
    }

    /// Common parameters, `extra` and `biz_content`, signed with `key`, timestamp as given.
    fn params_with(&self, method: &str, biz: &str, extra: &[(&str, &str)], timestamp: &str, key: &RsaPrivateKey) -> Vec<(String, String)> {
        let mut params: Vec<(String, String)> = [
            ("app_id", self.app_id.as_str()),
            ("method", method),
            ("format", "JSON"),
            ("charset", "utf-8"),
            ("sign_type", "RSA2"),
            ("timestamp", timestamp),
            ("version", "1.0"),
        ]
        .into_iter()
        .chain(extra.iter().copied())
        .chain([("biz_content", biz)])
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
        resign(&mut params, key);
        params
    }

    fn params(&self, method: &str, biz: &str) -> Vec<(String, String)> {
        self.params_with(method, biz, &[], &beijing(now()), &self.app_key)
    }

    /// POSTs every parameter in the body, to the gateway URL with `?charset=utf-8` as SDKs do.
    fn post(&self, params: &[(String, String)]) -> HttpResponse {
        self.post_to(&format!("{}?charset=utf-8", self.gateway()), params)
    }

    fn post_to(&self, url: &str, params: &[(String, String)]) -> HttpResponse {
        let body = encode_pairs(params.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        http_request("POST", url, &[FORM], body.as_bytes())
    }

    /// The verified member of a JSON answer to `method` (its `…_response` or `error_response`).
    fn answer(&self, response: &HttpResponse, method: &str) -> Value {
        assert_eq!(response.status, 200, "{}", response.body);
        let key = format!("{}_response", method.replace('.', "_"));
        let parts = block_on(verify_signed_parts(&response.body, &key, &self.platform))
            .unwrap_or_else(|e| panic!("answer does not verify ({e:?}): {}", response.body));
        serde_json::from_str(parts.content).unwrap()
    }

    fn call(&self, method: &str, biz: &str) -> Value {
        let response = self.post(&self.params(method, biz));
        self.answer(&response, method)
    }

    fn precreate(&self, no: &str, amount: &str, notify_url: Option<&str>) -> Value {
        let biz = format!(r#"{{"out_trade_no":"{no}","total_amount":"{amount}","subject":"Tea 龙井"}}"#);
        let extra: Vec<(&str, &str)> = notify_url.map(|u| ("notify_url", u)).into_iter().collect();
        let response = self.post(&self.params_with("alipay.trade.precreate", &biz, &extra, &beijing(now()), &self.app_key));
        self.answer(&response, "alipay.trade.precreate")
    }

    fn pay(&self, no: &str) {
        let response = http_request("POST", &format!("{}/sandbox/control/orders/alipay/{no}/pay", self.sandbox.url()), &[], b"");
        assert_eq!(response.status, 200, "{}", response.body);
    }
}

/// (Re)signs `params`: drops any `sign`, appends one over the rest.
fn resign(params: &mut Vec<(String, String)>, key: &RsaPrivateKey) {
    params.retain(|(k, _)| k != "sign");
    let content = sign_content(params.iter().map(|(k, v)| (k.as_str(), v.as_str())), &["sign"]);
    params.push(("sign".to_owned(), block_on(sign(key, &content)).unwrap()));
}

fn beijing(unix: u64) -> String {
    BeijingTime::from_unix(unix).unwrap().to_alipay()
}

fn sub_code(answer: &Value) -> &str {
    answer["sub_code"].as_str().unwrap_or("")
}

fn order(no: &str, fen: u64) -> Order {
    Order { out_trade_no: OutTradeNo::new(no).unwrap(), total_amount: Amount::from_fen(fen).unwrap(), subject: "Tea 龙井".into(), expiry: None }
}

/// The query string of a `Location`, decoded once.
fn location_params(location: &str) -> Vec<(String, String)> {
    parse_urlencoded(location.split_once('?').map_or("", |(_, q)| q).as_bytes()).unwrap()
}

#[test]
fn each_method_is_accepted_and_answers_verify_with_payment_core() {
    let alipay = Alipay::start();
    let merchant = alipay.merchant();
    let no = unique("EPAMETH");
    let signed = |request: &Request, urls: &Urls| block_on(sign_request(&merchant, request, urls, now(), &alipay.app_key)).unwrap();

    // precreate, as the worker sends it: POST form, typed answer verified over the raw body.
    let post = signed(&Request::Precreate(order(&no, 8888)), &Urls::default()).post();
    let response = http_request("POST", &post.url, &[FORM], post.body.as_bytes());
    let Outcome::Success(qr) = block_on(verify_response::<PrecreateResponse>(&response.body, Method::Precreate, &alipay.platform)).unwrap() else {
        panic!("precreate refused: {}", response.body)
    };
    assert_eq!(qr.out_trade_no.as_str(), no);
    // The code opens the trade's cashier when "scanned".
    let scan = http_request("GET", &format!("{}/sandbox/scan?data={}", alipay.sandbox.url(), encode_pairs([("", qr.qr_code.as_str())]).trim_start_matches('=')), &[], b"");
    assert!(scan.header("location").is_some_and(|l| l.ends_with(&format!("/sandbox/cashier/alipay/{no}"))), "{scan:?}");
    let direct = http_request("GET", &qr.qr_code, &[], b"");
    assert!(direct.header("location").is_some_and(|l| l.ends_with(&format!("/sandbox/cashier/alipay/{no}"))), "{direct:?}");

    // query: waiting, with a trade number.
    let trade = TradeRef::OutTradeNo(OutTradeNo::new(&no).unwrap());
    let post = signed(&Request::Query(trade.clone()), &Urls::default()).post();
    let response = http_request("POST", &post.url, &[FORM], post.body.as_bytes());
    let Outcome::Success(query) = block_on(verify_response::<QueryResponse>(&response.body, Method::Query, &alipay.platform)).unwrap() else {
        panic!("query refused: {}", response.body)
    };
    assert_eq!(query.trade_status.as_str(), "WAIT_BUYER_PAY");
    assert_eq!(query.total_amount.fen(), 8888);

    // close, then the trade is closed; a refund of an unpaid trade is refused.
    let closed = alipay.call("alipay.trade.close", &format!(r#"{{"trade_no":"{}"}}"#, query.trade_no.as_str()));
    assert_eq!(closed["code"], "10000", "{closed}");
    assert_eq!(closed["out_trade_no"], no.as_str());
    let again = alipay.call("alipay.trade.query", &format!(r#"{{"out_trade_no":"{no}"}}"#));
    assert_eq!(again["trade_status"], "TRADE_CLOSED");
    let post = signed(
        &Request::Refund { trade, refund_amount: Amount::from_fen(1).unwrap(), out_request_no: OutRefundNo::new("R1").unwrap(), refund_reason: None },
        &Urls::default(),
    )
    .post();
    let response = http_request("POST", &post.url, &[FORM], post.body.as_bytes());
    let Outcome::Failure(error) = block_on(verify_response::<RefundResponse>(&response.body, Method::Refund, &alipay.platform)).unwrap() else {
        panic!("refund of an unpaid trade accepted: {}", response.body)
    };
    assert_eq!(error.sub_code.as_deref(), Some("ACQ.TRADE_STATUS_ERROR"));

    // page pay as a GET URL and wap pay as a POSTed form both open the cashier.
    let urls = Urls { notify_url: Some("https://shop.example/notify".into()), return_url: Some("https://shop.example/return".into()) };
    let page_no = unique("EPAPAGE");
    let page = http_request("GET", &signed(&Request::PagePay(order(&page_no, 100)), &urls).page_url(), &[], b"");
    assert_eq!(page.status, 302, "{}", page.body);
    assert_eq!(page.header("location"), Some(format!("{}/sandbox/cashier/alipay/{page_no}", alipay.sandbox.url()).as_str()));
    let wap_no = unique("EPAWAP");
    let form = signed(&Request::WapPay { order: order(&wap_no, 100), quit_url: None }, &urls).page_form();
    let body = encode_pairs(form.fields.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    let wap = http_request("POST", &form.action, &[FORM], body.as_bytes());
    assert_eq!(wap.status, 302, "{}", wap.body);
    let cashier = http_request("GET", wap.header("location").unwrap(), &[], b"");
    assert!(cashier.body.contains("data-amount-fen=\"100\""), "{}", cashier.body);
}

#[test]
fn a_one_byte_change_to_any_signed_parameter_is_refused() {
    let alipay = Alipay::start();
    let no = unique("EPATAMPER");
    let biz = format!(r#"{{"out_trade_no":"{no}","total_amount":"12.34","subject":"Tea"}}"#);
    let params = alipay.params_with("alipay.trade.precreate", &biz, &[("notify_url", "https://shop.example/notify")], &beijing(now()), &alipay.app_key);
    let mut refused = 0;
    for (i, (key, value)) in params.iter().enumerate() {
        for at in [0, value.len() / 2, value.len() - 1] {
            let mut tampered = params.clone();
            tampered[i].1 = tamper(value, at);
            let response = alipay.post_to(&alipay.gateway(), &tampered);
            let answer = alipay.answer(&response, "alipay.trade.precreate");
            let expected = match key.as_str() {
                "app_id" => "isv.invalid-app-id",
                "method" => "isv.invalid-method",
                "sign_type" => "isv.invalid-signature-type",
                _ => "isv.invalid-signature",
            };
            assert_eq!(sub_code(&answer), expected, "{key} changed at {at}: {answer}");
            assert_ne!(answer["code"], "10000");
            refused += 1;
        }
    }
    assert_eq!(refused, params.len() * 3);
    // The same request untouched is accepted.
    let answer = alipay.answer(&alipay.post(&params), "alipay.trade.precreate");
    assert_eq!(answer["code"], "10000", "{answer}");
}

#[test]
fn gateway_refusals_use_alipays_codes_and_are_signed() {
    let alipay = Alipay::start();
    let biz = format!(r#"{{"out_trade_no":"{}"}}"#, unique("EPAREF"));
    let method = "alipay.trade.query";
    let check = |params: &[(String, String)], code: &str, sub: &str| {
        let answer = alipay.answer(&alipay.post(params), method);
        assert_eq!((answer["code"].as_str().unwrap(), sub_code(&answer)), (code, sub), "{answer}");
    };
    // Another app id, even correctly signed.
    let mut params = alipay.params(method, &biz);
    params[0].1 = "2021000000009999".into();
    resign(&mut params, &alipay.app_key);
    check(&params, "40002", "isv.invalid-app-id");
    // Signed with another key (Alipay's own, here).
    let other_key = RsaPrivateKey::from_text(alipay.sandbox.keys["alipay"]["platform_private_key"].as_str().unwrap(), "k").unwrap();
    check(&alipay.params_with(method, &biz, &[], &beijing(now()), &other_key), "40002", "isv.invalid-signature");
    // No signature; RSA (SHA-1) instead of RSA2; no method; unknown method (in error_response).
    let mut params = alipay.params(method, &biz);
    params.retain(|(k, _)| k != "sign");
    check(&params, "40001", "isv.missing-signature");
    let mut params = alipay.params(method, &biz);
    params[4].1 = "RSA".into();
    resign(&mut params, &alipay.app_key);
    check(&params, "40002", "isv.invalid-signature-type");
    let mut params = alipay.params(method, &biz);
    params.retain(|(k, _)| k != "method");
    let answer = alipay.answer(&alipay.post(&params), method);
    assert_eq!(sub_code(&answer), "isv.missing-method");
    let params = alipay.params("alipay.trade.pay.everything", &biz);
    let response = alipay.post(&params);
    assert!(response.body.starts_with("{\"error_response\":"), "{}", response.body);
    assert_eq!(sub_code(&alipay.answer(&response, "alipay.trade.pay.everything")), "isv.invalid-method");
    // GBK is not spoken; a repeated parameter is ambiguous; the body must be a form.
    let mut params = alipay.params(method, &biz);
    params[3].1 = "GBK".into();
    resign(&mut params, &alipay.app_key);
    let answer = alipay.answer(&alipay.post_to(&alipay.gateway(), &params), method);
    assert_eq!(sub_code(&answer), "isv.invalid-charset");
    let mut params = alipay.params(method, &biz);
    params.push(("version".into(), "2.0".into()));
    check(&params, "40002", "isv.invalid-parameter");
    let body = encode_pairs(alipay.params(method, &biz).iter().map(|(k, v)| (k.as_str(), v.as_str())));
    let response = http_request("POST", &alipay.gateway(), &[("content-type", "application/json")], body.as_bytes());
    assert_eq!(sub_code(&alipay.answer(&response, method)), "isv.invalid-content-type");
    // The same parameter with two values (URL and body) is ambiguous.
    let response = alipay.post_to(&format!("{}?charset=GBK", alipay.gateway()), &alipay.params(method, &biz));
    assert_eq!(sub_code(&alipay.answer(&response, method)), "isv.invalid-parameter");
    // biz_content must be JSON.
    check(&alipay.params(method, "out_trade_no=1"), "40002", "isv.invalid-parameter");
    // Every refusal was logged with its reason.
    let log: Value = serde_json::from_str(&merchant::http_get(&format!("{}/sandbox/control/requests", alipay.sandbox.url())).body).unwrap();
    assert!(log.as_array().unwrap().iter().any(|e| e["verdict"].as_str().is_some_and(|v| v.contains("isv.invalid-signature"))), "{log}");
}

#[test]
fn timestamps_are_beijing_time_within_fifteen_minutes() {
    let alipay = Alipay::start();
    let method = "alipay.trade.query";
    let biz = format!(r#"{{"out_trade_no":"{}"}}"#, unique("EPATS"));
    let at = |timestamp: &str| {
        let params = alipay.params_with(method, &biz, &[], timestamp, &alipay.app_key);
        alipay.answer(&alipay.post(&params), method)
    };
    // Beijing time now, and 14 minutes either way: accepted (the trade just does not exist).
    for offset in [0, 14 * 60] {
        assert_eq!(sub_code(&at(&beijing(now() - offset))), "ACQ.TRADE_NOT_EXIST");
        assert_eq!(sub_code(&at(&beijing(now() + offset))), "ACQ.TRADE_NOT_EXIST");
    }
    // The UTC wall clock (the bug of SDKs on UTC machines) is eight hours off.
    let utc = BeijingTime::from_unix(now() - 8 * 3600).unwrap().to_alipay();
    assert_eq!(sub_code(&at(&utc)), "isv.invalid-timestamp");
    for stale in [beijing(now() - 16 * 60), beijing(now() + 16 * 60), "2024/01/01 00:00:00".to_owned(), now().to_string()] {
        let answer = at(&stale);
        assert_eq!((answer["code"].as_str(), sub_code(&answer)), (Some("40002"), "isv.invalid-timestamp"), "{stale}");
    }
    let mut params = alipay.params(method, &biz);
    params.retain(|(k, _)| k != "timestamp");
    resign(&mut params, &alipay.app_key);
    assert_eq!(sub_code(&alipay.answer(&alipay.post(&params), method)), "isv.missing-timestamp");
}

#[test]
fn biz_content_rules() {
    let alipay = Alipay::start();
    let precreate = |biz: String| alipay.call("alipay.trade.precreate", &biz);
    for amount in [r#""12.3""#, r#""12.345""#, r#""0.00""#, r#""100000000.01""#, r#""-1.00""#, r#""012.00""#, "12.34", r#""1e2""#] {
        let answer = precreate(format!(r#"{{"out_trade_no":"{}","total_amount":{amount},"subject":"Tea"}}"#, unique("EPAAMT")));
        assert_eq!((answer["code"].as_str(), sub_code(&answer)), (Some("40004"), "ACQ.INVALID_PARAMETER"), "{amount}: {answer}");
    }
    for amount in ["0.01", "100000000.00"] {
        let answer = precreate(format!(r#"{{"out_trade_no":"{}","total_amount":"{amount}","subject":"Tea"}}"#, unique("EPAAMT")));
        assert_eq!(answer["code"], "10000", "{amount}: {answer}");
    }
    let long_no = "A".repeat(65);
    for biz in [
        format!(r#"{{"out_trade_no":"{}","total_amount":"1.00"}}"#, unique("EPANOSUBJ")),
        format!(r#"{{"out_trade_no":"{long_no}","total_amount":"1.00","subject":"Tea"}}"#),
        format!(r#"{{"out_trade_no":"{}","total_amount":"1.00","subject":"a/b"}}"#, unique("EPASLASH")),
        format!(r#"{{"out_trade_no":"{}","total_amount":"1.00","subject":"Tea","product_code":"QUICK_WAP_WAY"}}"#, unique("EPAPC")),
        r#"{"total_amount":"1.00","subject":"Tea"}"#.to_owned(),
    ] {
        assert_eq!(sub_code(&precreate(biz.clone())), "ACQ.INVALID_PARAMETER", "{biz}");
    }
    // Page pay needs its product code; the refusal is Alipay's error page, with the code.
    let no = unique("EPAPAGEPC");
    let params = alipay.params("alipay.trade.page.pay", &format!(r#"{{"out_trade_no":"{no}","total_amount":"1.00","subject":"Tea"}}"#));
    let response = http_request("GET", &format!("{}?{}", alipay.gateway(), encode_pairs(params.iter().map(|(k, v)| (k.as_str(), v.as_str())))), &[], b"");
    assert_eq!(response.status, 200);
    assert!(response.body.contains("data-sub-code=\"ACQ.INVALID_PARAMETER\""), "{}", response.body);
    assert!(response.body.contains("FAST_INSTANT_TRADE_PAY"), "{}", response.body);
}

#[test]
fn page_pay_cashier_pay_and_signed_return() {
    let alipay = Alipay::start();
    let merchant = alipay.merchant();
    let no = unique("EPARET");
    let urls = Urls { notify_url: None, return_url: Some("https://shop.example/alipay/return".into()) };
    let url = block_on(sign_request(&merchant, &Request::PagePay(order(&no, 1999)), &urls, now(), &alipay.app_key)).unwrap().page_url();
    let opened = http_request("GET", &url, &[], b"");
    let cashier = opened.header("location").expect("to the cashier").to_owned();
    // Opening it again with the same parameters is the same trade.
    assert_eq!(http_request("GET", &url, &[], b"").header("location"), Some(cashier.as_str()));
    // The same out_trade_no with another amount is refused.
    let other = block_on(sign_request(&merchant, &Request::PagePay(order(&no, 2000)), &urls, now(), &alipay.app_key)).unwrap().page_url();
    assert!(http_request("GET", &other, &[], b"").body.contains("ACQ.CONTEXT_INCONSISTENT"));

    let paid = http_request("POST", &format!("{cashier}/pay"), &[FORM], b"action=pay");
    assert_eq!(paid.status, 302, "{}", paid.body);
    let location = paid.header("location").unwrap();
    assert!(location.starts_with("https://shop.example/alipay/return?"), "{location}");
    let params = location_params(location);
    let get = |k: &str| params.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str()).unwrap_or_default();
    assert_eq!(get("method"), "alipay.trade.page.pay.return");
    assert_eq!((get("out_trade_no"), get("total_amount")), (no.as_str(), "19.99"));
    assert_eq!((get("app_id"), get("seller_id"), get("sign_type")), (alipay.app_id.as_str(), alipay.seller_id.as_str(), "RSA2"));
    let stamped = BeijingTime::parse_alipay(get("timestamp"), "timestamp").unwrap().unix();
    assert!(stamped.abs_diff(now()) < 60, "timestamp is Beijing time: {}", get("timestamp"));
    // Signed like a notification (rsaCheckV1: without sign and sign_type).
    let verify = |params: &[(String, String)]| {
        let content = sign_content(params.iter().map(|(k, v)| (k.as_str(), v.as_str())), &["sign", "sign_type"]);
        block_on(payment_core::alipay::sign::verify(&alipay.platform, &content, get("sign")))
    };
    verify(&params).unwrap();
    let mut tampered = params.clone();
    let i = tampered.iter().position(|(k, _)| k == "total_amount").unwrap();
    tampered[i].1 = "19.98".into();
    assert_eq!(verify(&tampered), Err(Error::BadSignature));
    // The trade_no of the return is the one the query answers.
    let query = alipay.call("alipay.trade.query", &format!(r#"{{"out_trade_no":"{no}"}}"#));
    assert_eq!((query["trade_status"].as_str(), query["trade_no"].as_str()), (Some("TRADE_SUCCESS"), Some(get("trade_no"))));
    // Once paid, the same request is refused as paid.
    assert!(http_request("GET", &url, &[], b"").body.contains("ACQ.TRADE_HAS_SUCCESS"));

    // wap pay returns with its own method name.
    let wap_no = unique("EPAWAPRET");
    let request = Request::WapPay { order: order(&wap_no, 5), quit_url: None };
    let url = block_on(sign_request(&merchant, &request, &urls, now(), &alipay.app_key)).unwrap().page_url();
    let cashier = http_request("GET", &url, &[], b"").header("location").unwrap().to_owned();
    let paid = http_request("POST", &format!("{cashier}/pay"), &[FORM], b"action=pay");
    let params = location_params(paid.header("location").unwrap());
    assert!(params.iter().any(|(k, v)| k == "method" && v == "alipay.trade.wap.pay.return"), "{params:?}");
}

#[test]
fn query_close_and_refund_flows() {
    let alipay = Alipay::start();
    let no = unique("EPAFLOW");
    alipay.precreate(&no, "88.88", None);
    let by_no = format!(r#"{{"out_trade_no":"{no}"}}"#);
    let waiting = alipay.call("alipay.trade.query", &by_no);
    assert_eq!(waiting["trade_status"], "WAIT_BUYER_PAY");
    let trade_no = waiting["trade_no"].as_str().unwrap().to_owned();
    assert_eq!(trade_no.len(), 28);
    assert!(waiting.get("send_pay_date").is_none());

    alipay.pay(&no);
    let paid = alipay.call("alipay.trade.query", &format!(r#"{{"trade_no":"{trade_no}"}}"#));
    assert_eq!((paid["trade_status"].as_str(), paid["trade_no"].as_str(), paid["total_amount"].as_str()), (Some("TRADE_SUCCESS"), Some(trade_no.as_str()), Some("88.88")));
    assert!(paid["buyer_user_id"].as_str().unwrap().starts_with("2088"));
    let sent = BeijingTime::parse_alipay(paid["send_pay_date"].as_str().unwrap(), "send_pay_date").unwrap().unix();
    assert!(sent.abs_diff(now()) < 60, "send_pay_date is Beijing time: {paid}");
    assert_eq!(sub_code(&alipay.call("alipay.trade.close", &by_no)), "ACQ.TRADE_STATUS_ERROR");
    assert_eq!(sub_code(&alipay.call("alipay.trade.query", r#"{"out_trade_no":"EPANOSUCHTRADE"}"#)), "ACQ.TRADE_NOT_EXIST");
    assert_eq!(sub_code(&alipay.call("alipay.trade.query", "{}")), "ACQ.INVALID_PARAMETER");

    let refund = |amount: &str, request_no: &str| {
        alipay.call("alipay.trade.refund", &format!(r#"{{"out_trade_no":"{no}","refund_amount":"{amount}","out_request_no":"{request_no}"}}"#))
    };
    let first = refund("30.00", "R1");
    assert_eq!((first["code"].as_str(), first["fund_change"].as_str(), first["refund_fee"].as_str()), (Some("10000"), Some("Y"), Some("30.00")), "{first}");
    let repeated = refund("30.00", "R1");
    assert_eq!((repeated["fund_change"].as_str(), repeated["refund_fee"].as_str()), (Some("N"), Some("30.00")), "{repeated}");
    assert_eq!(sub_code(&refund("31.00", "R1")), "ACQ.REASON_TRADE_REFUND_FEE_ERR");
    assert_eq!(sub_code(&refund("58.89", "R2")), "ACQ.REFUND_AMT_NOT_EQUAL_TOTAL");
    assert_eq!(sub_code(&refund("0.00", "R2")), "ACQ.REASON_TRADE_REFUND_FEE_ERR");
    assert_eq!(sub_code(&refund("1.5", "R2")), "ACQ.INVALID_PARAMETER");
    // Without out_request_no a refund is for the whole amount.
    let whole = alipay.call("alipay.trade.refund", &format!(r#"{{"out_trade_no":"{no}","refund_amount":"10.00"}}"#));
    assert_eq!(sub_code(&whole), "ACQ.REFUND_AMT_NOT_EQUAL_TOTAL");
    let rest = refund("58.88", "R2");
    assert_eq!((rest["fund_change"].as_str(), rest["refund_fee"].as_str()), (Some("Y"), Some("88.88")), "{rest}");
    assert_eq!(sub_code(&refund("0.01", "R3")), "ACQ.REFUND_AMT_NOT_EQUAL_TOTAL");
    assert_eq!(alipay.call("alipay.trade.query", &by_no)["trade_status"], "TRADE_CLOSED");

    // An unpaid trade closes; a closed one cannot be paid, closed or created again.
    let unpaid = unique("EPACLOSE");
    alipay.precreate(&unpaid, "1.00", None);
    let closed = alipay.call("alipay.trade.close", &format!(r#"{{"out_trade_no":"{unpaid}"}}"#));
    assert_eq!(closed["code"], "10000", "{closed}");
    assert_eq!(sub_code(&alipay.call("alipay.trade.close", &format!(r#"{{"out_trade_no":"{unpaid}"}}"#))), "ACQ.TRADE_STATUS_ERROR");
    assert_eq!(sub_code(&alipay.precreate(&unpaid, "1.00", None)), "ACQ.TRADE_HAS_CLOSE");
    // The same out_trade_no with other parameters.
    let reused = unique("EPAREUSE");
    assert_eq!(alipay.precreate(&reused, "1.00", None)["code"], "10000");
    assert_eq!(alipay.precreate(&reused, "1.00", None)["code"], "10000");
    assert_eq!(sub_code(&alipay.precreate(&reused, "2.00", None)), "ACQ.CONTEXT_INCONSISTENT");
}

#[test]
fn notifications_verify_and_are_retried_until_success() {
    let alipay = Alipay::start();
    // The listener fails twice, then acknowledges.
    let listener = Listener::start(vec!["fail".into(), "oops".into()], "success");
    let no = unique("EPANOTIFY");
    alipay.precreate(&no, "12.34", Some(&listener.url("/notify/alipay")));
    alipay.pay(&no);
    wait_for(Duration::from_secs(20), || listener.requests().len() >= 3);
    std::thread::sleep(Duration::from_millis(2500));
    let requests = listener.requests();
    assert_eq!(requests.len(), 3, "retried until `success`, then never again");
    let query = alipay.call("alipay.trade.query", &format!(r#"{{"out_trade_no":"{no}"}}"#));
    for request in &requests {
        assert_eq!(request.path, "/notify/alipay");
        assert!(request.header("content-type").is_some_and(|c| c.starts_with("application/x-www-form-urlencoded")));
        let notify = block_on(parse_notify(&request.body, &alipay.platform)).unwrap();
        assert!(notify.is_paid() && !notify.is_refund());
        assert_eq!(notify.notify_type, "trade_status_sync");
        assert_eq!((notify.app_id.as_str(), notify.seller_id.as_ref().map(|s| s.as_str())), (alipay.app_id.as_str(), Some(alipay.seller_id.as_str())));
        assert_eq!((notify.out_trade_no.as_str(), notify.total_amount.fen()), (no.as_str(), 1234));
        assert_eq!(Some(notify.trade_no.as_str()), query["trade_no"].as_str());
        assert!(notify.notify_time.abs_diff(now()) < 60, "notify_time is Beijing time");
        assert!(notify.gmt_payment.is_some() && notify.buyer_id.is_some() && notify.receipt_amount == Some(notify.total_amount));
        // One byte changed in the body: refused.
        let text = String::from_utf8(request.body.clone()).unwrap().replace("total_amount=12.34", "total_amount=12.35");
        assert_eq!(block_on(parse_notify(text.as_bytes(), &alipay.platform)), Err(Error::BadSignature));
    }
    let order: Value = serde_json::from_str(&merchant::http_get(&format!("{}/sandbox/control/orders/alipay/{no}", alipay.sandbox.url())).body).unwrap();
    let acknowledged: Vec<bool> = order["deliveries"].as_array().unwrap().iter().map(|d| d["acknowledged"].as_bool().unwrap()).collect();
    assert_eq!(acknowledged, [false, false, true]);

    // A refund is notified as a trade notification with refund_fee and out_biz_no.
    let refund = alipay.call("alipay.trade.refund", &format!(r#"{{"out_trade_no":"{no}","refund_amount":"2.34","out_request_no":"RF1"}}"#));
    assert_eq!(refund["code"], "10000");
    wait_for(Duration::from_secs(10), || listener.requests().len() >= 4);
    let notify = block_on(parse_notify(&listener.requests()[3].body, &alipay.platform)).unwrap();
    assert!(notify.is_refund());
    assert_eq!((notify.refund_fee.map(Amount::fen), notify.out_biz_no.as_deref()), (Some(234), Some("RF1")));
    assert_eq!(notify.trade_status.as_str(), "TRADE_SUCCESS");

    // The probe is refused by a merchant that verifies with Alipay's key.
    let probe = http_request(
        "POST",
        &format!("{}/sandbox/control/probe", alipay.sandbox.url()),
        &[("content-type", "application/json")],
        serde_json::json!({ "provider": "alipay", "url": listener.url("/probe") }).to_string().as_bytes(),
    );
    assert_eq!(probe.status, 200, "{}", probe.body);
    let requests = listener.requests();
    let probe = requests.iter().find(|r| r.path == "/probe").expect("probe delivered");
    assert_eq!(block_on(parse_notify(&probe.body, &alipay.platform)), Err(Error::BadSignature));
    // It is otherwise well-formed: only the signature is wrong.
    let fields = parse_urlencoded(&probe.body).unwrap();
    assert!(fields.iter().any(|(k, v)| k == "trade_status" && v == "TRADE_SUCCESS"));
}
