//! Connect mode (product page R2, R6): sign in per mode through the Connect service, keep the
//! tokens in the keyring, end a connection by the owner's disconnect, by a deauthorization
//! event or by a 401.
//!
//! Invariants:
//! - Test and live each have their own connection (tokens, account, state, reason); a sign-in
//!   for one mode never touches the other, and a token whose mode differs from the one asked
//!   for is refused before it is kept.
//! - Disconnecting never deletes a mirror row; local secrets go only after the Connect
//!   service confirmed the revoke (or Stripe had already refused the token), so a failed
//!   revoke can be retried.
//! - Every way a sign-in ends (connected, denied, timed out, cancelled, service unreachable)
//!   is reported to the caller as a value ([`SignInEnded`]) the UI can show.
use std::time::Duration;

use fluxstore_mirror::{Mirror, MirrorError, Mode};
use serde::{Deserialize, Serialize};
use url::Url;

use super::settings::Setting;
use super::status::ConnectionMethod;
use super::{Profile, ProfileError, unix_now};
use crate::error::GatewayError;
use crate::keystore::{SecretKind, record_presence};
use crate::oauth::{self, CancelHandle, ConnectOptions, ConnectTokens, OAuthError, PendingConnect};

/// The Connect service FluxStore operates.
pub const DEFAULT_CONNECT_SERVICE: &str = "https://api.fluxstore.net";
/// Overrides the default Connect service (an operator's own platform, a local one in tests).
pub const CONNECT_SERVICE_ENV: &str = "FLUXSTORE_CONNECT_SERVICE";

/// How long a sign-in waits for the browser, in seconds (default 300): for owners who need
/// longer at Stripe, and for tests of the timeout.
pub const SIGN_IN_TIMEOUT_ENV: &str = "FLUXSTORE_CONNECT_TIMEOUT_SECS";

/// The event Stripe sends when the owner (or the platform) ends the connection.
pub use fluxstore_mirror::facts::event_types::ACCOUNT_APPLICATION_DEAUTHORIZED as DEAUTHORIZED_EVENT;

pub(crate) const CONNECTED: &str = "connected";
const DISCONNECTED: &str = "disconnected";

pub const REASON_OWNER_DISCONNECTED: &str = "You disconnected FluxStore from Stripe.";
pub const REASON_DEAUTHORIZED: &str = "FluxStore was disconnected in Stripe (Settings → Connected applications). Connect again to resume.";
pub const REASON_TOKEN_REJECTED: &str = "Stripe no longer accepts FluxStore's access to this account (it was revoked). Connect again to resume.";

/// Where the Connect service address comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum ConnectServiceSource {
    /// Set by the owner (Payment Gateways).
    Setting,
    /// `FLUXSTORE_CONNECT_SERVICE` in the app's environment.
    Environment,
    /// Fixed for this run by whoever started it (a command-line flag).
    Override,
    /// FluxStore's own service.
    Default,
}

/// The Connect service sign-ins go through.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ConnectService {
    pub url: String,
    pub source: ConnectServiceSource,
}

/// How a sign-in ended, for the UI (the waiting state ends on every one of them).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct SignInEnded {
    pub mode: Mode,
    pub connected: bool,
    /// The connected account, when `connected`.
    pub account_id: Option<String>,
    /// Why it did not connect (`access_denied`, `timed_out`, `cancelled`, `state_mismatch`,
    /// `service_unreachable`, …), when it did not.
    pub code: Option<String>,
    /// What happened and what to do, in the owner's words.
    pub message: Option<String>,
}

/// What a disconnect did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DisconnectReport {
    pub mode: Mode,
    pub account_id: Option<String>,
    /// True when a Connect connection was ended (which stops renewals, product page R14).
    pub was_connect: bool,
    /// Subscriptions (active, trialing, past due) that will fail to renew — counted only for
    /// a Connect connection, since only revoking FluxStore's access stops them.
    pub renewing_subscriptions: usize,
    /// False when Stripe had already revoked the token (nothing left to revoke).
    pub revoked_now: bool,
}

/// A sign-in in progress: the loopback listener is bound and the authorize URL known.
pub struct SignIn {
    pending: PendingConnect,
    mode: Mode,
    service: Url,
}

impl SignIn {
    pub fn mode(&self) -> Mode {
        self.mode
    }
    /// Open this in the owner's browser, or show it for copying.
    pub fn authorize_url(&self) -> &Url {
        self.pending.authorize_url()
    }
    /// How long the owner may take in the browser (5 minutes unless set).
    pub fn set_timeout(&mut self, timeout: Duration) {
        self.pending.set_timeout(timeout);
    }
    /// Ends the wait from another task (a Cancel button).
    pub fn cancel_handle(&self) -> CancelHandle {
        self.pending.cancel_handle()
    }
}

/// Parse and check a Connect service address: https, or http to this computer only (keys and
/// tokens must not travel in clear).
pub fn connect_service_url(text: &str) -> Result<Url, ProfileError> {
    let url = Url::parse(text.trim()).map_err(|_| {
        ProfileError::Invalid(format!(
            "\"{}\" is not a web address. Enter the Connect service's address, e.g. {DEFAULT_CONNECT_SERVICE}.",
            text.trim()
        ))
    })?;
    if crate::net::sends_secrets_safely(&url) {
        Ok(url)
    } else {
        Err(ProfileError::Invalid(
            "The Connect service address must start with https:// (plain http is allowed only for an address on this computer), so your Stripe tokens never travel unencrypted.".to_owned(),
        ))
    }
}

impl Profile {
    /// The Connect service sign-ins use: this run's override, else the owner's setting, else
    /// `FLUXSTORE_CONNECT_SERVICE`, else FluxStore's.
    pub async fn connect_service(&self) -> Result<ConnectService, ProfileError> {
        if let Some(url) = &self.config.connect_service {
            return Ok(ConnectService {
                url: url.to_string(),
                source: ConnectServiceSource::Override,
            });
        }
        if let Some(url) = self.read(|m| Setting::ConnectService.get(m)).await? {
            return Ok(ConnectService {
                url,
                source: ConnectServiceSource::Setting,
            });
        }
        if let Some(url) = std::env::var(CONNECT_SERVICE_ENV)
            .ok()
            .filter(|s| !s.trim().is_empty())
        {
            return Ok(ConnectService {
                url: url.trim().to_owned(),
                source: ConnectServiceSource::Environment,
            });
        }
        Ok(ConnectService {
            url: DEFAULT_CONNECT_SERVICE.to_owned(),
            source: ConnectServiceSource::Default,
        })
    }

    /// Set (Some) or clear (None: back to the environment's or FluxStore's) the owner's
    /// Connect service address.
    pub async fn set_connect_service(&self, url: Option<&str>) -> Result<(), ProfileError> {
        let value = match url.map(str::trim).filter(|u| !u.is_empty()) {
            Some(text) => Some(connect_service_url(text)?.to_string()),
            None => None,
        };
        self.write(move |m| Setting::ConnectService.set(m, value.as_deref()))
            .await
    }

    /// Start a Connect sign-in for `mode`: bind the loopback listener and make the authorize
    /// URL. Waits for nothing; [`Profile::finish_sign_in`] waits for the browser.
    pub async fn start_sign_in(&self, mode: Mode) -> Result<SignIn, ProfileError> {
        // No keyring, no place for the token: say so before the owner signs in at Stripe.
        self.keyring()?;
        let service = connect_service_url(&self.connect_service().await?.url)?;
        let mut options = ConnectOptions::new(service.clone(), mode);
        if let Some(secs) = std::env::var(SIGN_IN_TIMEOUT_ENV)
            .ok()
            .and_then(|s| s.trim().parse::<u64>().ok())
            .filter(|s| *s > 0)
        {
            options.timeout = Duration::from_secs(secs);
        }
        let pending = PendingConnect::start(options).await?;
        Ok(SignIn {
            pending,
            mode,
            service,
        })
    }

    /// Wait for the browser, keep the tokens, and fetch the account's status. Every way it
    /// ends is in the returned [`SignInEnded`]; the error is returned too for callers that
    /// exit on it.
    pub async fn finish_sign_in(&self, sign_in: SignIn) -> (SignInEnded, Result<(), ProfileError>) {
        let mode = sign_in.mode;
        let outcome = self.complete(sign_in).await;
        let ended = match &outcome {
            Ok(account) => SignInEnded {
                mode,
                connected: true,
                account_id: Some(account.clone()),
                code: None,
                message: None,
            },
            Err(e) => SignInEnded {
                mode,
                connected: false,
                account_id: None,
                code: Some(e.code().to_owned()),
                message: Some(e.to_string()),
            },
        };
        (ended, outcome.map(|_| ()))
    }

    async fn complete(&self, sign_in: SignIn) -> Result<String, ProfileError> {
        let SignIn {
            pending,
            mode,
            service,
        } = sign_in;
        let tokens = pending.finish().await?;
        if tokens.mode() != mode {
            return Err(ProfileError::Invalid(format!(
                "Stripe connected the account in {} mode, but {} mode was asked for, so the connection was not kept. Start again and choose the matching mode.",
                tokens.mode().as_str(),
                mode.as_str()
            )));
        }
        self.keep_connection(mode, &service, tokens).await?;
        let account = self
            .read(move |m| Setting::AccountId(mode).get(m))
            .await?
            .unwrap_or_default();
        // The status right after connecting; offline or refused, the owner can Refresh later.
        if let Err(e) = self.refresh_account(mode).await {
            tracing::warn!(mode = mode.as_str(), error = %e, "account status not fetched after connecting");
        }
        Ok(account)
    }

    /// Keep what a finished sign-in returned: the tokens in the keyring, the account, scope,
    /// publishable key and service in the settings, and the mode marked connected.
    pub async fn keep_connection(
        &self,
        mode: Mode,
        service: &Url,
        tokens: ConnectTokens,
    ) -> Result<(), ProfileError> {
        let access = self.slot(mode, SecretKind::ConnectAccessToken);
        let refresh = self.slot(mode, SecretKind::ConnectRefreshToken);
        let (a, r) = (access.clone(), refresh.clone());
        let (token, refresh_token) = (tokens.access_token.clone(), tokens.refresh_token.clone());
        self.with_keyring(move |k| {
            k.put(&a, &token)?;
            match &refresh_token {
                Some(t) => k.put(&r, t),
                None => k.delete(&r).map(|_| ()),
            }
        })
        .await?;
        let keyring = self.keyring()?.clone();
        let service = service.to_string();
        let has_refresh = tokens.refresh_token.is_some();
        self.write(move |m| {
            record_presence(m, &keyring, &access, true)?;
            record_presence(m, &keyring, &refresh, has_refresh)?;
            Setting::AccountId(mode).set(m, Some(&tokens.stripe_user_id))?;
            Setting::ConnectScope(mode).set(m, Some(&tokens.scope))?;
            Setting::PublishableKey(mode).set(m, Some(&tokens.stripe_publishable_key))?;
            Setting::ConnectServiceUsed(mode).set(m, Some(&service))?;
            Setting::ConnectedAt(mode).set(m, Some(&unix_now().to_string()))?;
            // A mode reconnected after its connection ended starts afresh.
            if Setting::ConnectState(mode).get(m)?.as_deref() != Some(CONNECTED) {
                Setting::ConnectedSince(mode).set(m, None)?;
            }
            Setting::mark_connected_since(m, mode, unix_now())?;
            Setting::ConnectReason(mode).set(m, None)?;
            Setting::ConnectState(mode).set(m, Some(CONNECTED))?;
            if Setting::Method.get(m)?.is_none() {
                Setting::Method.set(m, Some(ConnectionMethod::Connect.as_str()))?;
            }
            Ok(())
        })
        .await
    }

    /// Forget every secret of `mode`. A Connect connection is revoked at Stripe first
    /// (through the Connect service), which stops its subscriptions' renewals; the mirror's
    /// rows all stay.
    pub async fn disconnect(
        &self,
        mode: Mode,
        timeout: Duration,
    ) -> Result<DisconnectReport, ProfileError> {
        let (state, account_id, service, renewing) = self
            .read(move |m| {
                Ok((
                    Setting::ConnectState(mode).get(m)?,
                    Setting::AccountId(mode).get(m)?,
                    Setting::ConnectServiceUsed(mode).get(m)?,
                    renewing_subscriptions(m, mode)?,
                ))
            })
            .await?;
        let was_connect = state.as_deref() == Some(CONNECTED);
        // Live updates through the hub end with the keys: their endpoint is deleted while the
        // key can still do it (a key that cannot is said in the log; the owner is disconnecting).
        if self.hub_store(mode).await?.is_some() {
            match self.disable_key_hub(mode).await {
                Ok(change) => tracing::info!(
                    mode = mode.as_str(),
                    deleted = change.endpoint_deleted,
                    "live updates through the hub ended with the keys"
                ),
                Err(e) => {
                    tracing::warn!(mode = mode.as_str(), error = %e, "the hub's webhook endpoint could not be deleted while disconnecting")
                }
            }
        }
        let token_slot = self.slot(mode, SecretKind::ConnectAccessToken);
        let mut revoked_now = false;
        if was_connect {
            let token = self.with_keyring(move |k| k.get(&token_slot)).await?;
            let service = match service {
                Some(s) => connect_service_url(&s)?,
                None => connect_service_url(&self.connect_service().await?.url)?,
            };
            if let (Some(token), Some(account)) = (token, account_id.as_deref()) {
                revoked_now = match oauth::revoke(&service, &token, account, timeout).await {
                    Ok(()) => true,
                    // Already revoked at Stripe: nothing left to end there.
                    Err(OAuthError::TokenRejected) => false,
                    Err(e) => return Err(e.into()),
                };
            }
        }
        let slots: Vec<_> = SecretKind::ALL
            .into_iter()
            .map(|kind| self.slot(mode, kind))
            .collect();
        let to_delete = slots.clone();
        self.with_keyring(move |k| {
            for s in &to_delete {
                k.delete(s)?;
            }
            Ok(())
        })
        .await?;
        let keyring = self.keyring()?.clone();
        self.write(move |m| {
            for s in &slots {
                record_presence(m, &keyring, s, false)?;
            }
            for setting in Setting::of_mode(mode) {
                setting.set(m, None)?;
            }
            if was_connect {
                mark_disconnected(m, mode, REASON_OWNER_DISCONNECTED)?;
            }
            Ok(())
        })
        .await?;
        Ok(DisconnectReport {
            mode,
            account_id,
            was_connect,
            renewing_subscriptions: if was_connect { renewing } else { 0 },
            revoked_now,
        })
    }

    /// The subscriptions that would stop renewing if `mode` were disconnected now: those of
    /// a Connect connection (revoking FluxStore's access stops them); none for API keys.
    pub async fn renewing_if_revoked(&self, mode: Mode) -> Result<usize, ProfileError> {
        self.read(move |m| {
            if Setting::ConnectState(mode).get(m)?.as_deref() == Some(CONNECTED) {
                renewing_subscriptions(m, mode)
            } else {
                Ok(0)
            }
        })
        .await
    }

    /// After a Stripe call in `mode` failed: a 401 on a Connect token means the token was
    /// revoked, so that mode is disconnected with the reason. Returns whether it flipped.
    pub async fn note_stripe_error(
        &self,
        mode: Mode,
        error: &GatewayError,
    ) -> Result<bool, ProfileError> {
        if !matches!(error, GatewayError::InvalidKey) {
            return Ok(false);
        }
        let key_slot = self.slot(mode, SecretKind::ApiKey).presence_setting();
        self.write(move |m| {
            // A 401 on a pasted key is the key's problem (the error says so), not Connect's.
            if m.setting(&key_slot)?.is_some()
                || Setting::ConnectState(mode).get(m)?.as_deref() != Some(CONNECTED)
            {
                return Ok(false);
            }
            mark_disconnected(m, mode, REASON_TOKEN_REJECTED)?;
            Ok(true)
        })
        .await
    }

    /// If the mirror holds an `account.application.deauthorized` event of `mode` for the
    /// connected account, newer than the connection, that mode is disconnected. Returns
    /// whether it flipped.
    pub async fn apply_deauthorization(&self, mode: Mode) -> Result<bool, ProfileError> {
        self.write(move |m| deauthorize_if_seen(m, mode)).await
    }
}

fn deauthorize_if_seen(m: &mut Mirror, mode: Mode) -> Result<bool, MirrorError> {
    if Setting::ConnectState(mode).get(m)?.as_deref() != Some(CONNECTED) {
        return Ok(false);
    }
    let Some(account) = Setting::AccountId(mode).get(m)? else {
        return Ok(false);
    };
    let since: i64 = Setting::ConnectedAt(mode)
        .get(m)?
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    // Bounded scan of the newest events of this mode; a deauthorization is among the newest.
    let hit = m.events(Some(mode), 1000)?.into_iter().any(|e| {
        e.event_type == DEAUTHORIZED_EVENT
            && e.account.as_deref().is_none_or(|a| a == account)
            && e.created >= since
    });
    if hit {
        mark_disconnected(m, mode, REASON_DEAUTHORIZED)?;
    }
    Ok(hit)
}

fn mark_disconnected(m: &mut Mirror, mode: Mode, reason: &str) -> Result<(), MirrorError> {
    Setting::ConnectState(mode).set(m, Some(DISCONNECTED))?;
    Setting::ConnectReason(mode).set(m, Some(reason))
}

/// Subscriptions of `mode` that will try to renew (and fail once Connect is revoked).
pub fn renewing_subscriptions(m: &Mirror, mode: Mode) -> Result<usize, MirrorError> {
    Ok(m.subscriptions(mode)?
        .iter()
        .filter(|s| {
            fluxstore_mirror::facts::RENEWING_SUBSCRIPTION_STATUSES.contains(&s.status.as_str())
        })
        .count())
}
