//! Identifiers as newtypes, validated when built, so that one kind can never be passed for another.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize};

use crate::error::{Error, Result};

macro_rules! def_id {
    ($(#[$doc:meta])* $name:ident, $kind:literal, $valid:expr) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            /// Validates and wraps `value`.
            ///
            /// # Errors
            #[doc = concat!("[`Error::InvalidId`] with kind `\"", $kind, "\"` when `value` is not valid.")]
            pub fn new(value: impl Into<String>) -> Result<Self> {
                let value = value.into();
                let valid: fn(&str) -> bool = $valid;
                if valid(&value) {
                    Ok(Self(value))
                } else {
                    Err(Error::InvalidId { kind: $kind })
                }
            }

            /// The identifier as sent on the wire.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> std::result::Result<Self, D::Error> {
                let value = String::deserialize(deserializer)?;
                Self::new(value).map_err(serde::de::Error::custom)
            }
        }
    };
}
pub(crate) use def_id;

/// Whether `value` has `min..=max` bytes, each `allowed`: the shape of most provider ids.
pub(crate) fn within(value: &str, min: usize, max: usize, allowed: fn(u8) -> bool) -> bool {
    (min..=max).contains(&value.len()) && value.bytes().all(allowed)
}

def_id!(
    /// The merchant's order number for one provider attempt: 6–32 of `0-9 A-Z a-z _ - *`, as
    /// WeChat Pay requires (<https://pay.weixin.qq.com/doc/v3/merchant/4012791856>); edgepay makes
    /// them 32 alphanumerics, which Alipay (≤ 64) and UnionPay (`orderId`, 8–40 alphanumerics) take too.
    OutTradeNo, "out_trade_no", |v| within(v, 6, 32, |b| b.is_ascii_alphanumeric() || b"_-*".contains(&b))
);

def_id!(
    /// The merchant's refund number: 1–64 of `0-9 A-Z a-z _ - | * @`, as WeChat Pay requires.
    OutRefundNo, "out_refund_no", |v| within(v, 1, 64, |b| b.is_ascii_alphanumeric() || b"_-|*@".contains(&b))
);

def_id!(
    /// A WeChat Pay merchant id (`mchid`): 1–32 digits.
    MchId, "mchid", |v| within(v, 1, 32, |b| b.is_ascii_digit())
);

def_id!(
    /// An application id: a WeChat `appid` (`wx…`) or an Alipay `app_id` (digits): 1–32 visible ASCII.
    AppId, "appid", |v| within(v, 1, 32, |b| b.is_ascii_alphanumeric())
);

def_id!(
    /// A checkout session id, `cs_` followed by 24 lower-case letters and digits.
    SessionId, "session_id", |v| v.len() == 27
        && v.starts_with("cs_")
        && v[3..].bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
);

def_id!(
    /// The merchant's own order id, as the merchant backend sends it: 1–64 visible ASCII, no spaces.
    MerchantOrderId, "order_id", |v| within(v, 1, 64, |b| b.is_ascii_graphic())
);

const ALPHABET: &[u8; 32] = b"abcdefghijklmnopqrstuvwxyz234567";

pub(crate) fn base32(bytes: &[u8; 15]) -> String {
    // 15 bytes = 120 bits = 24 base32 characters, lower case.
    let mut out = String::with_capacity(24);
    for chunk in bytes.chunks(5) {
        let n = chunk.iter().fold(0_u64, |acc, &b| (acc << 8) | u64::from(b));
        for i in (0..8).rev() {
            out.push(char::from(ALPHABET[((n >> (i * 5)) & 31) as usize]));
        }
    }
    out
}

impl SessionId {
    /// A session id from 15 random bytes the caller draws (this crate draws no randomness).
    pub fn from_random(random: &[u8; 15]) -> Self {
        Self(format!("cs_{}", base32(random)))
    }
}

impl OutTradeNo {
    /// An attempt's order number from 15 random bytes the caller draws: `EP` and 24 upper-case
    /// base32 characters (26 alphanumerics, valid for WeChat Pay, Alipay and UnionPay alike).
    pub fn from_random(random: &[u8; 15]) -> Self {
        let mut no = String::with_capacity(32);
        no.push_str("EP");
        no.push_str(&base32(random).to_ascii_uppercase());
        Self(no)
    }
}

#[cfg(test)]
mod tests {
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;
    use super::*;

    #[test]
    fn out_trade_no_bounds_and_alphabet() {
        assert!(OutTradeNo::new("abc123").is_ok());
        assert!(OutTradeNo::new("A".repeat(32)).is_ok());
        assert!(OutTradeNo::new("1217752501201407033233368018").is_ok());
        for bad in ["abc12", &"A".repeat(33), "abc 123", "订单123456", "abc/123"] {
            assert_eq!(OutTradeNo::new(bad), Err(Error::InvalidId { kind: "out_trade_no" }), "{bad}");
        }
    }

    #[test]
    fn generated_ids_are_valid() {
        let session = SessionId::from_random(&[0xab; 15]);
        assert_eq!(SessionId::new(session.as_str()).unwrap(), session);
        let no = OutTradeNo::from_random(&[0x01; 15]);
        assert_eq!(no.as_str().len(), 26);
        assert!(no.as_str().bytes().all(|b| b.is_ascii_alphanumeric()));
        assert_eq!(OutTradeNo::new(no.as_str()).unwrap(), no);
    }

    #[test]
    fn deserializing_validates() {
        assert!(serde_json::from_str::<MchId>("\"1900000109\"").is_ok());
        assert!(serde_json::from_str::<MchId>("\"19000x\"").is_err());
        assert!(serde_json::from_str::<SessionId>("\"cs_short\"").is_err());
    }
}
