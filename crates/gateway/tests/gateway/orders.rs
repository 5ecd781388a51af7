//! What an order is to the gateway (a Checkout Session, never another payment on the
//! account), its line items kept for offline review, and "Look it up on Stripe's side":
//! the local Stripe fake over real sockets, a real SQLite mirror.

use fluxstore_gateway::sync::{CancelToken, SyncOptions};
use fluxstore_gateway::{GatewayError, RefundRequest};
use fluxstore_mirror::{Mirror, Mode, OrderQuery, OrderStatus};
use fluxstore_sample_stripe::objects;
use fluxstore_test_support::stripe_fake::{PaymentSpec, TEST_SECRET_KEY, new_id};
use fluxstore_test_support::{MIRROR_FILE, now};
use serde_json::Value;

use crate::common::World;

/// A payment of another shop on the same account: a PaymentIntent and its charge, no
/// Checkout Session, in the fake's events list (not delivered to the mirror).
fn foreign_payment(w: &World, created: i64) -> (String, String) {
    let spec = PaymentSpec {
        amount: 4200,
        currency: "usd".into(),
        email: "pos.customer@example.net".into(),
        livemode: false,
        created,
    };
    let (pi, ch) = (new_id("pi_"), new_id("ch_"));
    let events: Vec<Value> = [
        (
            "payment_intent.succeeded",
            objects::payment_intent(&pi, &ch, &spec),
        ),
        ("charge.succeeded", objects::charge(&ch, &pi, &spec)),
    ]
    .iter()
    .map(|(kind, o)| w.fake.push_event(kind, o, created, false))
    .collect();
    w.fake.seed_from_events(&events);
    (pi, ch)
}

async fn sync(w: &World) {
    w.client(TEST_SECRET_KEY)
        .sync_events(&SyncOptions::default(), &mut |_| {}, &CancelToken::new())
        .await
        .unwrap();
}

#[tokio::test]
async fn a_foreign_payment_synced_from_the_events_api_is_no_order_and_is_refused_before_any_request()
 {
    let w = World::new().await;
    let order = w.fake.seed_payment(&PaymentSpec {
        amount: 2500,
        currency: "usd".into(),
        email: "player@example.com".into(),
        livemode: false,
        created: now() - 3 * 86_400,
    });
    let (pi, ch) = foreign_payment(&w, now() - 2 * 86_400);
    sync(&w).await;

    {
        let m = w.mirror.lock().unwrap();
        let orders = m.orders(Mode::Test, &OrderQuery::default()).unwrap().items;
        assert_eq!(orders.len(), 1, "{orders:?}");
        assert_eq!(orders[0].session_id, order.session_id);
        assert!(
            orders
                .iter()
                .all(|o| o.customer_email.as_deref() != Some("pos.customer@example.net"))
        );
        let facts = m.checklist_facts().unwrap();
        // History from before the connection proves nothing, and the foreign payment is not
        // even counted among it.
        assert_eq!(facts.test.first_paid_order, None);
        assert_eq!(facts.test.earlier_paid_orders, 1);
        assert_eq!(m.other_activity(Mode::Test).unwrap().count, 1);
    }

    let before = w.fake.requests().len();
    let client = w.client(TEST_SECRET_KEY);
    for payment in [&pi, &ch] {
        let e = client
            .refund(&RefundRequest {
                payment: payment.clone(),
                amount: None,
                reason: None,
            })
            .await
            .unwrap_err();
        assert!(matches!(e, GatewayError::NotAFluxStoreObject { .. }), "{e}");
        assert!(e.to_string().contains("Stripe Dashboard"), "{e}");
    }
    assert!(client.payment_intent(&pi).await.is_err());
    assert!(client.charge(&ch).await.is_err());
    let e = client
        .lookup_order(&pi, &CancelToken::new())
        .await
        .unwrap_err();
    assert!(matches!(e, GatewayError::BadId(_)), "{e}");
    let e = client
        .lookup_order(&new_id("cs_test_"), &CancelToken::new())
        .await
        .unwrap_err();
    assert!(matches!(e, GatewayError::NotAFluxStoreObject { .. }), "{e}");
    assert!(client.fetch_line_items(&new_id("cs_test_")).await.is_err());
    assert_eq!(
        w.fake.requests().len(),
        before,
        "nothing about the foreign payment reached Stripe"
    );
    assert_eq!(w.fake.object(&ch).unwrap()["amount_refunded"], 0);
}

#[tokio::test]
async fn an_order_shows_its_line_items_and_metadata_offline_after_one_online_visit() {
    let w = World::new().await;
    let p = w.paid_order(2500);
    let client = w.client(TEST_SECRET_KEY);
    assert_eq!(client.fetch_missing_line_items(10).await.unwrap(), 1);
    assert_eq!(
        client.fetch_missing_line_items(10).await.unwrap(),
        0,
        "fetched once"
    );
    let path = format!("/v1/checkout/sessions/{}/line_items", p.session_id);
    assert_eq!(w.requests_to(&path), 1);
    let req = w
        .fake
        .requests()
        .into_iter()
        .find(|r| r.path == path)
        .unwrap();
    assert!(req.params.contains(&("limit".into(), "100".into())));
    let calls = w.mirror.lock().unwrap().api_calls(10).unwrap();
    assert!(
        calls
            .iter()
            .any(|c| c.path == path && c.status == Some(200)),
        "audited"
    );

    // Offline: the fake is gone, the mirror file is opened anew.
    let file = w.dir.path().join(MIRROR_FILE);
    drop(client);
    drop(w.fake);
    let m = Mirror::open_read_only(&file).unwrap();
    let d = m.order_detail(Mode::Test, &p.session_id).unwrap().unwrap();
    let items = d.line_items.expect("kept for offline review");
    assert!(!items.is_empty());
    assert_eq!(items.iter().map(|i| i.amount_total).sum::<i64>(), 2500);
    assert!(
        items
            .iter()
            .all(|i| i.description.is_some() && i.product_id.is_some())
    );
    let keys: Vec<&str> = d.metadata.iter().map(|f| f.key.as_str()).collect();
    assert_eq!(keys, ["fluxstore_order", "package", "player", "server"]);
}

#[tokio::test]
async fn the_look_up_reports_and_heals_a_missed_refund() {
    let w = World::new().await;
    let p = w.paid_order(3000);
    let client = w.client(TEST_SECRET_KEY);

    // In agreement: a report, no healing, no events fetched.
    let same = client
        .lookup_order(&p.session_id, &CancelToken::new())
        .await
        .unwrap();
    assert!(same.differences.is_empty(), "{:?}", same.differences);
    assert!(same.healed.is_none());
    assert!(same.stripe.facts.paid);
    assert_eq!(w.requests_to("/v1/events"), 0);

    // Refunded in the Dashboard; the webhook never arrived.
    let refund = w
        .fake
        .refund_in_dashboard(&p.charge_id, Some(1200))
        .unwrap();
    let report = client
        .lookup_order(
            &p.payment_intent_id.replace("pi_", "cs_"),
            &CancelToken::new(),
        )
        .await;
    assert!(report.is_err(), "only a session id names an order here");
    let report = client
        .lookup_order(&p.session_id, &CancelToken::new())
        .await
        .unwrap();
    assert_eq!(report.mirror.amount_refunded, 0);
    assert_eq!(report.stripe.facts.amount_refunded, 1200);
    assert_eq!(report.stripe.refunds.len(), 1);
    assert_eq!(report.stripe.refunds[0].id, refund["id"].as_str().unwrap());
    assert_eq!(report.differences.len(), 1, "{:?}", report.differences);
    assert!(
        report.differences[0].contains("12.00 USD"),
        "{:?}",
        report.differences
    );
    let healed = report.healed.expect("healed");
    assert!(healed.events_applied >= 1);
    assert_eq!(healed.mirror.amount_refunded, 1200);
    assert!(healed.differences.is_empty(), "{:?}", healed.differences);

    let m = w.mirror.lock().unwrap();
    let o = m.order_for_payment(&p.charge_id).unwrap().unwrap();
    assert_eq!(
        (o.amount_refunded, o.status),
        (1200, OrderStatus::PartiallyRefunded)
    );
    // Every call audited; the sync's watermark untouched by a partial walk.
    let paths: Vec<String> = m
        .api_calls(20)
        .unwrap()
        .into_iter()
        .map(|c| c.path)
        .collect();
    for want in [
        "/v1/payment_intents/",
        "/v1/charges/",
        "/v1/refunds",
        "/v1/disputes",
        "/v1/events",
    ] {
        assert!(
            paths.iter().any(|p| p.starts_with(want)),
            "{want} in {paths:?}"
        );
    }
    assert!(
        m.setting("events_sync.watermark.test.self")
            .unwrap()
            .is_none()
    );
}

#[tokio::test]
async fn the_look_up_heals_the_rest_refunded_in_the_dashboard_after_a_refund_from_the_app() {
    // Both refunds fall in the same second: the charge's two `charge.refunded` snapshots are
    // ordered by nothing but their random event ids, and the larger total must win.
    let w = World::new().await;
    let p = w.paid_order(2500);
    let client = w.client(TEST_SECRET_KEY);
    client
        .refund(&RefundRequest {
            payment: p.payment_intent_id.clone(),
            amount: Some(1000),
            reason: None,
        })
        .await
        .unwrap();
    // The rest refunded in the Dashboard; no webhook arrives.
    w.fake.refund_in_dashboard(&p.charge_id, None).unwrap();
    let report = client
        .lookup_order(&p.session_id, &CancelToken::new())
        .await
        .unwrap();
    assert_eq!(
        (
            report.mirror.amount_refunded,
            report.stripe.facts.amount_refunded
        ),
        (1000, 2500),
        "{:?}",
        report.differences
    );
    let healed = report.healed.expect("healed");
    assert!(healed.differences.is_empty(), "{:?}", healed.differences);
    let m = w.mirror.lock().unwrap();
    let o = m.order_for_payment(&p.charge_id).unwrap().unwrap();
    assert_eq!((o.amount_refunded, o.status), (2500, OrderStatus::Refunded));
    // The Dashboard's refund object itself comes in no subscribed event: the order lists the
    // app's refund, and its refunded total is Stripe's (the detail says the two differ).
    let listed: Vec<(String, i64)> = m
        .order_refunds(&o.session_id)
        .unwrap()
        .into_iter()
        .map(|r| (r.status, r.amount))
        .collect();
    assert_eq!(listed, [("succeeded".to_owned(), 1000)]);
}
