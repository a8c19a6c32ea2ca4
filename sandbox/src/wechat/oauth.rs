//! WeChat OAuth for official-account pages, `snsapi_base` only: how a JSAPI payer's `openid` is
//! obtained (<https://developers.weixin.qq.com/doc/offiaccount/OA_Web_Apps/Wechat_webpage_authorization.html>).
//!
//! - `GET /connect/oauth2/authorize?appid=&redirect_uri=&response_type=code&scope=snsapi_base&state=`
//!   (`#wechat_redirect` stays in the browser): inside WeChat (User-Agent `MicroMessenger`), `302` to
//!   `redirect_uri?code=CODE&state=STATE`; otherwise WeChat's error page.
//! - `GET /sns/oauth2/access_token?appid=&secret=&code=&grant_type=authorization_code`:
//!   `{access_token, expires_in, refresh_token, openid, scope}` or `{errcode, errmsg}` (HTTP 200, as
//!   the real API answers).
//!
//! Codes are single-use and live five minutes. The openid is stable per (appid, browser): the
//! authorize page sets a `sandbox_wechat_uin` cookie (the browser's "WeChat user") and the openid
//! is `o` + 27 characters of base64url(SHA-256(appid ‖ uin)).

use std::collections::HashMap;
use std::sync::{LazyLock, Mutex};

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::Json;
use base64::Engine as _;
use payment_core::crypto::constant_time_eq;
use payment_core::wechatpay::canonical::encode_component;
use sha2::{Digest as _, Sha256};

use super::is_web_url;
use crate::app::{lock, now, random_token, with_verdict, Shared};
use crate::cashier::escape;

/// How long a code may be exchanged.
const CODE_LIFETIME_SECS: u64 = 300;
/// The cookie that stands for the WeChat user of a browser.
const UIN_COOKIE: &str = "sandbox_wechat_uin";

#[derive(Debug)]
struct Code {
    appid: String,
    openid: String,
    issued_at: u64,
    used: bool,
}

static CODES: LazyLock<Mutex<HashMap<String, Code>>> = LazyLock::new(Mutex::default);

/// The openid of the WeChat user `uin` under `appid`.
fn openid(appid: &str, uin: &str) -> String {
    let digest = Sha256::new().chain_update(appid.as_bytes()).chain_update(b"\0").chain_update(uin.as_bytes()).finalize();
    let encoded = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(digest);
    format!("o{}", &encoded[..27])
}

fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all("cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(n, v)| *n == name && !v.is_empty() && v.bytes().all(|b| b.is_ascii_alphanumeric()))
        .map(|(_, v)| v.to_owned())
}

/// WeChat's error page for a refused authorization.
fn error_page(status: StatusCode, errcode: u32, errmsg: &str) -> Response {
    let html = Html(format!(
        r#"<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>微信网页授权</title></head>
<body style="font-family:sans-serif;padding:48px 16px;text-align:center"><h2>Oops! Something went wrong:(</h2>
<p data-errcode="{errcode}">{errcode} {msg}</p><p style="color:#888;font-size:13px">edgepay sandbox</p></body></html>"#,
        msg = escape(errmsg),
    ));
    with_verdict((status, html), format!("oauth authorize: {errcode} {errmsg}"))
}

pub(super) async fn authorize(State(state): State<Shared>, headers: HeaderMap, Query(q): Query<HashMap<String, String>>) -> Response {
    let param = |name: &str| q.get(name).map(String::as_str).filter(|v| !v.is_empty());
    let Some(appid) = param("appid") else {
        return error_page(StatusCode::BAD_REQUEST, 10012, "appid不能为空 (appid missing)");
    };
    if appid != state.keys.file.wechatpay.appid {
        return error_page(StatusCode::BAD_REQUEST, 40013, "invalid appid");
    }
    let Some(redirect_uri) = param("redirect_uri") else {
        return error_page(StatusCode::BAD_REQUEST, 10011, "redirect_uri不能为空 (redirect_uri missing)");
    };
    if !is_web_url(redirect_uri) {
        return error_page(StatusCode::BAD_REQUEST, 10003, "redirect_uri域名与后台配置不一致 (redirect_uri is not an http(s) URL)");
    }
    if param("response_type") != Some("code") {
        return error_page(StatusCode::BAD_REQUEST, 10001, "response_type 应为 code (response_type must be code)");
    }
    match param("scope") {
        None => return error_page(StatusCode::BAD_REQUEST, 10010, "scope不能为空 (scope missing)"),
        Some("snsapi_base") => {}
        Some(_) => return error_page(StatusCode::FORBIDDEN, 10005, "此公众号并没有这些scope的权限 (the sandbox grants snsapi_base only)"),
    }
    let state_param = q.get("state").map(String::as_str).unwrap_or_default();
    if state_param.len() > 128 {
        return error_page(StatusCode::BAD_REQUEST, 10014, "state 不能超过128字节 (state too long)");
    }
    let user_agent = headers.get("user-agent").and_then(|v| v.to_str().ok()).unwrap_or_default();
    if !user_agent.contains("MicroMessenger") {
        return error_page(StatusCode::FORBIDDEN, 10008, "请在微信客户端打开链接 (open this link inside WeChat: User-Agent MicroMessenger)");
    }

    let (uin, new_uin) = match cookie(&headers, UIN_COOKIE) {
        Some(uin) => (uin, false),
        None => (random_token(24), true),
    };
    let code = random_token(32);
    {
        let mut codes = lock(&CODES);
        let now = now();
        codes.retain(|_, c| now <= c.issued_at + CODE_LIFETIME_SECS);
        codes.insert(code.clone(), Code { appid: appid.to_owned(), openid: openid(appid, &uin), issued_at: now, used: false });
    }
    let (base, fragment) = redirect_uri.split_once('#').map_or((redirect_uri, None), |(b, f)| (b, Some(f)));
    let separator = if base.contains('?') { '&' } else { '?' };
    let mut location = format!("{base}{separator}code={code}&state={}", encode_component(state_param));
    if let Some(fragment) = fragment {
        location.push('#');
        location.push_str(fragment);
    }
    let mut builder = Response::builder().status(StatusCode::FOUND).header("Location", location);
    if new_uin {
        builder = builder.header("Set-Cookie", format!("{UIN_COOKIE}={uin}; Path=/; Max-Age=31536000; HttpOnly; SameSite=Lax"));
    }
    builder.body(axum::body::Body::empty()).unwrap_or_else(|_| StatusCode::INTERNAL_SERVER_ERROR.into_response())
}

fn api_error(errcode: u32, errmsg: &str) -> Response {
    let rid = random_token(24).to_ascii_lowercase();
    let body = serde_json::json!({ "errcode": errcode, "errmsg": format!("{errmsg}, rid: {}-{}-{}", &rid[..8], &rid[8..16], &rid[16..]) });
    with_verdict(Json(body), format!("oauth access_token: {errcode} {errmsg}"))
}

pub(super) async fn access_token(State(state): State<Shared>, Query(q): Query<HashMap<String, String>>) -> Response {
    let param = |name: &str| q.get(name).map(String::as_str).filter(|v| !v.is_empty());
    let keys = &state.keys.file.wechatpay;
    let Some(appid) = param("appid") else { return api_error(41002, "appid missing") };
    if appid != keys.appid {
        return api_error(40013, "invalid appid");
    }
    let Some(secret) = param("secret") else { return api_error(41004, "appsecret missing") };
    if !constant_time_eq(secret.as_bytes(), keys.app_secret.as_bytes()) {
        return api_error(40125, "invalid appsecret");
    }
    let Some(code) = param("code") else { return api_error(41008, "missing code") };
    if param("grant_type") != Some("authorization_code") {
        return api_error(40002, "invalid grant_type");
    }
    let openid = {
        let mut codes = lock(&CODES);
        match codes.get_mut(code) {
            Some(c) if c.appid == appid && now() <= c.issued_at + CODE_LIFETIME_SECS => {
                if c.used {
                    return api_error(40163, "code been used");
                }
                c.used = true;
                c.openid.clone()
            }
            _ => return api_error(40029, "invalid code"),
        }
    };
    Json(serde_json::json!({
        "access_token": random_token(86),
        "expires_in": 7200,
        "refresh_token": random_token(86),
        "openid": openid,
        "scope": "snsapi_base",
    }))
    .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn openids_are_stable_per_app_and_user_and_look_real() {
        let a = openid("wxd678efh567hg6787", "uin1");
        assert_eq!(a, openid("wxd678efh567hg6787", "uin1"));
        assert_ne!(a, openid("wxd678efh567hg6787", "uin2"));
        assert_ne!(a, openid("wx0000000000000000", "uin1"));
        assert_eq!(a.len(), 28);
        assert!(a.starts_with('o'));
        assert!(payment_core::wechatpay::model::OpenId::new(a).is_ok());
    }
}
