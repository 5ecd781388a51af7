//! The pieces every test starts: fake Stripe Connect, the service, a browser.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use fluxstore_connect::{Config, RunningService};
use fluxstore_test_support::connect_fake::{ConnectFake, ConnectFakeConfig};
use secrecy::SecretString;
use url::Url;

pub struct Rig {
    pub fake: ConnectFake,
    pub service: RunningService,
}

impl Rig {
    pub async fn start() -> Rig {
        Rig::start_with(ConnectFakeConfig::default(), |_| {}).await
    }

    pub async fn start_with(
        fake_config: ConnectFakeConfig,
        tweak: impl FnOnce(&mut Config),
    ) -> Rig {
        let fake = ConnectFake::start(fake_config).await.expect("fake starts");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let public = Url::parse(&format!("http://{}", listener.local_addr().unwrap())).unwrap();
        let key = SecretString::from(fake.config().platform_key.clone());
        let mut config = Config::new(public, &fake.config().client_id, key).expect("config");
        config.stripe_connect_base = Url::parse(&fake.base_url()).unwrap();
        config.stripe_api_base = Url::parse(&fake.base_url()).unwrap();
        tweak(&mut config);
        let service = RunningService::spawn(listener, config).expect("service starts");
        Rig { fake, service }
    }

    pub fn service_url(&self) -> Url {
        self.service.base_url()
    }

    pub fn platform_key(&self) -> String {
        self.fake.config().platform_key.clone()
    }
}

/// The owner's browser: follows every redirect, like a real one.
pub fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::limited(10))
        .timeout(Duration::from_secs(20))
        .build()
        .unwrap()
}

/// A browser that stops when it is sent to the desktop's loopback (`/callback`), so a test
/// can play the desktop by hand. Returns the final response (the 303 towards the loopback).
pub fn browser_stopping_at_loopback() -> reqwest::Client {
    let policy = reqwest::redirect::Policy::custom(|attempt| {
        if attempt.url().path() == "/callback" || attempt.previous().len() > 10 {
            attempt.stop()
        } else {
            attempt.follow()
        }
    });
    reqwest::Client::builder()
        .redirect(policy)
        .timeout(Duration::from_secs(20))
        .build()
        .unwrap()
}

/// A valid PKCE pair (verifier, S256 challenge), computed independently of both halves.
pub fn pkce() -> (String, String) {
    use base64::Engine;
    use sha2::Digest;
    let verifier: String = (0..64)
        .map(|i| (b'a' + (i * 7 % 26) as u8) as char)
        .collect();
    let challenge = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(sha2::Sha256::digest(verifier.as_bytes()));
    (verifier, challenge)
}

/// Play the desktop by hand up to the one-time code: returns (code, redirect_uri).
pub async fn code_by_hand(rig: &Rig, challenge: &str) -> (String, String) {
    let redirect_uri = "http://127.0.0.1:9/callback";
    let mut url = rig.service_url().join("/oauth/authorize").unwrap();
    url.query_pairs_mut()
        .append_pair("response_type", "code")
        .append_pair("redirect_uri", redirect_uri)
        .append_pair("state", "desktop-state-1")
        .append_pair("code_challenge", challenge)
        .append_pair("code_challenge_method", "S256");
    let resp = browser_stopping_at_loopback()
        .get(url)
        .send()
        .await
        .unwrap();
    assert_eq!(
        resp.status(),
        303,
        "the service sends the browser back to the loopback"
    );
    let location = Url::parse(resp.headers()["location"].to_str().unwrap()).unwrap();
    assert_eq!(location.path(), "/callback");
    let q: std::collections::HashMap<_, _> = location.query_pairs().into_owned().collect();
    assert_eq!(
        q["state"], "desktop-state-1",
        "the desktop's own state comes back"
    );
    (q["code"].clone(), redirect_uri.to_owned())
}

pub async fn redeem(
    rig: &Rig,
    code: &str,
    verifier: &str,
    redirect_uri: &str,
) -> (u16, serde_json::Value) {
    let resp = reqwest::Client::new()
        .post(rig.service_url().join("/oauth/token").unwrap())
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("code_verifier", verifier),
            ("redirect_uri", redirect_uri),
        ])
        .send()
        .await
        .unwrap();
    (resp.status().as_u16(), resp.json().await.unwrap())
}

/// A writer for `tracing` that keeps every line, to prove what is (not) logged.
#[derive(Clone, Default)]
pub struct LogCapture(pub Arc<Mutex<Vec<u8>>>);

impl std::io::Write for LogCapture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl LogCapture {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}
