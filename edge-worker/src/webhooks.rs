//! Delivery of one event to the merchant's webhook (`MERCHANT_WEBHOOK_URL`), signed per Standard
//! Webhooks with `MERCHANT_WEBHOOK_SECRET`. The session's Durable Object decides when to retry.

use payment_core::event::Event;
use payment_core::webhook::{sign_headers, WebhookSecret};
use worker::Env;

use crate::providers::setting;
use crate::webcrypto::HmacKey;

/// Sends `event` once; returns the merchant's HTTP status, or 0 when it could not be sent (no
/// webhook configured, no answer). A `webhook-id` equal to the event id lets the merchant drop
/// repeats.
pub(crate) async fn send(env: &Env, event: &Event) -> u16 {
    try_send(env, event).await.unwrap_or_default()
}

async fn try_send(env: &Env, event: &Event) -> Option<u16> {
    let url = setting(env, "MERCHANT_WEBHOOK_URL")?;
    let secret = WebhookSecret::parse(&setting(env, "MERCHANT_WEBHOOK_SECRET")?, "MERCHANT_WEBHOOK_SECRET").ok()?;
    let key = HmacKey::import(secret.key_bytes()).await.ok()?;
    let body = serde_json::to_vec(event).ok()?;
    let signed = sign_headers(&key, event.id.as_str(), crate::now(), &body).await.ok()?;
    let mut headers = vec![("Content-Type", "application/json")];
    headers.extend(signed.pairs());
    // A merchant endpoint that does not answer within 10 s counts as a failed attempt (status 0),
    // retried with the others, instead of holding the object's alarm.
    let outgoing = crate::http::Outgoing { method: "POST", headers: &headers, body: Some(&body), timeout_ms: Some(crate::http::PROVIDER_TIMEOUT_MS) };
    crate::http::send(&url, &outgoing).await.ok().map(|reply| reply.status)
}
