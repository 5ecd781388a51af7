//! The service's rules, exercised by playing the desktop by hand.

use std::time::Duration;

use crate::rig::{Rig, browser, code_by_hand, pkce, redeem};

#[tokio::test]
async fn a_wrong_verifier_is_refused_and_burns_the_code() {
    let rig = Rig::start().await;
    let (verifier, challenge) = pkce();
    let (code, redirect_uri) = code_by_hand(&rig, &challenge).await;
    let wrong = format!("{}b", &verifier[..verifier.len() - 1]);
    let (status, body) = redeem(&rig, &code, &wrong, &redirect_uri).await;
    assert_eq!(status, 400);
    assert_eq!(body["error"], "invalid_grant");
    assert!(
        body["error_description"]
            .as_str()
            .unwrap()
            .contains("code_verifier")
    );
    // One attempt per code: even the right verifier cannot use it now.
    let (status, body) = redeem(&rig, &code, &verifier, &redirect_uri).await;
    assert_eq!(status, 400);
    assert_eq!(body["error"], "invalid_grant");
}

#[tokio::test]
async fn a_code_is_redeemed_exactly_once() {
    let rig = Rig::start().await;
    let (verifier, challenge) = pkce();
    let (code, redirect_uri) = code_by_hand(&rig, &challenge).await;
    let (status, body) = redeem(&rig, &code, &verifier, &redirect_uri).await;
    assert_eq!(status, 200, "{body}");
    for field in [
        "access_token",
        "stripe_user_id",
        "stripe_publishable_key",
        "scope",
        "token_type",
        "livemode",
    ] {
        assert!(body.get(field).is_some(), "missing {field}: {body}");
    }
    assert_eq!(body["stripe_user_id"], rig.fake.config().account_id);
    let (status, body) = redeem(&rig, &code, &verifier, &redirect_uri).await;
    assert_eq!(status, 400);
    assert_eq!(body["error"], "invalid_grant");
    assert!(
        body["error_description"]
            .as_str()
            .unwrap()
            .contains("already used")
    );
}

#[tokio::test]
async fn an_expired_code_is_refused() {
    let rig = Rig::start_with(Default::default(), |c| c.code_ttl = Duration::ZERO).await;
    let (verifier, challenge) = pkce();
    let (code, redirect_uri) = code_by_hand(&rig, &challenge).await;
    let (status, body) = redeem(&rig, &code, &verifier, &redirect_uri).await;
    assert_eq!(status, 400);
    assert_eq!(body["error"], "invalid_grant");
    assert!(
        body["error_description"]
            .as_str()
            .unwrap()
            .contains("expired"),
        "{body}"
    );
}

#[tokio::test]
async fn the_redirect_uri_must_match_the_sign_in() {
    let rig = Rig::start().await;
    let (verifier, challenge) = pkce();
    let (code, _) = code_by_hand(&rig, &challenge).await;
    let (status, body) = redeem(&rig, &code, &verifier, "http://127.0.0.1:10/callback").await;
    assert_eq!(status, 400);
    assert_eq!(body["error"], "invalid_grant");
}

#[tokio::test]
async fn token_requests_missing_parts_get_oauth_errors() {
    let rig = Rig::start().await;
    let http = reqwest::Client::new();
    let url = rig.service_url().join("/oauth/token").unwrap();
    let resp = http
        .post(url.clone())
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
    let body: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(body["error"], "unsupported_grant_type");
    let resp = http
        .post(url)
        .form(&[("grant_type", "authorization_code"), ("code", "x")])
        .send()
        .await
        .unwrap();
    let body: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(body["error"], "invalid_request");
}

#[tokio::test]
async fn only_loopback_redirects_with_pkce_s256_are_accepted() {
    let rig = Rig::start().await;
    let (_, challenge) = pkce();
    let refused = [
        ("http://localhost:4000/callback", "S256"),
        ("https://attacker.invalid/callback", "S256"),
        ("http://192.168.1.5:4000/callback", "S256"),
        ("http://127.0.0.1/callback", "S256"),
        ("http://user:pw@127.0.0.1:4000/callback", "S256"),
        ("http://127.0.0.1:4000/callback", "plain"),
    ];
    for (redirect, method) in refused {
        let mut url = rig.service_url().join("/oauth/authorize").unwrap();
        url.query_pairs_mut()
            .append_pair("redirect_uri", redirect)
            .append_pair("state", "s")
            .append_pair("code_challenge", &challenge)
            .append_pair("code_challenge_method", method);
        let resp = browser().get(url).send().await.unwrap();
        assert_eq!(
            resp.status(),
            400,
            "{redirect} with {method} must be refused"
        );
    }
    // Without PKCE at all.
    let mut url = rig.service_url().join("/oauth/authorize").unwrap();
    url.query_pairs_mut()
        .append_pair("redirect_uri", "http://127.0.0.1:4000/callback")
        .append_pair("state", "s");
    assert_eq!(browser().get(url).send().await.unwrap().status(), 400);
    assert!(
        rig.fake.authorize_requests().is_empty(),
        "no refused request reached Stripe"
    );

    // IPv6 loopback is fine.
    let mut url = rig.service_url().join("/oauth/authorize").unwrap();
    url.query_pairs_mut()
        .append_pair("redirect_uri", "http://[::1]:4000/callback")
        .append_pair("state", "s")
        .append_pair("code_challenge", &challenge)
        .append_pair("code_challenge_method", "S256");
    let resp = crate::rig::browser_stopping_at_loopback()
        .get(url)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 303);
    assert!(
        resp.headers()["location"]
            .to_str()
            .unwrap()
            .starts_with("http://[::1]:4000/callback?code=fsc_")
    );
}

/// Sign-ins in progress are remembered nowhere but in their sealed state: a thousand
/// abandoned ones are all answered, and a real sign-in after them goes through.
#[tokio::test]
async fn abandoned_sign_ins_fill_nothing_and_do_not_stop_a_real_one() {
    let rig = Rig::start().await;
    let (verifier, challenge) = pkce();
    let no_redirects = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    for _ in 0..1000 {
        let mut url = rig.service_url().join("/oauth/authorize").unwrap();
        url.query_pairs_mut()
            .append_pair("redirect_uri", "http://127.0.0.1:4000/callback")
            .append_pair("state", "s")
            .append_pair("code_challenge", &challenge)
            .append_pair("code_challenge_method", "S256");
        let status = no_redirects.get(url).send().await.unwrap().status();
        assert_eq!(status, 303, "every sign-in is sent on to Stripe");
    }
    let (code, redirect_uri) = code_by_hand(&rig, &challenge).await;
    let (status, body) = redeem(&rig, &code, &verifier, &redirect_uri).await;
    assert_eq!(status, 200, "{body}");
}

#[tokio::test]
async fn an_unknown_callback_state_shows_a_page_and_redirects_nowhere() {
    let rig = Rig::start().await;
    let url = rig
        .service_url()
        .join("/oauth/callback?code=ac_x&state=never-issued")
        .unwrap();
    let resp = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .get(url)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
    assert!(resp.text().await.unwrap().contains("no longer valid"));
    assert_eq!(rig.fake.token_requests(), 0);
}
