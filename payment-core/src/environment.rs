//! Where the shopper is paying from, told from the User-Agent and a few facts only the browser knows.
//!
//! The environment decides which payment methods can work (see DESIGN.md, "Environments and
//! methods"): JSAPI only inside WeChat on a phone, Alipay wap only outside WeChat, QR codes on a desktop.
//! The rules are checked in this order: WeCom, WeChat mini-program, WeChat desktop, WeChat in-app,
//! Alipay in-app, mobile browser, desktop browser. Tokens are matched case-sensitively, except
//! `miniProgram`, which apps spell in several ways.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// Where the shopper is, as edgepay names it on the wire (snake_case).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Environment {
    /// WeChat's in-app browser on a phone or tablet (`MicroMessenger/`): WeChat JSAPI works here.
    WechatInapp,
    /// A `<web-view>` page inside a WeChat mini-program: it cannot pay itself, it hands off.
    WechatMiniprogram,
    /// WeChat for Windows or Mac (`WindowsWechat`/`MacWechat`): no JSAPI, QR codes instead.
    WechatDesktop,
    /// WeCom (`wxwork/`), treated as a browser of its device: JSAPI is unreliable there.
    Wecom,
    /// The Alipay app's browser (`AlipayClient/`, `AliApp(AP`): Alipay wap pay, no WeChat methods.
    AlipayInapp,
    /// Any other browser or in-app browser on a phone or tablet.
    MobileBrowser,
    /// Any other browser on a desktop or laptop.
    DesktopBrowser,
}

impl Environment {
    /// Every environment, in the order the detection rules check them.
    pub const ALL: [Environment; 7] = [
        Environment::Wecom,
        Environment::WechatMiniprogram,
        Environment::WechatDesktop,
        Environment::WechatInapp,
        Environment::AlipayInapp,
        Environment::MobileBrowser,
        Environment::DesktopBrowser,
    ];

    /// The wire name, e.g. `"wechat_inapp"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Environment::WechatInapp => "wechat_inapp",
            Environment::WechatMiniprogram => "wechat_miniprogram",
            Environment::WechatDesktop => "wechat_desktop",
            Environment::Wecom => "wecom",
            Environment::AlipayInapp => "alipay_inapp",
            Environment::MobileBrowser => "mobile_browser",
            Environment::DesktopBrowser => "desktop_browser",
        }
    }
}

impl fmt::Display for Environment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The name given to [`Environment::from_str`] is not one of the wire names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UnknownEnvironment;

impl fmt::Display for UnknownEnvironment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("unknown environment name")
    }
}

impl std::error::Error for UnknownEnvironment {}

impl FromStr for Environment {
    type Err = UnknownEnvironment;

    /// Parses a wire name such as `"alipay_inapp"`.
    ///
    /// # Errors
    /// [`UnknownEnvironment`] if `s` is not exactly one of the names of [`Environment::ALL`].
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Environment::ALL
            .into_iter()
            .find(|e| e.as_str() == s)
            .ok_or(UnknownEnvironment)
    }
}

/// The kind of device the shopper holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Device {
    /// A phone.
    Phone,
    /// A tablet, including iPads that send a Mac User-Agent when the browser says they have touch.
    Tablet,
    /// A desktop or laptop computer.
    Desktop,
}

impl Device {
    /// The wire name, e.g. `"tablet"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Device::Phone => "phone",
            Device::Tablet => "tablet",
            Device::Desktop => "desktop",
        }
    }
}

/// The operating system the User-Agent describes, named as products spell themselves.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Os {
    /// Android, including Android-based forks that do not name themselves.
    Android,
    /// iOS on an iPhone or iPod.
    #[serde(rename = "iOS")]
    Ios,
    /// iOS or iPadOS on an iPad.
    #[serde(rename = "iPadOS")]
    IpadOs,
    /// Huawei's HarmonyOS, both the Android-compatible versions and OpenHarmony-based ones.
    #[serde(rename = "HarmonyOS")]
    HarmonyOs,
    /// Windows (desktop, or Windows Phone).
    Windows,
    /// macOS.
    #[serde(rename = "macOS")]
    MacOs,
    /// ChromeOS (`CrOS`).
    #[serde(rename = "ChromeOS")]
    ChromeOs,
    /// Linux on a desktop (Android is [`Os::Android`]).
    Linux,
    /// Not told by the User-Agent nor by the platform hint; also what any unknown name parses to.
    #[serde(rename = "unknown", other)]
    Unknown,
}

impl Os {
    /// The label, e.g. `"iPadOS"`; `"unknown"` for [`Os::Unknown`].
    pub fn as_str(&self) -> &'static str {
        match self {
            Os::Android => "Android",
            Os::Ios => "iOS",
            Os::IpadOs => "iPadOS",
            Os::HarmonyOs => "HarmonyOS",
            Os::Windows => "Windows",
            Os::MacOs => "macOS",
            Os::ChromeOs => "ChromeOS",
            Os::Linux => "Linux",
            Os::Unknown => "unknown",
        }
    }
}

/// Facts only the browser knows, sent by the widget alongside the User-Agent.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClientHints {
    /// `navigator.maxTouchPoints`
    #[serde(default)]
    pub max_touch_points: Option<u32>,
    /// `window.__wxjs_environment` ("miniprogram" inside a mini-program web-view)
    #[serde(default)]
    pub wxjs_environment: Option<String>,
    /// `navigator.platform` or `navigator.userAgentData.platform`
    #[serde(default)]
    pub platform: Option<String>,
}

/// What [`detect`] found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Detected {
    /// Where the shopper is; decides the payment methods offered.
    pub environment: Environment,
    /// The kind of device.
    pub device: Device,
    /// The operating system.
    pub os: Os,
}

/// Detects the environment from a User-Agent and the browser's hints.
///
/// Hints win over the User-Agent where they are more reliable: `__wxjs_environment ==
/// "miniprogram"` means a mini-program web-view whatever the UA says, and a Mac User-Agent with
/// more than one touch point is an iPad in desktop mode (Macs have no touch screen). The platform
/// hint is used only when the User-Agent names no operating system.
pub fn detect(user_agent: &str, hints: &ClientHints) -> Detected {
    let ua = user_agent;
    let mut os = os_from_ua(ua)
        .or_else(|| hints.platform.as_deref().and_then(os_from_platform))
        .unwrap_or(Os::Unknown);
    let mut device = device_from_ua(ua, &os);
    if os == Os::MacOs && hints.max_touch_points.is_some_and(|n| n > 1) {
        os = Os::IpadOs;
        device = Device::Tablet;
    }
    let environment = if hints.wxjs_environment.as_deref() == Some("miniprogram") {
        Environment::WechatMiniprogram
    } else {
        environment_from_ua(ua, device)
    };
    Detected {
        environment,
        device,
        os,
    }
}

fn environment_from_ua(ua: &str, device: Device) -> Environment {
    let wechat = has(ua, "MicroMessenger");
    if has(ua, "wxwork/") {
        Environment::Wecom
    } else if (wechat && contains_ignore_ascii_case(ua, "miniProgram"))
        || has(ua, "MiniProgramEnv")
    {
        Environment::WechatMiniprogram
    } else if contains_any(ua, &["WindowsWechat", "MacWechat"])
        || (wechat && device == Device::Desktop)
    {
        Environment::WechatDesktop
    } else if has(ua, "MicroMessenger/") {
        Environment::WechatInapp
    } else if contains_any(ua, &["AlipayClient/", "AliApp(AP"]) {
        Environment::AlipayInapp
    } else if device == Device::Desktop {
        Environment::DesktopBrowser
    } else {
        Environment::MobileBrowser
    }
}

fn os_from_ua(ua: &str) -> Option<Os> {
    Some(if contains_any(ua, &["HarmonyOS", "OpenHarmony"]) {
        // Checked first: HarmonyOS UAs also claim Android, and HarmonyOS PCs claim Windows.
        Os::HarmonyOs
    } else if has(ua, "Windows Phone") {
        // Windows Phone UAs also claim Android and iPhone.
        Os::Windows
    } else if has(ua, "iPad") || (has(ua, "Macintosh") && has(ua, "Mobile")) {
        // A Mac UA with a `Mobile` token comes from an iPad web-view: no Mac browser sends it.
        Os::IpadOs
    } else if contains_any(ua, &["iPhone", "iPod", "like Mac OS X"]) {
        Os::Ios
    } else if contains_any(ua, &["Android", "; Adr "]) {
        // UC Browser writes `Adr 9` for Android 9.
        Os::Android
    } else if has(ua, "CrOS") {
        Os::ChromeOs
    } else if has(ua, "Windows") {
        Os::Windows
    } else if contains_any(ua, &["Macintosh", "Mac OS X"]) {
        Os::MacOs
    } else if has(ua, "Linux") {
        Os::Linux
    } else {
        return None;
    })
}

/// Reads `navigator.platform` ("Win32", "MacIntel", "iPhone", "Linux armv8l") or
/// `navigator.userAgentData.platform` ("Windows", "macOS", "Chrome OS", "Android").
fn os_from_platform(platform: &str) -> Option<Os> {
    let p = platform.to_ascii_lowercase();
    Some(if has(&p, "harmony") {
        Os::HarmonyOs
    } else if p.starts_with("ipad") {
        Os::IpadOs
    } else if p.starts_with("iphone") || p.starts_with("ipod") || p == "ios" {
        Os::Ios
    } else if p.starts_with("android") {
        Os::Android
    } else if p.starts_with("win") {
        Os::Windows
    } else if p.starts_with("mac") {
        Os::MacOs
    } else if has(&p, "chrome os") || has(&p, "chromium os") || has(&p, "cros") {
        Os::ChromeOs
    } else if p.starts_with("linux") {
        Os::Linux
    } else {
        return None;
    })
}

fn device_from_ua(ua: &str, os: &Os) -> Device {
    match os {
        Os::IpadOs => return Device::Tablet,
        Os::Ios => return Device::Phone,
        Os::Windows if has(ua, "Windows Phone") => return Device::Phone,
        Os::Windows | Os::MacOs | Os::ChromeOs => return Device::Desktop,
        Os::Android | Os::HarmonyOs | Os::Linux | Os::Unknown => {}
    }
    // OpenHarmony UAs open with the form factor: `(Phone; OpenHarmony 5.0)`, `(Tablet; …)`, `(PC; …)`.
    let form_factor = ua
        .split_once('(')
        .and_then(|(_, rest)| rest.split([';', ')']).next())
        .map(str::trim);
    match form_factor {
        Some("Phone") => Device::Phone,
        Some("Tablet") => Device::Tablet,
        Some("PC") => Device::Desktop,
        _ if is_tablet(ua) => Device::Tablet,
        _ if has(ua, "Mobile") => Device::Phone,
        // Android browsers drop `Mobile` on tablets (Chrome decides by screen size).
        _ if matches!(os, Os::Android | Os::HarmonyOs) => Device::Tablet,
        _ => Device::Desktop,
    }
}

/// Tablets that send `Mobile` anyway, told by their names or model numbers.
fn is_tablet(ua: &str) -> bool {
    const NAMES: [&str; 7] = [
        "Tablet", "Nexus 7", "Nexus 9", "Nexus 10", "Pixel C", "Kindle", "Silk/",
    ];
    contains_any(ua, &NAMES)
        || ua
            .split([' ', ';', '(', ')', '/', ','])
            .any(is_tablet_model)
}

fn is_tablet_model(token: &str) -> bool {
    // Huawei MediaPad/MatePad families, whatever their radio suffix (`-W09` wifi, `-AL09` LTE).
    const HUAWEI: [&str; 14] = [
        "AGR", "AGS", "BAH", "BG2", "BTV", "CMR", "DBY", "GOT", "JDN", "KOB", "MRX", "SCM", "SHT",
        "WGR",
    ];
    let upper_alnum = |s: &str| {
        !s.is_empty()
            && s.bytes()
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
    };
    let code = |prefix: &str, digits: usize| {
        token
            .strip_prefix(prefix)
            .is_some_and(|rest| rest.len() == digits && rest.bytes().all(|b| b.is_ascii_digit()))
    };
    if let Some((prefix, suffix)) = token.split_once('-') {
        // Huawei and Honor use `-Wnn` only for wifi-only tablets (`DBY-W09`, `HEY-W09`).
        let huawei_wifi = upper_alnum(prefix)
            && suffix.len() == 3
            && suffix.starts_with('W')
            && suffix[1..].bytes().all(|b| b.is_ascii_digit());
        huawei_wifi
            || HUAWEI.iter().any(|p| prefix.starts_with(p))
            // Lenovo Tab `TB-J706F`, `TB2-X30F`, Yoga Tab `YT-X705F`.
            || matches!(prefix, "TB" | "TB2" | "TB3" | "YT" | "YT3")
            // Samsung Galaxy Tab `SM-T800`, `SM-X700`, `SM-P610`, older `GT-P5210`.
            || (prefix == "SM" && suffix.starts_with(['T', 'X', 'P']))
            || (prefix == "GT" && suffix.starts_with('P'))
    } else {
        // Xiaomi writes `RP` after the year and month of its pads' model numbers (`23043RP34C`).
        let xiaomi_pad = upper_alnum(token)
            && token.len() >= 8
            && token.bytes().take(4).all(|b| b.is_ascii_digit())
            && has(&token[4..], "RP");
        // Lenovo `TB320FC`, OPPO/OnePlus Pad `OPD2101`, vivo Pad `PA2170`, realme Pad `RMP2102`,
        // and names: `MI PAD`, `Xiaomi Pad`, `MediaPad`, `MatePad`.
        xiaomi_pad
            || token
                .strip_prefix("TB")
                .is_some_and(|rest| rest.starts_with(|c: char| c.is_ascii_digit()))
            || code("OPD", 4)
            || code("PA", 4)
            || code("RMP", 4)
            || has(&token.to_ascii_lowercase(), "pad")
    }
}

fn contains_any(haystack: &str, needles: &[&str]) -> bool {
    needles.iter().any(|n| has(haystack, n))
}

/// Whether `needle` occurs in `haystack`: a byte-window search, as fast as `str::contains` for
/// these short needles, which keeps core's Two-Way searcher out of the widget's WebAssembly.
fn has(haystack: &str, needle: &str) -> bool {
    needle.is_empty() || haystack.as_bytes().windows(needle.len()).any(|w| w == needle.as_bytes())
}

fn contains_ignore_ascii_case(haystack: &str, needle: &str) -> bool {
    haystack
        .as_bytes()
        .windows(needle.len())
        .any(|w| w.eq_ignore_ascii_case(needle.as_bytes()))
}

#[cfg(test)]
mod tests {
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;
    use super::Device::*;
    use super::Environment::*;
    use super::Os::*;
    use super::*;

    const IPAD_DESKTOP_MODE: &str = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) \
        AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15";
    const ANDROID_CHROME: &str = "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 \
        (KHTML, like Gecko) Chrome/126.0.0.0 Mobile Safari/537.36";

    fn detected(environment: Environment, device: Device, os: Os) -> Detected {
        Detected {
            environment,
            device,
            os,
        }
    }

    fn ua_only(ua: &str) -> Detected {
        detect(ua, &ClientHints::default())
    }

    fn touch(n: u32) -> ClientHints {
        ClientHints {
            max_touch_points: Some(n),
            ..ClientHints::default()
        }
    }

    fn wxjs(environment: &str) -> ClientHints {
        ClientHints {
            wxjs_environment: Some(environment.into()),
            ..ClientHints::default()
        }
    }

    #[test]
    fn ipad_sending_a_mac_ua_is_a_tablet_when_it_has_touch() {
        let got = detect(IPAD_DESKTOP_MODE, &touch(5));
        assert_eq!(got, detected(MobileBrowser, Tablet, IpadOs));
    }

    #[test]
    fn mac_ua_without_touch_is_a_desktop() {
        let mac = detected(DesktopBrowser, Desktop, MacOs);
        assert_eq!(detect(IPAD_DESKTOP_MODE, &touch(0)), mac);
        assert_eq!(detect(IPAD_DESKTOP_MODE, &touch(1)), mac);
        assert_eq!(ua_only(IPAD_DESKTOP_MODE), mac);
    }

    #[test]
    fn wxjs_environment_hint_is_authoritative() {
        // A mini-program web-view on iOS sends a plain WeChat UA without any miniProgram token.
        let wechat_ios =
            "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 \
            (KHTML, like Gecko) Mobile/15E148 MicroMessenger/8.0.50(0x1800323c) NetType/WIFI";
        let miniprogram = wxjs("miniprogram");
        assert_eq!(
            detect(wechat_ios, &miniprogram),
            detected(WechatMiniprogram, Phone, Ios)
        );
        assert_eq!(ua_only(wechat_ios), detected(WechatInapp, Phone, Ios));
        let android = detect(ANDROID_CHROME, &miniprogram);
        assert_eq!(android, detected(WechatMiniprogram, Phone, Android));
        let browser = detect(ANDROID_CHROME, &wxjs("browser"));
        assert_eq!(browser, detected(MobileBrowser, Phone, Android));
    }

    #[test]
    fn wechat_on_windows_and_mac() {
        let windows =
            "Mozilla/5.0 (Windows NT 10.0; WOW64) AppleWebKit/537.36 (KHTML, like Gecko) \
            Chrome/81.0.4044.138 Safari/537.36 NetType/WIFI MicroMessenger/7.0.20.1781(0x6700143B) \
            WindowsWechat(0x6307001e)";
        assert_eq!(ua_only(windows), detected(WechatDesktop, Desktop, Windows));
        let mac = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 \
            (KHTML, like Gecko) MicroMessenger/6.8.0(0x16080000) MacWechat/3.8.7(0x13080710) \
            Safari/605.1.15 NetType/WIFI";
        assert_eq!(ua_only(mac), detected(WechatDesktop, Desktop, MacOs));
        // Without the app token, MicroMessenger on a desktop UA is still the desktop client.
        let bare =
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) \
            Chrome/116.0.0.0 Safari/537.36 MicroMessenger/7.0.20.1781(0x6700143B)";
        assert_eq!(ua_only(bare), detected(WechatDesktop, Desktop, Windows));
    }

    #[test]
    fn wecom_wins_over_wechat_tokens() {
        let android = "Mozilla/5.0 (Linux; Android 13; V2218A Build/TP1A.220624.014; wv) \
            AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/107.0.5304.141 Mobile \
            Safari/537.36 MMWEBSDK/20230701 wxwork/4.1.10 MicroMessenger/7.0.1 NetType/WIFI";
        assert_eq!(ua_only(android), detected(Wecom, Phone, Android));
        let mac = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 \
            (KHTML, like Gecko) wxwork/4.1.20 MicroMessenger/7.0.1 Language/zh";
        assert_eq!(ua_only(mac), detected(Wecom, Desktop, MacOs));
    }

    #[test]
    fn alipay_client() {
        let android = "Mozilla/5.0 (Linux; U; Android 13; zh-CN; 22081212C Build/TKQ1.220829.002) \
            AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/100.0.4896.58 UWS/3.22.2.59 \
            Mobile Safari/537.36 NebulaSDK/1.8.100112 Nebula AlipayDefined(nt:WIFI,ws:393|0|2.75) \
            AliApp(AP/10.5.26.8000) AlipayClient/10.5.26.8000 Language/zh-Hans Region/CN";
        assert_eq!(ua_only(android), detected(AlipayInapp, Phone, Android));
        // `AliApp(` alone is any Alibaba app, not Alipay.
        let taobao = "Mozilla/5.0 (iPhone; CPU iPhone OS 16_6 like Mac OS X) AppleWebKit/605.1.15 \
            (KHTML, like Gecko) Mobile/15E148 AliApp(TB/10.26.10) WindVane/8.7.2 1170x2532";
        assert_eq!(ua_only(taobao), detected(MobileBrowser, Phone, Ios));
    }

    #[test]
    fn desktop_chrome_on_linux_and_headless_chrome() {
        let chrome = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) \
            Chrome/131.0.0.0 Safari/537.36";
        assert_eq!(ua_only(chrome), detected(DesktopBrowser, Desktop, Linux));
        let headless = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) \
            HeadlessChrome/131.0.6778.33 Safari/537.36";
        assert_eq!(ua_only(headless), detected(DesktopBrowser, Desktop, Linux));
    }

    #[test]
    fn tablets_and_phones() {
        let cases = [
            // Samsung Galaxy Tab S8 sending `Mobile`.
            ("Mozilla/5.0 (Linux; Android 13; SM-X700) AppleWebKit/537.36 (KHTML, like Gecko) \
              Chrome/120.0.0.0 Mobile Safari/537.36", Tablet, Android),
            // Galaxy Note 3: `SM-N` is a phone.
            ("Mozilla/5.0 (Linux; Android 5.0; SM-N9005 Build/LRX21V) AppleWebKit/537.36 \
              (KHTML, like Gecko) Version/4.0 Chrome/38.0.0.0 Mobile Safari/537.36", Phone, Android),
            ("Mozilla/5.0 (Linux; U; Android 13; zh-cn; 23043RP34C Build/TKQ1.221114.001) \
              AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/109.0.5414.118 Mobile \
              Safari/537.36 XiaoMi/MiuiBrowser/18.1.170905", Tablet, Android),
            ("Mozilla/5.0 (Linux; U; Android 14; zh-cn; 23116PN5BC Build/UKQ1.230804.001) \
              AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/109.0.5414.118 Mobile \
              Safari/537.36 XiaoMi/MiuiBrowser/18.1.170905", Phone, Android),
            // Chrome on an Android tablet drops `Mobile`.
            ("Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) \
              Chrome/126.0.0.0 Safari/537.36", Tablet, Android),
            ("Mozilla/5.0 (Phone; OpenHarmony 5.0) AppleWebKit/537.36 (KHTML, like Gecko) \
              Chrome/114.0.0.0 Safari/537.36 ArkWeb/4.1.6.1 Mobile HuaweiBrowser/5.0.4.300", Phone,
              HarmonyOs),
            ("Mozilla/5.0 (Tablet; OpenHarmony 5.0) AppleWebKit/537.36 (KHTML, like Gecko) \
              Chrome/114.0.0.0 Safari/537.36 ArkWeb/4.1.6.1 HuaweiBrowser/5.0.4.300", Tablet,
              HarmonyOs),
            ("Mozilla/5.0 (iPad; CPU OS 16_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) \
              Mobile/15E148 MicroMessenger/8.0.40(0x1800282a) NetType/WIFI", Tablet, IpadOs),
        ];
        for (ua, device, os) in cases {
            let got = ua_only(ua);
            assert_eq!((got.device, got.os), (device, os), "{ua}");
            assert_ne!(got.environment, DesktopBrowser, "{ua}");
        }
    }

    #[test]
    fn platform_hint_only_fills_in_an_unknown_os() {
        let windows = ClientHints {
            platform: Some("Win32".into()),
            ..ClientHints::default()
        };
        assert_eq!(
            detect("", &windows),
            detected(DesktopBrowser, Desktop, Windows)
        );
        assert_eq!(ua_only(""), detected(DesktopBrowser, Desktop, Unknown));
        assert_eq!(
            detect(ANDROID_CHROME, &windows),
            detected(MobileBrowser, Phone, Android)
        );
    }

    #[test]
    fn environment_names_round_trip() {
        let names = [
            "wecom",
            "wechat_miniprogram",
            "wechat_desktop",
            "wechat_inapp",
            "alipay_inapp",
            "mobile_browser",
            "desktop_browser",
        ];
        for (env, name) in Environment::ALL.into_iter().zip(names) {
            assert_eq!(env.to_string(), name);
            assert_eq!(name.parse::<Environment>(), Ok(env));
            let json = format!("\"{name}\"");
            assert_eq!(serde_json::to_string(&env).ok(), Some(json.clone()));
            assert_eq!(serde_json::from_str::<Environment>(&json).ok(), Some(env));
        }
        assert_eq!(
            "WechatInapp".parse::<Environment>(),
            Err(UnknownEnvironment)
        );
        assert_eq!("".parse::<Environment>(), Err(UnknownEnvironment));
    }

    #[test]
    fn serde_json_names() {
        let json = r#"{"environment":"mobile_browser","device":"tablet","os":"iPadOS"}"#;
        let ipad = detected(MobileBrowser, Tablet, IpadOs);
        assert_eq!(serde_json::to_string(&ipad).ok().as_deref(), Some(json));
        assert_eq!(serde_json::from_str::<Detected>(json).ok(), Some(ipad));
        let labels = [
            (Android, "Android"),
            (Ios, "iOS"),
            (IpadOs, "iPadOS"),
            (HarmonyOs, "HarmonyOS"),
            (Windows, "Windows"),
            (MacOs, "macOS"),
            (ChromeOs, "ChromeOS"),
            (Linux, "Linux"),
            (Unknown, "unknown"),
        ];
        for (os, label) in labels {
            assert_eq!(os.as_str(), label);
            assert_eq!(
                serde_json::to_string(&os).ok(),
                Some(format!("\"{label}\""))
            );
        }
        assert_eq!(serde_json::from_str::<Os>("\"Tizen\"").ok(), Some(Unknown));
        for (device, label) in [(Phone, "phone"), (Tablet, "tablet"), (Desktop, "desktop")] {
            assert_eq!(device.as_str(), label);
            assert_eq!(
                serde_json::to_string(&device).ok(),
                Some(format!("\"{label}\""))
            );
        }
        let hints = serde_json::from_str::<ClientHints>(r#"{"max_touch_points":5}"#).ok();
        assert_eq!(hints, Some(touch(5)));
    }
}
