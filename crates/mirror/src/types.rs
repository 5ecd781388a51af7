//! Types of the mirror's public API.
//!
//! Invariant: the read types are also the desktop's IPC types. With the `ts` feature each
//! derives its TypeScript declaration in place (ts-rs), so there is no second copy to keep
//! in step. Integers cross as TypeScript `number`: amounts are minor units and times unix
//! seconds, both far inside 2^53.

use serde::{Deserialize, Serialize};

use crate::closed::closed_enum;
use crate::facts::RejectionCode;

/// Test or live data. Never mixed in any query or count.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
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
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
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

/// An event stored for the first time: what the relay announces, what an events sync
/// reports, and what the desktop tells its views (`event_applied`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct AppliedEvent {
    pub event_id: String,
    pub event_type: String,
    pub mode: Mode,
    /// False for types the mirror stores but does not project.
    pub projected: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum IngestOutcome {
    /// Stored for the first time; projections re-derived.
    Applied(AppliedEvent),
    /// Already stored: nothing changed.
    Duplicate { event_id: String },
}

impl IngestOutcome {
    /// The event, when this ingest stored it for the first time.
    pub fn applied(&self) -> Option<&AppliedEvent> {
        match self {
            IngestOutcome::Applied(e) => Some(e),
            IngestOutcome::Duplicate { .. } => None,
        }
    }

    pub fn event_id(&self) -> &str {
        match self {
            IngestOutcome::Applied(e) => &e.event_id,
            IngestOutcome::Duplicate { event_id } => event_id,
        }
    }
}

/// One refused webhook delivery, as the relay saw it (never the unverified body). The mirror
/// stores it only as part of an aggregate ([`Rejection`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewRejection {
    pub code: RejectionCode,
    pub size: u64,
    pub peer: Option<String>,
}

/// Refused webhook deliveries of one code within one time bucket (see
/// [`crate::REJECTION_BUCKET_SECS`]): how many, when the first and the last came, and who
/// sent the last one and how big it was.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Rejection {
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub id: i64,
    /// Start of the bucket (unix seconds, a multiple of the bucket length).
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub bucket_start: i64,
    pub code: RejectionCode,
    /// Deliveries refused with this code in this bucket.
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub count: u64,
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub first_at: i64,
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub last_at: i64,
    /// The address the last of them came from.
    pub last_peer: Option<String>,
    /// The size in bytes of the last of them.
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub last_size: u64,
}

closed_enum! {
    /// What became of an order, as the fold derives it (see the precedence in
    /// `project::order`).
    ///
    /// Closed, in Rust and in TypeScript: the fold writes only these spellings. A database
    /// is only opened by a build of its own schema version, so another spelling in the
    /// `orders` table could only come from a newer build that added a status without a
    /// migration; [`OrderStatus::parse`] reads it as `Pending` (the status that claims no
    /// money moved and offers no refund) until the order's next event re-derives the row.
    /// Deserializing (a filter from the UI or the CLI) is strict: unknown text is an error.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
    #[cfg_attr(feature = "ts", derive(ts_rs::TS))]
    #[serde(rename_all = "snake_case")]
    pub enum OrderStatus {
        Pending = "pending",
        Paid = "paid",
        Failed = "failed",
        Refunded = "refunded",
        PartiallyRefunded = "partially_refunded",
        Disputed = "disputed",
        DisputeWon = "dispute_won",
        DisputeLost = "dispute_lost",
    }
}

/// A FluxStore order: a Checkout Session of the store (narrowed by the owner's
/// [`OrderMarker`] when one is set). Payments without a session are never orders (see
/// [`OtherActivity`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Order {
    /// The order's key: its Checkout Session id (`cs_…`).
    pub session_id: String,
    pub payment_intent_id: Option<String>,
    pub charge_id: Option<String>,
    pub subscription_id: Option<String>,
    pub status: OrderStatus,
    /// Minor units.
    #[cfg_attr(feature = "ts", ts(type = "number | null"))]
    pub amount: Option<i64>,
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub amount_refunded: i64,
    pub currency: Option<String>,
    pub customer_email: Option<String>,
    pub customer_name: Option<String>,
    /// ISO country of the buyer's address (session, else the card's billing address).
    pub customer_country: Option<String>,
    /// The buyer's Stripe Customer (`cus_…`) when the checkout created or reused one (the
    /// session's `customer`, else the PaymentIntent's or the Charge's): the Dashboard link.
    pub customer_id: Option<String>,
    pub client_reference_id: Option<String>,
    /// The card of the successful charge (`payment_method_details.card`), when events carry it.
    pub card_brand: Option<String>,
    pub card_last4: Option<String>,
    /// Stripe Radar's `outcome.risk_level` of the charge (`normal`, `elevated`, `highest`,
    /// `not_assessed`, `unknown`; an open set).
    pub risk_level: Option<String>,
    pub failure_message: Option<String>,
    pub mode: Mode,
    pub account: Option<String>,
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub created: i64,
    /// `created` of the newest event folded into this row.
    #[cfg_attr(feature = "ts", ts(type = "number"))]
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
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Page<T> {
    pub items: Vec<T>,
    /// Cursor for the next (older) page, if any.
    pub next: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct TimelineEntry {
    pub event_id: String,
    pub event_type: String,
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub created: i64,
    pub source: Source,
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub received_at: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct OrderDetail {
    pub order: Order,
    /// The session's `metadata`, as the store's checkout wrote it (e.g. player, server,
    /// package), sorted by key.
    pub metadata: Vec<MetadataField>,
    /// What was bought, as Stripe's `GET /v1/checkout/sessions/{id}/line_items` answered;
    /// None until it has been fetched once (it is not in any event).
    pub line_items: Option<Vec<LineItem>>,
    pub timeline: Vec<TimelineEntry>,
    /// Every refund of the order, oldest first, each with its status as the events say now
    /// (a failed or canceled refund is listed and counts in no refunded amount).
    pub refunds: Vec<Refund>,
    pub disputes: Vec<Dispute>,
}

/// One refund of an order, as its events say now (see the mirror's refund projection).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Refund {
    pub id: String,
    pub charge_id: Option<String>,
    pub payment_intent_id: Option<String>,
    /// Minor units.
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub amount: i64,
    pub currency: Option<String>,
    /// Stripe's refund status: `pending`, `requires_action`, `succeeded`, `failed`,
    /// `canceled` (an open set: a newer status is kept as Stripe spells it).
    pub status: String,
    /// Why the refund was made, as Stripe has it: `requested_by_customer`, `duplicate`,
    /// `fraudulent`, `expired_uncaptured_charge` (an open set), or None when not given.
    pub reason: Option<String>,
    /// Stripe's `failure_reason` of a failed or canceled refund.
    pub failure_reason: Option<String>,
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub created: i64,
}

impl Refund {
    /// The refund's money did not (or no longer does) go back to the customer.
    pub fn is_void(&self) -> bool {
        crate::project::refund::is_void(&self.status)
    }
}

/// An upgrade of the mirror that re-reads every stored event (see
/// [`crate::Mirror::pending_update`]): the app says it is updating the order history
/// instead of looking frozen. No percentage: the upgrade runs as one transaction.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct PendingUpdate {
    pub from_version: u32,
    pub to_version: u32,
    /// Stored events the upgrade re-reads.
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub events: u64,
}

/// One `metadata` entry of a Checkout Session.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct MetadataField {
    pub key: String,
    pub value: String,
}

/// One line of a Checkout Session (Stripe's `item` object, the fields the app shows).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct LineItem {
    /// Stripe's `li_…` id.
    pub id: String,
    pub description: Option<String>,
    #[cfg_attr(feature = "ts", ts(type = "number | null"))]
    pub quantity: Option<i64>,
    /// Minor units, before discounts and taxes.
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub amount_subtotal: i64,
    /// Minor units, after discounts and taxes.
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub amount_total: i64,
    pub currency: String,
    pub price_id: Option<String>,
    pub product_id: Option<String>,
}

/// The owner's narrowing of "a FluxStore order": only Checkout Sessions that FluxStore's
/// checkout marked this way count. None (the default) counts every Checkout Session of the
/// account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum OrderMarker {
    /// The session's `metadata[key]` equals `value`.
    Metadata { key: String, value: String },
    /// The session's `client_reference_id` starts with `prefix`.
    ClientReferencePrefix { prefix: String },
}

/// Payments on the account that are not FluxStore orders: counted, never shown. A payment
/// seen without its Checkout Session waits [`crate::facts::ORDER_SESSION_WAIT_SECS`] for it
/// (an order's `payment_intent.succeeded` may arrive before `checkout.session.completed`)
/// and counts here only after that.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct OtherActivity {
    /// Payments without a FluxStore checkout, older than the wait, plus Checkout Sessions
    /// the owner's marker leaves out.
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub count: u64,
    /// Payments still waiting for their Checkout Session (hidden).
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub waiting: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Dispute {
    pub id: String,
    pub charge_id: Option<String>,
    pub payment_intent_id: Option<String>,
    pub order_session_id: Option<String>,
    pub status: String,
    pub reason: Option<String>,
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub amount: i64,
    pub currency: String,
    /// `evidence_details.due_by`; None when absent or 0.
    #[cfg_attr(feature = "ts", ts(type = "number | null"))]
    pub due_by: Option<i64>,
    pub needs_response: bool,
    pub mode: Mode,
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub created: i64,
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub updated: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Subscription {
    pub id: String,
    pub customer: Option<String>,
    pub status: String,
    #[cfg_attr(feature = "ts", ts(type = "number | null"))]
    pub current_period_end: Option<i64>,
    pub cancel_at_period_end: bool,
    pub mode: Mode,
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub created: i64,
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub updated: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Invoice {
    pub id: String,
    pub subscription_id: Option<String>,
    pub customer_email: Option<String>,
    pub status: Option<String>,
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub amount_due: i64,
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub amount_paid: i64,
    pub currency: String,
    pub billing_reason: Option<String>,
    pub hosted_invoice_url: Option<String>,
    pub mode: Mode,
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub created: i64,
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub updated: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct StoredEvent {
    pub id: String,
    pub event_type: String,
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub created: i64,
    pub mode: Mode,
    pub account: Option<String>,
    pub api_version: Option<String>,
    pub source: Source,
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub received_at: i64,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ModeFacts {
    /// received_at of the first verified event in this mode.
    #[cfg_attr(feature = "ts", ts(type = "number | null"))]
    pub first_event_at: Option<i64>,
    /// When the mode was connected, else (a store connected before that was recorded) when
    /// its first event arrived: a paid order proves the mode works only if created at or
    /// after it. Orders of the history the first sync pulls are older and never count.
    #[cfg_attr(feature = "ts", ts(type = "number | null"))]
    pub connected_at: Option<i64>,
    /// (session id, time paid) of the first order created at or after `connected_at` that
    /// became paid in this mode.
    #[cfg_attr(feature = "ts", ts(type = "[string, number] | null"))]
    pub first_paid_order: Option<(String, i64)>,
    /// Paid orders created before `connected_at` (history: they prove nothing about today),
    /// counted while `first_paid_order` is None (0 once a newer order proves the mode) and up
    /// to 1,000 (`query::lists::EARLIER_PAID_BOUND`).
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub earlier_paid_orders: u64,
    /// received_at of the newest verified event in this mode.
    #[cfg_attr(feature = "ts", ts(type = "number | null"))]
    pub last_event_at: Option<i64>,
    /// received_at of the newest event Stripe delivered to the relay (a webhook).
    #[cfg_attr(feature = "ts", ts(type = "number | null"))]
    pub last_webhook_at: Option<i64>,
    /// received_at of the newest event the hub's feed announced.
    #[cfg_attr(feature = "ts", ts(type = "number | null"))]
    pub last_feed_at: Option<i64>,
    /// received_at of the newest event read by polling Stripe's events API.
    #[cfg_attr(feature = "ts", ts(type = "number | null"))]
    pub last_polled_at: Option<i64>,
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub event_count: u64,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ChecklistFacts {
    pub test: ModeFacts,
    pub live: ModeFacts,
    pub last_rejection: Option<Rejection>,
}

/// One outbound API call, for the owner's audit log. Never a key, token or body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ApiCall {
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub at: i64,
    pub method: String,
    pub path: String,
    pub object_id: Option<String>,
    /// HTTP status, or None when no response arrived (network error).
    pub status: Option<u16>,
    pub request_id: Option<String>,
    pub idempotency_key: Option<String>,
    #[cfg_attr(feature = "ts", ts(type = "number"))]
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
    /// A stored spelling back to a status; unknown text reads as `Pending` (see the type).
    pub fn parse(text: &str) -> OrderStatus {
        OrderStatus::known(text).unwrap_or(OrderStatus::Pending)
    }
}

/// The revenue of one currency over a period (see [`crate::Mirror::revenue_summary`] for the
/// rules). Money in minor units of `currency`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct CurrencyRevenue {
    /// Lowercase ISO code, as Stripe spells it.
    pub currency: String,
    /// Paid orders counted.
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub orders: u64,
    /// What those orders were paid.
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub gross: i64,
    /// Refunded of them, failed or canceled refunds not counted.
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub refunded: i64,
    /// Taken back by chargebacks on them (open, won or lost; inquiries not counted).
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub disputed: i64,
    /// Of `disputed`, what won disputes returned.
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub won_back: i64,
    /// `gross - refunded - disputed + won_back`.
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub net: i64,
}

/// The revenue summary of one mode for the orders paid in `[from, to)` (unix seconds; None:
/// unbounded), one row per currency in code order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct RevenueSummary {
    pub mode: Mode,
    #[cfg_attr(feature = "ts", ts(type = "number | null"))]
    pub from: Option<i64>,
    #[cfg_attr(feature = "ts", ts(type = "number | null"))]
    pub to: Option<i64>,
    pub currencies: Vec<CurrencyRevenue>,
}
