//! The widget's only connection: HTTP to the edge worker.

use std::collections::BTreeMap;

use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::{RequestInit, RequestMode};

/// One provider's line of `GET /v1/health`.
#[derive(Debug, Clone, PartialEq, serde::Deserialize)]
pub(crate) struct ProviderHealth {
    pub(crate) configured: bool,
}

/// The worker's answer to `GET /v1/health`.
#[derive(Debug, Clone, PartialEq, serde::Deserialize)]
pub(crate) struct Health {
    pub(crate) version: String,
    pub(crate) providers: BTreeMap<String, ProviderHealth>,
}

/// Why a call to the worker did not give an answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ApiError {
    /// The worker could not be reached (offline, DNS, CORS refusal).
    Unreachable,
    /// The worker answered, but not with what the widget expects.
    BadAnswer,
}

/// Asks the worker for its health.
pub(crate) async fn health(endpoint: &str) -> Result<Health, ApiError> {
    let text = get_text(&format!("{endpoint}/v1/health")).await?;
    serde_json::from_str(&text).map_err(|_| ApiError::BadAnswer)
}

async fn get_text(url: &str) -> Result<String, ApiError> {
    let window = web_sys::window().ok_or(ApiError::Unreachable)?;
    let init = RequestInit::new();
    init.set_method("GET");
    init.set_mode(RequestMode::Cors);
    let response = JsFuture::from(window.fetch_with_str_and_init(url, &init))
        .await
        .map_err(|_| ApiError::Unreachable)?;
    let response: web_sys::Response = response.dyn_into().map_err(|_| ApiError::BadAnswer)?;
    if !response.ok() {
        return Err(ApiError::BadAnswer);
    }
    let text = JsFuture::from(response.text().map_err(|_| ApiError::BadAnswer)?)
        .await
        .map_err(|_| ApiError::BadAnswer)?;
    text.as_string().ok_or(ApiError::BadAnswer)
}
