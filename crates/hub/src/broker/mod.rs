//! The Connect broker: the OAuth go-between of FluxStore Desktop and Stripe Connect.
//!
//! Stripe redeems a Connect authorization code only with the platform's secret key and has
//! no PKCE, so a desktop app cannot finish the flow alone. The broker holds the platform
//! keys (one per mode: test and live), sends the owner to Stripe, redeems Stripe's code with
//! the key of the mode the desktop asked for, and hands the result to the desktop's loopback
//! listener as a one-time code that only the desktop's PKCE verifier can redeem.
//!
//! Endpoints (paths and bodies in [`fluxstore_connect_api`]): `GET /oauth/authorize`,
//! `GET /oauth/callback` (Stripe's redirect back), `POST /oauth/token`, `POST /oauth/revoke`.
//!
//! Invariants:
//! - the browser is only ever redirected to a loopback `/callback` URI (checked before
//!   anything else);
//! - a sign-in in progress lives only in its sealed `state` ([`sealed`]), so replicas share
//!   nothing but the state key and the database, and anonymous requests write no row;
//! - Stripe's answer is accepted only from the browser that started the sign-in (an
//!   HttpOnly, SameSite=Lax cookie whose hash the state carries);
//! - a token leaves the broker only once, only against the PKCE verifier of the desktop
//!   that started the sign-in, only in the mode it asked for, and waits at most 60 s,
//!   sealed, in the database;
//! - a platform key is sent to Stripe and nowhere else — no response, log line or error
//!   carries it, nor any token.

mod browser;
mod config;
mod desktop;
mod error;
mod sealed;
mod stripe;

use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::StatusCode;
use axum::routing::{get, post};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use fluxstore_connect_api as api;
use tower_http::timeout::TimeoutLayer;

pub use config::{
    CALLBACK_PATH, Config, DEFAULT_HEADER_READ_TIMEOUT, DEFAULT_MAX_CONNECTIONS,
    DEFAULT_REQUEST_TIMEOUT, DEFAULT_STRIPE_API_BASE, DEFAULT_STRIPE_CONNECT_BASE, PlatformKeys,
    read_platform_key_file, read_platform_key_files,
};
pub use error::{ConfigError, OAuthError, StripeError};
pub use sealed::StateKey;

use crate::auth::ConnectCheck;
use crate::store::Store;
use stripe::StripeConnect;

/// Requests to the broker are a few short form fields.
const BODY_LIMIT: usize = 16 * 1024;
/// The longest a grant waits for its desktop, whatever the configuration says.
pub const MAX_CODE_TTL: std::time::Duration = std::time::Duration::from_secs(60);

/// What the broker's requests share.
pub(crate) struct Broker<S> {
    pub(crate) config: Config,
    pub(crate) stripe: StripeConnect,
    pub(crate) store: S,
    /// The hub's one checker of Connect tokens (rate-limited, cached), for revokes.
    pub(crate) connect: Arc<ConnectCheck>,
}

/// The broker's routes: bodies capped, each request bounded by `config.request_timeout`
/// (then 408).
pub(crate) fn router<S: Store>(
    config: Config,
    store: S,
    connect: Arc<ConnectCheck>,
) -> Result<Router, StripeError> {
    let request_timeout = config.request_timeout;
    let state = Arc::new(Broker {
        stripe: StripeConnect::new(&config)?,
        config,
        store,
        connect,
    });
    Ok(Router::new()
        .route(api::AUTHORIZE_PATH, get(browser::authorize::<S>))
        .route(api::CALLBACK_PATH, get(browser::callback::<S>))
        .route(api::TOKEN_PATH, post(desktop::token::<S>))
        .route(api::REVOKE_PATH, post(desktop::revoke::<S>))
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            request_timeout,
        ))
        .with_state(state))
}

/// The query of a browser request, as sent.
pub(crate) type Params = axum::extract::Query<std::collections::HashMap<String, String>>;

pub(crate) fn random_token(prefix: &str) -> String {
    format!(
        "{prefix}{}",
        URL_SAFE_NO_PAD.encode(rand::random::<[u8; 32]>())
    )
}
