//! Disputes, subscriptions, invoices, events and the checklist facts.

use rusqlite::types::Value as Sql;
use rusqlite::{Connection, OptionalExtension, Row, params};

use crate::{
    ChecklistFacts, Dispute, Invoice, MirrorError, Mode, ModeFacts, Source, StoredEvent,
    Subscription,
};

pub const DISPUTE_COLS: &str =
    "d.id, d.charge_id, d.payment_intent_id, d.order_key, d.status, d.reason, d.amount,
    d.currency, d.due_by, d.needs_response, d.livemode, d.created, d.updated";

pub fn dispute_from_row(r: &Row<'_>) -> rusqlite::Result<Dispute> {
    Ok(Dispute {
        id: r.get(0)?,
        charge_id: r.get(1)?,
        payment_intent_id: r.get(2)?,
        order_session_id: r.get(3)?,
        status: r.get(4)?,
        reason: r.get(5)?,
        amount: r.get(6)?,
        currency: r.get(7)?,
        due_by: r.get(8)?,
        needs_response: r.get(9)?,
        mode: Mode::from_livemode(r.get(10)?),
        created: r.get(11)?,
        updated: r.get(12)?,
    })
}

fn live(mode: Mode) -> i64 {
    i64::from(mode.is_live())
}

/// With the owner's marker set, a dispute stays in the queue only when its order is one the
/// marker counts (a dispute of another shop's checkout is not the owner's to answer here).
fn marker_filter(conn: &Connection) -> Result<(String, Vec<Sql>), MirrorError> {
    Ok(match crate::marker::load(conn)? {
        None => (String::new(), Vec::new()),
        Some(marker) => {
            let (cond, args) = crate::marker::condition(Some(&marker));
            (
                format!(
                    " AND EXISTS (SELECT 1 FROM orders o WHERE o.session_id = d.order_key{cond})"
                ),
                args,
            )
        }
    })
}

pub fn disputes(conn: &Connection, mode: Mode, limit: u32) -> Result<Vec<Dispute>, MirrorError> {
    let (cond, extra) = marker_filter(conn)?;
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {DISPUTE_COLS} FROM disputes d WHERE d.livemode = ?{cond}
         ORDER BY d.queue_rank, d.queue_sort, d.id LIMIT ?"
    ))?;
    let args = std::iter::once(Sql::Integer(live(mode)))
        .chain(extra)
        .chain(std::iter::once(Sql::Integer(i64::from(limit))));
    let rows = stmt
        .query_map(rusqlite::params_from_iter(args), dispute_from_row)?
        .collect::<Result<_, _>>()?;
    Ok(rows)
}

pub fn disputes_needing_response(conn: &Connection, mode: Mode) -> Result<u64, MirrorError> {
    let (cond, extra) = marker_filter(conn)?;
    let n: i64 = conn.query_row(
        &format!("SELECT count(*) FROM disputes d WHERE d.livemode = ? AND d.queue_rank = 0{cond}"),
        rusqlite::params_from_iter(std::iter::once(Sql::Integer(live(mode))).chain(extra)),
        |r| r.get(0),
    )?;
    Ok(n as u64)
}

pub fn subscriptions(conn: &Connection, mode: Mode) -> Result<Vec<Subscription>, MirrorError> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, customer, status, current_period_end, cancel_at_period_end, livemode, created, updated
         FROM subscriptions WHERE livemode = ?1 ORDER BY created DESC, id DESC",
    )?;
    let rows = stmt
        .query_map(params![live(mode)], |r| {
            Ok(Subscription {
                id: r.get(0)?,
                customer: r.get(1)?,
                status: r.get(2)?,
                current_period_end: r.get(3)?,
                cancel_at_period_end: r.get(4)?,
                mode: Mode::from_livemode(r.get(5)?),
                created: r.get(6)?,
                updated: r.get(7)?,
            })
        })?
        .collect::<Result<_, _>>()?;
    Ok(rows)
}

pub fn invoices(conn: &Connection, mode: Mode) -> Result<Vec<Invoice>, MirrorError> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, subscription_id, customer_email, status, amount_due, amount_paid, currency, billing_reason,
                hosted_invoice_url, livemode, created, updated
         FROM invoices WHERE livemode = ?1 ORDER BY created DESC, id DESC",
    )?;
    let rows = stmt
        .query_map(params![live(mode)], |r| {
            Ok(Invoice {
                id: r.get(0)?,
                subscription_id: r.get(1)?,
                customer_email: r.get(2)?,
                status: r.get(3)?,
                amount_due: r.get(4)?,
                amount_paid: r.get(5)?,
                currency: r.get(6)?,
                billing_reason: r.get(7)?,
                hosted_invoice_url: r.get(8)?,
                mode: Mode::from_livemode(r.get(9)?),
                created: r.get(10)?,
                updated: r.get(11)?,
            })
        })?
        .collect::<Result<_, _>>()?;
    Ok(rows)
}

fn stored_event(r: &Row<'_>) -> rusqlite::Result<(i64, StoredEvent)> {
    Ok((
        r.get(8)?,
        StoredEvent {
            id: r.get(0)?,
            event_type: r.get(1)?,
            created: r.get(2)?,
            mode: Mode::from_livemode(r.get(3)?),
            account: r.get(4)?,
            api_version: r.get(5)?,
            source: Source::parse(&r.get::<_, String>(6)?),
            received_at: r.get(7)?,
        },
    ))
}

/// Newest received first (ties: later stored first). Each mode is read through the
/// `(livemode, received_at)` index; both modes are merged here rather than sorted by SQLite.
pub fn events(
    conn: &Connection,
    mode: Option<Mode>,
    limit: u32,
) -> Result<Vec<StoredEvent>, MirrorError> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, type, created, livemode, account, api_version, source, received_at, rowid FROM events
         WHERE livemode = ?1 ORDER BY received_at DESC, rowid DESC LIMIT ?2",
    )?;
    let modes = match mode {
        Some(m) => vec![m],
        None => vec![Mode::Test, Mode::Live],
    };
    let mut rows: Vec<(i64, StoredEvent)> = Vec::new();
    for m in modes {
        let part = stmt.query_map(params![live(m), limit], stored_event)?;
        for row in part {
            rows.push(row?);
        }
    }
    rows.sort_by_key(|r| std::cmp::Reverse((r.1.received_at, r.0)));
    rows.truncate(limit as usize);
    Ok(rows.into_iter().map(|(_, e)| e).collect())
}

pub fn event_raw(conn: &Connection, id: &str) -> Result<Option<String>, MirrorError> {
    Ok(conn
        .query_row("SELECT raw FROM events WHERE id = ?1", params![id], |r| {
            r.get(0)
        })
        .optional()?)
}

/// The most earlier paid orders [`ModeFacts::earlier_paid_orders`] counts.
pub const EARLIER_PAID_BOUND: i64 = 1_000;

/// Facts about the events that *arrived* (webhook, feed, events API): the ones synthesised
/// from API responses (source `api`: a refund made in the app, an account fetch) say nothing
/// about whether Stripe's events reach the app, so they are left out. `since` is when the
/// mode was connected (see [`ModeFacts::connected_at`]).
fn mode_facts(conn: &Connection, mode: Mode, since: Option<i64>) -> Result<ModeFacts, MirrorError> {
    // Separate statements, each answered from an index: the first and last walk the
    // (livemode, received_at) index from one end and stop at the first arrived event; the
    // count subtracts the synthesised events, counted from their own partial index; the
    // newest of each source is the end of its (livemode, source, received_at) range.
    let one = |sql: &str| {
        conn.query_row(sql, params![live(mode)], |r| r.get::<_, Option<i64>>(0))
            .optional()
            .map(Option::flatten)
    };
    let first = one(
        "SELECT received_at FROM events WHERE livemode = ?1 AND source <> 'api'
         ORDER BY received_at LIMIT 1",
    )?;
    let last = one(
        "SELECT received_at FROM events WHERE livemode = ?1 AND source <> 'api'
         ORDER BY received_at DESC LIMIT 1",
    )?;
    let count = one("SELECT (SELECT count(*) FROM events WHERE livemode = ?1)
              - (SELECT count(*) FROM events WHERE livemode = ?1 AND source = 'api')")?
    .unwrap_or(0);
    let newest_from = |source: Source| {
        conn.query_row(
            "SELECT max(received_at) FROM events WHERE livemode = ?1 AND source = ?2",
            params![live(mode), source.as_str()],
            |r| r.get::<_, Option<i64>>(0),
        )
    };
    let connected_at = since.or(first);
    // Only the owner's orders count (a payment of another shop on the account does not).
    let (cond, extra) = crate::marker::condition(crate::marker::load(conn)?.as_ref());
    let args = |head: Vec<Sql>, tail: Vec<Sql>| {
        rusqlite::params_from_iter(head.into_iter().chain(extra.iter().cloned()).chain(tail))
    };
    // An order created at or after the line was paid after it too, so the walk along
    // (livemode, paid_at) starts at the line and meets only the few orders created before it
    // and paid after it: bounded for a store just connected with a long history and for one
    // connected long ago alike.
    // Ordered by the index alone (a tie-break column in the ORDER BY would sort the whole
    // range), then the lowest session id among orders paid in that same second.
    let first_paid_at = match connected_at {
        None => None,
        Some(from) => conn
            .query_row(
                &format!(
                    "SELECT o.paid_at FROM orders AS o INDEXED BY orders_paid
                     WHERE o.livemode = ? AND o.paid_at >= ? AND o.created >= ?{cond}
                     ORDER BY o.paid_at LIMIT 1"
                ),
                args(
                    vec![live(mode).into(), from.into(), from.into()],
                    Vec::new(),
                ),
                |r| r.get::<_, i64>(0),
            )
            .optional()?,
    };
    let first_paid = match (first_paid_at, connected_at) {
        (Some(at), Some(from)) => conn
            .query_row(
                &format!(
                    "SELECT min(o.session_id) FROM orders AS o INDEXED BY orders_paid
                     WHERE o.livemode = ? AND o.paid_at = ? AND o.created >= ?{cond}"
                ),
                args(vec![live(mode).into(), at.into(), from.into()], Vec::new()),
                |r| r.get::<_, Option<String>>(0),
            )?
            .map(|session| (session, at)),
        _ => None,
    };
    // Counted only while no newer order proves the mode, and up to a bound: the number is
    // for a sentence ("the 3 paid orders from before that"), not for accounting.
    let earlier: i64 = match (&first_paid, connected_at) {
        (None, Some(from)) => conn.query_row(
            &format!(
                "SELECT count(*) FROM (SELECT 1 FROM orders AS o INDEXED BY orders_page
                 WHERE o.livemode = ? AND o.created < ? AND o.paid_at IS NOT NULL{cond} LIMIT ?)"
            ),
            args(
                vec![live(mode).into(), from.into()],
                vec![EARLIER_PAID_BOUND.into()],
            ),
            |r| r.get(0),
        )?,
        _ => 0,
    };
    Ok(ModeFacts {
        first_event_at: first,
        connected_at,
        first_paid_order: first_paid,
        earlier_paid_orders: earlier as u64,
        last_event_at: last,
        last_webhook_at: newest_from(Source::Webhook)?,
        last_feed_at: newest_from(Source::Feed)?,
        last_polled_at: newest_from(Source::EventsApi)?,
        event_count: count as u64,
    })
}

/// The checklist's facts; `test_since` / `live_since` are when each mode was connected
/// (None: not recorded, see [`ModeFacts::connected_at`]).
pub fn checklist_facts(
    conn: &Connection,
    test_since: Option<i64>,
    live_since: Option<i64>,
) -> Result<ChecklistFacts, MirrorError> {
    Ok(ChecklistFacts {
        test: mode_facts(conn, Mode::Test, test_since)?,
        live: mode_facts(conn, Mode::Live, live_since)?,
        last_rejection: crate::log::rejections(conn, 1)?.into_iter().next(),
    })
}
