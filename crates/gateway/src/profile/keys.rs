//! Manual keys (product page R7–R9): the API key and publishable key of a mode, the webhook
//! signing secret(s), and the webhook endpoint created with the owner's key.
//!
//! Invariants: a key reaches the keyring only after it passed validation and, when Stripe can
//! be reached, after Stripe accepted it (offline it is kept on its format alone and checked at
//! the next refresh); the mirror records only that it exists, where, and its kind.
use fluxstore_mirror::Mode;
use serde::Serialize;

use super::settings::Setting;
use super::status::ConnectionMethod;
use super::{Profile, ProfileError};
use crate::error::GatewayError;
use crate::keys::{ManualKeys, WebhookSecret};
use crate::keystore::{SecretKind, record_presence};
use crate::secret::Secret;
use crate::webhook::WebhookEndpoint;
use crate::{Credential, StripeClient};

/// What saving keys did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SavedKeys {
    pub mode: Mode,
    pub restricted: bool,
    pub webhook_secret: bool,
    pub publishable_key: bool,
    /// Whether Stripe was asked (false: offline, kept on the format alone).
    pub verified: bool,
    /// The keyring's name.
    pub stored_in: String,
}

impl Profile {
    /// Validate and keep the owner's keys for their mode (the keys say which). Stripe is asked
    /// first, so a wrong or revoked key is refused before it is kept; its answer is also the
    /// account's first status.
    pub async fn save_keys(&self, keys: ManualKeys) -> Result<SavedKeys, ProfileError> {
        let mode = keys.mode();
        let keyring = self.keyring()?.clone();
        let client = StripeClient::new(
            self.client_config()?,
            Credential::ApiKey(keys.api_key.clone()),
            self.mirror.clone(),
        )?;
        let verified = match client.refresh_account().await {
            Ok(fetched) => {
                let id = fetched.status.id.clone();
                self.write(move |m| Setting::AccountId(mode).set(m, Some(&id)))
                    .await?;
                true
            }
            Err(GatewayError::Offline | GatewayError::Timeout) => false,
            Err(e) => return Err(e.into()),
        };
        let key_slot = self.slot(mode, SecretKind::ApiKey);
        let hook_slot = self.slot(mode, SecretKind::WebhookSecret);
        let key: Secret = keys.api_key.secret().clone();
        let hook: Option<Secret> = keys.webhook_secret.as_ref().map(|w| w.secret().clone());
        let (k1, h1, hook_put) = (key_slot.clone(), hook_slot.clone(), hook.clone());
        self.with_keyring(move |k| {
            k.put(&k1, &key)?;
            if let Some(h) = &hook_put {
                k.put(&h1, h)?;
            }
            Ok(())
        })
        .await?;
        let publishable = keys.publishable.as_ref().map(|p| p.as_str().to_owned());
        let restricted = keys.api_key.is_restricted();
        let with_hook = hook.is_some();
        let store = keyring.clone();
        self.write(move |m| {
            record_presence(m, &store, &key_slot, true)?;
            if with_hook {
                record_presence(m, &store, &hook_slot, true)?;
            }
            if publishable.is_some() {
                Setting::PublishableKey(mode).set(m, publishable.as_deref())?;
            }
            Setting::KeyKind(mode)
                .set(m, Some(if restricted { "restricted" } else { "secret" }))?;
            Setting::mark_connected_since(m, mode, super::unix_now())?;
            if Setting::Method.get(m)?.is_none() {
                Setting::Method.set(m, Some(ConnectionMethod::Keys.as_str()))?;
            }
            Setting::ActiveMode.set(m, Some(mode.as_str()))
        })
        .await?;
        Ok(SavedKeys {
            mode,
            restricted,
            webhook_secret: with_hook,
            publishable_key: keys.publishable.is_some(),
            verified,
            stored_in: keyring.backend().to_owned(),
        })
    }

    /// Keep a pasted webhook signing secret for `mode` (the relay picks it up from
    /// [`Profile::signing_secrets`]).
    pub async fn save_webhook_secret(
        &self,
        mode: Mode,
        secret: WebhookSecret,
    ) -> Result<(), ProfileError> {
        let keyring = self.keyring()?.clone();
        let slot = self.slot(mode, SecretKind::WebhookSecret);
        let (put_slot, value) = (slot.clone(), secret.secret().clone());
        self.with_keyring(move |k| k.put(&put_slot, &value)).await?;
        self.write(move |m| record_presence(m, &keyring, &slot, true))
            .await
    }

    /// Every webhook signing secret of the store, with the mode it belongs to.
    pub async fn signing_secrets(&self) -> Result<Vec<(Mode, Secret)>, ProfileError> {
        let slots = [Mode::Test, Mode::Live].map(|m| (m, self.slot(m, SecretKind::WebhookSecret)));
        self.with_keyring(move |k| {
            let mut out = Vec::new();
            for (mode, slot) in &slots {
                if let Some(secret) = k.get(slot)? {
                    out.push((*mode, secret));
                }
            }
            Ok(out)
        })
        .await
    }

    /// Create the Stripe webhook endpoint for `url` with the owner's `mode` credential; its
    /// signing secret goes straight into the keyring.
    pub async fn create_webhook_endpoint(
        &self,
        mode: Mode,
        url: &str,
    ) -> Result<WebhookEndpoint, ProfileError> {
        let client = self.client(mode).await?;
        let keyring = self.keyring()?.clone();
        Ok(client
            .create_webhook_endpoint(url, &keyring, self.store())
            .await?)
    }

    /// Remember the mode commands act in when none is named.
    pub async fn set_active_mode(&self, mode: Mode) -> Result<(), ProfileError> {
        self.write(move |m| Setting::ActiveMode.set(m, Some(mode.as_str())))
            .await
    }

    /// The mode commands act in when none is named: the last one keys were saved for, else test.
    pub async fn active_mode(&self) -> Result<Mode, ProfileError> {
        let chosen = self.read(|m| Setting::ActiveMode.get(m)).await?;
        Ok(if chosen.as_deref() == Some("live") {
            Mode::Live
        } else {
            Mode::Test
        })
    }
}
