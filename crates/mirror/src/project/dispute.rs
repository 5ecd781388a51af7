//! The dispute projection: one row per dispute, linked to its order.
//!
//! Fold: a closed snapshot (won, lost, warning_closed, prevented) is terminal — the newest
//! closed one wins over any open snapshot, however the events were dated or delivered;
//! otherwise the newest snapshot wins. Unknown statuses are kept as they are and count as
//! open (they sort as "under review" in the queue).

use rusqlite::{Connection, params};

use super::{Snap, winner};
use crate::MirrorError;
use crate::fields::{bool_at, i64_at, id_at, str_at};

#[derive(Debug, Clone, PartialEq)]
pub struct DisputeRow {
    pub id: String,
    pub charge_id: Option<String>,
    pub payment_intent_id: Option<String>,
    pub status: String,
    pub reason: Option<String>,
    pub amount: i64,
    pub currency: String,
    pub due_by: Option<i64>,
    /// `evidence_details`: what Stripe says of the evidence (None when the event has none).
    pub has_evidence: Option<bool>,
    pub submission_count: Option<i64>,
    pub past_due: Option<bool>,
    pub livemode: bool,
    pub created: i64,
    pub updated: i64,
}

pub fn is_closed(status: &str) -> bool {
    matches!(status, "won" | "lost" | "warning_closed" | "prevented")
}

pub fn needs_response(status: &str) -> bool {
    matches!(status, "needs_response" | "warning_needs_response")
}

/// Queue rank: 0 needs a response, 1 open otherwise, 2 closed.
pub fn queue_rank(status: &str) -> i64 {
    if needs_response(status) {
        0
    } else if is_closed(status) {
        2
    } else {
        1
    }
}

/// `snaps`: every snapshot of one dispute, in `(created, id)` order.
pub fn fold(snaps: &[&Snap<'_>]) -> Option<DisputeRow> {
    let w = winner(snaps, |s| {
        str_at(&s.obj, &["status"]).is_some_and(is_closed)
    })?;
    let o = &w.obj;
    Some(DisputeRow {
        id: w.object_id.clone(),
        charge_id: id_at(o, &["charge"]).map(str::to_owned),
        payment_intent_id: id_at(o, &["payment_intent"]).map(str::to_owned),
        status: str_at(o, &["status"]).unwrap_or("unknown").to_owned(),
        reason: str_at(o, &["reason"]).map(str::to_owned),
        amount: i64_at(o, &["amount"]).unwrap_or(0),
        currency: str_at(o, &["currency"]).unwrap_or("").to_ascii_lowercase(),
        due_by: i64_at(o, &["evidence_details", "due_by"]).filter(|d| *d > 0),
        has_evidence: bool_at(o, &["evidence_details", "has_evidence"]),
        submission_count: i64_at(o, &["evidence_details", "submission_count"]),
        past_due: bool_at(o, &["evidence_details", "past_due"]),
        livemode: w.livemode,
        created: i64_at(o, &["created"]).unwrap_or(snaps[0].created),
        updated: snaps.iter().map(|s| s.created).max().unwrap_or(w.created),
    })
}

pub fn write(
    conn: &Connection,
    d: &DisputeRow,
    order_key: Option<&str>,
) -> Result<(), MirrorError> {
    let rank = queue_rank(&d.status);
    let sort = if rank == 2 {
        -d.updated
    } else {
        d.due_by.unwrap_or(i64::MAX)
    };
    let mut stmt = conn.prepare_cached(
        "INSERT OR REPLACE INTO disputes(id, charge_id, payment_intent_id, order_key, status, reason, amount, currency,
            due_by, needs_response, queue_rank, queue_sort, livemode, created, updated,
            has_evidence, submission_count, past_due)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18)",
    )?;
    stmt.execute(params![
        d.id,
        d.charge_id,
        d.payment_intent_id,
        order_key,
        d.status,
        d.reason,
        d.amount,
        d.currency,
        d.due_by,
        needs_response(&d.status),
        rank,
        sort,
        d.livemode,
        d.created,
        d.updated,
        d.has_evidence,
        d.submission_count,
        d.past_due
    ])?;
    Ok(())
}
