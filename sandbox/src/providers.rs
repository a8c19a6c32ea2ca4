//! What differs per provider once an order exists: its callbacks, where the shopper goes after
//! paying, and its transaction ids. The generic parts (cashier pages, control API) call these.

use axum::response::Response;
use payment_core::method::Provider;

use crate::app::{lock, now, Shared};
use crate::notifier::{self, Callback};
use crate::store::{Order, OrderStatus, RefundRecord};
use crate::{alipay, unionpay, wechat};

/// The callback that tells the merchant `order` is paid (or failed/closed, for providers that say so).
pub async fn payment_callback(state: &Shared, order: &Order) -> Option<Callback> {
    match order.provider {
        Provider::Wechatpay => wechat::payment_callback(state, order).await,
        Provider::Alipay => alipay::payment_callback(state, order).await,
        Provider::Unionpay => unionpay::payment_callback(state, order).await,
    }
}

/// The callback that tells the merchant a refund of `order` finished.
pub async fn refund_callback(state: &Shared, order: &Order, refund: &RefundRecord) -> Option<Callback> {
    match order.provider {
        Provider::Wechatpay => wechat::refund_callback(state, order, refund).await,
        Provider::Alipay => alipay::refund_callback(state, order, refund).await,
        Provider::Unionpay => unionpay::refund_callback(state, order, refund).await,
    }
}

/// A deliberately badly signed callback to `url`, like WeChat's signature probes.
pub async fn probe_callback(state: &Shared, provider: Provider, url: &str) -> Callback {
    match provider {
        Provider::Wechatpay => wechat::probe_callback(state, url).await,
        Provider::Alipay => alipay::probe_callback(state, url).await,
        Provider::Unionpay => unionpay::probe_callback(state, url).await,
    }
}

/// Where the shopper's browser goes after paying on the cashier page.
pub fn after_pay(state: &Shared, order: &Order) -> Response {
    match order.provider {
        Provider::Wechatpay => wechat::after_pay(state, order),
        Provider::Alipay => alipay::after_pay(state, order),
        Provider::Unionpay => unionpay::after_pay(state, order),
    }
}

/// Why an order could not change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangeError {
    /// No such order.
    NotFound,
    /// The order is not pending.
    NotPending,
}

/// Marks a pending order paid (by `payer`, or a generated payer id), then schedules its callback.
///
/// # Errors
/// When the order does not exist or is not pending.
pub async fn pay(state: &Shared, provider: Provider, out_trade_no: &str, payer: Option<String>) -> Result<Order, ChangeError> {
    let order = {
        let mut store = lock(&state.store);
        let order = store.get_mut(provider, out_trade_no).ok_or(ChangeError::NotFound)?;
        if order.status != OrderStatus::Pending {
            return Err(ChangeError::NotPending);
        }
        order.status = OrderStatus::Paid;
        order.paid_at = Some(now());
        // Kept when the provider assigned it at creation (Alipay's `trade_no` exists while the
        // trade waits for the buyer, and stays the same once paid).
        if order.transaction_id.is_none() {
            order.transaction_id = Some(match provider {
                Provider::Wechatpay => wechat::new_transaction_id(),
                Provider::Alipay => alipay::new_trade_no(),
                Provider::Unionpay => unionpay::new_query_id(),
            });
        }
        if order.payer.is_none() {
            order.payer = Some(payer.unwrap_or_else(|| default_payer(provider)));
        }
        order.clone()
    };
    if let Some(callback) = payment_callback(state, &order).await {
        notifier::schedule(state, callback);
    }
    Ok(order)
}

/// Closes (`Closed`) or fails (`Failed`) a pending order. Only failures are told to the merchant,
/// and only by providers that send them.
///
/// # Errors
/// When the order does not exist or is not pending.
pub async fn end_unpaid(state: &Shared, provider: Provider, out_trade_no: &str, status: OrderStatus) -> Result<Order, ChangeError> {
    let mut store = lock(&state.store);
    let order = store.get_mut(provider, out_trade_no).ok_or(ChangeError::NotFound)?;
    if order.status != OrderStatus::Pending {
        return Err(ChangeError::NotPending);
    }
    order.status = status;
    Ok(order.clone())
}

fn default_payer(provider: Provider) -> String {
    match provider {
        Provider::Wechatpay => format!("oSandbox{}", crate::app::random_token(20)),
        Provider::Alipay => format!("2088{}", crate::app::random_digits(12)),
        Provider::Unionpay => format!("6216{}", crate::app::random_digits(12)),
    }
}
