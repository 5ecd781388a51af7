//! Secrets in the operating system's keyring — never anywhere else.
//!
//! Invariants:
//! - One service name for the app ([`SERVICE`]); one entry per store account, mode and kind
//!   (`{account}:{mode}:{kind}[:{label}]`), so several stores and both modes coexist.
//! - A missing, locked or unreachable keyring is an error that says what to do. There is no
//!   plaintext fallback: if the keyring cannot hold a secret, the secret is not kept.
//! - Only the *presence* of a secret is ever written to the mirror (see [`record_presence`]).
//!
//! The `keyring` crate's calls block (D-Bus on Linux); call them from blocking contexts or
//! `spawn_blocking`, never while holding an async runtime thread for long. They run one at a
//! time per process ([`one_at_a_time`]): each call opens its own Secret Service session, and
//! GNOME Keyring answers overlapping sessions of one process unreliably (a spurious "locked
//! collection", or "the session wrapping the secret does not exist").

use fluxstore_mirror::{Mirror, MirrorError, Mode};

use crate::secret::Secret;

/// The keyring service name every FluxStore entry is filed under.
pub const SERVICE: &str = "FluxStore Desktop";

/// What kind of secret an entry holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SecretKind {
    /// `sk_…` or `rk_…`.
    ApiKey,
    /// `whsec_…` of one webhook endpoint (label: the endpoint id, or none for a pasted one).
    WebhookSecret,
    /// A Connect access token.
    ConnectAccessToken,
    /// A Connect refresh token.
    ConnectRefreshToken,
    /// The Bearer token of a key-mode store's feed at the FluxStore hub.
    HubFeedToken,
}

impl SecretKind {
    pub const ALL: [SecretKind; 5] = [
        SecretKind::ApiKey,
        SecretKind::WebhookSecret,
        SecretKind::ConnectAccessToken,
        SecretKind::ConnectRefreshToken,
        SecretKind::HubFeedToken,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            SecretKind::ApiKey => "api_key",
            SecretKind::WebhookSecret => "webhook_secret",
            SecretKind::ConnectAccessToken => "connect_access_token",
            SecretKind::ConnectRefreshToken => "connect_refresh_token",
            SecretKind::HubFeedToken => "hub_feed_token",
        }
    }
}

/// The address of one secret: which store account, which mode, which kind.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SecretSlot {
    /// The owner's name for the store (`default` unless they run several).
    pub account: String,
    pub mode: Mode,
    pub kind: SecretKind,
    /// Distinguishes several secrets of one kind, e.g. the webhook endpoint id.
    pub label: Option<String>,
}

impl SecretSlot {
    pub fn new(account: &str, mode: Mode, kind: SecretKind) -> SecretSlot {
        SecretSlot {
            account: account.to_owned(),
            mode,
            kind,
            label: None,
        }
    }
    pub fn with_label(mut self, label: &str) -> SecretSlot {
        self.label = Some(label.to_owned());
        self
    }
    /// The keyring "user"/account attribute of this entry.
    pub fn user(&self) -> String {
        let mut u = format!(
            "{}:{}:{}",
            self.account,
            self.mode.as_str(),
            self.kind.as_str()
        );
        if let Some(l) = &self.label {
            u.push(':');
            u.push_str(l);
        }
        u
    }
    /// The mirror setting that records (without the value) that this secret exists.
    pub fn presence_setting(&self) -> String {
        format!("secret_present.{}", self.user())
    }
}

#[derive(Debug, thiserror::Error)]
pub enum KeyringError {
    #[error(
        "The system keyring, {backend}, cannot be reached, so FluxStore cannot keep your Stripe secrets. \
         On a desktop, make sure GNOME Keyring, KWallet or another Secret Service is running in your session; \
         on a headless machine run FluxStore inside `dbus-run-session` with gnome-keyring unlocked. \
         FluxStore never stores secrets in plain files."
    )]
    Unavailable {
        backend: &'static str,
        detail: String,
    },
    #[error(
        "The system keyring, {backend}, is locked. Unlock it (log in to your desktop session, or open \
         your keyring manager and unlock the login keyring) and try again."
    )]
    Locked {
        backend: &'static str,
        detail: String,
    },
    #[error(
        "The system keyring holds several FluxStore entries for the same secret. Remove the duplicates named \"{user}\" under \"{service}\" in your keyring manager."
    )]
    Ambiguous { service: String, user: String },
    #[error("The system keyring refused the secret: {0}")]
    Rejected(String),
    #[error(
        "This operating system has no supported keyring, and FluxStore never stores secrets in plain files."
    )]
    Unsupported,
    #[error(
        "The system keyring, {backend}, did not answer within {seconds} seconds (it may be waiting on an unlock prompt). Unlock or restart your keyring and try again; check Payment Gateways to see what is stored."
    )]
    NoAnswer { backend: &'static str, seconds: u64 },
}

impl KeyringError {
    /// A short code the UI can branch on.
    pub fn code(&self) -> &'static str {
        match self {
            KeyringError::Unavailable { .. }
            | KeyringError::Unsupported
            | KeyringError::NoAnswer { .. } => "keyring_unavailable",
            KeyringError::Locked { .. } => "keyring_locked",
            KeyringError::Ambiguous { .. } | KeyringError::Rejected(_) => "keyring_error",
        }
    }
}

/// The platform store secrets go to, in words for the owner ("where is my key?").
pub fn backend_name() -> Option<&'static str> {
    if cfg!(any(
        target_os = "linux",
        target_os = "freebsd",
        target_os = "openbsd"
    )) {
        Some("Secret Service (GNOME Keyring or KWallet)")
    } else if cfg!(target_os = "macos") {
        Some("macOS Keychain")
    } else if cfg!(target_os = "windows") {
        Some("Windows Credential Manager")
    } else {
        // Elsewhere the keyring crate would silently fall back to an in-memory mock.
        None
    }
}

/// The process's turn at the keyring: held for one call (see the module docs). A call that
/// panicked leaves nothing half-done to protect, so a poisoned lock is taken as free.
fn one_at_a_time() -> std::sync::MutexGuard<'static, ()> {
    static TURN: std::sync::Mutex<()> = std::sync::Mutex::new(());
    TURN.lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Read/write/replace/delete secrets in the OS keyring.
#[derive(Debug, Clone)]
pub struct SecretStore {
    service: String,
    backend: &'static str,
}

impl SecretStore {
    /// The app's store under [`SERVICE`].
    pub fn new() -> Result<SecretStore, KeyringError> {
        SecretStore::with_service(SERVICE)
    }

    /// A store under another service name (tests use a throwaway one).
    pub fn with_service(service: &str) -> Result<SecretStore, KeyringError> {
        let backend = backend_name().ok_or(KeyringError::Unsupported)?;
        Ok(SecretStore {
            service: service.to_owned(),
            backend,
        })
    }

    pub fn service(&self) -> &str {
        &self.service
    }
    pub fn backend(&self) -> &'static str {
        self.backend
    }

    fn entry(&self, slot: &SecretSlot) -> Result<keyring::Entry, KeyringError> {
        let _turn = one_at_a_time();
        keyring::Entry::new(&self.service, &slot.user()).map_err(|e| self.map(slot, e))
    }

    /// Write or replace the secret in `slot`.
    pub fn put(&self, slot: &SecretSlot, secret: &Secret) -> Result<(), KeyringError> {
        let entry = self.entry(slot)?;
        let _turn = one_at_a_time();
        entry
            .set_password(secret.expose())
            .map_err(|e| self.map(slot, e))
    }

    /// The secret in `slot`, or None when there is none.
    pub fn get(&self, slot: &SecretSlot) -> Result<Option<Secret>, KeyringError> {
        let entry = self.entry(slot)?;
        let _turn = one_at_a_time();
        match entry.get_password() {
            Ok(v) => Ok(Some(Secret::new(v))),
            Err(keyring::Error::NoEntry) => Ok(None),
            Err(e) => Err(self.map(slot, e)),
        }
    }

    pub fn exists(&self, slot: &SecretSlot) -> Result<bool, KeyringError> {
        Ok(self.get(slot)?.is_some())
    }

    /// Delete the secret in `slot`; Ok(false) when there was none.
    pub fn delete(&self, slot: &SecretSlot) -> Result<bool, KeyringError> {
        let entry = self.entry(slot)?;
        let _turn = one_at_a_time();
        match entry.delete_credential() {
            Ok(()) => Ok(true),
            Err(keyring::Error::NoEntry) => Ok(false),
            Err(e) => Err(self.map(slot, e)),
        }
    }

    /// Check that the keyring answers and is unlocked, without touching any real entry.
    pub fn probe(&self) -> Result<(), KeyringError> {
        let slot =
            SecretSlot::new("probe", Mode::Test, SecretKind::ApiKey).with_label("reachability");
        self.get(&slot).map(|_| ())
    }

    fn map(&self, slot: &SecretSlot, e: keyring::Error) -> KeyringError {
        // The keyring's own messages describe the platform failure; they never contain the
        // secret (it is not part of any error path), so they may go to the log detail.
        match e {
            keyring::Error::NoStorageAccess(d) => KeyringError::Locked {
                backend: self.backend,
                detail: d.to_string(),
            },
            keyring::Error::PlatformFailure(d) => {
                let detail = d.to_string();
                // Secret Service: "locked" collections surface as platform failures on some
                // desktops; tell the owner to unlock rather than to install something.
                if detail.to_ascii_lowercase().contains("locked") {
                    KeyringError::Locked {
                        backend: self.backend,
                        detail,
                    }
                } else {
                    KeyringError::Unavailable {
                        backend: self.backend,
                        detail,
                    }
                }
            }
            keyring::Error::Ambiguous(_) => KeyringError::Ambiguous {
                service: self.service.clone(),
                user: slot.user(),
            },
            keyring::Error::TooLong(what, max) => {
                KeyringError::Rejected(format!("the {what} is longer than {max} characters"))
            }
            keyring::Error::Invalid(what, why) => KeyringError::Rejected(format!("{what}: {why}")),
            keyring::Error::BadEncoding(_) => {
                KeyringError::Rejected("the stored value is not text".to_owned())
            }
            other => KeyringError::Rejected(other.to_string()),
        }
    }
}

/// Record in the mirror's settings whether `slot` holds a secret, and where (the backend's
/// name). Never the value: the setting's value is only the store's name.
pub fn record_presence(
    mirror: &mut Mirror,
    store: &SecretStore,
    slot: &SecretSlot,
    present: bool,
) -> Result<(), MirrorError> {
    let value = present.then_some(store.backend());
    mirror.set_setting(&slot.presence_setting(), value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_of_different_accounts_modes_and_kinds_are_distinct() {
        let a = SecretSlot::new("default", Mode::Test, SecretKind::ApiKey);
        let b = SecretSlot::new("default", Mode::Live, SecretKind::ApiKey);
        let c = SecretSlot::new("shop2", Mode::Test, SecretKind::ApiKey);
        let d =
            SecretSlot::new("default", Mode::Test, SecretKind::WebhookSecret).with_label("we_1");
        let users: std::collections::HashSet<_> =
            [&a, &b, &c, &d].iter().map(|s| s.user()).collect();
        assert_eq!(users.len(), 4);
        assert_eq!(d.user(), "default:test:webhook_secret:we_1");
        assert_eq!(a.presence_setting(), "secret_present.default:test:api_key");
    }
}
