//! The embedded store: one SQLite file, one instance (a small platform, a developer's
//! machine). WAL with `synchronous = FULL`, so a committed doorbell survives a power cut
//! before the 200 goes out; one connection, so cursors grow in commit order; wake-ups in
//! process.

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rusqlite::{Connection, OptionalExtension, params};
use rusqlite_migration::{M, Migrations};
use tokio::sync::broadcast;

use super::{
    Doorbell, Horizon, NewDoorbell, NewStore, Scope, Store, StoreError, TakenGrant, Target,
    WAKE_CHANNEL, WakeKey,
};

const MIGRATIONS: &[M<'static>] = &[
    M::up(include_str!("../../migrations/sqlite/V1__init.sql")),
    M::up(include_str!(
        "../../migrations/sqlite/V2__broker_grants.sql"
    )),
    M::up(include_str!("../../migrations/sqlite/V3__store_claims.sql")),
];

/// The embedded store. Cheap to clone.
#[derive(Clone)]
pub struct SqliteStore {
    conn: Arc<Mutex<Connection>>,
    wake: broadcast::Sender<WakeKey>,
}

fn unavailable(e: impl std::fmt::Display) -> StoreError {
    StoreError::Unavailable(e.to_string())
}

impl SqliteStore {
    /// Open (creating if needed) and migrate the file at `path`.
    pub fn open(path: &Path) -> Result<SqliteStore, StoreError> {
        let mut conn = Connection::open(path).map_err(|e| {
            StoreError::Unavailable(format!("could not open {}: {e}", path.display()))
        })?;
        conn.busy_timeout(Duration::from_secs(5))
            .map_err(unavailable)?;
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(unavailable)?;
        conn.pragma_update(None, "synchronous", "FULL")
            .map_err(unavailable)?;
        conn.pragma_update(None, "foreign_keys", "ON")
            .map_err(unavailable)?;
        Migrations::from_slice(MIGRATIONS)
            .to_latest(&mut conn)
            .map_err(|e| StoreError::Migration(e.to_string()))?;
        let (wake, _) = broadcast::channel(WAKE_CHANNEL);
        Ok(SqliteStore {
            conn: Arc::new(Mutex::new(conn)),
            wake,
        })
    }

    async fn with<T: Send + 'static>(
        &self,
        work: impl FnOnce(&mut Connection) -> rusqlite::Result<T> + Send + 'static,
    ) -> Result<T, StoreError> {
        let conn = self.conn.clone();
        tokio::task::spawn_blocking(move || {
            // A panic mid-transaction rolls the transaction back when it is dropped: the
            // connection is whole again.
            let mut conn = conn.lock().unwrap_or_else(|p| p.into_inner());
            work(&mut conn)
        })
        .await
        .map_err(unavailable)?
        .map_err(unavailable)
    }
}

fn row_to_doorbell(row: &rusqlite::Row<'_>) -> rusqlite::Result<Doorbell> {
    let account: Option<String> = row.get(1)?;
    let store: Option<String> = row.get(2)?;
    let target = match (account, store) {
        (Some(a), _) => Target::Account(a),
        (None, Some(s)) => Target::Store(s),
        (None, None) => Target::Store(String::new()),
    };
    Ok(Doorbell {
        cursor: row.get(0)?,
        doorbell: NewDoorbell {
            target,
            livemode: row.get(3)?,
            event_id: row.get(4)?,
            event_type: row.get(5)?,
            created: row.get(6)?,
            received: row.get(7)?,
        },
    })
}

const COLUMNS: &str = "cursor, account, store, livemode, event_id, type, created, received";

impl Store for SqliteStore {
    async fn ping(&self) -> Result<(), StoreError> {
        self.with(|c| c.query_row("SELECT 1", [], |r| r.get::<_, i64>(0)))
            .await
            .map(|_| ())
    }

    async fn create_store(&self, store: &NewStore) -> Result<(), StoreError> {
        let s = store.clone();
        self.with(move |c| {
            c.execute(
                "INSERT INTO stores (id, key_hash, feed_token_hash, created) VALUES (?1, ?2, ?3, ?4)",
                params![s.id, s.key_hash.as_slice(), s.feed_token_hash.as_slice(), s.created],
            )
        })
        .await
        .map(|_| ())
    }

    async fn store_by_key(&self, key_hash: [u8; 32]) -> Result<Option<String>, StoreError> {
        self.with(move |c| {
            c.query_row(
                "SELECT id FROM stores WHERE key_hash = ?1",
                [key_hash.as_slice()],
                |r| r.get(0),
            )
            .optional()
        })
        .await
    }

    async fn store_by_feed_token(
        &self,
        token_hash: [u8; 32],
    ) -> Result<Option<String>, StoreError> {
        self.with(move |c| {
            let found: Option<(String, bool)> = c
                .query_row(
                    "SELECT id, claimed FROM stores WHERE feed_token_hash = ?1",
                    [token_hash.as_slice()],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .optional()?;
            if let Some((id, false)) = &found {
                c.execute("UPDATE stores SET claimed = 1 WHERE id = ?1", [id])?;
            }
            Ok(found.map(|(id, _)| id))
        })
        .await
    }

    async fn ring(&self, doorbell: NewDoorbell) -> Result<bool, StoreError> {
        let key = doorbell.scope().wake_key();
        let inserted = self
            .with(move |c| {
                let (account, store) = match &doorbell.target {
                    Target::Account(a) => (Some(a.as_str()), None),
                    Target::Store(s) => (None, Some(s.as_str())),
                };
                c.execute(
                    "INSERT INTO doorbells (account, store, livemode, event_id, type, created, received)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT DO NOTHING",
                    params![
                        account,
                        store,
                        doorbell.livemode,
                        doorbell.event_id,
                        doorbell.event_type,
                        doorbell.created,
                        doorbell.received
                    ],
                )
            })
            .await?;
        if inserted > 0 {
            // No receiver (no feed open) is not an error.
            let _ = self.wake.send(WakeKey::from(key));
        }
        Ok(inserted > 0)
    }

    async fn after(
        &self,
        scope: &Scope,
        cursor: i64,
        limit: u32,
    ) -> Result<Vec<Doorbell>, StoreError> {
        let scope = scope.clone();
        self.with(move |c| {
            let rows = match &scope {
                Scope::Account { account, livemode } => {
                    let mut st = c.prepare_cached(&format!(
                        "SELECT {COLUMNS} FROM doorbells WHERE account = ?1 AND livemode = ?2
                         AND cursor > ?3 ORDER BY cursor LIMIT ?4"
                    ))?;
                    st.query_map(params![account, livemode, cursor, limit], row_to_doorbell)?
                        .collect::<rusqlite::Result<Vec<_>>>()?
                }
                Scope::Store { store } => {
                    let mut st = c.prepare_cached(&format!(
                        "SELECT {COLUMNS} FROM doorbells WHERE store = ?1 AND cursor > ?2
                         ORDER BY cursor LIMIT ?3"
                    ))?;
                    st.query_map(params![store, cursor, limit], row_to_doorbell)?
                        .collect::<rusqlite::Result<Vec<_>>>()?
                }
            };
            Ok(rows)
        })
        .await
    }

    async fn horizon(&self) -> Result<Horizon, StoreError> {
        self.with(|c| {
            c.query_row(
                "SELECT r.pruned_through, max(r.pruned_through, coalesce((SELECT max(cursor) FROM doorbells), 0))
                 FROM retention r WHERE r.id = 1",
                [],
                |r| {
                    Ok(Horizon {
                        pruned_through: r.get(0)?,
                        tip: r.get(1)?,
                    })
                },
            )
        })
        .await
    }

    async fn prune(&self, received_before: i64) -> Result<Option<u64>, StoreError> {
        self.with(move |c| {
            let tx = c.transaction()?;
            let highest: Option<i64> = tx.query_row(
                "SELECT max(cursor) FROM doorbells WHERE received < ?1",
                [received_before],
                |r| r.get(0),
            )?;
            let removed = tx.execute(
                "DELETE FROM doorbells WHERE received < ?1",
                [received_before],
            )?;
            if let Some(h) = highest {
                tx.execute(
                    "UPDATE retention SET pruned_through = max(pruned_through, ?1) WHERE id = 1",
                    [h],
                )?;
            }
            tx.commit()?;
            Ok(Some(removed as u64))
        })
        .await
    }

    async fn prune_unclaimed_stores(&self, created_before: i64) -> Result<u64, StoreError> {
        self.with(move |c| {
            c.execute(
                "DELETE FROM stores WHERE claimed = 0 AND created < ?1",
                [created_before],
            )
        })
        .await
        .map(|n| n as u64)
    }

    async fn put_grant(
        &self,
        code_hash: [u8; 32],
        sealed: Vec<u8>,
        expires: i64,
    ) -> Result<(), StoreError> {
        let now = fluxstore_relay::signature::unix_now();
        self.with(move |c| {
            let tx = c.transaction()?;
            tx.execute("DELETE FROM broker_grants WHERE expires <= ?1", [now])?;
            tx.execute(
                "INSERT INTO broker_grants (code_hash, sealed, expires) VALUES (?1, ?2, ?3)",
                params![code_hash.as_slice(), sealed, expires],
            )?;
            tx.commit()
        })
        .await
    }

    async fn take_grant(&self, code_hash: [u8; 32], now: i64) -> Result<TakenGrant, StoreError> {
        let row: Option<(Vec<u8>, i64)> = self
            .with(move |c| {
                c.query_row(
                    "DELETE FROM broker_grants WHERE code_hash = ?1 RETURNING sealed, expires",
                    [code_hash.as_slice()],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .optional()
            })
            .await?;
        Ok(match row {
            Some((sealed, expires)) if expires > now => TakenGrant::Fresh(sealed),
            Some(_) => TakenGrant::Expired,
            None => TakenGrant::Missing,
        })
    }

    async fn prune_grants(&self, now: i64) -> Result<u64, StoreError> {
        self.with(move |c| c.execute("DELETE FROM broker_grants WHERE expires <= ?1", [now]))
            .await
            .map(|n| n as u64)
    }

    fn wakeups(&self) -> broadcast::Receiver<WakeKey> {
        self.wake.subscribe()
    }
}
