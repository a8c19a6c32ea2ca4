//! UnionPay refunds: `backTransReq.do` with `txnType=04` and `origQryId` = the payment's
//! `queryId`, signed; the answer verified with the trust anchors (`respCode` 00 means taken: the
//! back notification with `txnType=04` says how it ends).
//!
//! Every submission of one refund carries the time it was first asked for as `txnTime`. When a
//! submission's answer was lost, the retry is answered `12` (duplicate `orderId`): the refund is
//! then looked up with `queryTrans.do` by `orderId` + `txnTime`, and its own status decides.

use payment_core::beijing_time::BeijingTime;
use payment_core::form::encode_pairs;
use payment_core::method::PaymentMethod;
use payment_core::unionpay::request::VERSION;
use payment_core::unionpay::sign::{signature, SIGN_METHOD_RSA_SHA256};
use payment_core::unionpay::{parse_response, query as query_request, UnionpayOrderId};
use worker::Env;

use super::{RefundOrder, Submitted};
use crate::providers::unionpay::Settings;
use crate::providers::{public_url, ProviderError};
use crate::webcrypto::{RsaSigningKey, RsaVerifyingKey};

/// Submits the refund; the verified answer.
pub(crate) async fn submit(env: &Env, order: &RefundOrder<'_>) -> Result<Submitted, ProviderError> {
    let settings = Settings::from_env(env).ok_or(ProviderError::NotConfigured)?;
    let order_id = UnionpayOrderId::new(order.out_refund_no.as_str()).map_err(|_| ProviderError::Refused)?;
    let channel = match order.payment.method {
        PaymentMethod::UnionpayWap => "08",
        _ => "07",
    };
    let first = if order.requested_at == 0 { order.now } else { order.requested_at };
    let txn_time = BeijingTime::from_unix(first).map_err(|_| ProviderError::NotConfigured)?.to_compact();
    let back_url = public_url(env, "/v1/notify/unionpay").ok_or(ProviderError::NotConfigured)?;
    let merchant = &settings.merchant;
    let url = merchant.query_trans_url.replace("/queryTrans.do", "/backTransReq.do");
    let mut fields: Vec<(String, String)> = [
        ("version", VERSION),
        ("encoding", "UTF-8"),
        ("txnType", "04"),
        ("txnSubType", "00"),
        ("bizType", "000201"),
        ("accessType", "0"),
        ("channelType", channel),
        ("merId", merchant.mer_id.as_str()),
        ("orderId", order_id.as_str()),
        ("txnTime", &txn_time),
        ("txnAmt", &order.amount.fen().to_string()),
        ("currencyCode", "156"),
        ("origQryId", order.payment.provider_transaction_id.as_str()),
        ("backUrl", &back_url),
        ("signMethod", SIGN_METHOD_RSA_SHA256),
        ("certId", &merchant.cert_id),
    ]
    .iter()
    .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
    .collect();
    let key = RsaSigningKey::import(settings.sign_key_pkcs8.expose()).await.map_err(|_| ProviderError::NotConfigured)?;
    let signed = signature(&key, &fields).await.map_err(|_| ProviderError::NotConfigured)?;
    fields.push(("signature".to_owned(), signed));
    let body = encode_pairs(fields.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    let (status, raw) = crate::http::post_form(&url, &body).await.map(|reply| (reply.status, reply.body))?;
    if status != 200 {
        return Err(ProviderError::Unavailable);
    }
    let Ok(answer) = parse_response(&raw, &settings.anchors, |spki| Ok(RsaVerifyingKey::new(spki)), order.now).await else {
        // Not UnionPay's (or garbled): never act on it.
        return Err(ProviderError::Unavailable);
    };
    if answer.mer_id != merchant.mer_id || answer.order_id != order_id {
        return Err(ProviderError::Unavailable);
    }
    // Taken (00) or in doubt (03/04/05): the back notification tells; anything else is a refusal.
    if answer.resp_code.is_success() || answer.resp_code.is_pending() {
        Ok(Submitted::Pending)
    } else if answer.resp_code.as_str() == "12" {
        // Submitted before (its answer lost): what became of it?
        refund_status(&settings, &order_id, first, order.now, &key).await
    } else {
        Ok(Submitted::Failed)
    }
}

/// The status of the refund `order_id` submitted at `txn_time`, by `queryTrans.do`.
async fn refund_status(settings: &Settings, order_id: &UnionpayOrderId, txn_time: u64, now: u64, key: &RsaSigningKey) -> Result<Submitted, ProviderError> {
    let post = query_request(&settings.merchant, order_id, txn_time, key).await.map_err(|_| ProviderError::NotConfigured)?;
    let (status, raw) = crate::http::post_form(&post.url, &post.body).await.map(|reply| (reply.status, reply.body))?;
    if status != 200 {
        return Err(ProviderError::Unavailable);
    }
    let Ok(answer) = parse_response(&raw, &settings.anchors, |spki| Ok(RsaVerifyingKey::new(spki)), now).await else {
        return Err(ProviderError::Unavailable);
    };
    if answer.mer_id != settings.merchant.mer_id || &answer.order_id != order_id || !answer.resp_code.is_success() {
        // Not found (34) under this orderId and txnTime, or no clear answer: try again later.
        return Err(ProviderError::Unavailable);
    }
    match &answer.orig_resp_code {
        // Taken, or still in progress: the back notification says how it ends.
        Some(orig) if orig.is_success() || orig.is_pending() => Ok(Submitted::Pending),
        Some(_) => Ok(Submitted::Failed),
        None => Err(ProviderError::Unavailable),
    }
}
