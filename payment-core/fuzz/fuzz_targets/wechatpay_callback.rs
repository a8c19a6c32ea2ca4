//! A WeChat Pay callback: headers + raw body through verify → decrypt → parse never panics.
#![no_main]

mod common;

use std::collections::HashMap;

use libfuzzer_sys::fuzz_target;
use payment_core::native::block_on;
use payment_core::wechatpay::{parse_notification, WechatpayHeaders};

fuzz_target!(|data: &[u8]| {
    // First line: "timestamp nonce signature serial"; the rest is the body.
    let (head, body) = match data.iter().position(|&b| b == b'\n') {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (data, &[][..]),
    };
    let head = String::from_utf8_lossy(head);
    let mut parts = head.split(' ');
    let headers = WechatpayHeaders {
        timestamp: parts.next().unwrap_or("").to_owned(),
        nonce: parts.next().unwrap_or("").to_owned(),
        signature: parts.next().unwrap_or("").to_owned(),
        serial: parts.next().unwrap_or("").to_owned(),
    };
    let keys: HashMap<String, common::AcceptAll> = HashMap::from([(headers.serial.clone(), common::AcceptAll)]);
    let now = headers.timestamp.parse::<u64>().unwrap_or(0);
    let _ = block_on(parse_notification(&headers, body, &keys, &common::Identity, now));
});
