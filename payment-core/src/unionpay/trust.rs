//! When a `signPubKeyCert` is trusted.
//!
//! ACP 5.1.0 messages carry the certificate that signed them. It is trusted only when, at the
//! injected `now`, all of this holds (as in UnionPay's SDK, `CertUtil.verifyCertificate`):
//!
//! - the leaf is issued by the configured *middle* certificate, and the middle by the configured
//!   *root* (sha256WithRSA, issuer names, CA flags: [`Certificate::verify_issued_by`]);
//! - leaf, middle and root are each within their validity period;
//! - the leaf belongs to UnionPay: the third `@`-separated part of its subject CN
//!   (`041@8310000000083040@中国银联股份有限公司@00016495`) is the configured signer name. The
//!   middle CA (CFCA's OCA) issues certificates to many companies; without this check any of them
//!   could sign "UnionPay" notifications.
//!
//! Decision: the middle is required. A leaf issued directly by the root is refused even though
//! the root is trusted: UnionPay's signing certificates always come from the middle CA, and pinning
//! the middle narrows what the root's other subordinates could sign.

use std::sync::Mutex;

use der::asn1::ObjectIdentifier;
use der::Decode as _;

use crate::alipay::cert::directory_string;
use crate::crypto::RsaVerifier;
use crate::error::{Error, Result};
use crate::x509::Certificate;

/// The signer name in UnionPay's production signing certificates.
pub const UNIONPAY_SIGNER: &str = "中国银联股份有限公司";

/// The signer name UnionPay's test environment uses (its SDK accepts it when CN validation is off).
pub const TEST_ENVIRONMENT_SIGNER: &str = "00040000:SIGN";

/// commonName (X.520).
const COMMON_NAME: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.4.3");

/// The configured root and middle certificates, and whose signing certificates to accept.
#[derive(Debug)]
pub struct TrustAnchors {
    root: Certificate,
    middle: Certificate,
    signer: String,
    /// The last `signPubKeyCert` that passed [`TrustAnchors::trusted_leaf`] (see there).
    passed: Mutex<Option<Passed>>,
}

/// A signing certificate that passed, by its exact PEM text, with the times between which it
/// passes (every check but the validity periods depends only on the certificates).
#[derive(Debug, Clone)]
struct Passed {
    pem: String,
    leaf: Certificate,
    from: u64,
    until: u64,
}

impl Clone for TrustAnchors {
    fn clone(&self) -> Self {
        Self::new(self.root.clone(), self.middle.clone(), self.signer.clone())
    }
}

impl TrustAnchors {
    /// Anchors from parsed certificates; `signer` is normally [`UNIONPAY_SIGNER`].
    pub fn new(root: Certificate, middle: Certificate, signer: impl Into<String>) -> Self {
        Self { root, middle, signer: signer.into(), passed: Mutex::new(None) }
    }

    /// Anchors from PEM texts (the first certificate of each).
    ///
    /// # Errors
    /// [`Error::InvalidKey`] `"certificate"` when a text holds no well-formed certificate.
    pub fn from_pem(root_pem: &str, middle_pem: &str, signer: impl Into<String>) -> Result<Self> {
        let first = |pem: &str| {
            Certificate::all_from_pem(pem)?.into_iter().next().ok_or(Error::InvalidKey { what: "certificate" })
        };
        Ok(Self::new(first(root_pem)?, first(middle_pem)?, signer))
    }

    /// Checks that `leaf` may sign UnionPay messages at `now` (Unix seconds). `verifier_for`
    /// builds a verifier from an SPKI DER (the middle's and the root's keys).
    ///
    /// # Errors
    /// [`Error::UntrustedCertificate`] when any rule of the module documentation fails;
    /// whatever `verifier_for` returns for a configured certificate's key.
    pub async fn verify_signing_cert<V: RsaVerifier>(
        &self,
        leaf: &Certificate,
        verifier_for: &impl Fn(&[u8]) -> Result<V>,
        now: u64,
    ) -> Result<()> {
        if ![leaf, &self.middle, &self.root].iter().all(|c| c.valid_at(now)) {
            return Err(Error::UntrustedCertificate);
        }
        if signer_name(leaf).as_deref() != Some(self.signer.as_str()) {
            return Err(Error::UntrustedCertificate);
        }
        leaf.verify_issued_by(&self.middle, &verifier_for(self.middle.spki_der())?).await?;
        self.middle.verify_issued_by(&self.root, &verifier_for(self.root.spki_der())?).await
    }

    /// The one certificate of `cert_pem` (a message's `signPubKeyCert`) when it may sign UnionPay
    /// messages at `now`: [`TrustAnchors::verify_signing_cert`], remembering the last certificate
    /// that passed. UnionPay signs every message with the same certificate for years, and the
    /// outcome for the same PEM text differs only by `now` against the three validity periods, so
    /// the same text within them passes without being parsed and checked again (two RSA
    /// verifications and an X.509 parse less per notification).
    ///
    /// # Errors
    /// [`Error::Malformed`] `"signPubKeyCert"` when the text is not exactly one certificate;
    /// [`Error::InvalidKey`] when it is unreadable; as [`TrustAnchors::verify_signing_cert`].
    pub async fn trusted_leaf<V: RsaVerifier>(
        &self,
        cert_pem: &str,
        verifier_for: &impl Fn(&[u8]) -> Result<V>,
        now: u64,
    ) -> Result<Certificate> {
        let remembered = self.passed.lock().ok().and_then(|passed| passed.clone());
        if let Some(passed) = remembered.filter(|p| p.pem == cert_pem) {
            if passed.from <= now && now <= passed.until {
                return Ok(passed.leaf);
            }
        }
        let leaf = only_certificate(cert_pem)?;
        self.verify_signing_cert(&leaf, verifier_for, now).await?;
        let periods = [&leaf, &self.middle, &self.root].map(Certificate::validity);
        let from = periods.iter().map(|(not_before, _)| *not_before).max().unwrap_or(u64::MAX);
        let until = periods.iter().map(|(_, not_after)| *not_after).min().unwrap_or(0);
        if let Ok(mut passed) = self.passed.lock() {
            *passed = Some(Passed { pem: cert_pem.to_owned(), leaf: leaf.clone(), from, until });
        }
        Ok(leaf)
    }
}

/// The one certificate of a `signPubKeyCert` PEM text.
///
/// # Errors
/// [`Error::Malformed`] `"signPubKeyCert"` for no certificate or more than one; [`Error::InvalidKey`]
/// for an unreadable one.
pub fn only_certificate(cert_pem: &str) -> Result<Certificate> {
    let mut certs = Certificate::all_from_pem(cert_pem)?;
    match (certs.pop(), certs.is_empty()) {
        (Some(leaf), true) => Ok(leaf),
        _ => Err(Error::Malformed { what: "signPubKeyCert" }),
    }
}

/// The signer name of a certificate: the third `@`-separated part of its subject CN, or the whole
/// CN when it has no such part (as for edgepay's test fixtures).
pub fn signer_name(cert: &Certificate) -> Option<String> {
    let name = x509_cert::name::Name::from_der(cert.subject_der()).ok()?;
    let common_name = name
        .0
        .iter()
        .flat_map(|rdn| rdn.0.iter())
        .filter(|attribute| attribute.oid == COMMON_NAME)
        .filter_map(|attribute| directory_string(&attribute.value))
        .next_back()?;
    let parts: Vec<&str> = common_name.split('@').collect();
    Some(if parts.len() > 2 { parts[2].to_owned() } else { common_name })
}
