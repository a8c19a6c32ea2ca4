//! edgepay's edge worker: a thin `fetch` export plus a route table ([`route`]) whose handlers call `payment-core`.

mod audit;
mod config;
mod cors;
mod duplicates;
mod error;
mod health;
mod http;
mod incoming;
mod isolate_cache;
mod ledger;
mod log;
mod notify;
mod oauth;
mod pay;
mod providers;
mod refunds;
mod route;
mod session_object;
mod sessions;
mod stored;
mod sweep;
mod webcrypto;
mod webhooks;

use wasm_bindgen::JsValue;
use worker::{event, Env, Response, Result, ScheduleContext, ScheduledEvent};

use crate::config::Config;
use crate::error::ApiError;
use crate::incoming::Incoming;

/// The worker's `fetch` handler, exported under the name `#[event(fetch)]` would give it (the
/// module worker-build generates calls it). Not the macro: its `worker::Request` copies the
/// request's `cf` object, which nothing here reads, and the crate's types cost a request about
/// 0.05 ms more than the runtime's (see [`incoming`]).
///
/// # Errors
/// Only when not even the stable internal error can be answered (the runtime refusing to make its
/// `Headers`); every other failure is answered (see [`respond`]).
#[wasm_bindgen::prelude::wasm_bindgen(js_name = fetch)]
pub async fn fetch(req: web_sys::Request, env: Env, _ctx: JsValue) -> std::result::Result<JsValue, JsValue> {
    let response = match respond(Incoming::new(req), env).await {
        Ok(response) => response,
        // `respond` answers every handler failure itself: an error here is one of building an
        // answer (a `Headers` the runtime refused), and gets the stable internal error.
        Err(_) => ApiError::Internal.into_response().map_err(|_| JsValue::from_str("internal error"))?,
    };
    Ok(web_sys::Response::from(response).into())
}

/// The answer to `req`, CORS headers included.
async fn respond(req: Incoming, env: Env) -> Result<Response> {
    let config = Config::cached(&env);
    let origin = req.headers().get("Origin").ok().flatten();
    let (verb, path) = (req.method(), req.path());
    let method = verb.to_string();
    let allowed = origin.as_deref().filter(|o| config.origin_allowed(o)).map(str::to_owned);

    let response = if verb == worker::Method::Options {
        cors::preflight(allowed.as_deref())
    } else {
        route::dispatch(req, &verb, &path, env, config).await
    };
    // A handler error must not leak its detail: answer with the stable internal error shape (and
    // log that it happened, without the error's text, which may quote a provider's URL).
    let mut response = response.or_else(|_| {
        log::line("error", "internal_error", &[("method", method.as_str().into()), ("path", path.as_str().into())]);
        ApiError::Internal.into_response()
    })?;
    if response.status_code() == 405 {
        // Any 405 keeps the one error shape.
        response = ApiError::MethodNotAllowed.into_response()?;
    }
    log::request(&method, &path, response.status_code());
    cors::decorate(response, allowed.as_deref())
}

/// Unix seconds now (the worker's clock; payment-core never reads one).
pub(crate) fn now() -> u64 {
    now_ms() / 1000
}

/// Unix milliseconds now: `Date.now()`, one call out of the wasm (`worker::Date::now` makes a
/// `Date` object and reads it, two).
pub(crate) fn now_ms() -> u64 {
    // Whole milliseconds since 1970: exact in an f64, never negative.
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let ms = js_sys::Date::now() as u64;
    ms
}

/// The cron trigger: the sweep of sessions that look stuck (see [`sweep`]).
#[event(scheduled)]
async fn scheduled(_event: ScheduledEvent, env: Env, _ctx: ScheduleContext) {
    if sweep::run(&env).await.is_err() {
        log::line("error", "sweep.failed", &[]);
    }
}
