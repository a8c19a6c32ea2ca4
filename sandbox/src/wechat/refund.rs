//! Refunds: `POST /v3/refund/domestic/refunds` and `GET /v3/refund/domestic/refunds/{out_refund_no}`.
//!
//! A refund names its order by `out_trade_no` or `transaction_id`; `amount.total` must be the
//! order's total and `amount.refund` at most what is left (`400 INVALID_REQUEST`); `out_refund_no`
//! is the idempotency key (the same request again answers the same refund, other amounts are
//! refused). A refund answers `PROCESSING`, turns `SUCCESS` shortly after (scaled by
//! `--callback-scale`) and then sends `REFUND.SUCCESS` when the request had a `notify_url`.

use std::time::Duration;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use payment_core::ids::{OutRefundNo, OutTradeNo};
use payment_core::method::Provider;
use payment_core::wechatpay::model::TransactionId;
use serde_json::{json, Value};

use super::auth::V3Request;
use super::pay::{currency, fen, notify_url};
use super::{beijing, finish, Answer, ApiError};
use crate::app::{lock, now, random_digits, Shared};
use crate::notifier;
use crate::store::{Order, OrderStatus, RefundRecord};

/// How long a refund stays `PROCESSING` at `--callback-scale 1`.
const PROCESSING_SECS: f64 = 3.0;

fn resource_not_exists(message: &str) -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "RESOURCE_NOT_EXISTS", message)
}

/// What the sandbox keeps of a refund request beside the [`RefundRecord`], in the order's
/// `detail.refunds.<out_refund_no>`: its notify URL, reason and success time.
fn refund_detail<'a>(order: &'a Order, out_refund_no: &str) -> Option<&'a Value> {
    order.detail.get("refunds").and_then(|r| r.get(out_refund_no))
}

/// The refund's `notify_url`, if its request had one.
pub(super) fn refund_notify_url(order: &Order, out_refund_no: &str) -> Option<String> {
    refund_detail(order, out_refund_no).and_then(|d| d.get("notify_url")).and_then(Value::as_str).map(str::to_owned)
}

/// When the refund succeeded (Unix seconds).
pub(super) fn refund_success_time(order: &Order, out_refund_no: &str) -> Option<u64> {
    refund_detail(order, out_refund_no).and_then(|d| d.get("success_time")).and_then(Value::as_u64)
}

/// The refund as the refund API answers it.
fn refund_json(order: &Order, refund: &RefundRecord) -> Value {
    let mut r = json!({
        "refund_id": refund.refund_id,
        "out_refund_no": refund.out_refund_no,
        "transaction_id": order.transaction_id,
        "out_trade_no": order.out_trade_no,
        "channel": "ORIGINAL",
        "user_received_account": "支付用户零钱",
        "create_time": beijing(refund.created_at),
        "status": if refund.succeeded { "SUCCESS" } else { "PROCESSING" },
        "funds_account": "AVAILABLE",
        "amount": {
            "total": order.amount_fen,
            "refund": refund.amount_fen,
            "payer_total": order.amount_fen,
            "payer_refund": refund.amount_fen,
            "settlement_total": order.amount_fen,
            "settlement_refund": refund.amount_fen,
            "discount_refund": 0,
            "currency": "CNY",
        },
        "promotion_detail": [],
    });
    if let Some(at) = refund_success_time(order, &refund.out_refund_no).filter(|_| refund.succeeded) {
        r["success_time"] = json!(beijing(at));
    }
    r
}

pub(super) async fn create(State(state): State<Shared>, request: V3Request) -> Response {
    let outcome = create_refund(&state, &request);
    if let Ok((_, ref out_trade_no, ref out_refund_no, true)) = outcome {
        complete_later(&state, out_trade_no.clone(), out_refund_no.clone());
    }
    finish(&state, outcome.map(|(answer, ..)| answer)).await
}

/// Validates and records a refund; returns the answer, the order and refund numbers, and whether
/// the refund is new (and must be completed).
fn create_refund(state: &Shared, request: &V3Request) -> Result<(Answer, String, String, bool), ApiError> {
    let body = request.json_object()?;
    let text = |name: &str| match body.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.as_str())),
        Some(_) => Err(ApiError::param(format!("{name} 应为字符串 (must be a string)"))),
    };
    let out_refund_no = text("out_refund_no")?.ok_or_else(|| ApiError::param("缺少参数 out_refund_no (missing)"))?;
    OutRefundNo::new(out_refund_no).map_err(|_| ApiError::param("out_refund_no 应为1到64位数字、字母、_-|*@"))?;
    let out_trade_no = text("out_trade_no")?;
    let transaction_id = text("transaction_id")?;
    if let Some(no) = out_trade_no {
        OutTradeNo::new(no).map_err(|_| ApiError::param("out_trade_no 格式错误 (malformed)"))?;
    }
    if let Some(id) = transaction_id {
        TransactionId::new(id).map_err(|_| ApiError::param("transaction_id 格式错误 (malformed)"))?;
    }
    if out_trade_no.is_none() && transaction_id.is_none() {
        return Err(ApiError::param("transaction_id 和 out_trade_no 必须二选一 (one of them is required)"));
    }
    let refund_fen = fen(&body, &["amount", "refund"])?;
    let total_fen = fen(&body, &["amount", "total"])?;
    currency(&body, &["amount", "currency"], true)?;
    let notify = text("notify_url")?;
    if let Some(url) = notify {
        notify_url(url, "notify_url")?;
    }
    if text("reason")?.is_some_and(|r| r.chars().count() > 80) {
        return Err(ApiError::param("reason 不能超过80个字符 (at most 80 characters)"));
    }

    let mut store = lock(&state.store);
    let no = store
        .all()
        .find(|o| {
            o.provider == Provider::Wechatpay
                && out_trade_no.is_none_or(|n| o.out_trade_no == n)
                && transaction_id.is_none_or(|id| o.transaction_id.as_deref() == Some(id))
        })
        .map(|o| o.out_trade_no.clone())
        .ok_or_else(|| resource_not_exists("订单不存在 (no such order)"))?;
    let same_no_elsewhere = store.all().any(|o| {
        o.provider == Provider::Wechatpay && o.out_trade_no != no && o.refunds.iter().any(|r| r.out_refund_no == out_refund_no)
    });
    if same_no_elsewhere {
        return Err(ApiError::invalid("out_refund_no 已用于其他订单 (out_refund_no already used for another order)"));
    }
    let order = store.get_mut(Provider::Wechatpay, &no).ok_or_else(|| resource_not_exists("订单不存在 (no such order)"))?;
    if let Some(existing) = order.refunds.iter().find(|r| r.out_refund_no == out_refund_no) {
        if existing.amount_fen != refund_fen || order.amount_fen != total_fen {
            return Err(ApiError::invalid("订单金额或退款金额与之前请求不一致，请核实后再试 (same out_refund_no, other amounts)"));
        }
        return Ok((Answer::Json(StatusCode::OK, refund_json(order, existing)), no, out_refund_no.to_owned(), false));
    }
    if order.status != OrderStatus::Paid {
        return Err(ApiError::invalid("订单状态不正确，未支付的订单不能退款 (the order is not paid)"));
    }
    if total_fen != order.amount_fen {
        return Err(ApiError::invalid("订单金额或退款金额与之前请求不一致，请核实后再试 (amount.total is not the order's total)"));
    }
    let refundable = order.amount_fen.saturating_sub(order.refunded_fen());
    if refundable == 0 {
        return Err(ApiError::invalid("订单已全额退款 (the order is fully refunded)"));
    }
    if refund_fen > refundable {
        return Err(ApiError::invalid("申请退款金额超过订单可退金额 (refund exceeds what is left)"));
    }
    let refund = RefundRecord {
        out_refund_no: out_refund_no.to_owned(),
        refund_id: format!("50{}", random_digits(27)),
        amount_fen: refund_fen,
        created_at: now(),
        succeeded: false,
    };
    if !order.detail.get("refunds").is_some_and(Value::is_object) {
        order.detail["refunds"] = json!({});
    }
    order.detail["refunds"][out_refund_no] = json!({ "notify_url": notify, "reason": text("reason")? });
    order.refunds.push(refund.clone());
    Ok((Answer::Json(StatusCode::OK, refund_json(order, &refund)), no, out_refund_no.to_owned(), true))
}

/// Turns the refund `SUCCESS` after a moment, then sends its callback when it has a notify URL.
fn complete_later(state: &Shared, out_trade_no: String, out_refund_no: String) {
    let state = state.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_secs_f64(PROCESSING_SECS * state.callback_scale)).await;
        let done = {
            let mut store = lock(&state.store);
            store.get_mut(Provider::Wechatpay, &out_trade_no).and_then(|order| {
                let refund = order.refunds.iter_mut().find(|r| r.out_refund_no == out_refund_no)?;
                refund.succeeded = true;
                let refund = refund.clone();
                order.detail["refunds"][out_refund_no.as_str()]["success_time"] = json!(now());
                Some((order.clone(), refund))
            })
        };
        if let Some((order, refund)) = done {
            if let Some(callback) = crate::providers::refund_callback(&state, &order, &refund).await {
                notifier::schedule(&state, callback);
            }
        }
    });
}

/// `GET …/refunds/{out_refund_no}` (the extractor has verified the signature).
pub(super) async fn query(State(state): State<Shared>, Path(out_refund_no): Path<String>, _signed: V3Request) -> Response {
    let outcome = {
        let store = lock(&state.store);
        let found = store
            .all()
            .filter(|o| o.provider == Provider::Wechatpay)
            .find_map(|o| o.refunds.iter().find(|r| r.out_refund_no == out_refund_no).map(|r| refund_json(o, r)))
            .map(|body| Answer::Json(StatusCode::OK, body))
            .ok_or_else(|| resource_not_exists("退款单不存在 (no such refund)"));
        found
    };
    finish(&state, outcome).await
}
