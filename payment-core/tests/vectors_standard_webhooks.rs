//! Standard Webhooks known-answer tests: every case of `../shared/vectors/standard_webhooks.json`.
//!
//! Positive cases carry their fixed timestamp, so `verify` runs with the clock set to it (and five
//! minutes and a second either side). The negative cases were taken from tests whose timestamp is
//! "now"; they are checked at the timestamp of the positive case with the same key and message id,
//! at which the vector's notes say they are invalid.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

use payment_core::native::{block_on, HmacKey};
use payment_core::webhook::{
    sign, verify, verify_ignoring_timestamp, WebhookHeaders, WebhookSecret,
};
use payment_core::Error;
use serde::Deserialize;


#[derive(Debug, Deserialize)]
struct Vectors {
    decoy_signatures_from_multi_sig_test: Vec<String>,
    cases: Vec<Case>,
}

#[derive(Debug, Deserialize)]
struct Case {
    name: String,
    secret: String,
    msg_id: String,
    timestamp: Option<u64>,
    payload: String,
    expected_signature: Option<String>,
    signature_header: Option<String>,
    expected_valid: Option<bool>,
}

fn load() -> Vectors {
    let vectors: Vectors =
        serde_json::from_str(include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/vectors/standard_webhooks.json"))).unwrap();
    assert_eq!(vectors.cases.len(), 5, "the file changed: review the cases");
    vectors
}

fn key_of(secret: &str) -> (WebhookSecret, HmacKey) {
    let secret = WebhookSecret::parse(secret, "vector secret").unwrap();
    let key = HmacKey::new(secret.key_bytes());
    (secret, key)
}

fn headers(case: &Case, timestamp: u64, signature: &str) -> WebhookHeaders {
    WebhookHeaders {
        id: case.msg_id.clone(),
        timestamp: timestamp.to_string(),
        signature: signature.to_owned(),
    }
}

#[test]
fn positive_cases_sign_and_verify_at_their_time() {
    let vectors = load();
    let positives: Vec<&Case> = vectors
        .cases
        .iter()
        .filter(|c| c.expected_signature.is_some())
        .collect();
    assert_eq!(positives.len(), 2);
    for case in positives {
        let name = &case.name;
        let (_, key) = key_of(&case.secret);
        let ts = case.timestamp.unwrap();
        let expected = case.expected_signature.as_deref().unwrap();
        let body = case.payload.as_bytes();
        assert_eq!(
            block_on(sign(&key, &case.msg_id, ts, body)).unwrap(),
            expected,
            "{name}"
        );

        let h = headers(case, ts, expected);
        for now in [ts, ts - 300, ts + 300] {
            assert_eq!(
                block_on(verify(&key, &h, body, now)),
                Ok(()),
                "{name} at {now}"
            );
        }
        for now in [ts - 301, ts + 301] {
            assert_eq!(
                block_on(verify(&key, &h, body, now)),
                Err(Error::StaleTimestamp),
                "{name} at {now}"
            );
        }
        // Today's clock: stale, although the signature is fine.
        assert_eq!(
            block_on(verify(&key, &h, body, 1_760_000_000)),
            Err(Error::StaleTimestamp),
            "{name}"
        );
        assert_eq!(
            block_on(verify_ignoring_timestamp(&key, &h, body)),
            Ok(()),
            "{name}"
        );

        // One byte changed anywhere: refused.
        let mut tampered = body.to_vec();
        *tampered.last_mut().unwrap() ^= 0x01;
        assert_eq!(
            block_on(verify(&key, &h, &tampered, ts)),
            Err(Error::BadSignature),
            "{name}"
        );
        assert_eq!(
            block_on(verify(&key, &headers(case, ts + 1, expected), body, ts)),
            Err(Error::BadSignature),
            "{name}"
        );
        // The body re-serialized (the JS vector's `{"test": 2432232314}` loses its space): refused.
        let value: serde_json::Value = serde_json::from_str(&case.payload).unwrap();
        let reserialized = serde_json::to_string(&value).unwrap();
        assert_eq!(
            reserialized == case.payload,
            !case.payload.contains(": "),
            "{name}"
        );
        if reserialized != case.payload {
            assert_eq!(
                block_on(verify(&key, &h, reserialized.as_bytes(), ts)),
                Err(Error::BadSignature),
                "{name}"
            );
        }
        let (_, wrong) = key_of("whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oE");
        assert_eq!(
            block_on(verify(&wrong, &h, body, ts)),
            Err(Error::BadSignature),
            "{name}"
        );

        // The JS "multi sig payload is valid" shape: the valid one among the decoys (v2 ignored).
        let decoys = &vectors.decoy_signatures_from_multi_sig_test;
        let multi = format!("{} {} {}", decoys[0], expected, decoys[1]);
        assert_eq!(
            block_on(verify(&key, &headers(case, ts, &multi), body, ts)),
            Ok(()),
            "{name}"
        );
        let only_decoys = decoys.join(" ");
        assert_eq!(
            block_on(verify(&key, &headers(case, ts, &only_decoys), body, ts)),
            Err(Error::BadSignature),
            "{name}"
        );
        // The same MAC under an unknown version is ignored.
        let v1a = expected.replacen("v1,", "v1a,", 1);
        assert_eq!(
            block_on(verify(&key, &headers(case, ts, &v1a), body, ts)),
            Err(Error::BadSignature),
            "{name}"
        );
    }
}

#[test]
fn negative_cases_are_refused() {
    let vectors = load();
    let negatives: Vec<&Case> = vectors
        .cases
        .iter()
        .filter(|c| c.expected_valid == Some(false))
        .collect();
    assert_eq!(negatives.len(), 3);
    for case in negatives {
        let name = &case.name;
        let (secret, key) = key_of(&case.secret);
        // The positive case with the same key and id gives the timestamp the notes refer to.
        let twin = vectors
            .cases
            .iter()
            .find(|c| c.expected_signature.is_some() && c.msg_id == case.msg_id)
            .expect("a positive twin");
        assert_eq!(
            key_of(&twin.secret).0.key_bytes(),
            secret.key_bytes(),
            "{name}: with or without whsec_"
        );
        assert_eq!(twin.payload, case.payload);
        let ts = twin.timestamp.unwrap();
        let h = headers(case, ts, case.signature_header.as_deref().unwrap());
        assert_eq!(
            block_on(verify(&key, &h, case.payload.as_bytes(), ts)),
            Err(Error::BadSignature),
            "{name}"
        );
        assert_eq!(
            block_on(verify_ignoring_timestamp(&key, &h, case.payload.as_bytes())),
            Err(Error::BadSignature),
            "{name}"
        );
        // And the twin's valid signature added to the header makes it pass: the refusal was the value.
        let with_valid = format!(
            "{} {}",
            h.signature,
            twin.expected_signature.as_deref().unwrap()
        );
        assert_eq!(
            block_on(verify(
                &key,
                &headers(case, ts, &with_valid),
                case.payload.as_bytes(),
                ts
            )),
            Ok(()),
            "{name}"
        );
    }
}
