//! The crypto the protocols need, behind small interfaces.
//!
//! Every provider rule in this crate builds the exact bytes to sign or check and hands them to one
//! of these traits. The worker backs them with WebCrypto (`crypto.subtle`, asynchronous, about ten
//! times faster than the `rsa` crate compiled to wasm); native code (the sandbox, tests) uses the
//! RustCrypto backend in [`crate::native`] (feature `native`). The traits are `async` because
//! WebCrypto is; RustCrypto's own traits (`signature::Verifier`, `aead::Aead`, `hmac::Mac`) are
//! synchronous, so the native backend implements these on top of them.
//!
//! All three providers sign with RSASSA-PKCS1-v1_5 over SHA-256 (WeChat's SHA256-RSA2048, Alipay's
//! RSA2, UnionPay's signMethod 01); only the signed message differs.

use std::fmt;
use std::future::Future;

use zeroize::Zeroizing;

use crate::error::Result;

/// Signs with RSASSA-PKCS1-v1_5 / SHA-256 using a private key the implementation holds.
pub trait RsaSigner {
    /// The signature of `message` (the implementation hashes it).
    ///
    /// # Errors
    /// [`crate::Error::Crypto`] when the backend fails.
    fn sign(&self, message: &[u8]) -> impl Future<Output = Result<Vec<u8>>>;
}

/// Verifies RSASSA-PKCS1-v1_5 / SHA-256 signatures with a public key the implementation holds.
pub trait RsaVerifier {
    /// `Ok(())` when `signature` is valid for `message`.
    ///
    /// # Errors
    /// [`crate::Error::BadSignature`] when it is not (one opaque error), [`crate::Error::Crypto`]
    /// when the backend fails.
    fn verify(&self, message: &[u8], signature: &[u8]) -> impl Future<Output = Result<()>>;
}

/// AES-GCM (128 or 256-bit key held by the implementation), 12-byte nonce, 16-byte tag appended to
/// the ciphertext.
pub trait AesGcm {
    /// Encrypts `plaintext`, authenticating `aad`; returns ciphertext ‖ tag.
    ///
    /// # Errors
    /// [`crate::Error::Crypto`] when the backend fails.
    fn encrypt(&self, nonce: &[u8; 12], aad: &[u8], plaintext: &[u8]) -> impl Future<Output = Result<Vec<u8>>>;

    /// Decrypts ciphertext ‖ tag, checking `aad`.
    ///
    /// # Errors
    /// [`crate::Error::DecryptionFailed`] for a wrong key or tampered input (one opaque error).
    fn decrypt(&self, nonce: &[u8; 12], aad: &[u8], ciphertext: &[u8]) -> impl Future<Output = Result<Vec<u8>>>;
}

/// HMAC-SHA256 with a key the implementation holds.
pub trait HmacSha256 {
    /// The 32-byte tag of `message`.
    ///
    /// # Errors
    /// [`crate::Error::Crypto`] when the backend fails.
    fn sign(&self, message: &[u8]) -> impl Future<Output = Result<[u8; 32]>>;

    /// `Ok(())` when `tag` is the tag of `message`, compared in constant time.
    ///
    /// # Errors
    /// [`crate::Error::BadSignature`] when it is not.
    fn verify(&self, message: &[u8], tag: &[u8]) -> impl Future<Output = Result<()>>;
}

/// Secret bytes (a key, an API secret): zeroized on drop, redacted in `Debug`, no `Display`, no
/// `Serialize`.
#[derive(Clone)]
pub struct SecretBytes(Zeroizing<Vec<u8>>);

impl SecretBytes {
    /// Wraps `bytes`, taking ownership so no copy is left behind.
    pub fn new(bytes: Vec<u8>) -> Self {
        Self(Zeroizing::new(bytes))
    }

    /// The secret itself. Use it, never log it.
    pub fn expose(&self) -> &[u8] {
        &self.0
    }
}

impl fmt::Debug for SecretBytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretBytes([redacted])")
    }
}

/// Constant-time equality of two byte strings (length is not secret).
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    use subtle::ConstantTimeEq;
    a.len() == b.len() && bool::from(a.ct_eq(b))
}

#[cfg(test)]
mod tests {
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;
    use super::*;

    #[test]
    fn secret_bytes_never_print() {
        let secret = SecretBytes::new(b"hunter2-hunter2".to_vec());
        assert_eq!(format!("{secret:?}"), "SecretBytes([redacted])");
        assert_eq!(secret.expose(), b"hunter2-hunter2");
    }

    #[test]
    fn constant_time_eq_compares_whole_strings() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"abcd"));
        assert!(constant_time_eq(b"", b""));
    }
}
