//! Domain facts the whole product relies on, each declared once: the webhook events the
//! product page asks for, the codes of a refused delivery with what they mean to the owner,
//! Stripe's minor-unit exponents, and the subscription statuses that renew.
//!
//! Invariant: no other crate (and no TypeScript file) spells these out again; the relay,
//! gateway, samples and CLI use them from here, and the desktop shell generates them into the
//! UI with its bindings (a staleness test fails when the generated copy differs).

use serde::{Deserialize, Serialize};

use crate::closed::closed_enum;

/// The Stripe event types the app names in code. Events of any other type are stored too;
/// these are the ones something is asked for, subscribed to or recognised by.
pub mod event_types {
    pub const CHECKOUT_SESSION_COMPLETED: &str = "checkout.session.completed";
    pub const PAYMENT_INTENT_SUCCEEDED: &str = "payment_intent.succeeded";
    pub const PAYMENT_INTENT_PAYMENT_FAILED: &str = "payment_intent.payment_failed";
    pub const CHARGE_SUCCEEDED: &str = "charge.succeeded";
    pub const CHARGE_DISPUTE_CREATED: &str = "charge.dispute.created";
    pub const CHARGE_DISPUTE_UPDATED: &str = "charge.dispute.updated";
    pub const CHARGE_DISPUTE_CLOSED: &str = "charge.dispute.closed";
    pub const CUSTOMER_SUBSCRIPTION_CREATED: &str = "customer.subscription.created";
    pub const CUSTOMER_SUBSCRIPTION_UPDATED: &str = "customer.subscription.updated";
    pub const CUSTOMER_SUBSCRIPTION_DELETED: &str = "customer.subscription.deleted";
    pub const INVOICE_PAID: &str = "invoice.paid";
    pub const INVOICE_PAYMENT_FAILED: &str = "invoice.payment_failed";
    pub const CHARGE_REFUNDED: &str = "charge.refunded";
    /// A refund changed status (pending → succeeded, or → failed / canceled); carries the
    /// refund object.
    pub const CHARGE_REFUND_UPDATED: &str = "charge.refund.updated";
    pub const ACCOUNT_UPDATED: &str = "account.updated";
    /// The owner (or the platform) ended a Connect connection; stored, not projected.
    pub const ACCOUNT_APPLICATION_DEAUTHORIZED: &str = "account.application.deauthorized";
}

use event_types as ev;

/// A webhook event the app subscribes to, with what it tells the store (shown to the owner).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct WebhookEvent {
    pub event_type: &'static str,
    pub purpose: &'static str,
}

const fn event(event_type: &'static str, purpose: &'static str) -> WebhookEvent {
    WebhookEvent {
        event_type,
        purpose,
    }
}

/// The 12 events of the product page (R8), in the page's order: the owner selects exactly
/// these when adding the endpoint in the Stripe Dashboard.
pub const WEBHOOK_EVENTS: [WebhookEvent; 12] = [
    event(
        ev::CHECKOUT_SESSION_COMPLETED,
        "Payment completed (one-time and subscription)",
    ),
    event(ev::PAYMENT_INTENT_SUCCEEDED, "Payment confirmed"),
    event(ev::PAYMENT_INTENT_PAYMENT_FAILED, "Payment failed"),
    event(ev::CHARGE_SUCCEEDED, "Charge confirmed"),
    event(ev::CHARGE_DISPUTE_CREATED, "Chargeback filed"),
    event(ev::CHARGE_DISPUTE_UPDATED, "Dispute status changed"),
    event(ev::CHARGE_DISPUTE_CLOSED, "Dispute resolved"),
    event(ev::CUSTOMER_SUBSCRIPTION_CREATED, "Subscription started"),
    event(ev::CUSTOMER_SUBSCRIPTION_UPDATED, "Subscription modified"),
    event(ev::CUSTOMER_SUBSCRIPTION_DELETED, "Subscription cancelled"),
    event(ev::INVOICE_PAID, "Subscription invoice paid"),
    event(ev::INVOICE_PAYMENT_FAILED, "Subscription invoice failed"),
];

/// Added to the endpoint FluxStore creates itself: refunds made in the Dashboard, a refund
/// that fails or is canceled later, and the account's readiness (charges and payouts
/// enabled).
pub const EXTRA_WEBHOOK_EVENTS: [WebhookEvent; 3] = [
    event(ev::CHARGE_REFUNDED, "Refund made (also in the Dashboard)"),
    event(
        ev::CHARGE_REFUND_UPDATED,
        "Refund status changed (a refund that failed no longer counts)",
    ),
    event(ev::ACCOUNT_UPDATED, "Account readiness changed"),
];

/// Every event type an endpoint created by FluxStore subscribes to: the 12, then the extras.
pub fn subscribed_event_types() -> impl Iterator<Item = &'static str> {
    WEBHOOK_EVENTS
        .iter()
        .chain(EXTRA_WEBHOOK_EVENTS.iter())
        .map(|e| e.event_type)
}

closed_enum! {
    /// Why the relay refused a webhook delivery (or the desktop a doorbell of the FluxStore
    /// hub: [`RejectionCode::DoorbellUnverified`]). Stored with the rejection aggregates and
    /// answered (as `error.code`) to the sender; the spellings are the stored ones, so they
    /// never change. `NotFound` and `MethodNotAllowed` are answered and counted in memory,
    /// never stored.
    ///
    /// Closed: the relay emits every variant but [`RejectionCode::Unknown`] and
    /// `DoorbellUnverified` (the hub feed's follower records that one: an announced event
    /// Stripe did not confirm). `Unknown` is what a stored spelling this build does not know
    /// (written by a newer build) reads as, never something anyone sends.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
    #[cfg_attr(feature = "ts", derive(ts_rs::TS))]
    #[serde(rename_all = "snake_case")]
    pub enum RejectionCode {
        SignatureInvalid = "signature_invalid",
        TimestampOutsideTolerance = "timestamp_outside_tolerance",
        ModeMismatch = "mode_mismatch",
        NoSigningSecret = "no_signing_secret",
        SignatureHeaderMissing = "signature_header_missing",
        MalformedPayload = "malformed_payload",
        PayloadTooLarge = "payload_too_large",
        StorageUnavailable = "storage_unavailable",
        RequestTimeout = "request_timeout",
        MethodNotAllowed = "method_not_allowed",
        NotFound = "not_found",
        DoorbellUnverified = "doorbell_unverified",
        Unknown = "unknown",
    }
}

impl RejectionCode {
    /// A stored spelling back to its code; one this build does not know reads as `Unknown`.
    pub fn parse(text: &str) -> RejectionCode {
        RejectionCode::known(text).unwrap_or(RejectionCode::Unknown)
    }

    /// What happened, in the store owner's words.
    pub fn reason(self) -> &'static str {
        match self {
            RejectionCode::SignatureInvalid => {
                "Signature mismatch: the signing secret does not match this endpoint."
            }
            RejectionCode::TimestampOutsideTolerance => {
                "The delivery’s timestamp is more than 5 minutes away from this computer’s clock (or it is a replay of an old delivery)."
            }
            RejectionCode::ModeMismatch => {
                "A delivery was signed with the signing secret of one mode (test or live) but says it is an event of the other, so it was not stored: a test secret cannot vouch for live payments."
            }
            RejectionCode::NoSigningSecret => {
                "No signing secret is saved, so Stripe’s deliveries cannot be verified and are refused; until one is, orders arrive only when FluxStore reads Stripe’s events."
            }
            RejectionCode::SignatureHeaderMissing => {
                "The delivery had no Stripe-Signature header: it did not come from Stripe."
            }
            RejectionCode::MalformedPayload => "The delivery was not a Stripe event.",
            RejectionCode::PayloadTooLarge => "The delivery was larger than the relay accepts.",
            RejectionCode::StorageUnavailable => {
                "The event could not be saved (disk full or the database is busy); Stripe was told to retry."
            }
            RejectionCode::RequestTimeout => {
                "The delivery’s body did not arrive in time (a slow or stalled sender)."
            }
            RejectionCode::MethodNotAllowed => {
                "Something other than a POST arrived at the webhook address."
            }
            RejectionCode::NotFound => {
                "A delivery was posted to a wrong path on the relay, so it was not stored."
            }
            RejectionCode::DoorbellUnverified => {
                "The FluxStore hub announced an event that Stripe does not confirm (it does not exist, or it belongs to another account or mode), so nothing was stored."
            }
            RejectionCode::Unknown => {
                "The relay refused a delivery for a reason this version of FluxStore does not know."
            }
        }
    }

    /// What the owner can do about it.
    pub fn fix(self) -> &'static str {
        match self {
            RejectionCode::SignatureInvalid => {
                "Copy the signing secret (whsec_…) from this endpoint’s page in the Stripe Dashboard and paste it again under Payment Gateways."
            }
            RejectionCode::TimestampOutsideTolerance => {
                "Check the computer’s clock and time zone (turn on automatic time); Stripe will retry the delivery."
            }
            RejectionCode::ModeMismatch => {
                "Check that each signing secret is saved under its own mode: the test endpoint’s secret under Test, the live endpoint’s under Live. If you did not send it, someone may be forging live events with your test secret."
            }
            RejectionCode::NoSigningSecret => {
                "Paste the webhook signing secret (whsec_…) in the onboarding checklist or under Payment Gateways."
            }
            RejectionCode::SignatureHeaderMissing => {
                "Point only your Stripe webhook endpoint (or `stripe listen`) at this address."
            }
            RejectionCode::MalformedPayload => {
                "Make sure only Stripe sends to this address; nothing needs to change in Stripe."
            }
            RejectionCode::PayloadTooLarge => {
                "Nothing to do for Stripe events; something else is posting to this address."
            }
            RejectionCode::StorageUnavailable => {
                "Free some disk space. Stripe retries deliveries for up to 3 days."
            }
            RejectionCode::RequestTimeout => {
                "Nothing to do if it happens once: Stripe retries. If it repeats, check the network or proxy in front of the relay."
            }
            RejectionCode::MethodNotAllowed => {
                "Nothing to do for Stripe, which only POSTs; something else is calling this address."
            }
            RejectionCode::NotFound => {
                "Make the webhook URL in the Stripe Dashboard end in /api/webhooks/stripe."
            }
            RejectionCode::DoorbellUnverified => {
                "Nothing to do: FluxStore asks Stripe itself about every announced event. If it repeats, someone is posting made-up events to your store's hub address; check the webhook endpoints in the Stripe Dashboard."
            }
            RejectionCode::Unknown => {
                "Update FluxStore to see the reason; meanwhile check the endpoint and signing secret in the Stripe Dashboard."
            }
        }
    }

    /// The message answered to the sender with the code. Coarse on purpose: it names what
    /// was wrong with the request, never which part of the verification failed or why
    /// storage did.
    pub fn public_message(self) -> &'static str {
        match self {
            RejectionCode::SignatureHeaderMissing => "The Stripe-Signature header is missing.",
            RejectionCode::SignatureInvalid => {
                "The signature does not match a configured signing secret."
            }
            RejectionCode::TimestampOutsideTolerance => {
                "The signature timestamp is outside the allowed tolerance; check the clock."
            }
            RejectionCode::MalformedPayload => "The body is not a Stripe event.",
            RejectionCode::ModeMismatch => {
                "The event's mode does not match the mode of the signing secret that signed it."
            }
            RejectionCode::PayloadTooLarge => "The body is larger than this endpoint accepts.",
            RejectionCode::NoSigningSecret => {
                "No webhook signing secret is configured, so events cannot be verified."
            }
            RejectionCode::StorageUnavailable => {
                "The event could not be stored right now; retry later."
            }
            RejectionCode::MethodNotAllowed => "Only POST is accepted here.",
            RejectionCode::NotFound => "Nothing is served at this path.",
            RejectionCode::RequestTimeout => "The request body did not arrive in time.",
            RejectionCode::DoorbellUnverified => "Stripe does not confirm this event.",
            RejectionCode::Unknown => "The request was refused.",
        }
    }
}

impl From<&str> for RejectionCode {
    fn from(text: &str) -> RejectionCode {
        RejectionCode::parse(text)
    }
}

/// A code compares equal to its stored spelling.
impl PartialEq<&str> for RejectionCode {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

/// Stripe's currencies whose minor unit is not a hundredth, as (lowercase ISO code,
/// exponent): zero-decimal ones (the amount is whole units) and three-decimal ones (whose
/// last digit Stripe requires to be 0). Every other currency has two decimals in Stripe's
/// API, ISK included (Stripe accepts only whole krónur there, as multiples of 100).
pub const MINOR_UNIT_EXCEPTIONS: [(&str, u32); 21] = [
    ("bif", 0),
    ("clp", 0),
    ("djf", 0),
    ("gnf", 0),
    ("jpy", 0),
    ("kmf", 0),
    ("krw", 0),
    ("mga", 0),
    ("pyg", 0),
    ("rwf", 0),
    ("ugx", 0),
    ("vnd", 0),
    ("vuv", 0),
    ("xaf", 0),
    ("xof", 0),
    ("xpf", 0),
    ("bhd", 3),
    ("jod", 3),
    ("kwd", 3),
    ("omr", 3),
    ("tnd", 3),
];

/// Digits after the decimal point of `currency` (any case) in Stripe's minor units.
pub fn minor_unit_exponent(currency: &str) -> u32 {
    MINOR_UNIT_EXCEPTIONS
        .iter()
        .find(|(code, _)| code.eq_ignore_ascii_case(currency))
        .map_or(2, |&(_, exp)| exp)
}

/// An amount in minor units as a plain decimal in the currency's major unit, with exactly
/// the currency's digits and no grouping: `2500, "usd"` → `25.00`; `1500, "jpy"` → `1500`;
/// `12340, "kwd"` → `12.340`; `-1050, "gbp"` → `-10.50`.
pub fn major_units(amount: i64, currency: &str) -> String {
    let exp = minor_unit_exponent(currency);
    let sign = if amount < 0 { "-" } else { "" };
    let abs = amount.unsigned_abs();
    let unit = 10u64.pow(exp);
    if exp == 0 {
        format!("{sign}{abs}")
    } else {
        let (whole, frac) = (abs / unit, abs % unit);
        format!("{sign}{whole}.{frac:0width$}", width = exp as usize)
    }
}

/// The path Stripe posts webhooks to on the relay (and on any address that forwards to it).
pub const WEBHOOK_PATH: &str = "/api/webhooks/stripe";

/// The Stripe Dashboard's origin; links into it carry `/test` in test mode.
pub const DASHBOARD_ORIGIN: &str = "https://dashboard.stripe.com";

/// The Dashboard page of each kind of object, by its id's prefix. The same paths serve an
/// account connected through Connect: the owner signs in to their own Stripe account, and
/// Stripe documents no account-specific page path for the account's owner.
pub const DASHBOARD_PAGES: [(&str, &str); 10] = [
    ("pi_", "payments"),
    ("ch_", "payments"),
    ("py_", "payments"),
    ("re_", "refunds"),
    ("dp_", "disputes"),
    ("du_", "disputes"),
    ("sub_", "subscriptions"),
    ("cus_", "customers"),
    ("in_", "invoices"),
    ("we_", "webhooks"),
];

/// The Stripe Dashboard page of the object `id` in `mode`, e.g.
/// `https://dashboard.stripe.com/test/payments/pi_123`. None for an id of a kind that has
/// no page here, or that is not a plain Stripe id.
pub fn dashboard_url(mode: crate::Mode, id: &str) -> Option<String> {
    let id = id.trim();
    if id.is_empty() || !id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
        return None;
    }
    let (prefix, page) = DASHBOARD_PAGES
        .iter()
        .find(|(prefix, _)| id.starts_with(prefix))?;
    if id.len() == prefix.len() {
        return None;
    }
    let test = if mode.is_live() { "" } else { "/test" };
    Some(format!("{DASHBOARD_ORIGIN}{test}/{page}/{id}"))
}

/// Subscription statuses that will try to renew, so a disconnect from Stripe breaks them (R14).
pub const RENEWING_SUBSCRIPTION_STATUSES: [&str; 3] = ["active", "trialing", "past_due"];

/// Dispute statuses of a chargeback: the bank took the disputed amount from the balance
/// when the dispute opened (`won` gives it back). Inquiries (`warning_needs_response`,
/// `warning_under_review`, `warning_closed`) take no money, nor does `prevented`; a status
/// this build does not know is not counted either (it may be a newer kind of inquiry). The
/// revenue summary's "disputed" and "won back" read this list ([`crate::RevenueSummary`]).
pub const CHARGEBACK_DISPUTE_STATUSES: [&str; 4] =
    ["needs_response", "under_review", "won", "lost"];

/// The dispute status whose amount Stripe returned to the balance.
pub const DISPUTE_WON_STATUS: &str = "won";

/// How long a payment seen without its Checkout Session waits, hidden, for the session
/// (Stripe does not deliver in order, and a delivery retried after downtime can lag by
/// hours). After this it counts only as "other activity on this account". 24 hours.
pub const ORDER_SESSION_WAIT_SECS: i64 = 24 * 60 * 60;

/// The longest `metadata` key Stripe accepts (an [`crate::OrderMarker`] key).
pub const METADATA_KEY_MAX_CHARS: usize = 40;
/// The longest `metadata` value Stripe accepts.
pub const METADATA_VALUE_MAX_CHARS: usize = 500;
/// The longest `client_reference_id` Stripe accepts.
pub const CLIENT_REFERENCE_ID_MAX_CHARS: usize = 200;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dashboard_links_name_the_object_and_the_mode() {
        use crate::Mode;
        assert_eq!(
            dashboard_url(Mode::Test, "pi_3Abc").as_deref(),
            Some("https://dashboard.stripe.com/test/payments/pi_3Abc")
        );
        assert_eq!(
            dashboard_url(Mode::Live, "pi_3Abc").as_deref(),
            Some("https://dashboard.stripe.com/payments/pi_3Abc")
        );
        for (id, page) in [
            ("ch_1", "payments"),
            ("re_1", "refunds"),
            ("dp_1", "disputes"),
            ("sub_1", "subscriptions"),
            ("cus_1", "customers"),
            ("in_1", "invoices"),
            ("we_1", "webhooks"),
        ] {
            assert_eq!(
                dashboard_url(Mode::Live, id),
                Some(format!("https://dashboard.stripe.com/{page}/{id}"))
            );
        }
        for bad in [
            "",
            "pi_",
            "cs_test_1",
            "acct_1",
            "pi_1/../../settings",
            "pi_1?x=1",
            "x",
        ] {
            assert_eq!(dashboard_url(Mode::Test, bad), None, "{bad}");
        }
    }

    #[test]
    fn twelve_events_then_the_extras_each_once() {
        let all: Vec<&str> = subscribed_event_types().collect();
        assert_eq!(all.len(), 15);
        let mut unique = all.clone();
        unique.sort_unstable();
        unique.dedup();
        assert_eq!(unique.len(), 15, "no event twice");
        assert_eq!(all[0], "checkout.session.completed");
        assert_eq!(all[11], "invoice.payment_failed");
        assert_eq!(
            &all[12..],
            [
                "charge.refunded",
                "charge.refund.updated",
                "account.updated"
            ]
        );
        assert!(WEBHOOK_EVENTS.iter().all(|e| !e.purpose.is_empty()));
    }

    #[test]
    fn rejection_codes_keep_their_stored_spelling() {
        for code in RejectionCode::ALL {
            let json = serde_json::to_value(code).unwrap();
            assert_eq!(json, code.as_str(), "serde name is the stored spelling");
            assert_eq!(RejectionCode::parse(code.as_str()), code);
            assert_eq!(serde_json::from_value::<RejectionCode>(json).unwrap(), code);
            for text in [code.reason(), code.fix(), code.public_message()] {
                assert!(text.ends_with('.'), "{code}: {text}");
            }
        }
        let mut spellings: Vec<&str> = RejectionCode::ALL.iter().map(|c| c.as_str()).collect();
        spellings.sort_unstable();
        spellings.dedup();
        assert_eq!(spellings.len(), RejectionCode::ALL.len());
        assert_eq!(
            RejectionCode::parse("a_code_from_a_newer_build"),
            RejectionCode::Unknown
        );
    }

    #[test]
    fn exponents_follow_stripe() {
        assert_eq!(major_units(2500, "usd"), "25.00");
        assert_eq!(major_units(1500, "JPY"), "1500");
        assert_eq!(major_units(12_340, "kwd"), "12.340");
        assert_eq!(major_units(5, "eur"), "0.05");
        assert_eq!(major_units(-1050, "gbp"), "-10.50");
        assert_eq!(minor_unit_exponent("usd"), 2);
        assert_eq!(minor_unit_exponent("ISK"), 2);
        assert_eq!(minor_unit_exponent("JPY"), 0);
        assert_eq!(minor_unit_exponent("krw"), 0);
        assert_eq!(minor_unit_exponent("kwd"), 3);
        assert_eq!(minor_unit_exponent("Tnd"), 3);
        let zero = MINOR_UNIT_EXCEPTIONS
            .iter()
            .filter(|(_, e)| *e == 0)
            .count();
        let three = MINOR_UNIT_EXCEPTIONS
            .iter()
            .filter(|(_, e)| *e == 3)
            .count();
        assert_eq!((zero, three), (16, 5));
        assert!(
            MINOR_UNIT_EXCEPTIONS
                .iter()
                .all(|(c, _)| c.len() == 3 && c.chars().all(|ch| ch.is_ascii_lowercase()))
        );
    }
}
