//! Alipay: known answers from the published vectors (../shared/vectors/alipay_*.json, from
//! alipay-sdk-nodejs-all's tests) and our own cases that can fail.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

use base64::Engine as _;
use payment_core::alipay::cert::{cert_sn, certificates_der, issuer_name, public_key_spki, root_cert_sn};
use payment_core::alipay::notify::{notify_sign_content, verify_notify_with_sign_type};
use payment_core::alipay::request::{PRODUCTION_GATEWAY, POST_CONTENT_TYPE};
use payment_core::alipay::response::{sign_error_response, signed_parts, verify_signed_parts};
use payment_core::alipay::sign::{sign_content, verify, verify_request};
use payment_core::alipay::{
    parse_notify, sign_notify, sign_request, sign_response, verify_response, CertSerials, CloseResponse, Expiry,
    Merchant, Method, Order, Outcome, PrecreateResponse, QueryResponse, RefundResponse, Request, TradeRef,
    TradeStatus, Urls,
};
use payment_core::form::{encode_pairs, parse_urlencoded, FormMethod};
use payment_core::ids::{AppId, OutRefundNo, OutTradeNo};
use payment_core::money::Amount;
use payment_core::native::{block_on, RsaPrivateKey, RsaPublicKey};
use payment_core::Error;
use serde_json::Value;

const NOTIFY: &str = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/vectors/alipay_notify.json"));
const RESPONSE: &str =
    include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/vectors/alipay_response_sign.json"));
const CERT_SN: &str = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/vectors/alipay_cert_sn.json"));

// Test-only keys (fixtures/README.md): `test_rsa_a` plays the merchant app, `test_leaf` plays Alipay.
const APP_PRIVATE: &str = include_str!("../fixtures/test_rsa_a.pkcs8.pem");
const APP_PUBLIC: &str = include_str!("../fixtures/test_rsa_a.spki.pem");
const ALIPAY_PRIVATE: &str = include_str!("../fixtures/test_leaf.key.pem");
const ALIPAY_CERT: &str = include_str!("../fixtures/test_leaf.cert.pem");

fn json(text: &str) -> Value {
    serde_json::from_str(text).unwrap()
}

/// A vector's public key: PEM with one long base64 line, as Alipay's SDKs write them.
fn key(text: &str) -> RsaPublicKey {
    RsaPublicKey::from_text(text, "vector key").unwrap()
}

/// A vector's `post_data` as the form body Alipay would POST: non-string values (the test's
/// `fund_bill_list` array) as compact JSON text, as the vector's description says.
fn form_body(post_data: &Value) -> String {
    let pairs: Vec<(String, String)> = post_data
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.clone(), v.as_str().map_or_else(|| v.to_string(), str::to_owned)))
        .collect();
    encode_pairs(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())))
}

#[test]
fn notify_vectors_every_case() {
    let file = json(NOTIFY);
    let mut seen = 0;
    for case in file["cases"].as_array().unwrap() {
        let name = case["name"].as_str().unwrap();
        let public = key(file[case["public_key"].as_str().unwrap()].as_str().unwrap());
        let body = form_body(&case["post_data"]);
        let trade_convention = name.starts_with("verify sign should delete sign_type");
        let v1 = block_on(parse_notify(body.as_bytes(), &public));
        let v2 = block_on(verify_notify_with_sign_type(body.as_bytes(), &public));
        if let Some(expected) = case["expected_valid"].as_bool() {
            // Each group verifies only under its own convention.
            let (ours, other) = if trade_convention { (v1.clone().map(|_| ()), v2.map(|_| ())) } else { (v2.map(|_| ()), v1.clone().map(|_| ())) };
            if expected {
                assert_eq!(ours, Ok(()), "{name}");
            } else {
                assert_eq!(ours, Err(Error::BadSignature), "{name}");
            }
            assert_eq!(other, Err(Error::BadSignature), "{name}: wrong convention must fail");
        } else {
            // "verify with decode": the SDK decodes values a second time and throws on `% h`.
            // Decoded exactly once, the value is just text; the made-up signature fails.
            assert_eq!(case["expected_error"], "URI malformed", "{name}");
            assert_eq!(v1, Err(Error::BadSignature), "{name}");
            // The same bytes posted without percent-encoding are a malformed body.
            let raw = format!("bizContent={}&sign=test", case["post_data"]["bizContent"].as_str().unwrap());
            assert_eq!(block_on(parse_notify(raw.as_bytes(), &public)), Err(Error::Malformed { what: "form body" }));
        }
        seen += 1;
    }
    assert_eq!(seen, 8);
}

#[test]
fn notify_vector_typed_fields_and_tampering() {
    let file = json(NOTIFY);
    let case = &file["cases"][0];
    let public = key(file["alipay_public_key_v1"].as_str().unwrap());
    let body = form_body(&case["post_data"]);
    let notify = block_on(parse_notify(body.as_bytes(), &public)).unwrap();
    assert_eq!(notify.out_trade_no.as_str(), "20190815155618536-564-57");
    assert_eq!(notify.trade_no.as_str(), "2019081522001468450512505578");
    assert_eq!(notify.total_amount, Amount::from_fen(10).unwrap());
    assert_eq!(notify.receipt_amount, Some(Amount::from_fen(10).unwrap()));
    assert_eq!(notify.trade_status, TradeStatus::TradeSuccess);
    assert!(notify.is_paid() && !notify.is_refund());
    assert_eq!(notify.app_id.as_str(), "2019073166072302");
    assert_eq!(notify.seller_id.as_ref().unwrap().as_str(), "2088531891668739");
    assert_eq!(notify.buyer_id.as_ref().unwrap().as_str(), "2088102534368455");
    assert_eq!(notify.notify_id.as_str(), "2019081500222155624068450559358070");
    // 2019-08-15 15:56:25 Beijing = 07:56:25Z.
    assert_eq!(notify.notify_time, 1_565_855_785);
    assert_eq!(notify.gmt_payment, Some(1_565_855_784));

    // The signed string is the SDK's: sorted, no sign / sign_type, values as posted.
    let params = parse_urlencoded(body.as_bytes()).unwrap();
    let content = notify_sign_content(params.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    assert!(content.starts_with("app_id=2019073166072302&auth_app_id="), "{content}");
    assert!(content.contains(r#"fund_bill_list=[{"amount":"0.10","fundChannel":"ALIPAYACCOUNT"}]"#));
    assert!(!content.contains("sign_type=") && !content.contains("&sign="));

    // One changed value, a wrong key, a missing or foreign sign_type, a repeat: all refused.
    let tampered = body.replace("total_amount=0.10", "total_amount=0.11");
    assert_ne!(tampered, body);
    assert_eq!(block_on(parse_notify(tampered.as_bytes(), &public)), Err(Error::BadSignature));
    let wrong_key = key(file["alipay_public_key_v2"].as_str().unwrap());
    assert_eq!(block_on(parse_notify(body.as_bytes(), &wrong_key)), Err(Error::BadSignature));
    let rsa1 = body.replace("sign_type=RSA2", "sign_type=RSA");
    assert_eq!(block_on(parse_notify(rsa1.as_bytes(), &public)), Err(Error::Malformed { what: "sign_type" }));
    let repeated = format!("{body}&total_amount=0.10");
    assert_eq!(
        block_on(parse_notify(repeated.as_bytes(), &public)),
        Err(Error::Malformed { what: "repeated parameter" })
    );
    let unsigned: String = encode_pairs(params.iter().filter(|(k, _)| k != "sign").map(|(k, v)| (k.as_str(), v.as_str())));
    assert_eq!(block_on(parse_notify(unsigned.as_bytes(), &public)), Err(Error::Malformed { what: "sign" }));
    // Percent-encoded differently (lower-case hex, `+` for spaces) is the same notification.
    let respelled = body.replace("%20", "+").replace("%2B", "%2b");
    assert_ne!(respelled, body);
    assert_eq!(block_on(parse_notify(respelled.as_bytes(), &public)).unwrap(), notify);
}

#[test]
fn own_notify_round_trip_with_edge_cases() {
    let alipay = RsaPrivateKey::from_text(ALIPAY_PRIVATE, "k").unwrap();
    let public = alipay.public_key().clone();
    let params = [
        ("notify_id", "ac05099524730693a8b330c5ecf72da9786"),
        ("notify_time", "2024-01-01 00:00:01"),
        ("notify_type", "trade_status_sync"),
        ("app_id", "2021000000000001"),
        ("seller_id", "2088000000000001"),
        ("out_trade_no", "EPABCDEFGHIJKLMNOPQRSTUVWX"),
        ("trade_no", "2024010122001400000000000001"),
        ("trade_status", "TRADE_SUCCESS"),
        ("total_amount", "88.88"),
        ("buyer_open_id", "074a1CcTG1LelxKe4xQC0zgNdId0nxi95b5lsNpazWYoCo5"),
        ("gmt_payment", "2024-01-01 00:00:00"),
        ("refund_fee", "1.00"),
        ("out_biz_no", "R-1"),
        ("subject", "a+b c&d=e%f 语雀"),
        ("charset", "utf-8"),
    ];
    let body = block_on(sign_notify(&alipay, &params)).unwrap();
    let notify = block_on(parse_notify(body.as_bytes(), &public)).unwrap();
    assert_eq!(notify.total_amount.fen(), 8888);
    assert_eq!(notify.app_id.as_str(), "2021000000000001");
    assert_eq!(notify.notify_time, 1_704_038_401);
    assert!(notify.is_paid() && notify.is_refund());
    assert_eq!(notify.refund_fee, Some(Amount::from_fen(100).unwrap()));
    assert_eq!(notify.out_biz_no.as_deref(), Some("R-1"));
    assert_eq!(notify.buyer_open_id.as_ref().unwrap().as_str(), "074a1CcTG1LelxKe4xQC0zgNdId0nxi95b5lsNpazWYoCo5");
    // Every single-byte change of the body is refused (or, at worst, unreadable).
    for i in (0..body.len()).step_by(7) {
        let mut bytes = body.clone().into_bytes();
        bytes[i] = if bytes[i] == b'A' { b'B' } else { b'A' };
        assert!(block_on(parse_notify(&bytes, &public)).is_err(), "byte {i} of {body}");
    }
    // Empty values are outside the signed string (the protocol's rule), so adding one changes nothing.
    let with_empty = format!("{body}&passback_params=");
    assert_eq!(block_on(parse_notify(with_empty.as_bytes(), &public)), Ok(notify.clone()));
    // A trade notification must carry the fields the caller checks.
    let no_amount: Vec<(&str, &str)> = params.iter().copied().filter(|(k, _)| *k != "total_amount").collect();
    let body = block_on(sign_notify(&alipay, &no_amount)).unwrap();
    assert_eq!(block_on(parse_notify(body.as_bytes(), &public)), Err(Error::Malformed { what: "total_amount" }));
    // A genuine but unparseable amount is refused, never rounded.
    let mut bad_amount = params.to_vec();
    bad_amount[8] = ("total_amount", "88.8");
    let body = block_on(sign_notify(&alipay, &bad_amount)).unwrap();
    assert_eq!(block_on(parse_notify(body.as_bytes(), &public)), Err(Error::InvalidAmount));
    assert_eq!(block_on(sign_notify(&alipay, &[("sign", "x")])), Err(Error::Malformed { what: "sign" }));
}

#[test]
fn response_vectors_every_case() {
    let file = json(RESPONSE);
    let mut seen = 0;
    for case in file["cases"].as_array().unwrap() {
        let name = case["name"].as_str().unwrap();
        match case["scheme"].as_str().unwrap() {
            "v2-openapi-response" => {
                let raw = case["response_raw"].as_str().unwrap();
                let response_key = case["response_key"].as_str().unwrap();
                let public = key(file[case["public_key"].as_str().unwrap()].as_str().unwrap());
                let parts = signed_parts(raw, response_key).unwrap();
                assert_eq!(parts.content, case["expected_sign_content"].as_str().unwrap(), "{name}");
                let server_sign = case["server_sign"].as_str().unwrap();
                let verdict = block_on(verify(&public, parts.content, server_sign));
                let whole = block_on(verify_signed_parts(raw, response_key, &public)).map(|_| ());
                if case["expected_valid"].as_bool().unwrap() {
                    assert_eq!(parts.sign.as_deref(), Some(server_sign), "{name}");
                    assert_eq!(verdict, Ok(()), "{name}");
                    assert_eq!(whole, Ok(()), "{name}");
                    // One byte changed in the signed member is refused.
                    let tampered = raw.replacen("10000", "10001", 1);
                    assert_eq!(
                        block_on(verify_signed_parts(&tampered, response_key, &public)).map(|_| ()),
                        Err(Error::BadSignature)
                    );
                } else {
                    assert_eq!(verdict, Err(Error::BadSignature), "{name}");
                }
            }
            "v2-openapi-response-extract" => {
                let parts = signed_parts(case["response_raw"].as_str().unwrap(), case["response_key"].as_str().unwrap())
                    .unwrap();
                assert_eq!(parts.content, case["expected_sign_content"].as_str().unwrap(), "{name}");
                // The signature is the top-level one, never the `sign` inside the data.
                assert!(parts.sign.as_deref().unwrap().starts_with("P8xrBWqZ"), "{name}");
            }
            "v3-response" => {
                // OpenAPI v3 is not used by edgepay; the negative vector still must not verify
                // over its documented string with our RSA2 check.
                let headers = &case["response_headers"];
                let content = format!(
                    "{}\n{}\n{}\n",
                    headers["alipay-timestamp"].as_str().unwrap(),
                    headers["alipay-nonce"].as_str().unwrap(),
                    case["response_body"].as_str().unwrap()
                );
                let public = key(file[case["public_key"].as_str().unwrap()].as_str().unwrap());
                let verdict = block_on(verify(&public, &content, headers["alipay-signature"].as_str().unwrap()));
                assert_eq!(verdict, Err(Error::BadSignature), "{name}");
                assert_eq!(case["expected_valid"], false);
            }
            other => panic!("unknown scheme {other}"),
        }
        seen += 1;
    }
    assert_eq!(seen, 6);
}

#[test]
fn own_responses_signed_verified_and_typed() {
    let alipay = RsaPrivateKey::from_text(ALIPAY_PRIVATE, "k").unwrap();
    let public = RsaPublicKey::from_text(ALIPAY_CERT, "k").unwrap();
    // Escapes such as `\/` are signed and verified as sent.
    let precreate = r#"{"code":"10000","msg":"Success","out_trade_no":"EPABCDEFGHIJKLMNOPQRSTUVWX","qr_code":"https:\/\/qr.alipay.com\/bax0"}"#;
    let body = block_on(sign_response(&alipay, Method::Precreate, precreate)).unwrap();
    assert!(body.contains(r#"https:\/\/qr.alipay.com"#));
    let Outcome::Success(result) = block_on(verify_response::<PrecreateResponse>(&body, Method::Precreate, &public)).unwrap()
    else {
        panic!("expected success")
    };
    assert_eq!(result.qr_code, "https://qr.alipay.com/bax0");
    // Re-serialized (the `\/` unescaped) it no longer verifies: the raw text is what is signed.
    let respelled = body.replace(r#"\/"#, "/");
    assert_eq!(
        block_on(verify_response::<PrecreateResponse>(&respelled, Method::Precreate, &public)),
        Err(Error::BadSignature)
    );
    // The answer to another method is not this one's.
    assert_eq!(
        block_on(verify_response::<QueryResponse>(&body, Method::Query, &public)),
        Err(Error::Malformed { what: "response" })
    );

    let query = r#"{"code":"10000","msg":"Success","trade_no":"2024010122001400000000000001","out_trade_no":"EPABCDEFGHIJKLMNOPQRSTUVWX","buyer_logon_id":"159****5620","trade_status":"TRADE_SUCCESS","total_amount":"88.88","buyer_user_id":"2088101117955611","send_pay_date":"2024-01-01 00:00:00"}"#;
    let body = block_on(sign_response(&alipay, Method::Query, query)).unwrap();
    let Outcome::Success(result) = block_on(verify_response::<QueryResponse>(&body, Method::Query, &public)).unwrap() else {
        panic!("expected success")
    };
    assert_eq!(result.total_amount.fen(), 8888);
    assert!(result.trade_status.is_paid());
    assert_eq!(result.buyer_user_id.unwrap().as_str(), "2088101117955611");
    let tampered = body.replace("88.88", "88.89");
    assert_eq!(block_on(verify_response::<QueryResponse>(&tampered, Method::Query, &public)), Err(Error::BadSignature));
    let app_key = key(APP_PUBLIC);
    assert_eq!(block_on(verify_response::<QueryResponse>(&body, Method::Query, &app_key)), Err(Error::BadSignature));

    // Business failures and gateway errors are verified outcomes, not transport errors.
    let failure = r#"{"code":"40004","msg":"Business Failed","sub_code":"ACQ.TRADE_NOT_EXIST","sub_msg":"交易不存在"}"#;
    let body = block_on(sign_response(&alipay, Method::Close, failure)).unwrap();
    let Outcome::Failure(error) = block_on(verify_response::<CloseResponse>(&body, Method::Close, &public)).unwrap() else {
        panic!("expected failure")
    };
    assert!(error.is_trade_not_exist());
    let gateway_error = r#"{"code":"40002","msg":"Invalid Arguments","sub_code":"isv.invalid-app-id","sub_msg":"无效的AppID参数"}"#;
    let body = block_on(sign_error_response(&alipay, gateway_error)).unwrap();
    let outcome = block_on(verify_response::<RefundResponse>(&body, Method::Refund, &public)).unwrap();
    assert!(matches!(outcome, Outcome::Failure(e) if e.sub_code.as_deref() == Some("isv.invalid-app-id")));
    // An unsigned answer is not trusted, whatever it says.
    let unsigned = format!(r#"{{"error_response":{gateway_error}}}"#);
    assert_eq!(
        block_on(verify_response::<RefundResponse>(&unsigned, Method::Refund, &public)),
        Err(Error::Malformed { what: "sign" })
    );

    let refund = r#"{"code":"10000","msg":"Success","trade_no":"2024010122001400000000000001","out_trade_no":"EPABCDEFGHIJKLMNOPQRSTUVWX","buyer_logon_id":"159****5620","fund_change":"Y","refund_fee":"10.00"}"#;
    let body = block_on(sign_response(&alipay, Method::Refund, refund)).unwrap();
    let Outcome::Success(result) = block_on(verify_response::<RefundResponse>(&body, Method::Refund, &public)).unwrap() else {
        panic!("expected success")
    };
    assert!(result.moved_money());
    assert_eq!(result.refund_fee.unwrap().fen(), 1000);
    assert_eq!(block_on(sign_response(&alipay, Method::Refund, "[1]")), Err(Error::Malformed { what: "response" }));
}

fn merchant() -> Merchant {
    Merchant { app_id: AppId::new("2021000000000001").unwrap(), gateway: PRODUCTION_GATEWAY.to_owned(), cert_serials: None }
}

fn order() -> Order {
    Order {
        out_trade_no: OutTradeNo::new("EPABCDEFGHIJKLMNOPQRSTUVWX").unwrap(),
        total_amount: Amount::from_fen(8888).unwrap(),
        subject: "Tea \"Long Jing\" <50g> 龙井".to_owned(),
        expiry: Some(Expiry::AfterMinutes(15)),
    }
}

#[test]
fn page_pay_request_signed_in_beijing_time() {
    let app = RsaPrivateKey::from_text(APP_PRIVATE, "k").unwrap();
    let urls = Urls {
        notify_url: Some("https://pay.example/v1/notify/alipay".to_owned()),
        return_url: Some("https://shop.example/return?session=cs_1&x=1".to_owned()),
    };
    // 2023-12-31 16:30:00Z is already 2024 in Beijing.
    let request = block_on(sign_request(&merchant(), &Request::PagePay(order()), &urls, 1_704_040_200, &app)).unwrap();
    assert_eq!(request.method(), Method::PagePay);
    assert_eq!(request.param("timestamp"), Some("2024-01-01 00:30:00"));
    assert_eq!(request.param("method"), Some("alipay.trade.page.pay"));
    assert_eq!(request.param("format"), Some("JSON"));
    assert_eq!(request.param("charset"), Some("utf-8"));
    assert_eq!(request.param("sign_type"), Some("RSA2"));
    assert_eq!(request.param("version"), Some("1.0"));
    assert_eq!(
        request.param("biz_content"),
        Some(r#"{"out_trade_no":"EPABCDEFGHIJKLMNOPQRSTUVWX","total_amount":"88.88","subject":"Tea \"Long Jing\" <50g> 龙井","product_code":"FAST_INSTANT_TRADE_PAY","timeout_express":"15m"}"#)
    );
    // The signature covers every parameter but sign, sorted, unencoded.
    let public = key(APP_PUBLIC);
    block_on(verify_request(request.params(), &public)).unwrap();
    let content = sign_content(request.params().iter().map(|(k, v)| (k.as_str(), v.as_str())), &["sign"]);
    assert!(content.starts_with("app_id=2021000000000001&biz_content={\"out_trade_no\""), "{content}");
    assert!(content.contains("&return_url=https://shop.example/return?session=cs_1&x=1&sign_type=RSA2&"));
    block_on(verify(&public, &content, request.param("sign").unwrap())).unwrap();

    // The URL's query decodes back to exactly the signed parameters.
    let url = request.page_url();
    let (gateway, query) = url.split_once('?').unwrap();
    assert_eq!(gateway, PRODUCTION_GATEWAY);
    assert!(!query.contains(' ') && !query.contains('"') && !query.contains("&x=1"));
    assert_eq!(parse_urlencoded(query.as_bytes()).unwrap(), request.params());
    // The form posts the same fields, with charset on the action; the HTML escapes them.
    let form = request.page_form();
    assert_eq!(form.action, format!("{PRODUCTION_GATEWAY}?charset=utf-8"));
    assert_eq!(form.method, FormMethod::Post);
    assert_eq!(form.fields, request.params());
    let html = form.to_html();
    assert!(html.contains("Tea \\&quot;Long Jing\\&quot; &lt;50g&gt; 龙井"), "{html}");
    assert!(!html.contains("<50g>"));
    // A changed parameter no longer verifies.
    let mut tampered = request.params().to_vec();
    tampered[0].1.push('0');
    assert_eq!(block_on(verify_request(&tampered, &public)), Err(Error::BadSignature));
}

#[test]
fn every_method_builds_its_biz_content() {
    let app = RsaPrivateKey::from_text(APP_PRIVATE, "k").unwrap();
    let public = key(APP_PUBLIC);
    let by_out = TradeRef::OutTradeNo(OutTradeNo::new("EPABCDEFGHIJKLMNOPQRSTUVWX").unwrap());
    let cases = [
        (
            Request::WapPay { order: Order { expiry: Some(Expiry::At(1_704_067_200)), ..order() }, quit_url: Some("https://shop.example/quit".into()) },
            r#"{"out_trade_no":"EPABCDEFGHIJKLMNOPQRSTUVWX","total_amount":"88.88","subject":"Tea \"Long Jing\" <50g> 龙井","product_code":"QUICK_WAP_WAY","time_expire":"2024-01-01 08:00:00","quit_url":"https://shop.example/quit"}"#,
        ),
        (
            Request::Precreate(Order { expiry: None, ..order() }),
            r#"{"out_trade_no":"EPABCDEFGHIJKLMNOPQRSTUVWX","total_amount":"88.88","subject":"Tea \"Long Jing\" <50g> 龙井","product_code":"FACE_TO_FACE_PAYMENT"}"#,
        ),
        (Request::Query(by_out.clone()), r#"{"out_trade_no":"EPABCDEFGHIJKLMNOPQRSTUVWX"}"#),
        (
            Request::Close(TradeRef::TradeNo(payment_core::alipay::TradeNo::new("2024010122001400000000000001").unwrap())),
            r#"{"trade_no":"2024010122001400000000000001"}"#,
        ),
        (
            Request::Refund {
                trade: by_out,
                refund_amount: Amount::from_fen(1000).unwrap(),
                out_request_no: OutRefundNo::new("RF1").unwrap(),
                refund_reason: Some("customer asked".into()),
            },
            r#"{"out_trade_no":"EPABCDEFGHIJKLMNOPQRSTUVWX","refund_amount":"10.00","out_request_no":"RF1","refund_reason":"customer asked"}"#,
        ),
    ];
    let serials = CertSerials { app_cert_sn: "a".into(), alipay_root_cert_sn: "b_c".into() };
    let merchant = Merchant { cert_serials: Some(serials), ..merchant() };
    for (request, expected) in cases {
        assert_eq!(request.biz_content().unwrap(), expected);
        let signed = block_on(sign_request(&merchant, &request, &Urls::default(), 0, &app)).unwrap();
        assert_eq!(signed.param("method"), Some(request.method().as_str()));
        assert_eq!(signed.param("timestamp"), Some("1970-01-01 08:00:00"));
        assert_eq!(signed.param("app_cert_sn"), Some("a"));
        assert_eq!(signed.param("alipay_root_cert_sn"), Some("b_c"));
        assert_eq!(signed.param("notify_url"), None, "empty parameters are not sent");
        block_on(verify_request(signed.params(), &public)).unwrap();
        let post = signed.post();
        assert_eq!(post.url, format!("{PRODUCTION_GATEWAY}?charset=utf-8"));
        assert_eq!(parse_urlencoded(post.body.as_bytes()).unwrap(), signed.params());
    }
    assert_eq!(POST_CONTENT_TYPE, "application/x-www-form-urlencoded;charset=utf-8");
}

#[test]
fn requests_refuse_what_alipay_would() {
    let app = RsaPrivateKey::from_text(APP_PRIVATE, "k").unwrap();
    let build = |request: Request| block_on(sign_request(&merchant(), &request, &Urls::default(), 0, &app)).map(|_| ());
    assert_eq!(build(Request::PagePay(Order { total_amount: Amount::ZERO, ..order() })), Err(Error::InvalidAmount));
    for subject in ["", "a/b", "a=b", "a&b", "line\nbreak", &"长".repeat(257)] {
        let request = Request::PagePay(Order { subject: subject.to_owned(), ..order() });
        assert_eq!(build(request), Err(Error::Malformed { what: "subject" }), "{subject:?}");
    }
    for minutes in [0, 21_601] {
        let request = Request::PagePay(Order { expiry: Some(Expiry::AfterMinutes(minutes)), ..order() });
        assert_eq!(build(request), Err(Error::Malformed { what: "timeout_express" }));
    }
    assert_eq!(
        build(Request::PagePay(Order { expiry: Some(Expiry::At(u64::MAX)), ..order() })),
        Err(Error::Malformed { what: "timestamp" })
    );
    let refund = Request::Refund {
        trade: TradeRef::OutTradeNo(OutTradeNo::new("EP123456").unwrap()),
        refund_amount: Amount::ZERO,
        out_request_no: OutRefundNo::new("R").unwrap(),
        refund_reason: None,
    };
    assert_eq!(build(refund), Err(Error::InvalidAmount));
}

#[test]
fn cert_sn_vectors_every_case() {
    let file = json(CERT_SN);
    let mut seen = 0;
    for case in file["cases"].as_array().unwrap() {
        let name = case["name"].as_str().unwrap();
        let pem = file["certificates"][case["certificate"].as_str().unwrap()].as_str().unwrap();
        if let Some(expected) = case["expected_sn"].as_str() {
            let sn = if case["is_root"].as_bool().unwrap() { root_cert_sn(pem) } else { cert_sn(pem) };
            assert_eq!(sn.unwrap(), expected, "{name}");
        } else {
            let spki = public_key_spki(pem).unwrap();
            let b64 = base64::engine::general_purpose::STANDARD.encode(spki);
            assert_eq!(b64, case["expected_public_key_b64"].as_str().unwrap(), "{name}");
        }
        seen += 1;
    }
    assert_eq!(seen, 4);
    // The issuer name is written in reverse RDN order with short names.
    let app_cert = file["certificates"]["appCertPublicKey_2021001161683774.crt"].as_str().unwrap();
    let der = certificates_der(app_cert).unwrap().remove(0);
    assert_eq!(
        issuer_name(&der).unwrap(),
        "CN=Ant Financial Certification Authority Class 1 R1,OU=Certification Authority,O=Ant Financial,C=CN"
    );
    assert!(root_cert_sn("no certificate").is_err());
    // A bundle without any RSA-signed certificate has no root SN.
    let bundle = file["certificates"]["alipayRootCert.crt"].as_str().unwrap();
    let sm2_only = &bundle[..bundle.find("-----END CERTIFICATE-----").unwrap() + 25];
    assert_eq!(root_cert_sn(sm2_only), Err(Error::InvalidKey { what: "certificate" }));
}
