//! The provider sandbox: an offline emulator of the providers' real endpoints on 127.0.0.1.
//!
//! Usage: `sandbox [--port N]` (0 picks a free port). Prints `listening on http://127.0.0.1:PORT`
//! once it accepts connections; stops on Ctrl-C or SIGTERM.

use std::net::{Ipv4Addr, SocketAddr};
use std::process::ExitCode;

use axum::routing::get;
use axum::{Json, Router};

#[tokio::main]
async fn main() -> ExitCode {
    let port = match parse_port(std::env::args().skip(1)) {
        Ok(port) => port,
        Err(message) => {
            eprintln!("sandbox: {message}\nusage: sandbox [--port N]");
            return ExitCode::from(2);
        }
    };
    let app = Router::new().route("/health", get(health));
    let listener = match tokio::net::TcpListener::bind(SocketAddr::from((Ipv4Addr::LOCALHOST, port))).await {
        Ok(listener) => listener,
        Err(e) => {
            eprintln!("sandbox: cannot listen on 127.0.0.1:{port}: {e}");
            return ExitCode::from(1);
        }
    };
    match listener.local_addr() {
        Ok(addr) => println!("listening on http://{addr}"),
        Err(e) => {
            eprintln!("sandbox: {e}");
            return ExitCode::from(1);
        }
    }
    if let Err(e) = axum::serve(listener, app).with_graceful_shutdown(shutdown()).await {
        eprintln!("sandbox: {e}");
        return ExitCode::from(1);
    }
    ExitCode::SUCCESS
}

async fn health() -> Json<serde_json::Value> {
    Json(serde_json::json!({ "status": "ok", "service": "edgepay-sandbox", "core_version": payment_core::VERSION }))
}

fn parse_port(mut args: impl Iterator<Item = String>) -> Result<u16, String> {
    let mut port = 0;
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--port" => {
                let value = args.next().ok_or("--port needs a value")?;
                port = value.parse().map_err(|_| format!("--port: not a port number: {value}"))?;
            }
            other => return Err(format!("unknown argument: {other}")),
        }
    }
    Ok(port)
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
