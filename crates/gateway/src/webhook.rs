//! Creating the webhook endpoint through the API, secret straight into the keyring.
//!
//! Invariant: the `whsec_` Stripe returns (only in the create response) goes from the
//! response into the OS keyring and nowhere else; the returned [`WebhookEndpoint`] has no
//! secret in it.

use fluxstore_mirror::facts::subscribed_event_types;
use serde::Serialize;
use serde_json::Value;

use crate::client::{Call, STRIPE_VERSION, StripeClient};
use crate::error::GatewayError;
use crate::form::Form;
use crate::keys::WebhookSecret;
use crate::keystore::{SecretKind, SecretSlot, SecretStore, record_presence};

/// The 12 events of the product page (R8), and the extras the endpoint FluxStore creates
/// also asks for; declared once in the mirror's facts.
pub use fluxstore_mirror::facts::{EXTRA_WEBHOOK_EVENTS, WEBHOOK_EVENTS};

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WebhookEndpoint {
    pub id: String,
    pub url: String,
    pub status: Option<String>,
    pub api_version: Option<String>,
    pub enabled_events: Vec<String>,
    /// Where the signing secret was stored (the keyring entry's user name).
    pub secret_entry: String,
}

impl StripeClient {
    /// `POST /v1/webhook_endpoints` for `url` with the 14 events and the pinned version; the
    /// returned signing secret is stored for (`account`, this mode) under the endpoint id and
    /// as the mode's current webhook secret.
    pub async fn create_webhook_endpoint(
        &self,
        url: &str,
        store: &SecretStore,
        account: &str,
    ) -> Result<WebhookEndpoint, GatewayError> {
        let parsed = url::Url::parse(url.trim()).map_err(|_| {
            GatewayError::invalid("The webhook URL is not a valid web address (https://…).")
        })?;
        let mut body = Form::new();
        body.push("url", parsed.as_str())
            .push_list("enabled_events", subscribed_event_types())
            .push("api_version", STRIPE_VERSION)
            .push("description", "FluxStore Desktop");
        let v = self
            .send(Call::post("/v1/webhook_endpoints", body, None))
            .await?;
        let id = v
            .get("id")
            .and_then(Value::as_str)
            .ok_or_else(|| GatewayError::UnexpectedResponse("the endpoint has no id".to_owned()))?
            .to_owned();
        let secret_text = v.get("secret").and_then(Value::as_str).ok_or_else(|| {
            GatewayError::UnexpectedResponse("Stripe returned no signing secret".to_owned())
        })?;
        let secret = WebhookSecret::parse(secret_text)?;
        let by_endpoint =
            SecretSlot::new(account, self.mode(), SecretKind::WebhookSecret).with_label(&id);
        let current = SecretSlot::new(account, self.mode(), SecretKind::WebhookSecret);
        let (s, st, a, b) = (
            secret.secret().clone(),
            store.clone(),
            by_endpoint.clone(),
            current.clone(),
        );
        tokio::task::spawn_blocking(move || -> Result<(), GatewayError> {
            st.put(&a, &s)?;
            st.put(&b, &s)?;
            Ok(())
        })
        .await
        .map_err(|e| GatewayError::UnexpectedResponse(format!("keyring task: {e}")))??;
        {
            let mut m = self.lock_mirror();
            record_presence(&mut m, store, &by_endpoint, true)?;
            record_presence(&mut m, store, &current, true)?;
        }
        Ok(WebhookEndpoint {
            id,
            url: v
                .get("url")
                .and_then(Value::as_str)
                .unwrap_or(parsed.as_str())
                .to_owned(),
            status: v.get("status").and_then(Value::as_str).map(str::to_owned),
            api_version: v
                .get("api_version")
                .and_then(Value::as_str)
                .map(str::to_owned),
            enabled_events: v
                .get("enabled_events")
                .and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .filter_map(Value::as_str)
                        .map(str::to_owned)
                        .collect()
                })
                .unwrap_or_default(),
            secret_entry: by_endpoint.user(),
        })
    }
}
