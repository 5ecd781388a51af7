//! A fresh data dir: nothing connected, empty views, clear errors for bad input.
use fluxstore_desktop::dto::*;
use fluxstore_desktop::error::ErrorCode;
use fluxstore_desktop::state::AppState;

use crate::support::Recorder;

fn orders(mode: Mode) -> ListOrdersArgs {
    ListOrdersArgs {
        mode,
        filters: OrderFilters::default(),
        after: None,
        limit: 50,
    }
}

#[tokio::test]
async fn a_fresh_store_is_empty_and_unconnected() {
    let dir = tempfile::tempdir().unwrap();
    let state = AppState::open(dir.path(), Recorder::new(), None)
        .await
        .unwrap();
    assert!(
        dir.path().join("mirror.db").exists(),
        "the mirror file is created"
    );

    let status = state.connection_status().await.unwrap();
    assert_eq!(status.method, None);
    assert!(!status.test.connected && !status.live.connected);
    assert!(!status.relay.listening, "no signing secret, no relay");
    assert!(!status.sample_store);

    assert!(
        state
            .list_orders(orders(Mode::Test))
            .await
            .unwrap()
            .items
            .is_empty()
    );
    assert!(
        state
            .list_disputes(ModeArgs { mode: Mode::Live })
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        state.checklist_facts().await.unwrap(),
        ChecklistFacts::default()
    );
    assert_eq!(
        state
            .account_status(AccountStatusArgs {
                mode: Mode::Test,
                refresh: false
            })
            .await
            .unwrap(),
        None
    );
    state.shutdown().await;
}

#[tokio::test]
async fn choosing_a_method_is_remembered_and_announced() {
    let dir = tempfile::tempdir().unwrap();
    let rec = Recorder::new();
    let state = AppState::open(dir.path(), rec.clone(), None).await.unwrap();
    let status = state
        .choose_method(ChooseMethodArgs {
            method: ConnectionMethod::Keys,
        })
        .await
        .unwrap();
    assert_eq!(status.method, Some(ConnectionMethod::Keys));
    assert_eq!(
        rec.accounts.lock().unwrap().last().unwrap().method,
        Some(ConnectionMethod::Keys)
    );
    state.shutdown().await;
    drop(state);

    let again = AppState::open(dir.path(), Recorder::new(), None)
        .await
        .unwrap();
    assert_eq!(
        again.connection_status().await.unwrap().method,
        Some(ConnectionMethod::Keys)
    );
    again.shutdown().await;
}

#[tokio::test]
async fn bad_input_gets_owner_words_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let state = AppState::open(dir.path(), Recorder::new(), None)
        .await
        .unwrap();

    let e = state
        .order_detail(OrderDetailArgs {
            mode: Mode::Test,
            session_id: "cs_test_nope".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::NotFound);
    assert!(e.message.contains("cs_test_nope"));

    let e = state
        .refund_order(RefundArgs {
            mode: Mode::Test,
            session_id: "cs_test_nope".into(),
            amount: None,
            reason: None,
        })
        .await
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::NotFound);

    // A secret key pasted as the webhook secret: refused by validation, its text never echoed.
    let pasted = "sk_test_51HsecretSECRETsecret0001";
    let e = state
        .save_webhook_secret(SaveWebhookSecretArgs {
            mode: Mode::Test,
            webhook_secret: SecretInput::new(pasted),
        })
        .await
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::InvalidKey);
    assert!(!e.message.contains(pasted) && !e.message.contains("SECRET"));

    // A publishable key where the secret key goes.
    let e = state
        .save_keys(SaveKeysArgs {
            publishable_key: "pk_test_51Habcdefghijklmnop".into(),
            secret_key: SecretInput::new("pk_test_51Hqrstuvwxyzabcdef"),
        })
        .await
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::InvalidKey);

    // Without a keyring nothing secret can be kept, and that is said plainly.
    let e = state
        .save_webhook_secret(SaveWebhookSecretArgs {
            mode: Mode::Test,
            webhook_secret: SecretInput::new("whsec_abcdefghijklmnopqrstuvwx"),
        })
        .await
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::KeyringUnavailable);
    assert!(!e.message.contains("whsec_abcdefghijklmnopqrstuvwx"));

    // Debug of an argument holding a secret is redacted.
    let args = SaveKeysArgs {
        publishable_key: "pk_test_51Habcdefghijklmnop".into(),
        secret_key: SecretInput::new("sk_test_51HsecretSECRETsecret0001"),
    };
    assert!(!format!("{args:?}").contains("SECRET"));

    let e = state
        .open_url(OpenUrlArgs {
            url: "file:///etc/passwd".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::Refused);

    assert!(
        state
            .list_orders(orders(Mode::Test))
            .await
            .unwrap()
            .items
            .is_empty(),
        "nothing changed"
    );
    state.shutdown().await;
}

#[tokio::test]
async fn open_url_hands_https_pages_to_the_browser() {
    let dir = tempfile::tempdir().unwrap();
    let rec = Recorder::new();
    let state = AppState::open(dir.path(), rec.clone(), None).await.unwrap();
    state
        .open_url(OpenUrlArgs {
            url: "https://dashboard.stripe.com/account/onboarding".into(),
        })
        .await
        .unwrap();
    assert_eq!(
        *rec.opened.lock().unwrap(),
        vec!["https://dashboard.stripe.com/account/onboarding"]
    );
    state.shutdown().await;
}
