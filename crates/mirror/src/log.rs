//! The owner's logs (rejected deliveries, outbound API calls) and non-secret settings.
//!
//! Invariant: nothing here ever holds a secret or an unverified body — rejections keep
//! only counts per (hour, code) with the first and last time and the last size and peer;
//! API calls keep method, path, ids and status. The rejection table is bounded
//! ([`MAX_REJECTION_ROWS`]) whatever anyone sends.

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

/// Length of a rejection bucket: refusals of one code within one hour share one row.
pub const REJECTION_BUCKET_SECS: i64 = 3_600;
/// Most rejection rows kept; the oldest buckets are dropped first. With every code refused
/// every hour this is still more than three days of history, and the table stays a few
/// hundred KB whatever a sender does.
pub const MAX_REJECTION_ROWS: u32 = 1_000;

/// Refusals counted in memory until the next commit: one entry per (bucket, code), so a
/// flood of bad requests costs a counter increment each and a handful of rows per write.
#[derive(Debug, Default, Clone)]
pub struct RejectionTally {
    counts: Vec<Rejection>,
}

impl RejectionTally {
    /// Count one refusal at `now` (unix seconds).
    pub fn add(&mut self, r: &NewRejection, now: i64) {
        let bucket_start = now - now.rem_euclid(REJECTION_BUCKET_SECS);
        if let Some(c) = self
            .counts
            .iter_mut()
            .find(|c| c.bucket_start == bucket_start && c.code == r.code)
        {
            c.count += 1;
            if now >= c.last_at {
                c.last_at = now;
                c.last_peer.clone_from(&r.peer);
                c.last_size = r.size;
            }
            c.first_at = c.first_at.min(now);
            return;
        }
        self.counts.push(Rejection {
            id: 0,
            bucket_start,
            code: r.code,
            count: 1,
            first_at: now,
            last_at: now,
            last_peer: r.peer.clone(),
            last_size: r.size,
        });
    }

    pub fn is_empty(&self) -> bool {
        self.counts.is_empty()
    }

    /// Refusals counted (not rows).
    pub fn total(&self) -> u64 {
        self.counts.iter().map(|c| c.count).sum()
    }

    /// Move everything counted out, leaving the tally empty.
    pub fn take(&mut self) -> RejectionTally {
        std::mem::take(self)
    }

    /// Add another tally's counts (one that could not be written) back into this one.
    pub fn merge(&mut self, other: RejectionTally) {
        for o in other.counts {
            match self
                .counts
                .iter_mut()
                .find(|c| c.bucket_start == o.bucket_start && c.code == o.code)
            {
                Some(c) => {
                    c.count += o.count;
                    c.first_at = c.first_at.min(o.first_at);
                    if o.last_at >= c.last_at {
                        c.last_at = o.last_at;
                        c.last_peer = o.last_peer;
                        c.last_size = o.last_size;
                    }
                }
                None => self.counts.push(o),
            }
        }
    }
}

/// Add a tally to the aggregate rows, then drop the oldest buckets beyond
/// [`MAX_REJECTION_ROWS`]. Runs inside the caller's transaction.
pub fn write_rejections(conn: &Connection, tally: &RejectionTally) -> Result<(), MirrorError> {
    if tally.is_empty() {
        return Ok(());
    }
    refuse_secrets(tally.counts.iter().map(|c| c.last_peer.as_deref()))?;
    let mut upsert = conn.prepare_cached(
        "INSERT INTO rejections(bucket_start, code, count, first_at, last_at, last_peer, last_size)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
         ON CONFLICT(bucket_start, code) DO UPDATE SET
             count = count + excluded.count,
             first_at = min(first_at, excluded.first_at),
             last_at = max(last_at, excluded.last_at),
             last_peer = CASE WHEN excluded.last_at >= last_at THEN excluded.last_peer ELSE last_peer END,
             last_size = CASE WHEN excluded.last_at >= last_at THEN excluded.last_size ELSE last_size END",
    )?;
    for c in &tally.counts {
        upsert.execute(params![
            c.bucket_start,
            c.code.as_str(),
            c.count as i64,
            c.first_at,
            c.last_at,
            c.last_peer,
            c.last_size as i64
        ])?;
    }
    cap_rejections(conn)
}

/// Keep the newest [`MAX_REJECTION_ROWS`] rows (by bucket).
pub fn cap_rejections(conn: &Connection) -> Result<(), MirrorError> {
    conn.prepare_cached(
        "DELETE FROM rejections WHERE id IN (
             SELECT id FROM rejections ORDER BY bucket_start DESC, id DESC LIMIT -1 OFFSET ?1)",
    )?
    .execute(params![MAX_REJECTION_ROWS])?;
    Ok(())
}

pub fn record_rejection(conn: &Connection, r: &NewRejection, now: i64) -> Result<(), MirrorError> {
    let mut tally = RejectionTally::default();
    tally.add(r, now);
    write_rejections(conn, &tally)
}

/// Aggregate rows, the most recently refused first.
pub fn rejections(conn: &Connection, limit: u32) -> Result<Vec<Rejection>, MirrorError> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, bucket_start, code, count, first_at, last_at, last_peer, last_size
         FROM rejections ORDER BY last_at DESC, id DESC LIMIT ?1",
    )?;
    let rows = stmt
        .query_map(params![limit], |r| {
            Ok(Rejection {
                id: r.get(0)?,
                bucket_start: r.get(1)?,
                code: RejectionCode::parse(&r.get::<_, String>(2)?),
                count: r.get::<_, i64>(3)?.max(0) as u64,
                first_at: r.get(4)?,
                last_at: r.get(5)?,
                last_peer: r.get(6)?,
                last_size: r.get::<_, i64>(7)?.max(0) as u64,
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
