//! Cross-check of `payment_core::webhook` with the reference JavaScript library, npm
//! `standardwebhooks` (tests/xcheck/standardwebhooks.mjs), in both directions:
//!
//! - what we sign (a real `payment.succeeded` event with UTF-8 metadata, a rotation header with two
//!   signatures, an unknown `v1a` entry beside ours) their `Webhook.verify` accepts and parses back
//!   to the same JSON; the same deliveries with one byte of the body changed, or outside the
//!   five-minute window, it refuses;
//! - what their `Webhook.sign` produces is byte-for-byte what we produce, and our `verify` accepts
//!   it and refuses it over a tampered body;
//! - both agree on the tolerance boundaries (±300 s accepted, ±301 s refused).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use edgepay_tests::node_xcheck;
use payment_core::event::{
    Event, EventData, EventId, Metadata, PaymentSucceeded, PaymentSummary, ProviderTransactionId,
    SessionSummary,
};
use payment_core::ids::{MerchantOrderId, OutTradeNo, SessionId};
use payment_core::method::{PaymentMethod, Provider};
use payment_core::money::{Amount, Currency};
use payment_core::native::{block_on, HmacKey};
use payment_core::webhook::{sign, verify, WebhookHeaders, WebhookSecret};
use payment_core::Error;
use serde_json::{json, Value};

const SECRET: &str = include_str!("../../payment-core/fixtures/test_webhook_secret.txt");
/// The clock of both sides (the Node script pins `Date.now` to it).
const NOW: u64 = 1_767_225_600;

fn event_body() -> String {
    let metadata: Metadata = [
        ("cart".to_owned(), "购物车 #42".to_owned()),
        ("note".to_owned(), "line\nbreak \"quoted\"".to_owned()),
    ]
    .into();
    let event = Event::new(
        EventId::from_random(&[0x42; 15]),
        NOW - 5,
        EventData::PaymentSucceeded(PaymentSucceeded {
            session: SessionSummary {
                session_id: SessionId::from_random(&[0x11; 15]),
                order_id: MerchantOrderId::new("order-1001").unwrap(),
                amount: Amount::from_fen(1234).unwrap(),
                currency: Currency::Cny,
            },
            payment: PaymentSummary {
                method: PaymentMethod::AlipayWap,
                provider: Provider::Alipay,
                provider_transaction_id: ProviderTransactionId::new("2024010122001400000000000001")
                    .unwrap(),
                out_trade_no: OutTradeNo::from_random(&[0x22; 15]),
                paid_at: NOW - 10,
            },
            metadata,
        }),
    );
    event.to_json().unwrap()
}

fn delivery(id: &str, timestamp: u64, signature: &str, body: &str) -> Value {
    json!({"id": id, "timestamp": timestamp, "signature": signature, "body": body})
}

/// The body with its amount changed (one byte), or, without an amount, one byte added.
fn tamper(body: &str) -> String {
    let tampered = if body.contains(r#""amount":1234"#) {
        body.replacen(r#""amount":1234"#, r#""amount":1235"#, 1)
    } else {
        body.replacen('}', " }", 1)
    };
    assert_ne!(tampered, body);
    tampered
}

#[test]
fn standard_webhooks_both_directions() {
    let secret = WebhookSecret::parse(SECRET, "test webhook secret").unwrap();
    let key = HmacKey::new(secret.key_bytes());
    let old_secret = WebhookSecret::from_bytes(vec![0x5c; 32], "old secret").unwrap();
    let old_key = HmacKey::new(old_secret.key_bytes());
    let body = event_body();
    let id = "evt_".to_owned() + &"x".repeat(24);
    let ours =
        |id: &str, ts: u64, body: &str| block_on(sign(&key, id, ts, body.as_bytes())).unwrap();

    // Rust signs, JS verifies.
    let good = ours(&id, NOW, &body);
    let rotated = format!(
        "{} {good}",
        block_on(sign(&old_key, &id, NOW, body.as_bytes())).unwrap()
    );
    let with_v1a = format!("v1a,{} {good}", &good[3..]);
    let to_verify = [
        (delivery(&id, NOW, &good, &body), None),
        (delivery(&id, NOW, &rotated, &body), None),
        (delivery(&id, NOW, &with_v1a, &body), None),
        (
            delivery(&id, NOW - 300, &ours(&id, NOW - 300, &body), &body),
            None,
        ),
        (
            delivery(&id, NOW + 300, &ours(&id, NOW + 300, &body), &body),
            None,
        ),
        (
            delivery(&id, NOW, &good, &tamper(&body)),
            Some("No matching signature found"),
        ),
        (
            delivery("evt_other", NOW, &good, &body),
            Some("No matching signature found"),
        ),
        (
            delivery(&id, NOW, &format!("v1a,{}", &good[3..]), &body),
            Some("No matching signature found"),
        ),
        (
            delivery(&id, NOW - 301, &ours(&id, NOW - 301, &body), &body),
            Some("Message timestamp too old"),
        ),
        (
            delivery(&id, NOW + 301, &ours(&id, NOW + 301, &body), &body),
            Some("Message timestamp too new"),
        ),
    ];

    // JS signs, Rust verifies (and compares).
    let plain = r#"{"test": 2432232314}"#;
    let to_sign = [
        (id.clone(), NOW, body.clone()),
        (
            "msg_p5jXN8AQM9LWM0D4loKWxJek".to_owned(),
            NOW - 60,
            plain.to_owned(),
        ),
    ];

    let input = json!({
        "secret": SECRET.trim(),
        "now": NOW,
        "sign": to_sign.iter().map(|(id, ts, body)| json!({"id": id, "timestamp": ts, "body": body})).collect::<Vec<_>>(),
        "verify": to_verify.iter().map(|(d, _)| d.clone()).collect::<Vec<_>>(),
    });
    let output = node_xcheck("standardwebhooks.mjs", &input);

    let verified = output["verified"].as_array().expect("verified");
    assert_eq!(verified.len(), to_verify.len());
    for ((sent, refusal), got) in to_verify.iter().zip(verified) {
        let accept = refusal.is_none();
        assert_eq!(
            got["ok"],
            json!(accept),
            "standardwebhooks on {sent}: {got}"
        );
        if let Some(refusal) = refusal {
            let error = got["error"].as_str().unwrap();
            assert_eq!(error, format!("WebhookVerificationError: {refusal}"));
        } else {
            // Their verify parses the body: the same JSON we serialized.
            let expected: Value = serde_json::from_str(sent["body"].as_str().unwrap()).unwrap();
            assert_eq!(got["parsed"], expected);
        }
        // Our own verdict on the same delivery is the same.
        let headers = WebhookHeaders {
            id: sent["id"].as_str().unwrap().to_owned(),
            timestamp: sent["timestamp"].to_string(),
            signature: sent["signature"].as_str().unwrap().to_owned(),
        };
        let our_verdict = block_on(verify(
            &key,
            &headers,
            sent["body"].as_str().unwrap().as_bytes(),
            NOW,
        ));
        let expected = match refusal {
            None => Ok(()),
            Some(r) if r.starts_with("Message timestamp") => Err(Error::StaleTimestamp),
            Some(_) => Err(Error::BadSignature),
        };
        assert_eq!(our_verdict, expected, "payment-core on {sent}");
    }

    let signed = output["signed"].as_array().expect("signed");
    assert_eq!(signed.len(), to_sign.len());
    for ((id, ts, body), theirs) in to_sign.iter().zip(signed) {
        let theirs = theirs.as_str().unwrap();
        assert_eq!(theirs, ours(id, *ts, body), "same signature for {id}");
        let headers = WebhookHeaders {
            id: id.clone(),
            timestamp: ts.to_string(),
            signature: theirs.to_owned(),
        };
        assert_eq!(
            block_on(verify(&key, &headers, body.as_bytes(), NOW)),
            Ok(())
        );
        assert_eq!(
            block_on(verify(&key, &headers, tamper(body).as_bytes(), NOW)),
            Err(Error::BadSignature)
        );
        assert_eq!(
            block_on(verify(&old_key, &headers, body.as_bytes(), NOW)),
            Err(Error::BadSignature)
        );
        assert_eq!(
            block_on(verify(&key, &headers, body.as_bytes(), NOW + 400)),
            Err(Error::StaleTimestamp)
        );
    }
}
