//! The Durable Object's values, stored as JSON text, through [`Store`]: the object's storage with
//! this instance's copy of every value it has read or written, and of its alarm.
//!
//! `worker::Storage::get`/`put` convert a value between Rust and a JavaScript object with
//! `serde_wasm_bindgen`, which crosses between wasm and JavaScript for every field and every list
//! element, both ways (and the storage then structured-clones that object). Here a value is one
//! JSON string: serde_json inside the wasm, one string across, one string cloned.
//!
//! Each storage call is also a promise awaited across wasm and JavaScript; a transition used to
//! read the outbox, the trail, the ledger rows, the close queue and the alarm one call each before
//! its write, and the alarm after it read them all again. An object is the only writer of its
//! storage and runs one event at a time up to each await, so a copy kept here is what the storage
//! would answer: it is updated before each write is sent (as the storage's own cache is), read
//! instead of the storage from then on, and dropped whole when a write fails (the runtime resets
//! an object whose write failed; until then nothing cached is trusted).
//!
//! Values written by earlier versions (JavaScript objects) are still read (and not kept: they are
//! rewritten as text by the next write).

use std::cell::{Cell, RefCell};
use std::collections::HashMap;

use js_sys::{Object, Reflect};
use serde::de::DeserializeOwned;
use serde::Serialize;
use wasm_bindgen::JsValue;
use wasm_bindgen_futures::JsFuture;
use worker::{Result, Storage};

/// The JSON text [`Store::put`] stores for `value`.
pub(crate) fn text<T: Serialize + ?Sized>(value: &T) -> Result<String> {
    Ok(serde_json::to_string(value)?)
}

/// A Durable Object's storage and this instance's copy of it (see the module's documentation).
#[derive(Debug)]
pub(crate) struct Store {
    storage: Storage,
    /// Texts by key; `None`: known to be absent.
    texts: RefCell<HashMap<String, Option<String>>>,
    /// The storage held nothing but what `texts` has (see [`Store::known_empty`]).
    empty: Cell<bool>,
    /// The alarm, Unix milliseconds; `Some(None)`: known to be unset; `None`: not known.
    alarm: Cell<Option<Option<u64>>>,
}

impl Store {
    pub(crate) fn new(storage: Storage) -> Self {
        Self { storage, texts: RefCell::new(HashMap::new()), empty: Cell::new(false), alarm: Cell::new(None) }
    }

    /// The value under `key`, `None` when there is none.
    pub(crate) async fn get<T: DeserializeOwned>(&self, key: &str) -> Result<Option<T>> {
        if let Some(cached) = self.texts.borrow().get(key) {
            return Ok(match cached {
                Some(text) => Some(serde_json::from_str(text)?),
                None => None,
            });
        }
        if self.empty.get() {
            return Ok(None);
        }
        let value = JsFuture::from(self.storage.as_raw().get(key)?).await?;
        if value.is_undefined() {
            self.texts.borrow_mut().insert(key.to_owned(), None);
            return Ok(None);
        }
        match value.as_string() {
            Some(text) => {
                let parsed = serde_json::from_str(&text)?;
                self.texts.borrow_mut().insert(key.to_owned(), Some(text));
                Ok(Some(parsed))
            }
            // Written by an earlier version, as an object.
            None => Ok(Some(serde_wasm_bindgen::from_value(value)?)),
        }
    }

    /// Stores `value` under `key`.
    pub(crate) async fn put<T: Serialize + ?Sized>(&self, key: &str, value: &T) -> Result<()> {
        self.put_all(&[(key, text(value)?)]).await
    }

    /// Stores every `(key, text)` (texts from [`text`]) in one write: all of them or none.
    pub(crate) async fn put_all(&self, entries: &[(&str, String)]) -> Result<()> {
        let values = Object::new();
        {
            let mut texts = self.texts.borrow_mut();
            for (key, text) in entries {
                Reflect::set(&values, &JsValue::from_str(key), &JsValue::from_str(text))?;
                texts.insert((*key).to_owned(), Some(text.clone()));
            }
        }
        let written = self.storage.put_multiple_raw(values).await;
        self.forget_on_error(written)
    }

    /// Deletes the value under `key`.
    pub(crate) async fn delete(&self, key: &str) -> Result<()> {
        self.texts.borrow_mut().insert(key.to_owned(), None);
        let deleted = self.storage.delete(key).await.map(|_| ());
        self.forget_on_error(deleted)
    }

    /// When the alarm is set for (Unix milliseconds), if it is.
    pub(crate) async fn alarm(&self) -> Result<Option<u64>> {
        if let Some(known) = self.alarm.get() {
            return Ok(known);
        }
        let at = self.storage.get_alarm().await?.and_then(|at| u64::try_from(at).ok());
        self.alarm.set(Some(at));
        Ok(at)
    }

    /// Sets the alarm for `at_ms` (Unix milliseconds; a time past rings at once), unless it is set
    /// for exactly then already.
    pub(crate) async fn set_alarm_at(&self, at_ms: u64) -> Result<()> {
        if self.alarm.get() == Some(Some(at_ms)) {
            return Ok(());
        }
        self.alarm.set(Some(Some(at_ms)));
        #[allow(clippy::cast_precision_loss)] // Unix milliseconds are far below 2^53.
        let date = js_sys::Date::new(&JsValue::from_f64(at_ms as f64));
        let set = match self.storage.as_raw().set_alarm(date, JsValue::NULL.into()) {
            Ok(promise) => JsFuture::from(promise).await.map(|_| ()).map_err(worker::Error::from),
            Err(e) => Err(e.into()),
        };
        self.forget_on_error(set)
    }

    /// Sets the alarm for `at_ms` unless it rings earlier already.
    pub(crate) async fn alarm_by(&self, at_ms: u64) -> Result<()> {
        match self.alarm().await? {
            Some(existing) if existing <= at_ms => Ok(()),
            _ => self.set_alarm_at(at_ms).await,
        }
    }

    /// The caller found that this object has never been written to (a session's object before its
    /// creation): every key is absent and no alarm is set, without asking the storage.
    pub(crate) fn known_empty(&self) {
        self.texts.borrow_mut().clear();
        self.empty.set(true);
        self.alarm.set(Some(None));
    }

    /// The alarm handler started: the runtime has taken the alarm off (it stays off unless the
    /// handler sets it again, and is set again for a retry when the handler fails), so what this
    /// copy knew of it no longer holds.
    pub(crate) fn forget_alarm(&self) {
        self.alarm.set(None);
    }

    fn forget_on_error(&self, result: Result<()>) -> Result<()> {
        if result.is_err() {
            self.texts.borrow_mut().clear();
            self.empty.set(false);
            self.alarm.set(None);
        }
        result
    }
}
