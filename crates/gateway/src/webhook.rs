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

/// Which keyring entries an endpoint's signing secret is kept in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeepSecret {
    /// Under the endpoint id and as the mode's current secret (the relay verifies with it).
    AsCurrent,
    /// Under the endpoint id only: the endpoint delivers elsewhere (the FluxStore hub), so
    /// the relay's current secret stays as it was.
    ForEndpointOnly,
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
        self.create_webhook_endpoint_keeping(url, store, account, KeepSecret::AsCurrent)
            .await
    }

    /// [`StripeClient::create_webhook_endpoint`], its secret kept as `keep` says.
    pub async fn create_webhook_endpoint_keeping(
        &self,
        url: &str,
        store: &SecretStore,
        account: &str,
        keep: KeepSecret,
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
        let as_current = keep == KeepSecret::AsCurrent;
        let (s, st, a, b) = (
            secret.secret().clone(),
            store.clone(),
            by_endpoint.clone(),
            current.clone(),
        );
        tokio::task::spawn_blocking(move || -> Result<(), GatewayError> {
            st.put(&a, &s)?;
            if as_current {
                st.put(&b, &s)?;
            }
            Ok(())
        })
        .await
        .map_err(|e| GatewayError::UnexpectedResponse(format!("keyring task: {e}")))??;
        {
            let mut m = self.lock_mirror();
            record_presence(&mut m, store, &by_endpoint, true)?;
            if as_current {
                record_presence(&mut m, store, &current, true)?;
            }
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
            enabled_events: enabled_events(&v),
            secret_entry: by_endpoint.user(),
        })
    }
}

impl StripeClient {
    /// `DELETE /v1/webhook_endpoints/{id}`: Stripe stops delivering to that endpoint. An
    /// endpoint already gone (404) counts as deleted.
    pub async fn delete_webhook_endpoint(&self, id: &str) -> Result<(), GatewayError> {
        if id.is_empty() || !id.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return Err(GatewayError::invalid("That is not a webhook endpoint id."));
        }
        match self
            .send(Call::delete(format!("/v1/webhook_endpoints/{id}")).object(id))
            .await
        {
            Ok(_) | Err(GatewayError::NotFound { .. }) => Ok(()),
            Err(e) => Err(e),
        }
    }
}

/// One endpoint as `GET /v1/webhook_endpoints` lists it (Stripe returns the signing secret
/// only when an endpoint is created, so a listed one has none).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ListedEndpoint {
    pub id: String,
    pub url: String,
    /// `enabled` or `disabled` (open: kept as Stripe wrote it).
    pub status: String,
    pub enabled_events: Vec<String>,
}

/// At most this many pages of endpoints are read (Stripe allows 16 endpoints per account).
const MAX_ENDPOINT_PAGES: usize = 5;

impl StripeClient {
    /// `GET /v1/webhook_endpoints`: every endpoint of this mode's account, newest first.
    pub async fn webhook_endpoints(&self) -> Result<Vec<ListedEndpoint>, GatewayError> {
        let mut out = Vec::new();
        let mut after: Option<String> = None;
        for _ in 0..MAX_ENDPOINT_PAGES {
            let mut path = "/v1/webhook_endpoints?limit=100".to_owned();
            if let Some(id) = &after {
                path.push_str("&starting_after=");
                path.push_str(id);
            }
            let page = self.send(Call::get(path)).await?;
            let data = page
                .get("data")
                .and_then(Value::as_array)
                .ok_or_else(|| GatewayError::UnexpectedResponse("the list has no data".into()))?;
            for e in data {
                let text = |k: &str| e.get(k).and_then(Value::as_str).unwrap_or("").to_owned();
                out.push(ListedEndpoint {
                    id: text("id"),
                    url: text("url"),
                    status: text("status"),
                    enabled_events: enabled_events(e),
                });
            }
            let more = page.get("has_more").and_then(Value::as_bool) == Some(true);
            match (more, out.last()) {
                (true, Some(last)) if !last.id.is_empty() => after = Some(last.id.clone()),
                _ => break,
            }
        }
        Ok(out)
    }
}

/// Whether Stripe will deliver the 12 events to this store, from the account's endpoints.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct WebhookCheck {
    pub mode: fluxstore_mirror::Mode,
    /// An enabled endpoint at the app's (or the hub's) address sends all 12 events.
    pub ok: bool,
    /// The endpoint judged (the best one at the app's or the hub's address), if any.
    pub endpoint_id: Option<String>,
    pub url: Option<String>,
    /// That endpoint is disabled in Stripe.
    pub disabled: bool,
    /// Which of the 12 events that endpoint does not send.
    pub missing_events: Vec<String>,
    /// How many endpoints the account has in this mode.
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub endpoints: u32,
    /// What the check found and what to do, in the owner's words.
    pub message: String,
}

/// Judge `endpoints` of `mode`: the one at an address FluxStore receives on (a path ending
/// in [`fluxstore_mirror::facts::WEBHOOK_PATH`], or on one of `hub_hosts`), enabled, with the
/// 12 events.
pub fn check_endpoints(
    mode: fluxstore_mirror::Mode,
    endpoints: &[ListedEndpoint],
    hub_hosts: &[String],
) -> WebhookCheck {
    let ours = |e: &&ListedEndpoint| {
        // The relay's path on any host (a tunnel, a proxy), or anything on the hub's host.
        url::Url::parse(&e.url).is_ok_and(|u| {
            u.path()
                .trim_end_matches('/')
                .ends_with(fluxstore_mirror::facts::WEBHOOK_PATH)
                || hub_hosts.iter().any(|h| u.host_str() == Some(h.as_str()))
        })
    };
    let missing = |e: &ListedEndpoint| -> Vec<String> {
        if e.enabled_events.iter().any(|t| t == "*") {
            return Vec::new();
        }
        WEBHOOK_EVENTS
            .iter()
            .map(|w| w.event_type)
            .filter(|t| !e.enabled_events.iter().any(|have| have == t))
            .map(str::to_owned)
            .collect()
    };
    // The best candidate: enabled first, then the fewest missing events.
    let best = endpoints
        .iter()
        .filter(ours)
        .min_by_key(|e| (e.status != "enabled", missing(e).len()));
    let mut check = WebhookCheck {
        mode,
        ok: false,
        endpoint_id: best.map(|e| e.id.clone()),
        url: best.map(|e| e.url.clone()),
        disabled: best.is_some_and(|e| e.status != "enabled"),
        missing_events: best.map(missing).unwrap_or_default(),
        endpoints: endpoints.len() as u32,
        message: String::new(),
    };
    let mode_word = mode.as_str();
    check.message = match best {
        None if endpoints.is_empty() => format!(
            "Your {mode_word} Stripe account has no webhook endpoint. Add one whose address ends in {} with the 12 events, or let FluxStore create it.",
            fluxstore_mirror::facts::WEBHOOK_PATH
        ),
        None => format!(
            "None of the {} webhook endpoints of your {mode_word} Stripe account points at FluxStore (an address ending in {}). Add one with the 12 events.",
            endpoints.len(),
            fluxstore_mirror::facts::WEBHOOK_PATH
        ),
        Some(e) if check.disabled => format!(
            "The webhook endpoint {} is disabled in Stripe, so nothing is delivered. Enable it in the Stripe Dashboard (Developers → Webhooks).",
            e.url
        ),
        Some(e) if !check.missing_events.is_empty() => format!(
            "The webhook endpoint {} does not send {}. Add {} to it in the Stripe Dashboard.",
            e.url,
            check.missing_events.join(", "),
            if check.missing_events.len() == 1 {
                "this event"
            } else {
                "these events"
            }
        ),
        Some(e) => {
            check.ok = true;
            format!(
                "Stripe sends all 12 events to {}, and the endpoint is enabled.",
                e.url
            )
        }
    };
    check
}

/// A webhook endpoint object's `enabled_events` (empty when absent).
fn enabled_events(endpoint: &Value) -> Vec<String> {
    endpoint
        .get("enabled_events")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use fluxstore_mirror::Mode;

    fn endpoint(url: &str, status: &str, events: &[&str]) -> ListedEndpoint {
        ListedEndpoint {
            id: format!("we_{}", url.len()),
            url: url.to_owned(),
            status: status.to_owned(),
            enabled_events: events.iter().map(|s| (*s).to_owned()).collect(),
        }
    }

    fn all_twelve() -> Vec<&'static str> {
        WEBHOOK_EVENTS.iter().map(|e| e.event_type).collect()
    }

    #[test]
    fn an_enabled_endpoint_with_the_twelve_events_passes() {
        let c = check_endpoints(
            Mode::Test,
            &[endpoint(
                "https://shop.example/api/webhooks/stripe",
                "enabled",
                &all_twelve(),
            )],
            &[],
        );
        assert!(c.ok, "{c:?}");
        let star = check_endpoints(
            Mode::Live,
            &[endpoint(
                "https://hub.example/in/store_1",
                "enabled",
                &["*"],
            )],
            &["hub.example".to_owned()],
        );
        assert!(star.ok, "{star:?}");
    }

    #[test]
    fn a_missing_event_is_named() {
        let mut events = all_twelve();
        events.retain(|e| *e != "charge.dispute.closed");
        let c = check_endpoints(
            Mode::Test,
            &[endpoint(
                "https://shop.example/api/webhooks/stripe",
                "enabled",
                &events,
            )],
            &[],
        );
        assert!(!c.ok);
        assert_eq!(c.missing_events, vec!["charge.dispute.closed"]);
        assert!(
            c.message.contains("does not send charge.dispute.closed"),
            "{}",
            c.message
        );
    }

    #[test]
    fn disabled_elsewhere_and_none_say_so() {
        let c = check_endpoints(
            Mode::Test,
            &[endpoint(
                "https://shop.example/api/webhooks/stripe",
                "disabled",
                &["*"],
            )],
            &[],
        );
        assert!(
            !c.ok && c.disabled && c.message.contains("disabled"),
            "{c:?}"
        );
        let c = check_endpoints(
            Mode::Test,
            &[endpoint("https://other.example/hooks", "enabled", &["*"])],
            &[],
        );
        assert!(!c.ok && c.endpoint_id.is_none());
        assert!(
            c.message.contains("None of the 1 webhook endpoints"),
            "{}",
            c.message
        );
        let c = check_endpoints(Mode::Live, &[], &[]);
        assert!(
            c.message
                .contains("live Stripe account has no webhook endpoint")
        );
    }
}
