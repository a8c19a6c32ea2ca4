//! The Durable Object of one checkout session: every change of a session goes through it, one at a
//! time, so it is the lock that classic designs take from Redis.

use payment_core::session::{Command, Session, Status};
use serde::{Deserialize, Serialize};
use worker::{durable_object, DurableObject, Env, Method, Request, Response, Result, State};

/// What the worker stores for a session: the core's state machine and what the widget shows.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct SessionRecord {
    /// The session's state (payment-core's state machine).
    pub(crate) session: Session,
    /// What the shopper sees.
    pub(crate) description: String,
    /// The methods the merchant accepts for this session (`None`: every method).
    pub(crate) methods: Option<Vec<payment_core::method::PaymentMethod>>,
    /// Where the shopper goes back to after paying.
    pub(crate) return_url: Option<String>,
    /// SHA-256 of the validated request, to tell an idempotent retry from a conflicting reuse.
    pub(crate) request_hash: String,
}

const RECORD: &str = "record";

/// One checkout session.
#[durable_object]
pub struct SessionObject {
    state: State,
}

impl std::fmt::Debug for SessionObject {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SessionObject")
    }
}

impl DurableObject for SessionObject {
    fn new(state: State, _env: Env) -> Self {
        Self { state }
    }

    async fn fetch(&self, mut req: Request) -> Result<Response> {
        let storage = self.state.storage();
        match (req.method(), req.path().as_str()) {
            // Creates the session, or answers the stored one (200) when the same request comes again
            // (409 when another request already created this id).
            (Method::Post, "/create") => {
                let record: SessionRecord = req.json().await?;
                match storage.get::<SessionRecord>(RECORD).await? {
                    Some(existing) if existing.request_hash == record.request_hash => Response::from_json(&existing),
                    Some(_) => Ok(Response::empty()?.with_status(409)),
                    None => {
                        storage.put(RECORD, &record).await?;
                        Ok(Response::from_json(&record)?.with_status(201))
                    }
                }
            }
            // The session as it stands now; an unpaid session past its expiry expires on the way.
            (Method::Get, "/record") => {
                let Some(mut record) = storage.get::<SessionRecord>(RECORD).await? else {
                    return Ok(Response::empty()?.with_status(404));
                };
                let now = crate::now();
                let unpaid = matches!(record.session.status(), Status::Open | Status::Processing);
                if unpaid && now >= record.session.expires_at() {
                    if let Ok((expired, _effects)) = record.session.apply(Command::Expire { now }) {
                        record.session = expired;
                        storage.put(RECORD, &record).await?;
                    }
                }
                Response::from_json(&record)
            }
            _ => Ok(Response::empty()?.with_status(404)),
        }
    }
}
