//! Connect mode over a real SQLite mirror, without the keyring: the account facts in the
//! settings, the events feed with the access token (against the local Stripe fake), and
//! the two ways a connection ends behind the app's back (a deauthorization event, a 401).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use fluxstore_gateway::connect::{
    self, REASON_DEAUTHORIZED, REASON_TOKEN_REJECTED, SETTING_ACCOUNT, SETTING_MODE, SETTING_SCOPE,
};
use fluxstore_gateway::connect_feed::{ConnectFeed, FeedState};
use fluxstore_gateway::oauth::ConnectTokens;
use fluxstore_gateway::{ClientConfig, Credential, Secret, StripeClient, SyncOptions};
use fluxstore_mirror::{Mirror, Mode, Source};
use fluxstore_samples::{ApiShape, Ctx, SubscriptionSpec, envelope, subscription};
use fluxstore_test_support::stripe_fake::{FakeKey, StripeFake, StripeFakeConfig};
use fluxstore_test_support::{assert_no_secret, now, temp_mirror};
use serde_json::json;

const TOKEN: &str = "sk_test_connectAccessTokenForTheFeed000001";
const ACCOUNT: &str = "acct_1ConnectedStore01";
const GUARD: Duration = Duration::from_secs(30);

fn tokens() -> ConnectTokens {
    ConnectTokens {
        access_token: Secret::new(TOKEN),
        refresh_token: None,
        token_type: "bearer".into(),
        stripe_publishable_key: "pk_test_connected".into(),
        stripe_user_id: ACCOUNT.into(),
        scope: "read_write".into(),
        livemode: false,
    }
}

fn connected_mirror() -> (tempfile::TempDir, Arc<Mutex<Mirror>>) {
    let mut mirror = temp_mirror();
    let service = url::Url::parse("http://127.0.0.1:9").unwrap();
    connect::record_connection(&mut mirror, &service, &tokens()).unwrap();
    mirror.shared()
}

fn client(fake: &StripeFake, token: &str, mirror: &Arc<Mutex<Mirror>>) -> StripeClient {
    let mut cfg = ClientConfig::from_env(Some(&fake.base_url())).unwrap();
    cfg.max_retries = 0;
    let credential = Credential::ConnectToken {
        token: Secret::new(token),
        mode: Mode::Test,
    };
    StripeClient::new(cfg, credential, mirror.clone()).unwrap()
}

async fn wait_runs(feed: &ConnectFeed, runs: u64) -> FeedState {
    let mut rx = feed.state();
    let state = tokio::time::timeout(GUARD, rx.wait_for(|s| s.runs >= runs))
        .await
        .expect("feed runs");
    state.expect("feed alive").clone()
}

fn deauthorized_event(created: i64) -> serde_json::Value {
    let application = json!({ "id": "ca_platform", "object": "application", "name": "FluxStore" });
    let ctx = Ctx {
        account: Some(ACCOUNT.into()),
        ..Ctx::test(ApiShape::Dahlia)
    };
    envelope(
        "account.application.deauthorized",
        application,
        created,
        &ctx,
    )
}

#[tokio::test]
async fn the_account_facts_are_settings_and_no_secret_reaches_the_database() {
    let (dir, mirror) = connected_mirror();
    {
        let m = mirror.lock().unwrap();
        assert_eq!(
            m.setting(SETTING_ACCOUNT).unwrap().as_deref(),
            Some(ACCOUNT)
        );
        assert_eq!(m.setting(SETTING_MODE).unwrap().as_deref(), Some("test"));
        assert_eq!(
            m.setting(SETTING_SCOPE).unwrap().as_deref(),
            Some("read_write")
        );
        let st = connect::status(&m).unwrap();
        assert!(st.connected);
        assert_eq!(st.mode, Some(Mode::Test));
    }
    assert_no_secret(dir.path(), &[TOKEN]);
    drop(mirror);
    assert_no_secret(dir.path(), &[TOKEN]);
}

#[tokio::test]
async fn the_feed_syncs_on_connect_and_on_resume_and_stops_at_a_deauthorization() {
    let fake = StripeFake::start(StripeFakeConfig {
        keys: vec![FakeKey::secret(TOKEN)],
        ..Default::default()
    })
    .await
    .unwrap();
    let (_dir, mirror) = connected_mirror();
    let ctx = Ctx::test(ApiShape::Dahlia);
    let spec = SubscriptionSpec::new(1, "usd", 900, false);
    let t = now();
    fake.push_event(
        "customer.subscription.created",
        &subscription(&spec, "active", (t, t + 2_592_000), false, t, &ctx),
        t,
        false,
    );

    // An hour between ticks: every run after the first comes from resume().
    let feed = ConnectFeed::start(
        client(&fake, TOKEN, &mirror),
        SyncOptions::default(),
        Duration::from_secs(3600),
    );
    let first = wait_runs(&feed, 1).await;
    assert!(first.last_error.is_none(), "{first:?}");
    assert!(!first.disconnected);
    assert_eq!(
        mirror
            .lock()
            .unwrap()
            .subscriptions(Mode::Test)
            .unwrap()
            .len(),
        1,
        "synced on connect"
    );

    fake.push_event(
        "account.application.deauthorized",
        &deauthorized_event(t + 1)["data"]["object"],
        t + 1,
        false,
    );
    feed.resume();
    let second = wait_runs(&feed, 2).await;
    assert!(second.disconnected, "{second:?}");
    {
        let m = mirror.lock().unwrap();
        let st = connect::status(&m).unwrap();
        assert!(!st.connected);
        assert_eq!(st.reason.as_deref(), Some(REASON_DEAUTHORIZED));
        assert_eq!(
            st.account_id.as_deref(),
            Some(ACCOUNT),
            "the account stays known for the UI"
        );
        assert_eq!(
            m.subscriptions(Mode::Test).unwrap().len(),
            1,
            "mirror rows are kept"
        );
    }
    feed.stop().await;
}

#[tokio::test]
async fn a_401_from_stripe_flips_the_app_to_disconnected() {
    let fake = StripeFake::start(StripeFakeConfig::default())
        .await
        .unwrap();
    let (_dir, mirror) = connected_mirror();
    let revoked = "sk_test_revokedConnectToken00000000000001";
    let feed = ConnectFeed::start(
        client(&fake, revoked, &mirror),
        SyncOptions::default(),
        Duration::from_secs(3600),
    );
    let state = wait_runs(&feed, 1).await;
    assert!(state.disconnected);
    let message = state.last_error.expect("the failure is reported");
    assert!(!message.contains(revoked), "{message}");
    let st = connect::status(&mirror.lock().unwrap()).unwrap();
    assert!(!st.connected);
    assert_eq!(st.reason.as_deref(), Some(REASON_TOKEN_REJECTED));
    feed.stop().await;
}

#[tokio::test]
async fn a_deauthorization_from_before_this_connection_is_ignored() {
    let (_dir, mirror) = connected_mirror();
    let mut m = mirror.lock().unwrap();
    let old = deauthorized_event(now() - 86_400).to_string();
    m.ingest(old.as_bytes(), Source::Webhook).unwrap();
    assert!(!connect::apply_deauthorization(&mut m).unwrap());
    assert!(connect::status(&m).unwrap().connected);

    let other_account = {
        let mut e = deauthorized_event(now() + 5);
        e["account"] = json!("acct_someoneElse");
        e["id"] = json!("evt_other_account");
        e.to_string()
    };
    m.ingest(other_account.as_bytes(), Source::Webhook).unwrap();
    assert!(
        !connect::apply_deauthorization(&mut m).unwrap(),
        "another account's event changes nothing"
    );

    let fresh = deauthorized_event(now() + 5).to_string();
    m.ingest(fresh.as_bytes(), Source::Webhook).unwrap();
    assert!(connect::apply_deauthorization(&mut m).unwrap());
    assert_eq!(
        connect::status(&m).unwrap().reason.as_deref(),
        Some(REASON_DEAUTHORIZED)
    );
}
