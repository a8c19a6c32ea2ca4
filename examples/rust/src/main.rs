//! edgepay from a Rust merchant backend: create a checkout session, verify a webhook.
//! Cargo.toml: reqwest (json), tokio, serde_json, http, standardwebhooks.
use http::{HeaderMap, HeaderValue};
use serde_json::{json, Value};
use standardwebhooks::Webhook;

/// Your worker and your merchant API key (server side only, never in a page).
struct Edgepay {
    url: String,
    api_key: String,
    http: reqwest::Client,
}

impl Edgepay {
    /// Creates a session for an order: give its `id` and `client_secret` to the page's widget.
    async fn create_session(&self, order_id: &str, amount_fen: u64, description: &str) -> Result<Value, String> {
        let response = (self.http)
            .post(format!("{}/v1/sessions", self.url))
            .bearer_auth(&self.api_key)
            .header("Idempotency-Key", order_id)
            .json(&json!({ "order_id": order_id, "amount": amount_fen, "currency": "CNY", "description": description }))
            .send()
            .await
            .map_err(|e| e.to_string())?;
        let status = response.status();
        let body: Value = response.json().await.map_err(|e| e.to_string())?;
        if !status.is_success() {
            let code = body["error"]["code"].as_str().unwrap_or("unknown");
            return Err(format!("edgepay refused the session: {} {code}", status.as_u16()));
        }
        Ok(body) // {id, client_secret, status, amount, currency, expires_at}
    }
}

/// Checks a webhook over its raw body and headers; returns the event.
fn verify_webhook(secret: &str, raw_body: &[u8], headers: &HeaderMap) -> Result<Value, String> {
    let webhook = Webhook::new(secret).map_err(|e| format!("bad webhook secret: {e}"))?;
    webhook.verify(raw_body, headers).map_err(|e| format!("webhook rejected: {e}"))?;
    // Then apply it once: remember headers["webhook-id"] with the order's new status.
    serde_json::from_slice(raw_body).map_err(|e| e.to_string())
}

// Try it: merchant create ORDER_ID AMOUNT_FEN DESCRIPTION
//         merchant verify WEBHOOK_ID WEBHOOK_TIMESTAMP WEBHOOK_SIGNATURE < raw-body
#[tokio::main]
async fn main() -> Result<(), String> {
    let env = |name: &str| std::env::var(name).unwrap_or_default();
    let args: Vec<String> = std::env::args().skip(1).collect();
    let event = match args.first().map(String::as_str) {
        Some("create") if args.len() == 4 => {
            let edgepay = Edgepay { url: env("EDGEPAY_URL"), api_key: env("EDGEPAY_MERCHANT_API_KEY"), http: reqwest::Client::new() };
            let amount = args[2].parse().map_err(|_| "AMOUNT_FEN must be a number")?;
            edgepay.create_session(&args[1], amount, &args[3]).await?
        }
        Some("verify") if args.len() == 4 => {
            let mut headers = HeaderMap::new();
            for (name, value) in ["webhook-id", "webhook-timestamp", "webhook-signature"].into_iter().zip(&args[1..]) {
                headers.insert(name, HeaderValue::from_str(value).map_err(|e| e.to_string())?);
            }
            let mut body = Vec::new();
            std::io::Read::read_to_end(&mut std::io::stdin(), &mut body).map_err(|e| e.to_string())?;
            verify_webhook(&env("EDGEPAY_WEBHOOK_SECRET"), &body, &headers)?
        }
        _ => return Err("usage: merchant create ORDER_ID AMOUNT_FEN DESCRIPTION | verify ID TIMESTAMP SIGNATURE < body".into()),
    };
    println!("{event}");
    Ok(())
}
