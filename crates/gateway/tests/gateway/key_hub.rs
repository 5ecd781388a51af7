//! Live updates through the real hub for a store connected with API keys, over real sockets:
//! turning them on registers the store once and creates one Stripe endpoint with the 12
//! events at the store's hub URL; a doorbell posted there for a real event reaches the
//! mirror, one for an event Stripe does not have changes nothing and is a rejection; the
//! feed token is in no file of the data folder; turning off deletes the endpoint and ends
//! the feed; a key Stripe no longer accepts ends the feed in the owner's words.
//!
//! Needs a Secret Service (the key and the feed token live in the keyring):
//!   scripts/with-secret-service.sh cargo test -p fluxstore-gateway -- --include-ignored key_hub
use std::time::Duration;

use fluxstore_connect_api::hub::STORE_WEBHOOK_PREFIX;
use fluxstore_gateway::profile::{HubFeedState, HubSource};
use fluxstore_mirror::facts::WEBHOOK_EVENTS;
use fluxstore_mirror::{Mode, RejectionCode, Source};
use fluxstore_test_support::stripe_fake::accounts::StripeAccounts;
use fluxstore_test_support::{assert_no_secret, wait_until};
use url::Url;

use super::hub_rig::{Desktop, HubDb, keyring, post_to_store, start_hub};

const WITHIN: Duration = Duration::from_secs(20);

/// The one endpoint of the store's Stripe, and its path (the store's hub address).
fn the_endpoint(d: &Desktop) -> (serde_json::Value, String) {
    let endpoints = d.fake.webhook_endpoints();
    assert_eq!(endpoints.len(), 1, "one endpoint: {endpoints:?}");
    let e = endpoints[0].clone();
    let url = Url::parse(e["url"].as_str().unwrap()).unwrap();
    (e, url.path().to_owned())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs a Secret Service: scripts/with-secret-service.sh … -- --include-ignored"]
async fn key_mode_live_updates_through_the_hub_on_doorbells_and_off() {
    let dir = tempfile::tempdir().unwrap();
    let db = HubDb::Sqlite(dir.path().join("hub.db"));
    let stripe = StripeAccounts::start().await.unwrap();
    let hub = start_hub(&db, "127.0.0.1:0".parse().unwrap(), &stripe.base_url()).await;
    let http = reqwest::Client::new();
    let mut a = Desktop::with_key(&hub.url(), keyring("keyhub")).await;

    // Off until the owner turns it on: the follower says why.
    a.follow();
    assert!(
        wait_until(WITHIN, || a
            .feed
            .as_ref()
            .unwrap()
            .hub_status()
            .first()
            .is_some_and(|s| s.state == HubFeedState::Off
                && s.detail.contains("live updates through the FluxStore hub")))
        .await,
        "{:?}",
        a.feed.as_ref().unwrap().hub_status()
    );
    assert!(!a.profile.key_hub(Mode::Test).await.unwrap().on);

    // On: one registration, one endpoint with the 12 events at the store's hub URL.
    let on = a.profile.enable_key_hub(Mode::Test).await.unwrap();
    assert!(on.on && on.store_id.as_deref().unwrap().starts_with("st_"));
    let again = a.profile.enable_key_hub(Mode::Test).await.unwrap();
    assert_eq!(again, on, "turning on twice registers once");
    let (endpoint, path) = the_endpoint(&a);
    assert_eq!(endpoint["id"].as_str(), on.endpoint_id.as_deref());
    assert!(path.starts_with(STORE_WEBHOOK_PREFIX), "{path}");
    let enabled: Vec<&str> = endpoint["enabled_events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e.as_str().unwrap())
        .collect();
    for e in WEBHOOK_EVENTS {
        assert!(enabled.contains(&e.event_type), "{} is sent", e.event_type);
    }
    // The checklist's webhook step counts the hub's endpoint as the app's.
    let check = a.profile.check_webhook_endpoint(Mode::Test).await.unwrap();
    assert!(check.ok, "{check:?}");
    assert_eq!(check.endpoint_id.as_deref(), on.endpoint_id.as_deref());
    let service = a.profile.hub(Mode::Test).await.unwrap();
    assert_eq!(service.source, HubSource::Override);

    a.feed.as_ref().unwrap().sync_now();
    a.until_live().await;

    // A real order's events, posted by "Stripe" to the store's hub URL, reach the mirror
    // (fetched with the owner's key); a doorbell for an event Stripe never had does not.
    let (paid, events) = a.pay_by_key(4_200);
    let mut forged = events[0].clone();
    forged["id"] = serde_json::json!("evt_1KeyHubForgedNotAtStripe00001");
    assert_eq!(post_to_store(&http, &hub.url(), &path, &forged).await, 200);
    for e in &events {
        assert_eq!(post_to_store(&http, &hub.url(), &path, e).await, 200);
    }
    let ids: Vec<String> = events
        .iter()
        .map(|e| e["id"].as_str().unwrap().to_owned())
        .collect();
    assert!(
        wait_until(WITHIN, || ids.iter().all(|id| a.has(id))).await,
        "the store's events did not reach its mirror: {:?}",
        a.stored()
    );
    // The real events may also come by the catch-up read of Stripe's events, so they can be
    // stored before the feed answers the doorbells: wait for the forged one's refusal and for
    // every real one too.
    let forged_refused = || {
        let recorded = (a.profile.mirror().lock().unwrap().rejections(10).unwrap())
            .iter()
            .any(|r| r.code == RejectionCode::DoorbellUnverified);
        let status = a.feed.as_ref().unwrap().hub_status()[0].clone();
        recorded && status.refused == 1 && status.doorbells >= ids.len() as u64
    };
    assert!(
        wait_until(WITHIN, forged_refused).await,
        "the forged doorbell is a rejection the owner sees, and every real doorbell is answered: {:?}",
        a.feed.as_ref().unwrap().hub_status()
    );
    assert!(!a.has("evt_1KeyHubForgedNotAtStripe00001"));
    // Each stored once, by the feed, or by the catch-up read of Stripe's events that follows
    // the feed's (re)connection when that read happens to run after the payment; that the
    // doorbells themselves came through the hub is the feed's count below.
    let stored = a.stored();
    for id in &ids {
        let sources: Vec<&Source> = stored
            .iter()
            .filter(|(s, _)| s == id)
            .map(|(_, s)| s)
            .collect();
        assert_eq!(sources.len(), 1, "{id} stored once");
        assert!(
            matches!(sources[0], Source::Feed | Source::EventsApi),
            "{id} came through the hub or the catch-up read: {:?}",
            sources[0]
        );
    }
    {
        let m = a.profile.mirror().lock().unwrap();
        let order = m
            .order_for_payment(&paid.payment_intent_id)
            .unwrap()
            .unwrap();
        assert_eq!(order.status.as_str(), "paid");
        let rejections = m.rejections(10).unwrap();
        let r = rejections
            .iter()
            .find(|r| r.code == RejectionCode::DoorbellUnverified)
            .expect("the forged doorbell is a rejection the owner sees");
        assert_eq!(r.count, 1);
    }
    let status = a.feed.as_ref().unwrap().hub_status()[0].clone();
    assert_eq!(status.state, HubFeedState::Live);
    assert_eq!(status.refused, 1);
    assert!(status.doorbells >= ids.len() as u64, "{status:?}");

    // The feed token and the store key are in no file of the data folder.
    let token = a
        .profile
        .keyring()
        .unwrap()
        .get(&fluxstore_gateway::SecretSlot::new(
            a.profile.store(),
            Mode::Test,
            fluxstore_gateway::SecretKind::HubFeedToken,
        ))
        .unwrap()
        .expect("the feed token is in the keyring");
    assert!(token.expose().starts_with("hft_"));
    let store_key = path.trim_start_matches(STORE_WEBHOOK_PREFIX).to_owned();
    assert_no_secret(
        a.data_dir(),
        &[token.expose(), store_key.as_str(), a.token.as_str()],
    );

    // Off: the endpoint is deleted in Stripe, the token forgotten, the feed ends.
    let off = a.profile.disable_key_hub(Mode::Test).await.unwrap();
    assert!(off.endpoint_deleted, "{off:?}");
    assert!(a.fake.webhook_endpoints().is_empty());
    assert!(!a.profile.key_hub(Mode::Test).await.unwrap().on);
    assert!(a.profile.hub_token(Mode::Test).await.unwrap().is_none());
    a.feed.as_ref().unwrap().sync_now();
    assert!(
        wait_until(WITHIN, || a.state() == Some(HubFeedState::Off)).await,
        "{:?}",
        a.feed.as_ref().unwrap().hub_status()
    );
    let off_again = a.profile.disable_key_hub(Mode::Test).await.unwrap();
    assert!(!off_again.endpoint_deleted && off_again.message.contains("already off"));
    a.stop().await;
    assert_no_secret(a.data_dir(), &[token.expose(), store_key.as_str()]);
    hub.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs a Secret Service: scripts/with-secret-service.sh … -- --include-ignored"]
async fn a_key_stripe_no_longer_accepts_ends_the_feed_in_the_owners_words() {
    let dir = tempfile::tempdir().unwrap();
    let db = HubDb::Sqlite(dir.path().join("hub.db"));
    let stripe = StripeAccounts::start().await.unwrap();
    let hub = start_hub(&db, "127.0.0.1:0".parse().unwrap(), &stripe.base_url()).await;
    let http = reqwest::Client::new();
    let mut a = Desktop::with_key(&hub.url(), keyring("keyhub-revoked")).await;
    a.profile.enable_key_hub(Mode::Test).await.unwrap();
    let (_, path) = the_endpoint(&a);
    a.follow();
    a.until_live().await;

    // The owner rolls the key in the Dashboard; then an order's doorbell rings.
    let (_, events) = a.pay_by_key(900);
    a.fake.revoke_key(&a.token);
    assert_eq!(
        post_to_store(&http, &hub.url(), &path, &events[0]).await,
        200
    );
    assert!(
        wait_until(WITHIN, || a.state() == Some(HubFeedState::Off)).await,
        "{:?}",
        a.feed.as_ref().unwrap().hub_status()
    );
    let status = a.feed.as_ref().unwrap().hub_status()[0].clone();
    assert!(
        status
            .detail
            .contains("Stripe no longer accepts test mode's API key"),
        "{}",
        status.detail
    );
    assert!(!a.has(events[0]["id"].as_str().unwrap()));
    a.stop().await;
    hub.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs a Secret Service: scripts/with-secret-service.sh … -- --include-ignored"]
async fn a_feed_token_the_hub_does_not_know_turns_the_feed_off_with_what_to_do() {
    let dir = tempfile::tempdir().unwrap();
    let db = HubDb::Sqlite(dir.path().join("hub.db"));
    let stripe = StripeAccounts::start().await.unwrap();
    let hub = start_hub(&db, "127.0.0.1:0".parse().unwrap(), &stripe.base_url()).await;
    let mut a = Desktop::with_key(&hub.url(), keyring("keyhub-unknown")).await;
    a.profile.enable_key_hub(Mode::Test).await.unwrap();
    // The hub forgot the store (an operator's cleanup, a new hub database): its token is
    // unknown there.
    let slot = fluxstore_gateway::SecretSlot::new(
        a.profile.store(),
        Mode::Test,
        fluxstore_gateway::SecretKind::HubFeedToken,
    );
    let unknown = format!("hft_{}", super::hub_rig::rand_hex(32));
    a.profile
        .keyring()
        .unwrap()
        .put(&slot, &fluxstore_gateway::Secret::new(&unknown))
        .unwrap();
    a.follow();
    assert!(
        wait_until(WITHIN, || a.feed.as_ref().unwrap().hub_status()[0]
            .detail
            .contains("no longer accepts this store's feed token"))
        .await,
        "{:?}",
        a.feed.as_ref().unwrap().hub_status()
    );
    let status = a.feed.as_ref().unwrap().hub_status()[0].clone();
    assert_eq!(status.state, HubFeedState::Off);
    assert_eq!(status.hub_source, Some(HubSource::Override));
    assert!(
        status
            .detail
            .contains("Turn live updates through the hub off and on again")
    );
    a.stop().await;
    assert_no_secret(a.data_dir(), &[unknown.as_str()]);
    hub.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs a Secret Service: scripts/with-secret-service.sh … -- --include-ignored"]
async fn disconnecting_a_key_mode_ends_its_live_updates_and_deletes_the_endpoint() {
    let dir = tempfile::tempdir().unwrap();
    let db = HubDb::Sqlite(dir.path().join("hub.db"));
    let stripe = StripeAccounts::start().await.unwrap();
    let hub = start_hub(&db, "127.0.0.1:0".parse().unwrap(), &stripe.base_url()).await;
    let a = Desktop::with_key(&hub.url(), keyring("keyhub-disconnect")).await;
    a.profile.enable_key_hub(Mode::Test).await.unwrap();
    let (_, path) = the_endpoint(&a);
    a.profile
        .disconnect(Mode::Test, Duration::from_secs(5))
        .await
        .unwrap();
    assert!(
        a.fake.webhook_endpoints().is_empty(),
        "the hub's endpoint is deleted"
    );
    assert!(!a.profile.key_hub(Mode::Test).await.unwrap().on);
    assert!(a.profile.hub_token(Mode::Test).await.unwrap().is_none());
    let slot = fluxstore_gateway::SecretSlot::new(
        a.profile.store(),
        Mode::Test,
        fluxstore_gateway::SecretKind::HubFeedToken,
    );
    assert!(a.profile.keyring().unwrap().get(&slot).unwrap().is_none());
    let store_key = path.trim_start_matches(STORE_WEBHOOK_PREFIX).to_owned();
    assert_no_secret(a.data_dir(), &[store_key.as_str()]);
    hub.shutdown().await;
}
