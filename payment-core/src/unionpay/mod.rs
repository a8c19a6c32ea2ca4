//! UnionPay ACP 5.1.0 (`signMethod=01`): the front consumption form, the status query, and
//! verification of back notifications and gateway answers against configured root and middle
//! certificates (<https://open.unionpay.com/tjweb/acproduct/APIList?apiservId=448>).
//!
//! - [`sign`]: the sorted string, its lowercase hex SHA-256, SHA256withRSA over that hex.
//! - [`request`]: `frontTransReq.do` form data and `queryTrans.do` bodies.
//! - [`trust`]: when a message's `signPubKeyCert` is trusted.
//! - [`notify`]: the entry points that verify and parse what UnionPay sends, and the sandbox's signer.

pub mod model;
pub mod notify;
pub mod request;
pub mod sign;
pub mod trust;

pub use model::{Channel, MerId, QueryId, RespCode, TxnType, UnionpayOrderId};
pub use notify::{parse_notify, parse_response, sign_message, Notify, Response, SignedMessage};
pub use request::{front_consume, query, FrontConsume, GatewayPost, Merchant};
pub use trust::{TrustAnchors, TEST_ENVIRONMENT_SIGNER, UNIONPAY_SIGNER};
