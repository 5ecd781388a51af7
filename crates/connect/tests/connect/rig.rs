//! The pieces every test starts: fake Stripe Connect, the service, a browser.

use std::sync::{Arc, Mutex};

use fluxstore_connect::{Config, PlatformKeys, RunningService};
use fluxstore_mirror::Mode;
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

    /// A service with both platform keys, as an operator serving both modes runs it.
    pub async fn start_with(
        fake_config: ConnectFakeConfig,
        tweak: impl FnOnce(&mut Config),
    ) -> Rig {
        Rig::start_serving(fake_config, &[Mode::Test, Mode::Live], tweak).await
    }

    /// A service with the platform keys of `modes`.
    pub async fn start_serving(
        fake_config: ConnectFakeConfig,
        modes: &[Mode],
        tweak: impl FnOnce(&mut Config),
    ) -> Rig {
        let fake = ConnectFake::start(fake_config).await.expect("fake starts");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let public = Url::parse(&format!("http://{}", listener.local_addr().unwrap())).unwrap();
        let keys = PlatformKeys::from_keys(modes.iter().map(|m| {
            SecretString::from(match m {
                Mode::Test => fake.config().platform_key.clone(),
                Mode::Live => fake.config().live_platform_key.clone(),
            })
        }))
        .expect("platform keys");
        let mut config =
            Config::with_platform_keys(public, &fake.config().client_id, keys).expect("config");
        config.stripe_connect_base = Url::parse(&fake.base_url()).unwrap();
        config.stripe_api_base = Url::parse(&fake.base_url()).unwrap();
        tweak(&mut config);
        let service = RunningService::spawn(listener, config).expect("service starts");
        Rig { fake, service }
    }

    pub fn service_url(&self) -> Url {
        self.service.base_url()
    }

    /// The test-mode platform key.
    pub fn platform_key(&self) -> String {
        self.fake.config().platform_key.clone()
    }

    pub fn live_platform_key(&self) -> String {
        self.fake.config().live_platform_key.clone()
    }
}

pub use fluxstore_test_support::owner_browser::{
    LOOPBACK, browser, browser_stopping_at_loopback, pkce,
};

/// Play the desktop by hand up to the one-time code: returns (code, redirect_uri). Names no
/// mode, so the sign-in is in the default (live) mode.
pub async fn code_by_hand(rig: &Rig, challenge: &str) -> (String, String) {
    code_by_hand_in(rig, challenge, None).await
}

/// The loopback redirect the service answers an authorize request with (`mode` as sent,
/// or none).
pub async fn authorize_by_hand(rig: &Rig, challenge: &str, mode: Option<&str>) -> Url {
    let mut url = rig.service_url().join("/oauth/authorize").unwrap();
    url.query_pairs_mut()
        .append_pair("response_type", "code")
        .append_pair("redirect_uri", LOOPBACK)
        .append_pair("state", "desktop-state-1")
        .append_pair("code_challenge", challenge)
        .append_pair("code_challenge_method", "S256");
    if let Some(mode) = mode {
        url.query_pairs_mut().append_pair("mode", mode);
    }
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
    Url::parse(resp.headers()["location"].to_str().unwrap()).unwrap()
}

/// [`code_by_hand`] asking for `mode` (or naming none).
pub async fn code_by_hand_in(rig: &Rig, challenge: &str, mode: Option<&str>) -> (String, String) {
    let location = authorize_by_hand(rig, challenge, mode).await;
    assert_eq!(location.path(), "/callback");
    let q: std::collections::HashMap<_, _> = location.query_pairs().into_owned().collect();
    assert_eq!(
        q["state"], "desktop-state-1",
        "the desktop's own state comes back"
    );
    assert!(
        q.contains_key("code"),
        "a one-time code comes back: {location}"
    );
    (q["code"].clone(), LOOPBACK.to_owned())
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
