//! Finding every object and event of one purchase.
//!
//! Objects of a purchase (session, payment intents, charges, refunds, disputes, and an
//! invoice that pays through them) are linked by the references events carry. The group
//! is the connected component of those links, walked through `event_refs`; it only grows
//! as events arrive, so re-deriving it always sees at least what it saw before.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use rusqlite::{Connection, params};

use crate::MirrorError;
use crate::event::Kind;

/// A hang guard against a pathological account linking everything together. Real
/// purchases have a handful of objects and tens of events.
const MAX_GROUP_EVENTS: usize = 10_000;

#[derive(Debug, Default)]
pub struct Group {
    pub objects: BTreeMap<String, Kind>,
    pub events: BTreeSet<String>,
}

pub fn order_group(conn: &Connection, seeds: &[(String, Kind)]) -> Result<Group, MirrorError> {
    let mut by_object =
        conn.prepare_cached("SELECT event_id FROM event_refs WHERE object_id = ?1")?;
    let mut by_event =
        conn.prepare_cached("SELECT object_id, kind FROM event_refs WHERE event_id = ?1")?;
    let mut g = Group::default();
    let mut queue: VecDeque<String> = VecDeque::new();
    for (id, kind) in seeds {
        if kind.is_order_part() && g.objects.insert(id.clone(), *kind).is_none() {
            queue.push_back(id.clone());
        }
    }
    while let Some(object) = queue.pop_front() {
        let events = by_object
            .query_map(params![object], |r| r.get::<_, String>(0))?
            .collect::<Result<Vec<_>, _>>()?;
        for ev in events {
            if !g.events.insert(ev.clone()) {
                continue;
            }
            if g.events.len() > MAX_GROUP_EVENTS {
                tracing::warn!(
                    events = g.events.len(),
                    "an order links more events than expected; folding what was found"
                );
                return Ok(g);
            }
            let linked = by_event
                .query_map(params![ev], |r| {
                    Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
                })?
                .collect::<Result<Vec<_>, _>>()?;
            for (id, kind) in linked {
                let Some(kind) = Kind::from_object(&kind).filter(|k| k.is_order_part()) else {
                    continue;
                };
                if g.objects.insert(id.clone(), kind).is_none() {
                    queue.push_back(id);
                }
            }
        }
    }
    Ok(g)
}
