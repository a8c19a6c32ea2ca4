//! Alipay's OpenAPI gateway, `/gateway.do`, as openapi.alipay.com serves it, for
//! `alipay.trade.page.pay`, `wap.pay`, `precreate`, `query`, `close` and `refund`. Every protocol
//! rule (the string to sign, RSA2, answers and notifications, Beijing time, amounts) is
//! `payment-core`'s platform side; this module holds the gateway's state and business rules.
//!
//! - [`gateway`]: reads the parameters (GET query, POST form body, or both, as Alipay's SDKs split
//!   them), checks the common parameters and the signature, and answers: signed JSON
//!   (`<method>_response` + `sign`) for server calls, a 302 to the cashier or an error page for the
//!   page methods.
//! - [`trade`]: the trades themselves.
//! - [`notify`]: the asynchronous notification, the synchronous return to `return_url`, probes.
//!
//! Refusals use Alipay's public codes (<https://opendocs.alipay.com/common/02km9f>), checked in
//! this order, so that a one-byte change to a signed parameter other than `method`, `app_id` and
//! `sign_type` is always `isv.invalid-signature`:
//!
//! | when | code | sub_code |
//! |---|---|---|
//! | body not form-encoded | 40002 | `isv.invalid-content-type` |
//! | not UTF-8 (the sandbox speaks UTF-8 only) | 40002 | `isv.invalid-charset` |
//! | a parameter sent twice with different values (the same value in the URL and the body is one parameter) | 40002 | `isv.invalid-parameter` |
//! | no `method` / unknown `method` (answered in `error_response`) | 40001 / 40002 | `isv.missing-method` / `isv.invalid-method` |
//! | no `app_id` / not the sandbox's app | 40001 / 40002 | `isv.missing-app-id` / `isv.invalid-app-id` |
//! | no `sign_type` / not `RSA2` (`RSA`, SHA-1, is refused on purpose) | 40001 / 40002 | `isv.missing-signature-type` / `isv.invalid-signature-type` |
//! | no `sign` | 40001 | `isv.missing-signature` |
//! | the signature does not verify with the app's public key | 40002 | `isv.invalid-signature` |
//! | `charset` other than utf-8, `format` other than JSON | 40002 | `isv.invalid-charset`, `isv.invalid-format` |
//! | no `timestamp` / not `yyyy-MM-dd HH:mm:ss` Beijing time within 15 minutes | 40001 / 40002 | `isv.missing-timestamp` / `isv.invalid-timestamp` |
//! | no `version` / not `1.0`; `biz_content` missing or not a JSON object; bad `notify_url`/`return_url` | 40001 / 40002 | `isv.missing-version` / `isv.invalid-parameter` |
//! | a `biz_content` field breaks its rule (`out_trade_no` 1–64 of `[A-Za-z0-9_]`, `total_amount` exactly `"12.34"` in 0.01–100000000.00, `subject`, `product_code` of the method, `refund_amount`…) | 40004 | `ACQ.INVALID_PARAMETER` |
//! | the same `out_trade_no` with another amount, subject or method / already paid / closed | 40004 | `ACQ.CONTEXT_INCONSISTENT` / `ACQ.TRADE_HAS_SUCCESS` / `ACQ.TRADE_HAS_CLOSE` |
//! | no such trade | 40004 | `ACQ.TRADE_NOT_EXIST` |
//! | closing a trade that is not waiting for payment; refunding an unpaid one | 40004 | `ACQ.TRADE_STATUS_ERROR` |
//! | refunding more than paid − refunded (or, without `out_request_no`, other than the total) | 40004 | `ACQ.REFUND_AMT_NOT_EQUAL_TOTAL` |
//! | a zero refund, or an `out_request_no` reused with another amount | 40004 | `ACQ.REASON_TRADE_REFUND_FEE_ERR` |
//!
//! Every JSON answer, errors included, is signed with the platform key. Answers are HTTP 200, as
//! Alipay's are (its SDKs treat any other status as a transport failure).
//!
//! Simplification: a trade exists (with its `trade_no`, `WAIT_BUYER_PAY`) from the call that
//! creates it; real Alipay answers `ACQ.TRADE_NOT_EXIST` until the buyer scans or logs in, so a
//! merchant must treat that answer as "not paid yet" in any case.

mod gateway;
mod notify;
mod trade;

use axum::response::Response;
use axum::routing::get;
use axum::Router;
use payment_core::beijing_time::BeijingTime;

use crate::app::{now, random_digits, Shared};
use crate::notifier::Callback;
use crate::store::{Order, RefundRecord};

/// The Alipay gateway and the page its QR codes open.
pub fn routes() -> Router<Shared> {
    Router::new()
        .route("/gateway.do", get(gateway::handle).post(gateway::handle))
        .route("/sandbox/qr/alipay/{code}", get(trade::scan_qr))
}

/// The asynchronous notification of a paid trade (`trade_status_sync`, `TRADE_SUCCESS`), signed
/// with the platform key. `None` without a `notify_url` or when the trade is not paid.
pub async fn payment_callback(state: &Shared, order: &Order) -> Option<Callback> {
    notify::payment_callback(state, order).await
}

/// The trade notification Alipay sends after a refund (`refund_fee`, `gmt_refund`, `out_biz_no`).
pub async fn refund_callback(state: &Shared, order: &Order, refund: &RefundRecord) -> Option<Callback> {
    notify::refund_callback(state, order, refund).await
}

/// A well-formed trade notification signed with the *app's* key instead of Alipay's: a merchant
/// that verifies with the right key refuses it.
pub async fn probe_callback(state: &Shared, url: &str) -> Callback {
    notify::probe_callback(state, url).await
}

/// The shopper's browser after *pay*: page and wap payments go back to `return_url` with
/// Alipay's signed synchronous return parameters; otherwise the cashier shows the paid order.
pub fn after_pay(state: &Shared, order: &Order) -> Response {
    notify::after_pay(state, order)
}

/// An Alipay trade number: 28 digits, the Beijing date, `22001`, fifteen more digits, like
/// `2019081522001468450512505578`.
pub fn new_trade_no() -> String {
    let date = BeijingTime::from_unix(now()).map(|t| t.to_compact()).unwrap_or_default();
    format!("{}22001{}", date.get(..8).unwrap_or("20240101"), random_digits(15))
}

/// Beijing wall-clock time of `unix` in Alipay's format.
fn beijing(unix: u64) -> String {
    BeijingTime::from_unix(unix).map(BeijingTime::to_alipay).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trade_numbers_look_real() {
        let no = new_trade_no();
        assert_eq!(no.len(), 28, "{no}");
        assert!(no.bytes().all(|b| b.is_ascii_digit()) && &no[8..13] == "22001", "{no}");
        assert!(payment_core::alipay::TradeNo::new(no).is_ok());
    }
}
