//! HTML forms and URL encoding shared by the providers that redirect the shopper with a form post
//! (Alipay page/wap pay, UnionPay `frontTransReq.do`) and talk `application/x-www-form-urlencoded`.
//!
//! The core returns form *data* ([`AutoSubmitForm`]); [`AutoSubmitForm::to_html`] renders the
//! minimal self-submitting page for callers that serve HTML themselves.

use crate::error::{Error, Result};

/// The HTTP method a form submits with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FormMethod {
    /// `GET`: the fields go into the query string.
    Get,
    /// `POST`: the fields go into an `application/x-www-form-urlencoded` body.
    Post,
}

impl FormMethod {
    /// `"get"` or `"post"`, as written in a `<form method>` attribute.
    pub fn as_str(self) -> &'static str {
        match self {
            FormMethod::Get => "get",
            FormMethod::Post => "post",
        }
    }
}

/// A form the shopper's browser submits to a provider's cashier, as data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AutoSubmitForm {
    /// Where the form goes (absolute URL, may carry a query string).
    pub action: String,
    /// How it goes.
    pub method: FormMethod,
    /// The hidden fields, in order, with their values unescaped.
    pub fields: Vec<(String, String)>,
}

impl AutoSubmitForm {
    /// A minimal HTML page that submits the form as soon as it loads (with a button for browsers
    /// without JavaScript). Every attribute value is HTML-escaped.
    pub fn to_html(&self) -> String {
        let mut html = String::with_capacity(256 + self.fields.iter().map(|(k, v)| k.len() + v.len() + 48).sum::<usize>());
        html.push_str("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>Redirecting…</title></head><body>\n");
        html.push_str("<form id=\"edgepay-redirect\" accept-charset=\"utf-8\" action=\"");
        html.push_str(&escape_html(&self.action));
        html.push_str("\" method=\"");
        html.push_str(self.method.as_str());
        html.push_str("\">\n");
        for (name, value) in &self.fields {
            html.push_str("<input type=\"hidden\" name=\"");
            html.push_str(&escape_html(name));
            html.push_str("\" value=\"");
            html.push_str(&escape_html(value));
            html.push_str("\">\n");
        }
        html.push_str("<noscript><button type=\"submit\">Continue</button></noscript>\n</form>\n");
        html.push_str("<script>document.getElementById(\"edgepay-redirect\").submit();</script>\n</body></html>\n");
        html
    }
}

/// Escapes `& < > " '` for HTML text and double- or single-quoted attribute values.
pub fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Percent-encodes UTF-8 text, keeping only RFC 3986 unreserved characters (`A-Z a-z 0-9 - . _ ~`).
/// Valid both in a query string and in a form body (a space becomes `%20`).
pub fn percent_encode(text: &str) -> String {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let mut out = String::with_capacity(text.len() * 3);
    for &b in text.as_bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push('%');
            out.push(char::from(HEX[usize::from(b >> 4)]));
            out.push(char::from(HEX[usize::from(b & 15)]));
        }
    }
    out
}

/// `k=v&k=v…` with every name and value [`percent_encode`]d, in the order given.
pub fn encode_pairs<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> String {
    let mut out = String::new();
    for (name, value) in pairs {
        if !out.is_empty() {
            out.push('&');
        }
        out.push_str(&percent_encode(name));
        out.push('=');
        out.push_str(&percent_encode(value));
    }
    out
}

/// `url` with `query` appended (`?` or `&` as the URL needs).
pub fn append_query(url: &str, query: &str) -> String {
    if query.is_empty() {
        return url.to_owned();
    }
    let separator = if url.contains('?') { '&' } else { '?' };
    format!("{url}{separator}{query}")
}

/// Parses an `application/x-www-form-urlencoded` body: pairs split on `&`, name and value on the
/// first `=`, `+` is a space, `%XX` decoded exactly once, UTF-8. Empty segments are skipped; the
/// order and any repeated names are kept (callers decide whether a repeat is acceptable).
///
/// # Errors
/// [`Error::Malformed`] `"form body"` for a `%` not followed by two hex digits, or bytes that are
/// not UTF-8 once decoded.
pub fn parse_urlencoded(body: &[u8]) -> Result<Vec<(String, String)>> {
    let mut pairs = Vec::new();
    for segment in body.split(|&b| b == b'&').filter(|s| !s.is_empty()) {
        let (name, value) = match segment.iter().position(|&b| b == b'=') {
            Some(i) => (&segment[..i], &segment[i + 1..]),
            None => (segment, &[][..]),
        };
        pairs.push((decode_component(name)?, decode_component(value)?));
    }
    Ok(pairs)
}

fn decode_component(bytes: &[u8]) -> Result<String> {
    let malformed = || Error::Malformed { what: "form body" };
    let hex = |b: u8| match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    };
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let high = bytes.get(i + 1).copied().and_then(hex).ok_or_else(malformed)?;
                let low = bytes.get(i + 2).copied().and_then(hex).ok_or_else(malformed)?;
                out.push(high << 4 | low);
                i += 2;
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8(out).map_err(|_| malformed())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn escapes_everything_that_could_break_out() {
        assert_eq!(escape_html(r#"<a href="x">'&'</a>"#), "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;");
    }

    #[test]
    fn html_escapes_every_attribute() {
        let form = AutoSubmitForm {
            action: "https://gw.example/pay?a=1&b=\"2\"".to_owned(),
            method: FormMethod::Post,
            fields: vec![("biz_content".to_owned(), r#"{"subject":"<script>alert('x')</script> & co"}"#.to_owned())],
        };
        let html = form.to_html();
        assert!(html.contains(r#"action="https://gw.example/pay?a=1&amp;b=&quot;2&quot;""#), "{html}");
        assert!(html.contains(
            r#"value="{&quot;subject&quot;:&quot;&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; co&quot;}""#
        ), "{html}");
        assert!(!html.contains("<script>alert"));
        assert!(html.contains(r#"method="post""#));
        assert_eq!(html.matches("<input ").count(), 1);
    }

    #[test]
    fn encoding_and_decoding() {
        assert_eq!(percent_encode("a b+c/=&é~"), "a%20b%2Bc%2F%3D%26%C3%A9~");
        assert_eq!(encode_pairs([("k", "v 1"), ("sign", "ab+/=")]), "k=v%201&sign=ab%2B%2F%3D");
        assert_eq!(append_query("https://x/gw", "a=1"), "https://x/gw?a=1");
        assert_eq!(append_query("https://x/gw?charset=utf-8", "a=1"), "https://x/gw?charset=utf-8&a=1");
        let pairs = parse_urlencoded(b"a=1+2&&b=%E8%AF%AD%2b&c&d==x").unwrap();
        let expected = [("a", "1 2"), ("b", "语+"), ("c", ""), ("d", "=x")];
        assert_eq!(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect::<Vec<_>>(), expected);
        // Decoded exactly once: `%2541` is the text `%41`, not `A`.
        assert_eq!(parse_urlencoded(b"a=%2541").unwrap()[0].1, "%41");
        for bad in [&b"a=%"[..], b"a=%4", b"a=%zz", b"a=% has", b"a=%FF"] {
            assert_eq!(parse_urlencoded(bad), Err(Error::Malformed { what: "form body" }), "{bad:?}");
        }
    }

    proptest! {
        #[test]
        fn encode_then_parse_round_trips(pairs in proptest::collection::vec(("\\PC{1,8}", "\\PC{0,12}"), 0..6)) {
            let body = encode_pairs(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())));
            prop_assert_eq!(parse_urlencoded(body.as_bytes()).unwrap(), pairs);
        }
    }
}
