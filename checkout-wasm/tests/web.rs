//! Component tests of the widget in headless Chromium (wasm-bindgen-test-runner + chromedriver).
//!
//! The worker is replaced by a `window.fetch` that answers from a table (the only test hook, and
//! it lives here, not in the widget): each test says what the worker answers and checks what the
//! shopper sees, what the widget sent, and what the host page was told.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::time::Duration;

use checkout_wasm::{detect_environment, mount, WidgetHandle};
use js_sys::{Array, Object, Reflect};
use wasm_bindgen::prelude::*;
use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};
use web_sys::{Element, HtmlElement};

wasm_bindgen_test_configure!(run_in_browser);

#[wasm_bindgen(inline_js = r#"
export function install_fake_worker(routes) {
  const calls = [];
  window.fetch = (url, init = {}) => {
    const key = `${init.method ?? 'GET'} ${new URL(url).pathname}`;
    calls.push({ key, headers: init.headers ?? {}, body: init.body ?? null });
    const route = routes[key];
    if (route === undefined || route === 'unreachable') return Promise.reject(new TypeError('Failed to fetch'));
    if (route === 'pending') return new Promise(() => {});
    const body = typeof route.body === 'string' ? route.body : JSON.stringify(route.body);
    return Promise.resolve(new Response(body, { status: route.status, headers: { 'content-type': 'application/json' } }));
  };
  return calls;
}
export function record_events(host) {
  const seen = [];
  for (const type of ['edgepay:statechange', 'edgepay:success', 'edgepay:failure', 'edgepay:cancel']) {
    host.addEventListener(type, (event) => seen.push({ type, ...event.detail }));
  }
  return seen;
}
export function fire(name) {
  window.dispatchEvent(new Event(name));
}
export function fake_wechat_bridge(answer) {
  const invoked = [];
  window.WeixinJSBridge = {
    invoke(name, params, callback) {
      invoked.push({ name, params });
      setTimeout(() => callback({ err_msg: `get_brand_wcpay_request:${answer}` }), 200);
    },
  };
  return invoked;
}
export function fake_miniprogram_sdk() {
  const urls = [];
  window.wx = { miniProgram: { navigateTo: (options) => urls.push(options.url) } };
  return urls;
}
export function remove_global(name) {
  delete window[name];
}
"#)]
extern "C" {
    fn install_fake_worker(routes: &JsValue) -> Array;
    fn record_events(host: &Element) -> Array;
    fn fire(name: &str);
    fn fake_wechat_bridge(answer: &str) -> Array;
    fn fake_miniprogram_sdk() -> Array;
    fn remove_global(name: &str);
}

const DESKTOP_METHODS: &str = r#"["wechat_native","alipay_page","alipay_qr","unionpay_pc"]"#;
const DESKTOP_BLOCKED: &str = r#"[{"method":"wechat_jsapi","reason":"needs_wechat"},{"method":"wechat_h5","reason":"mobile_only"},{"method":"wechat_miniprogram","reason":"needs_miniprogram"},{"method":"alipay_wap","reason":"mobile_only"},{"method":"unionpay_wap","reason":"mobile_only"}]"#;
const WECHAT_METHODS: &str = r#"["wechat_jsapi","unionpay_wap"]"#;
const WECHAT_BLOCKED: &str = r#"[{"method":"wechat_h5","reason":"wechat_h5_refused_in_wechat"},{"method":"wechat_native","reason":"desktop_only"},{"method":"wechat_miniprogram","reason":"needs_miniprogram"},{"method":"alipay_wap","reason":"blocked_in_wechat"},{"method":"alipay_page","reason":"blocked_in_wechat"},{"method":"alipay_qr","reason":"blocked_in_wechat"},{"method":"unionpay_pc","reason":"desktop_only"}]"#;

/// `GET /v1/sessions/{id}` as the worker answers it.
fn session(status: &str, amount: u64, environment: &str, methods: &str, blocked: &str) -> String {
    let expires_at = (js_sys::Date::now() / 1000.0) as u64 + 1800;
    format!(
        r#"{{"status":200,"body":{{"id":"x","status":"{status}","amount":{amount},"currency":"CNY","description":"凤凰单丛 250 g","expires_at":{expires_at},"environment":{{"environment":"{environment}","device":"desktop","os":"Linux"}},"methods":{methods},"blocked":{blocked}}}}}"#
    )
}

fn desktop_session() -> String {
    session("open", 6800, "desktop_browser", DESKTOP_METHODS, DESKTOP_BLOCKED)
}

fn error(status: u16, code: &str, retryable: bool) -> String {
    format!(r#"{{"status":{status},"body":{{"error":{{"code":"{code}","message":"…","retryable":{retryable}}}}}}}"#)
}

/// A route table: `(key, answer)` where the answer is JSON of `{status, body}`, or `"pending"`,
/// or `"unreachable"`.
fn routes(entries: &[(&str, &str)]) -> JsValue {
    let routes = Object::new();
    for (key, answer) in entries {
        let value = js_sys::JSON::parse(answer).unwrap_or_else(|_| JsValue::from_str(answer));
        Reflect::set(&routes, &JsValue::from_str(key), &value).unwrap();
    }
    routes.into()
}

fn set_route(routes: &JsValue, key: &str, answer: &str) {
    let value = js_sys::JSON::parse(answer).unwrap_or_else(|_| JsValue::from_str(answer));
    Reflect::set(routes, &JsValue::from_str(key), &value).unwrap();
}

fn host() -> Element {
    let document = web_sys::window().unwrap().document().unwrap();
    let host = document.create_element("div").unwrap();
    document.body().unwrap().append_child(&host).unwrap();
    host
}

fn options(session: &str, locale: &str) -> JsValue {
    js_sys::JSON::parse(&format!(
        r#"{{"endpoint":"http://worker.test","session":"{session}","clientSecret":"{session}_secret_abc","locale":"{locale}"}}"#
    ))
    .unwrap()
}

fn mount_on(host: &Element, session: &str, locale: &str) -> WidgetHandle {
    mount(host.clone(), options(session, locale)).expect("mounts")
}

/// Waits until `selector` matches inside the widget's shadow root, up to 5 s.
async fn find(host: &Element, selector: &str) -> Element {
    for _ in 0..100 {
        if let Some(found) = host.shadow_root().and_then(|s| s.query_selector(selector).ok().flatten()) {
            return found;
        }
        sleep(50).await;
    }
    panic!("{selector} never appeared in the widget");
}

fn all(host: &Element, selector: &str) -> Vec<Element> {
    let list = host.shadow_root().unwrap().query_selector_all(selector).unwrap();
    (0..list.length()).map(|i| list.item(i).unwrap().dyn_into().unwrap()).collect()
}

fn attr(element: &Element, name: &str) -> String {
    element.get_attribute(name).unwrap_or_default()
}

fn text(element: &Element) -> String {
    element.text_content().unwrap_or_default()
}

fn click(element: &Element) {
    element.clone().dyn_into::<HtmlElement>().unwrap().click();
}

async fn sleep(ms: u64) {
    gloo_timers::future::sleep(Duration::from_millis(ms)).await;
}

/// The element of the shadow root that has focus.
fn focused(host: &Element) -> Option<Element> {
    host.shadow_root().unwrap().active_element()
}

fn field(value: &JsValue, name: &str) -> JsValue {
    Reflect::get(value, &JsValue::from_str(name)).unwrap()
}

/// `[type, state-or-code]` of every event the host saw, in order.
fn events(seen: &Array) -> Vec<(String, String)> {
    seen.iter()
        .map(|e| {
            let kind = field(&e, "type").as_string().unwrap();
            let what = ["code", "method", "state"].iter().find_map(|k| field(&e, k).as_string()).unwrap_or_default();
            (kind, what)
        })
        .collect()
}

#[wasm_bindgen_test]
async fn desktop_methods_are_buttons_in_the_workers_order_with_both_names() {
    let calls = install_fake_worker(&routes(&[("GET /v1/sessions/cs_desk", &session(
        "open",
        123_456_789,
        "desktop_browser",
        DESKTOP_METHODS,
        DESKTOP_BLOCKED,
    ))]));
    let host = host();
    let seen = record_events(&host);
    let mut handle = mount_on(&host, "cs_desk", "en");
    let card = find(&host, r#".ep-card[data-edgepay-state="methods"]"#).await;
    assert_eq!(attr(&card, "data-environment"), "desktop_browser");
    assert_eq!(attr(&card, "lang"), "en");
    assert_eq!(text(&find(&host, ".ep-amount").await), "Total¥1,234,567.89");
    let buttons = all(&host, "button.ep-method");
    let order: Vec<String> = buttons.iter().map(|b| attr(b, "data-method")).collect();
    assert_eq!(order, ["wechat_native", "alipay_page", "alipay_qr", "unionpay_pc"]);
    assert_eq!(attr(&buttons[0], "type"), "button");
    let first = text(&buttons[0]);
    assert!(first.contains("WeChat Pay QR code") && first.contains("微信扫码支付"), "{first}");
    // Every blocked method is listed, none as a button.
    let unavailable: Vec<String> = all(&host, ".ep-more li").iter().map(|li| attr(li, "data-method")).collect();
    assert_eq!(unavailable, ["wechat_jsapi", "wechat_h5", "wechat_miniprogram", "alipay_wap", "unionpay_wap"]);
    assert_eq!(text(&find(&host, ".ep-more summary").await), "Not available here (5)");

    // What the widget sent: the client secret and the browser's hints.
    assert_eq!(calls.length(), 1);
    let headers = field(&calls.get(0), "headers");
    assert_eq!(field(&headers, "Authorization").as_string().unwrap(), "Bearer cs_desk_secret_abc");
    let hints = js_sys::JSON::parse(&field(&headers, "X-Edgepay-Hints").as_string().unwrap()).unwrap();
    assert_eq!(field(&hints, "max_touch_points").as_f64(), Some(0.0));
    assert!(field(&hints, "platform").as_string().is_some());

    sleep(50).await;
    assert_eq!(events(&seen), [("edgepay:statechange".into(), "loading".into()), ("edgepay:statechange".into(), "methods".into())]);

    // refresh() asks the worker again.
    handle.refresh();
    sleep(100).await;
    assert_eq!(calls.length(), 2);
    handle.destroy();
    assert!(host.shadow_root().unwrap().query_selector(".ep-card").unwrap().is_none(), "destroy empties the widget");
}

#[wasm_bindgen_test]
async fn inside_wechat_alipay_is_shown_with_open_in_browser_guidance() {
    install_fake_worker(&routes(&[(
        "GET /v1/sessions/cs_wx",
        &session("open", 6800, "wechat_inapp", WECHAT_METHODS, WECHAT_BLOCKED),
    )]));
    let host = host();
    let mut handle = mount_on(&host, "cs_wx", "zh-CN");
    find(&host, r#"[data-edgepay-state="methods"]"#).await;
    assert_eq!(text(&find(&host, ".ep-amount").await), "应付金额¥68.00");
    let order: Vec<String> = all(&host, "button.ep-method").iter().map(|b| attr(b, "data-method")).collect();
    assert_eq!(order, ["wechat_jsapi", "unionpay_wap"]);
    // Alipay, once, up front, with why and what to do.
    let blocked = all(&host, ".ep-blocked");
    assert_eq!(blocked.len(), 1);
    assert_eq!(attr(&blocked[0], "data-reason"), "blocked_in_wechat");
    assert!(text(&blocked[0]).contains("微信内无法使用支付宝"), "{}", text(&blocked[0]));
    let open = find(&host, "button.ep-open").await;
    assert_eq!(text(&open), "在浏览器中打开");

    click(&open);
    sleep(50).await;
    let dialog: web_sys::HtmlDialogElement = find(&host, "dialog.ep-guide").await.dyn_into().unwrap();
    assert!(dialog.open(), "the guidance opens");
    assert!(text(&dialog).contains("点击右上角的 ⋯"), "{}", text(&dialog));
    let url: web_sys::HtmlInputElement = find(&host, "input.ep-url").await.dyn_into().unwrap();
    assert_eq!(url.value(), web_sys::window().unwrap().location().href().unwrap());
    assert_eq!(focused(&host).map(|f| text(&f)).as_deref(), Some("复制链接"), "focus goes into the dialog");

    click(&find(&host, ".ep-guide .ep-secondary").await);
    sleep(50).await;
    assert!(!dialog.open(), "the guidance closes");
    assert_eq!(focused(&host).map(|f| attr(&f, "class")).as_deref(), Some("ep-button ep-secondary ep-open"), "focus returns to the opener");
    handle.destroy();
}

#[wasm_bindgen_test]
async fn a_method_button_asks_the_worker_and_a_refusal_shows_why_with_retry_and_another_method() {
    let table = routes(&[
        ("GET /v1/sessions/cs_pay", &desktop_session()),
        ("POST /v1/sessions/cs_pay/pay", &error(404, "not_found", false)),
    ]);
    let calls = install_fake_worker(&table);
    let host = host();
    let seen = record_events(&host);
    let mut handle = mount_on(&host, "cs_pay", "en");
    find(&host, r#"[data-edgepay-state="methods"]"#).await;
    click(&find(&host, r#"button[data-method="alipay_qr"]"#).await);
    let card = find(&host, r#"[data-edgepay-state="failure"]"#).await;
    assert!(text(&card).contains("This payment can't be started right now. Try again or choose another method."), "{}", text(&card));
    assert!(text(&card).contains("Alipay QR code"));
    // Focus follows the shopper's action to the sentence.
    assert_eq!(focused(&host).map(|f| attr(&f, "class")).as_deref(), Some("ep-msg"));

    let pay = calls.get(1);
    assert_eq!(field(&pay, "key").as_string().unwrap(), "POST /v1/sessions/cs_pay/pay");
    let body = js_sys::JSON::parse(&field(&pay, "body").as_string().unwrap()).unwrap();
    assert_eq!(field(&body, "method").as_string().unwrap(), "alipay_qr");
    assert_eq!(field(&body, "environment").as_string().unwrap(), "desktop_browser");
    assert_eq!(field(&field(&pay, "headers"), "Content-Type").as_string().unwrap(), "application/json");

    // Retry sends the same method again.
    let buttons = all(&host, ".ep-notice button");
    assert_eq!(buttons.iter().map(text).collect::<Vec<_>>(), ["Try again", "Choose another method"]);
    click(&buttons[0]);
    find(&host, r#"[data-edgepay-state="failure"]"#).await;
    sleep(50).await;
    assert_eq!(calls.length(), 3);

    // Another method: back to the list, focus on the method that failed.
    click(&all(&host, ".ep-notice button")[1]);
    find(&host, r#"[data-edgepay-state="methods"]"#).await;
    sleep(20).await;
    assert_eq!(focused(&host).map(|f| attr(&f, "data-method")).as_deref(), Some("alipay_qr"));
    sleep(50).await;
    let states = events(&seen);
    assert!(states.contains(&("edgepay:failure".into(), "not_found".into())), "{states:?}");
    assert!(states.contains(&("edgepay:statechange".into(), "processing".into())), "{states:?}");
    handle.destroy();
}

#[wasm_bindgen_test]
async fn the_shopper_can_cancel_a_payment_being_started() {
    install_fake_worker(&routes(&[("GET /v1/sessions/cs_cancel", &desktop_session()), ("POST /v1/sessions/cs_cancel/pay", "pending")]));
    let host = host();
    let seen = record_events(&host);
    let mut handle = mount_on(&host, "cs_cancel", "en");
    find(&host, r#"[data-edgepay-state="methods"]"#).await;
    click(&find(&host, r#"button[data-method="wechat_native"]"#).await);
    let card = find(&host, r#"[data-edgepay-state="processing"]"#).await;
    assert!(text(&card).contains("Starting the payment…"));
    click(&find(&host, ".ep-actions button").await);
    find(&host, r#"[data-edgepay-state="methods"]"#).await;
    sleep(50).await;
    assert!(events(&seen).contains(&("edgepay:cancel".into(), "wechat_native".into())), "{:?}", events(&seen));
    handle.destroy();
}

#[wasm_bindgen_test]
async fn sessions_that_cannot_be_paid_say_so() {
    install_fake_worker(&routes(&[
        ("GET /v1/sessions/cs_expired", &session("expired", 6800, "desktop_browser", DESKTOP_METHODS, "[]")),
        ("GET /v1/sessions/cs_paid", &session("paid", 6800, "desktop_browser", DESKTOP_METHODS, "[]")),
        ("GET /v1/sessions/cs_unknown", &error(404, "session_not_found", false)),
        ("GET /v1/sessions/cs_config", &error(503, "not_configured", false)),
        ("GET /v1/sessions/cs_garbage", r#"{"status":200,"body":"<html>"}"#),
    ]));
    let expired = host();
    let seen = record_events(&expired);
    let mut a = mount_on(&expired, "cs_expired", "en");
    let card = find(&expired, r#"[data-edgepay-state="expired"]"#).await;
    assert!(text(&card).contains("This checkout has expired. Go back to the shop to start again."));
    assert!(all(&expired, "button").is_empty(), "nothing to press on an expired checkout");
    sleep(50).await;
    assert!(events(&seen).contains(&("edgepay:failure".into(), "session_expired".into())));

    let paid = host();
    let seen = record_events(&paid);
    let mut b = mount_on(&paid, "cs_paid", "zh-CN");
    assert!(text(&find(&paid, r#"[data-edgepay-state="success"]"#).await).contains("支付成功"));
    sleep(50).await;
    assert!(events(&seen).contains(&("edgepay:success".into(), "success".into())));

    let unknown = host();
    let mut c = mount_on(&unknown, "cs_unknown", "en");
    let card = find(&unknown, r#"[data-edgepay-state="error"]"#).await;
    assert!(text(&card).contains("This checkout link isn't valid. Go back to the shop and start again."), "{}", text(&card));
    assert!(all(&unknown, "button").is_empty(), "no retry for a link that will never work");

    let config = host();
    let mut d = mount_on(&config, "cs_config", "zh-CN");
    assert!(text(&find(&config, r#"[data-edgepay-state="error"]"#).await).contains("商家尚未完成支付设置"));

    let garbage = host();
    let mut e = mount_on(&garbage, "cs_garbage", "en");
    assert!(text(&find(&garbage, r#"[data-edgepay-state="error"]"#).await).contains("The payment service is unavailable right now."));
    for handle in [&mut a, &mut b, &mut c, &mut d, &mut e] {
        handle.destroy();
    }
}

#[wasm_bindgen_test]
async fn an_unreachable_worker_offers_a_retry_that_loads_the_session() {
    let table = routes(&[("GET /v1/sessions/cs_down", "unreachable")]);
    let calls = install_fake_worker(&table);
    let host = host();
    let mut handle = mount_on(&host, "cs_down", "en");
    let card = find(&host, r#"[data-edgepay-state="unreachable"]"#).await;
    assert!(text(&card).contains("Can't reach the payment service. Check your connection and try again."));
    let retry = find(&host, ".ep-actions button").await;
    assert_eq!(text(&retry), "Try again");
    set_route(&table, "GET /v1/sessions/cs_down", &desktop_session());
    click(&retry);
    find(&host, r#"[data-edgepay-state="methods"]"#).await;
    assert_eq!(calls.length(), 2);
    sleep(20).await;
    assert_eq!(focused(&host).map(|f| attr(&f, "data-method")).as_deref(), Some("wechat_native"), "focus follows the retry to the list");
    handle.destroy();
}

#[wasm_bindgen_test]
async fn offline_shows_a_notice_and_online_resumes_by_itself() {
    let table = routes(&[("GET /v1/sessions/cs_offline", "unreachable")]);
    install_fake_worker(&table);
    let host = host();
    let mut handle = mount_on(&host, "cs_offline", "en");
    find(&host, r#"[data-edgepay-state="unreachable"]"#).await;
    fire("offline");
    let card = find(&host, r#"[data-edgepay-state="offline"]"#).await;
    assert!(text(&card).contains("You're offline. The checkout continues when you're back online."));
    // Back online: the session loads without the shopper doing anything.
    set_route(&table, "GET /v1/sessions/cs_offline", &desktop_session());
    fire("online");
    find(&host, r#"[data-edgepay-state="methods"]"#).await;
    // Offline again over the method list, and back: the list is still there.
    fire("offline");
    find(&host, r#"[data-edgepay-state="offline"]"#).await;
    assert!(all(&host, "button.ep-method").is_empty(), "no method can be started offline");
    fire("online");
    find(&host, r#"[data-edgepay-state="methods"]"#).await;
    assert_eq!(all(&host, "button.ep-method").len(), 4);
    handle.destroy();
}

#[wasm_bindgen_test]
fn options_are_checked() {
    let no_secret = js_sys::JSON::parse(r#"{"endpoint":"http://worker.test","session":"cs_x"}"#).unwrap();
    let message = mount(host(), no_secret).err().map(JsValue::from).map(|e| field(&e, "message").as_string().unwrap());
    assert_eq!(message.as_deref(), Some(r#"edgepay: option "clientSecret" must be a non-empty string"#));
    let no_endpoint = js_sys::JSON::parse(r#"{"session":"cs_x","clientSecret":"s"}"#).unwrap();
    assert!(mount(host(), no_endpoint).is_err());
}

#[wasm_bindgen_test]
fn detect_environment_applies_payment_core_rules() {
    let wechat = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 MicroMessenger/8.0.49(0x18003129) NetType/WIFI Language/zh_CN";
    let found = detect_environment(Some(wechat.into()), JsValue::UNDEFINED);
    assert_eq!(field(&found, "environment").as_string().unwrap(), "wechat_inapp");
    assert_eq!(field(&found, "device").as_string().unwrap(), "phone");
    assert_eq!(field(&found, "os").as_string().unwrap(), "iOS");
    let methods: Vec<String> = Array::from(&field(&found, "methods")).iter().map(|m| m.as_string().unwrap()).collect();
    assert_eq!(methods, ["wechat_jsapi", "unionpay_wap"]);
    let alipay = Array::from(&field(&found, "blocked")).iter().find(|b| field(b, "method").as_string().as_deref() == Some("alipay_wap")).unwrap();
    assert_eq!(field(&alipay, "reason").as_string().unwrap(), "blocked_in_wechat");

    // The mini-program hint wins over the User-Agent; an iPad's touch points over its Mac UA.
    let miniprogram = js_sys::JSON::parse(r#"{"wxjsEnvironment":"miniprogram"}"#).unwrap();
    let found = detect_environment(Some(wechat.into()), miniprogram);
    assert_eq!(field(&found, "environment").as_string().unwrap(), "wechat_miniprogram");
    let mac = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15";
    let ipad = detect_environment(Some(mac.into()), js_sys::JSON::parse(r#"{"max_touch_points":5}"#).unwrap());
    assert_eq!(field(&ipad, "os").as_string().unwrap(), "iPadOS");

    // Without arguments: this browser, headless Chromium on Linux.
    let here = detect_environment(None, JsValue::UNDEFINED);
    assert_eq!(field(&here, "environment").as_string().unwrap(), "desktop_browser");
    assert_eq!(field(&here, "os").as_string().unwrap(), "Linux");
}

#[wasm_bindgen_test]
async fn at_its_expiry_the_widget_asks_the_worker_and_shows_expired() {
    // Due in three seconds: the widget asks again about a second after `expires_at`. (Not due
    // now: on a loaded machine the first answer can take longer to show than a second.)
    let due_soon = desktop_session().replace(
        &format!(r#""expires_at":{}"#, (js_sys::Date::now() / 1000.0) as u64 + 1800),
        &format!(r#""expires_at":{}"#, (js_sys::Date::now() / 1000.0) as u64 + 3),
    );
    let table = routes(&[("GET /v1/sessions/cs_due", &due_soon)]);
    let calls = install_fake_worker(&table);
    let host = host();
    let mut handle = mount_on(&host, "cs_due", "en");
    // Once the first question is answered (the fake answers when asked), the next answer is the
    // worker's at expiry.
    for _ in 0..100 {
        if calls.length() > 0 {
            break;
        }
        sleep(50).await;
    }
    set_route(&table, "GET /v1/sessions/cs_due", &session("expired", 6800, "desktop_browser", DESKTOP_METHODS, "[]"));
    find(&host, r#"[data-edgepay-state="methods"]"#).await;
    for _ in 0..200 {
        if calls.length() > 1 {
            break;
        }
        sleep(50).await;
    }
    find(&host, r#"[data-edgepay-state="expired"]"#).await;
    assert_eq!(calls.length(), 2, "one question to the worker at expiry");
    handle.destroy();
}

fn now() -> u64 {
    (js_sys::Date::now() / 1000.0) as u64
}

fn ok(body: &str) -> String {
    format!(r#"{{"status":200,"body":{body}}}"#)
}

/// Reads the QR code drawn as `d` (runs `M x y h n v1 h-n z` on a `size`-module canvas) with rqrr,
/// from a bitmap at 4 pixels a module.
fn read_qr(d: &str, size: usize) -> Option<String> {
    let mut dark = vec![false; size * size];
    for run in d.split('M').filter(|r| !r.is_empty()) {
        let (start, rest) = run.split_once('h').unwrap();
        let (x, y) = start.split_once(' ').unwrap();
        let (x, y): (usize, usize) = (x.parse().unwrap(), y.parse().unwrap());
        let n: usize = rest.split_once('v').unwrap().0.parse().unwrap();
        for i in x..x + n {
            dark[y * size + i] = true;
        }
    }
    const SCALE: usize = 4;
    let mut image = rqrr::PreparedImage::prepare_from_greyscale(size * SCALE, size * SCALE, |x, y| {
        if dark[(y / SCALE) * size + x / SCALE] { 0 } else { 255 }
    });
    let grids = image.detect_grids();
    let (_, content) = grids.first()?.decode().ok()?;
    Some(content)
}

fn calls_to(calls: &Array, key: &str) -> usize {
    calls.iter().filter(|c| field(c, "key").as_string().as_deref() == Some(key)).count()
}

#[wasm_bindgen_test]
async fn a_qr_code_shows_with_amount_and_countdown_expires_refreshes_and_turns_into_success_when_paid() {
    let qr = |expires_at: u64| ok(&format!(r#"{{"type":"qr","data":"weixin://wxpay/bizpayurl?pr=AbCdEf123","expires_at":{expires_at}}}"#));
    let table = routes(&[
        ("GET /v1/sessions/cs_qr", &desktop_session()),
        ("POST /v1/sessions/cs_qr/pay", &qr(now() + 2)),
    ]);
    let calls = install_fake_worker(&table);
    let host = host();
    let seen = record_events(&host);
    let mut handle = mount_on(&host, "cs_qr", "en");
    find(&host, r#"[data-edgepay-state="methods"]"#).await;
    set_route(&table, "GET /v1/sessions/cs_qr", &desktop_session().replace(r#""status":"open""#, r#""status":"processing""#));
    click(&find(&host, r#"button[data-method="wechat_native"]"#).await);
    let code = find(&host, "svg.ep-code").await;
    assert_eq!(attr(&code, "role"), "img");
    assert_eq!(attr(&code, "aria-label"), "Payment QR code · WeChat Pay QR code · ¥68.00 · Scan with WeChat on your phone");
    // 37 bytes need version 3 at level M: 29 modules, and the quiet zone, 37 a side.
    assert_eq!(attr(&code, "viewBox"), "0 0 37 37");
    let d = attr(&find(&host, "svg.ep-code path").await, "d");
    // The three finder patterns start with a 7-module run at their top-left corners.
    for corner in ["M4 4h7v1h-7z", "M26 4h7v1h-7z", "M4 26h7v1h-7z"] {
        assert!(d.contains(corner), "{corner} in {d}");
    }
    // And a QR reader reads the drawing back as the worker's data.
    assert_eq!(read_qr(&d, 37).as_deref(), Some("weixin://wxpay/bizpayurl?pr=AbCdEf123"));
    assert_eq!(text(&find(&host, ".ep-qr-amount").await), "¥68.00");
    assert!(text(&find(&host, ".ep-countdown").await).starts_with("Code expires in 0:0"));
    assert_eq!(focused(&host).map(|f| attr(&f, "class")).as_deref(), Some("ep-msg"));

    // Polled while shown; at its expiry, a new code is offered.
    let card = find(&host, r#"[data-edgepay-state="qr_expired"]"#).await;
    assert!(text(&card).contains("This QR code has expired. Get a new one to scan."), "{}", text(&card));
    assert!(calls_to(&calls, "GET /v1/sessions/cs_qr") >= 2, "the status was asked for while the code was shown");
    set_route(&table, "POST /v1/sessions/cs_qr/pay", &qr(now() + 600));
    click(&all(&host, ".ep-actions button")[0]);
    find(&host, r#"[data-edgepay-state="qr"]"#).await;
    assert_eq!(calls_to(&calls, "POST /v1/sessions/cs_qr/pay"), 2);

    // Paid on the phone: the next poll says so.
    set_route(&table, "GET /v1/sessions/cs_qr", &session("paid", 6800, "desktop_browser", DESKTOP_METHODS, "[]"));
    let card = find(&host, r#"[data-edgepay-state="success"]"#).await;
    assert!(text(&card).contains("Payment complete"));
    sleep(50).await;
    assert_eq!(focused(&host).map(|f| attr(&f, "class")).as_deref(), Some("ep-msg"), "focus moves to the outcome");
    assert!(events(&seen).contains(&("edgepay:success".into(), "success".into())));
    handle.destroy();
}

#[wasm_bindgen_test]
async fn wechat_jsapi_ok_is_confirmed_with_the_worker_cancel_returns_to_the_list_fail_says_why() {
    let params = r#"{"appId":"wx1","timeStamp":"1","nonceStr":"n","package":"prepay_id=wx2","signType":"RSA","paySign":"s"}"#;
    let table = routes(&[
        ("GET /v1/sessions/cs_jsapi", &session("open", 6800, "wechat_inapp", WECHAT_METHODS, WECHAT_BLOCKED)),
        ("POST /v1/sessions/cs_jsapi/pay", &ok(&format!(r#"{{"type":"jsapi","params":{params}}}"#))),
    ]);
    let calls = install_fake_worker(&table);
    let host = host();
    let seen = record_events(&host);
    let mut handle = mount_on(&host, "cs_jsapi", "zh-CN");
    find(&host, r#"[data-edgepay-state="methods"]"#).await;

    // Cancelled in WeChat's sheet: back to the list, focus on the method.
    let invoked = fake_wechat_bridge("cancel");
    click(&find(&host, r#"button[data-method="wechat_jsapi"]"#).await);
    find(&host, r#"[data-edgepay-state="bridge"]"#).await;
    find(&host, r#"[data-edgepay-state="methods"]"#).await;
    sleep(30).await;
    assert_eq!(focused(&host).map(|f| attr(&f, "data-method")).as_deref(), Some("wechat_jsapi"));
    assert!(events(&seen).contains(&("edgepay:cancel".into(), "wechat_jsapi".into())));
    let first = invoked.get(0);
    assert_eq!(field(&first, "name").as_string().as_deref(), Some("getBrandWCPayRequest"));
    assert_eq!(field(&field(&first, "params"), "package").as_string().as_deref(), Some("prepay_id=wx2"));

    // Failed in the sheet: a sentence, retry, another method.
    fake_wechat_bridge("fail");
    click(&find(&host, r#"button[data-method="wechat_jsapi"]"#).await);
    let card = find(&host, r#"[data-edgepay-state="failure"]"#).await;
    assert!(text(&card).contains("微信支付未能完成，请重试或选择其他支付方式。"), "{}", text(&card));
    click(&all(&host, ".ep-actions button")[1]);
    find(&host, r#"[data-edgepay-state="methods"]"#).await;

    // "ok" is only a hint: the widget checks with the worker before it says paid.
    fake_wechat_bridge("ok");
    set_route(&table, "GET /v1/sessions/cs_jsapi", &session("processing", 6800, "wechat_inapp", WECHAT_METHODS, WECHAT_BLOCKED));
    let asked = calls_to(&calls, "GET /v1/sessions/cs_jsapi");
    click(&find(&host, r#"button[data-method="wechat_jsapi"]"#).await);
    find(&host, r#"[data-edgepay-state="checking"]"#).await;
    sleep(200).await;
    assert!(calls_to(&calls, "GET /v1/sessions/cs_jsapi") > asked, "the worker was asked");
    assert!(all(&host, r#"[data-edgepay-state="success"]"#).is_empty(), "not paid until the worker says so");
    set_route(&table, "GET /v1/sessions/cs_jsapi", &session("paid", 6800, "wechat_inapp", WECHAT_METHODS, WECHAT_BLOCKED));
    click(&find(&host, ".ep-actions .ep-button").await);
    find(&host, r#"[data-edgepay-state="success"]"#).await;
    remove_global("WeixinJSBridge");
    handle.destroy();
}

#[wasm_bindgen_test]
async fn the_mini_program_hand_off_navigates_to_the_workers_path_or_says_it_cannot() {
    let table = routes(&[
        ("GET /v1/sessions/cs_mini", &session("open", 6800, "wechat_miniprogram", r#"["wechat_miniprogram"]"#, "[]")),
        ("POST /v1/sessions/cs_mini/pay", &ok(r#"{"type":"miniprogram","path":"/pages/edgepay/pay?session_id=cs_mini"}"#)),
    ]);
    install_fake_worker(&table);
    let host = host();
    let mut handle = mount_on(&host, "cs_mini", "en");
    find(&host, r#"[data-edgepay-state="methods"]"#).await;
    remove_global("wx");
    click(&find(&host, r#"button[data-method="wechat_miniprogram"]"#).await);
    let card = find(&host, r#"[data-edgepay-state="failure"]"#).await;
    assert!(text(&card).contains("Couldn't switch to the mini-program to pay."), "{}", text(&card));
    click(&all(&host, ".ep-actions button")[1]);
    find(&host, r#"[data-edgepay-state="methods"]"#).await;

    let urls = fake_miniprogram_sdk();
    click(&find(&host, r#"button[data-method="wechat_miniprogram"]"#).await);
    let card = find(&host, r#"[data-edgepay-state="handoff"]"#).await;
    assert!(text(&card).contains("Finish paying in the mini-program."));
    assert_eq!(urls.get(0).as_string().as_deref(), Some("/pages/edgepay/pay?session_id=cs_mini"));
    remove_global("wx");
    handle.destroy();
}

#[wasm_bindgen_test]
async fn back_from_a_providers_page_the_widget_checks_the_payment_and_offers_i_have_paid_and_pay_again() {
    let storage = web_sys::window().unwrap().session_storage().unwrap().unwrap();
    let key = "edgepay:pending:http://worker.test/v1/sessions/cs_back";
    storage.set_item(key, "paying:alipay_page").unwrap();
    let table = routes(&[("GET /v1/sessions/cs_back", &desktop_session().replace(r#""status":"open""#, r#""status":"processing""#))]);
    let calls = install_fake_worker(&table);
    let host = host();
    let seen = record_events(&host);
    let mut handle = mount_on(&host, "cs_back", "en");
    let card = find(&host, r#"[data-edgepay-state="checking"]"#).await;
    assert!(text(&card).contains("Checking your payment…"));
    assert!(text(&card).contains("Alipay web checkout"));
    let buttons = all(&host, ".ep-actions button");
    assert_eq!(buttons.iter().map(text).collect::<Vec<_>>(), ["I have paid", "Pay again"]);
    sleep(30).await;
    let asked = calls_to(&calls, "GET /v1/sessions/cs_back");
    click(&buttons[0]);
    sleep(100).await;
    assert!(calls_to(&calls, "GET /v1/sessions/cs_back") > asked, "\"I have paid\" asks the worker at once");
    set_route(&table, "GET /v1/sessions/cs_back", &session("paid", 6800, "desktop_browser", DESKTOP_METHODS, "[]"));
    click(&all(&host, ".ep-actions button")[0]);
    find(&host, r#"[data-edgepay-state="success"]"#).await;
    sleep(50).await;
    assert!(events(&seen).contains(&("edgepay:success".into(), "success".into())));
    assert_eq!(storage.get_item(key).unwrap(), None, "the payment is forgotten once paid");
    handle.destroy();

    // Not paid after all: "pay again" goes back to the list and forgets it.
    storage.set_item(key, "paying:alipay_page").unwrap();
    set_route(&table, "GET /v1/sessions/cs_back", &desktop_session().replace(r#""status":"open""#, r#""status":"processing""#));
    let again = self::host();
    let mut handle = mount_on(&again, "cs_back", "en");
    find(&again, r#"[data-edgepay-state="checking"]"#).await;
    click(&all(&again, ".ep-actions button")[1]);
    find(&again, r#"[data-edgepay-state="methods"]"#).await;
    assert_eq!(storage.get_item(key).unwrap(), None);
    handle.destroy();
}

#[wasm_bindgen_test]
async fn wechat_sign_in_leaves_the_page_once_and_a_second_sign_in_asked_for_on_return_is_a_failure() {
    let storage = web_sys::window().unwrap().session_storage().unwrap().unwrap();
    let key = "edgepay:pending:http://worker.test/v1/sessions/cs_oauth";
    storage.remove_item(key).unwrap();
    // A fragment: the test page stays where it is when the widget follows it.
    let table = routes(&[
        ("GET /v1/sessions/cs_oauth", &session("open", 6800, "wechat_inapp", WECHAT_METHODS, WECHAT_BLOCKED)),
        ("POST /v1/sessions/cs_oauth/pay", &ok(r##"{"type":"oauth","url":"#wechat-sign-in"}"##)),
    ]);
    let calls = install_fake_worker(&table);
    let host = host();
    let mut handle = mount_on(&host, "cs_oauth", "zh-CN");
    find(&host, r#"[data-edgepay-state="methods"]"#).await;
    click(&find(&host, r#"button[data-method="wechat_jsapi"]"#).await);
    find(&host, r#"[data-edgepay-state="redirecting"]"#).await;
    assert_eq!(web_sys::window().unwrap().location().hash().unwrap(), "#wechat-sign-in");
    assert_eq!(storage.get_item(key).unwrap().as_deref(), Some("signing_in:wechat_jsapi"));
    handle.destroy();

    // Back on the page: the widget pays again by itself; the worker asks for sign-in again.
    let back = self::host();
    let mut handle = mount_on(&back, "cs_oauth", "zh-CN");
    let card = find(&back, r#"[data-edgepay-state="failure"]"#).await;
    assert!(text(&card).contains("微信登录未完成"), "{}", text(&card));
    assert_eq!(calls_to(&calls, "POST /v1/sessions/cs_oauth/pay"), 2);
    assert_eq!(storage.get_item(key).unwrap(), None);
    handle.destroy();
}
