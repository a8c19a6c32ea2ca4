//! Reading the body of a `Response` from `fetch` or a Durable Object in one native call
//! (`arrayBuffer()`): `worker::Response::bytes` reads the stream chunk by chunk through a reader
//! from Rust, which a CPU profile showed costing more than a pay's own logic.

use js_sys::Uint8Array;
use serde::de::DeserializeOwned;
use wasm_bindgen_futures::JsFuture;
use worker::{Error, Response, Result};

/// The whole body.
pub(crate) async fn bytes(response: &Response) -> Result<Vec<u8>> {
    let js = worker::web_sys::Response::from(response);
    let promise = js.array_buffer().map_err(|_| Error::RustError("body".into()))?;
    let buffer = JsFuture::from(promise).await.map_err(|_| Error::RustError("body".into()))?;
    Ok(Uint8Array::new(&buffer).to_vec())
}

/// The body as UTF-8 text.
pub(crate) async fn text(response: &Response) -> Result<String> {
    String::from_utf8(bytes(response).await?).map_err(|_| Error::RustError("body is not UTF-8".into()))
}

/// The body as JSON.
pub(crate) async fn json<T: DeserializeOwned>(response: &Response) -> Result<T> {
    serde_json::from_slice(&bytes(response).await?).map_err(Error::from)
}
