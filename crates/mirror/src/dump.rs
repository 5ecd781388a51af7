//! A canonical text dump of the projection tables, for the property tests.
//!
//! Canonical: every table in primary-key order, every column but internal row ids (which
//! depend on insertion order and are not part of the projection), values printed by type.
//! A table that an older schema does not have yet dumps as empty, so a dump taken before a
//! migration compares with one taken after.

use rusqlite::Connection;
use rusqlite::types::ValueRef;

use crate::MirrorError;

/// Each projection table and its canonical order. Columns are every column the table has
/// but the internal row id of `orders`; an older schema's dump simply has fewer.
const TABLES: [(&str, &str); 7] = [
    ("orders", "session_id"),
    ("other_payments", "key"),
    ("order_links", "object_id"),
    ("disputes", "id"),
    ("subscriptions", "id"),
    ("invoices", "id"),
    ("accounts", "account_id, livemode"),
];

fn columns(conn: &Connection, table: &str) -> Result<Vec<String>, MirrorError> {
    let mut stmt = conn.prepare("SELECT name FROM pragma_table_info(?1) ORDER BY cid")?;
    let cols = stmt
        .query_map([table], |r| r.get::<_, String>(0))?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(cols
        .into_iter()
        .filter(|c| !(table == "orders" && c == "id"))
        .collect())
}

pub fn dump(conn: &Connection) -> Result<String, MirrorError> {
    let mut out = String::new();
    for (name, order_by) in TABLES {
        out.push_str(&format!("== {name}\n"));
        let exists: bool = conn.query_row(
            "SELECT count(*) > 0 FROM sqlite_schema WHERE type = 'table' AND name = ?1",
            [name],
            |r| r.get(0),
        )?;
        if !exists {
            continue;
        }
        let sql = format!(
            "SELECT {} FROM {name} ORDER BY {order_by}",
            columns(conn, name)?.join(", ")
        );
        let mut stmt = conn.prepare(&sql)?;
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
