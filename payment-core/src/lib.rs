//! `payment-core`: the one place where edgepay's payment rules live.
//!
//! Sans-IO: nothing here reads the clock, draws randomness or opens a socket. Time, nonces and keys
//! come in as arguments, so the same code runs natively, in the worker and in the widget.

pub mod alipay;
pub mod beijing_time;
pub mod crypto;
pub mod environment;
pub mod error;
pub mod event;
pub mod form;
pub mod ids;
pub mod keys;
pub mod method;
pub mod money;
#[cfg(feature = "native")]
pub mod native;
pub mod session;
pub mod unionpay;
pub mod wechatpay;
pub mod webhook;
pub mod x509;

pub use error::{Error, Result};

/// Version of the edgepay protocol core, reported by the worker's health endpoint.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
