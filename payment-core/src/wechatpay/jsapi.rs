//! The parameters of `WeixinJSBridge.invoke('getBrandWCPayRequest', …)` / `wx.chooseWXPay` for a JSAPI
//! order (JSAPI调起支付, after <https://pay.weixin.qq.com/doc/v3/merchant/4012791856>): `paySign` = SHA256withRSA with
//! the merchant key over `appId\ntimeStamp\nnonceStr\npackage\n`, `package = "prepay_id=…"`.
//!
//! The bridge's `get_brand_wcpay_request:ok` is a hint only: query the order before saying paid.

use base64::Engine as _;
use serde::{Deserialize, Serialize};

use super::canonical::{check_nonce, parse_timestamp};
use super::model::PrepayId;
use crate::crypto::{RsaSigner, RsaVerifier};
use crate::error::{Error, Result};
use crate::ids::AppId;

/// The `signType` of API v3 JSAPI payments.
pub const SIGN_TYPE_RSA: &str = "RSA";

const PACKAGE_PREFIX: &str = "prepay_id=";

/// What the page hands to the JS bridge, serialized with the bridge's exact names:
/// `appId, timeStamp, nonceStr, package, signType, paySign`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct JsapiParams {
    /// The order's `appid`.
    pub app_id: AppId,
    /// Unix seconds, as a string.
    pub time_stamp: String,
    /// A nonce.
    pub nonce_str: String,
    /// `prepay_id=…`.
    pub package: String,
    /// `RSA`.
    pub sign_type: String,
    /// The base64 signature.
    pub pay_sign: String,
}

/// The message `paySign` covers: `appId\ntimeStamp\nnonceStr\npackage\n`.
///
/// # Errors
/// [`Error::Malformed`] when a piece holds a line feed or is not valid for its field.
pub fn pay_sign_message(app_id: &AppId, time_stamp: &str, nonce_str: &str, package: &str) -> Result<Vec<u8>> {
    parse_timestamp(time_stamp, "timeStamp")?;
    check_nonce(nonce_str, "nonceStr")?;
    let prepay_id = package
        .strip_prefix(PACKAGE_PREFIX)
        .ok_or(Error::Malformed { what: "package" })?;
    PrepayId::new(prepay_id).map_err(|_| Error::Malformed { what: "package" })?;
    Ok(format!("{app_id}\n{time_stamp}\n{nonce_str}\n{package}\n").into_bytes())
}

/// Signs the bridge parameters for `prepay_id` with the merchant key, at `timestamp` (Unix seconds)
/// with `nonce`.
///
/// # Errors
/// [`Error::Malformed`] for a nonce that cannot be signed unambiguously; the signer's error.
pub async fn jsapi_params(
    signer: &impl RsaSigner,
    app_id: &AppId,
    prepay_id: &PrepayId,
    timestamp: u64,
    nonce: &str,
) -> Result<JsapiParams> {
    let time_stamp = timestamp.to_string();
    let package = format!("{PACKAGE_PREFIX}{prepay_id}");
    let message = pay_sign_message(app_id, &time_stamp, nonce, &package)?;
    let signature = signer.sign(&message).await?;
    Ok(JsapiParams {
        app_id: app_id.clone(),
        time_stamp,
        nonce_str: nonce.to_owned(),
        package,
        sign_type: SIGN_TYPE_RSA.to_owned(),
        pay_sign: base64::engine::general_purpose::STANDARD.encode(signature),
    })
}

/// The platform side (the sandbox's fake bridge): checks `params` against the merchant's public key
/// and returns the prepay id they pay.
///
/// # Errors
/// [`Error::Malformed`] for another `signType`, a `package` that is not `prepay_id=…`, or a bad
/// timestamp or nonce; [`Error::BadSignature`] when `paySign` does not verify.
pub async fn verify_jsapi_params(params: &JsapiParams, verifier: &impl RsaVerifier) -> Result<PrepayId> {
    if params.sign_type != SIGN_TYPE_RSA {
        return Err(Error::Malformed { what: "signType" });
    }
    let message = pay_sign_message(&params.app_id, &params.time_stamp, &params.nonce_str, &params.package)?;
    let signature = super::verify::decode_signature(&params.pay_sign)?;
    verifier.verify(&message, &signature).await?;
    PrepayId::new(&params.package[PACKAGE_PREFIX.len()..]).map_err(|_| Error::Malformed { what: "package" })
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;
    use super::*;
    use crate::native::{block_on, RsaPrivateKey};

    const MERCHANT_KEY: &str = include_str!("../../fixtures/test_rsa_a.pkcs8.pem");
    const OTHER_KEY: &str = include_str!("../../fixtures/test_leaf.key.pem");

    fn signed() -> (RsaPrivateKey, JsapiParams) {
        let key = RsaPrivateKey::from_text(MERCHANT_KEY, "test").unwrap();
        let app_id = AppId::new("wx8888888888888888").unwrap();
        let prepay_id = PrepayId::new("wx201410272009395522657a690389285100").unwrap();
        let params = block_on(jsapi_params(
            &key,
            &app_id,
            &prepay_id,
            1_414_561_699,
            "5K8264ILTKCH16CQ2502SI8ZNMTM67VS",
        ))
        .unwrap();
        (key, params)
    }

    #[test]
    fn bridge_names_and_signed_message() {
        let (key, params) = signed();
        let json: serde_json::Value = serde_json::to_value(&params).unwrap();
        let names: Vec<&str> = json.as_object().unwrap().keys().map(String::as_str).collect();
        let mut expected = vec!["appId", "timeStamp", "nonceStr", "package", "signType", "paySign"];
        expected.sort_unstable();
        let mut names = names;
        names.sort_unstable();
        assert_eq!(names, expected);
        assert_eq!(json["package"], "prepay_id=wx201410272009395522657a690389285100");
        assert_eq!(json["signType"], "RSA");
        assert_eq!(json["timeStamp"], "1414561699");
        let signature = base64::engine::general_purpose::STANDARD
            .decode(&params.pay_sign)
            .unwrap();
        key.public_key()
            .verify_now(
                b"wx8888888888888888\n1414561699\n5K8264ILTKCH16CQ2502SI8ZNMTM67VS\nprepay_id=wx201410272009395522657a690389285100\n",
                &signature,
            )
            .unwrap();
        let back: JsapiParams = serde_json::from_value(json).unwrap();
        assert_eq!(back, params);
    }

    #[test]
    fn the_fake_bridge_verifies_and_refuses_tampering() {
        let (key, params) = signed();
        let verify = |p: &JsapiParams| block_on(verify_jsapi_params(p, key.public_key()));
        assert_eq!(
            verify(&params).unwrap().as_str(),
            "wx201410272009395522657a690389285100"
        );
        let other_prepay = JsapiParams {
            package: "prepay_id=wx201410272009395522657a690389285101".into(),
            ..params.clone()
        };
        assert_eq!(verify(&other_prepay), Err(Error::BadSignature));
        let other_time = JsapiParams {
            time_stamp: "1414561700".into(),
            ..params.clone()
        };
        assert_eq!(verify(&other_time), Err(Error::BadSignature));
        let other_app = JsapiParams {
            app_id: AppId::new("wx8888888888888889").unwrap(),
            ..params.clone()
        };
        assert_eq!(verify(&other_app), Err(Error::BadSignature));
        let md5 = JsapiParams {
            sign_type: "MD5".into(),
            ..params.clone()
        };
        assert_eq!(verify(&md5), Err(Error::Malformed { what: "signType" }));
        let no_prefix = JsapiParams {
            package: "wx201410272009395522657a690389285100".into(),
            ..params.clone()
        };
        assert_eq!(verify(&no_prefix), Err(Error::Malformed { what: "package" }));
        let injected = JsapiParams {
            nonce_str: "5K82\n64".into(),
            ..params.clone()
        };
        assert_eq!(verify(&injected), Err(Error::Malformed { what: "nonceStr" }));
        let other_key = RsaPrivateKey::from_text(OTHER_KEY, "test").unwrap();
        assert_eq!(
            block_on(verify_jsapi_params(&params, other_key.public_key())),
            Err(Error::BadSignature)
        );
    }
}
