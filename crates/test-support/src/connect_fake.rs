//! A local fake of Stripe's Connect OAuth endpoints (Standard accounts), written from
//! Stripe's documented wire format, not from the FluxStore Connect service's needs:
//!
//! - `GET /oauth/authorize` approves or denies (configurable) by redirecting the browser to
//!   the `redirect_uri` with `code=ac_…&scope&state`, or `error=access_denied&error_description&state`;
//! - `POST /oauth/token` (form) authenticates a platform secret key — the test-mode or the
//!   live-mode one — as `client_secret` in the body or as the Bearer key, redeems a code once
//!   (a reused code revokes the tokens issued with it, as Stripe does), issues tokens in the
//!   mode of the key that redeemed (`livemode`, `sk_test_`/`sk_live_` access token,
//!   `pk_test_`/`pk_live_` publishable key), and answers errors in the flat OAuth shape;
//! - `POST /oauth/deauthorize` with `client_id` + `stripe_user_id` (either platform key)
//!   answers `{stripe_user_id}` and revokes the account's tokens;
//! - `GET /v1/account` answers for a connected account's access token (401 once revoked), the
//!   one API call a token holder needs to learn who it is.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::routing::{get, post};

#[path = "connect_fake_routes.rs"]
mod routes;
use routes::{account, authorize, deauthorize, token};

/// What the owner does at Stripe's authorize page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Approve,
    Deny,
}

#[derive(Debug, Clone)]
pub struct ConnectFakeConfig {
    /// The platform's test-mode secret key (`sk_test_…`): what it redeems is in test mode.
    pub platform_key: String,
    /// The platform's live-mode secret key (`sk_live_…`): what it redeems is in live mode.
    pub live_platform_key: String,
    /// The platform's `ca_…` client id.
    pub client_id: String,
    /// The connected account every approval connects.
    pub account_id: String,
    /// A Stripe that misbehaves: issue tokens with this `livemode` whichever key redeemed,
    /// so a test can prove that a client refuses tokens of the wrong mode. `None` (the
    /// default) answers like Stripe: the mode of the key.
    pub livemode_override: Option<bool>,
    /// Registered redirect URIs; Stripe requires an exact match. Empty accepts any.
    pub redirect_uris: Vec<String>,
    pub decision: Decision,
}

impl Default for ConnectFakeConfig {
    fn default() -> Self {
        ConnectFakeConfig {
            platform_key: format!("sk_test_platform{}", random_hex(12)),
            live_platform_key: format!("sk_live_platform{}", random_hex(12)),
            client_id: format!("ca_{}", random_hex(12)),
            account_id: format!("acct_1{}", random_hex(8)),
            livemode_override: None,
            redirect_uris: Vec::new(),
            decision: Decision::Approve,
        }
    }
}

struct AuthCode {
    scope: String,
    used: bool,
    tokens: Vec<String>,
}

/// Told of each access token as it is issued: (token, account).
type IssueHook = Arc<dyn Fn(&str, &str) + Send + Sync>;

#[derive(Default)]
struct Inner {
    decision: Option<Decision>,
    on_issue: Option<IssueHook>,
    codes: HashMap<String, AuthCode>,
    /// access token → account, for tokens not revoked.
    tokens: HashMap<String, String>,
    refresh_tokens: HashMap<String, String>,
    deauthorized: Vec<String>,
    deauthorizations: Vec<Authenticated>,
    authorize_requests: Vec<HashMap<String, String>>,
    token_requests: usize,
    account_requests: usize,
    redemptions: Vec<Authenticated>,
}

/// A request the fake accepted, with the mode of the platform key that authenticated it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Authenticated {
    /// The code redeemed, or the account deauthorized.
    pub subject: String,
    /// True when the live-mode platform key authenticated the request.
    pub live_key: bool,
}

struct FakeState {
    config: ConnectFakeConfig,
    inner: Mutex<Inner>,
}

impl FakeState {
    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// A running fake. Dropping it stops the server.
pub struct ConnectFake {
    addr: SocketAddr,
    state: Arc<FakeState>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<()>,
}

impl ConnectFake {
    /// Start on `127.0.0.1:0`.
    pub async fn start(config: ConnectFakeConfig) -> std::io::Result<ConnectFake> {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0)).await?;
        let addr = listener.local_addr()?;
        let state = Arc::new(FakeState {
            inner: Mutex::new(Inner {
                decision: Some(config.decision),
                ..Inner::default()
            }),
            config,
        });
        let app = Router::new()
            .route("/oauth/authorize", get(authorize))
            .route("/oauth/token", post(token))
            .route("/oauth/deauthorize", post(deauthorize))
            .route("/v1/account", get(account))
            .with_state(state.clone());
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app)
                .with_graceful_shutdown(async {
                    let _ = rx.await;
                })
                .await;
        });
        Ok(ConnectFake {
            addr,
            state,
            shutdown: Some(tx),
            task,
        })
    }

    /// `http://127.0.0.1:PORT` — stands for the Connect base and the API base alike.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }
    pub fn config(&self) -> &ConnectFakeConfig {
        &self.state.config
    }
    pub fn set_decision(&self, decision: Decision) {
        self.state.lock().decision = Some(decision);
    }
    /// Accounts deauthorized through `/oauth/deauthorize`, in order.
    pub fn deauthorized(&self) -> Vec<String> {
        self.state.lock().deauthorized.clone()
    }
    /// The query parameters of every authorize request received.
    pub fn authorize_requests(&self) -> Vec<HashMap<String, String>> {
        self.state.lock().authorize_requests.clone()
    }
    pub fn token_requests(&self) -> usize {
        self.state.lock().token_requests
    }
    /// How many `GET /v1/account` requests arrived (each a token check).
    pub fn account_requests(&self) -> usize {
        self.state.lock().account_requests
    }
    /// Every authorization code redeemed (`grant_type=authorization_code`), in order, with
    /// the mode of the platform key that redeemed it.
    pub fn redemptions(&self) -> Vec<Authenticated> {
        self.state.lock().redemptions.clone()
    }
    /// Every deauthorization, in order, with the mode of the platform key that asked for it.
    pub fn deauthorizations(&self) -> Vec<Authenticated> {
        self.state.lock().deauthorizations.clone()
    }
    /// Whether an access token is currently valid.
    pub fn token_is_active(&self, access_token: &str) -> bool {
        self.state.lock().tokens.contains_key(access_token)
    }
    /// Call `hook(access_token, account)` for each access token issued from now on, before the
    /// token's answer leaves: for a test that plays one Stripe with two fakes (this one for
    /// OAuth, a Stripe fake for the API), which must know the token as soon as its holder does.
    pub fn on_token_issued(&self, hook: impl Fn(&str, &str) + Send + Sync + 'static) {
        self.state.lock().on_issue = Some(Arc::new(hook));
    }
    /// Revoke every token of the account, as when the owner disconnects from Stripe's dashboard.
    pub fn revoke_account(&self, account: &str) {
        self.state.lock().tokens.retain(|_, a| a != account);
    }
}

impl Drop for ConnectFake {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        self.task.abort();
    }
}

fn random_hex(bytes: usize) -> String {
    (0..bytes)
        .map(|_| format!("{:02x}", rand::random::<u8>()))
        .collect()
}
