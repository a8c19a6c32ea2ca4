//! Key material as merchants paste it, normalized to the two DER forms every backend imports:
//! PKCS#8 for private keys, SubjectPublicKeyInfo (SPKI) for public keys. WebCrypto's `importKey`
//! takes exactly these (`"pkcs8"`, `"spki"`), and so does the native backend.
//!
//! Accepted: PEM (`PRIVATE KEY`, `RSA PRIVATE KEY`, `PUBLIC KEY`, `RSA PUBLIC KEY`, `CERTIFICATE`)
//! or bare base64 of the DER, which is how Alipay's console hands out keys.

use base64::Engine as _;
use der::asn1::{AnyRef, BitStringRef, ObjectIdentifier};
use der::{Decode, Encode};
use spki::{AlgorithmIdentifierRef, SubjectPublicKeyInfoRef};

use crate::crypto::SecretBytes;
use crate::error::{Error, Result};

/// rsaEncryption (PKCS #1).
const RSA_ENCRYPTION: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1");

fn rsa_algorithm() -> AlgorithmIdentifierRef<'static> {
    AlgorithmIdentifierRef { oid: RSA_ENCRYPTION, parameters: Some(AnyRef::NULL) }
}

/// Every PEM block of `text` as `(label, der)`, read leniently: any line width (Alipay hands out
/// one-line keys and 76-column certificates), CRLF, indentation, text between blocks. A block whose
/// body is not base64 makes the whole text invalid (`None`).
pub fn pem_blocks(text: &str) -> Option<Vec<(String, Vec<u8>)>> {
    const BEGIN: &str = "-----BEGIN ";
    let mut blocks = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find(BEGIN) {
        let after = &rest[start + BEGIN.len()..];
        let label_end = after.find("-----")?;
        let label = &after[..label_end];
        let body = &after[label_end + 5..];
        let end_marker = format!("-----END {label}-----");
        let end = body.find(&end_marker)?;
        let compact: String = body[..end].chars().filter(|c| !c.is_whitespace()).collect();
        let der = base64::engine::general_purpose::STANDARD.decode(compact).ok()?;
        blocks.push((label.to_owned(), der));
        rest = &body[end + end_marker.len()..];
    }
    Some(blocks)
}

/// Decodes PEM (the first block) or bare base64 into `(label, der)`; the label is `""` for bare base64.
fn decode_text(text: &str) -> Option<(String, Vec<u8>)> {
    let text = text.trim();
    if text.starts_with("-----BEGIN ") {
        pem_blocks(text)?.into_iter().next()
    } else {
        let compact: String = text.chars().filter(|c| !c.is_whitespace()).collect();
        let der = base64::engine::general_purpose::STANDARD.decode(compact).ok()?;
        Some((String::new(), der))
    }
}

/// A PKCS#8 DER RSA private key from PEM (PKCS#8 or PKCS#1) or bare base64 of either.
///
/// # Errors
/// [`Error::InvalidKey`] naming `what` (a setting name) when the text is not an RSA private key.
pub fn private_key_pkcs8_der(text: &str, what: &'static str) -> Result<SecretBytes> {
    let invalid = Error::InvalidKey { what };
    let (label, der) = decode_text(text).ok_or(invalid.clone())?;
    let der = zeroize::Zeroizing::new(der);
    let is_pkcs8 = |der: &[u8]| {
        pkcs8::PrivateKeyInfo::from_der(der).is_ok_and(|info| info.algorithm.oid == RSA_ENCRYPTION)
    };
    let is_pkcs1 = |der: &[u8]| pkcs1::RsaPrivateKey::from_der(der).is_ok();
    match label.as_str() {
        "PRIVATE KEY" | "" if is_pkcs8(&der) => Ok(SecretBytes::new(der.to_vec())),
        "RSA PRIVATE KEY" | "" if is_pkcs1(&der) => {
            let info = pkcs8::PrivateKeyInfo::new(rsa_algorithm(), &der);
            info.to_der().map(SecretBytes::new).map_err(|_| invalid)
        }
        _ => Err(invalid),
    }
}

/// An SPKI DER RSA public key from PEM (SPKI, PKCS#1 or an X.509 certificate) or bare base64 of
/// an SPKI or PKCS#1 key.
///
/// # Errors
/// [`Error::InvalidKey`] naming `what` when the text is not an RSA public key.
pub fn public_key_spki_der(text: &str, what: &'static str) -> Result<Vec<u8>> {
    let invalid = Error::InvalidKey { what };
    let (label, der) = decode_text(text).ok_or(invalid.clone())?;
    let is_spki =
        |der: &[u8]| SubjectPublicKeyInfoRef::from_der(der).is_ok_and(|spki| spki.algorithm.oid == RSA_ENCRYPTION);
    let is_pkcs1 = |der: &[u8]| pkcs1::RsaPublicKey::from_der(der).is_ok();
    match label.as_str() {
        "PUBLIC KEY" | "" if is_spki(&der) => Ok(der),
        "RSA PUBLIC KEY" | "" if is_pkcs1(&der) => {
            let bits = BitStringRef::from_bytes(&der).map_err(|_| invalid.clone())?;
            let spki = SubjectPublicKeyInfoRef { algorithm: rsa_algorithm(), subject_public_key: bits };
            spki.to_der().map_err(|_| invalid)
        }
        "CERTIFICATE" => crate::x509::Certificate::from_der(&der).map(|c| c.spki_der().to_vec()),
        _ => Err(invalid),
    }
}

#[cfg(test)]
mod tests {
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;
    use super::*;

    // Test-only key material (fixtures/README.md).
    const PKCS8: &str = include_str!("../fixtures/test_rsa_a.pkcs8.pem");
    const PKCS1: &str = include_str!("../fixtures/test_rsa_a.pkcs1.pem");
    const SPKI: &str = include_str!("../fixtures/test_rsa_a.spki.pem");
    const RSA_PUBLIC: &str = include_str!("../fixtures/test_rsa_a.pkcs1pub.pem");
    const CERT: &str = include_str!("../fixtures/test_rsa_a.cert.pem");

    fn bare(pem: &str) -> String {
        pem.lines().filter(|l| !l.starts_with("-----")).collect()
    }

    #[test]
    fn every_private_key_form_gives_the_same_pkcs8() {
        let reference = private_key_pkcs8_der(PKCS8, "k").unwrap();
        for form in [PKCS1.to_owned(), bare(PKCS8), bare(PKCS1), PKCS8.replace('\n', "\r\n    ")] {
            assert_eq!(private_key_pkcs8_der(&form, "k").unwrap().expose(), reference.expose(), "{form}");
        }
    }

    #[test]
    fn every_public_key_form_gives_the_same_spki() {
        let reference = public_key_spki_der(SPKI, "k").unwrap();
        for form in [RSA_PUBLIC.to_owned(), CERT.to_owned(), bare(SPKI), bare(RSA_PUBLIC)] {
            assert_eq!(public_key_spki_der(&form, "k").unwrap(), reference, "{form}");
        }
    }

    #[test]
    fn pem_of_any_line_width_is_read() {
        let reference = public_key_spki_der(SPKI, "k").unwrap();
        let one_line = format!("-----BEGIN PUBLIC KEY-----\n{}\n-----END PUBLIC KEY-----", bare(SPKI));
        let wide: String = {
            let body = bare(SPKI);
            let lines: Vec<String> = body.as_bytes().chunks(76).map(|c| String::from_utf8_lossy(c).into_owned()).collect();
            format!("-----BEGIN PUBLIC KEY-----\r\n{}\r\n-----END PUBLIC KEY-----\r\n", lines.join("\r\n"))
        };
        assert_eq!(public_key_spki_der(&one_line, "k").unwrap(), reference);
        assert_eq!(public_key_spki_der(&wide, "k").unwrap(), reference);
        let blocks = pem_blocks(&format!("junk\n{CERT}\nmore junk\n{SPKI}")).unwrap();
        assert_eq!(blocks.iter().map(|(l, _)| l.as_str()).collect::<Vec<_>>(), ["CERTIFICATE", "PUBLIC KEY"]);
        assert!(pem_blocks("-----BEGIN PUBLIC KEY-----\n!!!\n-----END PUBLIC KEY-----").is_none());
        assert!(pem_blocks("-----BEGIN PUBLIC KEY-----\nAAAA\n").is_none(), "an unterminated block is invalid");
    }

    #[test]
    fn refuses_what_is_not_a_key_and_names_only_the_setting() {
        // A well-formed PEM block whose content is not a key (built up so no key-like text is committed).
        let empty_block = ["-----BEGIN ", "PRIVATE KEY-----\nAAAA\n-----END ", "PRIVATE KEY-----"].concat();
        for junk in ["", "hello", empty_block.as_str(), SPKI] {
            assert_eq!(private_key_pkcs8_der(junk, "ALIPAY_APP_PRIVATE_KEY").unwrap_err(), Error::InvalidKey { what: "ALIPAY_APP_PRIVATE_KEY" });
        }
        for junk in ["", "bm90IGEga2V5", PKCS8] {
            assert!(public_key_spki_der(junk, "ALIPAY_PUBLIC_KEY").is_err());
        }
    }
}
