//! Signed requests to Alipay's OpenAPI gateway (`gateway.do`), one builder for every method.
//!
//! Common parameters (<https://opendocs.alipay.com/common/02kf5q>): `app_id, method, format=JSON,
//! charset=utf-8, sign_type=RSA2, timestamp` (Beijing time), `version=1.0`, optional `notify_url`,
//! `return_url`, `app_cert_sn`/`alipay_root_cert_sn` in certificate mode, and `biz_content`, the
//! method's own parameters as a JSON string. Page methods (`page.pay`, `wap.pay`) are sent by the
//! shopper's browser as a GET URL or an auto-submitted form; the others are POSTed by the server.

use serde::Serialize;

use super::model::{Method, TradeNo};
use super::sign::{sign, sign_content, SIGN_TYPE};
use crate::beijing_time::BeijingTime;
use crate::crypto::RsaSigner;
use crate::error::{Error, Result};
use crate::form::{append_query, encode_pairs, AutoSubmitForm, FormMethod};
use crate::ids::{AppId, OutRefundNo, OutTradeNo};
use crate::money::Amount;

/// Alipay's production gateway.
pub const PRODUCTION_GATEWAY: &str = "https://openapi.alipay.com/gateway.do";

/// The `Content-Type` of a gateway POST.
pub const POST_CONTENT_TYPE: &str = "application/x-www-form-urlencoded;charset=utf-8";

/// The serial numbers sent in certificate mode (see [`super::cert`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertSerials {
    /// `app_cert_sn`: [`super::cert::cert_sn`] of the application's public-key certificate.
    pub app_cert_sn: String,
    /// `alipay_root_cert_sn`: [`super::cert::root_cert_sn`] of Alipay's root bundle.
    pub alipay_root_cert_sn: String,
}

/// Who is calling and where: the application and the gateway (production or the sandbox).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Merchant {
    /// The application's `app_id`.
    pub app_id: AppId,
    /// The gateway URL, e.g. [`PRODUCTION_GATEWAY`].
    pub gateway: String,
    /// Certificate mode's serial numbers; `None` in public-key mode.
    pub cert_serials: Option<CertSerials>,
}

/// The callback URLs of one request (common parameters, not part of `biz_content`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Urls {
    /// `notify_url`: where Alipay POSTs the asynchronous notification.
    pub notify_url: Option<String>,
    /// `return_url`: where the shopper's browser comes back after a page payment.
    pub return_url: Option<String>,
}

/// When an unpaid trade closes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expiry {
    /// `timeout_express`: this many minutes after the trade is created (1 minute to 15 days).
    AfterMinutes(u32),
    /// `time_expire`: at this Unix time (sent as Beijing time).
    At(u64),
}

impl Expiry {
    fn fields(self) -> Result<(Option<String>, Option<String>)> {
        match self {
            Expiry::AfterMinutes(minutes @ 1..=21_600) => Ok((Some(format!("{minutes}m")), None)),
            Expiry::AfterMinutes(_) => Err(Error::Malformed { what: "timeout_express" }),
            Expiry::At(unix) => Ok((None, Some(BeijingTime::from_unix(unix)?.to_alipay()))),
        }
    }
}

/// One payment's order data, shared by page pay, wap pay and precreate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Order {
    /// `out_trade_no`: this attempt's order number.
    pub out_trade_no: OutTradeNo,
    /// `total_amount`: 0.01 to 100,000,000.00 yuan.
    pub total_amount: Amount,
    /// `subject`: the order title, 1–256 characters, none of `/ = &` and no control characters.
    pub subject: String,
    /// When the unpaid trade closes; `None` for Alipay's default.
    pub expiry: Option<Expiry>,
}

/// Which trade a query, close or refund is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TradeRef {
    /// By the merchant's `out_trade_no`.
    OutTradeNo(OutTradeNo),
    /// By Alipay's `trade_no`.
    TradeNo(TradeNo),
}

/// A request's method and `biz_content`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Request {
    /// `alipay.trade.page.pay` with `product_code=FAST_INSTANT_TRADE_PAY`.
    PagePay(Order),
    /// `alipay.trade.wap.pay` with `product_code=QUICK_WAP_WAY`.
    WapPay {
        /// The order.
        order: Order,
        /// `quit_url`: where the cashier's back button leads.
        quit_url: Option<String>,
    },
    /// `alipay.trade.precreate` with `product_code=FACE_TO_FACE_PAYMENT`; the answer carries `qr_code`.
    Precreate(Order),
    /// `alipay.trade.query`.
    Query(TradeRef),
    /// `alipay.trade.close`.
    Close(TradeRef),
    /// `alipay.trade.refund`.
    Refund {
        /// The trade to refund.
        trade: TradeRef,
        /// `refund_amount`: this refund's amount (at least 0.01).
        refund_amount: Amount,
        /// `out_request_no`: identifies this refund; required for partial refunds, the key for retries.
        out_request_no: OutRefundNo,
        /// `refund_reason`, shown to the shopper.
        refund_reason: Option<String>,
    },
}

#[derive(Serialize)]
struct PayContent<'a> {
    out_trade_no: &'a str,
    total_amount: String,
    subject: &'a str,
    product_code: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    timeout_express: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    time_expire: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    quit_url: Option<&'a str>,
}

#[derive(Serialize)]
struct TradeContent<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    out_trade_no: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    trade_no: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    refund_amount: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    out_request_no: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    refund_reason: Option<&'a str>,
}

impl<'a> TradeContent<'a> {
    fn of(trade: &'a TradeRef) -> Self {
        let (out_trade_no, trade_no) = match trade {
            TradeRef::OutTradeNo(no) => (Some(no.as_str()), None),
            TradeRef::TradeNo(no) => (None, Some(no.as_str())),
        };
        Self { out_trade_no, trade_no, refund_amount: None, out_request_no: None, refund_reason: None }
    }
}

fn positive(amount: Amount) -> Result<String> {
    if amount.is_zero() {
        return Err(Error::InvalidAmount);
    }
    Ok(amount.to_alipay())
}

fn check_text(text: &str, max_chars: usize, what: &'static str, forbidden: &[char]) -> Result<()> {
    let count = text.chars().count();
    if count == 0 || count > max_chars || text.chars().any(|c| c.is_control() || forbidden.contains(&c)) {
        return Err(Error::Malformed { what });
    }
    Ok(())
}

fn pay_content(order: &Order, product_code: &'static str, quit_url: Option<&str>) -> Result<String> {
    check_text(&order.subject, 256, "subject", &['/', '=', '&'])?;
    let (timeout_express, time_expire) = match order.expiry {
        Some(expiry) => expiry.fields()?,
        None => (None, None),
    };
    let content = PayContent {
        out_trade_no: order.out_trade_no.as_str(),
        total_amount: positive(order.total_amount)?,
        subject: &order.subject,
        product_code,
        timeout_express,
        time_expire,
        quit_url,
    };
    serde_json::to_string(&content).map_err(|_| Error::Malformed { what: "biz_content" })
}

impl Request {
    /// The OpenAPI method.
    pub fn method(&self) -> Method {
        match self {
            Request::PagePay(_) => Method::PagePay,
            Request::WapPay { .. } => Method::WapPay,
            Request::Precreate(_) => Method::Precreate,
            Request::Query(_) => Method::Query,
            Request::Close(_) => Method::Close,
            Request::Refund { .. } => Method::Refund,
        }
    }

    /// The `biz_content` JSON text (compact, fields in a fixed order, optional fields omitted).
    ///
    /// # Errors
    /// [`Error::InvalidAmount`] for a zero amount; [`Error::Malformed`] naming a field that breaks
    /// the method's rules (subject, timeout, refund reason).
    pub fn biz_content(&self) -> Result<String> {
        let trade_content = |content: TradeContent<'_>| {
            serde_json::to_string(&content).map_err(|_| Error::Malformed { what: "biz_content" })
        };
        match self {
            Request::PagePay(order) => pay_content(order, "FAST_INSTANT_TRADE_PAY", None),
            Request::WapPay { order, quit_url } => pay_content(order, "QUICK_WAP_WAY", quit_url.as_deref()),
            Request::Precreate(order) => pay_content(order, "FACE_TO_FACE_PAYMENT", None),
            Request::Query(trade) | Request::Close(trade) => trade_content(TradeContent::of(trade)),
            Request::Refund { trade, refund_amount, out_request_no, refund_reason } => {
                if let Some(reason) = refund_reason {
                    check_text(reason, 256, "refund_reason", &[])?;
                }
                trade_content(TradeContent {
                    refund_amount: Some(positive(*refund_amount)?),
                    out_request_no: Some(out_request_no.as_str()),
                    refund_reason: refund_reason.as_deref(),
                    ..TradeContent::of(trade)
                })
            }
        }
    }
}

/// A signed request: every parameter including `sign`, ready to send one of three ways.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedRequest {
    method: Method,
    gateway: String,
    params: Vec<(String, String)>,
}

impl SignedRequest {
    /// The method this request calls.
    pub fn method(&self) -> Method {
        self.method
    }

    /// Every parameter, `sign` last.
    pub fn params(&self) -> &[(String, String)] {
        &self.params
    }

    /// The value of one parameter.
    pub fn param(&self, key: &str) -> Option<&str> {
        self.params.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
    }

    fn pairs(&self) -> impl Iterator<Item = (&str, &str)> {
        self.params.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// The gateway URL with every parameter in its percent-encoded query: a page payment as a
    /// plain redirect (`pageExecute` with GET in Alipay's SDKs).
    pub fn page_url(&self) -> String {
        append_query(&self.gateway, &encode_pairs(self.pairs()))
    }

    /// The page payment as a form the browser POSTs to the gateway (`pageExecute` with POST).
    /// `charset` is also on the action URL so the gateway decodes the body right.
    pub fn page_form(&self) -> AutoSubmitForm {
        AutoSubmitForm {
            action: append_query(&self.gateway, "charset=utf-8"),
            method: FormMethod::Post,
            fields: self.params.clone(),
        }
    }

    /// The server-to-server call: POST this body to this URL with [`POST_CONTENT_TYPE`].
    pub fn post(&self) -> GatewayPost {
        GatewayPost { url: append_query(&self.gateway, "charset=utf-8"), body: encode_pairs(self.pairs()) }
    }
}

/// A server-to-server call to the gateway.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GatewayPost {
    /// The gateway URL, with `charset=utf-8`.
    pub url: String,
    /// The `application/x-www-form-urlencoded` body with every parameter and `sign`.
    pub body: String,
}

/// Builds and signs a request: the common parameters, `biz_content`, and `sign` over all of them
/// (<https://opendocs.alipay.com/common/02kf5q>). `timestamp` is the Unix time of the call; it is
/// sent as Beijing time whatever the machine's zone.
///
/// # Errors
/// What [`Request::biz_content`] refuses; [`Error::Malformed`] `"timestamp"` for an absurd time;
/// [`Error::Crypto`] when the signer fails.
pub async fn sign_request(
    merchant: &Merchant,
    request: &Request,
    urls: &Urls,
    timestamp: u64,
    signer: &impl RsaSigner,
) -> Result<SignedRequest> {
    let method = request.method();
    let mut params: Vec<(String, String)> = vec![
        ("app_id".into(), merchant.app_id.as_str().into()),
        ("method".into(), method.as_str().into()),
        ("format".into(), "JSON".into()),
        ("charset".into(), "utf-8".into()),
        ("sign_type".into(), SIGN_TYPE.into()),
        ("timestamp".into(), BeijingTime::from_unix(timestamp)?.to_alipay()),
        ("version".into(), "1.0".into()),
    ];
    if let Some(url) = &urls.notify_url {
        params.push(("notify_url".into(), url.clone()));
    }
    if let Some(url) = &urls.return_url {
        params.push(("return_url".into(), url.clone()));
    }
    if let Some(serials) = &merchant.cert_serials {
        params.push(("app_cert_sn".into(), serials.app_cert_sn.clone()));
        params.push(("alipay_root_cert_sn".into(), serials.alipay_root_cert_sn.clone()));
    }
    params.push(("biz_content".into(), request.biz_content()?));
    // Empty values are neither signed nor sent.
    params.retain(|(_, v)| !v.is_empty());
    let content = sign_content(params.iter().map(|(k, v)| (k.as_str(), v.as_str())), &["sign"]);
    params.push(("sign".into(), sign(signer, &content).await?));
    Ok(SignedRequest { method, gateway: merchant.gateway.clone(), params })
}
