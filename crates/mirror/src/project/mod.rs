//! Projections: rows derived from the stored events, never edited in place.
//!
//! Invariant (the law): every projection row is a function of the SET of stored events of
//! its objects. Each time an event arrives, the rows of every object it touches are
//! re-derived by folding all their stored events in `(created, id)` order; folds pick
//! snapshots by that order and combine facts with order-free operations (any, max, sum of
//! per-object maxima), so arrival order and duplicates cannot change a row.

pub mod account;
pub mod billing;
pub mod dispute;
pub mod group;
pub mod order;
pub mod refund;

use std::borrow::Cow;

use rusqlite::{Connection, OptionalExtension, params};
use serde_json::Value;

use crate::event::{Kind, own_kind};
use crate::{Event, MirrorError};

/// One stored event's object, as a fold sees it. The object of the event being ingested
/// is borrowed from its parsed form (no copy of its JSON per event); stored ones are owned.
#[derive(Debug, Clone)]
pub struct Snap<'a> {
    pub event_id: String,
    pub event_type: String,
    pub created: i64,
    pub livemode: bool,
    pub account: Option<String>,
    pub kind: Kind,
    pub object_id: String,
    pub obj: Cow<'a, Value>,
}

/// Load the given events' objects, sorted by `(created, id)`. Events whose object the
/// mirror does not project are skipped. `fresh` is the event being ingested: it was just
/// stored, so its parsed form is used instead of reading and parsing it again (`None`
/// when reading, not ingesting).
pub fn load_snaps<'i, 'e>(
    conn: &Connection,
    event_ids: impl IntoIterator<Item = &'i String>,
    fresh: &'e Event,
) -> Result<Vec<Snap<'e>>, MirrorError> {
    let mut out = Vec::new();
    for id in event_ids {
        if let Some(snap) = load_one(conn, id, Some(fresh))? {
            out.push(snap);
        }
    }
    sort_snaps(&mut out);
    Ok(out)
}

pub fn sort_snaps(snaps: &mut [Snap<'_>]) {
    snaps.sort_by(|a, b| (a.created, &a.event_id).cmp(&(b.created, &b.event_id)));
}

/// One stored event's object (see [`load_snaps`]).
pub fn load_one<'a>(
    conn: &Connection,
    id: &str,
    fresh: Option<&'a Event>,
) -> Result<Option<Snap<'a>>, MirrorError> {
    if let Some(fresh) = fresh.filter(|f| f.id == id) {
        return Ok(own_kind(&fresh.json).map(|(kind, object_id)| Snap {
            event_id: id.to_owned(),
            event_type: fresh.event_type.clone(),
            created: fresh.created,
            livemode: fresh.livemode,
            account: fresh.account.clone(),
            kind,
            object_id: object_id.to_owned(),
            obj: Cow::Borrowed(&fresh.json["data"]["object"]),
        }));
    }
    let mut stmt = conn
        .prepare_cached("SELECT type, created, livemode, account, raw FROM events WHERE id = ?1")?;
    let row = stmt
        .query_row(params![id], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, i64>(1)?,
                r.get::<_, bool>(2)?,
                r.get::<_, Option<String>>(3)?,
                r.get::<_, String>(4)?,
            ))
        })
        .optional()?;
    let Some((event_type, created, livemode, account, raw)) = row else {
        return Ok(None);
    };
    // Stored events were parsed before they were stored; a row that no longer parses
    // (edited by hand) is left out rather than failing every later ingest.
    let Ok(mut json) = serde_json::from_str::<Value>(&raw) else {
        return Ok(None);
    };
    let Some((kind, object_id)) = own_kind(&json).map(|(k, i)| (k, i.to_owned())) else {
        return Ok(None);
    };
    let obj = json["data"]["object"].take();
    Ok(Some(Snap {
        event_id: id.to_owned(),
        event_type,
        created,
        livemode,
        account,
        kind,
        object_id,
        obj: Cow::Owned(obj),
    }))
}

/// Ids of the events whose own object is `object_id`.
pub fn self_events(conn: &Connection, object_id: &str) -> Result<Vec<String>, MirrorError> {
    let mut stmt = conn
        .prepare_cached("SELECT event_id FROM event_refs WHERE object_id = ?1 AND is_self = 1")?;
    let ids = stmt
        .query_map(params![object_id], |r| r.get(0))?
        .collect::<Result<Vec<String>, _>>()?;
    Ok(ids)
}

/// The snapshot that wins: the newest one satisfying `terminal` if any, else the newest.
/// `snaps` are in `(created, id)` order.
pub fn winner<'a, 'e>(
    snaps: &[&'a Snap<'e>],
    terminal: impl Fn(&Snap<'e>) -> bool,
) -> Option<&'a Snap<'e>> {
    snaps
        .iter()
        .rev()
        .find(|s| terminal(s))
        .or_else(|| snaps.last())
        .copied()
}
