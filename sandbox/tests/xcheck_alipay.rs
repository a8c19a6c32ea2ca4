//! Cross-check of the sandbox's Alipay gateway with npm `alipay-sdk` 4.14.0
//! (tests/xcheck/sandbox_alipay.mjs), configured as a merchant configures it (the sandbox's gateway
//! URL, the app's private key and the sandbox's Alipay public key from `<state-dir>/keys.json`):
//! - its `exec` calls (`precreate`, `query`, `refund`) are accepted, and its `checkResponseSign`
//!   accepts every answer, errors included;
//! - its `pageExecute` GET URL and POST form open the cashier; the return after paying and the
//!   asynchronous notification pass its `checkNotifySignV2`; probes and tampered copies do not;
//! - one byte changed in a request it signed is refused (`isv.invalid-signature`);
//! - with the machine's zone on UTC its `timestamp` is eight hours off and refused
//!   (`isv.invalid-timestamp`): merchants must run it with TZ=Asia/Shanghai.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod merchant;

use merchant::{unique, Sandbox};
use serde_json::{json, Value};

#[test]
fn alipay_sdk_is_accepted_and_accepts_the_sandbox() {
    let sandbox = Sandbox::start();
    let keys = &sandbox.keys["alipay"];
    let no = unique("EPXQR");
    let page_no = unique("EPXPAGE");
    let out = edgepay_tests::node_xcheck(
        "sandbox_alipay.mjs",
        &json!({
            "sandbox": sandbox.url(),
            "app_id": keys["app_id"],
            "app_private_pem": keys["app_private_key"],
            "alipay_public_pem": keys["platform_public_key"],
            "out_trade_no": no,
            "page_no": page_no,
        }),
    );
    let answer = |step: &str| -> &Value {
        assert_eq!(out[step]["verified"], true, "{step}: their checkResponseSign refused the answer: {}", out[step]);
        &out[step]["answer"]
    };

    let precreate = answer("precreate");
    assert_eq!((precreate["code"].as_str(), precreate["outTradeNo"].as_str()), (Some("10000"), Some(no.as_str())), "{precreate}");
    assert!(precreate["qrCode"].as_str().unwrap().starts_with(&format!("{}/sandbox/qr/alipay/bax0", sandbox.url())));
    assert_eq!(answer("query_waiting")["tradeStatus"], "WAIT_BUYER_PAY");

    // Under TZ=UTC their timestamp is eight hours behind Beijing time: refused, and signed.
    let utc = answer("query_utc");
    assert_eq!((utc["code"].as_str(), utc["subCode"].as_str()), (Some("40002"), Some("isv.invalid-timestamp")), "{utc}");

    // One byte changed: refused; the refusal is signed; untouched: accepted.
    let tampered = &out["tampered_exec"];
    assert_eq!(tampered["status"], 200);
    assert_eq!(tampered["answer"]["sub_code"], "isv.invalid-signature", "{tampered}");
    assert_eq!(tampered["answer_verified"], true);
    assert_eq!(out["untampered_exec"]["code"], "10000", "{}", out["untampered_exec"]);

    let cashier = format!("{}/sandbox/cashier/alipay/", sandbox.url());
    assert_eq!(out["page_get"]["status"], 302);
    assert_eq!(out["page_get"]["location"].as_str(), Some(format!("{cashier}{page_no}").as_str()));
    assert_eq!(out["page_post"]["status"], 302);
    assert_eq!(out["page_post"]["location"].as_str(), Some(format!("{cashier}{page_no}W").as_str()));
    assert_eq!(out["page_tampered"], json!({ "status": 200, "invalid_signature": true }));
    assert_eq!(
        out["page_return"],
        json!({ "status": 302, "method": "alipay.trade.page.pay.return", "verified": true, "tampered_verified": false })
    );

    assert_eq!(out["paid_status"], 200);
    assert_eq!(
        out["notify"],
        json!({ "trade_status": "TRADE_SUCCESS", "total_amount": "0.01", "verified": true, "tampered_verified": false })
    );
    assert_eq!(answer("query_paid")["tradeStatus"], "TRADE_SUCCESS");
    let refund = answer("refund");
    assert_eq!((refund["fundChange"].as_str(), refund["refundFee"].as_str()), (Some("Y"), Some("0.01")), "{refund}");
    assert_eq!(out["probe_verified"], false);
}
