//! `POST /v1/refunds`: the merchant's backend refunds (part of) a paid session.
//!
//! The session's Durable Object stores the request first (payment-core's `RequestRefund`: bounded
//! by what was paid and not yet refunded, pending refunds included), then this handler submits it
//! to the provider. Idempotent by `refund_id` within a session: the same body again answers the
//! same refund (and submits it again while the provider never took it); another body is a 409.

use std::collections::BTreeMap;

use base64::Engine as _;
use payment_core::ids::{OutRefundNo, SessionId};
use payment_core::money::Amount;
use payment_core::session::{Attempt as CoreAttempt, Command, RefundStatus, Status};
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};
use worker::{Env, Method, Response, Result};

use crate::config::Config;
use crate::error::ApiError;
use crate::incoming::Incoming;
use crate::providers::ProviderError;
use crate::providers::refund::{refund_number, submit, RefundOrder, Submitted};
use crate::route::RouteContext;
use crate::session_object::{SessionObject, SessionRecord};
use crate::sessions::call_object;
use crate::stored::Store;

/// Where the object keeps the merchant's refund requests, by `refund_id`.
const REFUND_REQUESTS: &str = "refund_requests";
/// The longest `reason` (WeChat Pay's limit, the smallest of the three).
const MAX_REASON_CHARS: usize = 80;

/// A merchant's refund request, as the session's Durable Object stores it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct RefundRequestEntry {
    /// The merchant's id of the refund.
    pub(crate) refund_id: String,
    /// The refund's number at the provider (derived from the session and `refund_id`).
    pub(crate) out_refund_no: OutRefundNo,
    /// How much.
    pub(crate) amount: Amount,
    /// Shown to the payer.
    pub(crate) reason: Option<String>,
    /// SHA-256 of the validated request: a retry from a conflicting reuse.
    pub(crate) request_hash: String,
    /// Whether the provider took it (its outcome comes later, by callback).
    #[serde(default)]
    pub(crate) submitted: bool,
    /// When it was first asked for (Unix seconds; 0 in entries stored before this field): every
    /// submission of it carries this time, so UnionPay can find it by `orderId` + `txnTime`.
    #[serde(default)]
    pub(crate) requested_at: u64,
}

/// The object's answer to `request_refund`.
#[derive(Debug, Serialize, Deserialize)]
struct ObjectAnswer {
    record: SessionRecord,
    entry: RefundRequestEntry,
}

fn refused(body: serde_json::Value) -> Result<Response> {
    Ok(Response::from_json(&body)?.with_status(409))
}

/// In the session's Durable Object: records the refund (201), answers a replay (200) or refuses
/// (409 `{"refused": "idempotency_conflict" | "not_refundable" | "amount" | "refund_refused"}`).
pub(crate) async fn request_in_object(object: &SessionObject, record: SessionRecord, request: RefundRequestEntry, now: u64) -> Result<Response> {
    let store = &object.store;
    let mut entries: BTreeMap<String, RefundRequestEntry> = store.get(REFUND_REQUESTS).await?.unwrap_or_default();
    if let Some(existing) = entries.get(&request.refund_id) {
        if existing.request_hash != request.request_hash {
            return refused(serde_json::json!({ "refused": "idempotency_conflict" }));
        }
        return Response::from_json(&ObjectAnswer { record, entry: existing.clone() });
    }
    let session = &record.session;
    if !matches!(session.status(), Status::Paid | Status::PartiallyRefunded) {
        return refused(serde_json::json!({ "refused": "not_refundable", "status": session.status().as_str() }));
    }
    if request.amount > session.refundable() {
        return refused(serde_json::json!({ "refused": "amount", "refundable": session.refundable().fen() }));
    }
    let command = Command::RequestRefund { out_refund_no: request.out_refund_no.clone(), amount: request.amount, now };
    match object.transition(record, command, now).await? {
        Ok(record) => {
            entries.insert(request.refund_id.clone(), request.clone());
            store.put(REFUND_REQUESTS, &entries).await?;
            Ok(Response::from_json(&ObjectAnswer { record, entry: request })?.with_status(201))
        }
        Err(_) => refused(serde_json::json!({ "refused": "refund_refused" })),
    }
}

/// In the session's Durable Object: the provider took the refund `refund_id`.
pub(crate) async fn submitted_in_object(store: &Store, refund_id: &str) -> Result<Response> {
    let mut entries: BTreeMap<String, RefundRequestEntry> = store.get(REFUND_REQUESTS).await?.unwrap_or_default();
    if let Some(entry) = entries.get_mut(refund_id) {
        entry.submitted = true;
        store.put(REFUND_REQUESTS, &entries).await?;
    }
    Response::empty()
}

/// The body of `POST /v1/refunds`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CreateRefund {
    session_id: String,
    refund_id: String,
    amount: serde_json::Value,
    #[serde(default)]
    reason: Option<String>,
}

/// The validated request, in the canonical form that is hashed.
#[derive(Debug, Serialize)]
struct Validated {
    session_id: SessionId,
    refund_id: String,
    amount: Amount,
    reason: Option<String>,
}

fn validate(body: CreateRefund) -> std::result::Result<Validated, ApiError> {
    use ApiError::InvalidRequest as Invalid;
    let session_id = SessionId::new(body.session_id).map_err(|_| Invalid("session_id must be a checkout session id (cs_…)."))?;
    // The provider alphabet, so that a merchant's id is never silently changed.
    OutRefundNo::new(body.refund_id.as_str()).map_err(|_| Invalid("refund_id must be 1–64 letters, digits or _-|*@."))?;
    let fen = body.amount.as_u64().filter(|fen| *fen > 0).ok_or(Invalid("amount must be an integer number of fen greater than 0."))?;
    let amount = Amount::from_fen(fen).map_err(|_| Invalid("amount is above the largest payment the providers accept."))?;
    let reason = body.reason.map(|r| r.trim().to_owned()).filter(|r| !r.is_empty());
    if reason.as_ref().is_some_and(|r| r.chars().count() > MAX_REASON_CHARS || r.chars().any(char::is_control) || r.contains(['/', '=', '&'])) {
        return Err(Invalid("reason must be at most 80 characters, without control characters or / = &."));
    }
    Ok(Validated { session_id, refund_id: body.refund_id, amount, reason })
}

/// The refund's status in `record`.
fn status_of(record: &SessionRecord, out_refund_no: &OutRefundNo) -> Option<RefundStatus> {
    record.session.refunds().iter().find(|r| &r.out_refund_no == out_refund_no).map(|r| r.status)
}

/// Sends a refund op to the session's object; the record after it, when it answered one.
async fn refund_op(env: &Env, session: &SessionId, op: serde_json::Value) -> Result<Option<SessionRecord>> {
    let response = call_object(env, session, Method::Post, "/op", Some(op.to_string())).await?;
    if response.status != 200 {
        return Ok(None);
    }
    Ok(response.json::<SessionRecord>().ok())
}

/// Records a provider's verdict on a refund (callbacks and synchronous answers alike); `true`
/// when the session took it (or already had it).
pub(crate) async fn record_outcome(env: &Env, session: &SessionId, out_refund_no: &OutRefundNo, succeeded: bool) -> Result<bool> {
    let op = if succeeded { "refund_succeeded" } else { "refund_failed" };
    let body = serde_json::json!({ "op": op, "out_refund_no": out_refund_no, "now": crate::now() });
    Ok(refund_op(env, session, body).await?.is_some())
}

/// Submits a pending refund to the provider of the paid attempt and records what it says. The
/// refund's status after it, or the error to answer (it stays pending: retry with the same body).
async fn submit_pending(env: &Env, record: &SessionRecord, entry: &RefundRequestEntry) -> Result<std::result::Result<RefundStatus, ApiError>> {
    let session = &record.session;
    let Some(payment) = session.paid_attempt().and_then(CoreAttempt::payment) else {
        return Ok(Err(ApiError::Internal));
    };
    let order = RefundOrder {
        out_refund_no: &entry.out_refund_no,
        payment: &payment,
        amount: entry.amount,
        total: session.amount(),
        reason: entry.reason.as_deref(),
        now: crate::now(),
        requested_at: entry.requested_at,
    };
    let outcome = submit(env, &order).await;
    let id = session.id();
    let verdict = match outcome {
        Ok(Submitted::Succeeded) => Some(true),
        Ok(Submitted::Failed) | Err(ProviderError::Refused) | Err(ProviderError::MissingContext(_)) => Some(false),
        Ok(Submitted::Pending) => {
            let op = serde_json::json!({ "op": "refund_submitted", "refund_id": entry.refund_id });
            call_object(env, id, Method::Post, "/op", Some(op.to_string())).await?;
            return Ok(Ok(RefundStatus::Pending));
        }
        Err(ProviderError::NotConfigured) => return Ok(Err(ApiError::ProviderNotConfigured)),
        Err(ProviderError::Unavailable) => return Ok(Err(ApiError::RefundProviderUnavailable)),
    };
    let succeeded = verdict.unwrap_or(false);
    record_outcome(env, id, &entry.out_refund_no, succeeded).await?;
    // A callback may have raced the answer: the object's state is the truth.
    let stored = call_object(env, id, Method::Get, "/record", None).await?;
    let status = stored.json::<SessionRecord>().ok().and_then(|r| status_of(&r, &entry.out_refund_no));
    Ok(Ok(status.unwrap_or(if succeeded { RefundStatus::Succeeded } else { RefundStatus::Failed })))
}

/// `POST /v1/refunds`.
pub(crate) async fn create(mut req: Incoming, ctx: RouteContext<Config>) -> Result<Response> {
    if let Err(e) = crate::sessions::authorize_merchant(&req, &ctx.data) {
        return e.into_response();
    }
    let text = req.text().await?;
    let body: CreateRefund = match serde_json::from_str(&text) {
        Ok(body) => body,
        Err(e) if e.is_data() => {
            return ApiError::InvalidRequest("The body must have session_id, refund_id and amount (reason is optional), and only those fields.")
                .into_response()
        }
        Err(_) => return ApiError::InvalidRequest("The body must be a JSON object.").into_response(),
    };
    let request = match validate(body) {
        Ok(request) => request,
        Err(e) => return e.into_response(),
    };
    let Some(out_refund_no) = refund_number(&request.session_id, &request.refund_id) else {
        return ApiError::Internal.into_response();
    };
    let request_hash = base64::engine::general_purpose::STANDARD_NO_PAD.encode(Sha256::digest(serde_json::to_vec(&request)?));
    let entry = RefundRequestEntry {
        refund_id: request.refund_id.clone(),
        out_refund_no,
        amount: request.amount,
        reason: request.reason.clone(),
        request_hash,
        submitted: false,
        requested_at: crate::now(),
    };
    let op = serde_json::json!({ "op": "request_refund", "request": entry, "now": crate::now() });
    let env = &ctx.env;
    let stored = call_object(env, &request.session_id, Method::Post, "/op", Some(op.to_string())).await?;
    let created = match stored.status {
        404 => return ApiError::SessionNotFound.into_response(),
        409 => {
            let refusal: serde_json::Value = stored.json()?;
            return match refusal["refused"].as_str().unwrap_or_default() {
                "idempotency_conflict" => ApiError::RefundIdConflict,
                "amount" => ApiError::RefundTooLarge { refundable: refusal["refundable"].as_u64().unwrap_or(0) },
                _ => ApiError::SessionNotRefundable,
            }
            .into_response();
        }
        status => status == 201,
    };
    let ObjectAnswer { record, entry } = stored.json()?;
    let mut status = status_of(&record, &entry.out_refund_no).unwrap_or(RefundStatus::Pending);
    if status == RefundStatus::Pending && !entry.submitted {
        status = match submit_pending(env, &record, &entry).await? {
            Ok(status) => status,
            Err(error) => return error.into_response(),
        };
    }
    let body = serde_json::json!({
        "refund_id": entry.refund_id,
        "session_id": request.session_id,
        "amount": entry.amount,
        "status": status.as_str(),
    });
    Ok(Response::from_json(&body)?.with_status(if created { 201 } else { 200 }))
}
