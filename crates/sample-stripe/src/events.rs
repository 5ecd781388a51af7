//! `GET /v1/events`: Stripe's list pagination (limit 1..=100, newest first,
//! `starting_after` / `ending_before`, `has_more`), the `type` / `types[]` and `created[…]`
//! filters, and the 30-day retention.

use serde_json::{Value, json};

use crate::Ledger;
use crate::objects::now;
use crate::params::{ApiError, Params};
use crate::wire::{Reply, ok};

/// Stripe keeps events for 30 days.
pub const RETENTION_SECS: i64 = 30 * 86_400;

impl Ledger {
    /// `GET /v1/events` for a key of mode `livemode`.
    pub fn list_events(&self, livemode: bool, p: &Params) -> Result<Reply, ApiError> {
        p.only(&[
            "limit",
            "starting_after",
            "ending_before",
            "type",
            "types",
            "created",
            "delivery_success",
            "expand",
        ])?;
        let limit = p.int("limit")?.unwrap_or(10);
        if !(1..=100).contains(&limit) {
            return Err(ApiError::invalid(
                "Invalid limit: must be between 1 and 100",
                "limit",
            ));
        }
        if p.str("starting_after").is_some() && p.str("ending_before").is_some() {
            return Err(ApiError::invalid(
                "You may only specify one of these parameters: ending_before, starting_after.",
                "ending_before",
            ));
        }
        let types = p.arrays.get("types").cloned().unwrap_or_default();
        if !types.is_empty() && p.str("type").is_some() {
            return Err(ApiError::invalid(
                "You may only specify one of these parameters: type, types.",
                "types",
            ));
        }
        if types.len() > 20 {
            return Err(ApiError::invalid(
                "Invalid array: types may contain at most 20 elements",
                "types",
            ));
        }
        let created = p.hashes.get("created").cloned().unwrap_or_default();
        for (op, v) in &created {
            if !["gt", "gte", "lt", "lte"].contains(&op.as_str()) || v.parse::<i64>().is_err() {
                return Err(ApiError::invalid(
                    format!("Invalid created[{op}]"),
                    &format!("created[{op}]"),
                ));
            }
        }
        let cutoff = now() - RETENTION_SECS;
        let type_ok = |t: &str| {
            if let Some(pattern) = p.str("type") {
                match pattern.strip_suffix('*') {
                    Some(prefix) => t.starts_with(prefix),
                    None => t == pattern,
                }
            } else {
                types.is_empty() || types.iter().any(|x| x == t)
            }
        };
        let created_ok = |c: i64| {
            created.iter().all(|(op, v)| {
                let v: i64 = v.parse().unwrap_or(0);
                match op.as_str() {
                    "gt" => c > v,
                    "gte" => c >= v,
                    "lt" => c < v,
                    _ => c <= v,
                }
            })
        };
        // Newest first; the retention window applies before any cursor.
        let all: Vec<&Value> = self
            .events_newest_first()
            .into_iter()
            .filter(|e| e["livemode"] == livemode && e["created"].as_i64().unwrap_or(0) >= cutoff)
            .collect();
        let listed: Vec<&Value> = all
            .iter()
            .copied()
            .filter(|e| {
                type_ok(e["type"].as_str().unwrap_or(""))
                    && created_ok(e["created"].as_i64().unwrap_or(0))
            })
            .collect();
        let cursor = |param: &str, id: &str| -> Result<(i64, u64), ApiError> {
            // The cursor must be a retained event of this mode (it need not match the filters).
            if !all.iter().any(|e| e["id"] == id) {
                return Err(ApiError::missing(id, "event", param));
            }
            self.event_order(id)
                .ok_or_else(|| ApiError::missing(id, "event", param))
        };
        let order = |e: &Value| {
            self.event_order(e["id"].as_str().unwrap_or(""))
                .unwrap_or((0, 0))
        };
        let n = limit as usize;
        let (page, has_more): (Vec<&Value>, bool) = if let Some(id) = p.str("starting_after") {
            let k = cursor("starting_after", id)?;
            let older: Vec<&Value> = listed.iter().copied().filter(|e| order(e) < k).collect();
            (older.iter().take(n).copied().collect(), older.len() > n)
        } else if let Some(id) = p.str("ending_before") {
            let k = cursor("ending_before", id)?;
            // The page just newer than the cursor, still listed newest first.
            let newer: Vec<&Value> = listed.iter().copied().filter(|e| order(e) > k).collect();
            let from = newer.len().saturating_sub(n);
            (newer[from..].to_vec(), from > 0)
        } else {
            (listed.iter().take(n).copied().collect(), listed.len() > n)
        };
        ok(json!({"object": "list", "url": "/v1/events", "has_more": has_more, "data": page}))
    }
}

impl Ledger {
    /// `GET /v1/events/{id}` for a key of mode `livemode`: an event of the other mode, or
    /// past the 30-day retention, does not exist for it.
    pub fn retrieve_event(&self, id: &str, livemode: bool, p: &Params) -> Result<Reply, ApiError> {
        p.only(&["expand"])?;
        let cutoff = now() - RETENTION_SECS;
        self.events_newest_first()
            .into_iter()
            .find(|e| {
                e["id"] == id
                    && e["livemode"] == livemode
                    && e["created"].as_i64().unwrap_or(0) >= cutoff
            })
            .map(|e| ok((*e).clone()))
            .unwrap_or_else(|| Err(ApiError::missing(id, "event", "id")))
    }
}
