//! The one error type of `payment-core`.
//!
//! Codes are stable machine strings (see [`Error::code`]); messages never contain secrets, keys,
//! signatures or request bodies. A failed signature or decryption is one opaque error: nothing says
//! which byte differed.

use std::fmt;

/// Everything that can go wrong in `payment-core`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// An amount is malformed, negative, has the wrong number of decimals, or overflows.
    InvalidAmount,
    /// An identifier does not have the length or alphabet its provider requires.
    InvalidId {
        /// Which identifier, e.g. `"out_trade_no"`.
        kind: &'static str,
    },
    /// A required field is missing or malformed in outside input (a callback, a response, a header).
    Malformed {
        /// Which field or part, e.g. `"Wechatpay-Timestamp"`.
        what: &'static str,
    },
    /// A signature did not verify. Deliberately says nothing more.
    BadSignature,
    /// A signed timestamp is outside the accepted window.
    StaleTimestamp,
    /// The key a message names (a serial, a public-key id, a certificate id) is not configured.
    UnknownKey,
    /// A key, certificate or secret could not be parsed or has the wrong size.
    InvalidKey {
        /// Which key, e.g. `"WECHATPAY_APIV3_KEY"` (a setting name, never its value).
        what: &'static str,
    },
    /// A certificate does not chain to a configured root, or is outside its validity period.
    UntrustedCertificate,
    /// Authenticated decryption failed (wrong key, tampered ciphertext or associated data).
    DecryptionFailed,
    /// A value in a provider message does not match what was stored (amount, merchant, order...).
    Mismatch {
        /// Which field, e.g. `"amount"`.
        field: &'static str,
    },
    /// A state transition the session state machine does not allow.
    IllegalTransition {
        /// The state the session is in.
        from: &'static str,
        /// The event or state that was refused.
        to: &'static str,
    },
    /// The crypto backend failed (not a verification failure: the operation could not run).
    Crypto,
    /// A payment method the session or the shopper's environment does not allow.
    MethodNotAllowed {
        /// Why, a [`crate::method::BlockReason`] code, e.g. `"blocked_in_wechat"`.
        reason: &'static str,
    },
}

impl Error {
    /// The stable machine code of this error.
    pub fn code(&self) -> &'static str {
        match self {
            Error::InvalidAmount => "invalid_amount",
            Error::InvalidId { .. } => "invalid_id",
            Error::Malformed { .. } => "malformed",
            Error::BadSignature => "bad_signature",
            Error::StaleTimestamp => "stale_timestamp",
            Error::UnknownKey => "unknown_key",
            Error::InvalidKey { .. } => "invalid_key",
            Error::UntrustedCertificate => "untrusted_certificate",
            Error::DecryptionFailed => "decryption_failed",
            Error::Mismatch { .. } => "mismatch",
            Error::IllegalTransition { .. } => "illegal_transition",
            Error::Crypto => "crypto_error",
            Error::MethodNotAllowed { .. } => "method_not_allowed",
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::InvalidAmount => f.write_str("invalid amount"),
            Error::InvalidId { kind } => write!(f, "invalid {kind}"),
            Error::Malformed { what } => write!(f, "missing or malformed {what}"),
            Error::BadSignature => f.write_str("signature verification failed"),
            Error::StaleTimestamp => f.write_str("timestamp outside the accepted window"),
            Error::UnknownKey => f.write_str("the message names a key that is not configured"),
            Error::InvalidKey { what } => write!(f, "invalid key or certificate: {what}"),
            Error::UntrustedCertificate => f.write_str("certificate not trusted"),
            Error::DecryptionFailed => f.write_str("decryption failed"),
            Error::Mismatch { field } => write!(f, "{field} does not match the order"),
            Error::IllegalTransition { from, to } => write!(f, "cannot go from {from} to {to}"),
            Error::Crypto => f.write_str("crypto operation failed"),
            Error::MethodNotAllowed { reason } => write!(f, "payment method not allowed: {reason}"),
        }
    }
}

impl std::error::Error for Error {}

/// `Result` with [`Error`].
pub type Result<T> = std::result::Result<T, Error>;
