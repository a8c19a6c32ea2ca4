//! The demo shop: serves the shop page that embeds the widget, and the widget's files.
//!
//! Usage: `demo-site --worker-url URL --widget-dir DIR [--port N]` (0 picks a free port). Prints
//! `listening on http://127.0.0.1:PORT` once it accepts connections; stops on Ctrl-C or SIGTERM.

use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use axum::extract::{Path as UrlPath, State};
use axum::http::{header, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::Router;

const SHOP_PAGE: &str = include_str!("../static/index.html");

#[derive(Debug)]
struct Settings {
    port: u16,
    worker_url: String,
    widget_dir: PathBuf,
}

#[derive(Debug)]
struct AppState {
    shop_page: String,
    widget_dir: PathBuf,
}

#[tokio::main]
async fn main() -> ExitCode {
    let settings = match parse_args(std::env::args().skip(1)) {
        Ok(settings) => settings,
        Err(message) => {
            eprintln!("demo-site: {message}\nusage: demo-site --worker-url URL --widget-dir DIR [--port N]");
            return ExitCode::from(2);
        }
    };
    if !settings.widget_dir.join("edgepay.js").is_file() {
        eprintln!(
            "demo-site: no widget build in {} (run scripts/build-widget.sh)",
            settings.widget_dir.display()
        );
        return ExitCode::from(1);
    }
    let state = Arc::new(AppState {
        shop_page: SHOP_PAGE.replace("{{WORKER_URL}}", &escape_attribute(&settings.worker_url)),
        widget_dir: settings.widget_dir,
    });
    let app = Router::new()
        .route("/", get(shop))
        .route("/widget/{file}", get(widget_file))
        .with_state(state);

    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, settings.port));
    let listener = match tokio::net::TcpListener::bind(addr).await {
        Ok(listener) => listener,
        Err(e) => {
            eprintln!("demo-site: cannot listen on {addr}: {e}");
            return ExitCode::from(1);
        }
    };
    match listener.local_addr() {
        Ok(addr) => println!("listening on http://{addr}"),
        Err(e) => {
            eprintln!("demo-site: {e}");
            return ExitCode::from(1);
        }
    }
    if let Err(e) = axum::serve(listener, app).with_graceful_shutdown(shutdown()).await {
        eprintln!("demo-site: {e}");
        return ExitCode::from(1);
    }
    ExitCode::SUCCESS
}

async fn shop(State(state): State<Arc<AppState>>) -> Html<String> {
    Html(state.shop_page.clone())
}

/// Serves one file of the widget build: flat names only, so nothing outside the directory is reachable.
async fn widget_file(State(state): State<Arc<AppState>>, UrlPath(file): UrlPath<String>) -> Response {
    let Some(content_type) = content_type(&file) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    if file.starts_with('.') || file.contains(['/', '\\']) {
        return StatusCode::NOT_FOUND.into_response();
    }
    match tokio::fs::read(state.widget_dir.join(&file)).await {
        Ok(bytes) => (
            [(header::CONTENT_TYPE, content_type), (header::CACHE_CONTROL, "no-cache")],
            bytes,
        )
            .into_response(),
        Err(_) => StatusCode::NOT_FOUND.into_response(),
    }
}

fn content_type(file: &str) -> Option<&'static str> {
    match Path::new(file).extension()?.to_str()? {
        "js" => Some("text/javascript; charset=utf-8"),
        "wasm" => Some("application/wasm"),
        "css" => Some("text/css; charset=utf-8"),
        "ts" => Some("text/plain; charset=utf-8"),
        _ => None,
    }
}

fn escape_attribute(value: &str) -> String {
    value.replace('&', "&amp;").replace('"', "&quot;").replace('<', "&lt;").replace('>', "&gt;")
}

fn parse_args(mut args: impl Iterator<Item = String>) -> Result<Settings, String> {
    let (mut port, mut worker_url, mut widget_dir) = (0, None, None);
    while let Some(arg) = args.next() {
        let mut value = || args.next().ok_or(format!("{arg} needs a value"));
        match arg.as_str() {
            "--port" => {
                let v = value()?;
                port = v.parse().map_err(|_| format!("--port: not a port number: {v}"))?;
            }
            "--worker-url" => worker_url = Some(value()?),
            "--widget-dir" => widget_dir = Some(PathBuf::from(value()?)),
            other => return Err(format!("unknown argument: {other}")),
        }
    }
    let worker_url = worker_url.ok_or("--worker-url is required")?;
    if !(worker_url.starts_with("http://") || worker_url.starts_with("https://")) {
        return Err(format!("--worker-url must be an http(s) URL: {worker_url}"));
    }
    Ok(Settings { port, worker_url, widget_dir: widget_dir.ok_or("--widget-dir is required")? })
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
