//! The desktop's loopback client through the real service and fake Stripe, driven by a browser.

use std::time::Duration;

use fluxstore_gateway::oauth::{ConnectOptions, OAuthError, PendingConnect, revoke};
use fluxstore_mirror::Mode;
use fluxstore_test_support::connect_fake::{ConnectFakeConfig, Decision};

use crate::rig::{Rig, browser};

/// Hang guard for every await on the flow; the tests never measure time.
const GUARD: Duration = Duration::from_secs(30);

async fn run_flow(
    rig: &Rig,
    options: ConnectOptions,
) -> (
    Result<fluxstore_gateway::oauth::ConnectTokens, OAuthError>,
    String,
) {
    let pending = PendingConnect::start(options)
        .await
        .expect("listener binds");
    let url = pending.authorize_url().clone();
    let finish = tokio::spawn(pending.finish());
    let page = browser()
        .get(url)
        .send()
        .await
        .expect("browser reaches the loopback");
    assert_eq!(page.status(), 200);
    let page = page.text().await.unwrap();
    let result = tokio::time::timeout(GUARD, finish)
        .await
        .expect("flow ends")
        .expect("no panic");
    let _ = rig;
    (result, page)
}

#[tokio::test]
async fn an_approved_connection_hands_stripes_tokens_to_the_desktop() {
    let rig = Rig::start().await;
    let pending = PendingConnect::start(ConnectOptions::new(rig.service_url(), Mode::Test))
        .await
        .unwrap();
    let url = pending.authorize_url().clone();
    assert_eq!(url.host_str(), Some("127.0.0.1"));
    let q: std::collections::HashMap<_, _> = url.query_pairs().into_owned().collect();
    assert_eq!(q["code_challenge_method"], "S256");
    assert_eq!(q["response_type"], "code");
    assert_eq!(
        q["mode"], "test",
        "the mode asked for travels to the service"
    );
    assert!(
        q["redirect_uri"].starts_with("http://127.0.0.1:"),
        "RFC 8252 loopback: {}",
        q["redirect_uri"]
    );
    assert_eq!(&q["redirect_uri"], pending.redirect_uri().as_str());

    let finish = tokio::spawn(pending.finish());
    let page = browser()
        .get(url)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let tokens = tokio::time::timeout(GUARD, finish)
        .await
        .unwrap()
        .unwrap()
        .expect("connected");

    assert!(page.contains("Connected to Stripe"), "{page}");
    assert_eq!(tokens.stripe_user_id, rig.fake.config().account_id);
    assert_eq!(tokens.mode(), Mode::Test);
    assert_eq!(tokens.scope, "read_write");
    assert_eq!(tokens.token_type, "bearer");
    assert!(tokens.stripe_publishable_key.starts_with("pk_test_"));
    assert!(tokens.refresh_token.is_some());
    assert!(
        rig.fake.token_is_active(tokens.access_token.expose()),
        "the token is the one Stripe issued"
    );
    assert!(
        !format!("{tokens:?}").contains(tokens.access_token.expose()),
        "Debug redacts the token"
    );

    // What Stripe saw: the service's own registered redirect URI and state, read_write.
    let seen = rig.fake.authorize_requests();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0]["client_id"], rig.fake.config().client_id);
    assert_eq!(seen[0]["scope"], "read_write");
    assert_eq!(
        seen[0]["redirect_uri"],
        rig.service_url().join("/oauth/callback").unwrap().as_str()
    );
    assert_ne!(
        seen[0]["state"], q["state"],
        "the service uses its own state with Stripe"
    );
}

#[tokio::test]
async fn a_denied_connection_surfaces_stripes_reason() {
    let config = ConnectFakeConfig {
        decision: Decision::Deny,
        ..ConnectFakeConfig::default()
    };
    let rig = Rig::start_with(config, |_| {}).await;
    let (result, page) = run_flow(&rig, ConnectOptions::new(rig.service_url(), Mode::Test)).await;
    match result {
        Err(OAuthError::Denied { description }) => {
            assert_eq!(description, "The user denied your request")
        }
        other => panic!("expected a denial, got {other:?}"),
    }
    assert!(
        page.contains("Not connected") && page.contains("denied"),
        "{page}"
    );
    assert_eq!(
        rig.fake.token_requests(),
        0,
        "nothing is redeemed after a denial"
    );
}

#[tokio::test]
async fn a_callback_with_another_state_is_refused_and_the_sign_in_goes_on() {
    let rig = Rig::start().await;
    let pending = PendingConnect::start(ConnectOptions::new(rig.service_url(), Mode::Test))
        .await
        .unwrap();
    let url = pending.authorize_url().clone();
    let mut forged = pending.redirect_uri().clone();
    forged
        .query_pairs_mut()
        .append_pair("code", "fsc_forged")
        .append_pair("state", "not-the-state");
    let finish = tokio::spawn(pending.finish());
    // Any page on this computer can send the browser to the loopback with another state.
    let refused = browser().get(forged).send().await.unwrap();
    assert_eq!(refused.status(), 400);
    assert!(
        refused
            .text()
            .await
            .unwrap()
            .contains("does not belong to the sign-in in progress")
    );
    assert!(
        !finish.is_finished(),
        "the owner's sign-in is still waiting"
    );
    // The owner's own answer then completes it.
    browser().get(url).send().await.unwrap();
    let tokens = tokio::time::timeout(GUARD, finish)
        .await
        .unwrap()
        .unwrap()
        .expect("the real answer still connects");
    assert_eq!(tokens.stripe_user_id, rig.fake.config().account_id);
}

#[tokio::test]
async fn speculative_connections_and_other_paths_are_ignored() {
    let rig = Rig::start().await;
    let pending = PendingConnect::start(ConnectOptions::new(rig.service_url(), Mode::Test))
        .await
        .unwrap();
    let url = pending.authorize_url().clone();
    let port = pending.redirect_uri().port().unwrap();
    let finish = tokio::spawn(pending.finish());

    // A preconnect that never sends a byte, one that closes at once, and a favicon request.
    let idle = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .unwrap();
    drop(
        tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .unwrap(),
    );
    let favicon = browser()
        .get(format!("http://127.0.0.1:{port}/favicon.ico"))
        .send()
        .await
        .unwrap();
    assert_eq!(favicon.status(), 404);
    // An oversized request head is refused without ending the flow.
    let huge = format!(
        "http://127.0.0.1:{port}/callback?pad={}",
        "x".repeat(20_000)
    );
    let resp = browser().get(huge).send().await.unwrap();
    assert_eq!(resp.status(), 431);

    let page = browser()
        .get(url)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let tokens = tokio::time::timeout(GUARD, finish)
        .await
        .unwrap()
        .unwrap()
        .expect("connected");
    assert!(page.contains("Connected to Stripe"));
    assert!(tokens.stripe_user_id.starts_with("acct_"));
    drop(idle);
}

#[tokio::test]
async fn waiting_ends_after_the_configured_timeout() {
    let rig = Rig::start().await;
    let mut options = ConnectOptions::new(rig.service_url(), Mode::Test);
    options.timeout = Duration::from_millis(200);
    let pending = PendingConnect::start(options).await.unwrap();
    let redirect = pending.redirect_uri().clone();
    let result = tokio::time::timeout(GUARD, pending.finish()).await.unwrap();
    assert!(
        matches!(result, Err(OAuthError::TimedOut { .. })),
        "{result:?}"
    );
    assert_eq!(result.unwrap_err().code(), "timed_out");
    // The listener is gone: the port no longer accepts the callback.
    assert!(
        tokio::net::TcpStream::connect(("127.0.0.1", redirect.port().unwrap()))
            .await
            .is_err()
    );
}

#[tokio::test]
async fn a_pending_connection_can_be_cancelled() {
    let rig = Rig::start().await;
    let pending = PendingConnect::start(ConnectOptions::new(rig.service_url(), Mode::Test))
        .await
        .unwrap();
    let cancel = pending.cancel_handle();
    let finish = tokio::spawn(pending.finish());
    tokio::task::yield_now().await;
    cancel.cancel();
    let result = tokio::time::timeout(GUARD, finish).await.unwrap().unwrap();
    assert!(matches!(result, Err(OAuthError::Cancelled)), "{result:?}");
    assert!(rig.fake.authorize_requests().is_empty());
}

#[tokio::test]
async fn revoke_deauthorizes_at_stripe_only_for_the_holder_of_the_token() {
    let rig = Rig::start().await;
    let (result, _) = run_flow(&rig, ConnectOptions::new(rig.service_url(), Mode::Test)).await;
    let tokens = result.expect("connected");
    let account = tokens.stripe_user_id.clone();

    let stranger = fluxstore_gateway::Secret::new("sk_test_not_a_token_of_this_account");
    let refused = revoke(&rig.service_url(), &stranger, &account, GUARD).await;
    assert!(
        matches!(refused, Err(OAuthError::TokenRejected)),
        "{refused:?}"
    );
    assert!(
        rig.fake.deauthorized().is_empty(),
        "a stranger cannot disconnect the account"
    );

    revoke(&rig.service_url(), &tokens.access_token, &account, GUARD)
        .await
        .expect("revoked");
    assert_eq!(rig.fake.deauthorized(), vec![account.clone()]);
    assert!(
        !rig.fake.token_is_active(tokens.access_token.expose()),
        "access ends at once"
    );

    let again = revoke(&rig.service_url(), &tokens.access_token, &account, GUARD).await;
    assert!(matches!(again, Err(OAuthError::TokenRejected)), "{again:?}");
}

#[tokio::test]
async fn a_service_that_stripe_refuses_fails_the_flow_with_a_clear_reason() {
    // The operator configured a wrong platform key: Stripe refuses to redeem its code.
    let rig = Rig::start_with(ConnectFakeConfig::default(), |c| {
        c.platform_keys =
            fluxstore_connect::PlatformKeys::from_keys([secrecy::SecretString::from(
                "sk_test_wrong_platform_key".to_owned(),
            )])
            .unwrap();
    })
    .await;
    let (result, page) = run_flow(&rig, ConnectOptions::new(rig.service_url(), Mode::Test)).await;
    match result {
        Err(OAuthError::Provider { code, description }) => {
            assert_eq!(code, "server_error");
            assert!(
                description.contains("Stripe did not complete the connection"),
                "{description}"
            );
        }
        other => panic!("expected a provider error, got {other:?}"),
    }
    assert!(page.contains("Not connected"));
}
