//! Keys and the signing secret through the real OS keyring (Secret Service), against the
//! local Stripe fake: kept in the keyring only, never in the mirror file or an error.
//!
//! Needs a Secret Service; run inside the throwaway one:
//!   scripts/with-secret-service.sh cargo test -p fluxstore-desktop --test shell -- --include-ignored
use fluxstore_desktop::dto::*;
use fluxstore_desktop::error::ErrorCode;
use fluxstore_desktop::state::AppState;
use fluxstore_gateway::{CancelToken, SecretStore};
use fluxstore_relay::{SigningSecret, sign_header};
use fluxstore_test_support::stripe_fake::{
    AccountSpec, PaymentSpec, StripeFake, StripeFakeConfig, TEST_SECRET_KEY,
};

use fluxstore_test_support::{GUARD, assert_no_secret, eventually, now};

use crate::support::Recorder;

fn keyring() -> SecretStore {
    crate::support::keyring("shell tests")
}

const WHSEC: &str = "whsec_shellkeyringtest0123456789abcdef";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs a Secret Service: scripts/with-secret-service.sh … -- --include-ignored"]
async fn keys_and_signing_secret_live_in_the_keyring_and_start_the_relay() {
    let fake = StripeFake::start(StripeFakeConfig::default())
        .await
        .unwrap();
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

    // A key Stripe does not know is refused before anything is kept.
    let unknown = "sk_test_51UnknownToTheFakeAtAll000000001";
    let e = state
        .save_keys(SaveKeysArgs {
            publishable_key: "pk_test_51FluxStoreFakeKey0000000000000001".into(),
            secret_key: SecretInput::new(unknown),
        })
        .await
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::InvalidKey);
    assert!(!e.message.contains(unknown));
    assert!(!state.connection_status().await.unwrap().test.connected);

    // The right key: checked against the fake's GET /v1/account, then kept.
    let status = state
        .save_keys(SaveKeysArgs {
            publishable_key: "pk_test_51FluxStoreFakeKey0000000000000001".into(),
            secret_key: SecretInput::new(TEST_SECRET_KEY),
        })
        .await
        .unwrap();
    assert!(status.test.connected);
    assert_eq!(status.method, Some(ConnectionMethod::Keys));
    assert!(
        status
            .test
            .account_id
            .as_deref()
            .unwrap_or("")
            .starts_with("acct_")
    );
    assert!(
        status
            .test
            .secrets
            .iter()
            .any(|s| s.kind == SecretShown::SecretKey && s.store.contains("Secret Service"))
    );
    assert!(!status.relay.listening, "no signing secret yet");
    let account = status
        .test
        .account
        .clone()
        .expect("the account's status is read right after the keys are saved");
    assert!(account.charges_enabled && account.payouts_enabled);

    // The signing secret starts the relay, which verifies with it.
    let status = state
        .save_webhook_secret(SaveWebhookSecretArgs {
            mode: Mode::Test,
            webhook_secret: SecretInput::new(WHSEC),
        })
        .await
        .unwrap();
    let url = status.relay.local_url.expect("the relay listens");
    let t = now();
    let event = fluxstore_samples::test_event("checkout.session.completed", false, t).unwrap();
    let body = serde_json::to_vec(&event).unwrap();
    let secret = SigningSecret::new(WHSEC, Mode::Test).unwrap();
    let answer = reqwest::Client::new()
        .post(&url)
        .header("Stripe-Signature", sign_header(&body, &secret, t))
        .body(body)
        .send()
        .await
        .unwrap();
    assert!(answer.status().is_success());
    let id = event["id"].as_str().unwrap().to_owned();
    eventually("the delivery reaches the views", GUARD, || {
        rec.applied_ids().contains(&id)
    })
    .await;

    // The secret was saved for test mode: a live checkout signed with it is refused
    // (mode_mismatch), recorded, and no live order appears.
    let live = fluxstore_samples::test_event("checkout.session.completed", true, t + 1).unwrap();
    let live_body = serde_json::to_vec(&live).unwrap();
    let answer = reqwest::Client::new()
        .post(&url)
        .header("Stripe-Signature", sign_header(&live_body, &secret, t))
        .body(live_body)
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 400);
    let answer: serde_json::Value = answer.json().await.unwrap();
    assert_eq!(answer["error"]["code"], "mode_mismatch");
    let live_orders = state
        .list_orders(ListOrdersArgs {
            mode: Mode::Live,
            filters: OrderFilters::default(),
            after: None,
            limit: 50,
        })
        .await
        .unwrap();
    assert!(
        live_orders.items.is_empty(),
        "no live order from a test secret"
    );

    // Stripe turns payouts off (onboarding needs more): its signed account.updated, delivered
    // to the relay, moves the status the app shows — no refresh, no network.
    let later = fake.update_account(
        AccountSpec {
            id: account.account_id.clone(),
            payouts_enabled: false,
            currently_due: vec!["external_account".into()],
            ..AccountSpec::default()
        },
        false,
        t + 5,
    );
    let body = serde_json::to_vec(&later).unwrap();
    let answer = reqwest::Client::new()
        .post(&url)
        .header("Stripe-Signature", sign_header(&body, &secret, t + 5))
        .body(body)
        .send()
        .await
        .unwrap();
    assert!(answer.status().is_success());
    let moved = state.connection_status().await.unwrap();
    let moved = moved.test.account.as_ref().expect("still known");
    assert!(moved.charges_enabled && !moved.payouts_enabled, "{moved:?}");
    assert_eq!(moved.requirements.currently_due, vec!["external_account"]);

    // Restart: the relay comes back on its own from the keyring, on the same port.
    state.shutdown().await;
    drop(state);
    let rec2 = Recorder::new();
    let again = AppState::open_with(
        dir.path(),
        rec2.clone(),
        Some(keyring()),
        Some(fake.base_url()),
    )
    .await
    .unwrap();
    assert_eq!(
        again
            .connection_status()
            .await
            .unwrap()
            .relay
            .local_url
            .as_deref(),
        Some(url.as_str())
    );

    // Events sync heals what the relay never received (a payment made while it was down).
    let missed = fake.seed_payment(&PaymentSpec {
        amount: 4_200,
        currency: "eur".into(),
        email: "missed@example.com".into(),
        livemode: false,
        created: now() - 120,
    });
    again
        .sync_mode(Mode::Test, &CancelToken::new())
        .await
        .unwrap();
    let detail = again
        .order_detail(OrderDetailArgs {
            mode: Mode::Test,
            session_id: missed.session_id.clone(),
        })
        .await
        .unwrap();
    assert_eq!(detail.order.status, OrderStatus::Paid);
    assert!(
        detail
            .timeline
            .iter()
            .all(|t| t.source == Source::EventsApi)
    );
    let last = rec2
        .progress
        .lock()
        .unwrap()
        .last()
        .cloned()
        .expect("sync progress reached the UI");
    assert!(last.done && last.events >= 3 && last.gap.is_none());
    // Each event the sync stored was announced to the views, in test mode.
    let announced = rec2.applied.lock().unwrap().clone();
    for event in &missed.events {
        let id = event["id"].as_str().unwrap();
        let notice = announced
            .iter()
            .find(|a| a.event_id == id)
            .unwrap_or_else(|| panic!("event_applied for {id}"));
        assert_eq!(notice.event_type, event["type"].as_str().unwrap());
        assert_eq!(notice.mode, Mode::Test);
        assert!(notice.projected);
    }

    // Disconnect forgets the secrets; the orders stay.
    let status = again
        .disconnect(ModeArgs { mode: Mode::Test })
        .await
        .unwrap();
    assert!(!status.test.connected && status.test.secrets.is_empty());
    assert!(again.checklist_facts().await.unwrap().test.event_count > 0);
    again.shutdown().await;

    // No secret in the data dir: the mirror, its -wal and -shm, anything else written there.
    assert_no_secret(dir.path(), &[&TEST_SECRET_KEY[..16], &WHSEC[..16]]);
}
