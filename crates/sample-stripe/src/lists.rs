//! Lists of one object's children, as Stripe pages them: a Checkout Session's line items
//! (`GET /v1/checkout/sessions/{id}/line_items`), a charge's or PaymentIntent's refunds
//! (`GET /v1/refunds?charge=…`) and disputes (`GET /v1/disputes?charge=…`).
//!
//! Invariants: parameters are those Stripe's API reference lists for each endpoint (others
//! are a 400 naming the parameter); `limit` is 1..=100 (default 10); `starting_after` and
//! `ending_before` exclude each other and must name an item of the list; refunds and disputes
//! list newest first, line items in the session's order; an object of the other mode does
//! not exist for the key.

use serde_json::{Value, json};

use crate::Ledger;
use crate::params::{ApiError, Params};
use crate::wire::{Reply, ok};

fn limit(p: &Params) -> Result<usize, ApiError> {
    let limit = p.int("limit")?.unwrap_or(10);
    if !(1..=100).contains(&limit) {
        return Err(ApiError::invalid(
            "Invalid limit: must be between 1 and 100",
            "limit",
        ));
    }
    Ok(limit as usize)
}

/// One page of `items` (already in list order) for the cursor parameters in `p`, as Stripe's
/// list object: `limit` 1..=100 (default 10), `starting_after` xor `ending_before` naming an
/// item (`what` names its kind in the 404), `has_more`.
pub fn page(items: &[Value], p: &Params, what: &str, url: &str) -> Result<Reply, ApiError> {
    let n = limit(p)?;
    if p.str("starting_after").is_some() && p.str("ending_before").is_some() {
        return Err(ApiError::invalid(
            "You may only specify one of these parameters: ending_before, starting_after.",
            "ending_before",
        ));
    }
    let position = |param: &str, id: &str| {
        items
            .iter()
            .position(|i| i["id"] == id)
            .ok_or_else(|| ApiError::missing(id, what, param))
    };
    let (data, has_more): (Vec<Value>, bool) = if let Some(id) = p.str("starting_after") {
        let rest = &items[position("starting_after", id)? + 1..];
        (rest.iter().take(n).cloned().collect(), rest.len() > n)
    } else if let Some(id) = p.str("ending_before") {
        let before = &items[..position("ending_before", id)?];
        let from = before.len().saturating_sub(n);
        (before[from..].to_vec(), from > 0)
    } else {
        (items.iter().take(n).cloned().collect(), items.len() > n)
    };
    ok(json!({"object": "list", "url": url, "has_more": has_more, "data": data}))
}

impl Ledger {
    /// `GET /v1/checkout/sessions/{id}/line_items` for a key of mode `livemode`.
    pub fn list_line_items(
        &self,
        session_id: &str,
        livemode: bool,
        p: &Params,
    ) -> Result<Reply, ApiError> {
        p.only(&["limit", "starting_after", "ending_before", "expand"])?;
        let session = match self.objects.get(session_id) {
            Some(s) if s["object"] == "checkout.session" && s["livemode"] == livemode => s,
            _ => return Err(ApiError::missing(session_id, "checkout.session", "session")),
        };
        let items = fluxstore_samples::shop::line_items_of_session(session);
        page(
            &items,
            p,
            "item",
            &format!("/v1/checkout/sessions/{session_id}/line_items"),
        )
    }

    /// `GET /v1/refunds` or `GET /v1/disputes` (`what`: `refund` | `dispute`) for a key of
    /// mode `livemode`, optionally of one `charge` or `payment_intent`.
    pub fn list_children(&self, what: &str, livemode: bool, p: &Params) -> Result<Reply, ApiError> {
        p.only(&[
            "charge",
            "payment_intent",
            "created",
            "limit",
            "starting_after",
            "ending_before",
            "expand",
        ])?;
        let mut items: Vec<Value> = self
            .objects
            .values()
            .filter(|o| o["object"] == what)
            // A refund carries no `livemode` of its own here: its charge's mode is its mode.
            .filter(|o| {
                let charge = o["charge"].as_str().and_then(|c| self.objects.get(c));
                charge.map_or(o["livemode"] == livemode, |c| c["livemode"] == livemode)
            })
            .filter(|o| p.str("charge").is_none_or(|c| o["charge"] == c))
            .filter(|o| {
                p.str("payment_intent")
                    .is_none_or(|pi| o["payment_intent"] == pi)
            })
            .cloned()
            .collect();
        items.sort_by(|a, b| {
            (b["created"].as_i64(), b["id"].as_str())
                .cmp(&(a["created"].as_i64(), a["id"].as_str()))
        });
        page(&items, p, what, &format!("/v1/{what}s"))
    }
}
