//! Every order the sandbox's pretend providers hold, whatever the provider.

use std::collections::BTreeMap;

use payment_core::method::Provider;
use serde::Serialize;

/// Where an order stands at the pretend provider.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum OrderStatus {
    /// Created, not paid yet (WeChat `NOTPAY`, Alipay `WAIT_BUYER_PAY`).
    Pending,
    /// Paid (WeChat `SUCCESS`, Alipay `TRADE_SUCCESS`, UnionPay `respCode 00`).
    Paid,
    /// Closed before payment (by the merchant, or the shopper cancelled on the cashier page).
    Closed,
    /// The payment failed at the provider (WeChat `PAYERROR`).
    Failed,
}

/// One refund of an order.
#[derive(Debug, Clone, Serialize)]
pub struct RefundRecord {
    /// The merchant's refund number.
    pub out_refund_no: String,
    /// The provider's refund id.
    pub refund_id: String,
    /// Fen.
    pub amount_fen: u64,
    /// Unix seconds.
    pub created_at: u64,
    /// Whether it has succeeded.
    pub succeeded: bool,
}

/// One attempt to deliver a callback, with the merchant's answer.
#[derive(Debug, Clone, Serialize)]
pub struct Delivery {
    /// What was sent: `"payment"`, `"refund"`, or `"probe"`.
    pub kind: String,
    /// Unix milliseconds.
    pub at_ms: u64,
    /// HTTP status, or `None` when the request failed.
    pub status: Option<u16>,
    /// Whether the answer was the provider's expected acknowledgement.
    pub acknowledged: bool,
}

/// An order at a pretend provider.
#[derive(Debug, Clone, Serialize)]
pub struct Order {
    /// Which provider holds it.
    pub provider: Provider,
    /// The merchant's order number (WeChat/Alipay `out_trade_no`, UnionPay `orderId`).
    pub out_trade_no: String,
    /// The product: `jsapi`, `h5`, `native`, `page`, `wap`, `precreate`, `front_pc`, `front_wap`.
    pub kind: String,
    /// Fen.
    pub amount_fen: u64,
    /// The order's description or subject.
    pub description: String,
    /// Where it stands.
    pub status: OrderStatus,
    /// The merchant's callback URL.
    pub notify_url: Option<String>,
    /// Where the shopper goes back to after paying, when the method has one.
    pub return_url: Option<String>,
    /// The provider's transaction id, once paid.
    pub transaction_id: Option<String>,
    /// The payer (WeChat openid, Alipay buyer id), once paid.
    pub payer: Option<String>,
    /// Unix seconds.
    pub created_at: u64,
    /// Unix seconds.
    pub paid_at: Option<u64>,
    /// Refunds, in order.
    pub refunds: Vec<RefundRecord>,
    /// Every callback delivery attempt.
    pub deliveries: Vec<Delivery>,
    /// The request that created the order, canonicalized, to refuse a reuse with other parameters.
    #[serde(skip)]
    pub fingerprint: String,
    /// Provider-specific facts (ids, app ids, prepay id, trade type...).
    pub detail: serde_json::Value,
}

impl Order {
    /// Fen refunded so far (successful and pending refunds).
    pub fn refunded_fen(&self) -> u64 {
        self.refunds.iter().map(|r| r.amount_fen).sum()
    }
}

/// All orders, keyed by provider and merchant order number.
#[derive(Debug, Default)]
pub struct Store {
    orders: BTreeMap<(ProviderKey, String), Order>,
}

/// `Provider` as an ordered map key.
type ProviderKey = &'static str;

impl Store {
    /// The order `out_trade_no` of `provider`.
    pub fn get(&self, provider: Provider, out_trade_no: &str) -> Option<&Order> {
        self.orders.get(&(provider.as_str(), out_trade_no.to_owned()))
    }

    /// The order, to change it.
    pub fn get_mut(&mut self, provider: Provider, out_trade_no: &str) -> Option<&mut Order> {
        self.orders.get_mut(&(provider.as_str(), out_trade_no.to_owned()))
    }

    /// Finds an order by a provider-specific detail (e.g. WeChat `prepay_id`, `transaction_id`).
    pub fn find_by_detail(&self, provider: Provider, field: &str, value: &str) -> Option<&Order> {
        self.orders
            .values()
            .find(|o| o.provider == provider && o.detail.get(field).and_then(|v| v.as_str()) == Some(value))
    }

    /// Adds an order (replacing none: callers check for reuse first).
    pub fn insert(&mut self, order: Order) {
        self.orders.insert((order.provider.as_str(), order.out_trade_no.clone()), order);
    }

    /// Every order, oldest first within each provider.
    pub fn all(&self) -> impl Iterator<Item = &Order> {
        self.orders.values()
    }
}
