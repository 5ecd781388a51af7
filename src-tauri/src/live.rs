//! The live feed through the FluxStore hub, for Payment Gateways: each mode's state (live
//! through the hub, polling, off) with the last doorbell and its delay, the hub's address, and
//! "Sync now". Adapters over the gateway's feed ([`fluxstore_gateway::profile::Feed`]).
//!
//! Invariant: the sample store has no live feed (it is fed by its stand-in, never by the hub),
//! so while it is open both modes read as off, with that reason.
use fluxstore_gateway::profile::{HubFeedStatus, KeyHubChange, KeyHubStatus};
use fluxstore_mirror::Mode;

use crate::dto::{HubArgs, KeyHubArgs};
use crate::error::{ErrorCode, IpcError, IpcResult};
use crate::state::AppState;

const SAMPLE_NO_FEED: &str =
    "The sample store has no live feed: its events come from its own stand-in for Stripe.";

impl AppState {
    /// Each mode's live feed.
    pub async fn hub_feed(&self) -> IpcResult<Vec<HubFeedStatus>> {
        if self.sample_open().await {
            return Ok([Mode::Test, Mode::Live]
                .into_iter()
                .map(|mode| HubFeedStatus {
                    detail: SAMPLE_NO_FEED.to_owned(),
                    ..HubFeedStatus::off(mode)
                })
                .collect());
        }
        Ok(self.hub_feed_status().await)
    }

    /// Set (or with null, clear) the hub's address; each mode's feed looks again at once.
    pub async fn set_hub(&self, args: HubArgs) -> IpcResult<Vec<HubFeedStatus>> {
        self.profile.set_hub(args.url.as_deref()).await?;
        self.wake_feed().await;
        self.hub_feed().await
    }

    /// Whether each mode's API keys get live updates through the hub (off in the sample store).
    pub async fn key_hub(&self) -> IpcResult<Vec<KeyHubStatus>> {
        let mut out = Vec::new();
        for mode in [Mode::Test, Mode::Live] {
            out.push(if self.sample_open().await {
                KeyHubStatus {
                    mode,
                    on: false,
                    hub: None,
                    store_id: None,
                    endpoint_id: None,
                }
            } else {
                self.profile.key_hub(mode).await?
            });
        }
        Ok(out)
    }

    /// Turn live updates through the hub on or off for a mode connected with API keys; the
    /// mode's feed looks again at once (it follows the store's feed, or stops).
    pub async fn set_key_hub(&self, args: KeyHubArgs) -> IpcResult<KeyHubChange> {
        if self.sample_open().await {
            return Err(IpcError::new(ErrorCode::Refused, SAMPLE_NO_FEED));
        }
        let change = self.profile.set_key_hub(args.mode, args.on).await?;
        self.wake_feed().await;
        Ok(change)
    }

    /// "Sync now": read Stripe's events for every connected mode now, and let a feed that is
    /// waiting to reconnect try again at once. Answers the feeds' state as it is now; the
    /// events arrive as `event_applied`, the runs as `sync_progress`.
    pub async fn sync_now(&self) -> IpcResult<Vec<HubFeedStatus>> {
        self.wake_feed().await;
        self.hub_feed().await
    }
}
