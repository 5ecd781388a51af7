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
