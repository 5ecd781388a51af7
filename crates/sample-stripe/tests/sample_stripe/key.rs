//! The stand-in opens only to the random test-mode key it made for its session: no fixed
//! key, no other session's key, and a refused key is echoed masked, never whole.

use fluxstore_sample_stripe::SampleStripe;
use secrecy::ExposeSecret;

use crate::call;

/// The fixed key the test suites' fake accepts: it must not open the stand-in.
const FIXED_TEST_KEY: &str = "sk_test_51FluxStoreFakeKey0000000000000001";

#[tokio::test]
async fn each_session_has_its_own_key_and_no_other_key_opens_it() {
    let a = SampleStripe::start().await.unwrap();
    let b = SampleStripe::start().await.unwrap();
    let (ka, kb) = (
        a.secret_key().expose_secret(),
        b.secret_key().expose_secret(),
    );
    assert_ne!(ka, kb, "a new key per session");
    for k in [ka, kb] {
        assert!(
            k.starts_with("sk_test_") && k.len() > 100,
            "a test-mode secret key"
        );
        assert!(
            k["sk_test_".len()..]
                .chars()
                .all(|c| c.is_ascii_alphanumeric())
        );
    }
    assert!(!format!("{a:?}").contains(ka), "Debug hides the key");

    let get = reqwest::Method::GET;
    let (status, body, _) = call(&a, Some(ka), get.clone(), "/v1/account", "", &[]).await;
    assert_eq!(status, 200, "{body}");
    for other in [
        kb,
        FIXED_TEST_KEY,
        "sk_live_51SomethingElse000000000000000000",
    ] {
        let (status, body, _) = call(&a, Some(other), get.clone(), "/v1/account", "", &[]).await;
        assert_eq!(status, 401, "{body}");
        let message = body["error"]["message"].as_str().unwrap();
        assert!(
            message.starts_with("Invalid API Key provided: sk_"),
            "{message}"
        );
        assert!(
            !message.contains(&other[12..]),
            "the key is masked: {message}"
        );
        assert_eq!(body["error"]["type"], "invalid_request_error");
    }
    let (status, body, _) = call(&a, None, get, "/v1/account", "", &[]).await;
    assert_eq!(status, 401);
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("did not provide an API key")
    );
}

#[tokio::test]
async fn dropping_it_stops_the_server() {
    let s = SampleStripe::start().await.unwrap();
    let addr = s.base_url().trim_start_matches("http://").to_owned();
    assert!(tokio::net::TcpStream::connect(&addr).await.is_ok());
    drop(s);
    let mut closed = false;
    for _ in 0..200 {
        if tokio::net::TcpStream::connect(&addr).await.is_err() {
            closed = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    assert!(closed, "the port is released");
}
