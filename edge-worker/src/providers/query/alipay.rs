//! Alipay: `alipay.trade.query` and `alipay.trade.close`, by `out_trade_no`, signed with the app
//! key; every answer (errors included) verified with Alipay's public key before it is used.

use payment_core::alipay::{
    sign_request, verify_response, CloseResponse, Method, Outcome, QueryResponse, Request, TradeRef, TradeStatus, Urls,
};
use payment_core::beijing_time::BeijingTime;
use payment_core::event::ProviderTransactionId;
use payment_core::ids::OutTradeNo;
use worker::Env;

use super::{Closing, QueryOutcome};
use crate::providers::alipay::Settings;
use crate::providers::ProviderError;
use crate::webcrypto::RsaSigningKey;

/// Sends `request` to the gateway and returns the raw answer (not verified yet).
async fn call(settings: &Settings, request: &Request, now: u64) -> Result<String, ProviderError> {
    let key = RsaSigningKey::import(settings.app_key_pkcs8.expose()).await.map_err(|_| ProviderError::NotConfigured)?;
    let urls = Urls { notify_url: None, return_url: None };
    let signed = sign_request(&settings.merchant, request, &urls, now, &key).await.map_err(|_| ProviderError::NotConfigured)?;
    let post = signed.post();
    let reply = crate::http::post_form(&post.url, &post.body).await?;
    if reply.status >= 500 {
        return Err(ProviderError::Unavailable);
    }
    String::from_utf8(reply.body).map_err(|_| ProviderError::Unavailable)
}

/// `alipay.trade.query`: `ACQ.TRADE_NOT_EXIST` means not paid yet (Alipay creates the trade only
/// once the shopper scans or logs in).
pub(super) async fn query(env: &Env, out_trade_no: &OutTradeNo, now: u64) -> Result<QueryOutcome, ProviderError> {
    let settings = Settings::from_env(env).ok_or(ProviderError::NotConfigured)?;
    let raw = call(&settings, &Request::Query(TradeRef::OutTradeNo(out_trade_no.clone())), now).await?;
    match verify_response::<QueryResponse>(&raw, Method::Query, &settings.verifier()).await {
        Ok(Outcome::Success(answer)) if &answer.out_trade_no == out_trade_no => {
            if answer.trade_status.is_paid() {
                let provider_transaction_id = ProviderTransactionId::new(answer.trade_no.as_str()).map_err(|_| ProviderError::Unavailable)?;
                let paid_at = answer.send_pay_date.as_deref().and_then(|t| BeijingTime::parse_alipay(t, "send_pay_date").ok()).map(BeijingTime::unix);
                Ok(QueryOutcome::Paid { amount: answer.total_amount, provider_transaction_id, paid_at })
            } else if answer.trade_status == TradeStatus::TradeClosed {
                Ok(QueryOutcome::Ended)
            } else {
                Ok(QueryOutcome::NotPaid)
            }
        }
        // A verified answer about another trade: never act on it.
        Ok(Outcome::Success(_)) => Err(ProviderError::Unavailable),
        Ok(Outcome::Failure(error)) if error.is_trade_not_exist() => Ok(QueryOutcome::NotPaid),
        Ok(Outcome::Failure(_)) => Err(ProviderError::Refused),
        Err(_) => Err(ProviderError::Unavailable),
    }
}

/// `alipay.trade.close`: a trade that does not exist has nothing to close; one that is not waiting
/// for payment (`ACQ.TRADE_STATUS_ERROR`) may be paid: the caller queries it.
pub(super) async fn close(env: &Env, out_trade_no: &OutTradeNo, now: u64) -> Result<Closing, ProviderError> {
    let settings = Settings::from_env(env).ok_or(ProviderError::NotConfigured)?;
    let raw = call(&settings, &Request::Close(TradeRef::OutTradeNo(out_trade_no.clone())), now).await?;
    match verify_response::<CloseResponse>(&raw, Method::Close, &settings.verifier()).await {
        Ok(Outcome::Success(_)) => Ok(Closing::Closed),
        Ok(Outcome::Failure(error)) if error.is_trade_not_exist() => Ok(Closing::Closed),
        Ok(Outcome::Failure(error)) if error.sub_code.as_deref().is_some_and(|c| c.starts_with("ACQ.")) => Ok(Closing::NotClosable),
        Ok(Outcome::Failure(_)) | Err(_) => Err(ProviderError::Unavailable),
    }
}
