//! What the owner sees of the connection: per mode, how it is connected, to which account,
//! which secrets exist and where, and why a Connect connection ended. Read from the mirror's
//! settings alone, so it answers offline and never prompts the keyring.
//!
//! Invariant: nothing here carries a secret's value, only the fact that it exists and the
//! name of the keyring that holds it.
use fluxstore_mirror::{Mirror, MirrorError, Mode};
use serde::{Deserialize, Serialize};

use super::account::AccountStatus;
use super::connect::{CONNECTED, ConnectService};
use super::settings::Setting;
use crate::keystore::{SecretKind, SecretSlot};

/// The two ways to connect a store (product page R1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum ConnectionMethod {
    Connect,
    Keys,
}

impl ConnectionMethod {
    pub fn as_str(self) -> &'static str {
        match self {
            ConnectionMethod::Connect => "connect",
            ConnectionMethod::Keys => "keys",
        }
    }
    pub fn parse(text: &str) -> Option<ConnectionMethod> {
        match text {
            "connect" => Some(ConnectionMethod::Connect),
            "keys" => Some(ConnectionMethod::Keys),
            _ => None,
        }
    }
}

/// Which secret a [`SecretInfo`] is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(rename = "SecretKind"))]
#[serde(rename_all = "snake_case")]
pub enum SecretShown {
    SecretKey,
    RestrictedKey,
    WebhookSecret,
    ConnectToken,
}

/// That a secret exists and where it is kept. Never its value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct SecretInfo {
    pub kind: SecretShown,
    /// Human name of the keyring, e.g. "Secret Service (GNOME Keyring)".
    pub store: String,
}

/// One mode's connection.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ModeConnection {
    pub mode: Mode,
    /// True when an API key, or a Connect token that Stripe still accepts, is stored.
    pub connected: bool,
    /// How this mode is connected (an API key wins when both exist); None when it is not.
    pub via: Option<ConnectionMethod>,
    pub account_id: Option<String>,
    /// Not a secret; shown so the owner can recognise it.
    pub publishable_key: Option<String>,
    pub secrets: Vec<SecretInfo>,
    /// The account's readiness as the mirror last saw it (fetched or from `account.updated`).
    pub account: Option<AccountStatus>,
    /// Why this mode's Connect connection ended (deauthorized in Stripe, token revoked, or
    /// disconnected by the owner); None while connected or never connected through Connect.
    pub disconnected_reason: Option<String>,
}

/// The store's connection as the UI and `fluxstore keys status` show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ProfileStatus {
    /// The way the owner chose in onboarding; None before the first choice.
    pub method: Option<ConnectionMethod>,
    pub test: ModeConnection,
    pub live: ModeConnection,
    /// The Connect service sign-ins go through, and where that address comes from.
    pub connect_service: ConnectService,
}

/// One mode's connection, from the settings (no keyring prompt).
pub(crate) fn mode_connection(
    m: &Mirror,
    store: &str,
    mode: Mode,
) -> Result<ModeConnection, MirrorError> {
    let present =
        |kind: SecretKind| m.setting(&SecretSlot::new(store, mode, kind).presence_setting());
    let mut secrets = Vec::new();
    let api_key = present(SecretKind::ApiKey)?;
    if let Some(keyring) = &api_key {
        let restricted = Setting::KeyKind(mode).get(m)?.as_deref() == Some("restricted");
        secrets.push(SecretInfo {
            kind: if restricted {
                SecretShown::RestrictedKey
            } else {
                SecretShown::SecretKey
            },
            store: keyring.clone(),
        });
    }
    let token = present(SecretKind::ConnectAccessToken)?;
    if let Some(keyring) = &token {
        secrets.push(SecretInfo {
            kind: SecretShown::ConnectToken,
            store: keyring.clone(),
        });
    }
    if let Some(keyring) = present(SecretKind::WebhookSecret)? {
        secrets.push(SecretInfo {
            kind: SecretShown::WebhookSecret,
            store: keyring,
        });
    }
    let state = Setting::ConnectState(mode).get(m)?;
    let via_connect = token.is_some() && state.as_deref() == Some(CONNECTED);
    let via = if api_key.is_some() {
        Some(ConnectionMethod::Keys)
    } else if via_connect {
        Some(ConnectionMethod::Connect)
    } else {
        None
    };
    let account_id = Setting::AccountId(mode).get(m)?;
    let account = super::account::cached(m, mode, account_id.as_deref())?;
    Ok(ModeConnection {
        mode,
        connected: via.is_some(),
        via,
        account_id: account_id.or_else(|| account.as_ref().map(|a| a.account_id.clone())),
        publishable_key: Setting::PublishableKey(mode).get(m)?,
        secrets,
        account,
        disconnected_reason: match state.as_deref() {
            Some(CONNECTED) | None => None,
            Some(_) => Setting::ConnectReason(mode).get(m)?,
        },
    })
}

/// The whole profile status, from the settings.
pub(crate) fn profile_status(
    m: &Mirror,
    store: &str,
    connect_service: ConnectService,
) -> Result<ProfileStatus, MirrorError> {
    Ok(ProfileStatus {
        method: Setting::Method
            .get(m)?
            .as_deref()
            .and_then(ConnectionMethod::parse),
        test: mode_connection(m, store, Mode::Test)?,
        live: mode_connection(m, store, Mode::Live)?,
        connect_service,
    })
}

impl super::Profile {
    /// The store's connection, both modes (offline, no keyring prompt).
    pub async fn status(&self) -> Result<ProfileStatus, super::ProfileError> {
        let store = self.config.store.clone();
        let service = self.connect_service().await?;
        self.read(move |m| profile_status(m, &store, service)).await
    }

    /// Remember the way the owner chose to connect (onboarding's first step).
    pub async fn choose_method(&self, method: ConnectionMethod) -> Result<(), super::ProfileError> {
        self.write(move |m| Setting::Method.set(m, Some(method.as_str())))
            .await
    }
}
