//! The onboarding checklist's facts from the profile, over a real mirror, the real OS keyring
//! and the local Stripe fake: the test-payment step cannot tick on the history the first sync
//! pulls, and the key-mode webhook step reads `GET /v1/webhook_endpoints` and names what is
//! missing.
//!
//! Needs a Secret Service (the keys go to the keyring); run inside the throwaway one:
//!   scripts/with-secret-service.sh cargo test -p fluxstore-gateway -- --include-ignored
use std::sync::{Arc, Mutex};

use fluxstore_gateway::profile::feed::Quiet;
use fluxstore_gateway::{
    CancelToken, ManualKeys, Profile, ProfileConfig, SecretStore, SyncOptions,
};
use fluxstore_mirror::facts::WEBHOOK_EVENTS;
use fluxstore_mirror::{Mirror, Mode};
use fluxstore_test_support::now;
use fluxstore_test_support::stripe_fake::{PaymentSpec, StripeFake, TEST_SECRET_KEY};

struct World {
    _dir: tempfile::TempDir,
    fake: StripeFake,
    profile: Profile,
}

async fn world() -> World {
    let fake = StripeFake::start(Default::default()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mirror = Mirror::open(&dir.path().join("mirror.db")).unwrap();
    // One keyring service per test: tests run in parallel and each forgets its keys at the end.
    static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let keyring = SecretStore::with_service(&format!(
        "FluxStore Desktop checklist tests {} {}",
        std::process::id(),
        NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    ))
    .unwrap();
    if let Err(e) = keyring.probe() {
        panic!("no usable Secret Service ({e}); run inside scripts/with-secret-service.sh");
    }
    let config = ProfileConfig {
        api_base: Some(fake.base_url()),
        ..ProfileConfig::new("checklist-test")
    };
    let profile = Profile::open(config, Some(keyring), Arc::new(Mutex::new(mirror))).unwrap();
    World {
        _dir: dir,
        fake,
        profile,
    }
}

impl World {
    fn paid(&self, created: i64, email: &str) {
        self.fake.seed_payment(&PaymentSpec {
            amount: 2_500,
            currency: "usd".into(),
            email: email.into(),
            livemode: false,
            created,
        });
    }

    async fn save_test_keys(&self) {
        let keys = ManualKeys::parse(
            Some("pk_test_51FluxStoreChecklist0000000000000001"),
            TEST_SECRET_KEY,
            None,
        )
        .unwrap();
        self.profile.save_keys(keys).await.unwrap();
    }

    async fn sync(&self) {
        self.profile
            .sync(
                Mode::Test,
                &SyncOptions::default(),
                &Quiet,
                &CancelToken::new(),
            )
            .await
            .unwrap()
            .expect("test mode is connected");
    }

    async fn forget(&self) {
        let _ = self
            .profile
            .disconnect(Mode::Test, std::time::Duration::from_secs(1))
            .await;
    }
}

#[tokio::test]
#[ignore = "needs a Secret Service: scripts/with-secret-service.sh … -- --include-ignored"]
async fn the_test_payment_stays_undone_after_the_first_sync_and_ticks_on_a_new_order() {
    let w = world().await;
    // Last week's orders, already paid before FluxStore was connected.
    w.paid(now() - 7 * 86_400, "old1@example.com");
    w.paid(now() - 2 * 86_400, "old2@example.com");
    w.save_test_keys().await;
    w.sync().await;

    let facts = w.profile.checklist_facts().await.unwrap().test;
    assert_eq!(
        facts.first_paid_order, None,
        "history must not tick the step"
    );
    assert_eq!(facts.earlier_paid_orders, 2);
    assert!(facts.connected_at.is_some_and(|t| t >= now() - 60));
    assert!(facts.last_polled_at.is_some(), "the events came by polling");
    assert_eq!(facts.last_webhook_at, None, "no webhook has arrived");

    // A new order placed after connecting ticks it at the next sync.
    w.paid(now() + 1, "new@example.com");
    w.sync().await;
    let facts = w.profile.checklist_facts().await.unwrap().test;
    let (session, _) = facts
        .first_paid_order
        .expect("the new order proves test mode");
    let detail = w
        .profile
        .read(move |m| m.order_detail(Mode::Test, &session))
        .await
        .unwrap()
        .expect("the order is in the mirror");
    assert_eq!(
        detail.order.customer_email.as_deref(),
        Some("new@example.com")
    );
    assert_eq!(
        facts.earlier_paid_orders, 0,
        "the history no longer matters"
    );

    // Saving the keys again does not move the line forward.
    let since = facts.connected_at;
    w.save_test_keys().await;
    assert_eq!(
        w.profile.checklist_facts().await.unwrap().test.connected_at,
        since
    );
    w.forget().await;
}

#[tokio::test]
#[ignore = "needs a Secret Service: scripts/with-secret-service.sh … -- --include-ignored"]
async fn the_webhook_check_names_a_missing_event() {
    let w = world().await;
    w.save_test_keys().await;
    let none = w.profile.check_webhook_endpoint(Mode::Test).await.unwrap();
    assert!(!none.ok && none.endpoints == 0, "{none:?}");
    assert!(
        none.message.contains("no webhook endpoint"),
        "{}",
        none.message
    );

    let eleven: Vec<&str> = WEBHOOK_EVENTS
        .iter()
        .map(|e| e.event_type)
        .filter(|t| *t != "invoice.payment_failed")
        .collect();
    w.fake
        .add_webhook_endpoint("https://elsewhere.example/hooks", &["*"], "enabled", false);
    w.fake.add_webhook_endpoint(
        "https://shop.example/api/webhooks/stripe",
        &eleven,
        "enabled",
        false,
    );
    // A live endpoint is not this mode's.
    w.fake.add_webhook_endpoint(
        "https://shop.example/api/webhooks/stripe",
        &["*"],
        "enabled",
        true,
    );
    let c = w.profile.check_webhook_endpoint(Mode::Test).await.unwrap();
    assert!(!c.ok);
    assert_eq!(c.endpoints, 2, "the test account's two endpoints");
    assert_eq!(c.missing_events, vec!["invoice.payment_failed"]);
    assert_eq!(
        c.url.as_deref(),
        Some("https://shop.example/api/webhooks/stripe")
    );
    assert!(
        c.message.contains("does not send invoice.payment_failed"),
        "{}",
        c.message
    );

    // Once an endpoint with all 12 exists, the step passes.
    let all: Vec<&str> = WEBHOOK_EVENTS.iter().map(|e| e.event_type).collect();
    let made = w.fake.add_webhook_endpoint(
        "https://tunnel.example/api/webhooks/stripe",
        &all,
        "enabled",
        false,
    );
    let c = w.profile.check_webhook_endpoint(Mode::Test).await.unwrap();
    assert!(c.ok, "{c:?}");
    assert_eq!(c.endpoint_id.as_deref(), made["id"].as_str());
    // The read is audited like every call, and no listed endpoint carried a secret.
    let calls = w.profile.read(|m| m.api_calls(50)).await.unwrap();
    assert!(
        calls
            .iter()
            .any(|c| c.path.starts_with("/v1/webhook_endpoints")),
        "{calls:?}"
    );
    w.forget().await;
}
