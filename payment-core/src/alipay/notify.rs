//! Alipay's asynchronous notification (the `notify_url` POST),
//! <https://opendocs.alipay.com/open/270/105902>.
//!
//! The body is `application/x-www-form-urlencoded`. Values are URL-decoded exactly once; the string
//! to verify is every parameter except `sign` and `sign_type`, empty values dropped, sorted, `k=v`
//! joined by `&`. Only `TRADE_SUCCESS` and `TRADE_FINISHED` mean paid. The caller then checks
//! `app_id`, `seller_id`, `out_trade_no` and `total_amount` against its order, records the result,
//! and only then answers with the body [`ACK_BODY`]; anything else makes Alipay retry.

use super::model::{NotifyId, OpenId, TradeNo, TradeStatus, UserId};
use super::sign::{reject_repeats, sign, sign_content, verify, SIGN_TYPE};
use crate::beijing_time::BeijingTime;
use crate::crypto::{RsaSigner, RsaVerifier};
use crate::error::{Error, Result};
use crate::form::{encode_pairs, parse_urlencoded};
use crate::ids::{AppId, OutTradeNo};
use crate::money::Amount;

/// The exact reply body that tells Alipay the notification was handled.
pub const ACK_BODY: &str = "success";

/// A verified trade notification (`notify_type=trade_status_sync`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notify {
    /// `notify_id`: the same for every retry of one notification.
    pub notify_id: NotifyId,
    /// `notify_time` as Unix seconds (sent as Beijing time).
    pub notify_time: u64,
    /// `notify_type`, `"trade_status_sync"` for trades.
    pub notify_type: String,
    /// `app_id`: check it is ours.
    pub app_id: AppId,
    /// `seller_id`: the receiving account (`2088…`); check it is ours.
    pub seller_id: Option<UserId>,
    /// `out_trade_no`: our order number.
    pub out_trade_no: OutTradeNo,
    /// `trade_no`: Alipay's trade number.
    pub trade_no: TradeNo,
    /// `trade_status`.
    pub trade_status: TradeStatus,
    /// `total_amount`: check it equals the order's.
    pub total_amount: Amount,
    /// `receipt_amount`: what the merchant actually receives.
    pub receipt_amount: Option<Amount>,
    /// `buyer_id` (`2088…`), a payer identifier: encrypt it at rest.
    pub buyer_id: Option<UserId>,
    /// `buyer_open_id` (OpenID mode), a payer identifier: encrypt it at rest.
    pub buyer_open_id: Option<OpenId>,
    /// `gmt_payment` as Unix seconds.
    pub gmt_payment: Option<u64>,
    /// `refund_fee`: total refunded so far; present in refund notifications.
    pub refund_fee: Option<Amount>,
    /// `out_biz_no`: the refund's `out_request_no` in refund notifications.
    pub out_biz_no: Option<String>,
}

impl Notify {
    /// Whether the shopper has paid (`TRADE_SUCCESS` or `TRADE_FINISHED`). A refund notification
    /// also says `TRADE_SUCCESS`: look at [`Notify::is_refund`] too.
    pub fn is_paid(&self) -> bool {
        self.trade_status.is_paid()
    }

    /// Whether this notification reports a refund (it carries `refund_fee`).
    pub fn is_refund(&self) -> bool {
        self.refund_fee.is_some_and(|fee| !fee.is_zero())
    }
}

/// The string a trade notification is signed over: every parameter but `sign` and `sign_type`,
/// empty values dropped, sorted by key.
pub fn notify_sign_content<'a>(params: impl IntoIterator<Item = (&'a str, &'a str)>) -> String {
    sign_content(params, &["sign", "sign_type"])
}

fn param<'a>(params: &'a [(String, String)], key: &str) -> Option<&'a str> {
    params.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str()).filter(|v| !v.is_empty())
}

fn pairs(params: &[(String, String)]) -> impl Iterator<Item = (&str, &str)> {
    params.iter().map(|(k, v)| (k.as_str(), v.as_str()))
}

/// Decodes the body once and checks `sign`; `sign_type`, when present, must be `RSA2`.
async fn verified_params(
    raw_form_body: &[u8],
    verifier: &impl RsaVerifier,
    keep_sign_type: bool,
) -> Result<Vec<(String, String)>> {
    let mut params = parse_urlencoded(raw_form_body)?;
    reject_repeats(&params)?;
    let sign_b64 = param(&params, "sign").ok_or(Error::Malformed { what: "sign" })?.to_owned();
    match param(&params, "sign_type") {
        Some(SIGN_TYPE) => {}
        Some(_) => return Err(Error::Malformed { what: "sign_type" }),
        None if keep_sign_type => params.push(("sign_type".to_owned(), SIGN_TYPE.to_owned())),
        None => {}
    }
    let content = if keep_sign_type {
        sign_content(pairs(&params), &["sign"])
    } else {
        notify_sign_content(pairs(&params))
    };
    verify(verifier, &content, &sign_b64).await?;
    Ok(params)
}

/// Verifies and parses a trade notification from the raw POST body: the one entry point.
///
/// # Errors
/// [`Error::Malformed`] for a body that is not form-encoded UTF-8, a repeated parameter, a missing
/// `sign`, a `sign_type` other than `RSA2`, or a missing or malformed field;
/// [`Error::BadSignature`] when the signature does not verify; [`Error::InvalidAmount`] /
/// [`Error::InvalidId`] for a malformed amount or id in a genuine notification.
pub async fn parse_notify(raw_form_body: &[u8], verifier: &impl RsaVerifier) -> Result<Notify> {
    let params = verified_params(raw_form_body, verifier, false).await?;
    let required = |key: &'static str| param(&params, key).ok_or(Error::Malformed { what: key });
    let time = |key: &'static str| -> Result<Option<u64>> {
        param(&params, key).map(|t| BeijingTime::parse_alipay(t, key).map(BeijingTime::unix)).transpose()
    };
    let amount = |key: &'static str| param(&params, key).map(Amount::parse_alipay).transpose();
    Ok(Notify {
        notify_id: NotifyId::new(required("notify_id")?)?,
        notify_time: time("notify_time")?.ok_or(Error::Malformed { what: "notify_time" })?,
        notify_type: required("notify_type")?.to_owned(),
        app_id: AppId::new(required("app_id")?)?,
        seller_id: param(&params, "seller_id").map(UserId::new).transpose()?,
        out_trade_no: OutTradeNo::new(required("out_trade_no")?)?,
        trade_no: TradeNo::new(required("trade_no")?)?,
        trade_status: TradeStatus::parse(required("trade_status")?),
        total_amount: Amount::parse_alipay(required("total_amount")?)?,
        receipt_amount: amount("receipt_amount")?,
        buyer_id: param(&params, "buyer_id").map(UserId::new).transpose()?,
        buyer_open_id: param(&params, "buyer_open_id").map(OpenId::new).transpose()?,
        gmt_payment: time("gmt_payment")?,
        refund_fee: amount("refund_fee")?,
        out_biz_no: param(&params, "out_biz_no").map(str::to_owned),
    })
}

/// Verifies a notification signed the other way, *with* `sign_type` in the string (Alipay's
/// `rsaCheckV2`, used by non-trade notifications such as `alipay.open.servicemarket.order.notify`).
/// As in Alipay's SDKs, a missing `sign_type` is taken as `RSA2`. Returns the decoded parameters.
///
/// # Errors
/// As [`parse_notify`], without the field checks.
pub async fn verify_notify_with_sign_type(
    raw_form_body: &[u8],
    verifier: &impl RsaVerifier,
) -> Result<Vec<(String, String)>> {
    verified_params(raw_form_body, verifier, true).await
}

/// Platform side (the sandbox): the form body of a trade notification carrying `params`, with
/// `sign_type=RSA2` and `sign` over everything else appended.
///
/// # Errors
/// [`Error::Malformed`] when `params` already holds `sign` or `sign_type` or repeats a key;
/// [`Error::Crypto`] when the signer fails.
pub async fn sign_notify(signer: &impl RsaSigner, params: &[(&str, &str)]) -> Result<String> {
    if params.iter().any(|(k, _)| *k == "sign" || *k == "sign_type") {
        return Err(Error::Malformed { what: "sign" });
    }
    let owned: Vec<(String, String)> = params.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
    reject_repeats(&owned)?;
    let signature = sign(signer, &notify_sign_content(params.iter().copied())).await?;
    let mut all = params.to_vec();
    all.push(("sign_type", SIGN_TYPE));
    all.push(("sign", &signature));
    Ok(encode_pairs(all))
}
