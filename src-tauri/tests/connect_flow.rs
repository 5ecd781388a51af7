//! Connect from the shell against the Connect fake (Stripe's OAuth and API side) and the real
//! Connect service on 127.0.0.1: `connect_start` returns the authorize URL, a browser stand-in
//! follows it to the app's loopback, the store is connected in the mode asked for (test and live
//! side by side), the account's status is there right after connecting, every ending of a
//! sign-in (connected, denied, cancelled) reaches the window as `sign_in_ended`, and
//! `disconnect` revokes one mode's token at Stripe and forgets it here.
//!
//! Needs a Secret Service (the tokens go to the OS keyring); run inside the throwaway one:
//!   scripts/with-secret-service.sh cargo test -p fluxstore-desktop --test shell -- --include-ignored
use std::time::Duration;

use fluxstore_connect::{Config, PlatformKeys, RunningService};
use fluxstore_desktop::dto::*;
use fluxstore_desktop::state::AppState;
use fluxstore_gateway::SecretStore;
use fluxstore_test_support::connect_fake::{ConnectFake, ConnectFakeConfig, Decision};
use secrecy::SecretString;
use url::Url;

use fluxstore_test_support::{GUARD, assert_no_secret, eventually};

use crate::support::Recorder;

fn keyring() -> SecretStore {
    crate::support::keyring("connect shell tests")
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

/// The owner's browser: follows every redirect and keeps cookies, like a real one
/// (hang-guarded).
fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
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
    let state = AppState::open_with(
        dir.path(),
        rec.clone(),
        Some(keyring()),
        Some(fake.base_url()),
    )
    .await
    .unwrap();
    state
        .set_connect_service(ConnectServiceArgs {
            url: Some(service.base_url().to_string()),
        })
        .await
        .unwrap();

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
            .any(|s| s.kind == SecretShown::ConnectToken),
        "{:?}",
        status.live.secrets
    );
    assert_eq!(fake.token_requests(), 1);
    let account_status = status
        .live
        .account
        .clone()
        .expect("read right after connecting");
    assert_eq!(account_status.account_id, account);
    assert_eq!(account_status.mode, Mode::Live);
    assert!(account_status.charges_enabled && account_status.payouts_enabled);
    let ended = rec.sign_ins.lock().unwrap().clone();
    assert_eq!(ended.len(), 1, "{ended:?}");
    assert!(ended[0].connected && ended[0].mode == Mode::Live);
    assert!(
        state.sign_in.lock().await.is_none(),
        "nothing waits any more"
    );

    // Then test mode, beside it: each mode its own connection, account status and token.
    let started = state
        .connect_start(ModeArgs { mode: Mode::Test })
        .await
        .unwrap();
    browser().get(started.authorize_url).send().await.unwrap();
    eventually("the test connection", GUARD, || {
        rec.sign_ins.lock().unwrap().len() == 2
    })
    .await;
    let both = state.connection_status().await.unwrap();
    assert!(both.test.connected && both.live.connected, "{both:?}");
    assert_eq!(both.test.account.as_ref().map(|a| a.mode), Some(Mode::Test));
    assert_eq!(both.live.account.as_ref().map(|a| a.mode), Some(Mode::Live));
    let keys: Vec<bool> = fake.redemptions().iter().map(|r| r.live_key).collect();
    assert_eq!(
        keys,
        vec![true, false],
        "each mode redeemed with its own platform key"
    );

    // No token in the mirror (its -wal included) or anywhere else in the data dir.
    assert_no_secret(dir.path(), &["sk_test_platform"]);

    let after = state
        .disconnect(ModeArgs { mode: Mode::Live })
        .await
        .unwrap();
    assert!(!after.live.connected && after.live.secrets.is_empty());
    assert!(
        after.test.connected,
        "disconnecting live leaves test connected"
    );
    assert_eq!(
        fake.deauthorized(),
        vec![account.clone()],
        "revoked at Stripe"
    );

    // Stripe then reports that the owner removed FluxStore from the account: the test
    // connection ends with that reason, and its token is no credential any more.
    let ctx = fluxstore_samples::Ctx {
        account: Some(account.clone()),
        ..fluxstore_samples::Ctx::test(fluxstore_samples::ApiShape::Dahlia)
    };
    let deauthorized = fluxstore_samples::envelope(
        "account.application.deauthorized",
        serde_json::json!({"id": fake.config().client_id, "object": "application"}),
        fluxstore_test_support::now() + 5,
        &ctx,
    );
    state
        .profile
        .write(move |m| {
            m.ingest(
                deauthorized.to_string().as_bytes(),
                fluxstore_mirror::Source::Webhook,
            )
            .map(|_| ())
        })
        .await
        .unwrap();
    assert!(
        state
            .profile
            .apply_deauthorization(Mode::Test)
            .await
            .unwrap()
    );
    let refused = state
        .account_status(AccountStatusArgs {
            mode: Mode::Test,
            refresh: true,
        })
        .await
        .unwrap_err();
    assert_eq!(
        refused.code,
        fluxstore_desktop::error::ErrorCode::NotConnected
    );
    assert_eq!(
        refused.message,
        fluxstore_gateway::profile::REASON_DEAUTHORIZED
    );
    let ended = state.connection_status().await.unwrap();
    assert!(!ended.test.connected);
    assert_eq!(
        ended.test.disconnected_reason.as_deref(),
        Some(fluxstore_gateway::profile::REASON_DEAUTHORIZED)
    );
    state
        .disconnect(ModeArgs { mode: Mode::Test })
        .await
        .unwrap();
    state.shutdown().await;
    service.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs a Secret Service: scripts/with-secret-service.sh … -- --include-ignored"]
async fn a_denied_or_cancelled_sign_in_ends_the_wait_with_words_for_the_owner() {
    let fake = ConnectFake::start(ConnectFakeConfig {
        decision: Decision::Deny,
        ..ConnectFakeConfig::default()
    })
    .await
    .unwrap();
    let service = service(&fake).await;
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
    state
        .set_connect_service(ConnectServiceArgs {
            url: Some(service.base_url().to_string()),
        })
        .await
        .unwrap();

    // The owner clicks "Deny" at Stripe.
    let started = state
        .connect_start(ModeArgs { mode: Mode::Test })
        .await
        .unwrap();
    let page = browser().get(started.authorize_url).send().await.unwrap();
    assert!(page.url().host_str() == Some("127.0.0.1"), "{}", page.url());
    eventually("the denial reaches the window", GUARD, || {
        !rec.sign_ins.lock().unwrap().is_empty()
    })
    .await;
    let denied = rec.sign_ins.lock().unwrap()[0].clone();
    assert!(!denied.connected);
    assert_eq!(denied.mode, Mode::Test);
    assert_eq!(denied.code.as_deref(), Some("access_denied"));
    let message = denied.message.expect("a message for the owner");
    assert!(message.contains("did not connect"), "{message}");
    assert!(
        state.sign_in.lock().await.is_none(),
        "nothing waits any more"
    );
    assert!(!state.connection_status().await.unwrap().test.connected);

    // The owner starts again, then clicks Cancel instead of going to Stripe.
    state
        .connect_start(ModeArgs { mode: Mode::Live })
        .await
        .unwrap();
    state.connect_cancel().await.unwrap();
    eventually("the cancel reaches the window", GUARD, || {
        rec.sign_ins.lock().unwrap().len() == 2
    })
    .await;
    let cancelled = rec.sign_ins.lock().unwrap()[1].clone();
    assert!(!cancelled.connected);
    assert_eq!(cancelled.mode, Mode::Live);
    assert_eq!(cancelled.code.as_deref(), Some("cancelled"));
    assert_eq!(fake.token_requests(), 0, "nothing was redeemed");
    state.shutdown().await;
    service.stop().await;
}

#[tokio::test]
async fn a_connect_service_address_that_would_send_tokens_in_clear_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let state = AppState::open(dir.path(), Recorder::new(), None)
        .await
        .unwrap();
    let e = state
        .set_connect_service(ConnectServiceArgs {
            url: Some("http://connect.example.com".into()),
        })
        .await
        .unwrap_err();
    assert_eq!(e.code, fluxstore_desktop::error::ErrorCode::InvalidInput);
    assert!(e.message.contains("https://"), "{}", e.message);
    let status = state
        .set_connect_service(ConnectServiceArgs {
            url: Some("http://127.0.0.1:8790".into()),
        })
        .await
        .unwrap();
    assert_eq!(status.connect_service.source, ConnectServiceSource::Setting);
    let status = state
        .set_connect_service(ConnectServiceArgs { url: None })
        .await
        .unwrap();
    assert_ne!(status.connect_service.source, ConnectServiceSource::Setting);
    state.shutdown().await;
}
