//! Payment methods, and which of them can work where the shopper is (DESIGN.md, "Environments and
//! methods").
//!
//! [`offer`] is the matrix the widget and the worker share: the widget shows [`Offer::allowed`] in
//! that order and turns [`Offer::blocked`] into guidance ("open in browser"); the worker calls
//! [`check_allowed`] before it creates a provider order, so a widget that shows more than it
//! should still cannot pay with it.
//!
//! | environment | allowed, likeliest first |
//! |---|---|
//! | `wechat_inapp` | `wechat_jsapi`, `unionpay_wap` |
//! | `wechat_miniprogram` | `wechat_miniprogram` (hand-off to the merchant's mini-program) |
//! | `wechat_desktop` | `wechat_native`, `alipay_qr`, `unionpay_pc` |
//! | `wecom` | as `mobile_browser` on a phone or tablet, as `desktop_browser` on a desktop |
//! | `alipay_inapp` | `alipay_wap`, `unionpay_wap` |
//! | `mobile_browser` | `wechat_h5`, `alipay_wap`, `unionpay_wap` |
//! | `desktop_browser` | `wechat_native`, `alipay_page`, `alipay_qr`, `unionpay_pc` |
//!
//! Every other method the session accepts is blocked with one [`BlockReason`], chosen by the first
//! rule that applies:
//!
//! 1. in the mini-program web-view: `miniprogram_handoff_only`;
//! 2. `wechat_miniprogram` anywhere else: `needs_miniprogram`;
//! 3. an Alipay method inside WeChat (phone or desktop client): `blocked_in_wechat`;
//! 4. `wechat_h5` inside WeChat: `wechat_h5_refused_in_wechat`;
//! 5. a WeChat method inside Alipay: `not_in_alipay`;
//! 6. `wechat_jsapi` in WeChat's desktop client: `mobile_only`; anywhere else: `needs_wechat`;
//! 7. a phone method (`wechat_h5`, `*_wap`) on a desktop: `mobile_only`; a desktop method
//!    (`wechat_native`, `alipay_page`, `alipay_qr`, `unionpay_pc`) on a phone or tablet: `desktop_only`.
//!
//! A method the merchant did not accept for the session is *absent* from the offer (neither allowed
//! nor blocked): the shopper has nothing to do about it. Only [`check_allowed`] names it, with
//! `not_enabled_for_session`.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::environment::{Detected, Device, Environment};
use crate::error::{Error, Result};

/// A way to pay, as edgepay names it on the wire (snake_case).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PaymentMethod {
    /// WeChat Pay JSAPI inside WeChat's in-app browser (needs the payer's openid)
    /// (<https://pay.weixin.qq.com/doc/v3/merchant/4012791897>).
    WechatJsapi,
    /// WeChat Pay H5 (MWEB) from a phone browser outside WeChat
    /// (<https://pay.weixin.qq.com/doc/v3/merchant/4012791832>).
    WechatH5,
    /// WeChat Pay Native: a QR code shown on a desktop and scanned with the phone
    /// (<https://pay.weixin.qq.com/doc/v3/merchant/4012791877>).
    WechatNative,
    /// A hand-off from a mini-program web-view to the merchant's mini-program, which pays itself.
    WechatMiniprogram,
    /// Alipay wap pay (`alipay.trade.wap.pay`) from a phone browser or the Alipay app
    /// (<https://opendocs.alipay.com/open/29ae8cb6_alipay.trade.wap.pay>).
    AlipayWap,
    /// Alipay page pay (`alipay.trade.page.pay`) on a desktop
    /// (<https://opendocs.alipay.com/open/59da99d0_alipay.trade.page.pay>).
    AlipayPage,
    /// Alipay precreate (`alipay.trade.precreate`): a QR code shown on a desktop
    /// (<https://opendocs.alipay.com/open/8ad49e4a_alipay.trade.precreate>).
    AlipayQr,
    /// UnionPay gateway payment for phones (ACP 5.1.0, `channelType=08`).
    UnionpayWap,
    /// UnionPay gateway payment for desktops (ACP 5.1.0, `channelType=07`).
    UnionpayPc,
}

impl PaymentMethod {
    /// Every method, grouped by provider.
    pub const ALL: [PaymentMethod; 9] = [
        PaymentMethod::WechatJsapi,
        PaymentMethod::WechatH5,
        PaymentMethod::WechatNative,
        PaymentMethod::WechatMiniprogram,
        PaymentMethod::AlipayWap,
        PaymentMethod::AlipayPage,
        PaymentMethod::AlipayQr,
        PaymentMethod::UnionpayWap,
        PaymentMethod::UnionpayPc,
    ];

    /// The wire name, e.g. `"wechat_jsapi"`.
    pub fn as_str(self) -> &'static str {
        match self {
            PaymentMethod::WechatJsapi => "wechat_jsapi",
            PaymentMethod::WechatH5 => "wechat_h5",
            PaymentMethod::WechatNative => "wechat_native",
            PaymentMethod::WechatMiniprogram => "wechat_miniprogram",
            PaymentMethod::AlipayWap => "alipay_wap",
            PaymentMethod::AlipayPage => "alipay_page",
            PaymentMethod::AlipayQr => "alipay_qr",
            PaymentMethod::UnionpayWap => "unionpay_wap",
            PaymentMethod::UnionpayPc => "unionpay_pc",
        }
    }

    /// The provider that takes the money.
    pub fn provider(self) -> Provider {
        match self {
            PaymentMethod::WechatJsapi
            | PaymentMethod::WechatH5
            | PaymentMethod::WechatNative
            | PaymentMethod::WechatMiniprogram => Provider::Wechatpay,
            PaymentMethod::AlipayWap | PaymentMethod::AlipayPage | PaymentMethod::AlipayQr => {
                Provider::Alipay
            }
            PaymentMethod::UnionpayWap | PaymentMethod::UnionpayPc => Provider::Unionpay,
        }
    }

    fn form(self) -> Form {
        match self {
            PaymentMethod::WechatJsapi => Form::WechatBridge,
            PaymentMethod::WechatMiniprogram => Form::Miniprogram,
            PaymentMethod::WechatH5 | PaymentMethod::AlipayWap | PaymentMethod::UnionpayWap => {
                Form::Phone
            }
            PaymentMethod::WechatNative
            | PaymentMethod::AlipayPage
            | PaymentMethod::AlipayQr
            | PaymentMethod::UnionpayPc => Form::Desktop,
        }
    }
}

/// Where a method's flow can run.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Form {
    /// WeChat's JS bridge (`WeixinJSBridge`), on a phone or tablet.
    WechatBridge,
    /// `wx.miniProgram.navigateTo` from a mini-program web-view.
    Miniprogram,
    /// A redirect to a provider page that opens the provider's app on the same phone.
    Phone,
    /// A QR code or cashier page meant for a desktop screen.
    Desktop,
}

impl fmt::Display for PaymentMethod {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The name given to [`PaymentMethod::from_str`] is not one of the wire names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UnknownMethod;

impl fmt::Display for UnknownMethod {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("unknown payment method name")
    }
}

impl std::error::Error for UnknownMethod {}

impl FromStr for PaymentMethod {
    type Err = UnknownMethod;

    /// Parses a wire name such as `"alipay_wap"`.
    ///
    /// # Errors
    /// [`UnknownMethod`] if `s` is not exactly one of the names of [`PaymentMethod::ALL`].
    fn from_str(s: &str) -> std::result::Result<Self, Self::Err> {
        PaymentMethod::ALL
            .into_iter()
            .find(|m| m.as_str() == s)
            .ok_or(UnknownMethod)
    }
}

/// A payment provider, as edgepay names it on the wire and in its notify URLs
/// (`/v1/notify/{provider}`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Provider {
    /// WeChat Pay (API v3).
    Wechatpay,
    /// Alipay (OpenAPI, RSA2).
    Alipay,
    /// UnionPay (ACP 5.1.0).
    Unionpay,
}

impl Provider {
    /// Every provider.
    pub const ALL: [Provider; 3] = [Provider::Wechatpay, Provider::Alipay, Provider::Unionpay];

    /// The wire name, e.g. `"wechatpay"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Provider::Wechatpay => "wechatpay",
            Provider::Alipay => "alipay",
            Provider::Unionpay => "unionpay",
        }
    }
}

impl fmt::Display for Provider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The name given to [`Provider::from_str`] is not one of the wire names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UnknownProvider;

impl fmt::Display for UnknownProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("unknown provider name")
    }
}

impl std::error::Error for UnknownProvider {}

impl FromStr for Provider {
    type Err = UnknownProvider;

    /// Parses a wire name such as `"unionpay"`.
    ///
    /// # Errors
    /// [`UnknownProvider`] if `s` is not exactly one of the names of [`Provider::ALL`].
    fn from_str(s: &str) -> std::result::Result<Self, Self::Err> {
        Provider::ALL
            .into_iter()
            .find(|p| p.as_str() == s)
            .ok_or(UnknownProvider)
    }
}

/// Why a method is not offered, as a stable snake_case code the widget turns into a sentence and
/// a next step.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BlockReason {
    /// An Alipay method inside WeChat, which blocks Alipay's pages. Next step: "open in browser"
    /// from WeChat's ⋯ menu.
    BlockedInWechat,
    /// WeChat H5 inside WeChat: WeChat refuses H5 payments started from its own browser; JSAPI is
    /// the way there.
    WechatH5RefusedInWechat,
    /// WeChat JSAPI outside WeChat. Next step: open the page in WeChat on a phone.
    NeedsWechat,
    /// A method inside the Alipay app that only works in WeChat. Next step: open the page in
    /// WeChat or a browser.
    NotInAlipay,
    /// A QR code or desktop cashier on a phone or tablet, where it cannot be scanned or used.
    DesktopOnly,
    /// A phone flow (or JSAPI) on a desktop. Next step: scan or open the page on a phone.
    MobileOnly,
    /// Inside a mini-program web-view, which cannot pay itself: only the hand-off to the
    /// merchant's mini-program (`wechat_miniprogram`) is offered.
    MiniprogramHandoffOnly,
    /// The mini-program hand-off outside a mini-program web-view.
    NeedsMiniprogram,
    /// The merchant did not accept this method for the session. Never in [`Offer::blocked`] (such
    /// methods are simply absent); only [`check_allowed`] reports it.
    NotEnabledForSession,
}

impl BlockReason {
    /// Every reason.
    pub const ALL: [BlockReason; 9] = [
        BlockReason::BlockedInWechat,
        BlockReason::WechatH5RefusedInWechat,
        BlockReason::NeedsWechat,
        BlockReason::NotInAlipay,
        BlockReason::DesktopOnly,
        BlockReason::MobileOnly,
        BlockReason::MiniprogramHandoffOnly,
        BlockReason::NeedsMiniprogram,
        BlockReason::NotEnabledForSession,
    ];

    /// The wire code, e.g. `"blocked_in_wechat"`.
    pub fn as_str(self) -> &'static str {
        match self {
            BlockReason::BlockedInWechat => "blocked_in_wechat",
            BlockReason::WechatH5RefusedInWechat => "wechat_h5_refused_in_wechat",
            BlockReason::NeedsWechat => "needs_wechat",
            BlockReason::NotInAlipay => "not_in_alipay",
            BlockReason::DesktopOnly => "desktop_only",
            BlockReason::MobileOnly => "mobile_only",
            BlockReason::MiniprogramHandoffOnly => "miniprogram_handoff_only",
            BlockReason::NeedsMiniprogram => "needs_miniprogram",
            BlockReason::NotEnabledForSession => "not_enabled_for_session",
        }
    }
}

impl fmt::Display for BlockReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A method the session accepts but the environment cannot run, and why.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Blocked {
    /// The method.
    pub method: PaymentMethod,
    /// Why it is not offered.
    pub reason: BlockReason,
}

/// What the shopper is offered where they are.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Offer {
    /// The methods that work here, the likeliest first (WeChat first inside WeChat, Alipay first
    /// inside Alipay). Empty when nothing the session accepts works here.
    pub allowed: Vec<PaymentMethod>,
    /// The session's other methods, in [`PaymentMethod::ALL`] order, each with its reason.
    pub blocked: Vec<Blocked>,
}

/// What can be offered where the shopper is.
///
/// `session_methods` is the merchant's list for the session (`None`: every method); its order and
/// any repeats do not matter, an empty list offers nothing. WeCom is treated as a browser of its
/// device. See the module documentation for the matrix and the reasons.
pub fn offer(detected: &Detected, session_methods: Option<&[PaymentMethod]>) -> Offer {
    let environment = effective_environment(detected);
    let accepted = |m: &PaymentMethod| session_methods.is_none_or(|list| list.contains(m));
    let allowed = allowed_in(environment)
        .iter()
        .copied()
        .filter(accepted)
        .collect();
    let blocked = PaymentMethod::ALL
        .into_iter()
        .filter(accepted)
        .filter_map(|method| {
            block_reason(environment, method).map(|reason| Blocked { method, reason })
        })
        .collect();
    Offer { allowed, blocked }
}

/// Refuses a `pay` for a method the session or the environment does not allow (the worker's check).
///
/// # Errors
/// [`Error::MethodNotAllowed`] with `"not_enabled_for_session"` when the session does not accept
/// `method` (checked first), otherwise with the [`BlockReason`] code of [`offer`].
pub fn check_allowed(
    method: PaymentMethod,
    detected: &Detected,
    session_methods: Option<&[PaymentMethod]>,
) -> Result<()> {
    if session_methods.is_some_and(|list| !list.contains(&method)) {
        return Err(Error::MethodNotAllowed {
            reason: BlockReason::NotEnabledForSession.as_str(),
        });
    }
    match block_reason(effective_environment(detected), method) {
        None => Ok(()),
        Some(reason) => Err(Error::MethodNotAllowed {
            reason: reason.as_str(),
        }),
    }
}

/// The environment whose row of the matrix applies: WeCom counts as a browser of its device.
fn effective_environment(detected: &Detected) -> Environment {
    match (detected.environment, detected.device) {
        (Environment::Wecom, Device::Desktop) => Environment::DesktopBrowser,
        (Environment::Wecom, Device::Phone | Device::Tablet) => Environment::MobileBrowser,
        (environment, _) => environment,
    }
}

/// The methods that work in `environment`, the likeliest first.
fn allowed_in(environment: Environment) -> &'static [PaymentMethod] {
    use PaymentMethod::*;
    match environment {
        Environment::WechatInapp => &[WechatJsapi, UnionpayWap],
        Environment::WechatMiniprogram => &[WechatMiniprogram],
        Environment::WechatDesktop => &[WechatNative, AlipayQr, UnionpayPc],
        Environment::AlipayInapp => &[AlipayWap, UnionpayWap],
        Environment::MobileBrowser | Environment::Wecom => &[WechatH5, AlipayWap, UnionpayWap],
        Environment::DesktopBrowser => &[WechatNative, AlipayPage, AlipayQr, UnionpayPc],
    }
}

/// `None` when `method` works in `environment`, otherwise the first rule of the module
/// documentation that applies.
fn block_reason(environment: Environment, method: PaymentMethod) -> Option<BlockReason> {
    if allowed_in(environment).contains(&method) {
        return None;
    }
    let in_wechat = matches!(
        environment,
        Environment::WechatInapp | Environment::WechatDesktop
    );
    let desktop = matches!(
        environment,
        Environment::WechatDesktop | Environment::DesktopBrowser
    );
    Some(match (environment, method.form()) {
        (Environment::WechatMiniprogram, _) => BlockReason::MiniprogramHandoffOnly,
        (_, Form::Miniprogram) => BlockReason::NeedsMiniprogram,
        _ if in_wechat && method.provider() == Provider::Alipay => BlockReason::BlockedInWechat,
        _ if in_wechat && method == PaymentMethod::WechatH5 => BlockReason::WechatH5RefusedInWechat,
        (Environment::AlipayInapp, _) if method.provider() == Provider::Wechatpay => {
            BlockReason::NotInAlipay
        }
        (Environment::WechatDesktop, Form::WechatBridge) => BlockReason::MobileOnly,
        (_, Form::WechatBridge) => BlockReason::NeedsWechat,
        _ if desktop => BlockReason::MobileOnly,
        _ => BlockReason::DesktopOnly,
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;
    use super::PaymentMethod::*;
    use super::*;
    use crate::environment::{detect, ClientHints, Os};

    fn at(environment: Environment, device: Device) -> Detected {
        Detected {
            environment,
            device,
            os: Os::Unknown,
        }
    }

    fn reason_of(offer: &Offer, method: PaymentMethod) -> Option<BlockReason> {
        offer
            .blocked
            .iter()
            .find(|b| b.method == method)
            .map(|b| b.reason)
    }

    /// The whole matrix, one row per environment, one column per method in `PaymentMethod::ALL`
    /// order: a number is the method's rank among the allowed ones, otherwise the reason.
    #[test]
    fn the_whole_matrix() {
        use BlockReason::*;
        #[derive(Clone, Copy)]
        enum Cell {
            Rank(usize),
            No(BlockReason),
        }
        use Cell::{No, Rank};
        #[rustfmt::skip]
        let rows: [(Environment, Device, [Cell; 9]); 8] = [
            //                       jsapi       h5                          native           mini                      wap                    page                   qr                     up_wap               up_pc
            (Environment::WechatInapp, Device::Phone, [Rank(0), No(WechatH5RefusedInWechat), No(DesktopOnly), No(NeedsMiniprogram), No(BlockedInWechat), No(BlockedInWechat), No(BlockedInWechat), Rank(1), No(DesktopOnly)]),
            (Environment::WechatMiniprogram, Device::Phone, [No(MiniprogramHandoffOnly), No(MiniprogramHandoffOnly), No(MiniprogramHandoffOnly), Rank(0), No(MiniprogramHandoffOnly), No(MiniprogramHandoffOnly), No(MiniprogramHandoffOnly), No(MiniprogramHandoffOnly), No(MiniprogramHandoffOnly)]),
            (Environment::WechatDesktop, Device::Desktop, [No(MobileOnly), No(WechatH5RefusedInWechat), Rank(0), No(NeedsMiniprogram), No(BlockedInWechat), No(BlockedInWechat), Rank(1), No(MobileOnly), Rank(2)]),
            (Environment::Wecom, Device::Phone, [No(NeedsWechat), Rank(0), No(DesktopOnly), No(NeedsMiniprogram), Rank(1), No(DesktopOnly), No(DesktopOnly), Rank(2), No(DesktopOnly)]),
            (Environment::Wecom, Device::Desktop, [No(NeedsWechat), No(MobileOnly), Rank(0), No(NeedsMiniprogram), No(MobileOnly), Rank(1), Rank(2), No(MobileOnly), Rank(3)]),
            (Environment::AlipayInapp, Device::Phone, [No(NotInAlipay), No(NotInAlipay), No(NotInAlipay), No(NeedsMiniprogram), Rank(0), No(DesktopOnly), No(DesktopOnly), Rank(1), No(DesktopOnly)]),
            (Environment::MobileBrowser, Device::Tablet, [No(NeedsWechat), Rank(0), No(DesktopOnly), No(NeedsMiniprogram), Rank(1), No(DesktopOnly), No(DesktopOnly), Rank(2), No(DesktopOnly)]),
            (Environment::DesktopBrowser, Device::Desktop, [No(NeedsWechat), No(MobileOnly), Rank(0), No(NeedsMiniprogram), No(MobileOnly), Rank(1), Rank(2), No(MobileOnly), Rank(3)]),
        ];
        for (environment, device, cells) in rows {
            let detected = at(environment, device);
            let got = offer(&detected, None);
            let mut ranked: Vec<(usize, PaymentMethod)> = Vec::new();
            for (method, cell) in PaymentMethod::ALL.into_iter().zip(cells) {
                match cell {
                    Rank(rank) => {
                        ranked.push((rank, method));
                        assert_eq!(reason_of(&got, method), None, "{environment} {method}");
                        assert_eq!(
                            check_allowed(method, &detected, None),
                            Ok(()),
                            "{environment} {method}"
                        );
                    }
                    No(reason) => {
                        assert_eq!(
                            reason_of(&got, method),
                            Some(reason),
                            "{environment} {method}"
                        );
                        assert_eq!(
                            check_allowed(method, &detected, None),
                            Err(Error::MethodNotAllowed {
                                reason: reason.as_str()
                            }),
                            "{environment} {method}"
                        );
                    }
                }
            }
            ranked.sort_unstable();
            let expected: Vec<PaymentMethod> = ranked.into_iter().map(|(_, m)| m).collect();
            assert_eq!(got.allowed, expected, "{environment}");
            assert_eq!(
                got.allowed.len() + got.blocked.len(),
                PaymentMethod::ALL.len(),
                "{environment}"
            );
        }
    }

    #[test]
    fn device_matters_only_for_wecom() {
        for environment in Environment::ALL
            .into_iter()
            .filter(|e| *e != Environment::Wecom)
        {
            let phone = offer(&at(environment, Device::Phone), None);
            for device in [Device::Tablet, Device::Desktop] {
                assert_eq!(
                    offer(&at(environment, device), None),
                    phone,
                    "{environment}"
                );
            }
        }
        assert_eq!(
            offer(&at(Environment::Wecom, Device::Tablet), None),
            offer(&at(Environment::MobileBrowser, Device::Tablet), None)
        );
        assert_eq!(
            offer(&at(Environment::Wecom, Device::Desktop), None),
            offer(&at(Environment::DesktopBrowser, Device::Desktop), None)
        );
    }

    #[test]
    fn session_narrows_and_does_not_reorder() {
        let wechat = at(Environment::WechatInapp, Device::Phone);
        let got = offer(
            &wechat,
            Some(&[AlipayWap, UnionpayWap, WechatJsapi, UnionpayWap]),
        );
        assert_eq!(got.allowed, [WechatJsapi, UnionpayWap]);
        assert_eq!(
            got.blocked,
            [Blocked {
                method: AlipayWap,
                reason: BlockReason::BlockedInWechat
            }]
        );

        let alipay = at(Environment::AlipayInapp, Device::Phone);
        let got = offer(&alipay, Some(&[UnionpayWap, WechatH5, AlipayWap]));
        assert_eq!(got.allowed, [AlipayWap, UnionpayWap]);
        assert_eq!(
            got.blocked,
            [Blocked {
                method: WechatH5,
                reason: BlockReason::NotInAlipay
            }]
        );

        // Methods the session does not accept are absent, not blocked.
        let got = offer(&wechat, Some(&[WechatJsapi]));
        assert_eq!(
            got,
            Offer {
                allowed: vec![WechatJsapi],
                blocked: vec![]
            }
        );
        // Nothing accepted works here: empty `allowed`, the guidance is in `blocked`.
        let got = offer(&wechat, Some(&[AlipayWap]));
        assert!(got.allowed.is_empty());
        assert_eq!(
            reason_of(&got, AlipayWap),
            Some(BlockReason::BlockedInWechat)
        );
        assert_eq!(
            offer(&wechat, Some(&[])),
            Offer {
                allowed: vec![],
                blocked: vec![]
            }
        );
    }

    #[test]
    fn check_allowed_refuses_what_the_session_does_not_accept_first() {
        let wechat = at(Environment::WechatInapp, Device::Phone);
        let not_enabled = Err(Error::MethodNotAllowed {
            reason: "not_enabled_for_session",
        });
        assert_eq!(
            check_allowed(WechatJsapi, &wechat, Some(&[UnionpayWap])),
            not_enabled
        );
        assert_eq!(
            check_allowed(AlipayWap, &wechat, Some(&[UnionpayWap])),
            not_enabled
        );
        assert_eq!(
            check_allowed(UnionpayWap, &wechat, Some(&[UnionpayWap])),
            Ok(())
        );
        assert_eq!(
            check_allowed(AlipayWap, &wechat, Some(&[AlipayWap])),
            Err(Error::MethodNotAllowed {
                reason: "blocked_in_wechat"
            })
        );
        assert_eq!(
            Error::MethodNotAllowed {
                reason: "mobile_only"
            }
            .code(),
            "method_not_allowed"
        );
    }

    #[test]
    fn offer_and_check_allowed_agree_everywhere() {
        let sessions: [Option<&[PaymentMethod]>; 4] = [
            None,
            Some(&[]),
            Some(&[WechatJsapi, AlipayWap, UnionpayPc]),
            Some(&[WechatMiniprogram, WechatNative]),
        ];
        for environment in Environment::ALL {
            for device in [Device::Phone, Device::Tablet, Device::Desktop] {
                let detected = at(environment, device);
                for session in sessions {
                    let got = offer(&detected, session);
                    for method in PaymentMethod::ALL {
                        let ok = check_allowed(method, &detected, session).is_ok();
                        assert_eq!(ok, got.allowed.contains(&method), "{environment} {method}");
                        assert!(!(ok && reason_of(&got, method).is_some()));
                        assert!(got
                            .blocked
                            .iter()
                            .all(|b| b.reason != BlockReason::NotEnabledForSession));
                    }
                }
            }
        }
    }

    #[test]
    fn wire_names() {
        for method in PaymentMethod::ALL {
            assert_eq!(
                serde_json::to_string(&method).unwrap(),
                format!("\"{method}\"")
            );
            assert_eq!(method.as_str().parse::<PaymentMethod>(), Ok(method));
        }
        assert_eq!("WECHAT_JSAPI".parse::<PaymentMethod>(), Err(UnknownMethod));
        assert_eq!("wechat_jsapi ".parse::<PaymentMethod>(), Err(UnknownMethod));
        assert!(serde_json::from_str::<PaymentMethod>("\"wechat_app\"").is_err());
        for provider in Provider::ALL {
            assert_eq!(
                serde_json::to_string(&provider).unwrap(),
                format!("\"{provider}\"")
            );
            assert_eq!(provider.as_str().parse::<Provider>(), Ok(provider));
        }
        assert_eq!("WeChatPay".parse::<Provider>(), Err(UnknownProvider));
        for reason in BlockReason::ALL {
            assert_eq!(
                serde_json::to_string(&reason).unwrap(),
                format!("\"{reason}\"")
            );
        }
        let offer = offer(
            &at(Environment::WechatInapp, Device::Phone),
            Some(&[WechatJsapi, AlipayWap]),
        );
        assert_eq!(
            serde_json::to_string(&offer).unwrap(),
            r#"{"allowed":["wechat_jsapi"],"blocked":[{"method":"alipay_wap","reason":"blocked_in_wechat"}]}"#
        );
    }

    #[test]
    fn providers() {
        let providers: Vec<&str> = PaymentMethod::ALL
            .iter()
            .map(|m| m.provider().as_str())
            .collect();
        assert_eq!(
            providers,
            [
                "wechatpay",
                "wechatpay",
                "wechatpay",
                "wechatpay",
                "alipay",
                "alipay",
                "alipay",
                "unionpay",
                "unionpay"
            ]
        );
    }

    #[derive(serde::Deserialize)]
    struct UaFile {
        cases: Vec<UaCase>,
    }

    #[derive(serde::Deserialize)]
    struct UaCase {
        ua: String,
        label: Environment,
        device: Device,
    }

    /// Every labelled User-Agent of `../shared/ua/visible.json`, through `detect` and `offer`.
    #[test]
    fn every_visible_user_agent_gets_its_environments_offer() {
        let text = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/ua/visible.json"));
        let file: UaFile = serde_json::from_str(text).unwrap();
        assert!(file.cases.len() >= 30);
        let mut seen = std::collections::HashSet::new();
        for case in &file.cases {
            let detected = detect(&case.ua, &ClientHints::default());
            let got = offer(&detected, None);
            let ua = &case.ua;
            seen.insert(case.label);
            // The matrix applies to the case's label (what the UA shows), whatever detect says.
            assert_eq!(got, offer(&at(case.label, case.device), None), "{ua}");
            let blocked = |m| reason_of(&got, m);
            match (case.label, case.device) {
                (Environment::WechatInapp, _) => {
                    assert_eq!(got.allowed, [WechatJsapi, UnionpayWap], "{ua}");
                    for m in [AlipayWap, AlipayPage, AlipayQr] {
                        assert_eq!(blocked(m), Some(BlockReason::BlockedInWechat), "{ua}");
                    }
                    assert_eq!(
                        blocked(WechatH5),
                        Some(BlockReason::WechatH5RefusedInWechat),
                        "{ua}"
                    );
                }
                (Environment::WechatMiniprogram, _) => {
                    assert_eq!(got.allowed, [WechatMiniprogram], "{ua}");
                    assert!(
                        got.blocked
                            .iter()
                            .all(|b| b.reason == BlockReason::MiniprogramHandoffOnly),
                        "{ua}"
                    );
                }
                (Environment::WechatDesktop, _) => {
                    assert_eq!(got.allowed, [WechatNative, AlipayQr, UnionpayPc], "{ua}");
                    assert_eq!(blocked(WechatJsapi), Some(BlockReason::MobileOnly), "{ua}");
                }
                (Environment::AlipayInapp, _) => {
                    assert_eq!(got.allowed, [AlipayWap, UnionpayWap], "{ua}");
                    for m in [WechatJsapi, WechatH5, WechatNative] {
                        assert_eq!(blocked(m), Some(BlockReason::NotInAlipay), "{ua}");
                    }
                }
                (Environment::MobileBrowser, _)
                | (Environment::Wecom, Device::Phone | Device::Tablet) => {
                    assert_eq!(got.allowed, [WechatH5, AlipayWap, UnionpayWap], "{ua}");
                    assert_eq!(blocked(WechatJsapi), Some(BlockReason::NeedsWechat), "{ua}");
                    assert_eq!(
                        blocked(WechatNative),
                        Some(BlockReason::DesktopOnly),
                        "{ua}"
                    );
                }
                (Environment::DesktopBrowser, _) | (Environment::Wecom, Device::Desktop) => {
                    assert_eq!(
                        got.allowed,
                        [WechatNative, AlipayPage, AlipayQr, UnionpayPc],
                        "{ua}"
                    );
                    assert_eq!(blocked(WechatH5), Some(BlockReason::MobileOnly), "{ua}");
                    assert_eq!(blocked(WechatJsapi), Some(BlockReason::NeedsWechat), "{ua}");
                }
            }
        }
        assert_eq!(
            seen.len(),
            Environment::ALL.len(),
            "every environment is covered"
        );
    }
}
