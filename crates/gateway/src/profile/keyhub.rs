//! Live updates through the FluxStore hub for a mode connected with API keys.
//!
//! Stripe sends a key-mode store's events from the owner's own account, so the hub cannot
//! receive them as Connect webhooks. Turning live updates on registers the store at the hub
//! (`POST /v1/stores`: a store key inside its webhook URL, and a feed token), creates the
//! Stripe webhook endpoint at that URL with the owner's key and the 12 events (the gateway's
//! one endpoint creation), and keeps the feed token in the keyring. The mode's follower then
//! follows the hub's feed with that token exactly as a Connect mode follows it with its
//! access token; each doorbell is verified by fetching the event with the owner's key.
//!
//! Invariants:
//! - The feed token and the store key live only in the keyring (the token) and at Stripe and
//!   the hub (the key, inside the endpoint's URL); the mirror records the hub's address, the
//!   store's public id and the endpoint id ([`Setting::HubStore`]).
//! - Turning on is done once: while on, turning on again changes nothing and registers
//!   nothing. A failure before the token is kept leaves nothing on this computer (a store the
//!   hub registered but never saw a feed for is removed by the hub within a day).
//! - Turning off deletes the endpoint it created (when the owner's key still can) and forgets
//!   the token, in that order; a key that can no longer delete it is said, not hidden.
use fluxstore_connect_api::hub::{STORES_PATH, StoreRegistration};
use fluxstore_mirror::Mode;
use serde::{Deserialize, Serialize};
use url::Url;

use super::follow::title;
use super::hub::hub_url;
use super::settings::Setting;
use super::{Profile, ProfileError};
use crate::client::Credential;
use crate::error::GatewayError;
use crate::keystore::{SecretKind, record_presence};
use crate::secret::Secret;
use crate::webhook::KeepSecret;

/// A key-mode store's registration at the hub, as the mirror keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct HubStoreRecord {
    pub hub: String,
    pub store_id: String,
    /// The Stripe webhook endpoint created for the store's hub URL.
    pub endpoint_id: String,
}

/// Whether a mode connected with API keys gets live updates through the hub.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct KeyHubStatus {
    pub mode: Mode,
    /// The owner turned live updates through the hub on for this mode.
    pub on: bool,
    /// The hub the store is registered at (when on).
    pub hub: Option<String>,
    /// The store's public id at the hub (when on).
    pub store_id: Option<String>,
    /// The Stripe webhook endpoint that sends the store's events to the hub (when on).
    pub endpoint_id: Option<String>,
}

/// What turning live updates on or off did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct KeyHubChange {
    /// The mode's state after the change.
    pub status: KeyHubStatus,
    /// Turning off deleted the hub's endpoint in Stripe (false: turned on, there was none, or
    /// the key could not delete it).
    pub endpoint_deleted: bool,
    /// What happened, in the owner's words.
    pub message: String,
}

pub(crate) fn read_record(raw: Option<String>) -> Option<HubStoreRecord> {
    raw.and_then(|r| serde_json::from_str(&r).ok())
}

fn hub_error(hub: &Url, what: String) -> ProfileError {
    ProfileError::Hub(format!(
        "The FluxStore hub at {} {what} Live updates stay off; FluxStore reads Stripe's events every 2 minutes.",
        hub.host_str().unwrap_or("that address")
    ))
}

impl Profile {
    /// The key-mode store of `mode` at the hub, if live updates are on.
    pub(crate) async fn hub_store(
        &self,
        mode: Mode,
    ) -> Result<Option<HubStoreRecord>, ProfileError> {
        let raw = self.read(move |m| Setting::HubStore(mode).get(m)).await?;
        Ok(read_record(raw))
    }

    /// Whether live updates through the hub are on for `mode` (from the mirror; no keyring).
    pub async fn key_hub(&self, mode: Mode) -> Result<KeyHubStatus, ProfileError> {
        let record = self.hub_store(mode).await?;
        Ok(KeyHubStatus {
            mode,
            on: record.is_some(),
            hub: record.as_ref().map(|r| r.hub.clone()),
            store_id: record.as_ref().map(|r| r.store_id.clone()),
            endpoint_id: record.map(|r| r.endpoint_id),
        })
    }

    /// Whether `mode`'s feed is a key-mode store's (followed with its feed token), not a
    /// Connect connection's.
    pub(crate) async fn follows_as_store(&self, mode: Mode) -> Result<bool, ProfileError> {
        let connected = self
            .read(move |m| Setting::ConnectState(mode).get(m))
            .await?
            .as_deref()
            == Some(super::connect::CONNECTED);
        Ok(!connected && self.hub_store(mode).await?.is_some())
    }

    /// The key-mode store's feed token of `mode`, when live updates are on.
    pub(crate) async fn hub_feed_token(&self, mode: Mode) -> Result<Option<Secret>, ProfileError> {
        if self.hub_store(mode).await?.is_none() {
            return Ok(None);
        }
        let slot = self.slot(mode, SecretKind::HubFeedToken);
        self.with_keyring(move |k| k.get(&slot)).await
    }

    /// Turn on live updates through the hub for `mode`, which must be connected with an API
    /// key: register the store at [`Profile::hub`], create its Stripe webhook endpoint, keep
    /// the feed token. Already on: nothing is done again.
    pub async fn enable_key_hub(&self, mode: Mode) -> Result<KeyHubStatus, ProfileError> {
        if self.hub_store(mode).await?.is_some() {
            return self.key_hub(mode).await;
        }
        let client = match self.credential(mode).await {
            Ok(Credential::ApiKey(_)) => self.client(mode).await?,
            Ok(Credential::ConnectToken { .. }) => {
                return Err(ProfileError::Refused(format!(
                    "{} mode is connected through Stripe Connect, which follows the FluxStore hub already; live updates through the hub are for a mode connected with API keys.",
                    title(mode)
                )));
            }
            Err(e) => return Err(e),
        };
        let keyring = self.keyring()?.clone();
        let hub = hub_url(&self.hub(mode).await?.url)?;
        let registration = register(&hub).await?;
        let endpoint = client
            .create_webhook_endpoint_keeping(
                &registration.webhook_url,
                &keyring,
                self.store(),
                KeepSecret::ForEndpointOnly,
            )
            .await?;
        let record = HubStoreRecord {
            hub: hub.to_string(),
            store_id: registration.store_id.clone(),
            endpoint_id: endpoint.id,
        };
        let slot = self.slot(mode, SecretKind::HubFeedToken);
        let (put_slot, token) = (slot.clone(), Secret::new(registration.feed_token.expose()));
        self.with_keyring(move |k| k.put(&put_slot, &token)).await?;
        let value = serde_json::to_string(&record)
            .map_err(|e| ProfileError::from(GatewayError::UnexpectedResponse(e.to_string())))?;
        self.write(move |m| {
            record_presence(m, &keyring, &slot, true)?;
            Setting::HubStore(mode).set(m, Some(&value))
        })
        .await?;
        tracing::info!(mode = mode.as_str(), store = %record.store_id, "live updates through the hub turned on");
        self.key_hub(mode).await
    }

    /// Turn live updates through the hub on or off for `mode`, with what that did in words.
    pub async fn set_key_hub(&self, mode: Mode, on: bool) -> Result<KeyHubChange, ProfileError> {
        if !on {
            return self.disable_key_hub(mode).await;
        }
        let status = self.enable_key_hub(mode).await?;
        let message = format!(
            "Live updates through the FluxStore hub are on for {} mode: Stripe sends your events to the hub (webhook endpoint {}), and FluxStore fetches each one from Stripe as the hub announces it.",
            mode.as_str(),
            status.endpoint_id.as_deref().unwrap_or("")
        );
        Ok(KeyHubChange {
            status,
            endpoint_deleted: false,
            message,
        })
    }

    /// Turn off live updates through the hub for `mode`: delete the webhook endpoint created
    /// for it (when the owner's key still can), then forget the feed token and the record.
    pub async fn disable_key_hub(&self, mode: Mode) -> Result<KeyHubChange, ProfileError> {
        let Some(record) = self.hub_store(mode).await? else {
            return Ok(KeyHubChange {
                status: self.key_hub(mode).await?,
                endpoint_deleted: false,
                message: format!(
                    "Live updates through the FluxStore hub were already off for {} mode.",
                    mode.as_str()
                ),
            });
        };
        let deleted = match self.client(mode).await {
            Ok(client) => client.delete_webhook_endpoint(&record.endpoint_id).await,
            Err(ProfileError::Gateway(e)) => Err(e),
            Err(e) => Err(GatewayError::invalid(e.to_string())),
        };
        // Offline: nothing is forgotten, so turning off again later can still delete it.
        let deleted = match deleted {
            Err(e @ (GatewayError::Offline | GatewayError::Timeout)) => return Err(e.into()),
            other => other,
        };
        let message = match &deleted {
            Ok(()) => format!(
                "Live updates through the FluxStore hub are off for {} mode, and the webhook endpoint {} that sent your events to the hub is deleted in Stripe.",
                mode.as_str(),
                record.endpoint_id
            ),
            Err(e) => format!(
                "Live updates through the FluxStore hub are off for {} mode. Stripe did not let FluxStore delete the webhook endpoint {} ({e}); delete it in the Stripe Dashboard (Developers → Webhooks).",
                mode.as_str(),
                record.endpoint_id
            ),
        };
        let keyring = self.keyring()?.clone();
        let slot = self.slot(mode, SecretKind::HubFeedToken);
        let by_endpoint = self
            .slot(mode, SecretKind::WebhookSecret)
            .with_label(&record.endpoint_id);
        let (s1, s2) = (slot.clone(), by_endpoint.clone());
        self.with_keyring(move |k| {
            k.delete(&s1)?;
            k.delete(&s2)
        })
        .await?;
        self.write(move |m| {
            record_presence(m, &keyring, &slot, false)?;
            record_presence(m, &keyring, &by_endpoint, false)?;
            Setting::HubStore(mode).set(m, None)?;
            Setting::HubCursor(mode).set(m, None)
        })
        .await?;
        tracing::info!(
            mode = mode.as_str(),
            "live updates through the hub turned off"
        );
        Ok(KeyHubChange {
            status: self.key_hub(mode).await?,
            endpoint_deleted: deleted.is_ok(),
            message,
        })
    }
}

/// `POST {hub}/v1/stores`.
async fn register(hub: &Url) -> Result<StoreRegistration, ProfileError> {
    let http = super::follow::hub_http()
        .map_err(|e| hub_error(hub, format!("could not be asked ({e}).")))?;
    let mut url = hub.clone();
    let prefix = hub.path().trim_end_matches('/').to_owned();
    url.set_path(&format!("{prefix}{STORES_PATH}"));
    url.set_query(None);
    let resp = http
        .post(url)
        .timeout(std::time::Duration::from_secs(30))
        .send()
        .await
        .map_err(|e| {
            let why = if e.is_connect() {
                "cannot be reached.".to_owned()
            } else if e.is_timeout() {
                "did not answer in time.".to_owned()
            } else {
                "cannot be reached.".to_owned()
            };
            hub_error(hub, why)
        })?;
    let status = resp.status();
    if !status.is_success() {
        // The hub's refusals carry a message meant for people (`{"error": {"message"}}`).
        let body: serde_json::Value = resp.json().await.unwrap_or_default();
        let said = body
            .pointer("/error/message")
            .and_then(|m| m.as_str())
            .map(|m| format!(" It said: {m}"))
            .unwrap_or_default();
        let what = match status.as_u16() {
            404 | 405 => "does not register stores (is it a FluxStore hub?).".to_owned(),
            429 => format!("is busy registering stores.{said}"),
            other => format!("refused to register this store ({other}).{said}"),
        };
        return Err(hub_error(hub, what));
    }
    let registration: StoreRegistration = resp.json().await.map_err(|_| {
        hub_error(
            hub,
            "answered with something that is no registration.".into(),
        )
    })?;
    let webhook = Url::parse(&registration.webhook_url).ok();
    if registration.feed_token.is_empty()
        || registration.store_id.is_empty()
        || webhook.is_none_or(|u| u.scheme() != "https" && u.scheme() != "http")
    {
        return Err(hub_error(
            hub,
            "answered with an incomplete registration.".into(),
        ));
    }
    Ok(registration)
}
