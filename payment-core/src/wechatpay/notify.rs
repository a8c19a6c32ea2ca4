//! WeChat Pay callbacks (<https://pay.weixin.qq.com/doc/v3/merchant/4012791861>): one entry point,
//! [`parse_notification`] = verify the raw body → decrypt the resource (AEAD_AES_256_GCM with the
//! APIv3 key) → parse it. Checks against the stored order (ids, amount, state) are the caller's, on
//! the typed result.
//!
//! The resource: key = the 32-byte APIv3 key as ASCII, nonce = the 12-character `nonce` as bytes,
//! AAD = `associated_data`, ciphertext = base64(ciphertext ‖ 16-byte tag).

use std::fmt;

use base64::Engine as _;
use serde::{Deserialize, Serialize};

use super::model::{from_body, EventType, RefundNotification, Transaction};
use super::verify::{verify_response, PlatformKeys, WechatpayHeaders};
use crate::crypto::{AesGcm, SecretBytes};
use crate::error::{Error, Result};

/// The only resource algorithm WeChat Pay uses.
pub const AEAD_AES_256_GCM: &str = "AEAD_AES_256_GCM";

/// The merchant's APIv3 key: exactly 32 bytes (ASCII as set in the merchant platform). Redacted
/// `Debug`, zeroized on drop. The caller builds its [`AesGcm`] implementation from
/// [`ApiV3Key::expose`].
#[derive(Clone)]
pub struct ApiV3Key(SecretBytes);

impl ApiV3Key {
    /// Checks and wraps the key.
    ///
    /// # Errors
    /// [`Error::InvalidKey`] `"WECHATPAY_APIV3_KEY"` unless it is 32 bytes.
    pub fn new(key: &[u8]) -> Result<Self> {
        if key.len() != 32 {
            return Err(Error::InvalidKey {
                what: "WECHATPAY_APIV3_KEY",
            });
        }
        Ok(Self(SecretBytes::new(key.to_vec())))
    }

    /// The key bytes, to build the AES-256-GCM key. Use them, never log them.
    pub fn expose(&self) -> &[u8] {
        self.0.expose()
    }
}

impl fmt::Debug for ApiV3Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ApiV3Key([redacted])")
    }
}

/// The encrypted `resource` of a callback (and of downloaded platform certificates).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EncryptedResource {
    /// [`AEAD_AES_256_GCM`].
    pub algorithm: String,
    /// base64(ciphertext ‖ tag).
    pub ciphertext: String,
    /// The associated data (may be empty).
    #[serde(default)]
    pub associated_data: String,
    /// What the plaintext is: `transaction`, `refund`… (absent from downloaded certificates).
    #[serde(default)]
    pub original_type: String,
    /// The 12-character nonce.
    pub nonce: String,
}

/// A callback body as received, before decryption.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NotificationEnvelope {
    /// The callback id (the same for every retry of one callback).
    pub id: String,
    /// When it was created, RFC 3339.
    pub create_time: String,
    /// What happened.
    pub event_type: EventType,
    /// `encrypt-resource`.
    pub resource_type: String,
    /// The encrypted payload.
    pub resource: EncryptedResource,
    /// A summary, in words.
    #[serde(default)]
    pub summary: String,
}

/// A verified, decrypted, parsed callback.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notification {
    /// The callback id (the same for every retry of one callback).
    pub id: String,
    /// When it was created, RFC 3339.
    pub create_time: String,
    /// What happened.
    pub event_type: EventType,
    /// The summary, in words.
    pub summary: String,
    /// The decrypted resource.
    pub resource: NotificationResource,
}

/// The decrypted resource of a callback, by its `original_type`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NotificationResource {
    /// `transaction`: a payment (`TRANSACTION.SUCCESS`).
    Transaction(Box<Transaction>),
    /// `refund`: a refund (`REFUND.SUCCESS`, `REFUND.ABNORMAL`, `REFUND.CLOSED`).
    Refund(Box<RefundNotification>),
    /// Any other product (pay score, vouchers…), kept as its `original_type` and JSON text.
    Other {
        /// The resource's `original_type`.
        original_type: String,
        /// The decrypted JSON.
        plaintext: String,
    },
}

fn nonce_bytes(nonce: &str) -> Result<&[u8; 12]> {
    nonce
        .as_bytes()
        .try_into()
        .map_err(|_| Error::Malformed { what: "resource.nonce" })
}

/// Decrypts base64(ciphertext ‖ tag) with `aead`, the 12-byte `nonce` (as text) and
/// `associated_data` (wechatpay-go `utils.DecryptAES256GCM`).
///
/// # Errors
/// [`Error::Malformed`] for a nonce that is not 12 bytes or a ciphertext that is not base64;
/// [`Error::DecryptionFailed`] for a wrong key or tampered ciphertext, nonce or associated data.
pub async fn decrypt_ciphertext(
    aead: &impl AesGcm,
    nonce: &str,
    associated_data: &str,
    ciphertext_b64: &str,
) -> Result<Vec<u8>> {
    let nonce = nonce_bytes(nonce)?;
    let ciphertext = base64::engine::general_purpose::STANDARD
        .decode(ciphertext_b64)
        .map_err(|_| Error::Malformed {
            what: "resource.ciphertext",
        })?;
    aead.decrypt(nonce, associated_data.as_bytes(), &ciphertext).await
}

/// Decrypts a callback or certificate resource.
///
/// # Errors
/// [`Error::Malformed`] `"resource.algorithm"` for another algorithm; see [`decrypt_ciphertext`].
pub async fn decrypt_resource(aead: &impl AesGcm, resource: &EncryptedResource) -> Result<Vec<u8>> {
    if resource.algorithm != AEAD_AES_256_GCM {
        return Err(Error::Malformed {
            what: "resource.algorithm",
        });
    }
    decrypt_ciphertext(aead, &resource.nonce, &resource.associated_data, &resource.ciphertext).await
}

/// The platform side (the sandbox): encrypts a resource's `plaintext`; returns the base64
/// `ciphertext` field.
///
/// # Errors
/// [`Error::Malformed`] `"resource.nonce"` unless `nonce` is 12 bytes; the backend's error.
pub async fn encrypt_resource(
    aead: &impl AesGcm,
    nonce: &str,
    associated_data: &str,
    plaintext: &[u8],
) -> Result<String> {
    let sealed = aead
        .encrypt(nonce_bytes(nonce)?, associated_data.as_bytes(), plaintext)
        .await?;
    Ok(base64::engine::general_purpose::STANDARD.encode(sealed))
}

/// The one entry point for a callback: verifies `raw_body` with `headers` and `keys` at `now` (see
/// [`verify_response`]: probes, stale or unknown-key callbacks are refused), then decrypts the
/// resource with `aead` (built from the [`ApiV3Key`]), then parses it.
///
/// Answer WeChat Pay 200/204 only once the result is stored; 4xx/5xx with
/// `{"code":"FAIL","message":…}` makes it retry.
///
/// # Errors
/// Those of [`verify_response`]; [`Error::Malformed`] `"notification"` for a body that is not a
/// callback, `"resource.algorithm"`, `"resource.nonce"`, `"resource.ciphertext"`, or `"resource"`
/// when the decrypted JSON is not the type `original_type` names; [`Error::DecryptionFailed`].
pub async fn parse_notification<K: PlatformKeys, A: AesGcm>(
    headers: &WechatpayHeaders,
    raw_body: &[u8],
    keys: &K,
    aead: &A,
    now: u64,
) -> Result<Notification> {
    verify_response(headers, raw_body, keys, now).await?;
    let envelope: NotificationEnvelope = from_body(raw_body, "notification")?;
    let plaintext = decrypt_resource(aead, &envelope.resource).await?;
    let resource = match envelope.resource.original_type.as_str() {
        "transaction" => NotificationResource::Transaction(Box::new(from_body(&plaintext, "resource")?)),
        "refund" => NotificationResource::Refund(Box::new(from_body(&plaintext, "resource")?)),
        _ => NotificationResource::Other {
            original_type: envelope.resource.original_type.clone(),
            plaintext: String::from_utf8(plaintext).map_err(|_| Error::Malformed { what: "resource" })?,
        },
    };
    Ok(Notification {
        id: envelope.id,
        create_time: envelope.create_time,
        event_type: envelope.event_type,
        summary: envelope.summary,
        resource,
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;
    use std::collections::HashMap;

    use super::*;
    use crate::money::Amount;
    use crate::native::{block_on, AesGcmKey, RsaPrivateKey, RsaPublicKey};
    use crate::wechatpay::model::{RefundStatus, TradeState};
    use crate::wechatpay::verify::sign_response;

    const PLATFORM_KEY: &str = include_str!("../../fixtures/test_leaf.key.pem");
    const APIV3_KEY_FILE: &str = include_str!("../../fixtures/test_wechatpay_apiv3_key.txt");

    fn apiv3_key() -> &'static [u8] {
        APIV3_KEY_FILE.trim_end().as_bytes()
    }
    const SERIAL: &str = "PUB_KEY_ID_0114232204962025060600382271002000";
    const NOW: u64 = 1_700_000_000;

    struct Sandbox {
        key: RsaPrivateKey,
        aead: AesGcmKey,
        keys: HashMap<String, RsaPublicKey>,
    }

    fn sandbox() -> Sandbox {
        let key = RsaPrivateKey::from_text(PLATFORM_KEY, "test").unwrap();
        let keys = HashMap::from([(SERIAL.to_owned(), key.public_key().clone())]);
        let api_key = ApiV3Key::new(apiv3_key()).unwrap();
        Sandbox {
            aead: AesGcmKey::new(api_key.expose(), "WECHATPAY_APIV3_KEY").unwrap(),
            key,
            keys,
        }
    }

    impl Sandbox {
        fn callback(&self, event_type: &str, original_type: &str, plaintext: &str) -> (WechatpayHeaders, Vec<u8>) {
            let ciphertext = block_on(encrypt_resource(
                &self.aead,
                "fdasflkja484",
                original_type,
                plaintext.as_bytes(),
            ))
            .unwrap();
            let envelope = NotificationEnvelope {
                id: "EV-2018022511223320873".into(),
                create_time: "2015-05-20T13:29:35+08:00".into(),
                event_type: EventType::from_wire(event_type),
                resource_type: "encrypt-resource".into(),
                resource: EncryptedResource {
                    algorithm: AEAD_AES_256_GCM.into(),
                    ciphertext,
                    associated_data: original_type.into(),
                    original_type: original_type.into(),
                    nonce: "fdasflkja484".into(),
                },
                summary: "支付成功".into(),
            };
            let body = serde_json::to_vec(&envelope).unwrap();
            let headers = WechatpayHeaders {
                timestamp: NOW.to_string(),
                nonce: "fdasfjihihihlkja484w".into(),
                signature: block_on(sign_response(&self.key, NOW, "fdasfjihihihlkja484w", &body)).unwrap(),
                serial: SERIAL.into(),
            };
            (headers, body)
        }

        fn parse(&self, headers: &WechatpayHeaders, body: &[u8], now: u64) -> Result<Notification> {
            block_on(parse_notification(headers, body, &self.keys, &self.aead, now))
        }
    }

    const TRANSACTION: &str = r#"{"transaction_id":"1217752501201407033233368018","amount":{"payer_total":100,"total":100,"currency":"CNY","payer_currency":"CNY"},"mchid":"1230000109","trade_state":"SUCCESS","bank_type":"CMC","promotion_detail":[],"success_time":"2018-06-08T10:34:56+08:00","payer":{"openid":"oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"},"out_trade_no":"1217752501201407033233368018","appid":"wxd678efh567hg6787","trade_state_desc":"支付成功","trade_type":"MICROPAY","attach":"自定义数据","scene_info":{"device_id":"013467007045764"}}"#;
    const REFUND: &str = r#"{"mchid":"1900000100","transaction_id":"1008450740201411110005820873","out_trade_no":"20150806125346","refund_id":"50200207182018070300011301001","out_refund_no":"7752501201407033233368018","refund_status":"SUCCESS","success_time":"2018-06-08T10:34:56+08:00","user_received_account":"招商银行信用卡0403","amount":{"total":999,"refund":999,"payer_total":999,"payer_refund":999}}"#;

    #[test]
    fn a_payment_callback_end_to_end() {
        let sandbox = sandbox();
        let (headers, body) = sandbox.callback("TRANSACTION.SUCCESS", "transaction", TRANSACTION);
        let notification = sandbox.parse(&headers, &body, NOW).unwrap();
        assert_eq!(notification.event_type, EventType::TransactionSuccess);
        assert_eq!(notification.id, "EV-2018022511223320873");
        let NotificationResource::Transaction(t) = notification.resource else {
            panic!("not a transaction")
        };
        assert_eq!(t.trade_state, TradeState::Success);
        assert_eq!(t.out_trade_no.as_str(), "1217752501201407033233368018");
        assert_eq!(t.amount.unwrap().total, Amount::from_fen(100).unwrap());
        assert_eq!(t.attach.as_deref(), Some("自定义数据"));
    }

    #[test]
    fn a_refund_callback_end_to_end() {
        let sandbox = sandbox();
        let (headers, body) = sandbox.callback("REFUND.SUCCESS", "refund", REFUND);
        let notification = sandbox.parse(&headers, &body, NOW).unwrap();
        assert_eq!(notification.event_type, EventType::RefundSuccess);
        let NotificationResource::Refund(r) = notification.resource else {
            panic!("not a refund")
        };
        assert_eq!(r.refund_status, RefundStatus::Success);
        assert_eq!(r.amount.refund.fen(), 999);
        assert_eq!(r.out_refund_no.as_str(), "7752501201407033233368018");
    }

    #[test]
    fn refused_before_decryption_when_unverified() {
        let sandbox = sandbox();
        let (headers, body) = sandbox.callback("TRANSACTION.SUCCESS", "transaction", TRANSACTION);
        let mut tampered = body.clone();
        let at = tampered.len() - 3;
        tampered[at] ^= 1;
        assert_eq!(sandbox.parse(&headers, &tampered, NOW), Err(Error::BadSignature));
        assert_eq!(sandbox.parse(&headers, &body, NOW + 300), Err(Error::StaleTimestamp));
        let probe = WechatpayHeaders {
            signature: format!("WECHATPAY/SIGNTEST/{}", headers.signature),
            ..headers.clone()
        };
        assert_eq!(sandbox.parse(&probe, &body, NOW), Err(Error::BadSignature));
        let unknown = WechatpayHeaders {
            serial: "PUB_KEY_ID_0000".into(),
            ..headers
        };
        assert_eq!(sandbox.parse(&unknown, &body, NOW), Err(Error::UnknownKey));
    }

    #[test]
    fn a_signed_callback_with_a_bad_resource_is_refused() {
        let sandbox = sandbox();
        let sign = |body: &[u8]| WechatpayHeaders {
            timestamp: NOW.to_string(),
            nonce: "n".into(),
            signature: block_on(sign_response(&sandbox.key, NOW, "n", body)).unwrap(),
            serial: SERIAL.into(),
        };
        let (_, body) = sandbox.callback("TRANSACTION.SUCCESS", "transaction", TRANSACTION);
        let mut envelope: NotificationEnvelope = serde_json::from_slice(&body).unwrap();
        // Another key encrypted it (wrong APIv3 key).
        let other = AesGcmKey::new(&[7; 32], "k").unwrap();
        let mut wrong_key = envelope.clone();
        wrong_key.resource.ciphertext = block_on(encrypt_resource(
            &other,
            "fdasflkja484",
            "transaction",
            TRANSACTION.as_bytes(),
        ))
        .unwrap();
        let body = serde_json::to_vec(&wrong_key).unwrap();
        assert_eq!(sandbox.parse(&sign(&body), &body, NOW), Err(Error::DecryptionFailed));
        // Another associated data.
        envelope.resource.associated_data = "refund".into();
        let body = serde_json::to_vec(&envelope).unwrap();
        assert_eq!(sandbox.parse(&sign(&body), &body, NOW), Err(Error::DecryptionFailed));
        // Another algorithm name.
        envelope.resource.associated_data = "transaction".into();
        envelope.resource.algorithm = "AEAD_SM4_GCM".into();
        let body = serde_json::to_vec(&envelope).unwrap();
        assert_eq!(
            sandbox.parse(&sign(&body), &body, NOW),
            Err(Error::Malformed {
                what: "resource.algorithm"
            })
        );
        // Not a callback at all.
        let body = br#"{"code":"SUCCESS"}"#;
        assert_eq!(
            sandbox.parse(&sign(body), body, NOW),
            Err(Error::Malformed { what: "notification" })
        );
        // A transaction whose JSON is not a transaction.
        let (headers, body) = sandbox.callback("TRANSACTION.SUCCESS", "transaction", r#"{"mchid":"1230000109"}"#);
        assert_eq!(
            sandbox.parse(&headers, &body, NOW),
            Err(Error::Malformed { what: "resource" })
        );
    }

    #[test]
    fn other_products_are_kept_as_text() {
        let sandbox = sandbox();
        let (headers, body) = sandbox.callback("PAYSCORE.USER_OPEN_SERVICE", "payscore", r#"{"mchid":"1"}"#);
        let notification = sandbox.parse(&headers, &body, NOW).unwrap();
        assert_eq!(
            notification.event_type,
            EventType::Unknown("PAYSCORE.USER_OPEN_SERVICE".into())
        );
        assert_eq!(
            notification.resource,
            NotificationResource::Other {
                original_type: "payscore".into(),
                plaintext: r#"{"mchid":"1"}"#.into()
            }
        );
    }

    #[test]
    fn apiv3_key_is_32_bytes_and_redacted() {
        assert!(ApiV3Key::new(apiv3_key()).is_ok());
        for bad in [&b"testMchAPIv3Key0"[..], &[0; 31], &[0; 33], b""] {
            assert_eq!(
                ApiV3Key::new(bad).unwrap_err(),
                Error::InvalidKey {
                    what: "WECHATPAY_APIV3_KEY"
                }
            );
        }
        assert_eq!(
            format!("{:?}", ApiV3Key::new(apiv3_key()).unwrap()),
            "ApiV3Key([redacted])"
        );
    }

    #[test]
    fn resource_nonce_must_be_12_bytes() {
        let aead = AesGcmKey::new(apiv3_key(), "k").unwrap();
        assert_eq!(
            block_on(encrypt_resource(&aead, "short", "", b"x")),
            Err(Error::Malformed { what: "resource.nonce" })
        );
        assert_eq!(
            block_on(decrypt_ciphertext(&aead, "0123456789abc", "", "AAAA")),
            Err(Error::Malformed { what: "resource.nonce" })
        );
    }
}
