//! Callbacks to the merchant: sent like the real providers send them, retried on their schedules
//! (scaled by `--callback-scale`), stopped by the provider's expected acknowledgement.

use std::time::Duration;

use payment_core::method::Provider;

use crate::app::{lock, now_ms, CallbackMode, Shared};
use crate::store::Delivery;

/// Retry intervals after the first delivery, in seconds, as each provider documents them.
/// WeChat Pay: 15s/15s/30s/3m/10m/20m/30m/30m/30m/60m/3h/3h/3h/6h/6h (about 24 h in all).
const WECHAT_RETRIES: [u64; 15] = [15, 15, 30, 180, 600, 1200, 1800, 1800, 1800, 3600, 10800, 10800, 10800, 21600, 21600];
/// Alipay: 4m, 10m, 10m, 1h, 2h, 6h, 15h (25 h in all).
const ALIPAY_RETRIES: [u64; 7] = [240, 600, 600, 3600, 7200, 21600, 54000];
/// UnionPay: doubling from one minute (1, 2, 4, 8, 16 minutes).
const UNIONPAY_RETRIES: [u64; 5] = [60, 120, 240, 480, 960];

/// A callback, ready to send.
#[derive(Debug, Clone)]
pub struct Callback {
    /// Whose callback.
    pub provider: Provider,
    /// The order it concerns.
    pub out_trade_no: String,
    /// `payment`, `refund` or `probe`.
    pub kind: &'static str,
    /// The merchant's notify URL.
    pub url: String,
    /// Headers besides `Content-Type`.
    pub headers: Vec<(String, String)>,
    /// `Content-Type`.
    pub content_type: &'static str,
    /// The body, exactly as signed.
    pub body: Vec<u8>,
}

/// Whether the merchant's answer is the acknowledgement this provider expects:
/// WeChat Pay 200 or 204; Alipay a body of exactly `success`; UnionPay HTTP 200.
pub fn acknowledged(provider: Provider, status: u16, body: &[u8]) -> bool {
    match provider {
        Provider::Wechatpay => status == 200 || status == 204,
        Provider::Alipay => status == 200 && body.trim_ascii() == b"success",
        Provider::Unionpay => status == 200,
    }
}

/// Sends once and records the attempt on the order. Returns whether it was acknowledged.
pub async fn deliver_once(state: &Shared, callback: &Callback) -> bool {
    let mut request = state
        .http
        .post(&callback.url)
        .header("content-type", callback.content_type)
        .timeout(Duration::from_secs(10))
        .body(callback.body.clone());
    // WeChat Pay signs each attempt as it sends it: a retry hours later carries a current timestamp.
    let fresh = match callback.provider {
        Provider::Wechatpay => crate::wechat::fresh_callback_headers(state, callback).await,
        _ => None,
    };
    for (name, value) in fresh.as_ref().unwrap_or(&callback.headers) {
        request = request.header(name, value);
    }
    let (status, acknowledged) = match request.send().await {
        Ok(response) => {
            let status = response.status().as_u16();
            let body = response.bytes().await.unwrap_or_default();
            (Some(status), acknowledged(callback.provider, status, &body))
        }
        Err(_) => (None, false),
    };
    println!(
        "callback {} {} {} -> {} {}",
        callback.provider.as_str(),
        callback.kind,
        callback.out_trade_no,
        status.map_or_else(|| "no answer".to_owned(), |s| s.to_string()),
        if acknowledged { "acknowledged" } else { "not acknowledged" }
    );
    if let Some(order) = lock(&state.store).get_mut(callback.provider, &callback.out_trade_no) {
        order.deliveries.push(Delivery { kind: callback.kind.to_owned(), at_ms: now_ms(), status, acknowledged });
    }
    acknowledged
}

/// Sends `callback` in the background on the provider's schedule until it is acknowledged.
pub fn schedule(state: &Shared, callback: Callback) {
    // The faults in force when the callback is scheduled decide its fate, not those in force when
    // the task first runs: a test that drops callbacks and then clears the fault must not race it.
    let (mode, delay_ms) = {
        let faults = lock(&state.faults);
        (faults.callbacks, faults.callback_delay_ms)
    };
    let state = state.clone();
    tokio::spawn(async move {
        if mode == CallbackMode::Drop {
            println!("callback {} {} {} dropped (fault injected)", callback.provider.as_str(), callback.kind, callback.out_trade_no);
            return;
        }
        if delay_ms > 0 {
            tokio::time::sleep(Duration::from_millis(delay_ms)).await;
        }
        let retries: &[u64] = match callback.provider {
            Provider::Wechatpay => &WECHAT_RETRIES,
            Provider::Alipay => &ALIPAY_RETRIES,
            Provider::Unionpay => &UNIONPAY_RETRIES,
        };
        if deliver_once(&state, &callback).await {
            return;
        }
        for seconds in retries {
            tokio::time::sleep(Duration::from_secs_f64(*seconds as f64 * state.callback_scale)).await;
            if deliver_once(&state, &callback).await {
                return;
            }
        }
    });
}

/// Sends `callback` `times` times at once (a duplicate storm); returns how many were acknowledged.
pub async fn storm(state: &Shared, callback: &Callback, times: usize) -> usize {
    let handles: Vec<_> = (0..times)
        .map(|_| {
            let (state, callback) = (state.clone(), callback.clone());
            tokio::spawn(async move { deliver_once(&state, &callback).await })
        })
        .collect();
    let mut acknowledged = 0;
    for handle in handles {
        if handle.await.unwrap_or(false) {
            acknowledged += 1;
        }
    }
    acknowledged
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn acknowledgements_per_provider() {
        assert!(acknowledged(Provider::Wechatpay, 200, b""));
        assert!(acknowledged(Provider::Wechatpay, 204, b""));
        assert!(!acknowledged(Provider::Wechatpay, 500, br#"{"code":"FAIL"}"#));
        assert!(acknowledged(Provider::Alipay, 200, b"success"));
        assert!(acknowledged(Provider::Alipay, 200, b"success\n"));
        assert!(!acknowledged(Provider::Alipay, 200, b"fail"));
        assert!(!acknowledged(Provider::Alipay, 200, b"{\"ok\":true}"));
        assert!(acknowledged(Provider::Unionpay, 200, b"ok"));
        assert!(!acknowledged(Provider::Unionpay, 503, b""));
    }

    #[test]
    fn schedules_last_about_a_day() {
        let hours = |s: &[u64]| s.iter().sum::<u64>() as f64 / 3600.0;
        assert!((23.0..=25.0).contains(&hours(&WECHAT_RETRIES)), "{}", hours(&WECHAT_RETRIES));
        assert!((24.0..=26.0).contains(&hours(&ALIPAY_RETRIES)), "{}", hours(&ALIPAY_RETRIES));
    }
}
