//! Duplicate payments: a second attempt paid, or a payment that arrives after the session ended.
//! payment-core marks the attempt `duplicate`, emits `payment.duplicate` and asks for
//! [`Effect::RefundPayment`](payment_core::session::Effect::RefundPayment); this module carries the
//! refund out — in full, through the providers' refund code, from the session's alarm, retried
//! with backoff while the provider does not answer, every step in the audit trail.
//!
//! The refund number is derived from the duplicate's order number (`RD` + its 30 characters after
//! `EP`: 32 alphanumerics, valid at every provider), so a retry never refunds twice and a refund
//! callback leads back to its session.

use payment_core::event::PaymentSummary;
use payment_core::ids::{OutRefundNo, OutTradeNo, SessionId};
use payment_core::money::Amount;
use serde::{Deserialize, Serialize};
use worker::{Env, Response, Result};

use crate::audit::{self, Entry};
use crate::providers::ProviderError;
use crate::providers::refund::{submit, RefundOrder, Submitted};
use crate::session_object::SessionObject;
use crate::stored::Store;

/// Storage key of the duplicate refunds in the session's Durable Object.
const KEY: &str = "duplicate_refunds";
/// Tries while the provider does not answer: after 10 s, 20 s, 40 s… (about 3 hours in all).
const TRIES: u32 = 10;
/// Shown to the payer.
const REASON: &str = "duplicate payment";

/// Where one duplicate's refund is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum Stage {
    /// Still to submit (at `next_at_ms`).
    Queued,
    /// Taken by the provider; its outcome comes by callback.
    Submitted,
    /// The money went back.
    Refunded,
    /// Refused by the provider, or never taken: an operator must look.
    Failed,
}

impl Stage {
    fn as_str(self) -> &'static str {
        match self {
            Self::Queued => "queued",
            Self::Submitted => "submitted",
            Self::Refunded => "refunded",
            Self::Failed => "failed",
        }
    }
}

/// The refund of one duplicate payment.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Task {
    out_refund_no: OutRefundNo,
    payment: PaymentSummary,
    amount: Amount,
    stage: Stage,
    tries: u32,
    next_at_ms: u64,
    /// When it was queued (Unix seconds; 0 in tasks stored before this field): every submission
    /// carries it (see [`RefundOrder::requested_at`]).
    #[serde(default)]
    queued_at: u64,
}

/// The refund number of the duplicate `out_trade_no`.
pub(crate) fn refund_number(out_trade_no: &OutTradeNo) -> Option<OutRefundNo> {
    let no = out_trade_no.as_str();
    if no.len() != 32 || !no.starts_with("EP") {
        return None;
    }
    OutRefundNo::new(format!("RD{}", no.get(2..)?)).ok()
}

/// The session of a duplicate's refund number, if `no` is one.
pub(crate) fn session_of_refund(no: &str) -> Option<SessionId> {
    if no.len() != 32 || !no.starts_with("RD") {
        return None;
    }
    crate::providers::session_of(&OutTradeNo::new(format!("EP{}", no.get(2..)?)).ok()?)
}

/// In the session's Durable Object, right after the transition that found the duplicates is
/// stored: queues their refunds (once each) and makes sure the alarm comes at once.
pub(crate) async fn queue_in_object(store: &Store, refunds: Vec<(PaymentSummary, Amount)>) -> Result<()> {
    if refunds.is_empty() {
        return Ok(());
    }
    let mut tasks: Vec<Task> = store.get(KEY).await?.unwrap_or_default();
    let mut entries = Vec::new();
    for (payment, amount) in refunds {
        let Some(out_refund_no) = refund_number(&payment.out_trade_no) else {
            entries.push(Entry::new("duplicate.refund_failed", Some(&payment.out_trade_no), Some("no_refund_number".to_owned())));
            continue;
        };
        if tasks.iter().any(|t| t.out_refund_no == out_refund_no) {
            continue;
        }
        entries.push(Entry::new("duplicate.refund_queued", Some(&payment.out_trade_no), Some(payment.method.as_str().to_owned())));
        tasks.push(Task { out_refund_no, payment, amount, stage: Stage::Queued, tries: 0, next_at_ms: crate::now_ms(), queued_at: crate::now() });
    }
    store.put(KEY, &tasks).await?;
    audit::append(store, entries).await?;
    store.alarm_by(crate::now_ms()).await
}

/// The alarm's share: submits the due refunds, then makes sure the alarm comes back for the ones
/// still to retry. Runs after the other alarm work, so it only ever brings the alarm forward.
pub(crate) async fn alarm_in_object(object: &SessionObject, env: &Env) -> Result<()> {
    let store = &object.store;
    let mut tasks: Vec<Task> = store.get(KEY).await?.unwrap_or_default();
    if !tasks.iter().any(|t| t.stage == Stage::Queued) {
        return Ok(());
    }
    let mut entries = Vec::new();
    for task in tasks.iter_mut().filter(|t| t.stage == Stage::Queued && t.next_at_ms <= crate::now_ms()) {
        let order = RefundOrder {
            out_refund_no: &task.out_refund_no,
            payment: &task.payment,
            amount: task.amount,
            total: task.amount,
            reason: Some(REASON),
            now: crate::now(),
            requested_at: task.queued_at,
        };
        let no = &task.payment.out_trade_no;
        match submit(env, &order).await {
            Ok(Submitted::Succeeded) => task.stage = Stage::Refunded,
            Ok(Submitted::Pending) => task.stage = Stage::Submitted,
            Ok(Submitted::Failed) | Err(ProviderError::Refused | ProviderError::MissingContext(_)) => task.stage = Stage::Failed,
            Err(error) => {
                task.tries += 1;
                entries.push(Entry::new("duplicate.refund_retry", Some(no), Some(crate::providers::query::error_code(error).to_owned())));
                if task.tries >= TRIES || error == ProviderError::NotConfigured {
                    task.stage = Stage::Failed;
                } else {
                    task.next_at_ms = crate::now_ms() + 10_000 * (1 << task.tries.min(10));
                    continue;
                }
            }
        }
        entries.push(Entry::new(&format!("duplicate.refund_{}", task.stage.as_str()), Some(no), None));
    }
    store.put(KEY, &tasks).await?;
    audit::append(store, entries).await?;
    if let Some(next) = tasks.iter().filter(|t| t.stage == Stage::Queued).map(|t| t.next_at_ms).min() {
        let existing = store.alarm().await?;
        if existing.is_none_or(|at| at > next || at <= crate::now_ms()) {
            store.set_alarm_at(next).await?;
        }
    }
    Ok(())
}

/// `duplicate_refund_outcome` in the session's Durable Object: a provider's callback says how a
/// submitted duplicate refund ended. `200` when it is one of this session's (recorded once).
pub(crate) async fn outcome_in_object(store: &Store, out_refund_no: &OutRefundNo, succeeded: bool) -> Result<Response> {
    let mut tasks: Vec<Task> = store.get(KEY).await?.unwrap_or_default();
    let Some(task) = tasks.iter_mut().find(|t| &t.out_refund_no == out_refund_no) else {
        return Ok(Response::empty()?.with_status(404));
    };
    if matches!(task.stage, Stage::Queued | Stage::Submitted) {
        task.stage = if succeeded { Stage::Refunded } else { Stage::Failed };
        let entry = Entry::new(&format!("duplicate.refund_{}", task.stage.as_str()), Some(&task.payment.out_trade_no), Some("callback".to_owned()));
        store.put(KEY, &tasks).await?;
        audit::append(store, vec![entry]).await?;
    }
    Response::empty()
}
