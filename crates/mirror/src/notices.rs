//! Notices: the few facts worth interrupting the owner for, each raised once.
//!
//! # The facts
//! - [`NoticeKind::NewDispute`]: a dispute (a chargeback or an inquiry) opened within the last
//!   [`NOTICE_FRESH_SECS`].
//! - [`NoticeKind::DisputeDueSoon`]: a dispute that still needs a response (no evidence
//!   submitted: Stripe moves a dispute to `under_review` once evidence is submitted) whose
//!   evidence is due within [`DISPUTE_DUE_SOON_SECS`].
//! - [`NoticeKind::RenewalFailed`]: a subscription renewal invoice (`billing_reason`
//!   `subscription_cycle`) whose `invoice.payment_failed` arrived within the last
//!   [`NOTICE_FRESH_SECS`]; once per invoice, however often Stripe retries.
//! - [`NoticeKind::FirstLiveOrder`]: the first paid live order of the store (the owner's
//!   marker applied), paid within the last [`NOTICE_FRESH_SECS`]; once ever.
//!
//! # Once per fact
//! [`claim`] finds the facts of the asked kinds that are not in `notices_shown`, records them
//! there and returns them, in one immediate transaction: two callers at once, or the same
//! caller after a restart, never get the same fact twice. Facts older than the freshness
//! window when first seen are history (a first sync brings 30 days of it), not news, and are
//! never raised.

use rusqlite::types::Value as Sql;
use rusqlite::{Connection, TransactionBehavior, params};
use serde::{Deserialize, Serialize};

use crate::closed::closed_enum;
use crate::facts::{event_types, major_units};
use crate::{MirrorError, Mode};

/// How recent a new dispute, failed renewal or first live order must be to be news.
pub const NOTICE_FRESH_SECS: i64 = 24 * 60 * 60;
/// A dispute due within this long without submitted evidence is raised as due soon.
pub const DISPUTE_DUE_SOON_SECS: i64 = 72 * 60 * 60;

closed_enum! {
    /// What a notice is about; each kind can be turned off by the owner.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
    #[cfg_attr(feature = "ts", derive(ts_rs::TS))]
    #[serde(rename_all = "snake_case")]
    pub enum NoticeKind {
        NewDispute = "new_dispute",
        DisputeDueSoon = "dispute_due_soon",
        RenewalFailed = "renewal_failed",
        FirstLiveOrder = "first_live_order",
    }
}

/// Where clicking a notice leads in the app.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(tag = "view", rename_all = "snake_case")]
pub enum NoticeTarget {
    Dispute { id: String },
    Order { session_id: String },
    Subscription { id: String },
}

/// One fact to tell the owner, with its words.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Notice {
    pub kind: NoticeKind,
    pub mode: Mode,
    /// The fact's key in `notices_shown` (e.g. `new_dispute:dp_…`).
    pub fact: String,
    pub title: String,
    pub body: String,
    pub target: NoticeTarget,
}

fn money(amount: i64, currency: &str) -> String {
    format!(
        "{} {}",
        major_units(amount, currency),
        currency.to_ascii_uppercase()
    )
}

fn test_tag(mode: Mode) -> &'static str {
    if mode.is_live() { "" } else { " (test mode)" }
}

/// Hours from `now` to `due`, in words.
fn due_in(due: i64, now: i64) -> String {
    let hours = ((due - now).max(0) + 3599) / 3600;
    if hours <= 1 {
        "within the hour".to_owned()
    } else if hours <= 72 {
        format!("in {hours} hours")
    } else {
        format!("in {} days", hours / 24)
    }
}

fn candidates(
    conn: &Connection,
    kinds: &[NoticeKind],
    now: i64,
) -> Result<Vec<Notice>, MirrorError> {
    let fresh = now - NOTICE_FRESH_SECS;
    let mut out = Vec::new();
    let (marker_cond, marker_args) = crate::marker::condition(crate::marker::load(conn)?.as_ref());
    if kinds.contains(&NoticeKind::NewDispute) {
        let mut stmt = conn.prepare_cached(
            "SELECT id, amount, currency, reason, due_by, livemode FROM disputes
             WHERE created >= ?1 ORDER BY created, id",
        )?;
        let rows = stmt.query_map(params![fresh], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, i64>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, Option<String>>(3)?,
                r.get::<_, Option<i64>>(4)?,
                r.get::<_, bool>(5)?,
            ))
        })?;
        for row in rows {
            let (id, amount, currency, reason, due_by, live) = row?;
            let mode = Mode::from_livemode(live);
            let reason = reason
                .map(|r| r.replace('_', " "))
                .unwrap_or_else(|| "no reason given".into());
            let due = match due_by {
                Some(due) if due > now => format!(" Evidence is due {}.", due_in(due, now)),
                _ => String::new(),
            };
            out.push(Notice {
                kind: NoticeKind::NewDispute,
                mode,
                fact: format!("new_dispute:{id}"),
                title: format!(
                    "New dispute: {}{}",
                    money(amount, &currency),
                    test_tag(mode)
                ),
                body: format!(
                    "A customer disputed a payment ({reason}).{due} Open it in FluxStore to answer."
                ),
                target: NoticeTarget::Dispute { id },
            });
        }
    }
    if kinds.contains(&NoticeKind::DisputeDueSoon) {
        let mut stmt = conn.prepare_cached(
            "SELECT id, amount, currency, due_by, livemode FROM disputes
             WHERE needs_response = 1 AND due_by > ?1 AND due_by <= ?2 ORDER BY due_by, id",
        )?;
        let rows = stmt.query_map(params![now, now + DISPUTE_DUE_SOON_SECS], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, i64>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, i64>(3)?,
                r.get::<_, bool>(4)?,
            ))
        })?;
        for row in rows {
            let (id, amount, currency, due, live) = row?;
            let mode = Mode::from_livemode(live);
            out.push(Notice {
                kind: NoticeKind::DisputeDueSoon,
                mode,
                fact: format!("dispute_due_soon:{id}"),
                title: format!("Dispute evidence due {}{}", due_in(due, now), test_tag(mode)),
                body: format!(
                    "No evidence has been submitted for the {} dispute yet. After the deadline the bank decides without it.",
                    money(amount, &currency)
                ),
                target: NoticeTarget::Dispute { id },
            });
        }
    }
    if kinds.contains(&NoticeKind::RenewalFailed) {
        let mut stmt = conn.prepare_cached(
            "SELECT DISTINCT i.id, i.subscription_id, i.amount_due, i.currency, i.livemode
             FROM events e
             JOIN event_refs r ON r.event_id = e.id AND r.is_self = 1
             JOIN invoices i ON i.id = r.object_id
             WHERE e.type = ?1 AND e.created >= ?2 AND i.billing_reason = 'subscription_cycle'
             ORDER BY i.id",
        )?;
        let rows = stmt.query_map(params![event_types::INVOICE_PAYMENT_FAILED, fresh], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, Option<String>>(1)?,
                r.get::<_, i64>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, bool>(4)?,
            ))
        })?;
        for row in rows {
            // No customer name or address in the words: a notification can show on a locked
            // screen.
            let (invoice, subscription, amount, currency, live) = row?;
            let mode = Mode::from_livemode(live);
            out.push(Notice {
                kind: NoticeKind::RenewalFailed,
                mode,
                fact: format!("renewal_failed:{invoice}"),
                title: format!("A subscription renewal failed{}", test_tag(mode)),
                body: format!(
                    "A {} renewal was declined. Stripe retries on its schedule; the subscriber may need to update their card.",
                    money(amount, &currency)
                ),
                target: NoticeTarget::Subscription {
                    id: subscription.unwrap_or(invoice),
                },
            });
        }
    }
    if kinds.contains(&NoticeKind::FirstLiveOrder) {
        let sql = format!(
            "SELECT o.session_id, o.amount, o.currency, o.paid_at FROM orders o
             WHERE o.livemode = 1 AND o.paid_at IS NOT NULL{marker_cond}
             ORDER BY o.paid_at, o.session_id LIMIT 1"
        );
        let mut stmt = conn.prepare(&sql)?;
        let first = stmt
            .query_map(rusqlite::params_from_iter(marker_args.iter()), |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, Option<i64>>(1)?,
                    r.get::<_, Option<String>>(2)?,
                    r.get::<_, i64>(3)?,
                ))
            })?
            .next()
            .transpose()?;
        if let Some((session_id, amount, currency, paid_at)) = first
            && paid_at >= fresh
        {
            let what = match (amount, currency) {
                (Some(a), Some(c)) => format!(" {}", money(a, &c)),
                _ => String::new(),
            };
            out.push(Notice {
                kind: NoticeKind::FirstLiveOrder,
                mode: Mode::Live,
                fact: "first_live_order".to_owned(),
                title: "Your first live order".to_owned(),
                body: format!("A real customer paid{what}. Your store takes live payments."),
                target: NoticeTarget::Order { session_id },
            });
        }
    }
    Ok(out)
}

/// The setting that lists the kinds the owner turned off (a JSON array of their spellings).
pub const NOTICES_OFF_SETTING: &str = "notices.off";

/// The kinds the owner wants raised: every kind unless turned off.
pub fn kinds_on(conn: &Connection) -> Result<Vec<NoticeKind>, MirrorError> {
    let off: Vec<NoticeKind> = crate::log::setting(conn, NOTICES_OFF_SETTING)?
        .and_then(|text| serde_json::from_str::<Vec<String>>(&text).ok())
        .unwrap_or_default()
        .iter()
        .filter_map(|t| NoticeKind::known(t))
        .collect();
    Ok(NoticeKind::ALL
        .into_iter()
        .filter(|k| !off.contains(k))
        .collect())
}

/// Turn one kind on or off.
pub fn set_kind_on(conn: &Connection, kind: NoticeKind, on: bool) -> Result<(), MirrorError> {
    let on_now = kinds_on(conn)?;
    let mut off: Vec<NoticeKind> = NoticeKind::ALL
        .into_iter()
        .filter(|k| !on_now.contains(k))
        .collect();
    off.retain(|k| *k != kind);
    if !on {
        off.push(kind);
    }
    let text: Vec<&str> = NoticeKind::ALL
        .into_iter()
        .filter(|k| off.contains(k))
        .map(NoticeKind::as_str)
        .collect();
    let value = serde_json::to_string(&text).map_err(|e| MirrorError::Migration(e.to_string()))?;
    crate::log::set_setting(conn, NOTICES_OFF_SETTING, Some(&value))
}

/// The facts of `kinds` not raised before, recorded as raised now (see the module doc).
pub fn claim(
    conn: &mut Connection,
    kinds: &[NoticeKind],
    now: i64,
) -> Result<Vec<Notice>, MirrorError> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let all = candidates(&tx, kinds, now)?;
    let mut fresh = Vec::new();
    {
        let mut insert = tx.prepare_cached(
            "INSERT INTO notices_shown(fact, kind, livemode, shown_at) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT(fact) DO NOTHING",
        )?;
        for n in all {
            let args = [
                Sql::Text(n.fact.clone()),
                Sql::Text(n.kind.as_str().to_owned()),
                Sql::Integer(i64::from(n.mode.is_live())),
                Sql::Integer(now),
            ];
            if insert.execute(rusqlite::params_from_iter(args))? == 1 {
                fresh.push(n);
            }
        }
    }
    tx.commit()?;
    Ok(fresh)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_are_on_until_turned_off() {
        let mut conn = Connection::open_in_memory().unwrap();
        crate::schema::migrate(&mut conn).unwrap();
        assert_eq!(kinds_on(&conn).unwrap(), NoticeKind::ALL.to_vec());
        set_kind_on(&conn, NoticeKind::RenewalFailed, false).unwrap();
        set_kind_on(&conn, NoticeKind::NewDispute, false).unwrap();
        assert_eq!(
            kinds_on(&conn).unwrap(),
            vec![NoticeKind::DisputeDueSoon, NoticeKind::FirstLiveOrder]
        );
        set_kind_on(&conn, NoticeKind::NewDispute, true).unwrap();
        assert!(kinds_on(&conn).unwrap().contains(&NoticeKind::NewDispute));
        assert!(
            !kinds_on(&conn)
                .unwrap()
                .contains(&NoticeKind::RenewalFailed)
        );
    }

    #[test]
    fn kinds_are_spelled_as_serde_spells_them() {
        for k in NoticeKind::ALL {
            assert_eq!(serde_json::to_value(k).unwrap(), k.as_str());
        }
    }
}
