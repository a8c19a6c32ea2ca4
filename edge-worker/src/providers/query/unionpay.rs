//! UnionPay ACP 5.1.0: `queryTrans.do` for a consumption, by `orderId` and the attempt's original
//! `txnTime` (the attempt's start, stored by the session); the answer is verified like a back
//! notification (certificate chain, then signature). `respCode 34` means no transaction yet.
//! There is nothing to close at UnionPay before payment (see [`super::CloseOutcome::NothingToClose`]).

use payment_core::event::ProviderTransactionId;
use payment_core::unionpay::{parse_response, query as query_request, UnionpayOrderId};
use worker::Env;

use super::{QueryOutcome, Target};
use crate::providers::unionpay::Settings;
use crate::providers::ProviderError;
use crate::webcrypto::{RsaSigningKey, RsaVerifyingKey};

/// The consumption's status.
pub(super) async fn query(env: &Env, target: &Target, now: u64) -> Result<QueryOutcome, ProviderError> {
    let settings = Settings::from_env(env).ok_or(ProviderError::NotConfigured)?;
    let order_id = UnionpayOrderId::try_from(&target.out_trade_no).map_err(|_| ProviderError::Refused)?;
    let key = RsaSigningKey::import(settings.sign_key_pkcs8.expose()).await.map_err(|_| ProviderError::NotConfigured)?;
    let post = query_request(&settings.merchant, &order_id, target.started_at, &key).await.map_err(|_| ProviderError::NotConfigured)?;
    let reply = crate::http::post_form(&post.url, &post.body).await?;
    if reply.status >= 500 {
        return Err(ProviderError::Unavailable);
    }
    let raw = reply.body;
    let answer = parse_response(&raw, &settings.anchors, |spki| Ok(RsaVerifyingKey::new(spki)), now)
        .await
        .map_err(|_| ProviderError::Unavailable)?;
    // A verified answer about another merchant or order: never act on it.
    if answer.mer_id != settings.merchant.mer_id || answer.order_id != order_id {
        return Err(ProviderError::Unavailable);
    }
    if answer.is_paid() {
        let amount = answer.txn_amt.ok_or(ProviderError::Unavailable)?;
        let query_id = answer.query_id.as_ref().ok_or(ProviderError::Unavailable)?;
        let provider_transaction_id = ProviderTransactionId::new(query_id.as_str()).map_err(|_| ProviderError::Unavailable)?;
        return Ok(QueryOutcome::Paid { amount, provider_transaction_id, paid_at: None });
    }
    match (answer.resp_code.as_str(), &answer.orig_resp_code) {
        // No such transaction: the shopper has not submitted a payment yet.
        ("34", _) => Ok(QueryOutcome::NotPaid),
        ("00", Some(orig)) if orig.is_pending() => Ok(QueryOutcome::NotPaid),
        ("00", Some(_)) => Ok(QueryOutcome::Ended),
        ("03" | "04" | "05", _) => Err(ProviderError::Unavailable),
        _ => Err(ProviderError::Refused),
    }
}
