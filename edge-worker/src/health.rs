//! `GET /v1/health`: version, which providers are configured, and whether the ledger is.

use worker::{Response, Result};

use crate::config::{Config, ProviderStatus};
use crate::incoming::Incoming;
use crate::route::RouteContext;

/// Reports the worker's version and, per provider, whether it is configured and which settings are missing.
pub(crate) fn get(_req: Incoming, ctx: RouteContext<Config>) -> Result<Response> {
    let statuses = |list: &[(&'static str, ProviderStatus)]| {
        list.iter()
            .map(|(name, status)| Ok(((*name).to_owned(), serde_json::to_value(status)?)))
            .collect::<std::result::Result<serde_json::Map<String, serde_json::Value>, serde_json::Error>>()
    };
    let providers = statuses(&ctx.data.providers)?;
    let features = statuses(&ctx.data.features)?;
    let body = serde_json::json!({
        "status": "ok",
        "version": env!("CARGO_PKG_VERSION"),
        "core_version": payment_core::VERSION,
        "settings": { "configured": ctx.data.core_missing.is_empty(), "missing": ctx.data.core_missing },
        "providers": providers,
        "features": features,
        // The D1 ledger (binding `LEDGER`): without it, payments work and nothing is listed.
        "ledger": { "configured": crate::ledger::configured(&ctx.env), "missing": if crate::ledger::configured(&ctx.env) { vec![] } else { vec![crate::ledger::BINDING] } },
    });
    let mut response = Response::from_json(&body)?;
    response.headers_mut().set("Cache-Control", "no-store")?;
    Ok(response)
}
