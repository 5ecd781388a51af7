//! Connect with the real OS keyring (Secret Service on Linux): the whole flow ends with the
//! token in the keyring, and disconnect counts renewing subscriptions, revokes through the
//! service, deletes the local tokens and keeps every mirror row.
//!
//! Every test here needs a reachable, unlocked Secret Service. Run them with
//!   scripts/with-secret-service.sh cargo test -p fluxstore-connect --test connect -- connect_keyring:: --include-ignored
//! Run with `--ignored` outside that script and they fail loudly, never pass silently.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use fluxstore_gateway::connect::{self, REASON_OWNER_DISCONNECTED};
use fluxstore_gateway::oauth::{ConnectOptions, PendingConnect};
use fluxstore_gateway::{SecretKind, SecretSlot, SecretStore};
use fluxstore_mirror::{Mirror, Mode, Source};
use fluxstore_samples::{ApiShape, Ctx, SubscriptionSpec, envelope, subscription};
use fluxstore_test_support::{assert_no_secret, temp_mirror};

use crate::rig::{Rig, browser};

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

/// Connect through the real loopback flow and keep the result as the app does.
async fn connect(
    rig: &Rig,
    store: &SecretStore,
    mirror: &Arc<Mutex<Mirror>>,
    store_account: &str,
) -> String {
    let pending = PendingConnect::start(ConnectOptions::new(rig.service_url()))
        .await
        .unwrap();
    let url = pending.authorize_url().clone();
    let finish = tokio::spawn(pending.finish());
    browser().get(url).send().await.unwrap();
    let tokens = tokio::time::timeout(GUARD, finish)
        .await
        .unwrap()
        .unwrap()
        .expect("connected");
    let mut m = mirror.lock().unwrap();
    connect::store_connection(store, &mut m, store_account, &rig.service_url(), &tokens).unwrap();
    tokens.access_token.expose().to_owned()
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
async fn a_connection_keeps_its_token_in_the_keyring_only() {
    let rig = Rig::start().await;
    let store = store();
    let (dir, mirror) = temp_mirror().shared();
    let token = connect(&rig, &store, &mirror, "shop-keep").await;

    let slot = SecretSlot::new("shop-keep", Mode::Test, SecretKind::ConnectAccessToken);
    assert_eq!(store.get(&slot).unwrap().unwrap().expose(), token);
    let (from_keyring, account, mode) =
        connect::access_token(&store, &mirror.lock().unwrap(), "shop-keep").unwrap();
    assert_eq!(from_keyring.expose(), token);
    assert_eq!(account, rig.fake.config().account_id);
    assert_eq!(mode, Mode::Test);
    // In Connect mode the app calls Stripe with the token from the keyring.
    let mut cfg = fluxstore_gateway::ClientConfig::from_env(Some(&rig.fake.base_url())).unwrap();
    cfg.max_retries = 0;
    let client = connect::connect_client(&store, &mirror, "shop-keep", cfg).unwrap();
    let status = client.account().await.expect("Stripe accepts the token");
    assert_eq!(status.id, rig.fake.config().account_id);
    assert!(status.charges_enabled);
    assert!(
        mirror
            .lock()
            .unwrap()
            .setting(&slot.presence_setting())
            .unwrap()
            .is_some(),
        "the mirror records that the token exists, not its value"
    );
    assert_no_secret(dir.path(), &[&token]);
    drop(mirror);
    assert_no_secret(dir.path(), &[&token]);
    store.delete(&slot).unwrap();
    store
        .delete(&SecretSlot::new(
            "shop-keep",
            Mode::Test,
            SecretKind::ConnectRefreshToken,
        ))
        .unwrap();
}

#[tokio::test]
#[ignore = "needs a Secret Service: scripts/with-secret-service.sh … -- --include-ignored"]
async fn disconnect_counts_renewing_subscriptions_revokes_deletes_tokens_and_keeps_rows() {
    let rig = Rig::start().await;
    let store = store();
    let (_dir, mirror) = temp_mirror().shared();
    let token = connect(&rig, &store, &mirror, "shop-disconnect").await;
    ingest_subscriptions(&mirror, &["active", "trialing", "past_due", "canceled"]);

    let report = connect::disconnect(&store, &mirror, "shop-disconnect", GUARD)
        .await
        .expect("disconnected");
    assert_eq!(
        report.renewing_subscriptions, 3,
        "active, trialing and past_due will fail to renew"
    );
    assert!(report.revoked_now);
    assert_eq!(report.account_id, rig.fake.config().account_id);
    assert_eq!(
        rig.fake.deauthorized(),
        vec![report.account_id.clone()],
        "revoked at Stripe"
    );
    assert!(!rig.fake.token_is_active(&token));

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
    {
        let m = mirror.lock().unwrap();
        assert_eq!(
            m.subscriptions(Mode::Test).unwrap().len(),
            4,
            "every mirror row is kept"
        );
        let st = connect::status(&m).unwrap();
        assert!(!st.connected);
        assert_eq!(st.reason.as_deref(), Some(REASON_OWNER_DISCONNECTED));
    }

    let again = connect::disconnect(&store, &mirror, "shop-disconnect", GUARD).await;
    assert!(
        again.is_ok_and(|r| !r.revoked_now),
        "a second disconnect has nothing to revoke"
    );
}

#[tokio::test]
#[ignore = "needs a Secret Service: scripts/with-secret-service.sh … -- --include-ignored"]
async fn a_token_already_revoked_at_stripe_still_disconnects_locally() {
    let rig = Rig::start().await;
    let store = store();
    let (_dir, mirror) = temp_mirror().shared();
    connect(&rig, &store, &mirror, "shop-revoked").await;
    // The owner removed FluxStore in Stripe's dashboard meanwhile.
    rig.fake.revoke_account(&rig.fake.config().account_id);
    let report = connect::disconnect(&store, &mirror, "shop-revoked", GUARD)
        .await
        .expect("disconnected");
    assert!(!report.revoked_now);
    assert!(rig.fake.deauthorized().is_empty());
    let slot = SecretSlot::new("shop-revoked", Mode::Test, SecretKind::ConnectAccessToken);
    assert!(store.get(&slot).unwrap().is_none());
}
