//! The floor of a worker written with the `worker` crate, for `bench/worker.mjs` and
//! `bench/isolate.mjs`: what the crate, wasm-bindgen and workerd cost before any of edgepay's own
//! work. `GET /` answers "ok"; `GET /object` makes one round trip to a Durable Object that writes
//! one key (its `fetch`); `POST /post` reads the body and answers; `POST /rpc?id=…` reads the body
//! and hands it to the Durable Object named `id` over Workers RPC (`op`), which parses it as JSON,
//! stores it and answers `[status, text]` — the shape of edge-worker's callback path
//! (`SessionObject::rpc`), the least a verified callback costs in Rust. The JavaScript floors in
//! bench/worker.mjs and bench/isolate.mjs do the same in plain JavaScript. `POST /price?…` and the
//! exports `raw_post`, `cf_post`, `answer_post`, `crate_post` and `sync_post` serve
//! bench/isolate.mjs's `entries` phase (the entry's cost by layer, single prices).
//! Built by scripts/bench.sh into bench/floor-worker/build/ (entry: bench/floor-worker/js/entry.mjs,
//! as edge-worker's); never deployed.

use wasm_bindgen::prelude::wasm_bindgen;
use wasm_bindgen::{JsCast as _, JsValue};
use wasm_bindgen_futures::JsFuture;
use worker::{durable_object, event, Context, DurableObject, Env, Request, Response, Result, State};

#[wasm_bindgen]
extern "C" {
    /// A stub of [`Floor`], with its RPC method.
    type FloorStub;
    #[wasm_bindgen(method, js_name = op)]
    fn op(this: &FloorStub, text: String) -> js_sys::Promise;
}

/// One Durable Object that writes one key per request.
#[durable_object]
#[derive(Debug)]
pub struct Floor {
    state: State,
}

impl DurableObject for Floor {
    fn new(state: State, _env: Env) -> Self {
        Self { state }
    }

    async fn fetch(&self, _req: Request) -> Result<Response> {
        self.state.storage().put("k", 1).await?;
        Response::ok("ok")
    }
}

#[wasm_bindgen]
impl Floor {
    /// Parses `text` as JSON, stores it, answers `[200, the number of its fields]`.
    ///
    /// # Errors
    /// Text that is not a JSON object, or a failed write.
    #[wasm_bindgen(js_name = op)]
    pub async fn rpc_op(&self, text: String) -> std::result::Result<JsValue, JsValue> {
        let value: serde_json::Map<String, serde_json::Value> = serde_json::from_str(&text).map_err(|e| JsValue::from_str(&e.to_string()))?;
        let put = self.state.storage().as_raw().put("value", JsValue::from_str(&text))?;
        JsFuture::from(put).await?;
        Ok(js_sys::Array::of2(&JsValue::from(200), &JsValue::from(value.len())).into())
    }
}

#[event(fetch)]
async fn fetch(mut req: Request, env: Env, _ctx: Context) -> Result<Response> {
    let path = req.path();
    if path == "/rpc" {
        let text = req.text().await?;
        let id = req.url()?.query_pairs().find(|(k, _)| k == "id").map(|(_, v)| v.into_owned()).unwrap_or_default();
        let stub = env.durable_object("FLOOR")?.id_from_name(&id)?.get_stub()?.into_rpc::<FloorStub>();
        let op = serde_json::json!({ "n": text.len() }).to_string();
        let answer: js_sys::Array = JsFuture::from(stub.op(op)).await?.dyn_into()?;
        return Response::ok(if answer.get(0).as_f64() == Some(200.0) { "success" } else { "fail" });
    }
    if req.method() == worker::Method::Post {
        req.bytes().await?;
    }
    if path == "/price" {
        // Prices, for bench/isolate.mjs's `entries` phase: `POST /post` plus `calls` calls out of
        // the wasm (`Date.now`), `awaits` awaits of a resolved JavaScript promise, `logs` log
        // lines, `sha` SHA-256s and `json` JSON round trips (each request makes their inputs).
        let url = req.url()?;
        let count = |name: &str| url.query_pairs().find(|(k, _)| k == name).and_then(|(_, v)| v.parse::<u32>().ok()).unwrap_or(0);
        let mut sum = 0.0;
        for _ in 0..count("calls") {
            sum += js_sys::Date::now();
        }
        for _ in 0..count("awaits") {
            JsFuture::from(js_sys::Promise::resolve(&JsValue::NULL)).await?;
        }
        for _ in 0..count("logs") {
            worker::console_log!("{}", r#"{"level":"info","event":"callback","method":"POST","path":"/v1/notify/alipay","status":200}"#);
        }
        // Work inside the wasm: a SHA-256 of 2 KiB (a UnionPay notification's signed text), a
        // parse and a serialization of a 2 KiB JSON object (a session's stored record).
        let text = "x".repeat(2048);
        for _ in 0..count("sha") {
            use sha2::Digest as _;
            sum += f64::from(sha2::Sha256::digest(text.as_bytes())[0]);
        }
        let record = serde_json::json!({ "session": { "id": "cs_0123456789abcdef01234567", "amount": 6800, "status": "processing",
            "attempts": [{ "out_trade_no": "EP0123456789ABCDEF01234567ABCDEF", "method": "alipay_qr", "started_at": 1_795_000_000 }] },
            "description": "x".repeat(1600), "methods": ["alipay_qr", "wechat_native"], "request_hash": "0".repeat(64) }).to_string();
        for _ in 0..count("json") {
            let value: serde_json::Value = serde_json::from_str(&record)?;
            sum += value.to_string().len() as f64;
        }
        return Response::ok(if sum >= 0.0 { "success" } else { "fail" });
    }
    if path == "/object" {
        return env.durable_object("FLOOR")?.id_from_name("x")?.get_stub()?.fetch_with_str("https://object/").await;
    }
    Response::ok("ok")
}

/// Diagnosis (bench/isolate.mjs's `entries` phase, through an entry module that calls it):
/// `POST /post` read and answered by wasm-bindgen alone, without the `worker` crate's event glue
/// or types — the request's body read in Rust, the answer built in Rust.
///
/// # Errors
/// A body that cannot be read.
#[wasm_bindgen]
pub async fn raw_post(req: web_sys::Request) -> std::result::Result<web_sys::Response, JsValue> {
    let body = JsFuture::from(req.array_buffer()?).await?;
    let bytes = js_sys::Uint8Array::new(&body).to_vec();
    web_sys::Response::new_with_opt_str(Some(if bytes.is_empty() { "empty" } else { "success" }))
}

/// Diagnosis, as [`raw_post`]: the body read by JavaScript and handed over, the answer's text
/// handed back; no promise crosses into the wasm.
#[wasm_bindgen]
#[must_use]
pub fn sync_post(body: &[u8]) -> String {
    (if body.is_empty() { "empty" } else { "success" }).to_owned()
}

/// Diagnosis, as [`raw_post`], with the `worker` crate's `Request` and `Response` (converted from
/// and to the runtime's) but without its event glue.
///
/// # Errors
/// A body that cannot be read.
#[wasm_bindgen]
pub async fn crate_post(req: web_sys::Request) -> std::result::Result<web_sys::Response, JsValue> {
    let mut req = Request::from(req);
    let bytes = req.bytes().await?;
    Ok(Response::ok(if bytes.is_empty() { "empty" } else { "success" })?.into())
}

/// Diagnosis, as [`raw_post`], reading the request's `cf` property too (as
/// `worker::Request::from` does).
///
/// # Errors
/// A body that cannot be read.
#[wasm_bindgen]
pub async fn cf_post(req: web_sys::Request) -> std::result::Result<web_sys::Response, JsValue> {
    use worker::worker_sys::ext::RequestExt as _;
    let cf = req.cf();
    let body = JsFuture::from(req.array_buffer()?).await?;
    let bytes = js_sys::Uint8Array::new(&body).to_vec();
    web_sys::Response::new_with_opt_str(Some(if bytes.is_empty() || cf.is_some() && bytes.len() == 1 { "empty" } else { "success" }))
}

/// Diagnosis, as [`raw_post`], answering with the `worker` crate's `Response`.
///
/// # Errors
/// A body that cannot be read.
#[wasm_bindgen]
pub async fn answer_post(req: web_sys::Request) -> std::result::Result<web_sys::Response, JsValue> {
    let body = JsFuture::from(req.array_buffer()?).await?;
    let bytes = js_sys::Uint8Array::new(&body).to_vec();
    Ok(Response::ok(if bytes.is_empty() { "empty" } else { "success" })?.into())
}
