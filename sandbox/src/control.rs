//! The control API for tests, under `/sandbox/control` (a path no real provider uses): list and
//! change orders, replay callbacks (once or as a storm), send probes, inject faults, read the log.

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use payment_core::method::Provider;
use serde::de::DeserializeOwned;
use serde::Deserialize;

use crate::app::{lock, Faults, Shared};
use crate::notifier;
use crate::providers::{self, ChangeError};
use crate::store::OrderStatus;

/// The control routes.
pub fn routes() -> Router<Shared> {
    Router::new()
        .route("/sandbox/worker-config", get(worker_config))
        .route("/sandbox/control/orders", get(list_orders))
        .route("/sandbox/control/orders/{provider}/{no}", get(get_order))
        .route("/sandbox/control/orders/{provider}/{no}/pay", post(pay))
        .route("/sandbox/control/orders/{provider}/{no}/close", post(close))
        .route("/sandbox/control/orders/{provider}/{no}/fail", post(fail))
        .route("/sandbox/control/orders/{provider}/{no}/notify", post(notify))
        .route("/sandbox/control/probe", post(probe))
        .route("/sandbox/control/requests", get(requests))
        .route("/sandbox/control/faults", get(get_faults).put(put_faults))
        .route("/sandbox/control/reset", post(reset))
}

fn error(status: StatusCode, message: &str) -> Response {
    (status, Json(serde_json::json!({ "error": message }))).into_response()
}

#[allow(clippy::result_large_err)] // the error is the answer itself
fn provider(name: &str) -> Result<Provider, Response> {
    name.parse().map_err(|_| error(StatusCode::NOT_FOUND, "unknown provider (wechatpay, alipay, unionpay)"))
}

/// An optional JSON body: empty means all defaults (so `curl -X POST` needs no body).
#[allow(clippy::result_large_err)] // the error is the answer itself
fn optional_json<T: DeserializeOwned + Default>(body: &Bytes) -> Result<T, Response> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(T::default());
    }
    serde_json::from_slice(body).map_err(|e| error(StatusCode::BAD_REQUEST, &format!("invalid JSON body: {e}")))
}

fn change_error(e: ChangeError) -> Response {
    match e {
        ChangeError::NotFound => error(StatusCode::NOT_FOUND, "no such order"),
        ChangeError::NotPending => error(StatusCode::CONFLICT, "the order is not pending"),
    }
}

/// The worker settings that point at this sandbox, as a JSON object (the demo writes them to `.dev.vars`).
async fn worker_config(State(state): State<Shared>) -> Response {
    let config: serde_json::Map<String, serde_json::Value> =
        state.keys.file.worker_config(&state.base_url).into_iter().map(|(k, v)| (k.to_owned(), v.into())).collect();
    Json(config).into_response()
}

async fn list_orders(State(state): State<Shared>) -> Response {
    let orders: Vec<_> = lock(&state.store).all().cloned().collect();
    Json(orders).into_response()
}

async fn get_order(State(state): State<Shared>, Path((p, no)): Path<(String, String)>) -> Response {
    let p = match provider(&p) {
        Ok(p) => p,
        Err(r) => return r,
    };
    match lock(&state.store).get(p, &no) {
        Some(order) => Json(order).into_response(),
        None => error(StatusCode::NOT_FOUND, "no such order"),
    }
}

#[derive(Debug, Deserialize, Default)]
struct PayBody {
    payer: Option<String>,
}

async fn pay(State(state): State<Shared>, Path((p, no)): Path<(String, String)>, body: Bytes) -> Response {
    let p = match provider(&p) {
        Ok(p) => p,
        Err(r) => return r,
    };
    let payer = match optional_json::<PayBody>(&body) {
        Ok(b) => b.payer,
        Err(r) => return r,
    };
    match providers::pay(&state, p, &no, payer).await {
        Ok(order) => Json(order).into_response(),
        Err(e) => change_error(e),
    }
}

async fn close(state: State<Shared>, path: Path<(String, String)>) -> Response {
    end(state, path, OrderStatus::Closed).await
}

async fn fail(state: State<Shared>, path: Path<(String, String)>) -> Response {
    end(state, path, OrderStatus::Failed).await
}

async fn end(State(state): State<Shared>, Path((p, no)): Path<(String, String)>, status: OrderStatus) -> Response {
    let p = match provider(&p) {
        Ok(p) => p,
        Err(r) => return r,
    };
    match providers::end_unpaid(&state, p, &no, status).await {
        Ok(order) => Json(order).into_response(),
        Err(e) => change_error(e),
    }
}

#[derive(Debug, Deserialize)]
#[serde(default)]
struct NotifyBody {
    /// How many copies to send at once (default 1).
    times: usize,
}

impl Default for NotifyBody {
    fn default() -> Self {
        Self { times: 1 }
    }
}

/// Sends the order's payment callback again, `times` copies at once, without retries.
async fn notify(State(state): State<Shared>, Path((p, no)): Path<(String, String)>, body: Bytes) -> Response {
    let p = match provider(&p) {
        Ok(p) => p,
        Err(r) => return r,
    };
    let times = match optional_json::<NotifyBody>(&body) {
        Ok(b) => b.times.clamp(1, 10_000),
        Err(r) => return r,
    };
    let Some(order) = lock(&state.store).get(p, &no).cloned() else {
        return error(StatusCode::NOT_FOUND, "no such order");
    };
    let Some(callback) = providers::payment_callback(&state, &order).await else {
        return error(StatusCode::CONFLICT, "this order has no callback to send (no notify URL, or not paid)");
    };
    let acknowledged = notifier::storm(&state, &callback, times).await;
    Json(serde_json::json!({ "sent": times, "acknowledged": acknowledged })).into_response()
}

#[derive(Debug, Deserialize)]
struct ProbeBody {
    provider: String,
    url: String,
}

/// Sends one deliberately badly signed callback to `url`; the merchant must refuse it.
async fn probe(State(state): State<Shared>, Json(body): Json<ProbeBody>) -> Response {
    let p = match provider(&body.provider) {
        Ok(p) => p,
        Err(r) => return r,
    };
    let callback = providers::probe_callback(&state, p, &body.url).await;
    let acknowledged = notifier::deliver_once(&state, &callback).await;
    Json(serde_json::json!({ "acknowledged": acknowledged })).into_response()
}

#[derive(Debug, Deserialize)]
struct RequestsQuery {
    since_ms: Option<u64>,
}

async fn requests(State(state): State<Shared>, Query(q): Query<RequestsQuery>) -> Response {
    let since = q.since_ms.unwrap_or(0);
    let entries: Vec<_> = lock(&state.log).iter().filter(|e| e.at_ms >= since).cloned().collect();
    Json(entries).into_response()
}

async fn get_faults(State(state): State<Shared>) -> Response {
    Json(lock(&state.faults).clone()).into_response()
}

async fn put_faults(State(state): State<Shared>, Json(faults): Json<Faults>) -> Response {
    *lock(&state.faults) = faults.clone();
    Json(faults).into_response()
}

async fn reset(State(state): State<Shared>) -> Response {
    *lock(&state.store) = Default::default();
    lock(&state.log).clear();
    *lock(&state.faults) = Faults::default();
    StatusCode::NO_CONTENT.into_response()
}
