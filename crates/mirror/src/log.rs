//! The owner's logs (rejected deliveries, outbound API calls) and non-secret settings.
//!
//! Invariant: nothing here ever holds a secret or an unverified body — rejections keep
//! only time, code, size and peer; API calls keep method, path, ids and status.

use rusqlite::{Connection, OptionalExtension, params};

use crate::{ApiCall, MirrorError, Mode, NewRejection, Rejection, RejectionCode};

/// Prefixes of Stripe secret keys, restricted keys, OAuth access tokens (which are `sk_`
/// keys) and webhook signing secrets, and the HTTP bearer scheme.
const SECRET_MARKERS: [&str; 6] = [
    "sk_live_", "sk_test_", "rk_live_", "rk_test_", "whsec_", "Bearer ",
];

/// Refuse any text that carries a secret: a caller's slip must not put one on disk.
fn refuse_secrets<'a>(texts: impl IntoIterator<Item = Option<&'a str>>) -> Result<(), MirrorError> {
    if texts
        .into_iter()
        .flatten()
        .any(|t| SECRET_MARKERS.iter().any(|m| t.contains(m)))
    {
        return Err(MirrorError::SecretRefused);
    }
    Ok(())
}

pub fn record_rejection(conn: &Connection, r: &NewRejection, now: i64) -> Result<(), MirrorError> {
    refuse_secrets([r.peer.as_deref()])?;
    conn.prepare_cached(
        "INSERT INTO rejections(received_at, code, size, peer) VALUES (?1, ?2, ?3, ?4)",
    )?
    .execute(params![now, r.code.as_str(), r.size as i64, r.peer])?;
    Ok(())
}

pub fn rejections(conn: &Connection, limit: u32) -> Result<Vec<Rejection>, MirrorError> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, received_at, code, size, peer FROM rejections ORDER BY id DESC LIMIT ?1",
    )?;
    let rows = stmt
        .query_map(params![limit], |r| {
            Ok(Rejection {
                id: r.get(0)?,
                received_at: r.get(1)?,
                code: RejectionCode::parse(&r.get::<_, String>(2)?),
                size: r.get::<_, i64>(3)? as u64,
                peer: r.get(4)?,
            })
        })?
        .collect::<Result<_, _>>()?;
    Ok(rows)
}

pub fn record_api_call(conn: &Connection, c: &ApiCall) -> Result<(), MirrorError> {
    refuse_secrets([
        Some(c.method.as_str()),
        Some(c.path.as_str()),
        c.object_id.as_deref(),
        c.request_id.as_deref(),
        c.idempotency_key.as_deref(),
        c.error_code.as_deref(),
    ])?;
    conn.prepare_cached(
        "INSERT INTO api_calls(at, method, path, object_id, status, request_id, idempotency_key, duration_ms, mode,
            error_code) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
    )?
    .execute(params![
        c.at,
        c.method,
        c.path,
        c.object_id,
        c.status,
        c.request_id,
        c.idempotency_key,
        c.duration_ms as i64,
        c.mode.map(Mode::as_str),
        c.error_code
    ])?;
    Ok(())
}

pub fn api_calls(conn: &Connection, limit: u32) -> Result<Vec<ApiCall>, MirrorError> {
    let mut stmt = conn.prepare_cached(
        "SELECT at, method, path, object_id, status, request_id, idempotency_key, duration_ms, mode, error_code
         FROM api_calls ORDER BY id DESC LIMIT ?1",
    )?;
    let rows = stmt
        .query_map(params![limit], |r| {
            let mode: Option<String> = r.get(8)?;
            Ok(ApiCall {
                at: r.get(0)?,
                method: r.get(1)?,
                path: r.get(2)?,
                object_id: r.get(3)?,
                status: r.get(4)?,
                request_id: r.get(5)?,
                idempotency_key: r.get(6)?,
                duration_ms: r.get::<_, i64>(7)? as u64,
                mode: mode.map(|m| if m == "live" { Mode::Live } else { Mode::Test }),
                error_code: r.get(9)?,
            })
        })?
        .collect::<Result<_, _>>()?;
    Ok(rows)
}

pub fn setting(conn: &Connection, key: &str) -> Result<Option<String>, MirrorError> {
    Ok(conn
        .query_row(
            "SELECT value FROM settings WHERE key = ?1",
            params![key],
            |r| r.get(0),
        )
        .optional()?)
}

pub fn set_setting(conn: &Connection, key: &str, value: Option<&str>) -> Result<(), MirrorError> {
    refuse_secrets([Some(key), value])?;
    match value {
        Some(v) => conn.execute(
            "INSERT INTO settings(key, value) VALUES (?1, ?2) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            params![key, v],
        )?,
        None => conn.execute("DELETE FROM settings WHERE key = ?1", params![key])?,
    };
    Ok(())
}
