//! The cashier pages a shopper (or a browser test) sees at the pretend providers: the page after
//! scanning a QR code, the H5/wap cashier, the page-pay and UnionPay gateway pages. Each has the
//! buttons *pay*, *cancel* and *fail*.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use payment_core::method::Provider;
use payment_core::money::Amount;
use serde::Deserialize;

use crate::app::{lock, with_verdict, Shared};
use crate::providers::{self, ChangeError};
use crate::store::{Order, OrderStatus};

/// The cashier routes.
pub fn routes() -> Router<Shared> {
    Router::new()
        .route("/sandbox/cashier/{provider}/{no}", get(page))
        .route("/sandbox/cashier/{provider}/{no}/{action}", post(act))
        .route("/sandbox/scan", get(scan))
}

/// The URL of the cashier page of an order.
pub fn url(state: &Shared, provider: Provider, out_trade_no: &str) -> String {
    format!("{}/sandbox/cashier/{}/{}", state.base_url, provider.as_str(), out_trade_no)
}

/// Escapes text for HTML content and attribute values (payment-core's, one rule for every page).
pub use payment_core::form::escape_html as escape;

fn brand(provider: Provider) -> (&'static str, &'static str) {
    match provider {
        Provider::Wechatpay => ("微信支付 WeChat Pay", "#07c160"),
        Provider::Alipay => ("支付宝 Alipay", "#1677ff"),
        Provider::Unionpay => ("银联 UnionPay", "#e60012"),
    }
}

fn shell(provider: Provider, title: &str, body: &str) -> Html<String> {
    let (name, color) = brand(provider);
    Html(format!(
        r#"<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>{title} · sandbox</title>
<style>
body{{margin:0;font-family:-apple-system,"PingFang SC","Microsoft YaHei",sans-serif;background:#f5f6f7;color:#1f2329}}
header{{background:{color};color:#fff;padding:14px 20px;font-weight:600}}
main{{max-width:420px;margin:24px auto;background:#fff;border-radius:12px;padding:24px}}
.amount{{font-size:32px;font-weight:600;margin:8px 0}} .muted{{color:#646a73}}
.sandbox{{background:#fff7e6;border:1px solid #ffd591;border-radius:8px;padding:8px 12px;font-size:13px;margin-bottom:16px}}
form{{display:inline}} button{{font:inherit;border:0;border-radius:8px;padding:12px 18px;margin:12px 8px 0 0;cursor:pointer}}
button[value=pay]{{background:{color};color:#fff}} button[value=cancel]{{background:#e5e6eb}} button[value=fail]{{background:#fff;border:1px solid #d83931;color:#d83931}}
</style></head><body><header>{name} · sandbox</header><main>
<p class="sandbox">edgepay sandbox: no real money moves. 测试环境，不会产生真实扣款。</p>
{body}</main></body></html>"#
    ))
}

fn status_text(status: OrderStatus) -> &'static str {
    match status {
        OrderStatus::Pending => "待支付 waiting for payment",
        OrderStatus::Paid => "支付成功 paid",
        OrderStatus::Closed => "已关闭 closed",
        OrderStatus::Failed => "支付失败 failed",
    }
}

fn amount_text(fen: u64) -> String {
    Amount::from_fen(fen).map_or_else(|_| format!("{fen} fen"), |a| a.to_string())
}

fn order_page(state: &Shared, order: &Order) -> Html<String> {
    let action = url(state, order.provider, &order.out_trade_no);
    let buttons = if order.status == OrderStatus::Pending {
        format!(
            r#"<form method="post" action="{a}/pay"><button name="action" value="pay">确认支付 Pay</button></form>
<form method="post" action="{a}/cancel"><button name="action" value="cancel">取消 Cancel</button></form>
<form method="post" action="{a}/fail"><button name="action" value="fail">模拟失败 Fail</button></form>"#,
            a = escape(&action)
        )
    } else {
        String::new()
    };
    let body = format!(
        r#"<p class="muted">{desc}</p><p class="amount" data-amount-fen="{fen}">{amount}</p>
<p class="muted">订单号 Order <code>{no}</code> · {kind}</p>
<p data-status="{status_key}">{status}</p>{buttons}"#,
        desc = escape(&order.description),
        fen = order.amount_fen,
        amount = escape(&amount_text(order.amount_fen)),
        no = escape(&order.out_trade_no),
        kind = escape(&order.kind),
        status_key = serde_json::to_value(order.status).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default(),
        status = status_text(order.status),
    );
    shell(order.provider, "收银台 Cashier", &body)
}

fn not_found() -> Response {
    with_verdict((StatusCode::NOT_FOUND, Html("<p>No such order at the sandbox.</p>")), "no such order")
}

async fn page(State(state): State<Shared>, Path((p, no)): Path<(String, String)>) -> Response {
    let Ok(provider) = p.parse::<Provider>() else { return not_found() };
    let Some(order) = lock(&state.store).get(provider, &no).cloned() else { return not_found() };
    order_page(&state, &order).into_response()
}

async fn act(State(state): State<Shared>, Path((p, no, action)): Path<(String, String, String)>) -> Response {
    let Ok(provider) = p.parse::<Provider>() else { return not_found() };
    let result = match action.as_str() {
        "pay" => providers::pay(&state, provider, &no, None).await,
        "fail" => providers::end_unpaid(&state, provider, &no, OrderStatus::Failed).await,
        "cancel" => lock(&state.store).get(provider, &no).cloned().ok_or(ChangeError::NotFound),
        _ => return not_found(),
    };
    match (action.as_str(), result) {
        ("pay", Ok(order)) => providers::after_pay(&state, &order),
        ("cancel", Ok(order)) => match order.return_url.as_deref() {
            // The shopper leaves the cashier without paying: back to the shop, which must ask.
            Some(url) => Redirect::to(url).into_response(),
            None => shell(provider, "已取消 Cancelled", "<p>已取消支付。 You cancelled the payment.</p>").into_response(),
        },
        (_, Ok(order)) => order_page(&state, &order).into_response(),
        (_, Err(ChangeError::NotFound)) => not_found(),
        (_, Err(ChangeError::NotPending)) => {
            let order = lock(&state.store).get(provider, &no).cloned();
            match order {
                Some(order) => with_verdict((StatusCode::CONFLICT, order_page(&state, &order)), "order not pending"),
                None => not_found(),
            }
        }
    }
}

#[derive(Debug, Deserialize)]
struct ScanQuery {
    data: String,
}

/// "Scanning" a QR code: the phone opens the cashier of the order whose code this is.
async fn scan(State(state): State<Shared>, Query(q): Query<ScanQuery>) -> Response {
    let found = lock(&state.store)
        .all()
        .find(|o| o.detail.get("qr_data").and_then(|v| v.as_str()) == Some(q.data.as_str()))
        .map(|o| (o.provider, o.out_trade_no.clone()));
    match found {
        Some((provider, no)) => Redirect::to(&url(&state, provider, &no)).into_response(),
        None => with_verdict((StatusCode::NOT_FOUND, Html("<p>This QR code is not one of the sandbox's.</p>")), "unknown QR code"),
    }
}

