//! Stories: every event of one order or one subscription, in the order Stripe sends them.
//!
//! Ids are derived from the story number `n` and the mode, so events of one story link up
//! (session → PaymentIntent → Charge → Refund/Dispute) and stories never collide.

use fluxstore_mirror::facts::{event_types, minor_unit_exponent};
use serde_json::{Value, json};

use crate::billing::{SubscriptionSpec, invoice, subscription};
use crate::objects::{OrderSpec, charge, checkout_session, dispute, payment_intent, refund};
use crate::{Ctx, envelope, envelope_with};

/// How an order ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Outcome {
    /// Checkout completed with a delayed payment method still unpaid.
    Pending,
    Paid,
    /// A declined card, then a successful retry.
    FailedThenPaid,
    /// Declined, and the session expired unpaid.
    Failed,
    Refunded,
    PartiallyRefunded,
    DisputeOpen,
    DisputeWon,
    DisputeLost,
    /// Refunded in full, then the refund failed (`charge.refund.updated`): paid again.
    RefundFailed,
    /// A full refund failed, then a second one succeeded.
    RefundRetried,
}

impl Outcome {
    pub const ALL: [Outcome; 11] = [
        Outcome::Pending,
        Outcome::Paid,
        Outcome::FailedThenPaid,
        Outcome::Failed,
        Outcome::Refunded,
        Outcome::PartiallyRefunded,
        Outcome::DisputeOpen,
        Outcome::DisputeWon,
        Outcome::DisputeLost,
        Outcome::RefundFailed,
        Outcome::RefundRetried,
    ];
}

/// How a subscription story ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SubOutcome {
    /// Two paid invoices, still active.
    Active,
    /// The renewal invoice failed: past_due.
    PastDue,
    /// Cancelled at period end, then deleted.
    Canceled,
}

const DAY: i64 = 86_400;

/// Half of `amount`, kept a multiple of 10 for three-decimal currencies (Stripe requires
/// the last digit of their amounts to be 0).
pub fn partial_amount(currency: &str, amount: i64) -> i64 {
    let half = amount / 2;
    if minor_unit_exponent(currency) == 3 {
        half - half % 10
    } else {
        half
    }
}

/// All events of order `n` ending in `outcome`, natural order. `t0` is when checkout began.
pub fn order_story(
    n: u64,
    outcome: Outcome,
    currency: &str,
    amount: i64,
    ctx: &Ctx,
    t0: i64,
) -> Vec<Value> {
    let o = OrderSpec::new(n, currency, amount, ctx.livemode);
    let mut ev = Vec::new();
    if outcome == Outcome::Pending {
        let s = checkout_session(&o, "complete", "unpaid", t0, ctx);
        ev.push(envelope(
            event_types::CHECKOUT_SESSION_COMPLETED,
            s,
            t0 + 40,
            ctx,
        ));
        return ev;
    }
    let mut charges = Vec::new();
    if matches!(outcome, Outcome::FailedThenPaid | Outcome::Failed) {
        let failed = charge(&o, &o.failed_charge, "failed", 0, false, t0 + 20, ctx);
        charges.push(failed.clone());
        ev.push(envelope("charge.failed", failed, t0 + 20, ctx));
        let pi = payment_intent(&o, "requires_payment_method", &charges, true, t0, ctx);
        ev.push(envelope(
            event_types::PAYMENT_INTENT_PAYMENT_FAILED,
            pi,
            t0 + 20,
            ctx,
        ));
    }
    if outcome == Outcome::Failed {
        let s = checkout_session(&o, "expired", "unpaid", t0, ctx);
        ev.push(envelope("checkout.session.expired", s, t0 + DAY, ctx));
        return ev;
    }
    let paid_at = t0
        + 60
        + if outcome == Outcome::FailedThenPaid {
            90
        } else {
            0
        };
    let ok = charge(&o, &o.charge, "succeeded", 0, false, paid_at, ctx);
    charges.push(ok.clone());
    ev.push(envelope(event_types::CHARGE_SUCCEEDED, ok, paid_at, ctx));
    let pi = payment_intent(&o, "succeeded", &charges, false, t0, ctx);
    ev.push(envelope(
        event_types::PAYMENT_INTENT_SUCCEEDED,
        pi,
        paid_at,
        ctx,
    ));
    let s = checkout_session(&o, "complete", "paid", t0, ctx);
    ev.push(envelope(
        event_types::CHECKOUT_SESSION_COMPLETED,
        s,
        paid_at + 1,
        ctx,
    ));

    let refund_at = paid_at + 2 * DAY;
    let refunded = match outcome {
        Outcome::Refunded | Outcome::RefundFailed | Outcome::RefundRetried => Some(amount),
        Outcome::PartiallyRefunded => Some(partial_amount(&o.currency, amount)),
        _ => None,
    };
    if let Some(r) = refunded {
        let re = refund(&o, &o.refund_id(0), r, "succeeded", refund_at, ctx);
        ev.push(envelope("refund.created", re, refund_at, ctx));
        let c = charge(&o, &o.charge, "succeeded", r, false, paid_at, ctx);
        ev.push(envelope(event_types::CHARGE_REFUNDED, c, refund_at, ctx));
    }
    if matches!(outcome, Outcome::RefundFailed | Outcome::RefundRetried) {
        // The card was closed: the refund fails an hour later and its money goes back to
        // the charge (Stripe sends the refund, not the charge).
        let re = refund(&o, &o.refund_id(0), amount, "failed", refund_at, ctx);
        ev.push(envelope(
            event_types::CHARGE_REFUND_UPDATED,
            re,
            refund_at + 3600,
            ctx,
        ));
    }
    if outcome == Outcome::RefundRetried {
        let at = refund_at + 7200;
        let re = refund(&o, &o.refund_id(1), amount, "succeeded", at, ctx);
        ev.push(envelope("refund.created", re, at, ctx));
        let c = charge(&o, &o.charge, "succeeded", amount, false, paid_at, ctx);
        ev.push(envelope(event_types::CHARGE_REFUNDED, c, at, ctx));
    }
    let dispute_at = paid_at + 3 * DAY;
    let due = dispute_at + 7 * DAY;
    if matches!(
        outcome,
        Outcome::DisputeOpen | Outcome::DisputeWon | Outcome::DisputeLost
    ) {
        let d = dispute(
            &o,
            "needs_response",
            "fraudulent",
            Some(due),
            false,
            dispute_at,
            ctx,
        );
        ev.push(envelope(
            event_types::CHARGE_DISPUTE_CREATED,
            d,
            dispute_at,
            ctx,
        ));
    }
    if matches!(outcome, Outcome::DisputeWon | Outcome::DisputeLost) {
        let d = dispute(
            &o,
            "under_review",
            "fraudulent",
            Some(due),
            true,
            dispute_at,
            ctx,
        );
        ev.push(envelope_with(
            event_types::CHARGE_DISPUTE_UPDATED,
            d,
            Some(json!({"status": "needs_response"})),
            dispute_at + DAY,
            ctx,
        ));
        let fin = if outcome == Outcome::DisputeWon {
            "won"
        } else {
            "lost"
        };
        let d = dispute(&o, fin, "fraudulent", None, true, dispute_at, ctx);
        ev.push(envelope(
            event_types::CHARGE_DISPUTE_CLOSED,
            d,
            dispute_at + 30 * DAY,
            ctx,
        ));
    }
    ev
}

/// All events of subscription `n` ending in `outcome`, natural order. Periods are 30 days.
pub fn subscription_story(
    n: u64,
    outcome: SubOutcome,
    currency: &str,
    amount: i64,
    ctx: &Ctx,
    t0: i64,
) -> Vec<Value> {
    let s = SubscriptionSpec::new(n, currency, amount, ctx.livemode);
    let month = 30 * DAY;
    let p0 = (t0, t0 + month);
    let p1 = (t0 + month, t0 + 2 * month);
    let mut ev = vec![
        envelope(
            event_types::CUSTOMER_SUBSCRIPTION_CREATED,
            subscription(&s, "active", p0, false, t0, ctx),
            t0,
            ctx,
        ),
        envelope(
            event_types::INVOICE_PAID,
            invoice(&s, 0, true, p0, t0, ctx),
            t0 + 2,
            ctx,
        ),
    ];
    match outcome {
        SubOutcome::Active => {
            ev.push(envelope(
                event_types::INVOICE_PAID,
                invoice(&s, 1, true, p1, p1.0, ctx),
                p1.0 + 3600,
                ctx,
            ));
            let sub = subscription(&s, "active", p1, false, t0, ctx);
            ev.push(envelope_with(
                event_types::CUSTOMER_SUBSCRIPTION_UPDATED,
                sub,
                Some(json!({"latest_invoice": s.invoice_id(0)})),
                p1.0 + 3600,
                ctx,
            ));
        }
        SubOutcome::PastDue => {
            ev.push(envelope(
                event_types::INVOICE_PAYMENT_FAILED,
                invoice(&s, 1, false, p1, p1.0, ctx),
                p1.0 + 3600,
                ctx,
            ));
            let sub = subscription(&s, "past_due", p1, false, t0, ctx);
            ev.push(envelope_with(
                event_types::CUSTOMER_SUBSCRIPTION_UPDATED,
                sub,
                Some(json!({"status": "active"})),
                p1.0 + 3600,
                ctx,
            ));
        }
        SubOutcome::Canceled => {
            let sub = subscription(&s, "active", p0, true, t0, ctx);
            ev.push(envelope_with(
                event_types::CUSTOMER_SUBSCRIPTION_UPDATED,
                sub,
                Some(json!({"cancel_at_period_end": false})),
                t0 + 10 * DAY,
                ctx,
            ));
            let sub = subscription(&s, "canceled", p0, true, t0, ctx);
            ev.push(envelope(
                event_types::CUSTOMER_SUBSCRIPTION_DELETED,
                sub,
                p0.1,
                ctx,
            ));
        }
    }
    ev
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ApiShape;

    fn types(ev: &[Value]) -> Vec<&str> {
        ev.iter().map(|e| e["type"].as_str().unwrap()).collect()
    }

    #[test]
    fn stories_have_the_expected_events_and_linked_ids() {
        let ctx = Ctx::test(ApiShape::Basil);
        let ev = order_story(5, Outcome::FailedThenPaid, "usd", 1999, &ctx, 1_000_000);
        assert_eq!(
            types(&ev),
            [
                "charge.failed",
                "payment_intent.payment_failed",
                "charge.succeeded",
                "payment_intent.succeeded",
                "checkout.session.completed"
            ]
        );
        let pi = ev[3]["data"]["object"]["id"].clone();
        assert_eq!(ev[2]["data"]["object"]["payment_intent"], pi);
        assert_eq!(ev[4]["data"]["object"]["payment_intent"], pi);
        assert_eq!(
            ev[3]["data"]["object"]["latest_charge"],
            ev[2]["data"]["object"]["id"]
        );
        let ev = order_story(6, Outcome::DisputeLost, "jpy", 3500, &ctx, 1_000_000);
        assert_eq!(ev.last().unwrap()["data"]["object"]["status"], "lost");
        assert_eq!(
            ev.last().unwrap()["data"]["object"]["charge"],
            ev[0]["data"]["object"]["id"]
        );
        let ev = order_story(
            7,
            Outcome::PartiallyRefunded,
            "kwd",
            12_340,
            &ctx,
            1_000_000,
        );
        assert_eq!(
            ev.last().unwrap()["data"]["object"]["amount_refunded"],
            6_170
        );
        let ids: std::collections::HashSet<_> = ev
            .iter()
            .map(|e| e["id"].as_str().unwrap().to_owned())
            .collect();
        assert_eq!(ids.len(), ev.len(), "event ids are unique");
    }

    #[test]
    fn subscription_stories() {
        for shape in ApiShape::ALL {
            let ctx = Ctx::live(shape);
            let ev = subscription_story(1, SubOutcome::PastDue, "eur", 900, &ctx, 1_000_000);
            assert_eq!(
                types(&ev),
                [
                    "customer.subscription.created",
                    "invoice.paid",
                    "invoice.payment_failed",
                    "customer.subscription.updated"
                ]
            );
            assert!(
                ev.iter()
                    .all(|e| e["livemode"] == true && e["api_version"] == shape.api_version())
            );
            let ev = subscription_story(1, SubOutcome::Canceled, "eur", 900, &ctx, 1_000_000);
            assert_eq!(ev.last().unwrap()["type"], "customer.subscription.deleted");
        }
    }
}
