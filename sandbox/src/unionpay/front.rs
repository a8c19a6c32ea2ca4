//! `frontTransReq.do`: the consumption form the shopper's browser posts, and its way back.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::header::LOCATION;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use payment_core::form::{AutoSubmitForm, FormMethod};
use payment_core::method::Provider;
use payment_core::money::Amount;
use payment_core::native::block_on;
use payment_core::unionpay::UnionpayOrderId;
use serde_json::json;

use super::notify::{consume_fields, sign};
use super::{verified_fields, Refusal};
use crate::app::{lock, now, with_verdict, Shared};
use crate::cashier::{self, escape};
use crate::store::{Order, OrderStatus};

/// `POST /gateway/api/frontTransReq.do`: a valid consumption opens the cashier; anything else
/// gets UnionPay's error page.
pub(super) async fn handle(State(state): State<Shared>, body: Bytes) -> Response {
    match consume(&state, &body).await {
        Ok(no) => (StatusCode::FOUND, [(LOCATION, cashier::url(&state, Provider::Unionpay, &no))]).into_response(),
        Err(refusal) => {
            let verdict = refusal.verdict();
            with_verdict(error_page(&refusal), verdict)
        }
    }
}

/// Checks the consumption and creates its order (or finds the same one again); returns `orderId`.
async fn consume(state: &Shared, body: &[u8]) -> Result<String, Refusal> {
    let f = verified_fields(state, body).await?;
    f.expect("txnType", "01")?;
    f.expect("txnSubType", "01")?;
    f.expect("bizType", "000201")?;
    f.expect("currencyCode", "156")?;
    let kind = match f.required("channelType")? {
        "07" => "front_pc",
        "08" => "front_wap",
        _ => return Err(Refusal::format("channelType 应为 07 或 08")),
    };
    let amount = Amount::parse_unionpay(f.required("txnAmt")?)
        .ok()
        .filter(|a| !a.is_zero())
        .ok_or_else(|| Refusal::format("txnAmt"))?;
    let order_id = UnionpayOrderId::new(f.required("orderId")?).map_err(|_| Refusal::format("orderId (8-40 letters and digits)"))?;
    f.fresh_txn_time()?;
    let txn_time = f.required("txnTime")?;
    f.required("backUrl")?;
    let back_url = f.url("backUrl")?.map(str::to_owned);
    let front_url = f.url("frontUrl")?.map(str::to_owned);
    if let Some(timeout) = f.get("payTimeout") {
        payment_core::beijing_time::BeijingTime::parse_compact(timeout, "payTimeout").map_err(|_| Refusal::format("payTimeout"))?;
    }
    let channel = f.required("channelType")?;
    let fingerprint = format!("{txn_time}|{}|{channel}", amount.fen());

    let mut store = lock(&state.store);
    if let Some(existing) = store.get(Provider::Unionpay, order_id.as_str()) {
        return if existing.status == OrderStatus::Pending && existing.fingerprint == fingerprint {
            Ok(existing.out_trade_no.clone())
        } else {
            Err(Refusal::new("12", "重复交易 (orderId already used)"))
        };
    }
    if store.all().any(|o| o.provider == Provider::Unionpay && o.refunds.iter().any(|r| r.out_refund_no == order_id.as_str())) {
        return Err(Refusal::new("12", "重复交易 (orderId already used)"));
    }
    store.insert(Order {
        provider: Provider::Unionpay,
        out_trade_no: order_id.as_str().to_owned(),
        kind: kind.to_owned(),
        amount_fen: amount.fen(),
        description: f.get("orderDesc").unwrap_or("银联在线支付 UnionPay online payment").to_owned(),
        status: OrderStatus::Pending,
        notify_url: back_url,
        return_url: front_url,
        transaction_id: None,
        payer: None,
        created_at: now(),
        paid_at: None,
        refunds: Vec::new(),
        deliveries: Vec::new(),
        fingerprint,
        detail: json!({
            "txnTime": txn_time,
            "merId": f.required("merId")?,
            "channelType": channel,
            "reqReserved": f.get("reqReserved"),
        }),
    });
    Ok(order_id.as_str().to_owned())
}

/// UnionPay's error page for a refused front transaction.
fn error_page(refusal: &Refusal) -> Response {
    Html(format!(
        r#"<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>银联在线支付 - 交易失败 · sandbox</title></head>
<body style="font-family:sans-serif;max-width:560px;margin:48px auto;padding:0 16px">
<h1 style="color:#e60012">银联 UnionPay · sandbox</h1>
<p>交易失败 The transaction was refused.</p>
<p>应答码 respCode <code data-resp-code="{code}">{code}</code></p>
<p>应答信息 respMsg <span data-resp-msg>{msg}</span></p>
</body></html>"#,
        code = escape(refusal.code),
        msg = escape(&refusal.msg),
    ))
    .into_response()
}

pub(super) fn after_pay(state: &Shared, order: &Order) -> Response {
    let Some(front_url) = order.return_url.as_deref() else {
        return Redirect::to(&cashier::url(state, order.provider, &order.out_trade_no)).into_response();
    };
    // The native signer never suspends: this completes at once.
    match block_on(sign(state, &consume_fields(state, order))) {
        Some(message) => {
            let form = AutoSubmitForm { action: front_url.to_owned(), method: FormMethod::Post, fields: message.fields };
            Html(form.to_html()).into_response()
        }
        None => with_verdict(StatusCode::INTERNAL_SERVER_ERROR, "sandbox could not sign the front notification"),
    }
}
