//! Provider callbacks: verified over the raw body, checked against the stored attempt by the
//! session's Durable Object, then acknowledged in the provider's exact format. Anything that does
//! not check out changes nothing and gets the provider's failure answer, so a real callback that
//! failed here is sent again.

use payment_core::event::ProviderTransactionId;
use worker::{Env, Method, Response, Result};

use crate::config::Config;
use crate::incoming::Incoming;
use crate::providers::{alipay, refund, session_of, unionpay, wechatpay};
use crate::route::RouteContext;
use crate::sessions::call_object;

/// Callbacks larger than this are refused unread (real ones are a few KiB).
const MAX_BODY: usize = 64 * 1024;

/// Alipay's answers: exactly `success`, or anything else to be called again.
fn alipay_answer(ok: bool) -> Result<Response> {
    Response::ok(if ok { "success" } else { "fail" })
}

/// `POST /v1/notify/alipay`.
pub(crate) async fn alipay(mut req: Incoming, ctx: RouteContext<Config>) -> Result<Response> {
    // A declared length over the limit is refused before reading anything.
    let declared = req.headers().get("Content-Length")?.and_then(|l| l.trim().parse::<usize>().ok());
    if declared.is_some_and(|l| l > MAX_BODY) {
        return alipay_answer(false);
    }
    let raw = req.bytes().await?;
    if raw.len() > MAX_BODY {
        return alipay_answer(false);
    }
    let notify = match alipay::verify_notify(&ctx.env, &raw).await {
        Ok(notify) => notify,
        Err(refusal) => {
            let reason = match refusal {
                alipay::Refusal::NotConfigured => "not_configured",
                alipay::Refusal::Unverified => "unverified",
                alipay::Refusal::WrongMerchant => "wrong_merchant",
            };
            refused_callback(&ctx.env, &raw, "out_trade_no", reason).await?;
            return alipay_answer(false);
        }
    };
    if notify.is_refund() {
        return alipay_answer(refund_outcome(&ctx.env, notify.out_biz_no.as_deref(), true).await?);
    }
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

/// UnionPay's answers: any HTTP 200 stops its retries; a refusal (400, a short fixed text) makes
/// it send again.
fn unionpay_answer(ok: bool) -> Result<Response> {
    if ok {
        Response::ok(payment_core::unionpay::notify::ACK_BODY)
    } else {
        Ok(Response::ok("refused")?.with_status(400))
    }
}

/// `POST /v1/notify/unionpay`: the back notification of a consumption.
pub(crate) async fn unionpay(mut req: Incoming, ctx: RouteContext<Config>) -> Result<Response> {
    // A declared length over the limit is refused before reading anything.
    let declared = req.headers().get("Content-Length")?.and_then(|l| l.trim().parse::<usize>().ok());
    if declared.is_some_and(|l| l > MAX_BODY) {
        return unionpay_answer(false);
    }
    let raw = req.bytes().await?;
    if raw.len() > MAX_BODY {
        return unionpay_answer(false);
    }
    let Ok(notify) = unionpay::verify_notify(&ctx.env, &raw, crate::now()).await else {
        refused_callback(&ctx.env, &raw, "orderId", "unverified").await?;
        return unionpay_answer(false);
    };
    if notify.txn_type == payment_core::unionpay::TxnType::Refund {
        return unionpay_answer(refund_outcome(&ctx.env, Some(notify.order_id.as_str()), notify.is_success()).await?);
    }
    if !notify.is_success() || notify.txn_type != payment_core::unionpay::TxnType::Consume {
        // Authentic and ours, but not a successful payment: acknowledged, nothing to record.
        return unionpay_answer(true);
    }
    let Ok(out_trade_no) = payment_core::ids::OutTradeNo::new(notify.order_id.as_str()) else {
        return unionpay_answer(false);
    };
    let Some(session) = session_of(&out_trade_no) else {
        return unionpay_answer(false);
    };
    if notify.currency_code.as_deref().is_some_and(|c| c != "156") {
        crate::audit::record(&ctx.env, &session, "callback.refused", Some(&out_trade_no), "currency_mismatch").await?;
        return unionpay_answer(false);
    }
    let Some(transaction) = notify.query_id.as_ref().and_then(|q| ProviderTransactionId::new(q.as_str()).ok()) else {
        return unionpay_answer(false);
    };
    let paid = paid(&ctx.env, &session, &out_trade_no, notify.txn_amt, transaction, None).await?;
    unionpay_answer(paid)
}

/// WeChat Pay's answers: `204` when handled; otherwise a 4xx/5xx status with
/// `{"code":"FAIL","message":…}` (a short fixed sentence), so that WeChat Pay sends it again.
fn wechatpay_answer(refusal: Option<(u16, &'static str)>) -> Result<Response> {
    match refusal {
        None => Ok(Response::empty()?.with_status(204)),
        Some((status, message)) => Ok(Response::from_json(&serde_json::json!({ "code": "FAIL", "message": message }))?.with_status(status)),
    }
}

/// `POST /v1/notify/wechatpay`: verify over the raw body → decrypt → parse (payment-core), then
/// mchid and appid, then the payment is recorded by the session's Durable Object.
pub(crate) async fn wechatpay(mut req: Incoming, ctx: RouteContext<Config>) -> Result<Response> {
    const TOO_LARGE: Option<(u16, &str)> = Some((413, "The body is too large."));
    let declared = req.headers().get("Content-Length")?.and_then(|l| l.trim().parse::<usize>().ok());
    if declared.is_some_and(|l| l > MAX_BODY) {
        return wechatpay_answer(TOO_LARGE);
    }
    let raw = req.bytes().await?;
    if raw.len() > MAX_BODY {
        return wechatpay_answer(TOO_LARGE);
    }
    let Some(headers) = wechatpay::signature_headers(req.headers()) else {
        return wechatpay_answer(Some((401, "The signature did not verify.")));
    };
    let transaction = match wechatpay::verify_notify(&ctx.env, &headers, &raw, crate::now()).await {
        Ok(transaction) => transaction,
        Err(wechatpay::Refusal::Unhandled) => return wechatpay_refund(&ctx.env, &headers, &raw).await,
        Err(refusal) => {
            return wechatpay_answer(Some(match refusal {
                wechatpay::Refusal::NotConfigured => (500, "This notification endpoint is not configured."),
                wechatpay::Refusal::Unverified => (401, "The signature did not verify."),
                wechatpay::Refusal::WrongMerchant => (400, "The notification is not for this merchant."),
                wechatpay::Refusal::Unhandled => (400, "This notification type is not handled."),
            }))
        }
    };
    if transaction.trade_state != payment_core::wechatpay::model::TradeState::Success {
        // Authentic and ours, but not a payment: acknowledged, nothing to record.
        return wechatpay_answer(None);
    }
    let Some(session) = session_of(&transaction.out_trade_no) else {
        return wechatpay_answer(Some((400, "Unknown order.")));
    };
    let paid_at = wechatpay::paid_at(&transaction);
    let (Some(amount), Some(transaction_id)) = (transaction.amount, transaction.transaction_id) else {
        return wechatpay_answer(Some((400, "The payment is incomplete.")));
    };
    if amount.currency.is_some_and(|c| c != payment_core::money::Currency::Cny) {
        crate::audit::record(&ctx.env, &session, "callback.refused", Some(&transaction.out_trade_no), "currency_mismatch").await?;
        return wechatpay_answer(Some((400, "The payment does not match the order.")));
    }
    let Ok(provider_transaction) = ProviderTransactionId::new(transaction_id.as_str()) else {
        return wechatpay_answer(Some((400, "The payment is incomplete.")));
    };
    match paid(&ctx.env, &session, &transaction.out_trade_no, amount.total, provider_transaction, paid_at).await {
        Ok(true) => wechatpay_answer(None),
        Ok(false) => wechatpay_answer(Some((400, "The payment does not match the order."))),
        Err(_) => wechatpay_answer(Some((500, "The payment could not be recorded. Try again."))),
    }
}

/// Records a callback refused before the state machine saw it (see [`crate::audit`]) in the trail
/// of the session its form field `field` names, when that is an attempt of an existing session.
async fn refused_callback(env: &Env, raw: &[u8], field: &str, reason: &str) -> Result<()> {
    let Ok(pairs) = payment_core::form::parse_urlencoded(raw) else {
        return Ok(());
    };
    let no = pairs.into_iter().find(|(k, _)| k == field).and_then(|(_, v)| payment_core::ids::OutTradeNo::new(v).ok());
    match no.as_ref().and_then(|no| session_of(no).map(|session| (no, session))) {
        Some((no, session)) => crate::audit::record(env, &session, "callback.refused", Some(no), reason).await,
        None => Ok(()),
    }
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
    Ok(response.status == 200)
}

/// A `REFUND.*` callback (the payment path refused it as not a payment): verified again as a
/// refund, then its outcome recorded. `REFUND.ABNORMAL` is acknowledged and changes nothing.
async fn wechatpay_refund(env: &Env, headers: &payment_core::wechatpay::verify::WechatpayHeaders, raw: &[u8]) -> Result<Response> {
    use crate::providers::refund::wechatpay::verify_refund_notify;
    let notice = match verify_refund_notify(env, headers, raw, crate::now()).await {
        Ok(notice) => notice,
        Err(wechatpay::Refusal::NotConfigured) => return wechatpay_answer(Some((500, "This notification endpoint is not configured."))),
        Err(wechatpay::Refusal::WrongMerchant) => return wechatpay_answer(Some((400, "The notification is not for this merchant."))),
        Err(wechatpay::Refusal::Unhandled) => return wechatpay_answer(Some((400, "This notification type is not handled."))),
        Err(wechatpay::Refusal::Unverified) => return wechatpay_answer(Some((401, "The signature did not verify."))),
    };
    let Some(succeeded) = notice.verdict else {
        return wechatpay_answer(None);
    };
    if session_of(&notice.out_trade_no).is_none() {
        return wechatpay_answer(Some((400, "Unknown order.")));
    }
    match refund_outcome(env, Some(notice.out_refund_no.as_str()), succeeded).await {
        Ok(true) => wechatpay_answer(None),
        Ok(false) => wechatpay_answer(Some((400, "Unknown refund."))),
        Err(_) => wechatpay_answer(Some((500, "The refund could not be recorded. Try again."))),
    }
}

/// Records a provider's verdict on the refund numbered `out_refund_no`; `true` when the session
/// took it (or already had it), and for a refund this worker did not make (nothing to record).
async fn refund_outcome(env: &Env, out_refund_no: Option<&str>, succeeded: bool) -> Result<bool> {
    let Some(no) = out_refund_no else {
        return Ok(true);
    };
    if let (Some(session), Ok(no)) = (crate::duplicates::session_of_refund(no), payment_core::ids::OutRefundNo::new(no)) {
        // The refund of a duplicate payment (see [`crate::duplicates`]).
        let op = serde_json::json!({ "op": "duplicate_refund_outcome", "out_refund_no": no, "succeeded": succeeded });
        return Ok(call_object(env, &session, Method::Post, "/op", Some(op.to_string())).await?.status == 200);
    }
    let (Some(session), Ok(no)) = (refund::session_of_refund(no), payment_core::ids::OutRefundNo::new(no)) else {
        // Not one of ours (e.g. made in the provider's console): acknowledged, nothing to record.
        return Ok(true);
    };
    crate::refunds::record_outcome(env, &session, &no, succeeded).await
}
