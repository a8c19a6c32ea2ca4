//! Refunds at the providers: one submission per provider, each answer verified before it counts.
//! Kept apart from the providers' payment modules; their settings are reused as they are.

pub(crate) mod alipay;
pub(crate) mod unionpay;
pub(crate) mod wechatpay;

use payment_core::event::PaymentSummary;
use payment_core::ids::{OutRefundNo, SessionId};
use payment_core::method::Provider;
use payment_core::money::Amount;
use sha2::{Digest as _, Sha256};
use worker::Env;

use super::ProviderError;

/// A refund to submit.
#[derive(Debug)]
pub(crate) struct RefundOrder<'a> {
    /// Its number at the provider.
    pub(crate) out_refund_no: &'a OutRefundNo,
    /// The payment it refunds.
    pub(crate) payment: &'a PaymentSummary,
    /// How much.
    pub(crate) amount: Amount,
    /// The payment's total.
    pub(crate) total: Amount,
    /// Shown to the payer.
    pub(crate) reason: Option<&'a str>,
    /// Now (Unix seconds).
    pub(crate) now: u64,
    /// When the merchant first asked for it (Unix seconds; 0 when unknown).
    pub(crate) requested_at: u64,
}

/// What the provider's verified answer says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Submitted {
    /// The money went back (Alipay answers synchronously).
    Succeeded,
    /// Taken; the outcome comes by callback.
    Pending,
    /// Refused for good.
    Failed,
}

/// Submits `order` to the provider of its payment.
pub(crate) async fn submit(env: &Env, order: &RefundOrder<'_>) -> Result<Submitted, ProviderError> {
    match order.payment.provider {
        Provider::Alipay => alipay::submit(env, order).await,
        Provider::Wechatpay => wechatpay::submit(env, order).await,
        Provider::Unionpay => unionpay::submit(env, order).await,
    }
}

/// A refund's number at the providers: `RF` + the session id's 24 characters (upper case) + 14
/// hex characters of SHA-256(`refund_id`) — 40 letters and digits, valid at all three providers
/// (UnionPay's `orderId` allows 8–40), and a callback leads to its session without a lookup.
pub(crate) fn refund_number(session: &SessionId, refund_id: &str) -> Option<OutRefundNo> {
    let digest = Sha256::digest(refund_id.as_bytes());
    let hex: String = digest.iter().take(7).map(|b| format!("{b:02X}")).collect();
    OutRefundNo::new(format!("RF{}{hex}", session.as_str().get(3..)?.to_ascii_uppercase())).ok()
}

/// The session a refund number belongs to.
pub(crate) fn session_of_refund(no: &str) -> Option<SessionId> {
    if no.len() != 40 || !no.starts_with("RF") {
        return None;
    }
    SessionId::new(format!("cs_{}", no.get(2..26)?.to_ascii_lowercase())).ok()
}
