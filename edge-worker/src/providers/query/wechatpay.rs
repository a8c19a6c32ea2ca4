//! WeChat Pay API v3: `GET /v3/pay/transactions/out-trade-no/{no}?mchid=` and
//! `POST …/out-trade-no/{no}/close`, signed with the merchant key; every answer verified with the
//! platform key (through the provider's one transport, [`Settings::send`]).

use payment_core::event::ProviderTransactionId;
use payment_core::ids::OutTradeNo;
use payment_core::money::Currency;
use payment_core::wechatpay::model::{
    close_target, from_body, query_by_out_trade_no_target, to_body, ApiError as WechatError, CloseRequest, ErrorCode,
    TradeState, Transaction,
};
use worker::{Env, Method};

use super::{Closing, QueryOutcome};
use crate::providers::wechatpay::{paid_at, Settings};
use crate::providers::ProviderError;

/// An error answer: retryable codes (and 5xx) are `Unavailable`, the rest `Refused`.
fn error(status: u16, raw: &[u8]) -> ProviderError {
    match from_body::<WechatError>(raw, "error") {
        Ok(error) if status < 500 && !error.code.is_retryable() => ProviderError::Refused,
        _ => ProviderError::Unavailable,
    }
}

/// The order's status: `ORDER_NOT_EXIST` is not paid yet; `CLOSED`, `REVOKED` and `PAYERROR` end it.
pub(super) async fn query(env: &Env, out_trade_no: &OutTradeNo, now: u64) -> Result<QueryOutcome, ProviderError> {
    let settings = Settings::from_env(env, now).ok_or(ProviderError::NotConfigured)?;
    let target = query_by_out_trade_no_target(out_trade_no, &settings.mchid);
    let (status, raw) = settings.send(Method::Get, &target, None, now).await?;
    if !(200..300).contains(&status) {
        return match from_body::<WechatError>(&raw, "error") {
            Ok(e) if e.code == ErrorCode::OrderNotExist => Ok(QueryOutcome::NotPaid),
            _ => Err(error(status, &raw)),
        };
    }
    let transaction: Transaction = from_body(&raw, "response").map_err(|_| ProviderError::Unavailable)?;
    // A verified answer about another order or merchant: never act on it.
    if &transaction.out_trade_no != out_trade_no || transaction.mchid != settings.mchid || !settings.own_appid(&transaction.appid) {
        return Err(ProviderError::Unavailable);
    }
    match transaction.trade_state {
        ref state if state.is_paid() => {
            let paid_at = paid_at(&transaction);
            let (Some(amount), Some(id)) = (transaction.amount, transaction.transaction_id) else {
                return Err(ProviderError::Unavailable);
            };
            if amount.currency.is_some_and(|c| c != Currency::Cny) {
                return Err(ProviderError::Refused);
            }
            let provider_transaction_id = ProviderTransactionId::new(id.as_str()).map_err(|_| ProviderError::Unavailable)?;
            Ok(QueryOutcome::Paid { amount: amount.total, provider_transaction_id, paid_at })
        }
        TradeState::Closed | TradeState::Revoked | TradeState::PayError => Ok(QueryOutcome::Ended),
        _ => Ok(QueryOutcome::NotPaid),
    }
}

/// Closes the order: `204`; any other verified 4xx (`ORDER_PAID`…) means it cannot be closed.
pub(super) async fn close(env: &Env, out_trade_no: &OutTradeNo, now: u64) -> Result<Closing, ProviderError> {
    let settings = Settings::from_env(env, now).ok_or(ProviderError::NotConfigured)?;
    let body = to_body(&CloseRequest { mchid: settings.mchid.clone() }).map_err(|_| ProviderError::NotConfigured)?;
    let (status, raw) = settings.send(Method::Post, &close_target(out_trade_no), Some(&body), now).await?;
    match status {
        200..=299 => Ok(Closing::Closed),
        400..=499 => match from_body::<WechatError>(&raw, "error") {
            Ok(e) if e.code == ErrorCode::OrderNotExist => Ok(Closing::Closed),
            Ok(e) if e.code.is_retryable() => Err(ProviderError::Unavailable),
            _ => Ok(Closing::NotClosable),
        },
        _ => Err(error(status, &raw)),
    }
}
