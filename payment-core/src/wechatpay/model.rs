//! Typed WeChat Pay API v3 bodies: orders (JSAPI, H5, Native), their responses, query, close, refund,
//! the decrypted callback resources, and the error body. Built and read with serde; amounts are
//! [`Amount`] (integer fen), ids are newtypes, protocol enums keep an `Unknown(String)` fallback.
//!
//! - JSAPI order: <https://pay.weixin.qq.com/doc/v3/merchant/4012791856>
//! - H5 order: <https://pay.weixin.qq.com/doc/v3/merchant/4012791834>
//! - Native order: <https://pay.weixin.qq.com/doc/v3/merchant/4012791877>
//! - Query by `out_trade_no`: <https://pay.weixin.qq.com/doc/v3/merchant/4013070356>
//! - Close: <https://pay.weixin.qq.com/doc/v3/merchant/4013070360>
//! - Refund: `POST /v3/refund/domestic/refunds` (申请退款, in the same merchant documentation)
//! - Callbacks: <https://pay.weixin.qq.com/doc/v3/merchant/4012791861>

use std::fmt;
use std::net::IpAddr;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::canonical::encode_component;
use crate::beijing_time::BeijingTime;
use crate::error::{Error, Result};
use crate::ids::{def_id, AppId, MchId, OutRefundNo, OutTradeNo};
use crate::money::{Amount, Currency};

fn visible_ascii(value: &str, max: usize) -> bool {
    (1..=max).contains(&value.len()) && value.bytes().all(|b| b.is_ascii_graphic())
}

def_id!(
    /// WeChat Pay's own order number (`transaction_id`), 1–32 digits.
    TransactionId, "transaction_id", |v| (1..=32).contains(&v.len()) && v.bytes().all(|b| b.is_ascii_digit())
);

def_id!(
    /// WeChat Pay's refund number (`refund_id`), 1–32 digits.
    RefundId, "refund_id", |v| (1..=32).contains(&v.len()) && v.bytes().all(|b| b.is_ascii_digit())
);

def_id!(
    /// The prepayment session id a JSAPI order returns (`prepay_id`, e.g. `wx2014…`), valid 2 hours:
    /// 1–64 visible ASCII.
    PrepayId, "prepay_id", |v| visible_ascii(v, 64)
);

def_id!(
    /// A payer's `openid` under one `appid`: 1–128 visible ASCII. Personal data: store it encrypted.
    OpenId, "openid", |v| visible_ascii(v, 128)
);

/// A protocol enum with the wire names of its known values and an `Unknown(String)` fallback, so a
/// new value from the provider parses instead of failing.
macro_rules! wire_enum {
    ($(#[$doc:meta])* $name:ident { $($(#[$vdoc:meta])* $variant:ident = $wire:literal,)+ }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        pub enum $name {
            $($(#[$vdoc])* $variant,)+
            /// A value this version does not know, kept as sent.
            Unknown(String),
        }

        impl $name {
            /// The value as sent on the wire.
            pub fn as_str(&self) -> &str {
                match self {
                    $(Self::$variant => $wire,)+
                    Self::Unknown(other) => other,
                }
            }

            /// The value for a wire name (`Unknown` when it is not a known one).
            pub fn from_wire(value: &str) -> Self {
                match value {
                    $($wire => Self::$variant,)+
                    other => Self::Unknown(other.to_owned()),
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> std::result::Result<Self, D::Error> {
                Ok(Self::from_wire(&String::deserialize(deserializer)?))
            }
        }
    };
}

wire_enum!(
    /// A payment's state (`trade_state`).
    TradeState {
        /// Paid.
        Success = "SUCCESS",
        /// Paid, then (partly) refunded.
        Refund = "REFUND",
        /// Not paid yet.
        NotPay = "NOTPAY",
        /// Closed unpaid.
        Closed = "CLOSED",
        /// Revoked (payment-code payments).
        Revoked = "REVOKED",
        /// The payer is entering a password (payment-code payments).
        UserPaying = "USERPAYING",
        /// Payment failed (payment-code payments).
        PayError = "PAYERROR",
    }
);

impl TradeState {
    /// Whether the money was received (`SUCCESS`; `REFUND` means it was received, then refunded).
    pub fn is_paid(&self) -> bool {
        matches!(self, Self::Success | Self::Refund)
    }
}

wire_enum!(
    /// How a payment was made (`trade_type`).
    TradeType {
        /// In WeChat or a mini-program, through the JS bridge.
        Jsapi = "JSAPI",
        /// By scanning a QR code.
        Native = "NATIVE",
        /// In an app.
        App = "APP",
        /// By showing a payment code.
        Micropay = "MICROPAY",
        /// In a mobile browser (H5).
        Mweb = "MWEB",
        /// By face.
        Facepay = "FACEPAY",
    }
);

wire_enum!(
    /// A refund's state (`refund_status` in callbacks, `status` in refund responses).
    RefundStatus {
        /// Refunded.
        Success = "SUCCESS",
        /// Closed without refunding.
        Closed = "CLOSED",
        /// In progress.
        Processing = "PROCESSING",
        /// Failed at the bank (card cancelled or frozen); not final, needs handling.
        Abnormal = "ABNORMAL",
    }
);

wire_enum!(
    /// A callback's `event_type` (<https://pay.weixin.qq.com/doc/v3/merchant/4012791861>).
    EventType {
        /// A payment succeeded.
        TransactionSuccess = "TRANSACTION.SUCCESS",
        /// A refund succeeded.
        RefundSuccess = "REFUND.SUCCESS",
        /// A refund failed at the bank.
        RefundAbnormal = "REFUND.ABNORMAL",
        /// A refund was closed.
        RefundClosed = "REFUND.CLOSED",
    }
);

wire_enum!(
    /// The `type` of an H5 scene.
    H5Type {
        /// A mobile web site.
        Wap = "Wap",
        /// An iOS app.
        Ios = "iOS",
        /// An Android app.
        Android = "Android",
    }
);

wire_enum!(
    /// The `code` of an error body.
    ErrorCode {
        /// A parameter is missing or invalid.
        ParamError = "PARAM_ERROR",
        /// The request is not allowed in the order's state.
        InvalidRequest = "INVALID_REQUEST",
        /// The request signature did not verify.
        SignError = "SIGN_ERROR",
        /// WeChat Pay failed; retry with the same parameters.
        SystemError = "SYSTEM_ERROR",
        /// Too many requests; retry later.
        FrequencyLimited = "FREQUENCY_LIMITED",
        /// The merchant may not use this API.
        NoAuth = "NO_AUTH",
        /// The merchant does not exist.
        MchNotExists = "MCH_NOT_EXISTS",
        /// The `appid` is not bound to the `mchid`.
        AppidMchidNotMatch = "APPID_MCHID_NOT_MATCH",
        /// The `out_trade_no` was already used for another order.
        OutTradeNoUsed = "OUT_TRADE_NO_USED",
        /// The order is closed.
        OrderClosed = "ORDER_CLOSED",
        /// The order does not exist.
        OrderNotExist = "ORDER_NOT_EXIST",
        /// The `openid` does not belong to the `appid`.
        OpenidMismatch = "OPENID_MISMATCH",
        /// Refused by a risk rule.
        RuleLimit = "RULE_LIMIT",
        /// Refused by the payment system.
        TradeError = "TRADE_ERROR",
        /// The merchant's balance is too low for the refund.
        NotEnough = "NOT_ENOUGH",
        /// The payer's account is abnormal.
        UserAccountAbnormal = "USER_ACCOUNT_ABNORMAL",
        /// The resource (refund) does not exist.
        ResourceNotExists = "RESOURCE_NOT_EXISTS",
        /// The bank failed; retry later.
        BankError = "BANK_ERROR",
    }
);

impl ErrorCode {
    /// Whether the same request may succeed when retried later.
    pub fn is_retryable(&self) -> bool {
        matches!(self, Self::SystemError | Self::FrequencyLimited | Self::BankError)
    }
}

fn wechat_fen<S: Serializer>(amount: &Amount, serializer: S) -> std::result::Result<S::Ok, S::Error> {
    serializer.serialize_u64(amount.to_wechat())
}

/// An order's amount: integer fen and currency.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderAmount {
    /// The total, integer fen ([`Amount::to_wechat`]).
    #[serde(serialize_with = "wechat_fen")]
    pub total: Amount,
    /// The currency, `CNY`.
    pub currency: Currency,
}

/// The fields every order carries, whatever the method (JSAPI, H5, Native).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Order {
    /// The application the payment belongs to (bound to `mchid`).
    pub appid: AppId,
    /// The merchant.
    pub mchid: MchId,
    /// What is bought, shown to the payer (≤ 127 characters).
    pub description: String,
    /// The merchant's number for this attempt.
    pub out_trade_no: OutTradeNo,
    /// Deadline to pay, RFC 3339 (`yyyy-MM-DDTHH:mm:ss+08:00`, see [`beijing_rfc3339`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_expire: Option<String>,
    /// Data echoed back in the query and the callback (≤ 128 characters).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attach: Option<String>,
    /// Where the payment callback goes: https, no query string.
    pub notify_url: String,
    /// The amount.
    pub amount: OrderAmount,
}

/// The payer of a JSAPI order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Payer {
    /// The payer's `openid` under `appid`.
    pub openid: OpenId,
}

/// Body of `POST /v3/pay/transactions/jsapi` (<https://pay.weixin.qq.com/doc/v3/merchant/4012791856>).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JsapiOrder {
    /// The common fields.
    #[serde(flatten)]
    pub order: Order,
    /// Who pays.
    pub payer: Payer,
}

/// H5 scene details.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct H5Info {
    /// `Wap` for a mobile web site.
    #[serde(rename = "type")]
    pub kind: H5Type,
    /// The site or app name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub app_name: Option<String>,
    /// The site URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub app_url: Option<String>,
}

/// Where an H5 payment starts: the payer's IP (on Workers, `CF-Connecting-IP`) and the site.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct H5SceneInfo {
    /// The payer's IP address, IPv4 or IPv6.
    pub payer_client_ip: IpAddr,
    /// The H5 details.
    pub h5_info: H5Info,
}

/// Body of `POST /v3/pay/transactions/h5` (<https://pay.weixin.qq.com/doc/v3/merchant/4012791834>).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct H5Order {
    /// The common fields.
    #[serde(flatten)]
    pub order: Order,
    /// The payer's IP and the site.
    pub scene_info: H5SceneInfo,
}

/// Body of `POST /v3/pay/transactions/native` (<https://pay.weixin.qq.com/doc/v3/merchant/4012791877>).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NativeOrder {
    /// The common fields.
    #[serde(flatten)]
    pub order: Order,
}

/// Response of a JSAPI order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PrepayIdResponse {
    /// The prepayment session, for [`super::jsapi::jsapi_params`].
    pub prepay_id: PrepayId,
}

/// Response of an H5 order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct H5UrlResponse {
    /// The cashier URL the payer is redirected to (valid 5 minutes).
    pub h5_url: String,
}

/// Response of a Native order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CodeUrlResponse {
    /// The `weixin://` URL to show as a QR code.
    pub code_url: String,
}

/// An order body with its endpoint and response type, so one generic call serves every method.
pub trait PrepayRequest: Serialize {
    /// The request target (`POST`).
    const PATH: &'static str;
    /// The typed 200 response.
    type Response: DeserializeOwned;

    /// The common fields.
    fn order(&self) -> &Order;

    /// The JSON body to sign and send.
    ///
    /// # Errors
    /// [`Error::Malformed`] `"request body"` if serialization fails.
    fn to_body(&self) -> Result<String> {
        to_body(self)
    }
}

impl PrepayRequest for JsapiOrder {
    const PATH: &'static str = "/v3/pay/transactions/jsapi";
    type Response = PrepayIdResponse;

    fn order(&self) -> &Order {
        &self.order
    }
}

impl PrepayRequest for H5Order {
    const PATH: &'static str = "/v3/pay/transactions/h5";
    type Response = H5UrlResponse;

    fn order(&self) -> &Order {
        &self.order
    }
}

impl PrepayRequest for NativeOrder {
    const PATH: &'static str = "/v3/pay/transactions/native";
    type Response = CodeUrlResponse;

    fn order(&self) -> &Order {
        &self.order
    }
}

/// Serializes a request body.
///
/// # Errors
/// [`Error::Malformed`] `"request body"` if serialization fails.
pub fn to_body(body: &(impl Serialize + ?Sized)) -> Result<String> {
    serde_json::to_string(body).map_err(|_| Error::Malformed { what: "request body" })
}

/// Parses a response or decrypted resource body.
///
/// # Errors
/// [`Error::Malformed`] naming `what` when it is not the expected JSON.
pub fn from_body<T: DeserializeOwned>(body: impl AsRef<[u8]>, what: &'static str) -> Result<T> {
    serde_json::from_slice(body.as_ref()).map_err(|_| Error::Malformed { what })
}

/// The target of `GET /v3/pay/transactions/out-trade-no/{out_trade_no}?mchid={mchid}`, percent-encoded
/// (see [`encode_component`]); sign and send this exact string
/// (<https://pay.weixin.qq.com/doc/v3/merchant/4013070356>).
pub fn query_by_out_trade_no_target(out_trade_no: &OutTradeNo, mchid: &MchId) -> String {
    format!(
        "/v3/pay/transactions/out-trade-no/{}?mchid={}",
        encode_component(out_trade_no.as_str()),
        encode_component(mchid.as_str())
    )
}

/// The target of `GET /v3/pay/transactions/id/{transaction_id}?mchid={mchid}`.
pub fn query_by_transaction_id_target(transaction_id: &TransactionId, mchid: &MchId) -> String {
    format!(
        "/v3/pay/transactions/id/{}?mchid={}",
        encode_component(transaction_id.as_str()),
        encode_component(mchid.as_str())
    )
}

/// The target of `POST /v3/pay/transactions/out-trade-no/{out_trade_no}/close`; the body is
/// [`CloseRequest`] and success is `204 No Content`
/// (<https://pay.weixin.qq.com/doc/v3/merchant/4013070360>).
pub fn close_target(out_trade_no: &OutTradeNo) -> String {
    format!(
        "/v3/pay/transactions/out-trade-no/{}/close",
        encode_component(out_trade_no.as_str())
    )
}

/// Body of the close request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CloseRequest {
    /// The merchant.
    pub mchid: MchId,
}

/// A payment as the query returns it and as the `TRANSACTION.SUCCESS` callback carries it
/// (<https://pay.weixin.qq.com/doc/v3/merchant/4013070356>). Fields WeChat Pay omits for unpaid
/// orders are optional. Checks against the stored order (ids, amount) are the caller's.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Transaction {
    /// The application.
    pub appid: AppId,
    /// The merchant.
    pub mchid: MchId,
    /// The merchant's number for the attempt.
    pub out_trade_no: OutTradeNo,
    /// WeChat Pay's number (absent before payment).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transaction_id: Option<TransactionId>,
    /// How it was paid (absent before payment).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trade_type: Option<TradeType>,
    /// The state.
    pub trade_state: TradeState,
    /// The state, in words.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub trade_state_desc: String,
    /// The payer's bank (`OTHERS`, `CMC`…).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bank_type: Option<String>,
    /// The order's `attach`, echoed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attach: Option<String>,
    /// When it was paid, RFC 3339.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub success_time: Option<String>,
    /// Who paid.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payer: Option<TransactionPayer>,
    /// The amounts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amount: Option<TransactionAmount>,
}

/// Who paid a transaction.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TransactionPayer {
    /// The payer's `openid` (absent before payment).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub openid: Option<OpenId>,
}

/// A transaction's amounts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct TransactionAmount {
    /// The order total, fen.
    #[serde(serialize_with = "wechat_fen")]
    pub total: Amount,
    /// What the payer paid after discounts, fen.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payer_total: Option<Amount>,
    /// The order currency.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub currency: Option<Currency>,
    /// The payer's currency.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payer_currency: Option<Currency>,
}

/// The path of `POST /v3/refund/domestic/refunds` (申请退款).
pub const REFUND_PATH: &str = "/v3/refund/domestic/refunds";

/// The target of `GET /v3/refund/domestic/refunds/{out_refund_no}`.
pub fn query_refund_target(out_refund_no: &OutRefundNo) -> String {
    format!("{REFUND_PATH}/{}", encode_component(out_refund_no.as_str()))
}

/// The amounts of a refund request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefundRequestAmount {
    /// How much to refund, fen.
    #[serde(serialize_with = "wechat_fen")]
    pub refund: Amount,
    /// The original order total, fen.
    #[serde(serialize_with = "wechat_fen")]
    pub total: Amount,
    /// `CNY`.
    pub currency: Currency,
}

/// Body of a refund request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefundRequest {
    /// The paid attempt to refund.
    pub out_trade_no: OutTradeNo,
    /// The merchant's refund number (idempotency key of the refund).
    pub out_refund_no: OutRefundNo,
    /// Shown to the payer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Where the refund callback goes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notify_url: Option<String>,
    /// The amounts.
    pub amount: RefundRequestAmount,
}

/// The amounts of a refund response.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefundAmount {
    /// The original order total, fen.
    #[serde(serialize_with = "wechat_fen")]
    pub total: Amount,
    /// The refund, fen.
    #[serde(serialize_with = "wechat_fen")]
    pub refund: Amount,
    /// What the payer paid, fen.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payer_total: Option<Amount>,
    /// What goes back to the payer, fen.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payer_refund: Option<Amount>,
    /// `CNY`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub currency: Option<Currency>,
}

/// Response of a refund request or a refund query.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefundResponse {
    /// WeChat Pay's refund number.
    pub refund_id: RefundId,
    /// The merchant's refund number.
    pub out_refund_no: OutRefundNo,
    /// WeChat Pay's order number.
    pub transaction_id: TransactionId,
    /// The merchant's order number.
    pub out_trade_no: OutTradeNo,
    /// Where the money goes back (`ORIGINAL`, `BALANCE`…).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel: Option<String>,
    /// The receiving account, in words.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_received_account: Option<String>,
    /// When it succeeded, RFC 3339.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub success_time: Option<String>,
    /// When it was created, RFC 3339.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub create_time: Option<String>,
    /// The state.
    pub status: RefundStatus,
    /// The amounts.
    pub amount: RefundAmount,
}

/// The amounts of a refund callback.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefundNotificationAmount {
    /// The original order total, fen.
    #[serde(serialize_with = "wechat_fen")]
    pub total: Amount,
    /// The refund, fen.
    #[serde(serialize_with = "wechat_fen")]
    pub refund: Amount,
    /// What the payer paid, fen.
    #[serde(serialize_with = "wechat_fen")]
    pub payer_total: Amount,
    /// What goes back to the payer, fen.
    #[serde(serialize_with = "wechat_fen")]
    pub payer_refund: Amount,
}

/// The decrypted resource of a `REFUND.*` callback
/// (<https://pay.weixin.qq.com/doc/v3/merchant/4012791861>).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefundNotification {
    /// The merchant.
    pub mchid: MchId,
    /// The merchant's order number.
    pub out_trade_no: OutTradeNo,
    /// WeChat Pay's order number.
    pub transaction_id: TransactionId,
    /// The merchant's refund number.
    pub out_refund_no: OutRefundNo,
    /// WeChat Pay's refund number.
    pub refund_id: RefundId,
    /// The state.
    pub refund_status: RefundStatus,
    /// When it succeeded, RFC 3339.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub success_time: Option<String>,
    /// The receiving account, in words.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_received_account: Option<String>,
    /// The amounts.
    pub amount: RefundNotificationAmount,
}

/// An error body: `{"code": "...", "message": "...", "detail": {...}}`. Verify its signature like
/// any response before trusting it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiError {
    /// The error code.
    pub code: ErrorCode,
    /// The message, in words (Chinese).
    pub message: String,
    /// Details (`field`, `value`, `issue`, `location`), when given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<serde_json::Value>,
}

/// `unix_seconds` as RFC 3339 in Beijing time, `yyyy-MM-DDTHH:mm:ss+08:00`: the form of
/// `time_expire` and of every time WeChat Pay sends.
///
/// # Errors
/// [`Error::Malformed`] `"timestamp"` after the year 9999.
pub fn beijing_rfc3339(unix_seconds: u64) -> Result<String> {
    let local = BeijingTime::from_unix(unix_seconds)?.to_alipay();
    Ok(format!("{}+08:00", local.replacen(' ', "T", 1)))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;
    use super::*;
    use serde_json::json;

    fn order() -> Order {
        Order {
            appid: AppId::new("wxd678efh567hg6787").unwrap(),
            mchid: MchId::new("1230000109").unwrap(),
            description: "Image形象店-深圳腾大-QQ公仔".to_owned(),
            out_trade_no: OutTradeNo::new("1217752501201407033233368018").unwrap(),
            time_expire: Some(beijing_rfc3339(1_528_425_296).unwrap()),
            attach: None,
            notify_url: "https://www.weixin.qq.com/wxpay/pay.php".to_owned(),
            amount: OrderAmount {
                total: Amount::from_fen(100).unwrap(),
                currency: Currency::Cny,
            },
        }
    }

    #[test]
    fn jsapi_body_has_the_documented_shape() {
        let body = JsapiOrder {
            order: order(),
            payer: Payer {
                openid: OpenId::new("oUpF8uMuAJO_M2pxb1Q9zNjWeS6o").unwrap(),
            },
        };
        let value: serde_json::Value = serde_json::from_str(&body.to_body().unwrap()).unwrap();
        assert_eq!(
            value,
            json!({
                "appid": "wxd678efh567hg6787",
                "mchid": "1230000109",
                "description": "Image形象店-深圳腾大-QQ公仔",
                "out_trade_no": "1217752501201407033233368018",
                "time_expire": "2018-06-08T10:34:56+08:00",
                "notify_url": "https://www.weixin.qq.com/wxpay/pay.php",
                "amount": {"total": 100, "currency": "CNY"},
                "payer": {"openid": "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"}
            })
        );
        assert_eq!(<JsapiOrder as PrepayRequest>::PATH, "/v3/pay/transactions/jsapi");
        // The sandbox reads the same body back.
        let back: JsapiOrder = from_body(body.to_body().unwrap().as_bytes(), "body").unwrap();
        assert_eq!(back, body);
    }

    #[test]
    fn h5_and_native_bodies() {
        let h5 = H5Order {
            order: Order {
                time_expire: None,
                attach: Some("cs_1".into()),
                ..order()
            },
            scene_info: H5SceneInfo {
                payer_client_ip: "2001:db8::1".parse().unwrap(),
                h5_info: H5Info {
                    kind: H5Type::Wap,
                    app_name: Some("shop".into()),
                    app_url: None,
                },
            },
        };
        let value: serde_json::Value = serde_json::from_str(&h5.to_body().unwrap()).unwrap();
        assert_eq!(
            value["scene_info"],
            json!({"payer_client_ip": "2001:db8::1", "h5_info": {"type": "Wap", "app_name": "shop"}})
        );
        assert_eq!(value["attach"], "cs_1");
        assert!(value.get("time_expire").is_none());
        assert!(value.get("payer").is_none());
        let native = NativeOrder { order: order() };
        let value: serde_json::Value = serde_json::from_str(&native.to_body().unwrap()).unwrap();
        assert_eq!(value.as_object().unwrap().len(), 7);
        assert_eq!(<H5Order as PrepayRequest>::PATH, "/v3/pay/transactions/h5");
        assert_eq!(<NativeOrder as PrepayRequest>::PATH, "/v3/pay/transactions/native");
        let back: H5Order = from_body(h5.to_body().unwrap().as_bytes(), "body").unwrap();
        assert_eq!(back, h5);
    }

    #[test]
    fn responses_parse() {
        let r: PrepayIdResponse = from_body(r#"{"prepay_id":"wx26112221580621e9b071c00d9e093b0000"}"#, "r").unwrap();
        assert_eq!(r.prepay_id.as_str(), "wx26112221580621e9b071c00d9e093b0000");
        let r: H5UrlResponse = from_body(
            r#"{"h5_url":"https://wx.tenpay.com/cgi-bin/mmpayweb-bin/checkmweb?prepay_id=wx2016&package=1405458241"}"#,
            "r",
        )
        .unwrap();
        assert!(r.h5_url.starts_with("https://wx.tenpay.com/"));
        let r: CodeUrlResponse = from_body(r#"{"code_url":"weixin://wxpay/bizpayurl?pr=p4lpSuKzz"}"#, "r").unwrap();
        assert_eq!(r.code_url, "weixin://wxpay/bizpayurl?pr=p4lpSuKzz");
        assert_eq!(
            from_body::<PrepayIdResponse>(b"{}", "r"),
            Err(Error::Malformed { what: "r" })
        );
    }

    #[test]
    fn targets_are_percent_encoded_and_exact() {
        let no = OutTradeNo::new("EP_2024-07*01").unwrap();
        let mchid = MchId::new("1230000109").unwrap();
        assert_eq!(
            query_by_out_trade_no_target(&no, &mchid),
            "/v3/pay/transactions/out-trade-no/EP_2024-07%2A01?mchid=1230000109"
        );
        assert_eq!(
            close_target(&no),
            "/v3/pay/transactions/out-trade-no/EP_2024-07%2A01/close"
        );
        let plain = OutTradeNo::new("1217752501201407033233368018").unwrap();
        assert_eq!(
            query_by_out_trade_no_target(&plain, &mchid),
            "/v3/pay/transactions/out-trade-no/1217752501201407033233368018?mchid=1230000109"
        );
        let tid = TransactionId::new("1217752501201407033233368018").unwrap();
        assert_eq!(
            query_by_transaction_id_target(&tid, &mchid),
            "/v3/pay/transactions/id/1217752501201407033233368018?mchid=1230000109"
        );
        let refund = OutRefundNo::new("R|1@x").unwrap();
        assert_eq!(query_refund_target(&refund), "/v3/refund/domestic/refunds/R%7C1%40x");
        assert_eq!(to_body(&CloseRequest { mchid }).unwrap(), r#"{"mchid":"1230000109"}"#);
    }

    #[test]
    fn query_response_of_a_paid_and_an_unpaid_order() {
        let paid = r#"{"amount":{"currency":"CNY","payer_currency":"CNY","payer_total":1,"total":1},"appid":"wxdace645e0bc2cXXX","attach":"","bank_type":"OTHERS","mchid":"1900006891","out_trade_no":"44_2126281063_5504","payer":{"openid":"o4GgauJP_mgWEWictzA15WT15XXX"},"promotion_detail":[],"success_time":"2021-03-22T10:29:05+08:00","trade_state":"SUCCESS","trade_state_desc":"支付成功","trade_type":"JSAPI","transaction_id":"4200000891202103228088184743"}"#;
        let t: Transaction = from_body(paid, "t").unwrap();
        assert_eq!(t.trade_state, TradeState::Success);
        assert!(t.trade_state.is_paid());
        assert_eq!(t.trade_type, Some(TradeType::Jsapi));
        let amount = t.amount.unwrap();
        assert_eq!(amount.total.fen(), 1);
        assert_eq!(amount.payer_total.map(Amount::fen), Some(1));
        assert_eq!(
            t.payer.unwrap().openid.unwrap().as_str(),
            "o4GgauJP_mgWEWictzA15WT15XXX"
        );
        let unpaid = r#"{"amount":{"payer_currency":"CNY","total":100},"appid":"wxdace645e0bc2cXXX","mchid":"1900006891","out_trade_no":"44_2126281063_5505","promotion_detail":[],"scene_info":{"device_id":""},"trade_state":"NOTPAY","trade_state_desc":"订单未支付"}"#;
        let t: Transaction = from_body(unpaid, "t").unwrap();
        assert_eq!(t.trade_state, TradeState::NotPay);
        assert!(!t.trade_state.is_paid());
        assert_eq!(t.transaction_id, None);
        assert_eq!(t.amount.unwrap().currency, None);
    }

    #[test]
    fn unknown_states_and_codes_are_kept() {
        assert_eq!(
            serde_json::from_str::<TradeState>("\"ACCEPT\"").unwrap(),
            TradeState::Unknown("ACCEPT".into())
        );
        assert_eq!(
            serde_json::to_string(&TradeState::Unknown("ACCEPT".into())).unwrap(),
            "\"ACCEPT\""
        );
        for (wire, state) in [
            ("SUCCESS", TradeState::Success),
            ("REFUND", TradeState::Refund),
            ("NOTPAY", TradeState::NotPay),
            ("CLOSED", TradeState::Closed),
            ("REVOKED", TradeState::Revoked),
            ("USERPAYING", TradeState::UserPaying),
            ("PAYERROR", TradeState::PayError),
        ] {
            assert_eq!(TradeState::from_wire(wire), state);
            assert_eq!(state.as_str(), wire);
        }
        let e: ApiError = from_body(r#"{"code":"PARAM_ERROR","message":"参数错误","detail":{"field":"/amount/total","value":0,"issue":"must be > 0","location":"body"}}"#, "e").unwrap();
        assert_eq!(e.code, ErrorCode::ParamError);
        assert!(!e.code.is_retryable());
        assert_eq!(e.detail.unwrap()["field"], "/amount/total");
        let e: ApiError = from_body(r#"{"code":"SOMETHING_NEW","message":"x"}"#, "e").unwrap();
        assert_eq!(e.code, ErrorCode::Unknown("SOMETHING_NEW".into()));
        assert!(ErrorCode::SystemError.is_retryable());
        assert_eq!(RefundStatus::from_wire("ABNORMAL"), RefundStatus::Abnormal);
        assert_eq!(
            RefundStatus::from_wire("closed"),
            RefundStatus::Unknown("closed".into())
        );
    }

    #[test]
    fn refund_request_and_response() {
        let request = RefundRequest {
            out_trade_no: OutTradeNo::new("1217752501201407033233368018").unwrap(),
            out_refund_no: OutRefundNo::new("1217752501201407033233368019").unwrap(),
            reason: Some("商品已售完".into()),
            notify_url: None,
            amount: RefundRequestAmount {
                refund: Amount::from_fen(888).unwrap(),
                total: Amount::from_fen(888).unwrap(),
                currency: Currency::Cny,
            },
        };
        let value: serde_json::Value = serde_json::from_str(&to_body(&request).unwrap()).unwrap();
        assert_eq!(
            value,
            json!({
                "out_trade_no": "1217752501201407033233368018",
                "out_refund_no": "1217752501201407033233368019",
                "reason": "商品已售完",
                "amount": {"refund": 888, "total": 888, "currency": "CNY"}
            })
        );
        let response = r#"{"refund_id":"50000000382019052709732678859","out_refund_no":"1217752501201407033233368019","transaction_id":"1217752501201407033233368018","out_trade_no":"1217752501201407033233368018","channel":"ORIGINAL","user_received_account":"招商银行信用卡0403","create_time":"2020-12-01T16:18:12+08:00","status":"PROCESSING","funds_account":"AVAILABLE","amount":{"total":888,"refund":888,"payer_total":888,"payer_refund":888,"settlement_refund":888,"settlement_total":888,"discount_refund":0,"currency":"CNY"}}"#;
        let r: RefundResponse = from_body(response, "r").unwrap();
        assert_eq!(r.status, RefundStatus::Processing);
        assert_eq!(r.amount.refund.fen(), 888);
    }

    #[test]
    fn beijing_time() {
        // The Go notify vector: Wechatpay-Timestamp 1624523846, create_time 2021-06-24T16:37:26+08:00.
        assert_eq!(beijing_rfc3339(1_624_523_846).unwrap(), "2021-06-24T16:37:26+08:00");
        assert_eq!(beijing_rfc3339(0).unwrap(), "1970-01-01T08:00:00+08:00");
        assert_eq!(
            beijing_rfc3339(951_782_400 - 8 * 3600).unwrap(),
            "2000-02-29T00:00:00+08:00"
        );
        assert!(beijing_rfc3339(u64::MAX).is_err());
    }
}
