//! The exact bytes WeChat Pay API v3 signs, built apart from any RSA step (wechatpay-go
//! `core/auth/validators`, `buildMessage`). Pure functions.
//!
//! - A merchant request: `METHOD\nTARGET\nTIMESTAMP\nNONCE\nBODY\n`, where `TARGET` is the path and
//!   query exactly as they go on the wire and `BODY` is empty for a GET
//!   (<https://pay.weixin.qq.com/doc/v3/merchant/4012365336>).
//! - A response or a callback: `TIMESTAMP\nNONCE\nBODY\n` over the raw body
//!   (<https://pay.weixin.qq.com/doc/v3/merchant/4013053249>).
//!
//! The pieces that sit between line feeds (method, target, nonce, timestamp) are checked, so that no
//! line feed can move bytes from one field to the next and keep the signature valid.

use crate::error::{Error, Result};

/// The longest nonce accepted (WeChat Pay's own are 32 characters).
const MAX_NONCE_LEN: usize = 128;

/// The message a merchant signs for one request.
///
/// `target` is the request target exactly as sent: path and query, already percent-encoded (see
/// [`encode_component`]); `body` is the raw body (empty for GET and DELETE).
///
/// # Errors
/// [`Error::Malformed`] when `method` is not upper-case letters, `target` does not start with `/` or
/// holds a space or control character, or `nonce` is not a valid nonce (see [`check_nonce`]).
pub fn request_message(method: &str, target: &str, timestamp: u64, nonce: &str, body: &[u8]) -> Result<Vec<u8>> {
    check_method(method)?;
    check_target(target)?;
    check_nonce(nonce, "nonce")?;
    let mut message = Vec::with_capacity(method.len() + target.len() + nonce.len() + body.len() + 16);
    for piece in [
        method.as_bytes(),
        target.as_bytes(),
        timestamp.to_string().as_bytes(),
        nonce.as_bytes(),
        body,
    ] {
        message.extend_from_slice(piece);
        message.push(b'\n');
    }
    Ok(message)
}

/// The message WeChat Pay signs for a response or a callback: `TIMESTAMP\nNONCE\nBODY\n` over the
/// raw body bytes as received (never re-serialized).
///
/// # Errors
/// [`Error::Malformed`] `"Wechatpay-Nonce"` when `nonce` is not a valid nonce (see [`check_nonce`]).
pub fn response_message(timestamp: u64, nonce: &str, body: &[u8]) -> Result<Vec<u8>> {
    check_nonce(nonce, "Wechatpay-Nonce")?;
    let mut message = Vec::with_capacity(nonce.len() + body.len() + 16);
    for piece in [timestamp.to_string().as_bytes(), nonce.as_bytes(), body] {
        message.extend_from_slice(piece);
        message.push(b'\n');
    }
    Ok(message)
}

/// Parses a signed Unix timestamp as it appears in a header: decimal digits, no sign, no leading
/// zero, so that the signed text and the parsed number agree.
///
/// # Errors
/// [`Error::Malformed`] naming `what` otherwise.
pub fn parse_timestamp(text: &str, what: &'static str) -> Result<u64> {
    let canonical = !text.is_empty()
        && text.len() <= 20
        && text.bytes().all(|b| b.is_ascii_digit())
        && (text == "0" || !text.starts_with('0'));
    if !canonical {
        return Err(Error::Malformed { what });
    }
    text.parse().map_err(|_| Error::Malformed { what })
}

/// Checks a nonce: 1 to 128 visible ASCII characters other than `"`, `,` and `\` (so it can neither
/// break a line of the signed message nor a quoted `Authorization` parameter).
///
/// # Errors
/// [`Error::Malformed`] naming `what` otherwise.
pub fn check_nonce(nonce: &str, what: &'static str) -> Result<()> {
    let valid = (1..=MAX_NONCE_LEN).contains(&nonce.len())
        && nonce
            .bytes()
            .all(|b| b.is_ascii_graphic() && !matches!(b, b'"' | b',' | b'\\'));
    if valid {
        Ok(())
    } else {
        Err(Error::Malformed { what })
    }
}

fn check_method(method: &str) -> Result<()> {
    if (1..=16).contains(&method.len()) && method.bytes().all(|b| b.is_ascii_uppercase()) {
        Ok(())
    } else {
        Err(Error::Malformed { what: "method" })
    }
}

fn check_target(target: &str) -> Result<()> {
    if target.starts_with('/') && target.bytes().all(|b| b.is_ascii_graphic()) {
        Ok(())
    } else {
        Err(Error::Malformed { what: "request target" })
    }
}

/// Percent-encodes one path segment or query value: every byte outside RFC 3986's unreserved set
/// (`A-Z a-z 0-9 - . _ ~`) becomes `%XX` with upper-case hex. The result is what goes on the wire and
/// what is signed; no HTTP client or `URL` parser changes it again.
pub fn encode_component(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push('%');
            out.push(char::from(HEX[usize::from(b >> 4)]));
            out.push(char::from(HEX[usize::from(b & 0x0f)]));
        }
    }
    out
}

const HEX: &[u8; 16] = b"0123456789ABCDEF";

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;
    use super::*;

    #[test]
    fn request_message_has_five_lines_and_a_trailing_line_feed() {
        let message = request_message("GET", "/v3/certificates", 1624523846, "A1B2C3D4E5F6G7", b"").unwrap();
        assert_eq!(message, b"GET\n/v3/certificates\n1624523846\nA1B2C3D4E5F6G7\n\n");
        // A body that ends in a line feed keeps it, followed by the terminating one.
        let message = request_message(
            "POST",
            "/v3/certificates",
            1624523846,
            "A1B2C3D4E5F6G7",
            b"Hello World!\n",
        )
        .unwrap();
        assert_eq!(
            message,
            b"POST\n/v3/certificates\n1624523846\nA1B2C3D4E5F6G7\nHello World!\n\n"
        );
    }

    #[test]
    fn the_query_is_part_of_the_signed_target() {
        let message = request_message(
            "GET",
            "/v3/pay/transactions/out-trade-no/EP1?mchid=1900000109",
            1,
            "n",
            b"",
        )
        .unwrap();
        assert_eq!(
            message,
            b"GET\n/v3/pay/transactions/out-trade-no/EP1?mchid=1900000109\n1\nn\n\n"
        );
    }

    #[test]
    fn response_message_over_raw_utf8_body() {
        let body = "{\"summary\":\"签约成功\"}";
        let message = response_message(1624523846, "EcZ9", body.as_bytes()).unwrap();
        assert_eq!(message, format!("1624523846\nEcZ9\n{body}\n").as_bytes());
        assert_eq!(response_message(7, "n", b"").unwrap(), b"7\nn\n\n");
    }

    #[test]
    fn line_feeds_cannot_move_between_fields() {
        assert_eq!(
            response_message(1, "a\nb", b"c"),
            Err(Error::Malformed {
                what: "Wechatpay-Nonce"
            })
        );
        assert_eq!(
            request_message("GET", "/x\n", 1, "n", b""),
            Err(Error::Malformed { what: "request target" })
        );
        assert_eq!(
            request_message("GET", "/x", 1, "n\n", b""),
            Err(Error::Malformed { what: "nonce" })
        );
        assert_eq!(
            request_message("GE\nT", "/x", 1, "n", b""),
            Err(Error::Malformed { what: "method" })
        );
        assert_eq!(
            request_message("get", "/x", 1, "n", b""),
            Err(Error::Malformed { what: "method" })
        );
        assert_eq!(
            request_message("GET", "x", 1, "n", b""),
            Err(Error::Malformed { what: "request target" })
        );
        assert_eq!(
            request_message("GET", "/a b", 1, "n", b""),
            Err(Error::Malformed { what: "request target" })
        );
        assert_eq!(
            request_message("GET", "/x", 1, "", b""),
            Err(Error::Malformed { what: "nonce" })
        );
        assert_eq!(
            request_message("GET", "/x", 1, "a\"b", b""),
            Err(Error::Malformed { what: "nonce" })
        );
        assert!(request_message("GET", "/x", 1, &"n".repeat(129), b"").is_err());
        assert!(request_message("GET", "/x", 1, &"n".repeat(128), b"").is_ok());
    }

    #[test]
    fn timestamps_are_canonical_decimal() {
        assert_eq!(parse_timestamp("1624523846", "t"), Ok(1624523846));
        assert_eq!(parse_timestamp("0", "t"), Ok(0));
        for bad in [
            "",
            "01624523846",
            "+1",
            "-1",
            "1.0",
            " 1",
            "1 ",
            "１",
            "99999999999999999999999",
        ] {
            assert_eq!(
                parse_timestamp(bad, "t"),
                Err(Error::Malformed { what: "t" }),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn components_are_percent_encoded_outside_unreserved() {
        assert_eq!(encode_component("EP_abc-123.~"), "EP_abc-123.~");
        assert_eq!(encode_component("a|b*c"), "a%7Cb%2Ac");
        assert_eq!(encode_component("a/b?c=d&e f#"), "a%2Fb%3Fc%3Dd%26e%20f%23");
        assert_eq!(encode_component("订"), "%E8%AE%A2");
    }

    mod props {
        #[cfg(target_arch = "wasm32")]
        use wasm_bindgen_test::wasm_bindgen_test as test;
        use super::super::*;
        use proptest::prelude::*;

        proptest! {
            #[test]
            fn encoded_components_are_visible_ascii_without_delimiters(value in "\\PC{0,40}") {
                let encoded = encode_component(&value);
                prop_assert!(encoded.bytes().all(|b| b.is_ascii_graphic() && !b"/?#&=+ ".contains(&b)));
                // Decoding gives the value back.
                let mut bytes = Vec::new();
                let mut it = encoded.bytes();
                while let Some(b) = it.next() {
                    if b == b'%' {
                        let hi = it.next().unwrap();
                        let lo = it.next().unwrap();
                        bytes.push(u8::from_str_radix(std::str::from_utf8(&[hi, lo]).unwrap(), 16).unwrap());
                    } else {
                        bytes.push(b);
                    }
                }
                prop_assert_eq!(bytes, value.as_bytes());
            }

            #[test]
            fn response_message_is_injective_in_nonce_and_body(n1 in "[ -~]{0,8}", b1 in "[ -~\n]{0,8}", n2 in "[ -~]{0,8}", b2 in "[ -~\n]{0,8}") {
                if let (Ok(m1), Ok(m2)) = (response_message(1, &n1, b1.as_bytes()), response_message(1, &n2, b2.as_bytes())) {
                    prop_assert_eq!(m1 == m2, n1 == n2 && b1 == b2);
                }
            }
        }
    }
}
