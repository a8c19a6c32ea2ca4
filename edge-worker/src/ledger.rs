//! The ledger: one row per session created and per transition of a session (attempt started,
//! failed, paid, expired, refund requested/succeeded/failed), in D1 (binding `LEDGER`), for
//! listing and for reconciliation against the providers' statements.
//!
//! The session's Durable Object stays the source of truth. Each transition stores its ledger rows
//! with the new state (one write, see [`crate::session_object::SessionObject::transition`]); the
//! object's alarm copies them to D1 in one batch ([`flush`]) — the alarm that delivers the webhook
//! of a payment, or one set [`COPY_WITHIN_MS`] ahead — so a pay or a callback does not wait for D1.
//! A new session's row is copied right after its creation (`waitUntil`). A copy that fails is
//! tried again by the alarm; rows carry a unique key, so a repeated copy inserts nothing twice. Without the binding the worker runs without a ledger (`/v1/health`
//! says so) and keeps no rows.
//!
//! `GET /v1/ledger` (merchant, `Authorization: Bearer MERCHANT_API_KEY`) lists rows in order:
//! `?limit=` (1–500, default 100), `?cursor=` (the `next_cursor` of the previous page),
//! `?session_id=`.

use std::cell::Cell;

use payment_core::ids::SessionId;
use payment_core::session::{Command, Session};
use serde::{Deserialize, Serialize};
use wasm_bindgen::JsValue;
use worker::{D1Database, Env, Response, Result};

use crate::config::Config;
use crate::error::ApiError;
use crate::incoming::Incoming;
use crate::route::RouteContext;
use crate::stored::Store;

/// The binding's name.
pub(crate) const BINDING: &str = "LEDGER";
/// Rows waiting to be copied, in the session's object.
pub(crate) const PENDING: &str = "ledger_pending";
/// The schema, as `edge-worker/migrations/0001_ledger.sql` has it (one statement a line).
const SCHEMA: &str = "CREATE TABLE IF NOT EXISTS ledger (seq INTEGER PRIMARY KEY AUTOINCREMENT, row_key TEXT NOT NULL UNIQUE, at_ms INTEGER NOT NULL, session_id TEXT NOT NULL, attempt TEXT, kind TEXT NOT NULL, status TEXT NOT NULL, amount INTEGER, detail TEXT);\nCREATE INDEX IF NOT EXISTS ledger_session ON ledger (session_id, seq);";
const INSERT: &str =
    "INSERT OR IGNORE INTO ledger (row_key, at_ms, session_id, attempt, kind, status, amount, detail) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)";
/// Rows reach D1 at most this long after their transition (the alarm is brought forward to it).
pub(crate) const COPY_WITHIN_MS: u64 = 10_000;
/// A new session's row reaches D1 this soon (the cron sweep finds sessions by the ledger): by the
/// alarm, not in the request that created it, while the merchant's page that asked is loading.
pub(crate) const COPY_CREATED_WITHIN_MS: u64 = 1_000;
/// At most this many pending rows per session (a session has a few dozen transitions at most).
const MAX_PENDING: usize = 500;

thread_local! {
    /// Whether this isolate made sure the table exists.
    static SCHEMA_READY: Cell<bool> = const { Cell::new(false) };
}

/// One ledger row.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Row {
    /// Unique per row (random), so that a repeated copy inserts nothing.
    key: String,
    at_ms: u64,
    session_id: String,
    /// The attempt's order number or the refund's number, if the row is about one.
    attempt: Option<String>,
    /// `session.created`, or the transition's command (`start_attempt`, `paid`, `expire`, …).
    kind: String,
    /// The session's status after it.
    status: String,
    /// Fen: the session's amount when created, the amount paid or refunded.
    amount: Option<u64>,
    /// The method of an attempt; for a failure whether it may be retried.
    detail: Option<String>,
}

/// Whether this worker keeps a ledger.
pub(crate) fn configured(env: &Env) -> bool {
    env.d1(BINDING).is_ok()
}

fn row(session: &Session, kind: &str, attempt: Option<String>, amount: Option<u64>, detail: Option<String>) -> Result<Row> {
    let random = crate::webcrypto::random_bytes::<12>().map_err(|_| worker::Error::RustError("random".into()))?;
    let key = random.iter().map(|b| format!("{b:02x}")).collect();
    Ok(Row {
        key,
        at_ms: crate::now_ms(),
        session_id: session.id().as_str().to_owned(),
        attempt,
        kind: kind.to_owned(),
        status: session.status().as_str().to_owned(),
        amount,
        detail,
    })
}

/// The row of a session just created.
pub(crate) fn created(session: &Session) -> Result<Row> {
    row(session, "session.created", None, Some(session.amount().fen()), None)
}

/// The row of `command`, applied: `session` is the state after it.
pub(crate) fn transition(session: &Session, command: &Command) -> Result<Row> {
    let (attempt, amount, detail) = match command {
        Command::StartAttempt { out_trade_no, method, .. } => (Some(out_trade_no.as_str().to_owned()), None, Some(method.as_str().to_owned())),
        Command::AttemptFailed { out_trade_no, retryable, .. } => {
            (Some(out_trade_no.as_str().to_owned()), None, Some(if *retryable { "retryable" } else { "final" }.to_owned()))
        }
        Command::Paid { out_trade_no, amount, .. } => (Some(out_trade_no.as_str().to_owned()), Some(amount.fen()), None),
        Command::RequestRefund { out_refund_no, amount, .. } => (Some(out_refund_no.as_str().to_owned()), Some(amount.fen()), None),
        Command::RefundSucceeded { out_refund_no } | Command::RefundFailed { out_refund_no } => (Some(out_refund_no.as_str().to_owned()), None, None),
        Command::Expire { .. } | Command::Close => (None, None, None),
    };
    row(session, command.name(), attempt, amount, detail)
}

/// Adds `rows` to the session's pending rows (the caller stores them with the transition).
pub(crate) async fn pending_with(store: &Store, env: &Env, rows: Vec<Row>) -> Result<Option<Vec<Row>>> {
    if rows.is_empty() || !configured(env) {
        return Ok(None);
    }
    let mut pending: Vec<Row> = store.get(PENDING).await?.unwrap_or_default();
    pending.extend(rows);
    if pending.len() > MAX_PENDING {
        // D1 has been unreachable for a long time: keep the newest (the object keeps the truth).
        let excess = pending.len() - MAX_PENDING;
        pending.drain(..excess);
    }
    Ok(Some(pending))
}


/// Makes sure the object's alarm rings within `within_ms` (a new session's object sets its alarm
/// by [`COPY_CREATED_WITHIN_MS`] with its first write instead).
pub(crate) async fn alarm_within(store: &Store, within_ms: u64) -> Result<()> {
    store.alarm_by(crate::now_ms() + within_ms).await
}

pub(crate) async fn ensure_schema(db: &D1Database) -> Result<()> {
    if SCHEMA_READY.with(Cell::get) {
        return Ok(());
    }
    db.exec(SCHEMA).await?;
    SCHEMA_READY.with(|ready| ready.set(true));
    Ok(())
}

fn opt<T: Into<JsValue>>(value: Option<T>) -> JsValue {
    value.map_or(JsValue::NULL, Into::into)
}

/// Copies the session's pending rows to D1, then forgets those. On failure they stay, and the
/// object's alarm is brought forward to try again within a minute.
pub(crate) async fn flush(store: &Store, env: &Env) -> Result<()> {
    let copied = copy_pending(store, env).await;
    if copied.is_err() {
        retry_soon(store).await?;
    }
    store.flush().await?;
    copied
}

/// Copies the session's pending rows to D1 and *stages* forgetting them (see [`crate::stored`]):
/// the object's next write carries it. Lost with the instance, it costs a second copy that
/// inserts nothing (rows have unique keys). On failure the rows stay (see [`retry_soon`]).
pub(crate) async fn copy_pending(store: &Store, env: &Env) -> Result<()> {
    let Ok(db) = env.d1(BINDING) else {
        return Ok(());
    };
    let pending: Vec<Row> = store.get(PENDING).await?.unwrap_or_default();
    if pending.is_empty() {
        return Ok(());
    }
    copy(&db, &pending).await?;
    // Rows added while the copy ran stay for the next one.
    let mut now_pending: Vec<Row> = store.get(PENDING).await?.unwrap_or_default();
    now_pending.retain(|r| !pending.iter().any(|done| done.key == r.key));
    store.stage(&[(PENDING, crate::stored::text(&now_pending)?)]);
    Ok(())
}

/// Makes sure the alarm rings within [`COPY_WITHIN_MS`] when rows wait to be copied.
pub(crate) async fn alarm_if_pending(store: &Store) -> Result<()> {
    let pending: Vec<Row> = store.get(PENDING).await?.unwrap_or_default();
    if pending.is_empty() {
        return Ok(());
    }
    alarm_within(store, COPY_WITHIN_MS).await
}

/// After a failed copy: the alarm comes back within a minute to try again.
pub(crate) async fn retry_soon(store: &Store) -> Result<()> {
    store.alarm_by(crate::now_ms() + 60_000).await
}

async fn copy(db: &D1Database, rows: &[Row]) -> Result<()> {
    ensure_schema(db).await?;
    let mut statements = Vec::with_capacity(rows.len());
    for r in rows {
        let values = [
            JsValue::from_str(&r.key),
            JsValue::from_f64(r.at_ms as f64),
            JsValue::from_str(&r.session_id),
            opt(r.attempt.as_deref()),
            JsValue::from_str(&r.kind),
            JsValue::from_str(&r.status),
            opt(r.amount.map(|a| a as f64)),
            opt(r.detail.as_deref()),
        ];
        statements.push(db.prepare(INSERT).bind(&values)?);
    }
    db.batch(statements).await?;
    Ok(())
}

/// A row as `GET /v1/ledger` answers it.
#[derive(Debug, Serialize, Deserialize)]
struct Listed {
    seq: u64,
    /// Unix milliseconds.
    at: u64,
    session_id: String,
    attempt_id: Option<String>,
    kind: String,
    status: String,
    amount: Option<u64>,
    detail: Option<String>,
}

/// `GET /v1/ledger`.
pub(crate) async fn list(req: Incoming, ctx: RouteContext<Config>) -> Result<Response> {
    if let Err(e) = crate::sessions::authorize_merchant(&req, &ctx.data) {
        return e.into_response();
    }
    let Ok(db) = ctx.env.d1(BINDING) else {
        return ApiError::NotConfigured.into_response();
    };
    let url = req.url()?;
    let (mut limit, mut cursor, mut session) = (100_u64, 0_u64, None);
    for (name, value) in url.query_pairs() {
        match name.as_ref() {
            "limit" => match value.parse::<u64>() {
                Ok(n @ 1..=500) => limit = n,
                _ => return ApiError::InvalidRequest("limit must be an integer from 1 to 500.").into_response(),
            },
            "cursor" => match value.parse::<u64>() {
                Ok(n) => cursor = n,
                Err(_) => return ApiError::InvalidRequest("cursor must be the next_cursor of a previous page.").into_response(),
            },
            "session_id" => match SessionId::new(value.as_ref()) {
                Ok(id) => session = Some(id),
                Err(_) => return ApiError::InvalidRequest("session_id must be a checkout session id (cs_…).").into_response(),
            },
            _ => return ApiError::InvalidRequest("The ledger takes limit, cursor and session_id only.").into_response(),
        }
    }
    ensure_schema(&db).await?;
    let columns = "SELECT seq, at_ms AS at, session_id, attempt AS attempt_id, kind, status, amount, detail FROM ledger WHERE seq > ?1";
    #[allow(clippy::cast_precision_loss)] // sequence numbers and limits are far below 2^53
    let statement = match &session {
        Some(id) => db
            .prepare(format!("{columns} AND session_id = ?2 ORDER BY seq LIMIT ?3"))
            .bind(&[JsValue::from_f64(cursor as f64), JsValue::from_str(id.as_str()), JsValue::from_f64(limit as f64)])?,
        None => db.prepare(format!("{columns} ORDER BY seq LIMIT ?2")).bind(&[JsValue::from_f64(cursor as f64), JsValue::from_f64(limit as f64)])?,
    };
    let entries: Vec<Listed> = statement.all().await?.results()?;
    let full = u64::try_from(entries.len()).unwrap_or(u64::MAX) == limit;
    let next_cursor = if full { entries.last().map(|e| e.seq.to_string()) } else { None };
    let mut response = Response::from_json(&serde_json::json!({ "entries": entries, "next_cursor": next_cursor }))?;
    response.headers_mut().set("Cache-Control", "no-store")?;
    Ok(response)
}
