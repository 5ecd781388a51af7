//! `fluxstore-hub`: the hosted half of FluxStore. Stripe can always reach it; a desktop behind
//! a home router cannot be reached. So the hub turns webhooks into doorbells and rings the
//! desktops over a feed they hold open:
//!
//! - `POST /api/webhooks/stripe` — the platform's Connect webhook endpoint: the raw body is
//!   verified against the platform's signing secrets of the event's mode, then a doorbell
//!   for the event's `account` is committed before the 200;
//! - `POST /v1/stores` — registers a key-mode store: its `store_key`, `feed_token` and the
//!   `webhook_url` to register in Stripe (only hashes are kept);
//! - `POST /api/webhooks/stripe/s/{store_key}` — a key-mode store's endpoint: unverified
//!   doorbells (the hub holds none of the store's secrets), rate-limited per store;
//! - `GET /v1/feed` — Server-Sent Events of one account's or store's doorbells, resumable with
//!   `Last-Event-ID`, with heartbeats, and `event: resync` when the cursor is beyond reach;
//! - `GET /healthz` — 200 while the database answers;
//! - with a Connect client id, the Connect broker's `/oauth/*` routes ([`broker`]).
//!
//! `fluxstore-connect` is this hub with the broker's routes only ([`HubConfig::doorbells`]
//! off).
//!
//! Invariant: the hub keeps no customer data — per event only (account or store, livemode,
//! event id, type, created, received). The desktop fetches the event itself from Stripe with
//! its own credential, so a forged doorbell costs one fetch and changes nothing.

pub mod auth;
pub mod broker;
mod feed;
mod intake;
mod register;
pub mod secrets;
pub mod store;
pub mod tokens;

use std::net::SocketAddr;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::routing::{any, get, post};
use fluxstore_connect_api::net::sends_secrets_safely;
use governor::{DefaultDirectRateLimiter, DefaultKeyedRateLimiter, Quota, RateLimiter};
use tokio::sync::watch;
use url::Url;

pub use auth::TOKEN_RECHECK;
pub use secrets::{PlatformSecrets, SecretFileError};
pub use store::{DatabaseUrl, DatabaseUrlError, PgStore, SqliteStore, Store, StoreError};

/// Stripe's REST API, where a Connect token is checked.
pub const DEFAULT_STRIPE_API_BASE: &str = "https://api.stripe.com";
/// The platform's Connect webhook endpoint (the relay's path, on the hub).
pub const PLATFORM_WEBHOOK_PATH: &str = fluxstore_relay::WEBHOOK_PATH;
pub use fluxstore_connect_api::HEALTH_PATH;
pub use fluxstore_connect_api::hub::{FEED_PATH, STORE_WEBHOOK_PREFIX, STORES_PATH};
/// How long doorbells are kept by default.
pub const DEFAULT_RETENTION: Duration = Duration::from_secs(7 * 24 * 60 * 60);

/// A configuration the hub refuses to start with.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error(
        "the public URL must be https (or http to this computer, for trying the hub out): desktops send their tokens to it"
    )]
    PublicUrl,
    #[error(
        "the Stripe API base must be https (or http to this computer, for a local stand-in): Connect tokens are sent to it"
    )]
    StripeApiBase,
    #[error(transparent)]
    Broker(#[from] broker::ConfigError),
}

/// How the hub listens, what it bounds, and how long it keeps and trusts things.
#[derive(Debug, Clone)]
pub struct HubConfig {
    pub listen: SocketAddr,
    /// Where Stripe and desktops reach this hub (scheme, host, optional path prefix).
    pub public_url: Url,
    pub secrets: PlatformSecrets,
    pub stripe_api_base: Url,
    /// Allowed clock difference either way for a signature's timestamp.
    pub tolerance: Duration,
    pub body_limit: usize,
    /// Time a sender has for its body, and the longest wait for a commit (503 after).
    pub request_timeout: Duration,
    pub header_read_timeout: Duration,
    /// Connections served at once (open feeds count).
    pub max_connections: usize,
    pub shutdown_grace: Duration,
    /// How long doorbells are kept; a feed resuming from further back is told to resync.
    pub retention: Duration,
    /// How often retention runs (on one replica at a time).
    pub sweep_every: Duration,
    /// How long Stripe's answer about a Connect token is trusted.
    pub token_recheck: Duration,
    /// Interval of the feed's heartbeat comments.
    pub heartbeat: Duration,
    /// Unverified doorbells per second one key-mode store may ring (per replica), and burst.
    pub store_doorbell_rate: (u32, u32),
    /// Store registrations per second (per replica, all peers together), and burst.
    pub registration_rate: (u32, u32),
    /// Store registrations one peer (an IPv4 address, or an IPv6 /64) may make per minute
    /// (per replica), and burst.
    pub registration_rate_per_peer: (u32, u32),
    /// How long a registered store may go without its feed ever being opened before it is
    /// removed (abandoned registrations do not accumulate).
    pub unclaimed_store_ttl: Duration,
    /// Connect token checks sent to Stripe per second (per replica), and burst.
    pub token_check_rate: (u32, u32),
    /// Whether the doorbell routes (webhooks, store registration, feed) are served;
    /// `fluxstore-connect` serves the broker alone.
    pub doorbells: bool,
    /// The Connect broker's configuration, when this hub brokers sign-ins (`--client-id`).
    pub broker: Option<broker::Config>,
    /// How often expired Connect grants are removed (they are refused once expired anyway).
    pub grant_sweep_every: Duration,
}

impl HubConfig {
    /// A configuration with the documented defaults; refuses a public URL that is not https
    /// (or loopback http).
    pub fn new(
        listen: SocketAddr,
        public_url: Url,
        secrets: PlatformSecrets,
    ) -> Result<HubConfig, ConfigError> {
        if !sends_secrets_safely(&public_url) {
            return Err(ConfigError::PublicUrl);
        }
        Ok(HubConfig {
            listen,
            public_url,
            secrets,
            stripe_api_base: Url::parse(DEFAULT_STRIPE_API_BASE).expect("constant URL"),
            tolerance: fluxstore_relay::DEFAULT_TOLERANCE,
            body_limit: fluxstore_relay::DEFAULT_BODY_LIMIT,
            request_timeout: Duration::from_secs(30),
            header_read_timeout: Duration::from_secs(10),
            max_connections: 16_384,
            shutdown_grace: Duration::from_secs(20),
            retention: DEFAULT_RETENTION,
            sweep_every: Duration::from_secs(10 * 60),
            token_recheck: TOKEN_RECHECK,
            heartbeat: Duration::from_secs(15),
            store_doorbell_rate: (20, 200),
            registration_rate: (5, 50),
            registration_rate_per_peer: (2, 5),
            unclaimed_store_ttl: Duration::from_secs(24 * 60 * 60),
            token_check_rate: (20, 50),
            doorbells: true,
            broker: None,
            grant_sweep_every: Duration::from_secs(10),
        })
    }

    /// Where Connect tokens are checked; https, or http to this computer.
    pub fn set_stripe_api_base(&mut self, base: Url) -> Result<(), ConfigError> {
        if !sends_secrets_safely(&base) {
            return Err(ConfigError::StripeApiBase);
        }
        self.stripe_api_base = base;
        Ok(())
    }

    /// `{public_url}{path}`, keeping a path prefix of the public URL.
    pub fn public(&self, path: &str) -> Url {
        let mut url = self.public_url.clone();
        let prefix = self.public_url.path().trim_end_matches('/').to_owned();
        url.set_path(&format!("{prefix}{path}"));
        url.set_query(None);
        url.set_fragment(None);
        url
    }
}

/// Why the hub could not start.
#[derive(Debug, thiserror::Error)]
pub enum HubError {
    #[error(transparent)]
    Config(#[from] broker::ConfigError),
    #[error("the Connect broker could not be prepared: {0}")]
    Broker(#[from] broker::StripeError),
    #[error("could not listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
}

pub(crate) fn rate(per_second: u32, burst: u32) -> Quota {
    let nz = |n: u32| NonZeroU32::new(n).unwrap_or(NonZeroU32::MIN);
    Quota::per_second(nz(per_second)).allow_burst(nz(burst))
}

/// What every request shares.
pub(crate) struct App<S> {
    pub(crate) store: S,
    pub(crate) config: HubConfig,
    pub(crate) connect: Arc<auth::ConnectCheck>,
    pub(crate) store_limiter: DefaultKeyedRateLimiter<String>,
    pub(crate) registration_limiter: DefaultDirectRateLimiter,
    pub(crate) registration_peer_limiter: DefaultKeyedRateLimiter<std::net::IpAddr>,
    /// Turns true at shutdown: open feeds end so connections can close.
    pub(crate) stop: watch::Receiver<bool>,
}

fn router<S: Store>(app: Arc<App<S>>) -> Result<Router, broker::StripeError> {
    let mut routes = Router::new().route(HEALTH_PATH, get(intake::healthz::<S>));
    if app.config.doorbells {
        routes = routes
            .route(PLATFORM_WEBHOOK_PATH, any(intake::platform_webhook::<S>))
            .route(
                &format!("{STORE_WEBHOOK_PREFIX}{{store_key}}"),
                any(intake::store_webhook::<S>),
            )
            .route(STORES_PATH, post(register::register_store::<S>))
            .route(FEED_PATH, get(feed::feed::<S>));
    }
    let broker = app
        .config
        .broker
        .clone()
        .map(|config| broker::router(config, app.store.clone(), app.connect.clone()))
        .transpose()?;
    let mut routes = routes.fallback(intake::not_found).with_state(app);
    if let Some(broker) = broker {
        routes = routes.merge(broker);
    }
    Ok(routes)
}

/// Entry point.
pub struct Hub;

impl Hub {
    /// Bind and serve in the background on the current Tokio runtime, with retention running.
    pub async fn start<S: Store>(config: HubConfig, store: S) -> Result<HubHandle, HubError> {
        let listener = tokio::net::TcpListener::bind(config.listen)
            .await
            .map_err(|source| HubError::Bind {
                addr: config.listen,
                source,
            })?;
        Hub::spawn(listener, config, store)
    }

    /// Serve on an already bound listener (so its address can go into the public URL), on
    /// the current Tokio runtime.
    pub fn spawn<S: Store>(
        listener: tokio::net::TcpListener,
        config: HubConfig,
        store: S,
    ) -> Result<HubHandle, HubError> {
        if let Some(broker) = &config.broker {
            broker.check()?;
        }
        let local_addr = listener.local_addr().map_err(|source| HubError::Bind {
            addr: config.listen,
            source,
        })?;
        let (stop_tx, stop_rx) = watch::channel(false);
        let app = Arc::new(App {
            connect: Arc::new(auth::ConnectCheck::new(
                &config.stripe_api_base,
                config.token_recheck,
                config.token_check_rate,
            )),
            store_limiter: RateLimiter::keyed(rate(
                config.store_doorbell_rate.0,
                config.store_doorbell_rate.1,
            )),
            registration_peer_limiter: RateLimiter::keyed({
                let nz = |n: u32| NonZeroU32::new(n).unwrap_or(NonZeroU32::MIN);
                Quota::per_minute(nz(config.registration_rate_per_peer.0))
                    .allow_burst(nz(config.registration_rate_per_peer.1))
            }),
            registration_limiter: RateLimiter::direct(rate(
                config.registration_rate.0,
                config.registration_rate.1,
            )),
            store,
            stop: stop_rx.clone(),
            config,
        });
        let limits = fluxstore_relay::server::Limits {
            header_read_timeout: app.config.header_read_timeout,
            max_connections: app.config.max_connections,
            shutdown_grace: app.config.shutdown_grace,
        };
        let routes = router(app.clone())?;
        let server = tokio::spawn(fluxstore_relay::server::serve(
            listener,
            routes,
            limits,
            stop_rx.clone(),
        ));
        let sweeper = tokio::spawn(sweep(app, stop_rx));
        tracing::info!(%local_addr, "hub listening");
        Ok(HubHandle {
            local_addr,
            stop: stop_tx,
            server: Some(server),
            sweeper,
        })
    }
}

/// Retention and the limiters' housekeeping, every `sweep_every`.
async fn sweep<S: Store>(app: Arc<App<S>>, mut stop: watch::Receiver<bool>) {
    let mut tick = tokio::time::interval(app.config.sweep_every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    // The first sweep one period after start, not at once: a grant written in the first
    // moments stays until it can be answered "expired" (a code redeemed late is told so).
    let mut grant_tick = tokio::time::interval_at(
        tokio::time::Instant::now() + app.config.grant_sweep_every,
        app.config.grant_sweep_every,
    );
    grant_tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        let grants_only = tokio::select! {
            _ = tick.tick() => false,
            _ = grant_tick.tick() => true,
            _ = stop.wait_for(|s| *s) => return,
        };
        if grants_only {
            if app.config.broker.is_some()
                && let Err(e) = app
                    .store
                    .prune_grants(fluxstore_relay::signature::unix_now())
                    .await
            {
                tracing::warn!(error = %e, "expired Connect grants could not be removed; trying again");
            }
            continue;
        }
        let cutoff = fluxstore_relay::signature::unix_now()
            - i64::try_from(app.config.retention.as_secs()).unwrap_or(i64::MAX);
        match app.store.prune(cutoff).await {
            Ok(Some(removed)) if removed > 0 => {
                tracing::info!(removed, "doorbells past retention removed");
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "retention could not run; trying again later"),
        }
        let unclaimed_before = fluxstore_relay::signature::unix_now()
            - i64::try_from(app.config.unclaimed_store_ttl.as_secs()).unwrap_or(i64::MAX);
        match app.store.prune_unclaimed_stores(unclaimed_before).await {
            Ok(removed) if removed > 0 => {
                tracing::info!(removed, "store registrations never used were removed");
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "unused store registrations could not be removed"),
        }
        app.store_limiter.retain_recent();
        app.registration_peer_limiter.retain_recent();
        app.connect.forget_expired();
    }
}

/// A running hub. Dropping it stops accepting connections.
pub struct HubHandle {
    local_addr: SocketAddr,
    stop: watch::Sender<bool>,
    server: Option<tokio::task::JoinHandle<()>>,
    sweeper: tokio::task::JoinHandle<()>,
}

impl HubHandle {
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// `http://ADDR` (no trailing slash).
    pub fn url(&self) -> String {
        format!("http://{}", self.local_addr)
    }

    /// End open feeds, finish requests in flight, stop.
    pub async fn shutdown(mut self) {
        let _ = self.stop.send(true);
        if let Some(server) = self.server.take() {
            let _ = server.await;
        }
    }
}

impl Drop for HubHandle {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
        self.sweeper.abort();
    }
}
