//! A UnionPay back notification and a gateway answer through verify → parse never panic.
#![no_main]

mod common;

use libfuzzer_sys::fuzz_target;
use payment_core::native::block_on;
use payment_core::unionpay::notify::{insecure_parse_notify_without_chain, insecure_parse_response_without_chain};

fuzz_target!(|data: &[u8]| {
    let verifier = |_spki: &[u8]| Ok(common::AcceptAll);
    let _ = block_on(insecure_parse_notify_without_chain(data, verifier));
    let _ = block_on(insecure_parse_response_without_chain(data, verifier));
});
