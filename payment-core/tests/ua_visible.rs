//! Environment detection against the labelled User-Agents in `../shared/ua/visible.json`.
//!
//! Detection from the UA alone (no client hints) must give every case's label, device and os. Where
//! a note says the physical device differs (an iPad in desktop mode), the file labels what the UA
//! shows, and so does this test.

#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

use payment_core::environment::{detect, ClientHints, Detected, Device, Environment, Os};
use serde::Deserialize;

const VECTORS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/ua/visible.json");

#[derive(Debug, Deserialize)]
struct Vectors {
    cases: Vec<Case>,
}

#[derive(Debug, Deserialize)]
struct Case {
    ua: String,
    label: Environment,
    device: Device,
    os: Os,
    source: String,
}

#[test]
fn every_visible_case_is_detected_from_the_ua_alone() -> Result<(), Box<dyn std::error::Error>> {
    let vectors: Vectors = serde_json::from_str(include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/ua/visible.json")))?;
    assert!(!vectors.cases.is_empty(), "no cases in {VECTORS}");

    let mismatches: Vec<String> = vectors
        .cases
        .iter()
        .filter_map(|case| {
            let expected = Detected {
                environment: case.label,
                device: case.device,
                os: case.os.clone(),
            };
            let got = detect(&case.ua, &ClientHints::default());
            (got != expected).then(|| {
                format!(
                    "{}\n  ua:       {}\n  expected: {} / {} / {}\n  got:      {} / {} / {}",
                    case.source,
                    case.ua,
                    expected.environment,
                    expected.device.as_str(),
                    expected.os.as_str(),
                    got.environment,
                    got.device.as_str(),
                    got.os.as_str(),
                )
            })
        })
        .collect();
    assert!(
        mismatches.is_empty(),
        "{} of {} cases mismatch:\n{}",
        mismatches.len(),
        vectors.cases.len(),
        mismatches.join("\n")
    );
    Ok(())
}
