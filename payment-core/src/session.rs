//! A checkout session's life, as a pure state machine, and the client secret that lets the widget
//! act on one session.
//!
//! ```text
//!            start_attempt            paid                 refund_succeeded
//!   open ───────────────▶ processing ─────▶ paid ─────────▶ partially_refunded ──▶ refunded
//!    ▲   ◀─ attempt_failed ─┘  │ (retryable, none pending)  └──────────────────────────▲
//!    │                         ├─ attempt_failed (final) ─▶ failed
//!    └── (open or processing) ─┼─ expire (now ≥ expires_at) ─▶ expired
//!                              └─ close ─▶ closed
//! ```
//!
//! - Every provider attempt has its own `out_trade_no`; several may be pending at once (the shopper
//!   went back and chose another method). A failed attempt lets the shopper try again, until the
//!   session expires or the provider says the failure is final, which makes the session `failed`.
//! - `paid` is reached at most once. When an attempt pays, every other pending attempt is closed at
//!   the provider ([`Effect::CloseAttempt`]). A payment on another attempt after that, or after the
//!   session ended (`expired`, `closed`, `failed`), is a duplicate: it is refunded in full
//!   ([`Effect::RefundPayment`]) and reported (`payment.duplicate`), never a second `paid`.
//! - `failed`, `expired` and `closed` are final. From `paid`, only refunds move on: their sum (the
//!   pending ones included) never exceeds the paid amount.
//! - Provider facts ([`Command::Paid`], [`Command::AttemptFailed`], [`Command::RefundSucceeded`],
//!   [`Command::RefundFailed`]) are idempotent: providers deliver callbacks more than once, so a
//!   repeat changes nothing and has no effect. A merchant's [`Command::RequestRefund`] repeated with
//!   the same `out_refund_no` and amount is idempotent too. Everything else that does not fit the
//!   diagram is refused with [`Error::IllegalTransition`].
//!
//! The worker keeps one [`Session`] per Durable Object, applies each [`Command`] with
//! [`Session::apply`], stores the new session and then carries out the [`Effect`]s (an event goes to
//! the outbox with the id and time the worker draws).

use std::fmt;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use serde::{Deserialize, Serialize};

use crate::crypto::HmacSha256;
use crate::error::{Error, Result};
use crate::event::{
    DuplicateReason, EventData, Metadata, PaymentDuplicate, PaymentExpired, PaymentFailed,
    PaymentSucceeded, PaymentSummary, ProviderTransactionId, RefundEvent, SessionSummary,
};
use crate::ids::{MerchantOrderId, OutRefundNo, OutTradeNo, SessionId};
use crate::method::PaymentMethod;
use crate::money::{Amount, Currency};

/// The most provider attempts one session may start (each one creates an order at a provider).
pub const MAX_ATTEMPTS: usize = 20;

/// Where a session is, as named on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Waiting for the shopper to choose a method (again, after a failed attempt).
    Open,
    /// At least one attempt is pending at a provider.
    Processing,
    /// Paid; nothing refunded.
    Paid,
    /// Paid, and part of it refunded.
    PartiallyRefunded,
    /// Paid, and all of it refunded.
    Refunded,
    /// Final: a provider refused the payment for good.
    Failed,
    /// Final: not paid before `expires_at`.
    Expired,
    /// Final: closed by the merchant before it was paid.
    Closed,
}

impl Status {
    /// The wire name, e.g. `"partially_refunded"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Open => "open",
            Status::Processing => "processing",
            Status::Paid => "paid",
            Status::PartiallyRefunded => "partially_refunded",
            Status::Refunded => "refunded",
            Status::Failed => "failed",
            Status::Expired => "expired",
            Status::Closed => "closed",
        }
    }

    /// Whether the session can still be paid (`open` or `processing`).
    pub fn is_payable(self) -> bool {
        matches!(self, Status::Open | Status::Processing)
    }

    /// Whether the session was paid (`paid`, `partially_refunded`, `refunded`).
    pub fn is_paid(self) -> bool {
        matches!(
            self,
            Status::Paid | Status::PartiallyRefunded | Status::Refunded
        )
    }

    /// Whether the session ended unpaid (`failed`, `expired`, `closed`): nothing moves it any more.
    pub fn is_final(self) -> bool {
        matches!(self, Status::Failed | Status::Expired | Status::Closed)
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where one provider attempt is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AttemptStatus {
    /// Created at the provider, not paid yet.
    Pending,
    /// The provider said it failed (it can still turn out paid: a late success wins).
    Failed,
    /// Closed at the provider by edgepay (another attempt paid, or the session ended).
    Closed,
    /// The payment that paid the session.
    Paid,
    /// Paid, but the session could not keep it: refunded in full.
    Duplicate,
}

impl AttemptStatus {
    /// The wire name, e.g. `"pending"`.
    pub fn as_str(self) -> &'static str {
        match self {
            AttemptStatus::Pending => "pending",
            AttemptStatus::Failed => "failed",
            AttemptStatus::Closed => "closed",
            AttemptStatus::Paid => "paid",
            AttemptStatus::Duplicate => "duplicate",
        }
    }
}

/// One order at a provider for this session.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attempt {
    /// Its order number at the provider.
    pub out_trade_no: OutTradeNo,
    /// The method the shopper chose.
    pub method: PaymentMethod,
    /// When it started (Unix seconds).
    pub started_at: u64,
    /// Where it is.
    pub status: AttemptStatus,
    /// The provider's transaction id, once paid.
    pub provider_transaction_id: Option<ProviderTransactionId>,
    /// When the provider says it was paid (Unix seconds).
    pub paid_at: Option<u64>,
}

impl Attempt {
    /// The payment, when this attempt was paid (`paid` or `duplicate`).
    pub fn payment(&self) -> Option<PaymentSummary> {
        Some(PaymentSummary {
            method: self.method,
            provider: self.method.provider(),
            provider_transaction_id: self.provider_transaction_id.clone()?,
            out_trade_no: self.out_trade_no.clone(),
            paid_at: self.paid_at?,
        })
    }
}

/// Where one refund is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RefundStatus {
    /// Submitted to the provider; its amount is reserved.
    Pending,
    /// The money went back.
    Succeeded,
    /// The provider refused it; its amount is free again.
    Failed,
}

impl RefundStatus {
    /// The wire name, e.g. `"succeeded"`.
    pub fn as_str(self) -> &'static str {
        match self {
            RefundStatus::Pending => "pending",
            RefundStatus::Succeeded => "succeeded",
            RefundStatus::Failed => "failed",
        }
    }
}

/// One refund of the session's payment, asked by the merchant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Refund {
    /// Its number at the provider.
    pub out_refund_no: OutRefundNo,
    /// How much.
    pub amount: Amount,
    /// When it was asked (Unix seconds).
    pub requested_at: u64,
    /// Where it is.
    pub status: RefundStatus,
}

/// What the merchant's backend gives when it creates a session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewSession {
    /// The new session's id ([`SessionId::from_random`]).
    pub id: SessionId,
    /// The merchant's order id.
    pub order_id: MerchantOrderId,
    /// The amount to pay (more than zero).
    pub amount: Amount,
    /// Its currency.
    pub currency: Currency,
    /// The merchant's metadata, echoed in events.
    pub metadata: Metadata,
    /// Now (Unix seconds).
    pub created_at: u64,
    /// When it expires unpaid (Unix seconds, after `created_at`).
    pub expires_at: u64,
}

/// Something that happens to a session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// The shopper chose a method; the worker is about to create the order at the provider.
    StartAttempt {
        /// The new attempt's order number ([`OutTradeNo::from_random`]).
        out_trade_no: OutTradeNo,
        /// The method (already checked with [`crate::method::check_allowed`]).
        method: PaymentMethod,
        /// Now (Unix seconds).
        now: u64,
    },
    /// A provider says an attempt failed (a verified callback or query answer).
    AttemptFailed {
        /// The attempt.
        out_trade_no: OutTradeNo,
        /// `true` when the shopper may try again (cancelled, declined, timed out); `false` when
        /// the provider refuses for good, which fails the session.
        retryable: bool,
        /// Now (Unix seconds).
        now: u64,
    },
    /// A provider says an attempt is paid (a verified callback or query answer, its ids already
    /// checked against the configuration by the caller).
    Paid {
        /// The attempt.
        out_trade_no: OutTradeNo,
        /// The amount the provider says was paid; must equal the session's.
        amount: Amount,
        /// The provider's transaction id.
        provider_transaction_id: ProviderTransactionId,
        /// When the provider says it was paid (Unix seconds).
        paid_at: u64,
    },
    /// The session's time is up (a Durable Object alarm, or a request after `expires_at`).
    Expire {
        /// Now (Unix seconds); must be at or after `expires_at`.
        now: u64,
    },
    /// The merchant closes the session before it is paid.
    Close,
    /// The merchant asks for a refund of (part of) the payment.
    RequestRefund {
        /// The refund's number at the provider (the merchant's idempotency key).
        out_refund_no: OutRefundNo,
        /// How much (more than zero).
        amount: Amount,
        /// Now (Unix seconds).
        now: u64,
    },
    /// A provider says a refund went through.
    RefundSucceeded {
        /// The refund.
        out_refund_no: OutRefundNo,
    },
    /// A provider says a refund was refused.
    RefundFailed {
        /// The refund.
        out_refund_no: OutRefundNo,
    },
}

impl Command {
    /// The command's name, as [`Error::IllegalTransition`] reports it in `to`.
    pub fn name(&self) -> &'static str {
        match self {
            Command::StartAttempt { .. } => "start_attempt",
            Command::AttemptFailed { .. } => "attempt_failed",
            Command::Paid { .. } => "paid",
            Command::Expire { .. } => "expire",
            Command::Close => "close",
            Command::RequestRefund { .. } => "request_refund",
            Command::RefundSucceeded { .. } => "refund_succeeded",
            Command::RefundFailed { .. } => "refund_failed",
        }
    }
}

/// What the worker must do after storing the new session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect {
    /// Close this attempt's order at the provider (another attempt paid, or the session ended). If
    /// the provider answers that it is paid, apply [`Command::Paid`]: it becomes a duplicate.
    CloseAttempt {
        /// The attempt.
        out_trade_no: OutTradeNo,
        /// Its method (and so its provider).
        method: PaymentMethod,
    },
    /// Refund this payment in full: the session cannot keep it (`payment.duplicate`).
    RefundPayment {
        /// The payment.
        payment: PaymentSummary,
        /// Its amount.
        amount: Amount,
    },
    /// Submit the merchant's refund to the provider.
    SubmitRefund {
        /// The refund's number.
        out_refund_no: OutRefundNo,
        /// The payment it refunds.
        payment: PaymentSummary,
        /// How much to refund.
        refund_amount: Amount,
        /// The payment's total (WeChat and UnionPay want it with the refund).
        total_amount: Amount,
    },
    /// Send this event to the merchant's webhook (the caller gives it an id and a time).
    Emit(EventData),
}

/// A checkout session: what was asked, where it is, its attempts and refunds. Built by
/// [`Session::new`], moved only by [`Session::apply`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Session {
    id: SessionId,
    order_id: MerchantOrderId,
    amount: Amount,
    currency: Currency,
    #[serde(default, skip_serializing_if = "Metadata::is_empty")]
    metadata: Metadata,
    created_at: u64,
    expires_at: u64,
    status: Status,
    attempts: Vec<Attempt>,
    refunds: Vec<Refund>,
}

impl Session {
    /// A new, `open` session.
    ///
    /// # Errors
    /// [`Error::InvalidAmount`] for a zero amount, [`Error::Malformed`] (`"expires_at"`) unless it
    /// expires after it is created.
    pub fn new(new: NewSession) -> Result<Self> {
        if new.amount.is_zero() {
            return Err(Error::InvalidAmount);
        }
        if new.expires_at <= new.created_at {
            return Err(Error::Malformed { what: "expires_at" });
        }
        Ok(Self {
            id: new.id,
            order_id: new.order_id,
            amount: new.amount,
            currency: new.currency,
            metadata: new.metadata,
            created_at: new.created_at,
            expires_at: new.expires_at,
            status: Status::Open,
            attempts: Vec::new(),
            refunds: Vec::new(),
        })
    }

    /// The session's id.
    pub fn id(&self) -> &SessionId {
        &self.id
    }

    /// The merchant's order id.
    pub fn order_id(&self) -> &MerchantOrderId {
        &self.order_id
    }

    /// The amount to pay.
    pub fn amount(&self) -> Amount {
        self.amount
    }

    /// Its currency.
    pub fn currency(&self) -> Currency {
        self.currency
    }

    /// The merchant's metadata.
    pub fn metadata(&self) -> &Metadata {
        &self.metadata
    }

    /// When it was created (Unix seconds).
    pub fn created_at(&self) -> u64 {
        self.created_at
    }

    /// When it expires unpaid (Unix seconds).
    pub fn expires_at(&self) -> u64 {
        self.expires_at
    }

    /// Where it is.
    pub fn status(&self) -> Status {
        self.status
    }

    /// Its attempts, oldest first.
    pub fn attempts(&self) -> &[Attempt] {
        &self.attempts
    }

    /// Its refunds, oldest first.
    pub fn refunds(&self) -> &[Refund] {
        &self.refunds
    }

    /// The attempt that paid the session, once it is paid.
    pub fn paid_attempt(&self) -> Option<&Attempt> {
        self.attempts
            .iter()
            .find(|a| a.status == AttemptStatus::Paid)
    }

    /// The sum of the refunds that succeeded.
    pub fn refunded_total(&self) -> Amount {
        self.refund_sum(|s| s == RefundStatus::Succeeded)
    }

    /// What can still be refunded: the paid amount less the refunds that succeeded or are pending
    /// (zero when not paid).
    pub fn refundable(&self) -> Amount {
        if !self.status.is_paid() {
            return Amount::ZERO;
        }
        let reserved = self.refund_sum(|s| s != RefundStatus::Failed);
        self.amount.checked_sub(reserved).unwrap_or(Amount::ZERO)
    }

    /// The session's fields every event starts with.
    pub fn summary(&self) -> SessionSummary {
        SessionSummary {
            session_id: self.id.clone(),
            order_id: self.order_id.clone(),
            amount: self.amount,
            currency: self.currency,
        }
    }

    /// Applies `command`: the session it leads to and what the caller must do, or a refusal that
    /// changes nothing. See the module documentation for the rules.
    ///
    /// # Errors
    /// - [`Error::IllegalTransition`] (`from` the session's, attempt's or refund's state, `to` the
    ///   [`Command::name`]) for a command the current state does not allow, including a start or an
    ///   expiry at the wrong time and more than [`MAX_ATTEMPTS`] attempts;
    /// - [`Error::Mismatch`] for an `out_trade_no` or `out_refund_no` the session does not know, a
    ///   paid amount other than the session's (`"amount"`), a repeated `paid` with another
    ///   transaction id (`"provider_transaction_id"`), or a repeated refund request with another
    ///   amount (`"refund_amount"`);
    /// - [`Error::InvalidId`] (`"out_trade_no"`) when a new attempt reuses a number;
    /// - [`Error::InvalidAmount`] for a zero refund or one above [`Session::refundable`].
    pub fn apply(&self, command: Command) -> Result<(Session, Vec<Effect>)> {
        let mut next = self.clone();
        let effects = next.step(command)?;
        Ok((next, effects))
    }

    fn step(&mut self, command: Command) -> Result<Vec<Effect>> {
        let name = command.name();
        let illegal = |from: &'static str| Error::IllegalTransition { from, to: name };
        match command {
            Command::StartAttempt {
                out_trade_no,
                method,
                now,
            } => {
                if !self.status.is_payable()
                    || now >= self.expires_at
                    || self.attempts.len() >= MAX_ATTEMPTS
                {
                    return Err(illegal(self.status.as_str()));
                }
                if self.attempts.iter().any(|a| a.out_trade_no == out_trade_no) {
                    return Err(Error::InvalidId {
                        kind: "out_trade_no",
                    });
                }
                self.attempts.push(Attempt {
                    out_trade_no,
                    method,
                    started_at: now,
                    status: AttemptStatus::Pending,
                    provider_transaction_id: None,
                    paid_at: None,
                });
                self.status = Status::Processing;
                Ok(Vec::new())
            }
            Command::AttemptFailed {
                out_trade_no,
                retryable,
                now,
            } => {
                let index = self.attempt_index(&out_trade_no)?;
                match self.attempts[index].status {
                    AttemptStatus::Failed | AttemptStatus::Closed => return Ok(Vec::new()),
                    AttemptStatus::Paid | AttemptStatus::Duplicate => {
                        return Err(illegal(self.attempts[index].status.as_str()))
                    }
                    AttemptStatus::Pending if !self.status.is_payable() => {
                        return Err(illegal(self.status.as_str()))
                    }
                    AttemptStatus::Pending => {}
                }
                self.attempts[index].status = AttemptStatus::Failed;
                if retryable {
                    self.status = if self.has_pending() {
                        Status::Processing
                    } else {
                        Status::Open
                    };
                    return Ok(Vec::new());
                }
                self.status = Status::Failed;
                let attempt = &self.attempts[index];
                let failed = EventData::PaymentFailed(PaymentFailed {
                    session: self.summary(),
                    method: attempt.method,
                    provider: attempt.method.provider(),
                    out_trade_no: attempt.out_trade_no.clone(),
                    failed_at: now,
                    metadata: self.metadata.clone(),
                });
                let mut effects = self.close_pending();
                effects.push(Effect::Emit(failed));
                Ok(effects)
            }
            Command::Paid {
                out_trade_no,
                amount,
                provider_transaction_id,
                paid_at,
            } => {
                let index = self.attempt_index(&out_trade_no)?;
                if amount != self.amount {
                    return Err(Error::Mismatch { field: "amount" });
                }
                let attempt = &mut self.attempts[index];
                if matches!(
                    attempt.status,
                    AttemptStatus::Paid | AttemptStatus::Duplicate
                ) {
                    // The same callback again (or a query confirming it): nothing new.
                    return if attempt.provider_transaction_id.as_ref()
                        == Some(&provider_transaction_id)
                    {
                        Ok(Vec::new())
                    } else {
                        Err(Error::Mismatch {
                            field: "provider_transaction_id",
                        })
                    };
                }
                attempt.provider_transaction_id = Some(provider_transaction_id);
                attempt.paid_at = Some(paid_at);
                if self.status.is_payable() {
                    attempt.status = AttemptStatus::Paid;
                    let payment = attempt
                        .payment()
                        .ok_or(illegal(AttemptStatus::Pending.as_str()))?;
                    self.status = Status::Paid;
                    let mut effects = self.close_pending();
                    effects.push(Effect::Emit(EventData::PaymentSucceeded(
                        PaymentSucceeded {
                            session: self.summary(),
                            payment,
                            metadata: self.metadata.clone(),
                        },
                    )));
                    return Ok(effects);
                }
                attempt.status = AttemptStatus::Duplicate;
                let payment = attempt
                    .payment()
                    .ok_or(illegal(AttemptStatus::Pending.as_str()))?;
                let reason = match self.status {
                    Status::Expired => DuplicateReason::SessionExpired,
                    Status::Closed => DuplicateReason::SessionClosed,
                    Status::Failed => DuplicateReason::SessionFailed,
                    _ => DuplicateReason::AlreadyPaid,
                };
                let event = EventData::PaymentDuplicate(PaymentDuplicate {
                    session: self.summary(),
                    payment: payment.clone(),
                    reason,
                    kept_out_trade_no: self.paid_attempt().map(|a| a.out_trade_no.clone()),
                    metadata: self.metadata.clone(),
                });
                Ok(vec![
                    Effect::RefundPayment { payment, amount },
                    Effect::Emit(event),
                ])
            }
            Command::Expire { now } => {
                if !self.status.is_payable() || now < self.expires_at {
                    return Err(illegal(self.status.as_str()));
                }
                self.status = Status::Expired;
                let mut effects = self.close_pending();
                effects.push(Effect::Emit(EventData::PaymentExpired(PaymentExpired {
                    session: self.summary(),
                    expired_at: self.expires_at,
                    metadata: self.metadata.clone(),
                })));
                Ok(effects)
            }
            Command::Close => {
                if !self.status.is_payable() {
                    return Err(illegal(self.status.as_str()));
                }
                self.status = Status::Closed;
                Ok(self.close_pending())
            }
            Command::RequestRefund {
                out_refund_no,
                amount,
                now,
            } => {
                if let Some(refund) = self
                    .refunds
                    .iter()
                    .find(|r| r.out_refund_no == out_refund_no)
                {
                    return match refund.status {
                        RefundStatus::Failed => Err(Error::IllegalTransition {
                            from: "refund_failed",
                            to: name,
                        }),
                        _ if refund.amount != amount => Err(Error::Mismatch {
                            field: "refund_amount",
                        }),
                        _ => Ok(Vec::new()),
                    };
                }
                if !matches!(self.status, Status::Paid | Status::PartiallyRefunded) {
                    return Err(illegal(self.status.as_str()));
                }
                if amount.is_zero() || amount > self.refundable() {
                    return Err(Error::InvalidAmount);
                }
                let payment = self.paid_payment(name)?;
                self.refunds.push(Refund {
                    out_refund_no: out_refund_no.clone(),
                    amount,
                    requested_at: now,
                    status: RefundStatus::Pending,
                });
                Ok(vec![Effect::SubmitRefund {
                    out_refund_no,
                    payment,
                    refund_amount: amount,
                    total_amount: self.amount,
                }])
            }
            Command::RefundSucceeded { out_refund_no }
            | Command::RefundFailed { out_refund_no } => {
                let succeeded = name == "refund_succeeded";
                let index = self
                    .refunds
                    .iter()
                    .position(|r| r.out_refund_no == out_refund_no)
                    .ok_or(Error::Mismatch {
                        field: "out_refund_no",
                    })?;
                let target = if succeeded {
                    RefundStatus::Succeeded
                } else {
                    RefundStatus::Failed
                };
                match self.refunds[index].status {
                    status if status == target => return Ok(Vec::new()),
                    RefundStatus::Pending => {}
                    RefundStatus::Succeeded => {
                        return Err(Error::IllegalTransition {
                            from: "refund_succeeded",
                            to: name,
                        })
                    }
                    RefundStatus::Failed => {
                        return Err(Error::IllegalTransition {
                            from: "refund_failed",
                            to: name,
                        })
                    }
                }
                let payment = self.paid_payment(name)?;
                self.refunds[index].status = target;
                let refunded_total = self.refunded_total();
                if succeeded {
                    self.status = if refunded_total == self.amount {
                        Status::Refunded
                    } else {
                        Status::PartiallyRefunded
                    };
                }
                let event = RefundEvent {
                    session: self.summary(),
                    payment,
                    out_refund_no,
                    refund_amount: self.refunds[index].amount,
                    refunded_total,
                    metadata: self.metadata.clone(),
                };
                Ok(vec![Effect::Emit(if succeeded {
                    EventData::RefundSucceeded(event)
                } else {
                    EventData::RefundFailed(event)
                })])
            }
        }
    }

    fn attempt_index(&self, out_trade_no: &OutTradeNo) -> Result<usize> {
        self.attempts
            .iter()
            .position(|a| &a.out_trade_no == out_trade_no)
            .ok_or(Error::Mismatch {
                field: "out_trade_no",
            })
    }

    fn has_pending(&self) -> bool {
        self.attempts
            .iter()
            .any(|a| a.status == AttemptStatus::Pending)
    }

    /// Marks every pending attempt closed and says to close each at its provider.
    fn close_pending(&mut self) -> Vec<Effect> {
        self.attempts
            .iter_mut()
            .filter(|a| a.status == AttemptStatus::Pending)
            .map(|a| {
                a.status = AttemptStatus::Closed;
                Effect::CloseAttempt {
                    out_trade_no: a.out_trade_no.clone(),
                    method: a.method,
                }
            })
            .collect()
    }

    fn paid_payment(&self, to: &'static str) -> Result<PaymentSummary> {
        self.paid_attempt()
            .and_then(Attempt::payment)
            .ok_or(Error::IllegalTransition {
                from: self.status.as_str(),
                to,
            })
    }

    fn refund_sum(&self, counted: impl Fn(RefundStatus) -> bool) -> Amount {
        // Bounded by the paid amount (checked when each refund is asked), so the sum cannot overflow.
        let fen = self
            .refunds
            .iter()
            .filter(|r| counted(r.status))
            .map(|r| r.amount.fen())
            .sum();
        Amount::from_fen(fen).unwrap_or(self.amount)
    }
}

/// The text a client secret's MAC covers.
fn client_secret_message(session: &SessionId) -> Vec<u8> {
    [b"client_secret:".as_slice(), session.as_str().as_bytes()].concat()
}

const CLIENT_SECRET_INFIX: &str = "_secret_";

/// The client secret of a session: `<session_id>_secret_<base64url(HMAC-SHA256(key,
/// "client_secret:" + session_id))>` (no padding), where `key` is the worker's `SESSION_SECRET`.
/// It is what the merchant hands to the widget; it lets the widget read and pay this one session,
/// and nothing else. Nothing is stored: [`check_client_secret`] recomputes it.
///
/// # Errors
/// [`Error::Crypto`] when the HMAC backend fails.
pub async fn derive_client_secret(key: &impl HmacSha256, session: &SessionId) -> Result<String> {
    let tag = key.sign(&client_secret_message(session)).await?;
    Ok(format!(
        "{session}{CLIENT_SECRET_INFIX}{}",
        URL_SAFE_NO_PAD.encode(tag)
    ))
}

/// Checks a client secret presented for `session`, comparing the MAC in constant time
/// ([`HmacSha256::verify`]).
///
/// # Errors
/// [`Error::BadSignature`] for anything but the exact secret of this session (another session's
/// secret, a changed character, a wrong key, bad base64); [`Error::Crypto`] when the backend fails.
pub async fn check_client_secret(
    key: &impl HmacSha256,
    session: &SessionId,
    presented: &str,
) -> Result<()> {
    let tag = presented
        .strip_prefix(session.as_str())
        .and_then(|rest| rest.strip_prefix(CLIENT_SECRET_INFIX))
        .ok_or(Error::BadSignature)?;
    let tag = URL_SAFE_NO_PAD
        .decode(tag)
        .map_err(|_| Error::BadSignature)?;
    match key.verify(&client_secret_message(session), &tag).await {
        Err(Error::Crypto) => Err(Error::Crypto),
        Err(_) => Err(Error::BadSignature),
        Ok(()) => Ok(()),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;
    use super::*;
    use crate::native::{block_on, HmacKey};
    use proptest::prelude::*;

    const CREATED: u64 = 1_700_000_000;
    const EXPIRES: u64 = CREATED + 1800;
    const FEN: u64 = 1000;

    fn no(n: u8) -> OutTradeNo {
        OutTradeNo::from_random(&[n; 15])
    }

    fn refund_no(n: u8) -> OutRefundNo {
        OutRefundNo::new(format!("RF{n}")).unwrap()
    }

    fn txn(n: u8) -> ProviderTransactionId {
        ProviderTransactionId::new(format!("42000{n}")).unwrap()
    }

    fn fen(n: u64) -> Amount {
        Amount::from_fen(n).unwrap()
    }

    fn session() -> Session {
        Session::new(NewSession {
            id: SessionId::from_random(&[1; 15]),
            order_id: MerchantOrderId::new("order-7").unwrap(),
            amount: fen(FEN),
            currency: Currency::Cny,
            metadata: [("k".to_owned(), "v".to_owned())].into(),
            created_at: CREATED,
            expires_at: EXPIRES,
        })
        .unwrap()
    }

    fn start(n: u8, method: PaymentMethod) -> Command {
        Command::StartAttempt {
            out_trade_no: no(n),
            method,
            now: CREATED + 10,
        }
    }

    fn paid(n: u8, t: u8) -> Command {
        Command::Paid {
            out_trade_no: no(n),
            amount: fen(FEN),
            provider_transaction_id: txn(t),
            paid_at: CREATED + 60,
        }
    }

    fn failed(n: u8, retryable: bool) -> Command {
        Command::AttemptFailed {
            out_trade_no: no(n),
            retryable,
            now: CREATED + 30,
        }
    }

    fn refund(n: u8, amount: u64) -> Command {
        Command::RequestRefund {
            out_refund_no: refund_no(n),
            amount: fen(amount),
            now: CREATED + 100,
        }
    }

    /// Applies each command, which must succeed, and returns the session and every effect.
    fn run(commands: impl IntoIterator<Item = Command>) -> (Session, Vec<Effect>) {
        let mut s = session();
        let mut all = Vec::new();
        for c in commands {
            let name = c.name();
            let (next, effects) = s
                .apply(c)
                .unwrap_or_else(|e| panic!("{name} refused in {}: {e}", s.status()));
            s = next;
            all.extend(effects);
        }
        (s, all)
    }

    fn types(effects: &[Effect]) -> Vec<&'static str> {
        effects
            .iter()
            .map(|e| match e {
                Effect::CloseAttempt { .. } => "close_attempt",
                Effect::RefundPayment { .. } => "refund_payment",
                Effect::SubmitRefund { .. } => "submit_refund",
                Effect::Emit(data) => data.event_type().as_str(),
            })
            .collect()
    }

    #[test]
    fn new_session_is_open_and_validated() {
        let s = session();
        assert_eq!(s.status(), Status::Open);
        assert_eq!(s.refundable(), Amount::ZERO);
        let mut bad = NewSession {
            id: SessionId::from_random(&[1; 15]),
            order_id: MerchantOrderId::new("o").unwrap(),
            amount: Amount::ZERO,
            currency: Currency::Cny,
            metadata: Metadata::new(),
            created_at: 10,
            expires_at: 20,
        };
        assert_eq!(Session::new(bad.clone()), Err(Error::InvalidAmount));
        bad.amount = fen(1);
        bad.expires_at = 10;
        assert_eq!(
            Session::new(bad),
            Err(Error::Malformed { what: "expires_at" })
        );
    }

    #[test]
    fn pay_on_the_first_attempt() {
        let (s, effects) = run([start(1, PaymentMethod::WechatJsapi)]);
        assert_eq!((s.status(), effects.len()), (Status::Processing, 0));
        let (s, effects) = s.apply(paid(1, 1)).unwrap();
        assert_eq!(s.status(), Status::Paid);
        assert_eq!(types(&effects), ["payment.succeeded"]);
        let Effect::Emit(EventData::PaymentSucceeded(e)) = &effects[0] else {
            panic!()
        };
        assert_eq!(e.payment.out_trade_no, no(1));
        assert_eq!(e.payment.provider_transaction_id, txn(1));
        assert_eq!(e.payment.paid_at, CREATED + 60);
        assert_eq!(e.session.amount, fen(FEN));
        assert_eq!(e.metadata.get("k").map(String::as_str), Some("v"));
        // The same callback again: nothing new.
        assert_eq!(s.apply(paid(1, 1)).unwrap(), (s.clone(), vec![]));
        // The same attempt with another transaction id is not a repeat.
        assert_eq!(
            s.apply(paid(1, 2)),
            Err(Error::Mismatch {
                field: "provider_transaction_id"
            })
        );
    }

    #[test]
    fn failed_attempt_lets_the_shopper_try_another_method() {
        let (s, effects) = run([start(1, PaymentMethod::WechatH5), failed(1, true)]);
        assert_eq!((s.status(), effects.len()), (Status::Open, 0));
        let (s, _) = run([
            start(1, PaymentMethod::WechatH5),
            failed(1, true),
            failed(1, true),
        ]);
        assert_eq!(
            s.status(),
            Status::Open,
            "a repeated failure changes nothing"
        );
        let (s, effects) = run([
            start(1, PaymentMethod::WechatH5),
            failed(1, true),
            start(2, PaymentMethod::AlipayWap),
            paid(2, 1),
        ]);
        assert_eq!(s.status(), Status::Paid);
        assert_eq!(types(&effects), ["payment.succeeded"]);
        // Two pending: one failing leaves the session processing.
        let (s, _) = run([
            start(1, PaymentMethod::WechatH5),
            start(2, PaymentMethod::AlipayWap),
            failed(1, true),
        ]);
        assert_eq!(s.status(), Status::Processing);
    }

    #[test]
    fn a_late_success_of_a_failed_attempt_still_pays() {
        let (s, effects) = run([
            start(1, PaymentMethod::WechatH5),
            failed(1, true),
            paid(1, 1),
        ]);
        assert_eq!(s.status(), Status::Paid);
        assert_eq!(types(&effects), ["payment.succeeded"]);
        assert_eq!(
            s.apply(failed(1, true)),
            Err(Error::IllegalTransition {
                from: "paid",
                to: "attempt_failed"
            })
        );
    }

    #[test]
    fn final_failure_fails_the_session_and_closes_the_rest() {
        let (s, effects) = run([
            start(1, PaymentMethod::WechatH5),
            start(2, PaymentMethod::AlipayWap),
            failed(1, false),
        ]);
        assert_eq!(s.status(), Status::Failed);
        assert_eq!(types(&effects), ["close_attempt", "payment.failed"]);
        assert_eq!(
            effects[0],
            Effect::CloseAttempt {
                out_trade_no: no(2),
                method: PaymentMethod::AlipayWap
            }
        );
        assert_eq!(
            s.apply(start(3, PaymentMethod::UnionpayWap)),
            Err(Error::IllegalTransition {
                from: "failed",
                to: "start_attempt"
            })
        );
    }

    #[test]
    fn paying_one_attempt_closes_the_others() {
        let (s, effects) = run([
            start(1, PaymentMethod::WechatH5),
            start(2, PaymentMethod::AlipayWap),
            start(3, PaymentMethod::UnionpayWap),
            paid(2, 1),
        ]);
        assert_eq!(s.status(), Status::Paid);
        assert_eq!(
            types(&effects),
            ["close_attempt", "close_attempt", "payment.succeeded"]
        );
        let statuses: Vec<_> = s.attempts().iter().map(|a| a.status).collect();
        assert_eq!(
            statuses,
            [
                AttemptStatus::Closed,
                AttemptStatus::Paid,
                AttemptStatus::Closed
            ]
        );
        assert_eq!(s.paid_attempt().map(|a| &a.out_trade_no), Some(&no(2)));
    }

    #[test]
    fn a_second_payment_is_a_duplicate_refunded_never_a_second_paid() {
        let (s, _) = run([
            start(1, PaymentMethod::WechatH5),
            start(2, PaymentMethod::AlipayWap),
            paid(1, 1),
        ]);
        let (s, effects) = s.apply(paid(2, 2)).unwrap();
        assert_eq!(s.status(), Status::Paid);
        assert_eq!(types(&effects), ["refund_payment", "payment.duplicate"]);
        let Effect::RefundPayment { payment, amount } = &effects[0] else {
            panic!()
        };
        assert_eq!(
            (
                &payment.out_trade_no,
                &payment.provider_transaction_id,
                *amount
            ),
            (&no(2), &txn(2), fen(FEN))
        );
        let Effect::Emit(EventData::PaymentDuplicate(d)) = &effects[1] else {
            panic!()
        };
        assert_eq!(
            (d.reason, d.kept_out_trade_no.clone()),
            (DuplicateReason::AlreadyPaid, Some(no(1)))
        );
        assert_eq!(s.paid_attempt().map(|a| &a.out_trade_no), Some(&no(1)));
        assert_eq!(s.attempts()[1].status, AttemptStatus::Duplicate);
        // The duplicate's callback again: no second refund.
        assert_eq!(s.apply(paid(2, 2)).unwrap(), (s.clone(), vec![]));
    }

    #[test]
    fn payments_after_the_session_ended_are_refunded() {
        for (end, reason) in [
            (
                Command::Expire { now: EXPIRES },
                DuplicateReason::SessionExpired,
            ),
            (Command::Close, DuplicateReason::SessionClosed),
            (failed(2, false), DuplicateReason::SessionFailed),
        ] {
            let (s, effects) = run([
                start(1, PaymentMethod::WechatNative),
                start(2, PaymentMethod::AlipayQr),
                end,
            ]);
            assert!(s.status().is_final());
            assert!(effects.contains(&Effect::CloseAttempt {
                out_trade_no: no(1),
                method: PaymentMethod::WechatNative
            }));
            let (s2, effects) = s.apply(paid(1, 1)).unwrap();
            assert_eq!(s2.status(), s.status());
            assert_eq!(types(&effects), ["refund_payment", "payment.duplicate"]);
            let Effect::Emit(EventData::PaymentDuplicate(d)) = &effects[1] else {
                panic!()
            };
            assert_eq!((d.reason, d.kept_out_trade_no.clone()), (reason, None));
        }
    }

    #[test]
    fn expiry_needs_the_time_and_an_unpaid_session() {
        let s = session();
        assert_eq!(
            s.apply(Command::Expire { now: EXPIRES - 1 }),
            Err(Error::IllegalTransition {
                from: "open",
                to: "expire"
            })
        );
        let (expired, effects) = s.apply(Command::Expire { now: EXPIRES }).unwrap();
        assert_eq!(expired.status(), Status::Expired);
        assert_eq!(types(&effects), ["payment.expired"]);
        assert_eq!(
            expired.apply(Command::Expire { now: EXPIRES + 1 }),
            Err(Error::IllegalTransition {
                from: "expired",
                to: "expire"
            })
        );
        assert_eq!(
            expired.apply(Command::Close),
            Err(Error::IllegalTransition {
                from: "expired",
                to: "close"
            })
        );
        let late = Command::StartAttempt {
            out_trade_no: no(1),
            method: PaymentMethod::WechatH5,
            now: EXPIRES,
        };
        assert_eq!(
            s.apply(late),
            Err(Error::IllegalTransition {
                from: "open",
                to: "start_attempt"
            })
        );
        let (paid_s, _) = run([start(1, PaymentMethod::WechatH5), paid(1, 1)]);
        assert_eq!(
            paid_s.apply(Command::Expire { now: EXPIRES }),
            Err(Error::IllegalTransition {
                from: "paid",
                to: "expire"
            })
        );
        assert_eq!(
            paid_s.apply(Command::Close),
            Err(Error::IllegalTransition {
                from: "paid",
                to: "close"
            })
        );
    }

    #[test]
    fn unknown_numbers_and_wrong_amounts_are_refused() {
        let (s, _) = run([start(1, PaymentMethod::WechatH5)]);
        assert_eq!(
            s.apply(paid(9, 1)),
            Err(Error::Mismatch {
                field: "out_trade_no"
            })
        );
        assert_eq!(
            s.apply(failed(9, true)),
            Err(Error::Mismatch {
                field: "out_trade_no"
            })
        );
        let short = Command::Paid {
            out_trade_no: no(1),
            amount: fen(FEN - 1),
            provider_transaction_id: txn(1),
            paid_at: 0,
        };
        assert_eq!(s.apply(short), Err(Error::Mismatch { field: "amount" }));
        assert_eq!(
            s.apply(start(1, PaymentMethod::AlipayWap)),
            Err(Error::InvalidId {
                kind: "out_trade_no"
            })
        );
        assert_eq!(
            s.apply(refund(1, 1)),
            Err(Error::IllegalTransition {
                from: "processing",
                to: "request_refund"
            })
        );
        assert_eq!(
            s.apply(Command::RefundSucceeded {
                out_refund_no: refund_no(1)
            }),
            Err(Error::Mismatch {
                field: "out_refund_no"
            })
        );
    }

    #[test]
    fn attempts_are_bounded() {
        let (s, _) = run((0..MAX_ATTEMPTS as u8).map(|n| start(n, PaymentMethod::WechatH5)));
        assert_eq!(
            s.apply(start(200, PaymentMethod::WechatH5)),
            Err(Error::IllegalTransition {
                from: "processing",
                to: "start_attempt"
            })
        );
    }

    #[test]
    fn refunds_partial_then_full() {
        let (s, _) = run([start(1, PaymentMethod::AlipayWap), paid(1, 1)]);
        assert_eq!(s.refundable(), fen(FEN));
        let (s, effects) = s.apply(refund(1, 300)).unwrap();
        let Effect::SubmitRefund {
            out_refund_no,
            payment,
            refund_amount,
            total_amount,
        } = &effects[0]
        else {
            panic!()
        };
        assert_eq!(
            (
                out_refund_no,
                &payment.out_trade_no,
                *refund_amount,
                *total_amount
            ),
            (&refund_no(1), &no(1), fen(300), fen(FEN))
        );
        assert_eq!((s.status(), s.refundable()), (Status::Paid, fen(700)));
        // A pending refund reserves its amount.
        assert_eq!(s.apply(refund(2, 701)), Err(Error::InvalidAmount));
        assert_eq!(s.apply(refund(2, 0)), Err(Error::InvalidAmount));
        // The same request again is a no-op; with another amount it is refused.
        assert_eq!(s.apply(refund(1, 300)).unwrap(), (s.clone(), vec![]));
        assert_eq!(
            s.apply(refund(1, 200)),
            Err(Error::Mismatch {
                field: "refund_amount"
            })
        );
        let (s, effects) = s
            .apply(Command::RefundSucceeded {
                out_refund_no: refund_no(1),
            })
            .unwrap();
        assert_eq!(s.status(), Status::PartiallyRefunded);
        let Effect::Emit(EventData::RefundSucceeded(e)) = &effects[0] else {
            panic!()
        };
        assert_eq!(
            (e.refund_amount, e.refunded_total, &e.payment.out_trade_no),
            (fen(300), fen(300), &no(1))
        );
        assert_eq!(
            s.apply(Command::RefundSucceeded {
                out_refund_no: refund_no(1)
            })
            .unwrap(),
            (s.clone(), vec![])
        );
        assert_eq!(
            s.apply(Command::RefundFailed {
                out_refund_no: refund_no(1)
            }),
            Err(Error::IllegalTransition {
                from: "refund_succeeded",
                to: "refund_failed"
            })
        );
        let (s, _) = s.apply(refund(2, 700)).unwrap();
        let (s, effects) = s
            .apply(Command::RefundSucceeded {
                out_refund_no: refund_no(2),
            })
            .unwrap();
        assert_eq!(
            (s.status(), s.refunded_total(), s.refundable()),
            (Status::Refunded, fen(FEN), Amount::ZERO)
        );
        assert_eq!(types(&effects), ["refund.succeeded"]);
        assert_eq!(
            s.apply(refund(3, 1)),
            Err(Error::IllegalTransition {
                from: "refunded",
                to: "request_refund"
            })
        );
    }

    #[test]
    fn a_failed_refund_frees_its_amount() {
        let (s, _) = run([
            start(1, PaymentMethod::AlipayWap),
            paid(1, 1),
            refund(1, FEN),
        ]);
        assert_eq!(s.refundable(), Amount::ZERO);
        let (s, effects) = s
            .apply(Command::RefundFailed {
                out_refund_no: refund_no(1),
            })
            .unwrap();
        assert_eq!(types(&effects), ["refund.failed"]);
        assert_eq!((s.status(), s.refundable()), (Status::Paid, fen(FEN)));
        assert_eq!(
            s.apply(refund(1, FEN)),
            Err(Error::IllegalTransition {
                from: "refund_failed",
                to: "request_refund"
            })
        );
        assert_eq!(
            s.apply(Command::RefundSucceeded {
                out_refund_no: refund_no(1)
            }),
            Err(Error::IllegalTransition {
                from: "refund_failed",
                to: "refund_succeeded"
            })
        );
        assert!(s.apply(refund(2, FEN)).is_ok());
    }

    #[test]
    fn session_round_trips_through_storage() {
        let (s, _) = run([
            start(1, PaymentMethod::AlipayWap),
            paid(1, 1),
            refund(1, 10),
        ]);
        let json = serde_json::to_string(&s).unwrap();
        assert!(json.contains(r#""status":"paid""#), "{json}");
        assert_eq!(serde_json::from_str::<Session>(&json).unwrap(), s);
    }

    fn command() -> impl Strategy<Value = Command> {
        let n = 1u8..4;
        let method = prop::sample::select(PaymentMethod::ALL.to_vec());
        let now = prop::sample::select(vec![CREATED, EXPIRES - 1, EXPIRES, EXPIRES + 100]);
        prop_oneof![
            3 => (n.clone(), method, now.clone()).prop_map(|(n, method, now)| Command::StartAttempt { out_trade_no: no(n), method, now }),
            2 => (n.clone(), any::<bool>()).prop_map(|(n, retryable)| failed(n, retryable)),
            3 => (n.clone(), 1u8..3, prop::sample::select(vec![FEN, FEN, FEN - 1]))
                .prop_map(|(n, t, f)| Command::Paid { out_trade_no: no(n), amount: fen(f), provider_transaction_id: txn(t), paid_at: CREATED + 60 }),
            1 => now.prop_map(|now| Command::Expire { now }),
            1 => Just(Command::Close),
            3 => (1u8..5, prop::sample::select(vec![0, 1, 300, 500, 700, FEN, FEN + 1])).prop_map(|(r, a)| refund(r, a)),
            2 => (1u8..5).prop_map(|r| Command::RefundSucceeded { out_refund_no: refund_no(r) }),
            1 => (1u8..5).prop_map(|r| Command::RefundFailed { out_refund_no: refund_no(r) }),
        ]
    }

    fn paid_rank(status: Status) -> u8 {
        match status {
            Status::Paid => 0,
            Status::PartiallyRefunded => 1,
            _ => 2,
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        #[test]
        fn random_histories_keep_the_invariants(commands in prop::collection::vec(command(), 0..40)) {
            let mut s = session();
            let mut succeeded_events = 0;
            for command in commands {
                let is_paid_command = matches!(command, Command::Paid { .. });
                let Ok((next, effects)) = s.apply(command) else { continue };
                let emitted = types(&effects);
                succeeded_events += emitted.iter().filter(|t| **t == "payment.succeeded").count();
                // Paid at most once: one event, one paid attempt, ever.
                prop_assert!(succeeded_events <= 1);
                prop_assert!(next.attempts().iter().filter(|a| a.status == AttemptStatus::Paid).count() <= 1);
                prop_assert_eq!(next.status().is_paid(), next.paid_attempt().is_some());
                // No way out of a final state; from paid, only forward through refunds.
                if s.status().is_final() {
                    prop_assert_eq!(next.status(), s.status());
                }
                if s.status().is_paid() {
                    prop_assert!(next.status().is_paid());
                    prop_assert!(paid_rank(next.status()) >= paid_rank(s.status()));
                    prop_assert!(!emitted.contains(&"payment.succeeded"));
                }
                // A payment that lands on a session that cannot take it is refunded and reported.
                if is_paid_command && !s.status().is_payable() && !effects.is_empty() {
                    prop_assert_eq!(&emitted, &["refund_payment", "payment.duplicate"]);
                }
                // Refunds never exceed what was paid, pending ones included.
                let reserved: u64 = next.refunds().iter().filter(|r| r.status != RefundStatus::Failed).map(|r| r.amount.fen()).sum();
                prop_assert!(reserved <= FEN);
                prop_assert!(next.refunded_total() <= next.amount());
                prop_assert_eq!(next.status() == Status::Refunded, next.refunded_total() == next.amount());
                // Pending attempts exist only while the session can be paid, and then mean processing.
                let pending = next.attempts().iter().any(|a| a.status == AttemptStatus::Pending);
                if next.status().is_payable() {
                    prop_assert_eq!(pending, next.status() == Status::Processing);
                } else {
                    prop_assert!(!pending);
                }
                s = next;
            }
        }
    }

    fn key() -> HmacKey {
        let text = include_str!("../fixtures/test_session_secret.txt");
        HmacKey::new(
            &base64::engine::general_purpose::STANDARD
                .decode(text.trim())
                .unwrap(),
        )
    }

    #[test]
    fn client_secret_round_trip_and_refusals() {
        let key = key();
        let id = SessionId::from_random(&[7; 15]);
        let other = SessionId::from_random(&[8; 15]);
        let secret = block_on(derive_client_secret(&key, &id)).unwrap();
        let (prefix, mac) = secret.split_once("_secret_").unwrap();
        assert_eq!(prefix, id.as_str());
        assert_eq!(mac.len(), 43, "32 bytes, base64url without padding");
        assert!(mac
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'));
        assert_eq!(
            block_on(derive_client_secret(&key, &id)).unwrap(),
            secret,
            "deterministic"
        );
        block_on(check_client_secret(&key, &id, &secret)).unwrap();

        let other_secret = block_on(derive_client_secret(&key, &other)).unwrap();
        let mut flipped = secret.clone().into_bytes();
        let last = flipped.len() - 2;
        flipped[last] = if flipped[last] == b'A' { b'B' } else { b'A' };
        let flipped = String::from_utf8(flipped).unwrap();
        let wrong_key = HmacKey::new(b"another key entirely, 32 bytes!!");
        for (key, presented) in [
            (&key, other_secret.as_str()),
            (&key, flipped.as_str()),
            (&key, &secret[..secret.len() - 1]),
            (&key, &format!("{secret}A")),
            (&key, &format!("{secret}=")),
            (&key, ""),
            (&key, id.as_str()),
            (&key, &secret.replace("_secret_", "_secreT_")),
            (
                &key,
                &format!("{}_secret_{}", id, mac.replace(['-', '_'], "+")),
            ),
            (&wrong_key, secret.as_str()),
        ] {
            assert_eq!(
                block_on(check_client_secret(key, &id, presented)),
                Err(Error::BadSignature),
                "{presented}"
            );
        }
        // Another session's secret checked against its own id passes: it is that session's key.
        block_on(check_client_secret(&key, &other, &other_secret)).unwrap();
    }

    #[test]
    fn client_secret_known_answer() {
        // HMAC-SHA256 of "client_secret:cs_aaaaaaaaaaaaaaaaaaaaaaaa" with the RFC 4231 case 2 key
        // "Jefe", recomputed with `openssl dgst -sha256 -hmac Jefe` and base64url-encoded.
        let id = SessionId::new("cs_aaaaaaaaaaaaaaaaaaaaaaaa").unwrap();
        let secret = block_on(derive_client_secret(&HmacKey::new(b"Jefe"), &id)).unwrap();
        assert_eq!(
            secret,
            format!("{id}_secret_jbKu4NjXklvBSWFfDiKrWKmz9a7NJCw1uo4x-wLoi2M")
        );
    }
}
