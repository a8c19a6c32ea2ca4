//! Alipay (OpenAPI, RSA2): page and wap pay as a redirect, precreate as a QR code, and the
//! asynchronous notification.

use payment_core::alipay::{
    parse_notify, sign_request, verify_response, Expiry, Merchant, Method, Notify, Order, Outcome, PrecreateResponse,
    Request, Urls,
};
use payment_core::ids::AppId;
use payment_core::keys::{private_key_pkcs8_der, public_key_spki_der};
use payment_core::method::PaymentMethod;
use worker::Env;

use super::{public_url, setting, Attempt, NextAction, ProviderError};
use crate::webcrypto::{RsaSigningKey, RsaVerifyingKey};

/// Alipay's production gateway, the default of `ALIPAY_GATEWAY`.
const GATEWAY: &str = "https://openapi.alipay.com/gateway.do";

/// The Alipay settings, read when needed.
#[derive(Debug)]
pub(crate) struct Settings {
    pub(super) merchant: Merchant,
    seller_id: String,
    pub(super) app_key_pkcs8: payment_core::crypto::SecretBytes,
    alipay_public_spki: Vec<u8>,
}

impl Settings {
    /// The settings, or `None` when one is missing or invalid (`/v1/health` names the missing ones).
    pub(crate) fn from_env(env: &Env) -> Option<std::rc::Rc<Self>> {
        crate::isolate_cache::get_or_make(0, || Self::read(env))
    }

    fn read(env: &Env) -> Option<Self> {
        let app_id = AppId::new(setting(env, "ALIPAY_APP_ID")?).ok()?;
        Some(Self {
            merchant: Merchant {
                app_id,
                gateway: setting(env, "ALIPAY_GATEWAY").unwrap_or_else(|| GATEWAY.to_owned()),
                cert_serials: None,
            },
            seller_id: setting(env, "ALIPAY_SELLER_ID")?,
            app_key_pkcs8: private_key_pkcs8_der(&setting(env, "ALIPAY_APP_PRIVATE_KEY")?, "ALIPAY_APP_PRIVATE_KEY").ok()?,
            alipay_public_spki: public_key_spki_der(&setting(env, "ALIPAY_PUBLIC_KEY")?, "ALIPAY_PUBLIC_KEY").ok()?,
        })
    }

    pub(super) fn verifier(&self) -> RsaVerifyingKey {
        RsaVerifyingKey::new(&self.alipay_public_spki)
    }
}

/// Alipay's `subject` allows no `/ = &` and no control characters.
fn subject(description: &str) -> String {
    description.chars().map(|c| if "/=&".contains(c) || c.is_control() { ' ' } else { c }).collect()
}

/// Creates the trade of `attempt` and returns the widget's next action.
pub(crate) async fn create_order(env: &Env, attempt: &Attempt<'_>) -> Result<NextAction, ProviderError> {
    let settings = Settings::from_env(env).ok_or(ProviderError::NotConfigured)?;
    let session = &attempt.record.session;
    let order = Order {
        out_trade_no: attempt.out_trade_no.clone(),
        total_amount: session.amount(),
        subject: subject(&attempt.record.description),
        expiry: Some(Expiry::At(session.expires_at())),
    };
    let urls = Urls {
        notify_url: Some(public_url(env, "/v1/notify/alipay").ok_or(ProviderError::NotConfigured)?),
        return_url: attempt.record.return_url.clone(),
    };
    let request = match attempt.method {
        PaymentMethod::AlipayPage => Request::PagePay(order),
        PaymentMethod::AlipayWap => Request::WapPay { order, quit_url: attempt.record.return_url.clone() },
        PaymentMethod::AlipayQr => Request::Precreate(order),
        _ => return Err(ProviderError::NotConfigured),
    };
    let key = RsaSigningKey::import(settings.app_key_pkcs8.expose()).await.map_err(|_| ProviderError::NotConfigured)?;
    let signed = sign_request(&settings.merchant, &request, &urls, attempt.now, &key).await.map_err(|_| ProviderError::NotConfigured)?;
    if !matches!(request, Request::Precreate(_)) {
        // Page and wap pay: the shopper's browser carries the signed request to Alipay's cashier.
        return Ok(NextAction::Redirect { url: signed.page_url() });
    }
    let post = signed.post();
    let reply = crate::http::post_form(&post.url, &post.body).await?;
    if reply.status >= 500 {
        return Err(ProviderError::Unavailable);
    }
    let raw = String::from_utf8(reply.body).map_err(|_| ProviderError::Unavailable)?;
    match verify_response::<PrecreateResponse>(&raw, Method::Precreate, &settings.verifier()).await {
        Ok(Outcome::Success(answer)) if &answer.out_trade_no == attempt.out_trade_no => {
            Ok(NextAction::Qr { data: answer.qr_code, expires_at: session.expires_at() })
        }
        Ok(_) => Err(ProviderError::Refused),
        // An answer that does not verify is not Alipay's: never act on it.
        Err(_) => Err(ProviderError::Unavailable),
    }
}

/// Why a notification changes nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Refusal {
    /// Alipay is not configured here.
    NotConfigured,
    /// The signature or the body did not check out.
    Unverified,
    /// It is Alipay's, but for another app or seller.
    WrongMerchant,
}

/// Verifies an Alipay notification over the raw form body and checks it is for this app and seller.
pub(crate) async fn verify_notify(env: &Env, raw: &[u8]) -> Result<Notify, Refusal> {
    let settings = Settings::from_env(env).ok_or(Refusal::NotConfigured)?;
    let notify = parse_notify(raw, &settings.verifier()).await.map_err(|_| Refusal::Unverified)?;
    let seller_matches = notify.seller_id.as_ref().is_none_or(|s| s.as_str() == settings.seller_id);
    if notify.app_id != settings.merchant.app_id || !seller_matches {
        return Err(Refusal::WrongMerchant);
    }
    Ok(notify)
}
