//! The app's state: the owner's real store, the optional sample store, the OS keyring, and
//! whether Stripe answered lately. Command bodies are methods here, so they run in tests
//! without a window (the window only adds `Notify`).
//!
//! Invariants: exactly one store is active; the sample store lives in its own folder and its
//! own mirror file and never touches the keyring; a command that needs Stripe gets its client
//! from [`AppState::client`], which knows which store and which mode it acts for.
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use fluxstore_gateway::keystore::{KeyringError, SecretKind, SecretSlot, SecretStore};
use fluxstore_gateway::{ApiKey, ClientConfig, Credential, GatewayError, StripeClient};
use fluxstore_mirror::Mode as MirrorMode;
use fluxstore_relay::{SigningSecret, SigningSecrets};
use tokio::sync::Mutex;

use crate::dto::{Mode, OnlineChanged};
use crate::error::{ErrorCode, IpcError, IpcResult};
use crate::notify::Notify;
use crate::sample::SampleStore;
use crate::store::{Store, StoreKind};

/// The keyring account every secret of the owner's store is filed under.
pub const ACCOUNT: &str = "default";
/// File name of a store's mirror inside its folder.
pub const MIRROR_FILE: &str = "mirror.db";
/// The sample store's folder inside the data dir.
pub const SAMPLE_DIR: &str = "sample-store";

pub struct AppState {
    pub data_dir: PathBuf,
    pub notify: Arc<dyn Notify>,
    /// None when this platform has no supported keyring (then nothing secret is ever kept).
    pub keyring: Option<SecretStore>,
    pub real: Arc<Store>,
    pub sample: Mutex<Option<Arc<SampleStore>>>,
    online: AtomicBool,
    /// Wakes the background sync (new keys, the sample store closed).
    pub sync_wake: tokio::sync::Notify,
    /// The Connect sign-in waiting for the browser, if any.
    pub connect_pending: Mutex<Option<fluxstore_gateway::oauth::CancelHandle>>,
    /// Stripe's API base URL; None: `FLUXSTORE_STRIPE_API_BASE`, else Stripe itself.
    pub api_base: Option<String>,
    /// The Connect service to sign in through; unset: `FLUXSTORE_CONNECT_SERVICE` (tests set
    /// it to a local service, since the environment is the process's and shared).
    pub connect_service: std::sync::OnceLock<url::Url>,
}

impl AppState {
    /// Open the owner's store under `data_dir` (created if needed) and start its relay if a
    /// signing secret is already in the keyring.
    pub async fn open(
        data_dir: &Path,
        notify: Arc<dyn Notify>,
        keyring: Option<SecretStore>,
    ) -> IpcResult<Arc<AppState>> {
        AppState::open_with(data_dir, notify, keyring, None).await
    }

    /// [`AppState::open`] with Stripe's API at `api_base` (tests point it at the local fake).
    pub async fn open_with(
        data_dir: &Path,
        notify: Arc<dyn Notify>,
        keyring: Option<SecretStore>,
        api_base: Option<String>,
    ) -> IpcResult<Arc<AppState>> {
        std::fs::create_dir_all(data_dir)
            .map_err(|e| IpcError::internal("The app's data folder could not be created", &e))?;
        let path = data_dir.join(MIRROR_FILE);
        let real = tokio::task::spawn_blocking(move || Store::open(StoreKind::Real, &path))
            .await
            .map_err(|e| IpcError::internal("The local mirror could not be opened", &e))??;
        let state = Arc::new(AppState {
            data_dir: data_dir.to_path_buf(),
            notify,
            keyring,
            real: Arc::new(real),
            sample: Mutex::new(None),
            online: AtomicBool::new(true),
            sync_wake: tokio::sync::Notify::new(),
            connect_pending: Mutex::new(None),
            api_base,
            connect_service: std::sync::OnceLock::new(),
        });
        match state.signing_secrets().await {
            Ok(secrets) if !secrets.is_empty() => {
                state
                    .real
                    .ensure_relay(secrets, None, state.notify.clone())
                    .await?;
            }
            Ok(_) => tracing::info!("no signing secret yet; the relay starts once one is saved"),
            Err(e) => tracing::warn!(error = %e, "signing secrets could not be read at start"),
        }
        Ok(state)
    }

    /// The store the views show: the sample store while it is open, else the owner's.
    pub async fn active(&self) -> Arc<Store> {
        match self.sample.lock().await.as_ref() {
            Some(sample) => sample.store.clone(),
            None => self.real.clone(),
        }
    }

    pub async fn sample_open(&self) -> bool {
        self.sample.lock().await.is_some()
    }

    pub fn online(&self) -> bool {
        self.online.load(Ordering::SeqCst)
    }

    /// Note what a Stripe call said about the network and tell the UI when that changes.
    pub fn observe<T>(&self, result: &Result<T, GatewayError>) {
        let online = !matches!(result, Err(GatewayError::Offline | GatewayError::Timeout));
        if self.online.swap(online, Ordering::SeqCst) != online {
            self.notify.online_changed(OnlineChanged { online });
        }
    }

    pub fn keyring(&self) -> IpcResult<&SecretStore> {
        self.keyring
            .as_ref()
            .ok_or_else(|| IpcError::from(GatewayError::from(KeyringError::Unsupported)))
    }

    /// Run a blocking keyring call (D-Bus on Linux) off the async threads.
    pub async fn with_keyring<T, F>(&self, f: F) -> IpcResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&SecretStore) -> Result<T, KeyringError> + Send + 'static,
    {
        let store = self.keyring()?.clone();
        tokio::task::spawn_blocking(move || f(&store))
            .await
            .map_err(|e| IpcError::internal("The keyring call stopped unexpectedly", &e))?
            .map_err(|e| IpcError::from(GatewayError::from(e)))
    }

    /// Every webhook signing secret of the owner's store (test and live) from the keyring.
    pub async fn signing_secrets(&self) -> IpcResult<SigningSecrets> {
        let texts = self
            .with_keyring(|k| {
                let mut out = Vec::new();
                for mode in [MirrorMode::Test, MirrorMode::Live] {
                    let slot = SecretSlot::new(ACCOUNT, mode, SecretKind::WebhookSecret);
                    if let Some(secret) = k.get(&slot)? {
                        out.push(secret);
                    }
                }
                Ok(out)
            })
            .await?;
        let mut secrets = Vec::new();
        for text in texts {
            match SigningSecret::new(text.expose()) {
                Ok(s) => secrets.push(s),
                Err(e) => {
                    tracing::warn!(error = %e, "a stored signing secret is not valid; skipped")
                }
            }
        }
        Ok(SigningSecrets::new(secrets))
    }

    /// Hand the owner's relay the current secrets, starting it when the first one appears.
    pub async fn reload_relay(&self) -> IpcResult<()> {
        let secrets = self.signing_secrets().await?;
        if secrets.is_empty() && self.real.relay_url().is_none() {
            return Ok(());
        }
        self.real
            .ensure_relay(secrets, None, self.notify.clone())
            .await
            .map(|_| ())
    }

    /// The Stripe client for `mode` of the active store: the saved API key, else the
    /// Connect access token of that mode.
    pub async fn client(&self, mode: Mode) -> IpcResult<StripeClient> {
        if let Some(sample) = self.sample.lock().await.as_ref() {
            return sample.client(mode);
        }
        let slot = SecretSlot::new(ACCOUNT, mode, SecretKind::ApiKey);
        let cfg = self.client_config()?;
        if let Some(key) = self.with_keyring(move |k| k.get(&slot)).await? {
            let key = ApiKey::parse(key.expose()).map_err(GatewayError::from)?;
            return Ok(StripeClient::new(
                cfg,
                Credential::ApiKey(key),
                self.real.writer(),
            )?);
        }
        let keyring = self.keyring()?.clone();
        let mirror = self.real.writer();
        let connected = tokio::task::spawn_blocking(move || {
            let m = mirror.lock().unwrap_or_else(|p| p.into_inner());
            fluxstore_gateway::connect::access_token(&keyring, &m, ACCOUNT)
        })
        .await
        .map_err(|e| IpcError::internal("The keyring call stopped unexpectedly", &e))?;
        match connected {
            Ok((token, _account, token_mode)) if token_mode == mode => Ok(StripeClient::new(
                cfg,
                Credential::ConnectToken {
                    token,
                    mode: token_mode,
                },
                self.real.writer(),
            )?),
            Ok(_) | Err(fluxstore_gateway::connect::ConnectError::NotConnected) => {
                Err(IpcError::new(
                    ErrorCode::NotConnected,
                    format!(
                        "Stripe is not connected for {} mode yet. Connect it or enter your keys first (Payment Gateways).",
                        mode_word(mode)
                    ),
                ))
            }
            Err(e) => Err(e.into()),
        }
    }

    /// The Stripe client settings of the owner's store.
    pub fn client_config(&self) -> IpcResult<ClientConfig> {
        Ok(ClientConfig::from_env(self.api_base.as_deref())?)
    }

    /// Stop every relay (app exit).
    pub async fn shutdown(&self) {
        if let Some(sample) = self.sample.lock().await.take() {
            sample.shutdown().await;
        }
        self.real.shutdown().await;
    }
}

pub fn mode_word(mode: Mode) -> &'static str {
    match mode {
        Mode::Test => "test",
        Mode::Live => "live",
    }
}
