//! FluxStore Connect: the Connect broker of the hub ([`fluxstore_hub::broker`]) served on its
//! own, for platforms and scripts that run it without the hub's webhooks and feed.
//!
//! It is the same code as the hub's `/oauth/*` routes, not a copy: the hub with
//! [`fluxstore_hub::HubConfig::doorbells`] off. Its rows (Connect grants waiting up to 60 s for
//! their desktop, sealed) live in an embedded SQLite file in a private temporary directory
//! that goes with the service: a grant sealed with a key made at start could not be opened
//! after a restart anyway. Several replicas run `fluxstore-hub` on PostgreSQL instead.
//!
//! Endpoints (paths and bodies in [`api`]): `GET /oauth/authorize`, `GET /oauth/callback`
//! (Stripe's redirect back), `POST /oauth/token`, `POST /oauth/revoke`, `GET /healthz`.

use std::future::Future;
use std::net::SocketAddr;

use fluxstore_hub::{Hub, HubConfig, HubHandle, PlatformSecrets, SqliteStore};

/// The service's wire types, shared with the desktop.
pub use fluxstore_connect_api as api;
pub use fluxstore_connect_api::Mode;
pub use fluxstore_hub::broker::{
    CALLBACK_PATH, Config, ConfigError, DEFAULT_HEADER_READ_TIMEOUT, DEFAULT_MAX_CONNECTIONS,
    DEFAULT_REQUEST_TIMEOUT, DEFAULT_STRIPE_API_BASE, DEFAULT_STRIPE_CONNECT_BASE, OAuthError,
    PlatformKeys, StateKey, StripeError, read_platform_key_file, read_platform_key_files,
};

/// A service running on a background task (tests, embedding). Dropping it stops the service.
pub struct RunningService {
    hub: Option<HubHandle>,
    // Dropped after the hub: the database file's directory.
    _dir: tempfile::TempDir,
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
        config.check().map_err(std::io::Error::other)?;
        let addr = listener.local_addr()?;
        let dir = tempfile::Builder::new()
            .prefix("fluxstore-connect-")
            .tempdir()?;
        let store =
            SqliteStore::open(&dir.path().join("connect.db")).map_err(std::io::Error::other)?;
        let hub = Hub::spawn(listener, hub_config(addr, config)?, store)
            .map_err(std::io::Error::other)?;
        Ok(RunningService {
            hub: Some(hub),
            _dir: dir,
        })
    }

    pub fn addr(&self) -> SocketAddr {
        self.hub.as_ref().expect("running").local_addr()
    }

    /// `http://127.0.0.1:PORT`
    pub fn base_url(&self) -> url::Url {
        url::Url::parse(&format!("http://{}", self.addr())).expect("socket address URL")
    }

    /// Stop and wait for the server task.
    pub async fn stop(mut self) {
        if let Some(hub) = self.hub.take() {
            hub.shutdown().await;
        }
    }
}

/// The hub's configuration for the broker alone, with the broker's bounds.
fn hub_config(listen: SocketAddr, config: Config) -> std::io::Result<HubConfig> {
    let mut hub = HubConfig::new(
        listen,
        config.public_url.clone(),
        PlatformSecrets::default(),
    )
    .map_err(std::io::Error::other)?;
    hub.header_read_timeout = config.header_read_timeout;
    hub.request_timeout = config.request_timeout;
    hub.max_connections = config.max_connections;
    hub.set_stripe_api_base(config.stripe_api_base.clone())
        .map_err(std::io::Error::other)?;
    hub.doorbells = false;
    hub.broker = Some(config);
    Ok(hub)
}

/// Serve on `listener` until `shutdown` completes.
pub async fn serve(
    listener: tokio::net::TcpListener,
    config: Config,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let service = RunningService::spawn(listener, config)?;
    shutdown.await;
    service.stop().await;
    Ok(())
}
