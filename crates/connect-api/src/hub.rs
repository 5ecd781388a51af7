//! The hub's wire, declared once for both of its ends: the hosted hub (`fluxstore-hub`) and
//! the desktop's feed client.
//!
//! - `POST` [`STORES_PATH`] registers a key-mode store: a [`StoreRegistration`];
//! - `POST` [`STORE_WEBHOOK_PREFIX`]`{store_key}` is that store's endpoint, registered in the
//!   owner's own Stripe account;
//! - `GET` [`FEED_PATH`] with a Bearer token (the store's feed token, or a Connect access
//!   token) is a Server-Sent Events stream: each doorbell is `id: <cursor>` with one
//!   [`Doorbell`] as JSON in `data:`; `event:` [`RESYNC_EVENT`] with a [`Resync`] says the
//!   feed can no longer give every doorbell after the cursor the desktop resumed from
//!   (`Last-Event-ID`), so the desktop runs a full events sync.

use serde::{Deserialize, Serialize};

use crate::WireSecret;

/// Where a key-mode store is registered.
pub const STORES_PATH: &str = "/v1/stores";
/// A key-mode store's webhook endpoint: this prefix, then its store key.
pub const STORE_WEBHOOK_PREFIX: &str = "/api/webhooks/stripe/s/";
/// The desktops' live feed.
pub const FEED_PATH: &str = "/v1/feed";
/// The SSE event name of a resync.
pub const RESYNC_EVENT: &str = "resync";

/// One doorbell on the feed: which event to fetch from Stripe, never the event itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Doorbell {
    /// The feed's cursor (also the SSE `id`): resume after it with `Last-Event-ID`.
    pub cursor: i64,
    pub event_id: String,
    #[serde(rename = "type")]
    pub event_type: String,
    /// The event's own `created` (unix seconds).
    pub created: i64,
    pub livemode: bool,
    /// The connected account (a Connect feed); absent on a key-mode store's feed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account: Option<String>,
    /// The key-mode store's public id; absent on a Connect feed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub store: Option<String>,
    /// When the hub received the webhook (unix seconds): the doorbell's delay is measured
    /// from here.
    pub received: i64,
}

/// The data of a resync event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Resync {
    /// The newest cursor: the feed goes on from here.
    pub cursor: i64,
    pub reason: String,
}

/// The answer to a store registration. The key and the token are shown only here; the hub
/// keeps their hashes. No `Debug`: the webhook URL carries the store key.
#[derive(Clone, Serialize, Deserialize)]
pub struct StoreRegistration {
    /// The store's public id (a feed's `store`).
    pub store_id: String,
    /// The last segment of the webhook URL.
    pub store_key: WireSecret,
    /// The Bearer token of the store's feed.
    pub feed_token: WireSecret,
    /// The full address to register as the webhook endpoint in the store's Stripe account.
    pub webhook_url: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_doorbell_names_either_its_account_or_its_store() {
        let d = Doorbell {
            cursor: 7,
            event_id: "evt_1".into(),
            event_type: "invoice.paid".into(),
            created: 1,
            livemode: false,
            account: Some("acct_1".into()),
            store: None,
            received: 2,
        };
        let json = serde_json::to_value(&d).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"cursor": 7, "event_id": "evt_1", "type": "invoice.paid",
                "created": 1, "livemode": false, "account": "acct_1", "received": 2})
        );
        assert_eq!(serde_json::from_value::<Doorbell>(json).unwrap(), d);
    }

    #[test]
    fn a_registration_prints_no_token() {
        let r = StoreRegistration {
            store_id: "st_1".into(),
            store_key: WireSecret::new("hsk_secretkey"),
            feed_token: WireSecret::new("hft_secrettoken"),
            webhook_url: "https://hub/api/webhooks/stripe/s/hsk_secretkey".into(),
        };
        let debug = format!("{:?}", r.feed_token);
        assert!(!debug.contains("hft_secrettoken"));
        let json = serde_json::to_value(&r).unwrap();
        assert_eq!(json["feed_token"], "hft_secrettoken");
    }
}
