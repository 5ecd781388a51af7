//! One open store: its mirror file, a read connection for the views, a write connection for
//! the gateway (audit rows, refunds, settings), and the in-process relay that feeds it.
//!
//! Invariants: the relay is the only webhook writer of its mirror (its own writer thread);
//! the read connection is read-only; a store never sees another store's file, so the sample
//! store and the owner's real store cannot mix.
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use fluxstore_gateway::profile::Setting;
use fluxstore_mirror::{Mirror, MirrorError};
use fluxstore_relay::{Relay, RelayConfig, RelayError, RelayHandle, SigningSecrets};
use tokio::sync::broadcast::error::RecvError;

use crate::error::{IpcError, IpcResult};
use crate::notify::Notify;

/// Remembers the relay's port, so the forwarding URL the owner configured keeps working
/// across restarts.
const RELAY_PORT: Setting = Setting::RelayPort;
/// The owner's relay listens here unless that port is taken: the same port as
/// `fluxstore serve`, so `stripe listen --forward-to` and tunnel instructions need no lookup.
const DEFAULT_RELAY_PORT: u16 = 8787;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoreKind {
    Real,
    Sample,
}

pub struct Store {
    pub kind: StoreKind,
    pub mirror_path: PathBuf,
    read: Arc<Mutex<Mirror>>,
    write: Arc<Mutex<Mirror>>,
    relay: Mutex<Option<RelayHandle>>,
    forwarder: Mutex<Option<tokio::task::JoinHandle<()>>>,
}

impl Store {
    /// Create or migrate the mirror, then open its two connections.
    pub fn open(kind: StoreKind, mirror_path: &Path) -> Result<Store, MirrorError> {
        let write = Mirror::open(mirror_path)?;
        let read = Mirror::open_read_only(mirror_path)?;
        Ok(Store {
            kind,
            mirror_path: mirror_path.to_path_buf(),
            read: Arc::new(Mutex::new(read)),
            write: Arc::new(Mutex::new(write)),
            relay: Mutex::new(None),
            forwarder: Mutex::new(None),
        })
    }

    /// The write connection the gateway shares (audit rows, refunds).
    pub fn writer(&self) -> Arc<Mutex<Mirror>> {
        self.write.clone()
    }

    /// Run a read query off the async runtime's threads.
    pub async fn read<T, F>(&self, query: F) -> IpcResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&Mirror) -> Result<T, MirrorError> + Send + 'static,
    {
        let conn = self.read.clone();
        tokio::task::spawn_blocking(move || {
            let guard = conn.lock().unwrap_or_else(|p| p.into_inner());
            query(&guard)
        })
        .await
        .map_err(|e| IpcError::internal("A mirror query stopped unexpectedly", &e))?
        .map_err(IpcError::from)
    }

    /// Run a write (settings, audit) off the async runtime's threads.
    pub async fn write<T, F>(&self, change: F) -> IpcResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut Mirror) -> Result<T, MirrorError> + Send + 'static,
    {
        let conn = self.write.clone();
        tokio::task::spawn_blocking(move || {
            let mut guard = conn.lock().unwrap_or_else(|p| p.into_inner());
            change(&mut guard)
        })
        .await
        .map_err(|e| IpcError::internal("A mirror update stopped unexpectedly", &e))?
        .map_err(IpcError::from)
    }

    pub async fn setting(&self, setting: Setting) -> IpcResult<Option<String>> {
        self.read(move |m| setting.get(m)).await
    }

    pub async fn set_setting(&self, setting: Setting, value: Option<String>) -> IpcResult<()> {
        self.write(move |m| setting.set(m, value.as_deref())).await
    }

    /// The relay's webhook URL, when it is listening.
    pub fn relay_url(&self) -> Option<String> {
        self.relay
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .as_ref()
            .map(RelayHandle::webhook_url)
    }

    pub fn relay_addr(&self) -> Option<SocketAddr> {
        self.relay
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .as_ref()
            .map(RelayHandle::local_addr)
    }

    /// Give the relay these secrets, starting it on 127.0.0.1 if it is not running yet.
    /// `port` None means: the port used last time, else any free one.
    pub async fn ensure_relay(
        &self,
        secrets: SigningSecrets,
        port: Option<u16>,
        notify: Arc<dyn Notify>,
    ) -> IpcResult<String> {
        {
            let relay = self.relay.lock().unwrap_or_else(|p| p.into_inner());
            if let Some(handle) = relay.as_ref() {
                handle.set_secrets(secrets);
                return Ok(handle.webhook_url());
            }
        }
        let remembered = match port {
            Some(p) => Some(p),
            None => self
                .setting(RELAY_PORT)
                .await?
                .and_then(|p| p.parse::<u16>().ok()),
        };
        // The sample store takes any free port, so it never holds the owner's usual one.
        let preferred = remembered.or((self.kind == StoreKind::Real).then_some(DEFAULT_RELAY_PORT));
        let handle = match self
            .start_relay(secrets.clone(), preferred.unwrap_or(0))
            .await
        {
            Ok(h) => h,
            // The usual port is taken by something else: any free port beats no relay.
            Err(RelayError::Bind { .. }) if preferred.is_some_and(|p| p != 0) => {
                tracing::warn!(
                    port = preferred,
                    "the relay's usual port is busy; using another"
                );
                self.start_relay(secrets, 0).await.map_err(relay_error)?
            }
            Err(e) => return Err(relay_error(e)),
        };
        let url = handle.webhook_url();
        let port = handle.local_addr().port();
        if self.kind == StoreKind::Real {
            self.set_setting(RELAY_PORT, Some(port.to_string())).await?;
        }
        let mut rx = handle.subscribe();
        let forwarder = tokio::spawn(async move {
            loop {
                match rx.recv().await {
                    Ok(applied) => notify.event_applied(&applied),
                    // A burst outran the window; views refresh on the next notice anyway.
                    Err(RecvError::Lagged(n)) => {
                        tracing::debug!(skipped = n, "event notices lagged")
                    }
                    Err(RecvError::Closed) => break,
                }
            }
        });
        *self.forwarder.lock().unwrap_or_else(|p| p.into_inner()) = Some(forwarder);
        *self.relay.lock().unwrap_or_else(|p| p.into_inner()) = Some(handle);
        Ok(url)
    }

    async fn start_relay(
        &self,
        secrets: SigningSecrets,
        port: u16,
    ) -> Result<RelayHandle, RelayError> {
        let config = RelayConfig {
            listen: SocketAddr::from(([127, 0, 0, 1], port)),
            secrets,
            ..RelayConfig::default()
        };
        Relay::start(config, &self.mirror_path).await
    }

    /// Stop the relay (in-flight deliveries finish and commit first).
    pub async fn shutdown(&self) {
        let handle = self.relay.lock().unwrap_or_else(|p| p.into_inner()).take();
        if let Some(handle) = handle {
            handle.shutdown().await;
        }
        if let Some(f) = self
            .forwarder
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take()
        {
            f.abort();
        }
    }
}

fn relay_error(e: RelayError) -> IpcError {
    IpcError::internal("The local webhook relay could not start", &e)
}
