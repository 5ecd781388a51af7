//! A realistic small store, and single test events for `send-test-event`.

use fluxstore_mirror::facts::{WEBHOOK_EVENTS, event_types};
use serde_json::Value;

use crate::ids::splitmix;
use crate::stories::{Outcome, SubOutcome, order_story, subscription_story};
use crate::{ApiShape, Ctx, envelope_with};

const DAY: i64 = 86_400;

/// The 12 webhook event types of the setup page, plus `charge.refunded`.
pub const TEST_EVENT_TYPES: [&str; 13] = {
    let mut types = [event_types::CHARGE_REFUNDED; 13];
    let mut i = 0;
    while i < WEBHOOK_EVENTS.len() {
        types[i] = WEBHOOK_EVENTS[i].event_type;
        i += 1;
    }
    types
};

/// One realistic event of `event_type` created at `now`, in the newest API shape; None
/// for a type outside [`TEST_EVENT_TYPES`]. Ids derive from `now`, so two calls at
/// different times describe different orders.
pub fn test_event(event_type: &str, livemode: bool, now: i64) -> Option<Value> {
    test_events(event_type, livemode, now)?.pop()
}

/// What `fluxstore send-test-event` delivers for `event_type`: the event of
/// [`test_event`], preceded by its order's `checkout.session.completed` when the event
/// belongs to an order that has one (a refund or a dispute is about an order the store
/// already knows; alone, its payment would be another shop's activity, not an order).
pub fn test_events(event_type: &str, livemode: bool, now: i64) -> Option<Vec<Value>> {
    if !TEST_EVENT_TYPES.contains(&event_type) {
        return None;
    }
    let ctx = Ctx {
        livemode,
        shape: ApiShape::Dahlia,
        account: None,
    };
    let n = now.unsigned_abs();
    // Early enough that the dispute is created about now with its due date ahead.
    let t0 = now - 3 * DAY - 60;
    let story = match event_type {
        event_types::PAYMENT_INTENT_PAYMENT_FAILED => {
            order_story(n, Outcome::Failed, "usd", 2500, &ctx, t0)
        }
        event_types::CHARGE_REFUNDED => order_story(n, Outcome::Refunded, "usd", 2500, &ctx, t0),
        t if t.starts_with("charge.dispute.") => {
            order_story(n, Outcome::DisputeWon, "usd", 2500, &ctx, t0)
        }
        event_types::INVOICE_PAYMENT_FAILED => {
            subscription_story(n, SubOutcome::PastDue, "usd", 900, &ctx, t0)
        }
        t if t.starts_with("customer.subscription.") || t == event_types::INVOICE_PAID => {
            subscription_story(n, SubOutcome::Canceled, "usd", 900, &ctx, t0)
        }
        _ => order_story(n, Outcome::Paid, "usd", 2500, &ctx, t0),
    };
    let rewrap = |found: &Value| {
        let data = &found["data"];
        let prev = data.get("previous_attributes").cloned();
        envelope_with(
            found["type"].as_str().unwrap_or(event_type),
            data["object"].clone(),
            prev,
            now,
            &ctx,
        )
    };
    let found = story.iter().find(|e| e["type"] == event_type)?;
    let mut events = Vec::new();
    if event_type != event_types::CHECKOUT_SESSION_COMPLETED
        && let Some(session) = story
            .iter()
            .find(|e| e["type"] == event_types::CHECKOUT_SESSION_COMPLETED)
    {
        events.push(rewrap(session));
    }
    events.push(rewrap(found));
    Some(events)
}

/// How long before `now` a story must start so that all its events lie in the past.
fn span(outcome: Outcome) -> i64 {
    match outcome {
        Outcome::DisputeWon | Outcome::DisputeLost => 35 * DAY,
        Outcome::Refunded
        | Outcome::PartiallyRefunded
        | Outcome::RefundFailed
        | Outcome::RefundRetried => 3 * DAY,
        Outcome::Failed => 2 * DAY,
        _ => 600,
    }
}

/// A small realistic store: 40 orders in USD, EUR, JPY and KWD with every [`Outcome`],
/// 6 subscriptions, mostly test mode with some live, mixed API versions. Deterministic for
/// a seed; events are returned sorted by `created` like a feed.
pub fn sample_store(seed: u64, now: i64) -> Vec<Value> {
    let mut rng = seed ^ 0xf1u64.wrapping_mul(0x9e37_79b9);
    let mut events = Vec::new();
    for i in 0..40u64 {
        let r = splitmix(&mut rng);
        let outcome = if i < 18 {
            Outcome::ALL[(i % 9) as usize]
        } else {
            Outcome::ALL[(r % 9) as usize]
        };
        let (currency, amount) = match i % 4 {
            0 => ("usd", 500 + (r >> 8) as i64 % 19_500),
            1 => ("eur", 900 + (r >> 8) as i64 % 9_100),
            2 => ("jpy", 300 + (r >> 8) as i64 % 29_700),
            _ => ("kwd", (1_000 + (r >> 8) as i64 % 49_000) / 10 * 10),
        };
        let ctx = Ctx {
            livemode: i % 5 == 4,
            shape: ApiShape::ALL[((r >> 40) % 4) as usize],
            account: None,
        };
        let t0 = if outcome == Outcome::DisputeOpen {
            // The dispute was opened within the last day: its response is due ahead.
            now - 3 * DAY - 60 - ((r >> 20) as i64 % DAY)
        } else {
            now - span(outcome) - ((r >> 20) as i64 % (20 * DAY))
        };
        let n = seed.wrapping_mul(1_000).wrapping_add(i);
        events.extend(order_story(n, outcome, currency, amount, &ctx, t0));
    }
    let subs = [
        SubOutcome::Active,
        SubOutcome::PastDue,
        SubOutcome::Canceled,
    ];
    for i in 0..6u64 {
        let r = splitmix(&mut rng);
        let ctx = Ctx {
            livemode: i == 5,
            shape: ApiShape::ALL[(r % 4) as usize],
            account: None,
        };
        let t0 = now - 36 * DAY - ((r >> 20) as i64 % (3 * DAY));
        let currency = if i % 2 == 0 { "usd" } else { "eur" };
        let n = seed.wrapping_mul(1_000).wrapping_add(500 + i);
        events.extend(subscription_story(
            n,
            subs[(i % 3) as usize],
            currency,
            900 + 100 * i as i64,
            &ctx,
            t0,
        ));
    }
    events.sort_by_key(|e| e["created"].as_i64().unwrap_or(0));
    events
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_test_event_type_builds_at_now() {
        for t in TEST_EVENT_TYPES {
            let e = test_event(t, false, 1_800_000_000).unwrap_or_else(|| panic!("{t}"));
            assert_eq!(e["type"], t);
            assert_eq!(e["created"], 1_800_000_000);
            assert_eq!(e["livemode"], false);
            assert!(e["data"]["object"]["id"].is_string());
        }
        assert!(test_event("customer.created", false, 1).is_none());
        let d = test_event("charge.dispute.created", true, 1_800_000_000).unwrap();
        assert!(
            d["data"]["object"]["evidence_details"]["due_by"]
                .as_i64()
                .unwrap()
                > 1_800_000_000
        );
    }

    #[test]
    fn sample_store_is_deterministic_and_realistic() {
        let now = 1_800_000_000;
        let a = sample_store(1, now);
        assert_eq!(a, sample_store(1, now));
        assert_ne!(a, sample_store(2, now));
        assert!(a.iter().all(|e| e["created"].as_i64().unwrap() <= now));
        let live = a.iter().filter(|e| e["livemode"] == true).count();
        assert!(live > 0 && live < a.len() / 2);
        for cur in ["usd", "eur", "jpy", "kwd"] {
            assert!(
                a.iter().any(|e| e["data"]["object"]["currency"] == cur),
                "{cur}"
            );
        }
        assert!(
            a.iter()
                .filter(|e| e["data"]["object"]["currency"] == "kwd")
                .all(|e| e["data"]["object"]["amount"]
                    .as_i64()
                    .is_none_or(|x| x % 10 == 0))
        );
        let open: Vec<_> = a
            .iter()
            .filter(|e| e["type"] == "charge.dispute.created")
            .collect();
        assert!(open.iter().any(|e| {
            e["data"]["object"]["evidence_details"]["due_by"]
                .as_i64()
                .unwrap()
                > now
        }));
        for t in [
            "invoice.paid",
            "invoice.payment_failed",
            "charge.dispute.closed",
            "charge.refunded",
            "payment_intent.payment_failed",
        ] {
            assert!(a.iter().any(|e| e["type"] == t), "{t}");
        }
    }
}
