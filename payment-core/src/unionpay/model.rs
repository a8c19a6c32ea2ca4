//! UnionPay ACP 5.1.0 identifiers and codes.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize};

use crate::error::{Error, Result};
use crate::ids::within;
use crate::ids::{def_id, OutTradeNo};


def_id!(
    /// The merchant's order number (`orderId`): 8–40 ASCII letters and digits, no `-` or `_`
    /// (ACP 5.1.0 data dictionary, <https://open.unionpay.com/tjweb/api/dictionary?apiSvcId=448>).
    UnionpayOrderId, "orderId", |v| within(v, 8, 40, |b| b.is_ascii_alphanumeric())
);

def_id!(
    /// A merchant code (`merId`): 15 ASCII letters and digits.
    MerId, "merId", |v| within(v, 15, 15, |b| b.is_ascii_alphanumeric())
);

def_id!(
    /// UnionPay's transaction serial (`queryId`, `origQryId`): 1–32 ASCII letters and digits
    /// (21 digits today).
    QueryId, "queryId", |v| within(v, 1, 32, |b| b.is_ascii_alphanumeric())
);

impl TryFrom<&OutTradeNo> for UnionpayOrderId {
    type Error = Error;

    /// The same order number as UnionPay's `orderId`. edgepay's generated numbers
    /// ([`OutTradeNo::from_random`]) always fit; numbers with `_ - *` or under 8 characters do not.
    fn try_from(no: &OutTradeNo) -> Result<Self> {
        Self::new(no.as_str())
    }
}

/// A response code (`respCode`, `origRespCode`)
/// (ACP 5.1.0 data dictionary, <https://open.unionpay.com/tjweb/api/dictionary?apiSvcId=448>).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RespCode(String);

impl RespCode {
    /// Wraps a code as received.
    pub fn new(code: impl Into<String>) -> Self {
        Self(code.into())
    }

    /// The code.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// `"00"`: success.
    pub fn is_success(&self) -> bool {
        self.0 == "00"
    }

    /// `"03"`, `"04"`, `"05"`: the outcome is not known yet; query again later.
    pub fn is_pending(&self) -> bool {
        matches!(self.0.as_str(), "03" | "04" | "05")
    }
}

impl fmt::Display for RespCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The transaction type (`txnType`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum TxnType {
    /// `00`: query.
    Query,
    /// `01`: consumption (a payment).
    Consume,
    /// `04`: refund.
    Refund,
    /// `31`: same-day cancellation of a consumption.
    ConsumeCancel,
    /// A type this version does not know, kept verbatim.
    Unknown(String),
}

impl TxnType {
    /// Parses the wire value; unknown values are kept.
    pub fn parse(text: &str) -> Self {
        match text {
            "00" => Self::Query,
            "01" => Self::Consume,
            "04" => Self::Refund,
            "31" => Self::ConsumeCancel,
            other => Self::Unknown(other.to_owned()),
        }
    }

    /// The wire value.
    pub fn as_str(&self) -> &str {
        match self {
            Self::Query => "00",
            Self::Consume => "01",
            Self::Refund => "04",
            Self::ConsumeCancel => "31",
            Self::Unknown(other) => other,
        }
    }
}

/// Where the shopper pays (`channelType`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Channel {
    /// `07`: a desktop browser (UnionPay PC).
    Pc,
    /// `08`: a mobile browser (UnionPay mobile).
    Mobile,
}

impl Channel {
    /// The wire value.
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Pc => "07",
            Channel::Mobile => "08",
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;
    use super::*;

    #[test]
    fn order_id_from_out_trade_no() {
        let generated = OutTradeNo::from_random(&[7; 15]);
        assert_eq!(UnionpayOrderId::try_from(&generated).unwrap().as_str(), generated.as_str());
        for bad in ["ABC-12345", "ABC_12345", "ABC1234", "A*BCDEFGH"] {
            let no = OutTradeNo::new(bad).unwrap();
            assert_eq!(UnionpayOrderId::try_from(&no), Err(Error::InvalidId { kind: "orderId" }), "{bad}");
        }
        assert!(UnionpayOrderId::new("A".repeat(40)).is_ok());
        assert!(UnionpayOrderId::new("A".repeat(41)).is_err());
    }

    #[test]
    fn codes() {
        assert!(RespCode::new("00").is_success());
        assert!(!RespCode::new("0").is_success());
        assert!(RespCode::new("05").is_pending() && !RespCode::new("34").is_pending());
        for wire in ["00", "01", "04", "31", "72"] {
            assert_eq!(TxnType::parse(wire).as_str(), wire);
        }
        assert_eq!(TxnType::parse("72"), TxnType::Unknown("72".to_owned()));
        assert!(MerId::new("777290058167151").is_ok() && MerId::new("77729005816715").is_err());
    }
}
