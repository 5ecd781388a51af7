//! The platform key is sent to Stripe and nowhere else: not in a response (body or header),
//! not in a log line, not in an error, not in `Debug`.

use std::path::Path;

use fluxstore_connect::PlatformKeys;
use fluxstore_gateway::oauth::{ConnectOptions, PendingConnect};
use fluxstore_mirror::Mode;
use fluxstore_test_support::connect_fake::{ConnectFakeConfig, Decision};

use crate::rig::{
    LogCapture, Rig, browser_stopping_at_loopback, code_by_hand, code_by_hand_in, pkce, redeem,
};

fn dump(resp_status: u16, headers: &reqwest::header::HeaderMap, body: &str) -> String {
    format!("{resp_status} {headers:?} {body}")
}

// current_thread runtime: every task logs through the subscriber set for this thread.
#[tokio::test]
async fn the_platform_key_appears_in_no_response_log_or_error() {
    let logs = LogCapture::default();
    let writer = logs.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let rig = Rig::start().await;
    let keys = [rig.platform_key(), rig.live_platform_key()];
    let mut seen = String::new();
    let mut tokens = Vec::new();

    // Success in both modes, reuse, wrong verifier, bad requests, denial.
    let (verifier, challenge) = pkce();
    for mode in [None, Some("test"), Some("live")] {
        let (code, redirect) = code_by_hand_in(&rig, &challenge, mode).await;
        for v in [verifier.as_str(), verifier.as_str()] {
            let (status, body) = redeem(&rig, &code, v, &redirect).await;
            if let Some(t) = body["access_token"].as_str() {
                tokens.push(t.to_owned());
            }
            seen.push_str(&format!("{status} {body}"));
        }
    }
    assert_eq!(tokens.len(), 3, "one token per mode asked for");
    let (code, redirect) = code_by_hand(&rig, &challenge).await;
    seen.push_str(&redeem(&rig, &code, "wrong", &redirect).await.1.to_string());
    for path in [
        "/oauth/authorize?redirect_uri=http://localhost:1/",
        "/oauth/callback?state=x&code=y",
        "/healthz",
    ] {
        let resp = reqwest::get(rig.service_url().join(path).unwrap())
            .await
            .unwrap();
        let (s, h) = (resp.status().as_u16(), resp.headers().clone());
        seen.push_str(&dump(s, &h, &resp.text().await.unwrap()));
    }
    rig.fake.set_decision(Decision::Deny);
    let pending = PendingConnect::start(ConnectOptions::new(rig.service_url(), Mode::Test))
        .await
        .unwrap();
    let resp = browser_stopping_at_loopback()
        .get(pending.authorize_url().clone())
        .send()
        .await
        .unwrap();
    seen.push_str(&dump(resp.status().as_u16(), resp.headers(), ""));
    let revoke = reqwest::Client::new()
        .post(rig.service_url().join("/oauth/revoke").unwrap())
        .bearer_auth("sk_test_bogus")
        .form(&[("stripe_user_id", "acct_1")])
        .send()
        .await
        .unwrap();
    seen.push_str(&dump(
        revoke.status().as_u16(),
        &revoke.headers().clone(),
        &revoke.text().await.unwrap(),
    ));

    assert!(!seen.is_empty());
    let log_text = logs.text();
    assert!(
        log_text.contains("authorize"),
        "the capture works: {log_text}"
    );
    for key in &keys {
        assert!(!seen.contains(key), "a response carried a platform key");
        assert!(!log_text.contains(key), "a log line carried a platform key");
    }
    for token in &tokens {
        assert!(
            !log_text.contains(token),
            "a log line carried an access token"
        );
    }

    // A service whose keys Stripe refuses: the failure says so without the key.
    let bad = Rig::start_with(ConnectFakeConfig::default(), |c| {
        c.platform_keys = PlatformKeys::from_keys([
            secrecy::SecretString::from("sk_test_refused_key_123456".to_owned()),
            secrecy::SecretString::from("sk_live_refused_key_654321".to_owned()),
        ])
        .unwrap();
    })
    .await;
    let (_, challenge) = pkce();
    let mut url = bad.service_url().join("/oauth/authorize").unwrap();
    url.query_pairs_mut()
        .append_pair("redirect_uri", "http://127.0.0.1:9/callback")
        .append_pair("state", "s")
        .append_pair("code_challenge", &challenge)
        .append_pair("code_challenge_method", "S256");
    let resp = browser_stopping_at_loopback()
        .get(url)
        .send()
        .await
        .unwrap();
    let location = resp.headers()["location"].to_str().unwrap().to_owned();
    assert!(location.contains("error=server_error"), "{location}");
    for key in ["sk_test_refused_key_123456", "sk_live_refused_key_654321"] {
        assert!(!location.contains(key));
        assert!(!logs.text().contains(key));
    }
}

#[test]
fn config_debug_and_key_file_errors_do_not_show_the_key() {
    let key = "sk_test_51SecretPlatformKeyValue";
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("platform.key");
    std::fs::write(&path, format!("  {key}\n")).unwrap();
    let secret =
        fluxstore_connect::read_platform_key_file(&path).expect("a trimmed key file is read");
    let config = fluxstore_connect::Config::new(
        "https://connect.example.com".parse().unwrap(),
        "ca_123",
        secret,
    )
    .unwrap();
    assert!(!format!("{config:?}").contains(key));

    std::fs::write(&path, "pk_test_publishable_is_not_a_platform_key").unwrap();
    let err = fluxstore_connect::read_platform_key_file(&path)
        .unwrap_err()
        .to_string();
    assert!(!err.contains("pk_test_publishable"), "{err}");
    assert!(err.contains("sk_test_"), "says what is expected: {err}");
    let err = fluxstore_connect::read_platform_key_file(Path::new("/nonexistent/key")).unwrap_err();
    assert!(err.to_string().contains("could not be read"));
}
