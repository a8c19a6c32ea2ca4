//! Verifying the gateway's answers (<https://opendocs.alipay.com/common/02mse7>).
//!
//! An answer is `{"<method>_response":{…},"sign":"…"}` (or `error_response` instead of the
//! method's member). The signature covers the raw JSON text of that member's value exactly as
//! received: it is cut out of the body, never re-serialized, so escapes such as `\/` and any
//! spacing stay as Alipay signed them.

use std::ops::Range;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer};

use super::model::{Method, OpenId, TradeNo, TradeStatus, UserId};
use super::sign::{sign, verify};
use crate::crypto::{RsaSigner, RsaVerifier};
use crate::error::{Error, Result};
use crate::ids::OutTradeNo;
use crate::money::Amount;

/// The member that carries gateway-level errors (bad app id, unknown method…).
pub const ERROR_KEY: &str = "error_response";

/// The `code` of a successful call.
pub const SUCCESS_CODE: &str = "10000";

/// The signed parts of an answer, cut out of the raw body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedParts<'a> {
    /// Whether the result came in [`ERROR_KEY`] rather than the method's `…_response`.
    pub is_error: bool,
    /// The member's value, byte for byte as received: the signed content.
    pub content: &'a str,
    /// The decoded top-level `sign`, if any.
    pub sign: Option<String>,
    /// The decoded top-level `alipay_cert_sn` (certificate mode), if any.
    pub alipay_cert_sn: Option<String>,
}

/// Cuts the signed content and the signature out of a raw answer to `response_key`; an
/// `error_response` is taken when the method's member is absent.
///
/// # Errors
/// [`Error::Malformed`] when the body is not one JSON object, a top-level member is repeated, or
/// neither (or both) of `response_key` and `error_response` is there.
pub fn signed_parts<'a>(raw: &'a str, response_key: &str) -> Result<SignedParts<'a>> {
    let members = top_level_members(raw)?;
    let find = |name: &str| members.iter().find(|(k, _)| k == name).map(|(_, span)| span.clone());
    let string_at = |name: &str| -> Result<Option<String>> {
        find(name)
            .map(|span| serde_json::from_str::<String>(&raw[span]).map_err(|_| Error::Malformed { what: "sign" }))
            .transpose()
    };
    let (is_error, span) = match (find(response_key), find(ERROR_KEY)) {
        (Some(span), None) => (false, span),
        (None, Some(span)) => (true, span),
        _ => return Err(Error::Malformed { what: "response" }),
    };
    let content = &raw[span];
    if !content.starts_with('{') {
        return Err(Error::Malformed { what: "response" });
    }
    Ok(SignedParts { is_error, content, sign: string_at("sign")?, alipay_cert_sn: string_at("alipay_cert_sn")? })
}

/// Verifies an answer to `method` and parses it: [`Outcome::Success`] with the method's typed
/// result when `code` is `10000`, [`Outcome::Failure`] with the error otherwise.
///
/// # Errors
/// [`Error::Malformed`] for a body that is not an answer to `method`, an answer without `sign`,
/// or a successful answer missing a field `T` requires or carrying a malformed amount or id;
/// [`Error::BadSignature`] when the signature does not verify.
pub async fn verify_response<T: DeserializeOwned>(
    raw: &str,
    method: Method,
    verifier: &impl RsaVerifier,
) -> Result<Outcome<T>> {
    let parts = verify_signed_parts(raw, method.response_key(), verifier).await?;
    parse_verified(parts.content, parts.is_error)
}

/// Verifies the answer to any method by its `response_key` (`<method with _>_response`) and
/// returns the verified parts, untyped: for methods this module has no types for.
///
/// # Errors
/// As [`signed_parts`]; [`Error::Malformed`] `"sign"` without a signature;
/// [`Error::BadSignature`] when it does not verify.
pub async fn verify_signed_parts<'a>(
    raw: &'a str,
    response_key: &str,
    verifier: &impl RsaVerifier,
) -> Result<SignedParts<'a>> {
    let parts = signed_parts(raw, response_key)?;
    let sign_b64 = parts.sign.as_deref().ok_or(Error::Malformed { what: "sign" })?;
    verify(verifier, parts.content, sign_b64).await?;
    Ok(parts)
}

fn parse_verified<T: DeserializeOwned>(content: &str, is_error_member: bool) -> Result<Outcome<T>> {
    let error: ApiError = serde_json::from_str(content).map_err(|_| Error::Malformed { what: "code" })?;
    if is_error_member || error.code != SUCCESS_CODE {
        return Ok(Outcome::Failure(error));
    }
    // A missing field, a malformed amount (never rounded) or id: the answer is unusable.
    serde_json::from_str(content).map(Outcome::Success).map_err(|_| Error::Malformed { what: "response" })
}

/// Platform side (the sandbox's gateway): the full answer body to `method`, signed.
/// `response_json` must be one JSON object; it is embedded verbatim.
///
/// # Errors
/// [`Error::Malformed`] when `response_json` is not a JSON object; [`Error::Crypto`] when the
/// signer fails.
pub async fn sign_response(signer: &impl RsaSigner, method: Method, response_json: &str) -> Result<String> {
    sign_member(signer, method.response_key(), response_json).await
}

/// Platform side: an `error_response` answer, signed.
///
/// # Errors
/// As [`sign_response`].
pub async fn sign_error_response(signer: &impl RsaSigner, response_json: &str) -> Result<String> {
    sign_member(signer, ERROR_KEY, response_json).await
}

async fn sign_member(signer: &impl RsaSigner, key: &str, response_json: &str) -> Result<String> {
    let value: serde_json::Value =
        serde_json::from_str(response_json).map_err(|_| Error::Malformed { what: "response" })?;
    if !value.is_object() {
        return Err(Error::Malformed { what: "response" });
    }
    let signature = sign(signer, response_json).await?;
    let signature = serde_json::to_string(&signature).map_err(|_| Error::Crypto)?;
    Ok(format!("{{\"{key}\":{response_json},\"sign\":{signature}}}"))
}

/// The result of a verified call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome<T> {
    /// `code` is `10000`.
    Success(T),
    /// Any other code: the business or gateway error.
    Failure(ApiError),
}

/// An error answer's codes (<https://opendocs.alipay.com/common/02km9f>).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct ApiError {
    /// `code`, e.g. `"40004"` (business failure).
    pub code: String,
    /// `msg`.
    #[serde(default)]
    pub msg: String,
    /// `sub_code`, e.g. `"ACQ.TRADE_NOT_EXIST"`.
    #[serde(default)]
    pub sub_code: Option<String>,
    /// `sub_msg`, human-readable.
    #[serde(default)]
    pub sub_msg: Option<String>,
}

impl ApiError {
    /// Whether the trade does not exist at Alipay (`ACQ.TRADE_NOT_EXIST`): for a query, the
    /// shopper has not even opened the cashier yet.
    pub fn is_trade_not_exist(&self) -> bool {
        self.sub_code.as_deref() == Some("ACQ.TRADE_NOT_EXIST")
    }
}

fn amount<'de, D: Deserializer<'de>>(deserializer: D) -> std::result::Result<Amount, D::Error> {
    let text = String::deserialize(deserializer)?;
    Amount::parse_alipay(&text).map_err(serde::de::Error::custom)
}

fn optional_amount<'de, D: Deserializer<'de>>(deserializer: D) -> std::result::Result<Option<Amount>, D::Error> {
    match Option::<String>::deserialize(deserializer)? {
        Some(text) => Amount::parse_alipay(&text).map(Some).map_err(serde::de::Error::custom),
        None => Ok(None),
    }
}

/// `alipay.trade.precreate`'s result (<https://opendocs.alipay.com/open/f540afd8_alipay.trade.precreate>).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct PrecreateResponse {
    /// `out_trade_no`.
    pub out_trade_no: OutTradeNo,
    /// `qr_code`: the text to show as a QR code.
    pub qr_code: String,
}

/// `alipay.trade.query`'s result (<https://opendocs.alipay.com/open/bff76748_alipay.trade.query>).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct QueryResponse {
    /// `trade_no`.
    pub trade_no: TradeNo,
    /// `out_trade_no`.
    pub out_trade_no: OutTradeNo,
    /// `trade_status`.
    pub trade_status: TradeStatus,
    /// `total_amount`.
    #[serde(deserialize_with = "amount")]
    pub total_amount: Amount,
    /// `buyer_user_id` (`2088…`), when Alipay shares it.
    #[serde(default)]
    pub buyer_user_id: Option<UserId>,
    /// `buyer_open_id`, in OpenID mode.
    #[serde(default)]
    pub buyer_open_id: Option<OpenId>,
    /// `send_pay_date`, Beijing time `yyyy-MM-dd HH:mm:ss`.
    #[serde(default)]
    pub send_pay_date: Option<String>,
}

/// `alipay.trade.close`'s result (<https://opendocs.alipay.com/open/e84f0d79_alipay.trade.close>).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct CloseResponse {
    /// `trade_no`, when the trade exists at Alipay.
    #[serde(default)]
    pub trade_no: Option<TradeNo>,
    /// `out_trade_no`.
    #[serde(default)]
    pub out_trade_no: Option<OutTradeNo>,
}

/// `alipay.trade.refund`'s result (<https://opendocs.alipay.com/open/f60979b3_alipay.trade.refund>).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct RefundResponse {
    /// `trade_no`.
    pub trade_no: TradeNo,
    /// `out_trade_no`.
    pub out_trade_no: OutTradeNo,
    /// `refund_fee`: the total refunded on this trade so far.
    #[serde(deserialize_with = "optional_amount", default)]
    pub refund_fee: Option<Amount>,
    /// `fund_change`: `"Y"` when this call moved money, `"N"` for a repeated request.
    #[serde(default)]
    pub fund_change: Option<String>,
    /// `buyer_user_id`.
    #[serde(default)]
    pub buyer_user_id: Option<UserId>,
}

impl RefundResponse {
    /// Whether this call moved money (`fund_change == "Y"`).
    pub fn moved_money(&self) -> bool {
        self.fund_change.as_deref() == Some("Y")
    }
}

/// The top-level members of a JSON object: decoded key and the byte span of the raw value.
/// The body must be one well-formed JSON object; repeated keys are refused.
fn top_level_members(raw: &str) -> Result<Vec<(String, Range<usize>)>> {
    let malformed = || Error::Malformed { what: "response" };
    // Well-formedness first, so the scanner below can stay small.
    serde_json::from_str::<serde::de::IgnoredAny>(raw).map_err(|_| malformed())?;
    let bytes = raw.as_bytes();
    let mut i = skip_ws(bytes, 0);
    if bytes.get(i) != Some(&b'{') {
        return Err(malformed());
    }
    i = skip_ws(bytes, i + 1);
    let mut members: Vec<(String, Range<usize>)> = Vec::new();
    if bytes.get(i) == Some(&b'}') {
        return Ok(members);
    }
    loop {
        let key_end = skip_string(bytes, i).ok_or_else(malformed)?;
        let key: String = serde_json::from_str(&raw[i..key_end]).map_err(|_| malformed())?;
        i = skip_ws(bytes, key_end);
        if bytes.get(i) != Some(&b':') {
            return Err(malformed());
        }
        let start = skip_ws(bytes, i + 1);
        let end = skip_value(bytes, start).ok_or_else(malformed)?;
        if members.iter().any(|(k, _)| *k == key) {
            return Err(malformed());
        }
        members.push((key, start..end));
        i = skip_ws(bytes, end);
        match bytes.get(i) {
            Some(b',') => i = skip_ws(bytes, i + 1),
            Some(b'}') => return Ok(members),
            _ => return Err(malformed()),
        }
    }
}

fn skip_ws(bytes: &[u8], mut i: usize) -> usize {
    while matches!(bytes.get(i), Some(b' ' | b'\t' | b'\n' | b'\r')) {
        i += 1;
    }
    i
}

/// The index just after the JSON string starting at `i`.
fn skip_string(bytes: &[u8], i: usize) -> Option<usize> {
    if bytes.get(i) != Some(&b'"') {
        return None;
    }
    let mut j = i + 1;
    loop {
        match bytes.get(j)? {
            b'\\' => j += 2,
            b'"' => return Some(j + 1),
            _ => j += 1,
        }
    }
}

/// The index just after the JSON value starting at `i` (the body is known to be well-formed).
fn skip_value(bytes: &[u8], i: usize) -> Option<usize> {
    match bytes.get(i)? {
        b'"' => skip_string(bytes, i),
        b'{' | b'[' => {
            let mut depth = 0_usize;
            let mut j = i;
            loop {
                match bytes.get(j)? {
                    b'"' => {
                        j = skip_string(bytes, j)?;
                        continue;
                    }
                    b'{' | b'[' => depth += 1,
                    b'}' | b']' => {
                        depth -= 1;
                        if depth == 0 {
                            return Some(j + 1);
                        }
                    }
                    _ => {}
                }
                j += 1;
            }
        }
        _ => {
            let mut j = i;
            while !matches!(bytes.get(j), None | Some(b',' | b'}' | b']' | b' ' | b'\t' | b'\n' | b'\r')) {
                j += 1;
            }
            Some(j)
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;
    use super::*;

    const KEY: &str = "alipay_trade_query_response";

    #[test]
    fn cuts_the_raw_member_and_the_top_level_sign() {
        let raw = "{\"alipay_trade_query_response\" :\r\n {\"code\":\"10000\",\"sign\":\"inner\",\"url\":\"a\\/b\",\"n\":[1,{\"x\":\"}\"}]} ,\n \"sign\" : \"b64\\/=\", \"alipay_cert_sn\":\"abc\"}";
        let parts = signed_parts(raw, KEY).unwrap();
        assert!(!parts.is_error);
        assert_eq!(parts.content, "{\"code\":\"10000\",\"sign\":\"inner\",\"url\":\"a\\/b\",\"n\":[1,{\"x\":\"}\"}]}");
        assert_eq!(parts.sign.as_deref(), Some("b64/="));
        assert_eq!(parts.alipay_cert_sn.as_deref(), Some("abc"));
    }

    #[test]
    fn takes_error_response_and_refuses_ambiguity() {
        let raw = r#"{"error_response":{"code":"40002","msg":"Invalid Arguments"},"sign":"x"}"#;
        let parts = signed_parts(raw, KEY).unwrap();
        assert!(parts.is_error);
        assert_eq!(parts.content, r#"{"code":"40002","msg":"Invalid Arguments"}"#);
        for bad in [
            r#"{"error_response":{},"alipay_trade_query_response":{}}"#,
            r#"{"alipay_trade_query_response":{},"alipay_trade_query_response":{}}"#,
            r#"{"alipay_trade_close_response":{}}"#,
            r#"{"alipay_trade_query_response":"text"}"#,
            r#"{"alipay_trade_query_response":{}} trailing"#,
            r#"{"alipay_trade_query_response":{}"#,
            r#"[{"alipay_trade_query_response":{}}]"#,
            "",
        ] {
            assert!(signed_parts(bad, KEY).is_err(), "{bad}");
        }
    }

    #[test]
    fn failure_codes_are_outcomes_not_errors() {
        let outcome: Outcome<QueryResponse> = parse_verified(
            r#"{"code":"40004","msg":"Business Failed","sub_code":"ACQ.TRADE_NOT_EXIST","sub_msg":"交易不存在"}"#,
            false,
        )
        .unwrap();
        let Outcome::Failure(error) = outcome else { panic!("expected a failure") };
        assert!(error.is_trade_not_exist());
        // A successful code with a malformed amount is refused, never rounded.
        let bad_amount = r#"{"code":"10000","msg":"Success","trade_no":"1","out_trade_no":"ABCDEF1","trade_status":"TRADE_SUCCESS","total_amount":"0.1"}"#;
        assert_eq!(parse_verified::<QueryResponse>(bad_amount, false), Err(Error::Malformed { what: "response" }));
        let ok = bad_amount.replace("\"0.1\"", "\"0.10\"");
        let Outcome::Success(query) = parse_verified::<QueryResponse>(&ok, false).unwrap() else { panic!() };
        assert_eq!(query.total_amount.fen(), 10);
        assert!(query.trade_status.is_paid());
        // error_response is a failure even with code 10000.
        assert!(matches!(parse_verified::<CloseResponse>(r#"{"code":"10000"}"#, true), Ok(Outcome::Failure(_))));
    }
}
