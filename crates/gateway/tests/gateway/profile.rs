//! The store profile over a real mirror, the real OS keyring and the local Stripe fake: the
//! credential per mode, test and live side by side, the feed (sync on start and on demand,
//! a deauthorization or a 401 ends that mode's connection only), the account status fetched
//! and kept in the mirror, disconnect per mode.
//!
//! Needs a Secret Service (tokens and keys go to the keyring); run inside the throwaway one:
//!   scripts/with-secret-service.sh cargo test -p fluxstore-gateway -- --include-ignored
use std::sync::{Arc, Mutex};
use std::time::Duration;

use fluxstore_gateway::oauth::ConnectTokens;
use fluxstore_gateway::profile::feed::Quiet;
use fluxstore_gateway::profile::{
    ConnectionMethod, Feed, FeedObserver, REASON_DEAUTHORIZED, REASON_TOKEN_REJECTED,
};
use fluxstore_gateway::{
    CancelToken, ManualKeys, Profile, ProfileConfig, ProfileError, Secret, SecretStore, SyncOptions,
};
use fluxstore_mirror::{Mirror, Mode, Source};
use fluxstore_samples::{ApiShape, Ctx, SubscriptionSpec, envelope, subscription};
use fluxstore_test_support::stripe_fake::{
    AccountSpec, FakeKey, StripeFake, StripeFakeConfig, TEST_SECRET_KEY,
};
use serde_json::json;

const TEST_TOKEN: &str = "sk_test_connectAccessTokenForTheFeed000001";
const LIVE_TOKEN: &str = "sk_live_connectAccessTokenForTheFeed000002";
const TEST_ACCOUNT: &str = "acct_1ConnectedTest01";
const LIVE_ACCOUNT: &str = "acct_1ConnectedLive01";

fn keyring() -> SecretStore {
    let s = SecretStore::with_service(&format!(
        "FluxStore Desktop profile tests {} {}",
        std::process::id(),
        rand_suffix()
    ))
    .unwrap();
    if let Err(e) = s.probe() {
        panic!(
            "no usable Secret Service ({e}); run these tests inside scripts/with-secret-service.sh"
        );
    }
    s
}

fn rand_suffix() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos() as u64
}

struct World {
    dir: tempfile::TempDir,
    fake: StripeFake,
    profile: Arc<Profile>,
}

impl World {
    async fn new(keys: Vec<FakeKey>) -> World {
        let fake = StripeFake::start(StripeFakeConfig {
            keys,
            ..Default::default()
        })
        .await
        .unwrap();
        let dir = tempfile::tempdir().unwrap();
        let mirror = Mirror::open(&dir.path().join("mirror.db")).unwrap();
        let config = ProfileConfig {
            api_base: Some(fake.base_url()),
            ..ProfileConfig::new("profile-test")
        };
        let profile = Profile::open(config, Some(keyring()), Arc::new(Mutex::new(mirror))).unwrap();
        World {
            dir,
            fake,
            profile: Arc::new(profile),
        }
    }

    async fn connect(&self, mode: Mode) {
        let (token, account) = match mode {
            Mode::Test => (TEST_TOKEN, TEST_ACCOUNT),
            Mode::Live => (LIVE_TOKEN, LIVE_ACCOUNT),
        };
        let tokens = ConnectTokens {
            access_token: Secret::new(token),
            refresh_token: None,
            token_type: "bearer".into(),
            stripe_publishable_key: format!("pk_{}_connected", mode.as_str()),
            stripe_user_id: account.into(),
            scope: "read_write".into(),
            livemode: mode.is_live(),
        };
        let service = url::Url::parse("http://127.0.0.1:9").unwrap();
        self.profile
            .keep_connection(mode, &service, tokens)
            .await
            .unwrap();
    }

    fn ingest(&self, event: serde_json::Value) {
        let mirror = self.profile.mirror().clone();
        let mut m = mirror.lock().unwrap();
        m.ingest(event.to_string().as_bytes(), Source::Webhook)
            .unwrap();
    }

    async fn forget(&self) {
        for mode in [Mode::Test, Mode::Live] {
            let _ = self.profile.disconnect(mode, Duration::from_secs(1)).await;
        }
    }
}

use fluxstore_test_support::now;

fn deauthorized(account: &str, livemode: bool, created: i64, id: &str) -> serde_json::Value {
    let ctx = Ctx {
        account: Some(account.into()),
        livemode,
        ..Ctx::test(ApiShape::Dahlia)
    };
    let mut e = envelope(
        "account.application.deauthorized",
        json!({ "id": "ca_platform", "object": "application", "name": "FluxStore" }),
        created,
        &ctx,
    );
    e["id"] = json!(id);
    e
}

#[tokio::test]
#[ignore = "needs a Secret Service: scripts/with-secret-service.sh … -- --include-ignored"]
async fn test_and_live_connections_stand_side_by_side() {
    let w = World::new(vec![
        FakeKey::secret(TEST_TOKEN),
        FakeKey::secret(LIVE_TOKEN),
    ])
    .await;
    w.connect(Mode::Test).await;
    w.connect(Mode::Live).await;
    let st = w.profile.status().await.unwrap();
    assert_eq!(st.method, Some(ConnectionMethod::Connect));
    for (c, account) in [(&st.test, TEST_ACCOUNT), (&st.live, LIVE_ACCOUNT)] {
        assert!(c.connected, "{c:?}");
        assert_eq!(c.via, Some(ConnectionMethod::Connect));
        assert_eq!(c.account_id.as_deref(), Some(account));
        assert!(c.disconnected_reason.is_none());
    }
    // Each mode's client carries its own token.
    for mode in [Mode::Test, Mode::Live] {
        let client = w.profile.client(mode).await.unwrap();
        assert_eq!(client.mode(), mode);
    }
    // A deauthorization of the live account ends live only.
    w.ingest(deauthorized(
        LIVE_ACCOUNT,
        true,
        now() + 5,
        "evt_deauth_live",
    ));
    assert!(w.profile.apply_deauthorization(Mode::Live).await.unwrap());
    assert!(!w.profile.apply_deauthorization(Mode::Test).await.unwrap());
    let st = w.profile.status().await.unwrap();
    assert!(st.test.connected);
    assert!(!st.live.connected);
    assert_eq!(
        st.live.disconnected_reason.as_deref(),
        Some(REASON_DEAUTHORIZED)
    );
    w.forget().await;
}

#[tokio::test]
#[ignore = "needs a Secret Service: scripts/with-secret-service.sh … -- --include-ignored"]
async fn a_deauthorized_token_is_no_credential() {
    let w = World::new(vec![FakeKey::secret(TEST_TOKEN)]).await;
    w.connect(Mode::Test).await;
    assert!(w.profile.client(Mode::Test).await.is_ok());
    w.ingest(deauthorized(
        TEST_ACCOUNT,
        false,
        now() + 5,
        "evt_deauth_test",
    ));
    assert!(w.profile.apply_deauthorization(Mode::Test).await.unwrap());
    match w.profile.client(Mode::Test).await {
        Err(ProfileError::Disconnected { reason, .. }) => assert_eq!(reason, REASON_DEAUTHORIZED),
        Err(other) => panic!("{other:?}"),
        Ok(_) => panic!("a deauthorized token was used"),
    }
    // The live mode was never connected: it says so, in the owner's words.
    let Err(e) = w.profile.client(Mode::Live).await else {
        panic!("the live mode was never connected");
    };
    assert_eq!(e.code(), "not_connected");
    assert!(e.to_string().contains("live mode"), "{e}");
    w.forget().await;
}

#[tokio::test]
#[ignore = "needs a Secret Service: scripts/with-secret-service.sh … -- --include-ignored"]
async fn a_deauthorization_from_before_the_connection_or_of_another_account_is_ignored() {
    let w = World::new(vec![FakeKey::secret(TEST_TOKEN)]).await;
    w.connect(Mode::Test).await;
    w.ingest(deauthorized(TEST_ACCOUNT, false, now() - 86_400, "evt_old"));
    assert!(!w.profile.apply_deauthorization(Mode::Test).await.unwrap());
    w.ingest(deauthorized(
        "acct_someoneElse",
        false,
        now() + 5,
        "evt_other",
    ));
    assert!(!w.profile.apply_deauthorization(Mode::Test).await.unwrap());
    assert!(w.profile.status().await.unwrap().test.connected);
    w.forget().await;
}

#[derive(Default)]
struct Seen {
    changed: Mutex<Vec<Mode>>,
    runs: Mutex<Vec<(Mode, Result<u64, String>)>>,
}

impl FeedObserver for Seen {
    fn finished(&self, mode: Mode, outcome: Result<&fluxstore_gateway::SyncReport, &ProfileError>) {
        self.runs.lock().unwrap().push((
            mode,
            outcome
                .map(|r| r.progress.applied)
                .map_err(|e| e.to_string()),
        ));
    }
    fn connection_changed(&self, mode: Mode) {
        self.changed.lock().unwrap().push(mode);
    }
}

async fn eventually(what: &str, mut f: impl FnMut() -> bool) {
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while !f() {
        assert!(
            std::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs a Secret Service: scripts/with-secret-service.sh … -- --include-ignored"]
async fn the_feed_syncs_at_start_and_on_demand_and_stops_a_mode_at_its_deauthorization() {
    let w = World::new(vec![FakeKey::secret(TEST_TOKEN)]).await;
    w.connect(Mode::Test).await;
    let ctx = Ctx::test(ApiShape::Dahlia);
    let t = now();
    let spec = SubscriptionSpec::new(1, "usd", 900, false);
    w.fake.push_event(
        "customer.subscription.created",
        &subscription(&spec, "active", (t, t + 2_592_000), false, t, &ctx),
        t,
        false,
    );
    let seen = Arc::new(Seen::default());
    // An hour between polls: every run after the first comes from sync_now().
    let feed = Feed::start(w.profile.clone(), seen.clone(), Duration::from_secs(3600));
    eventually("the first run", || !seen.runs.lock().unwrap().is_empty()).await;
    {
        let runs = seen.runs.lock().unwrap();
        assert_eq!(
            runs[0].0,
            Mode::Test,
            "the live mode is not connected: skipped"
        );
        assert!(runs[0].1.is_ok(), "{runs:?}");
    }
    let mirror = w.profile.mirror().clone();
    assert_eq!(
        mirror
            .lock()
            .unwrap()
            .subscriptions(Mode::Test)
            .unwrap()
            .len(),
        1,
        "synced at start"
    );
    let deauth = deauthorized(TEST_ACCOUNT, false, t + 1, "evt_feed_deauth");
    w.fake.push_event(
        "account.application.deauthorized",
        &deauth["data"]["object"],
        t + 1,
        false,
    );
    feed.sync_now();
    eventually("the deauthorization", || {
        seen.changed.lock().unwrap().contains(&Mode::Test)
    })
    .await;
    let st = w.profile.status().await.unwrap();
    assert!(!st.test.connected);
    assert_eq!(
        st.test.disconnected_reason.as_deref(),
        Some(REASON_DEAUTHORIZED)
    );
    assert_eq!(
        mirror
            .lock()
            .unwrap()
            .subscriptions(Mode::Test)
            .unwrap()
            .len(),
        1,
        "mirror rows are kept"
    );
    feed.stop().await;
    w.forget().await;
}

#[tokio::test]
#[ignore = "needs a Secret Service: scripts/with-secret-service.sh … -- --include-ignored"]
async fn a_401_on_a_connect_token_ends_that_mode_without_echoing_the_token() {
    // The fake knows no token: every call answers 401, as Stripe does for a revoked one.
    let w = World::new(vec![]).await;
    w.connect(Mode::Test).await;
    let seen = Seen::default();
    let e = w
        .profile
        .sync(
            Mode::Test,
            &SyncOptions::default(),
            &seen,
            &CancelToken::new(),
        )
        .await
        .unwrap_err();
    assert!(!e.to_string().contains(TEST_TOKEN), "{e}");
    assert_eq!(seen.changed.lock().unwrap().as_slice(), &[Mode::Test]);
    let st = w.profile.status().await.unwrap();
    assert!(!st.test.connected);
    assert_eq!(
        st.test.disconnected_reason.as_deref(),
        Some(REASON_TOKEN_REJECTED)
    );
    w.forget().await;
}

#[tokio::test]
#[ignore = "needs a Secret Service: scripts/with-secret-service.sh … -- --include-ignored"]
async fn saved_keys_bring_the_account_status_and_an_account_updated_event_changes_it() {
    let w = World::new(vec![FakeKey::secret(TEST_SECRET_KEY)]).await;
    let keys = ManualKeys::parse(None, TEST_SECRET_KEY, None).unwrap();
    let saved = w.profile.save_keys(keys).await.unwrap();
    assert!(saved.verified);
    let st = w.profile.status().await.unwrap();
    assert_eq!(st.test.via, Some(ConnectionMethod::Keys));
    let account = st.test.account.clone().expect("fetched right after saving");
    assert!(account.charges_enabled);
    // A later account.updated (as a webhook would bring it) turns charges off.
    let event = w.fake.update_account(
        AccountSpec {
            id: account.account_id.clone(),
            charges_enabled: false,
            ..AccountSpec::default()
        },
        false,
        now() + 60,
    );
    w.ingest(event);
    let again = w.profile.account_status(Mode::Test).await.unwrap().unwrap();
    assert!(!again.charges_enabled);
    assert_eq!(again.account_id, account.account_id);
    // Nothing secret in any file of the data folder.
    drop(w.profile.status().await.unwrap());
    let sync = w
        .profile
        .sync(
            Mode::Test,
            &SyncOptions::default(),
            &Quiet,
            &CancelToken::new(),
        )
        .await
        .unwrap();
    assert!(sync.is_some());
    fluxstore_test_support::assert_no_secret(w.dir.path(), &[TEST_SECRET_KEY]);
    w.forget().await;
}

#[tokio::test]
#[ignore = "needs a Secret Service: scripts/with-secret-service.sh … -- --include-ignored"]
async fn a_key_saved_by_another_data_folder_does_not_outrank_this_folders_connection() {
    // Two data folders of the same store name share the keyring's slots; only the folder that
    // saved a key may use it.
    let w = World::new(vec![
        FakeKey::secret(TEST_SECRET_KEY),
        FakeKey::secret(TEST_TOKEN),
    ])
    .await;
    let other_dir = tempfile::tempdir().unwrap();
    let other = Profile::open(
        ProfileConfig {
            api_base: Some(w.fake.base_url()),
            ..ProfileConfig::new("profile-test")
        },
        Some(w.profile.keyring().unwrap().clone()),
        Arc::new(Mutex::new(
            Mirror::open(&other_dir.path().join("mirror.db")).unwrap(),
        )),
    )
    .unwrap();
    other
        .save_keys(ManualKeys::parse(None, TEST_SECRET_KEY, None).unwrap())
        .await
        .unwrap();
    assert!(matches!(
        other.credential(Mode::Test).await.unwrap(),
        fluxstore_gateway::Credential::ApiKey(_)
    ));

    // This folder never saved a key: nothing to use until it connects, then its token.
    let Err(e) = w.profile.credential(Mode::Test).await else {
        panic!("another folder's key was used");
    };
    assert_eq!(e.code(), "not_connected");
    w.connect(Mode::Test).await;
    match w.profile.credential(Mode::Test).await.unwrap() {
        fluxstore_gateway::Credential::ConnectToken { mode, .. } => assert_eq!(mode, Mode::Test),
        fluxstore_gateway::Credential::ApiKey(_) => {
            panic!("another folder's key outranked the token")
        }
    }
    let _ = other.disconnect(Mode::Test, Duration::from_secs(1)).await;
    w.forget().await;
}
