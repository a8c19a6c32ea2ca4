//! Certificate mode's serial numbers (`app_cert_sn`, `alipay_root_cert_sn`, `alipay_cert_sn`),
//! <https://opendocs.alipay.com/common/02kipk>.
//!
//! A certificate's SN is the lowercase hex MD5 of its issuer's distinguished name followed by its
//! serial number in decimal. The name is written the way Alipay's SDKs write it (Java's
//! `X500Principal.getName()`, the Node SDK's `antcertutil`): the attributes in *reverse* order of the
//! certificate's sequence, `SHORT=value` joined by `,`, with `CN C L ST O OU E` as short names. The
//! root SN joins, with `_`, the SNs of the bundle's RSA-signed certificates only, in file order.

use der::asn1::ObjectIdentifier;
use der::{Any, Decode, Tag, Tagged as _};
use md5::{Digest as _, Md5};

use crate::error::{Error, Result};
use crate::x509::Certificate;

/// Signature algorithms under this arc are RSA (`1.2.840.113549.1.1.*`).
const RSA_SIGNATURE_ARC: &str = "1.2.840.113549.1.1.";

/// The SN of one certificate (the first in `cert_pem`).
///
/// # Errors
/// [`Error::InvalidKey`] `"certificate"` when the text holds no well-formed certificate.
pub fn cert_sn(cert_pem: &str) -> Result<String> {
    let der = certificates_der(cert_pem)?.into_iter().next().ok_or(Error::InvalidKey { what: "certificate" })?;
    sn_of(&der)
}

/// The SN of Alipay's root bundle: the RSA-signed certificates' SNs joined by `_` (others, such as
/// the SM2 root, are skipped).
///
/// # Errors
/// [`Error::InvalidKey`] `"certificate"` when a block is malformed or no certificate is RSA-signed.
pub fn root_cert_sn(bundle_pem: &str) -> Result<String> {
    let mut sns = Vec::new();
    for der in certificates_der(bundle_pem)? {
        let cert = x509_cert::Certificate::from_der(&der).map_err(|_| Error::InvalidKey { what: "certificate" })?;
        if cert.signature_algorithm.oid.to_string().starts_with(RSA_SIGNATURE_ARC) {
            sns.push(sn_of(&der)?);
        }
    }
    if sns.is_empty() {
        return Err(Error::InvalidKey { what: "certificate" });
    }
    Ok(sns.join("_"))
}

/// The issuer name as Alipay's SDKs write it (see the module documentation).
///
/// # Errors
/// [`Error::InvalidKey`] `"certificate"` when `der` is not a certificate.
pub fn issuer_name(der: &[u8]) -> Result<String> {
    let invalid = || Error::InvalidKey { what: "certificate" };
    let cert = x509_cert::Certificate::from_der(der).map_err(|_| invalid())?;
    let mut parts: Vec<String> = Vec::new();
    for rdn in &cert.tbs_certificate.issuer.0 {
        for attribute in rdn.0.iter() {
            let value = directory_string(&attribute.value).ok_or_else(invalid)?;
            parts.push(format!("{}={value}", short_name(&attribute.oid)));
        }
    }
    parts.reverse();
    Ok(parts.join(","))
}

fn sn_of(der: &[u8]) -> Result<String> {
    let serial = Certificate::from_der(der)?.serial_decimal();
    let digest = Md5::digest(format!("{}{serial}", issuer_name(der)?).as_bytes());
    Ok(digest.iter().map(|b| format!("{b:02x}")).collect())
}

fn short_name(oid: &ObjectIdentifier) -> &'static str {
    match oid.to_string().as_str() {
        "2.5.4.3" => "CN",
        "2.5.4.6" => "C",
        "2.5.4.7" => "L",
        "2.5.4.8" => "ST",
        "2.5.4.10" => "O",
        "2.5.4.11" => "OU",
        "1.2.840.113549.1.9.1" => "E",
        // The Node SDK writes an empty name for attributes it has no short name for.
        _ => "",
    }
}

/// The text of a name attribute (`DirectoryString` and the other string types names use).
pub(crate) fn directory_string(value: &Any) -> Option<String> {
    let bytes = value.value();
    match value.tag() {
        Tag::Utf8String | Tag::PrintableString | Tag::Ia5String | Tag::VisibleString => {
            String::from_utf8(bytes.to_vec()).ok()
        }
        // T.61 in theory; Latin-1 in every certificate that uses it in practice.
        Tag::TeletexString => Some(bytes.iter().map(|&b| char::from(b)).collect()),
        Tag::BmpString => {
            let units: Vec<u16> = bytes.chunks_exact(2).map(|c| u16::from_be_bytes([c[0], c[1]])).collect();
            bytes.len().is_multiple_of(2).then(|| String::from_utf16(&units).ok()).flatten()
        }
        _ => None,
    }
}

/// The DER of every `CERTIFICATE` block in a PEM text. Lenient about layout, because Alipay's
/// certificate files use 76-character lines (stricter PEM parsers refuse them): any line length,
/// CRLF and indentation are accepted.
///
/// # Errors
/// [`Error::InvalidKey`] `"certificate"` when a block is not base64 of one certificate, or there
/// is no block.
pub fn certificates_der(text: &str) -> Result<Vec<Vec<u8>>> {
    let invalid = || Error::InvalidKey { what: "certificate" };
    let blocks: Vec<Vec<u8>> = crate::keys::pem_blocks(text)
        .ok_or_else(invalid)?
        .into_iter()
        .filter(|(label, _)| label == "CERTIFICATE")
        .map(|(_, der)| der)
        .collect();
    if blocks.is_empty() || blocks.iter().any(|der| x509_cert::Certificate::from_der(der).is_err()) {
        return Err(invalid());
    }
    Ok(blocks)
}

/// The SubjectPublicKeyInfo DER of the first certificate in `cert_pem`: Alipay's public key in
/// certificate mode (`alipayCertPublicKey_RSA2.crt`), ready for a verifier.
///
/// # Errors
/// [`Error::InvalidKey`] `"certificate"` when the text holds no well-formed certificate.
pub fn public_key_spki(cert_pem: &str) -> Result<Vec<u8>> {
    let der = certificates_der(cert_pem)?.into_iter().next().ok_or(Error::InvalidKey { what: "certificate" })?;
    Ok(Certificate::from_der(&der)?.spki_der().to_vec())
}
