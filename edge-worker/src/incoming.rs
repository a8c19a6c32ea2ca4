//! The request a handler gets: the runtime's `Request` with its method, URL, path and headers
//! read once.
//!
//! `worker::Request::from` (what `#[event(fetch)]` hands a handler) also copies the request's `cf`
//! object, which this worker never reads: in the same harness, a `worker`-crate worker reading a
//! POST and answering takes 0.14–0.19 ms of its isolate with the crate's types, 0.09–0.12 ms with
//! the runtime's (`ISOLATE_PHASES=entries node bench/isolate.mjs`, BENCHMARKS.md). The worker's
//! entry is [`crate::fetch`], an export of its own.

use worker::{Headers, Method, Result};

/// An incoming HTTP request.
#[derive(Debug)]
pub(crate) struct Incoming {
    raw: web_sys::Request,
    headers: Headers,
    method: Method,
    url: String,
    /// The URL's path (no query, no fragment).
    path: String,
}

impl Incoming {
    pub(crate) fn new(raw: web_sys::Request) -> Self {
        let method = Method::from(raw.method());
        let url = raw.url();
        let path = path_of(&url).to_owned();
        Self { headers: Headers(raw.headers()), raw, method, url, path }
    }

    pub(crate) fn method(&self) -> Method {
        self.method.clone()
    }

    /// The URL's path, as `worker::Request::path` gives it.
    pub(crate) fn path(&self) -> String {
        self.path.clone()
    }

    /// The whole URL, parsed.
    ///
    /// # Errors
    /// A URL the runtime would not have handed over (never, in practice).
    pub(crate) fn url(&self) -> Result<worker::Url> {
        Ok(worker::Url::parse(&self.url)?)
    }

    /// The request's headers (each read of one is a call to the runtime).
    pub(crate) fn headers(&self) -> &Headers {
        &self.headers
    }

    /// The body, read whole (once).
    ///
    /// # Errors
    /// A body already read, or one the runtime could not read.
    pub(crate) async fn bytes(&mut self) -> Result<Vec<u8>> {
        let buffer = wasm_bindgen_futures::JsFuture::from(self.raw.array_buffer()?).await?;
        Ok(js_sys::Uint8Array::new(&buffer).to_vec())
    }

    /// The body as text, read whole (once), bytes that are not UTF-8 replaced by U+FFFD (as the
    /// runtime's `Request.text()` does, and `worker::Request::text` with it).
    ///
    /// # Errors
    /// As [`Incoming::bytes`].
    pub(crate) async fn text(&mut self) -> Result<String> {
        let bytes = self.bytes().await?;
        Ok(match String::from_utf8(bytes) {
            Ok(text) => text,
            Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
        })
    }
}

/// The path of a serialized WHATWG URL (what the runtime's `Request.url` is): from the first `/`
/// after the host to the query or fragment (`?` and `#` inside a path are always percent-encoded).
fn path_of(url: &str) -> &str {
    let after_scheme = url.find("://").map_or(0, |i| i + 3);
    let rest = &url[after_scheme..];
    let Some(start) = rest.find('/') else {
        return "/";
    };
    let path = &rest[start..];
    let end = path.find(['?', '#']).unwrap_or(path.len());
    &path[..end]
}
