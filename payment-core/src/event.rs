//! The normalized events edgepay sends to the merchant's webhook, whatever the provider.
//!
//! One JSON shape for all of them:
//!
//! ```json
//! {"id":"evt_…","type":"payment.succeeded","created_at":1700000000,"data":{"session_id":"cs_…",…}}
//! ```
//!
//! `id` is also the Standard Webhooks `webhook-id` (the merchant's idempotency key; see
//! [`crate::webhook`]); it and `created_at` (Unix seconds) come from the caller, like every id and
//! time in this crate. Amounts are integers of fen. `data` starts with the session's fields
//! ([`SessionSummary`]), then the payment's ([`PaymentSummary`]) where there is one, then the
//! event's own, and ends with the merchant's `metadata` (left out when empty).

use std::collections::BTreeMap;
use std::fmt;

use serde::ser::SerializeStruct as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::error::{Error, Result};
use crate::ids::{def_id, MerchantOrderId, OutRefundNo, OutTradeNo, SessionId};
use crate::method::{PaymentMethod, Provider};
use crate::money::{Amount, Currency};

def_id!(
    /// An event id, `evt_` followed by 1–60 letters, digits or `_`; also the webhook's `webhook-id`
    /// (no `.` allowed there, see [`crate::webhook::sign`]).
    EventId, "event_id", |v| v.len() > 4
        && v.len() <= 64
        && v.starts_with("evt_")
        && v[4..].bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
);

impl EventId {
    /// An event id from 15 random bytes the caller draws: `evt_` and 24 lower-case base32 characters.
    pub fn from_random(random: &[u8; 15]) -> Self {
        Self(format!("evt_{}", crate::ids::base32(random)))
    }
}

/// The merchant's key–value metadata of a session, echoed in its events (sorted by key).
pub type Metadata = BTreeMap<String, String>;

/// An event type, as named on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum EventType {
    /// `payment.succeeded`: the session is paid (sent once per session).
    #[serde(rename = "payment.succeeded")]
    PaymentSucceeded,
    /// `payment.failed`: the session cannot be paid any more.
    #[serde(rename = "payment.failed")]
    PaymentFailed,
    /// `payment.expired`: the session expired unpaid.
    #[serde(rename = "payment.expired")]
    PaymentExpired,
    /// `refund.succeeded`: a refund reached the shopper.
    #[serde(rename = "refund.succeeded")]
    RefundSucceeded,
    /// `refund.failed`: a refund was refused by the provider.
    #[serde(rename = "refund.failed")]
    RefundFailed,
    /// `payment.duplicate`: a payment the session cannot keep (a second one, or one after the
    /// session ended); edgepay refunds it in full.
    #[serde(rename = "payment.duplicate")]
    PaymentDuplicate,
}

impl EventType {
    /// Every event type.
    pub const ALL: [EventType; 6] = [
        EventType::PaymentSucceeded,
        EventType::PaymentFailed,
        EventType::PaymentExpired,
        EventType::RefundSucceeded,
        EventType::RefundFailed,
        EventType::PaymentDuplicate,
    ];

    /// The wire name, e.g. `"payment.succeeded"`.
    pub fn as_str(self) -> &'static str {
        match self {
            EventType::PaymentSucceeded => "payment.succeeded",
            EventType::PaymentFailed => "payment.failed",
            EventType::PaymentExpired => "payment.expired",
            EventType::RefundSucceeded => "refund.succeeded",
            EventType::RefundFailed => "refund.failed",
            EventType::PaymentDuplicate => "payment.duplicate",
        }
    }
}

impl fmt::Display for EventType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The session an event is about: the first fields of every event's `data`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionSummary {
    /// The checkout session.
    pub session_id: SessionId,
    /// The merchant's order id given when the session was created.
    pub order_id: MerchantOrderId,
    /// The session's amount, in fen.
    pub amount: Amount,
    /// Its currency.
    pub currency: Currency,
}

/// One payment at a provider (one attempt of the session).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PaymentSummary {
    /// How the shopper paid.
    pub method: PaymentMethod,
    /// Who took the money.
    pub provider: Provider,
    /// The provider's transaction id (WeChat `transaction_id`, Alipay `trade_no`, UnionPay `queryId`).
    pub provider_transaction_id: ProviderTransactionId,
    /// The attempt's order number at the provider.
    pub out_trade_no: OutTradeNo,
    /// When the provider says it was paid (Unix seconds).
    pub paid_at: u64,
}

def_id!(
    /// A provider's id of a payment: WeChat `transaction_id`, Alipay `trade_no`, UnionPay `queryId`
    /// (1–64 visible ASCII).
    ProviderTransactionId, "provider_transaction_id", |v| (1..=64).contains(&v.len()) && v.bytes().all(|b| b.is_ascii_graphic())
);

/// `data` of `payment.succeeded`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PaymentSucceeded {
    /// The session.
    #[serde(flatten)]
    pub session: SessionSummary,
    /// The payment that paid it.
    #[serde(flatten)]
    pub payment: PaymentSummary,
    /// The merchant's metadata.
    #[serde(default, skip_serializing_if = "Metadata::is_empty")]
    pub metadata: Metadata,
}

/// `data` of `payment.failed`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PaymentFailed {
    /// The session.
    #[serde(flatten)]
    pub session: SessionSummary,
    /// The method of the attempt whose failure ended the session.
    pub method: PaymentMethod,
    /// Its provider.
    pub provider: Provider,
    /// Its order number at the provider.
    pub out_trade_no: OutTradeNo,
    /// When the failure was recorded (Unix seconds).
    pub failed_at: u64,
    /// The merchant's metadata.
    #[serde(default, skip_serializing_if = "Metadata::is_empty")]
    pub metadata: Metadata,
}

/// `data` of `payment.expired`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PaymentExpired {
    /// The session.
    #[serde(flatten)]
    pub session: SessionSummary,
    /// The session's expiry time (Unix seconds).
    pub expired_at: u64,
    /// The merchant's metadata.
    #[serde(default, skip_serializing_if = "Metadata::is_empty")]
    pub metadata: Metadata,
}

/// `data` of `refund.succeeded` and `refund.failed`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefundEvent {
    /// The session.
    #[serde(flatten)]
    pub session: SessionSummary,
    /// The payment being refunded.
    #[serde(flatten)]
    pub payment: PaymentSummary,
    /// The refund's number at the provider.
    pub out_refund_no: OutRefundNo,
    /// This refund's amount, in fen.
    pub refund_amount: Amount,
    /// Everything refunded on the session so far, this refund included if it succeeded, in fen.
    pub refunded_total: Amount,
    /// The merchant's metadata.
    #[serde(default, skip_serializing_if = "Metadata::is_empty")]
    pub metadata: Metadata,
}

/// Why a payment is a duplicate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DuplicateReason {
    /// Another attempt had already paid the session.
    AlreadyPaid,
    /// The session had expired.
    SessionExpired,
    /// The merchant had closed the session.
    SessionClosed,
    /// The session had failed.
    SessionFailed,
}

/// `data` of `payment.duplicate`: a payment the session cannot keep; edgepay refunds it in full.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PaymentDuplicate {
    /// The session.
    #[serde(flatten)]
    pub session: SessionSummary,
    /// The payment that cannot be kept.
    #[serde(flatten)]
    pub payment: PaymentSummary,
    /// Why.
    pub reason: DuplicateReason,
    /// The attempt that paid the session and is kept, when there is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kept_out_trade_no: Option<OutTradeNo>,
    /// The merchant's metadata.
    #[serde(default, skip_serializing_if = "Metadata::is_empty")]
    pub metadata: Metadata,
}

/// What an event says: its type and its `data`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", content = "data")]
pub enum EventData {
    /// `payment.succeeded`
    #[serde(rename = "payment.succeeded")]
    PaymentSucceeded(PaymentSucceeded),
    /// `payment.failed`
    #[serde(rename = "payment.failed")]
    PaymentFailed(PaymentFailed),
    /// `payment.expired`
    #[serde(rename = "payment.expired")]
    PaymentExpired(PaymentExpired),
    /// `refund.succeeded`
    #[serde(rename = "refund.succeeded")]
    RefundSucceeded(RefundEvent),
    /// `refund.failed`
    #[serde(rename = "refund.failed")]
    RefundFailed(RefundEvent),
    /// `payment.duplicate`
    #[serde(rename = "payment.duplicate")]
    PaymentDuplicate(PaymentDuplicate),
}

impl EventData {
    /// The event's type.
    pub fn event_type(&self) -> EventType {
        match self {
            EventData::PaymentSucceeded(_) => EventType::PaymentSucceeded,
            EventData::PaymentFailed(_) => EventType::PaymentFailed,
            EventData::PaymentExpired(_) => EventType::PaymentExpired,
            EventData::RefundSucceeded(_) => EventType::RefundSucceeded,
            EventData::RefundFailed(_) => EventType::RefundFailed,
            EventData::PaymentDuplicate(_) => EventType::PaymentDuplicate,
        }
    }

    /// The session the event is about.
    pub fn session(&self) -> &SessionSummary {
        match self {
            EventData::PaymentSucceeded(d) => &d.session,
            EventData::PaymentFailed(d) => &d.session,
            EventData::PaymentExpired(d) => &d.session,
            EventData::RefundSucceeded(d) | EventData::RefundFailed(d) => &d.session,
            EventData::PaymentDuplicate(d) => &d.session,
        }
    }
}

/// One event, as sent to the merchant: `{"id","type","created_at","data"}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    /// Its id, also the `webhook-id`.
    pub id: EventId,
    /// When it happened (Unix seconds); retries keep it.
    pub created_at: u64,
    /// Its type and data.
    pub data: EventData,
}

impl Event {
    /// An event with the id and time the caller chose.
    pub fn new(id: EventId, created_at: u64, data: EventData) -> Self {
        Self {
            id,
            created_at,
            data,
        }
    }

    /// The event's type.
    pub fn event_type(&self) -> EventType {
        self.data.event_type()
    }

    /// The exact bytes to send (and to sign with [`crate::webhook::sign`]): compact JSON.
    ///
    /// # Errors
    /// [`Error::Malformed`] if serialization fails (it does not for these types).
    pub fn to_json(&self) -> Result<String> {
        serde_json::to_string(self).map_err(|_| Error::Malformed { what: "event" })
    }
}

impl Serialize for Event {
    fn serialize<S: Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        /// `data` alone, without the enum's tag (written before `created_at`).
        struct Data<'a>(&'a EventData);
        impl Serialize for Data<'_> {
            fn serialize<S: Serializer>(
                &self,
                serializer: S,
            ) -> std::result::Result<S::Ok, S::Error> {
                match self.0 {
                    EventData::PaymentSucceeded(d) => d.serialize(serializer),
                    EventData::PaymentFailed(d) => d.serialize(serializer),
                    EventData::PaymentExpired(d) => d.serialize(serializer),
                    EventData::RefundSucceeded(d) | EventData::RefundFailed(d) => {
                        d.serialize(serializer)
                    }
                    EventData::PaymentDuplicate(d) => d.serialize(serializer),
                }
            }
        }
        let mut s = serializer.serialize_struct("Event", 4)?;
        s.serialize_field("id", &self.id)?;
        s.serialize_field("type", &self.event_type())?;
        s.serialize_field("created_at", &self.created_at)?;
        s.serialize_field("data", &Data(&self.data))?;
        s.end()
    }
}

impl<'de> Deserialize<'de> for Event {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> std::result::Result<Self, D::Error> {
        #[derive(Deserialize)]
        struct Wire {
            id: EventId,
            created_at: u64,
            #[serde(flatten)]
            data: EventData,
        }
        let Wire {
            id,
            created_at,
            data,
        } = Wire::deserialize(deserializer)?;
        Ok(Self {
            id,
            created_at,
            data,
        })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;
    use super::*;

    fn session() -> SessionSummary {
        SessionSummary {
            session_id: SessionId::new("cs_abcdefghijklmnopqrstuvwx").unwrap(),
            order_id: MerchantOrderId::new("order-1001").unwrap(),
            amount: Amount::from_fen(1234).unwrap(),
            currency: Currency::Cny,
        }
    }

    fn payment() -> PaymentSummary {
        PaymentSummary {
            method: PaymentMethod::WechatJsapi,
            provider: Provider::Wechatpay,
            provider_transaction_id: ProviderTransactionId::new("4200001234202401011234567890")
                .unwrap(),
            out_trade_no: OutTradeNo::new("EPAAAAAAAAAAAAAAAAAAAAAAAA").unwrap(),
            paid_at: 1_700_000_100,
        }
    }

    fn metadata() -> Metadata {
        [
            ("cart".to_owned(), "42".to_owned()),
            ("channel".to_owned(), "web".to_owned()),
        ]
        .into()
    }

    fn event(data: EventData) -> Event {
        Event::new(
            EventId::new("evt_abcdefghijklmnopqrstuvwx").unwrap(),
            1_700_000_123,
            data,
        )
    }

    const SESSION: &str = r#""session_id":"cs_abcdefghijklmnopqrstuvwx","order_id":"order-1001","amount":1234,"currency":"CNY""#;
    const PAYMENT: &str = r#""method":"wechat_jsapi","provider":"wechatpay","provider_transaction_id":"4200001234202401011234567890","out_trade_no":"EPAAAAAAAAAAAAAAAAAAAAAAAA","paid_at":1700000100"#;

    fn snapshot(data: EventData, expected_type: &str, expected_data: &str) {
        let event = event(data);
        let json = event.to_json().unwrap();
        let expected = format!(
            r#"{{"id":"evt_abcdefghijklmnopqrstuvwx","type":"{expected_type}","created_at":1700000123,"data":{{{expected_data}}}}}"#
        );
        assert_eq!(json, expected);
        assert_eq!(event.event_type().as_str(), expected_type);
        let back: Event = serde_json::from_str(&json).unwrap();
        assert_eq!(back, event);
    }

    #[test]
    fn payment_succeeded_json() {
        let data = EventData::PaymentSucceeded(PaymentSucceeded {
            session: session(),
            payment: payment(),
            metadata: metadata(),
        });
        snapshot(
            data,
            "payment.succeeded",
            &format!(r#"{SESSION},{PAYMENT},"metadata":{{"cart":"42","channel":"web"}}"#),
        );
        // Without metadata, the field is left out.
        let data = EventData::PaymentSucceeded(PaymentSucceeded {
            session: session(),
            payment: payment(),
            metadata: Metadata::new(),
        });
        snapshot(data, "payment.succeeded", &format!("{SESSION},{PAYMENT}"));
    }

    #[test]
    fn payment_failed_and_expired_json() {
        let data = EventData::PaymentFailed(PaymentFailed {
            session: session(),
            method: PaymentMethod::AlipayWap,
            provider: Provider::Alipay,
            out_trade_no: OutTradeNo::new("EPBBBBBBBBBBBBBBBBBBBBBBBB").unwrap(),
            failed_at: 1_700_000_200,
            metadata: Metadata::new(),
        });
        snapshot(
            data,
            "payment.failed",
            &format!(
                r#"{SESSION},"method":"alipay_wap","provider":"alipay","out_trade_no":"EPBBBBBBBBBBBBBBBBBBBBBBBB","failed_at":1700000200"#
            ),
        );
        let data = EventData::PaymentExpired(PaymentExpired {
            session: session(),
            expired_at: 1_700_001_800,
            metadata: metadata(),
        });
        snapshot(
            data,
            "payment.expired",
            &format!(
                r#"{SESSION},"expired_at":1700001800,"metadata":{{"cart":"42","channel":"web"}}"#
            ),
        );
    }

    #[test]
    fn refund_json() {
        let refund = RefundEvent {
            session: session(),
            payment: payment(),
            out_refund_no: OutRefundNo::new("RF123").unwrap(),
            refund_amount: Amount::from_fen(234).unwrap(),
            refunded_total: Amount::from_fen(1000).unwrap(),
            metadata: Metadata::new(),
        };
        let tail = r#""out_refund_no":"RF123","refund_amount":234,"refunded_total":1000"#;
        snapshot(
            EventData::RefundSucceeded(refund.clone()),
            "refund.succeeded",
            &format!("{SESSION},{PAYMENT},{tail}"),
        );
        snapshot(
            EventData::RefundFailed(refund),
            "refund.failed",
            &format!("{SESSION},{PAYMENT},{tail}"),
        );
    }

    #[test]
    fn payment_duplicate_json() {
        let data = EventData::PaymentDuplicate(PaymentDuplicate {
            session: session(),
            payment: payment(),
            reason: DuplicateReason::AlreadyPaid,
            kept_out_trade_no: Some(OutTradeNo::new("EPCCCCCCCCCCCCCCCCCCCCCCCC").unwrap()),
            metadata: Metadata::new(),
        });
        snapshot(
            data,
            "payment.duplicate",
            &format!(
                r#"{SESSION},{PAYMENT},"reason":"already_paid","kept_out_trade_no":"EPCCCCCCCCCCCCCCCCCCCCCCCC""#
            ),
        );
        let data = EventData::PaymentDuplicate(PaymentDuplicate {
            session: session(),
            payment: payment(),
            reason: DuplicateReason::SessionExpired,
            kept_out_trade_no: None,
            metadata: Metadata::new(),
        });
        snapshot(
            data,
            "payment.duplicate",
            &format!(r#"{SESSION},{PAYMENT},"reason":"session_expired""#),
        );
    }

    #[test]
    fn parsing_refuses_wrong_types_and_ids() {
        let good = event(EventData::PaymentExpired(PaymentExpired {
            session: session(),
            expired_at: 1,
            metadata: Metadata::new(),
        }))
        .to_json()
        .unwrap();
        assert!(serde_json::from_str::<Event>(&good).is_ok());
        assert!(serde_json::from_str::<Event>(
            &good.replace("payment.expired", "payment.exploded")
        )
        .is_err());
        assert!(serde_json::from_str::<Event>(&good.replace("evt_", "evx_")).is_err());
        assert!(serde_json::from_str::<Event>(
            &good.replace("\"amount\":1234", "\"amount\":\"12.34\"")
        )
        .is_err());
    }

    #[test]
    fn event_ids() {
        let id = EventId::from_random(&[0x5a; 15]);
        assert_eq!(id.as_str().len(), 28);
        assert_eq!(EventId::new(id.as_str()).unwrap(), id);
        assert_ne!(id, EventId::from_random(&[0x5b; 15]));
        for bad in [
            "evt_",
            "evt_a.b",
            "cs_abc",
            "evt_abc def",
            &format!("evt_{}", "a".repeat(61)),
        ] {
            assert_eq!(
                EventId::new(bad),
                Err(Error::InvalidId { kind: "event_id" }),
                "{bad}"
            );
        }
        for t in EventType::ALL {
            assert_eq!(serde_json::to_string(&t).unwrap(), format!("\"{t}\""));
        }
    }
}
