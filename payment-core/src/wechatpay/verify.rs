//! Verifying what WeChat Pay sends — API responses (2xx or not: the official SDKs skip non-2xx, we
//! do not) and callbacks — over the raw body (<https://pay.weixin.qq.com/doc/v3/merchant/4013053249>),
//! and, for the sandbox, signing them.
//!
//! The key is chosen by `Wechatpay-Serial`: a platform certificate serial (certificate mode) or a
//! `PUB_KEY_ID_…` id (public-key mode). One [`PlatformKeys`] set holds both kinds at once, since
//! merchants migrate from one to the other with both live.

use std::collections::{BTreeMap, HashMap};
use std::hash::BuildHasher;

use base64::Engine as _;

use super::canonical::{parse_timestamp, response_message};
use super::check_clock;
use crate::crypto::{RsaSigner, RsaVerifier};
use crate::error::{Error, Result};
use crate::x509::Certificate;

/// Header carrying the signing time (Unix seconds).
pub const HEADER_TIMESTAMP: &str = "Wechatpay-Timestamp";
/// Header carrying the nonce.
pub const HEADER_NONCE: &str = "Wechatpay-Nonce";
/// Header carrying the base64 signature.
pub const HEADER_SIGNATURE: &str = "Wechatpay-Signature";
/// Header naming the key: a platform certificate serial or a public-key id.
pub const HEADER_SERIAL: &str = "Wechatpay-Serial";

/// How WeChat Pay's signature-probe callbacks start their `Wechatpay-Signature`: deliberately
/// invalid signatures sent to check that merchants verify
/// (<https://pay.weixin.qq.com/doc/v3/merchant/4013053249>). Always refused.
pub const SIGNATURE_PROBE_PREFIX: &str = "WECHATPAY/SIGNTEST/";

/// The prefix of a public-key id in public-key mode (`PUB_KEY_ID_…`), as opposed to a certificate
/// serial (upper-case hex).
pub const PUBLIC_KEY_ID_PREFIX: &str = "PUB_KEY_ID_";

/// The platform keys a merchant trusts, by the name `Wechatpay-Serial` gives them: certificate serials
/// (upper-case hex, see [`platform_certificates`]) and `PUB_KEY_ID_…` ids, side by side. Names are
/// compared exactly.
pub trait PlatformKeys {
    /// The verifier of one key.
    type Verifier: RsaVerifier;

    /// The key named `serial`, if it is trusted.
    fn get(&self, serial: &str) -> Option<&Self::Verifier>;
}

impl<V: RsaVerifier, S: BuildHasher> PlatformKeys for HashMap<String, V, S> {
    type Verifier = V;

    fn get(&self, serial: &str) -> Option<&V> {
        HashMap::get(self, serial)
    }
}

impl<V: RsaVerifier> PlatformKeys for BTreeMap<String, V> {
    type Verifier = V;

    fn get(&self, serial: &str) -> Option<&V> {
        BTreeMap::get(self, serial)
    }
}

impl<K: PlatformKeys + ?Sized> PlatformKeys for &K {
    type Verifier = K::Verifier;

    fn get(&self, serial: &str) -> Option<&K::Verifier> {
        (**self).get(serial)
    }
}

/// The four signature headers of a WeChat Pay response or callback, as received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WechatpayHeaders {
    /// `Wechatpay-Timestamp`.
    pub timestamp: String,
    /// `Wechatpay-Nonce`.
    pub nonce: String,
    /// `Wechatpay-Signature` (base64).
    pub signature: String,
    /// `Wechatpay-Serial`.
    pub serial: String,
}

impl WechatpayHeaders {
    /// Reads the four headers through `get`, called with each header's canonical name (the caller's
    /// header map does the case-insensitive lookup).
    ///
    /// # Errors
    /// [`Error::Malformed`] naming the first missing header.
    pub fn from_lookup(mut get: impl FnMut(&'static str) -> Option<String>) -> Result<Self> {
        let mut read = |name: &'static str| get(name).ok_or(Error::Malformed { what: name });
        Ok(Self {
            timestamp: read(HEADER_TIMESTAMP)?,
            nonce: read(HEADER_NONCE)?,
            signature: read(HEADER_SIGNATURE)?,
            serial: read(HEADER_SERIAL)?,
        })
    }

    /// Reads the four headers from `(name, value)` pairs, names compared case-insensitively; a
    /// header given twice is refused.
    ///
    /// # Errors
    /// [`Error::Malformed`] naming a missing or repeated header.
    pub fn from_pairs<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)> + Clone) -> Result<Self> {
        Self::from_lookup(|name| {
            let mut values = pairs
                .clone()
                .into_iter()
                .filter(|(n, _)| n.eq_ignore_ascii_case(name))
                .map(|(_, v)| v);
            match (values.next(), values.next()) {
                (Some(value), None) => Some(value.to_owned()),
                _ => None,
            }
        })
    }

    /// The headers as `(name, value)` pairs, to put on a response or callback.
    pub fn to_pairs(&self) -> [(&'static str, &str); 4] {
        [
            (HEADER_TIMESTAMP, self.timestamp.as_str()),
            (HEADER_NONCE, self.nonce.as_str()),
            (HEADER_SIGNATURE, self.signature.as_str()),
            (HEADER_SERIAL, self.serial.as_str()),
        ]
    }
}

/// Decodes a standard-base64 signature.
///
/// # Errors
/// [`Error::BadSignature`] when it is empty or not base64 (one opaque error).
pub(crate) fn decode_signature(signature_b64: &str) -> Result<Vec<u8>> {
    match base64::engine::general_purpose::STANDARD.decode(signature_b64) {
        Ok(signature) if !signature.is_empty() => Ok(signature),
        _ => Err(Error::BadSignature),
    }
}

/// Verifies a base64 SHA256withRSA `signature_b64` over `message` with the key `serial` names in
/// `keys` (wechatpay-go `SHA256WithRSAVerifier` / `SHA256WithRSAPubkeyVerifier`).
///
/// # Errors
/// [`Error::BadSignature`] for a signature probe (checked before anything else), a signature that is
/// empty, not base64 or invalid; [`Error::UnknownKey`] when `serial` names no trusted key.
pub async fn verify_signature<K: PlatformKeys>(
    keys: &K,
    serial: &str,
    message: &[u8],
    signature_b64: &str,
) -> Result<()> {
    if signature_b64.starts_with(SIGNATURE_PROBE_PREFIX) {
        return Err(Error::BadSignature);
    }
    let verifier = keys.get(serial).ok_or(Error::UnknownKey)?;
    let signature = decode_signature(signature_b64)?;
    verifier.verify(message, &signature).await
}

/// Verifies a response or callback over its raw body: `Wechatpay-Signature` over
/// `TIMESTAMP\nNONCE\nBODY\n` with the key `Wechatpay-Serial` names, signed within 300 s of `now`
/// (<https://pay.weixin.qq.com/doc/v3/merchant/4013053249>).
///
/// Signature probes (`WECHATPAY/SIGNTEST/…`) are refused first, without calling any verifier.
///
/// # Errors
/// [`Error::BadSignature`] for a probe or a signature that does not verify (empty, not base64,
/// wrong); [`Error::Malformed`] for a malformed timestamp or nonce; [`Error::StaleTimestamp`] when
/// `|now − timestamp| ≥ 300`; [`Error::UnknownKey`] when the serial names no trusted key.
pub async fn verify_response<K: PlatformKeys>(
    headers: &WechatpayHeaders,
    body: &[u8],
    keys: &K,
    now: u64,
) -> Result<()> {
    if headers.signature.starts_with(SIGNATURE_PROBE_PREFIX) {
        return Err(Error::BadSignature);
    }
    let timestamp = parse_timestamp(&headers.timestamp, HEADER_TIMESTAMP)?;
    check_clock(timestamp, now)?;
    let message = response_message(timestamp, &headers.nonce, body)?;
    verify_signature(keys, &headers.serial, &message, &headers.signature).await
}

/// The platform side (the sandbox): the `Wechatpay-Signature` value (base64) of a response or
/// callback `body` sent at `timestamp` with `nonce`.
///
/// # Errors
/// [`Error::Malformed`] for a nonce that cannot be signed unambiguously; the signer's error.
pub async fn sign_response(signer: &impl RsaSigner, timestamp: u64, nonce: &str, body: &[u8]) -> Result<String> {
    let message = response_message(timestamp, nonce, body)?;
    let signature = signer.sign(&message).await?;
    Ok(base64::engine::general_purpose::STANDARD.encode(signature))
}

/// Platform certificates as configured (a PEM bundle): serial (upper-case hex, as `Wechatpay-Serial`
/// names it) → SubjectPublicKeyInfo DER, keeping only the certificates valid at `now` (Unix
/// seconds). The caller imports each key into its verifier and may add `PUB_KEY_ID_…` keys beside
/// them.
///
/// # Errors
/// [`Error::InvalidKey`] `"certificate"` when a block is malformed or there is none;
/// [`Error::UntrustedCertificate`] when none is valid at `now`.
pub fn platform_certificates(pem_bundle: &str, now: u64) -> Result<BTreeMap<String, Vec<u8>>> {
    let valid: BTreeMap<String, Vec<u8>> = Certificate::all_from_pem(pem_bundle)?
        .into_iter()
        .filter(|cert| cert.valid_at(now))
        .map(|cert| (cert.serial_hex(), cert.spki_der().to_vec()))
        .collect();
    if valid.is_empty() {
        return Err(Error::UntrustedCertificate);
    }
    Ok(valid)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;
    use std::cell::Cell;

    use super::*;
    use crate::native::{block_on, RsaPrivateKey, RsaPublicKey};

    const PLATFORM_KEY: &str = include_str!("../../fixtures/test_leaf.key.pem");
    const PLATFORM_CERT: &str = include_str!("../../fixtures/test_leaf.cert.pem");
    const PUBKEY_MODE_KEY: &str = include_str!("../../fixtures/test_ca_middle.key.pem");
    const OTHER_CERT: &str = include_str!("../../fixtures/test_rsa_a.cert.pem");
    const PUB_KEY_ID: &str = "PUB_KEY_ID_0114232204962025060600382271002000";
    /// `test_leaf.cert.pem`'s serial, 69026276696 in decimal.
    const LEAF_SERIAL: &str = "1012496558";

    /// A verifier that records whether it was asked.
    #[derive(Debug, Default)]
    struct Spy(Cell<u32>);

    impl RsaVerifier for Spy {
        async fn verify(&self, _message: &[u8], _signature: &[u8]) -> Result<()> {
            self.0.set(self.0.get() + 1);
            Ok(())
        }
    }

    fn keys() -> (RsaPrivateKey, RsaPrivateKey, HashMap<String, RsaPublicKey>) {
        let cert_key = RsaPrivateKey::from_text(PLATFORM_KEY, "test").unwrap();
        let pub_key = RsaPrivateKey::from_text(PUBKEY_MODE_KEY, "test").unwrap();
        let certs = platform_certificates(PLATFORM_CERT, 1_900_000_000).unwrap();
        let mut keys: HashMap<String, RsaPublicKey> = certs
            .iter()
            .map(|(serial, spki)| (serial.clone(), RsaPublicKey::from_spki_der(spki, "test").unwrap()))
            .collect();
        keys.insert(PUB_KEY_ID.to_owned(), pub_key.public_key().clone());
        (cert_key, pub_key, keys)
    }

    fn signed(key: &RsaPrivateKey, serial: &str, ts: u64, body: &[u8]) -> WechatpayHeaders {
        WechatpayHeaders {
            timestamp: ts.to_string(),
            nonce: "593BEC0C930BF1AFEB40B4A08C8FB242".to_owned(),
            signature: block_on(sign_response(key, ts, "593BEC0C930BF1AFEB40B4A08C8FB242", body)).unwrap(),
            serial: serial.to_owned(),
        }
    }

    #[test]
    fn certificate_serials_and_public_key_ids_at_the_same_time() {
        let (cert_key, pub_key, keys) = keys();
        let serial = LEAF_SERIAL.to_owned();
        assert!(keys.contains_key(&serial));
        let body = br#"{"prepay_id":"wx201410272009395522657a690389285100"}"#;
        let now = 1_800_000_000;
        block_on(verify_response(
            &signed(&cert_key, &serial, now, body),
            body,
            &keys,
            now,
        ))
        .unwrap();
        block_on(verify_response(
            &signed(&pub_key, PUB_KEY_ID, now, body),
            body,
            &keys,
            now,
        ))
        .unwrap();
        // Each key only under its own name.
        assert_eq!(
            block_on(verify_response(
                &signed(&cert_key, PUB_KEY_ID, now, body),
                body,
                &keys,
                now
            )),
            Err(Error::BadSignature)
        );
        assert_eq!(
            block_on(verify_response(&signed(&pub_key, &serial, now, body), body, &keys, now)),
            Err(Error::BadSignature)
        );
        // A BTreeMap and a reference work the same.
        let tree: BTreeMap<String, RsaPublicKey> = keys.clone().into_iter().collect();
        block_on(verify_response(
            &signed(&pub_key, PUB_KEY_ID, now, body),
            body,
            &&tree,
            now,
        ))
        .unwrap();
    }

    #[test]
    fn refuses_tampering_time_unknown_keys_and_bad_encodings() {
        let (cert_key, _, keys) = keys();
        let serial = LEAF_SERIAL.to_owned();
        let body = "{\"code_url\":\"weixin://wxpay/bizpayurl?pr=p4lpSuKzz\"}".as_bytes();
        let now = 1_800_000_000;
        let headers = signed(&cert_key, &serial, now, body);
        let verify =
            |headers: &WechatpayHeaders, body: &[u8], now: u64| block_on(verify_response(headers, body, &keys, now));
        verify(&headers, body, now).unwrap();
        verify(&headers, body, now + 299).unwrap();
        verify(&headers, body, now - 299).unwrap();
        assert_eq!(verify(&headers, body, now + 300), Err(Error::StaleTimestamp));
        assert_eq!(verify(&headers, body, now - 300), Err(Error::StaleTimestamp));
        for i in [0, body.len() / 2, body.len() - 1] {
            let mut tampered = body.to_vec();
            tampered[i] ^= 1;
            assert_eq!(verify(&headers, &tampered, now), Err(Error::BadSignature));
        }
        let mut with_newline = body.to_vec();
        with_newline.push(b'\n');
        assert_eq!(verify(&headers, &with_newline, now), Err(Error::BadSignature));
        let other_nonce = WechatpayHeaders {
            nonce: "593BEC0C930BF1AFEB40B4A08C8FB243".into(),
            ..headers.clone()
        };
        assert_eq!(verify(&other_nonce, body, now), Err(Error::BadSignature));
        let unknown = WechatpayHeaders {
            serial: "5157F09EFDC096DE15EBE81A47057A72".into(),
            ..headers.clone()
        };
        assert_eq!(verify(&unknown, body, now), Err(Error::UnknownKey));
        let lower = WechatpayHeaders {
            serial: PUB_KEY_ID.to_lowercase(),
            ..headers.clone()
        };
        assert_eq!(verify(&lower, body, now), Err(Error::UnknownKey));
        let not_base64 = WechatpayHeaders {
            signature: "not base64!".into(),
            ..headers.clone()
        };
        assert_eq!(verify(&not_base64, body, now), Err(Error::BadSignature));
        let empty = WechatpayHeaders {
            signature: String::new(),
            ..headers.clone()
        };
        assert_eq!(verify(&empty, body, now), Err(Error::BadSignature));
        let bad_ts = WechatpayHeaders {
            timestamp: format!("0{now}"),
            ..headers.clone()
        };
        assert_eq!(
            verify(&bad_ts, body, now),
            Err(Error::Malformed { what: HEADER_TIMESTAMP })
        );
        let bad_nonce = WechatpayHeaders {
            nonce: "a\nb".into(),
            ..headers
        };
        assert_eq!(
            verify(&bad_nonce, body, now),
            Err(Error::Malformed { what: HEADER_NONCE })
        );
    }

    #[test]
    fn signature_probes_are_refused_without_asking_the_verifier() {
        let spy = Spy::default();
        let keys = HashMap::from([("PUB_KEY_ID_1".to_owned(), spy)]);
        let headers = WechatpayHeaders {
            timestamp: "1700000000".into(),
            nonce: "n".into(),
            signature: "WECHATPAY/SIGNTEST/aGVsbG8=".into(),
            serial: "PUB_KEY_ID_1".into(),
        };
        assert_eq!(
            block_on(verify_response(&headers, b"{}", &keys, 1_700_000_000)),
            Err(Error::BadSignature)
        );
        assert_eq!(
            block_on(verify_signature(&keys, "PUB_KEY_ID_1", b"m", "WECHATPAY/SIGNTEST/x")),
            Err(Error::BadSignature)
        );
        let spy = &keys["PUB_KEY_ID_1"];
        assert_eq!(spy.0.get(), 0);
        // The same headers with a real-looking signature do reach the verifier (the spy accepts).
        let normal = WechatpayHeaders {
            signature: "aGVsbG8=".into(),
            ..headers
        };
        block_on(verify_response(&normal, b"{}", &keys, 1_700_000_000)).unwrap();
        assert_eq!(spy.0.get(), 1);
    }

    #[test]
    fn headers_from_pairs_are_case_insensitive_and_complete() {
        let pairs = [
            ("wechatpay-timestamp", "1"),
            ("WECHATPAY-NONCE", "n"),
            ("Wechatpay-Signature", "s"),
            ("wechatpay-serial", "PUB_KEY_ID_1"),
            ("content-type", "application/json"),
        ];
        let headers = WechatpayHeaders::from_pairs(pairs).unwrap();
        assert_eq!(
            headers.to_pairs(),
            [
                (HEADER_TIMESTAMP, "1"),
                (HEADER_NONCE, "n"),
                (HEADER_SIGNATURE, "s"),
                (HEADER_SERIAL, "PUB_KEY_ID_1")
            ]
        );
        assert_eq!(
            WechatpayHeaders::from_pairs(pairs[..3].to_vec()),
            Err(Error::Malformed { what: HEADER_SERIAL })
        );
        let mut twice = pairs.to_vec();
        twice.push(("Wechatpay-Signature", "t"));
        assert_eq!(
            WechatpayHeaders::from_pairs(twice),
            Err(Error::Malformed { what: HEADER_SIGNATURE })
        );
    }

    #[test]
    fn platform_certificates_keep_only_those_valid_now() {
        let bundle = format!("{PLATFORM_CERT}\n{OTHER_CERT}");
        let (nb, na) = Certificate::all_from_pem(PLATFORM_CERT).unwrap()[0].validity();
        let certs = platform_certificates(&bundle, nb + 10).unwrap();
        assert_eq!(certs.keys().collect::<Vec<_>>().len(), 2);
        assert!(certs.contains_key("1A2B3C4D5E6F"));
        let spki = &certs[LEAF_SERIAL];
        assert_eq!(spki, Certificate::all_from_pem(PLATFORM_CERT).unwrap()[0].spki_der());
        assert_eq!(
            platform_certificates(PLATFORM_CERT, na + 1),
            Err(Error::UntrustedCertificate)
        );
        assert_eq!(
            platform_certificates(PLATFORM_CERT, nb - 1),
            Err(Error::UntrustedCertificate)
        );
        assert_eq!(
            platform_certificates("no certificate here", nb + 10),
            Err(Error::InvalidKey { what: "certificate" })
        );
    }
}
