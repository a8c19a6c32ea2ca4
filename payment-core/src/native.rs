//! The RustCrypto backend of [`crate::crypto`], for native code: the sandbox, tests, tools.
//! (Feature `native`. The worker uses WebCrypto instead: the `rsa` crate compiled to wasm is about
//! ten times slower there.)

use std::fmt;

use aes_gcm::aead::{Aead as _, KeyInit as _, Payload};
use hmac::Mac as _;
use rsa::pkcs1v15::{Signature, SigningKey, VerifyingKey};
use rsa::pkcs8::{DecodePrivateKey as _, DecodePublicKey as _};
use rsa::signature::{SignatureEncoding as _, Signer as _, Verifier as _};
use sha2::Sha256;

use crate::crypto::{AesGcm, HmacSha256, RsaSigner, RsaVerifier};
use crate::error::{Error, Result};
use crate::keys;

/// An RSA private key for signing (PKCS#1 v1.5, SHA-256). Redacted `Debug`; zeroized on drop by `rsa`.
#[derive(Clone)]
pub struct RsaPrivateKey {
    key: SigningKey<Sha256>,
    public: RsaPublicKey,
}

impl RsaPrivateKey {
    /// Parses a private key in any form [`keys::private_key_pkcs8_der`] accepts.
    ///
    /// # Errors
    /// [`Error::InvalidKey`] naming `what`.
    pub fn from_text(text: &str, what: &'static str) -> Result<Self> {
        let der = keys::private_key_pkcs8_der(text, what)?;
        let key = rsa::RsaPrivateKey::from_pkcs8_der(der.expose()).map_err(|_| Error::InvalidKey { what })?;
        let public = RsaPublicKey { key: VerifyingKey::new(key.to_public_key()) };
        Ok(Self { key: SigningKey::new(key), public })
    }

    /// The matching public key.
    pub fn public_key(&self) -> &RsaPublicKey {
        &self.public
    }

    /// Signs synchronously (native callers need not be async).
    ///
    /// # Errors
    /// [`Error::Crypto`] when signing fails.
    pub fn sign_now(&self, message: &[u8]) -> Result<Vec<u8>> {
        self.key.try_sign(message).map(|s| s.to_vec()).map_err(|_| Error::Crypto)
    }
}

impl fmt::Debug for RsaPrivateKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("RsaPrivateKey([redacted])")
    }
}

impl RsaSigner for RsaPrivateKey {
    async fn sign(&self, message: &[u8]) -> Result<Vec<u8>> {
        self.sign_now(message)
    }
}

/// An RSA public key for verification (PKCS#1 v1.5, SHA-256).
#[derive(Clone, Debug)]
pub struct RsaPublicKey {
    key: VerifyingKey<Sha256>,
}

impl RsaPublicKey {
    /// Parses a public key in any form [`keys::public_key_spki_der`] accepts (certificates too).
    ///
    /// # Errors
    /// [`Error::InvalidKey`] naming `what`.
    pub fn from_text(text: &str, what: &'static str) -> Result<Self> {
        Self::from_spki_der(&keys::public_key_spki_der(text, what)?, what)
    }

    /// Parses an SPKI DER public key.
    ///
    /// # Errors
    /// [`Error::InvalidKey`] naming `what`.
    pub fn from_spki_der(der: &[u8], what: &'static str) -> Result<Self> {
        let key = rsa::RsaPublicKey::from_public_key_der(der).map_err(|_| Error::InvalidKey { what })?;
        Ok(Self { key: VerifyingKey::new(key) })
    }

    /// Verifies synchronously.
    ///
    /// # Errors
    /// [`Error::BadSignature`] when the signature is not valid.
    pub fn verify_now(&self, message: &[u8], signature: &[u8]) -> Result<()> {
        let signature = Signature::try_from(signature).map_err(|_| Error::BadSignature)?;
        self.key.verify(message, &signature).map_err(|_| Error::BadSignature)
    }
}

impl RsaVerifier for RsaPublicKey {
    async fn verify(&self, message: &[u8], signature: &[u8]) -> Result<()> {
        self.verify_now(message, signature)
    }
}

/// An AES-GCM key (16 or 32 bytes). Redacted `Debug`; the ciphers zeroize their key schedule.
#[derive(Clone)]
pub enum AesGcmKey {
    /// AES-128-GCM (used only by published test vectors).
    Aes128(Box<aes_gcm::Aes128Gcm>),
    /// AES-256-GCM (WeChat's APIv3 key, data at rest).
    Aes256(Box<aes_gcm::Aes256Gcm>),
}

impl AesGcmKey {
    /// A key from raw bytes.
    ///
    /// # Errors
    /// [`Error::InvalidKey`] naming `what` unless the key is 16 or 32 bytes.
    pub fn new(key: &[u8], what: &'static str) -> Result<Self> {
        match key.len() {
            16 => aes_gcm::Aes128Gcm::new_from_slice(key).map(|c| Self::Aes128(Box::new(c))),
            32 => aes_gcm::Aes256Gcm::new_from_slice(key).map(|c| Self::Aes256(Box::new(c))),
            _ => return Err(Error::InvalidKey { what }),
        }
        .map_err(|_| Error::InvalidKey { what })
    }
}

impl fmt::Debug for AesGcmKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AesGcmKey([redacted])")
    }
}

impl AesGcm for AesGcmKey {
    async fn encrypt(&self, nonce: &[u8; 12], aad: &[u8], plaintext: &[u8]) -> Result<Vec<u8>> {
        let payload = Payload { msg: plaintext, aad };
        let nonce = aes_gcm::Nonce::from_slice(nonce);
        match self {
            Self::Aes128(c) => c.encrypt(nonce, payload),
            Self::Aes256(c) => c.encrypt(nonce, payload),
        }
        .map_err(|_| Error::Crypto)
    }

    async fn decrypt(&self, nonce: &[u8; 12], aad: &[u8], ciphertext: &[u8]) -> Result<Vec<u8>> {
        let payload = Payload { msg: ciphertext, aad };
        let nonce = aes_gcm::Nonce::from_slice(nonce);
        match self {
            Self::Aes128(c) => c.decrypt(nonce, payload),
            Self::Aes256(c) => c.decrypt(nonce, payload),
        }
        .map_err(|_| Error::DecryptionFailed)
    }
}

/// An HMAC-SHA256 key. Redacted `Debug`; zeroized on drop.
#[derive(Clone)]
pub struct HmacKey(crate::crypto::SecretBytes);

impl HmacKey {
    /// A key from raw bytes (any length, as HMAC allows).
    pub fn new(key: &[u8]) -> Self {
        Self(crate::crypto::SecretBytes::new(key.to_vec()))
    }

    fn mac(&self) -> Result<hmac::Hmac<Sha256>> {
        <hmac::Hmac<Sha256> as hmac::Mac>::new_from_slice(self.0.expose()).map_err(|_| Error::Crypto)
    }
}

impl fmt::Debug for HmacKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("HmacKey([redacted])")
    }
}

impl HmacSha256 for HmacKey {
    async fn sign(&self, message: &[u8]) -> Result<[u8; 32]> {
        let mut mac = self.mac()?;
        mac.update(message);
        Ok(mac.finalize().into_bytes().into())
    }

    async fn verify(&self, message: &[u8], tag: &[u8]) -> Result<()> {
        let mut mac = self.mac()?;
        mac.update(message);
        mac.verify_slice(tag).map_err(|_| Error::BadSignature)
    }
}

/// Runs a future of this crate to completion. The native backend never suspends, so this is all
/// the executor native callers need.
pub fn block_on<F: std::future::Future>(future: F) -> F::Output {
    pollster::block_on(future)
}

#[cfg(test)]
mod tests {
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;
    use super::*;

    const PRIVATE: &str = include_str!("../fixtures/test_rsa_a.pkcs8.pem");
    const CERT: &str = include_str!("../fixtures/test_rsa_a.cert.pem");

    #[test]
    fn rsa_sign_then_verify_and_tamper() {
        let key = RsaPrivateKey::from_text(PRIVATE, "k").unwrap();
        let public = RsaPublicKey::from_text(CERT, "k").unwrap();
        let signature = block_on(key.sign(b"message")).unwrap();
        assert_eq!(signature.len(), 256);
        block_on(public.verify(b"message", &signature)).unwrap();
        assert_eq!(block_on(public.verify(b"messagE", &signature)), Err(Error::BadSignature));
        assert_eq!(block_on(public.verify(b"message", &signature[1..])), Err(Error::BadSignature));
        assert_eq!(format!("{key:?}"), "RsaPrivateKey([redacted])");
    }

    #[test]
    fn aes_gcm_round_trip_and_tamper() {
        let key = AesGcmKey::new(&[7; 32], "k").unwrap();
        let sealed = block_on(key.encrypt(b"0123456789ab", b"aad", b"hello")).unwrap();
        assert_eq!(block_on(key.decrypt(b"0123456789ab", b"aad", &sealed)).unwrap(), b"hello");
        assert_eq!(block_on(key.decrypt(b"0123456789ab", b"aaD", &sealed)), Err(Error::DecryptionFailed));
        assert!(AesGcmKey::new(&[7; 31], "k").is_err());
    }

    #[test]
    fn hmac_known_answer_rfc4231_case_2() {
        let key = HmacKey::new(b"Jefe");
        let tag = block_on(key.sign(b"what do ya want for nothing?")).unwrap();
        let hex: String = tag.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(hex, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
        block_on(key.verify(b"what do ya want for nothing?", &tag)).unwrap();
        assert_eq!(block_on(key.verify(b"what do ya want for nothing!", &tag)), Err(Error::BadSignature));
    }
}
