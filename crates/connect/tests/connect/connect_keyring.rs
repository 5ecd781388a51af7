//! Connect through the store profile with the real OS keyring (Secret Service on Linux), the
//! real service and the fake of Stripe's Connect endpoints: a test and a live connection side
//! by side, each with its token in the keyring only and its account status right after
//! connecting; disconnect per mode counts renewing subscriptions, revokes through the service,
//! deletes that mode's tokens and keeps every mirror row.
//!
//! Every test here needs a reachable, unlocked Secret Service. Run them with
//!   scripts/with-secret-service.sh cargo test -p fluxstore-connect --test connect connect_keyring -- --include-ignored
//! Run with `--ignored` outside that script and they fail loudly, never pass silently.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::rig::{Rig, browser};
use fluxstore_gateway::profile::{ConnectionMethod, REASON_OWNER_DISCONNECTED};
use fluxstore_gateway::{Profile, ProfileConfig, SecretKind, SecretSlot, SecretStore};
use fluxstore_mirror::{Mirror, Mode, Source};
use fluxstore_samples::{ApiShape, Ctx, SubscriptionSpec, envelope, subscription};

const GUARD: Duration = Duration::from_secs(30);

fn store() -> SecretStore {
    let s = SecretStore::with_service(&format!(
        "FluxStore Desktop connect tests {}",
        std::process::id()
    ))
    .unwrap();
    if let Err(e) = s.probe() {
        panic!(
            "no usable Secret Service ({e}); run these tests inside scripts/with-secret-service.sh"
        );
    }
    s
}

/// A profile of `store_account` over a fresh mirror, pointed at the rig's service and Stripe.
fn profile(
    rig: &Rig,
    store: &SecretStore,
    dir: &tempfile::TempDir,
    store_account: &str,
) -> Profile {
    let mirror = Mirror::open(&dir.path().join("m.db")).unwrap();
    let config = ProfileConfig {
        api_base: Some(rig.fake.base_url()),
        connect_service: Some(rig.service_url()),
        ..ProfileConfig::new(store_account)
    };
    Profile::open(config, Some(store.clone()), Arc::new(Mutex::new(mirror))).unwrap()
}

/// Sign in through the real loopback flow, the browser approving at Stripe; returns the token.
async fn connect(rig: &Rig, profile: &Profile, mode: Mode) -> String {
    let sign_in = profile.start_sign_in(mode).await.unwrap();
    let url = sign_in.authorize_url().clone();
    let browse = tokio::spawn(async move { browser().get(url).send().await.unwrap() });
    let (ended, outcome) = tokio::time::timeout(GUARD, profile.finish_sign_in(sign_in))
        .await
        .unwrap();
    outcome.expect("connected");
    assert!(ended.connected && ended.mode == mode, "{ended:?}");
    browse.await.unwrap();
    let slot = SecretSlot::new(profile.store(), mode, SecretKind::ConnectAccessToken);
    let store = profile.keyring().unwrap().clone();
    let token = store.get(&slot).unwrap().expect("token kept");
    let _ = rig;
    token.expose().to_owned()
}

fn mirror_of(profile: &Profile) -> Arc<Mutex<Mirror>> {
    profile.mirror().clone()
}

fn ingest_subscriptions(mirror: &Arc<Mutex<Mirror>>, statuses: &[&str]) {
    let ctx = Ctx::test(ApiShape::Dahlia);
    let t = 1_760_000_000;
    let mut m = mirror.lock().unwrap();
    for (i, status) in statuses.iter().enumerate() {
        let spec = SubscriptionSpec::new(i as u64 + 1, "eur", 500, false);
        let sub = subscription(&spec, status, (t, t + 2_592_000), false, t, &ctx);
        let event = envelope("customer.subscription.created", sub, t + i as i64, &ctx);
        m.ingest(event.to_string().as_bytes(), Source::Webhook)
            .unwrap();
    }
}

#[tokio::test]
#[ignore = "needs a Secret Service: scripts/with-secret-service.sh … -- --include-ignored"]
async fn test_and_live_connections_keep_their_tokens_in_the_keyring_only() {
    let rig = Rig::start().await;
    let store = store();
    let dir = tempfile::tempdir().unwrap();
    let profile = profile(&rig, &store, &dir, "shop-keep");
    let test_token = connect(&rig, &profile, Mode::Test).await;
    let live_token = connect(&rig, &profile, Mode::Live).await;
    assert_ne!(test_token, live_token);
    assert!(test_token.starts_with("sk_test_") && live_token.starts_with("sk_live_"));
    let redeemed: Vec<bool> = rig.fake.redemptions().iter().map(|r| r.live_key).collect();
    assert_eq!(
        redeemed,
        vec![false, true],
        "each mode redeemed with its own platform key"
    );

    let status = profile.status().await.unwrap();
    assert_eq!(status.method, Some(ConnectionMethod::Connect));
    for (mode, c) in [(Mode::Test, &status.test), (Mode::Live, &status.live)] {
        assert!(c.connected, "{mode:?}: {c:?}");
        assert_eq!(c.via, Some(ConnectionMethod::Connect));
        assert_eq!(
            c.account_id.as_deref(),
            Some(rig.fake.config().account_id.as_str())
        );
        let account = c
            .account
            .as_ref()
            .expect("the status is fetched right after connecting");
        assert_eq!(account.mode, mode);
        assert!(account.charges_enabled && account.payouts_enabled);
        // In Connect mode the app calls Stripe with that mode's token from the keyring.
        let client = profile.client(mode).await.unwrap();
        assert_eq!(client.mode(), mode);
    }
    let mirror = mirror_of(&profile);
    {
        let m = mirror.lock().unwrap();
        let slot = SecretSlot::new("shop-keep", Mode::Test, SecretKind::ConnectAccessToken);
        assert!(
            m.setting(&slot.presence_setting()).unwrap().is_some(),
            "the mirror records that the token exists, not its value"
        );
    }
    drop(profile);
    drop(mirror);
    fluxstore_test_support::assert_no_secret(dir.path(), &[&test_token, &live_token]);
    for mode in [Mode::Test, Mode::Live] {
        for kind in [
            SecretKind::ConnectAccessToken,
            SecretKind::ConnectRefreshToken,
        ] {
            store
                .delete(&SecretSlot::new("shop-keep", mode, kind))
                .unwrap();
        }
    }
}

#[tokio::test]
#[ignore = "needs a Secret Service: scripts/with-secret-service.sh … -- --include-ignored"]
async fn disconnect_counts_renewing_subscriptions_revokes_deletes_tokens_and_keeps_rows() {
    let rig = Rig::start().await;
    let store = store();
    let dir = tempfile::tempdir().unwrap();
    let profile = profile(&rig, &store, &dir, "shop-disconnect");
    let token = connect(&rig, &profile, Mode::Test).await;
    let live_token = connect(&rig, &profile, Mode::Live).await;
    let mirror = mirror_of(&profile);
    ingest_subscriptions(&mirror, &["active", "trialing", "past_due", "canceled"]);
    assert_eq!(profile.renewing_if_revoked(Mode::Test).await.unwrap(), 3);

    let report = profile
        .disconnect(Mode::Test, GUARD)
        .await
        .expect("disconnected");
    assert!(report.was_connect);
    assert_eq!(
        report.renewing_subscriptions, 3,
        "active, trialing and past_due will fail to renew"
    );
    assert!(report.revoked_now);
    assert_eq!(
        report.account_id.as_deref(),
        Some(rig.fake.config().account_id.as_str())
    );
    assert_eq!(
        rig.fake.deauthorized(),
        vec![rig.fake.config().account_id.clone()],
        "revoked at Stripe"
    );
    assert!(!rig.fake.token_is_active(&token));
    let _ = live_token;

    for kind in [
        SecretKind::ConnectAccessToken,
        SecretKind::ConnectRefreshToken,
    ] {
        assert!(
            store
                .get(&SecretSlot::new("shop-disconnect", Mode::Test, kind))
                .unwrap()
                .is_none(),
            "{kind:?} deleted"
        );
    }
    assert_eq!(
        mirror
            .lock()
            .unwrap()
            .subscriptions(Mode::Test)
            .unwrap()
            .len(),
        4,
        "every mirror row is kept"
    );
    let status = profile.status().await.unwrap();
    assert!(!status.test.connected);
    assert_eq!(
        status.test.disconnected_reason.as_deref(),
        Some(REASON_OWNER_DISCONNECTED)
    );
    // Locally the live connection stands until Stripe says otherwise (a 401 or a
    // deauthorization event ends it with its reason).
    assert!(status.live.connected, "the live connection is kept locally");

    let again = profile.disconnect(Mode::Test, GUARD).await;
    assert!(
        again.is_ok_and(|r| !r.revoked_now),
        "a second disconnect has nothing to revoke"
    );
    profile.disconnect(Mode::Live, GUARD).await.unwrap();
}

#[tokio::test]
#[ignore = "needs a Secret Service: scripts/with-secret-service.sh … -- --include-ignored"]
async fn a_token_already_revoked_at_stripe_still_disconnects_locally() {
    let rig = Rig::start().await;
    let store = store();
    let dir = tempfile::tempdir().unwrap();
    let profile = profile(&rig, &store, &dir, "shop-revoked");
    connect(&rig, &profile, Mode::Test).await;
    // The owner removed FluxStore in Stripe's dashboard meanwhile.
    rig.fake.revoke_account(&rig.fake.config().account_id);
    let report = profile
        .disconnect(Mode::Test, GUARD)
        .await
        .expect("disconnected");
    assert!(!report.revoked_now);
    assert!(rig.fake.deauthorized().is_empty());
    let slot = SecretSlot::new("shop-revoked", Mode::Test, SecretKind::ConnectAccessToken);
    assert!(store.get(&slot).unwrap().is_none());
}
