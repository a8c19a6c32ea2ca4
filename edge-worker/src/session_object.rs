//! The Durable Object of one checkout session: every change of a session goes through it, one at a
//! time, so it is the lock that classic designs take from Redis. It also holds the session's
//! outbox: events are stored with the transition that made them, then delivered to the merchant's
//! webhook by the object's alarm, retried with backoff until a 2xx.

use std::collections::BTreeMap;

use payment_core::event::{Event, EventId, ProviderTransactionId};
use payment_core::ids::OutTradeNo;
use payment_core::method::PaymentMethod;
use payment_core::money::Amount;
use payment_core::session::{Command, Effect, Session, Status};
use serde::{Deserialize, Serialize};
use worker::{durable_object, DurableObject, Env, Method, Request, Response, Result, State};

use crate::providers::NextAction;
use crate::stored;

/// What the worker stores for a session: the core's state machine and what the widget shows.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct SessionRecord {
    /// The session's state (payment-core's state machine).
    pub(crate) session: Session,
    /// What the shopper sees.
    pub(crate) description: String,
    /// The methods the merchant accepts for this session (`None`: every method).
    pub(crate) methods: Option<Vec<PaymentMethod>>,
    /// Where the shopper goes back to after paying.
    pub(crate) return_url: Option<String>,
    /// SHA-256 of the validated request, to tell an idempotent retry from a conflicting reuse.
    pub(crate) request_hash: String,
    /// The next action of each attempt, by order number; the widget's current one is `current`.
    #[serde(default)]
    pub(crate) actions: BTreeMap<String, NextAction>,
    /// The attempt the widget shows now.
    #[serde(default)]
    pub(crate) current: Option<String>,
    /// Effects that earlier versions of this worker did not carry out yet (every effect is carried
    /// out now: nothing is added); kept so that records stored then still load.
    #[serde(default)]
    pub(crate) pending_effects: Vec<String>,
    /// The payer's WeChat openid (sealed) and sign-in round trips in flight (WeChat JSAPI).
    #[serde(default)]
    pub(crate) wechat: crate::oauth::WechatPayer,
}

/// One event waiting for (or done with) delivery to the merchant.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct OutboxEntry {
    event: Event,
    /// Unix milliseconds of each delivery attempt, with the HTTP status (0: no answer).
    attempts: Vec<(u64, u16)>,
    /// When to try next (Unix milliseconds); `None` once delivered.
    next_at_ms: Option<u64>,
}

const RECORD: &str = "record";
const OUTBOX: &str = "outbox";
/// Retry delays after each failed delivery, in seconds: 5 s doubling to 6 h, then every 6 h, for
/// at least three days (the floor); then the entry stays, undelivered, for an operator.
const BACKOFF_CAP_SECS: u64 = 6 * 3600;
const GIVE_UP_AFTER_SECS: u64 = 4 * 24 * 3600;

/// A request from the worker's handlers to this object.
#[derive(Debug, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
enum Op {
    /// The shopper chose a method: the whole attempt (see [`crate::pay`]).
    Pay(crate::pay::PayOp),
    /// The provider could not create the order, or says the attempt failed.
    Failed { out_trade_no: OutTradeNo, retryable: bool, now: u64 },
    /// A verified callback or query says the attempt is paid.
    Paid { out_trade_no: OutTradeNo, amount: Amount, provider_transaction_id: ProviderTransactionId, paid_at: u64, now: u64 },
    /// The mini-program's backend pays the hand-off attempt (see [`crate::providers::miniprogram`]).
    MiniprogramPay { openid: String, now: u64 },
    /// The cron sweep visits a session that looks stuck (see [`crate::sweep`]).
    Sweep,
    /// It ended with the payer's sealed openid: answers the page, once per round trip.
    OauthFinish { nonce: String, openid: crate::oauth::Sealed, now: u64 },
    /// The merchant asks for a refund (see [`crate::refunds`]).
    RequestRefund { request: crate::refunds::RefundRequestEntry, now: u64 },
    /// The provider took the refund (it answers later): a replay need not submit it again.
    RefundSubmitted { refund_id: String },
    /// A provider says the refund went through.
    RefundSucceeded { out_refund_no: payment_core::ids::OutRefundNo, now: u64 },
    /// A provider says the refund was refused.
    RefundFailed { out_refund_no: payment_core::ids::OutRefundNo, now: u64 },
    /// One audit entry from a handler: a provider's answer summary, a refused callback.
    Audit { kind: String, out_trade_no: Option<OutTradeNo>, detail: String },
    /// A provider's callback says how a duplicate payment's refund ended (see [`crate::duplicates`]).
    DuplicateRefundOutcome { out_refund_no: payment_core::ids::OutRefundNo, succeeded: bool },
    /// `GET /v1/sessions/{id}` wants to query the provider: the attempts to query, if 3 s passed.
    QuerySlot { now_ms: u64 },
    /// A status query's verified result (or why it failed), to record and apply.
    QueryResult {
        out_trade_no: OutTradeNo,
        outcome: Option<crate::providers::query::QueryOutcome>,
        error: Option<String>,
        now: u64,
    },
}

/// The answer of an operation that was refused.
fn refused(reason: &str) -> Result<Response> {
    Ok(Response::from_json(&serde_json::json!({ "refused": reason }))?.with_status(409))
}

/// One checkout session.
#[durable_object]
pub struct SessionObject {
    pub(crate) env: Env,
    /// This instance's copy of the stored record, kept equal to it: every write of the record goes
    /// through [`SessionObject::store_record`] or [`SessionObject::transition`], which update it
    /// before writing (as the storage's own cache does); reading it saves a storage call and its
    /// copy per request. It dies with the instance.
    record: std::cell::RefCell<Option<SessionRecord>>,
    /// The object's storage, with this instance's copy of what it read and wrote (see [`stored`]).
    pub(crate) store: stored::Store,
}

impl std::fmt::Debug for SessionObject {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SessionObject")
    }
}

impl DurableObject for SessionObject {
    fn new(state: State, env: Env) -> Self {
        Self { store: stored::Store::new(state.storage()), env, record: std::cell::RefCell::new(None) }
    }

    async fn fetch(&self, mut req: Request) -> Result<Response> {
        let body = if req.method() == Method::Post { Some(req.bytes().await?) } else { None };
        self.handle(req.method(), &req.path(), body.as_deref()).await
    }

    async fn alarm(&self) -> Result<Response> {
        self.store.forget_alarm();
        let done = self.alarm_work().await;
        if done.is_err() {
            // The runtime sets the alarm again for its retry.
            self.store.forget_alarm();
        }
        done
    }
}

/// The worker's handlers call the object through this method (Workers RPC, see
/// `edge-worker/js/entry.mjs`) rather than `fetch`: the request's body arrives as an argument and
/// the answer leaves as a value, without a `Request` and a `Response` built, converted and read on
/// each side (each read of a body is one more turn of the isolate).
#[wasm_bindgen::prelude::wasm_bindgen]
impl SessionObject {
    /// `[status, body]` of [`SessionObject::handle`]'s answer to `method` `path` with `body`.
    ///
    /// # Errors
    /// The handler's error, or an answer whose body is a stream (none is).
    #[wasm_bindgen(js_name = rpc)]
    pub async fn rpc(&self, method: String, path: String, body: Option<String>) -> std::result::Result<wasm_bindgen::JsValue, wasm_bindgen::JsValue> {
        let answer = self.handle(Method::from(method), &path, body.as_deref().map(str::as_bytes)).await;
        let answer = answer.map_err(wasm_bindgen::JsValue::from)?;
        let status = answer.status_code();
        let text = match answer.body() {
            worker::ResponseBody::Empty => String::new(),
            worker::ResponseBody::Body(bytes) => String::from_utf8_lossy(bytes).into_owned(),
            worker::ResponseBody::Stream(_) => return Err(wasm_bindgen::JsValue::from_str("stream")),
        };
        // The headers are left: every answer of the object is JSON or empty.
        Ok(js_sys::Array::of2(&wasm_bindgen::JsValue::from(status), &wasm_bindgen::JsValue::from(text)).into())
    }
}

impl SessionObject {
    /// One request of the worker's handlers (by `fetch` or [`SessionObject::rpc`]).
    async fn handle(&self, method: Method, path: &str, body: Option<&[u8]>) -> Result<Response> {
        fn json<T: serde::de::DeserializeOwned>(body: Option<&[u8]>) -> serde_json::Result<T> {
            serde_json::from_slice(body.unwrap_or_default())
        }
        match (method, path) {
            // Creates the session, or answers the stored one (200) when the same request comes again
            // (409 when another request already created this id).
            (Method::Post, "/create") => {
                let record: SessionRecord = json(body)?;
                match self.stored_record().await? {
                    Some(existing) if existing.request_hash == record.request_hash => Response::from_json(&existing),
                    Some(_) => Ok(Response::empty()?.with_status(409)),
                    None => {
                        // Nothing was ever written here (the record goes in an object's first write).
                        self.store.known_empty();
                        // A new object: the record, its trail, its ledger row and its alarm in one
                        // write; the alarm copies the row to D1 within a second (not in this
                        // request, while the merchant's page that asked for the session is loading).
                        let ledger = crate::ledger::pending_with(&self.store, &self.env, vec![crate::ledger::created(&record.session)?]).await?;
                        *self.record.borrow_mut() = Some(record.clone());
                        let audit = vec![crate::audit::Entry::new("session.created", None, None)];
                        let mut values = vec![(RECORD, stored::text(&record)?), (crate::audit::KEY, stored::text(&audit)?)];
                        if let Some(rows) = &ledger {
                            values.push((crate::ledger::PENDING, stored::text(rows)?));
                        }
                        self.store.stage(&values);
                        let copy_by = ledger.is_some().then(|| crate::now_ms() + crate::ledger::COPY_CREATED_WITHIN_MS);
                        let alarm = [crate::providers::query::needs_alarm_at(&self.store, &record).await?, copy_by].into_iter().flatten().min();
                        if let Some(at) = alarm {
                            self.store.stage_alarm_by(at).await?;
                        }
                        self.store.flush().await?;
                        Ok(Response::from_json(&record)?.with_status(201))
                    }
                }
            }
            // The session as it stands now; an unpaid session past its expiry expires on the way.
            (Method::Get, "/record") => match self.load().await? {
                Some(record) => Response::from_json(&record),
                None => Ok(Response::empty()?.with_status(404)),
            },
            (Method::Post, "/op") => {
                let op: Op = json(body)?;
                let Some(record) = self.load().await? else {
                    return Ok(Response::empty()?.with_status(404));
                };
                self.apply(record, op).await
            }
            // The audit trail (see [`crate::audit`]).
            (Method::Get, "/audit") => match self.stored_record().await? {
                Some(_) => crate::audit::in_object(&self.store).await,
                None => Ok(Response::empty()?.with_status(404)),
            },
            (Method::Get, "/outbox") => {
                let outbox: Vec<OutboxEntry> = self.store.get(OUTBOX).await?.unwrap_or_default();
                Response::from_json(&outbox)
            }
            _ => Ok(Response::empty()?.with_status(404)),
        }
    }
}

impl SessionObject {
    async fn alarm_work(&self) -> Result<Response> {
        // The due webhooks and the ledger's copy to D1 go out at once, and what both did is stored
        // in one write (each stages its share).
        let (delivered, copied) = futures_util::future::join(self.deliver(), crate::ledger::copy_pending(&self.store, &self.env)).await;
        let written = self.store.flush().await;
        delivered?;
        written?;
        // Closes, queries while processing, expiry, and the next alarm.
        crate::providers::query::alarm_in_object(self, &self.env).await?;
        crate::duplicates::alarm_in_object(self, &self.env).await?;
        // Last: when D1 failed, the next alarm comes within a minute to try again; rows a
        // transition added while the copy ran (the webhooks' retry may be hours away) within seconds.
        if copied.is_err() {
            crate::log::line("warn", "ledger.copy_failed", &[]);
            crate::ledger::retry_soon(&self.store).await?;
        } else {
            crate::ledger::alarm_if_pending(&self.store).await?;
        }
        Response::empty()
    }

    /// Copies the pending ledger rows to D1; a failure leaves them for the alarm (see [`crate::ledger`]).
    async fn flush_ledger(&self) {
        if crate::ledger::flush(&self.store, &self.env).await.is_err() {
            crate::log::line("warn", "ledger.copy_failed", &[]);
        }
    }

    /// The stored record, as it is (this instance's copy once read).
    async fn stored_record(&self) -> Result<Option<SessionRecord>> {
        if let Some(record) = self.record.borrow().as_ref() {
            return Ok(Some(record.clone()));
        }
        let stored = self.store.get::<SessionRecord>(RECORD).await?;
        if let Some(record) = &stored {
            *self.record.borrow_mut() = Some(record.clone());
        }
        Ok(stored)
    }

    /// Writes the record (and this instance's copy first, as the storage's cache is).
    pub(crate) async fn store_record(&self, record: &SessionRecord) -> Result<()> {
        *self.record.borrow_mut() = Some(record.clone());
        self.store.put(RECORD, record).await
    }

    /// Writes the record and `entries` appended to the audit trail, in one write.
    pub(crate) async fn store_record_noting(&self, record: &SessionRecord, entries: Vec<crate::audit::Entry>) -> Result<()> {
        let trail = crate::audit::appended(&self.store, entries).await?;
        *self.record.borrow_mut() = Some(record.clone());
        let mut values = vec![(RECORD, stored::text(record)?)];
        if let Some(trail) = &trail {
            values.push((crate::audit::KEY, stored::text(trail)?));
        }
        self.store.put_all(&values).await
    }

    /// The stored record, expired first when it is unpaid past its expiry.
    pub(crate) async fn load(&self) -> Result<Option<SessionRecord>> {
        let Some(record) = self.stored_record().await? else {
            return Ok(None);
        };
        let now = crate::now();
        let unpaid = matches!(record.session.status(), Status::Open | Status::Processing);
        if unpaid && now >= record.session.expires_at() {
            return Ok(Some(self.transition(record, Command::Expire { now }, now).await?.unwrap_or_else(|r| r)));
        }
        Ok(Some(record))
    }

    /// Applies `command`; stores the new state and its events together. `Err(record)` (unchanged)
    /// when the state machine refuses it.
    pub(crate) async fn transition(&self, record: SessionRecord, command: Command, now: u64) -> Result<std::result::Result<SessionRecord, SessionRecord>> {
        self.transition_noting(record, command, now, Vec::new()).await
    }

    /// [`Self::transition`], with `noted` added to the audit trail in the same write, before the
    /// transition's own entries (nothing is written when the state machine refuses `command`).
    pub(crate) async fn transition_noting(
        &self,
        record: SessionRecord,
        command: Command,
        now: u64,
        noted: Vec<crate::audit::Entry>,
    ) -> Result<std::result::Result<SessionRecord, SessionRecord>> {
        let applied = self.transition_staged(record, command, now, noted).await?;
        if applied.is_ok() {
            self.store.flush().await?;
        }
        Ok(applied)
    }

    /// [`Self::transition_noting`], but what it writes (and the alarm it needs) is only staged:
    /// it is sent with the object's next write (see [`crate::stored`]). For a transition that may be
    /// lost with the instance, as an attempt's start before the shopper has anything to pay.
    pub(crate) async fn transition_staged(
        &self,
        mut record: SessionRecord,
        command: Command,
        now: u64,
        mut noted: Vec<crate::audit::Entry>,
    ) -> Result<std::result::Result<SessionRecord, SessionRecord>> {
        let (audit_name, audit_subject) = (command.name(), crate::audit::subject(&command));
        let Ok((session, effects)) = record.session.apply(command.clone()) else {
            return Ok(Err(record));
        };
        let ledger_row = crate::ledger::transition(&session, &command)?;
        let (mut closes, mut queued, mut duplicates) = (Vec::new(), Vec::new(), Vec::new());
        record.session = session;
        let store = &self.store;
        let mut outbox: Vec<OutboxEntry> = store.get(OUTBOX).await?.unwrap_or_default();
        let mut emitted = false;
        for effect in effects {
            match effect {
                Effect::Emit(data) => {
                    queued.push(data.event_type().as_str());
                    let random = crate::webcrypto::random_bytes::<15>().map_err(|_| worker::Error::RustError("random".into()))?;
                    let event = Event::new(EventId::from_random(&random), now, data);
                    outbox.push(OutboxEntry { event, attempts: Vec::new(), next_at_ms: Some(now * 1000) });
                    emitted = true;
                }
                // The refund handler submits it once this transition is stored.
                Effect::SubmitRefund { .. } => {}
                // Carried out by the alarm (see [`crate::providers::query`]).
                Effect::CloseAttempt { out_trade_no, method } => closes.push((out_trade_no, method)),
                // Carried out by the alarm (see [`crate::duplicates`]).
                Effect::RefundPayment { payment, amount } => duplicates.push((payment, amount)),
            }
        }
        // The record and its events are stored in one write: no transition without its events.
        // … and so are its ledger rows (the alarm copies them to D1, see [`crate::ledger`]), its
        // audit entries, the attempts it queues for closing and the alarm all of that needs.
        let ledger = crate::ledger::pending_with(store, &self.env, vec![ledger_row]).await?;
        let (entries, closing) = crate::providers::query::transition_notes(store, &record, audit_name, audit_subject, closes, queued).await?;
        noted.extend(entries);
        let trail = crate::audit::appended(store, noted).await?;
        *self.record.borrow_mut() = Some(record.clone());
        let mut values = vec![(RECORD, stored::text(&record)?), (OUTBOX, stored::text(&outbox)?)];
        if let Some(rows) = &ledger {
            values.push((crate::ledger::PENDING, stored::text(rows)?));
        }
        if let Some(trail) = &trail {
            values.push((crate::audit::KEY, stored::text(trail)?));
        }
        if let Some(closing) = &closing {
            values.push((crate::providers::query::CLOSING, stored::text(closing)?));
        }
        store.stage(&values);
        let now_ms = crate::now_ms();
        let alarm = [
            // Delivers the events at once.
            emitted.then_some(now_ms),
            // Expiry, queries, closes.
            crate::providers::query::needs_alarm_at(store, &record).await?,
            // Copies the rows to D1 (with the webhook, when there is one): within seconds.
            ledger.is_some().then(|| now_ms + crate::ledger::COPY_WITHIN_MS),
        ]
        .into_iter()
        .flatten()
        .min();
        if let Some(at) = alarm {
            store.stage_alarm_by(at).await?;
        }
        if !duplicates.is_empty() {
            // Queued with their own writes, after the transition's.
            store.flush().await?;
            crate::duplicates::queue_in_object(store, duplicates).await?;
        }
        Ok(Ok(record))
    }

    async fn apply(&self, mut record: SessionRecord, op: Op) -> Result<Response> {
        match op {
            Op::Pay(op) => crate::pay::in_object(self, record, op).await,
            Op::Sweep => {
                let record = crate::providers::query::sweep_in_object(self, &self.env, record).await?;
                // (Webhooks a transition here queues go out by the alarm it sets, as always.)
                self.flush_ledger().await;
                Response::from_json(&serde_json::json!({ "status": record.session.status().as_str() }))
            }
            Op::MiniprogramPay { openid, now } => crate::providers::miniprogram::pay_in_object(self, record, openid, now).await,
            Op::Failed { out_trade_no, retryable, now } => {
                match self.transition(record, Command::AttemptFailed { out_trade_no, retryable, now }, now).await? {
                    Ok(record) | Err(record) => Response::from_json(&record),
                }
            }
            Op::Paid { out_trade_no, amount, provider_transaction_id, paid_at, now } => {
                let command = Command::Paid { out_trade_no: out_trade_no.clone(), amount, provider_transaction_id, paid_at };
                let noted = match record.session.apply(command.clone()) {
                    // The provider's retry of a callback already applied (or a query confirming
                    // it): nothing changes, nothing is written; the provider gets its acknowledgement.
                    Ok((session, effects)) if effects.is_empty() && session == record.session => return Response::empty(),
                    // Accepted: the entry goes in the transition's own write.
                    Ok(_) => vec![crate::audit::Entry::new("callback.accepted", Some(&out_trade_no), None)],
                    // Refused: the entry is written alone (the transition below writes nothing).
                    Err(e) => {
                        let entry = crate::audit::Entry::new("callback.refused", Some(&out_trade_no), Some(crate::audit::reason(&e)));
                        crate::audit::append(&self.store, vec![entry]).await?;
                        Vec::new()
                    }
                };
                match self.transition_noting(record, command, now, noted).await? {
                    Ok(_) => Response::empty(),
                    // Refused (e.g. another amount, an unknown attempt): nothing changes.
                    Err(_) => refused("paid_refused"),
                }
            }
            Op::OauthFinish { nonce, openid, now } => match record.wechat.finish(&nonce, openid, now) {
                Some(page) => {
                    self.store_record(&record).await?;
                    Response::from_json(&serde_json::json!({ "page": page }))
                }
                None => refused("oauth_state_used"),
            },
            Op::RequestRefund { request, now } => crate::refunds::request_in_object(self, record, request, now).await,
            Op::RefundSubmitted { refund_id } => crate::refunds::submitted_in_object(&self.store, &refund_id).await,
            Op::RefundSucceeded { out_refund_no, now } => {
                match self.transition(record, Command::RefundSucceeded { out_refund_no }, now).await? {
                    Ok(record) => Response::from_json(&record),
                    Err(_) => refused("refund_refused"),
                }
            }
            Op::RefundFailed { out_refund_no, now } => match self.transition(record, Command::RefundFailed { out_refund_no }, now).await? {
                Ok(record) => Response::from_json(&record),
                Err(_) => refused("refund_refused"),
            },
            Op::Audit { kind, out_trade_no, detail } => {
                let entry = crate::audit::Entry::new(&kind, out_trade_no.as_ref(), Some(detail));
                crate::audit::unchecked_in_object(&self.store, entry).await?;
                Response::empty()
            }
            Op::DuplicateRefundOutcome { out_refund_no, succeeded } => {
                crate::duplicates::outcome_in_object(&self.store, &out_refund_no, succeeded).await
            }
            Op::QuerySlot { now_ms } => crate::providers::query::slot_in_object(&self.store, &record, now_ms).await,
            Op::QueryResult { out_trade_no, outcome, error, now } => {
                let outcome = outcome.ok_or_else(|| error.unwrap_or_else(|| "unavailable".to_owned()));
                crate::providers::query::result_in_object(self, record, out_trade_no, outcome, now).await
            }
        }
    }

    /// Delivers every due event to `MERCHANT_WEBHOOK_URL`, signed per Standard Webhooks, and
    /// schedules the next try of those that failed. What it did is staged: the caller writes it.
    async fn deliver(&self) -> Result<()> {
        let store = &self.store;
        let due: Vec<OutboxEntry> = store.get::<Vec<OutboxEntry>>(OUTBOX).await?.unwrap_or_default();
        let now_ms = crate::now_ms();
        let mut sent = Vec::new();
        for entry in due.into_iter().filter(|e| e.next_at_ms.is_some_and(|t| t <= now_ms)) {
            let status = crate::webhooks::send(&self.env, &entry.event).await;
            sent.push((entry, status));
        }
        // Read again: a transition may have queued another event while the webhooks went out.
        let mut outbox: Vec<OutboxEntry> = store.get(OUTBOX).await?.unwrap_or_default();
        let mut deliveries = Vec::new();
        for (sent, status) in sent {
            let Some(entry) = outbox.iter_mut().find(|e| e.event.id == sent.event.id) else {
                continue;
            };
            entry.attempts.push((now_ms, status));
            if !(200..300).contains(&status) {
                crate::log::line("warn", "webhook.attempt_failed", &[
                    ("event_id", entry.event.id.as_str().into()),
                    ("type", entry.event.event_type().as_str().into()),
                    ("status", status.into()),
                    ("attempt", entry.attempts.len().into()),
                ]);
            }
            deliveries.push(crate::audit::delivery(&entry.event, status));
            entry.next_at_ms = if (200..300).contains(&status) {
                None
            } else {
                let failures = u32::try_from(entry.attempts.len()).unwrap_or(u32::MAX);
                let delay = 5_u64.saturating_mul(2_u64.saturating_pow(failures.saturating_sub(1))).min(BACKOFF_CAP_SECS);
                let age = now_ms / 1000 - entry.event.created_at;
                (age < GIVE_UP_AFTER_SECS).then_some(now_ms + delay * 1000)
            };
        }
        if !deliveries.is_empty() {
            // The attempts and their trail entries in one write.
            let trail = crate::audit::appended(store, deliveries).await?;
            let mut values = vec![(OUTBOX, stored::text(&outbox)?)];
            if let Some(trail) = &trail {
                values.push((crate::audit::KEY, stored::text(trail)?));
            }
            store.stage(&values);
        }
        if let Some(next) = outbox.iter().filter_map(|e| e.next_at_ms).min() {
            store.stage_alarm_at(next);
        }
        Ok(())
    }
}
