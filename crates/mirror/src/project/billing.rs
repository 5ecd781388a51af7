//! Subscription and invoice projections: one row per object, from its own snapshots.
//!
//! Subscription: a `customer.subscription.deleted` snapshot is terminal; otherwise the
//! newest snapshot wins. The renewal date is the earliest `items.data[].current_period_end`
//! (basil on), falling back to the top-level `current_period_end` (before basil).
//! Invoice: a `paid` snapshot is terminal; otherwise the newest wins. The subscription
//! link is `parent.subscription_details.subscription`, falling back to `subscription`.

use rusqlite::{Connection, params};

use super::{Snap, load_snaps, self_events, winner};
use crate::event::{Kind, invoice_subscription};
use crate::facts::event_types;
use crate::fields::{bool_at, i64_at, id_at, list_at, str_at};
use crate::{Event, MirrorError};

fn own<'a, 'e>(snaps: &'a [Snap<'e>], kind: Kind, id: &str) -> Vec<&'a Snap<'e>> {
    snaps
        .iter()
        .filter(|s| s.kind == kind && s.object_id == id)
        .collect()
}

pub fn rederive_subscription(
    conn: &Connection,
    id: &str,
    fresh: &Event,
) -> Result<(), MirrorError> {
    let snaps = load_snaps(conn, &self_events(conn, id)?, fresh)?;
    let own = own(&snaps, Kind::Subscription, id);
    let Some(w) = winner(&own, |s| {
        s.event_type == event_types::CUSTOMER_SUBSCRIPTION_DELETED
    }) else {
        return Ok(());
    };
    let o = &w.obj;
    let period_end = list_at(o, &["items"])
        .filter_map(|i| i64_at(i, &["current_period_end"]))
        .min()
        .or_else(|| i64_at(o, &["current_period_end"]));
    let mut stmt = conn.prepare_cached(
        "INSERT OR REPLACE INTO subscriptions(id, customer, status, current_period_end, cancel_at_period_end,
            livemode, created, updated) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    )?;
    stmt.execute(params![
        id,
        id_at(o, &["customer"]),
        str_at(o, &["status"]).unwrap_or("unknown"),
        period_end,
        bool_at(o, &["cancel_at_period_end"]).unwrap_or(false),
        w.livemode,
        i64_at(o, &["created"]).unwrap_or(own[0].created),
        own.iter().map(|s| s.created).max().unwrap_or(w.created),
    ])?;
    Ok(())
}

pub fn rederive_invoice(conn: &Connection, id: &str, fresh: &Event) -> Result<(), MirrorError> {
    let snaps = load_snaps(conn, &self_events(conn, id)?, fresh)?;
    let own = own(&snaps, Kind::Invoice, id);
    let Some(w) = winner(&own, |s| str_at(&s.obj, &["status"]) == Some("paid")) else {
        return Ok(());
    };
    let o = &w.obj;
    let mut stmt = conn.prepare_cached(
        "INSERT OR REPLACE INTO invoices(id, subscription_id, customer_email, status, amount_due, amount_paid, currency,
            billing_reason, hosted_invoice_url, livemode, created, updated)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
    )?;
    stmt.execute(params![
        id,
        invoice_subscription(o),
        str_at(o, &["customer_email"]),
        str_at(o, &["status"]),
        i64_at(o, &["amount_due"]).unwrap_or(0),
        i64_at(o, &["amount_paid"]).unwrap_or(0),
        str_at(o, &["currency"]).unwrap_or("").to_ascii_lowercase(),
        str_at(o, &["billing_reason"]),
        str_at(o, &["hosted_invoice_url"]),
        w.livemode,
        i64_at(o, &["created"]).unwrap_or(own[0].created),
        own.iter().map(|s| s.created).max().unwrap_or(w.created),
    ])?;
    Ok(())
}
