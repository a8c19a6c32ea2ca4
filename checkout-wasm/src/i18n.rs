//! Every sentence the widget shows, in zh-CN and en. Components never hard-code a string.

/// The widget's language.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Locale {
    /// Simplified Chinese.
    ZhCn,
    /// English.
    En,
}

/// A sentence the widget can show.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Text {
    Title,
    Loading,
    Environment,
    Device,
    Worker,
    Configured,
    NotConfigured,
    Unreachable,
    BadAnswer,
    Retry,
}

impl Locale {
    /// Parses a BCP 47 tag: anything Chinese is zh-CN, everything else English.
    pub(crate) fn parse(tag: &str) -> Self {
        if tag.to_ascii_lowercase().starts_with("zh") {
            Self::ZhCn
        } else {
            Self::En
        }
    }

    /// The browser's preferred language.
    pub(crate) fn from_browser() -> Self {
        web_sys::window().and_then(|w| w.navigator().language()).map_or(Self::ZhCn, |tag| Self::parse(&tag))
    }

    /// The `lang` attribute value.
    pub(crate) fn tag(self) -> &'static str {
        match self {
            Self::ZhCn => "zh-CN",
            Self::En => "en",
        }
    }

    /// A provider's name as shoppers know it.
    pub(crate) fn provider_name(self, id: &str) -> &'static str {
        match (self, id) {
            (Self::ZhCn, "wechatpay") => "微信支付",
            (Self::En, "wechatpay") => "WeChat Pay",
            (Self::ZhCn, "alipay") => "支付宝",
            (Self::En, "alipay") => "Alipay",
            (Self::ZhCn, "unionpay") => "银联",
            (Self::En, "unionpay") => "UnionPay",
            (Self::ZhCn, _) => "其他支付方式",
            (Self::En, _) => "Other",
        }
    }

    /// The sentence `text` in this language.
    pub(crate) fn t(self, text: Text) -> &'static str {
        use Text::*;
        match (self, text) {
            (Self::ZhCn, Title) => "安全支付",
            (Self::En, Title) => "Secure checkout",
            (Self::ZhCn, Loading) => "正在连接支付服务…",
            (Self::En, Loading) => "Connecting to the payment service…",
            (Self::ZhCn, Environment) => "支付环境",
            (Self::En, Environment) => "Environment",
            (Self::ZhCn, Device) => "设备",
            (Self::En, Device) => "Device",
            (Self::ZhCn, Worker) => "支付服务",
            (Self::En, Worker) => "Payment service",
            (Self::ZhCn, Configured) => "已配置",
            (Self::En, Configured) => "configured",
            (Self::ZhCn, NotConfigured) => "未配置",
            (Self::En, NotConfigured) => "not configured",
            (Self::ZhCn, Unreachable) => "无法连接支付服务，请检查网络后重试。",
            (Self::En, Unreachable) => "Can't reach the payment service. Check your connection and try again.",
            (Self::ZhCn, BadAnswer) => "支付服务暂时不可用，请稍后重试。",
            (Self::En, BadAnswer) => "The payment service is unavailable right now. Try again shortly.",
            (Self::ZhCn, Retry) => "重试",
            (Self::En, Retry) => "Try again",
        }
    }
}
