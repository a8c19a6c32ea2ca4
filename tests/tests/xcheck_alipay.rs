//! Cross-check of `payment_core::alipay` (and `beijing_time`) with npm `alipay-sdk` 4.14.0
//! (tests/xcheck/alipay.mjs), both directions, with the test-only fixture keys:
//! - our signed requests verify with their checker; for the same method, parameters and clock,
//!   their `sign()` produces exactly our parameters and signature;
//! - their page payments (GET URL and POST form, `pageExecute`) verify with ours;
//! - our notifications verify with their `checkNotifySignV2`; theirs parse with our `parse_notify`;
//! - our answers are cut identically by their `getSignStr` and accepted by `checkResponseSign`;
//!   theirs (with `\/` escapes and spacing) verify with ours;
//! - one-byte tampering is refused on both sides;
//! - their `timestamp` formatter agrees with our Beijing time only when the machine's zone is set
//!   to Asia/Shanghai: under UTC it is eight hours off, the bug we do not copy.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use base64::Engine as _;
use payment_core::alipay::sign::verify_request;
use payment_core::alipay::{
    parse_notify, sign_notify, sign_request, sign_response, verify_response, Merchant, Method, Order, Outcome,
    PrecreateResponse, QueryResponse, Request, SignedRequest, TradeRef, Urls,
};
use payment_core::beijing_time::BeijingTime;
use payment_core::ids::{AppId, OutRefundNo, OutTradeNo};
use payment_core::keys::public_key_spki_der;
use payment_core::money::Amount;
use payment_core::native::{block_on, RsaPrivateKey, RsaPublicKey};
use payment_core::Error;
use serde_json::{json, Value};

const APP_KEY: &str = include_str!("../../payment-core/fixtures/test_rsa_a.pkcs8.pem");
const APP_PUBLIC: &str = include_str!("../../payment-core/fixtures/test_rsa_a.spki.pem");
const ALIPAY_KEY: &str = include_str!("../../payment-core/fixtures/test_leaf.key.pem");
const ALIPAY_CERT: &str = include_str!("../../payment-core/fixtures/test_leaf.cert.pem");
const APP_ID: &str = "2021000000000001";
const GATEWAY: &str = "https://openapi.alipay.com/gateway.do";
/// 2027-01-15 15:59:59Z: 23:59:59 in Beijing, so a UTC formatter shows the wrong day.
const TS: u64 = 1_800_028_799;

fn b64(der: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(der)
}

fn merchant() -> Merchant {
    Merchant { app_id: AppId::new(APP_ID).unwrap(), gateway: GATEWAY.to_owned(), cert_serials: None }
}

fn order(no: &str) -> Order {
    Order {
        out_trade_no: OutTradeNo::new(no).unwrap(),
        total_amount: Amount::from_fen(8888).unwrap(),
        subject: "Tea \"Long Jing\" <50g> 龙井 100%".to_owned(),
        expiry: None,
    }
}

fn urls() -> Urls {
    Urls {
        notify_url: Some("https://edgepay.example/v1/notify/alipay".to_owned()),
        return_url: Some("https://shop.example/return?session=cs_1&x=a b".to_owned()),
    }
}

fn requests(app: &RsaPrivateKey) -> Vec<SignedRequest> {
    let trade = TradeRef::OutTradeNo(OutTradeNo::new("EPREFUND00000000000000001").unwrap());
    [
        (Request::PagePay(order("EPPAGE000000000000000001")), urls()),
        (Request::WapPay { order: order("EPWAP0000000000000000001"), quit_url: Some("https://shop.example/quit".into()) }, urls()),
        (Request::Precreate(order("EPQR00000000000000000001")), Urls { return_url: None, ..urls() }),
        (Request::Query(trade.clone()), Urls::default()),
        (
            Request::Refund {
                trade,
                refund_amount: Amount::from_fen(100).unwrap(),
                out_request_no: OutRefundNo::new("RF-1").unwrap(),
                refund_reason: Some("退款 & more".into()),
            },
            Urls::default(),
        ),
    ]
    .into_iter()
    .map(|(request, urls)| block_on(sign_request(&merchant(), &request, &urls, TS, app)).unwrap())
    .collect()
}

fn pairs(value: &Value) -> Vec<(String, String)> {
    value
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p[0].as_str().unwrap().to_owned(), p[1].as_str().unwrap().to_owned()))
        .collect()
}

fn sorted(mut params: Vec<(String, String)>) -> Vec<(String, String)> {
    params.sort();
    params
}

const TRADE_NOTIFY: [(&str, &str); 13] = [
    ("notify_id", "2027011500222155624068450559358070"),
    ("notify_time", "2027-01-15 23:59:59"),
    ("notify_type", "trade_status_sync"),
    ("app_id", APP_ID),
    ("seller_id", "2088000000000001"),
    ("out_trade_no", "EPPAGE000000000000000001"),
    ("trade_no", "2027011522001400000000000001"),
    ("trade_status", "TRADE_SUCCESS"),
    ("total_amount", "88.88"),
    ("buyer_id", "2088102534368455"),
    ("gmt_payment", "2027-01-15 23:59:58"),
    ("subject", "Tea \"Long Jing\" <50g> 龙井 100% a+b=c&d"),
    ("fund_bill_list", r#"[{"amount":"88.88","fundChannel":"ALIPAYACCOUNT"}]"#),
];

const QUERY_DATA: &str = r#"{"code":"10000","msg":"Success","trade_no":"2027011522001400000000000001","out_trade_no":"EPPAGE000000000000000001","trade_status":"TRADE_SUCCESS","total_amount":"88.88","buyer_user_id":"2088102534368455","send_pay_date":"2027-01-15 23:59:58"}"#;
const PRECREATE_DATA: &str = r#"{"code":"10000","msg":"Success","out_trade_no":"EPQR00000000000000000001","qr_code":"https:\/\/qr.alipay.com\/bax03070pbsmiuuvbjh3005e"}"#;

#[test]
fn alipay_sdk_agrees_both_ways() {
    let app = RsaPrivateKey::from_text(APP_KEY, "app").unwrap();
    let app_public = RsaPublicKey::from_text(APP_PUBLIC, "app").unwrap();
    let alipay = RsaPrivateKey::from_text(ALIPAY_KEY, "alipay").unwrap();
    let alipay_public = RsaPublicKey::from_text(ALIPAY_CERT, "alipay").unwrap();

    let ours_requests = requests(&app);
    let ours_notifies: Vec<String> = vec![block_on(sign_notify(&alipay, &TRADE_NOTIFY)).unwrap()];
    let ours_responses = [
        (Method::Query, block_on(sign_response(&alipay, Method::Query, QUERY_DATA)).unwrap()),
        (Method::Precreate, block_on(sign_response(&alipay, Method::Precreate, PRECREATE_DATA)).unwrap()),
    ];
    let timestamps: Vec<u64> = vec![0, 951_782_400, 1_704_038_399, 1_704_038_400, 1_709_193_600, TS, 4_102_415_999, 4_107_542_400];
    let page_biz = ours_requests[0].param("biz_content").unwrap().to_owned();
    let pages: Vec<Value> = ["GET", "POST"]
        .iter()
        .flat_map(|http| {
            [Method::PagePay, Method::WapPay].map(|m| {
                json!({
                    "method": m.as_str(),
                    "http_method": http,
                    "biz_content": page_biz,
                    "notify_url": "https://edgepay.example/v1/notify/alipay",
                    "return_url": "https://shop.example/return?session=cs_1&x=a b",
                    "timestamp": TS,
                })
            })
        })
        .collect();

    let input = json!({
        "app": {
            "private_pem": APP_KEY,
            "public_b64": b64(&public_key_spki_der(APP_PUBLIC, "app").unwrap()),
        },
        "alipay": {
            "private_pem": ALIPAY_KEY,
            "public_b64": b64(&public_key_spki_der(ALIPAY_CERT, "alipay").unwrap()),
        },
        "ours": {
            "requests": ours_requests.iter().map(|r| json!({"params": r.params()})).collect::<Vec<_>>(),
            "notifies": ours_notifies,
            "responses": ours_responses.iter().map(|(m, raw)| json!({"raw": raw, "response_key": m.response_key()})).collect::<Vec<_>>(),
        },
        "todo": {
            "app_id": APP_ID,
            "timestamps": timestamps,
            "sign": ours_requests.iter().map(|r| json!({
                "method": r.method().as_str(),
                "biz_content": r.param("biz_content"),
                "notify_url": r.param("notify_url"),
                "return_url": r.param("return_url"),
                "timestamp": TS,
            })).collect::<Vec<_>>(),
            "pages": pages,
            "notifies": [TRADE_NOTIFY.iter().map(|(k, v)| (k.to_string(), json!(v))).collect::<serde_json::Map<_, _>>()],
            "responses": [
                {"response_key": Method::Query.response_key(), "data_text": QUERY_DATA},
                {"response_key": Method::Precreate.response_key(), "data_text": PRECREATE_DATA},
            ],
        },
    });
    let output = edgepay_tests::node_xcheck("alipay.mjs", &input);
    let ours = &output["ours"];
    let theirs = &output["theirs"];

    // Beijing time: equal to theirs under Asia/Shanghai, and not what a UTC machine writes.
    for t in theirs["timestamps"].as_array().unwrap() {
        let unix = t["unix"].as_u64().unwrap();
        let beijing = BeijingTime::from_unix(unix).unwrap().to_alipay();
        assert_eq!(t["shanghai"].as_str().unwrap(), beijing, "{unix}");
        assert_ne!(t["utc"].as_str().unwrap(), beijing, "{unix}: a UTC clock is 8 hours behind");
    }

    // Our requests verify with their checker; tampered, they do not.
    for (i, check) in ours["requests"].as_array().unwrap().iter().enumerate() {
        assert_eq!(check["verified"], true, "request {i}");
        assert_eq!(check["tampered_verified"], false, "request {i}");
    }

    // Their sign() with our inputs and clock gives exactly our parameters and signature.
    for (request, signed) in ours_requests.iter().zip(theirs["signed"].as_array().unwrap()) {
        let theirs = sorted(pairs(signed));
        assert_eq!(theirs, sorted(request.params().to_vec()), "{}", request.method());
        block_on(verify_request(&theirs, &app_public)).unwrap();
    }

    // Their page payments, as URL and as form, verify with ours; tampered they do not.
    let pages = theirs["pages"].as_array().unwrap();
    assert_eq!(pages.len(), 4);
    for page in pages {
        assert_eq!(page["action"], GATEWAY);
        let fields = pairs(&page["fields"]);
        let get = |k: &str| fields.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
        assert_eq!(get("timestamp"), Some(BeijingTime::from_unix(TS).unwrap().to_alipay().as_str()));
        assert_eq!(get("timestamp"), Some("2027-01-15 23:59:59"));
        assert_eq!(get("return_url"), Some("https://shop.example/return?session=cs_1&x=a b"));
        block_on(verify_request(&fields, &app_public)).unwrap();
        let mut tampered = fields.clone();
        let biz = tampered.iter_mut().find(|(k, _)| k == "biz_content").unwrap();
        biz.1 = biz.1.replace("88.88", "88.89");
        assert_eq!(block_on(verify_request(&tampered, &app_public)), Err(Error::BadSignature));
    }

    // Our notification verifies with their checker; tampered it does not.
    for check in ours["notifies"].as_array().unwrap() {
        assert_eq!(check["verified"], true);
        assert_eq!(check["tampered_verified"], false);
    }
    // Theirs parses with ours, field by field; one byte changed is refused.
    for their in theirs["notifies"].as_array().unwrap() {
        assert_eq!(their["self_check"], true, "their checker accepts their own notification");
        let body = their["body"].as_str().unwrap();
        assert!(body.contains('+'), "URLSearchParams writes spaces as +: {body}");
        let notify = block_on(parse_notify(body.as_bytes(), &alipay_public)).unwrap();
        assert_eq!(notify.out_trade_no.as_str(), "EPPAGE000000000000000001");
        assert_eq!(notify.total_amount.fen(), 8888);
        assert!(notify.is_paid());
        assert_eq!(notify.notify_time, TS);
        let tampered = body.replacen("88.88", "88.89", 1);
        assert_eq!(block_on(parse_notify(tampered.as_bytes(), &alipay_public)), Err(Error::BadSignature));
        assert_eq!(block_on(parse_notify(body.as_bytes(), &app_public)), Err(Error::BadSignature));
    }

    // Our answers: their getSignStr cuts exactly our signed content; their check accepts them.
    for ((_, raw), check) in ours_responses.iter().zip(ours["responses"].as_array().unwrap()) {
        let expected = if raw.contains("qr_code") { PRECREATE_DATA } else { QUERY_DATA };
        assert_eq!(check["sign_str"], expected);
        assert_eq!(check["verified"], true);
        assert_eq!(check["tampered_verified"], false);
    }
    // Theirs verify and parse with ours, `\/` and spacing as they wrote them.
    let their = theirs["responses"].as_array().unwrap();
    assert_eq!(their[0]["sign_str"], QUERY_DATA, "their cut is the data exactly");
    assert_eq!(their[1]["sign_str"], PRECREATE_DATA, "their cut is the data exactly");
    let query_raw = their[0]["raw"].as_str().unwrap();
    let Outcome::Success(query) = block_on(verify_response::<QueryResponse>(query_raw, Method::Query, &alipay_public)).unwrap() else {
        panic!("expected success")
    };
    assert_eq!(query.total_amount.fen(), 8888);
    assert!(query.trade_status.is_paid());
    let precreate_raw = their[1]["raw"].as_str().unwrap();
    assert!(precreate_raw.contains(r"https:\/\/qr.alipay.com"));
    let Outcome::Success(precreate) =
        block_on(verify_response::<PrecreateResponse>(precreate_raw, Method::Precreate, &alipay_public)).unwrap()
    else {
        panic!("expected success")
    };
    assert_eq!(precreate.qr_code, "https://qr.alipay.com/bax03070pbsmiuuvbjh3005e");
    let tampered = query_raw.replace("88.88", "88.89");
    assert_eq!(
        block_on(verify_response::<QueryResponse>(&tampered, Method::Query, &alipay_public)),
        Err(Error::BadSignature)
    );
}
