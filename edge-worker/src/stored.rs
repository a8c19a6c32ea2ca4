//! The Durable Object's values, stored as JSON text.
//!
//! `worker::Storage::get`/`put` convert a value between Rust and a JavaScript object with
//! `serde_wasm_bindgen`, which crosses between wasm and JavaScript for every field and every list
//! element, both ways (and the storage then structured-clones that object). A session's record,
//! outbox and audit trail are read and written on every transition, so that traffic was a large
//! part of a `pay` and of a callback. Here a value is one JSON string: serde_json inside the wasm,
//! one string across, one string cloned.
//!
//! Values written by earlier versions (JavaScript objects) are still read.

use js_sys::{Object, Reflect};
use serde::de::DeserializeOwned;
use serde::Serialize;
use wasm_bindgen::JsValue;
use wasm_bindgen_futures::JsFuture;
use worker::{Result, Storage};

/// The value under `key`, `None` when there is none.
pub(crate) async fn get<T: DeserializeOwned>(storage: &Storage, key: &str) -> Result<Option<T>> {
    let value = JsFuture::from(storage.as_raw().get(key)?).await?;
    decode(value)
}

fn decode<T: DeserializeOwned>(value: JsValue) -> Result<Option<T>> {
    if value.is_undefined() {
        return Ok(None);
    }
    match value.as_string() {
        Some(text) => Ok(Some(serde_json::from_str(&text)?)),
        // Written by an earlier version, as an object.
        None => Ok(Some(serde_wasm_bindgen::from_value(value)?)),
    }
}

/// The JSON text `put` stores for `value`.
pub(crate) fn text<T: Serialize + ?Sized>(value: &T) -> Result<String> {
    Ok(serde_json::to_string(value)?)
}

/// Stores `value` under `key`.
pub(crate) async fn put<T: Serialize + ?Sized>(
    storage: &Storage,
    key: &str,
    value: &T,
) -> Result<()> {
    storage.put_raw(key, JsValue::from_str(&text(value)?)).await
}

/// Stores every `(key, text)` (texts from [`text`]) in one write: all of them or none.
pub(crate) async fn put_all(storage: &Storage, entries: &[(&str, String)]) -> Result<()> {
    let values = Object::new();
    for (key, text) in entries {
        Reflect::set(&values, &JsValue::from_str(key), &JsValue::from_str(text))?;
    }
    storage.put_multiple_raw(values).await
}
