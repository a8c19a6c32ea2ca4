//! The merchant's back-end calls: `queryTrans.do` and `backTransReq.do` (refund, cancellation),
//! answered as UnionPay answers: raw `k=v&…`, signed, `signPubKeyCert` attached.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::header::CONTENT_TYPE;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use payment_core::beijing_time::BeijingTime;
use payment_core::form::parse_urlencoded;
use payment_core::method::Provider;
use payment_core::money::Amount;
use payment_core::unionpay::{QueryId, UnionpayOrderId};
use serde_json::json;

use super::notify::{consume_fields, refund_fields, sign};
use super::{new_query_id, verified_fields, Refusal, SUCCESS_MSG};
use crate::app::{lock, now, with_verdict, Shared};
use crate::notifier;
use crate::store::{OrderStatus, RefundRecord};

type Answer = Vec<(&'static str, String)>;

/// Fields of the request a refusal echoes, as UnionPay does (taken as sent, unverified).
const ECHOED: [&str; 7] = ["bizType", "txnType", "txnSubType", "accessType", "merId", "orderId", "txnTime"];

fn refusal_answer(body: &[u8], refusal: &Refusal) -> Answer {
    let sent = parse_urlencoded(body).unwrap_or_default();
    let mut fields: Answer = vec![
        ("version", payment_core::unionpay::request::VERSION.to_owned()),
        ("encoding", "UTF-8".to_owned()),
    ];
    fields.extend(ECHOED
        .iter()
        .filter_map(|name| sent.iter().find(|(k, v)| k == name && !v.is_empty()).map(|(_, v)| (*name, v.clone()))));
    fields.push(("respCode", refusal.code.to_owned()));
    fields.push(("respMsg", refusal.msg.clone()));
    fields
}

async fn respond(state: &Shared, body: &[u8], outcome: Result<Answer, Refusal>) -> Response {
    let (fields, verdict) = match outcome {
        Ok(fields) => (fields, None),
        Err(refusal) => (refusal_answer(body, &refusal), Some(refusal.verdict())),
    };
    let Some(message) = sign(state, &fields).await else {
        return with_verdict(StatusCode::INTERNAL_SERVER_ERROR, "sandbox could not sign its answer");
    };
    let response = ([(CONTENT_TYPE, "text/plain;charset=UTF-8")], message.raw_body()).into_response();
    match verdict {
        Some(verdict) => with_verdict(response, verdict),
        None => response,
    }
}

/// `POST /gateway/api/queryTrans.do`.
pub(super) async fn query(State(state): State<Shared>, body: Bytes) -> Response {
    let outcome = run_query(&state, &body).await;
    respond(&state, &body, outcome).await
}

async fn run_query(state: &Shared, body: &[u8]) -> Result<Answer, Refusal> {
    let f = verified_fields(state, body).await?;
    f.expect("txnType", "00")?;
    f.expect("txnSubType", "00")?;
    f.expect("bizType", "000000")?;
    let order_id = UnionpayOrderId::new(f.required("orderId")?).map_err(|_| Refusal::format("orderId"))?;
    f.txn_time()?;
    let txn_time = f.required("txnTime")?;
    let not_found = || Refusal::new("34", "查无此交易");

    let store = lock(&state.store);
    let consumption = store
        .get(Provider::Unionpay, order_id.as_str())
        .filter(|o| o.detail.get("txnTime").and_then(|t| t.as_str()) == Some(txn_time));
    if let Some(order) = consumption {
        return match order.status {
            OrderStatus::Paid => {
                let mut fields = consume_fields(state, order);
                fields.push(("origRespCode", "00".to_owned()));
                fields.push(("origRespMsg", SUCCESS_MSG.to_owned()));
                Ok(fields)
            }
            OrderStatus::Failed => {
                let mut fields: Answer = consume_fields(state, order)
                    .into_iter()
                    .filter(|(k, _)| matches!(*k, "version" | "encoding" | "bizType" | "txnType" | "txnSubType" | "accessType" | "merId" | "orderId" | "txnTime" | "txnAmt" | "currencyCode" | "respCode" | "respMsg"))
                    .collect();
                fields.push(("origRespCode", "01".to_owned()));
                fields.push(("origRespMsg", "交易失败".to_owned()));
                Ok(fields)
            }
            // The shopper has not submitted a payment: UnionPay has no transaction yet.
            OrderStatus::Pending | OrderStatus::Closed => Err(not_found()),
        };
    }
    let refund = store.all().filter(|o| o.provider == Provider::Unionpay).find_map(|o| {
        o.refunds.iter().find(|r| r.out_refund_no == order_id.as_str()).map(|r| (o, r))
    });
    match refund {
        Some((order, refund)) if refund_fields(state, order, refund).iter().any(|(k, v)| *k == "txnTime" && v == txn_time) => {
            let mut fields = refund_fields(state, order, refund);
            fields.push(("origRespCode", "00".to_owned()));
            fields.push(("origRespMsg", SUCCESS_MSG.to_owned()));
            Ok(fields)
        }
        _ => Err(not_found()),
    }
}

/// `POST /gateway/api/backTransReq.do`: refunds (`txnType=04`) and same-day cancellations (`31`).
pub(super) async fn back_trans(State(state): State<Shared>, body: Bytes) -> Response {
    let outcome = run_back_trans(&state, &body).await;
    respond(&state, &body, outcome).await
}

async fn run_back_trans(state: &Shared, body: &[u8]) -> Result<Answer, Refusal> {
    let f = verified_fields(state, body).await?;
    let txn_type = f.required("txnType")?;
    let cancel = match txn_type {
        "04" => false,
        "31" => true,
        _ => return Err(Refusal::format("txnType 应为 04 或 31")),
    };
    f.expect("txnSubType", "00")?;
    f.expect("bizType", "000201")?;
    f.expect("currencyCode", "156")?;
    let channel = f.required("channelType")?;
    if !matches!(channel, "07" | "08") {
        return Err(Refusal::format("channelType 应为 07 或 08"));
    }
    let order_id = UnionpayOrderId::new(f.required("orderId")?).map_err(|_| Refusal::format("orderId (8-40 letters and digits)"))?;
    f.fresh_txn_time()?;
    let txn_time = f.required("txnTime")?;
    let amount = Amount::parse_unionpay(f.required("txnAmt")?)
        .ok()
        .filter(|a| !a.is_zero())
        .ok_or_else(|| Refusal::format("txnAmt"))?;
    let orig = QueryId::new(f.required("origQryId")?).map_err(|_| Refusal::format("origQryId"))?;
    f.required("backUrl")?;
    let back_url = f.url("backUrl")?.unwrap_or_default();

    let (order, record) = {
        let mut store = lock(&state.store);
        let used = store.get(Provider::Unionpay, order_id.as_str()).is_some()
            || store.all().any(|o| o.provider == Provider::Unionpay && o.refunds.iter().any(|r| r.out_refund_no == order_id.as_str()));
        if used {
            return Err(Refusal::new("12", "重复交易 (orderId already used)"));
        }
        let original = store
            .all()
            .find(|o| o.provider == Provider::Unionpay && o.transaction_id.as_deref() == Some(orig.as_str()) && o.status == OrderStatus::Paid)
            .map(|o| o.out_trade_no.clone());
        let Some(order) = original.and_then(|no| store.get_mut(Provider::Unionpay, &no)) else {
            return Err(Refusal::new("35", "原交易不存在或状态不正确"));
        };
        if cancel {
            let day = |unix: u64| BeijingTime::from_unix(unix).map(BeijingTime::to_compact).unwrap_or_default().get(..8).map(str::to_owned);
            if amount.fen() != order.amount_fen {
                return Err(Refusal::new("36", "与原交易信息不符 (a cancellation is for the whole amount)"));
            }
            if !order.refunds.is_empty() || order.paid_at.map(day) != Some(day(now())) {
                return Err(Refusal::new("35", "原交易不存在或状态不正确 (cancel only an unrefunded consumption of today)"));
            }
        } else if amount.fen() > order.amount_fen.saturating_sub(order.refunded_fen()) {
            return Err(Refusal::new("33", "交易金额超限 (more than is left to refund)"));
        }
        let record = RefundRecord {
            out_refund_no: order_id.as_str().to_owned(),
            refund_id: new_query_id(),
            amount_fen: amount.fen(),
            created_at: now(),
            succeeded: true,
        };
        order.refunds.push(record.clone());
        order.detail["refunds"][order_id.as_str()] =
            json!({ "txnType": txn_type, "txnTime": txn_time, "backUrl": back_url, "channelType": channel });
        (order.clone(), record)
    };
    if let Some(callback) = super::notify::refund_callback(state, &order, &record).await {
        notifier::schedule(state, callback);
    }
    Ok(vec![
        ("version", payment_core::unionpay::request::VERSION.to_owned()),
        ("encoding", "UTF-8".to_owned()),
        ("bizType", "000201".to_owned()),
        ("txnType", txn_type.to_owned()),
        ("txnSubType", "00".to_owned()),
        ("accessType", "0".to_owned()),
        ("merId", state.keys.file.unionpay.mer_id.clone()),
        ("orderId", order_id.as_str().to_owned()),
        ("txnTime", txn_time.to_owned()),
        ("txnAmt", amount.fen().to_string()),
        ("origQryId", orig.as_str().to_owned()),
        ("queryId", record.refund_id),
        ("respCode", "00".to_owned()),
        ("respMsg", SUCCESS_MSG.to_owned()),
    ])
}
