//! Alipay RSA2: the string to sign and the SHA256withRSA step
//! (<https://opendocs.alipay.com/common/02kf5q>).
//!
//! The string to sign is every parameter except the excluded ones (`sign` for requests; `sign` and
//! `sign_type` for notifications), empty values dropped, sorted by key (byte order), written as
//! `k=v` and joined with `&`, with no URL-encoding. The signature is standard base64.

use base64::Engine as _;

use crate::crypto::{RsaSigner, RsaVerifier};
use crate::error::{Error, Result};

/// The only `sign_type` edgepay sends and accepts: SHA256withRSA.
pub const SIGN_TYPE: &str = "RSA2";

/// The string to sign: the parameters whose key is not in `exclude` and whose value is not empty,
/// sorted by key (then value, so the result never depends on input order), `k=v` joined by `&`.
pub fn sign_content<'a>(params: impl IntoIterator<Item = (&'a str, &'a str)>, exclude: &[&str]) -> String {
    let mut kept: Vec<(&str, &str)> =
        params.into_iter().filter(|(k, v)| !v.is_empty() && !exclude.contains(k)).collect();
    kept.sort_unstable();
    let mut content = String::with_capacity(kept.iter().map(|(k, v)| k.len() + v.len() + 2).sum());
    for (i, (key, value)) in kept.iter().enumerate() {
        if i > 0 {
            content.push('&');
        }
        content.push_str(key);
        content.push('=');
        content.push_str(value);
    }
    content
}

/// The base64 RSA2 signature of `content`.
///
/// # Errors
/// [`Error::Crypto`] when the signer fails.
pub async fn sign(signer: &impl RsaSigner, content: &str) -> Result<String> {
    let signature = signer.sign(content.as_bytes()).await?;
    Ok(base64::engine::general_purpose::STANDARD.encode(signature))
}

/// Checks the base64 RSA2 signature `sign_b64` of `content`.
///
/// # Errors
/// [`Error::BadSignature`] when it is not valid base64 or does not verify.
pub async fn verify(verifier: &impl RsaVerifier, content: &str, sign_b64: &str) -> Result<()> {
    let signature =
        base64::engine::general_purpose::STANDARD.decode(sign_b64.trim()).map_err(|_| Error::BadSignature)?;
    verifier.verify(content.as_bytes(), &signature).await.map_err(|e| match e {
        Error::Crypto => Error::Crypto,
        _ => Error::BadSignature,
    })
}

/// Platform side (the sandbox's gateway): checks a merchant request's `sign` over every other
/// parameter, as Alipay's gateway does (`sign_type` included in the string to sign).
///
/// # Errors
/// [`Error::Malformed`] when `sign` is missing or a parameter is repeated;
/// [`Error::BadSignature`] when the signature does not verify.
pub async fn verify_request(params: &[(String, String)], verifier: &impl RsaVerifier) -> Result<()> {
    reject_repeats(params)?;
    let sign_b64 = params
        .iter()
        .find(|(k, _)| k == "sign")
        .map(|(_, v)| v.as_str())
        .ok_or(Error::Malformed { what: "sign" })?;
    let content = sign_content(params.iter().map(|(k, v)| (k.as_str(), v.as_str())), &["sign"]);
    verify(verifier, &content, sign_b64).await
}

/// Refuses a parameter list where a key appears twice: which one was signed would be ambiguous.
pub(crate) fn reject_repeats(params: &[(String, String)]) -> Result<()> {
    let mut keys: Vec<&str> = params.iter().map(|(k, _)| k.as_str()).collect();
    keys.sort_unstable();
    if keys.windows(2).any(|w| w[0] == w[1]) {
        return Err(Error::Malformed { what: "repeated parameter" });
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;
    use super::*;

    #[test]
    fn content_sorts_by_key_drops_empty_and_excluded() {
        let params = [
            ("sign", "xyz"),
            ("timestamp", "2024-01-01 00:00:00"),
            ("app_id", "2021"),
            ("biz_content", r#"{"a":"b=c&d"}"#),
            ("notify_url", ""),
            ("sign_type", "RSA2"),
            ("Z", "upper sorts first"),
        ];
        assert_eq!(
            sign_content(params, &["sign"]),
            r#"Z=upper sorts first&app_id=2021&biz_content={"a":"b=c&d"}&sign_type=RSA2&timestamp=2024-01-01 00:00:00"#
        );
        assert!(!sign_content(params, &["sign", "sign_type"]).contains("sign_type"));
        assert_eq!(sign_content([], &[]), "");
    }

    #[test]
    fn repeats_are_refused() {
        let params = vec![("a".to_owned(), "1".to_owned()), ("a".to_owned(), "2".to_owned())];
        assert_eq!(reject_repeats(&params), Err(Error::Malformed { what: "repeated parameter" }));
        assert_eq!(reject_repeats(&params[..1]), Ok(()));
    }
}
