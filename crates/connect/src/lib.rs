//! FluxStore Connect: the OAuth broker between FluxStore Desktop and Stripe Connect.
//!
//! Stripe redeems a Connect authorization code only with the platform's secret key and has
//! no PKCE, so a desktop app cannot finish the flow alone. This service holds the platform
//! keys (one per mode: test and live), sends the owner to Stripe, redeems Stripe's code with
//! the key of the mode the desktop asked for, and hands the result to the desktop's loopback
//! listener as a one-time code that only the desktop's PKCE verifier can redeem.
//!
//! Invariants: a platform key is sent to Stripe and nowhere else — no response, log line or
//! error carries it, nor any token; a sign-in in a mode without a key is refused before
//! anything reaches Stripe; tokens of another mode than the one asked for are never handed out.
//!
//! Endpoints (paths and bodies in [`api`]): `GET /oauth/authorize`, `GET /oauth/callback`
//! (Stripe's redirect back), `POST /oauth/token`, `POST /oauth/revoke`, `GET /healthz`.

mod config;
mod error;
mod routes;
mod server;
mod store;
mod stripe;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::StatusCode;
use axum::routing::{get, post};
use tower_http::timeout::TimeoutLayer;

pub use config::{
    CALLBACK_PATH, Config, DEFAULT_HEADER_READ_TIMEOUT, DEFAULT_MAX_CONNECTIONS,
    DEFAULT_REQUEST_TIMEOUT, DEFAULT_STRIPE_API_BASE, DEFAULT_STRIPE_CONNECT_BASE, PlatformKeys,
    read_platform_key_file, read_platform_key_files,
};
pub use error::{ConfigError, OAuthError, StripeError};
/// The service's wire types, shared with the desktop.
pub use fluxstore_connect_api as api;
pub use fluxstore_connect_api::Mode;

/// Requests to this service are a few short form fields.
const BODY_LIMIT: usize = 16 * 1024;

/// The service's routes, ready to serve: bodies capped, each request bounded by
/// `config.request_timeout` (then 408).
pub fn router(config: Config) -> Result<Router, StripeError> {
    let request_timeout = config.request_timeout;
    let state = Arc::new(routes::AppState {
        stripe: stripe::StripeConnect::new(&config)?,
        pending: store::Bounded::new(config.pending_ttl, config.max_pending),
        codes: store::Bounded::new(
            config.code_ttl.min(std::time::Duration::from_secs(60)),
            config.max_pending,
        ),
        config,
    });
    Ok(Router::new()
        .route(api::AUTHORIZE_PATH, get(routes::authorize))
        .route(api::CALLBACK_PATH, get(routes::callback))
        .route(api::TOKEN_PATH, post(routes::token))
        .route(api::REVOKE_PATH, post(routes::revoke))
        .route(api::HEALTH_PATH, get(|| async { "ok" }))
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            request_timeout,
        ))
        .with_state(state))
}

/// Check `config` and build what serving it needs (the error says why it cannot serve).
fn prepare(config: Config) -> std::io::Result<(Router, server::Limits)> {
    config.check().map_err(std::io::Error::other)?;
    let limits = server::Limits {
        header_read_timeout: config.header_read_timeout,
        max_connections: config.max_connections,
    };
    let app = router(config).map_err(std::io::Error::other)?;
    Ok((app, limits))
}

/// Serve on `listener` until `shutdown` completes.
pub async fn serve(
    listener: tokio::net::TcpListener,
    config: Config,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let (app, limits) = prepare(config)?;
    server::serve(listener, app, limits, shutdown).await
}

/// A service running on a background task (tests, embedding). Dropping it stops the service.
pub struct RunningService {
    addr: SocketAddr,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl RunningService {
    /// Bind `addr` (e.g. `127.0.0.1:0`) and serve on a spawned task.
    pub async fn start(addr: SocketAddr, config: Config) -> std::io::Result<RunningService> {
        let listener = tokio::net::TcpListener::bind(addr).await?;
        Self::spawn(listener, config)
    }

    /// Serve on an already bound listener (its address can then go into `public_url`).
    pub fn spawn(
        listener: tokio::net::TcpListener,
        config: Config,
    ) -> std::io::Result<RunningService> {
        let addr = listener.local_addr()?;
        let (tx, rx) = tokio::sync::oneshot::channel();
        let (app, limits) = prepare(config)?;
        let task = tokio::spawn(server::serve(listener, app, limits, async {
            let _ = rx.await;
        }));
        Ok(RunningService {
            addr,
            shutdown: Some(tx),
            task,
        })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT`
    pub fn base_url(&self) -> url::Url {
        url::Url::parse(&format!("http://{}", self.addr)).expect("socket address URL")
    }

    /// Stop and wait for the server task.
    pub async fn stop(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        let _ = (&mut self.task).await;
    }
}

impl Drop for RunningService {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        self.task.abort();
    }
}
