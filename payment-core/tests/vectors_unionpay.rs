//! UnionPay ACP 5.1.0: known answers from the published vectors (../shared/vectors/unionpay.json,
//! from yansongda/pay's tests) and our own chain, tamper and request cases.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

use base64::Engine as _;
use payment_core::beijing_time::BeijingTime;
use payment_core::crypto::RsaVerifier;
use payment_core::form::{encode_pairs, parse_urlencoded, FormMethod};
use payment_core::ids::OutTradeNo;
use payment_core::money::Amount;
use payment_core::native::{block_on, RsaPrivateKey, RsaPublicKey};
use payment_core::unionpay::notify::{
    insecure_parse_notify_without_chain, insecure_parse_response_without_chain, parse_raw_fields,
};
use payment_core::unionpay::sign::{sign_content, signed_digest, verify_fields};
use payment_core::unionpay::trust::signer_name;
use payment_core::unionpay::{
    front_consume, parse_notify, parse_response, query, sign_message, Channel, FrontConsume, Merchant, MerId,
    TrustAnchors, TxnType, UnionpayOrderId, UNIONPAY_SIGNER,
};
use payment_core::x509::Certificate;
use payment_core::{Error, Result};
use serde_json::Value;

const VECTORS: &str = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/vectors/unionpay.json"));

// Test-only keys (fixtures/README.md).
const ROOT: &str = include_str!("../fixtures/test_ca_root.cert.pem");
const MIDDLE: &str = include_str!("../fixtures/test_ca_middle.cert.pem");
const LEAF: &str = include_str!("../fixtures/test_leaf.cert.pem");
const LEAF_KEY: &str = include_str!("../fixtures/test_leaf.key.pem");
const LEAF_FROM_ROOT: &str = include_str!("../fixtures/test_leaf_from_root.cert.pem");
const OTHER_CERT: &str = include_str!("../fixtures/test_rsa_a.cert.pem");
const OTHER_KEY: &str = include_str!("../fixtures/test_rsa_a.pkcs8.pem");
const TEST_SIGNER: &str = "edgepay test signing cert (test only)";

fn verifier_for(spki: &[u8]) -> Result<RsaPublicKey> {
    RsaPublicKey::from_spki_der(spki, "signPubKeyCert")
}

fn cert(pem: &str) -> Certificate {
    Certificate::all_from_pem(pem).unwrap().remove(0)
}

fn anchors() -> TrustAnchors {
    TrustAnchors::from_pem(ROOT, MIDDLE, TEST_SIGNER).unwrap()
}

/// A moment when the whole fixture chain is valid.
fn fixture_now() -> u64 {
    let starts = [ROOT, MIDDLE, LEAF, LEAF_FROM_ROOT].map(|pem| cert(pem).validity().0);
    starts.into_iter().max().unwrap() + 60
}

fn vector_fields(case: &Value) -> Vec<(String, String)> {
    case["fields"].as_object().unwrap().iter().map(|(k, v)| (k.clone(), v.as_str().unwrap().to_owned())).collect()
}

fn form(fields: &[(String, String)]) -> String {
    encode_pairs(fields.iter().map(|(k, v)| (k.as_str(), v.as_str())))
}

/// The vector's own time, from its `txnTime` (Beijing).
fn vector_time(fields: &[(String, String)]) -> u64 {
    let txn_time = fields.iter().find(|(k, _)| k == "txnTime").unwrap();
    BeijingTime::parse_compact(&txn_time.1, "txnTime").unwrap().unix()
}

#[test]
fn vectors_every_case() {
    let file: Value = serde_json::from_str(VECTORS).unwrap();
    let vector_cert = cert(file["unipay_public_cert_pem"].as_str().unwrap());
    let mut seen = 0;
    for case in file["cases"].as_array().unwrap() {
        let name = case["name"].as_str().unwrap();
        assert_eq!(case["expected_valid"], true, "{name}");
        if let Some(signed_string) = case["signed_string"].as_str() {
            // The literal string: our content builder reproduces it from its fields, and the
            // signature is over its lowercase hex SHA-256, not over the string.
            let fields = parse_raw_fields(signed_string.as_bytes()).unwrap();
            assert_eq!(sign_content(fields.iter().map(|(k, v)| (k.as_str(), v.as_str()))), signed_string, "{name}");
            let key = verifier_for(vector_cert.spki_der()).unwrap();
            let signature =
                base64::engine::general_purpose::STANDARD.decode(case["signature_b64"].as_str().unwrap()).unwrap();
            block_on(key.verify(signed_digest(signed_string).as_bytes(), &signature)).unwrap();
            assert_eq!(block_on(key.verify(signed_string.as_bytes(), &signature)), Err(Error::BadSignature));
            let mut with_signature = fields.clone();
            with_signature.push(("signature".to_owned(), case["signature_b64"].as_str().unwrap().to_owned()));
            block_on(verify_fields(&with_signature, &key)).unwrap();
        } else if case.get("fields").is_some() {
            // A notification as the form body UnionPay POSTs.
            let fields = vector_fields(case);
            let body = form(&fields);
            let notify = block_on(insecure_parse_notify_without_chain(body.as_bytes(), verifier_for)).unwrap();
            assert!(notify.is_success(), "{name}");
            assert_eq!(notify.txn_amt, Amount::from_fen(1).unwrap(), "{name}");
            assert_eq!(notify.mer_id.as_str(), "777290058167151");
            assert_eq!(notify.txn_type, TxnType::Consume);
            assert_eq!(notify.txn_time, vector_time(&fields));
            // One changed field is refused.
            let tampered = body.replace("txnAmt=1", "txnAmt=2");
            assert_ne!(tampered, body);
            assert_eq!(
                block_on(insecure_parse_notify_without_chain(tampered.as_bytes(), verifier_for)),
                Err(Error::BadSignature),
                "{name}"
            );
            // With trust required, CFCA's test certificate does not chain to our anchors.
            let now = vector_time(&fields);
            assert!(vector_cert.valid_at(now), "{name}: the vector's certificate was valid at its time");
            assert_eq!(
                block_on(parse_notify(body.as_bytes(), &anchors(), verifier_for, now)),
                Err(Error::UntrustedCertificate),
                "{name}"
            );
        } else {
            // A gateway answer, raw (values not percent-encoded, CRLF in the certificate).
            let raw = case["response_raw"].as_str().unwrap();
            let response = block_on(insecure_parse_response_without_chain(raw.as_bytes(), verifier_for)).unwrap();
            assert!(response.resp_code.is_success(), "{name}");
            match response.txn_type {
                TxnType::Consume => {
                    assert!(response.is_paid(), "{name}");
                    assert_eq!(response.order_id.as_str(), "pay20240105145046");
                }
                TxnType::ConsumeCancel | TxnType::Refund => {
                    assert!(!response.is_paid(), "{name}: no origRespCode");
                    assert!(response.orig_qry_id.is_some(), "{name}");
                }
                ref other => panic!("{name}: unexpected {other:?}"),
            }
            assert_eq!(response.txn_amt, Some(Amount::from_fen(1).unwrap()));
            let tampered = raw.replacen("txnAmt=1", "txnAmt=2", 1);
            assert_ne!(tampered, raw);
            assert_eq!(
                block_on(insecure_parse_response_without_chain(tampered.as_bytes(), verifier_for)),
                Err(Error::BadSignature),
                "{name}"
            );
            // Decoding the raw answer as a form would turn `+` into spaces and break the signature.
            let as_form = block_on(insecure_parse_notify_without_chain(raw.as_bytes(), verifier_for));
            assert!(as_form.is_err(), "{name}");
            let fields = parse_raw_fields(raw.as_bytes()).unwrap();
            assert_eq!(
                block_on(parse_response(raw.as_bytes(), &anchors(), verifier_for, vector_time(&fields))),
                Err(Error::UntrustedCertificate),
                "{name}"
            );
        }
        seen += 1;
    }
    assert_eq!(seen, 6);
    // The vector's certificate is UnionPay's by name, and expired today.
    assert_eq!(signer_name(&vector_cert).as_deref(), Some(UNIONPAY_SIGNER));
    assert_eq!(vector_cert.serial_decimal(), "69678957876");
    assert!(!vector_cert.valid_at(fixture_now()));
}

fn notify_fields() -> Vec<(&'static str, &'static str)> {
    vec![
        ("accessType", "0"),
        ("bizType", "000201"),
        ("currencyCode", "156"),
        ("encoding", "UTF-8"),
        ("merId", "777290058167151"),
        ("orderId", "EPABCDEFGHIJKLMNOPQRSTUVWX"),
        ("queryId", "782209081322060674028"),
        ("respCode", "00"),
        ("respMsg", "成功[0000000]"),
        ("settleAmt", "8888"),
        ("settleDate", "0101"),
        ("traceNo", "067402"),
        ("txnAmt", "8888"),
        ("txnSubType", "01"),
        ("txnTime", "20240101003000"),
        ("txnType", "01"),
        ("reqReserved", ""),
    ]
}

fn signed_notify(key: &str, cert_pem: &str) -> String {
    let signer = RsaPrivateKey::from_text(key, "k").unwrap();
    block_on(sign_message(&signer, cert_pem, &notify_fields())).unwrap().form_body()
}

#[test]
fn chain_to_configured_root_and_middle() {
    let now = fixture_now();
    let body = signed_notify(LEAF_KEY, LEAF);
    let notify = block_on(parse_notify(body.as_bytes(), &anchors(), verifier_for, now)).unwrap();
    assert!(notify.is_success());
    assert_eq!(notify.order_id.as_str(), "EPABCDEFGHIJKLMNOPQRSTUVWX");
    assert_eq!(notify.txn_amt.fen(), 8888);
    assert_eq!(notify.settle_amt, Some(Amount::from_fen(8888).unwrap()));
    assert_eq!(notify.txn_time, 1_704_040_200);
    assert_eq!(notify.query_id.unwrap().as_str(), "782209081322060674028");
    assert_eq!(notify.resp_msg.as_deref(), Some("成功[0000000]"));

    let refuse = |body: &str, anchors: &TrustAnchors, now: u64| {
        block_on(parse_notify(body.as_bytes(), anchors, verifier_for, now)).map(|_| ())
    };
    // Wrong root: another self-signed certificate, or the middle posing as the root.
    let wrong_root = TrustAnchors::from_pem(OTHER_CERT, MIDDLE, TEST_SIGNER).unwrap();
    assert_eq!(refuse(&body, &wrong_root, now), Err(Error::UntrustedCertificate));
    let middle_as_root = TrustAnchors::from_pem(MIDDLE, MIDDLE, TEST_SIGNER).unwrap();
    assert_eq!(refuse(&body, &middle_as_root, now), Err(Error::UntrustedCertificate));
    // Expired (or not yet valid) at the injected time.
    let (not_before, not_after) = cert(LEAF).validity();
    assert_eq!(refuse(&body, &anchors(), not_after + 1), Err(Error::UntrustedCertificate));
    assert_eq!(refuse(&body, &anchors(), not_before - 1), Err(Error::UntrustedCertificate));
    assert_eq!(refuse(&body, &anchors(), not_after), Ok(()));
    // A leaf the root signed directly, same key and name: the middle is required.
    let skipping_middle = signed_notify(LEAF_KEY, LEAF_FROM_ROOT);
    assert_eq!(refuse(&skipping_middle, &anchors(), now), Err(Error::UntrustedCertificate));
    // A chain-valid certificate that is not the configured signer's (CFCA signs for many companies).
    let unionpay_only = TrustAnchors::from_pem(ROOT, MIDDLE, UNIONPAY_SIGNER).unwrap();
    assert_eq!(refuse(&body, &unionpay_only, now), Err(Error::UntrustedCertificate));
    // A self-signed certificate with its own valid signature.
    let self_signed = signed_notify(OTHER_KEY, OTHER_CERT);
    assert_eq!(refuse(&self_signed, &anchors(), now), Err(Error::UntrustedCertificate));
    // The trusted certificate attached to a message someone else signed.
    let forged = signed_notify(OTHER_KEY, LEAF);
    assert_eq!(refuse(&forged, &anchors(), now), Err(Error::BadSignature));
    // A tampered field.
    let tampered = body.replace("txnAmt=8888", "txnAmt=8889");
    assert_ne!(tampered, body);
    assert_eq!(refuse(&tampered, &anchors(), now), Err(Error::BadSignature));
    // Every few bytes of the body, changed one at a time.
    for i in (0..body.len()).step_by(11) {
        let mut bytes = body.clone().into_bytes();
        bytes[i] = if bytes[i] == b'A' { b'B' } else { b'A' };
        assert!(block_on(parse_notify(&bytes, &anchors(), verifier_for, now)).is_err(), "byte {i}");
    }
    // Protocol fields that decide how to verify.
    let rsa1 = body.replace("signMethod=01", "signMethod=11");
    assert_eq!(refuse(&rsa1, &anchors(), now), Err(Error::Malformed { what: "signMethod" }));
    let old = body.replace("version=5.1.0", "version=5.0.0");
    assert_eq!(refuse(&old, &anchors(), now), Err(Error::Malformed { what: "version" }));
    let repeated = format!("{body}&txnAmt=8888");
    assert_eq!(refuse(&repeated, &anchors(), now), Err(Error::Malformed { what: "repeated field" }));
    let no_cert: String = form(
        &parse_urlencoded(body.as_bytes()).unwrap().into_iter().filter(|(k, _)| k != "signPubKeyCert").collect::<Vec<_>>(),
    );
    assert_eq!(refuse(&no_cert, &anchors(), now), Err(Error::Malformed { what: "signPubKeyCert" }));
    let two_certs = body.replace(
        &encode_pairs([("signPubKeyCert", LEAF)]),
        &encode_pairs([("signPubKeyCert", format!("{LEAF}{MIDDLE}").as_str())]),
    );
    assert_ne!(two_certs, body);
    assert_eq!(refuse(&two_certs, &anchors(), now), Err(Error::Malformed { what: "signPubKeyCert" }));
}

/// The anchors remember the last signing certificate that passed: the same PEM text passes again
/// without its chain being checked (only the message's own signature is), but only within the
/// three validity periods, and nothing else about a message is taken on trust.
#[test]
fn a_certificate_that_passed_is_remembered_within_its_validity() {
    use std::cell::Cell;
    let now = fixture_now();
    let keys_made = Cell::new(0);
    let counting = |spki: &[u8]| {
        keys_made.set(keys_made.get() + 1);
        verifier_for(spki)
    };
    let anchors = anchors();
    let body = signed_notify(LEAF_KEY, LEAF);
    let parse = |body: &str, now: u64| block_on(parse_notify(body.as_bytes(), &anchors, counting, now)).map(|_| ());

    assert_eq!(parse(&body, now), Ok(()));
    assert_eq!(keys_made.replace(0), 3, "the middle's, the root's and the leaf's keys");
    assert_eq!(parse(&body, now + 3600), Ok(()));
    assert_eq!(keys_made.replace(0), 1, "the leaf's key alone: the chain is remembered");

    // Outside any of the validity periods the remembered pass does not hold.
    let (not_before, not_after) = cert(LEAF).validity();
    assert_eq!(parse(&body, not_after + 1), Err(Error::UntrustedCertificate));
    assert_eq!(parse(&body, not_before - 1), Err(Error::UntrustedCertificate));
    let middle_until = cert(MIDDLE).validity().1;
    let root_until = cert(ROOT).validity().1;
    if middle_until.min(root_until) < not_after {
        assert_eq!(parse(&body, middle_until.min(root_until) + 1), Err(Error::UntrustedCertificate));
    }
    assert_eq!(parse(&body, now), Ok(()));

    // The remembered certificate does not vouch for a message it did not sign, or a tampered one.
    assert_eq!(parse(&signed_notify(OTHER_KEY, LEAF), now), Err(Error::BadSignature));
    assert_eq!(parse(&body.replace("txnAmt=8888", "txnAmt=8889"), now), Err(Error::BadSignature));
    // Another certificate is checked in full, and a refused one is not remembered.
    keys_made.set(0);
    let self_signed = signed_notify(OTHER_KEY, OTHER_CERT);
    assert_eq!(parse(&self_signed, now), Err(Error::UntrustedCertificate));
    assert_eq!(parse(&self_signed, now), Err(Error::UntrustedCertificate));
    assert_eq!(parse(&signed_notify(LEAF_KEY, LEAF_FROM_ROOT), now), Err(Error::UntrustedCertificate));
    // The trusted one again: still the last that passed, so only its message's signature is checked.
    keys_made.set(0);
    assert_eq!(parse(&body, now), Ok(()));
    assert_eq!(keys_made.get(), 1);
    // A copy of the anchors starts with nothing remembered.
    let copy = anchors.clone();
    keys_made.set(0);
    assert_eq!(block_on(parse_notify(body.as_bytes(), &copy, counting, now)).map(|_| ()), Ok(()));
    assert_eq!(keys_made.get(), 3);
}

#[test]
fn own_gateway_answer_round_trip() {
    let signer = RsaPrivateKey::from_text(LEAF_KEY, "k").unwrap();
    let fields = [
        ("accessType", "0"),
        ("bizType", "000000"),
        ("encoding", "UTF-8"),
        ("merId", "777290058167151"),
        ("orderId", "EPABCDEFGHIJKLMNOPQRSTUVWX"),
        ("origRespCode", "00"),
        ("origRespMsg", "成功[0000000]"),
        ("queryId", "782209081322060674028"),
        ("respCode", "00"),
        ("respMsg", "成功[0000000]"),
        ("txnAmt", "8888"),
        ("txnSubType", "00"),
        ("txnTime", "20240101003000"),
        ("txnType", "00"),
        ("reqReserved", "{a=1&b=2}"),
    ];
    let raw = block_on(sign_message(&signer, LEAF, &fields)).unwrap().raw_body();
    assert!(raw.contains("\n-----END CERTIFICATE-----"), "the certificate travels unencoded");
    let response = block_on(parse_response(raw.as_bytes(), &anchors(), verifier_for, fixture_now())).unwrap();
    assert!(response.is_paid());
    assert_eq!(response.txn_type, TxnType::Query);
    // Pending or failed originals are not paid.
    for orig in ["05", "01"] {
        let mut changed = fields.to_vec();
        changed[5].1 = orig;
        let raw = block_on(sign_message(&signer, LEAF, &changed)).unwrap().raw_body();
        let response = block_on(parse_response(raw.as_bytes(), &anchors(), verifier_for, fixture_now())).unwrap();
        assert!(!response.is_paid(), "{orig}");
        assert_eq!(response.orig_resp_code.unwrap().is_pending(), orig == "05");
    }
    let tampered = raw.replace("origRespCode=00", "origRespCode=01");
    assert_eq!(
        block_on(parse_response(tampered.as_bytes(), &anchors(), verifier_for, fixture_now())),
        Err(Error::BadSignature)
    );
    assert_eq!(
        block_on(sign_message(&signer, LEAF, &[("signature", "x")])),
        Err(Error::Malformed { what: "signature" })
    );
}

fn merchant() -> Merchant {
    Merchant {
        mer_id: MerId::new("777290058167151").unwrap(),
        cert_id: Merchant::cert_id_of(&cert(OTHER_CERT)),
        front_trans_url: "https://gateway.test.95516.com/gateway/api/frontTransReq.do".to_owned(),
        query_trans_url: "https://gateway.test.95516.com/gateway/api/queryTrans.do".to_owned(),
    }
}

#[test]
fn front_consume_form_and_query_request() {
    let signer = RsaPrivateKey::from_text(OTHER_KEY, "merchant").unwrap();
    let public = signer.public_key().clone();
    let order_id = UnionpayOrderId::try_from(&OutTradeNo::new("EPABCDEFGHIJKLMNOPQRSTUVWX").unwrap()).unwrap();
    let consume = FrontConsume {
        order_id: order_id.clone(),
        txn_amt: Amount::from_fen(8888).unwrap(),
        channel: Channel::Mobile,
        // 2023-12-31 16:30:00Z, already 2024 in Beijing.
        txn_time: 1_704_040_200,
        pay_timeout: Some(1_704_041_100),
        front_url: "https://shop.example/return?s=1&t=2".to_owned(),
        back_url: "https://pay.example/v1/notify/unionpay".to_owned(),
    };
    let form = block_on(front_consume(&merchant(), &consume, &signer)).unwrap();
    assert_eq!(form.method, FormMethod::Post);
    assert_eq!(form.action, merchant().front_trans_url);
    let get = |name: &str| form.fields.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str());
    for (name, value) in [
        ("version", "5.1.0"),
        ("encoding", "UTF-8"),
        ("txnType", "01"),
        ("txnSubType", "01"),
        ("bizType", "000201"),
        ("channelType", "08"),
        ("accessType", "0"),
        ("merId", "777290058167151"),
        ("orderId", "EPABCDEFGHIJKLMNOPQRSTUVWX"),
        ("txnTime", "20240101003000"),
        ("payTimeout", "20240101004500"),
        ("txnAmt", "8888"),
        ("currencyCode", "156"),
        ("frontUrl", "https://shop.example/return?s=1&t=2"),
        ("backUrl", "https://pay.example/v1/notify/unionpay"),
        ("signMethod", "01"),
        ("certId", "28772997619311"),
    ] {
        assert_eq!(get(name), Some(value), "{name}");
    }
    assert_eq!(form.fields.len(), 18);
    block_on(verify_fields(&form.fields, &public)).unwrap();
    let mut tampered = form.fields.clone();
    tampered.iter_mut().find(|(k, _)| k == "txnAmt").unwrap().1 = "8889".to_owned();
    assert_eq!(block_on(verify_fields(&tampered, &public)), Err(Error::BadSignature));
    let html = form.to_html();
    assert!(html.contains("value=\"https://shop.example/return?s=1&amp;t=2\""), "{html}");

    let pc = FrontConsume { channel: Channel::Pc, pay_timeout: None, ..consume.clone() };
    let form = block_on(front_consume(&merchant(), &pc, &signer)).unwrap();
    assert!(form.fields.contains(&("channelType".to_owned(), "07".to_owned())));
    assert!(!form.fields.iter().any(|(k, _)| k == "payTimeout"), "empty fields are not sent");
    let zero = FrontConsume { txn_amt: Amount::ZERO, ..consume };
    assert_eq!(block_on(front_consume(&merchant(), &zero, &signer)), Err(Error::InvalidAmount));

    let post = block_on(query(&merchant(), &order_id, 1_704_040_200, &signer)).unwrap();
    assert_eq!(post.url, merchant().query_trans_url);
    let fields = parse_urlencoded(post.body.as_bytes()).unwrap();
    block_on(verify_fields(&fields, &public)).unwrap();
    let content = sign_content(fields.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    assert_eq!(
        content,
        "accessType=0&bizType=000000&certId=28772997619311&encoding=UTF-8&merId=777290058167151&orderId=EPABCDEFGHIJKLMNOPQRSTUVWX&signMethod=01&txnSubType=00&txnTime=20240101003000&txnType=00&version=5.1.0"
    );
}
