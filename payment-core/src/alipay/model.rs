//! Alipay's identifiers, API methods and trade states.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize};

use crate::error::{Error, Result};
use crate::ids::within;
use crate::ids::def_id;


def_id!(
    /// Alipay's own trade number (`trade_no`): 1–64 ASCII letters and digits
    /// (<https://opendocs.alipay.com/open/bff76748_alipay.trade.query>).
    TradeNo, "trade_no", |v| within(v, 1, 64, |b| b.is_ascii_alphanumeric())
);

def_id!(
    /// An Alipay user id (`seller_id`, `buyer_id`, `buyer_user_id`: `2088…`, 16 digits today):
    /// 1–32 ASCII letters and digits.
    UserId, "alipay_user_id", |v| within(v, 1, 32, |b| b.is_ascii_alphanumeric())
);

def_id!(
    /// A buyer's OpenID (`buyer_open_id`), the per-application user id of Alipay's OpenID mode:
    /// 1–128 visible ASCII characters.
    OpenId, "buyer_open_id", |v| within(v, 1, 128, |b| b.is_ascii_graphic())
);

def_id!(
    /// The id of one asynchronous notification (`notify_id`): 1–128 visible ASCII characters.
    NotifyId, "notify_id", |v| within(v, 1, 128, |b| b.is_ascii_graphic())
);

/// The OpenAPI methods edgepay calls (the common parameter `method`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Method {
    /// `alipay.trade.page.pay`, desktop cashier (<https://opendocs.alipay.com/open/59da99d0_alipay.trade.page.pay>).
    PagePay,
    /// `alipay.trade.wap.pay`, mobile-browser cashier (<https://opendocs.alipay.com/open/29ae8cb6_alipay.trade.wap.pay>).
    WapPay,
    /// `alipay.trade.precreate`, QR code to scan (<https://opendocs.alipay.com/open/f540afd8_alipay.trade.precreate>).
    Precreate,
    /// `alipay.trade.query` (<https://opendocs.alipay.com/open/bff76748_alipay.trade.query>).
    Query,
    /// `alipay.trade.close` (<https://opendocs.alipay.com/open/e84f0d79_alipay.trade.close>).
    Close,
    /// `alipay.trade.refund` (<https://opendocs.alipay.com/open/f60979b3_alipay.trade.refund>).
    Refund,
}

impl Method {
    /// The method name, e.g. `"alipay.trade.page.pay"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Method::PagePay => "alipay.trade.page.pay",
            Method::WapPay => "alipay.trade.wap.pay",
            Method::Precreate => "alipay.trade.precreate",
            Method::Query => "alipay.trade.query",
            Method::Close => "alipay.trade.close",
            Method::Refund => "alipay.trade.refund",
        }
    }

    /// The member of the gateway's JSON answer that holds the result: the method name with `.`
    /// replaced by `_`, plus `_response`.
    pub fn response_key(self) -> &'static str {
        match self {
            Method::PagePay => "alipay_trade_page_pay_response",
            Method::WapPay => "alipay_trade_wap_pay_response",
            Method::Precreate => "alipay_trade_precreate_response",
            Method::Query => "alipay_trade_query_response",
            Method::Close => "alipay_trade_close_response",
            Method::Refund => "alipay_trade_refund_response",
        }
    }

    /// Every method, for tables and tests.
    pub const ALL: [Method; 6] =
        [Method::PagePay, Method::WapPay, Method::Precreate, Method::Query, Method::Close, Method::Refund];
}

impl fmt::Display for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A trade's state (`trade_status`), <https://opendocs.alipay.com/open/270/105902>.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum TradeStatus {
    /// `WAIT_BUYER_PAY`: created, not paid yet.
    WaitBuyerPay,
    /// `TRADE_CLOSED`: closed unpaid (timeout or close), or fully refunded.
    TradeClosed,
    /// `TRADE_SUCCESS`: paid; refunds are still possible.
    TradeSuccess,
    /// `TRADE_FINISHED`: paid and final; no refund possible any more.
    TradeFinished,
    /// A state this version does not know, kept verbatim.
    Unknown(String),
}

impl TradeStatus {
    /// Parses the wire value; unknown values are kept, never refused.
    pub fn parse(text: &str) -> Self {
        match text {
            "WAIT_BUYER_PAY" => Self::WaitBuyerPay,
            "TRADE_CLOSED" => Self::TradeClosed,
            "TRADE_SUCCESS" => Self::TradeSuccess,
            "TRADE_FINISHED" => Self::TradeFinished,
            other => Self::Unknown(other.to_owned()),
        }
    }

    /// The wire value.
    pub fn as_str(&self) -> &str {
        match self {
            Self::WaitBuyerPay => "WAIT_BUYER_PAY",
            Self::TradeClosed => "TRADE_CLOSED",
            Self::TradeSuccess => "TRADE_SUCCESS",
            Self::TradeFinished => "TRADE_FINISHED",
            Self::Unknown(other) => other,
        }
    }

    /// Whether the shopper has paid: only `TRADE_SUCCESS` and `TRADE_FINISHED` mean that
    /// (<https://opendocs.alipay.com/open/270/105902>).
    pub fn is_paid(&self) -> bool {
        matches!(self, Self::TradeSuccess | Self::TradeFinished)
    }
}

impl<'de> Deserialize<'de> for TradeStatus {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> std::result::Result<Self, D::Error> {
        Ok(Self::parse(&String::deserialize(deserializer)?))
    }
}

impl Serialize for TradeStatus {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;
    use super::*;

    #[test]
    fn trade_status_paid_only_for_success_and_finished() {
        for (wire, paid) in [
            ("WAIT_BUYER_PAY", false),
            ("TRADE_CLOSED", false),
            ("TRADE_SUCCESS", true),
            ("TRADE_FINISHED", true),
            ("TRADE_PENDING", false),
            ("trade_success", false),
        ] {
            let status = TradeStatus::parse(wire);
            assert_eq!(status.is_paid(), paid, "{wire}");
            assert_eq!(status.as_str(), wire);
        }
        assert_eq!(TradeStatus::parse("NEW_STATE"), TradeStatus::Unknown("NEW_STATE".to_owned()));
    }

    #[test]
    fn method_names_and_response_keys_agree() {
        for method in Method::ALL {
            assert_eq!(method.response_key(), format!("{}_response", method.as_str().replace('.', "_")));
        }
    }

    #[test]
    fn ids_validate() {
        assert!(TradeNo::new("2019081522001468450512505578").is_ok());
        assert!(TradeNo::new("").is_err());
        assert!(TradeNo::new("2019 0815").is_err());
        assert!(UserId::new("2088102534368455").is_ok());
        assert!(UserId::new("2088-1025").is_err());
        assert!(NotifyId::new("2019081500222155624068450559358070").is_ok());
        assert_eq!(OpenId::new("a b"), Err(Error::InvalidId { kind: "buyer_open_id" }));
    }
}
