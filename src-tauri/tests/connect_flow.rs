//! Connect from the shell against the Connect fake (Stripe's OAuth and API side) and the real
//! Connect service on 127.0.0.1: `connect_start` returns the authorize URL, a browser stand-in
//! follows it to the app's loopback, the store is connected in the mode Stripe reports, and
//! `disconnect` revokes the token at Stripe and forgets it here.
//!
//! Needs a Secret Service (the tokens go to the OS keyring); run inside the throwaway one:
//!   scripts/with-secret-service.sh cargo test -p fluxstore-desktop --test shell -- --include-ignored
use std::time::Duration;

use fluxstore_connect::{Config, PlatformKeys, RunningService};
use fluxstore_desktop::dto::*;
use fluxstore_desktop::state::AppState;
use fluxstore_gateway::SecretStore;
use fluxstore_test_support::connect_fake::{ConnectFake, ConnectFakeConfig};
use secrecy::SecretString;
use url::Url;

use fluxstore_test_support::{GUARD, assert_no_secret, eventually};

use crate::support::Recorder;

fn keyring() -> SecretStore {
    let store = SecretStore::with_service(&format!(
        "FluxStore Desktop connect shell tests {}",
        std::process::id()
    ))
    .expect("a keyring backend");
    if let Err(e) = store.probe() {
        panic!("no usable Secret Service ({e}); run inside scripts/with-secret-service.sh");
    }
    store
}

/// The Connect service in front of the fake, as its operator would run it.
async fn service(fake: &ConnectFake) -> RunningService {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let public = Url::parse(&format!("http://{}", listener.local_addr().unwrap())).unwrap();
    let keys = PlatformKeys::from_keys([
        SecretString::from(fake.config().platform_key.clone()),
        SecretString::from(fake.config().live_platform_key.clone()),
    ])
    .unwrap();
    let mut config = Config::with_platform_keys(public, &fake.config().client_id, keys).unwrap();
    config.stripe_connect_base = Url::parse(&fake.base_url()).unwrap();
    config.stripe_api_base = Url::parse(&fake.base_url()).unwrap();
    RunningService::spawn(listener, config).unwrap()
}

/// The owner's browser: follows every redirect, like a real one (hang-guarded).
fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::limited(10))
        .timeout(Duration::from_secs(20))
        .build()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs a Secret Service: scripts/with-secret-service.sh … -- --include-ignored"]
async fn connect_through_the_service_connects_in_stripes_mode_and_disconnect_revokes() {
    // A live connection: the app must file it under live, not test.
    let fake = ConnectFake::start(ConnectFakeConfig::default())
        .await
        .unwrap();
    let account = fake.config().account_id.clone();
    let service = service(&fake).await;
    let dir = tempfile::tempdir().unwrap();
    let rec = Recorder::new();
    let state = AppState::open(dir.path(), rec.clone(), Some(keyring()))
        .await
        .unwrap();
    state.connect_service.set(service.base_url()).unwrap();

    let started = state
        .connect_start(ModeArgs { mode: Mode::Live })
        .await
        .unwrap();
    let authorize = Url::parse(&started.authorize_url).unwrap();
    assert_eq!(
        authorize.origin(),
        service.base_url().origin(),
        "{authorize}"
    );
    assert_eq!(
        rec.opened.lock().unwrap().clone(),
        vec![started.authorize_url.clone()],
        "the system browser was asked to open it"
    );

    // The browser: service → Stripe's authorize page (approves) → service → app's loopback.
    let landed = browser().get(authorize).send().await.unwrap();
    assert!(landed.status().is_success(), "{}", landed.status());
    assert_eq!(landed.url().host_str(), Some("127.0.0.1"));

    eventually("the connection is stored and announced", GUARD, || {
        rec.accounts
            .lock()
            .unwrap()
            .iter()
            .any(|s| s.live.connected)
    })
    .await;
    let status = state.connection_status().await.unwrap();
    assert_eq!(status.method, Some(ConnectionMethod::Connect));
    assert!(status.live.connected && !status.test.connected);
    assert_eq!(status.live.account_id.as_deref(), Some(account.as_str()));
    assert!(
        status
            .live
            .secrets
            .iter()
            .any(|s| s.kind == SecretKind::ConnectToken),
        "{:?}",
        status.live.secrets
    );
    assert_eq!(fake.token_requests(), 1);

    // No token in the mirror (its -wal included) or anywhere else in the data dir.
    assert_no_secret(dir.path(), &["sk_test_platform"]);

    let after = state
        .disconnect(ModeArgs { mode: Mode::Live })
        .await
        .unwrap();
    assert!(!after.live.connected && after.live.secrets.is_empty());
    assert_eq!(fake.deauthorized(), vec![account], "revoked at Stripe");
    state.shutdown().await;
    service.stop().await;
}
