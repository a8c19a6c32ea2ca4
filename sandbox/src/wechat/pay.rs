//! Orders: `POST /v3/pay/transactions/{jsapi,h5,native}`, the queries, close, and the H5 cashier
//! entry the `h5_url` points at.
//!
//! Business rules, with WeChat Pay's error codes: `appid`/`mchid` the configured pair, or for
//! JSAPI the mini-program's appid bound to the same mchid (`400 APPID_MCHID_NOT_MATCH`); `amount.total` an integer number of fen > 0 and `currency` `CNY`;
//! `description` 1–127 characters; `out_trade_no` 6–32 of `[0-9A-Za-z_*-]`; `notify_url` an
//! absolute http(s) URL without query; `time_expire` RFC 3339 in the future; `payer.openid` for
//! JSAPI; `scene_info.payer_client_ip` and `scene_info.h5_info.type` for H5 (`400 PARAM_ERROR`).
//! The same `out_trade_no` again: the same answer when every parameter is the same,
//! `403 OUT_TRADE_NO_USED` otherwise, `400 ORDER_CLOSED` once closed, `400 ORDER_PAID` once paid.

use std::collections::HashMap;
use std::net::IpAddr;

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use payment_core::beijing_time::BeijingTime;
use payment_core::ids::{AppId, MchId, OutTradeNo};
use payment_core::method::Provider;
use payment_core::money::Amount;
use payment_core::wechatpay::model::OpenId;
use serde_json::{json, Map, Value};

use super::auth::V3Request;
use super::{beijing, canonical_json, finish, is_web_url, trade_type, Answer, ApiError};
use crate::app::{lock, now, random_digits, random_token, with_verdict, Shared};
use crate::cashier::{self, escape};
use crate::store::{Order, OrderStatus};

/// How long an `h5_url` may be opened after the order is created.
const H5_URL_LIFETIME_SECS: u64 = 300;

/// The three order products.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Jsapi,
    H5,
    Native,
}

impl Kind {
    fn as_str(self) -> &'static str {
        match self {
            Kind::Jsapi => "jsapi",
            Kind::H5 => "h5",
            Kind::Native => "native",
        }
    }
}

pub(super) async fn create_jsapi(State(state): State<Shared>, request: V3Request) -> Response {
    let outcome = create(&state, Kind::Jsapi, &request);
    finish(&state, outcome).await
}

pub(super) async fn create_h5(State(state): State<Shared>, request: V3Request) -> Response {
    let outcome = create(&state, Kind::H5, &request);
    finish(&state, outcome).await
}

pub(super) async fn create_native(State(state): State<Shared>, request: V3Request) -> Response {
    let outcome = create(&state, Kind::Native, &request);
    finish(&state, outcome).await
}

fn create(state: &Shared, kind: Kind, request: &V3Request) -> Result<Answer, ApiError> {
    let body = request.json_object()?;
    let new = validate(state, kind, &body)?;
    let mut store = lock(&state.store);
    if let Some(existing) = store.get(Provider::Wechatpay, &new.out_trade_no) {
        return match existing.status {
            OrderStatus::Closed => Err(ApiError::new(StatusCode::BAD_REQUEST, "ORDER_CLOSED", "订单已关闭 (this out_trade_no was closed)")),
            _ if existing.fingerprint != new.fingerprint => Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "OUT_TRADE_NO_USED",
                "商户订单号重复 (out_trade_no already used with other parameters)",
            )),
            OrderStatus::Paid => Err(ApiError::new(StatusCode::BAD_REQUEST, "ORDER_PAID", "订单已支付 (this out_trade_no is paid)")),
            OrderStatus::Pending | OrderStatus::Failed => Ok(Answer::Json(StatusCode::OK, prepay_answer(state, existing))),
        };
    }
    let order = new.into_order();
    let answer = prepay_answer(state, &order);
    store.insert(order);
    Ok(Answer::Json(StatusCode::OK, answer))
}

/// What a valid order request says.
struct NewOrder {
    kind: Kind,
    out_trade_no: String,
    amount_fen: u64,
    description: String,
    notify_url: String,
    payer: Option<String>,
    fingerprint: String,
    detail: Value,
}

impl NewOrder {
    fn into_order(self) -> Order {
        let mut detail = self.detail;
        detail["trade_type"] = json!(trade_type(self.kind.as_str()));
        detail["prepay_id"] = json!(format!("wx{}{}0000", random_digits(14), random_token(16).to_ascii_lowercase()));
        match self.kind {
            Kind::Native => detail["qr_data"] = json!(format!("weixin://wxpay/bizpayurl?pr={}", random_token(9))),
            Kind::H5 => detail["h5_package"] = json!(random_digits(10)),
            Kind::Jsapi => {}
        }
        Order {
            provider: Provider::Wechatpay,
            out_trade_no: self.out_trade_no,
            kind: self.kind.as_str().to_owned(),
            amount_fen: self.amount_fen,
            description: self.description,
            status: OrderStatus::Pending,
            notify_url: Some(self.notify_url),
            return_url: None,
            transaction_id: None,
            payer: self.payer,
            created_at: now(),
            paid_at: None,
            refunds: Vec::new(),
            deliveries: Vec::new(),
            fingerprint: self.fingerprint,
            detail,
        }
    }
}

fn detail_str<'a>(order: &'a Order, field: &str) -> &'a str {
    order.detail.get(field).and_then(Value::as_str).unwrap_or_default()
}

/// The answer to an order request: `prepay_id`, `h5_url` or `code_url`.
fn prepay_answer(state: &Shared, order: &Order) -> Value {
    match order.kind.as_str() {
        "jsapi" => json!({ "prepay_id": detail_str(order, "prepay_id") }),
        "h5" => json!({
            "h5_url": format!(
                "{}/sandbox/wechat/h5?prepay_id={}&package={}",
                state.base_url,
                detail_str(order, "prepay_id"),
                detail_str(order, "h5_package")
            )
        }),
        _ => json!({ "code_url": detail_str(order, "qr_data") }),
    }
}

fn field<'a>(body: &'a Map<String, Value>, path: &[&str]) -> Option<&'a Value> {
    let (first, rest) = path.split_first()?;
    rest.iter().try_fold(body.get(*first)?, |value, key| value.get(key))
}

fn required_str<'a>(body: &'a Map<String, Value>, path: &[&str]) -> Result<&'a str, ApiError> {
    let name = path.join(".");
    match field(body, path) {
        None | Some(Value::Null) => Err(ApiError::param(format!("缺少参数 {name} (missing)"))),
        Some(Value::String(s)) => Ok(s),
        Some(_) => Err(ApiError::param(format!("{name} 应为字符串 (must be a string)"))),
    }
}

fn optional_str<'a>(body: &'a Map<String, Value>, path: &[&str]) -> Result<Option<&'a str>, ApiError> {
    match field(body, path) {
        None | Some(Value::Null) => Ok(None),
        Some(_) => required_str(body, path).map(Some),
    }
}

/// An amount field: a JSON integer of fen, > 0, within what the providers accept.
pub(super) fn fen(body: &Map<String, Value>, path: &[&str]) -> Result<u64, ApiError> {
    let name = path.join(".");
    let value = match field(body, path) {
        None | Some(Value::Null) => return Err(ApiError::param(format!("缺少参数 {name} (missing)"))),
        Some(value) => value,
    };
    let fen = value.as_u64().filter(|_| value.is_u64()).ok_or_else(|| ApiError::param(format!("{name} 应为整数，单位为分 (integer fen)")))?;
    if fen == 0 {
        return Err(ApiError::param(format!("{name} 必须大于0 (must be > 0)")));
    }
    Amount::from_fen(fen).map_err(|_| ApiError::param(format!("{name} 超出范围 (too large)")))?;
    Ok(fen)
}

/// `currency`, when given, is `CNY` (the only currency of a mainland merchant).
pub(super) fn currency(body: &Map<String, Value>, path: &[&str], required: bool) -> Result<(), ApiError> {
    match optional_str(body, path)? {
        Some("CNY") => Ok(()),
        None if !required => Ok(()),
        None => Err(ApiError::param(format!("缺少参数 {} (missing)", path.join(".")))),
        Some(_) => Err(ApiError::param(format!("{} 仅支持 CNY (only CNY)", path.join(".")))),
    }
}

/// A notify URL: absolute http(s), no query or fragment (WeChat Pay: "不能携带参数").
pub(super) fn notify_url(url: &str, name: &str) -> Result<(), ApiError> {
    if url.len() > 255 || !is_web_url(url) {
        return Err(ApiError::param(format!("{name} 应为 http(s) 绝对地址 (must be an absolute http(s) URL)")));
    }
    if url.contains(['?', '#']) {
        return Err(ApiError::param(format!("{name} 不能携带参数 (no query string)")));
    }
    Ok(())
}

fn validate(state: &Shared, kind: Kind, body: &Map<String, Value>) -> Result<NewOrder, ApiError> {
    let keys = &state.keys.file.wechatpay;
    let appid = required_str(body, &["appid"])?;
    AppId::new(appid).map_err(|_| ApiError::param("appid 格式错误 (malformed)"))?;
    let mchid = required_str(body, &["mchid"])?;
    MchId::new(mchid).map_err(|_| ApiError::param("mchid 格式错误 (malformed)"))?;
    let bound = appid == keys.appid || (appid == crate::keys::MINIPROGRAM_APPID && kind == Kind::Jsapi);
    if !bound || mchid != keys.mchid {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "APPID_MCHID_NOT_MATCH",
            "AppID和mch_id不匹配 (appid is not bound to mchid)",
        ));
    }
    let description = required_str(body, &["description"])?;
    if description.is_empty() || description.chars().count() > 127 {
        return Err(ApiError::param("description 长度应为1到127个字符 (1 to 127 characters)"));
    }
    let out_trade_no = required_str(body, &["out_trade_no"])?;
    OutTradeNo::new(out_trade_no).map_err(|_| ApiError::param("out_trade_no 应为6到32位数字、字母、_-* (6-32 of [0-9A-Za-z_*-])"))?;
    let notify = required_str(body, &["notify_url"])?;
    notify_url(notify, "notify_url")?;
    let amount_fen = fen(body, &["amount", "total"])?;
    currency(body, &["amount", "currency"], false)?;
    let attach = optional_str(body, &["attach"])?;
    if attach.is_some_and(|a| a.chars().count() > 128) {
        return Err(ApiError::param("attach 不能超过128个字符 (at most 128 characters)"));
    }
    let mut detail = json!({ "appid": appid, "mchid": mchid });
    if let Some(attach) = attach {
        detail["attach"] = json!(attach);
    }
    if let Some(expire) = optional_str(body, &["time_expire"])? {
        let at = parse_rfc3339(expire).ok_or_else(|| ApiError::param("time_expire 格式应为 yyyy-MM-DDTHH:mm:ss+TIMEZONE (RFC 3339)"))?;
        if at <= now() {
            return Err(ApiError::param("time_expire 早于当前时间 (time_expire is in the past: Beijing time is UTC+8)"));
        }
        detail["time_expire"] = json!(expire);
    }
    let mut payer = None;
    match kind {
        Kind::Jsapi => {
            let openid = required_str(body, &["payer", "openid"])?;
            OpenId::new(openid).map_err(|_| ApiError::param("payer.openid 格式错误 (malformed)"))?;
            payer = Some(openid.to_owned());
        }
        Kind::H5 => {
            let ip = required_str(body, &["scene_info", "payer_client_ip"])?;
            ip.parse::<IpAddr>().map_err(|_| ApiError::param("scene_info.payer_client_ip 应为IP地址 (an IPv4 or IPv6 address)"))?;
            let h5_type = required_str(body, &["scene_info", "h5_info", "type"])?;
            if !matches!(h5_type, "Wap" | "iOS" | "Android") {
                return Err(ApiError::param("scene_info.h5_info.type 应为 Wap、iOS 或 Android"));
            }
            detail["payer_client_ip"] = json!(ip);
        }
        Kind::Native => {}
    }
    Ok(NewOrder {
        kind,
        out_trade_no: out_trade_no.to_owned(),
        amount_fen,
        description: description.to_owned(),
        notify_url: notify.to_owned(),
        payer,
        fingerprint: format!("{}:{}", kind.as_str(), canonical_json(&Value::Object(body.clone()))),
        detail,
    })
}

/// Unix seconds of an RFC 3339 time `yyyy-MM-DDTHH:mm:ss[.fraction](Z|±HH:mm)`.
fn parse_rfc3339(text: &str) -> Option<u64> {
    let local = text.get(..19)?;
    if local.as_bytes().get(10) != Some(&b'T') {
        return None;
    }
    let mut rest = &text[19..];
    if let Some(fraction) = rest.strip_prefix('.') {
        let digits = fraction.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return None;
        }
        rest = &fraction[digits..];
    }
    let offset: i64 = match rest.as_bytes() {
        b"Z" => 0,
        [sign @ (b'+' | b'-'), h1, h2, b':', m1, m2] if [h1, h2, m1, m2].iter().all(|b| b.is_ascii_digit()) => {
            let minutes = i64::from((h1 - b'0') * 10 + (h2 - b'0')) * 60 + i64::from((m1 - b'0') * 10 + (m2 - b'0'));
            if *sign == b'+' { minutes * 60 } else { -minutes * 60 }
        }
        _ => return None,
    };
    // Read the wall-clock part as if it were Beijing time, then move it to the given offset.
    let as_beijing = BeijingTime::parse_alipay(&local.replacen('T', " ", 1), "time_expire").ok()?.unix();
    u64::try_from(i64::try_from(as_beijing).ok()? + 8 * 3600 - offset).ok()
}

/// The `Transaction` the queries return and the `TRANSACTION.SUCCESS` callback carries.
pub(super) fn transaction(order: &Order) -> Value {
    let refunded = !order.refunds.is_empty();
    let (trade_state, desc) = match order.status {
        OrderStatus::Pending => ("NOTPAY", "订单未支付"),
        OrderStatus::Paid if refunded => ("REFUND", "订单发生过退款"),
        OrderStatus::Paid => ("SUCCESS", "支付成功"),
        OrderStatus::Closed => ("CLOSED", "订单已关闭"),
        OrderStatus::Failed => ("PAYERROR", "支付失败，请重新下单支付"),
    };
    let paid = order.status == OrderStatus::Paid;
    let mut amount = json!({ "total": order.amount_fen, "currency": "CNY", "payer_currency": "CNY" });
    let mut t = json!({
        "appid": detail_str(order, "appid"),
        "mchid": detail_str(order, "mchid"),
        "out_trade_no": order.out_trade_no,
        "trade_state": trade_state,
        "trade_state_desc": desc,
        "promotion_detail": [],
    });
    if let Some(attach) = order.detail.get("attach") {
        t["attach"] = attach.clone();
    }
    if paid || order.status == OrderStatus::Failed {
        t["trade_type"] = json!(trade_type(&order.kind));
    }
    if paid {
        amount["payer_total"] = json!(order.amount_fen);
        t["transaction_id"] = json!(order.transaction_id);
        t["bank_type"] = json!("OTHERS");
        t["success_time"] = json!(beijing(order.paid_at.unwrap_or(order.created_at)));
        t["payer"] = json!({ "openid": order.payer });
    }
    t["amount"] = amount;
    t
}

fn check_query_mchid(state: &Shared, mchid: Option<String>) -> Result<(), ApiError> {
    match mchid {
        None => Err(ApiError::param("缺少参数 mchid (missing query parameter)")),
        Some(m) if m == state.keys.file.wechatpay.mchid => Ok(()),
        Some(_) => Err(ApiError::param("mchid 与请求头中的商户号不一致 (mchid is not the signing merchant)")),
    }
}

fn order_not_exist() -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "ORDER_NOT_EXIST", "订单不存在 (no such order)")
}

pub(super) async fn query_by_out_trade_no(State(state): State<Shared>, Path(no): Path<String>, request: V3Request) -> Response {
    let outcome = check_query_mchid(&state, request.query("mchid")).and_then(|()| {
        let store = lock(&state.store);
        let order = store.get(Provider::Wechatpay, &no).ok_or_else(order_not_exist)?;
        Ok(Answer::Json(StatusCode::OK, transaction(order)))
    });
    finish(&state, outcome).await
}

pub(super) async fn query_by_transaction_id(State(state): State<Shared>, Path(id): Path<String>, request: V3Request) -> Response {
    let outcome = check_query_mchid(&state, request.query("mchid")).and_then(|()| {
        let store = lock(&state.store);
        let order = store
            .all()
            .find(|o| o.provider == Provider::Wechatpay && o.transaction_id.as_deref() == Some(id.as_str()))
            .ok_or_else(order_not_exist)?;
        Ok(Answer::Json(StatusCode::OK, transaction(order)))
    });
    finish(&state, outcome).await
}

/// `POST …/out-trade-no/{no}/close` with `{"mchid"}`: `204`; a paid order `400 ORDER_PAID`.
pub(super) async fn close(State(state): State<Shared>, Path(no): Path<String>, request: V3Request) -> Response {
    let outcome = request.json_object().and_then(|body| {
        let mchid = required_str(&body, &["mchid"])?;
        check_query_mchid(&state, Some(mchid.to_owned()))?;
        let mut store = lock(&state.store);
        let order = store.get_mut(Provider::Wechatpay, &no).ok_or_else(order_not_exist)?;
        match order.status {
            OrderStatus::Paid => Err(ApiError::new(StatusCode::BAD_REQUEST, "ORDER_PAID", "订单已支付，不能关闭 (the order is paid)")),
            OrderStatus::Pending | OrderStatus::Failed | OrderStatus::Closed => {
                order.status = OrderStatus::Closed;
                Ok(Answer::NoContent)
            }
        }
    });
    finish(&state, outcome).await
}

fn page(status: StatusCode, title: &str, text: &str, verdict: &str) -> Response {
    let html = Html(format!(
        r#"<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>{t} · sandbox</title></head>
<body style="font-family:sans-serif;padding:32px 16px;text-align:center"><h1>{t}</h1><p data-error="{v}">{x}</p></body></html>"#,
        t = escape(title),
        x = escape(text),
        v = escape(verdict),
    ));
    with_verdict((status, html), verdict)
}

/// The page an `h5_url` opens (WeChat's `wx.tenpay.com/…/checkmweb`): refuses inside WeChat, without
/// a `Referer` (WeChat checks it against the shop's H5 domain) and after five minutes; remembers the
/// `redirect_url` the merchant appended; then shows the order's cashier.
pub(super) async fn h5_entry(State(state): State<Shared>, headers: HeaderMap, Query(q): Query<HashMap<String, String>>) -> Response {
    let (Some(prepay_id), Some(package)) = (q.get("prepay_id"), q.get("package")) else {
        return page(StatusCode::BAD_REQUEST, "参数错误", "缺少 prepay_id 或 package。", "h5: missing prepay_id or package");
    };
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    if header("user-agent").contains("MicroMessenger") {
        return page(StatusCode::FORBIDDEN, "请在微信外打开订单，进行支付", "H5 payment is refused inside WeChat: use JSAPI there.", "h5: opened inside WeChat");
    }
    if !is_web_url(&header("referer")) {
        return page(
            StatusCode::FORBIDDEN,
            "商家参数格式有误，请联系商家解决",
            "No Referer: WeChat Pay H5 checks the shop page's domain.",
            "h5: no Referer",
        );
    }
    let redirect_url = q.get("redirect_url").filter(|u| !u.is_empty());
    if redirect_url.is_some_and(|u| !is_web_url(u)) {
        return page(StatusCode::BAD_REQUEST, "参数错误", "redirect_url must be an absolute http(s) URL.", "h5: bad redirect_url");
    }
    let no = {
        let mut store = lock(&state.store);
        let found = store
            .all()
            .find(|o| {
                o.provider == Provider::Wechatpay
                    && o.kind == "h5"
                    && detail_str(o, "prepay_id") == prepay_id.as_str()
                    && detail_str(o, "h5_package") == package.as_str()
            })
            .map(|o| (o.out_trade_no.clone(), o.created_at));
        let Some((no, created_at)) = found else {
            return page(StatusCode::NOT_FOUND, "参数错误", "This h5_url is not one of the sandbox's.", "h5: unknown prepay_id");
        };
        if now() > created_at + H5_URL_LIFETIME_SECS {
            return page(StatusCode::FORBIDDEN, "支付链接已失效", "h5_url lives 5 minutes: create the order again.", "h5: h5_url expired");
        }
        if let (Some(url), Some(order)) = (redirect_url, store.get_mut(Provider::Wechatpay, &no)) {
            order.return_url = Some(url.clone());
        }
        no
    };
    Redirect::to(&cashier::url(&state, Provider::Wechatpay, &no)).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_with_offsets() {
        // 2018-06-08T10:34:56+08:00 is 1528425296.
        assert_eq!(parse_rfc3339("2018-06-08T10:34:56+08:00"), Some(1_528_425_296));
        assert_eq!(parse_rfc3339("2018-06-08T02:34:56Z"), Some(1_528_425_296));
        assert_eq!(parse_rfc3339("2018-06-08T02:34:56.123Z"), Some(1_528_425_296));
        assert_eq!(parse_rfc3339("2018-06-07T21:34:56-05:00"), Some(1_528_425_296));
        for bad in ["2018-06-08 10:34:56+08:00", "2018-06-08T10:34:56", "2018-06-08T10:34:56+0800", "2018-02-30T10:34:56Z", "x"] {
            assert_eq!(parse_rfc3339(bad), None, "{bad}");
        }
    }
}
