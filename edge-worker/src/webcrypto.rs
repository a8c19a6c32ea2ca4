//! WebCrypto (`crypto.subtle`) behind payment-core's crypto traits, and randomness from
//! `crypto.getRandomValues`. Keys are imported once per isolate and cached by a SHA-256 of their
//! material (never the material itself).

use std::cell::RefCell;
use std::collections::HashMap;

use js_sys::{Array, Object, Reflect, Uint8Array};
use payment_core::crypto::HmacSha256;
use payment_core::{Error, Result};
use sha2::{Digest as _, Sha256};
use wasm_bindgen::{JsCast as _, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{Crypto, CryptoKey, SubtleCrypto};

thread_local! {
    static HMAC_KEYS: RefCell<HashMap<[u8; 32], CryptoKey>> = RefCell::new(HashMap::new());
}

fn crypto() -> Result<Crypto> {
    Reflect::get(&js_sys::global(), &JsValue::from_str("crypto"))
        .ok()
        .and_then(|c| c.dyn_into::<Crypto>().ok())
        .ok_or(Error::Crypto)
}

fn subtle() -> Result<SubtleCrypto> {
    Ok(crypto()?.subtle())
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
        let fingerprint: [u8; 32] = Sha256::digest(secret).into();
        if let Some(key) = HMAC_KEYS.with(|keys| keys.borrow().get(&fingerprint).cloned()) {
            return Ok(Self(key));
        }
        let usages = Array::of2(&JsValue::from_str("sign"), &JsValue::from_str("verify"));
        let imported = promise(subtle()?.import_key_with_object(
            "raw",
            &Uint8Array::from(secret).into(),
            &algorithm(&[("name", "HMAC"), ("hash", "SHA-256")])?,
            false,
            &usages,
        ))
        .await?;
        let key: CryptoKey = imported.dyn_into().map_err(|_| Error::Crypto)?;
        HMAC_KEYS.with(|keys| keys.borrow_mut().insert(fingerprint, key.clone()));
        Ok(Self(key))
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
