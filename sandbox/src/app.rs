//! The sandbox's shared state, the request log with one verdict per request, and fault injection.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::keys::Keys;
use crate::store::Store;

/// How many requests the log keeps.
const LOG_CAPACITY: usize = 10_000;

/// What happens to callbacks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum CallbackMode {
    /// Sent at once, retried on the provider's schedule until acknowledged.
    #[default]
    Normal,
    /// Never sent (a lost callback): the merchant must query.
    Drop,
}

/// Faults the control API injects into the provider endpoints.
#[derive(Debug, Clone, Default, Serialize, serde::Deserialize)]
pub struct Faults {
    /// The next K provider calls answer 500.
    #[serde(default)]
    pub fail_next: u32,
    /// The next K provider calls are carried out, but their answers are lost: the caller gets 500
    /// (what a client sees when the connection drops after the provider acted).
    #[serde(default)]
    pub lose_answer_next: u32,
    /// The next K provider calls hang for `hang_ms` (past any sane client timeout) and then 500.
    #[serde(default)]
    pub hang_next: u32,
    /// How long a hanging call hangs, in milliseconds.
    #[serde(default = "default_hang_ms")]
    pub hang_ms: u64,
    /// When set, the counted faults above apply only to provider calls whose path starts with it
    /// (e.g. `/v3/pay/transactions/native`); other calls, such as a worker's background queries,
    /// pass untouched and leave the count alone.
    #[serde(default)]
    pub fault_path: Option<String>,
    /// What happens to callbacks.
    #[serde(default)]
    pub callbacks: CallbackMode,
    /// Extra delay before each callback's first delivery, in milliseconds.
    #[serde(default)]
    pub callback_delay_ms: u64,
}

fn default_hang_ms() -> u64 {
    60_000
}

/// One logged request.
#[derive(Debug, Clone, Serialize)]
pub struct LogEntry {
    /// Unix milliseconds.
    pub at_ms: u64,
    /// HTTP method.
    pub method: String,
    /// Path and query.
    pub target: String,
    /// Response status.
    pub status: u16,
    /// Why: `ok`, or the reason a request was refused.
    pub verdict: String,
}

/// The verdict a handler attaches to its response, for the log.
#[derive(Debug, Clone)]
pub struct Verdict(pub String);

/// Attaches a verdict to a response.
pub fn with_verdict(response: impl IntoResponse, verdict: impl Into<String>) -> Response {
    let mut response = response.into_response();
    response.extensions_mut().insert(Verdict(verdict.into()));
    response
}

/// Everything the handlers share.
#[derive(Debug)]
pub struct AppState {
    /// The test-only keys and ids.
    pub keys: Keys,
    /// Orders.
    pub store: Mutex<Store>,
    /// Recent requests with verdicts.
    pub log: Mutex<VecDeque<LogEntry>>,
    /// Injected faults.
    pub faults: Mutex<Faults>,
    /// For callbacks.
    pub http: reqwest::Client,
    /// `http://127.0.0.1:PORT`.
    pub base_url: String,
    /// Callback retry intervals are multiplied by this (1.0 = the providers' real schedules).
    pub callback_scale: f64,
}

/// Shared state as the handlers get it.
pub type Shared = Arc<AppState>;

/// Locks a mutex, recovering from a poisoned lock (a panicking handler must not stop the sandbox).
pub fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Unix seconds now.
pub fn now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

/// Unix milliseconds now.
pub fn now_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64)
}

/// `len` random characters of `[A-Za-z0-9]`.
pub fn random_token(len: usize) -> String {
    use rand::Rng as _;
    const CHARS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let mut rng = rand::thread_rng();
    (0..len).map(|_| char::from(CHARS[rng.gen_range(0..CHARS.len())])).collect()
}

/// `len` random decimal digits.
pub fn random_digits(len: usize) -> String {
    use rand::Rng as _;
    let mut rng = rand::thread_rng();
    (0..len).map(|_| char::from(b'0' + rng.gen_range(0..10))).collect()
}

/// Logs every request with its verdict (one line on stdout, and in the log the control API lists),
/// and applies injected faults to provider endpoints (never to `/sandbox/…`).
pub async fn log_and_faults(State(state): State<Shared>, request: Request, next: Next) -> Response {
    let method = request.method().to_string();
    let target = request.uri().path_and_query().map_or_else(|| request.uri().path().to_owned(), |pq| pq.as_str().to_owned());
    let provider_call = !request.uri().path().starts_with("/sandbox/");

    let fault = provider_call.then(|| {
        let mut faults = lock(&state.faults);
        if faults.fault_path.as_deref().is_some_and(|prefix| !request.uri().path().starts_with(prefix)) {
            None
        } else if faults.hang_next > 0 {
            faults.hang_next -= 1;
            Some(Err(faults.hang_ms))
        } else if faults.fail_next > 0 {
            faults.fail_next -= 1;
            Some(Ok(false))
        } else if faults.lose_answer_next > 0 {
            faults.lose_answer_next -= 1;
            Some(Ok(true))
        } else {
            None
        }
    });
    let response = match fault.flatten() {
        Some(Err(hang_ms)) => {
            tokio::time::sleep(Duration::from_millis(hang_ms)).await;
            with_verdict(injected_500(), "injected hang")
        }
        Some(Ok(false)) => with_verdict(injected_500(), "injected 500"),
        Some(Ok(true)) => {
            let carried_out = next.run(request).await;
            with_verdict(injected_500(), format!("carried out ({}), answer lost", carried_out.status().as_u16()))
        }
        None => next.run(request).await,
    };

    let verdict = response.extensions().get::<Verdict>().map_or_else(
        || if response.status().is_success() || response.status().is_redirection() { "ok".to_owned() } else { "refused".to_owned() },
        |v| v.0.clone(),
    );
    let entry = LogEntry { at_ms: now_ms(), method, target, status: response.status().as_u16(), verdict };
    // The log is the providers' traffic and the shoppers' pages; the control API is the test's own.
    if entry.target.starts_with("/sandbox/control") {
        return response;
    }
    println!("{} {} {} {}", entry.method, entry.target, entry.status, entry.verdict);
    let mut log = lock(&state.log);
    if log.len() == LOG_CAPACITY {
        log.pop_front();
    }
    log.push_back(entry);
    response
}

fn injected_500() -> Response {
    (
        StatusCode::INTERNAL_SERVER_ERROR,
        [("content-type", "application/json")],
        Body::from(r#"{"code":"SYSTEM_ERROR","message":"sandbox: injected failure"}"#),
    )
        .into_response()
}
