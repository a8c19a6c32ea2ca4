//! Typed configuration, read from `[vars]` and secrets once per isolate (see [`crate::isolate_cache`]).

use payment_core::crypto::SecretBytes;
use worker::Env;

/// A provider's settings: each must be present for the provider to be enabled.
struct ProviderSettings {
    name: &'static str,
    required: &'static [&'static str],
    /// Groups of which at least one must be complete (e.g. WeChat public key or platform certificates).
    one_of: &'static [&'static [&'static str]],
}

const PROVIDERS: [ProviderSettings; 3] = [
    ProviderSettings {
        name: "wechatpay",
        // Optional: `WECHATPAY_BASE_URL`, `WECHAT_OPEN_BASE_URL`, `WECHAT_API_BASE_URL` (WeChat's
        // real hosts by default). JSAPI's sign-in also needs the settings of `FEATURES`, and a
        // merchant-supplied `wechat_openid` needs `DATA_ENCRYPTION_KEY`. `WECHAT_MINIPROGRAM_PAY_PATH`
        // (default `/pages/edgepay/pay`): the mini-program page `wechat_miniprogram` hands off to.
        required: &[
            "WECHATPAY_MCHID",
            "WECHATPAY_APPID",
            "WECHATPAY_MERCHANT_SERIAL",
            "WECHATPAY_MERCHANT_PRIVATE_KEY",
            "WECHATPAY_APIV3_KEY",
        ],
        one_of: &[
            &["WECHATPAY_PUBLIC_KEY_ID", "WECHATPAY_PUBLIC_KEY"],
            &["WECHATPAY_PLATFORM_CERTS"],
        ],
    },
    ProviderSettings {
        name: "alipay",
        required: &["ALIPAY_APP_ID", "ALIPAY_SELLER_ID", "ALIPAY_APP_PRIVATE_KEY", "ALIPAY_PUBLIC_KEY"],
        one_of: &[],
    },
    ProviderSettings {
        name: "unionpay",
        // Optional: `UNIONPAY_BASE_URL` (default https://gateway.95516.com) and `UNIONPAY_SIGNER`,
        // the signer name expected in the notifications' certificate CN (default payment-core's
        // `unionpay::UNIONPAY_SIGNER`, UnionPay's production name; the sandbox's worker-config
        // names its own). `UNIONPAY_ROOT_CERTS` is the root certificate, then the middle one.
        required: &["UNIONPAY_MER_ID", "UNIONPAY_SIGN_KEY", "UNIONPAY_SIGN_CERT_ID", "UNIONPAY_ROOT_CERTS"],
        one_of: &[],
    },
];

/// Flows that need settings beyond their provider's, reported by `/v1/health` under `features`:
/// WeChat JSAPI's sign-in (`snsapi_base`) exchanges the code with the app secret and keeps the
/// payer's openid encrypted with `DATA_ENCRYPTION_KEY` (32 bytes, base64).
const FEATURES: [ProviderSettings; 1] = [ProviderSettings {
    name: "wechat_oauth",
    required: &["WECHATPAY_APP_SECRET", "DATA_ENCRYPTION_KEY"],
    one_of: &[],
}];

/// Whether one provider can be used, and if not, which settings are missing (names only, never values).
#[derive(Debug, Clone, serde::Serialize)]
pub(crate) struct ProviderStatus {
    pub(crate) configured: bool,
    pub(crate) missing: Vec<&'static str>,
}

/// Settings every checkout needs, whatever the provider.
const CORE_SETTINGS: [&str; 2] = ["MERCHANT_API_KEY", "SESSION_SECRET"];

/// The worker's configuration. Secrets are wrapped the moment they are read.
#[derive(Debug)]
pub(crate) struct Config {
    allowed_origins: Vec<String>,
    /// The merchant backend's bearer token for `POST /v1/sessions`.
    pub(crate) merchant_api_key: Option<SecretBytes>,
    /// The HMAC key of client secrets (and idempotent session ids).
    pub(crate) session_secret: Option<SecretBytes>,
    /// Core settings that are missing (names only).
    pub(crate) core_missing: Vec<&'static str>,
    pub(crate) providers: Vec<(&'static str, ProviderStatus)>,
    /// The flows of `FEATURES`, like providers.
    pub(crate) features: Vec<(&'static str, ProviderStatus)>,
}

impl Config {
    /// The configuration, read once per isolate (and shared, not copied, by each request).
    pub(crate) fn cached(env: &Env) -> std::rc::Rc<Self> {
        crate::isolate_cache::get_or_make(0, || Some(Self::from_env(env))).unwrap_or_else(|| std::rc::Rc::new(Self::from_env(env)))
    }

    /// Reads the configuration from the worker's environment.
    pub(crate) fn from_env(env: &Env) -> Self {
        let present = |name: &str| {
            // Secrets and vars are both plain strings in the JS environment; an empty one counts as missing.
            env.var(name).map(|v| !v.to_string().trim().is_empty()).unwrap_or(false)
        };
        let allowed_origins = env
            .var("ALLOWED_ORIGINS")
            .map(|v| v.to_string())
            .unwrap_or_default()
            .split(',')
            .map(str::trim)
            .filter(|o| !o.is_empty() && *o != "*")
            .map(str::to_owned)
            .collect();
        let providers = PROVIDERS.iter().map(|p| (p.name, provider_status(p, &present))).collect();
        let features = FEATURES.iter().map(|f| (f.name, provider_status(f, &present))).collect();
        let secret = |name: &str| {
            env.secret(name)
                .ok()
                .map(|s| s.to_string())
                .filter(|s| !s.trim().is_empty())
                .map(|s| SecretBytes::new(s.into_bytes()))
        };
        Self {
            allowed_origins,
            merchant_api_key: secret("MERCHANT_API_KEY"),
            session_secret: secret("SESSION_SECRET"),
            core_missing: CORE_SETTINGS.into_iter().filter(|name| !present(name)).collect(),
            providers,
            features,
        }
    }

    /// Whether `origin` is on the CORS allow-list (exact match; there is no wildcard).
    pub(crate) fn origin_allowed(&self, origin: &str) -> bool {
        self.allowed_origins.iter().any(|o| o == origin)
    }
}

fn provider_status(settings: &ProviderSettings, present: &impl Fn(&str) -> bool) -> ProviderStatus {
    let mut missing: Vec<&'static str> =
        settings.required.iter().copied().filter(|name| !present(name)).collect();
    let any_group_complete = settings.one_of.iter().any(|group| group.iter().all(|name| present(name)));
    if !settings.one_of.is_empty() && !any_group_complete {
        // Name every setting of the first group, so the operator has one clear way to finish.
        missing.extend(settings.one_of[0].iter().copied().filter(|name| !present(name)));
    }
    ProviderStatus { configured: missing.is_empty(), missing }
}
