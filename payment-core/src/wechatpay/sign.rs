//! The merchant's request signature: the `Authorization` header
//! (<https://pay.weixin.qq.com/doc/v3/merchant/4012365336>), its parser and the platform-side check
//! the sandbox runs on every merchant request.
//!
//! ```text
//! Authorization: WECHATPAY2-SHA256-RSA2048 mchid="…",nonce_str="…",timestamp="…",serial_no="…",signature="…"
//! ```

use base64::Engine as _;

use super::canonical::{check_nonce, parse_timestamp, request_message};
use super::check_clock;
use crate::crypto::{RsaSigner, RsaVerifier};
use crate::error::{Error, Result};
use crate::ids::MchId;

/// The authentication scheme of SHA256-RSA2048 request signatures.
pub const SCHEME: &str = "WECHATPAY2-SHA256-RSA2048";

/// One merchant request, as it goes on the wire: what the signature covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Request<'a> {
    /// The HTTP method, upper case (`GET`, `POST`…).
    pub method: &'a str,
    /// Path and query exactly as sent, already percent-encoded (e.g. from
    /// [`super::model::query_by_out_trade_no_target`]).
    pub target: &'a str,
    /// The raw body; empty for GET.
    pub body: &'a [u8],
}

impl<'a> Request<'a> {
    /// A `GET` of `target` (empty body).
    pub fn get(target: &'a str) -> Self {
        Self {
            method: "GET",
            target,
            body: b"",
        }
    }

    /// A `POST` of `body` to `target`.
    pub fn post(target: &'a str, body: &'a [u8]) -> Self {
        Self {
            method: "POST",
            target,
            body,
        }
    }

    fn message(&self, timestamp: u64, nonce: &str) -> Result<Vec<u8>> {
        request_message(self.method, self.target, timestamp, nonce, self.body)
    }
}

/// The parameters of an `Authorization` header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthorizationParams {
    /// The merchant id.
    pub mchid: MchId,
    /// The request nonce.
    pub nonce_str: String,
    /// The signing time, Unix seconds.
    pub timestamp: u64,
    /// Serial number of the merchant API certificate whose key signed.
    pub serial_no: String,
    /// The signature, standard base64.
    pub signature: String,
}

impl AuthorizationParams {
    /// The header value, parameters in the documented order.
    pub fn to_header(&self) -> String {
        self.header_with_scheme(SCHEME)
    }

    fn header_with_scheme(&self, scheme: &str) -> String {
        format!(
            "{scheme} mchid=\"{}\",nonce_str=\"{}\",timestamp=\"{}\",serial_no=\"{}\",signature=\"{}\"",
            self.mchid, self.nonce_str, self.timestamp, self.serial_no, self.signature
        )
    }
}

/// Signs `request` and returns the `Authorization` header value
/// (<https://pay.weixin.qq.com/doc/v3/merchant/4012365336>).
///
/// `serial` is the merchant API certificate's serial number; `timestamp` (Unix seconds) and `nonce`
/// come from the caller, who also sends `request.target` and `request.body` byte for byte as signed.
///
/// # Errors
/// [`Error::Malformed`] when the method, target, nonce or serial cannot be signed unambiguously
/// (see [`request_message`]); the signer's error otherwise.
pub async fn authorization(
    signer: &impl RsaSigner,
    mchid: &MchId,
    serial: &str,
    request: &Request<'_>,
    timestamp: u64,
    nonce: &str,
) -> Result<String> {
    check_nonce(serial, "serial_no")?;
    let message = request.message(timestamp, nonce)?;
    let signature = signer.sign(&message).await?;
    let params = AuthorizationParams {
        mchid: mchid.clone(),
        nonce_str: nonce.to_owned(),
        timestamp,
        serial_no: serial.to_owned(),
        signature: base64::engine::general_purpose::STANDARD.encode(signature),
    };
    Ok(params.to_header())
}

/// Parses an `Authorization` header value: the scheme [`SCHEME`], then the five parameters
/// `mchid`, `nonce_str`, `timestamp`, `serial_no`, `signature` as `key="value"`, in any order,
/// separated by commas (spaces around them are allowed).
///
/// # Errors
/// [`Error::Malformed`] `"Authorization"` for another scheme, a missing, repeated or unknown
/// parameter, an unquoted value, or a value that is not valid for its parameter.
pub fn parse_authorization(header: &str) -> Result<AuthorizationParams> {
    const WHAT: &str = "Authorization";
    let malformed = || Error::Malformed { what: WHAT };
    let (scheme, mut rest) = header.trim().split_once(' ').ok_or_else(malformed)?;
    if scheme != SCHEME {
        return Err(malformed());
    }
    // mchid, nonce_str, timestamp, serial_no, signature
    let mut values: [Option<&str>; 5] = [None; 5];
    loop {
        let (key, after) = rest.trim_start().split_once('=').ok_or_else(malformed)?;
        let slot = match key.trim_end() {
            "mchid" => 0,
            "nonce_str" => 1,
            "timestamp" => 2,
            "serial_no" => 3,
            "signature" => 4,
            _ => return Err(malformed()),
        };
        let (value, after) = after
            .strip_prefix('"')
            .and_then(|a| a.split_once('"'))
            .ok_or_else(malformed)?;
        if values[slot].replace(value).is_some() {
            return Err(malformed());
        }
        let after = after.trim_start();
        if after.is_empty() {
            break;
        }
        rest = after.strip_prefix(',').ok_or_else(malformed)?;
    }
    let [Some(mchid), Some(nonce_str), Some(timestamp), Some(serial_no), Some(signature)] = values else {
        return Err(malformed());
    };
    check_nonce(nonce_str, WHAT)?;
    check_nonce(serial_no, WHAT)?;
    if signature.is_empty() {
        return Err(malformed());
    }
    Ok(AuthorizationParams {
        mchid: MchId::new(mchid).map_err(|_| malformed())?,
        nonce_str: nonce_str.to_owned(),
        timestamp: parse_timestamp(timestamp, WHAT)?,
        serial_no: serial_no.to_owned(),
        signature: signature.to_owned(),
    })
}

/// The platform side (the sandbox): checks a merchant request's `Authorization` header against the
/// request as received, the merchant's public key (`verifier`), the expected merchant id and
/// certificate serial, and the clock (`|now − timestamp| < 300` s).
///
/// Returns the parameters, so that the caller can refuse a nonce it has already seen.
///
/// # Errors
/// [`Error::Malformed`] for a header [`parse_authorization`] refuses or a request that cannot be
/// canonicalized; [`Error::Mismatch`] `"mchid"` for another merchant; [`Error::UnknownKey`] for
/// another certificate serial; [`Error::StaleTimestamp`]; [`Error::BadSignature`].
pub async fn verify_authorization(
    header: &str,
    request: &Request<'_>,
    verifier: &impl RsaVerifier,
    expected_mchid: &MchId,
    expected_serial: &str,
    now: u64,
) -> Result<AuthorizationParams> {
    let params = parse_authorization(header)?;
    if params.mchid != *expected_mchid {
        return Err(Error::Mismatch { field: "mchid" });
    }
    if params.serial_no != expected_serial {
        return Err(Error::UnknownKey);
    }
    check_clock(params.timestamp, now)?;
    let message = request.message(params.timestamp, &params.nonce_str)?;
    let signature = super::verify::decode_signature(&params.signature)?;
    verifier.verify(&message, &signature).await?;
    Ok(params)
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
    const AUTHORIZATION_VECTORS: &str = include_str!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../shared/vectors/wechatpay_authorization_header.json"
    ));

    fn mchid() -> MchId {
        MchId::new("1900000109").unwrap()
    }

    fn key() -> RsaPrivateKey {
        RsaPrivateKey::from_text(MERCHANT_KEY, "test").unwrap()
    }

    /// wechatpay-go `wechat_pay_credential_test.go` with its mock signer ("Sign:" + message,
    /// algorithm "Mock"): the message and the header layout, byte for byte.
    #[test]
    fn authorization_header_vectors_with_the_mock_signer() {
        let v: serde_json::Value = serde_json::from_str(AUTHORIZATION_VECTORS).unwrap();
        let cases = v["cases"].as_array().unwrap();
        assert_eq!(cases.len(), 2);
        for case in cases {
            let message = request_message(
                case["method"].as_str().unwrap(),
                case["canonical_url"].as_str().unwrap(),
                v["timestamp"].as_u64().unwrap(),
                v["nonce_str"].as_str().unwrap(),
                case["body"].as_str().unwrap().as_bytes(),
            )
            .unwrap();
            let params = AuthorizationParams {
                mchid: MchId::new(v["mchid"].as_str().unwrap()).unwrap(),
                nonce_str: v["nonce_str"].as_str().unwrap().to_owned(),
                timestamp: v["timestamp"].as_u64().unwrap(),
                serial_no: v["serial_no"].as_str().unwrap().to_owned(),
                signature: format!("Sign:{}", String::from_utf8(message).unwrap()),
            };
            assert_eq!(
                params.header_with_scheme("WECHATPAY2-Mock"),
                case["expected_authorization"].as_str().unwrap(),
                "{}",
                case["name"]
            );
        }
    }

    #[test]
    fn sign_parse_verify_round_trip() {
        let key = key();
        let body = "{\"description\":\"测试\"}";
        let request = Request::post("/v3/pay/transactions/jsapi", body.as_bytes());
        let header = block_on(authorization(
            &key,
            &mchid(),
            "1A2B3C4D5E6F",
            &request,
            1_700_000_000,
            "nonce123",
        ))
        .unwrap();
        assert!(header.starts_with("WECHATPAY2-SHA256-RSA2048 mchid=\"1900000109\",nonce_str=\"nonce123\",timestamp=\"1700000000\",serial_no=\"1A2B3C4D5E6F\",signature=\""));
        let params = parse_authorization(&header).unwrap();
        assert_eq!(params.to_header(), header);
        let verify = |request: &Request<'_>, now: u64| {
            block_on(verify_authorization(
                &header,
                request,
                key.public_key(),
                &mchid(),
                "1A2B3C4D5E6F",
                now,
            ))
        };
        assert_eq!(verify(&request, 1_700_000_000).unwrap(), params);
        assert!(verify(&request, 1_700_000_299).is_ok());
        assert!(verify(&request, 1_699_999_701).is_ok());
        assert_eq!(verify(&request, 1_700_000_300), Err(Error::StaleTimestamp));
        assert_eq!(verify(&request, 1_699_999_700), Err(Error::StaleTimestamp));
        // One byte of the body, the target, the method.
        let tampered = "{\"description\":\"测讯\"}";
        assert_eq!(
            verify(&Request::post(request.target, tampered.as_bytes()), 1_700_000_000),
            Err(Error::BadSignature)
        );
        assert_eq!(
            verify(&Request::post("/v3/pay/transactions/h5", request.body), 1_700_000_000),
            Err(Error::BadSignature)
        );
        assert_eq!(
            verify(
                &Request {
                    method: "PUT",
                    ..request
                },
                1_700_000_000
            ),
            Err(Error::BadSignature)
        );
        // Wrong merchant, wrong serial, wrong key.
        let other = MchId::new("1900000110").unwrap();
        assert_eq!(
            block_on(verify_authorization(
                &header,
                &request,
                key.public_key(),
                &other,
                "1A2B3C4D5E6F",
                1_700_000_000
            )),
            Err(Error::Mismatch { field: "mchid" })
        );
        assert_eq!(
            block_on(verify_authorization(
                &header,
                &request,
                key.public_key(),
                &mchid(),
                "1A2B3C4D5E70",
                1_700_000_000
            )),
            Err(Error::UnknownKey)
        );
        let other_key = RsaPrivateKey::from_text(OTHER_KEY, "test").unwrap();
        assert_eq!(
            block_on(verify_authorization(
                &header,
                &request,
                other_key.public_key(),
                &mchid(),
                "1A2B3C4D5E6F",
                1_700_000_000
            )),
            Err(Error::BadSignature)
        );
    }

    #[test]
    fn get_signs_an_empty_body_and_the_query() {
        let key = key();
        let target = "/v3/pay/transactions/out-trade-no/EP123456?mchid=1900000109";
        let header = block_on(authorization(&key, &mchid(), "S1", &Request::get(target), 100, "n")).unwrap();
        let params = parse_authorization(&header).unwrap();
        let signature = base64::engine::general_purpose::STANDARD
            .decode(&params.signature)
            .unwrap();
        key.public_key()
            .verify_now(format!("GET\n{target}\n100\nn\n\n").as_bytes(), &signature)
            .unwrap();
        // Another query value is another signature.
        let other = "/v3/pay/transactions/out-trade-no/EP123456?mchid=1900000108";
        assert_eq!(
            block_on(verify_authorization(
                &header,
                &Request::get(other),
                key.public_key(),
                &mchid(),
                "S1",
                100
            )),
            Err(Error::BadSignature)
        );
    }

    #[test]
    fn parameters_in_any_order_and_with_spaces() {
        // wechatpay-axios-plugin's order, and spaces after commas.
        let header = "WECHATPAY2-SHA256-RSA2048 mchid=\"1900000109\", serial_no=\"S1\",timestamp=\"100\" , nonce_str=\"n\",signature=\"c2ln\"";
        let params = parse_authorization(header).unwrap();
        assert_eq!(params.mchid, mchid());
        assert_eq!(params.serial_no, "S1");
        assert_eq!(params.timestamp, 100);
        assert_eq!(params.nonce_str, "n");
        assert_eq!(params.signature, "c2ln");
    }

    #[test]
    fn parser_refuses_what_it_cannot_trust() {
        let good = "mchid=\"1900000109\",nonce_str=\"n\",timestamp=\"100\",serial_no=\"S1\",signature=\"c2ln\"";
        assert!(parse_authorization(&format!("{SCHEME} {good}")).is_ok());
        let bad = [
            format!("WECHATPAY2-SHA256-RSA4096 {good}"),
            format!("wechatpay2-sha256-rsa2048 {good}"),
            format!("Bearer {good}"),
            SCHEME.to_owned(),
            format!("{SCHEME} "),
            format!("{SCHEME} {good},"),
            format!("{SCHEME} {good},mchid=\"1900000109\""),
            format!("{SCHEME} {good},extra=\"x\""),
            format!("{SCHEME} mchid=\"1900000109\",nonce_str=\"n\",timestamp=\"100\",serial_no=\"S1\""),
            format!("{SCHEME} mchid=1900000109,nonce_str=\"n\",timestamp=\"100\",serial_no=\"S1\",signature=\"c2ln\""),
            format!("{SCHEME} mchid=\"19000x\",nonce_str=\"n\",timestamp=\"100\",serial_no=\"S1\",signature=\"c2ln\""),
            format!(
                "{SCHEME} mchid=\"1900000109\",nonce_str=\"n\",timestamp=\"1e2\",serial_no=\"S1\",signature=\"c2ln\""
            ),
            format!(
                "{SCHEME} mchid=\"1900000109\",nonce_str=\"\",timestamp=\"100\",serial_no=\"S1\",signature=\"c2ln\""
            ),
            format!("{SCHEME} mchid=\"1900000109\",nonce_str=\"n\",timestamp=\"100\",serial_no=\"S1\",signature=\"\""),
            format!(
                "{SCHEME} mchid=\"1900000109\" nonce_str=\"n\",timestamp=\"100\",serial_no=\"S1\",signature=\"c2ln\""
            ),
            format!(
                "{SCHEME} mchid=\"1900000109\",nonce_str=\"n\",timestamp=\"100\",serial_no=\"S1\",signature=\"c2ln"
            ),
        ];
        for header in bad {
            assert_eq!(
                parse_authorization(&header),
                Err(Error::Malformed { what: "Authorization" }),
                "{header}"
            );
        }
    }

    #[test]
    fn refuses_to_sign_what_it_could_not_parse_back() {
        let key = key();
        let request = Request::get("/v3/certificates");
        assert!(block_on(authorization(&key, &mchid(), "S\"1", &request, 1, "n")).is_err());
        assert!(block_on(authorization(&key, &mchid(), "S1", &request, 1, "n,x")).is_err());
        assert!(block_on(authorization(&key, &mchid(), "", &request, 1, "n")).is_err());
    }

    mod props {
        #[cfg(target_arch = "wasm32")]
        use wasm_bindgen_test::wasm_bindgen_test as test;
        use super::super::*;
        use proptest::prelude::*;

        proptest! {
            #[test]
            fn parser_never_panics(header in "\\PC{0,200}") {
                let _ = parse_authorization(&header);
            }

            #[test]
            fn any_order_parses_to_the_same(order in Just([0usize, 1, 2, 3, 4]).prop_shuffle(), nonce in "[A-Za-z0-9]{1,32}", ts in 0u64..=9_999_999_999) {
                let pieces = [
                    "mchid=\"1900000109\"".to_owned(),
                    format!("nonce_str=\"{nonce}\""),
                    format!("timestamp=\"{ts}\""),
                    "serial_no=\"ABC\"".to_owned(),
                    "signature=\"c2ln\"".to_owned(),
                ];
                let joined: Vec<&str> = order.iter().map(|&i| pieces[i].as_str()).collect();
                let params = parse_authorization(&format!("{SCHEME} {}", joined.join(","))).unwrap();
                prop_assert_eq!(params.nonce_str, nonce);
                prop_assert_eq!(params.timestamp, ts);
            }
        }
    }
}
