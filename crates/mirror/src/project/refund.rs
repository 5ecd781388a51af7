//! Refunds: each refund's status, and how much of an order's money is refunded.
//!
//! # A refund's status
//! A refund can end `failed` or `canceled` after Stripe first said `pending` or `succeeded`
//! (`charge.refund.updated`, `refund.updated`, `refund.failed` carry the refund). Stripe never
//! revives such a refund, so a failed or canceled snapshot wins over any other, whatever
//! order the events arrived in; otherwise the newest snapshot in `(created, id)` order wins.
//!
//! # The refunded amount
//! A charge's `amount_refunded` is Stripe's total at the time of that snapshot (of several in
//! the same second, the one with the largest total); a refund
//! that fails later is no longer in it (its money goes back to the charge). So per charge
//! the newest snapshot counts, less every refund it still counted that has failed since
//! (created no later than the snapshot, voided in the same second or after it), plus the live
//! refunds created after it. The order's refunded amount is the larger of that sum over the charges and the sum of
//! the live refund objects: a refund recorded before the charge was read again still counts,
//! and a failed one counts nowhere. No "largest ever seen": a failed refund stops counting.

use std::collections::BTreeMap;

use super::Snap;
use crate::event::Kind;
use crate::fields::{bool_at, i64_at, id_at, str_at};
use crate::types::Refund;

/// A refund status that means the money did not (or no longer does) go back.
pub fn is_void(status: &str) -> bool {
    matches!(status, "failed" | "canceled")
}

/// The `(created, event id)` position of a snapshot in the fold order.
fn pos<'s>(s: &'s Snap<'_>) -> (i64, &'s str) {
    (s.created, s.event_id.as_str())
}

/// One refund as the fold sees it: the winning snapshot, and when it was first voided.
struct Folded<'s, 'e> {
    win: &'s Snap<'e>,
    voided_at: Option<(i64, &'s str)>,
}

impl Folded<'_, '_> {
    fn amount(&self) -> i64 {
        i64_at(&self.win.obj, &["amount"]).unwrap_or(0)
    }
    fn created(&self) -> i64 {
        i64_at(&self.win.obj, &["created"]).unwrap_or(self.win.created)
    }
    fn charge(&self) -> Option<&str> {
        id_at(&self.win.obj, &["charge"])
    }
    fn is_void(&self) -> bool {
        self.voided_at.is_some()
    }
}

fn status_of<'s>(s: &'s Snap<'_>) -> &'s str {
    str_at(&s.obj, &["status"]).unwrap_or("unknown")
}

/// Every refund among `snaps` (in `(created, id)` order), by refund id.
fn fold_all<'s, 'e>(snaps: &'s [Snap<'e>]) -> BTreeMap<&'s str, Folded<'s, 'e>> {
    let mut by_id: BTreeMap<&str, Vec<&Snap<'e>>> = BTreeMap::new();
    for s in snaps.iter().filter(|s| s.kind == Kind::Refund) {
        by_id.entry(s.object_id.as_str()).or_default().push(s);
    }
    by_id
        .into_iter()
        .filter_map(|(id, own)| {
            let void = own.iter().copied().filter(|s| is_void(status_of(s)));
            let voided_at = void.clone().map(pos).min();
            let win = void.clone().next_back().or_else(|| own.last().copied())?;
            Some((id, Folded { win, voided_at }))
        })
        .collect()
}

/// The refunds of one order's events, oldest first (by the refund's own `created`).
pub fn refunds(snaps: &[Snap<'_>]) -> Vec<Refund> {
    let mut out: Vec<Refund> = fold_all(snaps)
        .into_iter()
        .map(|(id, f)| {
            let o = &f.win.obj;
            Refund {
                id: id.to_owned(),
                charge_id: f.charge().map(str::to_owned),
                payment_intent_id: id_at(o, &["payment_intent"]).map(str::to_owned),
                amount: f.amount(),
                currency: str_at(o, &["currency"]).map(str::to_ascii_lowercase),
                status: status_of(f.win).to_owned(),
                reason: str_at(o, &["reason"]).map(str::to_owned),
                failure_reason: str_at(o, &["failure_reason"])
                    .filter(|_| f.is_void())
                    .map(str::to_owned),
                created: f.created(),
            }
        })
        .collect();
    out.sort_by(|a, b| (a.created, &a.id).cmp(&(b.created, &b.id)));
    out
}

/// What the order's events say is refunded: `(amount, fully)` where `fully` is a charge's
/// newest snapshot saying `refunded: true` with nothing of it failed since.
pub fn refunded(snaps: &[Snap<'_>]) -> (i64, bool) {
    let refunds = fold_all(snaps);
    // Per charge, its newest snapshot. Several snapshots in one second (a refund from the
    // app, then the rest in the Dashboard) have no order but their random event ids, and
    // between failures a charge's refunded total only grows (a failure in that second is
    // subtracted below), so within the newest second the largest total is the newest.
    let refunded_of = |c: &Snap<'_>| i64_at(&c.obj, &["amount_refunded"]).unwrap_or(0);
    let mut newest: BTreeMap<&str, &Snap<'_>> = BTreeMap::new();
    for c in snaps.iter().filter(|s| s.kind == Kind::Charge) {
        let entry = newest.entry(c.object_id.as_str()).or_insert(c);
        // Snaps come in (created, id) order: a later second always wins.
        if (c.created, refunded_of(c)) >= (entry.created, refunded_of(entry)) {
            *entry = c;
        }
    }
    let mut from_charges = 0;
    let mut fully = false;
    for (charge, snap) in newest {
        let mut total = i64_at(&snap.obj, &["amount_refunded"]).unwrap_or(0);
        let mut voided_since = 0;
        for r in refunds.values().filter(|r| r.charge() == Some(charge)) {
            let counted = r.created() <= snap.created;
            match r.voided_at {
                // A failure in the same second as the snapshot is taken as after it: counting
                // a failed refund is the worse mistake (it blocks the retry).
                Some((voided, _)) if counted && voided >= snap.created => {
                    voided_since += r.amount()
                }
                None if !counted => total += r.amount(),
                _ => {}
            }
        }
        let cap = i64_at(&snap.obj, &["amount"]).unwrap_or(i64::MAX);
        from_charges += (total - voided_since).clamp(0, cap);
        fully |= voided_since == 0 && bool_at(&snap.obj, &["refunded"]) == Some(true);
    }
    let from_refunds: i64 = refunds
        .values()
        .filter(|r| !r.is_void())
        .map(Folded::amount)
        .sum();
    (from_charges.max(from_refunds), fully)
}
