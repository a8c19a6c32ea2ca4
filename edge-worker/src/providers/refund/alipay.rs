//! `alipay.trade.refund`: Alipay answers synchronously, so a verified success is the refund's
//! success. Refund notifications (`refund_fee`, `out_biz_no`) arrive on the trade notify.

use payment_core::alipay::{sign_request, verify_response, Method, Outcome, Request, RefundResponse, TradeRef, Urls};

use super::{RefundOrder, Submitted};
use crate::providers::alipay::Settings;
use crate::providers::ProviderError;
use crate::webcrypto::RsaSigningKey;

/// Alipay's codes that mean "try again" (service unavailable, system errors).
fn retryable(code: &str, sub_code: Option<&str>) -> bool {
    code == "20000" || sub_code.is_some_and(|s| s.ends_with("SYSTEM_ERROR") || s.contains("UNKNOW"))
}

/// Submits the refund; the verified answer.
pub(crate) async fn submit(env: &worker::Env, order: &RefundOrder<'_>) -> Result<Submitted, ProviderError> {
    let settings = Settings::from_env(env).ok_or(ProviderError::NotConfigured)?;
    let request = Request::Refund {
        trade: TradeRef::OutTradeNo(order.payment.out_trade_no.clone()),
        refund_amount: order.amount,
        out_request_no: order.out_refund_no.clone(),
        refund_reason: order.reason.map(str::to_owned),
    };
    let urls = Urls { notify_url: None, return_url: None };
    let key = RsaSigningKey::import(settings.app_key_pkcs8.expose()).await.map_err(|_| ProviderError::NotConfigured)?;
    let signed = sign_request(&settings.merchant, &request, &urls, order.now, &key).await.map_err(|_| ProviderError::NotConfigured)?;
    let post = signed.post();
    let (status, raw) = crate::http::post_form(&post.url, &post.body).await.map(|reply| (reply.status, reply.body))?;
    if status >= 500 {
        return Err(ProviderError::Unavailable);
    }
    let raw = String::from_utf8(raw).map_err(|_| ProviderError::Unavailable)?;
    match verify_response::<RefundResponse>(&raw, Method::Refund, &settings.verifier()).await {
        Ok(Outcome::Success(answer)) if answer.out_trade_no == order.payment.out_trade_no => Ok(Submitted::Succeeded),
        Ok(Outcome::Success(_)) => Err(ProviderError::Unavailable),
        Ok(Outcome::Failure(error)) if retryable(&error.code, error.sub_code.as_deref()) => Err(ProviderError::Unavailable),
        Ok(Outcome::Failure(_)) => Ok(Submitted::Failed),
        // An answer that does not verify is not Alipay's: never act on it.
        Err(_) => Err(ProviderError::Unavailable),
    }
}
