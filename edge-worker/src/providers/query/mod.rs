//! What the worker asks the providers itself, when a callback is late or lost: the status of an
//! attempt (WeChat Pay's order query, `alipay.trade.query`, UnionPay's `queryTrans.do`), and the
//! close of an attempt that must not be paid any more (another attempt paid, or the session ended).
//!
//! Every answer is verified before anything in it is used; a result is applied by the session's
//! Durable Object exactly as a callback is (`paid` goes through the same state machine command).
//! The rate limit (one round of queries per session every [`MIN_QUERY_INTERVAL_MS`]) is kept in the
//! Durable Object, so it holds across isolates.

mod alipay;
mod unionpay;
mod wechatpay;

use payment_core::event::ProviderTransactionId;
use payment_core::ids::{OutTradeNo, SessionId};
use payment_core::method::{PaymentMethod, Provider};
use payment_core::money::Amount;
use payment_core::session::{Attempt, Status};
use serde::{Deserialize, Serialize};
use worker::{Env, Method, Result};

use super::ProviderError;
use crate::session_object::SessionRecord;
use crate::sessions::call_object;
use crate::stored::Store;

/// A session's attempts are queried at most once per this many milliseconds.
pub(crate) const MIN_QUERY_INTERVAL_MS: u64 = 3_000;

/// What a verified status query says about one attempt.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "result", rename_all = "snake_case")]
pub(crate) enum QueryOutcome {
    /// Paid: apply it as a callback would.
    Paid {
        /// The amount the provider received.
        amount: Amount,
        /// The provider's transaction number.
        provider_transaction_id: ProviderTransactionId,
        /// When, if the provider says.
        paid_at: Option<u64>,
    },
    /// Not paid yet (or no transaction at the provider yet).
    NotPaid,
    /// Closed or failed at the provider: this attempt will not be paid.
    Ended,
}

impl QueryOutcome {
    /// A summary for the audit trail (no ids, no body).
    pub(crate) fn summary(&self) -> &'static str {
        match self {
            Self::Paid { .. } => "paid",
            Self::NotPaid => "not_paid",
            Self::Ended => "closed_or_failed",
        }
    }
}

/// What closing an attempt at its provider ended with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum CloseOutcome {
    /// Closed (or already closed): it cannot be paid any more.
    Closed,
    /// The provider has nothing to close: UnionPay has no order before the shopper pays, and
    /// `frontTransReq.do` orders end by their `payTimeout` (a cancellation exists only for a
    /// *paid* consumption, which is a refund's business).
    NothingToClose,
    /// The provider refused the close because the attempt is paid after all: apply `paid`.
    Paid(QueryOutcome),
}

/// What a provider-specific close answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Closing {
    Closed,
    /// The provider refused to close (paid, or in a state that cannot be closed): query it.
    NotClosable,
}

/// One attempt as the Durable Object hands it out for a query or a close (what a query needs).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Target {
    /// The attempt's order number.
    pub(crate) out_trade_no: OutTradeNo,
    /// Its method.
    pub(crate) method: PaymentMethod,
    /// Its start (UnionPay's `txnTime`: the same instant the order was created with).
    pub(crate) started_at: u64,
}

impl Target {
    /// The target of `attempt`.
    pub(crate) fn of(attempt: &Attempt) -> Self {
        Self { out_trade_no: attempt.out_trade_no.clone(), method: attempt.method, started_at: attempt.started_at }
    }
}

/// A stable word for a failed query or close, for the audit trail.
pub(crate) fn error_code(error: ProviderError) -> &'static str {
    match error {
        ProviderError::NotConfigured => "not_configured",
        ProviderError::Refused => "refused",
        ProviderError::Unavailable => "unavailable",
        ProviderError::MissingContext(_) => "missing_context",
    }
}

/// Queries the status of `target` at its provider.
pub(crate) async fn query(env: &Env, target: &Target, now: u64) -> std::result::Result<QueryOutcome, ProviderError> {
    match target.method.provider() {
        Provider::Wechatpay => wechatpay::query(env, &target.out_trade_no, now).await,
        Provider::Alipay => alipay::query(env, &target.out_trade_no, now).await,
        Provider::Unionpay => unionpay::query(env, target, now).await,
    }
}

/// Closes `target` at its provider; when the provider says it cannot, queries it to learn whether
/// it was paid after all.
pub(crate) async fn close(env: &Env, target: &Target, now: u64) -> std::result::Result<CloseOutcome, ProviderError> {
    let closing = match target.method.provider() {
        Provider::Wechatpay => wechatpay::close(env, &target.out_trade_no, now).await?,
        Provider::Alipay => alipay::close(env, &target.out_trade_no, now).await?,
        Provider::Unionpay => return Ok(CloseOutcome::NothingToClose),
    };
    match closing {
        Closing::Closed => Ok(CloseOutcome::Closed),
        Closing::NotClosable => match query(env, target, now).await? {
            paid @ QueryOutcome::Paid { .. } => Ok(CloseOutcome::Paid(paid)),
            QueryOutcome::Ended => Ok(CloseOutcome::Closed),
            QueryOutcome::NotPaid => Err(ProviderError::Refused),
        },
    }
}

/// The session as `GET /v1/sessions/{id}` shows it: while it is `processing`, its pending attempts
/// are queried first (at most once every 3 s per session) and verified results applied.
pub(crate) async fn refresh(env: &Env, id: &SessionId, record: SessionRecord) -> Result<SessionRecord> {
    if record.session.status() != Status::Processing {
        return Ok(record);
    }
    let now_ms = crate::now_ms();
    let slot = serde_json::json!({ "op": "query_slot", "now_ms": now_ms });
    let answer = call_object(env, id, Method::Post, "/op", Some(slot.to_string())).await?;
    if answer.status != 200 {
        return Ok(record);
    }
    let targets: Vec<Target> = answer.json()?;
    let mut latest = record;
    for target in targets {
        let now = crate::now();
        let outcome = query(env, &target, now).await.map_err(error_code);
        let op = serde_json::json!({ "op": "query_result", "out_trade_no": target.out_trade_no, "outcome": outcome.as_ref().ok(),
            "error": outcome.as_ref().err(), "now": now });
        let applied = call_object(env, id, Method::Post, "/op", Some(op.to_string())).await?;
        if applied.status == 200 {
            latest = applied.json()?;
        }
    }
    Ok(latest)
}

// ---------------------------------------------------------------------------------------------
// Inside the session's Durable Object: the query rate limit, query results, the close queue and
// the alarm schedule (expiry, queries while processing, closes). No cron is needed: every session
// keeps its own alarm, so an overdue session expires and a stuck one is queried without a global
// list of sessions (which a Durable Object per session does not have).
// ---------------------------------------------------------------------------------------------

use payment_core::session::{AttemptStatus, Command};
use worker::Response;

use crate::audit::{self, Entry};
use crate::session_object::SessionObject;

/// Storage key: Unix milliseconds of the last round of queries.
const QUERIED_AT: &str = "queried_at";
/// Storage key: closes still to carry out.
pub(crate) const CLOSING: &str = "closing";
/// While processing, the alarm queries the pending attempts this many seconds after the latest one
/// started (callbacks normally arrive well before); then the expiry alarm takes over.
const QUERY_AFTER_SECS: [u64; 5] = [10, 30, 90, 300, 900];
/// A close that failed is tried again after 10 s, 20 s, 40 s…, this many times in all.
const CLOSE_TRIES: u32 = 6;

/// One close still to carry out.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct CloseTask {
    target: Target,
    tries: u32,
    next_at_ms: u64,
}

/// The attempts still waiting for payment.
fn pending(record: &SessionRecord) -> Vec<Target> {
    record.session.attempts().iter().filter(|a| a.status == AttemptStatus::Pending).map(Target::of).collect()
}

/// When the alarm next queries a processing session (Unix milliseconds).
fn next_query_ms(record: &SessionRecord, queried_at: u64) -> Option<u64> {
    if record.session.status() != Status::Processing {
        return None;
    }
    let started = record.session.attempts().iter().filter(|a| a.status == AttemptStatus::Pending).map(|a| a.started_at).max()?;
    QUERY_AFTER_SECS.iter().map(|s| (started + s) * 1000).find(|&t| t > queried_at.saturating_add(MIN_QUERY_INTERVAL_MS))
}

/// Sets the object's alarm to the earliest of what is already set and what this session needs:
/// its expiry while unpaid, the next query while processing, the next close.
pub(crate) async fn schedule(store: &Store, record: &SessionRecord) -> Result<()> {
    match needs_alarm_at(store, record).await? {
        Some(at) => store.alarm_by(at).await,
        None => Ok(()),
    }
}

/// When this session next needs the alarm, if it does: its expiry while unpaid, the next query
/// while processing, the next close (what [`schedule`] sets the alarm by).
pub(crate) async fn needs_alarm_at(store: &Store, record: &SessionRecord) -> Result<Option<u64>> {
    let queried_at: u64 = store.get(QUERIED_AT).await?.unwrap_or(0);
    let closing: Vec<CloseTask> = store.get(CLOSING).await?.unwrap_or_default();
    let unpaid = matches!(record.session.status(), Status::Open | Status::Processing);
    Ok([unpaid.then(|| record.session.expires_at() * 1000), next_query_ms(record, queried_at), closing.iter().map(|c| c.next_at_ms).min()]
        .into_iter()
        .flatten()
        .min())
}

/// What a transition writes besides the record and the outbox: its entries for the trail, and the
/// close queue with the attempts it closes (`None` when it closes none). The caller stores both in
/// the transition's one write, then calls [`schedule`].
pub(crate) async fn transition_notes(
    store: &Store,
    record: &SessionRecord,
    command: &'static str,
    subject: Option<OutTradeNo>,
    closes: Vec<(OutTradeNo, PaymentMethod)>,
    events: Vec<&'static str>,
) -> Result<(Vec<Entry>, Option<Vec<CloseTask>>)> {
    let attempt = subject.as_ref().and_then(|no| record.session.attempts().iter().find(|a| &a.out_trade_no == no));
    let mut entries = vec![match command {
        "start_attempt" => Entry::new("attempt.started", subject.as_ref(), attempt.map(|a| a.method.as_str().to_owned())),
        "paid" => Entry::new("attempt.paid", subject.as_ref(), attempt.map(|a| a.status.as_str().to_owned())),
        "attempt_failed" => Entry::new("attempt.failed", subject.as_ref(), None),
        "expire" => Entry::new("session.expired", None, None),
        other => Entry::new(other, subject.as_ref(), None),
    }];
    entries.extend(events.into_iter().map(|t| Entry::new("event.queued", None, Some(t.to_owned()))));
    if closes.is_empty() {
        return Ok((entries, None));
    }
    let mut closing: Vec<CloseTask> = store.get(CLOSING).await?.unwrap_or_default();
    for (out_trade_no, method) in closes {
        let started_at = record.session.attempts().iter().find(|a| a.out_trade_no == out_trade_no).map_or(0, |a| a.started_at);
        entries.push(Entry::new("close.queued", Some(&out_trade_no), Some(method.as_str().to_owned())));
        closing.push(CloseTask { target: Target { out_trade_no, method, started_at }, tries: 0, next_at_ms: crate::now_ms() });
    }
    Ok((entries, Some(closing)))
}

/// `query_slot`: the attempts to query now, or none when the session was queried less than 3 s
/// ago (or is not processing). Taking a slot counts as a query.
pub(crate) async fn slot_in_object(store: &Store, record: &SessionRecord, now_ms: u64) -> Result<Response> {
    let queried_at: u64 = store.get(QUERIED_AT).await?.unwrap_or(0);
    if record.session.status() != Status::Processing || now_ms < queried_at.saturating_add(MIN_QUERY_INTERVAL_MS) {
        return Response::from_json(&Vec::<Target>::new());
    }
    store.put(QUERIED_AT, &now_ms).await?;
    Response::from_json(&pending(record))
}

/// `query_result`: records a query's result and applies it (paid as a callback is; closed or
/// failed at the provider → the attempt failed, retryable).
pub(crate) async fn result_in_object(
    object: &SessionObject,
    record: SessionRecord,
    out_trade_no: OutTradeNo,
    outcome: std::result::Result<QueryOutcome, String>,
    now: u64,
) -> Result<Response> {
    let record = apply_result(object, record, &out_trade_no, outcome, now).await?;
    Response::from_json(&record)
}

async fn apply_result(
    object: &SessionObject,
    record: SessionRecord,
    out_trade_no: &OutTradeNo,
    outcome: std::result::Result<QueryOutcome, String>,
    now: u64,
) -> Result<SessionRecord> {
    let store = &object.store;
    let outcome = match outcome {
        Ok(outcome) => outcome,
        Err(error) => {
            audit::append(store, vec![Entry::new("query.failed", Some(out_trade_no), Some(error))]).await?;
            return Ok(record);
        }
    };
    audit::append(store, vec![Entry::new("query.result", Some(out_trade_no), Some(outcome.summary().to_owned()))]).await?;
    let command = match outcome {
        QueryOutcome::Paid { amount, provider_transaction_id, paid_at } => {
            Command::Paid { out_trade_no: out_trade_no.clone(), amount, provider_transaction_id, paid_at: paid_at.unwrap_or(now) }
        }
        QueryOutcome::Ended => Command::AttemptFailed { out_trade_no: out_trade_no.clone(), retryable: true, now },
        QueryOutcome::NotPaid => return Ok(record),
    };
    let refusal = record.session.apply(command.clone()).err().map(|e| audit::reason(&e));
    if let Some(reason) = refusal {
        audit::append(store, vec![Entry::new("query.refused", Some(out_trade_no), Some(reason))]).await?;
    }
    Ok(object.transition(record, command, now).await?.unwrap_or_else(|r| r))
}

/// The alarm's share of this module: due closes, then (while processing) a due round of queries,
/// then the next alarm. The caller has delivered due webhooks first.
pub(crate) async fn alarm_in_object(object: &SessionObject, env: &Env) -> Result<()> {
    let store = &object.store;
    let closing: Vec<CloseTask> = store.get(CLOSING).await?.unwrap_or_default();
    let processed = closing.len();
    let now = crate::now();
    let mut left = Vec::new();
    for mut task in closing {
        if task.next_at_ms > crate::now_ms() {
            left.push(task);
            continue;
        }
        let no = task.target.out_trade_no.clone();
        match close(env, &task.target, now).await {
            Ok(CloseOutcome::Closed) => audit::append(store, vec![Entry::new("close.done", Some(&no), None)]).await?,
            Ok(CloseOutcome::NothingToClose) => {
                audit::append(store, vec![Entry::new("close.nothing_to_close", Some(&no), None)]).await?;
            }
            Ok(CloseOutcome::Paid(paid)) => {
                audit::append(store, vec![Entry::new("close.found_paid", Some(&no), None)]).await?;
                if let Some(record) = object.load().await? {
                    apply_result(object, record, &no, Ok(paid), now).await?;
                }
            }
            Err(error) => {
                task.tries += 1;
                audit::append(store, vec![Entry::new("close.failed", Some(&no), Some(error_code(error).to_owned()))]).await?;
                if task.tries < CLOSE_TRIES && error != ProviderError::NotConfigured {
                    task.next_at_ms = crate::now_ms() + 10_000 * (1 << task.tries.min(10));
                    left.push(task);
                }
            }
        }
    }
    if processed > 0 {
        // Closes queued meanwhile (by a duplicate found above) stay queued.
        let queued: Vec<CloseTask> = store.get(CLOSING).await?.unwrap_or_default();
        left.extend(queued.into_iter().skip(processed));
        store.put(CLOSING, &left).await?;
    }

    // Loading expires an unpaid session past its expiry.
    let Some(mut record) = object.load().await? else {
        return Ok(());
    };
    let queried_at: u64 = store.get(QUERIED_AT).await?.unwrap_or(0);
    if next_query_ms(&record, queried_at).is_some_and(|t| t <= crate::now_ms()) {
        record = query_pending(object, env, record, "alarm.query").await?;
    }
    schedule(&object.store, &record).await
}

/// Queries every pending attempt of `record` now (recorded as `kind` in the trail) and applies
/// what the providers say.
async fn query_pending(object: &SessionObject, env: &Env, mut record: SessionRecord, kind: &str) -> Result<SessionRecord> {
    let store = &object.store;
    store.put(QUERIED_AT, &crate::now_ms()).await?;
    audit::append(store, vec![Entry::new(kind, None, None)]).await?;
    for target in pending(&record) {
        let outcome = query(env, &target, crate::now()).await.map_err(|e| error_code(e).to_owned());
        record = apply_result(object, record, &target.out_trade_no, outcome, crate::now()).await?;
    }
    Ok(record)
}

/// The cron sweep's visit (see [`crate::sweep`]): a session still processing is queried at its
/// providers now (unless it was queried in the last 3 s); expiry happened on loading; the alarm
/// is set again from what the session needs, in case it was lost.
pub(crate) async fn sweep_in_object(object: &SessionObject, env: &Env, record: SessionRecord) -> Result<SessionRecord> {
    let queried_at: u64 = object.store.get(QUERIED_AT).await?.unwrap_or(0);
    let due = record.session.status() == Status::Processing && crate::now_ms() >= queried_at.saturating_add(MIN_QUERY_INTERVAL_MS);
    let record = if due { query_pending(object, env, record, "sweep.query").await? } else { record };
    schedule(&object.store, &record).await?;
    Ok(record)
}
