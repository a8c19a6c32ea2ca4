//! The widget's only connection: HTTP to the edge worker, with the session's client secret.
//!
//! Answers are read with the browser's own JSON parser and a few typed accessors (no serde in the
//! widget: it would double the size of what shoppers download).

use std::cell::RefCell;
use std::rc::Rc;

use js_sys::{Array, Object, Promise, Reflect};
use payment_core::environment::{ClientHints, Environment};
use payment_core::method::{BlockReason, Blocked, PaymentMethod};
use payment_core::session::Status;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

use crate::i18n::cat;
use crate::state::Pending;

#[wasm_bindgen(module = "/js/io.js")]
extern "C" {
    fn request(url: &str, method: &str, authorization: &str, hints: &str, body: Option<String>) -> Promise;
    fn read(response: &Promise) -> Promise;
    fn load(key: &str) -> Option<String>;
    fn store(key: &str, value: Option<&str>);
}

/// Where the widget talks to, and with which credentials. Built once per mount.
#[derive(Debug, PartialEq)]
pub struct Connection {
    /// `{endpoint}/v1/sessions/{id}`.
    pub(crate) session_url: String,
    /// `Bearer {client_secret}`.
    pub(crate) authorization: String,
    /// The `X-Edgepay-Hints` header value: what only the browser knows about where it runs.
    pub(crate) hints: String,
    /// The first `GET` of the session, started by the JS loader while the wasm loaded: taken by
    /// the first load.
    pub(crate) prefetch: RefCell<Option<JsValue>>,
    /// The session as the merchant's server read it for this shopper (the loader's `sessionData`,
    /// when this browser's detection agrees): the first render shows it, nothing is asked.
    pub(crate) given: RefCell<Option<Rc<SessionView>>>,
}

impl Connection {
    /// A connection to `endpoint` (no trailing slash) for one session.
    pub(crate) fn new(endpoint: &str, session: &str, client_secret: &str, prefetch: Option<JsValue>, given: &JsValue) -> Self {
        Self {
            session_url: cat(&[endpoint, "/v1/sessions/", session]),
            authorization: cat(&["Bearer ", client_secret]),
            hints: hints_header(&hints_here()),
            prefetch: RefCell::new(prefetch),
            given: RefCell::new(parse_session(given).map(Rc::new)),
        }
    }
}

/// Why a call to the worker did not give the answer the widget wanted.
#[derive(Debug, Clone, PartialEq)]
pub enum ApiError {
    /// The worker could not be reached (offline, DNS, refused, CORS refusal).
    Unreachable,
    /// The worker answered, but not with what the widget understands.
    BadAnswer,
    /// The worker's error answer `{"error":{"code","message","retryable"}}`.
    Worker {
        /// The stable code, e.g. `session_not_found`.
        code: Rc<str>,
        /// Whether trying again may work.
        retryable: bool,
    },
}

impl ApiError {
    /// The code given to the host page (`edgepay:failure`).
    pub(crate) fn code(&self) -> &str {
        match self {
            Self::Unreachable => "unreachable",
            Self::BadAnswer => "bad_answer",
            Self::Worker { code, .. } => code,
        }
    }

    /// Whether the same request may work when tried again.
    pub(crate) fn retryable(&self) -> bool {
        match self {
            Self::Unreachable | Self::BadAnswer => true,
            Self::Worker { retryable, .. } => *retryable,
        }
    }
}

/// What the widget shows of a session (`GET /v1/sessions/{id}`).
#[derive(Debug, Clone, PartialEq)]
pub struct SessionView {
    /// Where the session stands.
    pub status: Status,
    /// The amount in fen.
    pub amount: u64,
    /// What the shopper buys.
    pub description: String,
    /// Unix seconds after which the session cannot be paid.
    pub expires_at: u64,
    /// Where the worker thinks the shopper is.
    pub environment: Option<Environment>,
    /// The methods that work here, likeliest first.
    pub methods: Vec<PaymentMethod>,
    /// The session's other methods and why they do not work here.
    pub blocked: Vec<Blocked>,
}

/// `GET /v1/sessions/{id}`; `prefetched` is the same request already started by the JS loader
/// while the WebAssembly was loading.
pub(crate) async fn session(conn: &Connection, prefetched: Option<Promise>) -> Result<SessionView, ApiError> {
    let response = match prefetched {
        Some(promise) => promise,
        None => send(conn, "GET", "", None),
    };
    let body = answer(response).await?;
    parse_session(&body).ok_or(ApiError::BadAnswer)
}

/// What the widget does next to let the shopper pay: the worker's answer to `pay`
/// (edge-worker `providers::NextAction`).
#[derive(Debug, Clone, PartialEq)]
pub enum NextAction {
    /// Show `data` as a QR code until `expires_at` (Unix seconds).
    Qr {
        /// The code's content (WeChat `code_url`, Alipay `qr_code`).
        data: String,
        /// Unix seconds.
        expires_at: u64,
    },
    /// Go to `url` (WeChat H5, Alipay wap/page).
    Redirect {
        /// Where.
        url: String,
    },
    /// Submit `fields` to `action` (Alipay and UnionPay forms).
    Form {
        /// The form's target.
        action: String,
        /// `POST` or `GET`.
        method: String,
        /// The fields, in order: `[[name, value], …]`.
        fields: JsValue,
    },
    /// `WeixinJSBridge.invoke('getBrandWCPayRequest', params)`.
    Jsapi {
        /// As the worker signed them.
        params: JsValue,
    },
    /// WeChat's sign-in first (the payer's openid); it comes back to this page.
    Oauth {
        /// WeChat's authorize URL.
        url: String,
    },
    /// `wx.miniProgram.navigateTo({url: path})`.
    Miniprogram {
        /// The merchant's mini-program page, with the session id.
        path: String,
    },
}

fn parse_action(body: &JsValue) -> Option<NextAction> {
    let text = |key| string(body, key);
    Some(match text("type")?.as_str() {
        "qr" => NextAction::Qr { data: text("data")?, expires_at: whole(get(body, "expires_at").as_f64()?)? },
        "redirect" => NextAction::Redirect { url: text("url")? },
        "form" => {
            let fields = Some(get(body, "fields")).filter(Array::is_array)?;
            NextAction::Form { action: text("action")?, method: text("method")?, fields }
        }
        "jsapi" => NextAction::Jsapi { params: Some(get(body, "params")).filter(JsValue::is_object)? },
        "oauth" => NextAction::Oauth { url: text("url")? },
        "miniprogram" => NextAction::Miniprogram { path: text("path")? },
        _ => return None,
    })
}

/// `POST /v1/sessions/{id}/pay {method, environment, page_url}`: asks the worker to start a payment.
/// Resolves with the worker's next action.
pub(crate) async fn pay(conn: &Connection, method: PaymentMethod, environment: Option<Environment>) -> Result<NextAction, ApiError> {
    let body = Object::new();
    set(&body, "method", &method.as_str().into());
    if let Some(environment) = environment {
        set(&body, "environment", &environment.as_str().into());
    }
    // Where the worker sends the shopper back to after a provider's page (H5, OAuth).
    if let Some(page) = web_sys::window().and_then(|w| w.location().href().ok()) {
        set(&body, "page_url", &page.into());
    }
    let json = js_sys::JSON::stringify(&body).map_err(|_| ApiError::BadAnswer)?;
    let answer = answer(send(conn, "POST", "/pay", Some(json.into()))).await?;
    parse_action(&answer).ok_or(ApiError::BadAnswer)
}

/// The `sessionStorage` key of this session's unfinished payment.
fn pending_key(conn: &Connection) -> String {
    cat(&["edgepay:pending:", conn.session_url.as_str()])
}

/// Notes, before the browser leaves for a provider's page, the payment to carry on when it comes
/// back (`"paying:alipay_page"`, `"signing_in:wechat_jsapi"`).
pub(crate) fn remember(conn: &Connection, pending: Pending) {
    let (kind, method) = match pending {
        Pending::Paying(method) => ("paying:", method),
        Pending::SigningIn(method) => ("signing_in:", method),
    };
    store(&pending_key(conn), Some(&cat(&[kind, method.as_str()])));
}

/// The payment this page was left for, if any.
pub(crate) fn recall(conn: &Connection) -> Option<Pending> {
    let value = load(&pending_key(conn))?;
    let (kind, method) = value.split_once(':')?;
    let method = method.parse().ok()?;
    match kind {
        "paying" => Some(Pending::Paying(method)),
        "signing_in" => Some(Pending::SigningIn(method)),
        _ => None,
    }
}

/// Forgets the unfinished payment (paid, given up, or carried on).
pub(crate) fn forget(conn: &Connection) {
    store(&pending_key(conn), None);
}

fn send(conn: &Connection, method: &str, suffix: &str, body: Option<String>) -> Promise {
    request(&cat(&[conn.session_url.as_str(), suffix]), method, &conn.authorization, &conn.hints, body)
}

/// Waits for a `fetch` and reads its JSON: the body of a 2xx answer, or the worker's error.
async fn answer(response: Promise) -> Result<JsValue, ApiError> {
    let answer = JsFuture::from(read(&response)).await.map_err(|_| ApiError::Unreachable)?;
    let body = get(&answer, "body");
    if body.is_undefined() {
        return Err(ApiError::BadAnswer);
    }
    if get(&answer, "ok").is_truthy() {
        return Ok(body);
    }
    let error = get(&body, "error");
    let code = string(&error, "code").ok_or(ApiError::BadAnswer)?;
    Err(ApiError::Worker { code: code.into(), retryable: get(&error, "retryable").is_truthy() })
}

/// A JSON value as the widget reads it: the browser's parse (`JsValue`), or serde_json's when a
/// server prerenders the widget (`prerender`). One reader of the session for both.
pub(crate) trait Json: Sized {
    /// `self[key]` (nothing when `self` is not an object).
    fn field(&self, key: &str) -> Self;
    /// The string, if `self` is one.
    fn text(&self) -> Option<String>;
    /// The number, if `self` is one.
    fn number(&self) -> Option<f64>;
    /// The items, if `self` is an array.
    fn items(&self) -> Option<Vec<Self>>;
}

impl Json for JsValue {
    fn field(&self, key: &str) -> Self {
        get(self, key)
    }
    fn text(&self) -> Option<String> {
        self.as_string()
    }
    fn number(&self) -> Option<f64> {
        self.as_f64()
    }
    fn items(&self) -> Option<Vec<Self>> {
        Array::is_array(self).then(|| Array::from(self).iter().collect())
    }
}

/// The session as `GET /v1/sessions/{id}` answers it.
pub(crate) fn parse_session<J: Json>(body: &J) -> Option<SessionView> {
    let status = body.field("status").text()?;
    let status = STATUSES.into_iter().find(|s| s.as_str() == status)?;
    let environment = body.field("environment").field("environment").text().and_then(|e| e.parse().ok());
    let blocked = body
        .field("blocked")
        .items()?
        .iter()
        .filter_map(|b| {
            let method = b.field("method").text()?.parse().ok()?;
            let reason = b.field("reason").text()?;
            let reason = BlockReason::ALL.into_iter().find(|r| r.as_str() == reason)?;
            Some(Blocked { method, reason })
        })
        .collect();
    Some(SessionView {
        status,
        amount: whole(body.field("amount").number()?)?,
        description: body.field("description").text().unwrap_or_default(),
        expires_at: whole(body.field("expires_at").number()?)?,
        environment,
        // Names this widget does not know yet are skipped: a newer worker must not break it.
        methods: body.field("methods").items()?.iter().filter_map(|m| m.text()?.parse().ok()).collect(),
        blocked,
    })
}

const STATUSES: [Status; 8] = [
    Status::Open,
    Status::Processing,
    Status::Paid,
    Status::PartiallyRefunded,
    Status::Refunded,
    Status::Failed,
    Status::Expired,
    Status::Closed,
];

/// What only the browser knows: touch points, the mini-program flag, the platform.
pub(crate) fn hints_here() -> ClientHints {
    let Some(window) = web_sys::window() else {
        return ClientHints::default();
    };
    let navigator = window.navigator();
    ClientHints {
        max_touch_points: u32::try_from(navigator.max_touch_points()).ok(),
        wxjs_environment: string(&window, "__wxjs_environment"),
        platform: navigator.platform().ok().filter(|p| !p.is_empty()),
    }
}

/// Hints given by a host page (`{maxTouchPoints, wxjsEnvironment, platform}`, or the snake_case
/// names of the `X-Edgepay-Hints` header).
pub(crate) fn hints_from(value: &JsValue) -> ClientHints {
    let either = |camel: &str, snake: &str| {
        let v = get(value, camel);
        if v.is_undefined() {
            get(value, snake)
        } else {
            v
        }
    };
    ClientHints {
        max_touch_points: either("maxTouchPoints", "max_touch_points").as_f64().and_then(whole).and_then(|n| u32::try_from(n).ok()),
        wxjs_environment: either("wxjsEnvironment", "wxjs_environment").as_string(),
        platform: get(value, "platform").as_string(),
    }
}

/// The `X-Edgepay-Hints` JSON, e.g. `{"max_touch_points":5,"platform":"iPhone"}`.
fn hints_header(hints: &ClientHints) -> String {
    let object = Object::new();
    if let Some(n) = hints.max_touch_points {
        set(&object, "max_touch_points", &n.into());
    }
    if let Some(env) = &hints.wxjs_environment {
        set(&object, "wxjs_environment", &env.as_str().into());
    }
    if let Some(platform) = &hints.platform {
        set(&object, "platform", &platform.as_str().into());
    }
    js_sys::JSON::stringify(&object).map(String::from).unwrap_or_default()
}

/// `value[key]`, `undefined` when `value` is not an object.
pub(crate) fn get(value: &JsValue, key: &str) -> JsValue {
    if value.is_object() {
        Reflect::get(value, &key.into()).unwrap_or(JsValue::UNDEFINED)
    } else {
        JsValue::UNDEFINED
    }
}

/// `value[key]` when it is a string.
pub(crate) fn string(value: &JsValue, key: &str) -> Option<String> {
    get(value, key).as_string()
}

/// A non-negative whole number (amounts, timestamps) from a JS number.
fn whole(n: f64) -> Option<u64> {
    // 2^53: every whole number below it is exact in a JS number.
    ((0.0..9_007_199_254_740_992.0).contains(&n) && n == n.trunc()).then_some(n as u64)
}

/// `object[key] = value` on an object the widget made.
pub(crate) fn set(object: &Object, key: &str, value: &JsValue) {
    let _ = Reflect::set(object, &key.into(), value);
}
