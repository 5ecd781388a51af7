//! Secrets in the real OS keyring (Secret Service on Linux).
//!
//! Tests marked `#[ignore]` need a reachable, unlocked Secret Service. Run them with
//!   scripts/with-secret-service.sh cargo test -p fluxstore-gateway --test gateway -- keyring:: --include-ignored
//! Run with `--ignored` outside that script and they fail loudly, never pass silently.
//! The unreachable-keyring test needs no service and always runs.

use crate::common::World;
use fluxstore_gateway::keystore::{KeyringError, record_presence};
use fluxstore_gateway::webhook::{EXTRA_WEBHOOK_EVENTS, WEBHOOK_EVENTS};
use fluxstore_gateway::{STRIPE_VERSION, Secret, SecretKind, SecretSlot, SecretStore};
use fluxstore_mirror::Mode;
use fluxstore_test_support::assert_no_secret;
use fluxstore_test_support::no_secret::scan;
use fluxstore_test_support::stripe_fake::TEST_SECRET_KEY;

/// A store under a service name of its own, so runs never touch the app's real entries.
fn store() -> SecretStore {
    let s = SecretStore::with_service(&format!("FluxStore Desktop tests {}", std::process::id()))
        .unwrap();
    if let Err(e) = s.probe() {
        panic!(
            "no usable Secret Service ({e}); run these tests inside scripts/with-secret-service.sh (FLUXSTORE_REQUIRE_SECRET_SERVICE={:?})",
            std::env::var("FLUXSTORE_REQUIRE_SECRET_SERVICE").ok()
        );
    }
    s
}

#[test]
#[ignore = "needs a Secret Service: scripts/with-secret-service.sh … -- --include-ignored"]
fn secrets_are_written_read_replaced_and_deleted_per_account_mode_and_kind() {
    let s = store();
    let test_key = SecretSlot::new("default", Mode::Test, SecretKind::ApiKey);
    let live_key = SecretSlot::new("default", Mode::Live, SecretKind::ApiKey);
    let other_store = SecretSlot::new("shop2", Mode::Test, SecretKind::ApiKey);
    let token = SecretSlot::new("default", Mode::Live, SecretKind::ConnectAccessToken);
    assert!(s.get(&test_key).unwrap().is_none());

    s.put(&test_key, &Secret::new("sk_test_first")).unwrap();
    s.put(&live_key, &Secret::new("rk_live_second")).unwrap();
    s.put(&other_store, &Secret::new("sk_test_third")).unwrap();
    s.put(&token, &Secret::new("token_fourth")).unwrap();
    assert_eq!(s.get(&test_key).unwrap().unwrap().expose(), "sk_test_first");
    assert_eq!(
        s.get(&live_key).unwrap().unwrap().expose(),
        "rk_live_second"
    );
    assert_eq!(
        s.get(&other_store).unwrap().unwrap().expose(),
        "sk_test_third"
    );
    assert_eq!(s.get(&token).unwrap().unwrap().expose(), "token_fourth");

    s.put(&test_key, &Secret::new("sk_test_replaced")).unwrap();
    assert_eq!(
        s.get(&test_key).unwrap().unwrap().expose(),
        "sk_test_replaced"
    );

    for slot in [&test_key, &live_key, &other_store, &token] {
        assert!(s.delete(slot).unwrap());
        assert!(!s.exists(slot).unwrap());
        assert!(!s.delete(slot).unwrap(), "deleting twice is not an error");
    }
}

#[tokio::test]
#[ignore = "needs a Secret Service: scripts/with-secret-service.sh … -- --include-ignored"]
async fn a_created_webhook_endpoint_puts_its_secret_straight_into_the_keyring() {
    let w = World::new().await;
    let s = store();
    let endpoint = w
        .client(TEST_SECRET_KEY)
        .create_webhook_endpoint(
            "https://relay.shop.example/api/webhooks/stripe",
            &s,
            "default",
        )
        .await
        .unwrap();
    let at_stripe = &w.fake.webhook_endpoints()[0];
    assert_eq!(endpoint.id, at_stripe["id"].as_str().unwrap());
    assert_eq!(at_stripe["api_version"], STRIPE_VERSION);
    let events: Vec<&str> = at_stripe["enabled_events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert_eq!(
        events.len(),
        WEBHOOK_EVENTS.len() + EXTRA_WEBHOOK_EVENTS.len()
    );
    assert!(
        WEBHOOK_EVENTS
            .iter()
            .chain(EXTRA_WEBHOOK_EVENTS.iter())
            .all(|e| events.contains(&e.event_type))
    );

    let secret = at_stripe["secret"].as_str().unwrap();
    let by_endpoint =
        SecretSlot::new("default", Mode::Test, SecretKind::WebhookSecret).with_label(&endpoint.id);
    let current = SecretSlot::new("default", Mode::Test, SecretKind::WebhookSecret);
    assert_eq!(s.get(&by_endpoint).unwrap().unwrap().expose(), secret);
    assert_eq!(s.get(&current).unwrap().unwrap().expose(), secret);
    assert!(!format!("{endpoint:?}").contains(secret));

    // The mirror learns only that the secret exists, and where.
    let m = w.mirror.lock().unwrap();
    assert_eq!(
        m.setting(&current.presence_setting()).unwrap().as_deref(),
        Some(s.backend())
    );
    drop(m);
    assert_no_secret(w.dir.path(), &[secret]);
    s.delete(&by_endpoint).unwrap();
    s.delete(&current).unwrap();
    let mut m = w.mirror.lock().unwrap();
    record_presence(&mut m, &s, &current, false).unwrap();
    assert_eq!(m.setting(&current.presence_setting()).unwrap(), None);
}

/// Runs in a child process whose environment has no reachable D-Bus session.
#[test]
fn an_unreachable_keyring_is_a_clear_error_and_nothing_is_kept_elsewhere() {
    if std::env::var_os("FLUXSTORE_KEYRING_CHILD").is_some() {
        let s = SecretStore::with_service("FluxStore Desktop unreachable test").unwrap();
        let slot = SecretSlot::new("default", Mode::Test, SecretKind::ApiKey);
        let e = s
            .put(&slot, &Secret::new("sk_test_mustnotbekept"))
            .unwrap_err();
        assert!(matches!(e, KeyringError::Unavailable { .. }), "{e:?}");
        let text = e.to_string();
        assert!(
            text.contains("cannot be reached")
                && text.contains("dbus-run-session")
                && text.contains("never stores secrets in plain files"),
            "{text}"
        );
        assert!(!text.contains("mustnotbekept"));
        assert!(matches!(
            s.get(&slot),
            Err(KeyringError::Unavailable { .. })
        ));
        return;
    }
    let home = tempfile::tempdir().unwrap();
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "keyring::an_unreachable_keyring_is_a_clear_error_and_nothing_is_kept_elsewhere",
            "--nocapture",
        ])
        .env("FLUXSTORE_KEYRING_CHILD", "1")
        .env("HOME", home.path())
        .env("XDG_RUNTIME_DIR", home.path())
        .env(
            "DBUS_SESSION_BUS_ADDRESS",
            format!("unix:path={}/no-bus-here", home.path().display()),
        )
        .env_remove("DISPLAY")
        .env_remove("WAYLAND_DISPLAY")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "child failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("1 passed"));
    // Nothing was written to a file in the (throwaway) home either (it may hold no file).
    let leaks = scan(home.path(), &["mustnotbekept"]).unwrap();
    assert!(leaks.is_empty(), "{leaks:?}");
}

/// A Secret Service is on the bus but nothing unlocked it (no login session, no prompt
/// possible): the owner is told to unlock the keyring. The child runs in a private bus of
/// its own, apart from any unlocked one around this test.
#[test]
#[ignore = "needs dbus-run-session and gnome-keyring: scripts/with-secret-service.sh … -- --include-ignored"]
fn a_locked_keyring_says_to_unlock_it() {
    if std::env::var_os("FLUXSTORE_KEYRING_LOCKED_CHILD").is_some() {
        let s = SecretStore::with_service("FluxStore Desktop locked test").unwrap();
        let slot = SecretSlot::new("default", Mode::Test, SecretKind::ApiKey);
        let e = s
            .put(&slot, &Secret::new("sk_test_lockedvalue"))
            .unwrap_err();
        assert!(matches!(e, KeyringError::Locked { .. }), "{e:?}");
        assert!(e.to_string().contains("is locked. Unlock it"), "{e}");
        assert!(!e.to_string().contains("lockedvalue"));
        return;
    }
    let home = tempfile::tempdir().unwrap();
    let out = std::process::Command::new("dbus-run-session")
        .arg("--")
        .arg(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "keyring::a_locked_keyring_says_to_unlock_it",
            "--include-ignored",
            "--nocapture",
        ])
        .env("FLUXSTORE_KEYRING_LOCKED_CHILD", "1")
        .env("HOME", home.path())
        .env("XDG_RUNTIME_DIR", home.path())
        .env_remove("DBUS_SESSION_BUS_ADDRESS")
        .env_remove("DISPLAY")
        .env_remove("WAYLAND_DISPLAY")
        .output()
        .expect("dbus-run-session runs (package dbus)");
    assert!(
        out.status.success() && String::from_utf8_lossy(&out.stdout).contains("1 passed"),
        "child failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}
