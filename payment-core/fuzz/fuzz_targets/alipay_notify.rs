//! An Alipay async notification (form body) through verify → parse never panics.
#![no_main]

mod common;

use libfuzzer_sys::fuzz_target;
use payment_core::native::block_on;

fuzz_target!(|data: &[u8]| {
    let _ = block_on(payment_core::alipay::notify::parse_notify(data, &common::AcceptAll));
});
