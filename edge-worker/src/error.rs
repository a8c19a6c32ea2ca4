//! The one error shape of the HTTP API: `{"error":{"code","message","retryable"}}`.

use worker::{Response, Result};

/// Errors the API answers with. Messages are fixed sentences: no internal detail ever reaches a caller.
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub(crate) enum ApiError {
    /// No route matches the request.
    NotFound,
    /// The route exists, but not for this HTTP method.
    MethodNotAllowed,
    /// A cross-origin request from an origin that is not on `ALLOWED_ORIGINS`.
    OriginNotAllowed,
    /// Missing or wrong credentials (merchant API key or client secret).
    Unauthorized,
    /// A setting the endpoint needs is missing (the operator must set it).
    NotConfigured,
    /// The request body is invalid; the message names the field and the rule.
    InvalidRequest(&'static str),
    /// The same `Idempotency-Key` came with a different body.
    IdempotencyConflict,
    /// No such checkout session.
    SessionNotFound,
    /// Something failed inside the worker; details stay in the worker.
    Internal,
}

impl ApiError {
    fn parts(self) -> (u16, &'static str, &'static str, bool) {
        match self {
            Self::NotFound => (404, "not_found", "No such endpoint.", false),
            Self::MethodNotAllowed => (405, "method_not_allowed", "This endpoint does not take that method.", false),
            Self::OriginNotAllowed => {
                (403, "origin_not_allowed", "This origin may not call the checkout API.", false)
            }
            Self::Unauthorized => (401, "unauthorized", "Missing or invalid credentials.", false),
            Self::NotConfigured => {
                (503, "not_configured", "The checkout is not configured yet: see /v1/health for the missing settings.", false)
            }
            Self::InvalidRequest(message) => (400, "invalid_request", message, false),
            Self::IdempotencyConflict => {
                (409, "idempotency_conflict", "This Idempotency-Key was used with a different request.", false)
            }
            Self::SessionNotFound => (404, "session_not_found", "No such checkout session.", false),
            Self::Internal => (500, "internal_error", "Something went wrong on our side. Try again.", true),
        }
    }

    /// The JSON response for this error.
    pub(crate) fn into_response(self) -> Result<Response> {
        let (status, code, message, retryable) = self.parts();
        let body = serde_json::json!({ "error": { "code": code, "message": message, "retryable": retryable } });
        Ok(Response::from_json(&body)?.with_status(status))
    }
}
