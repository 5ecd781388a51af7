//! Refunds that tell the truth: a refund Stripe later fails stops counting and may be retried
//! (as a new refund), and a refund Stripe accepted is done and lands on the order it was made
//! for, even when the charge cannot be read back or a mock answers with foreign objects.

use crate::common::World;
use fluxstore_gateway::{CancelToken, RefundRequest, SyncOptions};
use fluxstore_mirror::{Mode, Order, OrderQuery, OrderStatus};
use fluxstore_test_support::stripe_fake::{Fault, PaymentSpec, TEST_SECRET_KEY};
use serde_json::json;

fn order_of(w: &World, payment: &str) -> Order {
    w.mirror
        .lock()
        .unwrap()
        .order_for_payment(payment)
        .unwrap()
        .expect("the order")
}

fn all_orders(w: &World) -> Vec<Order> {
    w.mirror
        .lock()
        .unwrap()
        .orders(Mode::Test, &OrderQuery::default())
        .unwrap()
        .items
}

async fn sync(w: &World) {
    let report = w
        .client(TEST_SECRET_KEY)
        .sync_events(&SyncOptions::default(), &mut |_| {}, &CancelToken::new())
        .await
        .unwrap();
    assert!(report.complete);
}

#[tokio::test]
async fn a_refund_that_fails_later_stops_counting_and_a_retry_is_a_new_refund_made_once() {
    let w = World::new().await;
    let p = w.paid_order(2000);
    let client = w.client(TEST_SECRET_KEY);
    let req = RefundRequest {
        payment: p.payment_intent_id.clone(),
        amount: None,
        reason: None,
    };
    let first = client.refund(&req).await.unwrap();
    assert_eq!(first.catching_up, None);
    assert_eq!(order_of(&w, &p.charge_id).status, OrderStatus::Refunded);

    // The customer's card was closed: Stripe fails the refund later (by webhook here).
    let events = w
        .fake
        .fail_refund(&first.refund_id, "expired_or_canceled_card")
        .unwrap();
    assert_eq!(events[0]["type"], "charge.refund.updated");
    w.ingest(&events);
    let o = order_of(&w, &p.charge_id);
    assert_eq!((o.status, o.amount_refunded), (OrderStatus::Paid, 0));
    let refunds = w
        .mirror
        .lock()
        .unwrap()
        .order_refunds(&o.session_id)
        .unwrap();
    assert_eq!(refunds.len(), 1);
    assert_eq!(
        (
            refunds[0].status.as_str(),
            refunds[0].failure_reason.as_deref()
        ),
        ("failed", Some("expired_or_canceled_card"))
    );

    // The retry is a new refund (a new key: Stripe does not replay the failed one), and a
    // double click on it still refunds once.
    let (a, b) = tokio::join!(client.refund(&req), client.refund(&req));
    let (a, b) = (a.unwrap(), b.unwrap());
    assert_ne!(a.idempotency_key, first.idempotency_key);
    assert_ne!(a.refund_id, first.refund_id);
    assert_eq!(
        (a.refund_id.as_str(), a.idempotency_key.as_str()),
        (b.refund_id.as_str(), b.idempotency_key.as_str())
    );
    assert_eq!(
        w.fake.object(&p.charge_id).unwrap()["amount_refunded"],
        2000
    );
    let o = order_of(&w, &p.charge_id);
    assert_eq!((o.status, o.amount_refunded), (OrderStatus::Refunded, 2000));
    let mut statuses: Vec<(String, String)> = w
        .mirror
        .lock()
        .unwrap()
        .order_refunds(&o.session_id)
        .unwrap()
        .into_iter()
        .map(|r| (r.id, r.status))
        .collect();
    statuses.sort();
    let mut expected = vec![
        (first.refund_id.clone(), "failed".to_owned()),
        (a.refund_id.clone(), "succeeded".to_owned()),
    ];
    expected.sort();
    assert_eq!(statuses, expected);

    // The sync brings the same events again: nothing changes.
    sync(&w).await;
    let o = order_of(&w, &p.charge_id);
    assert_eq!((o.status, o.amount_refunded), (OrderStatus::Refunded, 2000));
}

#[tokio::test]
async fn a_failure_learned_from_the_sync_alone_frees_the_order_for_a_retry() {
    let w = World::new().await;
    let p = w.paid_order(1200);
    let client = w.client(TEST_SECRET_KEY);
    let req = RefundRequest {
        payment: p.charge_id.clone(),
        amount: Some(1200),
        reason: None,
    };
    let first = client.refund(&req).await.unwrap();
    w.fake
        .fail_refund(&first.refund_id, "lost_or_stolen_card")
        .unwrap();
    sync(&w).await;
    assert_eq!(order_of(&w, &p.charge_id).status, OrderStatus::Paid);
    let retry = client.refund(&req).await.unwrap();
    assert_ne!(retry.refund_id, first.refund_id);
    assert_eq!(order_of(&w, &p.charge_id).status, OrderStatus::Refunded);
}

#[tokio::test]
async fn an_accepted_refund_whose_charge_cannot_be_read_is_done_and_recorded_on_its_order() {
    let w = World::new().await;
    let p = w.paid_order(3000);
    // The charge read after the refund fails (Stripe says not to retry it).
    w.fake.inject(
        "/v1/charges",
        Fault::Status {
            status: 500,
            should_retry: Some(false),
        },
    );
    let out = w
        .client(TEST_SECRET_KEY)
        .refund(&RefundRequest {
            payment: p.payment_intent_id.clone(),
            amount: Some(1000),
            reason: None,
        })
        .await
        .expect("Stripe accepted the refund: it is done");
    assert_eq!((out.amount, out.status.as_str()), (1000, "succeeded"));
    assert!(
        out.catching_up
            .as_deref()
            .is_some_and(|n| n.contains("next sync"))
    );
    assert_eq!(
        w.fake.object(&p.charge_id).unwrap()["amount_refunded"],
        1000
    );
    let o = order_of(&w, &p.payment_intent_id);
    assert_eq!(o.session_id, p.session_id);
    assert_eq!(
        (o.status, o.amount_refunded),
        (OrderStatus::PartiallyRefunded, 1000)
    );
    assert_eq!(all_orders(&w).len(), 1);

    // The next sync brings the charge: the order catches up, and nothing counts twice.
    sync(&w).await;
    let o = order_of(&w, &p.payment_intent_id);
    assert_eq!(
        (o.status, o.amount_refunded),
        (OrderStatus::PartiallyRefunded, 1000)
    );
}

#[tokio::test]
async fn a_refund_answer_without_a_charge_is_recorded_on_its_order() {
    let w = World::new().await;
    let p = w.paid_order(2500);
    // Stripe processes the refund; its answer names no charge and no PaymentIntent, and the
    // charge cannot be read back either.
    w.fake.inject(
        "/v1/refunds",
        Fault::CannedAfterProcessing(json!({
            "id": "re_NoChargeNamed0000000001", "object": "refund", "amount": 2500,
            "currency": "usd", "charge": null, "payment_intent": null, "status": "pending",
            "reason": null, "created": fluxstore_test_support::now(), "metadata": {}
        })),
    );
    w.fake.inject("/v1/charges", Fault::DropBeforeProcessing);
    w.fake.inject("/v1/charges", Fault::DropBeforeProcessing);
    w.fake.inject("/v1/charges", Fault::DropBeforeProcessing);
    let out = w
        .client(TEST_SECRET_KEY)
        .refund(&RefundRequest {
            payment: p.payment_intent_id.clone(),
            amount: None,
            reason: None,
        })
        .await
        .expect("done");
    assert_eq!(out.status, "pending");
    assert!(out.catching_up.is_some());
    assert_eq!(out.charge_id.as_deref(), Some(p.charge_id.as_str()));
    let o = order_of(&w, &p.payment_intent_id);
    assert_eq!((o.status, o.amount_refunded), (OrderStatus::Refunded, 2500));
    assert_eq!(all_orders(&w).len(), 1);
}

#[tokio::test]
async fn a_mock_whose_objects_name_another_payment_refunds_the_right_order_and_makes_no_new_one() {
    let w = World::new().await;
    let p = w.paid_order(4000);
    // A payment Stripe (the fake) knows that is no FluxStore order.
    let foreign = w.fake.seed_payment(&PaymentSpec {
        amount: 9900,
        currency: "usd".into(),
        email: "someone@example.com".into(),
        livemode: false,
        created: fluxstore_test_support::now() - 7200,
    });
    // A mock server with canned fixtures: the refund and the charge it returns belong to
    // the foreign payment.
    w.fake.inject(
        "/v1/refunds",
        Fault::CannedAfterProcessing(json!({
            "id": "re_CannedFixture000000001", "object": "refund", "amount": 4000,
            "currency": "usd", "charge": foreign.charge_id, "payment_intent": foreign.payment_intent_id,
            "status": "succeeded", "reason": null, "created": fluxstore_test_support::now(),
            "metadata": {}
        })),
    );
    let mut canned_charge = w.fake.object(&foreign.charge_id).unwrap();
    canned_charge["amount_refunded"] = json!(4000);
    w.fake
        .inject("/v1/charges", Fault::CannedAfterProcessing(canned_charge));
    let out = w
        .client(TEST_SECRET_KEY)
        .refund(&RefundRequest {
            payment: p.payment_intent_id.clone(),
            amount: None,
            reason: None,
        })
        .await
        .expect("done");
    assert!(
        out.catching_up.is_some(),
        "the foreign charge was not recorded"
    );
    assert_eq!(out.charge_id.as_deref(), Some(p.charge_id.as_str()));
    let orders = all_orders(&w);
    assert_eq!(
        orders.len(),
        1,
        "no new order from the foreign payment: {orders:#?}"
    );
    let o = &orders[0];
    assert_eq!(o.session_id, p.session_id);
    assert_eq!((o.status, o.amount_refunded), (OrderStatus::Refunded, 4000));
    let m = w.mirror.lock().unwrap();
    assert!(m.order_for_payment(&foreign.charge_id).unwrap().is_none());
    assert!(
        m.order_for_payment(&foreign.payment_intent_id)
            .unwrap()
            .is_none()
    );
}
