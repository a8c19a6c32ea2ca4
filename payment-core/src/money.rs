//! Money: an integer number of fen (1/100 yuan) with one exact formatter and parser per wire format.
//! No floats anywhere near money.
//!
//! - WeChat Pay v3 `amount.total`: integer fen
//!   (<https://pay.weixin.qq.com/doc/v3/merchant/4012791856>).
//! - Alipay `total_amount`: yuan with exactly two decimals, `"12.34"`
//!   (<https://opendocs.alipay.com/open/59da99d0_alipay.trade.page.pay>).
//! - UnionPay ACP `txnAmt`: fen as decimal digits, `"1234"`.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// The largest amount any of the providers accepts in one payment: ¥100,000,000.00 (Alipay's limit).
pub const MAX_FEN: u64 = 10_000_000_000;

/// An amount of money in fen (分). Always within `1..=MAX_FEN` when it comes from a parser.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Amount(u64);

impl Amount {
    /// Zero fen (a refund total before any refund, for instance).
    pub const ZERO: Amount = Amount(0);

    /// An amount of `fen`.
    ///
    /// # Errors
    /// [`Error::InvalidAmount`] above [`MAX_FEN`].
    pub fn from_fen(fen: u64) -> Result<Self> {
        if fen > MAX_FEN {
            return Err(Error::InvalidAmount);
        }
        Ok(Self(fen))
    }

    /// The amount in fen.
    pub fn fen(self) -> u64 {
        self.0
    }

    /// Whether this is zero.
    pub fn is_zero(self) -> bool {
        self.0 == 0
    }

    /// `self + other`.
    ///
    /// # Errors
    /// [`Error::InvalidAmount`] when the sum exceeds [`MAX_FEN`].
    pub fn checked_add(self, other: Amount) -> Result<Amount> {
        self.0.checked_add(other.0).ok_or(Error::InvalidAmount).and_then(Amount::from_fen)
    }

    /// `self - other`.
    ///
    /// # Errors
    /// [`Error::InvalidAmount`] when `other` is larger.
    pub fn checked_sub(self, other: Amount) -> Result<Amount> {
        self.0.checked_sub(other.0).map(Amount).ok_or(Error::InvalidAmount)
    }

    /// WeChat Pay's integer fen.
    pub fn to_wechat(self) -> u64 {
        self.0
    }

    /// Alipay's yuan string with exactly two decimals: 1234 fen → `"12.34"`.
    pub fn to_alipay(self) -> String {
        format!("{}.{:02}", self.0 / 100, self.0 % 100)
    }

    /// Parses Alipay's yuan string. Exactly two decimals, no sign, no leading zeros, no exponent:
    /// `"12.3"`, `"12.345"`, `"-1"`, `"012.00"`, `"1e2"` are errors, never rounded.
    ///
    /// # Errors
    /// [`Error::InvalidAmount`] for anything else.
    pub fn parse_alipay(text: &str) -> Result<Self> {
        let (yuan, fen) = text.split_once('.').ok_or(Error::InvalidAmount)?;
        let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
        if !digits(yuan) || fen.len() != 2 || !digits(fen) || (yuan.len() > 1 && yuan.starts_with('0')) || yuan.len() > 9 {
            return Err(Error::InvalidAmount);
        }
        let yuan: u64 = yuan.parse().map_err(|_| Error::InvalidAmount)?;
        let fen: u64 = fen.parse().map_err(|_| Error::InvalidAmount)?;
        Self::from_fen(yuan * 100 + fen)
    }

    /// UnionPay's `txnAmt`: fen as decimal digits, `"1234"`.
    pub fn to_unionpay(self) -> String {
        self.0.to_string()
    }

    /// Parses UnionPay's `txnAmt`: 1 to 12 decimal digits, no sign, no leading zeros.
    ///
    /// # Errors
    /// [`Error::InvalidAmount`] for anything else.
    pub fn parse_unionpay(text: &str) -> Result<Self> {
        if text.is_empty() || text.len() > 12 || !text.bytes().all(|b| b.is_ascii_digit()) || (text.len() > 1 && text.starts_with('0')) {
            return Err(Error::InvalidAmount);
        }
        Self::from_fen(text.parse().map_err(|_| Error::InvalidAmount)?)
    }
}

impl fmt::Display for Amount {
    /// `¥12.34`, the way shoppers read it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "¥{}", self.to_alipay())
    }
}

/// A currency. Only the Chinese yuan is supported by the rails edgepay speaks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Currency {
    /// Renminbi, `"CNY"`.
    #[serde(rename = "CNY")]
    Cny,
}

impl Currency {
    /// The ISO 4217 code.
    pub fn as_str(self) -> &'static str {
        match self {
            Currency::Cny => "CNY",
        }
    }
}

#[cfg(test)]
mod tests {
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn formats_each_wire_format() {
        let a = Amount::from_fen(1234).unwrap();
        assert_eq!(a.to_wechat(), 1234);
        assert_eq!(a.to_alipay(), "12.34");
        assert_eq!(a.to_unionpay(), "1234");
        assert_eq!(a.to_string(), "¥12.34");
        assert_eq!(Amount::from_fen(1).unwrap().to_alipay(), "0.01");
        assert_eq!(Amount::from_fen(100).unwrap().to_alipay(), "1.00");
        assert_eq!(Amount::ZERO.to_alipay(), "0.00");
    }

    #[test]
    fn alipay_parser_is_exact() {
        assert_eq!(Amount::parse_alipay("12.34").unwrap().fen(), 1234);
        assert_eq!(Amount::parse_alipay("0.01").unwrap().fen(), 1);
        assert_eq!(Amount::parse_alipay("100000000.00").unwrap().fen(), MAX_FEN);
        for bad in ["12.3", "12.345", "-1", "-1.00", "+1.00", "12", "012.00", "1e2", "1.0e", " 1.00", "1.00 ", "", ".00", "1.", "１.00", "100000000.01", "999999999999.00"] {
            assert_eq!(Amount::parse_alipay(bad), Err(Error::InvalidAmount), "{bad:?}");
        }
    }

    #[test]
    fn unionpay_parser_is_exact() {
        assert_eq!(Amount::parse_unionpay("1").unwrap().fen(), 1);
        assert_eq!(Amount::parse_unionpay("0").unwrap().fen(), 0);
        for bad in ["", "01", "-1", "1.00", "1234567890123", "12a"] {
            assert_eq!(Amount::parse_unionpay(bad), Err(Error::InvalidAmount), "{bad:?}");
        }
    }

    #[test]
    fn arithmetic_is_checked() {
        let one = Amount::from_fen(100).unwrap();
        assert_eq!(one.checked_sub(Amount::from_fen(101).unwrap()), Err(Error::InvalidAmount));
        assert_eq!(Amount::from_fen(MAX_FEN).unwrap().checked_add(Amount::from_fen(1).unwrap()), Err(Error::InvalidAmount));
        assert!(Amount::from_fen(MAX_FEN + 1).is_err());
    }

    #[test]
    fn currency_on_the_wire() {
        assert_eq!(serde_json::to_string(&Currency::Cny).unwrap(), "\"CNY\"");
        assert!(serde_json::from_str::<Currency>("\"USD\"").is_err());
    }

    proptest! {
        #[test]
        fn every_amount_round_trips(fen in 0..=MAX_FEN) {
            let a = Amount::from_fen(fen).unwrap();
            prop_assert_eq!(Amount::parse_alipay(&a.to_alipay()).unwrap(), a);
            prop_assert_eq!(Amount::parse_unionpay(&a.to_unionpay()).unwrap(), a);
        }

        #[test]
        fn alipay_parser_never_panics_and_only_accepts_canonical_text(text in "[-+0-9.e ]{0,14}") {
            if let Ok(a) = Amount::parse_alipay(&text) {
                prop_assert_eq!(a.to_alipay(), text);
            }
        }
    }
}
