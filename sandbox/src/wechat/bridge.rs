//! The fake `WeixinJSBridge`: `GET /sandbox/bridge.js` (the script a browser test injects into a
//! page with a WeChat User-Agent) and `POST /sandbox/bridge/wechat/pay`, which it calls for
//! `getBrandWCPayRequest`. The only route of the sandbox open to any origin (CORS), since the shop's
//! page calls it.
//!
//! The endpoint takes the bridge parameters as the page passed them (`appId, timeStamp, nonceStr,
//! package, signType, paySign`) and `?answer=ok|cancel|fail` (what the shopper does). Like WeChat,
//! it first checks `paySign` with the merchant's public key
//! (`payment_core::wechatpay::jsapi::verify_jsapi_params`), the `appId` and the prepay id (known,
//! JSAPI, at most two hours old); then `ok` pays the order (payer = the order's openid) and
//! answers `{"err_msg":"get_brand_wcpay_request:ok"}`; `cancel` and `fail` answer `…:cancel` /
//! `…:fail` and leave the order unpaid. A refused request answers `…:fail` with `err_desc`.

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use payment_core::method::Provider;
use payment_core::wechatpay::jsapi::{verify_jsapi_params, JsapiParams};
use serde_json::json;

use crate::app::{lock, now, with_verdict, Shared};
use crate::providers;
use crate::store::OrderStatus;

/// The script, with `__EDGEPAY_SANDBOX_URL__` standing for the sandbox's base URL.
const SCRIPT: &str = include_str!("../../static/bridge.js");
/// How long a prepay id can be paid.
const PREPAY_LIFETIME_SECS: u64 = 2 * 3600;

pub(super) async fn script(State(state): State<Shared>) -> Response {
    (
        [
            ("content-type", "application/javascript; charset=utf-8"),
            ("cache-control", "no-store"),
            ("access-control-allow-origin", "*"),
        ],
        SCRIPT.replace("__EDGEPAY_SANDBOX_URL__", &state.base_url),
    )
        .into_response()
}

const CORS: [(&str, &str); 4] = [
    ("access-control-allow-origin", "*"),
    ("access-control-allow-methods", "POST, OPTIONS"),
    ("access-control-allow-headers", "content-type"),
    ("access-control-max-age", "600"),
];

pub(super) async fn preflight() -> Response {
    (StatusCode::NO_CONTENT, CORS).into_response()
}

fn answer(status: StatusCode, err_msg: &str, err_desc: Option<&str>, verdict: &str) -> Response {
    let mut body = json!({ "err_msg": format!("get_brand_wcpay_request:{err_msg}") });
    if let Some(desc) = err_desc {
        body["err_desc"] = json!(desc);
    }
    with_verdict((status, CORS, axum::Json(body)), verdict)
}

fn refuse(err_desc: &str, verdict: &str) -> Response {
    answer(StatusCode::BAD_REQUEST, "fail", Some(err_desc), &format!("bridge: {verdict}"))
}

pub(super) async fn pay(State(state): State<Shared>, Query(q): Query<HashMap<String, String>>, body: Bytes) -> Response {
    let shopper = q.get("answer").map_or("ok", String::as_str);
    if !matches!(shopper, "ok" | "cancel" | "fail") {
        return refuse("answer must be ok, cancel or fail", "unknown answer");
    }
    let Ok(params) = serde_json::from_slice::<JsapiParams>(&body) else {
        return refuse("调用支付JSAPI缺少参数 (appId, timeStamp, nonceStr, package, signType, paySign)", "malformed parameters");
    };
    let prepay_id = match verify_jsapi_params(&params, &state.keys.wechat_merchant).await {
        Ok(prepay_id) => prepay_id,
        Err(e) => return refuse("支付验证签名失败 (paySign does not verify)", &format!("paySign refused: {e}")),
    };
    if params.app_id.as_str() != state.keys.file.wechatpay.appid {
        return refuse("appId 与商户号不匹配 (unknown appId)", "unknown appId");
    }
    let order = lock(&state.store)
        .find_by_detail(Provider::Wechatpay, "prepay_id", prepay_id.as_str())
        .filter(|o| o.kind == "jsapi")
        .cloned();
    let Some(order) = order else {
        return refuse("prepay_id 无效 (unknown prepay_id)", "unknown prepay_id");
    };
    if now() > order.created_at + PREPAY_LIFETIME_SECS {
        return refuse("prepay_id 已过期 (prepay_id lives two hours)", "expired prepay_id");
    }
    match order.status {
        OrderStatus::Pending => {}
        OrderStatus::Failed => return refuse("支付失败，请重新下单支付 (the order failed)", "order failed"),
        OrderStatus::Paid => return refuse("该订单已支付 (already paid)", "order already paid"),
        OrderStatus::Closed => return refuse("订单已关闭 (order closed)", "order closed"),
    }
    match shopper {
        "cancel" => answer(StatusCode::OK, "cancel", None, "bridge: shopper cancelled"),
        "fail" => answer(StatusCode::OK, "fail", None, "bridge: payment failed (as told)"),
        _ => match providers::pay(&state, Provider::Wechatpay, &order.out_trade_no, order.payer.clone()).await {
                Ok(_) => answer(StatusCode::OK, "ok", None, "ok"),
                Err(_) => refuse("订单状态已改变 (the order changed meanwhile)", "order not pending"),
            },
    }
}
