//! The trades: creation by the three payment methods, query, close, refund.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use payment_core::alipay::Method;
use payment_core::method::Provider;
use payment_core::money::Amount;
use serde_json::{json, Map, Value};

use super::gateway::{param, GatewayError, Outcome};
use super::{beijing, new_trade_no};
use crate::app::{lock, now, random_digits, random_token, with_verdict, Shared};
use crate::cashier;
use crate::notifier;
use crate::store::{Order, OrderStatus, RefundRecord, Store};

type Biz = Map<String, Value>;

/// The masked logon id the sandbox's buyers have.
const BUYER_LOGON_ID: &str = "sbx***@sandbox.edgepay.test";

/// A `biz_content` text field: absent or empty is `None`; anything but a string is refused.
fn text<'a>(biz: &'a Biz, key: &str) -> Result<Option<&'a str>, GatewayError> {
    match biz.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.is_empty() => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(GatewayError::parameter(format!("{key} 必须是字符串 (a JSON string)"))),
    }
}

fn required<'a>(biz: &'a Biz, key: &str) -> Result<&'a str, GatewayError> {
    text(biz, key)?.ok_or_else(|| GatewayError::parameter(format!("{key} 缺失")))
}

/// `out_trade_no` / `out_request_no`: 1–64 letters, digits and `_`.
fn order_number<'a>(biz: &'a Biz, key: &str) -> Result<Option<&'a str>, GatewayError> {
    let value = text(biz, key)?;
    if value.is_some_and(|v| v.len() > 64 || !v.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')) {
        return Err(GatewayError::parameter(format!("{key} 格式错误 (1-64 letters, digits, _)")));
    }
    Ok(value)
}

/// An amount as Alipay reads it: a string with exactly two decimals, 0.01 to 100000000.00.
fn amount(biz: &Biz, key: &str) -> Result<Amount, GatewayError> {
    let value = required(biz, key)?;
    Amount::parse_alipay(value)
        .ok()
        .filter(|a| !a.is_zero())
        .ok_or_else(|| GatewayError::parameter(format!("{key} 无效 (\"12.34\": two decimals, 0.01 to 100000000.00)")))
}

fn yuan(fen: u64) -> String {
    Amount::from_fen(fen).map(Amount::to_alipay).unwrap_or_default()
}

/// Whether `url` is an absolute `http(s)://host…` URL without spaces or control characters.
fn is_web_url(url: &str) -> bool {
    let rest = url.strip_prefix("https://").or_else(|| url.strip_prefix("http://"));
    rest.is_some_and(|r| !r.is_empty() && !r.starts_with(['/', ':', '?', '#'])) && url.bytes().all(|b| b.is_ascii_graphic())
}

fn url_param(params: &[(String, String)], key: &str) -> Result<Option<String>, GatewayError> {
    match param(params, key) {
        Some(url) if !is_web_url(url) => Err(GatewayError::invalid("isv.invalid-parameter", format!("{key} 不是 http(s) 地址"))),
        other => Ok(other.map(str::to_owned)),
    }
}

/// The product code each payment method requires, and whether it may be left out.
fn product_code(method: Method) -> (&'static str, bool) {
    match method {
        Method::PagePay => ("FAST_INSTANT_TRADE_PAY", false),
        Method::WapPay => ("QUICK_WAP_WAY", false),
        _ => ("FACE_TO_FACE_PAYMENT", true),
    }
}

fn kind(method: Method) -> &'static str {
    match method {
        Method::PagePay => "page",
        Method::WapPay => "wap",
        _ => "precreate",
    }
}

/// `alipay.trade.page.pay`, `alipay.trade.wap.pay` and `alipay.trade.precreate`: creates the trade
/// (or finds the same one again) and sends the browser to the cashier, or answers the QR code.
pub(super) fn create(state: &Shared, method: Method, params: &[(String, String)], biz: &Biz) -> Result<Outcome, GatewayError> {
    let no = order_number(biz, "out_trade_no")?.ok_or_else(|| GatewayError::parameter("out_trade_no 缺失"))?;
    let total = amount(biz, "total_amount")?;
    let subject = required(biz, "subject")?;
    if subject.chars().count() > 256 || subject.chars().any(|c| c.is_control() || matches!(c, '/' | '=' | '&')) {
        return Err(GatewayError::parameter("subject 无效 (at most 256 characters, none of / = & or control characters)"));
    }
    let (code, optional) = product_code(method);
    match text(biz, "product_code")? {
        Some(given) if given == code => {}
        None if optional => {}
        _ => return Err(GatewayError::parameter(format!("product_code 必须是 {code} ({method})"))),
    }
    let notify_url = url_param(params, "notify_url")?;
    let return_url = if method == Method::Precreate { None } else { url_param(params, "return_url")? };
    let fingerprint = format!("{method}|{}|{subject}", total.fen());

    let mut store = lock(&state.store);
    if let Some(existing) = store.get(Provider::Alipay, no) {
        return match existing.status {
            OrderStatus::Paid => Err(GatewayError::business("ACQ.TRADE_HAS_SUCCESS", "交易已被支付")),
            OrderStatus::Closed => Err(GatewayError::business("ACQ.TRADE_HAS_CLOSE", "交易已经关闭")),
            _ if existing.fingerprint != fingerprint => {
                Err(GatewayError::business("ACQ.CONTEXT_INCONSISTENT", "交易信息被篡改 (out_trade_no reused with other parameters)"))
            }
            _ => Ok(created(state, method, existing)),
        };
    }
    let mut detail = json!({
        "method": method.as_str(),
        "product_code": code,
        "app_id": state.keys.file.alipay.app_id,
        "seller_id": state.keys.file.alipay.seller_id,
    });
    if method == Method::Precreate {
        let code = format!("bax0{}", random_token(20).to_ascii_lowercase());
        detail["qr_data"] = Value::String(format!("{}/sandbox/qr/alipay/{code}", state.base_url));
    }
    let order = Order {
        provider: Provider::Alipay,
        out_trade_no: no.to_owned(),
        kind: kind(method).to_owned(),
        amount_fen: total.fen(),
        description: subject.to_owned(),
        status: OrderStatus::Pending,
        notify_url,
        return_url,
        // Alipay numbers the trade when it is created; it stays the same once paid.
        transaction_id: Some(new_trade_no()),
        payer: None,
        created_at: now(),
        paid_at: None,
        refunds: Vec::new(),
        deliveries: Vec::new(),
        fingerprint,
        detail,
    };
    let outcome = created(state, method, &order);
    store.insert(order);
    Ok(outcome)
}

fn created(state: &Shared, method: Method, order: &Order) -> Outcome {
    if method == Method::Precreate {
        Outcome::Json(json!({
            "code": "10000",
            "msg": "Success",
            "out_trade_no": order.out_trade_no,
            "qr_code": order.detail.get("qr_data").and_then(Value::as_str).unwrap_or_default(),
        }))
    } else {
        Outcome::Redirect(cashier::url(state, Provider::Alipay, &order.out_trade_no))
    }
}

/// The trade a query, close or refund names, by `trade_no` (which wins) or `out_trade_no`.
fn find<'a>(store: &'a mut Store, biz: &Biz) -> Result<&'a mut Order, GatewayError> {
    let out_trade_no = order_number(biz, "out_trade_no")?;
    let trade_no = text(biz, "trade_no")?;
    let key = match (trade_no, out_trade_no) {
        (Some(trade_no), _) => store
            .all()
            .find(|o| o.provider == Provider::Alipay && o.transaction_id.as_deref() == Some(trade_no))
            .filter(|o| out_trade_no.is_none_or(|no| no == o.out_trade_no))
            .map(|o| o.out_trade_no.clone()),
        (None, Some(no)) => Some(no.to_owned()),
        (None, None) => return Err(GatewayError::parameter("out_trade_no 和 trade_no 不能同时为空")),
    };
    key.and_then(|no| store.get_mut(Provider::Alipay, &no))
        .ok_or_else(|| GatewayError::business("ACQ.TRADE_NOT_EXIST", "交易不存在"))
}

/// `trade_status` of an order: a failed attempt leaves the trade waiting; a fully refunded
/// trade is closed.
pub(super) fn trade_status(order: &Order) -> &'static str {
    match order.status {
        OrderStatus::Pending | OrderStatus::Failed => "WAIT_BUYER_PAY",
        OrderStatus::Closed => "TRADE_CLOSED",
        OrderStatus::Paid if order.refunded_fen() >= order.amount_fen => "TRADE_CLOSED",
        OrderStatus::Paid => "TRADE_SUCCESS",
    }
}

/// `alipay.trade.query`.
pub(super) fn query(state: &Shared, biz: &Biz) -> Result<Outcome, GatewayError> {
    let mut store = lock(&state.store);
    let order = find(&mut store, biz)?;
    let mut answer = json!({
        "code": "10000",
        "msg": "Success",
        "trade_no": order.transaction_id,
        "out_trade_no": order.out_trade_no,
        "trade_status": trade_status(order),
        "total_amount": yuan(order.amount_fen),
    });
    if let (OrderStatus::Paid, Some(paid_at)) = (order.status, order.paid_at) {
        let total = yuan(order.amount_fen);
        answer["buyer_user_id"] = json!(order.payer);
        answer["buyer_logon_id"] = json!(BUYER_LOGON_ID);
        answer["buyer_pay_amount"] = json!(total);
        answer["receipt_amount"] = json!(total);
        answer["invoice_amount"] = json!(total);
        answer["point_amount"] = json!("0.00");
        answer["send_pay_date"] = json!(beijing(paid_at));
        answer["fund_bill_list"] = json!([{ "fund_channel": "ALIPAYACCOUNT", "amount": total }]);
    }
    Ok(Outcome::Json(answer))
}

/// `alipay.trade.close`: only a trade waiting for payment can be closed.
pub(super) fn close(state: &Shared, biz: &Biz) -> Result<Outcome, GatewayError> {
    let mut store = lock(&state.store);
    let order = find(&mut store, biz)?;
    if !matches!(order.status, OrderStatus::Pending | OrderStatus::Failed) {
        return Err(GatewayError::business("ACQ.TRADE_STATUS_ERROR", "交易状态不合法 (only WAIT_BUYER_PAY can be closed)"));
    }
    order.status = OrderStatus::Closed;
    Ok(Outcome::Json(json!({
        "code": "10000",
        "msg": "Success",
        "trade_no": order.transaction_id,
        "out_trade_no": order.out_trade_no,
    })))
}

/// `alipay.trade.refund`: synchronous, idempotent by `out_request_no`, followed by a notification.
pub(super) async fn refund(state: &Shared, biz: &Biz) -> Result<Outcome, GatewayError> {
    let refund_text = required(biz, "refund_amount")?;
    let refund_amount = Amount::parse_alipay(refund_text)
        .map_err(|_| GatewayError::parameter("refund_amount 无效 (\"12.34\": two decimals)"))?;
    if refund_amount.is_zero() {
        return Err(GatewayError::business("ACQ.REASON_TRADE_REFUND_FEE_ERR", "退款金额无效"));
    }
    if text(biz, "refund_reason")?.is_some_and(|r| r.chars().count() > 256) {
        return Err(GatewayError::parameter("refund_reason 超过256个字符"));
    }
    let request_no = order_number(biz, "out_request_no")?;
    let (order, record, fund_change) = {
        let mut store = lock(&state.store);
        let order = find(&mut store, biz)?;
        if order.status != OrderStatus::Paid {
            return Err(GatewayError::business("ACQ.TRADE_STATUS_ERROR", "交易状态不合法 (the trade is not paid)"));
        }
        // Without out_request_no, Alipay takes the call as a full refund keyed by out_trade_no.
        let request_no = request_no.unwrap_or(&order.out_trade_no).to_owned();
        if let Some(previous) = order.refunds.iter().find(|r| r.out_refund_no == request_no) {
            if previous.amount_fen != refund_amount.fen() {
                return Err(GatewayError::business("ACQ.REASON_TRADE_REFUND_FEE_ERR", "退款金额与该退款请求号的原请求不一致"));
            }
            (order.clone(), previous.clone(), "N")
        } else {
            let remaining = order.amount_fen.saturating_sub(order.refunded_fen());
            let full_only = request_no == order.out_trade_no && refund_amount.fen() != order.amount_fen;
            if refund_amount.fen() > remaining || full_only {
                return Err(GatewayError::business("ACQ.REFUND_AMT_NOT_EQUAL_TOTAL", "退款金额超限"));
            }
            let record = RefundRecord {
                out_refund_no: request_no,
                refund_id: random_digits(28),
                amount_fen: refund_amount.fen(),
                created_at: now(),
                succeeded: true,
            };
            order.refunds.push(record.clone());
            (order.clone(), record, "Y")
        }
    };
    if fund_change == "Y" {
        if let Some(callback) = super::notify::refund_callback(state, &order, &record).await {
            notifier::schedule(state, callback);
        }
    }
    Ok(Outcome::Json(json!({
        "code": "10000",
        "msg": "Success",
        "trade_no": order.transaction_id,
        "out_trade_no": order.out_trade_no,
        "buyer_logon_id": BUYER_LOGON_ID,
        "buyer_user_id": order.payer,
        "fund_change": fund_change,
        "refund_fee": yuan(order.refunded_fen()),
        "send_back_fee": yuan(record.amount_fen),
        "gmt_refund_pay": beijing(record.created_at),
    })))
}

/// Scanning a precreate QR code: the phone opens the trade's cashier.
pub(super) async fn scan_qr(State(state): State<Shared>, Path(code): Path<String>) -> Response {
    let data = format!("{}/sandbox/qr/alipay/{code}", state.base_url);
    let found = lock(&state.store).find_by_detail(Provider::Alipay, "qr_data", &data).map(|o| o.out_trade_no.clone());
    match found {
        Some(no) => Redirect::to(&cashier::url(&state, Provider::Alipay, &no)).into_response(),
        None => with_verdict((StatusCode::NOT_FOUND, Html("<p>二维码无效 This QR code is not one of the sandbox's.</p>")), "unknown QR code"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn biz(text: &str) -> Biz {
        serde_json::from_str(text).unwrap_or_default()
    }

    #[test]
    fn amounts_are_exact_strings() {
        assert_eq!(amount(&biz(r#"{"a":"12.34"}"#), "a").map(Amount::fen).ok(), Some(1234));
        assert_eq!(amount(&biz(r#"{"a":"100000000.00"}"#), "a").map(Amount::fen).ok(), Some(10_000_000_000));
        for bad in [r#"{"a":12.34}"#, r#"{"a":"12.3"}"#, r#"{"a":"0.00"}"#, r#"{"a":"100000000.01"}"#, r#"{"a":"-1.00"}"#, "{}"] {
            assert!(amount(&biz(bad), "a").is_err(), "{bad}");
        }
    }

    #[test]
    fn order_numbers() {
        assert!(order_number(&biz(r#"{"n":"A_1"}"#), "n").is_ok());
        assert!(order_number(&biz(&format!(r#"{{"n":"{}"}}"#, "A".repeat(64))), "n").is_ok());
        for bad in [format!(r#"{{"n":"{}"}}"#, "A".repeat(65)), r#"{"n":"A-1"}"#.to_owned(), r#"{"n":"订单"}"#.to_owned()] {
            assert!(order_number(&biz(&bad), "n").is_err(), "{bad}");
        }
    }

    #[test]
    fn web_urls() {
        assert!(is_web_url("https://shop.example/return?a=1"));
        for bad in ["", "ftp://x", "https://", "https:///x", "https://a b", "javascript:alert(1)"] {
            assert!(!is_web_url(bad), "{bad}");
        }
    }
}
