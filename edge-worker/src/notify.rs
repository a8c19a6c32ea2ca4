//! Provider callbacks: verified over the raw body, checked against the stored attempt by the
//! session's Durable Object, then acknowledged in the provider's exact format. Anything that does
//! not check out changes nothing and gets the provider's failure answer, so a real callback that
//! failed here is sent again.

use payment_core::event::ProviderTransactionId;
use worker::{Env, Method, Request, Response, Result, RouteContext};

use crate::config::Config;
use crate::providers::{alipay, session_of};
use crate::sessions::call_object;

/// Callbacks larger than this are refused unread (real ones are a few KiB).
const MAX_BODY: usize = 64 * 1024;

/// Alipay's answers: exactly `success`, or anything else to be called again.
fn alipay_answer(ok: bool) -> Result<Response> {
    Response::ok(if ok { "success" } else { "fail" })
}

/// `POST /v1/notify/alipay`.
pub(crate) async fn alipay(mut req: Request, ctx: RouteContext<Config>) -> Result<Response> {
    let raw = req.bytes().await?;
    if raw.len() > MAX_BODY {
        return alipay_answer(false);
    }
    let Ok(notify) = alipay::verify_notify(&ctx.env, &raw).await else {
        return alipay_answer(false);
    };
    if !notify.trade_status.is_paid() {
        // WAIT_BUYER_PAY, TRADE_CLOSED…: acknowledged, nothing to record as paid.
        return alipay_answer(true);
    }
    let Some(session) = session_of(&notify.out_trade_no) else {
        return alipay_answer(false);
    };
    let Ok(transaction) = ProviderTransactionId::new(notify.trade_no.as_str()) else {
        return alipay_answer(false);
    };
    let paid = paid(&ctx.env, &session, &notify.out_trade_no, notify.total_amount, transaction, notify.gmt_payment).await?;
    alipay_answer(paid)
}

/// Tells the session's Durable Object that an attempt is paid; `true` when the session took it
/// (or already had it: a repeated callback changes nothing and is acknowledged).
async fn paid(
    env: &Env,
    session: &payment_core::ids::SessionId,
    out_trade_no: &payment_core::ids::OutTradeNo,
    amount: payment_core::money::Amount,
    transaction: ProviderTransactionId,
    paid_at: Option<u64>,
) -> Result<bool> {
    let now = crate::now();
    let op = serde_json::json!({
        "op": "paid", "out_trade_no": out_trade_no, "amount": amount,
        "provider_transaction_id": transaction, "paid_at": paid_at.unwrap_or(now), "now": now,
    });
    let response = call_object(env, session, Method::Post, "/op", Some(op.to_string())).await?;
    Ok(response.status_code() == 200)
}
