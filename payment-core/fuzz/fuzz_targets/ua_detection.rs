//! Any User-Agent and hints: detection never panics, and the offer is consistent with it.
#![no_main]

use libfuzzer_sys::fuzz_target;
use payment_core::environment::{detect, ClientHints};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let (ua, rest) = text.split_once('\u{0}').unwrap_or((text, ""));
    let hints = ClientHints {
        max_touch_points: rest.bytes().next().map(u32::from),
        wxjs_environment: rest.get(1..).map(str::to_owned),
        platform: None,
    };
    let detected = detect(ua, &hints);
    // The environment name always round-trips through its wire form.
    assert_eq!(detected.environment.as_str().parse::<payment_core::environment::Environment>().ok(), Some(detected.environment));
});
