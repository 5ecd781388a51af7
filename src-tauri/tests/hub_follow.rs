//! The app following a FluxStore hub, from the shell: test mode connected through Connect
//! (the hub is the Connect service its token came from), the real hub on 127.0.0.1 with its
//! embedded SQLite store, and Stripe (the Stripe fake) delivering the account's events as
//! signed Connect webhooks to the hub. Each doorbell reaches the window as `event_applied`, the
//! event is stored from the feed and the order is paid in the mirror, well before the 2-minute
//! poll could have brought it. The hub stopped mid-stream: the feed says polling; started again
//! on the same address and database: live again, and what rang meanwhile arrives, nothing is
//! missed, fetched or stored twice.
//!
//! Needs a Secret Service (the Connect token goes to the OS keyring); run inside the throwaway
//! one: scripts/with-secret-service.sh cargo test -p fluxstore-desktop --test shell -- --include-ignored
use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use fluxstore_desktop::dto::HubFeedStatus;
use fluxstore_desktop::state::AppState;
use fluxstore_gateway::oauth::ConnectTokens;
use fluxstore_gateway::profile::HubFeedState;
use fluxstore_gateway::{Secret, SecretStore};
use fluxstore_hub::{Hub, HubConfig, HubHandle, PlatformSecrets, SqliteStore};
use fluxstore_mirror::facts::WEBHOOK_EVENTS;
use fluxstore_mirror::{Mode, OrderQuery, OrderStatus, Source};
use fluxstore_test_support::stripe_fake::{
    AccountSpec, FakeKey, PaymentSpec, StripeFake, StripeFakeConfig,
};
use fluxstore_test_support::{assert_no_secret, wait_until};
use serde_json::{Value, json};
use url::Url;

use crate::support::Recorder;

/// Far inside the feed's 2-minute poll: what arrives within this came through the hub.
const WITHIN: Duration = Duration::from_secs(20);

fn keyring() -> SecretStore {
    crate::support::keyring("hub follow shell tests")
}

/// The hub as its operator runs it: the platform endpoint's signing secret, Connect tokens
/// checked at `stripe`, doorbells in the SQLite file `db`.
async fn start_hub(listen: SocketAddr, secret: &str, stripe: &str, db: &Path) -> HubHandle {
    let secrets = PlatformSecrets::parse(&format!("test {secret}\n")).unwrap();
    let mut config =
        HubConfig::new(listen, Url::parse("http://127.0.0.1:1").unwrap(), secrets).unwrap();
    config
        .set_stripe_api_base(Url::parse(stripe).unwrap())
        .unwrap();
    config.heartbeat = Duration::from_millis(500);
    config.shutdown_grace = Duration::from_secs(1);
    Hub::start(config, SqliteStore::open(db).unwrap())
        .await
        .unwrap()
}

/// Test mode's latest feed state as the window was told it.
fn test_feed(rec: &Recorder) -> Option<HubFeedStatus> {
    rec.hub_feed
        .lock()
        .unwrap()
        .iter()
        .rev()
        .find(|s| s.mode == Mode::Test)
        .cloned()
}

fn feed_state(rec: &Recorder) -> Option<HubFeedState> {
    test_feed(rec).map(|s| s.state)
}

/// A buyer pays at the account; Stripe delivers the three events to the Connect endpoint.
async fn pay(fake: &StripeFake, account: &str, amount: i64) -> (String, Vec<String>) {
    let paid = fake.seed_payment(&PaymentSpec {
        amount,
        currency: "usd".into(),
        email: "buyer@example.com".into(),
        livemode: false,
        created: fluxstore_test_support::now(),
    });
    let mut ids = Vec::new();
    for event in &paid.events {
        let mut event: Value = event.clone();
        event["account"] = json!(account);
        let delivered = fake.deliver(&event).await;
        assert_eq!(delivered.len(), 1, "one Connect endpoint");
        assert_eq!(delivered[0].1, Ok(200), "the hub takes {}", event["type"]);
        ids.push(event["id"].as_str().unwrap().to_owned());
    }
    (paid.session_id, ids)
}

/// Events in the mirror with `id`, and where each came from.
fn stored(state: &AppState, id: &str) -> Vec<Source> {
    let m = state.profile.mirror().lock().unwrap();
    m.events(None, 10_000)
        .unwrap()
        .into_iter()
        .filter(|e| e.id == id)
        .map(|e| e.source)
        .collect()
}

fn order_status(state: &AppState, session: &str) -> Option<OrderStatus> {
    let m = state.profile.mirror().lock().unwrap();
    let query = OrderQuery {
        search: Some(session.to_owned()),
        ..OrderQuery::default()
    };
    m.orders(Mode::Test, &query)
        .unwrap()
        .items
        .into_iter()
        .find(|o| o.session_id == session)
        .map(|o| o.status)
}

fn fetches_of(fake: &StripeFake, id: &str) -> usize {
    let path = format!("/v1/events/{id}");
    fake.requests().iter().filter(|r| r.path == path).count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs a Secret Service: scripts/with-secret-service.sh … -- --include-ignored"]
async fn following_the_hub_a_paid_order_arrives_through_the_feed_and_a_restart_loses_nothing() {
    let token = format!("sk_test_hubfollow{}", rand::random::<u64>());
    let account = format!("acct_1HubFollow{}", rand::random::<u32>());
    let fake = StripeFake::start(StripeFakeConfig {
        keys: vec![FakeKey::secret(&token)],
        account: AccountSpec {
            id: account.clone(),
            ..AccountSpec::default()
        },
        ..StripeFakeConfig::default()
    })
    .await
    .unwrap();

    // The hub, and the platform's Connect webhook endpoint at it (Stripe makes its secret).
    let hub_dir = tempfile::tempdir().unwrap();
    let hub_db = hub_dir.path().join("hub.db");
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let events: Vec<&str> = WEBHOOK_EVENTS.iter().map(|e| e.event_type).collect();
    let endpoint = fake.add_webhook_endpoint(
        &format!("http://{addr}/api/webhooks/stripe"),
        &events,
        "enabled",
        false,
    );
    let secret = endpoint["secret"].as_str().unwrap().to_owned();
    let hub = start_hub(addr, &secret, &fake.base_url(), &hub_db).await;
    let hub_url = Url::parse(&hub.url()).unwrap();

    // The app, test mode connected through Connect at the hub.
    let dir = tempfile::tempdir().unwrap();
    let rec = Recorder::new();
    let state = AppState::open_with(
        dir.path(),
        rec.clone(),
        Some(keyring()),
        Some(fake.base_url()),
    )
    .await
    .unwrap();
    let tokens = ConnectTokens {
        access_token: Secret::new(&token),
        refresh_token: None,
        token_type: "bearer".into(),
        stripe_publishable_key: "pk_test_hubfollow".into(),
        stripe_user_id: account.clone(),
        scope: "read_write".into(),
        livemode: false,
    };
    state
        .profile
        .keep_connection(Mode::Test, &hub_url, tokens)
        .await
        .unwrap();
    state.start_feed().await;
    assert!(
        wait_until(WITHIN, || feed_state(&rec) == Some(HubFeedState::Live)).await,
        "the feed did not go live: {:?}",
        test_feed(&rec)
    );
    let live = test_feed(&rec).unwrap();
    assert_eq!(live.hub.as_deref(), Some(hub_url.as_str()));
    assert!(live.detail.contains("hub"), "{}", live.detail);

    // A payment: each event reaches the window and the mirror through the feed.
    let (session, mut ids) = pay(&fake, &account, 2_500).await;
    assert!(
        wait_until(WITHIN, || ids
            .iter()
            .all(|id| rec.applied_ids().contains(id)))
        .await,
        "not applied: {:?}",
        rec.applied_ids()
    );
    for id in &ids {
        assert_eq!(
            stored(&state, id),
            vec![Source::Feed],
            "{id} came by the feed"
        );
    }
    assert_eq!(order_status(&state, &session), Some(OrderStatus::Paid));
    let rung = test_feed(&rec).unwrap();
    assert!(
        rung.last_doorbell_at.is_some() && rung.doorbells >= 3,
        "{rung:?}"
    );

    // The hub goes away: the feed says polling.
    hub.shutdown().await;
    assert!(
        wait_until(WITHIN, || feed_state(&rec) == Some(HubFeedState::Polling)).await,
        "{:?}",
        test_feed(&rec)
    );
    // Back on the same address and database; a payment rings before the app is back, another
    // after.
    let hub = start_hub(addr, &secret, &fake.base_url(), &hub_db).await;
    let (during_session, during) = pay(&fake, &account, 3_000).await;
    assert!(
        wait_until(WITHIN, || feed_state(&rec) == Some(HubFeedState::Live)).await,
        "the feed did not go live again: {:?}",
        test_feed(&rec)
    );
    let (after_session, after) = pay(&fake, &account, 4_000).await;
    ids.extend(during.iter().chain(&after).cloned());
    assert!(
        wait_until(WITHIN, || ids
            .iter()
            .all(|id| rec.applied_ids().contains(id)))
        .await,
        "missing after the restart: {:?}",
        ids.iter()
            .filter(|id| !rec.applied_ids().contains(id))
            .collect::<Vec<_>>()
    );
    for s in [&during_session, &after_session] {
        assert_eq!(order_status(&state, s), Some(OrderStatus::Paid), "{s}");
    }
    // Nothing twice: each event fetched once, stored once, told to the window once.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let applied = rec.applied_ids();
    for id in &ids {
        assert_eq!(fetches_of(&fake, id), 1, "{id} fetched once");
        assert_eq!(stored(&state, id).len(), 1, "{id} stored once");
        assert_eq!(
            applied.iter().filter(|a| *a == id).count(),
            1,
            "{id} told once"
        );
    }
    assert_eq!(applied.len(), ids.len(), "nothing else was applied");

    state.shutdown().await;
    hub.shutdown().await;
    assert_no_secret(dir.path(), &[&token, &secret]);
    let _ = state
        .profile
        .disconnect(Mode::Test, Duration::from_millis(200))
        .await;
}
