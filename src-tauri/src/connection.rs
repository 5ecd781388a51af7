//! Connection commands: which method, which keys, the webhook secret, the account's status,
//! disconnect. Each validates, calls the gateway once, and reports the new state.
//!
//! Invariants: a key reaches the keyring only after it passed validation (and, when Stripe
//! can be reached, after Stripe accepted it); the mirror's settings hold only non-secret facts
//! (method, publishable key, which secrets exist and where, the last account status).
use fluxstore_gateway::keystore::{SecretKind as GwKind, SecretSlot, record_presence};
use fluxstore_gateway::{GatewayError, ManualKeys, Secret, WebhookSecret};
use fluxstore_mirror::{Mirror, MirrorError};

use crate::dto::{
    AccountStatus, AccountStatusArgs, ChooseMethodArgs, ConnectionMethod, ConnectionStatus,
    CreateWebhookArgs, Mode, ModeArgs, ModeConnection, RelayStatus, Requirements, SaveKeysArgs,
    SaveWebhookSecretArgs, SecretInfo, SecretKind, WebhookEndpointCreated,
};
use crate::error::{ErrorCode, IpcError, IpcResult};
use crate::sample::unix_now;
use crate::state::{ACCOUNT, AppState};

const METHOD: &str = "shell.connection_method";

fn publishable_setting(mode: Mode) -> String {
    format!("shell.publishable_key.{}", crate::state::mode_word(mode))
}
fn key_kind_setting(mode: Mode) -> String {
    format!("shell.api_key_kind.{}", crate::state::mode_word(mode))
}
fn account_setting(mode: Mode) -> String {
    format!("shell.account_status.{}", crate::state::mode_word(mode))
}
fn slot(mode: Mode, kind: GwKind) -> SecretSlot {
    SecretSlot::new(ACCOUNT, mode, kind)
}

/// What one mode's connection looks like, from the mirror's settings only (no keyring prompt).
fn mode_connection(m: &Mirror, mode: Mode) -> Result<ModeConnection, MirrorError> {
    let mut secrets = Vec::new();
    let api = m.setting(&slot(mode, GwKind::ApiKey).presence_setting())?;
    if let Some(store) = &api {
        let restricted = m.setting(&key_kind_setting(mode))?.as_deref() == Some("restricted");
        let kind = if restricted {
            SecretKind::RestrictedKey
        } else {
            SecretKind::SecretKey
        };
        secrets.push(SecretInfo {
            kind,
            store: store.clone(),
        });
    }
    let token = m.setting(&slot(mode, GwKind::ConnectAccessToken).presence_setting())?;
    if let Some(store) = &token {
        secrets.push(SecretInfo {
            kind: SecretKind::ConnectToken,
            store: store.clone(),
        });
    }
    if let Some(store) = m.setting(&slot(mode, GwKind::WebhookSecret).presence_setting())? {
        secrets.push(SecretInfo {
            kind: SecretKind::WebhookSecret,
            store,
        });
    }
    let account = m
        .setting(&account_setting(mode))?
        .and_then(|json| serde_json::from_str::<AccountStatus>(&json).ok());
    // A Connect connection names its account before any status was fetched.
    let via_connect = match token {
        Some(_) => Some(fluxstore_gateway::connect::status(m)?),
        None => None,
    };
    let connect_account = via_connect
        .as_ref()
        .filter(|c| c.connected)
        .and_then(|c| c.account_id.clone());
    Ok(ModeConnection {
        mode,
        // A token Stripe revoked (deauthorized, 401) no longer counts as a connection.
        connected: api.is_some() || via_connect.is_some_and(|c| c.connected),
        account_id: account.map(|a| a.account_id).or(connect_account),
        publishable_key: m.setting(&publishable_setting(mode))?,
        secrets,
    })
}

impl AppState {
    pub async fn connection_status(&self) -> IpcResult<ConnectionStatus> {
        let store = self.active().await;
        let sample = self.sample_open().await;
        let (method, test, live) = store
            .read(|m| {
                let method = match m.setting(METHOD)?.as_deref() {
                    Some("connect") => Some(ConnectionMethod::Connect),
                    Some("keys") => Some(ConnectionMethod::Keys),
                    _ => None,
                };
                Ok((
                    method,
                    mode_connection(m, Mode::Test)?,
                    mode_connection(m, Mode::Live)?,
                ))
            })
            .await?;
        let (mut method, mut test) = (method, test);
        if sample {
            // The sample store is connected, in test mode, to its local Stripe stand-in.
            method = Some(ConnectionMethod::Keys);
            test.connected = true;
        }
        let local_url = store.relay_url();
        Ok(ConnectionStatus {
            method,
            test,
            live,
            relay: RelayStatus {
                listening: local_url.is_some(),
                local_url,
                public_url: None,
            },
            sample_store: sample,
            online: self.online(),
        })
    }

    /// Tell the UI the connection changed, and return the new status.
    pub(crate) async fn changed(&self) -> IpcResult<ConnectionStatus> {
        let status = self.connection_status().await?;
        self.notify.account_changed(&status);
        Ok(status)
    }

    pub async fn choose_method(&self, args: ChooseMethodArgs) -> IpcResult<ConnectionStatus> {
        let value = match args.method {
            ConnectionMethod::Connect => "connect",
            ConnectionMethod::Keys => "keys",
        };
        self.active()
            .await
            .set_setting(METHOD.to_owned(), Some(value.to_owned()))
            .await?;
        self.changed().await
    }

    pub async fn save_keys(&self, args: SaveKeysArgs) -> IpcResult<ConnectionStatus> {
        self.refuse_in_sample().await?;
        let keys = ManualKeys::parse(Some(&args.publishable_key), args.secret_key.expose(), None)
            .map_err(GatewayError::from)?;
        let mode: Mode = keys.mode();
        // Ask Stripe first: a wrong or revoked key is refused before it is kept. Offline, the
        // key is kept on its format alone and checked at the next refresh.
        let cfg = self.client_config()?;
        let client = fluxstore_gateway::StripeClient::new(
            cfg,
            fluxstore_gateway::Credential::ApiKey(keys.api_key.clone()),
            self.real.writer(),
        )?;
        let account = client.account().await;
        self.observe(&account);
        let account = match account {
            Ok(a) => Some(a),
            Err(GatewayError::Offline | GatewayError::Timeout) => None,
            Err(e) => return Err(e.into()),
        };
        let secret: Secret = keys.api_key.secret().clone();
        let key_slot = slot(mode, GwKind::ApiKey);
        let put_slot = key_slot.clone();
        self.with_keyring(move |k| k.put(&put_slot, &secret))
            .await?;
        let keyring = self.keyring()?.clone();
        let publishable = keys.publishable.as_ref().map(|p| p.as_str().to_owned());
        let restricted = keys.api_key.is_restricted();
        let cached = account.map(|a| account_json(&a, mode));
        self.real
            .write(move |m| {
                record_presence(m, &keyring, &key_slot, true)?;
                m.set_setting(&publishable_setting(mode), publishable.as_deref())?;
                m.set_setting(
                    &key_kind_setting(mode),
                    Some(if restricted { "restricted" } else { "secret" }),
                )?;
                if let Some(json) = cached {
                    m.set_setting(&account_setting(mode), Some(&json))?;
                }
                if m.setting(METHOD)?.is_none() {
                    m.set_setting(METHOD, Some("keys"))?;
                }
                Ok(())
            })
            .await?;
        // Heal from Stripe's events right away rather than at the next poll.
        self.sync_wake.notify_one();
        self.changed().await
    }

    pub async fn save_webhook_secret(
        &self,
        args: SaveWebhookSecretArgs,
    ) -> IpcResult<ConnectionStatus> {
        self.refuse_in_sample().await?;
        let secret =
            WebhookSecret::parse(args.webhook_secret.expose()).map_err(GatewayError::from)?;
        let value = secret.secret().clone();
        let secret_slot = slot(args.mode, GwKind::WebhookSecret);
        let put_slot = secret_slot.clone();
        self.with_keyring(move |k| k.put(&put_slot, &value)).await?;
        let keyring = self.keyring()?.clone();
        self.real
            .write(move |m| record_presence(m, &keyring, &secret_slot, true))
            .await?;
        self.reload_relay().await?;
        self.changed().await
    }

    pub async fn create_webhook_endpoint(
        &self,
        args: CreateWebhookArgs,
    ) -> IpcResult<WebhookEndpointCreated> {
        self.refuse_in_sample().await?;
        let client = self.client(args.mode).await?;
        let keyring = self.keyring()?.clone();
        let created = client
            .create_webhook_endpoint(&args.url, &keyring, ACCOUNT)
            .await;
        self.observe(&created);
        let created = created?;
        self.reload_relay().await?;
        self.changed().await?;
        Ok(WebhookEndpointCreated {
            endpoint_id: created.id,
            url: created.url,
            enabled_events: created.enabled_events,
            secret_stored: true,
        })
    }

    /// Forget every secret of `mode` (keyring entries and their presence facts).
    pub async fn disconnect(&self, args: ModeArgs) -> IpcResult<ConnectionStatus> {
        self.refuse_in_sample().await?;
        let mode = args.mode;
        // A Connect connection of this mode is ended at Stripe too (through the Connect service).
        let via_connect = self.real.read(fluxstore_gateway::connect::status).await?;
        if via_connect.connected && via_connect.mode == Some(mode) {
            let keyring = self.keyring()?.clone();
            let report = fluxstore_gateway::connect::disconnect(
                &keyring,
                &self.real.writer(),
                ACCOUNT,
                std::time::Duration::from_secs(30),
            )
            .await?;
            tracing::info!(
                renewing = report.renewing_subscriptions,
                revoked = report.revoked_now,
                "disconnected from Connect"
            );
        }
        let slots: Vec<SecretSlot> = [
            GwKind::ApiKey,
            GwKind::WebhookSecret,
            GwKind::ConnectAccessToken,
            GwKind::ConnectRefreshToken,
        ]
        .into_iter()
        .map(|kind| slot(mode, kind))
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
        self.real
            .write(move |m| {
                for s in &slots {
                    record_presence(m, &keyring, s, false)?;
                }
                for key in [
                    publishable_setting(mode),
                    key_kind_setting(mode),
                    account_setting(mode),
                ] {
                    m.set_setting(&key, None)?;
                }
                Ok(())
            })
            .await?;
        self.reload_relay().await?;
        self.changed().await
    }

    /// The account's readiness: the cached answer, or Stripe's when `refresh` (online only).
    pub async fn account_status(
        &self,
        args: AccountStatusArgs,
    ) -> IpcResult<Option<AccountStatus>> {
        let store = self.active().await;
        let key = account_setting(args.mode);
        if args.refresh {
            let client = self.client(args.mode).await?;
            let fetched = client.account().await;
            self.observe(&fetched);
            let json = account_json(&fetched?, args.mode);
            let status: AccountStatus = serde_json::from_str(&json)
                .map_err(|e| IpcError::internal("The account status could not be read", &e))?;
            store.set_setting(key, Some(json)).await?;
            return Ok(Some(status));
        }
        let cached = store.read(move |m| m.setting(&key)).await?;
        Ok(cached.and_then(|json| serde_json::from_str(&json).ok()))
    }

    async fn refuse_in_sample(&self) -> IpcResult<()> {
        if self.sample_open().await {
            return Err(IpcError::new(
                ErrorCode::Refused,
                "The sample store is open. Close it (Payment Gateways → Leave the sample store) before connecting your own Stripe account.",
            ));
        }
        Ok(())
    }
}

/// The cached form of an account status (the IPC shape, as JSON).
fn account_json(a: &fluxstore_gateway::AccountStatus, mode: Mode) -> String {
    let status = AccountStatus {
        account_id: a.id.clone(),
        business_name: a.business_name.clone(),
        mode,
        charges_enabled: a.charges_enabled,
        payouts_enabled: a.payouts_enabled,
        details_submitted: a.details_submitted,
        requirements: Requirements {
            currently_due: a.requirements.currently_due.clone(),
            past_due: a.requirements.past_due.clone(),
            eventually_due: a.requirements.eventually_due.clone(),
            disabled_reason: a.requirements.disabled_reason.clone(),
        },
        checked_at: unix_now(),
    };
    serde_json::to_string(&status).unwrap_or_default()
}
