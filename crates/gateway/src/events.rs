//! `GET /v1/events` with Stripe's list paging.

use serde_json::Value;

use crate::client::{Call, StripeClient};
use crate::error::GatewayError;
use crate::form::Form;

/// Stripe's cap on `limit`.
pub const MAX_PAGE: u32 = 100;
/// Stripe's cap on `types[]`.
pub const MAX_TYPES: usize = 20;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EventsQuery {
    pub types: Vec<String>,
    /// 1..=100 (clamped).
    pub limit: u32,
    /// Newer than this event (paging forward).
    pub ending_before: Option<String>,
    /// Older than this event (paging backward).
    pub starting_after: Option<String>,
    pub created_gt: Option<i64>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct EventPage {
    /// Newest first, as Stripe lists them; each is the full event JSON.
    pub data: Vec<Value>,
    pub has_more: bool,
}

impl StripeClient {
    pub async fn list_events(&self, q: &EventsQuery) -> Result<EventPage, GatewayError> {
        if q.types.len() > MAX_TYPES {
            return Err(GatewayError::invalid(format!(
                "At most {MAX_TYPES} event types can be asked for at once."
            )));
        }
        let mut query = Form::new();
        query.push("limit", q.limit.clamp(1, MAX_PAGE));
        query.push_list("types", &q.types);
        query.push_opt("ending_before", q.ending_before.as_deref());
        query.push_opt("starting_after", q.starting_after.as_deref());
        if let Some(t) = q.created_gt {
            query.push_nested("created", "gt", t);
        }
        let mut call = Call::get("/v1/events");
        call.query = query;
        let v = self.send(call).await?;
        let data = v
            .get("data")
            .and_then(Value::as_array)
            .cloned()
            .ok_or_else(|| {
                GatewayError::UnexpectedResponse("the event list has no data".to_owned())
            })?;
        let has_more = v.get("has_more").and_then(Value::as_bool).unwrap_or(false);
        Ok(EventPage { data, has_more })
    }
}

/// Whether `id` can be an event id (`evt_` then letters, digits, `_`): an id from an
/// unverified source (a hub's doorbell) is checked before it becomes part of a URL.
pub fn is_event_id(id: &str) -> bool {
    id.len() > 4
        && id.len() <= 255
        && id.starts_with("evt_")
        && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

impl StripeClient {
    /// `GET /v1/events/{id}`: one event, as Stripe keeps it (30 days). An id Stripe does not
    /// have for this credential is [`GatewayError::NotFound`].
    pub async fn retrieve_event(&self, id: &str) -> Result<Value, GatewayError> {
        if !is_event_id(id) {
            return Err(GatewayError::invalid(
                "An event id starts with evt_ and has only letters, digits and underscores.",
            ));
        }
        let v = self
            .send(Call::get(format!("/v1/events/{id}")).object(id))
            .await?;
        if v.get("object").and_then(Value::as_str) != Some("event")
            || v.get("id").and_then(Value::as_str) != Some(id)
        {
            return Err(GatewayError::UnexpectedResponse(
                "Stripe answered with something other than the event asked for".to_owned(),
            ));
        }
        Ok(v)
    }
}
