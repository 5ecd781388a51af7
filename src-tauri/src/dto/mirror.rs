//! The mirror's read models as they cross IPC, with their TypeScript declarations.
//!
//! Invariant: every type here has exactly the serde shape of its `fluxstore_mirror` twin (the
//! `From` impls destructure every field, so a field added to the mirror fails to compile here
//! until it is carried across). Integers become TypeScript `number`: amounts are minor units and
//! times unix seconds, both far inside 2^53.
use fluxstore_mirror as m;
use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// Test or live data. Never mixed in one query, list or count.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    Test,
    Live,
}

impl From<Mode> for m::Mode {
    fn from(mode: Mode) -> m::Mode {
        match mode {
            Mode::Test => m::Mode::Test,
            Mode::Live => m::Mode::Live,
        }
    }
}

impl From<m::Mode> for Mode {
    fn from(mode: m::Mode) -> Mode {
        match mode {
            m::Mode::Test => Mode::Test,
            m::Mode::Live => Mode::Live,
        }
    }
}

/// Where a verified event came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    Webhook,
    Feed,
    EventsApi,
    Api,
}

impl From<m::Source> for Source {
    fn from(source: m::Source) -> Source {
        match source {
            m::Source::Webhook => Source::Webhook,
            m::Source::Feed => Source::Feed,
            m::Source::EventsApi => Source::EventsApi,
            m::Source::Api => Source::Api,
        }
    }
}

/// The snake_case text of a mirror order status (`paid`, `partially_refunded`, or a newer one).
fn status_text(status: &m::OrderStatus) -> String {
    match serde_json::to_value(status) {
        Ok(serde_json::Value::String(s)) => s,
        _ => "unknown".to_owned(),
    }
}

/// Parse a status the UI sent back in a filter; unknown text stays as `Other`.
pub fn status_from_text(text: &str) -> m::OrderStatus {
    serde_json::from_value(serde_json::Value::String(text.to_owned()))
        .unwrap_or_else(|_| m::OrderStatus::Other(text.to_owned()))
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct Order {
    pub session_id: String,
    pub payment_intent_id: Option<String>,
    pub charge_id: Option<String>,
    pub subscription_id: Option<String>,
    /// `pending`, `paid`, `failed`, `refunded`, `partially_refunded`, `disputed`,
    /// `dispute_won`, `dispute_lost`, or a status written by a newer build.
    pub status: String,
    /// Minor units.
    #[ts(type = "number | null")]
    pub amount: Option<i64>,
    #[ts(type = "number")]
    pub amount_refunded: i64,
    pub currency: Option<String>,
    pub customer_email: Option<String>,
    pub customer_name: Option<String>,
    pub client_reference_id: Option<String>,
    pub failure_message: Option<String>,
    pub mode: Mode,
    pub account: Option<String>,
    #[ts(type = "number")]
    pub created: i64,
    #[ts(type = "number")]
    pub updated: i64,
}

impl From<m::Order> for Order {
    fn from(o: m::Order) -> Order {
        let m::Order {
            session_id,
            payment_intent_id,
            charge_id,
            subscription_id,
            status,
            amount,
            amount_refunded,
            currency,
            customer_email,
            customer_name,
            client_reference_id,
            failure_message,
            mode,
            account,
            created,
            updated,
        } = o;
        Order {
            session_id,
            payment_intent_id,
            charge_id,
            subscription_id,
            status: status_text(&status),
            amount,
            amount_refunded,
            currency,
            customer_email,
            customer_name,
            client_reference_id,
            failure_message,
            mode: mode.into(),
            account,
            created,
            updated,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct Page<T: TS> {
    pub items: Vec<T>,
    /// Opaque cursor for the next (older) page.
    pub next: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct TimelineEntry {
    pub event_id: String,
    pub event_type: String,
    #[ts(type = "number")]
    pub created: i64,
    pub source: Source,
    #[ts(type = "number")]
    pub received_at: i64,
}

impl From<m::TimelineEntry> for TimelineEntry {
    fn from(t: m::TimelineEntry) -> TimelineEntry {
        let m::TimelineEntry {
            event_id,
            event_type,
            created,
            source,
            received_at,
        } = t;
        TimelineEntry {
            event_id,
            event_type,
            created,
            source: source.into(),
            received_at,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct Dispute {
    pub id: String,
    pub charge_id: Option<String>,
    pub payment_intent_id: Option<String>,
    pub order_session_id: Option<String>,
    pub status: String,
    pub reason: Option<String>,
    #[ts(type = "number")]
    pub amount: i64,
    pub currency: String,
    /// Evidence due (unix seconds); null when Stripe gave none.
    #[ts(type = "number | null")]
    pub due_by: Option<i64>,
    pub needs_response: bool,
    pub mode: Mode,
    #[ts(type = "number")]
    pub created: i64,
    #[ts(type = "number")]
    pub updated: i64,
}

impl From<m::Dispute> for Dispute {
    fn from(d: m::Dispute) -> Dispute {
        let m::Dispute {
            id,
            charge_id,
            payment_intent_id,
            order_session_id,
            status,
            reason,
            amount,
            currency,
            due_by,
            needs_response,
            mode,
            created,
            updated,
        } = d;
        Dispute {
            id,
            charge_id,
            payment_intent_id,
            order_session_id,
            status,
            reason,
            amount,
            currency,
            due_by,
            needs_response,
            mode: mode.into(),
            created,
            updated,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct OrderDetail {
    pub order: Order,
    pub timeline: Vec<TimelineEntry>,
    pub disputes: Vec<Dispute>,
}

impl From<m::OrderDetail> for OrderDetail {
    fn from(d: m::OrderDetail) -> OrderDetail {
        let m::OrderDetail {
            order,
            timeline,
            disputes,
        } = d;
        OrderDetail {
            order: order.into(),
            timeline: timeline.into_iter().map(Into::into).collect(),
            disputes: disputes.into_iter().map(Into::into).collect(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct Subscription {
    pub id: String,
    pub customer: Option<String>,
    pub status: String,
    #[ts(type = "number | null")]
    pub current_period_end: Option<i64>,
    pub cancel_at_period_end: bool,
    pub mode: Mode,
    #[ts(type = "number")]
    pub created: i64,
    #[ts(type = "number")]
    pub updated: i64,
}

impl From<m::Subscription> for Subscription {
    fn from(s: m::Subscription) -> Subscription {
        let m::Subscription {
            id,
            customer,
            status,
            current_period_end,
            cancel_at_period_end,
            mode,
            created,
            updated,
        } = s;
        Subscription {
            id,
            customer,
            status,
            current_period_end,
            cancel_at_period_end,
            mode: mode.into(),
            created,
            updated,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct Invoice {
    pub id: String,
    pub subscription_id: Option<String>,
    pub customer_email: Option<String>,
    pub status: Option<String>,
    #[ts(type = "number")]
    pub amount_due: i64,
    #[ts(type = "number")]
    pub amount_paid: i64,
    pub currency: String,
    pub billing_reason: Option<String>,
    pub hosted_invoice_url: Option<String>,
    pub mode: Mode,
    #[ts(type = "number")]
    pub created: i64,
    #[ts(type = "number")]
    pub updated: i64,
}

impl From<m::Invoice> for Invoice {
    fn from(i: m::Invoice) -> Invoice {
        let m::Invoice {
            id,
            subscription_id,
            customer_email,
            status,
            amount_due,
            amount_paid,
            currency,
            billing_reason,
            hosted_invoice_url,
            mode,
            created,
            updated,
        } = i;
        Invoice {
            id,
            subscription_id,
            customer_email,
            status,
            amount_due,
            amount_paid,
            currency,
            billing_reason,
            hosted_invoice_url,
            mode: mode.into(),
            created,
            updated,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct StoredEvent {
    pub id: String,
    pub event_type: String,
    #[ts(type = "number")]
    pub created: i64,
    pub mode: Mode,
    pub account: Option<String>,
    pub api_version: Option<String>,
    pub source: Source,
    #[ts(type = "number")]
    pub received_at: i64,
}

impl From<m::StoredEvent> for StoredEvent {
    fn from(e: m::StoredEvent) -> StoredEvent {
        let m::StoredEvent {
            id,
            event_type,
            created,
            mode,
            account,
            api_version,
            source,
            received_at,
        } = e;
        StoredEvent {
            id,
            event_type,
            created,
            mode: mode.into(),
            account,
            api_version,
            source: source.into(),
            received_at,
        }
    }
}

/// A rejected webhook delivery: when, why (a code such as `signature_invalid`), how big, from whom.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct Rejection {
    #[ts(type = "number")]
    pub id: i64,
    #[ts(type = "number")]
    pub received_at: i64,
    pub code: String,
    #[ts(type = "number")]
    pub size: u64,
    pub peer: Option<String>,
}

impl From<m::Rejection> for Rejection {
    fn from(r: m::Rejection) -> Rejection {
        let m::Rejection {
            id,
            received_at,
            code,
            size,
            peer,
        } = r;
        Rejection {
            id,
            received_at,
            code,
            size,
            peer,
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct ModeFacts {
    #[ts(type = "number | null")]
    pub first_event_at: Option<i64>,
    /// `[session id, unix seconds]` of the first order that became paid in this mode.
    #[ts(type = "[string, number] | null")]
    pub first_paid_order: Option<(String, i64)>,
    #[ts(type = "number | null")]
    pub last_event_at: Option<i64>,
    #[ts(type = "number")]
    pub event_count: u64,
}

impl From<m::ModeFacts> for ModeFacts {
    fn from(f: m::ModeFacts) -> ModeFacts {
        let m::ModeFacts {
            first_event_at,
            first_paid_order,
            last_event_at,
            event_count,
        } = f;
        ModeFacts {
            first_event_at,
            first_paid_order,
            last_event_at,
            event_count,
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct ChecklistFacts {
    pub test: ModeFacts,
    pub live: ModeFacts,
    pub last_rejection: Option<Rejection>,
}

impl From<m::ChecklistFacts> for ChecklistFacts {
    fn from(f: m::ChecklistFacts) -> ChecklistFacts {
        let m::ChecklistFacts {
            test,
            live,
            last_rejection,
        } = f;
        ChecklistFacts {
            test: test.into(),
            live: live.into(),
            last_rejection: last_rejection.map(Into::into),
        }
    }
}

/// One outbound Stripe call from the audit log. Never a key, token or body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct ApiCall {
    #[ts(type = "number")]
    pub at: i64,
    pub method: String,
    pub path: String,
    pub object_id: Option<String>,
    pub status: Option<u16>,
    pub request_id: Option<String>,
    pub idempotency_key: Option<String>,
    #[ts(type = "number")]
    pub duration_ms: u64,
    pub mode: Option<Mode>,
    pub error_code: Option<String>,
}

impl From<m::ApiCall> for ApiCall {
    fn from(c: m::ApiCall) -> ApiCall {
        let m::ApiCall {
            at,
            method,
            path,
            object_id,
            status,
            request_id,
            idempotency_key,
            duration_ms,
            mode,
            error_code,
        } = c;
        ApiCall {
            at,
            method,
            path,
            object_id,
            status,
            request_id,
            idempotency_key,
            duration_ms,
            mode: mode.map(Into::into),
            error_code,
        }
    }
}
