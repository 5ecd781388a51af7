//! What counts as an order (a Checkout Session, narrowed by the owner's marker), what an
//! order says about its buyer and card, and the line items kept for offline review.

use fluxstore_mirror::{LineItem, Mode, OrderMarker, OrderQuery};
use fluxstore_samples::{ApiShape, Ctx, OrderSpec, Outcome, order_story};
use fluxstore_test_support::temp_mirror;

use crate::common::{T0, all_orders, ingest_all, only_order};

fn without_session(events: Vec<serde_json::Value>) -> Vec<serde_json::Value> {
    events
        .into_iter()
        .filter(|e| e["data"]["object"]["object"] != "checkout.session")
        .collect()
}

#[test]
fn a_foreign_payment_is_never_an_order_and_is_only_counted() {
    let (_d, mut m) = temp_mirror().into_parts();
    let ctx = Ctx::test(ApiShape::Basil);
    ingest_all(
        &mut m,
        &order_story(1, Outcome::Paid, "usd", 2500, &ctx, T0),
    );
    let foreign = without_session(order_story(2, Outcome::DisputeOpen, "eur", 900, &ctx, T0));
    ingest_all(&mut m, &foreign);
    let spec = OrderSpec::new(2, "eur", 900, false);
    let order = only_order(&m, Mode::Test);
    assert!(order.session_id.starts_with("cs_test_"));
    for id in [&spec.payment_intent, &spec.charge, &spec.dispute] {
        assert!(m.order_for_payment(id).unwrap().is_none(), "{id}");
        assert!(m.order_detail(Mode::Test, id).unwrap().is_none(), "{id}");
    }
    assert!(
        m.disputes(Mode::Test).unwrap().is_empty(),
        "its dispute is not queued"
    );
    let found = m
        .orders(
            Mode::Test,
            &OrderQuery {
                search: Some(spec.email.clone()),
                ..OrderQuery::default()
            },
        )
        .unwrap();
    assert!(found.items.is_empty(), "its buyer cannot be searched for");
    assert_eq!(m.other_activity(Mode::Test).unwrap().count, 1);
    assert_eq!(
        m.other_activity(Mode::Live).unwrap().count,
        0,
        "modes apart"
    );
    // Both payments predate the connection, so neither proves the set-up; and only the
    // order counts among the paid history the checklist names, never the foreign payment.
    let facts = m.checklist_facts().unwrap().test;
    assert_eq!(facts.first_paid_order, None);
    assert_eq!(facts.earlier_paid_orders, 1);
    let dump = m.dump_projections().unwrap();
    assert!(
        !dump.contains(&spec.email),
        "no customer data of it kept: {dump}"
    );
}

#[test]
fn a_recent_payment_waits_hidden_for_its_session() {
    let (_d, mut m) = temp_mirror().into_parts();
    let now = fluxstore_test_support::now();
    let ctx = Ctx::test(ApiShape::Legacy2024);
    let events = order_story(3, Outcome::Paid, "usd", 2500, &ctx, now - 60);
    ingest_all(&mut m, &without_session(events.clone()));
    assert!(all_orders(&m, Mode::Test).is_empty());
    let other = m.other_activity(Mode::Test).unwrap();
    assert_eq!(
        (other.count, other.waiting),
        (0, 1),
        "waiting, not yet counted"
    );
    ingest_all(&mut m, &events);
    assert_eq!(only_order(&m, Mode::Test).amount, Some(2500));
    assert_eq!(m.other_activity(Mode::Test).unwrap(), Default::default());
}

#[test]
fn an_order_carries_its_metadata_buyer_country_and_card() {
    let (_d, mut m) = temp_mirror().into_parts();
    let events = order_story(
        4,
        Outcome::Paid,
        "usd",
        2500,
        &Ctx::test(ApiShape::Basil),
        T0,
    );
    ingest_all(&mut m, &events);
    let o = only_order(&m, Mode::Test);
    assert_eq!(o.customer_country.as_deref(), Some("US"));
    assert_eq!(o.card_brand.as_deref(), Some("visa"));
    assert_eq!(o.card_last4.as_deref(), Some("4242"));
    assert_eq!(o.risk_level.as_deref(), Some("normal"));
    let d = m.order_detail(Mode::Test, &o.session_id).unwrap().unwrap();
    let keys: Vec<&str> = d.metadata.iter().map(|f| f.key.as_str()).collect();
    assert_eq!(keys, ["fluxstore_order", "package", "player", "server"]);
    assert_eq!(d.metadata[0].value, "order-4");
    assert_eq!(d.line_items, None, "never fetched");
}

#[test]
fn the_owners_marker_narrows_orders_and_leaves_the_rest_counted() {
    let (_d, mut m) = temp_mirror().into_parts();
    let ctx = Ctx::test(ApiShape::Basil);
    ingest_all(
        &mut m,
        &order_story(5, Outcome::Paid, "usd", 2500, &ctx, T0),
    );
    ingest_all(
        &mut m,
        &order_story(6, Outcome::Paid, "usd", 2500, &ctx, T0),
    );
    assert_eq!(all_orders(&m, Mode::Test).len(), 2);
    let marker = OrderMarker::Metadata {
        key: " fluxstore_order ".into(),
        value: "order-5".into(),
    };
    let stored = m.set_order_marker(Some(&marker)).unwrap().unwrap();
    assert_eq!(
        stored,
        OrderMarker::Metadata {
            key: "fluxstore_order".into(),
            value: "order-5".into()
        }
    );
    assert_eq!(m.order_marker().unwrap(), Some(stored));
    let o = only_order(&m, Mode::Test);
    assert_eq!(o.client_reference_id.as_deref(), Some("order-5"));
    let other = OrderSpec::new(6, "usd", 2500, false);
    assert!(
        m.order_for_payment(&other.payment_intent)
            .unwrap()
            .is_none()
    );
    assert_eq!(m.other_activity(Mode::Test).unwrap().count, 1);

    m.set_order_marker(Some(&OrderMarker::ClientReferencePrefix {
        prefix: "order-".into(),
    }))
    .unwrap();
    assert_eq!(all_orders(&m, Mode::Test).len(), 2);
    m.set_order_marker(Some(&OrderMarker::ClientReferencePrefix {
        prefix: "fs_".into(),
    }))
    .unwrap();
    assert!(all_orders(&m, Mode::Test).is_empty());
    assert_eq!(m.other_activity(Mode::Test).unwrap().count, 2);
    assert!(m.checklist_facts().unwrap().test.first_paid_order.is_none());
    let bad = m
        .set_order_marker(Some(&OrderMarker::Metadata {
            key: String::new(),
            value: "x".into(),
        }))
        .unwrap_err();
    assert!(bad.to_string().contains("metadata key"), "{bad}");
    m.set_order_marker(None).unwrap();
    assert_eq!(all_orders(&m, Mode::Test).len(), 2);
}

#[test]
fn line_items_are_kept_for_offline_review() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("mirror.sqlite");
    let events = order_story(
        7,
        Outcome::Paid,
        "jpy",
        3500,
        &Ctx::test(ApiShape::Basil),
        T0,
    );
    let session = {
        let mut m = fluxstore_mirror::Mirror::open(&path).unwrap();
        ingest_all(&mut m, &events);
        let key = only_order(&m, Mode::Test).session_id;
        assert_eq!(
            m.orders_without_line_items(Mode::Test, 10).unwrap(),
            std::slice::from_ref(&key)
        );
        let items = vec![LineItem {
            id: "li_1".into(),
            description: Some("VIP Rank (30 days)".into()),
            quantity: Some(1),
            amount_subtotal: 3500,
            amount_total: 3500,
            currency: "JPY".into(),
            price_id: Some("price_1".into()),
            product_id: Some("prod_1".into()),
        }];
        m.store_line_items(&key, &items).unwrap();
        m.store_line_items(&key, &items).unwrap();
        assert!(
            m.orders_without_line_items(Mode::Test, 10)
                .unwrap()
                .is_empty()
        );
        key
    };
    let m = fluxstore_mirror::Mirror::open_read_only(&path).unwrap();
    let d = m.order_detail(Mode::Test, &session).unwrap().unwrap();
    let items = d.line_items.expect("kept");
    assert_eq!(items.len(), 1);
    assert_eq!(items[0].currency, "jpy");
    assert_eq!(items[0].description.as_deref(), Some("VIP Rank (30 days)"));
}

#[test]
fn the_dispute_queue_keeps_only_disputes_of_orders_the_marker_counts() {
    let (_d, mut m) = temp_mirror().into_parts();
    let ctx = Ctx::test(ApiShape::Basil);
    for n in [7, 8] {
        ingest_all(
            &mut m,
            &order_story(n, Outcome::DisputeOpen, "usd", 2500, &ctx, T0),
        );
    }
    assert_eq!(m.disputes(Mode::Test).unwrap().len(), 2);
    let needing = m.disputes_needing_response(Mode::Test).unwrap();
    m.set_order_marker(Some(&OrderMarker::Metadata {
        key: "fluxstore_order".into(),
        value: "order-7".into(),
    }))
    .unwrap();
    let queue = m.disputes(Mode::Test).unwrap();
    let ours = OrderSpec::new(7, "usd", 2500, false);
    assert_eq!(queue.len(), 1, "{queue:?}");
    assert_eq!(queue[0].id, ours.dispute);
    assert_eq!(
        m.disputes_needing_response(Mode::Test).unwrap(),
        needing - 1,
        "the count the UI shows follows the queue"
    );
    m.set_order_marker(None).unwrap();
    assert_eq!(m.disputes(Mode::Test).unwrap().len(), 2);
}

#[test]
fn an_order_detail_lists_each_refund_with_its_status_and_names_the_customer() {
    for shape in ApiShape::ALL {
        let ctx = Ctx::test(shape);
        let (_d, mut m) = temp_mirror().into_parts();
        // A full refund that failed, then a second one that succeeded; arriving backwards.
        let events = order_story(7, Outcome::RefundRetried, "usd", 2000, &ctx, T0);
        ingest_all(&mut m, events.iter().rev());
        let spec = OrderSpec::new(7, "usd", 2000, false);
        let o = only_order(&m, Mode::Test);
        assert_eq!(
            o.customer_id.as_deref(),
            Some(spec.customer.as_str()),
            "{shape:?}"
        );
        let d = m.order_detail(Mode::Test, &o.session_id).unwrap().unwrap();
        let seen: Vec<(&str, &str, i64)> = d
            .refunds
            .iter()
            .map(|r| (r.id.as_str(), r.status.as_str(), r.amount))
            .collect();
        assert_eq!(
            seen,
            [
                (spec.refund_id(0).as_str(), "failed", 2000),
                (spec.refund_id(1).as_str(), "succeeded", 2000)
            ],
            "{shape:?}"
        );
        assert_eq!(
            d.refunds[0].failure_reason.as_deref(),
            Some("expired_or_canceled_card")
        );
        assert!(d.refunds[0].created <= d.refunds[1].created, "oldest first");
        assert_eq!(
            d.refunds[1].reason.as_deref(),
            Some("requested_by_customer")
        );
        assert_eq!(d.refunds[1].failure_reason, None);
        // The detail's refunds are the order's refunds, whichever id opened it.
        assert_eq!(d.refunds, m.order_refunds(&o.session_id).unwrap());
        let by_refund = m
            .order_detail(Mode::Test, &spec.refund_id(1))
            .unwrap()
            .unwrap();
        assert_eq!(by_refund.refunds, d.refunds);
    }
}

#[test]
fn an_order_without_refunds_lists_none_and_a_foreign_payment_has_no_customer_kept() {
    let ctx = Ctx::test(ApiShape::Basil);
    let (_d, mut m) = temp_mirror().into_parts();
    ingest_all(&mut m, &order_story(8, Outcome::Paid, "eur", 900, &ctx, T0));
    let foreign = without_session(order_story(9, Outcome::Refunded, "eur", 900, &ctx, T0));
    ingest_all(&mut m, &foreign);
    let o = only_order(&m, Mode::Test);
    let d = m.order_detail(Mode::Test, &o.session_id).unwrap().unwrap();
    assert!(d.refunds.is_empty());
    let other = OrderSpec::new(9, "eur", 900, false);
    let dump = m.dump_projections().unwrap();
    assert!(!dump.contains(&other.customer), "{dump}");
    assert!(dump.contains(&OrderSpec::new(8, "eur", 900, false).customer));
}

/// Two refunds in the same second (one from the app, the rest in the Dashboard): the charge's
/// two `charge.refunded` snapshots have no order but their random event ids, and whichever id
/// sorts last, the larger total counts, in any arrival order.
#[test]
fn of_two_charge_snapshots_in_one_second_the_larger_refunded_total_counts() {
    let ctx = Ctx::test(ApiShape::Basil);
    let spec = OrderSpec::new(21, "usd", 2500, false);
    let t = T0 + 600;
    let snapshot = |id: &str, refunded: i64| {
        let c = fluxstore_samples::charge(
            &spec,
            &spec.charge,
            "succeeded",
            refunded,
            refunded == 2500,
            T0,
            &ctx,
        );
        let mut e = fluxstore_samples::envelope("charge.refunded", c, t, &ctx);
        e["id"] = serde_json::json!(id);
        e
    };
    for (first, second) in [("evt_a", "evt_z"), ("evt_z", "evt_a")] {
        // `first` carries the smaller total: with ("evt_z", …) it sorts last.
        let events = [
            order_story(21, Outcome::Paid, "usd", 2500, &ctx, T0),
            vec![snapshot(first, 1000), snapshot(second, 2500)],
        ]
        .concat();
        for reversed in [false, true] {
            let (_d, mut m) = temp_mirror().into_parts();
            if reversed {
                ingest_all(&mut m, events.iter().rev());
            } else {
                ingest_all(&mut m, &events);
            }
            let o = only_order(&m, Mode::Test);
            assert_eq!(
                (o.amount_refunded, o.status),
                (2500, fluxstore_mirror::OrderStatus::Refunded),
                "{first} {second} reversed={reversed}"
            );
        }
    }
}
