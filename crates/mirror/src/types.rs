//! Types of the mirror's public API.

use serde::{Deserialize, Serialize};

/// Test or live data. Never mixed in any query or count.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    Test,
    Live,
}

impl Mode {
    pub fn from_livemode(livemode: bool) -> Mode {
        if livemode { Mode::Live } else { Mode::Test }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Test => "test",
            Mode::Live => "live",
        }
    }
    pub fn is_live(self) -> bool {
        self == Mode::Live
    }
}

/// Where a verified event came from. Stored with the event (first arrival wins).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    /// POST /api/webhooks/stripe on the relay, signature verified.
    Webhook,
    /// Pulled from a public relay's feed and re-verified locally.
    Feed,
    /// GET /v1/events over TLS with the owner's key or token.
    EventsApi,
    /// Synthesised from a Stripe API response (e.g. a refund made from the app).
    Api,
}

/// A parsed, not-yet-stored Stripe event. Parsing checks the envelope only
/// (`id`, `type`, `created`, `livemode`, `data.object` present and well typed).
#[derive(Debug, Clone)]
pub struct Event {
    pub id: String,
    pub event_type: String,
    pub created: i64,
    pub livemode: bool,
    pub account: Option<String>,
    pub api_version: Option<String>,
    /// The exact bytes received, as UTF-8 text (stored verbatim).
    pub raw: String,
    /// The parsed JSON of `raw`.
    pub json: serde_json::Value,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum IngestOutcome {
    /// Stored for the first time; projections re-derived. `projected` is false for types
    /// the mirror stores but does not project.
    Applied {
        event_id: String,
        event_type: String,
        mode: Mode,
        projected: bool,
    },
    /// Already stored: nothing changed.
    Duplicate { event_id: String },
}

/// A rejected webhook delivery (never the unverified body).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewRejection {
    /// e.g. `signature_invalid`, `timestamp_outside_tolerance`, `malformed_payload`,
    /// `signature_header_missing`, `payload_too_large`, `no_signing_secret`, `storage_unavailable`.
    pub code: String,
    pub size: u64,
    pub peer: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rejection {
    pub id: i64,
    pub received_at: i64,
    pub code: String,
    pub size: u64,
    pub peer: Option<String>,
}

/// Order status; unknown strings are never produced by the fold itself, but the type is
/// open so rows written by a newer build still read.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OrderStatus {
    Pending,
    Paid,
    Failed,
    Refunded,
    PartiallyRefunded,
    Disputed,
    DisputeWon,
    DisputeLost,
    #[serde(untagged)]
    Other(String),
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Order {
    /// The order's key: its Checkout Session id (`cs_…`). A payment seen before its
    /// session is keyed provisionally by its PaymentIntent id (`pi_…`, or `ch_…` for a
    /// bare charge) until the session event arrives; then the row is re-keyed.
    pub session_id: String,
    pub payment_intent_id: Option<String>,
    pub charge_id: Option<String>,
    pub subscription_id: Option<String>,
    pub status: OrderStatus,
    /// Minor units.
    pub amount: Option<i64>,
    pub amount_refunded: i64,
    pub currency: Option<String>,
    pub customer_email: Option<String>,
    pub customer_name: Option<String>,
    pub client_reference_id: Option<String>,
    pub failure_message: Option<String>,
    pub mode: Mode,
    pub account: Option<String>,
    pub created: i64,
    /// `created` of the newest event folded into this row.
    pub updated: i64,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderQuery {
    /// Ignored: the mode is the `mode` argument of [`crate::Mirror::orders`] (kept for
    /// callers that carry one query value around).
    pub mode: Option<Mode>,
    pub statuses: Vec<OrderStatus>,
    pub currency: Option<String>,
    pub created_from: Option<i64>,
    pub created_to: Option<i64>,
    /// Substring over customer email and Stripe ids (session, payment intent, charge).
    pub search: Option<String>,
    /// Opaque keyset cursor from a previous page's `next`.
    pub after: Option<String>,
    pub limit: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Page<T> {
    pub items: Vec<T>,
    /// Cursor for the next (older) page, if any.
    pub next: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimelineEntry {
    pub event_id: String,
    pub event_type: String,
    pub created: i64,
    pub source: Source,
    pub received_at: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderDetail {
    pub order: Order,
    pub timeline: Vec<TimelineEntry>,
    pub disputes: Vec<Dispute>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Dispute {
    pub id: String,
    pub charge_id: Option<String>,
    pub payment_intent_id: Option<String>,
    pub order_session_id: Option<String>,
    pub status: String,
    pub reason: Option<String>,
    pub amount: i64,
    pub currency: String,
    /// `evidence_details.due_by`; None when absent or 0.
    pub due_by: Option<i64>,
    pub needs_response: bool,
    pub mode: Mode,
    pub created: i64,
    pub updated: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Subscription {
    pub id: String,
    pub customer: Option<String>,
    pub status: String,
    pub current_period_end: Option<i64>,
    pub cancel_at_period_end: bool,
    pub mode: Mode,
    pub created: i64,
    pub updated: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Invoice {
    pub id: String,
    pub subscription_id: Option<String>,
    pub customer_email: Option<String>,
    pub status: Option<String>,
    pub amount_due: i64,
    pub amount_paid: i64,
    pub currency: String,
    pub billing_reason: Option<String>,
    pub hosted_invoice_url: Option<String>,
    pub mode: Mode,
    pub created: i64,
    pub updated: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredEvent {
    pub id: String,
    pub event_type: String,
    pub created: i64,
    pub mode: Mode,
    pub account: Option<String>,
    pub api_version: Option<String>,
    pub source: Source,
    pub received_at: i64,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModeFacts {
    /// received_at of the first verified event in this mode.
    pub first_event_at: Option<i64>,
    /// (session id, time) of the first order that became paid in this mode.
    pub first_paid_order: Option<(String, i64)>,
    /// received_at of the newest verified event in this mode.
    pub last_event_at: Option<i64>,
    pub event_count: u64,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChecklistFacts {
    pub test: ModeFacts,
    pub live: ModeFacts,
    pub last_rejection: Option<Rejection>,
}

/// One outbound API call, for the owner's audit log. Never a key, token or body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiCall {
    pub at: i64,
    pub method: String,
    pub path: String,
    pub object_id: Option<String>,
    /// HTTP status, or None when no response arrived (network error).
    pub status: Option<u16>,
    pub request_id: Option<String>,
    pub idempotency_key: Option<String>,
    pub duration_ms: u64,
    pub mode: Option<Mode>,
    pub error_code: Option<String>,
}

impl Source {
    pub fn as_str(self) -> &'static str {
        match self {
            Source::Webhook => "webhook",
            Source::Feed => "feed",
            Source::EventsApi => "events_api",
            Source::Api => "api",
        }
    }
    /// The stored spelling back to a source; unknown spellings (a newer build) read as Api.
    pub fn parse(s: &str) -> Source {
        match s {
            "webhook" => Source::Webhook,
            "feed" => Source::Feed,
            "events_api" => Source::EventsApi,
            _ => Source::Api,
        }
    }
}

impl OrderStatus {
    pub fn as_str(&self) -> &str {
        match self {
            OrderStatus::Pending => "pending",
            OrderStatus::Paid => "paid",
            OrderStatus::Failed => "failed",
            OrderStatus::Refunded => "refunded",
            OrderStatus::PartiallyRefunded => "partially_refunded",
            OrderStatus::Disputed => "disputed",
            OrderStatus::DisputeWon => "dispute_won",
            OrderStatus::DisputeLost => "dispute_lost",
            OrderStatus::Other(s) => s,
        }
    }
    pub fn parse(s: &str) -> OrderStatus {
        match s {
            "pending" => OrderStatus::Pending,
            "paid" => OrderStatus::Paid,
            "failed" => OrderStatus::Failed,
            "refunded" => OrderStatus::Refunded,
            "partially_refunded" => OrderStatus::PartiallyRefunded,
            "disputed" => OrderStatus::Disputed,
            "dispute_won" => OrderStatus::DisputeWon,
            "dispute_lost" => OrderStatus::DisputeLost,
            other => OrderStatus::Other(other.to_owned()),
        }
    }
}
