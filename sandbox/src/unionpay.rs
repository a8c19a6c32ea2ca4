//! UnionPay ACP 5.1.0 on gateway.95516.com's paths: the front consumption form the shopper's
//! browser posts (`frontTransReq.do`), the merchant's status query (`queryTrans.do`) and refunds
//! and same-day cancellations (`backTransReq.do`). Signatures (`signMethod=01`), the messages the
//! platform signs (with `signPubKeyCert`), times and amounts are `payment-core`'s; this module
//! holds the platform's state and rules.
//!
//! - [`front`]: the front consumption, UnionPay's error page, and the signed form the browser
//!   posts back to `frontUrl` after paying.
//! - [`back`]: query, refund (`txnType=04`) and cancellation (`txnType=31`), answered as raw
//!   `k=v&…` text signed with the platform's certificate.
//! - [`notify`]: back notifications to `backUrl`, and probes signed by a certificate that does not
//!   chain to the sandbox's root.
//!
//! Every merchant request is checked in this order; refusals carry UnionPay's `respCode`s
//! (ACP 5.1.0 data dictionary, <https://open.unionpay.com/tjweb/api/dictionary?apiSvcId=448>):
//!
//! | when | respCode |
//! |---|---|
//! | body not UTF-8 form data, a repeated field | `10` 报文格式错误 |
//! | no `signature`, `signMethod` or `certId` | `13` 报文交易要素缺失 |
//! | `signMethod` other than `01` | `10` |
//! | `certId` not the merchant's signing certificate, or the signature does not verify | `11` 验证签名失败 |
//! | a required field missing (after the signature) | `13` |
//! | `version` ≠ 5.1.0, `encoding` ≠ UTF-8, `accessType` ≠ 0, wrong `txnType`/`txnSubType`/`bizType`/`channelType`/`currencyCode`, malformed `txnAmt`/`orderId`/`txnTime`/URLs; a new transaction's `txnTime` more than 15 minutes ahead or an hour behind (so a UTC time is refused) | `10` |
//! | `merId` not the sandbox's merchant | `31` 商户状态不正确 |
//! | an `orderId` used before (any other `txnTime`/amount/channel, or already paid) | `12` 重复交易 |
//! | query: no such transaction, or the shopper has not submitted the payment yet | `34` 查无此交易 |
//! | refund/cancel: `origQryId` unknown or not a successful consumption; cancelling after a refund or on another day | `35` 原交易不存在或状态不正确 |
//! | refund over what is left; cancellation of another amount | `33` 交易金额超限 / `36` 与原交易信息不符 |
//!
//! The sandbox's `orderId`s are unique across `txnTime`s (UnionPay keys them by merId, orderId and
//! txnTime; a merchant reusing an orderId is refused instead).

mod back;
mod front;
mod notify;

use axum::response::Response;
use axum::routing::post;
use axum::Router;
use payment_core::beijing_time::BeijingTime;
use payment_core::form::parse_urlencoded;
use payment_core::unionpay::sign::{verify_fields, SIGN_METHOD_RSA_SHA256};

use crate::app::{now, random_digits, Shared};
use crate::notifier::Callback;
use crate::store::{Order, RefundRecord};

/// The UnionPay gateway routes.
pub fn routes() -> Router<Shared> {
    Router::new()
        .route("/gateway/api/frontTransReq.do", post(front::handle))
        .route("/gateway/api/queryTrans.do", post(back::query))
        .route("/gateway/api/backTransReq.do", post(back::back_trans))
}

/// The back notification of a successful consumption, POSTed form-encoded to `backUrl`, signed
/// with the platform key, `signPubKeyCert` attached. `None` without a `backUrl` or when not paid.
pub async fn payment_callback(state: &Shared, order: &Order) -> Option<Callback> {
    notify::payment_callback(state, order).await
}

/// The back notification of a refund (`txnType=04`) or cancellation (`31`), to the `backUrl` of
/// that request.
pub async fn refund_callback(state: &Shared, order: &Order, refund: &RefundRecord) -> Option<Callback> {
    notify::refund_callback(state, order, refund).await
}

/// A well-formed notification whose `signPubKeyCert` claims to be the platform's certificate,
/// issued by the middle CA, but is self-signed: the signature verifies with the key it carries,
/// only the chain check refuses it.
pub async fn probe_callback(state: &Shared, url: &str) -> Callback {
    notify::probe_callback(state, url).await
}

/// The shopper's browser after *pay*: UnionPay posts the signed result to `frontUrl` (an
/// auto-submitting form); without one, the cashier shows the paid order.
pub fn after_pay(state: &Shared, order: &Order) -> Response {
    front::after_pay(state, order)
}

/// UnionPay's transaction serial (`queryId`): 21 digits.
pub fn new_query_id() -> String {
    format!("7{}", random_digits(20))
}

/// `respMsg` of a success.
const SUCCESS_MSG: &str = "成功[0000000]";

/// A refusal: `respCode`, `respMsg`.
#[derive(Debug)]
struct Refusal {
    code: &'static str,
    msg: String,
}

impl Refusal {
    fn new(code: &'static str, msg: impl Into<String>) -> Self {
        Self { code, msg: msg.into() }
    }

    /// `10` 报文格式错误, naming the field.
    fn format(field: &str) -> Self {
        Self::new("10", format!("报文格式错误 ({field})"))
    }

    /// `13` 报文交易要素缺失, naming the field.
    fn missing(field: &str) -> Self {
        Self::new("13", format!("报文交易要素缺失 ({field})"))
    }

    fn verdict(&self) -> String {
        format!("respCode {}: {}", self.code, self.msg)
    }
}

/// A merchant request's fields, empty values dropped (UnionPay never sends them).
#[derive(Debug)]
struct Fields(Vec<(String, String)>);

impl Fields {
    fn get(&self, name: &str) -> Option<&str> {
        self.0.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    fn required(&self, name: &str) -> Result<&str, Refusal> {
        self.get(name).ok_or_else(|| Refusal::missing(name))
    }

    /// A field that must hold exactly `expected`.
    fn expect(&self, name: &str, expected: &str) -> Result<(), Refusal> {
        if self.required(name)? == expected {
            Ok(())
        } else {
            Err(Refusal::format(&format!("{name} 应为 {expected}")))
        }
    }

    /// `txnTime` as Unix seconds (Beijing `yyyyMMddHHmmss`).
    fn txn_time(&self) -> Result<u64, Refusal> {
        BeijingTime::parse_compact(self.required("txnTime")?, "txnTime")
            .map(BeijingTime::unix)
            .map_err(|_| Refusal::format("txnTime"))
    }

    /// `txnTime` of a new transaction: Beijing time, at most 15 minutes ahead of the gateway and
    /// an hour behind (a time written in UTC, eight hours behind, is refused).
    fn fresh_txn_time(&self) -> Result<u64, Refusal> {
        let time = self.txn_time()?;
        let now = now();
        if time > now + 15 * 60 || time + 3600 < now {
            return Err(Refusal::format("txnTime 超出有效期 (Beijing time, at most an hour old)"));
        }
        Ok(time)
    }

    /// An optional `http(s)://` URL field.
    fn url(&self, name: &str) -> Result<Option<&str>, Refusal> {
        match self.get(name) {
            Some(url) if !is_web_url(url) => Err(Refusal::format(name)),
            other => Ok(other),
        }
    }
}

/// Whether `url` is an absolute `http(s)://host…` URL without spaces or control characters.
fn is_web_url(url: &str) -> bool {
    let rest = url.strip_prefix("https://").or_else(|| url.strip_prefix("http://"));
    rest.is_some_and(|r| !r.is_empty() && !r.starts_with(['/', ':', '?', '#'])) && url.bytes().all(|b| b.is_ascii_graphic())
}

/// Reads and verifies a merchant request as the gateway does: the signature with the merchant's
/// certificate named by `certId`, then the common fields.
async fn verified_fields(state: &Shared, body: &[u8]) -> Result<Fields, Refusal> {
    let all = parse_urlencoded(body).map_err(|_| Refusal::format("not UTF-8 form data"))?;
    let fields: Vec<(String, String)> = all.into_iter().filter(|(_, v)| !v.is_empty()).collect();
    let mut names: Vec<&str> = fields.iter().map(|(k, _)| k.as_str()).collect();
    names.sort_unstable();
    if names.windows(2).any(|w| w[0] == w[1]) {
        return Err(Refusal::format("repeated field"));
    }
    let fields = Fields(fields);
    fields.required("signature")?;
    if fields.required("signMethod")? != SIGN_METHOD_RSA_SHA256 {
        return Err(Refusal::format("signMethod 仅支持 01"));
    }
    if fields.required("certId")? != state.keys.file.unionpay.merchant_cert_id {
        return Err(Refusal::new("11", "验证签名失败 (unknown certId)"));
    }
    if verify_fields(&fields.0, &state.keys.unionpay_merchant).await.is_err() {
        return Err(Refusal::new("11", "验证签名失败"));
    }
    fields.expect("version", payment_core::unionpay::request::VERSION)?;
    if fields.get("encoding").is_some_and(|e| !e.eq_ignore_ascii_case("UTF-8")) {
        return Err(Refusal::format("encoding 仅支持 UTF-8"));
    }
    fields.expect("accessType", "0")?;
    if fields.required("merId")? != state.keys.file.unionpay.mer_id {
        return Err(Refusal::new("31", "商户状态不正确 (unknown merId)"));
    }
    Ok(fields)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_ids_look_real() {
        let id = new_query_id();
        assert_eq!(id.len(), 21);
        assert!(payment_core::unionpay::QueryId::new(id).is_ok());
    }

    #[test]
    fn web_urls() {
        assert!(is_web_url("http://127.0.0.1:8787/v1/notify/unionpay"));
        for bad in ["", "ftp://x", "https://", "https:///x", "https://a b"] {
            assert!(!is_web_url(bad), "{bad}");
        }
    }
}
