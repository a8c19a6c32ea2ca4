//! The merchant backend's side of a payment: the webhook receiver and the orders pages.
//!
//! DEMO ONLY: orders and the webhook ids already seen live in memory ([`OrderBook`]), bounded and
//! lost on restart. A real merchant keeps both in its database, and records the `webhook-id` in the
//! same transaction as the order's new status.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::{Arc, MutexGuard, PoisonError};
use std::time::{SystemTime, UNIX_EPOCH};

use axum::body::Bytes;
use axum::extract::{Path as UrlPath, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use payment_core::webhook::{self, WebhookHeaders};
use serde_json::Value;

use super::shop::yuan;
use super::{escape_html, AppState};

/// At most this many orders are kept (the oldest go first).
const MAX_ORDERS: usize = 1000;
/// At most this many `webhook-id`s are remembered: far more than the worker's retries span.
const MAX_SEEN: usize = 10_000;

/// One order of the shop: a checkout session at the worker.
#[derive(Debug, Clone)]
pub(crate) struct Order {
    order_id: String,
    amount: u64,
    status: &'static str,
    /// `created_at` of the event that set `status` (0: none yet).
    updated_at: u64,
}

/// The demo's in-memory order book (see the module's documentation), keyed by session id.
#[derive(Debug, Default)]
pub(crate) struct OrderBook {
    orders: HashMap<String, Order>,
    /// Session ids, oldest first.
    order_list: VecDeque<String>,
    seen: HashSet<String>,
    seen_list: VecDeque<String>,
}

impl OrderBook {
    /// A session the shop just created.
    pub(crate) fn created(&mut self, session_id: &str, order_id: String, amount: u64) {
        self.insert(session_id, Order { order_id, amount, status: "open", updated_at: 0 });
    }

    fn insert(&mut self, session_id: &str, order: Order) {
        if self.orders.insert(session_id.to_owned(), order).is_none() {
            self.order_list.push_back(session_id.to_owned());
            if self.order_list.len() > MAX_ORDERS {
                if let Some(oldest) = self.order_list.pop_front() {
                    self.orders.remove(&oldest);
                }
            }
        }
    }

    /// Records `webhook_id`; false when it was already seen.
    fn first_time(&mut self, webhook_id: &str) -> bool {
        if !self.seen.insert(webhook_id.to_owned()) {
            return false;
        }
        self.seen_list.push_back(webhook_id.to_owned());
        if self.seen_list.len() > MAX_SEEN {
            if let Some(oldest) = self.seen_list.pop_front() {
                self.seen.remove(&oldest);
            }
        }
        true
    }

    /// Applies one verified event: the order's status becomes the event's, unless a later event
    /// already set it (deliveries can arrive out of order).
    fn apply(&mut self, event: &Value) {
        let Some(status) = event["type"].as_str().and_then(status_of) else {
            return;
        };
        let data = &event["data"];
        let Some(session_id) = data["session_id"].as_str() else {
            return;
        };
        let created_at = event["created_at"].as_u64().unwrap_or(0);
        if let Some(order) = self.orders.get_mut(session_id) {
            if created_at >= order.updated_at {
                order.status = status;
                order.updated_at = created_at;
            }
            return;
        }
        let order = Order {
            order_id: data["order_id"].as_str().unwrap_or_default().to_owned(),
            amount: data["amount"].as_u64().unwrap_or(0),
            status,
            updated_at: created_at,
        };
        self.insert(session_id, order);
    }
}

/// The order status an event type means; `None` for a type this shop does not know.
fn status_of(event_type: &str) -> Option<&'static str> {
    Some(match event_type {
        "payment.succeeded" => "paid",
        "payment.failed" => "failed",
        "payment.expired" => "expired",
        "payment.duplicate" => "duplicate payment",
        "refund.succeeded" => "refunded",
        "refund.failed" => "refund failed",
        _ => return None,
    })
}

/// The status in both languages, for the pages.
fn status_label(status: &str) -> String {
    let zh = match status {
        "open" => "待支付",
        "paid" => "已支付",
        "failed" => "支付失败",
        "expired" => "已过期",
        "duplicate payment" => "重复支付",
        "refunded" => "已退款",
        "refund failed" => "退款失败",
        _ => "",
    };
    format!("{status} · {zh}")
}

impl AppState {
    pub(crate) fn book(&self) -> MutexGuard<'_, OrderBook> {
        self.book.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

fn now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

fn text(status: StatusCode, body: &'static str) -> Response {
    (status, [(header::CONTENT_TYPE, "text/plain; charset=utf-8")], body).into_response()
}

/// `POST /webhooks/edgepay`: verified over the raw body (five minutes' tolerance), applied once
/// per `webhook-id`; a repeat answers 200 and changes nothing. 400 for anything that does not verify.
pub(crate) async fn receive_webhook(State(state): State<Arc<AppState>>, headers: HeaderMap, body: Bytes) -> Response {
    let Some(key) = &state.webhook_key else {
        return text(StatusCode::SERVICE_UNAVAILABLE, "no webhook secret configured\n");
    };
    let pairs = headers.iter().filter_map(|(name, value)| Some((name.as_str(), value.to_str().ok()?)));
    let Ok(delivery) = WebhookHeaders::from_pairs(pairs) else {
        return text(StatusCode::BAD_REQUEST, "missing webhook headers\n");
    };
    if webhook::verify(key, &delivery, &body, now()).await.is_err() {
        return text(StatusCode::BAD_REQUEST, "webhook not verified\n");
    }
    let Ok(event) = serde_json::from_slice::<Value>(&body) else {
        return text(StatusCode::BAD_REQUEST, "not a JSON event\n");
    };
    let mut book = state.book();
    if book.first_time(&delivery.id) {
        book.apply(&event);
    }
    text(StatusCode::OK, "ok\n")
}

fn page(title: &str, content: &str) -> Response {
    let html = format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{title}</title><style>body{{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem}}\
         table{{border-collapse:collapse;width:100%}}th,td{{text-align:left;padding:.4rem;border-bottom:1px solid #ddd}}</style></head>\
         <body>{content}</body></html>\n"
    );
    ([(header::CONTENT_TYPE, "text/html; charset=utf-8"), (header::CACHE_CONTROL, "no-store")], html).into_response()
}

/// A session id as the worker makes them (`cs_` and base32): safe in a URL path as it is.
fn is_session_id(id: &str) -> bool {
    id.len() <= 64 && !id.is_empty() && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

/// `GET /orders`: the sessions this shop created or heard of, newest first.
pub(crate) async fn orders_page(State(state): State<Arc<AppState>>) -> Response {
    let mut rows = String::new();
    {
        let book = state.book();
        for session_id in book.order_list.iter().rev() {
            let Some(order) = book.orders.get(session_id) else { continue };
            let id = escape_html(session_id);
            let session = if is_session_id(session_id) { format!("<a href=\"/orders/{id}\">{id}</a>") } else { id };
            rows.push_str(&format!(
                "<tr data-session=\"{}\" data-status=\"{}\"><td>{}</td><td>{session}</td><td>{}</td><td>{}</td></tr>\n",
                escape_html(session_id),
                escape_html(order.status),
                escape_html(&order.order_id),
                yuan(order.amount),
                escape_html(&status_label(order.status)),
            ));
        }
    }
    let content = if rows.is_empty() {
        "<h1>Orders · 订单</h1><p>No orders yet · 暂无订单. <a href=\"/\">Shop · 商店</a></p>".to_owned()
    } else {
        format!(
            "<h1>Orders · 订单</h1><p><a href=\"/\">Shop · 商店</a></p><table><thead><tr><th>Order · 订单号</th><th>Session · 会话</th>\
             <th>Amount · 金额</th><th>Status · 状态</th></tr></thead><tbody>\n{rows}</tbody></table>"
        )
    };
    page("Orders · 订单", &content)
}

/// `GET /orders/{session_id}`: the order and its audit trail, read from the worker with the
/// merchant key (the trail holds no secrets; the key never reaches the page).
pub(crate) async fn order_page(State(state): State<Arc<AppState>>, UrlPath(session_id): UrlPath<String>) -> Response {
    if !is_session_id(&session_id) {
        return StatusCode::NOT_FOUND.into_response();
    }
    let order = state.book().orders.get(&session_id).cloned();
    let id = escape_html(&session_id);
    let mut content = format!("<h1>Order · 订单</h1><p><a href=\"/orders\">All orders · 全部订单</a></p><dl><dt>Session · 会话</dt><dd>{id}</dd>");
    if let Some(order) = &order {
        content.push_str(&format!(
            "<dt>Order · 订单号</dt><dd>{}</dd><dt>Amount · 金额</dt><dd>{}</dd><dt>Status · 状态</dt><dd data-status=\"{}\">{}</dd>",
            escape_html(&order.order_id),
            yuan(order.amount),
            escape_html(order.status),
            escape_html(&status_label(order.status)),
        ));
    }
    content.push_str("</dl><h2>Audit trail · 审计记录</h2>");
    match audit_trail(&state, &session_id).await {
        Ok(entries) if entries.is_empty() => content.push_str("<p>No entries yet · 暂无记录</p>"),
        Ok(entries) => {
            content.push_str("<table><thead><tr><th>Time (UTC ms) · 时间</th><th>What · 事件</th><th>Attempt · 交易号</th><th>Detail · 详情</th></tr></thead><tbody>\n");
            for entry in &entries {
                let field = |name: &str| match &entry[name] {
                    Value::String(s) => escape_html(s),
                    Value::Null => String::new(),
                    other => escape_html(&other.to_string()),
                };
                content.push_str(&format!(
                    "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>\n",
                    field("at_ms"),
                    field("kind"),
                    field("out_trade_no"),
                    field("detail")
                ));
            }
            content.push_str("</tbody></table>");
        }
        Err(why) => content.push_str(&format!("<p class=\"problem\">{}</p>", escape_html(&why))),
    }
    page("Order · 订单", &content)
}

/// `GET {worker}/v1/sessions/{id}/events` with the merchant key: the trail's entries, or a
/// sentence for the page (no secret in it).
async fn audit_trail(state: &AppState, session_id: &str) -> Result<Vec<Value>, String> {
    let response = state
        .http
        .get(format!("{}/v1/sessions/{session_id}/events", state.worker_url))
        .bearer_auth(&state.api_key.0)
        .send()
        .await
        .map_err(|_| "The shop could not reach the payment worker.".to_owned())?;
    let status = response.status();
    let answer: Value = response.json().await.map_err(|_| format!("The payment worker answered {status} without JSON."))?;
    if !status.is_success() {
        let code = answer["error"]["code"].as_str().unwrap_or("unknown");
        return Err(format!("The payment worker refused the audit trail ({status}, {code})."));
    }
    Ok(answer["events"].as_array().cloned().unwrap_or_default())
}
