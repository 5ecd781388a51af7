//! Events sync from the fake's `GET /v1/events` into a real SQLite mirror.

use std::sync::{Arc, Mutex};

use crate::common::World;
use fluxstore_gateway::sync::RETENTION_SECS;
use fluxstore_gateway::{CancelToken, GatewayError, SyncOptions, SyncProgress};
use fluxstore_mirror::{Mode, OrderStatus, Source};
use fluxstore_test_support::now;
use fluxstore_test_support::stripe_fake::{PaymentSpec, TEST_SECRET_KEY};
use serde_json::json;

fn spec(amount: i64, created: i64) -> PaymentSpec {
    PaymentSpec {
        amount,
        currency: "usd".into(),
        email: "b@example.com".into(),
        livemode: false,
        created,
    }
}

#[tokio::test]
async fn sync_pages_forward_is_idempotent_with_webhooks_and_reports_progress() {
    let w = World::new().await;
    let t0 = now() - 10_000;
    // One order already arrived by webhook; two more only exist at Stripe.
    let first = w.paid_order(1000);
    let second = w.fake.seed_payment(&spec(2000, t0 + 100));
    let third = w.fake.seed_payment(&spec(3000, t0 + 200));
    // Live events never show up in a test-mode sync.
    w.fake.seed_payment(&PaymentSpec {
        livemode: true,
        ..spec(9, t0)
    });

    let client = w.client(TEST_SECRET_KEY);
    let opts = SyncOptions {
        page_size: 2,
        ..SyncOptions::default()
    };
    let seen = Arc::new(Mutex::new(Vec::<SyncProgress>::new()));
    let sink = seen.clone();
    let mut on_progress = move |p: &SyncProgress| sink.lock().unwrap().push(p.clone());
    let report = client
        .sync_events(&opts, &mut on_progress, &CancelToken::new())
        .await
        .unwrap();
    assert!(report.complete && report.gap.is_none());
    assert_eq!(report.progress.events, 9);
    assert_eq!(
        report.progress.duplicates, 3,
        "the webhook-delivered events were not folded twice"
    );
    assert_eq!(report.progress.applied, 6);
    assert_eq!(report.progress.pages, 5);
    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 5, "one progress report per page");
    assert!(seen.windows(2).all(|p| p[0].events < p[1].events));
    {
        let m = w.mirror.lock().unwrap();
        for p in [&first, &second, &third] {
            let o = m
                .order_for_payment(&p.payment_intent_id)
                .unwrap()
                .expect("order known");
            assert_eq!(o.status, OrderStatus::Paid);
        }
        let stored = m.events(Some(Mode::Test), 50).unwrap();
        assert!(stored.iter().any(|e| e.source == Source::EventsApi));
        assert!(
            stored
                .iter()
                .filter(|e| first.events.iter().any(|f| f["id"] == e.id.as_str()))
                .all(|e| e.source == Source::Webhook)
        );
    }
    let pages_sent: Vec<_> = w
        .fake
        .requests()
        .into_iter()
        .filter(|r| r.path == "/v1/events")
        .collect();
    assert!(
        pages_sent
            .iter()
            .all(|r| r.params.iter().filter(|(k, _)| k == "types[]").count() <= 20)
    );
    assert!(
        pages_sent
            .iter()
            .all(|r| r.params.contains(&("limit".into(), "2".into())))
    );

    // Nothing new: one page, nothing ingested.
    let again = client
        .sync_events(&opts, &mut |_| {}, &CancelToken::new())
        .await
        .unwrap();
    assert_eq!((again.progress.events, again.progress.pages), (0, 1));

    // A refund made in the Dashboard arrives through the next sync, forward from the watermark.
    let refund_event = w.fake.push_event(
        "charge.refunded",
        &json!({"id": second.charge_id, "object": "charge", "amount": 2000, "amount_refunded": 2000, "refunded": true,
                "currency": "usd", "payment_intent": second.payment_intent_id, "status": "succeeded", "paid": true,
                "captured": true, "livemode": false, "created": t0 + 100}),
        now(),
        false,
    );
    let next = client
        .sync_events(&opts, &mut |_| {}, &CancelToken::new())
        .await
        .unwrap();
    assert_eq!((next.progress.events, next.progress.applied), (1, 1));
    assert_eq!(
        next.progress.newest_created,
        refund_event["created"].as_i64()
    );
    let o = w
        .mirror
        .lock()
        .unwrap()
        .order_for_payment(&second.charge_id)
        .unwrap()
        .unwrap();
    assert_eq!(o.status, OrderStatus::Refunded);
    let last = w
        .fake
        .requests()
        .into_iter()
        .rfind(|r| r.path == "/v1/events")
        .unwrap();
    assert!(
        last.params.iter().any(|(k, _)| k == "ending_before"),
        "paged forward from the cursor"
    );
}

#[tokio::test]
async fn a_watermark_older_than_the_retention_is_reported_as_a_gap() {
    let w = World::new().await;
    w.fake.seed_payment(&spec(500, now() - 100));
    let old = now() - RETENTION_SECS - 86_400;
    w.mirror
        .lock()
        .unwrap()
        .set_setting(
            "events_sync.watermark.test.self",
            Some(&json!({"id": "evt_pruned_long_ago", "created": old}).to_string()),
        )
        .unwrap();
    let report = w
        .client(TEST_SECRET_KEY)
        .sync_events(&SyncOptions::default(), &mut |_| {}, &CancelToken::new())
        .await
        .unwrap();
    let gap = report.gap.expect("gap reported");
    assert_eq!(gap.last_synced_created, old);
    assert!(gap.retention_starts > old);
    assert_eq!(
        report.progress.events, 3,
        "what Stripe still has was fetched"
    );
}

#[tokio::test]
async fn a_cancelled_sync_stops_and_max_pages_bounds_a_run() {
    let w = World::new().await;
    for i in 0..3 {
        w.fake.seed_payment(&spec(100 + i, now() - 1000 + i));
    }
    let c = w.client(TEST_SECRET_KEY);
    let cancel = CancelToken::new();
    cancel.cancel();
    let e = c
        .sync_events(&SyncOptions::default(), &mut |_| {}, &cancel)
        .await
        .unwrap_err();
    assert!(matches!(e, GatewayError::Cancelled));
    assert_eq!(w.requests_to("/v1/events"), 0);

    let opts = SyncOptions {
        page_size: 2,
        max_pages: 2,
        ..SyncOptions::default()
    };
    let r = c
        .sync_events(&opts, &mut |_| {}, &CancelToken::new())
        .await
        .unwrap();
    assert!(!r.complete);
    assert_eq!((r.progress.pages, r.progress.events), (2, 4));
    // The interrupted first walk set no watermark, so the next run starts over; the
    // mirror deduplicates what it already has.
    let r = c
        .sync_events(&SyncOptions::default(), &mut |_| {}, &CancelToken::new())
        .await
        .unwrap();
    assert!(r.complete);
    assert_eq!((r.progress.events, r.progress.duplicates), (9, 4));
}

#[tokio::test]
async fn a_vanished_cursor_event_falls_back_to_paging_by_time() {
    let w = World::new().await;
    let p = w.fake.seed_payment(&spec(1000, now() - 500));
    let cursor_time = now() - 1000;
    w.mirror
        .lock()
        .unwrap()
        .set_setting(
            "events_sync.watermark.test.self",
            Some(&json!({"id": "evt_deleted_at_stripe", "created": cursor_time}).to_string()),
        )
        .unwrap();
    let r = w
        .client(TEST_SECRET_KEY)
        .sync_events(&SyncOptions::default(), &mut |_| {}, &CancelToken::new())
        .await
        .unwrap();
    assert!(r.complete && r.gap.is_none());
    assert_eq!(r.progress.events, 3);
    let sent: Vec<_> = w
        .fake
        .requests()
        .into_iter()
        .filter(|r| r.path == "/v1/events")
        .collect();
    assert_eq!(sent.len(), 2, "the refused cursor, then one page by time");
    assert!(
        sent[1]
            .params
            .contains(&("created[gt]".into(), (cursor_time - 1).to_string()))
    );
    assert!(
        w.mirror
            .lock()
            .unwrap()
            .order_for_payment(&p.charge_id)
            .unwrap()
            .is_some()
    );
}
