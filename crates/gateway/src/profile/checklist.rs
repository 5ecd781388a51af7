//! What the onboarding checklist reads from the profile: the mirror's facts counted from
//! the time each mode was connected, and, in key mode, whether Stripe's webhook endpoint
//! sends the 12 events to FluxStore.
//!
//! Invariant: a paid order proves a mode works only when it was created after that mode was
//! connected; the history the first sync pulls (up to 30 days) never ticks a step.
use fluxstore_mirror::{ChecklistFacts, Mode};

use super::settings::Setting;
use super::{Profile, ProfileError};
use crate::webhook::{WebhookCheck, check_endpoints};

impl Profile {
    /// The checklist's facts, counting paid orders from when each mode was connected.
    pub async fn checklist_facts(&self) -> Result<ChecklistFacts, ProfileError> {
        self.read(|m| {
            let test = Setting::connected_since(m, Mode::Test)?;
            let live = Setting::connected_since(m, Mode::Live)?;
            m.checklist_facts_since(test, live)
        })
        .await
    }

    /// Read the webhook endpoints of `mode`'s account from Stripe and judge them: an enabled
    /// endpoint at the app's address (or the hub's) with all 12 events, or what is missing.
    pub async fn check_webhook_endpoint(&self, mode: Mode) -> Result<WebhookCheck, ProfileError> {
        let client = self.client(mode).await?;
        let endpoints = client.webhook_endpoints().await?;
        // The hub this mode follows (where a key-mode store is registered) and the Connect
        // service (the hub of a Connect platform) both receive for FluxStore.
        let hubs = [self.hub(mode).await?.url, self.connect_service().await?.url];
        let mut hosts: Vec<String> = hubs
            .iter()
            .filter_map(|u| url::Url::parse(u).ok()?.host_str().map(str::to_owned))
            .collect();
        hosts.dedup();
        Ok(check_endpoints(mode, &endpoints, &hosts))
    }
}
