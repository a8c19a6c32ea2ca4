//! Every sentence the widget shows, in zh-CN and en. Components never hard-code a string.
//!
//! Each entry is a `(zh-CN, en)` pair picked by [`Locale::pick`]; numbers and amounts are written
//! by hand (no `format!`), which keeps the formatting machinery out of the shipped wasm.

use payment_core::method::{BlockReason, PaymentMethod, Provider};

use crate::api::ApiError;

/// The widget's language.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Locale {
    /// Simplified Chinese.
    ZhCn,
    /// English.
    En,
}

/// A sentence the widget can show.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Text {
    Title,
    Total,
    Loading,
    ChooseMethod,
    NoMethods,
    NotAvailableHere,
    OpenInBrowser,
    GuideTitle,
    GuideMenu,
    GuideOpen,
    GuideThenPay,
    GuideOrCopy,
    Link,
    CopyLink,
    Copied,
    CopyByHand,
    Close,
    Processing,
    Cancel,
    Retry,
    OtherMethod,
    Expired,
    Closed,
    Paid,
    Offline,
    SecuredBy,
    QrCode,
    QrExpiresIn,
    QrExpired,
    NewCode,
    Leaving,
    Checking,
    CheckingHelp,
    IHavePaid,
    PayAgain,
    Bridge,
    Handoff,
}

impl Locale {
    /// Parses a BCP 47 tag: anything Chinese is zh-CN, everything else English.
    pub(crate) fn parse(tag: &str) -> Self {
        if tag.get(..2).is_some_and(|p| p.eq_ignore_ascii_case("zh")) {
            Self::ZhCn
        } else {
            Self::En
        }
    }

    /// The browser's preferred language (zh-CN when the browser does not say).
    pub(crate) fn from_browser() -> Self {
        web_sys::window().and_then(|w| w.navigator().language()).map_or(Self::ZhCn, |tag| Self::parse(&tag))
    }

    /// The `lang` attribute value.
    pub(crate) fn tag(self) -> &'static str {
        self.pick("zh-CN", "en")
    }

    /// The other language (method names are shown in both).
    pub(crate) fn other(self) -> Self {
        match self {
            Self::ZhCn => Self::En,
            Self::En => Self::ZhCn,
        }
    }

    fn pick(self, zh: &'static str, en: &'static str) -> &'static str {
        match self {
            Self::ZhCn => zh,
            Self::En => en,
        }
    }

    /// The sentence `text` in this language.
    pub(crate) fn t(self, text: Text) -> &'static str {
        use Text::*;
        let (zh, en) = match text {
            Title => ("安全支付", "Secure checkout"),
            Total => ("应付金额", "Total"),
            Loading => ("正在加载支付方式…", "Loading payment methods…"),
            ChooseMethod => ("选择支付方式", "Choose how to pay"),
            NoMethods => ("当前环境没有可用的支付方式，请换一个浏览器或设备打开本页。", "No payment method works here. Open this page in another browser or on another device."),
            NotAvailableHere => ("当前环境不可用的支付方式", "Not available here"),
            OpenInBrowser => ("在浏览器中打开", "Open in browser"),
            GuideTitle => ("请在浏览器中打开本页", "Open this page in your browser"),
            GuideMenu => ("点击右上角的 ⋯", "Tap ⋯ at the top right"),
            GuideOpen => ("选择「在浏览器打开」", "Choose “Open in Browser”"),
            GuideThenPay => ("在浏览器中选择支付宝付款", "Pay with Alipay there"),
            GuideOrCopy => ("或者复制链接，粘贴到浏览器中打开：", "Or copy the link and paste it into your browser:"),
            Link => ("本页链接", "Link to this page"),
            CopyLink => ("复制链接", "Copy link"),
            Copied => ("链接已复制，请粘贴到浏览器中打开。", "Link copied. Paste it into your browser."),
            CopyByHand => ("无法自动复制，请长按链接手动复制。", "Couldn't copy automatically. Press and hold the link to copy it."),
            Close => ("关闭", "Close"),
            Processing => ("正在发起支付…", "Starting the payment…"),
            Cancel => ("取消", "Cancel"),
            Retry => ("重试", "Try again"),
            OtherMethod => ("选择其他支付方式", "Choose another method"),
            Expired => ("支付已超时，请返回商店重新下单。", "This checkout has expired. Go back to the shop to start again."),
            Closed => ("此订单已关闭，请返回商店重新下单。", "This checkout is closed. Go back to the shop to start again."),
            Paid => ("支付成功", "Payment complete"),
            Offline => ("网络已断开。恢复连接后将自动继续。", "You're offline. The checkout continues when you're back online."),
            SecuredBy => ("edgepay 安全支付", "Secured by edgepay"),
            QrCode => ("支付二维码", "Payment QR code"),
            QrExpiresIn => ("二维码有效时间", "Code expires in"),
            QrExpired => ("二维码已过期，请刷新后重新扫码。", "This QR code has expired. Get a new one to scan."),
            NewCode => ("刷新二维码", "Get a new code"),
            Leaving => ("正在前往支付页面…", "Taking you to the payment page…"),
            Checking => ("正在确认支付结果…", "Checking your payment…"),
            CheckingHelp => ("如已完成支付，请点击「我已支付」；未完成可重新支付。", "If you have paid, choose “I have paid”; if not, pay again."),
            IHavePaid => ("我已支付", "I have paid"),
            PayAgain => ("重新支付", "Pay again"),
            Bridge => ("请在微信支付窗口中完成支付。", "Finish paying in the WeChat Pay window."),
            Handoff => ("请在小程序中完成支付，完成后本页会自动更新。", "Finish paying in the mini-program. This page updates when you have paid."),
        };
        self.pick(zh, en)
    }

    /// A method's name as shoppers know it.
    pub(crate) fn method_name(self, method: PaymentMethod) -> &'static str {
        use PaymentMethod::*;
        let (zh, en) = match method {
            WechatJsapi | WechatH5 => ("微信支付", "WeChat Pay"),
            WechatNative => ("微信扫码支付", "WeChat Pay QR code"),
            WechatMiniprogram => ("小程序支付", "Pay in the mini-program"),
            AlipayWap => ("支付宝", "Alipay"),
            AlipayPage => ("支付宝网页支付", "Alipay web checkout"),
            AlipayQr => ("支付宝扫码支付", "Alipay QR code"),
            UnionpayWap => ("银联支付", "UnionPay"),
            UnionpayPc => ("银联网银支付", "UnionPay online banking"),
        };
        self.pick(zh, en)
    }

    /// One line under a method's name: what the shopper will do.
    pub(crate) fn method_hint(self, method: PaymentMethod) -> &'static str {
        use PaymentMethod::*;
        let (zh, en) = match method {
            WechatJsapi => ("在微信内直接支付", "Pay right here in WeChat"),
            WechatH5 => ("跳转到微信完成支付", "Switch to WeChat to pay"),
            WechatNative => ("用手机微信扫码", "Scan with WeChat on your phone"),
            WechatMiniprogram => ("在小程序中完成支付", "Finish in the mini-program"),
            AlipayWap => ("跳转到支付宝完成支付", "Switch to Alipay to pay"),
            AlipayPage => ("登录支付宝账户付款", "Sign in to Alipay to pay"),
            AlipayQr => ("用手机支付宝扫码", "Scan with Alipay on your phone"),
            UnionpayWap | UnionpayPc => ("使用银行卡付款", "Pay with a bank card"),
        };
        self.pick(zh, en)
    }

    /// A provider's name (for a provider none of whose methods works here).
    pub(crate) fn provider_name(self, provider: Provider) -> &'static str {
        let (zh, en) = match provider {
            Provider::Wechatpay => ("微信支付", "WeChat Pay"),
            Provider::Alipay => ("支付宝", "Alipay"),
            Provider::Unionpay => ("银联", "UnionPay"),
        };
        self.pick(zh, en)
    }

    /// Why a method does not work here, and what to do instead.
    pub(crate) fn block_reason(self, reason: BlockReason) -> &'static str {
        use BlockReason::*;
        let (zh, en) = match reason {
            BlockedInWechat => ("微信内无法使用支付宝，请在浏览器中打开本页。", "Alipay doesn't open inside WeChat. Open this page in your browser."),
            WechatH5RefusedInWechat => ("在微信内请使用微信支付。", "Inside WeChat, pay with WeChat Pay."),
            NeedsWechat => ("请在手机微信中打开本页。", "Open this page in WeChat on your phone."),
            NotInAlipay => ("支付宝内无法使用，请在微信或浏览器中打开本页。", "Doesn't work inside Alipay. Open this page in WeChat or a browser."),
            DesktopOnly => ("请在电脑上打开本页。", "Open this page on a computer."),
            MobileOnly => ("请在手机上打开本页。", "Open this page on your phone."),
            MiniprogramHandoffOnly => ("请在小程序中完成支付。", "Pay in the mini-program."),
            NeedsMiniprogram => ("仅在微信小程序中可用。", "Only inside a WeChat mini-program."),
            _ => ("此订单不支持该支付方式。", "Not accepted for this order."),
        };
        self.pick(zh, en)
    }

    /// A worker error (or no answer at all) as a sentence that says what to do next.
    pub(crate) fn error(self, error: &ApiError) -> &'static str {
        let code = match error {
            ApiError::Unreachable => "unreachable",
            ApiError::BadAnswer => "bad_answer",
            ApiError::Worker { code, .. } => code,
        };
        let retryable = matches!(error, ApiError::Worker { retryable: true, .. });
        let (zh, en) = match code {
            "unreachable" => ("无法连接支付服务，请检查网络后重试。", "Can't reach the payment service. Check your connection and try again."),
            "unauthorized" | "session_not_found" => ("支付链接无效或已失效，请返回商店重新下单。", "This checkout link isn't valid. Go back to the shop and start again."),
            "not_configured" => ("商家尚未完成支付设置，请稍后再试。", "The shop hasn't finished setting up payments. Try again later."),
            "origin_not_allowed" => ("此网站未获准使用该支付服务。", "This website isn't allowed to use this checkout."),
            "not_found" => ("暂时无法发起这笔支付，请重试或选择其他支付方式。", "This payment can't be started right now. Try again or choose another method."),
            "method_not_allowed" | "not_enabled_for_session" => ("当前环境不能使用该支付方式，请选择其他支付方式。", "This method can't be used here. Choose another method."),
            "session_expired" | "expired" => return self.t(Text::Expired),
            "session_not_payable" => ("这笔订单现在无法支付，请刷新页面查看订单状态。", "This checkout can't take a payment right now. Reload the page to see where it stands."),
            "provider_not_configured" => ("该支付方式暂不可用，请选择其他支付方式。", "This payment method isn't available right now. Choose another method."),
            "provider_refused" => ("支付机构拒绝了这笔支付，请选择其他支付方式。", "The payment provider refused this payment. Choose another method."),
            "provider_unavailable" => ("支付机构暂时没有响应，请重试或选择其他支付方式。", "The payment provider isn't answering right now. Try again or choose another method."),
            "payment_failed" => ("这笔支付没有成功，没有扣款。请重试或选择其他支付方式。", "The payment didn't go through and nothing was charged. Try again or choose another method."),
            "wechat_pay_failed" => ("微信支付未能完成，请重试或选择其他支付方式。", "WeChat Pay couldn't complete the payment. Try again or choose another method."),
            "wechat_sign_in_failed" => ("微信登录未完成，无法使用微信支付，请重试或选择其他支付方式。", "WeChat sign-in didn't finish, so WeChat Pay can't start. Try again or choose another method."),
            "no_wechat_bridge" => ("无法打开微信支付，请在微信中打开本页后重试。", "WeChat Pay couldn't open. Open this page in WeChat and try again."),
            "no_miniprogram_sdk" => ("无法跳转到小程序支付，请返回小程序后重试。", "Couldn't switch to the mini-program to pay. Go back to the mini-program and try again."),
            "cannot_leave" => ("无法打开支付页面，请重试或选择其他支付方式。", "The payment page couldn't open. Try again or choose another method."),
            _ if retryable => ("支付服务出了点问题，请重试。", "Something went wrong on our side. Try again."),
            "bad_answer" => ("支付服务暂时不可用，请稍后重试。", "The payment service is unavailable right now. Try again shortly."),
            _ => ("这笔支付无法完成，请选择其他支付方式。", "This payment couldn't be completed. Choose another method."),
        };
        self.pick(zh, en)
    }

    /// A count in words for "Not available here (3)".
    pub(crate) fn counted(self, text: Text, count: usize) -> String {
        let mut out = String::from(self.t(text));
        out.push_str(" (");
        push_uint(&mut out, count as u64);
        out.push(')');
        out
    }
}

/// `¥1,234.56`: yuan with thousands separators and exactly two decimals, as shoppers in China
/// read prices in either language.
pub(crate) fn format_amount(fen: u64) -> String {
    let mut digits = String::new();
    push_uint(&mut digits, fen / 100);
    let mut out = String::from("¥");
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out.push('.');
    let cents = fen % 100;
    out.push(char::from(b'0' + (cents / 10) as u8));
    out.push(char::from(b'0' + (cents % 10) as u8));
    out
}

/// Appends `n` in decimal.
pub(crate) fn push_uint(out: &mut String, mut n: u64) {
    let mut buf = [0_u8; 20];
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    for &b in &buf[i..] {
        out.push(char::from(b));
    }
}

/// `parts` one after the other: `[&str]::concat` without its generic copying code (1 KB of wasm).
pub(crate) fn cat(parts: &[&str]) -> String {
    let mut out = String::new();
    for part in parts {
        out.push_str(part);
    }
    out
}
