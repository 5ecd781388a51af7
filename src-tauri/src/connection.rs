//! Connection commands: which method, which keys, the webhook secret, the account's status,
//! the Connect service address, disconnect. Each is an adapter over the store profile: it
//! validates the IPC input's shape, calls one profile function, and reports the new state.
use std::time::Duration;

use fluxstore_gateway::{ManualKeys, ProfileError, WebhookSecret};

use crate::dto::{
    AccountStatus, AccountStatusArgs, ChooseMethodArgs, ConnectServiceArgs, ConnectionStatus,
    CreateWebhookArgs, ModeArgs, RelayStatus, SaveKeysArgs, SaveWebhookSecretArgs, SecretInfo,
    SecretShown, WebhookCheck, WebhookEndpointCreated,
};
use crate::error::{ErrorCode, IpcError, IpcResult};
use crate::state::AppState;

/// Where the sample store's key and signing secret are kept (this session's memory only).
pub const SAMPLE_SECRETS: &str = "Memory (sample store only)";

/// Why the sample store's webhook endpoint is not checked at Stripe.
pub const SAMPLE_HAS_NO_ENDPOINT: &str = "The sample store has no webhook endpoint at Stripe to check: its events arrive signed through its own relay.";

/// How long a disconnect waits for the Connect service to confirm the revoke.
const REVOKE_TIMEOUT: Duration = Duration::from_secs(30);

impl AppState {
    pub async fn connection_status(&self) -> IpcResult<ConnectionStatus> {
        let store = self.active().await;
        let sample = self.sample_open().await;
        let mut profile = self.active_profile().await.status().await?;
        if sample {
            // The sample store shows a store set up with keys in both modes; its test mode
            // acts on the local Stripe stand-in, its keys and signing secret live in memory.
            profile.method = Some(crate::dto::ConnectionMethod::Keys);
            for c in [&mut profile.test, &mut profile.live] {
                c.connected = true;
                c.via = Some(crate::dto::ConnectionMethod::Keys);
                c.secrets = [SecretShown::SecretKey, SecretShown::WebhookSecret]
                    .into_iter()
                    .map(|kind| SecretInfo {
                        kind,
                        store: SAMPLE_SECRETS.to_owned(),
                    })
                    .collect();
            }
        }
        let local_url = store.relay_url();
        Ok(ConnectionStatus {
            profile,
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
        self.active_profile()
            .await
            .choose_method(args.method)
            .await?;
        self.changed().await
    }

    pub async fn save_keys(&self, args: SaveKeysArgs) -> IpcResult<ConnectionStatus> {
        self.refuse_in_sample().await?;
        let keys = ManualKeys::parse(Some(&args.publishable_key), args.secret_key.expose(), None)
            .map_err(ProfileError::from)?;
        let saved = self.profile.save_keys(keys).await;
        self.observe(&saved);
        saved?;
        // Heal from Stripe's events right away rather than at the next poll.
        self.wake_feed().await;
        self.changed().await
    }

    pub async fn save_webhook_secret(
        &self,
        args: SaveWebhookSecretArgs,
    ) -> IpcResult<ConnectionStatus> {
        self.refuse_in_sample().await?;
        let secret =
            WebhookSecret::parse(args.webhook_secret.expose()).map_err(ProfileError::from)?;
        self.profile.save_webhook_secret(args.mode, secret).await?;
        self.reload_relay().await?;
        self.changed().await
    }

    pub async fn create_webhook_endpoint(
        &self,
        args: CreateWebhookArgs,
    ) -> IpcResult<WebhookEndpointCreated> {
        self.refuse_in_sample().await?;
        let created = self
            .profile
            .create_webhook_endpoint(args.mode, &args.url)
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

    /// Whether Stripe's webhook endpoints of `mode` send the 12 events to FluxStore.
    pub async fn check_webhook_endpoint(&self, args: ModeArgs) -> IpcResult<WebhookCheck> {
        if self.sample_open().await {
            return Err(IpcError::new(ErrorCode::Refused, SAMPLE_HAS_NO_ENDPOINT));
        }
        let checked = self
            .active_profile()
            .await
            .check_webhook_endpoint(args.mode)
            .await;
        self.observe(&checked);
        Ok(checked?)
    }

    /// Forget every secret of a mode; a Connect connection is revoked at Stripe first.
    pub async fn disconnect(&self, args: ModeArgs) -> IpcResult<ConnectionStatus> {
        self.refuse_in_sample().await?;
        let report = self.profile.disconnect(args.mode, REVOKE_TIMEOUT).await;
        self.observe(&report);
        let report = report?;
        tracing::info!(
            mode = report.mode.as_str(),
            was_connect = report.was_connect,
            renewing = report.renewing_subscriptions,
            revoked = report.revoked_now,
            "disconnected"
        );
        self.reload_relay().await?;
        self.changed().await
    }

    /// The account's readiness: the mirror's, or Stripe's now when `refresh` (online only).
    pub async fn account_status(
        &self,
        args: AccountStatusArgs,
    ) -> IpcResult<Option<AccountStatus>> {
        let profile = self.active_profile().await;
        if args.refresh {
            if self.sample_open().await && args.mode.is_live() {
                return Err(sample_is_test_only());
            }
            let fetched = profile.refresh_account(args.mode).await;
            self.observe(&fetched);
            let fetched = fetched?;
            self.changed().await?;
            return Ok(Some(fetched));
        }
        Ok(profile.account_status(args.mode).await?)
    }

    /// Set (or with null, clear) the Connect service address sign-ins go through.
    pub async fn set_connect_service(
        &self,
        args: ConnectServiceArgs,
    ) -> IpcResult<ConnectionStatus> {
        self.profile
            .set_connect_service(args.url.as_deref())
            .await?;
        self.changed().await
    }

    pub(crate) async fn refuse_in_sample(&self) -> IpcResult<()> {
        if self.sample_open().await {
            return Err(IpcError::new(
                ErrorCode::Refused,
                "The sample store is open. Close it (Payment Gateways → Leave the sample store) before connecting your own Stripe account.",
            ));
        }
        Ok(())
    }
}

pub(crate) fn sample_is_test_only() -> IpcError {
    IpcError::new(
        ErrorCode::NotConnected,
        "The sample store acts in test mode only. Switch to test mode to try refunds and account status.",
    )
}
