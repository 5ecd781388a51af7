//! Finding every object and event of one purchase.
//!
//! Objects of a purchase (session, payment intents, charges, refunds, disputes, and an
//! invoice that pays through them) are linked by the references their events carry. The
//! group is the connected component of those links: from each object, `event_refs` gives
//! the events that name it; each event's own JSON gives the objects it names. The group
//! only grows as events arrive, so re-deriving it always sees at least what it saw before.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use rusqlite::{Connection, params};

use super::{Snap, load_one, sort_snaps};
use crate::event::{Kind, object_refs};
use crate::{Event, MirrorError};

/// A hang guard against a pathological account linking everything together. Real
/// purchases have a handful of objects and tens of events.
const MAX_GROUP_EVENTS: usize = 10_000;

#[derive(Debug, Default)]
pub struct Group<'a> {
    pub objects: BTreeMap<String, Kind>,
    /// Every event of the group, in `(created, id)` order.
    pub snaps: Vec<Snap<'a>>,
}

pub fn order_group<'a>(
    conn: &Connection,
    seeds: &[(String, Kind)],
    fresh: Option<&'a Event>,
) -> Result<Group<'a>, MirrorError> {
    let mut by_object =
        conn.prepare_cached("SELECT event_id FROM event_refs WHERE object_id = ?1")?;
    let mut g = Group::default();
    let mut seen: BTreeSet<String> = BTreeSet::new();
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
            if !seen.insert(ev.clone()) {
                continue;
            }
            if seen.len() > MAX_GROUP_EVENTS {
                tracing::warn!(
                    events = seen.len(),
                    "an order links more events than expected; folding what was found"
                );
                sort_snaps(&mut g.snaps);
                return Ok(g);
            }
            let Some(snap) = load_one(conn, &ev, fresh)? else {
                continue;
            };
            for r in object_refs(&snap.obj)
                .into_iter()
                .filter(|r| r.kind.is_order_part())
            {
                if let std::collections::btree_map::Entry::Vacant(slot) = g.objects.entry(r.id) {
                    queue.push_back(slot.key().clone());
                    slot.insert(r.kind);
                }
            }
            g.snaps.push(snap);
        }
    }
    sort_snaps(&mut g.snaps);
    Ok(g)
}
