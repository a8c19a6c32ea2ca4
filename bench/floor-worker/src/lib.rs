//! The floor of a worker written with the `worker` crate, for `bench/worker.mjs`: what the crate
//! and workerd cost before any of edgepay's own work. `GET /` answers "ok"; `GET /object` makes one
//! round trip to a Durable Object that writes one key, as edge-worker's session object does for
//! every transition (the JavaScript floor in bench/worker.mjs does the same in plain JavaScript).
//! Built by scripts/bench.sh into bench/floor-worker/build/; never deployed.

use worker::{
    durable_object, event, Context, DurableObject, Env, Request, Response, Result, State,
};

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

#[event(fetch)]
async fn fetch(mut req: Request, env: Env, _ctx: Context) -> Result<Response> {
    if req.method() == worker::Method::Post {
        req.bytes().await?;
    }
    if req.path() == "/object" {
        return env
            .durable_object("FLOOR")?
            .id_from_name("x")?
            .get_stub()?
            .fetch_with_str("https://object/")
            .await;
    }
    Response::ok("ok")
}
