//! `sync_events_with` reports every event it stored for the first time (for live views), and
//! nothing for events the mirror already had.

use std::sync::{Arc, Mutex};

use crate::common::World;
use fluxstore_gateway::{AppliedEvent, CancelToken, SyncOptions};
use fluxstore_mirror::Mode;
use fluxstore_test_support::now;
use fluxstore_test_support::stripe_fake::{PaymentSpec, TEST_SECRET_KEY};

#[tokio::test]
async fn each_newly_stored_event_is_reported_once_with_its_mode() {
    let w = World::new().await;
    // Arrived by webhook already: a sync finds its events again but applies none of them.
    let delivered = w.paid_order(1000);
    let missed = w.fake.seed_payment(&PaymentSpec {
        amount: 2000,
        currency: "jpy".into(),
        email: "b@example.com".into(),
        livemode: false,
        created: now() - 60,
    });

    let client = w.client(TEST_SECRET_KEY);
    let applied = Arc::new(Mutex::new(Vec::<AppliedEvent>::new()));
    let sink = applied.clone();
    let mut on_applied = move |e: &AppliedEvent| sink.lock().unwrap().push(e.clone());
    let pages = Arc::new(Mutex::new(0u32));
    let page_sink = pages.clone();
    let mut on_progress = move |_: &fluxstore_gateway::SyncProgress| {
        *page_sink.lock().unwrap() += 1;
    };
    let report = client
        .sync_events_with(
            &SyncOptions {
                page_size: 2,
                ..SyncOptions::default()
            },
            &mut on_progress,
            &mut on_applied,
            &CancelToken::new(),
        )
        .await
        .unwrap();

    let applied = applied.lock().unwrap().clone();
    assert_eq!(applied.len() as u64, report.progress.applied);
    let mut ids: Vec<&str> = applied.iter().map(|a| a.event_id.as_str()).collect();
    ids.sort_unstable();
    let mut expected: Vec<&str> = missed
        .events
        .iter()
        .map(|e| e["id"].as_str().unwrap())
        .collect();
    expected.sort_unstable();
    assert_eq!(ids, expected, "exactly the missed order's events");
    for event in &missed.events {
        let a = applied.iter().find(|a| a.event_id == event["id"]).unwrap();
        assert_eq!(a.event_type, event["type"].as_str().unwrap());
        assert_eq!(a.mode, Mode::Test);
        assert!(a.projected);
    }
    assert!(
        delivered
            .events
            .iter()
            .all(|e| applied.iter().all(|a| a.event_id != e["id"])),
        "duplicates are not reported"
    );
    assert_eq!(*pages.lock().unwrap(), report.progress.pages);
}
