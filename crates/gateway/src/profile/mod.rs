//! The store profile: the one owner of "this store's connection to Stripe".
//!
//! Both the desktop shell and the `fluxstore` command line act on a store through a
//! [`Profile`]: which way each mode is connected (API keys or Connect), the credential a
//! Stripe call uses, saving keys, connecting and disconnecting a mode, the account's status,
//! refund preconditions and the one feed loop that keeps the mirror current ([`feed`]). The
//! shell's commands and the CLI's subcommands are adapters over these functions, so a rule
//! (say, "a deauthorized token is not a credential") is written once and holds for both.
//!
//! Why a module of the gateway and not a crate of its own: every function here is a thin
//! policy over the gateway's own parts (keys, keyring, Stripe client, OAuth, sync) and the
//! mirror; a separate crate would re-export most of the gateway and add a dependency edge
//! for nothing. It stays Tauri-free like the rest of the gateway.
//!
//! Invariants:
//! - Test and live are independent: each mode has its own credential, account, Connect
//!   connection (with its reason when it ended) and account status; neither reads the other's.
//! - Secrets live only in the OS keyring; the mirror's settings (see [`settings`]) hold only
//!   non-secret facts, so [`Profile::status`] answers offline and without a keyring prompt.
//! - A Connect token is a credential only while its mode is `connected`: a deauthorization
//!   (event or 401) ends it for the CLI and the app alike.
//! - Keyring calls (D-Bus on Linux) and mirror calls run on blocking threads, never on the
//!   async runtime's workers.

mod account;
mod checklist;
mod connect;
mod dispute;
mod error;
pub mod feed;
pub mod follow;
pub mod hub;
mod keyhub;
mod keys;
mod orders;
mod refund;
pub mod settings;
mod status;

use std::sync::{Arc, Mutex};

use fluxstore_mirror::{Mirror, MirrorError, Mode};

pub use connect::{
    CONNECT_SERVICE_ENV, ConnectService, ConnectServiceSource, DEAUTHORIZED_EVENT,
    DEFAULT_CONNECT_SERVICE, DisconnectReport, REASON_DEAUTHORIZED, REASON_OWNER_DISCONNECTED,
    REASON_TOKEN_REJECTED, SIGN_IN_TIMEOUT_ENV, SignIn, SignInEnded, connect_service_url,
    renewing_subscriptions,
};
pub use dispute::DraftEdit;
pub use error::ProfileError;
pub use feed::{Feed, FeedObserver, FeedOptions, POLL};
pub use follow::{HubFeedState, HubFeedStatus};
pub use hub::{HUB_ENV, HubService, HubSource, hub_url};
pub use keyhub::{KeyHubChange, KeyHubStatus};
pub use keys::SavedKeys;
pub use refund::RefundTarget;
pub use settings::Setting;
pub use status::{ConnectionMethod, ModeConnection, ProfileStatus, SecretInfo, SecretShown};

use crate::client::{ClientConfig, Credential, StripeClient};
use crate::keys::ApiKey;
use crate::keystore::{KeyringError, SecretKind, SecretSlot, SecretStore};

/// The keyring account the desktop app's store is filed under (and the CLI's default).
pub const DEFAULT_STORE: &str = "default";
/// The app's identifier: its data folder's name under the platform's data directory
/// (the same as `identifier` in tauri.conf.json; a shell test keeps the two equal).
pub const APP_IDENTIFIER: &str = "net.fluxstore.desktop";
/// The mirror's file name inside the data folder.
pub const MIRROR_FILE: &str = "mirror.db";

/// The platform's data folder of the app (e.g. `~/.local/share/net.fluxstore.desktop`), where
/// the app keeps its mirror and where the CLI finds it by default.
pub fn default_data_dir() -> Option<std::path::PathBuf> {
    directories::BaseDirs::new().map(|d| d.data_dir().join(APP_IDENTIFIER))
}

/// Where a profile sends its requests; None means the environment's or the real services.
#[derive(Debug, Clone, Default)]
pub struct ProfileConfig {
    /// The keyring account of the store ([`DEFAULT_STORE`] unless one machine runs several).
    pub store: String,
    /// Stripe's API base; None: `FLUXSTORE_STRIPE_API_BASE`, else Stripe itself.
    pub api_base: Option<String>,
    /// A Connect service for this process only (tests, `--service`): beats the owner's setting.
    pub connect_service: Option<url::Url>,
    /// An API key for this run only (`--key-file`): the credential of its mode, beating the
    /// keyring. Never stored.
    pub api_key: Option<ApiKey>,
    /// The FluxStore hub for this run only (`--hub`): beats the owner's setting.
    pub hub: Option<url::Url>,
}

impl ProfileConfig {
    pub fn new(store: &str) -> ProfileConfig {
        ProfileConfig {
            store: store.to_owned(),
            ..ProfileConfig::default()
        }
    }
}

/// One store's connection to Stripe. Cheap to share (`Arc<Profile>`).
pub struct Profile {
    config: ProfileConfig,
    /// None when this platform has no supported keyring (then no secret is ever kept).
    keyring: Option<SecretStore>,
    mirror: Arc<Mutex<Mirror>>,
}

impl Profile {
    /// A profile over `mirror` (the write connection it shares with the gateway), with the
    /// settings of earlier builds moved to their current names.
    pub fn open(
        config: ProfileConfig,
        keyring: Option<SecretStore>,
        mirror: Arc<Mutex<Mirror>>,
    ) -> Result<Profile, ProfileError> {
        {
            let mut m = mirror.lock().unwrap_or_else(|p| p.into_inner());
            settings::migrate_legacy(&mut m, &config.store)?;
        }
        Ok(Profile {
            config,
            keyring,
            mirror,
        })
    }

    /// This profile with a run-only API key (see [`ProfileConfig::api_key`]).
    pub fn with_api_key(mut self, key: ApiKey) -> Profile {
        self.config.api_key = Some(key);
        self
    }

    /// This profile following `hub` for this run (see [`ProfileConfig::hub`]).
    pub fn with_hub(mut self, hub: url::Url) -> Profile {
        self.config.hub = Some(hub);
        self
    }

    pub fn api_key_override(&self) -> Option<&ApiKey> {
        self.config.api_key.as_ref()
    }

    pub fn store(&self) -> &str {
        &self.config.store
    }

    pub fn mirror(&self) -> &Arc<Mutex<Mirror>> {
        &self.mirror
    }

    pub fn keyring(&self) -> Result<&SecretStore, ProfileError> {
        self.keyring
            .as_ref()
            .ok_or(ProfileError::Keyring(KeyringError::Unsupported))
    }

    fn slot(&self, mode: Mode, kind: SecretKind) -> SecretSlot {
        SecretSlot::new(&self.config.store, mode, kind)
    }

    /// Run `f` on the mirror off the async threads.
    pub async fn read<T, F>(&self, f: F) -> Result<T, ProfileError>
    where
        T: Send + 'static,
        F: FnOnce(&Mirror) -> Result<T, MirrorError> + Send + 'static,
    {
        let mirror = self.mirror.clone();
        blocking(move || f(&mirror.lock().unwrap_or_else(|p| p.into_inner())))
            .await?
            .map_err(ProfileError::from)
    }

    /// Run `f` on the mirror's write connection off the async threads.
    pub async fn write<T, F>(&self, f: F) -> Result<T, ProfileError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Mirror) -> Result<T, MirrorError> + Send + 'static,
    {
        let mirror = self.mirror.clone();
        blocking(move || f(&mut mirror.lock().unwrap_or_else(|p| p.into_inner())))
            .await?
            .map_err(ProfileError::from)
    }

    /// Run a keyring call off the async threads, bounded by [`KEYRING_TIMEOUT`]: a locked or
    /// hung Secret Service ends the command with a clear error instead of freezing it.
    pub async fn with_keyring<T, F>(&self, f: F) -> Result<T, ProfileError>
    where
        T: Send + 'static,
        F: FnOnce(&SecretStore) -> Result<T, KeyringError> + Send + 'static,
    {
        let store = self.keyring()?.clone();
        keyring_within(KEYRING_TIMEOUT, store, f).await
    }

    /// The Stripe client settings of this profile.
    pub fn client_config(&self) -> Result<ClientConfig, ProfileError> {
        Ok(ClientConfig::from_env(self.config.api_base.as_deref())?)
    }

    /// What a Stripe call in `mode` authenticates with: the saved API key, else the mode's
    /// Connect token while that connection stands. A deauthorized or revoked connection is
    /// [`ProfileError::Disconnected`], with its reason.
    pub async fn credential(&self, mode: Mode) -> Result<Credential, ProfileError> {
        if let Some(key) = &self.config.api_key {
            if key.mode() != mode {
                return Err(ProfileError::Invalid(format!(
                    "The key given for this run is a {} mode key, but {} mode was asked for.",
                    key.mode().as_str(),
                    mode.as_str()
                )));
            }
            return Ok(Credential::ApiKey(key.clone()));
        }
        // The keyring is shared by every data folder of the same store name, so a key counts
        // only when this store's mirror records having saved it: a key left by another folder
        // must not outrank this one's Connect connection.
        let key_slot = self.slot(mode, SecretKind::ApiKey);
        let presence = key_slot.presence_setting();
        let saved_here = self.read(move |m| m.setting(&presence)).await?.is_some();
        if saved_here && let Some(key) = self.with_keyring(move |k| k.get(&key_slot)).await? {
            return Ok(Credential::ApiKey(
                ApiKey::parse(key.expose()).map_err(crate::GatewayError::from)?,
            ));
        }
        let (state, reason) = self
            .read(move |m| {
                Ok((
                    Setting::ConnectState(mode).get(m)?,
                    Setting::ConnectReason(mode).get(m)?,
                ))
            })
            .await?;
        match state.as_deref() {
            Some(connect::CONNECTED) => {
                let token_slot = self.slot(mode, SecretKind::ConnectAccessToken);
                match self.with_keyring(move |k| k.get(&token_slot)).await? {
                    Some(token) => Ok(Credential::ConnectToken { token, mode }),
                    None => Err(ProfileError::NotConnected { mode }),
                }
            }
            Some(_) => Err(ProfileError::Disconnected {
                mode,
                reason: reason.unwrap_or_else(|| REASON_TOKEN_REJECTED.to_owned()),
            }),
            None => Err(ProfileError::NotConnected { mode }),
        }
    }

    /// A Stripe client for `mode`, authenticated with [`Profile::credential`].
    pub async fn client(&self, mode: Mode) -> Result<StripeClient, ProfileError> {
        let credential = self.credential(mode).await?;
        Ok(StripeClient::new(
            self.client_config()?,
            credential,
            self.mirror.clone(),
        )?)
    }

    /// Whether `mode` has a credential on record (from the settings; no keyring prompt).
    pub async fn is_connected(&self, mode: Mode) -> Result<bool, ProfileError> {
        if let Some(key) = &self.config.api_key {
            return Ok(key.mode() == mode);
        }
        let store = self.config.store.clone();
        self.read(move |m| status::mode_connection(m, &store, mode).map(|c| c.connected))
            .await
    }
}

/// How long a keyring call may take before the command gives up on it.
pub const KEYRING_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(20);

async fn keyring_within<T, F>(
    limit: std::time::Duration,
    store: SecretStore,
    f: F,
) -> Result<T, ProfileError>
where
    T: Send + 'static,
    F: FnOnce(&SecretStore) -> Result<T, KeyringError> + Send + 'static,
{
    let backend = store.backend();
    // The blocking call cannot be interrupted; on a timeout it finishes (or not) on its own
    // thread, and the command is answered now.
    match tokio::time::timeout(limit, blocking(move || f(&store))).await {
        Ok(done) => done?.map_err(ProfileError::from),
        Err(_) => Err(ProfileError::Keyring(KeyringError::NoAnswer {
            backend,
            seconds: limit.as_secs(),
        })),
    }
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> T + Send + 'static,
) -> Result<T, ProfileError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|_| ProfileError::Interrupted)
}

pub(crate) fn unix_now() -> i64 {
    crate::client::unix_now()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_keyring_that_does_not_answer_ends_the_command_with_a_clear_error() {
        let Ok(store) = SecretStore::with_service("FluxStore Desktop timeout test") else {
            return; // no keyring backend on this platform: nothing to bound
        };
        let started = std::time::Instant::now();
        let e = keyring_within(std::time::Duration::from_millis(50), store, |_| {
            std::thread::sleep(std::time::Duration::from_secs(2));
            Ok(())
        })
        .await
        .unwrap_err();
        assert!(
            started.elapsed() < std::time::Duration::from_secs(2),
            "it did not wait"
        );
        assert_eq!(e.code(), "keyring_unavailable");
        assert!(e.to_string().contains("did not answer"), "{e}");
    }
}
