//! The webhook relay: Stripe signature verification, the HTTP intake and the group-commit
//! writer into the local mirror.
//!
//! Invariant: an event is acknowledged with a 2xx only after it has been verified on the raw
//! bytes received, parsed, found to be of the mode of the secret that signed it, and
//! committed durably by the single writer; every refusal is answered with a coarse JSON
//! error code and counted (never its body): per hour and code in the mirror, written with
//! the writer's batches, or, for 404/405 noise, in memory only ([`RelayStats`]).
//!
//! The same library runs headless (`fluxstore serve`) and in-process in the desktop app:
//! [`Relay::start`] returns a [`RelayHandle`] that swaps secrets at run time, streams
//! [`AppliedEvent`] notices for live views, and shuts down gracefully.

pub mod secrets;
pub mod signature;

mod intake;
pub mod server;
mod writer;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use std::thread::JoinHandle;
use std::time::Duration;

use fluxstore_mirror::{AppliedEvent, MirrorError};
use serde::Serialize;
use tokio::sync::{broadcast, watch};

/// The mode a signing secret belongs to (the mirror's).
pub use fluxstore_mirror::Mode;
pub use intake::WEBHOOK_PATH;
pub use secrets::{SecretError, SecretWarning, SigningSecret, SigningSecrets};
pub use signature::{DEFAULT_TOLERANCE, SignatureError, Verified, sign_header};

/// Default body limit: 1 MiB (Stripe events are a few KB; the largest are well under this).
pub const DEFAULT_BODY_LIMIT: usize = 1024 * 1024;

/// How the relay listens and what it bounds.
#[derive(Debug, Clone)]
pub struct RelayConfig {
    /// Address to bind; port 0 picks a free port (see [`RelayHandle::local_addr`]).
    pub listen: SocketAddr,
    /// Active signing secrets; may be empty (deliveries then get 503 `no_signing_secret`).
    pub secrets: SigningSecrets,
    /// Allowed clock difference either way for the signature timestamp.
    pub tolerance: Duration,
    /// Largest accepted body in bytes (413 above).
    pub body_limit: usize,
    /// Time a client has to send its request headers.
    pub header_read_timeout: Duration,
    /// Time a client has to send its body (408 `request_timeout` after), and again the
    /// longest wait for the commit (503 `storage_unavailable` after: Stripe retries).
    pub request_timeout: Duration,
    /// Connections served at once; further connections wait in the listen backlog.
    pub max_connections: usize,
    /// Most events committed in one transaction.
    pub max_batch: usize,
    /// How long shutdown waits for in-flight requests.
    pub shutdown_grace: Duration,
}

impl Default for RelayConfig {
    fn default() -> RelayConfig {
        RelayConfig {
            listen: SocketAddr::from(([127, 0, 0, 1], 8787)),
            secrets: SigningSecrets::none(),
            tolerance: DEFAULT_TOLERANCE,
            body_limit: DEFAULT_BODY_LIMIT,
            header_read_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(30),
            max_connections: 256,
            max_batch: 256,
            shutdown_grace: Duration::from_secs(20),
        }
    }
}

/// Work done since start: `events / batches` is the average group-commit size.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct RelayStats {
    /// Transactions attempted for verified events.
    pub batches: u64,
    /// Verified events handed to those transactions (duplicates included).
    pub events: u64,
    /// Refused deliveries counted into the mirror's rejection aggregates.
    pub rejections: u64,
    /// Requests to a path other than the webhook's (404): counted here only, never stored.
    pub not_found: u64,
    /// Requests to the webhook path with a method other than POST (405): counted here only.
    pub method_not_allowed: u64,
}

/// Why the relay could not start.
#[derive(Debug, thiserror::Error)]
pub enum RelayError {
    #[error("could not listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
    #[error("could not open the mirror database {path}: {source}")]
    Mirror {
        path: PathBuf,
        #[source]
        source: MirrorError,
    },
    #[error("the relay could not start: {0}")]
    Runtime(String),
}

/// Entry point.
pub struct Relay;

impl Relay {
    /// Open the mirror (on the writer thread), bind, and start serving in the background on
    /// the current Tokio runtime.
    pub async fn start(config: RelayConfig, mirror_path: &Path) -> Result<RelayHandle, RelayError> {
        let (applied_tx, _) = broadcast::channel(1024);
        let path = mirror_path.to_path_buf();
        let max_batch = config.max_batch;
        let tx = applied_tx.clone();
        let spawned = tokio::task::spawn_blocking(move || {
            // Room for a full batch queued while the previous one commits, and then some.
            writer::Writer::spawn(&path, max_batch, max_batch * 4, tx)
        })
        .await
        .map_err(|e| RelayError::Runtime(e.to_string()))?;
        let (writer, writer_thread) = spawned.map_err(|source| RelayError::Mirror {
            path: mirror_path.to_path_buf(),
            source,
        })?;
        let listener = tokio::net::TcpListener::bind(config.listen)
            .await
            .map_err(|source| RelayError::Bind {
                addr: config.listen,
                source,
            })?;
        let local_addr = listener.local_addr().map_err(|source| RelayError::Bind {
            addr: config.listen,
            source,
        })?;
        let intake = Arc::new(intake::Intake {
            secrets: RwLock::new(Arc::new(config.secrets.clone())),
            tolerance: config.tolerance,
            body_limit: config.body_limit,
            request_timeout: config.request_timeout,
            writer,
            noise: intake::Noise::default(),
        });
        let router = intake::router(intake.clone());
        let (stop_tx, stop_rx) = watch::channel(false);
        let limits = server::Limits {
            header_read_timeout: config.header_read_timeout,
            max_connections: config.max_connections,
            shutdown_grace: config.shutdown_grace,
        };
        let server = tokio::spawn(server::serve(listener, router, limits, stop_rx));
        tracing::info!(%local_addr, "relay listening");
        Ok(RelayHandle {
            local_addr,
            intake: Some(intake),
            applied: applied_tx,
            stop: stop_tx,
            server: Some(server),
            writer_thread: Some(writer_thread),
        })
    }
}

/// A running relay. Dropping it stops accepting connections; call [`RelayHandle::shutdown`]
/// to also wait for in-flight requests and the writer.
pub struct RelayHandle {
    local_addr: SocketAddr,
    intake: Option<Arc<intake::Intake>>,
    applied: broadcast::Sender<AppliedEvent>,
    stop: watch::Sender<bool>,
    server: Option<tokio::task::JoinHandle<()>>,
    writer_thread: Option<JoinHandle<()>>,
}

impl RelayHandle {
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// The full webhook URL on this relay, e.g. `http://127.0.0.1:8787/api/webhooks/stripe`.
    pub fn webhook_url(&self) -> String {
        format!("http://{}{}", self.local_addr, WEBHOOK_PATH)
    }

    /// Replace the active secrets; takes effect for the next delivery.
    pub fn set_secrets(&self, secrets: SigningSecrets) {
        if let Some(intake) = &self.intake {
            intake.set_secrets(secrets);
        }
    }

    /// Whether at least one signing secret is configured.
    pub fn has_secrets(&self) -> bool {
        self.intake
            .as_ref()
            .is_some_and(|i| !i.secrets().is_empty())
    }

    /// Counters of the writer's group commits, of refusals, and of 404/405 noise.
    pub fn stats(&self) -> RelayStats {
        use std::sync::atomic::Ordering::Relaxed;
        self.intake.as_ref().map_or_else(RelayStats::default, |i| {
            let c = &i.writer.counters;
            RelayStats {
                batches: c.batches.load(Relaxed),
                events: c.events.load(Relaxed),
                rejections: c.rejections.load(Relaxed),
                not_found: i.noise.not_found.load(Relaxed),
                method_not_allowed: i.noise.method_not_allowed.load(Relaxed),
            }
        })
    }

    /// A stream of events stored for the first time (duplicates are not announced), for
    /// live views.
    pub fn subscribe(&self) -> broadcast::Receiver<AppliedEvent> {
        self.applied.subscribe()
    }

    /// Stop accepting, let in-flight requests finish (their commits included), then stop the
    /// writer and close the mirror.
    pub async fn shutdown(mut self) {
        let _ = self.stop.send(true);
        if let Some(server) = self.server.take() {
            let _ = server.await;
        }
        // The last handle on the writer: after this the writer's channel closes.
        self.intake.take();
        if let Some(thread) = self.writer_thread.take() {
            let _ = tokio::task::spawn_blocking(move || thread.join()).await;
        }
    }
}

impl Drop for RelayHandle {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
    }
}
