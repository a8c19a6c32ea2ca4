//! The provider sandbox: an offline emulator of WeChat Pay v3 (and WeChat OAuth), Alipay and
//! UnionPay ACP 5.1.0 on 127.0.0.1, as strict as the real platforms, with cashier pages, callbacks
//! on the providers' retry schedules, and a control API for tests.
//!
//! ```text
//! sandbox [--port N] [--state-dir DIR] [--callback-scale F] [--print-worker-config]
//! ```
//! `--port 0` (the default) picks a free port. Keys are generated into `--state-dir` (default
//! `.state/sandbox`) on first start. Prints `listening on http://127.0.0.1:PORT` once it accepts
//! connections, then one line per request with its verdict; stops on Ctrl-C or SIGTERM.
//! `SANDBOX_WECHATPAY_MODE=certificate` makes WeChat Pay answers name the platform certificate's
//! serial instead of the `PUB_KEY_ID_…` of public-key mode (the default).

mod alipay;
mod app;
mod cashier;
mod control;
mod keys;
mod notifier;
mod providers;
mod store;
mod unionpay;
mod wechat;

use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::{Arc, Mutex};

use axum::routing::get;
use axum::{Json, Router};

use crate::app::{AppState, Faults};
use crate::keys::{Keys, KeysFile};

#[derive(Debug)]
struct Args {
    port: u16,
    state_dir: PathBuf,
    callback_scale: f64,
    print_worker_config: bool,
}

fn parse_args(mut args: impl Iterator<Item = String>) -> Result<Args, String> {
    let mut parsed = Args { port: 0, state_dir: PathBuf::from(".state/sandbox"), callback_scale: 1.0, print_worker_config: false };
    while let Some(arg) = args.next() {
        let mut value = || args.next().ok_or(format!("{arg} needs a value"));
        match arg.as_str() {
            "--port" => {
                let v = value()?;
                parsed.port = v.parse().map_err(|_| format!("--port: not a port number: {v}"))?;
            }
            "--state-dir" => parsed.state_dir = PathBuf::from(value()?),
            "--callback-scale" => {
                let v = value()?;
                parsed.callback_scale = v.parse().ok().filter(|f: &f64| f.is_finite() && *f >= 0.0).ok_or(format!("--callback-scale: not a non-negative number: {v}"))?;
            }
            "--print-worker-config" => parsed.print_worker_config = true,
            other => return Err(format!("unknown argument: {other}")),
        }
    }
    Ok(parsed)
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = match parse_args(std::env::args().skip(1)) {
        Ok(args) => args,
        Err(message) => {
            eprintln!("sandbox: {message}\nusage: [SANDBOX_WECHATPAY_MODE=public_key|certificate] sandbox [--port N] [--state-dir DIR] [--callback-scale F] [--print-worker-config]");
            return ExitCode::from(2);
        }
    };
    let file = match KeysFile::load_or_generate(&args.state_dir) {
        Ok(file) => file,
        Err(e) => {
            eprintln!("sandbox: keys: {e}");
            return ExitCode::from(1);
        }
    };
    let listener = match tokio::net::TcpListener::bind(SocketAddr::from((Ipv4Addr::LOCALHOST, args.port))).await {
        Ok(listener) => listener,
        Err(e) => {
            eprintln!("sandbox: cannot listen on 127.0.0.1:{}: {e}", args.port);
            return ExitCode::from(1);
        }
    };
    let base_url = match listener.local_addr() {
        Ok(addr) => format!("http://{addr}"),
        Err(e) => {
            eprintln!("sandbox: {e}");
            return ExitCode::from(1);
        }
    };
    if args.print_worker_config {
        for (name, value) in file.worker_config(&base_url) {
            println!("{name}={}", serde_json::Value::String(value));
        }
        return ExitCode::SUCCESS;
    }
    let keys = match Keys::parse(file) {
        Ok(keys) => keys,
        Err(e) => {
            eprintln!("sandbox: keys in {}: {e}", args.state_dir.display());
            return ExitCode::from(1);
        }
    };
    let http = match reqwest::Client::builder().no_proxy().build() {
        Ok(http) => http,
        Err(e) => {
            eprintln!("sandbox: http client: {e}");
            return ExitCode::from(1);
        }
    };
    let state = Arc::new(AppState {
        keys,
        store: Mutex::default(),
        log: Mutex::default(),
        faults: Mutex::new(Faults::default()),
        http,
        base_url: base_url.clone(),
        callback_scale: args.callback_scale,
    });
    let app = Router::new()
        .route("/health", get(health))
        .merge(wechat::routes())
        .merge(alipay::routes())
        .merge(unionpay::routes())
        .merge(cashier::routes())
        .merge(control::routes())
        .layer(axum::middleware::from_fn_with_state(state.clone(), app::log_and_faults))
        .with_state(state);

    println!("listening on {base_url}");
    // Responses go out as they are written: without TCP_NODELAY a streamed page's or a small
    // file's second write waits for the client's delayed ACK (tens of milliseconds).
    let listener = axum::serve::ListenerExt::tap_io(listener, |tcp| {
        let _ = tcp.set_nodelay(true);
    });
    if let Err(e) = axum::serve(listener, app).with_graceful_shutdown(shutdown()).await {
        eprintln!("sandbox: {e}");
        return ExitCode::from(1);
    }
    ExitCode::SUCCESS
}

async fn health() -> Json<serde_json::Value> {
    Json(serde_json::json!({ "status": "ok", "service": "edgepay-sandbox", "core_version": payment_core::VERSION }))
}

async fn shutdown() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(term) => term,
            Err(_) => return ctrl_c.await.unwrap_or(()),
        };
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    ctrl_c.await.unwrap_or(());
}
