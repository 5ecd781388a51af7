//! Connect mode: what the desktop keeps after "Connect with Stripe", and how it ends.
//!
//! Invariants:
//! - The access and refresh tokens live only in the OS keyring; the mirror's settings hold
//!   the non-secret facts (account id, mode, scope, service URL, connected/disconnected and
//!   why) so the UI can show the connection offline.
//! - Disconnecting never deletes a mirror row: orders, disputes, subscriptions and invoices
//!   stay readable. Local secrets are deleted only after Stripe confirmed the revoke (or
//!   already refused the token), so a failed revoke can be retried.
//! - An `account.application.deauthorized` event for the connected account, or a 401 from
//!   Stripe, flips the app to disconnected with a reason the owner can read.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use fluxstore_mirror::{Mirror, MirrorError, Mode};
use serde::Serialize;
use url::Url;

use crate::client::{ClientConfig, Credential, StripeClient, unix_now};
use crate::error::GatewayError;
use crate::keystore::{KeyringError, SecretKind, SecretSlot, SecretStore, record_presence};
use crate::oauth::{self, ConnectTokens, OAuthError};
use crate::secret::Secret;

pub const SETTING_STATUS: &str = "connect.status";
pub const SETTING_REASON: &str = "connect.disconnected_reason";
pub const SETTING_ACCOUNT: &str = "connect.account_id";
pub const SETTING_MODE: &str = "connect.mode";
pub const SETTING_SCOPE: &str = "connect.scope";
pub const SETTING_PUBLISHABLE_KEY: &str = "connect.publishable_key";
pub const SETTING_SERVICE_URL: &str = "connect.service_url";
pub const SETTING_CONNECTED_AT: &str = "connect.connected_at";

/// The event Stripe sends when the owner (or the platform) ends the connection.
pub const DEAUTHORIZED_EVENT: &str = "account.application.deauthorized";

/// Subscription statuses that will try to renew, so a disconnect breaks them.
pub use fluxstore_mirror::facts::RENEWING_SUBSCRIPTION_STATUSES as RENEWING_STATUSES;

pub const REASON_OWNER_DISCONNECTED: &str = "You disconnected FluxStore from Stripe.";
pub const REASON_DEAUTHORIZED: &str = "FluxStore was disconnected in Stripe (Settings → Connected applications). Connect again to resume.";
pub const REASON_TOKEN_REJECTED: &str = "Stripe no longer accepts FluxStore's access to this account (it was revoked). Connect again to resume.";

#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    #[error("FluxStore is not connected to a Stripe account through Connect.")]
    NotConnected,
    #[error("{0}")]
    OAuth(#[from] OAuthError),
    #[error(transparent)]
    Keyring(#[from] KeyringError),
    #[error("The local mirror database failed: {0}")]
    Mirror(#[from] MirrorError),
    #[error(transparent)]
    Gateway(#[from] GatewayError),
    #[error("the keyring task stopped unexpectedly")]
    Join,
}

impl ConnectError {
    pub fn code(&self) -> &'static str {
        match self {
            ConnectError::NotConnected => "not_connected",
            ConnectError::OAuth(e) => e.code(),
            ConnectError::Keyring(e) => e.code(),
            ConnectError::Mirror(_) => "mirror_error",
            ConnectError::Gateway(e) => e.code(),
            ConnectError::Join => "internal",
        }
    }
}

/// The connection as the UI shows it. No secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ConnectStatus {
    pub connected: bool,
    pub account_id: Option<String>,
    pub mode: Option<Mode>,
    pub scope: Option<String>,
    /// Why the app is disconnected, when it was connected before.
    pub reason: Option<String>,
}

/// What a disconnect did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DisconnectReport {
    pub account_id: String,
    pub mode: Mode,
    /// Subscriptions (active, trialing, past due) that will fail to renew.
    pub renewing_subscriptions: usize,
    /// False when Stripe had already revoked the token (nothing left to revoke).
    pub revoked_now: bool,
}

fn slot(store_account: &str, mode: Mode, kind: SecretKind) -> SecretSlot {
    SecretSlot::new(store_account, mode, kind)
}

fn parse_mode(s: Option<String>) -> Option<Mode> {
    match s.as_deref() {
        Some("live") => Some(Mode::Live),
        Some("test") => Some(Mode::Test),
        _ => None,
    }
}

pub fn status(mirror: &Mirror) -> Result<ConnectStatus, MirrorError> {
    let connected = mirror.setting(SETTING_STATUS)?.as_deref() == Some("connected");
    Ok(ConnectStatus {
        connected,
        account_id: mirror.setting(SETTING_ACCOUNT)?,
        mode: parse_mode(mirror.setting(SETTING_MODE)?),
        scope: mirror.setting(SETTING_SCOPE)?,
        reason: if connected {
            None
        } else {
            mirror.setting(SETTING_REASON)?
        },
    })
}

/// Keep a fresh connection: tokens to the keyring, facts to the mirror. Blocking (keyring).
pub fn store_connection(
    store: &SecretStore,
    mirror: &mut Mirror,
    store_account: &str,
    service_url: &Url,
    tokens: &ConnectTokens,
) -> Result<(), ConnectError> {
    let mode = tokens.mode();
    let access = slot(store_account, mode, SecretKind::ConnectAccessToken);
    store.put(&access, &tokens.access_token)?;
    record_presence(mirror, store, &access, true)?;
    let refresh = slot(store_account, mode, SecretKind::ConnectRefreshToken);
    match &tokens.refresh_token {
        Some(r) => store.put(&refresh, r)?,
        None => {
            store.delete(&refresh)?;
        }
    }
    record_presence(mirror, store, &refresh, tokens.refresh_token.is_some())?;
    record_connection(mirror, service_url, tokens)?;
    Ok(())
}

/// The non-secret half of [`store_connection`]: account, mode, scope, publishable key and
/// service URL into the mirror's settings, and the app marked connected.
pub fn record_connection(
    mirror: &mut Mirror,
    service_url: &Url,
    tokens: &ConnectTokens,
) -> Result<(), MirrorError> {
    mirror.set_setting(SETTING_ACCOUNT, Some(&tokens.stripe_user_id))?;
    mirror.set_setting(SETTING_MODE, Some(tokens.mode().as_str()))?;
    mirror.set_setting(SETTING_SCOPE, Some(&tokens.scope))?;
    mirror.set_setting(
        SETTING_PUBLISHABLE_KEY,
        Some(&tokens.stripe_publishable_key),
    )?;
    mirror.set_setting(SETTING_SERVICE_URL, Some(service_url.as_str()))?;
    mirror.set_setting(SETTING_CONNECTED_AT, Some(&unix_now().to_string()))?;
    mirror.set_setting(SETTING_REASON, None)?;
    mirror.set_setting(SETTING_STATUS, Some("connected"))
}

/// The connected account's access token, account id and mode. Blocking (keyring).
pub fn access_token(
    store: &SecretStore,
    mirror: &Mirror,
    store_account: &str,
) -> Result<(Secret, String, Mode), ConnectError> {
    let st = status(mirror)?;
    let (Some(account), Some(mode), true) = (st.account_id, st.mode, st.connected) else {
        return Err(ConnectError::NotConnected);
    };
    let token = store
        .get(&slot(store_account, mode, SecretKind::ConnectAccessToken))?
        .ok_or(ConnectError::NotConnected)?;
    Ok((token, account, mode))
}

/// A Stripe client that authenticates with the connected account's access token (for the
/// events feed, account status and refunds in Connect mode). Blocking (keyring).
pub fn connect_client(
    store: &SecretStore,
    mirror: &Arc<Mutex<Mirror>>,
    store_account: &str,
    config: ClientConfig,
) -> Result<StripeClient, ConnectError> {
    let (token, _account, mode) = {
        let m = mirror.lock().unwrap_or_else(|p| p.into_inner());
        access_token(store, &m, store_account)?
    };
    let credential = Credential::ConnectToken { token, mode };
    Ok(StripeClient::new(config, credential, mirror.clone())?)
}

/// Subscriptions of `mode` that will try to renew (and fail once disconnected).
pub fn renewing_subscriptions(mirror: &Mirror, mode: Mode) -> Result<usize, MirrorError> {
    Ok(mirror
        .subscriptions(mode)?
        .iter()
        .filter(|s| RENEWING_STATUSES.contains(&s.status.as_str()))
        .count())
}

/// Flip to disconnected with `reason`, keeping the account facts and every mirror row.
pub fn mark_disconnected(mirror: &mut Mirror, reason: &str) -> Result<(), MirrorError> {
    mirror.set_setting(SETTING_STATUS, Some("disconnected"))?;
    mirror.set_setting(SETTING_REASON, Some(reason))
}

/// If the mirror holds an `account.application.deauthorized` event for the connected account
/// from after it was connected, flip to disconnected. Returns whether it did.
pub fn apply_deauthorization(mirror: &mut Mirror) -> Result<bool, MirrorError> {
    let st = status(mirror)?;
    let (true, Some(account), Some(mode)) = (st.connected, st.account_id, st.mode) else {
        return Ok(false);
    };
    let since: i64 = mirror
        .setting(SETTING_CONNECTED_AT)?
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    // Bounded scan of the newest events of this mode; a deauthorization is among the newest.
    let hit = mirror.events(Some(mode), 1000)?.into_iter().any(|e| {
        e.event_type == DEAUTHORIZED_EVENT
            && e.account.as_deref().is_none_or(|a| a == account)
            && e.created >= since
    });
    if hit {
        mark_disconnected(mirror, REASON_DEAUTHORIZED)?;
    }
    Ok(hit)
}

/// After a Stripe call made with the Connect token failed: a 401 means the token was revoked,
/// so flip to disconnected. Returns whether it did.
pub fn apply_stripe_error(mirror: &mut Mirror, error: &GatewayError) -> Result<bool, MirrorError> {
    if matches!(error, GatewayError::InvalidKey) && status(mirror)?.connected {
        mark_disconnected(mirror, REASON_TOKEN_REJECTED)?;
        return Ok(true);
    }
    Ok(false)
}

/// Disconnect: count renewing subscriptions, revoke through the Connect service, delete the
/// local tokens, mark disconnected. Keeps every mirror row.
pub async fn disconnect(
    store: &SecretStore,
    mirror: &Arc<Mutex<Mirror>>,
    store_account: &str,
    timeout: Duration,
) -> Result<DisconnectReport, ConnectError> {
    let lock = || mirror.lock().unwrap_or_else(|p| p.into_inner());
    let (service_url, renewing, st) = {
        let m = lock();
        let st = status(&m)?;
        let url = m
            .setting(SETTING_SERVICE_URL)?
            .and_then(|u| Url::parse(&u).ok());
        let renewing = match st.mode {
            Some(mode) => renewing_subscriptions(&m, mode)?,
            None => 0,
        };
        (url, renewing, st)
    };
    let (Some(account), Some(mode), Some(service_url)) = (st.account_id, st.mode, service_url)
    else {
        return Err(ConnectError::NotConnected);
    };
    let (s, acct) = (store.clone(), store_account.to_owned());
    let token =
        blocking(move || s.get(&slot(&acct, mode, SecretKind::ConnectAccessToken))).await??;
    let revoked_now = match &token {
        Some(t) => match oauth::revoke(&service_url, t, &account, timeout).await {
            Ok(()) => true,
            // Already revoked at Stripe: nothing left to end there.
            Err(OAuthError::TokenRejected) => false,
            Err(e) => return Err(e.into()),
        },
        None => false,
    };
    let (s, acct) = (store.clone(), store_account.to_owned());
    blocking(move || -> Result<(), KeyringError> {
        s.delete(&slot(&acct, mode, SecretKind::ConnectAccessToken))?;
        s.delete(&slot(&acct, mode, SecretKind::ConnectRefreshToken))?;
        Ok(())
    })
    .await??;
    {
        let mut m = lock();
        for kind in [
            SecretKind::ConnectAccessToken,
            SecretKind::ConnectRefreshToken,
        ] {
            record_presence(&mut m, store, &slot(store_account, mode, kind), false)?;
        }
        mark_disconnected(&mut m, REASON_OWNER_DISCONNECTED)?;
    }
    Ok(DisconnectReport {
        account_id: account,
        mode,
        renewing_subscriptions: renewing,
        revoked_now,
    })
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> T + Send + 'static,
) -> Result<T, ConnectError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|_| ConnectError::Join)
}
