//! What Alipay sends the merchant: the asynchronous trade notification (payment and refund), the
//! synchronous return to `return_url`, and badly signed probes.

use axum::http::header::LOCATION;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use payment_core::alipay::sign_notify;
use payment_core::form::append_query;
use payment_core::method::Provider;
use payment_core::money::Amount;
use payment_core::native::{block_on, RsaPrivateKey};

use super::trade::trade_status;
use super::{beijing, new_trade_no};
use crate::app::{now, random_digits, random_token, with_verdict, Shared};
use crate::cashier;
use crate::notifier::Callback;
use crate::store::{Order, OrderStatus, RefundRecord};

/// Notifications are form posts.
const CONTENT_TYPE: &str = "application/x-www-form-urlencoded; charset=utf-8";

fn yuan(fen: u64) -> String {
    Amount::from_fen(fen).map(Amount::to_alipay).unwrap_or_default()
}

/// The parameters of a trade notification for `order` (a paid one), with a refund's when given.
fn trade_fields(state: &Shared, order: &Order, refund: Option<&RefundRecord>) -> Vec<(&'static str, String)> {
    let alipay = &state.keys.file.alipay;
    let total = yuan(order.amount_fen);
    let mut fields = vec![
        ("notify_time", beijing(now())),
        ("notify_type", "trade_status_sync".to_owned()),
        ("notify_id", random_digits(34)),
        ("charset", "utf-8".to_owned()),
        ("version", "1.0".to_owned()),
        ("app_id", alipay.app_id.clone()),
        ("auth_app_id", alipay.app_id.clone()),
        ("seller_id", alipay.seller_id.clone()),
        ("out_trade_no", order.out_trade_no.clone()),
        ("trade_no", order.transaction_id.clone().unwrap_or_default()),
        ("trade_status", trade_status(order).to_owned()),
        ("total_amount", total.clone()),
        ("receipt_amount", total.clone()),
        ("invoice_amount", total.clone()),
        ("buyer_pay_amount", total.clone()),
        ("point_amount", "0.00".to_owned()),
        ("buyer_id", order.payer.clone().unwrap_or_default()),
        ("subject", order.description.clone()),
        ("gmt_create", beijing(order.created_at)),
        ("gmt_payment", order.paid_at.map(beijing).unwrap_or_default()),
        ("fund_bill_list", format!(r#"[{{"amount":"{total}","fundChannel":"ALIPAYACCOUNT"}}]"#)),
    ];
    if let Some(refund) = refund {
        fields.push(("out_biz_no", refund.out_refund_no.clone()));
        fields.push(("refund_fee", yuan(order.refunded_fen())));
        fields.push(("gmt_refund", beijing(refund.created_at)));
        if trade_status(order) == "TRADE_CLOSED" {
            fields.push(("gmt_close", beijing(refund.created_at)));
        }
    }
    fields
}

async fn signed_body(key: &RsaPrivateKey, fields: &[(&'static str, String)]) -> Option<Vec<u8>> {
    let pairs: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).filter(|(_, v)| !v.is_empty()).collect();
    sign_notify(key, &pairs).await.ok().map(String::into_bytes)
}

fn callback(order_no: &str, kind: &'static str, url: &str, body: Vec<u8>) -> Callback {
    Callback {
        provider: Provider::Alipay,
        out_trade_no: order_no.to_owned(),
        kind,
        url: url.to_owned(),
        headers: Vec::new(),
        content_type: CONTENT_TYPE,
        body,
    }
}

pub(super) async fn payment_callback(state: &Shared, order: &Order) -> Option<Callback> {
    if order.status != OrderStatus::Paid {
        return None;
    }
    let url = order.notify_url.as_deref()?;
    let body = signed_body(&state.keys.alipay_platform, &trade_fields(state, order, None)).await?;
    Some(callback(&order.out_trade_no, "payment", url, body))
}

pub(super) async fn refund_callback(state: &Shared, order: &Order, refund: &RefundRecord) -> Option<Callback> {
    if order.status != OrderStatus::Paid || !refund.succeeded {
        return None;
    }
    let url = order.notify_url.as_deref()?;
    let body = signed_body(&state.keys.alipay_platform, &trade_fields(state, order, Some(refund))).await?;
    Some(callback(&order.out_trade_no, "refund", url, body))
}

pub(super) async fn probe_callback(state: &Shared, url: &str) -> Callback {
    let probe = Order {
        provider: Provider::Alipay,
        out_trade_no: format!("PROBE{}", random_token(16)),
        kind: "probe".to_owned(),
        amount_fen: 1,
        description: "signature probe".to_owned(),
        status: OrderStatus::Paid,
        notify_url: Some(url.to_owned()),
        return_url: None,
        transaction_id: Some(new_trade_no()),
        payer: Some(format!("2088{}", random_digits(12))),
        created_at: now(),
        paid_at: Some(now()),
        refunds: Vec::new(),
        deliveries: Vec::new(),
        fingerprint: String::new(),
        detail: serde_json::Value::Null,
    };
    let fields = trade_fields(state, &probe, None);
    // Signed with the merchant's own app key: right shape, wrong signer.
    let wrong_key = RsaPrivateKey::from_text(&state.keys.file.alipay.app_private_key, "alipay.app_private_key").ok();
    let body = match &wrong_key {
        Some(key) => signed_body(key, &fields).await,
        None => None,
    };
    let body = match body {
        Some(body) => body,
        // Fallback: genuinely signed, then one value changed.
        None => {
            let body = signed_body(&state.keys.alipay_platform, &fields).await.unwrap_or_default();
            String::from_utf8_lossy(&body).replacen("total_amount=0.01", "total_amount=0.02", 1).into_bytes()
        }
    };
    callback(&probe.out_trade_no, "probe", url, body)
}

pub(super) fn after_pay(state: &Shared, order: &Order) -> Response {
    let method = match order.kind.as_str() {
        "page" => "alipay.trade.page.pay.return",
        "wap" => "alipay.trade.wap.pay.return",
        _ => return Redirect::to(&cashier::url(state, order.provider, &order.out_trade_no)).into_response(),
    };
    let Some(return_url) = order.return_url.as_deref() else {
        return Redirect::to(&cashier::url(state, order.provider, &order.out_trade_no)).into_response();
    };
    let alipay = &state.keys.file.alipay;
    let fields: Vec<(&'static str, String)> = vec![
        ("charset", "utf-8".to_owned()),
        ("out_trade_no", order.out_trade_no.clone()),
        ("method", method.to_owned()),
        ("total_amount", yuan(order.amount_fen)),
        ("trade_no", order.transaction_id.clone().unwrap_or_default()),
        ("auth_app_id", alipay.app_id.clone()),
        ("version", "1.0".to_owned()),
        ("app_id", alipay.app_id.clone()),
        ("seller_id", alipay.seller_id.clone()),
        ("timestamp", beijing(now())),
    ];
    // The native signer never suspends: this completes at once.
    match block_on(signed_body(&state.keys.alipay_platform, &fields)) {
        Some(query) => {
            let url = append_query(return_url, &String::from_utf8_lossy(&query));
            (StatusCode::FOUND, [(LOCATION, url)]).into_response()
        }
        None => with_verdict(StatusCode::INTERNAL_SERVER_ERROR, "sandbox could not sign the return"),
    }
}
