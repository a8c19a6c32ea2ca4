//! The one error shape of the HTTP API: `{"error":{"code","message","retryable"}}`.

use worker::{Response, Result};

/// Errors the API answers with. Messages are fixed sentences: no internal detail ever reaches a caller.
#[derive(Debug, Clone)]
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
    /// The session cannot take a payment now (paid, expired, closed, failed).
    SessionNotPayable,
    /// The method is not available for this session or where the shopper is; carries the
    /// stable reason (e.g. `blocked_in_wechat`).
    PaymentMethodNotAllowed(String),
    /// The method's provider is not configured (or its flow is not available in this worker).
    ProviderNotConfigured,
    /// The provider refused the order.
    ProviderRefused,
    /// The provider did not answer, or its answer did not verify.
    ProviderUnavailable,
    /// The same `refund_id` came with a different body (refunds).
    RefundIdConflict,
    /// The session was not paid, or is refunded in full: nothing to refund.
    SessionNotRefundable,
    /// The amount is above what was paid and not yet refunded (pending refunds included).
    RefundTooLarge {
        /// What can still be refunded, fen.
        refundable: u64,
    },
    /// The refund is recorded (pending) but the provider did not answer: retry with the same body.
    RefundProviderUnavailable,
    /// The request body is larger than the endpoint takes.
    BodyTooLarge,
    /// Something failed inside the worker; details stay in the worker.
    Internal,
}

impl ApiError {
    fn parts(&self) -> (u16, &'static str, &'static str, bool) {
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
            Self::SessionNotPayable => (409, "session_not_payable", "This checkout session cannot take a payment now.", false),
            Self::PaymentMethodNotAllowed(_) => {
                (403, "method_not_allowed", "This payment method is not available for this checkout here.", false)
            }
            Self::ProviderNotConfigured => {
                (503, "provider_not_configured", "This payment method is not available right now. Choose another one.", false)
            }
            Self::ProviderRefused => (502, "provider_refused", "The payment provider refused this payment.", false),
            Self::ProviderUnavailable => {
                (503, "provider_unavailable", "The payment provider did not answer. Try again.", true)
            }
            Self::RefundIdConflict => {
                (409, "idempotency_conflict", "This refund_id was used with a different request.", false)
            }
            Self::SessionNotRefundable => {
                (409, "session_not_refundable", "This checkout session has no payment left to refund.", false)
            }
            Self::RefundTooLarge { .. } => (400, "invalid_request", "amount is above what can still be refunded.", false),
            Self::RefundProviderUnavailable => (
                503,
                "provider_unavailable",
                "The refund is recorded as pending, but the payment provider did not answer. Retry with the same refund_id and body.",
                true,
            ),
            Self::BodyTooLarge => (413, "body_too_large", "The request body is too large.", false),
            Self::Internal => (500, "internal_error", "Something went wrong on our side. Try again.", true),
        }
    }

    /// The JSON response for this error.
    pub(crate) fn into_response(self) -> Result<Response> {
        let (status, code, message, retryable) = self.parts();
        let mut error = serde_json::json!({ "code": code, "message": message, "retryable": retryable });
        if let Self::PaymentMethodNotAllowed(reason) = &self {
            error["reason"] = serde_json::Value::String(reason.clone());
        }
        if let Self::RefundTooLarge { refundable } = &self {
            error["message"] = serde_json::Value::String(format!(
                "amount must be at most the refundable amount: {refundable} fen (paid minus refunded and pending refunds)."
            ));
            error["refundable"] = serde_json::json!(refundable);
        }
        let body = serde_json::json!({ "error": error });
        Ok(Response::from_json(&body)?.with_status(status))
    }
}
