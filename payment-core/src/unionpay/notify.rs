//! Verifying UnionPay's messages: the back notification (`backUrl` POST) and the gateway's answers
//! to queries, cancellations and refunds (<https://open.unionpay.com/tjweb/acproduct/APIList?apiservId=448>).
//!
//! Both carry `signMethod=01`, `signPubKeyCert` (the signing certificate, PEM) and `signature`.
//! The certificate is trusted only after [`TrustAnchors::verify_signing_cert`] (through
//! [`TrustAnchors::trusted_leaf`]); then the signature ([`super::sign`]) is checked with the
//! certificate's key. The caller supplies `verifier_for`, which turns an SPKI DER into an
//! [`RsaVerifier`] (the worker imports it into WebCrypto; native code uses
//! `RsaPublicKey::from_spki_der`).
//!
//! Encodings differ: the back notification is `application/x-www-form-urlencoded` (values decoded
//! once); the gateway's answers are raw `k=v&k=v` text whose values are *not* percent-encoded
//! (they contain `+`, `/`, `=` and CRLF), split on `&` outside `{…}`/`[…]` and then on the first `=`.

use super::model::{MerId, QueryId, RespCode, TxnType, UnionpayOrderId};
use super::sign::{signature, verify_fields, SIGN_METHOD_RSA_SHA256};
use super::request::VERSION;
use super::trust::{only_certificate, TrustAnchors};
use crate::beijing_time::BeijingTime;
use crate::crypto::{RsaSigner, RsaVerifier};
use crate::error::{Error, Result};
use crate::form::{encode_pairs, parse_urlencoded};
use crate::money::Amount;
use crate::x509::Certificate;

/// The reply body UnionPay expects once a back notification is handled (any HTTP 200 stops its
/// retries; `ok` is what its demo answers).
pub const ACK_BODY: &str = "ok";

/// A verified back notification of a consumption.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notify {
    /// `respCode`: `"00"` is a successful payment.
    pub resp_code: RespCode,
    /// `respMsg`.
    pub resp_msg: Option<String>,
    /// `merId`: check it is ours.
    pub mer_id: MerId,
    /// `orderId`: our order.
    pub order_id: UnionpayOrderId,
    /// `txnTime` as Unix seconds (sent as Beijing time): the order's time, as we sent it.
    pub txn_time: u64,
    /// `txnAmt`: check it equals the order's.
    pub txn_amt: Amount,
    /// `txnType`.
    pub txn_type: TxnType,
    /// `txnSubType`.
    pub txn_sub_type: Option<String>,
    /// `queryId`: UnionPay's serial of this transaction (needed to refund it).
    pub query_id: Option<QueryId>,
    /// `currencyCode`, `"156"` for CNY.
    pub currency_code: Option<String>,
    /// `settleAmt`.
    pub settle_amt: Option<Amount>,
    /// `settleDate`, `MMdd`.
    pub settle_date: Option<String>,
    /// `traceNo`.
    pub trace_no: Option<String>,
}

impl Notify {
    /// Whether the payment succeeded (`respCode` `"00"`).
    pub fn is_success(&self) -> bool {
        self.resp_code.is_success()
    }
}

/// A verified answer of the gateway (query, cancellation, refund).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    /// `respCode`: whether *this request* succeeded.
    pub resp_code: RespCode,
    /// `respMsg`.
    pub resp_msg: Option<String>,
    /// `merId`.
    pub mer_id: MerId,
    /// `orderId`.
    pub order_id: UnionpayOrderId,
    /// `txnTime` as Unix seconds.
    pub txn_time: u64,
    /// `txnType`.
    pub txn_type: TxnType,
    /// `txnAmt`, when present.
    pub txn_amt: Option<Amount>,
    /// `queryId`.
    pub query_id: Option<QueryId>,
    /// `origRespCode`: for a query, the outcome of the *queried* transaction.
    pub orig_resp_code: Option<RespCode>,
    /// `origRespMsg`.
    pub orig_resp_msg: Option<String>,
    /// `origQryId`: the original transaction of a cancellation or refund.
    pub orig_qry_id: Option<QueryId>,
}

impl Response {
    /// For a query: whether the queried payment succeeded (`respCode` and `origRespCode` both `"00"`).
    pub fn is_paid(&self) -> bool {
        self.resp_code.is_success() && self.orig_resp_code.as_ref().is_some_and(RespCode::is_success)
    }
}

/// Who checks the signing certificate: the anchors at a time, or nobody (tests only).
enum Trust<'a> {
    Anchors(&'a TrustAnchors, u64),
    Nobody,
}

async fn verify_message<V: RsaVerifier>(
    fields: &[(String, String)],
    trust: Trust<'_>,
    verifier_for: &impl Fn(&[u8]) -> Result<V>,
) -> Result<()> {
    let mut names: Vec<&str> = fields.iter().map(|(k, _)| k.as_str()).collect();
    names.sort_unstable();
    if names.windows(2).any(|w| w[0] == w[1]) {
        return Err(Error::Malformed { what: "repeated field" });
    }
    let get = |name: &str| fields.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str());
    if get("signMethod") != Some(SIGN_METHOD_RSA_SHA256) {
        return Err(Error::Malformed { what: "signMethod" });
    }
    if get("version") != Some(VERSION) {
        return Err(Error::Malformed { what: "version" });
    }
    let cert_pem = get("signPubKeyCert").ok_or(Error::Malformed { what: "signPubKeyCert" })?;
    let leaf = match trust {
        Trust::Anchors(anchors, now) => anchors.trusted_leaf(cert_pem, verifier_for, now).await?,
        Trust::Nobody => only_certificate(cert_pem)?,
    };
    let key = verifier_for(leaf.spki_der()).map_err(|_| Error::UntrustedCertificate)?;
    verify_fields(fields, &key).await
}

/// Splits a raw gateway answer: pairs on `&` outside `{…}` and `[…]`, name and value on the first
/// `=`, no decoding. Empty values are dropped (UnionPay never sends them).
///
/// # Errors
/// [`Error::Malformed`] `"response"` for text that is not UTF-8 or a pair without `=`.
pub fn parse_raw_fields(raw: &[u8]) -> Result<Vec<(String, String)>> {
    let malformed = || Error::Malformed { what: "response" };
    let text = std::str::from_utf8(raw).map_err(|_| malformed())?;
    let mut fields = Vec::new();
    let mut depth = 0_usize;
    let mut start = 0;
    let mut push = |segment: &str| -> Result<()> {
        if segment.is_empty() {
            return Ok(());
        }
        let (name, value) = segment.split_once('=').ok_or_else(malformed)?;
        if !value.is_empty() {
            fields.push((name.to_owned(), value.to_owned()));
        }
        Ok(())
    };
    for (i, c) in text.char_indices() {
        match c {
            '{' | '[' => depth += 1,
            '}' | ']' => depth = depth.saturating_sub(1),
            '&' if depth == 0 => {
                push(&text[start..i])?;
                start = i + 1;
            }
            _ => {}
        }
    }
    push(text.get(start..).unwrap_or_default())?;
    Ok(fields)
}

fn form_fields(raw_body: &[u8]) -> Result<Vec<(String, String)>> {
    Ok(parse_urlencoded(raw_body)?.into_iter().filter(|(_, v)| !v.is_empty()).collect())
}

struct Fields<'a>(&'a [(String, String)]);

impl Fields<'_> {
    fn get(&self, name: &str) -> Option<&str> {
        self.0.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    fn required(&self, name: &'static str) -> Result<&str> {
        self.get(name).ok_or(Error::Malformed { what: name })
    }

    fn text(&self, name: &str) -> Option<String> {
        self.get(name).map(str::to_owned)
    }

    fn amount(&self, name: &str) -> Result<Option<Amount>> {
        self.get(name).map(Amount::parse_unionpay).transpose()
    }

    fn txn_time(&self) -> Result<u64> {
        BeijingTime::parse_compact(self.required("txnTime")?, "txnTime").map(BeijingTime::unix)
    }

    fn notify(&self) -> Result<Notify> {
        Ok(Notify {
            resp_code: RespCode::new(self.required("respCode")?),
            resp_msg: self.text("respMsg"),
            mer_id: MerId::new(self.required("merId")?)?,
            order_id: UnionpayOrderId::new(self.required("orderId")?)?,
            txn_time: self.txn_time()?,
            txn_amt: Amount::parse_unionpay(self.required("txnAmt")?)?,
            txn_type: TxnType::parse(self.required("txnType")?),
            txn_sub_type: self.text("txnSubType"),
            query_id: self.get("queryId").map(QueryId::new).transpose()?,
            currency_code: self.text("currencyCode"),
            settle_amt: self.amount("settleAmt")?,
            settle_date: self.text("settleDate"),
            trace_no: self.text("traceNo"),
        })
    }

    fn response(&self) -> Result<Response> {
        Ok(Response {
            resp_code: RespCode::new(self.required("respCode")?),
            resp_msg: self.text("respMsg"),
            mer_id: MerId::new(self.required("merId")?)?,
            order_id: UnionpayOrderId::new(self.required("orderId")?)?,
            txn_time: self.txn_time()?,
            txn_type: TxnType::parse(self.required("txnType")?),
            txn_amt: self.amount("txnAmt")?,
            query_id: self.get("queryId").map(QueryId::new).transpose()?,
            orig_resp_code: self.get("origRespCode").map(RespCode::new),
            orig_resp_msg: self.text("origRespMsg"),
            orig_qry_id: self.get("origQryId").map(QueryId::new).transpose()?,
        })
    }
}

/// Verifies and parses a back notification from the raw POST body: the one entry point. `now` is
/// the current Unix time, for the certificates' validity.
///
/// # Errors
/// [`Error::Malformed`] for a body that is not form-encoded UTF-8, a repeated field, a
/// `signMethod` other than `01`, a `version` other than `5.1.0`, a missing or malformed field;
/// [`Error::InvalidKey`] for an unreadable `signPubKeyCert`; [`Error::UntrustedCertificate`] when it
/// does not pass [`TrustAnchors::verify_signing_cert`]; [`Error::BadSignature`] when the signature
/// does not verify; [`Error::InvalidAmount`] / [`Error::InvalidId`] for a malformed amount or id.
pub async fn parse_notify<V: RsaVerifier>(
    raw_body: &[u8],
    trust: &TrustAnchors,
    verifier_for: impl Fn(&[u8]) -> Result<V>,
    now: u64,
) -> Result<Notify> {
    let fields = form_fields(raw_body)?;
    verify_message(&fields, Trust::Anchors(trust, now), &verifier_for).await?;
    Fields(&fields).notify()
}

/// Verifies and parses a gateway answer (query, cancellation, refund) from the raw response body.
///
/// # Errors
/// As [`parse_notify`].
pub async fn parse_response<V: RsaVerifier>(
    raw_body: &[u8],
    trust: &TrustAnchors,
    verifier_for: impl Fn(&[u8]) -> Result<V>,
    now: u64,
) -> Result<Response> {
    let fields = parse_raw_fields(raw_body)?;
    verify_message(&fields, Trust::Anchors(trust, now), &verifier_for).await?;
    Fields(&fields).response()
}

/// **Tests only**: [`parse_notify`] without any certificate check — the signature is verified with
/// whatever `signPubKeyCert` the message carries, so anyone can forge it. For published vectors
/// whose certificates are expired or chain to roots not at hand.
///
/// # Errors
/// As [`parse_notify`], without [`Error::UntrustedCertificate`] from the chain.
pub async fn insecure_parse_notify_without_chain<V: RsaVerifier>(
    raw_body: &[u8],
    verifier_for: impl Fn(&[u8]) -> Result<V>,
) -> Result<Notify> {
    let fields = form_fields(raw_body)?;
    verify_message(&fields, Trust::Nobody, &verifier_for).await?;
    Fields(&fields).notify()
}

/// **Tests only**: [`parse_response`] without any certificate check (see
/// [`insecure_parse_notify_without_chain`]).
///
/// # Errors
/// As [`parse_response`], without [`Error::UntrustedCertificate`] from the chain.
pub async fn insecure_parse_response_without_chain<V: RsaVerifier>(
    raw_body: &[u8],
    verifier_for: impl Fn(&[u8]) -> Result<V>,
) -> Result<Response> {
    let fields = parse_raw_fields(raw_body)?;
    verify_message(&fields, Trust::Nobody, &verifier_for).await?;
    Fields(&fields).response()
}

/// Platform side (the sandbox): a message signed as UnionPay signs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedMessage {
    /// Every field, `signPubKeyCert` and `signature` included.
    pub fields: Vec<(String, String)>,
}

impl SignedMessage {
    /// As a back notification body (`application/x-www-form-urlencoded`).
    pub fn form_body(&self) -> String {
        encode_pairs(self.fields.iter().map(|(k, v)| (k.as_str(), v.as_str())))
    }

    /// As a gateway answer body (raw `k=v&…`, values not encoded, as UnionPay answers).
    pub fn raw_body(&self) -> String {
        self.fields.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("&")
    }
}

/// Platform side (the sandbox): signs `fields` with the key of `signing_cert_pem`, adding
/// `version=5.1.0` and `signMethod=01` when absent, then `signPubKeyCert` and `signature`. Empty
/// values are dropped.
///
/// # Errors
/// [`Error::Malformed`] when `fields` already holds `signPubKeyCert` or `signature`;
/// [`Error::InvalidKey`] when `signing_cert_pem` is not a certificate; [`Error::Crypto`] when the
/// signer fails.
pub async fn sign_message(
    signer: &impl RsaSigner,
    signing_cert_pem: &str,
    fields: &[(&str, &str)],
) -> Result<SignedMessage> {
    if fields.iter().any(|(k, _)| *k == "signPubKeyCert" || *k == "signature") {
        return Err(Error::Malformed { what: "signature" });
    }
    Certificate::all_from_pem(signing_cert_pem)?;
    let mut all: Vec<(String, String)> =
        fields.iter().filter(|(_, v)| !v.is_empty()).map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
    for (name, value) in [("version", VERSION), ("signMethod", SIGN_METHOD_RSA_SHA256)] {
        if !all.iter().any(|(k, _)| k == name) {
            all.push((name.to_owned(), value.to_owned()));
        }
    }
    all.push(("signPubKeyCert".to_owned(), signing_cert_pem.to_owned()));
    let signature = signature(signer, &all).await?;
    all.push(("signature".to_owned(), signature));
    Ok(SignedMessage { fields: all })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;
    use super::*;

    #[test]
    fn raw_answers_split_outside_braces_without_decoding() {
        let raw = "a=1+2/3==&reqReserved={x=1&y=[2&3]}&respMsg=成功[0000000]&empty=&cert=-----BEGIN\r\nAB+/==\r\n";
        let fields = parse_raw_fields(raw.as_bytes()).unwrap();
        let expected = [
            ("a", "1+2/3=="),
            ("reqReserved", "{x=1&y=[2&3]}"),
            ("respMsg", "成功[0000000]"),
            ("cert", "-----BEGIN\r\nAB+/==\r\n"),
        ];
        assert_eq!(fields.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect::<Vec<_>>(), expected);
        assert_eq!(parse_raw_fields(b"a=1&novalue"), Err(Error::Malformed { what: "response" }));
        assert_eq!(parse_raw_fields(b"a=\xff"), Err(Error::Malformed { what: "response" }));
    }
}
