//! Test and live: each sign-in is redeemed with the platform key of the mode it asked for, a
//! mode without a key is refused before Stripe hears of it, and tokens of the other mode are
//! handed to nobody — by the service, and by the desktop should a service ever hand them out.

use std::collections::HashMap;
use std::time::Duration;

use fluxstore_connect::api::{AuthorizeQuery, TokenResponse, WireSecret};
use fluxstore_gateway::oauth::{ConnectOptions, ConnectTokens, OAuthError, PendingConnect, revoke};
use fluxstore_mirror::Mode;
use fluxstore_test_support::connect_fake::ConnectFakeConfig;

use crate::rig::{Rig, authorize_by_hand, browser, code_by_hand, pkce, redeem};

const GUARD: Duration = Duration::from_secs(30);

/// A whole sign-in from the desktop in `mode`: its result and the page the owner saw.
async fn sign_in(rig: &Rig, mode: Mode) -> (Result<ConnectTokens, OAuthError>, String) {
    let pending = PendingConnect::start(ConnectOptions::new(rig.service_url(), mode))
        .await
        .unwrap();
    let url = pending.authorize_url().clone();
    let finish = tokio::spawn(pending.finish());
    let page = browser()
        .get(url)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let result = tokio::time::timeout(GUARD, finish).await.unwrap().unwrap();
    (result, page)
}

fn query(url: &url::Url) -> HashMap<String, String> {
    url.query_pairs().into_owned().collect()
}

#[tokio::test]
async fn with_two_keys_each_mode_is_redeemed_with_its_own_key() {
    let rig = Rig::start().await;
    for mode in [Mode::Test, Mode::Live] {
        let (result, page) = sign_in(&rig, mode).await;
        let tokens = result.expect("connected");
        assert!(page.contains("Connected to Stripe"), "{page}");
        assert_eq!(tokens.mode(), mode);
        let prefix = format!("sk_{}_", mode.as_str());
        assert!(tokens.access_token.expose().starts_with(&prefix));
        let pk = format!("pk_{}_", mode.as_str());
        assert!(tokens.stripe_publishable_key.starts_with(&pk));
        let last = rig.fake.redemptions().pop().expect("a redemption");
        assert_eq!(
            last.live_key,
            mode.is_live(),
            "redeemed with the {mode:?} key"
        );
    }
    assert_eq!(rig.fake.redemptions().len(), 2);
}

#[tokio::test]
async fn an_authorize_request_naming_no_mode_signs_in_live() {
    let rig = Rig::start().await;
    let (verifier, challenge) = pkce();
    let (code, redirect_uri) = code_by_hand(&rig, &challenge).await;
    let (status, body) = redeem(&rig, &code, &verifier, &redirect_uri).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["livemode"], true);
    let tokens: TokenResponse = serde_json::from_value(body).unwrap();
    assert!(tokens.access_token.expose().starts_with("sk_live_"));
    assert!(rig.fake.redemptions()[0].live_key);
}

#[tokio::test]
async fn a_mode_without_a_key_is_refused_in_words_before_stripe_hears_of_it() {
    let rig = Rig::start_serving(ConnectFakeConfig::default(), &[Mode::Live], |_| {}).await;
    let (result, page) = sign_in(&rig, Mode::Test).await;
    match result {
        Err(OAuthError::Provider { code, description }) => {
            assert_eq!(code, "invalid_request");
            assert!(
                description.contains("not set up for test mode"),
                "{description}"
            );
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
    assert!(
        page.contains("Not connected") && page.contains("not set up for test mode"),
        "{page}"
    );
    assert!(
        rig.fake.authorize_requests().is_empty(),
        "Stripe saw nothing"
    );
    assert_eq!(rig.fake.token_requests(), 0);

    // The default mode is refused the same way by a service with the test key only.
    let rig = Rig::start_serving(ConnectFakeConfig::default(), &[Mode::Test], |_| {}).await;
    let (_, challenge) = pkce();
    let back = query(&authorize_by_hand(&rig, &challenge, None).await);
    assert_eq!(back["error"], "invalid_request");
    assert!(back["error_description"].contains("not set up for live mode"));
    assert_eq!(back["state"], "desktop-state-1");
    assert!(!back.contains_key("code"));
    assert!(rig.fake.authorize_requests().is_empty());
}

#[tokio::test]
async fn a_mode_other_than_test_or_live_is_refused() {
    let rig = Rig::start().await;
    let (_, challenge) = pkce();
    for bad in ["sandbox", "LIVE", ""] {
        let back = query(&authorize_by_hand(&rig, &challenge, Some(bad)).await);
        assert_eq!(back["error"], "invalid_request", "{bad}");
        assert!(back["error_description"].contains("test or live"));
        assert!(!back.contains_key("code"));
    }
    assert!(rig.fake.authorize_requests().is_empty());
}

#[tokio::test]
async fn tokens_of_the_other_mode_are_handed_out_to_nobody() {
    // A Stripe that answers livemode=true whatever key redeemed.
    let misbehaving = ConnectFakeConfig {
        livemode_override: Some(true),
        ..ConnectFakeConfig::default()
    };
    let rig = Rig::start_with(misbehaving, |_| {}).await;
    let (result, page) = sign_in(&rig, Mode::Test).await;
    match result {
        Err(OAuthError::Provider { code, description }) => {
            assert_eq!(code, "server_error");
            assert!(
                description.contains("live mode") && description.contains("test mode"),
                "{description}"
            );
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
    assert!(page.contains("Not connected"), "{page}");
    let redemptions = rig.fake.redemptions();
    assert_eq!(redemptions.len(), 1);
    assert!(!redemptions[0].live_key, "the test key redeemed the code");

    // Played by hand: the loopback gets an error and no code to redeem.
    let (_, challenge) = pkce();
    let back = query(&authorize_by_hand(&rig, &challenge, Some("test")).await);
    assert_eq!(back["error"], "server_error");
    assert!(!back.contains_key("code"));
}

/// A stand-in for a Connect service that hands out live tokens to a test sign-in — the
/// desktop's own check is all that stands in the way.
async fn careless_service() -> (url::Url, tokio::task::JoinHandle<()>) {
    use axum::extract::Query;
    use axum::response::Redirect;
    use axum::routing::{get, post};

    async fn authorize(Query(q): Query<AuthorizeQuery>) -> Redirect {
        let mut back = url::Url::parse(q.redirect_uri.as_deref().unwrap()).unwrap();
        back.query_pairs_mut()
            .append_pair("code", "fsc_careless")
            .append_pair("state", q.state.as_deref().unwrap());
        Redirect::to(back.as_str())
    }
    async fn token() -> axum::Json<TokenResponse> {
        axum::Json(TokenResponse {
            access_token: WireSecret::new("sk_live_handed_out_anyway"),
            refresh_token: None,
            token_type: "bearer".into(),
            scope: "read_write".into(),
            livemode: true,
            stripe_user_id: "acct_1careless".into(),
            stripe_publishable_key: "pk_live_x".into(),
        })
    }
    let app = axum::Router::new()
        .route(fluxstore_connect::api::AUTHORIZE_PATH, get(authorize))
        .route(fluxstore_connect::api::TOKEN_PATH, post(token));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = url::Url::parse(&format!("http://{}", listener.local_addr().unwrap())).unwrap();
    let task = tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (url, task)
}

#[tokio::test]
async fn the_desktop_keeps_no_tokens_of_another_mode_than_it_asked_for() {
    let (service, task) = careless_service().await;
    let pending = PendingConnect::start(ConnectOptions::new(service, Mode::Test))
        .await
        .unwrap();
    let url = pending.authorize_url().clone();
    assert_eq!(query(&url)["mode"], "test");
    let finish = tokio::spawn(pending.finish());
    let page = browser()
        .get(url)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let result = tokio::time::timeout(GUARD, finish).await.unwrap().unwrap();
    match result {
        Err(OAuthError::ModeMismatch { asked, got }) => {
            assert_eq!((asked, got), (Mode::Test, Mode::Live));
        }
        other => panic!("expected a mode mismatch, got {other:?}"),
    }
    assert!(
        page.contains("Not connected") && page.contains("live mode"),
        "{page}"
    );
    assert!(!page.contains("sk_live_handed_out_anyway"));
    task.abort();
}

#[tokio::test]
async fn revoke_uses_the_platform_key_of_the_tokens_mode() {
    let rig = Rig::start().await;
    for mode in [Mode::Test, Mode::Live] {
        let tokens = sign_in(&rig, mode).await.0.expect("connected");
        revoke(
            &rig.service_url(),
            &tokens.access_token,
            &tokens.stripe_user_id,
            GUARD,
        )
        .await
        .expect("revoked");
        let last = rig.fake.deauthorizations().pop().expect("deauthorized");
        assert_eq!(last.subject, tokens.stripe_user_id);
        assert_eq!(
            last.live_key,
            mode.is_live(),
            "{mode:?} revoked with its key"
        );
    }
}

#[tokio::test]
async fn revoke_in_a_mode_without_a_key_is_refused_before_stripe() {
    let rig = Rig::start_serving(ConnectFakeConfig::default(), &[Mode::Test], |_| {}).await;
    let token = fluxstore_gateway::Secret::new("sk_live_a_token_of_a_live_connection");
    let refused = revoke(&rig.service_url(), &token, "acct_1abc", GUARD).await;
    match refused {
        Err(OAuthError::ServiceRefused {
            status,
            code,
            description,
        }) => {
            assert_eq!((status, code.as_str()), (400, "invalid_request"));
            assert!(
                description.contains("not set up for live mode"),
                "{description}"
            );
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
    assert!(rig.fake.deauthorizations().is_empty());
}
