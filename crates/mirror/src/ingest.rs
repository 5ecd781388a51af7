//! Storing verified events and re-deriving what they touch, in one transaction.
//!
//! Invariant: an event is stored at most once (primary key = Stripe event id, first arrival
//! wins, including its source); storing it and re-deriving every projection row of the
//! objects it names happen in the same transaction, so the mirror never shows an event
//! without its effect or an effect without its event.

use std::time::{SystemTime, UNIX_EPOCH};

use rusqlite::{Connection, params};

use crate::event::{Kind, refs};
use crate::project::{account, billing, order};
use crate::{AppliedEvent, Event, IngestOutcome, MirrorError, Mode, Source};

pub fn now_unix() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

/// Store one event and re-derive its projections. The caller owns the transaction.
pub fn ingest_one(
    conn: &Connection,
    ev: &Event,
    source: Source,
    received_at: i64,
) -> Result<IngestOutcome, MirrorError> {
    let mut insert = conn.prepare_cached(
        "INSERT OR IGNORE INTO events(id, type, created, livemode, account, api_version, source, received_at, raw)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
    )?;
    let n = insert.execute(params![
        ev.id,
        ev.event_type,
        ev.created,
        ev.livemode,
        ev.account,
        ev.api_version,
        source.as_str(),
        received_at,
        ev.raw
    ])?;
    if n == 0 {
        return Ok(IngestOutcome::Duplicate {
            event_id: ev.id.clone(),
        });
    }
    let refs = refs(&ev.json);
    let mut ins_ref = conn.prepare_cached(
        "INSERT OR IGNORE INTO event_refs(object_id, event_id, kind, is_self) VALUES (?1, ?2, ?3, ?4)",
    )?;
    // A subscription is folded from its own events only, and an order never walks
    // through one: a link *to* a subscription would be a row (a random page) nobody reads.
    for r in refs
        .iter()
        .filter(|r| r.is_self || r.kind != Kind::Subscription)
    {
        ins_ref.execute(params![r.id, ev.id, r.kind.as_str(), r.is_self])?;
    }
    if let Some(own) = refs.first() {
        let seeds: Vec<(String, Kind)> = refs
            .iter()
            .filter(|r| r.kind.is_order_part())
            .map(|r| (r.id.clone(), r.kind))
            .collect();
        if !seeds.is_empty() {
            order::rederive(conn, &seeds, Some(ev))?;
        }
        match own.kind {
            Kind::Subscription => billing::rederive_subscription(conn, &own.id, ev)?,
            Kind::Invoice => billing::rederive_invoice(conn, &own.id, ev)?,
            _ => {}
        }
    }
    let is_account = account::on_ingest(conn, ev)?;
    Ok(IngestOutcome::Applied(AppliedEvent {
        event_id: ev.id.clone(),
        event_type: ev.event_type.clone(),
        mode: Mode::from_livemode(ev.livemode),
        projected: !refs.is_empty() || is_account,
    }))
}
