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
//!
//! A value or an alarm can also be *staged* ([`Store::stage`], [`Store::stage_alarm_by`]): taken
//! into this copy at once and sent with the next write, whoever makes it (values and alarm in one
//! commit of the object's database). A `pay` used to commit twice (the attempt's start, then the
//! provider's answer) and an alarm after a payment twice (the webhook's delivery, then the ledger
//! rows copied to D1); each now commits once. Only what can be lost with the instance without harm
//! is staged, for the few milliseconds until that write: an attempt's start before anything payable
//! has been handed to anyone (the shopper got no action for it and tries again), the ledger rows'
//! being copied (copied again, they insert nothing twice), a webhook's delivery while the ledger's
//! copy runs beside it (delivered again with the same `webhook-id`, as after any crash between a
//! delivery and its record).

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
    /// Texts taken into `texts` but not sent yet, in the order staged (see [`Store::stage`]).
    staged: RefCell<Vec<(String, String)>>,
    /// `alarm` holds a time staged but not sent yet.
    alarm_staged: Cell<bool>,
}

impl Store {
    pub(crate) fn new(storage: Storage) -> Self {
        Self {
            storage,
            texts: RefCell::new(HashMap::new()),
            empty: Cell::new(false),
            alarm: Cell::new(None),
            staged: RefCell::new(Vec::new()),
            alarm_staged: Cell::new(false),
        }
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

    /// Stores every `(key, text)` (texts from [`text`]) in one write: all of them or none, with
    /// whatever is staged.
    pub(crate) async fn put_all(&self, entries: &[(&str, String)]) -> Result<()> {
        self.stage(entries);
        self.flush().await
    }

    /// Takes every `(key, text)` into this copy now and sends it with the next write (see the
    /// module's documentation: only for what may be lost with the instance).
    pub(crate) fn stage(&self, entries: &[(&str, String)]) {
        let mut texts = self.texts.borrow_mut();
        let mut staged = self.staged.borrow_mut();
        for (key, text) in entries {
            texts.insert((*key).to_owned(), Some(text.clone()));
            staged.retain(|(k, _)| k != key);
            staged.push(((*key).to_owned(), text.clone()));
        }
    }

    /// Sends what is staged, values and alarm, in one write (nothing when nothing is).
    pub(crate) async fn flush(&self) -> Result<()> {
        let entries = std::mem::take(&mut *self.staged.borrow_mut());
        let alarm = if self.alarm_staged.replace(false) { self.alarm.get().flatten() } else { None };
        // Both calls are made before either is awaited: the runtime commits them together.
        let written = if entries.is_empty() {
            None
        } else {
            let values = Object::new();
            for (key, text) in &entries {
                if let Err(e) = Reflect::set(&values, &JsValue::from_str(key), &JsValue::from_str(text)) {
                    return self.forget_on_error(Err(e.into()));
                }
            }
            Some(self.storage.as_raw().put_multiple(values.into()))
        };
        let set = alarm.map(|at| self.storage.as_raw().set_alarm(date(at), JsValue::NULL.into()));
        let mut result = Ok(());
        for promise in [written, set].into_iter().flatten() {
            let done = match promise {
                Ok(promise) => JsFuture::from(promise).await.map(|_| ()).map_err(worker::Error::from),
                Err(e) => Err(e.into()),
            };
            result = result.and(done);
        }
        self.forget_on_error(result)
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
        if self.alarm.get() == Some(Some(at_ms)) && !self.alarm_staged.get() {
            return Ok(());
        }
        self.alarm.set(Some(Some(at_ms)));
        self.alarm_staged.set(false);
        let set = match self.storage.as_raw().set_alarm(date(at_ms), JsValue::NULL.into()) {
            Ok(promise) => JsFuture::from(promise).await.map(|_| ()).map_err(worker::Error::from),
            Err(e) => Err(e.into()),
        };
        self.forget_on_error(set)
    }

    /// Sets the alarm for `at_ms` unless it rings earlier already (sending a staged earlier one).
    pub(crate) async fn alarm_by(&self, at_ms: u64) -> Result<()> {
        match self.alarm().await? {
            Some(existing) if existing <= at_ms => self.set_alarm_at(existing).await,
            _ => self.set_alarm_at(at_ms).await,
        }
    }

    /// [`Store::set_alarm_at`], sent with the next write.
    pub(crate) fn stage_alarm_at(&self, at_ms: u64) {
        if self.alarm.get() != Some(Some(at_ms)) {
            self.alarm.set(Some(Some(at_ms)));
            self.alarm_staged.set(true);
        }
    }

    /// [`Store::alarm_by`], sent with the next write.
    pub(crate) async fn stage_alarm_by(&self, at_ms: u64) -> Result<()> {
        if let Some(existing) = self.alarm().await? {
            if existing <= at_ms {
                return Ok(());
            }
        }
        self.alarm.set(Some(Some(at_ms)));
        self.alarm_staged.set(true);
        Ok(())
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
    /// (A staged alarm was never set: it stays, to be sent with the next write.)
    pub(crate) fn forget_alarm(&self) {
        if !self.alarm_staged.get() {
            self.alarm.set(None);
        }
    }

    fn forget_on_error(&self, result: Result<()>) -> Result<()> {
        if result.is_err() {
            self.texts.borrow_mut().clear();
            self.staged.borrow_mut().clear();
            self.empty.set(false);
            self.alarm.set(None);
            self.alarm_staged.set(false);
        }
        result
    }
}

/// `at_ms` (Unix milliseconds) as a JavaScript `Date`.
fn date(at_ms: u64) -> js_sys::Date {
    #[allow(clippy::cast_precision_loss)] // Unix milliseconds are far below 2^53.
    js_sys::Date::new(&JsValue::from_f64(at_ms as f64))
}
