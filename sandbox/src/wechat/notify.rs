//! Callbacks as WeChat Pay sends them (<https://pay.weixin.qq.com/doc/v3/merchant/4012791861>): the
//! envelope (`id`, `create_time`, `event_type`, `resource_type`, `resource`, `summary`) with the
//! resource encrypted by AEAD_AES_256_GCM under the APIv3 key, signed with the platform key over the
//! raw body; signature probes; and the encrypted platform certificate list.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use payment_core::method::Provider;
use payment_core::wechatpay::model::EventType;
use payment_core::wechatpay::notify::{encrypt_resource, EncryptedResource, NotificationEnvelope, AEAD_AES_256_GCM};
use payment_core::wechatpay::verify::{HEADER_NONCE, HEADER_SERIAL, HEADER_SIGNATURE, HEADER_TIMESTAMP, SIGNATURE_PROBE_PREFIX};
use payment_core::x509::Certificate;
use serde_json::{json, Value};

use super::auth::V3Request;
use super::pay::transaction;
use super::refund::{refund_notify_url, refund_success_time};
use super::{beijing, finish, platform_serial, sign_headers, Answer, ApiError};
use crate::app::{now, random_digits, random_token, Shared};
use crate::notifier::Callback;
use crate::store::{Order, OrderStatus, RefundRecord};

/// The header naming the signature algorithm of callbacks.
const HEADER_SIGNATURE_TYPE: &str = "Wechatpay-Signature-Type";
const SIGNATURE_TYPE: &str = "WECHATPAY2-SHA256-RSA2048";

/// A callback id shaped like WeChat Pay's (a UUID).
fn event_id() -> String {
    let hex = random_token(64).bytes().map(|b| format!("{:x}", b % 16)).collect::<String>();
    format!("{}-{}-{}-{}-{}", &hex[..8], &hex[8..12], &hex[12..16], &hex[16..20], &hex[20..32])
}

/// The signed body and headers of a callback whose resource is `plaintext`.
async fn envelope(state: &Shared, event_type: EventType, original_type: &str, summary: &str, plaintext: &[u8]) -> Option<(Vec<u8>, Vec<(String, String)>)> {
    let nonce = random_token(12);
    let ciphertext = encrypt_resource(&state.keys.wechat_apiv3, &nonce, original_type, plaintext).await.ok()?;
    let envelope = NotificationEnvelope {
        id: event_id(),
        create_time: beijing(now()),
        event_type,
        resource_type: "encrypt-resource".to_owned(),
        resource: EncryptedResource {
            algorithm: AEAD_AES_256_GCM.to_owned(),
            ciphertext,
            associated_data: original_type.to_owned(),
            original_type: original_type.to_owned(),
            nonce,
        },
        summary: summary.to_owned(),
    };
    let body = serde_json::to_vec(&envelope).ok()?;
    let mut headers = sign_headers(state, &body).await?;
    headers.push((HEADER_SIGNATURE_TYPE.to_owned(), SIGNATURE_TYPE.to_owned()));
    Some((body, headers))
}

fn callback(order: &Order, kind: &'static str, url: String, (body, headers): (Vec<u8>, Vec<(String, String)>)) -> Callback {
    Callback {
        provider: Provider::Wechatpay,
        out_trade_no: order.out_trade_no.clone(),
        kind,
        url,
        headers,
        content_type: "application/json",
        body,
    }
}

pub(super) async fn payment_callback(state: &Shared, order: &Order) -> Option<Callback> {
    let url = order.notify_url.clone()?;
    if order.status != OrderStatus::Paid {
        return None;
    }
    let mut resource = transaction(order);
    // The callback tells of the payment itself, whatever happened since (refunds).
    resource["trade_state"] = json!("SUCCESS");
    resource["trade_state_desc"] = json!("支付成功");
    let plaintext = resource.to_string().into_bytes();
    let signed = envelope(state, EventType::TransactionSuccess, "transaction", "支付成功", &plaintext).await?;
    Some(callback(order, "payment", url, signed))
}

pub(super) async fn refund_callback(state: &Shared, order: &Order, refund: &RefundRecord) -> Option<Callback> {
    let url = refund_notify_url(order, &refund.out_refund_no)?;
    if !refund.succeeded {
        return None;
    }
    let mut resource = json!({
        "mchid": order.detail.get("mchid").cloned().unwrap_or(Value::Null),
        "out_trade_no": order.out_trade_no,
        "transaction_id": order.transaction_id,
        "out_refund_no": refund.out_refund_no,
        "refund_id": refund.refund_id,
        "refund_status": "SUCCESS",
        "user_received_account": "支付用户零钱",
        "amount": {
            "total": order.amount_fen,
            "refund": refund.amount_fen,
            "payer_total": order.amount_fen,
            "payer_refund": refund.amount_fen,
        },
    });
    if let Some(at) = refund_success_time(order, &refund.out_refund_no) {
        resource["success_time"] = json!(beijing(at));
    }
    let plaintext = resource.to_string().into_bytes();
    let signed = envelope(state, EventType::RefundSuccess, "refund", "退款成功", &plaintext).await?;
    Some(callback(order, "refund", url, signed))
}

pub(super) async fn probe_callback(state: &Shared, url: &str) -> Callback {
    let keys = &state.keys.file.wechatpay;
    // A transaction that looks real and decrypts: only the signature says it must be refused.
    let plaintext = json!({
        "appid": keys.appid,
        "mchid": keys.mchid,
        "out_trade_no": format!("SIGNTEST{}", random_digits(16)),
        "transaction_id": super::new_transaction_id(),
        "trade_type": "NATIVE",
        "trade_state": "SUCCESS",
        "trade_state_desc": "支付成功",
        "bank_type": "OTHERS",
        "success_time": beijing(now()),
        "payer": { "openid": format!("oSignTest{}", random_token(19)) },
        "amount": { "total": 1, "payer_total": 1, "currency": "CNY", "payer_currency": "CNY" },
    })
    .to_string();
    let (body, mut headers) = envelope(state, EventType::TransactionSuccess, "transaction", "支付成功", plaintext.as_bytes())
        .await
        .unwrap_or_default();
    let garbage: String = random_token(344);
    let probe_signature = format!("{SIGNATURE_PROBE_PREFIX}{garbage}");
    match headers.iter_mut().find(|(name, _)| name == HEADER_SIGNATURE) {
        Some((_, value)) => *value = probe_signature,
        None => {
            headers = vec![
                (HEADER_TIMESTAMP.to_owned(), now().to_string()),
                (HEADER_NONCE.to_owned(), random_token(32)),
                (HEADER_SIGNATURE.to_owned(), probe_signature),
                (HEADER_SERIAL.to_owned(), platform_serial(state).to_owned()),
                (HEADER_SIGNATURE_TYPE.to_owned(), SIGNATURE_TYPE.to_owned()),
            ];
        }
    }
    Callback {
        provider: Provider::Wechatpay,
        out_trade_no: String::new(),
        kind: "probe",
        url: url.to_owned(),
        headers,
        content_type: "application/json",
        body,
    }
}

pub(super) async fn fresh_headers(state: &Shared, callback: &Callback) -> Option<Vec<(String, String)>> {
    if callback.kind == "probe" {
        return None;
    }
    let mut headers = sign_headers(state, &callback.body).await?;
    headers.push((HEADER_SIGNATURE_TYPE.to_owned(), SIGNATURE_TYPE.to_owned()));
    Some(headers)
}

/// `GET /v3/certificates`: the platform certificates, each encrypted with the APIv3 key
/// (associated data `certificate`), with serial and validity.
pub(super) async fn certificates(State(state): State<Shared>, _signed: V3Request) -> Response {
    let outcome = certificate_list(&state).await;
    finish(&state, outcome).await
}

async fn certificate_list(state: &Shared) -> Result<Answer, ApiError> {
    const END: &str = "-----END CERTIFICATE-----";
    let bundle = &state.keys.file.wechatpay.platform_cert;
    let mut data = Vec::new();
    for block in bundle.split_inclusive(END).filter(|b| b.contains("-----BEGIN CERTIFICATE-----")) {
        let pem = format!("{}\n", block.trim());
        let cert = Certificate::all_from_pem(&pem)
            .ok()
            .and_then(|certs| certs.into_iter().next())
            .ok_or_else(|| ApiError::system("platform certificate unreadable"))?;
        let (not_before, not_after) = cert.validity();
        let nonce = random_token(12);
        let ciphertext = encrypt_resource(&state.keys.wechat_apiv3, &nonce, "certificate", pem.as_bytes())
            .await
            .map_err(|_| ApiError::system("could not encrypt the certificate"))?;
        data.push(json!({
            "serial_no": cert.serial_hex(),
            "effective_time": beijing(not_before),
            "expire_time": beijing(not_after),
            "encrypt_certificate": {
                "algorithm": AEAD_AES_256_GCM,
                "nonce": nonce,
                "associated_data": "certificate",
                "ciphertext": ciphertext,
            },
        }));
    }
    Ok(Answer::Json(StatusCode::OK, json!({ "data": data })))
}
