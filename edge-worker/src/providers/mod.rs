//! The providers as the worker talks to them: settings, order creation (the widget's next
//! action) and verified callbacks. Every protocol rule is payment-core's; this is the I/O around it.

pub(crate) mod alipay;
pub(crate) mod miniprogram;
pub(crate) mod query;
pub(crate) mod refund;
pub(crate) mod unionpay;
pub(crate) mod wechatpay;

use payment_core::ids::{OutTradeNo, SessionId};
use payment_core::method::PaymentMethod;
use serde::{Deserialize, Serialize};
use worker::Env;

use crate::session_object::SessionRecord;

/// What the widget does next to let the shopper pay.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub(crate) enum NextAction {
    /// Send the browser to `url` (WeChat H5, Alipay wap/page pay).
    Redirect {
        /// Where.
        url: String,
    },
    /// Post `fields` to `action` from the browser (Alipay/UnionPay forms).
    Form {
        /// The form's target.
        action: String,
        /// `POST` or `GET`.
        method: String,
        /// The fields, in order.
        fields: Vec<(String, String)>,
    },
    /// Show `data` as a QR code until `expires_at` (WeChat Native, Alipay precreate).
    Qr {
        /// The code's content.
        data: String,
        /// Unix seconds.
        expires_at: u64,
    },
    /// Call `WeixinJSBridge.invoke('getBrandWCPayRequest', params)` (WeChat JSAPI).
    Jsapi {
        /// `appId, timeStamp, nonceStr, package, signType, paySign`, signed with the merchant key.
        params: payment_core::wechatpay::JsapiParams,
    },
    /// Send the browser to WeChat's sign-in (`snsapi_base`) first: JSAPI needs the payer's openid.
    /// It comes back to the shop page, where the widget pays again.
    Oauth {
        /// WeChat's authorize URL.
        url: String,
    },
    /// Hand off to the merchant's mini-program page that pays (`wx.miniProgram.navigateTo`):
    /// `WECHAT_MINIPROGRAM_PAY_PATH?session_id=…` (see [`miniprogram`]).
    Miniprogram {
        /// The mini-program page path, with the session id.
        path: String,
    },
}

impl NextAction {
    /// The action's `type`, as the widget reads it.
    pub(crate) fn kind(&self) -> &'static str {
        match self {
            Self::Redirect { .. } => "redirect",
            Self::Form { .. } => "form",
            Self::Qr { .. } => "qr",
            Self::Jsapi { .. } => "jsapi",
            Self::Oauth { .. } => "oauth",
            Self::Miniprogram { .. } => "miniprogram",
        }
    }
}

/// Why a provider could not create the order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ProviderError {
    /// A setting the provider needs is missing or invalid.
    NotConfigured,
    /// The provider refused the request (its answer verified; not worth retrying as is).
    Refused,
    /// The provider did not answer, answered 5xx, or its answer did not verify: try again.
    Unavailable,
    /// The request lacks what this method needs (a fixed sentence saying what).
    MissingContext(&'static str),
}

/// Everything an order creation needs.
#[derive(Debug)]
pub(crate) struct Attempt<'a> {
    /// The session.
    pub(crate) record: &'a SessionRecord,
    /// The attempt's order number.
    pub(crate) out_trade_no: &'a OutTradeNo,
    /// The chosen method (already allowed for the session and the environment).
    pub(crate) method: PaymentMethod,
    /// Now (Unix seconds).
    pub(crate) now: u64,
    /// The shopper's IP address, as the edge saw it (WeChat H5 needs it).
    pub(crate) client_ip: Option<std::net::IpAddr>,
    /// Where the shopper comes back to after an off-page step (WeChat sign-in, the H5 cashier): the
    /// widget's page (`page_url` of the pay request), else the session's `return_url`.
    pub(crate) return_to: Option<String>,
    /// A WeChat sign-in round trip started for this attempt, recorded with its action.
    pub(crate) oauth_begun: std::cell::RefCell<Option<crate::pay::OauthBegun>>,
}

/// A setting from the environment (vars and secrets are both strings there); blank is missing.
pub(crate) fn setting(env: &Env, name: &str) -> Option<String> {
    env.var(name).ok().map(|v| v.to_string()).filter(|v| !v.trim().is_empty())
}

/// The URL of one of the worker's own routes, from `PUBLIC_BASE_URL`.
pub(crate) fn public_url(env: &Env, path: &str) -> Option<String> {
    setting(env, "PUBLIC_BASE_URL").map(|base| format!("{}{path}", base.trim_end_matches('/')))
}

/// Creates the provider order of `attempt` and returns what the widget does next.
pub(crate) async fn create_order(env: &Env, attempt: &Attempt<'_>) -> Result<NextAction, ProviderError> {
    match attempt.method {
        PaymentMethod::AlipayPage | PaymentMethod::AlipayWap | PaymentMethod::AlipayQr => alipay::create_order(env, attempt).await,
        PaymentMethod::UnionpayPc | PaymentMethod::UnionpayWap => unionpay::create_order(env, attempt).await,
        PaymentMethod::WechatNative | PaymentMethod::WechatH5 | PaymentMethod::WechatJsapi => wechatpay::create_order(env, attempt).await,
        PaymentMethod::WechatMiniprogram => miniprogram::create_order(env, attempt),
    }
}

/// An attempt's order number carries its session: `EP` + the session id's 24 characters (upper
/// case) + 6 random characters — 32 alphanumerics, valid at every provider, so a callback leads to
/// its session without a lookup table.
pub(crate) fn attempt_number(session: &SessionId, random: &[u8; 15]) -> Option<OutTradeNo> {
    let suffix = OutTradeNo::from_random(random);
    let tail = suffix.as_str().get(2..8)?;
    OutTradeNo::new(format!("EP{}{tail}", session.as_str().get(3..)?.to_ascii_uppercase())).ok()
}

/// The session an attempt's order number belongs to.
pub(crate) fn session_of(out_trade_no: &OutTradeNo) -> Option<SessionId> {
    let no = out_trade_no.as_str();
    if no.len() != 32 || !no.starts_with("EP") {
        return None;
    }
    SessionId::new(format!("cs_{}", no.get(2..26)?.to_ascii_lowercase())).ok()
}
