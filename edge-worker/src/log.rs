//! The operator's trail: one JSON object per line on the worker's console (`wrangler tail`,
//! Workers Logs), for what an operator looks for at 3 a.m. — refused and failed requests, every
//! provider callback's outcome, webhook deliveries that failed, ledger copies that failed.
//!
//! Lines carry fixed words, HTTP statuses, paths without their query (an OAuth `code` or `state`
//! never appears) and edgepay's own ids; never a header, a body, a key, a secret, an error's text
//! or a payer's id. Successful widget and merchant calls are not logged (they are in the session's
//! audit trail), which keeps the per-request cost at nothing on the hot path.

use serde_json::{Map, Value};

/// Writes one line: `{"level", "event", …fields}`.
pub(crate) fn line(level: &str, event: &str, fields: &[(&str, Value)]) {
    let mut object = Map::new();
    object.insert("level".to_owned(), level.into());
    object.insert("event".to_owned(), event.into());
    for (name, value) in fields {
        object.insert((*name).to_owned(), value.clone());
    }
    let text = Value::Object(object).to_string();
    match level {
        "error" => worker::console_error!("{text}"),
        "warn" => worker::console_warn!("{text}"),
        _ => worker::console_log!("{text}"),
    }
}

/// The request's outcome, when it is worth a line: any refusal or failure, and every callback.
pub(crate) fn request(method: &str, path: &str, status: u16) {
    let callback = path.starts_with("/v1/notify/");
    if status < 400 && !callback {
        return;
    }
    let level = match status {
        500.. => "error",
        400.. => "warn",
        _ => "info",
    };
    let event = if callback { "callback" } else { "request" };
    line(level, event, &[("method", method.into()), ("path", path.into()), ("status", status.into())]);
}
