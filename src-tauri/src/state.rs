//! The app's state: the owner's store and its profile, the optional sample store, the feed,
//! and whether Stripe answered lately. Command bodies are methods here, so they run in tests
//! without a window (the window only adds `Notify`).
//!
//! Invariants: exactly one store is active; every rule about the connection lives in the
//! gateway's store profile ([`Profile`]) — this shell only picks the active store's profile,
//! calls it and maps the result; the sample store lives in its own folder and mirror file,
//! acts through a profile of its own (its stand-in's run-only key, no keyring) and never
//! touches the owner's keyring.
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Weak};

use fluxstore_gateway::profile::{Feed, FeedObserver, HubFeedStatus, POLL};
use fluxstore_gateway::sync::SyncProgress as SyncPages;
use fluxstore_gateway::{
    AppliedEvent, CancelToken, GatewayError, Profile, ProfileConfig, ProfileError, SecretStore,
    StripeClient, SyncOptions, SyncReport,
};
use fluxstore_mirror::Mode;
use fluxstore_relay::{SigningSecret, SigningSecrets};
use tokio::sync::Mutex;

use crate::dto::{OnlineChanged, SyncProgress};
use crate::error::{IpcError, IpcResult};
use crate::notify::Notify;
use crate::sample::SampleStore;
use crate::store::{Store, StoreKind};

pub use fluxstore_gateway::profile::{DEFAULT_STORE as ACCOUNT, MIRROR_FILE};
/// The sample store's folder inside the data dir.
pub const SAMPLE_DIR: &str = "sample-store";

pub struct AppState {
    pub data_dir: PathBuf,
    pub notify: Arc<dyn Notify>,
    pub real: Arc<Store>,
    /// The owner's store profile: the one owner of its connection to Stripe.
    pub profile: Arc<Profile>,
    pub sample: Mutex<Option<Arc<SampleStore>>>,
    online: AtomicBool,
    /// The events feed of the owner's store, once started.
    feed: Mutex<Option<Feed>>,
    /// The Connect sign-in waiting for the browser, if any.
    pub sign_in: Mutex<Option<crate::connect::PendingSignIn>>,
    /// Notices to the owner, decided from the owner's mirror after each ingest.
    pub alerts: Arc<crate::alerts::Alerts>,
    /// Whether the app shows a tray icon (set once by the app at start; tests have none).
    tray: AtomicBool,
    /// The owner's tray preference, read where the window's close is decided (synchronously).
    keep_in_tray: AtomicBool,
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
        let config = ProfileConfig {
            api_base,
            ..ProfileConfig::new(ACCOUNT)
        };
        AppState::open_configured(data_dir, notify, keyring, config).await
    }

    /// [`AppState::open`] with the profile's overrides spelled out.
    pub async fn open_configured(
        data_dir: &Path,
        notify: Arc<dyn Notify>,
        keyring: Option<SecretStore>,
        config: ProfileConfig,
    ) -> IpcResult<Arc<AppState>> {
        fluxstore_mirror::create_private_dir(data_dir)
            .map_err(|e| IpcError::internal("The app's data folder could not be created", &e))?;
        let path = data_dir.join(MIRROR_FILE);
        let real = tokio::task::spawn_blocking(move || Store::open(StoreKind::Real, &path))
            .await
            .map_err(|e| IpcError::internal("The local mirror could not be opened", &e))??;
        let real = Arc::new(real);
        let profile = Arc::new(Profile::open(config, keyring, real.writer())?);
        // Every road's "event applied" passes through here: one place decides notices.
        let alerting = crate::alerts::AlertingNotify::new(notify);
        let alerts = alerting.watch(real.clone());
        let notify: Arc<dyn Notify> = alerting;
        let state = Arc::new(AppState {
            data_dir: data_dir.to_path_buf(),
            notify,
            alerts,
            tray: AtomicBool::new(false),
            keep_in_tray: AtomicBool::new(true),
            real,
            profile,
            sample: Mutex::new(None),
            online: AtomicBool::new(true),
            feed: Mutex::new(None),
            sign_in: Mutex::new(None),
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

    /// Whether a tray icon is shown (closing the window can keep the app running).
    pub fn tray_available(&self) -> bool {
        self.tray.load(Ordering::Acquire)
    }

    /// Closing the window now keeps the app running in the tray (a tray is shown and the
    /// owner left the preference on).
    pub fn keep_in_tray_now(&self) -> bool {
        self.tray_available() && self.keep_in_tray.load(Ordering::Acquire)
    }

    pub(crate) fn set_keep_in_tray(&self, keep: bool) {
        self.keep_in_tray.store(keep, Ordering::Release);
    }

    /// Record that the app shows a tray icon.
    pub fn set_tray_available(&self, shown: bool) {
        self.tray.store(shown, Ordering::Release);
    }

    /// The store the views show: the sample store while it is open, else the owner's.
    pub async fn active(&self) -> Arc<Store> {
        match self.sample.lock().await.as_ref() {
            Some(sample) => sample.store.clone(),
            None => self.real.clone(),
        }
    }

    /// The profile of the active store.
    pub async fn active_profile(&self) -> Arc<Profile> {
        match self.sample.lock().await.as_ref() {
            Some(sample) => sample.profile.clone(),
            None => self.profile.clone(),
        }
    }

    pub async fn sample_open(&self) -> bool {
        self.sample.lock().await.is_some()
    }

    pub fn online(&self) -> bool {
        self.online.load(Ordering::SeqCst)
    }

    fn set_online(&self, online: bool) {
        if self.online.swap(online, Ordering::SeqCst) != online {
            self.notify.online_changed(OnlineChanged { online });
        }
    }

    /// Note what a Stripe call said about the network and tell the UI when that changes.
    pub fn observe<T>(&self, result: &Result<T, ProfileError>) {
        self.set_online(!matches!(
            result,
            Err(ProfileError::Gateway(
                GatewayError::Offline | GatewayError::Timeout
            ))
        ));
    }

    /// Every webhook signing secret of the owner's store (test and live) from the keyring,
    /// each with its mode: the relay accepts an event only in the mode of its secret.
    pub async fn signing_secrets(&self) -> IpcResult<SigningSecrets> {
        let mut secrets = Vec::new();
        for (mode, text) in self.profile.signing_secrets().await? {
            match SigningSecret::new(text.expose(), mode) {
                Ok(s) => secrets.push(s),
                Err(e) => {
                    tracing::warn!(mode = mode.as_str(), error = %e, "a stored signing secret is not valid; skipped")
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

    /// The Stripe client for `mode` of the active store.
    pub async fn client(&self, mode: Mode) -> IpcResult<StripeClient> {
        let result = self.active_profile().await.client(mode).await;
        Ok(result?)
    }

    /// Start the owner's events feed (once); it runs until the app exits.
    pub async fn start_feed(self: &Arc<Self>) {
        let mut feed = self.feed.lock().await;
        if feed.is_none() {
            let observer = Arc::new(ShellFeed {
                state: Arc::downgrade(self),
            });
            *feed = Some(Feed::start(self.profile.clone(), observer, POLL));
        }
    }

    /// One run of the feed for `mode`, reporting to the window like the feed does.
    pub async fn sync_mode(self: &Arc<Self>, mode: Mode, cancel: &CancelToken) -> IpcResult<()> {
        let observer = ShellFeed {
            state: Arc::downgrade(self),
        };
        self.profile
            .sync(mode, &SyncOptions::default(), &observer, cancel)
            .await?;
        Ok(())
    }

    /// Run the feed now (new keys, a new connection); no-op before it started.
    pub async fn wake_feed(&self) {
        if let Some(feed) = self.feed.lock().await.as_ref() {
            feed.sync_now();
        }
    }

    /// The live feed of each mode of the owner's store (off for both before the feed started).
    pub async fn hub_feed_status(&self) -> Vec<HubFeedStatus> {
        match self.feed.lock().await.as_ref() {
            Some(feed) => feed.hub_status(),
            None => vec![
                HubFeedStatus::off(Mode::Test),
                HubFeedStatus::off(Mode::Live),
            ],
        }
    }

    /// Stop the feed and every relay (app exit).
    pub async fn shutdown(&self) {
        if let Some(feed) = self.feed.lock().await.take() {
            feed.stop().await;
        }
        if let Some(sample) = self.sample.lock().await.take() {
            sample.shutdown().await;
        }
        self.real.shutdown().await;
    }
}

/// The feed's reports, turned into the window's events.
struct ShellFeed {
    state: Weak<AppState>,
}

impl FeedObserver for ShellFeed {
    fn applied(&self, event: &AppliedEvent) {
        if let Some(state) = self.state.upgrade() {
            state.notify.event_applied(event);
        }
    }

    fn progress(&self, mode: Mode, progress: &SyncPages) {
        if let Some(state) = self.state.upgrade() {
            state
                .notify
                .sync_progress(&SyncProgress::running(mode, progress));
        }
    }

    fn finished(&self, mode: Mode, outcome: Result<&SyncReport, &ProfileError>) {
        if let (Some(state), Ok(report)) = (self.state.upgrade(), outcome) {
            state
                .notify
                .sync_progress(&SyncProgress::done(mode, report));
        }
    }

    fn reachable(&self, online: bool) {
        if let Some(state) = self.state.upgrade() {
            state.set_online(online);
        }
    }

    fn hub_feed(&self, status: &HubFeedStatus) {
        if let Some(state) = self.state.upgrade() {
            state.notify.hub_feed_changed(status);
        }
    }

    fn connection_changed(&self, _mode: Mode) {
        if let Some(state) = self.state.upgrade() {
            tokio::spawn(async move {
                let _ = state.changed().await;
            });
        }
    }
}

#[cfg(test)]
mod tests {
    /// The CLI finds the app's mirror under the platform data folder named by the profile's
    /// `APP_IDENTIFIER`; Tauri names the app's data folder after tauri.conf.json's identifier.
    /// They must be the same name, or the CLI and the app keep two stores.
    #[test]
    fn the_cli_and_the_app_name_the_same_data_folder() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../tauri.conf.json");
        let conf: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&path).expect("tauri.conf.json"))
                .expect("json");
        assert_eq!(
            conf["identifier"],
            fluxstore_gateway::profile::APP_IDENTIFIER,
            "tauri.conf.json's identifier names the app's data folder"
        );
        assert_eq!(super::MIRROR_FILE, "mirror.db");
    }
}
