//! `POST /v1/sessions/{id}/pay`: the shopper chose a method. The worker checks that the session
//! is open and the method allowed for it and for where the shopper is, starts an attempt with its
//! own order number, creates the order at the provider and returns the widget's next action.

use payment_core::ids::SessionId;
use payment_core::method::PaymentMethod;
use worker::{Method, Request, Response, Result, RouteContext};

use crate::config::Config;
use crate::error::ApiError;
use crate::providers::{attempt_number, create_order, Attempt, ProviderError};
use crate::session_object::SessionRecord;
use crate::sessions::{authorize_widget, call_object, detect_caller};

#[derive(Debug, serde::Deserialize)]
struct PayRequest {
    method: String,
    /// The page the widget is on (an origin of `ALLOWED_ORIGINS`): where WeChat sign-in and the
    /// WeChat H5 cashier send the shopper back to.
    #[serde(default)]
    page_url: Option<String>,
}

/// The shopper's IP address: `CF-Connecting-IP` (set by Cloudflare's edge), else the first address
/// of `X-Forwarded-For` (local runs behind a proxy).
fn client_ip(req: &Request) -> Option<std::net::IpAddr> {
    let header = |name: &str| req.headers().get(name).ok().flatten();
    if let Some(ip) = header("CF-Connecting-IP") {
        return ip.trim().parse().ok();
    }
    header("X-Forwarded-For")?.split(',').next()?.trim().parse().ok()
}

/// Whether `url` is an http(s) page on one of the allowed origins.
fn page_allowed(url: &str, config: &Config) -> bool {
    let Some((scheme, rest)) = url.split_once("://") else {
        return false;
    };
    let host = rest.split(['/', '?', '#']).next().unwrap_or_default();
    matches!(scheme, "https" | "http") && url.len() <= 2048 && !url.contains(char::is_whitespace) && config.origin_allowed(&format!("{scheme}://{host}"))
}

/// The handler.
pub(crate) async fn pay(mut req: Request, ctx: RouteContext<Config>) -> Result<Response> {
    let Some(id) = ctx.param("id").and_then(|id| SessionId::new(id.as_str()).ok()) else {
        return ApiError::SessionNotFound.into_response();
    };
    if let Err(e) = authorize_widget(&req, &ctx.data, &id).await {
        return e.into_response();
    }
    let Ok(body) = req.json::<PayRequest>().await else {
        return ApiError::InvalidRequest("The body must be {\"method\": \"…\"}.").into_response();
    };
    let Ok(method) = body.method.parse::<PaymentMethod>() else {
        return ApiError::InvalidRequest("method must be a method name such as \"alipay_qr\".").into_response();
    };
    if body.page_url.as_deref().is_some_and(|page| !page_allowed(page, &ctx.data)) {
        return ApiError::InvalidRequest("page_url must be an http(s) URL on one of the shop's allowed origins.").into_response();
    }
    let detected = detect_caller(&req);
    let random = crate::webcrypto::random_bytes::<15>().map_err(|_| worker::Error::RustError("random".into()))?;
    let Some(out_trade_no) = attempt_number(&id, &random) else {
        return ApiError::Internal.into_response();
    };
    let now = crate::now();
    let op = serde_json::json!({ "op": "start_attempt", "out_trade_no": out_trade_no, "method": method, "detected": detected, "now": now });
    let mut started = call_object(&ctx.env, &id, Method::Post, "/op", Some(op.to_string())).await?;
    match started.status_code() {
        404 => return ApiError::SessionNotFound.into_response(),
        409 => {
            let refusal: serde_json::Value = started.json().await?;
            let reason = refusal["refused"].as_str().unwrap_or_default();
            return if reason.starts_with("open") || ["processing", "paid", "partially_refunded", "refunded", "failed", "expired", "closed"].contains(&reason) {
                ApiError::SessionNotPayable.into_response()
            } else {
                ApiError::PaymentMethodNotAllowed(reason.to_owned()).into_response()
            };
        }
        _ => {}
    }
    let record: SessionRecord = started.json().await?;
    let return_to = body.page_url.or_else(|| record.return_url.clone());
    let attempt = Attempt { record: &record, out_trade_no: &out_trade_no, method, now, client_ip: client_ip(&req), return_to };
    let answer = create_order(&ctx.env, &attempt).await;
    // The provider's answer, summarised for the audit trail: the next action's type or the error's
    // word (never a body, a signature or a payer's id).
    let summary = match &answer {
        Ok(action) => serde_json::to_value(action).ok().and_then(|v| v["type"].as_str().map(str::to_owned)).unwrap_or_default(),
        Err(error) => crate::providers::query::error_code(*error).to_owned(),
    };
    crate::audit::record(&ctx.env, &id, "provider.answer", Some(&out_trade_no), &summary).await?;
    match answer {
        Ok(action) => {
            let op = serde_json::json!({ "op": "action", "out_trade_no": out_trade_no, "action": action });
            call_object(&ctx.env, &id, Method::Post, "/op", Some(op.to_string())).await?;
            Response::from_json(&action)
        }
        Err(error) => {
            // The attempt did not start at the provider: the shopper may try again or another method.
            let op = serde_json::json!({ "op": "failed", "out_trade_no": out_trade_no, "retryable": true, "now": now });
            call_object(&ctx.env, &id, Method::Post, "/op", Some(op.to_string())).await?;
            match error {
                ProviderError::NotConfigured => ApiError::ProviderNotConfigured,
                ProviderError::Refused => ApiError::ProviderRefused,
                ProviderError::Unavailable => ApiError::ProviderUnavailable,
                ProviderError::MissingContext(message) => ApiError::InvalidRequest(message),
            }
            .into_response()
        }
    }
}
