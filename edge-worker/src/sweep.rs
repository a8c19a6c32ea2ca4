//! The cron sweep (`[triggers] crons` in `wrangler.toml`, every 5 minutes): a safety net behind the
//! sessions' own alarms. It finds, in the D1 ledger, the sessions whose latest row says `open` or
//! `processing` and is older than `SWEEP_AFTER_SECONDS` (default 300), and visits each one's Durable
//! Object: a processing session is queried at its providers (a lost callback and a lost alarm
//! cannot hide a payment), an overdue one expires and its attempts are closed, and the alarm is
//! set again from what the session needs. Without the ledger there is nothing to sweep from; each
//! session's alarm still does all of this on its own schedule.

use payment_core::ids::SessionId;
use wasm_bindgen::JsValue;
use worker::{Env, Method, Result};

/// Sessions visited per run at most (the next run takes the rest).
const BATCH: u32 = 100;
/// `SWEEP_AFTER_SECONDS` when unset.
const DEFAULT_AFTER_SECS: u64 = 300;

#[derive(Debug, serde::Deserialize)]
struct Stuck {
    session_id: String,
}

/// One run: the sessions visited, or the error that stopped the run.
pub(crate) async fn run(env: &Env) -> Result<usize> {
    let Ok(db) = env.d1(crate::ledger::BINDING) else {
        return Ok(0);
    };
    crate::ledger::ensure_schema(&db).await?;
    let after_secs = crate::providers::setting(env, "SWEEP_AFTER_SECONDS").and_then(|v| v.trim().parse::<u64>().ok()).unwrap_or(DEFAULT_AFTER_SECS);
    let before_ms = crate::now_ms().saturating_sub(after_secs * 1000);
    let sql = "SELECT l.session_id AS session_id FROM ledger l \
               JOIN (SELECT session_id, MAX(seq) AS seq FROM ledger GROUP BY session_id) latest ON l.seq = latest.seq \
               WHERE l.status IN ('open', 'processing') AND l.at_ms <= ?1 ORDER BY l.seq LIMIT ?2";
    #[allow(clippy::cast_precision_loss)] // Unix milliseconds are far below 2^53
    let statement = db.prepare(sql).bind(&[JsValue::from_f64(before_ms as f64), JsValue::from(BATCH)])?;
    let stuck: Vec<Stuck> = statement.all().await?.results()?;
    let mut visited = 0;
    for row in stuck {
        let Ok(id) = SessionId::new(row.session_id) else { continue };
        let answer = crate::sessions::call_object(env, &id, Method::Post, "/op", Some(r#"{"op":"sweep"}"#.to_owned())).await;
        match answer {
            Ok(response) if response.status == 200 => visited += 1,
            _ => crate::log::line("warn", "sweep.visit_failed", &[("session_id", id.as_str().into())]),
        }
    }
    crate::log::line("info", "sweep", &[("visited", visited.into())]);
    Ok(visited)
}
