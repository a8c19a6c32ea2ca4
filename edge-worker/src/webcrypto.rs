//! WebCrypto (`crypto.subtle`) behind payment-core's crypto traits, and randomness from
//! `crypto.getRandomValues`. Keys are imported once per isolate and cached by a SHA-256 of their
//! material (never the material itself).

use std::cell::RefCell;
use std::collections::HashMap;

use js_sys::{Array, Object, Reflect, Uint8Array};
use payment_core::crypto::{AesGcm, HmacSha256, RsaSigner, RsaVerifier};
use payment_core::{Error, Result};
use sha2::{Digest as _, Sha256};
use wasm_bindgen::{JsCast as _, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{Crypto, CryptoKey, SubtleCrypto};

thread_local! {
    /// Imported keys by (kind, SHA-256 of the material): one import per isolate and key.
    static KEYS: RefCell<HashMap<(&'static str, [u8; 32]), CryptoKey>> = RefCell::new(HashMap::new());
}

/// Imports `material` (`format` `raw`/`pkcs8`/`spki`) for `usages`, once per isolate.
async fn import(kind: &'static str, format: &str, material: &[u8], algo: &[(&str, &str)], usages: &[&str]) -> Result<CryptoKey> {
    let fingerprint: [u8; 32] = Sha256::digest(material).into();
    if let Some(key) = KEYS.with(|keys| keys.borrow().get(&(kind, fingerprint)).cloned()) {
        return Ok(key);
    }
    let usages: Array = usages.iter().map(|u| JsValue::from_str(u)).collect();
    let imported = promise(subtle()?.import_key_with_object(format, &Uint8Array::from(material).into(), &algorithm(algo)?, false, &usages)).await?;
    let key: CryptoKey = imported.dyn_into().map_err(|_| Error::Crypto)?;
    KEYS.with(|keys| keys.borrow_mut().insert((kind, fingerprint), key.clone()));
    Ok(key)
}

const RSA: [(&str, &str); 2] = [("name", "RSASSA-PKCS1-v1_5"), ("hash", "SHA-256")];

/// An RSA private key (PKCS#8 DER) for RSASSA-PKCS1-v1_5 / SHA-256 signatures.
#[derive(Debug, Clone)]
pub(crate) struct RsaSigningKey(CryptoKey);

impl RsaSigningKey {
    /// Imports a PKCS#8 DER private key (see `payment_core::keys::private_key_pkcs8_der`).
    ///
    /// # Errors
    /// [`Error::Crypto`] when WebCrypto refuses the key.
    pub(crate) async fn import(pkcs8_der: &[u8]) -> Result<Self> {
        Ok(Self(import("rsa-sign", "pkcs8", pkcs8_der, &RSA, &["sign"]).await?))
    }
}

impl RsaSigner for RsaSigningKey {
    async fn sign(&self, message: &[u8]) -> Result<Vec<u8>> {
        let signature = promise(subtle()?.sign_with_str_and_u8_array("RSASSA-PKCS1-v1_5", &self.0, message)).await?;
        Ok(Uint8Array::new(&signature).to_vec())
    }
}

/// An RSA public key (SPKI DER), imported when first used: UnionPay's verifier is chosen by a
/// certificate inside the message, through a synchronous factory.
#[derive(Debug, Clone)]
pub(crate) struct RsaVerifyingKey(Vec<u8>);

impl RsaVerifyingKey {
    /// The key whose SubjectPublicKeyInfo DER is `spki_der`.
    pub(crate) fn new(spki_der: &[u8]) -> Self {
        Self(spki_der.to_vec())
    }
}

impl RsaVerifier for RsaVerifyingKey {
    async fn verify(&self, message: &[u8], signature: &[u8]) -> Result<()> {
        let key = import("rsa-verify", "spki", &self.0, &RSA, &["verify"]).await?;
        let valid = promise(subtle()?.verify_with_str_and_u8_array_and_u8_array("RSASSA-PKCS1-v1_5", &key, signature, message)).await?;
        if valid.as_bool() == Some(true) {
            Ok(())
        } else {
            Err(Error::BadSignature)
        }
    }
}

thread_local! {
    /// The global `crypto` and its `subtle`, looked up once per isolate (each lookup is two or
    /// three calls out of the wasm, and a request makes several WebCrypto calls).
    static CRYPTO: RefCell<Option<(Crypto, SubtleCrypto)>> = const { RefCell::new(None) };
}

fn crypto_and_subtle() -> Result<(Crypto, SubtleCrypto)> {
    CRYPTO.with(|cached| {
        if let Some(found) = cached.borrow().as_ref() {
            return Ok(found.clone());
        }
        let crypto = Reflect::get(&js_sys::global(), &JsValue::from_str("crypto"))
            .ok()
            .and_then(|c| c.dyn_into::<Crypto>().ok())
            .ok_or(Error::Crypto)?;
        let found = (crypto.clone(), crypto.subtle());
        *cached.borrow_mut() = Some(found.clone());
        Ok(found)
    })
}

fn crypto() -> Result<Crypto> {
    Ok(crypto_and_subtle()?.0)
}

fn subtle() -> Result<SubtleCrypto> {
    Ok(crypto_and_subtle()?.1)
}

/// `N` cryptographically random bytes.
///
/// # Errors
/// [`Error::Crypto`] when the runtime has no `crypto.getRandomValues`.
pub(crate) fn random_bytes<const N: usize>() -> Result<[u8; N]> {
    let mut bytes = [0_u8; N];
    crypto()?.get_random_values_with_u8_array(&mut bytes).map_err(|_| Error::Crypto)?;
    Ok(bytes)
}

fn algorithm(pairs: &[(&str, &str)]) -> Result<Object> {
    let object = Object::new();
    for (key, value) in pairs {
        Reflect::set(&object, &JsValue::from_str(key), &JsValue::from_str(value)).map_err(|_| Error::Crypto)?;
    }
    Ok(object)
}

async fn promise(p: std::result::Result<js_sys::Promise, JsValue>) -> Result<JsValue> {
    JsFuture::from(p.map_err(|_| Error::Crypto)?).await.map_err(|_| Error::Crypto)
}

/// An HMAC-SHA256 key in WebCrypto.
#[derive(Debug, Clone)]
pub(crate) struct HmacKey(CryptoKey);

impl HmacKey {
    /// Imports `secret` (or takes it from this isolate's cache).
    ///
    /// # Errors
    /// [`Error::Crypto`] when WebCrypto refuses the key.
    pub(crate) async fn import(secret: &[u8]) -> Result<Self> {
        Ok(Self(import("hmac", "raw", secret, &[("name", "HMAC"), ("hash", "SHA-256")], &["sign", "verify"]).await?))
    }
}

impl HmacSha256 for HmacKey {
    async fn sign(&self, message: &[u8]) -> Result<[u8; 32]> {
        let tag = promise(subtle()?.sign_with_str_and_u8_array("HMAC", &self.0, message)).await?;
        let bytes = Uint8Array::new(&tag).to_vec();
        bytes.try_into().map_err(|_| Error::Crypto)
    }

    async fn verify(&self, message: &[u8], tag: &[u8]) -> Result<()> {
        // WebCrypto compares in constant time.
        let valid = promise(subtle()?.verify_with_str_and_u8_array_and_u8_array("HMAC", &self.0, tag, message)).await?;
        if valid.as_bool() == Some(true) {
            Ok(())
        } else {
            Err(Error::BadSignature)
        }
    }
}

/// An AES-GCM key (raw 16 or 32 bytes) in WebCrypto: 12-byte nonce, 16-byte tag appended to the
/// ciphertext. Serves WeChat Pay's APIv3 key (callback resources) and `DATA_ENCRYPTION_KEY`
/// (payer identifiers at rest).
#[derive(Debug, Clone)]
pub(crate) struct AesGcmKey(CryptoKey);

impl AesGcmKey {
    /// Imports `raw` (or takes it from this isolate's cache).
    ///
    /// # Errors
    /// [`Error::Crypto`] when WebCrypto refuses the key (not 16, 24 or 32 bytes).
    pub(crate) async fn import(raw: &[u8]) -> Result<Self> {
        Ok(Self(import("aes-gcm", "raw", raw, &[("name", "AES-GCM")], &["encrypt", "decrypt"]).await?))
    }
}

/// The `AesGcmParams` of one operation.
fn gcm_params(nonce: &[u8; 12], aad: &[u8]) -> Result<Object> {
    let params = algorithm(&[("name", "AES-GCM")])?;
    Reflect::set(&params, &JsValue::from_str("iv"), &Uint8Array::from(nonce.as_slice())).map_err(|_| Error::Crypto)?;
    Reflect::set(&params, &JsValue::from_str("additionalData"), &Uint8Array::from(aad)).map_err(|_| Error::Crypto)?;
    Reflect::set(&params, &JsValue::from_str("tagLength"), &JsValue::from_f64(128.0)).map_err(|_| Error::Crypto)?;
    Ok(params)
}

impl AesGcm for AesGcmKey {
    async fn encrypt(&self, nonce: &[u8; 12], aad: &[u8], plaintext: &[u8]) -> Result<Vec<u8>> {
        let sealed = promise(subtle()?.encrypt_with_object_and_u8_array(&gcm_params(nonce, aad)?, &self.0, plaintext)).await?;
        Ok(Uint8Array::new(&sealed).to_vec())
    }

    async fn decrypt(&self, nonce: &[u8; 12], aad: &[u8], ciphertext: &[u8]) -> Result<Vec<u8>> {
        // WebCrypto rejects a wrong key or any tampering with one `OperationError`: one opaque error.
        let opened = promise(subtle()?.decrypt_with_object_and_u8_array(&gcm_params(nonce, aad)?, &self.0, ciphertext))
            .await
            .map_err(|_| Error::DecryptionFailed)?;
        Ok(Uint8Array::new(&opened).to_vec())
    }
}
