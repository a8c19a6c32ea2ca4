//! The sandbox's UnionPay ACP 5.1.0 gateway against the real binary: requests signed with
//! payment-core and the merchant's key from `<state-dir>/keys.json`; everything the sandbox signs
//! verified with `parse_notify` / `parse_response` and trust anchors built from the worker
//! configuration the sandbox prints (`UNIONPAY_ROOT_CERTS`, `UNIONPAY_SIGNER`).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod merchant;

use std::time::Duration;

use merchant::{http_request, now, tamper, unique, wait_for, HttpResponse, Listener, Sandbox};
use payment_core::beijing_time::BeijingTime;
use payment_core::form::{encode_pairs, parse_urlencoded};
use payment_core::native::{block_on, RsaPrivateKey, RsaPublicKey};
use payment_core::unionpay::notify::{insecure_parse_notify_without_chain, parse_raw_fields};
use payment_core::unionpay::sign::{signature, verify_fields};
use payment_core::unionpay::{
    front_consume, parse_notify, parse_response, query, Channel, FrontConsume, MerId, Merchant, Notify, Response,
    TrustAnchors, UnionpayOrderId, UNIONPAY_SIGNER,
};
use payment_core::x509::Certificate;
use payment_core::Error;

const FORM: (&str, &str) = ("content-type", "application/x-www-form-urlencoded");

fn verifier_for(der: &[u8]) -> payment_core::Result<RsaPublicKey> {
    RsaPublicKey::from_spki_der(der, "signPubKeyCert")
}

/// A merchant of the sandbox's UnionPay.
struct Unionpay {
    sandbox: Sandbox,
    merchant: Merchant,
    key: RsaPrivateKey,
    anchors: TrustAnchors,
    /// `UNIONPAY_ROOT_CERTS`, root then middle.
    chain: Vec<Certificate>,
}

impl Unionpay {
    fn start() -> Self {
        let sandbox = Sandbox::start();
        let keys = &sandbox.keys["unionpay"];
        let config = sandbox.worker_config();
        let chain = Certificate::all_from_pem(config["UNIONPAY_ROOT_CERTS"].as_str().unwrap()).unwrap();
        assert_eq!(chain.len(), 2, "root and middle");
        let signer = config["UNIONPAY_SIGNER"].as_str().unwrap();
        assert_eq!(signer, "edgepay sandbox UnionPay signing (test only)");
        let url = sandbox.url().to_owned();
        Self {
            merchant: Merchant {
                mer_id: MerId::new(keys["mer_id"].as_str().unwrap()).unwrap(),
                cert_id: keys["merchant_cert_id"].as_str().unwrap().to_owned(),
                front_trans_url: format!("{url}/gateway/api/frontTransReq.do"),
                query_trans_url: format!("{url}/gateway/api/queryTrans.do"),
            },
            key: RsaPrivateKey::from_text(keys["merchant_sign_key"].as_str().unwrap(), "merchant key").unwrap(),
            anchors: TrustAnchors::new(chain[0].clone(), chain[1].clone(), signer),
            chain,
            sandbox,
        }
    }

    /// A front consumption's signed fields.
    fn consume(&self, order_id: &str, fen: u64, back_url: &str) -> (Vec<(String, String)>, u64) {
        let txn_time = now();
        let consume = FrontConsume {
            order_id: UnionpayOrderId::new(order_id).unwrap(),
            txn_amt: payment_core::money::Amount::from_fen(fen).unwrap(),
            channel: Channel::Pc,
            txn_time,
            pay_timeout: None,
            front_url: "https://shop.example/unionpay/front".to_owned(),
            back_url: back_url.to_owned(),
        };
        (block_on(front_consume(&self.merchant, &consume, &self.key)).unwrap().fields, txn_time)
    }

    fn post_front(&self, fields: &[(String, String)]) -> HttpResponse {
        let body = encode_pairs(fields.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        http_request("POST", &self.merchant.front_trans_url, &[FORM], body.as_bytes())
    }

    /// Opens the cashier (asserting the form was accepted) and returns its URL.
    fn open(&self, fields: &[(String, String)]) -> String {
        let response = self.post_front(fields);
        assert_eq!(response.status, 302, "{}", response.body);
        response.header("location").unwrap().to_owned()
    }

    fn pay_at_cashier(&self, cashier: &str) -> HttpResponse {
        http_request("POST", &format!("{cashier}/pay"), &[FORM], b"action=pay")
    }

    fn pay(&self, order_id: &str) {
        let response = http_request("POST", &format!("{}/sandbox/control/orders/unionpay/{order_id}/pay", self.sandbox.url()), &[], b"");
        assert_eq!(response.status, 200, "{}", response.body);
    }

    fn query(&self, order_id: &str, txn_time: u64) -> Response {
        let post = block_on(query(&self.merchant, &UnionpayOrderId::new(order_id).unwrap(), txn_time, &self.key)).unwrap();
        self.answer(&http_request("POST", &post.url, &[FORM], post.body.as_bytes()))
    }

    /// A gateway answer, verified with the sandbox's chain.
    fn answer(&self, response: &HttpResponse) -> Response {
        assert_eq!(response.status, 200, "{}", response.body);
        block_on(parse_response(response.body.as_bytes(), &self.anchors, verifier_for, now()))
            .unwrap_or_else(|e| panic!("answer does not verify ({e:?}): {}", response.body))
    }

    fn notify(&self, body: &[u8]) -> payment_core::Result<Notify> {
        block_on(parse_notify(body, &self.anchors, verifier_for, now()))
    }

    /// Signs `fields` (adding the common ones) for a back-end call.
    fn signed(&self, fields: &[(&str, &str)]) -> Vec<(String, String)> {
        let mut all: Vec<(String, String)> = [
            ("version", "5.1.0"),
            ("encoding", "UTF-8"),
            ("accessType", "0"),
            ("signMethod", "01"),
            ("merId", self.merchant.mer_id.as_str()),
            ("certId", self.merchant.cert_id.as_str()),
        ]
        .iter()
        .chain(fields)
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
        let signed = block_on(signature(&self.key, &all)).unwrap();
        all.push(("signature".to_owned(), signed));
        all
    }

    /// A refund (`04`) or cancellation (`31`) of the consumption `orig_qry_id`.
    fn back_trans(&self, txn_type: &str, order_id: &str, orig_qry_id: &str, fen: u64, back_url: &str) -> HttpResponse {
        let (txn_time, amount) = (beijing(now()), fen.to_string());
        let fields = self.signed(&[
            ("txnType", txn_type),
            ("txnSubType", "00"),
            ("bizType", "000201"),
            ("channelType", "07"),
            ("orderId", order_id),
            ("txnTime", &txn_time),
            ("txnAmt", &amount),
            ("currencyCode", "156"),
            ("origQryId", orig_qry_id),
            ("backUrl", back_url),
        ]);
        self.post_back("backTransReq.do", &fields)
    }

    fn post_back(&self, api: &str, fields: &[(String, String)]) -> HttpResponse {
        let body = encode_pairs(fields.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        http_request("POST", &format!("{}/gateway/api/{api}", self.sandbox.url()), &[FORM], body.as_bytes())
    }

    /// Consumes and pays `fen` with the back notification going to `back_url`; returns the
    /// order id, its txnTime and its queryId.
    fn paid_order(&self, fen: u64, back_url: &str) -> (String, u64, String) {
        let order_id = unique("EPUPAID");
        let (fields, txn_time) = self.consume(&order_id, fen, back_url);
        self.open(&fields);
        self.pay(&order_id);
        let query_id = self.query(&order_id, txn_time).query_id.unwrap().as_str().to_owned();
        (order_id, txn_time, query_id)
    }
}

fn beijing(unix: u64) -> String {
    BeijingTime::from_unix(unix).unwrap().to_compact()
}

/// The respCode on UnionPay's error page.
fn page_resp_code(response: &HttpResponse) -> String {
    let body = &response.body;
    let start = body.find("data-resp-code=\"").map(|i| i + 16).unwrap_or_else(|| panic!("not the error page: {body}"));
    body[start..start + body[start..].find('"').unwrap()].to_owned()
}

/// The action and fields of an auto-submitting form page (values HTML-unescaped).
fn form_page(html: &str) -> (String, Vec<(String, String)>) {
    let unescape = |s: &str| s.replace("&quot;", "\"").replace("&#39;", "'").replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&");
    let attr = |tag: &str, name: &str| {
        let start = tag.find(&format!("{name}=\"")).unwrap() + name.len() + 2;
        unescape(&tag[start..start + tag[start..].find('"').unwrap()])
    };
    let form = &html[html.find("<form").unwrap()..];
    let action = attr(&form[..form.find('>').unwrap()], "action");
    let fields = html
        .split("<input ")
        .skip(1)
        .map(|tag| (attr(tag, "name"), attr(tag, "value")))
        .collect();
    (action, fields)
}

#[test]
fn front_form_cashier_pay_and_signed_post_to_front_url() {
    let unionpay = Unionpay::start();
    let order_id = unique("EPUFRONT");
    let (fields, txn_time) = unionpay.consume(&order_id, 1234, "https://shop.example/unionpay/back");
    let cashier = unionpay.open(&fields);
    assert_eq!(cashier, format!("{}/sandbox/cashier/unionpay/{order_id}", unionpay.sandbox.url()));
    // Posted again unchanged: the same order; the same orderId with another amount: refused.
    assert_eq!(unionpay.open(&fields), cashier);
    let (other, _) = unionpay.consume(&order_id, 1235, "https://shop.example/unionpay/back");
    assert_eq!(page_resp_code(&unionpay.post_front(&other)), "12");
    let page = http_request("GET", &cashier, &[], b"");
    assert!(page.body.contains("data-amount-fen=\"1234\""), "{}", page.body);

    let paid = unionpay.pay_at_cashier(&cashier);
    assert_eq!(paid.status, 200, "{}", paid.body);
    let (action, posted) = form_page(&paid.body);
    assert_eq!(action, "https://shop.example/unionpay/front");
    assert!(paid.body.contains(".submit()"), "auto-submits");
    let body = encode_pairs(posted.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    let notify = unionpay.notify(body.as_bytes()).unwrap();
    assert!(notify.is_success());
    assert_eq!((notify.order_id.as_str(), notify.txn_amt.fen(), notify.txn_time), (order_id.as_str(), 1234, txn_time));
    assert_eq!(notify.mer_id, unionpay.merchant.mer_id);
    let query_id = notify.query_id.clone().unwrap();
    // The same transaction the query reports.
    let answer = unionpay.query(&order_id, txn_time);
    assert!(answer.is_paid());
    assert_eq!(answer.query_id.as_ref(), Some(&query_id));
    // A field changed in what the browser posts: refused.
    let changed = body.replace("txnAmt=1234", "txnAmt=1235");
    assert_ne!(changed, body);
    assert_eq!(unionpay.notify(changed.as_bytes()), Err(Error::BadSignature));
    // Paid: the form is refused as a repeat.
    assert_eq!(page_resp_code(&unionpay.post_front(&fields)), "12");
}

#[test]
fn back_notifications_chain_to_the_sandbox_root_and_are_retried_until_200() {
    let unionpay = Unionpay::start();
    let listener = Listener::with_statuses(vec![(500, String::new()), (503, "busy".into())], (200, "ok".into()));
    let (order_id, txn_time, query_id) = unionpay.paid_order(888, &listener.url("/notify/unionpay"));
    wait_for(Duration::from_secs(10), || listener.requests().len() >= 3);
    std::thread::sleep(Duration::from_millis(1000));
    let requests = listener.requests();
    assert_eq!(requests.len(), 3, "retried until HTTP 200, then never again");
    for request in &requests {
        assert_eq!((request.method.as_str(), request.path.as_str()), ("POST", "/notify/unionpay"));
        assert!(request.header("content-type").is_some_and(|c| c.starts_with("application/x-www-form-urlencoded")));
        let notify = unionpay.notify(&request.body).unwrap();
        assert!(notify.is_success());
        assert_eq!(notify.txn_type.as_str(), "01");
        assert_eq!((notify.order_id.as_str(), notify.txn_amt.fen(), notify.txn_time), (order_id.as_str(), 888, txn_time));
        assert_eq!(notify.query_id.as_ref().map(|q| q.as_str()), Some(query_id.as_str()));
        assert_eq!(notify.currency_code.as_deref(), Some("156"));
    }
    let body = &requests[0].body;
    // Only the sandbox's signer name is trusted, and only under its own root and middle.
    let production = TrustAnchors::new(unionpay.chain[0].clone(), unionpay.chain[1].clone(), UNIONPAY_SIGNER);
    assert_eq!(block_on(parse_notify(body, &production, verifier_for, now())), Err(Error::UntrustedCertificate));
    let middle_as_root = TrustAnchors::new(unionpay.chain[1].clone(), unionpay.chain[1].clone(), "edgepay sandbox UnionPay signing (test only)");
    assert!(block_on(parse_notify(body, &middle_as_root, verifier_for, now())).is_err());
    // One field changed: refused.
    let text = String::from_utf8(body.clone()).unwrap();
    let changed = text.replacen("txnAmt=888", "txnAmt=889", 1);
    assert_ne!(changed, text);
    assert_eq!(unionpay.notify(changed.as_bytes()), Err(Error::BadSignature));
}

#[test]
fn query_answers_are_signed_and_say_what_happened() {
    let unionpay = Unionpay::start();
    let order_id = unique("EPUQUERY");
    let (fields, txn_time) = unionpay.consume(&order_id, 500, "https://shop.example/unionpay/back");
    unionpay.open(&fields);
    // The shopper has not paid yet: UnionPay has no transaction.
    let waiting = unionpay.query(&order_id, txn_time);
    assert_eq!(waiting.resp_code.as_str(), "34");
    assert!(!waiting.is_paid());
    assert_eq!(unionpay.query(&unique("EPUNOSUCH"), txn_time).resp_code.as_str(), "34");
    unionpay.pay(&order_id);
    let paid = unionpay.query(&order_id, txn_time);
    assert!(paid.is_paid(), "{paid:?}");
    assert_eq!((paid.order_id.as_str(), paid.txn_amt.map(|a| a.fen()), paid.txn_time), (order_id.as_str(), Some(500), txn_time));
    // The order is identified with its txnTime too.
    assert_eq!(unionpay.query(&order_id, txn_time - 1).resp_code.as_str(), "34");
    // A failed payment is a transaction that failed.
    let failed_id = unique("EPUFAIL");
    let (fields, failed_time) = unionpay.consume(&failed_id, 500, "https://shop.example/unionpay/back");
    let cashier = unionpay.open(&fields);
    http_request("POST", &format!("{cashier}/fail"), &[FORM], b"action=fail");
    let failed = unionpay.query(&failed_id, failed_time);
    assert_eq!((failed.resp_code.as_str(), failed.orig_resp_code.as_ref().map(|c| c.as_str())), ("00", Some("01")));
    assert!(!failed.is_paid());

    // Every field of a query changed by one byte: refused with respCode 11 (10 for signMethod),
    // in a signed answer (which echoes the fields as sent, so it may not parse as a Response).
    let platform = RsaPublicKey::from_text(unionpay.sandbox.keys["unionpay"]["platform_sign_cert"].as_str().unwrap(), "cert").unwrap();
    let post = block_on(query(&unionpay.merchant, &UnionpayOrderId::new(&order_id).unwrap(), txn_time, &unionpay.key)).unwrap();
    let fields = parse_urlencoded(post.body.as_bytes()).unwrap();
    for (i, (name, value)) in fields.iter().enumerate() {
        let mut tampered = fields.clone();
        tampered[i].1 = tamper(value, value.len() / 2);
        let response = unionpay.post_back("queryTrans.do", &tampered);
        let answer = parse_raw_fields(response.body.as_bytes()).unwrap();
        block_on(verify_fields(&answer, &platform)).unwrap();
        let code = answer.iter().find(|(k, _)| k == "respCode").map(|(_, v)| v.as_str());
        let expected = if name == "signMethod" { "10" } else { "11" };
        assert_eq!(code, Some(expected), "{name}: {}", response.body);
    }
}

#[test]
fn refunds_and_cancellations() {
    let unionpay = Unionpay::start();
    let listener = Listener::with_statuses(Vec::new(), (200, "ok".into()));
    let back = listener.url("/back");
    let (order_id, _, query_id) = unionpay.paid_order(10_000, &back);
    let refund_url = listener.url("/refund");

    let refund_id = unique("EPUREF");
    let answer = unionpay.answer(&unionpay.back_trans("04", &refund_id, &query_id, 3_000, &refund_url));
    assert_eq!((answer.resp_code.as_str(), answer.order_id.as_str()), ("00", refund_id.as_str()));
    assert_eq!(answer.orig_qry_id.as_ref().map(|q| q.as_str()), Some(query_id.as_str()));
    let refund_query_id = answer.query_id.clone().unwrap();
    wait_for(Duration::from_secs(10), || listener.requests().iter().any(|r| r.path == "/refund"));
    let notified = listener.requests().into_iter().find(|r| r.path == "/refund").unwrap();
    let notify = unionpay.notify(&notified.body).unwrap();
    assert_eq!((notify.txn_type.as_str(), notify.order_id.as_str(), notify.txn_amt.fen()), ("04", refund_id.as_str(), 3_000));
    assert_eq!(notify.query_id.as_ref(), Some(&refund_query_id));
    let fields = parse_urlencoded(&notified.body).unwrap();
    assert!(fields.iter().any(|(k, v)| k == "origQryId" && *v == query_id));
    // The refund is a transaction of its own for the query.
    let refund_txn_time = notify.txn_time;
    let queried = unionpay.query(&refund_id, refund_txn_time);
    assert!(queried.is_paid());
    assert_eq!(queried.txn_type.as_str(), "04");

    // Over what is left, a reused orderId, an unknown original: refused.
    let code = |response: HttpResponse| unionpay.answer(&response).resp_code.as_str().to_owned();
    assert_eq!(code(unionpay.back_trans("04", &unique("EPUREF"), &query_id, 7_001, &refund_url)), "33");
    assert_eq!(code(unionpay.back_trans("04", &refund_id, &query_id, 1, &refund_url)), "12");
    assert_eq!(code(unionpay.back_trans("04", &order_id, &query_id, 1, &refund_url)), "12");
    assert_eq!(code(unionpay.back_trans("04", &unique("EPUREF"), "799999999999999999999", 1, &refund_url)), "35");
    assert_eq!(code(unionpay.back_trans("04", &unique("EPUREF"), &query_id, 7_000, &refund_url)), "00");
    assert_eq!(code(unionpay.back_trans("04", &unique("EPUREF"), &query_id, 1, &refund_url)), "33");
    // Cancelling a refunded consumption, or for another amount: refused; the whole of a fresh one: done.
    assert_eq!(code(unionpay.back_trans("31", &unique("EPUCAN"), &query_id, 10_000, &refund_url)), "35");
    let (_, _, fresh) = unionpay.paid_order(2_500, &back);
    assert_eq!(code(unionpay.back_trans("31", &unique("EPUCAN"), &fresh, 2_000, &refund_url)), "36");
    let cancel_id = unique("EPUCAN");
    assert_eq!(code(unionpay.back_trans("31", &cancel_id, &fresh, 2_500, &refund_url)), "00");
    wait_for(Duration::from_secs(10), || {
        listener.requests().iter().any(|r| r.path == "/refund" && unionpay.notify(&r.body).is_ok_and(|n| n.order_id.as_str() == cancel_id))
    });
    // A UTC txnTime (eight hours behind Beijing time) is refused as out of date.
    let utc = BeijingTime::from_unix(now() - 8 * 3600).unwrap().to_compact();
    let fields = unionpay.signed(&[
        ("txnType", "04"),
        ("txnSubType", "00"),
        ("bizType", "000201"),
        ("channelType", "07"),
        ("orderId", &unique("EPUUTC")),
        ("txnTime", &utc),
        ("txnAmt", "1"),
        ("currencyCode", "156"),
        ("origQryId", &query_id),
        ("backUrl", &refund_url),
    ]);
    assert_eq!(code(unionpay.post_back("backTransReq.do", &fields)), "10");
}

#[test]
fn tampered_or_wrong_front_forms_get_the_error_page() {
    let unionpay = Unionpay::start();
    let order_id = unique("EPUTAMPER");
    let (fields, _) = unionpay.consume(&order_id, 100, "https://shop.example/unionpay/back");
    for (i, (name, value)) in fields.iter().enumerate() {
        for at in [0, value.chars().count() / 2, value.chars().count() - 1] {
            let mut tampered = fields.clone();
            tampered[i].1 = tamper(value, at);
            let response = unionpay.post_front(&tampered);
            assert_eq!(response.status, 200);
            let expected = if name == "signMethod" { "10" } else { "11" };
            assert_eq!(page_resp_code(&response), expected, "{name} changed at {at}");
        }
    }
    // Nothing was created by the refused forms; the genuine one opens the cashier.
    unionpay.open(&fields);

    // Correctly signed, but against the rules.
    let base: Vec<(String, String)> = fields.iter().filter(|(k, _)| k != "signature").cloned().collect();
    let with = |name: &str, value: Option<&str>| {
        let mut all: Vec<(String, String)> = base.iter().filter(|(k, _)| k != name).cloned().collect();
        all.retain(|(k, _)| k != "orderId");
        all.push(("orderId".to_owned(), unique("EPURULE")));
        if let Some(value) = value {
            all.push((name.to_owned(), value.to_owned()));
        }
        let signed = block_on(signature(&unionpay.key, &all)).unwrap();
        all.push(("signature".to_owned(), signed));
        page_resp_code(&unionpay.post_front(&all))
    };
    for (name, value, code) in [
        ("version", Some("5.0.0"), "10"),
        ("txnType", Some("04"), "10"),
        ("txnSubType", Some("02"), "10"),
        ("bizType", Some("000202"), "10"),
        ("channelType", Some("09"), "10"),
        ("accessType", Some("1"), "10"),
        ("currencyCode", Some("840"), "10"),
        ("txnAmt", Some("0"), "10"),
        ("txnAmt", Some("012"), "10"),
        ("txnAmt", Some("1.00"), "10"),
        ("txnTime", Some(beijing(now() - 8 * 3600).as_str()), "10"),
        ("txnTime", Some(beijing(now() + 3600).as_str()), "10"),
        ("backUrl", Some("not a url"), "10"),
        ("merId", Some("777290058110099"), "31"),
        ("backUrl", None, "13"),
        ("txnAmt", None, "13"),
        ("currencyCode", None, "13"),
    ] {
        assert_eq!(with(name, value), code, "{name} = {value:?}");
    }
    let mut bad_id = base.clone();
    bad_id.iter_mut().find(|(k, _)| k == "orderId").unwrap().1 = "EP-1234567".to_owned();
    let signed = block_on(signature(&unionpay.key, &bad_id)).unwrap();
    bad_id.push(("signature".to_owned(), signed));
    assert_eq!(page_resp_code(&unionpay.post_front(&bad_id)), "10");
    // Signed with another key (the platform's) under the merchant's certId.
    let other = RsaPrivateKey::from_text(unionpay.sandbox.keys["unionpay"]["platform_sign_key"].as_str().unwrap(), "k").unwrap();
    let mut forged = base.clone();
    forged.iter_mut().find(|(k, _)| k == "orderId").unwrap().1 = unique("EPUFORGE");
    let signed = block_on(signature(&other, &forged)).unwrap();
    forged.push(("signature".to_owned(), signed));
    assert_eq!(page_resp_code(&unionpay.post_front(&forged)), "11");
}

#[test]
fn probes_carry_a_certificate_outside_the_chain() {
    let unionpay = Unionpay::start();
    let listener = Listener::with_statuses(Vec::new(), (200, "ok".into()));
    let response = http_request(
        "POST",
        &format!("{}/sandbox/control/probe", unionpay.sandbox.url()),
        &[("content-type", "application/json")],
        serde_json::json!({ "provider": "unionpay", "url": listener.url("/probe") }).to_string().as_bytes(),
    );
    assert_eq!(response.status, 200, "{}", response.body);
    let body = listener.requests().pop().expect("probe delivered").body;
    assert_eq!(unionpay.notify(&body), Err(Error::UntrustedCertificate));
    // Everything else about it is right: its signature verifies with the certificate it carries,
    // whose subject and key are the platform's. Only the chain check catches it.
    let unchecked = block_on(insecure_parse_notify_without_chain(&body, verifier_for)).unwrap();
    assert!(unchecked.is_success());
    let fields = parse_urlencoded(&body).unwrap();
    let carried = fields.iter().find(|(k, _)| k == "signPubKeyCert").map(|(_, v)| v.as_str()).unwrap();
    let carried = &Certificate::all_from_pem(carried).unwrap()[0];
    let platform = &Certificate::all_from_pem(unionpay.sandbox.keys["unionpay"]["platform_sign_cert"].as_str().unwrap()).unwrap()[0];
    assert_eq!((carried.subject_der(), carried.spki_der()), (platform.subject_der(), platform.spki_der()));
}
