//! Test support shared by the native crates' integration tests: start a server binary on a free
//! loopback port, make plain HTTP/1.1 requests to it, stop it when the test ends.
#![allow(clippy::expect_used, clippy::unwrap_used)] // test support: a failure should stop the test loudly.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// A server process started for a test; killed when dropped.
#[derive(Debug)]
pub struct Server {
    child: Child,
    url: String,
}

impl Server {
    /// Starts `bin` with `args` and waits for its `listening on http://…` line.
    ///
    /// # Panics
    /// When the binary cannot start or exits before it listens.
    pub fn start(bin: &str, args: &[&str]) -> Self {
        let mut child = Command::new(bin)
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {bin}: {e}"));
        let stdout = child.stdout.take().expect("piped stdout");
        let mut lines = BufReader::new(stdout).lines();
        let url = loop {
            match lines.next() {
                Some(Ok(line)) => {
                    if let Some(url) = line.strip_prefix("listening on ") {
                        break url.trim().to_owned();
                    }
                }
                _ => {
                    let _ = child.kill();
                    panic!("{bin} exited before it listened");
                }
            }
        };
        // Keep draining stdout so the child never blocks on a full pipe.
        std::thread::spawn(move || for _ in lines.by_ref() {});
        Self { child, url }
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> &str {
        &self.url
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// An HTTP response, read whole.
#[derive(Debug)]
pub struct HttpResponse {
    /// Status code.
    pub status: u16,
    /// Headers, names lower-cased.
    pub headers: Vec<(String, String)>,
    /// Body as text.
    pub body: String,
}

impl HttpResponse {
    /// The first header called `name` (lower-case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }
}

/// `GET url` over plain HTTP/1.1 with `Connection: close`. Only `http://host:port/path` URLs.
///
/// # Panics
/// When the URL is not plain HTTP or the server does not answer in 10 s.
pub fn http_get(url: &str) -> HttpResponse {
    http_request("GET", url, &[], b"")
}

/// Any request over plain HTTP/1.1 with `Connection: close`; `Content-Length` is added for a
/// non-empty body. Reads the whole answer (plain or chunked). Only `http://host:port/path` URLs.
///
/// # Panics
/// When the URL is not plain HTTP or the server does not answer in 10 s.
pub fn http_request(method: &str, url: &str, headers: &[(&str, &str)], body: &[u8]) -> HttpResponse {
    let rest = url.strip_prefix("http://").expect("plain http URL");
    let (authority, path) = rest.find('/').map_or((rest, "/"), |i| (&rest[..i], &rest[i..]));
    let mut stream = TcpStream::connect(authority).expect("connect");
    stream.set_read_timeout(Some(Duration::from_secs(10))).expect("timeout");
    let mut head = format!("{method} {path} HTTP/1.1\r\nHost: {authority}\r\nConnection: close\r\n");
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    if !body.is_empty() || matches!(method, "POST" | "PUT" | "PATCH") {
        head.push_str(&format!("Content-Length: {}\r\n", body.len()));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).expect("write");
    stream.write_all(body).expect("write");
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).expect("read");
    let split = raw.windows(4).position(|w| w == b"\r\n\r\n").expect("HTTP head");
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let mut payload = raw[split + 4..].to_vec();
    let mut head_lines = head.lines();
    let status = head_lines.next().and_then(|l| l.split(' ').nth(1)).and_then(|s| s.parse().ok()).expect("status");
    let headers: Vec<(String, String)> = head_lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    if headers.iter().any(|(n, v)| n == "transfer-encoding" && v.eq_ignore_ascii_case("chunked")) {
        payload = dechunk(&payload);
    }
    HttpResponse { status, headers, body: String::from_utf8_lossy(&payload).into_owned() }
}

fn dechunk(mut data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let line_end = data.windows(2).position(|w| w == b"\r\n").expect("chunk size line");
        let size_text = String::from_utf8_lossy(&data[..line_end]);
        let size = usize::from_str_radix(size_text.split(';').next().unwrap_or("0").trim(), 16).expect("chunk size");
        data = &data[line_end + 2..];
        if size == 0 {
            return out;
        }
        out.extend_from_slice(&data[..size]);
        data = &data[size + 2..];
    }
}

/// Runs `node tests/xcheck/<script>` with `input` as JSON on stdin and returns its JSON stdout.
/// Cross-checks use it to reach other people's implementations (npm `alipay-sdk`,
/// `wechatpay-axios-plugin`, `standardwebhooks`), installed by `scripts/bootstrap.sh`.
///
/// # Panics
/// When node or the npm packages are missing, or the script fails.
pub fn node_xcheck(script: &str, input: &serde_json::Value) -> serde_json::Value {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("workspace root");
    assert!(
        root.join("node_modules").is_dir(),
        "node_modules is missing: run scripts/bootstrap.sh (the README's test command does)"
    );
    let mut child = Command::new("node")
        .arg(root.join("tests").join("xcheck").join(script))
        .current_dir(root)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("node is on PATH");
    child.stdin.take().expect("stdin").write_all(input.to_string().as_bytes()).expect("write stdin");
    let output = child.wait_with_output().expect("node ran");
    assert!(
        output.status.success(),
        "node {script} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("node printed JSON")
}
