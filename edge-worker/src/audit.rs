//! The audit trail of a session: an append-only list kept in the session's Durable Object, next
//! to the record it explains — created, attempts started, the providers' answers (a summary: never
//! a body, a signature or a payer's id), callbacks accepted or refused and why, active query
//! results, closes, events queued, webhook deliveries and their acknowledgement, the alarms.
//!
//! `GET /v1/sessions/{id}/events` (merchant, `Authorization: Bearer MERCHANT_API_KEY`) reads it.
//!
//! Callbacks refused before they reach the state machine (signature not verified, another
//! merchant, another currency) are recorded when their order number names an existing session,
//! as `callback.refused` with the reason. A callback that does not verify names its session only on
//! its own word, so such entries are capped ([`MAX_UNCHECKED`] per session) and only ever add a
//! fixed reason word: a forger cannot fill a trail or write into it. One with no valid
//! `out_trade_no`, or a WeChat Pay callback that does not verify (its order number is encrypted),
//! names no session and leaves no trace here.

use payment_core::ids::{OutTradeNo, SessionId};
use serde::{Deserialize, Serialize};
use worker::{Method, Response, Result};

use crate::config::Config;
use crate::error::ApiError;
use crate::incoming::Incoming;
use crate::route::RouteContext;
use crate::sessions::call_object;
use crate::stored::Store;

/// The storage key of the trail in the session's Durable Object.
pub(crate) const KEY: &str = "audit";
/// At most this many entries; then one `audit.truncated` entry and nothing more (a Durable Object
/// value holds 128 KiB).
const LIMIT: usize = 400;

/// One thing that happened to a session.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Entry {
    /// Unix milliseconds.
    pub(crate) at_ms: u64,
    /// What, e.g. `attempt.started`, `callback.refused`, `query.result`, `webhook.delivery`.
    pub(crate) kind: String,
    /// The attempt it is about, if any (edgepay's own order number, never a payer's id).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) out_trade_no: Option<String>,
    /// A short fixed word or phrase: a method, a status, a reason, an HTTP status.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) detail: Option<String>,
}

impl Entry {
    /// An entry stamped now.
    pub(crate) fn new(kind: &str, out_trade_no: Option<&OutTradeNo>, detail: Option<String>) -> Self {
        Self {
            at_ms: crate::now_ms(),
            kind: kind.to_owned(),
            out_trade_no: out_trade_no.map(|n| n.as_str().to_owned()),
            detail,
        }
    }
}

/// Appends `entries` to the trail in `store`.
pub(crate) async fn append(store: &Store, entries: Vec<Entry>) -> Result<()> {
    match appended(store, entries).await? {
        Some(trail) => store.put(KEY, &trail).await,
        None => Ok(()),
    }
}

/// The trail in `store` with `entries` appended, for a caller that stores it (under [`KEY`]) in
/// its own write; `None` when there is nothing to write.
pub(crate) async fn appended(store: &Store, entries: Vec<Entry>) -> Result<Option<Vec<Entry>>> {
    if entries.is_empty() {
        return Ok(None);
    }
    let mut trail: Vec<Entry> = store.get(KEY).await?.unwrap_or_default();
    if trail.len() > LIMIT {
        return Ok(None);
    }
    trail.extend(entries);
    if trail.len() > LIMIT {
        trail.truncate(LIMIT);
        trail.push(Entry::new("audit.truncated", None, None));
    }
    Ok(Some(trail))
}

/// At most this many entries recorded on a callback's own word (see the module's documentation).
const MAX_UNCHECKED: usize = 20;

/// Records `entry`, written on the word of a request that did not verify, unless the session
/// already has [`MAX_UNCHECKED`] such entries (the Durable Object's `audit` op).
pub(crate) async fn unchecked_in_object(store: &Store, entry: Entry) -> Result<()> {
    let trail: Vec<Entry> = store.get(KEY).await?.unwrap_or_default();
    let unchecked = trail.iter().filter(|e| e.kind == entry.kind && e.detail.as_deref() == Some("unverified")).count();
    if entry.detail.as_deref() == Some("unverified") && unchecked >= MAX_UNCHECKED {
        return Ok(());
    }
    append(store, vec![entry]).await
}

/// Adds one entry to the trail of the existing session `session` (nothing when there is none).
pub(crate) async fn record(env: &worker::Env, session: &SessionId, kind: &str, out_trade_no: Option<&OutTradeNo>, detail: &str) -> Result<()> {
    let op = serde_json::json!({ "op": "audit", "kind": kind, "out_trade_no": out_trade_no, "detail": detail });
    call_object(env, session, Method::Post, "/op", Some(op.to_string())).await?;
    Ok(())
}

/// The whole trail.
pub(crate) async fn read(store: &Store) -> Result<Vec<Entry>> {
    Ok(store.get(KEY).await?.unwrap_or_default())
}

/// `GET /v1/sessions/{id}/events`: the session's audit trail, for the merchant's backend, with
/// the time of the session's next alarm (`alarm_at`, Unix milliseconds, or `null`).
pub(crate) async fn events(req: Incoming, ctx: RouteContext<Config>) -> Result<Response> {
    if let Err(e) = crate::sessions::authorize_merchant(&req, &ctx.data) {
        return e.into_response();
    }
    let Some(id) = ctx.param("id").and_then(|id| SessionId::new(id.as_str()).ok()) else {
        return ApiError::SessionNotFound.into_response();
    };
    let stored = call_object(&ctx.env, &id, Method::Get, "/audit", None).await?;
    if stored.status == 404 {
        return ApiError::SessionNotFound.into_response();
    }
    let body: serde_json::Value = stored.json()?;
    let mut response = Response::from_json(&body)?;
    response.headers_mut().set("Cache-Control", "no-store")?;
    Ok(response)
}

/// `GET /audit` inside the Durable Object: the trail and the next alarm.
pub(crate) async fn in_object(store: &Store) -> Result<Response> {
    let trail = read(store).await?;
    let alarm_at = store.alarm().await?;
    Response::from_json(&serde_json::json!({ "events": trail, "alarm_at": alarm_at }))
}

/// The attempt a command is about, if any.
pub(crate) fn subject(command: &payment_core::session::Command) -> Option<OutTradeNo> {
    use payment_core::session::Command;
    match command {
        Command::StartAttempt { out_trade_no, .. } | Command::AttemptFailed { out_trade_no, .. } | Command::Paid { out_trade_no, .. } => {
            Some(out_trade_no.clone())
        }
        _ => None,
    }
}

/// Why the state machine refused something, in a stable word or two (never a value).
pub(crate) fn reason(error: &payment_core::Error) -> String {
    match error {
        payment_core::Error::Mismatch { field: "out_trade_no" } => "unknown_attempt".to_owned(),
        payment_core::Error::Mismatch { field } => format!("{field}_mismatch"),
        payment_core::Error::InvalidId { .. } => "order_number_reused".to_owned(),
        payment_core::Error::IllegalTransition { from, .. } => format!("not_allowed_when_{from}"),
        other => other.code().to_owned(),
    }
}

/// One webhook delivery attempt of `event`: its type and the HTTP status (0: no answer).
pub(crate) fn delivery(event: &payment_core::event::Event, status: u16) -> Entry {
    let kind = if (200..300).contains(&status) { "webhook.acknowledged" } else { "webhook.attempt_failed" };
    Entry::new(kind, None, Some(format!("{} {status}", event.event_type().as_str())))
}
