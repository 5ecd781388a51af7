//! The FluxStore hub, seen from the desktop: which hub a mode follows, with which token, where
//! its feed resumes, and what one doorbell does to the mirror.
//!
//! A doorbell is a claim ("event `evt_…` of your account happened"), not an event: the hub
//! holds no customer data and, for key-mode stores, cannot even verify what it rings. So a
//! doorbell is only ever a reason to ask Stripe, with this mode's own credential, for that
//! event (`GET /v1/events/{id}`); what reaches the mirror is what Stripe answered.
//!
//! Invariants:
//! - A doorbell of the other mode or of another account, with an id that is not an event id,
//!   or naming an event Stripe does not have for this credential changes nothing and is
//!   recorded as a rejection (`doorbell_unverified`) the owner sees with the relay's.
//! - The cursor (a mirror setting, per mode, tied to the hub's address) moves in the same
//!   transaction as the doorbell's event (or after the doorbell was refused or skipped), so a
//!   restart re-rings nothing that is stored and skips nothing that is not.
//! - The feed's token is the mode's Connect access token, or in key mode the store's feed
//!   token ([`super::keyhub`]); it travels only to an address that passes
//!   [`crate::net::sends_secrets_safely`].
use fluxstore_connect_api::hub::Doorbell;
use fluxstore_mirror::facts::RejectionCode;
use fluxstore_mirror::{AppliedEvent, IngestOutcome, Mode, NewRejection, Source};
use serde::{Deserialize, Serialize};
use url::Url;

use super::connect::CONNECTED;
use super::settings::Setting;
use super::{Profile, ProfileError};
use crate::error::GatewayError;
use crate::keystore::SecretKind;
use crate::secret::Secret;

/// A key-mode store's webhook address at the hub: this path, then its store key.
pub use fluxstore_connect_api::hub::STORE_WEBHOOK_PREFIX;

/// The hub address for this run (the CLI's `--hub` reads it too).
pub const HUB_ENV: &str = "FLUXSTORE_HUB";

/// Where the hub address comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum HubSource {
    /// Fixed for this run by whoever started it (`--hub`).
    Override,
    /// Set by the owner (Payment Gateways).
    Setting,
    /// `FLUXSTORE_HUB` in the environment.
    Environment,
    /// The Connect service the mode's token came from: the hub is the Connect service.
    ConnectService,
    /// Where the mode's key-mode store is registered (live updates through the hub are on).
    Registration,
}

/// The hub a mode's live feed follows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct HubService {
    pub url: String,
    pub source: HubSource,
}

/// Parse and check a hub address: https, or http to this computer only (the feed carries the
/// Connect token).
pub fn hub_url(text: &str) -> Result<Url, ProfileError> {
    let url = Url::parse(text.trim()).map_err(|_| {
        ProfileError::Invalid(format!(
            "\"{}\" is not a web address. Enter the FluxStore hub's address, e.g. {}.",
            text.trim(),
            super::DEFAULT_CONNECT_SERVICE
        ))
    })?;
    if crate::net::sends_secrets_safely(&url) {
        Ok(url)
    } else {
        Err(ProfileError::Invalid(
            "The hub address must start with https:// (plain http is allowed only for an address on this computer): the live feed carries your Stripe access token.".to_owned(),
        ))
    }
}

/// Where a mode's feed resumes (stored as JSON in [`Setting::HubCursor`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct StoredCursor {
    hub: String,
    cursor: i64,
}

fn cursor_text(hub: &Url, cursor: i64) -> Result<String, ProfileError> {
    serde_json::to_string(&StoredCursor {
        hub: hub.to_string(),
        cursor,
    })
    .map_err(|e| ProfileError::from(GatewayError::UnexpectedResponse(e.to_string())))
}

/// What one doorbell did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rung {
    /// Stripe confirmed the event and it was stored for the first time.
    Stored(AppliedEvent),
    /// Stripe confirmed it; the mirror already had it.
    Known,
    /// A type the mirror does not use: not fetched.
    Skipped,
    /// Refused (recorded as a rejection): why, for the log.
    Refused(&'static str),
}

impl Profile {
    /// The hub `mode` follows: this run's override, else the owner's setting, else
    /// `FLUXSTORE_HUB`, else the Connect service the mode's token came from (else the one
    /// sign-ins use). The hub is the Connect service: it receives the platform's Connect
    /// webhooks, so it is where a Connect connection's doorbells ring.
    pub async fn hub(&self, mode: Mode) -> Result<HubService, ProfileError> {
        if let Some(url) = &self.config.hub {
            return Ok(HubService {
                url: url.to_string(),
                source: HubSource::Override,
            });
        }
        let (setting, used, registered) = self
            .read(move |m| {
                Ok((
                    Setting::HubUrl.get(m)?,
                    Setting::ConnectServiceUsed(mode).get(m)?,
                    super::keyhub::read_record(Setting::HubStore(mode).get(m)?),
                ))
            })
            .await?;
        // A key-mode store's feed token is good only at the hub that issued it.
        if let Some(record) = registered {
            return Ok(HubService {
                url: record.hub,
                source: HubSource::Registration,
            });
        }
        if let Some(url) = setting {
            return Ok(HubService {
                url,
                source: HubSource::Setting,
            });
        }
        if let Some(url) = std::env::var(HUB_ENV)
            .ok()
            .map(|s| s.trim().to_owned())
            .filter(|s| !s.is_empty())
        {
            return Ok(HubService {
                url,
                source: HubSource::Environment,
            });
        }
        let url = match used {
            Some(url) => url,
            None => self.connect_service().await?.url,
        };
        Ok(HubService {
            url,
            source: HubSource::ConnectService,
        })
    }

    /// Set (Some) or clear (None) the owner's hub address.
    pub async fn set_hub(&self, url: Option<&str>) -> Result<(), ProfileError> {
        let value = match url.map(str::trim).filter(|u| !u.is_empty()) {
            Some(text) => Some(hub_url(text)?.to_string()),
            None => None,
        };
        self.write(move |m| Setting::HubUrl.set(m, value.as_deref()))
            .await
    }

    /// The Bearer token of `mode`'s feed: its Connect access token while the mode is
    /// connected through Connect, else the key-mode store's feed token while live updates
    /// through the hub are on; None when the mode has no feed.
    pub async fn hub_token(&self, mode: Mode) -> Result<Option<Secret>, ProfileError> {
        let state = self
            .read(move |m| Setting::ConnectState(mode).get(m))
            .await?;
        if state.as_deref() != Some(CONNECTED) {
            return self.hub_feed_token(mode).await;
        }
        let slot = self.slot(mode, SecretKind::ConnectAccessToken);
        self.with_keyring(move |k| k.get(&slot)).await
    }

    /// The cursor `mode`'s feed resumes after on `hub` (None: start at the hub's newest).
    pub async fn hub_cursor(&self, mode: Mode, hub: &Url) -> Result<Option<i64>, ProfileError> {
        let raw = self.read(move |m| Setting::HubCursor(mode).get(m)).await?;
        // A cursor of another hub means nothing here; an unreadable one is treated as none
        // (the feed then starts at the newest doorbell and the events sync heals the rest).
        Ok(raw
            .and_then(|r| serde_json::from_str::<StoredCursor>(&r).ok())
            .filter(|c| c.hub == hub.as_str())
            .map(|c| c.cursor))
    }

    /// Record that every doorbell of `mode`'s feed up to `cursor` is dealt with.
    pub async fn set_hub_cursor(
        &self,
        mode: Mode,
        hub: &Url,
        cursor: i64,
    ) -> Result<(), ProfileError> {
        let value = cursor_text(hub, cursor)?;
        self.write(move |m| Setting::HubCursor(mode).set(m, Some(&value)))
            .await
    }

    /// Answer one doorbell of `mode`'s feed from `hub`: check what it claims against this
    /// mode, ask Stripe for the event with `client` (this mode's, from [`Profile::client`]),
    /// store what Stripe answered, and move the feed's cursor past the doorbell — in the
    /// event's own transaction when one is stored. Errors are those of Stripe or the mirror
    /// (offline, 401, disk): the doorbell is then not dealt with, the cursor stays, and the
    /// doorbell is rung again when the feed resumes.
    pub async fn answer_doorbell(
        &self,
        mode: Mode,
        hub: &Url,
        client: &crate::client::StripeClient,
        d: &Doorbell,
    ) -> Result<Rung, ProfileError> {
        let (account, store) = self
            .read(move |m| {
                Ok((
                    Setting::AccountId(mode).get(m)?,
                    super::keyhub::read_record(Setting::HubStore(mode).get(m)?),
                ))
            })
            .await?;
        let refusal = if d.livemode != mode.is_live() {
            Some("the doorbell is of the other mode")
        } else if let (Some(claimed), Some(ours)) = (&d.account, &account)
            && claimed != ours
        {
            Some("the doorbell is of another account")
        } else if let (Some(claimed), Some(ours)) = (&d.store, &store)
            && *claimed != ours.store_id
        {
            Some("the doorbell is of another store")
        } else if !crate::events::is_event_id(&d.event_id) {
            Some("the doorbell names no event id")
        } else {
            None
        };
        if let Some(why) = refusal {
            self.refuse_doorbell(hub).await?;
            self.set_hub_cursor(mode, hub, d.cursor).await?;
            return Ok(Rung::Refused(why));
        }
        let types = crate::sync::projected_types();
        if !types.contains(&d.event_type) {
            self.set_hub_cursor(mode, hub, d.cursor).await?;
            return Ok(Rung::Skipped);
        }
        if client.mode() != mode {
            return Err(ProfileError::Invalid(
                "a doorbell was answered with the other mode's credential".to_owned(),
            ));
        }
        let event = match client.retrieve_event(&d.event_id).await {
            Ok(event) => event,
            Err(GatewayError::NotFound { .. }) => {
                self.refuse_doorbell(hub).await?;
                self.set_hub_cursor(mode, hub, d.cursor).await?;
                return Ok(Rung::Refused("Stripe has no such event for this account"));
            }
            Err(e) => {
                // A 401: the token was revoked, and this mode's connection ends here as it
                // does for the events sync.
                if self.note_stripe_error(mode, &e).await? {
                    return Err(ProfileError::Disconnected {
                        mode,
                        reason: super::REASON_TOKEN_REJECTED.to_owned(),
                    });
                }
                return Err(e.into());
            }
        };
        let kind = event.get("type").and_then(|t| t.as_str()).unwrap_or("");
        if event.get("livemode").and_then(|l| l.as_bool()) != Some(mode.is_live()) {
            self.refuse_doorbell(hub).await?;
            self.set_hub_cursor(mode, hub, d.cursor).await?;
            return Ok(Rung::Refused("Stripe's event is of the other mode"));
        }
        if !types.iter().any(|t| t == kind) {
            self.set_hub_cursor(mode, hub, d.cursor).await?;
            return Ok(Rung::Skipped);
        }
        let raw = serde_json::to_vec(&event)
            .map_err(|e| ProfileError::from(GatewayError::UnexpectedResponse(e.to_string())))?;
        let (key, cursor) = (Setting::HubCursor(mode).key(), cursor_text(hub, d.cursor)?);
        let outcome = self
            .write(move |m| m.ingest_with_setting(&raw, Source::Feed, &key, &cursor))
            .await?;
        Ok(match outcome {
            IngestOutcome::Applied(e) => Rung::Stored(e),
            IngestOutcome::Duplicate { .. } => Rung::Known,
        })
    }

    /// Count a refused doorbell with the relay's refusals (never its content).
    async fn refuse_doorbell(&self, hub: &Url) -> Result<(), ProfileError> {
        let peer = hub.host_str().map(str::to_owned);
        self.write(move |m| {
            m.record_rejection(&NewRejection {
                code: RejectionCode::DoorbellUnverified,
                size: 0,
                peer,
            })
        })
        .await
    }
}
