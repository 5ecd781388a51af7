//! Order list (filters, search, keyset pagination), order detail, payment lookup.
//!
//! Pages are keyset-paginated newest first on `(created, session_id)`; the cursor is the
//! last row's pair, hex-encoded so callers treat it as opaque. Indexes `orders_page`,
//! `orders_status` and `orders_currency` serve each page without sorting the table; id
//! search goes through `order_links` (prefix range on the primary key), e-mail search
//! through the trigram index `orders_email_fts`. Every read of an order applies the
//! owner's order marker (`crate::marker`).

use rusqlite::types::Value as Sql;
use rusqlite::{Connection, OptionalExtension, Row, params, params_from_iter};

use crate::event::Kind;
use crate::facts::ORDER_SESSION_WAIT_SECS;
use crate::marker;
use crate::project::group::order_group;
use crate::{
    Dispute, LineItem, MAX_PAGE, MetadataField, MirrorError, Mode, Order, OrderDetail, OrderQuery,
    OrderStatus, OtherActivity, Page, Refund, Source, TimelineEntry,
};

pub const COLS: &str = "o.session_id, o.payment_intent_id, o.charge_id, o.subscription_id, o.status, o.amount,
    o.amount_refunded, o.currency, o.customer_email, o.customer_name, o.client_reference_id, o.failure_message,
    o.livemode, o.account, o.created, o.updated, o.customer_country, o.card_brand, o.card_last4, o.risk_level, o.customer_id";

pub fn order_from_row(r: &Row<'_>) -> rusqlite::Result<Order> {
    Ok(Order {
        session_id: r.get(0)?,
        payment_intent_id: r.get(1)?,
        charge_id: r.get(2)?,
        subscription_id: r.get(3)?,
        status: OrderStatus::parse(&r.get::<_, String>(4)?),
        amount: r.get(5)?,
        amount_refunded: r.get(6)?,
        currency: r.get(7)?,
        customer_email: r.get(8)?,
        customer_name: r.get(9)?,
        client_reference_id: r.get(10)?,
        failure_message: r.get(11)?,
        mode: Mode::from_livemode(r.get(12)?),
        account: r.get(13)?,
        created: r.get(14)?,
        updated: r.get(15)?,
        customer_country: r.get(16)?,
        card_brand: r.get(17)?,
        card_last4: r.get(18)?,
        risk_level: r.get(19)?,
        customer_id: r.get(20)?,
    })
}

fn encode_cursor(created: i64, key: &str) -> String {
    format!("{created}:{key}")
        .bytes()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn decode_cursor(c: &str) -> Result<(i64, String), MirrorError> {
    if !c.len().is_multiple_of(2) || !c.is_ascii() {
        return Err(MirrorError::InvalidCursor);
    }
    let bytes = (0..c.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&c[i..i + 2], 16))
        .collect::<Result<Vec<u8>, _>>()
        .map_err(|_| MirrorError::InvalidCursor)?;
    let text = String::from_utf8(bytes).map_err(|_| MirrorError::InvalidCursor)?;
    let (created, key) = text.split_once(':').ok_or(MirrorError::InvalidCursor)?;
    Ok((
        created.parse().map_err(|_| MirrorError::InvalidCursor)?,
        key.to_owned(),
    ))
}

const ID_PREFIXES: [&str; 9] = [
    "cs_", "pi_", "ch_", "py_", "re_", "dp_", "du_", "in_", "pyr_",
];

/// True for text that looks like a Stripe id: a known prefix, then id characters.
fn looks_like_id(s: &str) -> bool {
    ID_PREFIXES.iter().any(|p| s.starts_with(p))
        && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Above this many matches a search walks the table newest first instead of fetching
/// and sorting the matches (dense matches fill a page after a short walk).
const CANDIDATE_CAP: usize = 2_000;

enum Search {
    /// Row ids of every matching order (at most [`CANDIDATE_CAP`]).
    Candidates(Vec<i64>),
    /// A condition on `o` that matching rows satisfy, for a newest-first walk.
    Scan(String, Vec<Sql>),
}

fn like_escape(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_")
}

/// Ids match by their start (through `order_links`, which also holds refund and dispute
/// ids); e-mail addresses by any part of 3+ characters (trigram index), shorter text by a
/// plain walk.
fn plan_search(conn: &Connection, s: &str) -> Result<Search, MirrorError> {
    let cap = CANDIDATE_CAP as i64 + 1;
    let ids: Vec<i64> = if looks_like_id(s) {
        let mut stmt = conn.prepare_cached(
            "SELECT DISTINCT o.id FROM order_links l JOIN orders o ON o.session_id = l.order_key
             WHERE l.object_id >= ?1 AND l.object_id < ?2 LIMIT ?3",
        )?;
        let upper = format!("{s}\u{10FFFF}");
        let ids = stmt
            .query_map(params![s, upper, cap], |r| r.get(0))?
            .collect::<Result<Vec<i64>, _>>()?;
        if ids.len() > CANDIDATE_CAP {
            let p = Sql::Text(format!("{}%", like_escape(s)));
            let cond = "(o.session_id LIKE ? ESCAPE '\\' OR o.payment_intent_id LIKE ? ESCAPE '\\' OR o.charge_id LIKE ? ESCAPE '\\')";
            return Ok(Search::Scan(cond.into(), vec![p.clone(), p.clone(), p]));
        }
        ids
    } else if s.chars().count() >= 3 {
        let mut stmt = conn.prepare_cached(
            "SELECT rowid FROM orders_email_fts WHERE orders_email_fts MATCH ?1 LIMIT ?2",
        )?;
        let phrase = format!("\"{}\"", s.replace('"', "\"\""));
        stmt.query_map(params![phrase, cap], |r| r.get(0))?
            .collect::<Result<Vec<i64>, _>>()?
    } else {
        Vec::new()
    };
    if ids.len() > CANDIDATE_CAP || s.chars().count() < 3 {
        let p = Sql::Text(format!("%{}%", like_escape(s)));
        return Ok(Search::Scan(
            "o.customer_email LIKE ? ESCAPE '\\'".into(),
            vec![p],
        ));
    }
    Ok(Search::Candidates(ids))
}

pub fn orders(conn: &Connection, mode: Mode, q: &OrderQuery) -> Result<Page<Order>, MirrorError> {
    let limit = if q.limit == 0 {
        50
    } else {
        q.limit.min(MAX_PAGE)
    };
    let mut sql = format!("SELECT {COLS} FROM orders o WHERE o.livemode = ?");
    let mut args: Vec<Sql> = vec![Sql::Integer(i64::from(mode.is_live()))];
    match q
        .search
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| plan_search(conn, s))
        .transpose()?
    {
        None => {}
        Some(Search::Candidates(ids)) => {
            // Drive the query from the few matching rows (CROSS JOIN fixes the loop order),
            // then sort them: cheaper than walking the whole table newest first.
            let list = format!(
                "[{}]",
                ids.iter().map(i64::to_string).collect::<Vec<_>>().join(",")
            );
            sql = format!(
                "SELECT {COLS} FROM json_each(?) c CROSS JOIN orders o ON o.id = c.value WHERE o.livemode = ?"
            );
            args.insert(0, Sql::Text(list));
        }
        Some(Search::Scan(cond, extra)) => {
            // Many matches: walking newest first finds a page of them quickly.
            sql.push_str(&format!(" AND {cond}"));
            args.extend(extra);
        }
    }
    let (cond, extra) = marker::condition(marker::load(conn)?.as_ref());
    sql.push_str(&cond);
    args.extend(extra);
    if !q.statuses.is_empty() {
        sql.push_str(&format!(
            " AND o.status IN ({})",
            vec!["?"; q.statuses.len()].join(",")
        ));
        args.extend(q.statuses.iter().map(|s| Sql::Text(s.as_str().to_owned())));
    }
    if let Some(c) = q
        .currency
        .as_deref()
        .map(str::trim)
        .filter(|c| !c.is_empty())
    {
        sql.push_str(" AND o.currency = ?");
        args.push(Sql::Text(c.to_ascii_lowercase()));
    }
    if let Some(from) = q.created_from {
        sql.push_str(" AND o.created >= ?");
        args.push(Sql::Integer(from));
    }
    if let Some(to) = q.created_to {
        sql.push_str(" AND o.created <= ?");
        args.push(Sql::Integer(to));
    }
    if let Some(after) = q.after.as_deref() {
        let (created, key) = decode_cursor(after)?;
        sql.push_str(" AND (o.created, o.session_id) < (?, ?)");
        args.push(Sql::Integer(created));
        args.push(Sql::Text(key));
    }
    sql.push_str(" ORDER BY o.created DESC, o.session_id DESC LIMIT ?");
    args.push(Sql::Integer(i64::from(limit) + 1));
    let mut stmt = conn.prepare_cached(&sql)?;
    let mut items = stmt
        .query_map(params_from_iter(args), order_from_row)?
        .collect::<Result<Vec<_>, _>>()?;
    let next = if items.len() > limit as usize {
        items.truncate(limit as usize);
        items
            .last()
            .map(|o| encode_cursor(o.created, &o.session_id))
    } else {
        None
    };
    Ok(Page { items, next })
}

fn key_for(conn: &Connection, id: &str) -> Result<Option<String>, MirrorError> {
    let mut stmt = conn.prepare_cached("SELECT order_key FROM order_links WHERE object_id = ?1")?;
    Ok(stmt.query_row(params![id], |r| r.get(0)).optional()?)
}

/// The order under `key`, if it is one of the owner's orders (the marker applies).
fn order_by_key(conn: &Connection, key: &str) -> Result<Option<Order>, MirrorError> {
    let (cond, extra) = marker::condition(marker::load(conn)?.as_ref());
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {COLS} FROM orders o WHERE o.session_id = ?{cond}"
    ))?;
    let args = std::iter::once(Sql::Text(key.to_owned())).chain(extra);
    Ok(stmt
        .query_row(params_from_iter(args), order_from_row)
        .optional()?)
}

/// Payments of `mode` that are not the owner's orders, as of `now` (see [`OtherActivity`]).
pub fn other_activity(
    conn: &Connection,
    mode: Mode,
    now: i64,
) -> Result<OtherActivity, MirrorError> {
    let live = i64::from(mode.is_live());
    let cutoff = now - ORDER_SESSION_WAIT_SECS;
    let (waiting, old): (i64, i64) = conn.query_row(
        "SELECT count(*) FILTER (WHERE created > ?2), count(*) FILTER (WHERE created <= ?2)
         FROM other_payments WHERE livemode = ?1",
        params![live, cutoff],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?;
    let unmarked: i64 = match marker::load(conn)? {
        None => 0,
        Some(m) => {
            let (cond, extra) = marker::condition(Some(&m));
            // The marker's condition, negated: sessions the owner's marker leaves out.
            let cond = cond.trim_start_matches(" AND ");
            let args = std::iter::once(Sql::Integer(live)).chain(extra);
            conn.query_row(
                &format!("SELECT count(*) FROM orders o WHERE o.livemode = ? AND NOT coalesce(({cond}), 0)"),
                params_from_iter(args),
                |r| r.get(0),
            )?
        }
    };
    Ok(OtherActivity {
        count: (old + unmarked) as u64,
        waiting: waiting as u64,
    })
}

/// The stored line items of an order's session; None when they were never fetched.
pub fn line_items(
    conn: &Connection,
    session_id: &str,
) -> Result<Option<Vec<LineItem>>, MirrorError> {
    let fetched: Option<i64> = conn
        .prepare_cached("SELECT fetched_at FROM line_item_fetches WHERE session_id = ?1")?
        .query_row(params![session_id], |r| r.get(0))
        .optional()?;
    if fetched.is_none() {
        return Ok(None);
    }
    let mut stmt = conn.prepare_cached(
        "SELECT id, description, quantity, amount_subtotal, amount_total, currency, price_id, product_id
         FROM line_items WHERE session_id = ?1 ORDER BY position",
    )?;
    let items = stmt
        .query_map(params![session_id], |r| {
            Ok(LineItem {
                id: r.get(0)?,
                description: r.get(1)?,
                quantity: r.get(2)?,
                amount_subtotal: r.get(3)?,
                amount_total: r.get(4)?,
                currency: r.get(5)?,
                price_id: r.get(6)?,
                product_id: r.get(7)?,
            })
        })?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Some(items))
}

/// Keep the line items fetched for an order's session (replacing any kept before).
pub fn store_line_items(
    conn: &Connection,
    session_id: &str,
    items: &[LineItem],
    fetched_at: i64,
) -> Result<(), MirrorError> {
    conn.execute(
        "DELETE FROM line_item_fetches WHERE session_id = ?1",
        params![session_id],
    )?;
    conn.execute(
        "DELETE FROM line_items WHERE session_id = ?1",
        params![session_id],
    )?;
    conn.execute(
        "INSERT INTO line_item_fetches(session_id, fetched_at) VALUES (?1, ?2)",
        params![session_id, fetched_at],
    )?;
    let mut ins = conn.prepare_cached(
        "INSERT INTO line_items(session_id, position, id, description, quantity, amount_subtotal, amount_total,
            currency, price_id, product_id) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
    )?;
    for (i, it) in items.iter().enumerate() {
        ins.execute(params![
            session_id,
            i as i64,
            it.id,
            it.description,
            it.quantity,
            it.amount_subtotal,
            it.amount_total,
            it.currency.to_ascii_lowercase(),
            it.price_id,
            it.product_id
        ])?;
    }
    Ok(())
}

/// Orders of `mode` (newest first) whose line items were never fetched, at most `limit`.
pub fn orders_without_line_items(
    conn: &Connection,
    mode: Mode,
    limit: u32,
) -> Result<Vec<String>, MirrorError> {
    let (cond, extra) = marker::condition(marker::load(conn)?.as_ref());
    let sql = format!(
        "SELECT o.session_id FROM orders o WHERE o.livemode = ?{cond}
         AND NOT EXISTS (SELECT 1 FROM line_item_fetches f WHERE f.session_id = o.session_id)
         ORDER BY o.created DESC, o.session_id DESC LIMIT ?"
    );
    let args = std::iter::once(Sql::Integer(i64::from(mode.is_live())))
        .chain(extra)
        .chain(std::iter::once(Sql::Integer(i64::from(limit))));
    let mut stmt = conn.prepare_cached(&sql)?;
    let ids = stmt
        .query_map(params_from_iter(args), |r| r.get(0))?
        .collect::<Result<Vec<String>, _>>()?;
    Ok(ids)
}

fn metadata_fields(conn: &Connection, key: &str) -> Result<Vec<MetadataField>, MirrorError> {
    let raw: Option<String> = conn
        .prepare_cached("SELECT metadata FROM orders WHERE session_id = ?1")?
        .query_row(params![key], |r| r.get(0))
        .optional()?
        .flatten();
    // Written by the fold as a JSON object of strings, keys sorted.
    let map: std::collections::BTreeMap<String, String> = raw
        .and_then(|r| serde_json::from_str(&r).ok())
        .unwrap_or_default();
    Ok(map
        .into_iter()
        .map(|(key, value)| MetadataField { key, value })
        .collect())
}

pub fn order_for_payment(conn: &Connection, id: &str) -> Result<Option<Order>, MirrorError> {
    match key_for(conn, id)? {
        Some(key) => order_by_key(conn, &key),
        None => Ok(None),
    }
}

/// The refunds of the order keyed `key`, oldest first; none for an unknown key.
pub fn order_refunds(conn: &Connection, key: &str) -> Result<Vec<Refund>, MirrorError> {
    let group = order_group(conn, &[(key.to_owned(), Kind::Session)], None)?;
    Ok(crate::project::refund::refunds(&group.snaps))
}

pub fn order_detail(
    conn: &Connection,
    mode: Mode,
    id: &str,
) -> Result<Option<OrderDetail>, MirrorError> {
    let key = key_for(conn, id)?.unwrap_or_else(|| id.to_owned());
    let Some(order) = order_by_key(conn, &key)?.filter(|o| o.mode == mode) else {
        return Ok(None);
    };
    // The order's events: the same walk over `event_refs` that derived the order, from
    // its key (any order part seeds it; the walk finds the rest), in `(created, id)` order.
    let group = order_group(conn, &[(key.clone(), Kind::Session)], None)?;
    let refunds = crate::project::refund::refunds(&group.snaps);
    let mut stmt = conn.prepare_cached("SELECT source, received_at FROM events WHERE id = ?1")?;
    let timeline = group
        .snaps
        .into_iter()
        .map(|s| {
            let (source, received_at) = stmt.query_row(params![s.event_id], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?))
            })?;
            Ok(TimelineEntry {
                event_id: s.event_id,
                event_type: s.event_type,
                created: s.created,
                source: Source::parse(&source),
                received_at,
            })
        })
        .collect::<Result<Vec<_>, MirrorError>>()?;
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {} FROM disputes d WHERE d.order_key = ?1 ORDER BY d.created, d.id",
        super::lists::DISPUTE_COLS
    ))?;
    let disputes: Vec<Dispute> = stmt
        .query_map(params![key], super::lists::dispute_from_row)?
        .collect::<Result<_, _>>()?;
    Ok(Some(OrderDetail {
        metadata: metadata_fields(conn, &key)?,
        line_items: line_items(conn, &key)?,
        order,
        timeline,
        refunds,
        disputes,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_reject_garbage() {
        let c = encode_cursor(1_700_000_000, "cs_test_a1B");
        assert_eq!(
            decode_cursor(&c).unwrap(),
            (1_700_000_000, "cs_test_a1B".to_owned())
        );
        for bad in ["zz", "abc", "6162", "é"] {
            assert!(
                matches!(decode_cursor(bad), Err(MirrorError::InvalidCursor)),
                "{bad}"
            );
        }
    }

    #[test]
    fn id_detection() {
        assert!(looks_like_id("pi_3QabC"));
        assert!(looks_like_id("cs_test_a1"));
        assert!(!looks_like_id("john_doe"));
        assert!(!looks_like_id("pi_3Q@x"));
    }
}
