//! The demo shop and its merchant backend: serves the shop page (products, a cart kept in a cookie,
//! and the checkout embedding the widget), creating a checkout session at the worker for every page
//! view for the cart's total, computed here from product ids (as a merchant's server does), and the
//! widget's files; previews the checkout in other environments (`/?ua=wechat`, `/environments`,
//! see [`preview`]); receives the worker's webhooks (`POST /webhooks/edgepay`, verified per Standard
//! Webhooks, idempotent by `webhook-id`) and shows the orders (`GET /orders`) with each session's
//! audit trail from the worker (`GET /orders/{session_id}`).
//!
//! Usage: `demo-site --worker-url URL --widget-dir DIR [--port N] [--merchant-api-key-file FILE]
//! [--webhook-secret-file FILE]` (0 picks a free port). The merchant API key comes from the file or
//! from the environment variable `EDGEPAY_MERCHANT_API_KEY`; the webhook secret (`whsec_…`) from its
//! file or `EDGEPAY_WEBHOOK_SECRET` (without one, webhooks are refused with 503). Prints `listening on http://127.0.0.1:PORT` once it accepts
//! connections; stops on Ctrl-C or SIGTERM.

use std::convert::Infallible;
use std::fmt;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::body::Body;
use payment_core::form::escape_html;
use axum::extract::{Form, Path as UrlPath, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use futures_util::stream::{self, StreamExt};
use payment_core::native::HmacKey;
use payment_core::webhook::WebhookSecret;
use serde_json::{json, Value};

mod orders;
mod preview;
mod shop;
use orders::{order_page, orders_page, receive_webhook, OrderBook};
use preview::{preview_links, preview_names, previewing, ua_query, PREVIEWS};
use shop::{cart_html, products_html, yuan, Cart, CART_COOKIE};

const SHOP_PAGE: &str = include_str!("../static/index.html");
const ENVIRONMENTS_PAGE: &str = include_str!("../static/environments.html");
/// Where the shop page is split: what comes before goes out before the session exists.
const FLUSH_MARK: &str = "<!-- flush -->";
const USAGE: &str = "usage: demo-site --worker-url URL --widget-dir DIR [--port N] [--merchant-api-key-file FILE] [--webhook-secret-file FILE]\n\
                     (or the merchant API key in EDGEPAY_MERCHANT_API_KEY, the webhook secret in EDGEPAY_WEBHOOK_SECRET)";

/// The merchant's API key for the worker. Never printed.
struct ApiKey(String);

impl fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ApiKey([redacted])")
    }
}

#[derive(Debug)]
struct Settings {
    port: u16,
    worker_url: String,
    widget_dir: PathBuf,
    api_key: ApiKey,
    webhook_secret: Option<WebhookSecret>,
}

#[derive(Debug)]
struct AppState {
    worker_url: String,
    api_key: ApiKey,
    widget_dir: PathBuf,
    http: reqwest::Client,
    orders: AtomicU64,
    /// The HMAC key of the webhook secret; `None` refuses every webhook.
    webhook_key: Option<HmacKey>,
    book: Mutex<OrderBook>,
    /// The session of each browser's checkout (by the checkout cookie), reused while its cart is
    /// the same and it has not expired: the shopper who comes back from a provider's page (H5,
    /// Alipay, UnionPay, WeChat sign-in) finds the same session, as with any real shop.
    checkouts: Mutex<std::collections::HashMap<String, Checkout>>,
}

/// A browser's current checkout.
#[derive(Debug, Clone)]
struct Checkout {
    /// The cart (cookie value) and the preview it was made for.
    cart: String,
    session: String,
    client_secret: String,
    /// The session's `expires_at` (Unix seconds).
    expires_at: u64,
}

/// The cookie naming a browser's checkout: 32 random hex characters, no meaning of its own.
const CHECKOUT_COOKIE: &str = "edgepay_demo_checkout";
/// At most this many checkouts are remembered (the oldest to expire go first).
const MAX_CHECKOUTS: usize = 10_000;

/// The checkout cookie of this request, if it has a well-formed one.
fn checkout_id(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().strip_prefix(CHECKOUT_COOKIE)?.strip_prefix('='))
        .find(|id| id.len() == 32 && id.bytes().all(|b| b.is_ascii_hexdigit()))
        .map(str::to_owned)
}

/// A new checkout id from the operating system's randomness.
fn new_checkout_id() -> Option<String> {
    use std::io::Read as _;
    let mut bytes = [0_u8; 16];
    std::fs::File::open("/dev/urandom").and_then(|mut f| f.read_exact(&mut bytes)).ok()?;
    Some(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

fn now_secs() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

#[tokio::main]
async fn main() -> ExitCode {
    let settings = match parse_args(
        std::env::args().skip(1),
        std::env::var("EDGEPAY_MERCHANT_API_KEY").ok(),
        std::env::var("EDGEPAY_WEBHOOK_SECRET").ok(),
    ) {
        Ok(settings) => settings,
        Err(message) => {
            eprintln!("demo-site: {message}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    if !settings.widget_dir.join("edgepay.js").is_file() {
        eprintln!(
            "demo-site: no widget build in {} (run scripts/build-widget.sh)",
            settings.widget_dir.display()
        );
        return ExitCode::from(1);
    }
    let http = match reqwest::Client::builder().no_proxy().timeout(Duration::from_secs(10)).build() {
        Ok(http) => http,
        Err(e) => {
            eprintln!("demo-site: {e}");
            return ExitCode::from(1);
        }
    };
    let state = Arc::new(AppState {
        worker_url: settings.worker_url.trim_end_matches('/').to_owned(),
        api_key: settings.api_key,
        widget_dir: settings.widget_dir,
        http,
        orders: AtomicU64::new(0),
        checkouts: Mutex::new(std::collections::HashMap::new()),
        webhook_key: settings.webhook_secret.map(|secret| HmacKey::new(secret.key_bytes())),
        book: Mutex::new(OrderBook::default()),
    });
    let app = Router::new()
        .route("/", get(shop))
        .route("/cart", post(update_cart))
        .route("/environments", get(environments))
        .route("/preview/{name}/{*rest}", axum::routing::any(preview::relay))
        .route("/webhooks/edgepay", post(receive_webhook))
        .route("/orders", get(orders_page))
        .route("/orders/{session_id}", get(order_page))
        .route("/widget/{file}", get(widget_file))
        .with_state(state);

    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, settings.port));
    let listener = match tokio::net::TcpListener::bind(addr).await {
        Ok(listener) => listener,
        Err(e) => {
            eprintln!("demo-site: cannot listen on {addr}: {e}");
            return ExitCode::from(1);
        }
    };
    match listener.local_addr() {
        Ok(addr) => println!("listening on http://{addr}"),
        Err(e) => {
            eprintln!("demo-site: {e}");
            return ExitCode::from(1);
        }
    }
    // Responses go out as they are written: without TCP_NODELAY a streamed page's or a small
    // file's second write waits for the client's delayed ACK (tens of milliseconds).
    let listener = axum::serve::ListenerExt::tap_io(listener, |tcp| {
        let _ = tcp.set_nodelay(true);
    });
    if let Err(e) = axum::serve(listener, app).with_graceful_shutdown(shutdown()).await {
        eprintln!("demo-site: {e}");
        return ExitCode::from(1);
    }
    ExitCode::SUCCESS
}

/// Query of the shop page. `ua` previews the checkout in another environment (see [`preview`]);
/// `expires_in` (seconds) is a demo knob, to see the widget expire.
#[derive(Debug, serde::Deserialize)]
struct ShopQuery {
    ua: Option<String>,
    expires_in: Option<u64>,
    /// `?session_data=0`: the page carries no `sessionData`, so the widget reads the session from
    /// the browser itself (to see that path).
    session_data: Option<String>,
}

/// The cart of this request: the cookie's, or the starter cart without one.
fn cart_of(headers: &HeaderMap) -> Cart {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(Cart::from_cookie_header)
        .unwrap_or_else(Cart::starter)
}

/// The shop page: the checkout with the browser's session for the cart's total (reused while the cart is the same, see `Checkout`), the cart, the products.
/// The page up to the checkout goes out at once, so that the browser fetches the widget (and draws
/// the shop) while this server asks the worker for the session; the rest follows with the session,
/// or with why there is none.
async fn shop(State(state): State<Arc<AppState>>, Query(query): Query<ShopQuery>, headers: HeaderMap) -> Response {
    let cart = cart_of(&headers);
    let (preview, preview_problem) = match query.ua.as_deref().filter(|ua| !ua.is_empty()) {
        None => (None, None),
        Some(name) => match preview::preview(name) {
            Some(preview) => (Some(preview), None),
            None => (None, Some(format!("Unknown preview ?ua={name}: use one of {}.", preview_names()))),
        },
    };
    let (top, checkout) = SHOP_PAGE.split_once(FLUSH_MARK).unwrap_or((SHOP_PAGE, ""));
    let top = top.replace("{{WORKER_URL}}", &escape_html(&state.worker_url)).replace("{{PREVIEWING}}", &previewing(preview));
    let checkout = checkout
        .replace("{{PREVIEW_LINKS}}", &preview_links(preview))
        .replace("{{PRODUCTS}}", &products_html(&cart, preview))
        .replace("{{CART}}", &cart_html(&cart, preview));
    let endpoint = match preview {
        Some(preview) => format!("/preview/{}", preview.name),
        None => state.worker_url.clone(),
    };
    // The browser's checkout: its session is reused while the cart is the same (see `Checkout`).
    let (checkout_cookie, new_cookie) = match checkout_id(&headers) {
        Some(id) => (Some(id), false),
        None => (new_checkout_id(), true),
    };
    let cart_key = format!("{}|{}", cart.cookie_value(), preview.map_or("", |p| p.name));
    let set_cookie = checkout_cookie.clone().filter(|_| new_cookie);
    let user_agent = headers.get(header::USER_AGENT).and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    // The shopper's first language, as the browser tells the widget (`navigator.language`).
    let language = headers
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split([',', ';']).next())
        .map(|tag| tag.trim().to_owned())
        .filter(|tag| !tag.is_empty());
    let previewing_now = preview.is_some() || query.session_data.as_deref() == Some("0");
    let rest = async move {
        let reusable = checkout_cookie.as_ref().filter(|_| query.expires_in.is_none()).and_then(|id| {
            let checkouts = state.checkouts.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            checkouts.get(id).filter(|c| c.cart == cart_key && c.expires_at > now_secs() + 60).cloned()
        });
        // The shopper's browser goes with a new session (its answer then has the widget's
        // sessionData), unless the page is a preview or leaves the read to the widget.
        let shopper = Some(user_agent.as_str()).filter(|_| !previewing_now);
        let (session, client_secret, problem, view) = if let Some(problem) = preview_problem {
            (String::new(), String::new(), problem, None)
        } else if cart.is_empty() {
            (String::new(), String::new(), "Your cart is empty: add a tea to check out. 购物车是空的。".to_owned(), None)
        } else if let Some(checkout) = reusable {
            (checkout.session, checkout.client_secret, String::new(), None)
        } else {
            match create_session(&state, &cart, query.expires_in, shopper).await {
                Ok((id, secret, expires_at, view)) => {
                    if let Some(cookie) = checkout_cookie {
                        let mut checkouts = state.checkouts.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
                        if checkouts.len() >= MAX_CHECKOUTS {
                            let now = now_secs();
                            checkouts.retain(|_, c| c.expires_at > now);
                            if checkouts.len() >= MAX_CHECKOUTS {
                                if let Some(oldest) = checkouts.iter().min_by_key(|(_, c)| c.expires_at).map(|(k, _)| k.clone()) {
                                    checkouts.remove(&oldest);
                                }
                            }
                        }
                        let checkout = Checkout { cart: cart_key, session: id.clone(), client_secret: secret.clone(), expires_at };
                        checkouts.insert(cookie, checkout);
                    }
                    (id, secret, String::new(), view)
                }
                Err(why) => (String::new(), String::new(), why, None),
            }
        };
        // The session as the worker shows it to this shopper, so that the widget need not ask
        // before it renders: from the creation's answer, or read now for a session made earlier
        // (previews go through their relay instead; `?session_data=0` leaves the read to the widget).
        let session_data = if session.is_empty() || previewing_now {
            String::new()
        } else if let Some(view) = view {
            view
        } else {
            read_session(&state, &session, &client_secret, &user_agent).await.unwrap_or_default()
        };
        // The widget's method list drawn here, in a declarative shadow root: the shopper sees the
        // methods before the widget's WebAssembly has loaded (the widget takes over at mount).
        let prerendered = match checkout_wasm::prerender(&session_data, language.as_deref()).await {
            Some(html) => format!("<template shadowrootmode=\"open\">{html}</template>"),
            None => String::new(),
        };
        Ok::<_, Infallible>(fill(
            &checkout,
            &[
                ("SESSION_DATA", &escape_html(&session_data)),
                ("PRERENDERED", &prerendered),
                ("ENDPOINT", &escape_html(&endpoint)),
                ("SESSION", &escape_html(&session)),
                ("CLIENT_SECRET", &escape_html(&client_secret)),
                ("PROBLEM", &escape_html(&problem)),
            ],
        ))
    };
    let body = stream::once(std::future::ready(Ok::<_, Infallible>(top))).chain(stream::once(rest));
    let mut response = (
        [(header::CONTENT_TYPE, "text/html; charset=utf-8"), (header::CACHE_CONTROL, "no-store")],
        Body::from_stream(body),
    )
        .into_response();
    if let Some(id) = set_cookie {
        let cookie = format!("{CHECKOUT_COOKIE}={id}; Path=/; Max-Age=86400; SameSite=Lax; HttpOnly");
        if let Ok(value) = header::HeaderValue::from_str(&cookie) {
            response.headers_mut().append(header::SET_COOKIE, value);
        }
    }
    response
}

/// `template` with each `{{NAME}}` of `values` replaced, in one pass: a value (a description
/// from the session, the drawn widget) is never searched for placeholders itself.
fn fill(template: &str, values: &[(&str, &str)]) -> String {
    let mut out = String::with_capacity(template.len() + values.iter().map(|(_, v)| v.len()).sum::<usize>());
    let mut rest = template;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        match after.find("}}").map(|end| (&after[..end], end)).and_then(|(name, end)| Some((values.iter().find(|(k, _)| *k == name)?.1, end))) {
            Some((value, end)) => {
                out.push_str(value);
                rest = &after[end + 2..];
            }
            None => {
                out.push_str("{{");
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// The form of `POST /cart`: set `product`'s quantity (0 removes it).
#[derive(Debug, serde::Deserialize)]
struct CartForm {
    product: String,
    quantity: u32,
}

/// `POST /cart`: changes the cart cookie and goes back to the shop (keeping `?ua=`).
async fn update_cart(Query(query): Query<ShopQuery>, headers: HeaderMap, Form(form): Form<CartForm>) -> Response {
    let Some(product) = shop::product(&form.product) else {
        return (StatusCode::BAD_REQUEST, "No such product.").into_response();
    };
    let mut cart = cart_of(&headers);
    cart.set(product, form.quantity);
    let back = ua_query(query.ua.as_deref().and_then(preview::preview));
    let cookie = format!("{CART_COOKIE}={}; Path=/; Max-Age=604800; SameSite=Lax; HttpOnly", cart.cookie_value());
    (StatusCode::SEE_OTHER, [(header::LOCATION, format!("/{back}")), (header::SET_COOKIE, cookie)]).into_response()
}

/// `GET /environments`: the checkout of the first product in every preview environment, side by
/// side, each with what `detectEnvironment` says for it. One session per environment.
async fn environments(State(state): State<Arc<AppState>>) -> Response {
    let cart = Cart::starter();
    let sessions = futures_util::future::join_all(PREVIEWS.iter().map(|_| create_session(&state, &cart, None, None))).await;
    let panels: String = PREVIEWS
        .iter()
        .zip(sessions)
        .map(|(p, session)| {
            let (id, secret, problem) = match session {
                Ok((id, secret, _, _)) => (id, secret, String::new()),
                Err(why) => (String::new(), String::new(), why),
            };
            format!(
                "<section class=\"env\" data-env=\"{name}\" data-expected=\"{expected}\" data-ua=\"{ua}\" data-hints=\"{hints}\" aria-label=\"{label}\">\
                 <h2>{label}</h2><code>{ua}</code><dl></dl><p class=\"problem\" role=\"alert\">{problem}</p>\
                 <div class=\"widget\" id=\"widget-{name}\" data-endpoint=\"/preview/{name}\" data-session=\"{id}\" data-client-secret=\"{secret}\"></div></section>",
                name = p.name,
                expected = p.environment,
                ua = escape_html(p.user_agent),
                hints = escape_html(p.detect_hints),
                label = escape_html(p.label),
                problem = escape_html(&problem),
                id = escape_html(&id),
                secret = escape_html(&secret),
            )
        })
        .collect();
    let html = ENVIRONMENTS_PAGE.replace("{{AMOUNT}}", &yuan(cart.total())).replace("{{PANELS}}", &panels);
    ([(header::CONTENT_TYPE, "text/html; charset=utf-8"), (header::CACHE_CONTROL, "no-store")], html).into_response()
}

/// `POST {worker}/v1/sessions` with the merchant API key, for the cart's total (from the catalog,
/// never from the page). Returns `(id, client_secret, expires_at)`, or a sentence for the page (no secret in it).
/// `POST {worker}/v1/sessions` for the cart. With the shopper's User-Agent (`shopper`), the answer
/// also carries the session as that browser reads it: returned as the widget's `sessionData`
/// (JSON), which saves a second call before the page can show the checkout.
async fn create_session(
    state: &AppState,
    cart: &Cart,
    expires_in: Option<u64>,
    shopper: Option<&str>,
) -> Result<(String, String, u64, Option<String>), String> {
    let millis = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis());
    let n = state.orders.fetch_add(1, Ordering::Relaxed);
    let amount = cart.total();
    let mut body = json!({
        "order_id": format!("demo-{millis}-{n}"),
        "amount": amount,
        "currency": "CNY",
        "description": cart.description(),
        "metadata": { "cart": cart.cookie_value() },
    });
    if let Some(expires_in) = expires_in {
        body["expires_in"] = json!(expires_in);
    }
    if let Some(user_agent) = shopper.filter(|ua| !ua.is_empty() && ua.len() <= 1024) {
        body["shopper"] = json!({ "user_agent": user_agent });
    }
    let response = state
        .http
        .post(format!("{}/v1/sessions", state.worker_url))
        .bearer_auth(&state.api_key.0)
        .json(&body)
        .send()
        .await
        .map_err(|_| "The shop could not reach the payment worker.".to_owned())?;
    let status = response.status();
    let answer: Value = response.json().await.map_err(|_| format!("The payment worker answered {status} without JSON."))?;
    if !status.is_success() {
        let code = answer["error"]["code"].as_str().unwrap_or("unknown");
        return Err(format!("The payment worker refused to create a session ({status}, {code})."));
    }
    match (answer["id"].as_str(), answer["client_secret"].as_str()) {
        (Some(id), Some(secret)) => {
            let order_id = body["order_id"].as_str().unwrap_or_default().to_owned();
            state.book().created(id, order_id, amount);
            let view = answer.get("view").filter(|v| v.is_object()).map(Value::to_string);
            Ok((id.to_owned(), secret.to_owned(), answer["expires_at"].as_u64().unwrap_or(0), view))
        }
        _ => Err("The payment worker's answer had no session id or client secret.".to_owned()),
    }
}

/// `GET {worker}/v1/sessions/{id}` with the client secret and the shopper's User-Agent: the
/// session as the widget would read it (the widget's `sessionData`), or `None` when the worker
/// does not answer it (the widget then asks itself).
async fn read_session(state: &AppState, id: &str, client_secret: &str, user_agent: &str) -> Option<String> {
    let response = state
        .http
        .get(format!("{}/v1/sessions/{id}", state.worker_url))
        .bearer_auth(client_secret)
        .header(header::USER_AGENT, user_agent)
        .send()
        .await
        .ok()?;
    if !response.status().is_success() {
        return None;
    }
    let text = response.text().await.ok()?;
    serde_json::from_str::<Value>(&text).ok().filter(|v| v["id"] == id).map(|_| text)
}

/// Serves one file of the widget build: flat names only, so nothing outside the directory is reachable.
async fn widget_file(State(state): State<Arc<AppState>>, UrlPath(file): UrlPath<String>) -> Response {
    let Some(content_type) = content_type(&file) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    if file.starts_with('.') || file.contains(['/', '\\']) {
        return StatusCode::NOT_FOUND.into_response();
    }
    match tokio::fs::read(state.widget_dir.join(&file)).await {
        Ok(bytes) => (
            [(header::CONTENT_TYPE, content_type), (header::CACHE_CONTROL, "no-cache")],
            bytes,
        )
            .into_response(),
        Err(_) => StatusCode::NOT_FOUND.into_response(),
    }
}

fn content_type(file: &str) -> Option<&'static str> {
    match Path::new(file).extension()?.to_str()? {
        "js" => Some("text/javascript; charset=utf-8"),
        "wasm" => Some("application/wasm"),
        "css" => Some("text/css; charset=utf-8"),
        "ts" => Some("text/plain; charset=utf-8"),
        _ => None,
    }
}

fn parse_args(
    mut args: impl Iterator<Item = String>,
    key_from_env: Option<String>,
    webhook_secret_from_env: Option<String>,
) -> Result<Settings, String> {
    let (mut port, mut worker_url, mut widget_dir, mut key_file, mut secret_file) = (0, None, None, None, None);
    while let Some(arg) = args.next() {
        let mut value = || args.next().ok_or(format!("{arg} needs a value"));
        match arg.as_str() {
            "--port" => {
                let v = value()?;
                port = v.parse().map_err(|_| format!("--port: not a port number: {v}"))?;
            }
            "--worker-url" => worker_url = Some(value()?),
            "--widget-dir" => widget_dir = Some(PathBuf::from(value()?)),
            "--merchant-api-key-file" => key_file = Some(PathBuf::from(value()?)),
            "--webhook-secret-file" => secret_file = Some(PathBuf::from(value()?)),
            other => return Err(format!("unknown argument: {other}")),
        }
    }
    let worker_url = worker_url.ok_or("--worker-url is required")?;
    if !(worker_url.starts_with("http://") || worker_url.starts_with("https://")) {
        return Err(format!("--worker-url must be an http(s) URL: {worker_url}"));
    }
    let api_key = match key_file {
        Some(file) => std::fs::read_to_string(&file)
            .map_err(|e| format!("--merchant-api-key-file {}: {e}", file.display()))?,
        None => key_from_env.ok_or("the merchant API key is required (--merchant-api-key-file or EDGEPAY_MERCHANT_API_KEY)")?,
    };
    let api_key = api_key.trim().to_owned();
    if api_key.is_empty() {
        return Err("the merchant API key is empty".into());
    }
    let webhook_secret = match secret_file {
        Some(file) => Some(
            std::fs::read_to_string(&file).map_err(|e| format!("--webhook-secret-file {}: {e}", file.display()))?,
        ),
        None => webhook_secret_from_env.filter(|s| !s.trim().is_empty()),
    };
    let webhook_secret = webhook_secret
        .map(|text| WebhookSecret::parse(&text, "EDGEPAY_WEBHOOK_SECRET"))
        .transpose()
        .map_err(|_| "the webhook secret is not whsec_ + base64 of 24 to 64 bytes".to_owned())?;
    Ok(Settings {
        port,
        worker_url,
        widget_dir: widget_dir.ok_or("--widget-dir is required")?,
        api_key: ApiKey(api_key),
        webhook_secret,
    })
}

async fn shutdown() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(term) => term,
            Err(_) => return ctrl_c.await.unwrap_or(()),
        };
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    ctrl_c.await.unwrap_or(());
}

#[cfg(test)]
mod tests {
    use super::fill;

    #[test]
    fn fill_replaces_each_placeholder_once_and_never_inside_a_value() {
        let page = fill("<p>{{A}}</p><i>{{B}}</i>{{UNKNOWN}}{{", &[("A", "{{B}}"), ("B", "x\"y")]);
        assert_eq!(page, "<p>{{B}}</p><i>x\"y</i>{{UNKNOWN}}{{");
    }
}
