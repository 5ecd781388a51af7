//! A canonical text dump of the projection tables, for the property tests.
//!
//! Canonical: every table in primary-key order, every column but internal row ids (which
//! depend on insertion order and are not part of the projection), values printed by type.
//! A table that an older schema does not have yet dumps as empty, so a dump taken before a
//! migration compares with one taken after.

use rusqlite::Connection;
use rusqlite::types::ValueRef;

use crate::MirrorError;

const TABLES: [(&str, &str); 6] = [
    ("orders", "SELECT session_id, payment_intent_id, charge_id, subscription_id, status, amount, amount_refunded,
        currency, customer_email, customer_name, client_reference_id, failure_message, livemode, account, created,
        updated, paid_at FROM orders ORDER BY session_id"),
    ("order_links", "SELECT object_id, order_key FROM order_links ORDER BY object_id"),
    ("disputes", "SELECT * FROM disputes ORDER BY id"),
    ("subscriptions", "SELECT * FROM subscriptions ORDER BY id"),
    ("invoices", "SELECT * FROM invoices ORDER BY id"),
    ("accounts", "SELECT * FROM accounts ORDER BY account_id, livemode"),
];

pub fn dump(conn: &Connection) -> Result<String, MirrorError> {
    let mut out = String::new();
    for (name, sql) in TABLES {
        out.push_str(&format!("== {name}\n"));
        let exists: bool = conn.query_row(
            "SELECT count(*) > 0 FROM sqlite_schema WHERE type = 'table' AND name = ?1",
            [name],
            |r| r.get(0),
        )?;
        if !exists {
            continue;
        }
        let mut stmt = conn.prepare(sql)?;
        let n = stmt.column_count();
        let mut rows = stmt.query([])?;
        while let Some(row) = rows.next()? {
            let cells: Vec<String> = (0..n)
                .map(|i| match row.get_ref(i) {
                    Ok(ValueRef::Null) => "NULL".to_owned(),
                    Ok(ValueRef::Integer(v)) => v.to_string(),
                    Ok(ValueRef::Real(v)) => v.to_string(),
                    Ok(ValueRef::Text(t)) => format!("{:?}", String::from_utf8_lossy(t)),
                    Ok(ValueRef::Blob(b)) => format!("blob:{}", b.len()),
                    Err(e) => format!("error:{e}"),
                })
                .collect();
            out.push_str(&cells.join("|"));
            out.push('\n');
        }
    }
    Ok(out)
}
