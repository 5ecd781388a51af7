//! The desktop's live feed through the real hub, over real sockets: a signed Connect webhook
//! for account A reaches A's mirror (fetched from A's Stripe with A's token) and not B's; the
//! hub cut mid-stream and started again loses nothing and rings nothing twice; a doorbell
//! for an event Stripe does not have changes nothing and is counted as a rejection; no token
//! is ever written to the mirror. With `FLUXSTORE_TEST_DATABASE_URL` set (scripts/with-
//! postgres.sh), the first runs over PostgreSQL too.
//!
//! Needs a Secret Service (the Connect tokens live in the keyring):
//!   scripts/with-secret-service.sh cargo test -p fluxstore-gateway -- --include-ignored hub_feed
use std::time::Duration;

use fluxstore_gateway::profile::HubFeedState;
use fluxstore_mirror::{Mode, RejectionCode, Source};
use fluxstore_test_support::stripe_fake::accounts::StripeAccounts;
use fluxstore_test_support::{assert_no_secret, wait_until};

use super::hub_rig::{Desktop, HubDb, keyring, post_signed, postgres_database, start_hub};

const WITHIN: Duration = Duration::from_secs(20);

async fn a_reaches_a_and_not_b(db: HubDb, dir: &std::path::Path) {
    let stripe = StripeAccounts::start().await.unwrap();
    let hub = start_hub(&db, "127.0.0.1:0".parse().unwrap(), &stripe.base_url()).await;
    let http = reqwest::Client::new();
    let mut a = Desktop::connect(&stripe, &hub.url(), keyring("a")).await;
    let mut b = Desktop::connect(&stripe, &hub.url(), keyring("b")).await;
    a.follow();
    b.follow();
    a.until_live().await;
    b.until_live().await;

    let (paid, events) = a.pay(2_500);
    for e in &events {
        assert_eq!(post_signed(&http, &hub.url(), e).await, 200);
    }
    // A duplicate delivery is one doorbell.
    assert_eq!(post_signed(&http, &hub.url(), &events[0]).await, 200);
    let ids: Vec<String> = events
        .iter()
        .map(|e| e["id"].as_str().unwrap().to_owned())
        .collect();
    assert!(
        wait_until(WITHIN, || ids.iter().all(|id| a.has(id))).await,
        "A's events did not reach A's mirror: {:?}",
        a.stored()
    );
    for (id, source) in a.stored() {
        assert_eq!(source, Source::Feed, "{id} came through the hub");
    }
    {
        let m = a.profile.mirror().lock().unwrap();
        let order = m
            .order_for_payment(&paid.payment_intent_id)
            .unwrap()
            .unwrap();
        assert_eq!(order.status.as_str(), "paid");
    }
    for id in &ids {
        assert_eq!(a.fetches_of(id), 1, "{id} fetched once");
    }
    // B heard nothing and asked its Stripe for nothing of A's.
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(b.stored().is_empty(), "B's mirror: {:?}", b.stored());
    assert!(ids.iter().all(|id| b.fetches_of(id) == 0));
    let status = &a.feed.as_ref().unwrap().hub_status()[0];
    assert_eq!(status.state, HubFeedState::Live);
    assert!(status.doorbells >= 3 && status.last_doorbell_at.is_some());
    assert!(status.last_delay_secs.unwrap() <= 5, "{status:?}");

    a.stop().await;
    b.stop().await;
    for d in [&a, &b] {
        assert_no_secret(d.data_dir(), &[d.token.as_str()]);
    }
    let _ = dir;
    hub.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs a Secret Service: scripts/with-secret-service.sh … -- --include-ignored"]
async fn a_signed_connect_webhook_for_a_reaches_as_mirror_and_not_bs() {
    let dir = tempfile::tempdir().unwrap();
    a_reaches_a_and_not_b(HubDb::Sqlite(dir.path().join("hub.db")), dir.path()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs a Secret Service: scripts/with-secret-service.sh … -- --include-ignored"]
async fn the_same_over_a_postgresql_hub() {
    let Some(url) = postgres_database().await else {
        eprintln!("skipped: no PostgreSQL (run under scripts/with-postgres.sh)");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    a_reaches_a_and_not_b(HubDb::Postgres(url), dir.path()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs a Secret Service: scripts/with-secret-service.sh … -- --include-ignored"]
async fn the_hub_cut_mid_stream_and_started_again_loses_nothing_and_rings_nothing_twice() {
    let dir = tempfile::tempdir().unwrap();
    let db = HubDb::Sqlite(dir.path().join("hub.db"));
    let stripe = StripeAccounts::start().await.unwrap();
    let hub = start_hub(&db, "127.0.0.1:0".parse().unwrap(), &stripe.base_url()).await;
    let addr = hub.local_addr();
    let url = hub.url();
    let http = reqwest::Client::new();
    let mut a = Desktop::connect(&stripe, &url, keyring("cut")).await;
    a.follow();
    a.until_live().await;

    let (_, before) = a.pay(1_000);
    for e in &before {
        assert_eq!(post_signed(&http, &url, e).await, 200);
    }
    let mut ids: Vec<String> = before
        .iter()
        .map(|e| e["id"].as_str().unwrap().to_owned())
        .collect();
    assert!(wait_until(WITHIN, || ids.iter().all(|id| a.has(id))).await);

    // The hub goes away mid-stream: the desktop says it is polling.
    hub.shutdown().await;
    assert!(
        wait_until(WITHIN, || a.state() == Some(HubFeedState::Polling)).await,
        "{:?}",
        a.feed.as_ref().unwrap().hub_status()
    );
    // It comes back on the same address and database; doorbells ring before the desktop is
    // back, and after.
    let hub = start_hub(&db, addr, &stripe.base_url()).await;
    let (_, during) = a.pay(2_000);
    for e in &during {
        assert_eq!(post_signed(&http, &url, e).await, 200);
    }
    a.until_live().await;
    let (_, after) = a.pay(3_000);
    for e in &after {
        assert_eq!(post_signed(&http, &url, e).await, 200);
    }
    ids.extend(
        during
            .iter()
            .chain(&after)
            .map(|e| e["id"].as_str().unwrap().to_owned()),
    );
    assert!(
        wait_until(WITHIN, || ids.iter().all(|id| a.has(id))).await,
        "missing after the restart: {:?}",
        ids.iter().filter(|id| !a.has(id)).collect::<Vec<_>>()
    );
    tokio::time::sleep(Duration::from_millis(500)).await;
    for id in &ids {
        assert_eq!(a.fetches_of(id), 1, "{id} was rung once");
    }
    let applied = a.seen.applied.lock().unwrap().len();
    assert_eq!(applied, ids.len(), "each event stored once");
    a.stop().await;
    hub.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs a Secret Service: scripts/with-secret-service.sh … -- --include-ignored"]
async fn a_doorbell_for_an_event_stripe_does_not_have_changes_nothing_and_is_a_rejection() {
    let dir = tempfile::tempdir().unwrap();
    let db = HubDb::Sqlite(dir.path().join("hub.db"));
    let stripe = StripeAccounts::start().await.unwrap();
    let hub = start_hub(&db, "127.0.0.1:0".parse().unwrap(), &stripe.base_url()).await;
    let http = reqwest::Client::new();
    let mut a = Desktop::connect(&stripe, &hub.url(), keyring("forged")).await;
    a.follow();
    a.until_live().await;

    // A correctly signed delivery naming A, of an event A's Stripe never had (a replay from
    // elsewhere, or a leaked platform secret): the hub rings, Stripe does not confirm.
    let (_, real) = a.pay(700);
    let mut forged = real[0].clone();
    forged["id"] = serde_json::json!("evt_1ForgedDoorbellNotAtStripe0001");
    forged["data"]["object"]["amount_total"] = serde_json::json!(1);
    assert_eq!(post_signed(&http, &hub.url(), &forged).await, 200);
    // A real one after it still arrives: the forged one does not block the feed.
    assert_eq!(post_signed(&http, &hub.url(), &real[0]).await, 200);
    let real_id = real[0]["id"].as_str().unwrap().to_owned();
    assert!(wait_until(WITHIN, || a.has(&real_id)).await);
    assert!(!a.has("evt_1ForgedDoorbellNotAtStripe0001"));
    assert_eq!(a.stored().len(), 1, "only Stripe's event is stored");
    let rejections = {
        let m = a.profile.mirror().lock().unwrap();
        m.rejections(10).unwrap()
    };
    let r = rejections
        .iter()
        .find(|r| r.code == RejectionCode::DoorbellUnverified)
        .expect("the forged doorbell is a rejection the owner sees");
    assert_eq!(r.count, 1);
    assert_eq!(r.last_peer.as_deref(), Some("127.0.0.1"));
    let status = &a.feed.as_ref().unwrap().hub_status()[0];
    assert_eq!(status.refused, 1);
    let facts = a.profile.checklist_facts().await.unwrap();
    assert!(
        facts.test.last_feed_at.is_some(),
        "the checklist counts the hub's delivery"
    );
    assert_eq!(
        facts.last_rejection.map(|r| r.code),
        Some(RejectionCode::DoorbellUnverified)
    );
    a.stop().await;
    assert_no_secret(a.data_dir(), &[a.token.as_str()]);
    hub.shutdown().await;
    let _ = Mode::Test;
}
