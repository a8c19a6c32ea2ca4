//! Standard Webhooks, symmetric signatures: how edgepay signs the events it sends to the merchant,
//! and how a receiver checks them
//! (<https://github.com/standard-webhooks/standard-webhooks/blob/main/spec/standard-webhooks.md>).
//!
//! - The secret is `whsec_` + base64 of 24–64 random bytes; the HMAC key is the decoded bytes
//!   ([`WebhookSecret::key_bytes`]), which the caller turns into its [`HmacSha256`] key.
//! - The signed content is `{webhook-id}.{webhook-timestamp}.{body}`, the body byte-exact.
//! - `webhook-signature` is a space-separated list of `v1,<base64 HMAC-SHA256>`; any valid `v1`
//!   entry passes, other versions (`v1a,` asymmetric, `v2,`…) are ignored.
//! - A receiver refuses a `webhook-timestamp` more than five minutes from its clock, either way.

use std::fmt;

use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig, STANDARD};
use base64::engine::DecodePaddingMode;
use base64::Engine as _;

use crate::crypto::{HmacSha256, SecretBytes};
use crate::error::{Error, Result};

/// The `webhook-id` header: the event id, the merchant's idempotency key.
pub const HEADER_ID: &str = "webhook-id";
/// The `webhook-timestamp` header: Unix seconds of this delivery attempt.
pub const HEADER_TIMESTAMP: &str = "webhook-timestamp";
/// The `webhook-signature` header: `v1,<base64>` entries separated by spaces.
pub const HEADER_SIGNATURE: &str = "webhook-signature";
/// How far (seconds) a `webhook-timestamp` may be from the receiver's clock, either way.
pub const TOLERANCE_SECONDS: u64 = 5 * 60;
/// The prefix of a serialized secret.
pub const SECRET_PREFIX: &str = "whsec_";

/// Standard base64 that accepts the padding or its absence (secrets are written both ways).
const LENIENT_BASE64: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// A Standard Webhooks signing secret. Redacted `Debug`, no `Display`, zeroized on drop.
#[derive(Clone)]
pub struct WebhookSecret(SecretBytes);

impl WebhookSecret {
    /// Parses `whsec_<base64>`. The bare base64 is accepted too, as the reference libraries do.
    /// The key must be 24 to 64 bytes, as the specification asks.
    ///
    /// # Errors
    /// [`Error::InvalidKey`] naming `what` (a setting name) for bad base64 or a key of the wrong size.
    pub fn parse(text: &str, what: &'static str) -> Result<Self> {
        let text = text.trim();
        let encoded = text.strip_prefix(SECRET_PREFIX).unwrap_or(text);
        let key = LENIENT_BASE64
            .decode(encoded)
            .map_err(|_| Error::InvalidKey { what })?;
        Self::from_bytes(key, what)
    }

    /// A secret from raw key bytes, e.g. 32 random bytes the caller drew for a new merchant endpoint.
    ///
    /// # Errors
    /// [`Error::InvalidKey`] naming `what` unless there are 24 to 64 bytes.
    pub fn from_bytes(key: Vec<u8>, what: &'static str) -> Result<Self> {
        let key = SecretBytes::new(key);
        if !(24..=64).contains(&key.expose().len()) {
            return Err(Error::InvalidKey { what });
        }
        Ok(Self(key))
    }

    /// The HMAC key: build the [`HmacSha256`] implementation (native `HmacKey`, WebCrypto key) from it.
    pub fn key_bytes(&self) -> &[u8] {
        self.0.expose()
    }

    /// The `whsec_…` text, to show the merchant once. Treat it like the key itself.
    pub fn expose_text(&self) -> String {
        format!("{SECRET_PREFIX}{}", STANDARD.encode(self.0.expose()))
    }
}

impl fmt::Debug for WebhookSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("WebhookSecret([redacted])")
    }
}

/// The three headers of one webhook delivery, as text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookHeaders {
    /// `webhook-id`
    pub id: String,
    /// `webhook-timestamp` (decimal Unix seconds)
    pub timestamp: String,
    /// `webhook-signature`
    pub signature: String,
}

impl WebhookHeaders {
    /// Picks the three headers out of a request's headers (names compared case-insensitively; the
    /// first of a repeated name wins).
    ///
    /// # Errors
    /// [`Error::Malformed`] naming the first missing header.
    pub fn from_pairs<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> Result<Self> {
        let (mut id, mut timestamp, mut signature) = (None, None, None);
        for (name, value) in pairs {
            let slot = if name.eq_ignore_ascii_case(HEADER_ID) {
                &mut id
            } else if name.eq_ignore_ascii_case(HEADER_TIMESTAMP) {
                &mut timestamp
            } else if name.eq_ignore_ascii_case(HEADER_SIGNATURE) {
                &mut signature
            } else {
                continue;
            };
            slot.get_or_insert_with(|| value.to_owned());
        }
        Ok(Self {
            id: id.ok_or(Error::Malformed { what: HEADER_ID })?,
            timestamp: timestamp.ok_or(Error::Malformed {
                what: HEADER_TIMESTAMP,
            })?,
            signature: signature.ok_or(Error::Malformed {
                what: HEADER_SIGNATURE,
            })?,
        })
    }

    /// The headers as `(name, value)` pairs, to put on the request.
    pub fn pairs(&self) -> [(&'static str, &str); 3] {
        [
            (HEADER_ID, &self.id),
            (HEADER_TIMESTAMP, &self.timestamp),
            (HEADER_SIGNATURE, &self.signature),
        ]
    }
}

/// `{msg_id}.{timestamp}.{body}`; the id must not contain `.`, which would make the boundaries
/// ambiguous (the specification asks for ids that cannot).
fn signed_content(msg_id: &str, timestamp: u64, body: &[u8]) -> Result<Vec<u8>> {
    if msg_id.is_empty() || msg_id.contains('.') || !msg_id.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(Error::Malformed { what: HEADER_ID });
    }
    let mut content = format!("{msg_id}.{timestamp}.").into_bytes();
    content.extend_from_slice(body);
    Ok(content)
}

/// The `webhook-signature` value for one message: `v1,<base64 HMAC-SHA256>`, `key` being built
/// from [`WebhookSecret::key_bytes`]. To rotate secrets, sign with each and join the values with
/// a space.
///
/// # Errors
/// [`Error::Malformed`] (`"webhook-id"`) for an empty id or one with `.`, spaces or non-ASCII;
/// [`Error::Crypto`] when the backend fails.
pub async fn sign(
    key: &impl HmacSha256,
    msg_id: &str,
    timestamp: u64,
    body: &[u8],
) -> Result<String> {
    let tag = key.sign(&signed_content(msg_id, timestamp, body)?).await?;
    Ok(format!("v1,{}", STANDARD.encode(tag)))
}

/// The three headers for one delivery of `body` (see [`sign`]).
///
/// # Errors
/// As [`sign`].
pub async fn sign_headers(
    key: &impl HmacSha256,
    msg_id: &str,
    timestamp: u64,
    body: &[u8],
) -> Result<WebhookHeaders> {
    Ok(WebhookHeaders {
        id: msg_id.to_owned(),
        timestamp: timestamp.to_string(),
        signature: sign(key, msg_id, timestamp, body).await?,
    })
}

/// Checks a delivery: the timestamp within [`TOLERANCE_SECONDS`] of `now` (Unix seconds), then
/// at least one valid `v1` signature of the raw `body`.
///
/// # Errors
/// [`Error::Malformed`] for a timestamp that is not decimal digits or a bad `webhook-id`;
/// [`Error::StaleTimestamp`] outside the window; [`Error::BadSignature`] when no `v1` entry is
/// valid (one opaque error); [`Error::Crypto`] when the backend fails.
pub async fn verify(
    key: &impl HmacSha256,
    headers: &WebhookHeaders,
    body: &[u8],
    now: u64,
) -> Result<()> {
    let timestamp = parse_timestamp(&headers.timestamp)?;
    if timestamp.abs_diff(now) > TOLERANCE_SECONDS {
        return Err(Error::StaleTimestamp);
    }
    verify_signatures(key, headers, timestamp, body).await
}

/// [`verify`] without the timestamp window: for tests and replaying stored deliveries only.
///
/// # Errors
/// As [`verify`], never [`Error::StaleTimestamp`].
pub async fn verify_ignoring_timestamp(
    key: &impl HmacSha256,
    headers: &WebhookHeaders,
    body: &[u8],
) -> Result<()> {
    let timestamp = parse_timestamp(&headers.timestamp)?;
    verify_signatures(key, headers, timestamp, body).await
}

fn parse_timestamp(text: &str) -> Result<u64> {
    let malformed = Error::Malformed {
        what: HEADER_TIMESTAMP,
    };
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(malformed);
    }
    text.parse().map_err(|_| malformed)
}

async fn verify_signatures(
    key: &impl HmacSha256,
    headers: &WebhookHeaders,
    timestamp: u64,
    body: &[u8],
) -> Result<()> {
    let content = signed_content(&headers.id, timestamp, body)?;
    for entry in headers.signature.split(' ') {
        let Some(("v1", encoded)) = entry.split_once(',') else {
            continue;
        };
        let Ok(tag) = STANDARD.decode(encoded) else {
            continue;
        };
        match key.verify(&content, &tag).await {
            Ok(()) => return Ok(()),
            Err(Error::Crypto) => return Err(Error::Crypto),
            Err(_) => {}
        }
    }
    Err(Error::BadSignature)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;
    use super::*;
    use crate::native::{block_on, HmacKey};

    const TS: u64 = 1_700_000_000;
    const BODY: &[u8] = br#"{"id":"evt_abc","type":"payment.succeeded"}"#;

    fn secret() -> WebhookSecret {
        WebhookSecret::parse(
            include_str!("../fixtures/test_webhook_secret.txt"),
            "WEBHOOK_SECRET",
        )
        .unwrap()
    }

    fn key() -> HmacKey {
        HmacKey::new(secret().key_bytes())
    }

    fn headers(signature: String) -> WebhookHeaders {
        WebhookHeaders {
            id: "evt_abc".into(),
            timestamp: TS.to_string(),
            signature,
        }
    }

    #[test]
    fn secret_parsing() {
        let secret = secret();
        assert_eq!(secret.key_bytes().len(), 32);
        assert_eq!(format!("{secret:?}"), "WebhookSecret([redacted])");
        let text = secret.expose_text();
        assert!(text.starts_with("whsec_"));
        let bare = WebhookSecret::parse(&text["whsec_".len()..], "S").unwrap();
        assert_eq!(bare.key_bytes(), secret.key_bytes());
        let unpadded = WebhookSecret::parse(text.trim_end_matches('='), "S").unwrap();
        assert_eq!(unpadded.key_bytes(), secret.key_bytes());
        let bad = Err(Error::InvalidKey { what: "S" });
        assert_eq!(
            WebhookSecret::parse("whsec_not base64!", "S").map(|_| ()),
            bad
        );
        assert_eq!(WebhookSecret::parse("whsec_", "S").map(|_| ()), bad);
        assert_eq!(
            WebhookSecret::parse(&format!("whsec_{}", STANDARD.encode([1; 23])), "S").map(|_| ()),
            bad
        );
        assert_eq!(
            WebhookSecret::parse(&format!("whsec_{}", STANDARD.encode([1; 65])), "S").map(|_| ()),
            bad
        );
        assert!(WebhookSecret::parse(&format!("whsec_{}", STANDARD.encode([1; 24])), "S").is_ok());
        assert!(WebhookSecret::parse(&format!("whsec_{}", STANDARD.encode([1; 64])), "S").is_ok());
    }

    #[test]
    fn sign_then_verify_and_tamper() {
        let key = key();
        let h = block_on(sign_headers(&key, "evt_abc", TS, BODY)).unwrap();
        assert_eq!(h.pairs()[1], ("webhook-timestamp", "1700000000"));
        assert!(h.signature.starts_with("v1,") && h.signature.len() == 3 + 44);
        block_on(verify(&key, &h, BODY, TS)).unwrap();
        let mut body = BODY.to_vec();
        body[10] ^= 1;
        assert_eq!(
            block_on(verify(&key, &h, &body, TS)),
            Err(Error::BadSignature)
        );
        let other_id = WebhookHeaders {
            id: "evt_abd".into(),
            ..h.clone()
        };
        assert_eq!(
            block_on(verify(&key, &other_id, BODY, TS)),
            Err(Error::BadSignature)
        );
        let other_ts = WebhookHeaders {
            timestamp: (TS + 1).to_string(),
            ..h.clone()
        };
        assert_eq!(
            block_on(verify(&key, &other_ts, BODY, TS)),
            Err(Error::BadSignature)
        );
        let wrong_key = HmacKey::new(&[9; 32]);
        assert_eq!(
            block_on(verify(&wrong_key, &h, BODY, TS)),
            Err(Error::BadSignature)
        );
    }

    #[test]
    fn five_minutes_either_way() {
        let key = key();
        let h = block_on(sign_headers(&key, "evt_abc", TS, BODY)).unwrap();
        for now in [TS - 300, TS - 1, TS + 1, TS + 300] {
            assert_eq!(block_on(verify(&key, &h, BODY, now)), Ok(()), "{now}");
        }
        for now in [TS - 301, TS + 301, 0, u64::MAX] {
            assert_eq!(
                block_on(verify(&key, &h, BODY, now)),
                Err(Error::StaleTimestamp),
                "{now}"
            );
        }
        assert_eq!(block_on(verify_ignoring_timestamp(&key, &h, BODY)), Ok(()));
        // Stale is checked before the signature, but a bad signature never passes either way.
        let forged = headers("v1,AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=".into());
        assert_eq!(
            block_on(verify_ignoring_timestamp(&key, &forged, BODY)),
            Err(Error::BadSignature)
        );
    }

    #[test]
    fn several_signatures_and_unknown_versions() {
        let key = key();
        let good = block_on(sign(&key, "evt_abc", TS, BODY)).unwrap();
        let b64 = &good[3..];
        let wrong = "v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc=";
        for header in [
            format!("{wrong} {good}"),
            format!("{good} {wrong}"),
            format!("v1a,{b64} v2,{b64} {good}"),
            format!("v1,not-base64 {good}"),
        ] {
            assert_eq!(
                block_on(verify(&key, &headers(header.clone()), BODY, TS)),
                Ok(()),
                "{header}"
            );
        }
        for header in [
            format!("v1a,{b64}"),
            format!("v2,{b64} V1,{b64}"),
            format!("{wrong} v1,"),
            format!("v1 {b64}"),
            format!("v1,{}", &b64[..40]),
            String::new(),
        ] {
            assert_eq!(
                block_on(verify(&key, &headers(header.clone()), BODY, TS)),
                Err(Error::BadSignature),
                "{header}"
            );
        }
    }

    #[test]
    fn malformed_headers() {
        let key = key();
        let good = block_on(sign(&key, "evt_abc", TS, BODY)).unwrap();
        for ts in [
            "",
            "-1",
            "+1700000000",
            "1700000000.0",
            " 1700000000",
            "99999999999999999999999",
        ] {
            let h = WebhookHeaders {
                timestamp: ts.into(),
                ..headers(good.clone())
            };
            assert_eq!(
                block_on(verify(&key, &h, BODY, TS)),
                Err(Error::Malformed {
                    what: "webhook-timestamp"
                }),
                "{ts:?}"
            );
        }
        for id in ["", "evt.abc", "evt abc"] {
            assert_eq!(
                block_on(sign(&key, id, TS, BODY)),
                Err(Error::Malformed { what: "webhook-id" }),
                "{id:?}"
            );
            let h = WebhookHeaders {
                id: id.into(),
                ..headers(good.clone())
            };
            assert_eq!(
                block_on(verify(&key, &h, BODY, TS)),
                Err(Error::Malformed { what: "webhook-id" }),
                "{id:?}"
            );
        }
        let pairs = [
            ("Webhook-Id", "evt_abc"),
            ("WEBHOOK-TIMESTAMP", "1700000000"),
            ("webhook-signature", good.as_str()),
            ("webhook-id", "evt_zzz"),
        ];
        assert_eq!(
            WebhookHeaders::from_pairs(pairs).unwrap(),
            headers(good.clone())
        );
        assert_eq!(
            WebhookHeaders::from_pairs(pairs[..2].iter().copied()),
            Err(Error::Malformed {
                what: "webhook-signature"
            })
        );
        assert_eq!(
            WebhookHeaders::from_pairs([]),
            Err(Error::Malformed { what: "webhook-id" })
        );
    }
}
