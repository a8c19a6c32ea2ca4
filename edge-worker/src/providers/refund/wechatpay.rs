//! WeChat Pay refunds: `POST /v3/refund/domestic/refunds` (signed, its answer verified) and the
//! `REFUND.*` callbacks.

use payment_core::ids::{OutRefundNo, OutTradeNo};
use payment_core::money::Currency;
use payment_core::wechatpay::model::{
    from_body, ApiError as WechatError, RefundRequest, RefundRequestAmount, RefundResponse, RefundStatus, REFUND_PATH,
};
use payment_core::wechatpay::notify::{parse_notification, NotificationResource};
use payment_core::wechatpay::verify::WechatpayHeaders;
use worker::{Env, Method};

use super::{RefundOrder, Submitted};
use crate::providers::wechatpay::{Refusal, Settings};
use crate::providers::{public_url, ProviderError};
use crate::webcrypto::AesGcmKey;

/// What a refund status means here: `None` while it is still in progress (or abnormal: WeChat Pay
/// retries those, and its callback says how it ends).
fn verdict(status: &RefundStatus) -> Option<bool> {
    match status {
        RefundStatus::Success => Some(true),
        RefundStatus::Closed => Some(false),
        _ => None,
    }
}

/// Submits the refund; the verified answer.
pub(crate) async fn submit(env: &Env, order: &RefundOrder<'_>) -> Result<Submitted, ProviderError> {
    let settings = Settings::from_env(env, order.now).ok_or(ProviderError::NotConfigured)?;
    let request = RefundRequest {
        out_trade_no: order.payment.out_trade_no.clone(),
        out_refund_no: order.out_refund_no.clone(),
        reason: order.reason.map(str::to_owned),
        notify_url: Some(public_url(env, "/v1/notify/wechatpay").ok_or(ProviderError::NotConfigured)?),
        amount: RefundRequestAmount { refund: order.amount, total: order.total, currency: Currency::Cny },
    };
    let body = serde_json::to_string(&request).map_err(|_| ProviderError::NotConfigured)?;
    let (status, raw) = settings.send(Method::Post, REFUND_PATH, Some(&body), order.now).await?;
    match status {
        200..=299 => {
            let answer: RefundResponse = from_body(&raw, "response").map_err(|_| ProviderError::Unavailable)?;
            if &answer.out_refund_no != order.out_refund_no {
                return Err(ProviderError::Unavailable);
            }
            Ok(match verdict(&answer.status) {
                Some(true) => Submitted::Succeeded,
                Some(false) => Submitted::Failed,
                None => Submitted::Pending,
            })
        }
        500.. => Err(ProviderError::Unavailable),
        _ => match from_body::<WechatError>(&raw, "error") {
            Ok(error) if error.code.is_retryable() => Err(ProviderError::Unavailable),
            _ => Ok(Submitted::Failed),
        },
    }
}

/// A verified refund callback: the refund, and `Some(succeeded)` once it ended.
#[derive(Debug)]
pub(crate) struct RefundNotice {
    /// The refund.
    pub(crate) out_refund_no: OutRefundNo,
    /// The payment it refunds.
    pub(crate) out_trade_no: OutTradeNo,
    /// `Some(true)` refunded, `Some(false)` closed, `None` still going (abnormal).
    pub(crate) verdict: Option<bool>,
}

/// Verifies a callback (as [`crate::providers::wechatpay::verify_notify`]) and returns its refund
/// resource, checked to be for this merchant.
pub(crate) async fn verify_refund_notify(env: &Env, headers: &WechatpayHeaders, raw: &[u8], now: u64) -> Result<RefundNotice, Refusal> {
    let settings = Settings::from_env(env, now).ok_or(Refusal::NotConfigured)?;
    let aead = AesGcmKey::import(settings.apiv3_key.expose()).await.map_err(|_| Refusal::NotConfigured)?;
    let notification = parse_notification(headers, raw, &settings.platform_keys, &aead, now).await.map_err(|_| Refusal::Unverified)?;
    let NotificationResource::Refund(refund) = notification.resource else {
        return Err(Refusal::Unhandled);
    };
    if refund.mchid != settings.mchid {
        return Err(Refusal::WrongMerchant);
    }
    Ok(RefundNotice { verdict: verdict(&refund.refund_status), out_refund_no: refund.out_refund_no, out_trade_no: refund.out_trade_no })
}
