//! The account status, fetched and mirrored in one step.
//!
//! Invariant: every successful `GET /v1/account` is recorded in the mirror as a synthetic
//! `account.updated` event with source `api` (`created` = the fetch time, `livemode` = the
//! client's mode, `data.object` = the account exactly as Stripe returned it), through the
//! mirror's one `ingest`. The mirror's account projection then folds fetched and delivered
//! statuses alike (the newest by `(created, id)` wins), so the app reads the status offline,
//! and an `account.updated` from a webhook, the feed or the events sync moves it on.
//!
//! The event id derives from the account id, the mode and the fetch time, so recording one
//! fetch twice is a duplicate while the two modes' fetches of one second stay two events. It sorts before Stripe's own event ids (`evt_1…`, `evt_3…`): in a tie on
//! `created`, the delivered event wins, since it certainly follows the change it reports and
//! a fetch in the same second may not.

use fluxstore_mirror::{IngestOutcome, Mode, Source};
use serde_json::{Value, json};

use crate::api::AccountStatus;
use crate::client::{Call, STRIPE_VERSION, StripeClient, unix_now};
use crate::error::GatewayError;

/// What one [`StripeClient::refresh_account`] fetched and how the mirror took it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountRefresh {
    pub status: AccountStatus,
    /// The fetch time, the `created` of the recorded event.
    pub fetched_at: i64,
    /// What the mirror made of the synthetic `account.updated`.
    pub recorded: IngestOutcome,
}

/// The id of the synthetic event recording a fetch of `account_id` in `mode` at `fetched_at`.
pub fn synthetic_account_event_id(account_id: &str, mode: Mode, fetched_at: i64) -> String {
    format!(
        "evt_0fluxstore_api_{account_id}_{}_{fetched_at}",
        mode.as_str()
    )
}

/// An `account.updated` event carrying `account` as `GET /v1/account` returned it.
/// `connected`: the connected account the client acts for (`Stripe-Account`, or the account
/// of a Connect token), named in the event's `account` as Stripe does for Connect events.
pub fn synthetic_account_updated(
    account: &Value,
    fetched_at: i64,
    livemode: bool,
    connected: Option<&str>,
) -> Result<Value, GatewayError> {
    let id = account
        .get("id")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .ok_or_else(|| GatewayError::UnexpectedResponse("the account has no id".to_owned()))?;
    Ok(json!({
        "id": synthetic_account_event_id(id, Mode::from_livemode(livemode), fetched_at),
        "object": "event",
        "type": "account.updated",
        "api_version": STRIPE_VERSION,
        "created": fetched_at,
        "livemode": livemode,
        "account": connected,
        "pending_webhooks": 0,
        "request": {"id": null, "idempotency_key": null},
        "data": {"object": account},
    }))
}

impl StripeClient {
    /// `GET /v1/account`, then record the account in the mirror (see the module docs).
    /// A failure to record is returned: the status the app shows comes from the mirror.
    pub async fn refresh_account(&self) -> Result<AccountRefresh, GatewayError> {
        let v = self.send(Call::get("/v1/account")).await?;
        let status = AccountStatus::from_json(&v)?;
        let fetched_at = unix_now();
        let connected = self
            .config()
            .stripe_account
            .clone()
            .or_else(|| self.is_connect_token().then(|| status.id.clone()));
        let event =
            synthetic_account_updated(&v, fetched_at, self.mode().is_live(), connected.as_deref())?;
        let raw = serde_json::to_vec(&event)
            .map_err(|e| GatewayError::UnexpectedResponse(e.to_string()))?;
        let recorded = self.lock_mirror().ingest(&raw, Source::Api)?;
        Ok(AccountRefresh {
            status,
            fetched_at,
            recorded,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_synthetic_event_is_the_account_as_returned_and_sorts_before_stripes_ids() {
        let acct = json!({"id": "acct_1A", "object": "account", "charges_enabled": true,
            "future_field": {"kept": true}});
        let e = synthetic_account_updated(&acct, 1_750_000_000, true, Some("acct_1A")).unwrap();
        assert_eq!(e["type"], "account.updated");
        assert_eq!(e["created"], 1_750_000_000);
        assert_eq!(e["livemode"], true);
        assert_eq!(e["account"], "acct_1A");
        assert_eq!(
            e["data"]["object"], acct,
            "verbatim, unknown fields included"
        );
        assert_eq!(
            e["id"],
            synthetic_account_event_id("acct_1A", Mode::Live, 1_750_000_000),
            "deterministic"
        );
        let test = synthetic_account_updated(&acct, 1_750_000_000, false, None).unwrap();
        assert_ne!(e["id"], test["id"], "the two modes' fetches are two events");
        let id = e["id"].as_str().unwrap();
        // Stripe's event ids start with a digit of 1 or more (e.g. `evt_1NG8Du2e…`).
        assert!(id < "evt_1");
        let own = synthetic_account_updated(&acct, 1, false, None).unwrap();
        assert!(own["account"].is_null());
        assert!(synthetic_account_updated(&json!({"object": "account"}), 1, false, None).is_err());
    }
}
