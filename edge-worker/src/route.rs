//! The HTTP API's routes: a method and a path to a handler, without building a router per request
//! (the `worker` crate's `Router` inserted every route into a fresh matcher on each request:
//! 0.05–0.1 ms of a request's CPU, see BENCHMARKS.md).

use worker::{Env, Method, Response, Result};

use crate::config::Config;
use crate::error::ApiError;
use crate::incoming::Incoming;
use crate::{audit, health, ledger, notify, oauth, pay, providers, refunds, sessions};

/// What a handler gets besides the request: the environment, the configuration (`data`) and the
/// session id of a `/v1/sessions/{id}…` path.
#[derive(Debug)]
pub(crate) struct RouteContext<D> {
    pub(crate) data: std::rc::Rc<D>,
    pub(crate) env: Env,
    id: Option<String>,
}

impl<D> RouteContext<D> {
    /// The path's parameter `name` (only `id` exists), as it appears in the path.
    pub(crate) fn param(&self, name: &str) -> Option<&String> {
        if name == "id" {
            self.id.as_ref()
        } else {
            None
        }
    }
}

/// The endpoints.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Endpoint {
    Health,
    CreateSession,
    GetSession,
    Events,
    Pay,
    MiniProgram,
    Refunds,
    Ledger,
    NotifyAlipay,
    NotifyWechatpay,
    NotifyUnionpay,
    OauthCallback,
    UnionpayReturn,
}

/// The API's routes: method, path (`{id}`: one non-empty segment, the session's id), endpoint.
/// (tests/js/openapi.test.mjs reads this table and checks it against the OpenAPI document.)
const ROUTES: &[(Method, &str, Endpoint)] = &[
    (Method::Get, "/v1/health", Endpoint::Health),
    (Method::Post, "/v1/sessions", Endpoint::CreateSession),
    (Method::Get, "/v1/sessions/{id}", Endpoint::GetSession),
    (Method::Get, "/v1/sessions/{id}/events", Endpoint::Events),
    (Method::Post, "/v1/sessions/{id}/pay", Endpoint::Pay),
    (Method::Post, "/v1/sessions/{id}/miniprogram", Endpoint::MiniProgram),
    (Method::Post, "/v1/refunds", Endpoint::Refunds),
    (Method::Get, "/v1/ledger", Endpoint::Ledger),
    (Method::Post, "/v1/notify/alipay", Endpoint::NotifyAlipay),
    (Method::Post, "/v1/notify/wechatpay", Endpoint::NotifyWechatpay),
    (Method::Get, oauth::CALLBACK_PATH, Endpoint::OauthCallback),
    (Method::Post, "/v1/notify/unionpay", Endpoint::NotifyUnionpay),
    (Method::Get, "/v1/unionpay/return", Endpoint::UnionpayReturn),
    (Method::Post, "/v1/unionpay/return", Endpoint::UnionpayReturn),
];

/// `path` against `pattern`: `Some(id)` when it matches (`id` is `{id}`'s segment, if any).
fn matches<'p>(pattern: &str, path: &'p str) -> Option<Option<&'p str>> {
    let mut id = None;
    let (mut want, mut have) = (pattern.split('/'), path.split('/'));
    loop {
        match (want.next(), have.next()) {
            (None, None) => return Some(id),
            (Some("{id}"), Some(segment)) if !segment.is_empty() => id = Some(segment),
            (Some(w), Some(h)) if w == h => {}
            _ => return None,
        }
    }
}

/// Where `method` and `path` lead: an endpoint and the path's session id, or the error to answer
/// (404 for a path that is none of the API's, 405 for a known path with another method).
fn resolve(method: &Method, path: &str) -> std::result::Result<(Endpoint, Option<String>), ApiError> {
    let mut known_path = false;
    for (route_method, pattern, endpoint) in ROUTES {
        if let Some(id) = matches(pattern, path) {
            if route_method == method {
                return Ok((*endpoint, id.map(str::to_owned)));
            }
            known_path = true;
        }
    }
    Err(if known_path { ApiError::MethodNotAllowed } else { ApiError::NotFound })
}

/// Runs the handler of `req`'s method and path (`method` and `path`, as the caller read them).
pub(crate) async fn dispatch(req: Incoming, method: &Method, path: &str, env: Env, config: std::rc::Rc<Config>) -> Result<Response> {
    let (endpoint, id) = match resolve(method, path) {
        Ok(found) => found,
        Err(error) => return error.into_response(),
    };
    let ctx = RouteContext { data: config, env, id };
    match endpoint {
        Endpoint::Health => health::get(req, ctx),
        Endpoint::CreateSession => sessions::create(req, ctx).await,
        Endpoint::GetSession => sessions::get(req, ctx).await,
        Endpoint::Events => audit::events(req, ctx).await,
        Endpoint::Pay => pay::pay(req, ctx).await,
        Endpoint::MiniProgram => providers::miniprogram::pay(req, ctx).await,
        Endpoint::Refunds => refunds::create(req, ctx).await,
        Endpoint::Ledger => ledger::list(req, ctx).await,
        Endpoint::NotifyAlipay => notify::alipay(req, ctx).await,
        Endpoint::NotifyWechatpay => notify::wechatpay(req, ctx).await,
        Endpoint::NotifyUnionpay => notify::unionpay(req, ctx).await,
        Endpoint::OauthCallback => oauth::callback(req, ctx).await,
        Endpoint::UnionpayReturn => providers::unionpay::return_page(req, ctx),
    }
}
