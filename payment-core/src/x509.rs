//! The parts of X.509 the providers use: WeChat Pay platform certificates (the serial picks the
//! key), UnionPay's `signPubKeyCert` (trusted only after it chains to configured roots) and Alipay's
//! certificate mode. Parsing is pure; signature checks go through [`RsaVerifier`].

use der::asn1::ObjectIdentifier;
use der::{Decode, Encode};

use crate::crypto::RsaVerifier;
use crate::error::{Error, Result};

/// sha256WithRSAEncryption, the only certificate signature algorithm accepted.
const SHA256_WITH_RSA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.11");

/// A parsed certificate, keeping the DER of the parts that are signed or compared.
#[derive(Debug, Clone)]
pub struct Certificate {
    serial: Vec<u8>,
    spki_der: Vec<u8>,
    tbs_der: Vec<u8>,
    signature: Vec<u8>,
    signature_is_sha256_rsa: bool,
    issuer_der: Vec<u8>,
    subject_der: Vec<u8>,
    not_before: u64,
    not_after: u64,
    is_ca: bool,
}

impl Certificate {
    /// Parses one DER certificate.
    ///
    /// # Errors
    /// [`Error::InvalidKey`] `"certificate"` when it is not a well-formed X.509 certificate.
    pub fn from_der(der: &[u8]) -> Result<Self> {
        let invalid = || Error::InvalidKey { what: "certificate" };
        let cert = x509_cert::Certificate::from_der(der).map_err(|_| invalid())?;
        let tbs = &cert.tbs_certificate;
        let is_ca = tbs
            .get::<x509_cert::ext::pkix::BasicConstraints>()
            .ok()
            .flatten()
            .is_some_and(|(_, bc)| bc.ca);
        Ok(Self {
            serial: tbs.serial_number.as_bytes().to_vec(),
            spki_der: tbs.subject_public_key_info.to_der().map_err(|_| invalid())?,
            tbs_der: tbs.to_der().map_err(|_| invalid())?,
            signature: cert.signature.raw_bytes().to_vec(),
            signature_is_sha256_rsa: cert.signature_algorithm.oid == SHA256_WITH_RSA,
            issuer_der: tbs.issuer.to_der().map_err(|_| invalid())?,
            subject_der: tbs.subject.to_der().map_err(|_| invalid())?,
            not_before: tbs.validity.not_before.to_unix_duration().as_secs(),
            not_after: tbs.validity.not_after.to_unix_duration().as_secs(),
            is_ca,
        })
    }

    /// Parses every `CERTIFICATE` block of a PEM text (a bundle as pasted into one setting).
    ///
    /// # Errors
    /// [`Error::InvalidKey`] `"certificate"` when a block is malformed or there is none.
    pub fn all_from_pem(text: &str) -> Result<Vec<Self>> {
        let invalid = || Error::InvalidKey { what: "certificate" };
        let certs = crate::keys::pem_blocks(text)
            .ok_or_else(invalid)?
            .into_iter()
            .filter(|(label, _)| label == "CERTIFICATE")
            .map(|(_, der)| Self::from_der(&der))
            .collect::<Result<Vec<_>>>()?;
        if certs.is_empty() {
            return Err(invalid());
        }
        Ok(certs)
    }

    /// The serial number as upper-case hex without leading zero bytes (WeChat's `Wechatpay-Serial`).
    pub fn serial_hex(&self) -> String {
        let bytes = strip_leading_zeros(&self.serial);
        bytes.iter().map(|b| format!("{b:02X}")).collect()
    }

    /// The serial number in decimal (UnionPay's `certId`).
    pub fn serial_decimal(&self) -> String {
        decimal(strip_leading_zeros(&self.serial))
    }

    /// The SubjectPublicKeyInfo DER, for [`crate::keys`] and WebCrypto's `importKey("spki")`.
    pub fn spki_der(&self) -> &[u8] {
        &self.spki_der
    }

    /// The subject's distinguished name, DER.
    pub fn subject_der(&self) -> &[u8] {
        &self.subject_der
    }

    /// Validity as Unix seconds `(not_before, not_after)`.
    pub fn validity(&self) -> (u64, u64) {
        (self.not_before, self.not_after)
    }

    /// Whether `now` (Unix seconds) is within the validity period.
    pub fn valid_at(&self, now: u64) -> bool {
        self.not_before <= now && now <= self.not_after
    }

    /// Checks that `issuer` signed this certificate: names match, the issuer is a CA, and the
    /// signature (sha256WithRSAEncryption only) verifies with `issuer_key`, the issuer's key.
    ///
    /// # Errors
    /// [`Error::UntrustedCertificate`] when any of that fails.
    pub async fn verify_issued_by(&self, issuer: &Certificate, issuer_key: &impl RsaVerifier) -> Result<()> {
        if self.issuer_der != issuer.subject_der || !issuer.is_ca || !self.signature_is_sha256_rsa {
            return Err(Error::UntrustedCertificate);
        }
        issuer_key.verify(&self.tbs_der, &self.signature).await.map_err(|_| Error::UntrustedCertificate)
    }
}

fn strip_leading_zeros(bytes: &[u8]) -> &[u8] {
    let first = bytes.iter().position(|&b| b != 0).unwrap_or(bytes.len().saturating_sub(1));
    &bytes[first..]
}

/// Big-endian unsigned bytes to decimal, by repeated division by 10.
fn decimal(bytes: &[u8]) -> String {
    let mut digits = Vec::new();
    let mut number = bytes.to_vec();
    while number.iter().any(|&b| b != 0) {
        let mut remainder = 0_u32;
        for byte in &mut number {
            let value = (remainder << 8) | u32::from(*byte);
            *byte = (value / 10) as u8;
            remainder = value % 10;
        }
        digits.push(b'0' + remainder as u8);
    }
    if digits.is_empty() {
        return "0".to_owned();
    }
    digits.iter().rev().map(|&d| char::from(d)).collect()
}

#[cfg(test)]
mod tests {
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;
    use super::*;

    const SELF_SIGNED: &str = include_str!("../fixtures/test_rsa_a.cert.pem");
    const LEAF: &str = include_str!("../fixtures/test_leaf.cert.pem");
    const MIDDLE: &str = include_str!("../fixtures/test_ca_middle.cert.pem");

    #[test]
    fn serials_in_hex_and_decimal() {
        let cert = &Certificate::all_from_pem(SELF_SIGNED).unwrap()[0];
        assert_eq!(cert.serial_hex(), "1A2B3C4D5E6F");
        assert_eq!(cert.serial_decimal(), u64::from_str_radix("1A2B3C4D5E6F", 16).unwrap().to_string());
        let leaf = &Certificate::all_from_pem(LEAF).unwrap()[0];
        assert_eq!(leaf.serial_decimal(), "69026276696");
    }

    #[test]
    fn decimal_of_large_numbers() {
        assert_eq!(decimal(&[0]), "0");
        assert_eq!(decimal(&[1, 0]), "256");
        assert_eq!(decimal(&[0xff; 16]), u128::MAX.to_string());
    }

    #[test]
    fn a_bundle_parses_every_certificate() {
        let bundle = format!("{LEAF}\n{MIDDLE}");
        let certs = Certificate::all_from_pem(&bundle).unwrap();
        assert_eq!(certs.len(), 2);
        assert!(certs[1].is_ca && !certs[0].is_ca);
        assert!(Certificate::all_from_pem("no certificate here").is_err());
    }

    #[test]
    fn chain_checks_name_ca_flag_and_signature() {
        use crate::native::{block_on, RsaPublicKey};
        let root = &Certificate::all_from_pem(include_str!("../fixtures/test_ca_root.cert.pem")).unwrap()[0];
        let middle = &Certificate::all_from_pem(MIDDLE).unwrap()[0];
        let leaf = &Certificate::all_from_pem(LEAF).unwrap()[0];
        let key = |c: &Certificate| RsaPublicKey::from_spki_der(c.spki_der(), "k").unwrap();
        block_on(leaf.verify_issued_by(middle, &key(middle))).unwrap();
        block_on(middle.verify_issued_by(root, &key(root))).unwrap();
        // Wrong issuer name, right key of the wrong issuer, and a non-CA issuer are all refused.
        assert_eq!(block_on(leaf.verify_issued_by(root, &key(root))), Err(Error::UntrustedCertificate));
        assert_eq!(block_on(leaf.verify_issued_by(middle, &key(root))), Err(Error::UntrustedCertificate));
        assert_eq!(block_on(leaf.verify_issued_by(leaf, &key(leaf))), Err(Error::UntrustedCertificate));
    }

    #[test]
    fn validity_window() {
        let cert = &Certificate::all_from_pem(LEAF).unwrap()[0];
        let (from, to) = cert.validity();
        assert!(from < to);
        assert!(cert.valid_at(from) && cert.valid_at(to));
        assert!(!cert.valid_at(from - 1) && !cert.valid_at(to + 1));
    }
}
