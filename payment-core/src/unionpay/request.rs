//! Requests to UnionPay's ACP 5.1.0 gateway: the front consumption form (`frontTransReq.do`),
//! which the shopper's browser posts to UnionPay's cashier, and the status query (`queryTrans.do`),
//! which the server posts (<https://open.unionpay.com/tjweb/acproduct/APIList?apiservId=448>).

use super::model::{Channel, MerId, UnionpayOrderId};
use super::sign::{signature, SIGN_METHOD_RSA_SHA256};
use crate::beijing_time::BeijingTime;
use crate::crypto::RsaSigner;
use crate::error::{Error, Result};
use crate::form::{encode_pairs, AutoSubmitForm, FormMethod};
use crate::money::Amount;
use crate::x509::Certificate;

/// Production front transaction URL (the shopper's browser posts the form here).
pub const PRODUCTION_FRONT_TRANS_URL: &str = "https://gateway.95516.com/gateway/api/frontTransReq.do";

/// Production query URL.
pub const PRODUCTION_QUERY_TRANS_URL: &str = "https://gateway.95516.com/gateway/api/queryTrans.do";

/// The protocol version edgepay speaks.
pub const VERSION: &str = "5.1.0";

/// Who is asking and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Merchant {
    /// `merId`.
    pub mer_id: MerId,
    /// `certId`: the decimal serial of the merchant's signing certificate ([`Merchant::cert_id_of`]).
    pub cert_id: String,
    /// Where the front form goes, e.g. [`PRODUCTION_FRONT_TRANS_URL`] (or the sandbox).
    pub front_trans_url: String,
    /// Where queries go, e.g. [`PRODUCTION_QUERY_TRANS_URL`].
    pub query_trans_url: String,
}

impl Merchant {
    /// The `certId` of a signing certificate: its serial number in decimal.
    pub fn cert_id_of(cert: &Certificate) -> String {
        cert.serial_decimal()
    }
}

/// One consumption (payment) through UnionPay's cashier.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FrontConsume {
    /// `orderId`.
    pub order_id: UnionpayOrderId,
    /// `txnAmt`, in fen; at least 1.
    pub txn_amt: Amount,
    /// `channelType`: PC (`07`) or mobile (`08`).
    pub channel: Channel,
    /// `txnTime`, the order's time as Unix seconds (sent as Beijing `yyyyMMddHHmmss`); queries
    /// need the same value again.
    pub txn_time: u64,
    /// `payTimeout`: when the cashier stops accepting payment, Unix seconds; `None` for UnionPay's default.
    pub pay_timeout: Option<u64>,
    /// `frontUrl`: where the shopper's browser returns.
    pub front_url: String,
    /// `backUrl`: where UnionPay POSTs the back notification.
    pub back_url: String,
}

fn owned(fields: &[(&str, &str)]) -> Vec<(String, String)> {
    fields.iter().filter(|(_, v)| !v.is_empty()).map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
}

async fn signed(signer: &impl RsaSigner, mut fields: Vec<(String, String)>) -> Result<Vec<(String, String)>> {
    let signature = signature(signer, &fields).await?;
    fields.push(("signature".to_owned(), signature));
    Ok(fields)
}

/// The front consumption request (`txnType=01`, `txnSubType=01`, `bizType=000201`) as form data
/// for the shopper's browser to post; render it with [`AutoSubmitForm::to_html`] if needed.
///
/// # Errors
/// [`Error::InvalidAmount`] for a zero amount; [`Error::Malformed`] for an absurd time;
/// [`Error::Crypto`] when the signer fails.
pub async fn front_consume(merchant: &Merchant, consume: &FrontConsume, signer: &impl RsaSigner) -> Result<AutoSubmitForm> {
    if consume.txn_amt.is_zero() {
        return Err(Error::InvalidAmount);
    }
    let txn_time = BeijingTime::from_unix(consume.txn_time)?.to_compact();
    let pay_timeout = consume.pay_timeout.map(|t| BeijingTime::from_unix(t).map(BeijingTime::to_compact)).transpose()?;
    let txn_amt = consume.txn_amt.to_unionpay();
    let fields = owned(&[
        ("version", VERSION),
        ("encoding", "UTF-8"),
        ("txnType", "01"),
        ("txnSubType", "01"),
        ("bizType", "000201"),
        ("channelType", consume.channel.as_str()),
        ("accessType", "0"),
        ("merId", merchant.mer_id.as_str()),
        ("orderId", consume.order_id.as_str()),
        ("txnTime", &txn_time),
        ("txnAmt", &txn_amt),
        ("currencyCode", "156"),
        ("frontUrl", &consume.front_url),
        ("backUrl", &consume.back_url),
        ("payTimeout", pay_timeout.as_deref().unwrap_or("")),
        ("signMethod", SIGN_METHOD_RSA_SHA256),
        ("certId", &merchant.cert_id),
    ]);
    Ok(AutoSubmitForm {
        action: merchant.front_trans_url.clone(),
        method: FormMethod::Post,
        fields: signed(signer, fields).await?,
    })
}

/// A server-to-server call to the gateway.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GatewayPost {
    /// Where to POST.
    pub url: String,
    /// The `application/x-www-form-urlencoded` body.
    pub body: String,
}

/// The status query of one order (`txnType=00`, `txnSubType=00`, `bizType=000000`); `txn_time`
/// must be the order's original `txnTime`.
///
/// # Errors
/// [`Error::Malformed`] for an absurd time; [`Error::Crypto`] when the signer fails.
pub async fn query(
    merchant: &Merchant,
    order_id: &UnionpayOrderId,
    txn_time: u64,
    signer: &impl RsaSigner,
) -> Result<GatewayPost> {
    let txn_time = BeijingTime::from_unix(txn_time)?.to_compact();
    let fields = owned(&[
        ("version", VERSION),
        ("encoding", "UTF-8"),
        ("txnType", "00"),
        ("txnSubType", "00"),
        ("bizType", "000000"),
        ("accessType", "0"),
        ("merId", merchant.mer_id.as_str()),
        ("orderId", order_id.as_str()),
        ("txnTime", &txn_time),
        ("signMethod", SIGN_METHOD_RSA_SHA256),
        ("certId", &merchant.cert_id),
    ]);
    let fields = signed(signer, fields).await?;
    Ok(GatewayPost {
        url: merchant.query_trans_url.clone(),
        body: encode_pairs(fields.iter().map(|(k, v)| (k.as_str(), v.as_str()))),
    })
}
