//! The pretend merchant's side of the Alipay and UnionPay tests: a sandbox with its keys, a
//! loopback listener for callbacks, and small helpers.
#![allow(dead_code, unused_imports, clippy::unwrap_used, clippy::expect_used)]

use std::io::{Read as _, Write as _};
use std::net::TcpListener;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

pub use edgepay_tests::{http_get, http_request, HttpResponse, Server};

const BIN: &str = env!("CARGO_BIN_EXE_sandbox");

/// One fresh state folder per test process (under the target directory's scratch space), keys
/// generated once (`--print-worker-config` generates them and exits), so each test's sandbox
/// starts at once.
fn state_dir() -> &'static PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("sandbox-merchant-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let status = std::process::Command::new(BIN)
            .args(["--port", "0", "--state-dir", dir.to_str().unwrap(), "--print-worker-config"])
            .stdout(std::process::Stdio::null())
            .status()
            .unwrap();
        assert!(status.success());
        dir
    })
}

/// A running sandbox (callbacks scaled down 1000×) and its `keys.json`.
#[derive(Debug)]
pub struct Sandbox {
    server: Server,
    /// `<state-dir>/keys.json`.
    pub keys: serde_json::Value,
}

impl Sandbox {
    pub fn start() -> Self {
        let dir = state_dir();
        let server = Server::start(BIN, &["--port", "0", "--state-dir", dir.to_str().unwrap(), "--callback-scale", "0.001"]);
        let keys = serde_json::from_str(&std::fs::read_to_string(dir.join("keys.json")).unwrap()).unwrap();
        Self { server, keys }
    }

    pub fn url(&self) -> &str {
        self.server.url()
    }

    /// The worker configuration the sandbox prints for itself.
    pub fn worker_config(&self) -> serde_json::Value {
        serde_json::from_str(&http_get(&format!("{}/sandbox/worker-config", self.url())).body).unwrap()
    }
}

/// Unix seconds now.
pub fn now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs()
}

/// `prefix` and digits, unique within the run: a valid out_trade_no and orderId.
pub fn unique(prefix: &str) -> String {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().subsec_nanos();
    format!("{prefix}{nanos:09}{}", COUNTER.fetch_add(1, Ordering::Relaxed))
}

/// `text` with the character at `at` (a character index, clamped) changed to another.
pub fn tamper(text: &str, at: usize) -> String {
    let mut chars: Vec<char> = text.chars().collect();
    let i = at.min(chars.len() - 1);
    chars[i] = if chars[i] == 'A' { 'B' } else { 'A' };
    chars.into_iter().collect()
}

/// Polls `done` until it holds, or panics after `timeout`.
pub fn wait_for(timeout: Duration, mut done: impl FnMut() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(start.elapsed() < timeout, "timed out after {timeout:?}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A request the listener received.
#[derive(Debug, Clone)]
pub struct Received {
    pub method: String,
    pub path: String,
    /// Names lower-cased.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Received {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }
}

/// A loopback HTTP listener that records every request and answers the first ones as scripted,
/// then always the same.
#[derive(Debug)]
pub struct Listener {
    addr: String,
    received: Arc<Mutex<Vec<Received>>>,
}

impl Listener {
    /// Answers `200` with each body of `first` in turn, then `200` with `then`.
    pub fn start(first: Vec<String>, then: &str) -> Self {
        Self::with_statuses(first.into_iter().map(|b| (200, b)).collect(), (200, then.to_owned()))
    }

    /// Answers each `(status, body)` of `first` in turn, then `then`.
    pub fn with_statuses(first: Vec<(u16, String)>, then: (u16, String)) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        let received = Arc::new(Mutex::new(Vec::new()));
        let log = received.clone();
        std::thread::spawn(move || {
            let mut script = first.into_iter();
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
                let Some(request) = read_request(&mut stream) else { continue };
                log.lock().unwrap().push(request);
                let (status, body) = script.next().unwrap_or_else(|| then.clone());
                let _ = write!(
                    stream,
                    "HTTP/1.1 {status} X\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
            }
        });
        Self { addr, received }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    pub fn requests(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }
}

fn read_request(stream: &mut std::net::TcpStream) -> Option<Received> {
    let mut raw = Vec::new();
    let mut buf = [0_u8; 8192];
    let head_end = loop {
        if let Some(i) = raw.windows(4).position(|w| w == b"\r\n\r\n") {
            break i;
        }
        let n = stream.read(&mut buf).ok()?;
        if n == 0 {
            return None;
        }
        raw.extend_from_slice(&buf[..n]);
    };
    let head = String::from_utf8_lossy(&raw[..head_end]).into_owned();
    let mut lines = head.lines();
    let mut first = lines.next()?.split(' ');
    let (method, path) = (first.next()?.to_owned(), first.next()?.to_owned());
    let headers: Vec<(String, String)> =
        lines.filter_map(|l| l.split_once(':')).map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned())).collect();
    let length: usize = headers.iter().find(|(n, _)| n == "content-length").and_then(|(_, v)| v.parse().ok()).unwrap_or(0);
    let mut body = raw[head_end + 4..].to_vec();
    while body.len() < length {
        let n = stream.read(&mut buf).ok()?;
        if n == 0 {
            break;
        }
        body.extend_from_slice(&buf[..n]);
    }
    Some(Received { method, path, headers, body })
}
