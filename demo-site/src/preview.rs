//! The `?ua=` preview: the checkout as a shopper in another environment would get it.
//!
//! The worker decides which methods a shopper gets from the request's `User-Agent` and the
//! `X-Edgepay-Hints` header the widget sends. A browser cannot set its own `User-Agent` on a
//! `fetch`, and the widget has no option to send another one, so a preview mounts the widget with
//! this server as its endpoint (`/preview/{environment}`): the widget's two calls (read the
//! session, start a payment) are relayed to the worker with the environment's real User-Agent
//! (from `../shared/ua/visible.json`) and hints. Everything else about the session (the client
//! secret, the amount, the worker's answer) passes through unchanged.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path as UrlPath, State};
use axum::http::{header, HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};

use payment_core::form::escape_html;

use super::AppState;

/// One environment of the preview.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Preview {
    /// The `?ua=` value.
    pub(crate) name: &'static str,
    pub(crate) label: &'static str,
    /// A real User-Agent of the environment, verbatim from `../shared/ua/visible.json`.
    pub(crate) user_agent: &'static str,
    /// `X-Edgepay-Hints` as the widget would send them there.
    pub(crate) hints: &'static str,
    /// The same hints as `detectEnvironment(ua, hints)` takes them (JSON).
    pub(crate) detect_hints: &'static str,
    /// The environment payment-core names for it.
    pub(crate) environment: &'static str,
}

/// The environments of the preview, in the order the side-by-side page shows them.
pub(crate) const PREVIEWS: &[Preview] = &[
    Preview {
        name: "desktop",
        label: "Desktop browser · 电脑浏览器",
        user_agent: "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/98.0.4758.80 Safari/537.36 Edg/98.0.1108.43",
        hints: r#"{"max_touch_points":0,"platform":"MacIntel"}"#,
        detect_hints: r#"{"maxTouchPoints":0,"platform":"MacIntel"}"#,
        environment: "desktop_browser",
    },
    Preview {
        name: "phone",
        label: "Phone browser · 手机浏览器",
        user_agent: "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Mobile Safari/537.36",
        hints: r#"{"max_touch_points":5,"platform":"Linux armv8l"}"#,
        detect_hints: r#"{"maxTouchPoints":5,"platform":"Linux armv8l"}"#,
        environment: "mobile_browser",
    },
    Preview {
        name: "wechat",
        label: "WeChat · 微信内",
        user_agent: "Mozilla/5.0 (Linux; Android 12; ANY-AN00 Build/HONORANY-AN00; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/107.0.5304.141 Mobile Safari/537.36 XWEB/5049 MMWEBSDK/20230405 MMWEBID/7761 MicroMessenger/8.0.35.2360(0x28002353) WeChat/arm64 Weixin NetType/5G Language/zh_CN ABI/arm64",
        hints: r#"{"max_touch_points":5,"platform":"Linux armv8l"}"#,
        detect_hints: r#"{"maxTouchPoints":5,"platform":"Linux armv8l"}"#,
        environment: "wechat_inapp",
    },
    Preview {
        name: "alipay",
        label: "Alipay · 支付宝内",
        user_agent: "Mozilla/5.0 (iPhone; CPU iPhone OS 15_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/19F77 Ariver/1.1.0 AliApp(AP/10.2.65.8000) Nebula WK RVKType(1) AlipayDefined(nt:WIFI,ws:375|748|3.0) AlipayClient/10.2.65.8000 Language/zh-Hans Region/CN NebulaX/1.0.0",
        hints: r#"{"max_touch_points":5,"platform":"iPhone"}"#,
        detect_hints: r#"{"maxTouchPoints":5,"platform":"iPhone"}"#,
        environment: "alipay_inapp",
    },
    Preview {
        name: "miniprogram",
        label: "WeChat mini-program · 小程序",
        user_agent: "Mozilla/5.0 (Linux; Android 14; 23116PN5BC Build/UKQ1.230804.001; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/122.0.6261.120 Mobile Safari/537.36 XWEB/1220099 MMWEBSDK/20240404 MMWEBID/2445 MicroMessenger/8.0.49.2600(0x28003133) WeChat/arm64 Weixin NetType/4G Language/zh_CN ABI/arm64 MiniProgramEnv/android",
        hints: r#"{"max_touch_points":5,"platform":"Linux armv8l","wxjs_environment":"miniprogram"}"#,
        detect_hints: r#"{"maxTouchPoints":5,"platform":"Linux armv8l","wxjsEnvironment":"miniprogram"}"#,
        environment: "wechat_miniprogram",
    },
];

/// The preview named `name`.
pub(crate) fn preview(name: &str) -> Option<&'static Preview> {
    PREVIEWS.iter().find(|p| p.name == name)
}

/// The `?ua=` values, for a sentence.
pub(crate) fn preview_names() -> String {
    PREVIEWS.iter().map(|p| p.name).collect::<Vec<_>>().join(", ")
}

/// `?ua=` kept on the shop's links and forms while previewing.
pub(crate) fn ua_query(preview: Option<&Preview>) -> String {
    preview.map(|p| format!("?ua={}", p.name)).unwrap_or_default()
}

/// The links of the page's "preview the checkout as" bar.
pub(crate) fn preview_links(current: Option<&Preview>) -> String {
    let mut links = vec![format!(
        "<a href=\"/\"{}>this browser</a>",
        if current.is_none() { " aria-current=\"page\"" } else { "" }
    )];
    for p in PREVIEWS {
        let here = if current.is_some_and(|c| c.name == p.name) { " aria-current=\"page\"" } else { "" };
        links.push(format!("<a href=\"/?ua={}\" data-ua=\"{}\"{here}>{}</a>", p.name, p.name, escape_html(p.label)));
    }
    links.join(" · ")
}

/// The note on a previewed page: which User-Agent and hints the worker sees.
pub(crate) fn previewing(preview: Option<&Preview>) -> String {
    preview.map_or_else(String::new, |p| {
        format!(
            "Previewing as {} (<code>{}</code>): the worker sees this User-Agent and the hints <code>{}</code>.",
            escape_html(p.label),
            escape_html(p.user_agent),
            escape_html(p.hints)
        )
    })
}

/// The largest request body relayed (the widget's `pay` bodies are a few hundred bytes).
const MAX_BODY: usize = 16 * 1024;

/// `GET /preview/{name}/v1/sessions/{id}` and `POST /preview/{name}/v1/sessions/{id}/pay`: the
/// widget's calls, relayed to the worker as if made from the preview's environment. Any other
/// path is 404: this is not an open proxy.
pub(crate) async fn relay(
    State(state): State<Arc<AppState>>,
    UrlPath((name, rest)): UrlPath<(String, String)>,
    method: Method,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let Some(preview) = preview(&name) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let parts: Vec<&str> = rest.split('/').collect();
    let allowed = match (&method, parts.as_slice()) {
        (&Method::GET, ["v1", "sessions", id]) | (&Method::POST, ["v1", "sessions", id, "pay"]) => is_session_id(id),
        _ => false,
    };
    if !allowed || body.len() > MAX_BODY {
        return StatusCode::NOT_FOUND.into_response();
    }
    let mut request = state
        .http
        .request(method, format!("{}/{rest}", state.worker_url))
        .header(header::USER_AGENT, preview.user_agent)
        .header("X-Edgepay-Hints", preview.hints);
    for name in [header::AUTHORIZATION, header::CONTENT_TYPE] {
        if let Some(value) = headers.get(&name) {
            request = request.header(name, value);
        }
    }
    let Ok(answer) = request.body(body).send().await else {
        return (StatusCode::BAD_GATEWAY, "The shop could not reach the payment worker.").into_response();
    };
    let status = StatusCode::from_u16(answer.status().as_u16()).unwrap_or(StatusCode::BAD_GATEWAY);
    let content_type = answer.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("application/json").to_owned();
    match answer.bytes().await {
        Ok(bytes) => (status, [(header::CONTENT_TYPE, content_type), (header::CACHE_CONTROL, "no-store".to_owned())], bytes).into_response(),
        Err(_) => (StatusCode::BAD_GATEWAY, "The payment worker's answer was cut off.").into_response(),
    }
}

/// A session id as the worker makes them (`cs_` and base32).
fn is_session_id(id: &str) -> bool {
    id.len() <= 64 && id.starts_with("cs_") && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
}
