//! Outgoing requests (to the providers, the merchant's webhook and the session's Durable Object)
//! with one JavaScript call to make them and one to read the answer.
//!
//! `worker::Fetch` builds a `worker::Request` from a `worker::RequestInit` (two more JavaScript
//! objects), converts the answer into a `worker::Response` (its headers, `cf`, WebSocket and body
//! read one call each) and, to read the body, converts that back into a new JavaScript `Response`.
//! Here the answer's status, the headers asked for and the body are read straight from the
//! `Response` (pays that call a provider: 0.5–1.5 ms less CPU in an A/B, see BENCHMARKS.md).

use js_sys::{Promise, Uint8Array};
use wasm_bindgen::prelude::wasm_bindgen;
use wasm_bindgen::JsCast as _;
use wasm_bindgen_futures::JsFuture;
use web_sys::{AbortSignal, Headers, RequestInit};

#[wasm_bindgen]
extern "C" {
    /// The global `fetch(url, init)`.
    #[wasm_bindgen(js_name = fetch)]
    fn global_fetch(url: &str, init: &RequestInit) -> Promise;

    /// A Durable Object stub of a [`crate::session_object::SessionObject`].
    #[derive(Debug)]
    pub(crate) type ObjectStub;
    /// Its RPC method (`SessionObject::rpc`): `[status, body]`.
    #[wasm_bindgen(method, js_name = rpc)]
    fn rpc(this: &ObjectStub, method: &str, path: &str, body: Option<String>) -> Promise;
}

/// Why a request has no answer (no detail: the callers map it to their own errors).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Failed;

/// A request to send.
#[derive(Debug)]
pub(crate) struct Outgoing<'a> {
    pub(crate) method: &'a str,
    pub(crate) headers: &'a [(&'a str, &'a str)],
    pub(crate) body: Option<&'a [u8]>,
    /// Aborted after this many milliseconds (`AbortSignal.timeout`).
    pub(crate) timeout_ms: Option<u32>,
}

impl Outgoing<'_> {
    fn init(&self) -> Result<RequestInit, Failed> {
        let init = RequestInit::new();
        init.set_method(self.method);
        if !self.headers.is_empty() {
            let headers = Headers::new().map_err(|_| Failed)?;
            for (name, value) in self.headers {
                headers.set(name, value).map_err(|_| Failed)?;
            }
            init.set_headers(&headers);
        }
        if let Some(body) = self.body {
            init.set_body(&Uint8Array::from(body));
        }
        if let Some(ms) = self.timeout_ms {
            init.set_signal(Some(&AbortSignal::timeout_with_u32(ms)));
        }
        Ok(init)
    }
}

/// An answer, read whole.
#[derive(Debug)]
pub(crate) struct Reply {
    pub(crate) status: u16,
    /// `None` for the session object's answers (see [`call_object`]).
    headers: Option<Headers>,
    pub(crate) body: Vec<u8>,
}

impl Reply {
    /// The header `name` (several of the same name joined by ", ", as `Headers.get` does).
    pub(crate) fn header(&self, name: &str) -> Option<String> {
        self.headers.as_ref()?.get(name).ok().flatten()
    }

    /// The body as JSON.
    pub(crate) fn json<T: serde::de::DeserializeOwned>(&self) -> worker::Result<T> {
        Ok(serde_json::from_slice(&self.body)?)
    }
}

/// A request's body as JSON, parsed inside the wasm. (`worker::Request::json` has JavaScript parse
/// it, then converts the object into Rust one field at a time, a call across for each: about 150
/// calls per `pay` between the worker's body and the object's op.)
pub(crate) async fn json_body<T: serde::de::DeserializeOwned>(req: &mut crate::incoming::Incoming) -> worker::Result<T> {
    Ok(serde_json::from_slice(&req.bytes().await?)?)
}

/// Sends `request` to `url`.
pub(crate) async fn send(url: &str, request: &Outgoing<'_>) -> Result<Reply, Failed> {
    read(global_fetch(url, &request.init()?)).await
}

/// POSTs a form (`application/x-www-form-urlencoded;charset=utf-8`), given up after 10 s: every
/// Alipay and UnionPay call (orders, queries, refunds).
pub(crate) async fn post_form(url: &str, body: &str) -> Result<Reply, Failed> {
    let headers = [("Content-Type", "application/x-www-form-urlencoded;charset=utf-8")];
    send(url, &Outgoing { method: "POST", headers: &headers, body: Some(body.as_bytes()), timeout_ms: Some(PROVIDER_TIMEOUT_MS) }).await
}

/// How long a provider call may take before the worker gives up (a retryable error for the
/// shopper, a later try for the alarm).
pub(crate) const PROVIDER_TIMEOUT_MS: u32 = 10_000;

/// Calls the Durable Object behind `stub`: `method` `path` with `body` (its RPC method).
pub(crate) async fn call_object(stub: &ObjectStub, method: &str, path: &str, body: Option<String>) -> Result<Reply, Failed> {
    let answer = JsFuture::from(stub.rpc(method, path, body)).await.map_err(|_| Failed)?;
    let answer: js_sys::Array = answer.dyn_into().map_err(|_| Failed)?;
    let status = answer.get(0).as_f64().and_then(|s| u16::try_from(s as i64).ok()).ok_or(Failed)?;
    let body = answer.get(1).as_string().ok_or(Failed)?;
    Ok(Reply { status, headers: None, body: body.into_bytes() })
}

async fn read(answer: Promise) -> Result<Reply, Failed> {
    let response: web_sys::Response = JsFuture::from(answer)
        .await
        .map_err(|_| Failed)?
        .dyn_into()
        .map_err(|_| Failed)?;
    let buffer = JsFuture::from(response.array_buffer().map_err(|_| Failed)?)
        .await
        .map_err(|_| Failed)?;
    Ok(Reply {
        status: response.status(),
        headers: Some(response.headers()),
        body: Uint8Array::new(&buffer).to_vec(),
    })
}

/// A provider that gave no answer is unavailable (a retryable error; the alarm tries again).
impl From<Failed> for crate::providers::ProviderError {
    fn from(_: Failed) -> Self {
        Self::Unavailable
    }
}

impl From<Failed> for worker::Error {
    fn from(_: Failed) -> Self {
        Self::RustError("request failed".into())
    }
}
