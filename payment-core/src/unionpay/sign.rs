//! ACP 5.1.0 `signMethod=01` (<https://open.unionpay.com/tjweb/acproduct/APIList?apiservId=448>).
//!
//! The string to sign is every field except `signature`, sorted by name, `k=v` joined by `&`, no
//! encoding. Empty values are dropped: UnionPay never sends an empty field ("域值为空的不上送"),
//! and its SDK removes empty fields from a received message before verifying. The string is hashed
//! with SHA-256 into *lowercase hex*, and those 64 ASCII bytes are what SHA256withRSA signs — a
//! double hash; signing the string itself does not verify. The signature is standard base64.

use base64::Engine as _;
use sha2::{Digest as _, Sha256};

use crate::crypto::{RsaSigner, RsaVerifier};
use crate::error::{Error, Result};

/// `signMethod` for RSA with SHA-256.
pub const SIGN_METHOD_RSA_SHA256: &str = "01";

/// The string to sign: all fields but `signature`, empty values dropped, sorted by name.
pub fn sign_content<'a>(fields: impl IntoIterator<Item = (&'a str, &'a str)>) -> String {
    let mut kept: Vec<(&str, &str)> =
        fields.into_iter().filter(|(k, v)| !v.is_empty() && *k != "signature").collect();
    kept.sort_unstable();
    kept.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("&")
}

/// The bytes RSA signs: the lowercase hex SHA-256 of `content`.
pub fn signed_digest(content: &str) -> String {
    Sha256::digest(content.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

/// The base64 `signature` of `fields`.
///
/// # Errors
/// [`Error::Crypto`] when the signer fails.
pub async fn signature(signer: &impl RsaSigner, fields: &[(String, String)]) -> Result<String> {
    let content = sign_content(fields.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    let signature = signer.sign(signed_digest(&content).as_bytes()).await?;
    Ok(base64::engine::general_purpose::STANDARD.encode(signature))
}

/// Checks the `signature` field of `fields` with `verifier` (no certificate logic: see
/// [`super::notify`] for the entry points that decide which key to trust).
///
/// # Errors
/// [`Error::Malformed`] `"signature"` when it is missing; [`Error::BadSignature`] when it is not
/// base64 or does not verify.
pub async fn verify_fields(fields: &[(String, String)], verifier: &impl RsaVerifier) -> Result<()> {
    let signature_b64 = fields
        .iter()
        .find(|(k, v)| k == "signature" && !v.is_empty())
        .map(|(_, v)| v.as_str())
        .ok_or(Error::Malformed { what: "signature" })?;
    let signature =
        base64::engine::general_purpose::STANDARD.decode(signature_b64).map_err(|_| Error::BadSignature)?;
    let content = sign_content(fields.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    verifier.verify(signed_digest(&content).as_bytes(), &signature).await.map_err(|e| match e {
        Error::Crypto => Error::Crypto,
        _ => Error::BadSignature,
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;
    use super::*;

    #[test]
    fn content_and_digest() {
        let fields = [("txnAmt", "1"), ("signature", "zzz"), ("accessType", "0"), ("reqReserved", ""), ("bizType", "000201")];
        assert_eq!(sign_content(fields), "accessType=0&bizType=000201&txnAmt=1");
        // SHA-256("abc"), FIPS 180-2 B.1, lowercase.
        assert_eq!(signed_digest("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    }
}
