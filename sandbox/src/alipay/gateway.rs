//! `/gateway.do`: reading the parameters, the common checks, the signature, the answer.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::header::{CONTENT_TYPE, LOCATION};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{Html, IntoResponse, Response};
use payment_core::alipay::sign::{verify_request, SIGN_TYPE};
use payment_core::alipay::Method;
use payment_core::beijing_time::BeijingTime;
use payment_core::form::parse_urlencoded;

use super::trade;
use crate::app::{now, with_verdict, Shared};
use crate::cashier::escape;

/// How far `timestamp` may be from the gateway's clock, in seconds.
const TIMESTAMP_WINDOW: u64 = 15 * 60;

/// A refusal, as the gateway words it.
#[derive(Debug)]
pub(super) struct GatewayError {
    code: &'static str,
    msg: &'static str,
    sub_code: &'static str,
    sub_msg: String,
}

impl GatewayError {
    /// 40001 Missing Required Arguments.
    pub(super) fn missing(sub_code: &'static str, sub_msg: impl Into<String>) -> Self {
        Self { code: "40001", msg: "Missing Required Arguments", sub_code, sub_msg: sub_msg.into() }
    }

    /// 40002 Invalid Arguments.
    pub(super) fn invalid(sub_code: &'static str, sub_msg: impl Into<String>) -> Self {
        Self { code: "40002", msg: "Invalid Arguments", sub_code, sub_msg: sub_msg.into() }
    }

    /// 40004 Business Failed.
    pub(super) fn business(sub_code: &'static str, sub_msg: impl Into<String>) -> Self {
        Self { code: "40004", msg: "Business Failed", sub_code, sub_msg: sub_msg.into() }
    }

    /// 40004 `ACQ.INVALID_PARAMETER`: a `biz_content` field breaks its rule.
    pub(super) fn parameter(sub_msg: impl Into<String>) -> Self {
        Self::business("ACQ.INVALID_PARAMETER", sub_msg)
    }

    fn json(&self) -> serde_json::Value {
        serde_json::json!({ "code": self.code, "msg": self.msg, "sub_code": self.sub_code, "sub_msg": self.sub_msg })
    }

    fn verdict(&self) -> String {
        format!("{} {}: {}", self.code, self.sub_code, self.sub_msg)
    }
}

/// What a successful call answers.
#[derive(Debug)]
pub(super) enum Outcome {
    /// The method's result (`code` 10000 included), to sign.
    Json(serde_json::Value),
    /// The page methods: the browser goes on to the cashier.
    Redirect(String),
}

/// The value of a parameter; empty values count as absent, as in the string to sign.
pub(super) fn param<'a>(params: &'a [(String, String)], key: &str) -> Option<&'a str> {
    params.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str()).filter(|v| !v.is_empty())
}

/// `GET` or `POST /gateway.do`.
pub(super) async fn handle(State(state): State<Shared>, uri: Uri, headers: HeaderMap, body: Bytes) -> Response {
    let params = match read_params(&uri, &headers, &body) {
        Ok(params) => params,
        Err(e) => return answer(&state, None, Err(e)).await,
    };
    let method = match param(&params, "method") {
        None => return answer(&state, None, Err(GatewayError::missing("isv.missing-method", "缺少方法名参数"))).await,
        Some(name) => match Method::ALL.into_iter().find(|m| m.as_str() == name) {
            Some(method) => method,
            None => {
                let e = GatewayError::invalid("isv.invalid-method", "不存在的方法名 (the sandbox serves alipay.trade.page.pay, wap.pay, precreate, query, close, refund)");
                return answer(&state, None, Err(e)).await;
            }
        },
    };
    let outcome = match check_common(&state, &params).await {
        Ok(()) => call(&state, method, &params).await,
        Err(e) => Err(e),
    };
    answer(&state, Some(method), outcome).await
}

/// Every parameter of the query string and the form body: Alipay's SDKs put the common ones in
/// the URL and `biz_content` in the body.
fn read_params(uri: &Uri, headers: &HeaderMap, body: &[u8]) -> Result<Vec<(String, String)>, GatewayError> {
    let charset = || GatewayError::invalid("isv.invalid-charset", "字符集错误 (the sandbox reads UTF-8 form data only)");
    let mut sent = parse_urlencoded(uri.query().unwrap_or_default().as_bytes()).map_err(|_| charset())?;
    if !body.is_empty() {
        let content_type = headers.get(CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or_default();
        if !content_type.trim().to_ascii_lowercase().starts_with("application/x-www-form-urlencoded") {
            return Err(GatewayError::invalid("isv.invalid-content-type", "无效的content-type (application/x-www-form-urlencoded)"));
        }
        sent.extend(parse_urlencoded(body).map_err(|_| charset())?);
    }
    // SDKs repeat some parameters in the URL and the body (`charset`): the same value is one
    // parameter; two different values would leave it ambiguous which one was signed.
    let mut params: Vec<(String, String)> = Vec::with_capacity(sent.len());
    for (key, value) in sent {
        match params.iter().find(|(k, _)| *k == key) {
            Some((_, v)) if *v == value => {}
            Some(_) => return Err(GatewayError::invalid("isv.invalid-parameter", format!("参数重复 ({key} has two values)"))),
            None => params.push((key, value)),
        }
    }
    Ok(params)
}

/// The common parameters and the signature, in the order documented in the module.
async fn check_common(state: &Shared, params: &[(String, String)]) -> Result<(), GatewayError> {
    let app_id = param(params, "app_id").ok_or_else(|| GatewayError::missing("isv.missing-app-id", "缺少AppID参数"))?;
    if app_id != state.keys.file.alipay.app_id {
        return Err(GatewayError::invalid("isv.invalid-app-id", "无效的AppID参数"));
    }
    let sign_type =
        param(params, "sign_type").ok_or_else(|| GatewayError::missing("isv.missing-signature-type", "缺少签名类型参数"))?;
    if sign_type != SIGN_TYPE {
        return Err(GatewayError::invalid("isv.invalid-signature-type", "无效的签名类型参数 (the sandbox accepts RSA2 only)"));
    }
    if param(params, "sign").is_none() {
        return Err(GatewayError::missing("isv.missing-signature", "缺少签名参数"));
    }
    if verify_request(params, &state.keys.alipay_app).await.is_err() {
        return Err(GatewayError::invalid("isv.invalid-signature", "验签出错，建议检查签名字符串或签名私钥与应用公钥是否匹配"));
    }
    if param(params, "charset").is_some_and(|c| !c.eq_ignore_ascii_case("utf-8") && !c.eq_ignore_ascii_case("utf8")) {
        return Err(GatewayError::invalid("isv.invalid-charset", "字符集错误 (the sandbox speaks utf-8 only)"));
    }
    if param(params, "format").is_some_and(|f| !f.eq_ignore_ascii_case("json")) {
        return Err(GatewayError::invalid("isv.invalid-format", "无效的数据格式 (JSON only)"));
    }
    let timestamp =
        param(params, "timestamp").ok_or_else(|| GatewayError::missing("isv.missing-timestamp", "缺少时间戳参数"))?;
    let unix = BeijingTime::parse_alipay(timestamp, "timestamp")
        .map_err(|_| GatewayError::invalid("isv.invalid-timestamp", "非法的时间戳参数 (yyyy-MM-dd HH:mm:ss)"))?
        .unix();
    if unix.abs_diff(now()) > TIMESTAMP_WINDOW {
        return Err(GatewayError::invalid(
            "isv.invalid-timestamp",
            "时间戳与网关时间相差超过15分钟 (timestamp is Beijing time, UTC+8)",
        ));
    }
    match param(params, "version") {
        None => Err(GatewayError::missing("isv.missing-version", "缺少版本参数")),
        Some("1.0") => Ok(()),
        Some(_) => Err(GatewayError::invalid("isv.invalid-parameter", "version 只支持 1.0")),
    }
}

/// The method, on its `biz_content`.
async fn call(state: &Shared, method: Method, params: &[(String, String)]) -> Result<Outcome, GatewayError> {
    let biz_text = param(params, "biz_content")
        .ok_or_else(|| GatewayError::invalid("isv.invalid-parameter", "biz_content 缺失"))?;
    let biz: serde_json::Map<String, serde_json::Value> = serde_json::from_str(biz_text)
        .map_err(|_| GatewayError::invalid("isv.invalid-parameter", "biz_content 不是 JSON 对象"))?;
    match method {
        Method::PagePay | Method::WapPay | Method::Precreate => trade::create(state, method, params, &biz),
        Method::Query => trade::query(state, &biz),
        Method::Close => trade::close(state, &biz),
        Method::Refund => trade::refund(state, &biz).await,
    }
}

/// Signs JSON answers (in `<method>_response`, or `error_response` when the method is unknown);
/// the page methods answer with a redirect or an error page instead.
async fn answer(state: &Shared, method: Option<Method>, outcome: Result<Outcome, GatewayError>) -> Response {
    let page = matches!(method, Some(Method::PagePay | Method::WapPay));
    match outcome {
        Ok(Outcome::Redirect(url)) => (StatusCode::FOUND, [(LOCATION, url)]).into_response(),
        Ok(Outcome::Json(json)) => signed_json(state, method, &json).await,
        Err(e) if page => with_verdict(error_page(&e), e.verdict()),
        Err(e) => with_verdict(signed_json(state, method, &e.json()).await, e.verdict()),
    }
}

async fn signed_json(state: &Shared, method: Option<Method>, json: &serde_json::Value) -> Response {
    use payment_core::alipay::response::{sign_error_response, sign_response};
    let text = json.to_string();
    let signed = match method {
        Some(method) => sign_response(&state.keys.alipay_platform, method, &text).await,
        None => sign_error_response(&state.keys.alipay_platform, &text).await,
    };
    match signed {
        Ok(body) => ([(CONTENT_TYPE, "application/json;charset=utf-8")], body).into_response(),
        Err(_) => with_verdict(StatusCode::INTERNAL_SERVER_ERROR, "sandbox could not sign its answer"),
    }
}

/// The page Alipay's cashier shows when a page payment is refused.
fn error_page(e: &GatewayError) -> Response {
    Html(format!(
        r#"<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>支付宝 - 错误 · sandbox</title></head>
<body style="font-family:sans-serif;max-width:560px;margin:48px auto;padding:0 16px">
<h1 style="color:#1677ff">支付宝 Alipay · sandbox</h1>
<p>抱歉，您的操作出现错误。Sorry, the payment request was refused.</p>
<p>错误代码 <code data-sub-code="{sub}">{sub}</code> ({code} {msg})</p>
<p>错误原因 {reason}</p>
</body></html>"#,
        sub = escape(e.sub_code),
        code = e.code,
        msg = e.msg,
        reason = escape(&e.sub_msg),
    ))
    .into_response()
}
