//! Cross-check of `payment_core::wechatpay` with npm `wechatpay-axios-plugin` (tests/xcheck/wechatpay.mjs),
//! both directions, with the test-only fixture keys:
//! - our `Authorization` headers, `paySign`, response signatures verify with their `Rsa.verify` over
//!   their `Formatter` messages, and our encrypted resources decrypt with their `Aes.AesGcm`;
//! - their headers (parameters in their own order), `paySign`, response signatures and whole
//!   callbacks (their AesGcm, their signature) verify, decrypt and parse with ours;
//! - one-byte tampering is refused on both sides.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;

use payment_core::ids::{AppId, MchId};
use payment_core::native::{block_on, AesGcmKey, RsaPrivateKey, RsaPublicKey};
use payment_core::wechatpay::model::{EventType, PrepayId, TradeState};
use payment_core::wechatpay::notify::encrypt_resource;
use payment_core::wechatpay::sign::Request;
use payment_core::wechatpay::{
    authorization, jsapi_params, parse_authorization, parse_notification, platform_certificates, sign_response,
    verify_authorization, verify_jsapi_params, verify_response, ApiV3Key, JsapiParams, NotificationResource,
    WechatpayHeaders,
};
use payment_core::Error;
use serde_json::{json, Value};

const MERCHANT_KEY: &str = include_str!("../../payment-core/fixtures/test_rsa_a.pkcs8.pem");
const MERCHANT_PUBLIC: &str = include_str!("../../payment-core/fixtures/test_rsa_a.spki.pem");
const PLATFORM_KEY: &str = include_str!("../../payment-core/fixtures/test_leaf.key.pem");
const PLATFORM_CERT: &str = include_str!("../../payment-core/fixtures/test_leaf.cert.pem");
const APIV3_KEY_FILE: &str = include_str!("../../payment-core/fixtures/test_wechatpay_apiv3_key.txt");
const MCHID: &str = "1900000109";
const MERCHANT_SERIAL: &str = "1A2B3C4D5E6F";
const TS: u64 = 1_800_000_000;

struct Requests {
    method: &'static str,
    target: &'static str,
    body: &'static str,
    nonce: &'static str,
}

const REQUESTS: [Requests; 3] = [
    Requests {
        method: "POST",
        target: "/v3/pay/transactions/jsapi",
        body: r#"{"appid":"wxd678efh567hg6787","mchid":"1900000109","description":"Image形象店-深圳腾大-QQ公仔","out_trade_no":"EP2024070100000000000001","notify_url":"https://edgepay.example/v1/notify/wechatpay","amount":{"total":100,"currency":"CNY"},"payer":{"openid":"oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"}}"#,
        nonce: "593BEC0C930BF1AFEB40B4A08C8FB242",
    },
    Requests {
        method: "GET",
        target: "/v3/pay/transactions/out-trade-no/EP2024070100000000000001?mchid=1900000109",
        body: "",
        nonce: "C3D4E5F6G7A1B2C3D4E5F6G7A1B2C3D4",
    },
    Requests {
        method: "POST",
        target: "/v3/certificates",
        body: "Hello World!\n",
        nonce: "A1B2C3D4E5F6G7",
    },
];

const TRANSACTION: &str = r#"{"transaction_id":"4200000891202103228088184743","amount":{"payer_total":100,"total":100,"currency":"CNY","payer_currency":"CNY"},"mchid":"1900000109","trade_state":"SUCCESS","bank_type":"OTHERS","success_time":"2027-01-15T16:00:00+08:00","payer":{"openid":"oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"},"out_trade_no":"EP2024070100000000000001","appid":"wxd678efh567hg6787","trade_state_desc":"支付成功","trade_type":"JSAPI","attach":"cs_abc"}"#;

fn flip_byte(text: &str, at: usize) -> Vec<u8> {
    let mut bytes = text.as_bytes().to_vec();
    bytes[at] ^= 0x01;
    bytes
}

#[test]
fn wechatpay_interoperates_with_wechatpay_axios_plugin() {
    let merchant = RsaPrivateKey::from_text(MERCHANT_KEY, "test").unwrap();
    let platform = RsaPrivateKey::from_text(PLATFORM_KEY, "test").unwrap();
    let mchid = MchId::new(MCHID).unwrap();
    let apiv3_key = APIV3_KEY_FILE.trim_end();
    let api_key = ApiV3Key::new(apiv3_key.as_bytes()).unwrap();
    let aead = AesGcmKey::new(api_key.expose(), "WECHATPAY_APIV3_KEY").unwrap();
    let certs = platform_certificates(PLATFORM_CERT, TS).unwrap();
    let platform_serial = certs.keys().next().unwrap().clone();
    let keys: HashMap<String, RsaPublicKey> = certs
        .iter()
        .map(|(serial, spki)| (serial.clone(), RsaPublicKey::from_spki_der(spki, "test").unwrap()))
        .collect();

    // What we produce.
    let our_requests: Vec<Value> = REQUESTS
        .iter()
        .map(|r| {
            let request = Request { method: r.method, target: r.target, body: r.body.as_bytes() };
            let header = block_on(authorization(&merchant, &mchid, MERCHANT_SERIAL, &request, TS, r.nonce)).unwrap();
            json!({"method": r.method, "target": r.target, "body": r.body, "timestamp": TS, "nonce": r.nonce, "authorization": header})
        })
        .collect();
    let app_id = AppId::new("wxd678efh567hg6787").unwrap();
    let prepay_id = PrepayId::new("wx201410272009395522657a690389285100").unwrap();
    let our_jsapi = block_on(jsapi_params(
        &merchant,
        &app_id,
        &prepay_id,
        TS,
        "5K8264ILTKCH16CQ2502SI8ZNMTM67VS",
    ))
    .unwrap();
    let response_bodies = [
        r#"{"prepay_id":"wx201410272009395522657a690389285100"}"#,
        r#"{"code":"PARAM_ERROR","message":"参数错误"}"#,
        "",
    ];
    let our_responses: Vec<Value> = response_bodies
        .iter()
        .map(|body| {
            let signature = block_on(sign_response(&platform, TS, "n0nce", body.as_bytes())).unwrap();
            json!({"timestamp": TS.to_string(), "nonce": "n0nce", "body": body, "signature": signature})
        })
        .collect();
    let our_resources: Vec<Value> = [("transaction", TRANSACTION), ("", "{}")]
        .iter()
        .map(|(aad, plaintext)| {
            let ciphertext = block_on(encrypt_resource(&aead, "fdasflkja484", aad, plaintext.as_bytes())).unwrap();
            json!({"nonce": "fdasflkja484", "associated_data": aad, "ciphertext": ciphertext, "plaintext": plaintext})
        })
        .collect();

    let input = json!({
        "merchant": {"private_key_pem": MERCHANT_KEY, "public_key_pem": MERCHANT_PUBLIC, "mchid": MCHID, "serial": MERCHANT_SERIAL},
        "platform": {"private_key_pem": PLATFORM_KEY, "certificate_pem": PLATFORM_CERT},
        "apiv3_key": apiv3_key,
        "ours": {
            "requests": our_requests,
            "jsapi": serde_json::to_value(&our_jsapi).unwrap(),
            "responses": our_responses,
            "resources": our_resources,
        },
        "todo": {
            "requests": REQUESTS.iter().map(|r| json!({"method": r.method, "target": r.target, "body": r.body, "timestamp": TS, "nonce": r.nonce})).collect::<Vec<_>>(),
            "jsapi": {"appId": "wxd678efh567hg6787", "timeStamp": TS.to_string(), "nonceStr": "theirNonce01", "package": "prepay_id=wx201410272009395522657a690389285100"},
            "responses": response_bodies.iter().map(|body| json!({"timestamp": TS.to_string(), "nonce": "theirNonce", "body": body})).collect::<Vec<_>>(),
            "callbacks": [{
                "timestamp": TS, "nonce": "fdasfjihihihlkja484w", "resource_nonce": "fdasflkja484",
                "associated_data": "transaction", "original_type": "transaction", "plaintext": TRANSACTION,
                "id": "EV-2018022511223320873", "create_time": "2027-01-15T16:00:00+08:00",
                "event_type": "TRANSACTION.SUCCESS", "summary": "支付成功"
            }],
        },
    });
    let out = edgepay_tests::node_xcheck("wechatpay.mjs", &input);

    // Same certificate serial as theirs (node's X509Certificate).
    assert_eq!(out["platform_serial"], platform_serial.as_str());

    // Ours, checked by them.
    let requests = out["ours"]["requests"].as_array().unwrap();
    assert_eq!(requests.len(), REQUESTS.len());
    for (i, r) in requests.iter().enumerate() {
        assert_eq!(r["scheme"], "WECHATPAY2-SHA256-RSA2048", "request {i}");
        assert_eq!(r["params_match"], true, "request {i}");
        assert_eq!(
            r["valid"], true,
            "request {i}: their Rsa.verify over their Formatter.request"
        );
        assert_eq!(r["tampered_body_valid"], false, "request {i}");
        assert_eq!(r["tampered_target_valid"], false, "request {i}");
        assert_eq!(r["tampered_signature_valid"], false, "request {i}");
    }
    let jsapi = &out["ours"]["jsapi"];
    assert_eq!(
        jsapi["keys"],
        json!(["appId", "nonceStr", "package", "paySign", "signType", "timeStamp"])
    );
    assert_eq!(jsapi["sign_type"], "RSA");
    assert_eq!(jsapi["valid"], true);
    assert_eq!(jsapi["tampered_valid"], false);
    for (i, r) in out["ours"]["responses"].as_array().unwrap().iter().enumerate() {
        assert_eq!(r["valid"], true, "response {i}");
        assert_eq!(r["tampered_valid"], false, "response {i}");
    }
    let resources = out["ours"]["resources"].as_array().unwrap();
    assert_eq!(resources[0]["plaintext"], TRANSACTION);
    assert_eq!(resources[1]["plaintext"], "{}");
    for r in resources {
        assert_eq!(r["tampered_ciphertext_refused"], true);
        assert_eq!(r["tampered_tag_refused"], true);
        assert_eq!(r["tampered_aad_refused"], true);
    }

    for (side, list, n) in [
        ("ours", "responses", response_bodies.len()),
        ("ours", "resources", 2),
        ("theirs", "requests", REQUESTS.len()),
        ("theirs", "responses", response_bodies.len()),
        ("theirs", "callbacks", 1),
    ] {
        assert_eq!(out[side][list].as_array().map(Vec::len), Some(n), "{side}.{list}");
    }

    // Theirs, checked by us.
    for (r, theirs) in REQUESTS.iter().zip(out["theirs"]["requests"].as_array().unwrap()) {
        let header = theirs["authorization"].as_str().unwrap();
        // Their parameter order is mchid, serial_no, timestamp, nonce_str, signature.
        assert!(header.contains("mchid=\"1900000109\",serial_no="), "{header}");
        let request = Request {
            method: r.method,
            target: r.target,
            body: r.body.as_bytes(),
        };
        let params = block_on(verify_authorization(
            header,
            &request,
            merchant.public_key(),
            &mchid,
            MERCHANT_SERIAL,
            TS,
        ))
        .unwrap();
        assert_eq!(params, parse_authorization(header).unwrap());
        assert_eq!(params.nonce_str, r.nonce);
        // Deterministic PKCS#1 v1.5: their signature is ours.
        let ours = block_on(authorization(&merchant, &mchid, MERCHANT_SERIAL, &request, TS, r.nonce)).unwrap();
        assert_eq!(parse_authorization(&ours).unwrap().signature, params.signature);
        let tampered_body = if r.body.is_empty() {
            b"x".to_vec()
        } else {
            flip_byte(r.body, r.body.len() / 2)
        };
        let tampered = Request {
            body: &tampered_body,
            ..request
        };
        assert_eq!(
            block_on(verify_authorization(
                header,
                &tampered,
                merchant.public_key(),
                &mchid,
                MERCHANT_SERIAL,
                TS
            )),
            Err(Error::BadSignature)
        );
        assert_eq!(
            block_on(verify_authorization(
                header,
                &request,
                merchant.public_key(),
                &mchid,
                MERCHANT_SERIAL,
                TS + 300
            )),
            Err(Error::StaleTimestamp)
        );
    }

    let their_jsapi: JsapiParams = serde_json::from_value(out["theirs"]["jsapi"].clone()).unwrap();
    assert_eq!(
        block_on(verify_jsapi_params(&their_jsapi, merchant.public_key())).unwrap(),
        prepay_id
    );
    let tampered = JsapiParams {
        nonce_str: "theirNonce02".into(),
        ..their_jsapi
    };
    assert_eq!(
        block_on(verify_jsapi_params(&tampered, merchant.public_key())),
        Err(Error::BadSignature)
    );

    for (body, theirs) in response_bodies
        .iter()
        .zip(out["theirs"]["responses"].as_array().unwrap())
    {
        let headers = WechatpayHeaders {
            timestamp: TS.to_string(),
            nonce: "theirNonce".into(),
            signature: theirs["signature"].as_str().unwrap().to_owned(),
            serial: platform_serial.clone(),
        };
        block_on(verify_response(&headers, body.as_bytes(), &keys, TS + 1)).unwrap();
        let tampered = if body.is_empty() {
            b"x".to_vec()
        } else {
            flip_byte(body, 3)
        };
        assert_eq!(
            block_on(verify_response(&headers, &tampered, &keys, TS)),
            Err(Error::BadSignature)
        );
    }

    let callback = &out["theirs"]["callbacks"][0];
    let body = callback["body"].as_str().unwrap();
    let headers = WechatpayHeaders::from_pairs(
        callback["headers"]
            .as_object()
            .unwrap()
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str().unwrap())),
    )
    .unwrap();
    let notification = block_on(parse_notification(&headers, body.as_bytes(), &keys, &aead, TS + 5)).unwrap();
    assert_eq!(notification.event_type, EventType::TransactionSuccess);
    assert_eq!(notification.summary, "支付成功");
    let NotificationResource::Transaction(transaction) = notification.resource else {
        panic!("not a transaction")
    };
    assert_eq!(transaction.trade_state, TradeState::Success);
    assert_eq!(transaction.amount.unwrap().total.fen(), 100);
    assert_eq!(transaction.out_trade_no.as_str(), "EP2024070100000000000001");
    // Their ciphertext is ours, byte for byte (GCM is deterministic for a given nonce).
    let ours = block_on(encrypt_resource(
        &aead,
        "fdasflkja484",
        "transaction",
        TRANSACTION.as_bytes(),
    ))
    .unwrap();
    assert_eq!(callback["ciphertext"], ours.as_str());
    // One byte of their callback body (inside the ciphertext) is refused before decryption.
    let at = body.find("\"ciphertext\":\"").unwrap() + 20;
    let tampered = flip_byte(body, at);
    assert_eq!(
        block_on(parse_notification(&headers, &tampered, &keys, &aead, TS)),
        Err(Error::BadSignature)
    );
}
