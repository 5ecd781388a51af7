//! Realistic Stripe event payloads for the `send-test-event` command, the sample store,
//! benchmarks and tests.
//!
//! Every payload is a full event envelope (`evt_…` id, `object: "event"`, `api_version`,
//! `created`, `livemode`, `pending_webhooks`, `request`, `type`, `data.object`) whose
//! object is rendered in the shape of the chosen API version ([`ApiShape`]): the old
//! `PaymentIntent.charges` list (before 2022-11-15), the 2024 shape (`latest_charge`,
//! `invoice.subscription`, `subscription.current_period_end`) and the basil-or-later shape
//! (periods on `items.data[]`, `invoice.parent.subscription_details.subscription`,
//! `invoice.payments`). Output is deterministic: ids and event ids derive from the inputs.

mod billing;
pub mod ids;
mod objects;
pub mod shop;
mod store;
mod stories;

use fluxstore_mirror::facts::event_types;
use serde_json::{Value, json};

pub use billing::{SubscriptionSpec, invoice, subscription};
pub use objects::{
    FAILED_CARD_ERROR, OrderSpec, charge, checkout_session, dispute, payment_intent, refund,
};
pub use store::{TEST_EVENT_TYPES, sample_store, test_event, test_events};
pub use stories::{Outcome, SubOutcome, order_story, subscription_story};

/// The API version a payload is rendered in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ApiShape {
    /// `2020-08-27`: `PaymentIntent.charges` list, no `latest_charge`.
    Charges2020,
    /// `2024-06-20`: `latest_charge`, `invoice.subscription`, top-level subscription periods.
    Legacy2024,
    /// `2025-03-31.basil`: periods on items, `invoice.parent`, `invoice.payments`.
    Basil,
    /// `2026-07-29.dahlia`: basil shape plus newer enum values (e.g. Checkout `ui_mode`).
    Dahlia,
}

impl ApiShape {
    pub const ALL: [ApiShape; 4] = [
        ApiShape::Charges2020,
        ApiShape::Legacy2024,
        ApiShape::Basil,
        ApiShape::Dahlia,
    ];

    pub fn api_version(self) -> &'static str {
        match self {
            ApiShape::Charges2020 => "2020-08-27",
            ApiShape::Legacy2024 => "2024-06-20",
            ApiShape::Basil => "2025-03-31.basil",
            ApiShape::Dahlia => "2026-07-29.dahlia",
        }
    }

    /// True from 2022-11-15 on: `latest_charge` instead of the `charges` list.
    pub fn has_latest_charge(self) -> bool {
        self != ApiShape::Charges2020
    }

    /// True from 2025-03-31.basil on.
    pub fn is_basil_or_later(self) -> bool {
        matches!(self, ApiShape::Basil | ApiShape::Dahlia)
    }
}

/// Rendering context shared by every builder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ctx {
    pub livemode: bool,
    pub shape: ApiShape,
    /// Connected account (`acct_…`) for Connect events; None for the platform's own.
    pub account: Option<String>,
}

impl Ctx {
    pub fn test(shape: ApiShape) -> Ctx {
        Ctx {
            livemode: false,
            shape,
            account: None,
        }
    }
    pub fn live(shape: ApiShape) -> Ctx {
        Ctx {
            livemode: true,
            shape,
            account: None,
        }
    }
}

/// Wrap `object` in a full event envelope. The event id is derived from the type, the
/// object and `created`, so the same snapshot always yields the same event (a redelivery).
pub fn envelope(event_type: &str, object: Value, created: i64, ctx: &Ctx) -> Value {
    envelope_with(event_type, object, None, created, ctx)
}

/// Like [`envelope`], with `data.previous_attributes` (sent on `*.updated` events).
pub fn envelope_with(
    event_type: &str,
    object: Value,
    previous_attributes: Option<Value>,
    created: i64,
    ctx: &Ctx,
) -> Value {
    let seed = ids::fnv1a(format!("{event_type}|{created}|{object}").as_bytes());
    let automatic = event_type.starts_with("charge.dispute.")
        || event_type.starts_with("invoice.")
        || event_type == event_types::CUSTOMER_SUBSCRIPTION_DELETED;
    let request = if automatic {
        json!({ "id": null, "idempotency_key": null })
    } else {
        json!({
            "id": format!("req_{}", ids::base62(seed ^ 0x5eed, 14)),
            "idempotency_key": ids::uuid_like(seed),
        })
    };
    let mut data = json!({ "object": object });
    if let Some(prev) = previous_attributes {
        data["previous_attributes"] = prev;
    }
    let mut event = json!({
        "id": format!("evt_{}", ids::base62(seed, 24)),
        "object": "event",
        "api_version": ctx.shape.api_version(),
        "created": created,
        "data": data,
        "livemode": ctx.livemode,
        "pending_webhooks": 1,
        "request": request,
        "type": event_type,
    });
    if let Some(acct) = &ctx.account {
        event["account"] = json!(acct);
    }
    event
}

/// Grow `data.object.metadata` so the serialized event is about `bytes` long (never
/// shrinks). Benchmarks use ~3 KB events, the size of a typical Checkout event.
pub fn pad_to(event: &mut Value, bytes: usize) {
    let object = &mut event["data"]["object"];
    if !object["metadata"].is_object() {
        object["metadata"] = json!({});
    }
    if object["metadata"].get("fluxstore_pad").is_none() {
        object["metadata"]["fluxstore_pad"] = json!("");
    }
    let len = event.to_string().len();
    let current = event["data"]["object"]["metadata"]["fluxstore_pad"]
        .as_str()
        .map_or(0, str::len);
    if len < bytes {
        let pad = "x".repeat(current + bytes - len);
        event["data"]["object"]["metadata"]["fluxstore_pad"] = json!(pad);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn envelope_has_every_documented_field() {
        let ctx = Ctx {
            livemode: true,
            shape: ApiShape::Basil,
            account: Some("acct_1X".into()),
        };
        let e = envelope(
            "payment_intent.succeeded",
            json!({"id": "pi_1", "object": "payment_intent"}),
            1_700_000_000,
            &ctx,
        );
        assert!(e["id"].as_str().unwrap().starts_with("evt_"));
        assert_eq!(e["object"], "event");
        assert_eq!(e["api_version"], "2025-03-31.basil");
        assert_eq!(e["created"], 1_700_000_000);
        assert_eq!(e["livemode"], true);
        assert_eq!(e["pending_webhooks"], 1);
        assert!(e["request"]["id"].as_str().unwrap().starts_with("req_"));
        assert_eq!(e["type"], "payment_intent.succeeded");
        assert_eq!(e["data"]["object"]["id"], "pi_1");
        assert_eq!(e["account"], "acct_1X");
        let again = envelope(
            "payment_intent.succeeded",
            json!({"id": "pi_1", "object": "payment_intent"}),
            1_700_000_000,
            &ctx,
        );
        assert_eq!(e["id"], again["id"], "same snapshot, same event id");
    }

    #[test]
    fn pad_to_reaches_the_size() {
        let mut e = envelope(
            "charge.succeeded",
            json!({"id": "ch_1", "metadata": {}}),
            1,
            &Ctx::test(ApiShape::Legacy2024),
        );
        pad_to(&mut e, 3000);
        assert_eq!(e.to_string().len(), 3000);
        let before = e.to_string();
        pad_to(&mut e, 100);
        assert_eq!(before, e.to_string(), "never shrinks");
    }
}
