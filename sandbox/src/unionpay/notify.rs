//! What UnionPay sends: back notifications (consumption, refund, cancellation), the fields of the
//! front notification, and probes whose certificate does not chain to the sandbox's root.

use std::sync::OnceLock;
use std::time::Duration;

use payment_core::beijing_time::BeijingTime;
use payment_core::method::Provider;
use payment_core::unionpay::{sign_message, SignedMessage};

use super::{new_query_id, SUCCESS_MSG};
use crate::app::{now, random_digits, Shared};
use crate::notifier::Callback;
use crate::store::{Order, OrderStatus, RefundRecord};

/// Back notifications are form posts.
const CONTENT_TYPE: &str = "application/x-www-form-urlencoded; charset=UTF-8";

/// Beijing time of `unix` as `yyyyMMddHHmmss`.
fn compact(unix: u64) -> String {
    BeijingTime::from_unix(unix).map(BeijingTime::to_compact).unwrap_or_default()
}

/// Clearing facts derived from the payment time and serial, so every message about one
/// transaction agrees: `settleDate` (MMdd), `traceNo` (6 digits), `traceTime` (MMddHHmmss).
fn clearing(paid_at: u64, query_id: &str) -> (String, String, String) {
    let time = compact(paid_at);
    let trace_no = query_id.get(query_id.len().saturating_sub(6)..).unwrap_or("000000").to_owned();
    (time.get(4..8).unwrap_or_default().to_owned(), trace_no, time.get(4..14).unwrap_or_default().to_owned())
}

/// The fields UnionPay sends about a successful consumption (back and front notifications, and
/// the `orig…` facts a query answers).
pub(super) fn consume_fields(state: &Shared, order: &Order) -> Vec<(&'static str, String)> {
    let query_id = order.transaction_id.clone().unwrap_or_default();
    let (settle_date, trace_no, trace_time) = clearing(order.paid_at.unwrap_or_else(now), &query_id);
    let detail = |name: &str| order.detail.get(name).and_then(|v| v.as_str()).unwrap_or_default().to_owned();
    vec![
        ("version", payment_core::unionpay::request::VERSION.to_owned()),
        ("encoding", "UTF-8".to_owned()),
        ("bizType", "000201".to_owned()),
        ("txnType", "01".to_owned()),
        ("txnSubType", "01".to_owned()),
        ("accessType", "0".to_owned()),
        ("merId", state.keys.file.unionpay.mer_id.clone()),
        ("orderId", order.out_trade_no.clone()),
        ("txnTime", detail("txnTime")),
        ("txnAmt", order.amount_fen.to_string()),
        ("currencyCode", "156".to_owned()),
        ("queryId", query_id),
        ("respCode", "00".to_owned()),
        ("respMsg", SUCCESS_MSG.to_owned()),
        ("settleAmt", order.amount_fen.to_string()),
        ("settleCurrencyCode", "156".to_owned()),
        ("settleDate", settle_date),
        ("traceNo", trace_no),
        ("traceTime", trace_time),
        ("payCardType", "01".to_owned()),
        ("reqReserved", detail("reqReserved")),
    ]
}

/// The fields of a refund or cancellation of `order`, as UnionPay reports it.
pub(super) fn refund_fields(state: &Shared, order: &Order, refund: &RefundRecord) -> Vec<(&'static str, String)> {
    let info = order.detail.get("refunds").and_then(|r| r.get(&refund.out_refund_no));
    let info = |name: &str| info.and_then(|i| i.get(name)).and_then(|v| v.as_str()).unwrap_or_default().to_owned();
    let (settle_date, trace_no, trace_time) = clearing(refund.created_at, &refund.refund_id);
    vec![
        ("version", payment_core::unionpay::request::VERSION.to_owned()),
        ("encoding", "UTF-8".to_owned()),
        ("bizType", "000201".to_owned()),
        ("txnType", info("txnType")),
        ("txnSubType", "00".to_owned()),
        ("accessType", "0".to_owned()),
        ("merId", state.keys.file.unionpay.mer_id.clone()),
        ("orderId", refund.out_refund_no.clone()),
        ("txnTime", info("txnTime")),
        ("txnAmt", refund.amount_fen.to_string()),
        ("currencyCode", "156".to_owned()),
        ("queryId", refund.refund_id.clone()),
        ("origQryId", order.transaction_id.clone().unwrap_or_default()),
        ("respCode", "00".to_owned()),
        ("respMsg", SUCCESS_MSG.to_owned()),
        ("settleAmt", refund.amount_fen.to_string()),
        ("settleCurrencyCode", "156".to_owned()),
        ("settleDate", settle_date),
        ("traceNo", trace_no),
        ("traceTime", trace_time),
    ]
}

/// Signs `fields` as the platform: its key, its certificate as `signPubKeyCert`.
pub(super) async fn sign(state: &Shared, fields: &[(&'static str, String)]) -> Option<SignedMessage> {
    sign_with(state, &state.keys.file.unionpay.platform_sign_cert, fields).await
}

async fn sign_with(state: &Shared, cert_pem: &str, fields: &[(&'static str, String)]) -> Option<SignedMessage> {
    let pairs: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
    sign_message(&state.keys.unionpay_platform, cert_pem, &pairs).await.ok()
}

fn callback(order_no: &str, kind: &'static str, url: &str, message: &SignedMessage) -> Callback {
    Callback {
        provider: Provider::Unionpay,
        out_trade_no: order_no.to_owned(),
        kind,
        url: url.to_owned(),
        headers: Vec::new(),
        content_type: CONTENT_TYPE,
        body: message.form_body().into_bytes(),
    }
}

pub(super) async fn payment_callback(state: &Shared, order: &Order) -> Option<Callback> {
    if order.status != OrderStatus::Paid {
        return None;
    }
    let url = order.notify_url.as_deref()?;
    let message = sign(state, &consume_fields(state, order)).await?;
    Some(callback(&order.out_trade_no, "payment", url, &message))
}

pub(super) async fn refund_callback(state: &Shared, order: &Order, refund: &RefundRecord) -> Option<Callback> {
    let url = order.detail.get("refunds")?.get(&refund.out_refund_no)?.get("backUrl")?.as_str()?.to_owned();
    if !refund.succeeded {
        return None;
    }
    let message = sign(state, &refund_fields(state, order, refund)).await?;
    Some(callback(&order.out_trade_no, "refund", &url, &message))
}

pub(super) async fn probe_callback(state: &Shared, url: &str) -> Callback {
    let order = Order {
        provider: Provider::Unionpay,
        out_trade_no: format!("PROBE{}", random_digits(16)),
        kind: "probe".to_owned(),
        amount_fen: 1,
        description: "signature probe".to_owned(),
        status: OrderStatus::Paid,
        notify_url: Some(url.to_owned()),
        return_url: None,
        transaction_id: Some(new_query_id()),
        payer: None,
        created_at: now(),
        paid_at: Some(now()),
        refunds: Vec::new(),
        deliveries: Vec::new(),
        fingerprint: String::new(),
        detail: serde_json::json!({ "txnTime": compact(now()) }),
    };
    let fields = consume_fields(state, &order);
    let message = match rogue_certificate(state) {
        Some(cert) => sign_with(state, cert, &fields).await,
        None => None,
    };
    let body = match message {
        Some(message) => message.form_body().into_bytes(),
        // Fallback: genuinely signed, then the amount changed.
        None => sign(state, &fields)
            .await
            .map(|m| m.form_body().replacen("txnAmt=1&", "txnAmt=2&", 1).into_bytes())
            .unwrap_or_default(),
    };
    Callback {
        provider: Provider::Unionpay,
        out_trade_no: order.out_trade_no,
        kind: "probe",
        url: url.to_owned(),
        headers: Vec::new(),
        content_type: CONTENT_TYPE,
        body,
    }
}

/// A certificate with the platform certificate's subject and key that claims the middle CA as
/// its issuer but is signed by the platform key itself: made once, in memory.
fn rogue_certificate(state: &Shared) -> Option<&'static str> {
    static ROGUE: OnceLock<Option<String>> = OnceLock::new();
    ROGUE.get_or_init(|| build_rogue_certificate(state).ok()).as_deref()
}

fn build_rogue_certificate(state: &Shared) -> Result<String, Box<dyn std::error::Error>> {
    use der::pem::LineEnding;
    use der::{DecodePem as _, EncodePem as _};
    use rsa::pkcs8::DecodePrivateKey as _;
    use x509_cert::builder::{Builder as _, CertificateBuilder, Profile};
    use x509_cert::serial_number::SerialNumber;
    use x509_cert::time::Validity;

    let unionpay = &state.keys.file.unionpay;
    let platform = x509_cert::Certificate::from_pem(unionpay.platform_sign_cert.as_bytes())?;
    let middle = x509_cert::Certificate::from_pem(unionpay.middle_cert.as_bytes())?;
    let key = rsa::RsaPrivateKey::from_pkcs8_pem(&unionpay.platform_sign_key)?;
    let signer = rsa::pkcs1v15::SigningKey::<sha2::Sha256>::new(key);
    let builder = CertificateBuilder::new(
        Profile::Leaf { issuer: middle.tbs_certificate.subject, enable_key_agreement: false, enable_key_encipherment: false },
        SerialNumber::new(&[0x10, 0x0b, 0xad, 0xce, 0x47])?,
        Validity::from_now(Duration::from_secs(365 * 24 * 3600))?,
        platform.tbs_certificate.subject,
        platform.tbs_certificate.subject_public_key_info,
        &signer,
    )?;
    Ok(builder.build::<rsa::pkcs1v15::Signature>()?.to_pem(LineEnding::LF)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clearing_facts() {
        // 2019-08-15 07:56:25Z is 15:56:25 in Beijing.
        let (settle_date, trace_no, trace_time) = clearing(1_565_855_785, "771812221459455328818");
        assert_eq!((settle_date.as_str(), trace_no.as_str(), trace_time.as_str()), ("0815", "328818", "0815155625"));
    }
}
