//! UnionPay ACP 5.1.0 (`signMethod=01`): the front consumption form for a desktop (`channelType`
//! 07) or mobile (08) browser, the back notification, and the small page the shopper's browser
//! comes back to when the session has no `return_url`.

use payment_core::crypto::SecretBytes;
use payment_core::keys::private_key_pkcs8_der;
use payment_core::method::PaymentMethod;
use payment_core::unionpay::{
    front_consume, parse_notify, Channel, FrontConsume, MerId, Merchant, Notify, TrustAnchors, UnionpayOrderId,
    UNIONPAY_SIGNER,
};
use payment_core::x509::Certificate;
use worker::{Env, Response, Result};

use super::{public_url, setting, Attempt, NextAction, ProviderError};
use crate::config::Config;
use crate::incoming::Incoming;
use crate::route::RouteContext;
use crate::webcrypto::{RsaSigningKey, RsaVerifyingKey};

/// UnionPay's production gateway, the default of `UNIONPAY_BASE_URL`.
const BASE_URL: &str = "https://gateway.95516.com";

/// The worker's own page the shopper returns to when the session has no `return_url`.
pub(crate) const RETURN_PATH: &str = "/v1/unionpay/return";

/// The UnionPay settings, read when needed.
#[derive(Debug)]
pub(crate) struct Settings {
    pub(super) merchant: Merchant,
    pub(super) sign_key_pkcs8: SecretBytes,
    pub(super) anchors: TrustAnchors,
}

impl Settings {
    /// The settings, or `None` when one is missing or invalid (`/v1/health` names the missing ones).
    pub(crate) fn from_env(env: &Env) -> Option<std::rc::Rc<Self>> {
        crate::isolate_cache::get_or_make(0, || Self::read(env))
    }

    fn read(env: &Env) -> Option<Self> {
        let base = setting(env, "UNIONPAY_BASE_URL").unwrap_or_else(|| BASE_URL.to_owned());
        let base = base.trim_end_matches('/');
        Some(Self {
            merchant: Merchant {
                mer_id: MerId::new(setting(env, "UNIONPAY_MER_ID")?.trim()).ok()?,
                cert_id: setting(env, "UNIONPAY_SIGN_CERT_ID")?.trim().to_owned(),
                front_trans_url: format!("{base}/gateway/api/frontTransReq.do"),
                query_trans_url: format!("{base}/gateway/api/queryTrans.do"),
            },
            sign_key_pkcs8: private_key_pkcs8_der(&setting(env, "UNIONPAY_SIGN_KEY")?, "UNIONPAY_SIGN_KEY").ok()?,
            anchors: anchors(&setting(env, "UNIONPAY_ROOT_CERTS")?, setting(env, "UNIONPAY_SIGNER"))?,
        })
    }
}

/// `UNIONPAY_ROOT_CERTS` holds the root certificate, then the middle one (UnionPay's
/// `acp_prod_root.cer` and `acp_prod_middle.cer`, concatenated); `UNIONPAY_SIGNER` overrides the
/// expected signer name of the notifications' certificate (UnionPay's production name by default).
fn anchors(bundle: &str, signer: Option<String>) -> Option<TrustAnchors> {
    let [root, middle]: [Certificate; 2] = Certificate::all_from_pem(bundle).ok()?.try_into().ok()?;
    Some(TrustAnchors::new(root, middle, signer.map_or_else(|| UNIONPAY_SIGNER.to_owned(), |s| s.trim().to_owned())))
}

/// Signs the front consumption of `attempt`: the shopper's browser posts it to UnionPay's cashier.
/// No call leaves the worker here, so a gateway that is down shows in the shopper's browser.
pub(crate) async fn create_order(env: &Env, attempt: &Attempt<'_>) -> Result<NextAction, ProviderError> {
    let settings = Settings::from_env(env).ok_or(ProviderError::NotConfigured)?;
    let channel = match attempt.method {
        PaymentMethod::UnionpayPc => Channel::Pc,
        PaymentMethod::UnionpayWap => Channel::Mobile,
        _ => return Err(ProviderError::NotConfigured),
    };
    let session = &attempt.record.session;
    let front_url = match &attempt.record.return_url {
        Some(url) => url.clone(),
        None => public_url(env, RETURN_PATH).ok_or(ProviderError::NotConfigured)?,
    };
    let consume = FrontConsume {
        // The worker's order numbers are 32 letters and digits: always a valid `orderId`.
        order_id: UnionpayOrderId::try_from(attempt.out_trade_no).map_err(|_| ProviderError::Refused)?,
        txn_amt: session.amount(),
        channel,
        // The attempt's start: a status query must send the same `txnTime` again.
        txn_time: attempt.now,
        pay_timeout: Some(session.expires_at()),
        front_url,
        back_url: public_url(env, "/v1/notify/unionpay").ok_or(ProviderError::NotConfigured)?,
    };
    let key = RsaSigningKey::import(settings.sign_key_pkcs8.expose()).await.map_err(|_| ProviderError::NotConfigured)?;
    let form = front_consume(&settings.merchant, &consume, &key).await.map_err(|_| ProviderError::NotConfigured)?;
    Ok(NextAction::Form { action: form.action, method: form.method.as_str().to_ascii_uppercase(), fields: form.fields })
}

/// Why a back notification changes nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Refusal {
    /// UnionPay is not configured here.
    NotConfigured,
    /// The certificate does not chain to the configured anchors, the signature does not verify,
    /// or the body is malformed.
    Unverified,
    /// It is UnionPay's, but for another merchant.
    WrongMerchant,
}

/// Verifies a back notification over the raw form body — `signPubKeyCert` chained to the
/// configured root and middle at `now`, then the signature — and checks it is for our `merId`.
pub(crate) async fn verify_notify(env: &Env, raw: &[u8], now: u64) -> Result<Notify, Refusal> {
    let settings = Settings::from_env(env).ok_or(Refusal::NotConfigured)?;
    let notify = parse_notify(raw, &settings.anchors, |spki| Ok(RsaVerifyingKey::new(spki)), now)
        .await
        .map_err(|_| Refusal::Unverified)?;
    if notify.mer_id != settings.merchant.mer_id {
        return Err(Refusal::WrongMerchant);
    }
    Ok(notify)
}

/// The page the shopper's browser lands on after UnionPay's cashier when the shop gave no
/// `return_url`. UnionPay POSTs its front notification here; the body is neither read nor
/// trusted (the back notification is what counts), and nothing from the request is echoed.
const RETURN_PAGE: &str = "<!DOCTYPE html>\n<html lang=\"zh-CN\"><head><meta charset=\"utf-8\">\
<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>支付已提交 Payment submitted</title></head>\n\
<body><h1>支付已提交 Payment submitted</h1>\n\
<p>请返回商户页面查看订单状态。Please return to the shop to see your order's status.</p></body></html>\n";

/// `GET`/`POST /v1/unionpay/return`.
pub(crate) fn return_page(_req: Incoming, _ctx: RouteContext<Config>) -> Result<Response> {
    let mut response = Response::from_html(RETURN_PAGE)?;
    let headers = response.headers_mut();
    headers.set("Cache-Control", "no-store")?;
    headers.set("Content-Security-Policy", "default-src 'none'")?;
    headers.set("X-Content-Type-Options", "nosniff")?;
    headers.set("Referrer-Policy", "no-referrer")?;
    Ok(response)
}
