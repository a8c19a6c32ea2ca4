//! `POST /v1/sessions/{id}/pay`: the shopper chose a method. The worker checks the client secret
//! and the request, then hands the rest to the session's Durable Object in one round trip: it
//! checks that the session is open and the method allowed for it and for where the shopper is,
//! starts an attempt with its own order number, creates the order at the provider, records the
//! provider's answer and the widget's next action, and answers the widget.

use std::cell::RefCell;

use payment_core::environment::Detected;
use payment_core::ids::{OutTradeNo, SessionId};
use payment_core::method::{check_allowed, PaymentMethod};
use payment_core::session::Command;
use serde::{Deserialize, Serialize};
use worker::{Method, Response, Result};

use crate::config::Config;
use crate::error::ApiError;
use crate::incoming::Incoming;
use crate::providers::{attempt_number, create_order, Attempt, ProviderError};
use crate::route::RouteContext;
use crate::session_object::{SessionObject, SessionRecord};
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
fn client_ip(req: &Incoming) -> Option<std::net::IpAddr> {
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

/// What the handler asks the session's object to do (its `pay` op).
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct PayOp {
    out_trade_no: OutTradeNo,
    method: PaymentMethod,
    detected: Detected,
    now: u64,
    client_ip: Option<std::net::IpAddr>,
    page_url: Option<String>,
}

/// A WeChat sign-in round trip that an order creation started (see [`crate::oauth::authorize_url`]):
/// recorded on the session with the attempt's action.
#[derive(Debug)]
pub(crate) struct OauthBegun {
    pub(crate) nonce: String,
    pub(crate) page: String,
    pub(crate) expires_at: u64,
}

/// The handler.
pub(crate) async fn pay(mut req: Incoming, ctx: RouteContext<Config>) -> Result<Response> {
    let Some(id) = ctx.param("id").and_then(|id| SessionId::new(id.as_str()).ok()) else {
        return ApiError::SessionNotFound.into_response();
    };
    if let Err(e) = authorize_widget(&req, &ctx.data, &id).await {
        return e.into_response();
    }
    let Ok(body) = crate::http::json_body::<PayRequest>(&mut req).await else {
        return ApiError::InvalidRequest("The body must be {\"method\": \"…\"}.").into_response();
    };
    let Ok(method) = body.method.parse::<PaymentMethod>() else {
        return ApiError::InvalidRequest("method must be a method name such as \"alipay_qr\".").into_response();
    };
    if body.page_url.as_deref().is_some_and(|page| !page_allowed(page, &ctx.data)) {
        return ApiError::InvalidRequest("page_url must be an http(s) URL on one of the shop's allowed origins.").into_response();
    }
    let random = crate::webcrypto::random_bytes::<15>().map_err(|_| worker::Error::RustError("random".into()))?;
    let Some(out_trade_no) = attempt_number(&id, &random) else {
        return ApiError::Internal.into_response();
    };
    let op = PayOp { out_trade_no, method, detected: detect_caller(&req), now: crate::now(), client_ip: client_ip(&req), page_url: body.page_url };
    let mut op = serde_json::to_value(&op)?;
    op["op"] = "pay".into();
    let answer = call_object(&ctx.env, &id, Method::Post, "/op", Some(op.to_string())).await?;
    let status = answer.status;
    let bytes = answer.body;
    if status == 404 && bytes.is_empty() {
        return ApiError::SessionNotFound.into_response();
    }
    // The object answered in the API's own shapes (the action, or an error): pass it on.
    let mut response = Response::from_bytes(bytes)?.with_status(status);
    response.headers_mut().set("Content-Type", "application/json")?;
    Ok(response)
}

impl From<ProviderError> for ApiError {
    fn from(error: ProviderError) -> Self {
        match error {
            ProviderError::NotConfigured => Self::ProviderNotConfigured,
            ProviderError::Refused => Self::ProviderRefused,
            ProviderError::Unavailable => Self::ProviderUnavailable,
            ProviderError::MissingContext(message) => Self::InvalidRequest(message),
        }
    }
}

/// The `pay` op, in the session's Durable Object: the attempt from start to the widget's answer.
pub(crate) async fn in_object(object: &SessionObject, record: SessionRecord, op: PayOp) -> Result<Response> {
    let PayOp { out_trade_no, method, detected, now, client_ip, page_url } = op;
    if let Err(payment_core::Error::MethodNotAllowed { reason }) = check_allowed(method, &detected, record.methods.as_deref()) {
        return ApiError::PaymentMethodNotAllowed(reason.to_owned()).into_response();
    }
    // The attempt's start is written with the provider's answer, in one commit: until then the
    // shopper holds nothing payable for it (see [`crate::stored`]).
    let start = Command::StartAttempt { out_trade_no: out_trade_no.clone(), method, now };
    let record = match object.transition_staged(record, start, now, Vec::new()).await? {
        Ok(record) => record,
        Err(_) => return ApiError::SessionNotPayable.into_response(),
    };
    let return_to = page_url.or_else(|| record.return_url.clone());
    let attempt = Attempt { record: &record, out_trade_no: &out_trade_no, method, now, client_ip, return_to, oauth_begun: RefCell::new(None) };
    let answer = create_order(&object.env, &attempt).await;
    let oauth_begun = attempt.oauth_begun.take();
    // The provider's answer, summarised for the audit trail: the next action's type or the error's
    // word (never a body, a signature or a payer's id).
    let summary = match &answer {
        Ok(action) => action.kind().to_owned(),
        Err(error) => crate::providers::query::error_code(*error).to_owned(),
    };
    let entry = crate::audit::Entry::new("provider.answer", Some(&out_trade_no), Some(summary));
    let store = &object.store;
    // Other requests may have reached the object while the provider answered: build on what is stored.
    let Some(mut record) = object.load().await? else {
        store.flush().await?;
        return ApiError::SessionNotFound.into_response();
    };
    match answer {
        Ok(action) => {
            if let Some(begun) = oauth_begun {
                record.wechat.begin(begun.nonce, begun.page, begun.expires_at, now);
            }
            record.actions.insert(out_trade_no.as_str().to_owned(), action.clone());
            record.current = Some(out_trade_no.as_str().to_owned());
            object.store_record_noting(&record, vec![entry]).await?;
            Response::from_json(&action)
        }
        Err(error) => {
            // The attempt did not start at the provider: the shopper may try again or another method.
            // (Refused only when the session moved on meanwhile, e.g. expired: nothing to undo then.)
            let failed = Command::AttemptFailed { out_trade_no, retryable: true, now };
            if object.transition_noting(record, failed, now, vec![entry.clone()]).await?.is_err() {
                crate::audit::append(store, vec![entry]).await?;
            }
            ApiError::from(error).into_response()
        }
    }
}
