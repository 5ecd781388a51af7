//! Projection tests on real SQLite files: every outcome in every API shape, out-of-order
//! arrival, duplicates, payments waiting for their session, subscriptions and invoices in both shapes.

use crate::common::{self, T0, ingest, ingest_all, of_type, only_order};
use fluxstore_mirror::{AppliedEvent, IngestOutcome, Mode, OrderStatus, Source};
use fluxstore_samples::{
    ApiShape, Ctx, OrderSpec, Outcome, SubOutcome, order_story, subscription_story,
};
use fluxstore_test_support::temp_mirror;
use serde_json::json;

fn expected(outcome: Outcome) -> OrderStatus {
    match outcome {
        Outcome::Pending => OrderStatus::Pending,
        Outcome::Paid | Outcome::FailedThenPaid | Outcome::RefundFailed => OrderStatus::Paid,
        Outcome::Failed => OrderStatus::Failed,
        Outcome::Refunded | Outcome::RefundRetried => OrderStatus::Refunded,
        Outcome::PartiallyRefunded => OrderStatus::PartiallyRefunded,
        Outcome::DisputeOpen => OrderStatus::Disputed,
        Outcome::DisputeWon => OrderStatus::DisputeWon,
        Outcome::DisputeLost => OrderStatus::DisputeLost,
    }
}

#[test]
fn every_outcome_in_every_shape_projects_its_status_and_fields() {
    for shape in ApiShape::ALL {
        for outcome in Outcome::ALL {
            let (_d, mut m) = temp_mirror().into_parts();
            let ctx = Ctx::test(shape);
            let events = order_story(11, outcome, "jpy", 3500, &ctx, T0);
            ingest_all(&mut m, &events);
            let o = only_order(&m, Mode::Test);
            let spec = OrderSpec::new(11, "jpy", 3500, false);
            let what = format!("{shape:?} {outcome:?}");
            assert_eq!(o.status, expected(outcome), "{what}");
            assert_eq!(o.session_id, spec.session, "{what}");
            assert_eq!(
                o.payment_intent_id.as_deref(),
                Some(spec.payment_intent.as_str()),
                "{what}"
            );
            assert_eq!(o.amount, Some(3500), "{what}");
            assert_eq!(o.currency.as_deref(), Some("jpy"), "{what}");
            assert_eq!(
                o.customer_email.as_deref(),
                Some(spec.email.as_str()),
                "{what}"
            );
            assert_eq!(o.client_reference_id.as_deref(), Some("order-11"), "{what}");
            assert_eq!(o.mode, Mode::Test);
            assert_eq!(
                o.created, T0,
                "order time is the session's creation, {what}"
            );
            if !matches!(outcome, Outcome::Pending | Outcome::Failed) {
                assert_eq!(
                    o.charge_id.as_deref(),
                    Some(spec.charge.as_str()),
                    "the successful charge, {what}"
                );
            }
            match outcome {
                Outcome::Failed => assert_eq!(
                    o.failure_message.as_deref(),
                    Some(fluxstore_samples::FAILED_CARD_ERROR)
                ),
                _ => assert_eq!(o.failure_message, None, "{what}"),
            }
            let refunded = match outcome {
                Outcome::Refunded | Outcome::RefundRetried => 3500,
                Outcome::PartiallyRefunded => 1750,
                _ => 0,
            };
            assert_eq!(o.amount_refunded, refunded, "{what}");
            let has_dispute = matches!(
                outcome,
                Outcome::DisputeOpen | Outcome::DisputeWon | Outcome::DisputeLost
            );
            let disputes = m.disputes(Mode::Test).unwrap();
            assert_eq!(disputes.len(), usize::from(has_dispute), "{what}");
            if let Some(d) = disputes.first() {
                assert_eq!(d.order_session_id.as_deref(), Some(spec.session.as_str()));
                assert_eq!(d.charge_id.as_deref(), Some(spec.charge.as_str()));
                assert_eq!(d.amount, 3500);
                assert_eq!(d.needs_response, outcome == Outcome::DisputeOpen);
                assert_eq!(
                    d.due_by.is_some(),
                    outcome == Outcome::DisputeOpen,
                    "closed disputes have due_by 0"
                );
            }
        }
    }
}

/// Ingest the story's events in the given index order and return the final order status.
fn status_in_order(outcome: Outcome, shape: ApiShape, order: &[&str]) -> OrderStatus {
    let (_d, mut m) = temp_mirror().into_parts();
    let events = order_story(21, outcome, "eur", 4500, &Ctx::test(shape), T0);
    for ty in order {
        ingest(&mut m, of_type(&events, ty));
    }
    ingest_all(&mut m, &events); // the rest (duplicates of the above are no-ops)
    only_order(&m, Mode::Test).status
}

#[test]
fn payment_events_before_their_session_end_in_the_right_state() {
    for shape in ApiShape::ALL {
        assert_eq!(
            status_in_order(Outcome::Paid, shape, &["payment_intent.succeeded"]),
            OrderStatus::Paid
        );
        assert_eq!(
            status_in_order(Outcome::Paid, shape, &["charge.succeeded"]),
            OrderStatus::Paid
        );
        assert_eq!(
            status_in_order(
                Outcome::DisputeLost,
                shape,
                &["charge.dispute.closed", "charge.dispute.created"]
            ),
            OrderStatus::DisputeLost
        );
        assert_eq!(
            status_in_order(
                Outcome::Refunded,
                shape,
                &["charge.refunded", "refund.created"]
            ),
            OrderStatus::Refunded
        );
        assert_eq!(
            status_in_order(
                Outcome::FailedThenPaid,
                shape,
                &["payment_intent.succeeded", "payment_intent.payment_failed"]
            ),
            OrderStatus::Paid,
            "a late failure never downgrades a paid order"
        );
    }
}

#[test]
fn a_payment_waits_hidden_until_its_session_arrives() {
    let (_d, mut m) = temp_mirror().into_parts();
    let events = order_story(
        31,
        Outcome::Paid,
        "usd",
        1999,
        &Ctx::test(ApiShape::Basil),
        T0,
    );
    let spec = OrderSpec::new(31, "usd", 1999, false);
    ingest(&mut m, of_type(&events, "payment_intent.succeeded"));
    assert!(
        common::all_orders(&m, Mode::Test).is_empty(),
        "not an order yet"
    );
    assert!(
        m.order_for_payment(&spec.payment_intent).unwrap().is_none(),
        "not refundable, not looked up"
    );
    // T0 lies far in the past: the wait for the session is over, so it counts as other
    // activity (a count only) until the session shows it was an order after all.
    let other = m.other_activity(Mode::Test).unwrap();
    assert_eq!((other.count, other.waiting), (1, 0));
    ingest(&mut m, of_type(&events, "checkout.session.completed"));
    let o = only_order(&m, Mode::Test);
    assert_eq!(
        o.session_id, spec.session,
        "an order once its session arrives"
    );
    assert_eq!(o.status, OrderStatus::Paid);
    assert_eq!(
        o.charge_id.as_deref(),
        Some(spec.charge.as_str()),
        "from latest_charge"
    );
    assert_eq!(m.other_activity(Mode::Test).unwrap(), Default::default());
    assert_eq!(o.customer_email.as_deref(), Some(spec.email.as_str()));
    assert_eq!(
        m.order_for_payment(&spec.payment_intent)
            .unwrap()
            .unwrap()
            .session_id,
        spec.session
    );
    assert_eq!(
        m.order_for_payment(&spec.charge)
            .unwrap()
            .unwrap()
            .session_id,
        spec.session
    );
    assert!(m.order_for_payment("pi_unknown").unwrap().is_none());
}

#[test]
fn a_dispute_before_its_charge_links_once_the_charge_arrives() {
    let (_d, mut m) = temp_mirror().into_parts();
    let events = order_story(
        41,
        Outcome::DisputeOpen,
        "usd",
        1999,
        &Ctx::test(ApiShape::Charges2020),
        T0,
    );
    let spec = OrderSpec::new(41, "usd", 1999, false);
    ingest(&mut m, of_type(&events, "charge.dispute.created"));
    assert!(
        m.disputes(Mode::Test).unwrap().is_empty(),
        "a dispute of a payment not known as an order is not in the queue"
    );
    assert!(common::all_orders(&m, Mode::Test).is_empty());
    ingest_all(&mut m, &events);
    let d = &m.disputes(Mode::Test).unwrap()[0];
    assert_eq!(d.order_session_id.as_deref(), Some(spec.session.as_str()));
    assert_eq!(only_order(&m, Mode::Test).status, OrderStatus::Disputed);
}

#[test]
fn a_failure_created_after_payment_does_not_downgrade() {
    let (_d, mut m) = temp_mirror().into_parts();
    let ctx = Ctx::test(ApiShape::Legacy2024);
    let events = order_story(51, Outcome::Paid, "usd", 1999, &ctx, T0);
    ingest_all(&mut m, &events);
    let spec = OrderSpec::new(51, "usd", 1999, false);
    let late = fluxstore_samples::charge(
        &spec,
        &spec.failed_charge,
        "failed",
        0,
        false,
        T0 + 999,
        &ctx,
    );
    ingest(
        &mut m,
        &fluxstore_samples::envelope("charge.failed", late, T0 + 999, &ctx),
    );
    assert_eq!(only_order(&m, Mode::Test).status, OrderStatus::Paid);
}

#[test]
fn duplicates_are_reported_and_change_nothing() {
    let (_d, mut m) = temp_mirror().into_parts();
    let events = order_story(
        61,
        Outcome::Refunded,
        "kwd",
        12_340,
        &Ctx::live(ApiShape::Basil),
        T0,
    );
    ingest_all(&mut m, &events);
    let before = m.dump_projections().unwrap();
    let again = ingest(&mut m, &events[0]);
    assert_eq!(
        again,
        IngestOutcome::Duplicate {
            event_id: events[0]["id"].as_str().unwrap().to_owned()
        }
    );
    assert_eq!(m.dump_projections().unwrap(), before);
    // Inside one batch, and against what is stored.
    let (_d2, mut m2) = temp_mirror().into_parts();
    let parsed: Vec<_> = [&events[0], &events[1], &events[0]]
        .iter()
        .map(|e| {
            (
                fluxstore_mirror::Event::parse(e.to_string().as_bytes()).unwrap(),
                Source::Feed,
            )
        })
        .collect();
    let out = m2.ingest_batch(&parsed).unwrap();
    assert!(matches!(
        &out[0],
        IngestOutcome::Applied(AppliedEvent {
            projected: true,
            mode: Mode::Live,
            ..
        })
    ));
    assert!(matches!(out[1], IngestOutcome::Applied { .. }));
    assert!(matches!(out[2], IngestOutcome::Duplicate { .. }));
    let out = m2.ingest_batch(&parsed[..1]).unwrap();
    assert!(matches!(out[0], IngestOutcome::Duplicate { .. }));
    assert_eq!(m2.events(Some(Mode::Live), 10).unwrap().len(), 2);
    assert_eq!(m2.events(None, 10).unwrap()[0].source, Source::Feed);
}

#[test]
fn test_and_live_never_mix() {
    let (_d, mut m) = temp_mirror().into_parts();
    ingest_all(
        &mut m,
        &order_story(
            71,
            Outcome::DisputeOpen,
            "usd",
            1000,
            &Ctx::test(ApiShape::Basil),
            T0,
        ),
    );
    ingest_all(
        &mut m,
        &order_story(
            72,
            Outcome::Paid,
            "usd",
            2000,
            &Ctx::live(ApiShape::Basil),
            T0 + 5,
        ),
    );
    ingest_all(
        &mut m,
        &subscription_story(
            73,
            SubOutcome::Active,
            "usd",
            900,
            &Ctx::live(ApiShape::Legacy2024),
            T0,
        ),
    );
    let test = only_order(&m, Mode::Test);
    let live = only_order(&m, Mode::Live);
    assert_eq!((test.amount, live.amount), (Some(1000), Some(2000)));
    assert_eq!(m.disputes(Mode::Test).unwrap().len(), 1);
    assert!(m.disputes(Mode::Live).unwrap().is_empty());
    assert_eq!(m.disputes_needing_response(Mode::Test).unwrap(), 1);
    assert_eq!(m.disputes_needing_response(Mode::Live).unwrap(), 0);
    assert!(m.subscriptions(Mode::Test).unwrap().is_empty());
    assert_eq!(m.subscriptions(Mode::Live).unwrap().len(), 1);
    assert!(m.invoices(Mode::Test).unwrap().is_empty());
    assert_eq!(m.invoices(Mode::Live).unwrap().len(), 2);
    assert!(
        m.order_detail(Mode::Live, &test.session_id)
            .unwrap()
            .is_none()
    );
    assert!(
        m.order_detail(Mode::Test, &test.session_id)
            .unwrap()
            .is_some()
    );
    // Both modes connected before their orders were created.
    let facts = m.checklist_facts_since(Some(0), Some(0)).unwrap();
    assert_eq!(facts.test.event_count, 4);
    assert_eq!(facts.live.event_count, 3 + 4);
    assert!(
        m.events(Some(Mode::Test), 100)
            .unwrap()
            .iter()
            .all(|e| e.mode == Mode::Test)
    );
    let both = m.events(None, 100).unwrap();
    assert_eq!(both.len(), 11, "both modes, each event once");
    assert!(
        both.windows(2)
            .all(|w| w[0].received_at >= w[1].received_at),
        "newest received first"
    );
    assert_eq!(m.events(None, 3).unwrap(), both[..3].to_vec());
    assert_eq!(
        facts.live.first_paid_order.as_ref().map(|p| p.0.as_str()),
        Some(live.session_id.as_str())
    );
    assert_eq!(
        facts.test.first_paid_order.as_ref().map(|p| p.0.as_str()),
        Some(test.session_id.as_str())
    );
}

#[test]
fn subscriptions_and_invoices_in_both_shapes() {
    for shape in ApiShape::ALL {
        let (_d, mut m) = temp_mirror().into_parts();
        let ctx = Ctx::test(shape);
        for (n, outcome) in [
            (1, SubOutcome::Active),
            (2, SubOutcome::PastDue),
            (3, SubOutcome::Canceled),
        ] {
            ingest_all(
                &mut m,
                &subscription_story(n, outcome, "eur", 900, &ctx, T0),
            );
        }
        let subs = m.subscriptions(Mode::Test).unwrap();
        let by = |n: u64| {
            let id = fluxstore_samples::SubscriptionSpec::new(n, "eur", 900, false).id;
            subs.iter()
                .find(|s| s.id == id)
                .unwrap_or_else(|| panic!("sub {n} {shape:?}"))
                .clone()
        };
        let month = 30 * 86_400;
        assert_eq!(
            (by(1).status.as_str(), by(1).current_period_end),
            ("active", Some(T0 + 2 * month)),
            "{shape:?}"
        );
        assert_eq!(by(2).status, "past_due");
        assert_eq!(
            (by(3).status.as_str(), by(3).cancel_at_period_end),
            ("canceled", true)
        );
        let invoices = m.invoices(Mode::Test).unwrap();
        assert_eq!(invoices.len(), 5, "2 + 2 + 1 invoices");
        assert!(
            invoices.iter().all(|i| i
                .subscription_id
                .as_deref()
                .is_some_and(|s| s.starts_with("sub_"))),
            "{shape:?}"
        );
        let failed: Vec<_> = invoices
            .iter()
            .filter(|i| i.status.as_deref() == Some("open"))
            .collect();
        assert_eq!(failed.len(), 1);
        assert_eq!((failed[0].amount_paid, failed[0].amount_due), (0, 900));
        assert!(
            m.orders(Mode::Test, &Default::default())
                .unwrap()
                .items
                .is_empty(),
            "renewals are not orders"
        );
    }
}

#[test]
fn subscription_updated_before_created_keeps_the_newest_state() {
    let (_d, mut m) = temp_mirror().into_parts();
    let events = subscription_story(
        5,
        SubOutcome::PastDue,
        "usd",
        900,
        &Ctx::test(ApiShape::Basil),
        T0,
    );
    for e in events.iter().rev() {
        ingest(&mut m, e);
    }
    assert_eq!(m.subscriptions(Mode::Test).unwrap()[0].status, "past_due");
}

#[test]
fn the_payment_of_a_subscription_invoice_is_not_an_order() {
    let (_d, mut m) = temp_mirror().into_parts();
    let ctx = Ctx::test(ApiShape::Basil);
    let s = fluxstore_samples::SubscriptionSpec::new(9, "usd", 900, false);
    let o = OrderSpec {
        payment_intent: s.payment_intent_id(0),
        charge: s.charge_id(0),
        ..OrderSpec::new(9, "usd", 900, false)
    };
    let ch = fluxstore_samples::charge(&o, &o.charge, "succeeded", 0, false, T0, &ctx);
    let pi = fluxstore_samples::payment_intent(&o, "succeeded", &[ch], false, T0, &ctx);
    ingest(
        &mut m,
        &fluxstore_samples::envelope("payment_intent.succeeded", pi, T0, &ctx),
    );
    assert!(common::all_orders(&m, Mode::Test).is_empty());
    assert_eq!(
        m.other_activity(Mode::Test).unwrap().count,
        1,
        "other activity until the invoice shows"
    );
    let inv = fluxstore_samples::invoice(&s, 0, true, (T0, T0 + 1), T0, &ctx);
    ingest(
        &mut m,
        &fluxstore_samples::envelope("invoice.paid", inv, T0 + 1, &ctx),
    );
    assert!(common::all_orders(&m, Mode::Test).is_empty());
    assert_eq!(m.other_activity(Mode::Test).unwrap().count, 0, "a renewal");
}

#[test]
fn unknown_types_are_stored_not_projected_and_unknown_enums_are_kept() {
    let (_d, mut m) = temp_mirror().into_parts();
    let ctx = Ctx::test(ApiShape::Dahlia);
    let acct = fluxstore_samples::envelope(
        "account.application.deauthorized",
        json!({"id": "ca_1", "object": "application", "name": "FluxStore"}),
        T0,
        &ctx,
    );
    let out = ingest(&mut m, &acct);
    assert!(matches!(
        out,
        IngestOutcome::Applied(AppliedEvent {
            projected: false,
            ..
        })
    ));
    assert_eq!(
        m.events(None, 10).unwrap()[0].event_type,
        "account.application.deauthorized"
    );
    let id = acct["id"].as_str().unwrap();
    assert_eq!(
        m.event_raw(id).unwrap().as_deref(),
        Some(acct.to_string().as_str()),
        "stored verbatim"
    );

    let spec = OrderSpec::new(8, "usd", 500, false);
    ingest_all(&mut m, &order_story(8, Outcome::Paid, "usd", 500, &ctx, T0));
    let d = fluxstore_samples::dispute(
        &spec,
        "brand_new_status",
        "some_new_reason",
        Some(T0 + 50),
        false,
        T0 + 10,
        &ctx,
    );
    ingest(
        &mut m,
        &fluxstore_samples::envelope("charge.dispute.updated", d, T0 + 10, &ctx),
    );
    let d = &m.disputes(Mode::Test).unwrap()[0];
    assert_eq!(
        (d.status.as_str(), d.reason.as_deref()),
        ("brand_new_status", Some("some_new_reason"))
    );
    assert_eq!(
        only_order(&m, Mode::Test).status,
        OrderStatus::Disputed,
        "an unknown dispute status counts as open"
    );
}

#[test]
fn malformed_events_store_nothing() {
    let (_d, mut m) = temp_mirror().into_parts();
    for raw in [
        &b"{}"[..],
        b"",
        b"{\"id\":1}",
        br#"{"id":"evt_1","type":"x","created":1,"livemode":false,"data":{}}"#,
    ] {
        let err = m.ingest(raw, Source::Webhook).unwrap_err();
        assert!(
            matches!(err, fluxstore_mirror::MirrorError::Malformed(_)),
            "{err:?}"
        );
        assert!(!err.is_storage_unavailable());
    }
    assert!(m.events(None, 10).unwrap().is_empty());
}

#[test]
fn a_refund_that_failed_later_stops_counting_in_any_arrival_order_and_each_refund_keeps_its_status()
{
    for shape in ApiShape::ALL {
        let ctx = Ctx::test(shape);
        let events = order_story(12, Outcome::RefundFailed, "usd", 2000, &ctx, T0);
        let spec = OrderSpec::new(12, "usd", 2000, false);
        // Natural order, and the failure first (a late `charge.refunded` still counted it).
        let mut reversed = events.clone();
        reversed.reverse();
        for order in [&events, &reversed] {
            let (_d, mut m) = temp_mirror().into_parts();
            ingest_all(&mut m, order.iter());
            let o = only_order(&m, Mode::Test);
            assert_eq!(
                (o.status, o.amount_refunded),
                (OrderStatus::Paid, 0),
                "{shape:?}"
            );
            let refunds = m.order_refunds(&o.session_id).unwrap();
            assert_eq!(refunds.len(), 1, "{shape:?}");
            let r = &refunds[0];
            assert_eq!(r.id, spec.refund_id(0));
            assert_eq!(
                (r.status.as_str(), r.failure_reason.as_deref(), r.amount),
                ("failed", Some("expired_or_canceled_card"), 2000)
            );
            assert!(r.is_void());
            assert_eq!(r.charge_id.as_deref(), Some(spec.charge.as_str()));
        }

        // The retry: the failed refund stays failed, the new one counts.
        let (_d, mut m) = temp_mirror().into_parts();
        let events = order_story(13, Outcome::RefundRetried, "usd", 2000, &ctx, T0);
        ingest_all(&mut m, events.iter().rev());
        let o = only_order(&m, Mode::Test);
        assert_eq!((o.status, o.amount_refunded), (OrderStatus::Refunded, 2000));
        let statuses: Vec<String> = m
            .order_refunds(&o.session_id)
            .unwrap()
            .into_iter()
            .map(|r| r.status)
            .collect();
        assert_eq!(statuses, ["failed", "succeeded"], "{shape:?}");
    }
}

#[test]
fn a_refund_object_alone_counts_until_the_charge_catches_up() {
    let ctx = Ctx::test(ApiShape::Basil);
    let events = order_story(14, Outcome::Paid, "eur", 4000, &ctx, T0);
    let spec = OrderSpec::new(14, "eur", 4000, false);
    let (_d, mut m) = temp_mirror().into_parts();
    ingest_all(&mut m, &events);
    // Recorded from the refund object only (the charge could not be read again).
    let re = fluxstore_samples::refund(&spec, &spec.refund_id(0), 1500, "pending", T0 + 500, &ctx);
    ingest(
        &mut m,
        &fluxstore_samples::envelope("refund.created", re, T0 + 500, &ctx),
    );
    let o = only_order(&m, Mode::Test);
    assert_eq!(
        (o.status, o.amount_refunded),
        (OrderStatus::PartiallyRefunded, 1500)
    );
    // The charge from the next sync, which already counts that refund: not counted twice.
    let c = fluxstore_samples::charge(&spec, &spec.charge, "succeeded", 1500, false, T0, &ctx);
    ingest(
        &mut m,
        &fluxstore_samples::envelope("charge.refunded", c, T0 + 500, &ctx),
    );
    let o = only_order(&m, Mode::Test);
    assert_eq!(o.amount_refunded, 1500);
}
