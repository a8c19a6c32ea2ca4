//! Alipay OpenAPI (`gateway.do`, RSA2): signed requests, verified answers and notifications.
//!
//! - [`sign`]: the string to sign and the SHA256withRSA step (<https://opendocs.alipay.com/common/02kf5q>).
//! - [`request`]: `alipay.trade.page.pay` / `wap.pay` as a URL or an auto-submit form, and
//!   `precreate` / `query` / `close` / `refund` as a server POST.
//! - [`response`]: answers verified over the raw `…_response` text, typed.
//! - [`notify`]: the asynchronous notification, verified over the raw form body, typed.
//! - [`cert`]: certificate mode's serial numbers.
//!
//! Every signature goes through [`crate::crypto::RsaSigner`] / [`crate::crypto::RsaVerifier`];
//! times are Unix seconds passed in and written as Beijing time ([`crate::beijing_time`]).

pub mod cert;
pub mod model;
pub mod notify;
pub mod request;
pub mod response;
pub mod sign;

pub use model::{Method, NotifyId, OpenId, TradeNo, TradeStatus, UserId};
pub use notify::{parse_notify, sign_notify, Notify, ACK_BODY};
pub use request::{sign_request, CertSerials, Expiry, Merchant, Order, Request, SignedRequest, TradeRef, Urls};
pub use response::{
    sign_response, verify_response, ApiError, CloseResponse, Outcome, PrecreateResponse, QueryResponse,
    RefundResponse,
};
