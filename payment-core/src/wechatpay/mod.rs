//! WeChat Pay API v3 (<https://pay.weixin.qq.com/doc/v3/merchant/4012365336>), sans-IO.
//!
//! Split by role, as wechatpay-go does:
//! - [`canonical`]: the exact bytes that are signed (requests, responses and callbacks), pure.
//! - [`sign`]: the merchant's `Authorization` header, its parser and the platform-side check.
//! - [`verify`]: responses and callbacks, verified over the raw body with the key their
//!   `Wechatpay-Serial` names (platform certificate serial or `PUB_KEY_ID_…`), and the platform side
//!   of it (signing responses) for the sandbox.
//! - [`notify`]: the one callback entry point, verify → decrypt (AEAD_AES_256_GCM) → parse.
//! - [`model`]: typed request bodies, responses, transactions, refunds and errors.
//! - [`jsapi`]: the parameters the WeChat JS bridge needs (`paySign`).
//!
//! Every signature, verification and decryption goes through [`crate::crypto`]; time and nonces
//! are arguments.

pub mod canonical;
pub mod jsapi;
pub mod model;
pub mod notify;
pub mod sign;
pub mod verify;

pub use jsapi::{jsapi_params, verify_jsapi_params, JsapiParams};
pub use notify::{parse_notification, ApiV3Key, Notification, NotificationResource};
pub use sign::{authorization, parse_authorization, verify_authorization, AuthorizationParams};
pub use verify::{platform_certificates, sign_response, verify_response, PlatformKeys, WechatpayHeaders};

/// The production API host (<https://pay.weixin.qq.com/doc/v3/merchant/4012365336>).
pub const API_BASE_URL: &str = "https://api.mch.weixin.qq.com";

/// The accepted clock difference between a signed timestamp and `now`: a message is refused when
/// `|now − timestamp| ≥ 300` seconds (<https://pay.weixin.qq.com/doc/v3/merchant/4013053249>).
pub const MAX_CLOCK_SKEW_SECS: u64 = 300;

/// Refuses a signed timestamp `|now − timestamp| ≥` [`MAX_CLOCK_SKEW_SECS`].
pub(crate) fn check_clock(timestamp: u64, now: u64) -> crate::Result<()> {
    if timestamp.abs_diff(now) >= MAX_CLOCK_SKEW_SECS {
        return Err(crate::Error::StaleTimestamp);
    }
    Ok(())
}
