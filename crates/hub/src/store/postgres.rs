//! PostgreSQL: every replica stateless, the rows and the wake-ups in the database.
//!
//! - Doorbells are written by one group-commit writer per replica, each batch in one
//!   transaction under a transaction-scoped advisory lock, so cursors (a `BIGSERIAL`) become
//!   visible in the order they were issued across all replicas: a feed that read up to `c`
//!   can never later find a committed doorbell below `c`. `NOTIFY` in the same transaction
//!   wakes the feeds on every replica at commit.
//! - Each replica keeps one `LISTEN` connection; when it is lost and re-established, every
//!   local feed is woken once ([`WAKE_ALL`]) and re-reads, so nothing rung meanwhile is missed.
//! - Retention runs on one replica at a time (`pg_try_advisory_xact_lock`); migrations run
//!   under a session advisory lock so replicas starting together do not race.
//! - A database that is down answers within the pool's timeouts (the intake then says 503).

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod, Runtime};
use tokio::sync::{broadcast, mpsc, oneshot};
use tokio_postgres::{AsyncMessage, NoTls};

use super::{
    Doorbell, Horizon, NewDoorbell, NewStore, Scope, Store, StoreError, TakenGrant, Target,
    WAKE_ALL, WAKE_CHANNEL, WakeKey,
};

mod embedded {
    refinery::embed_migrations!("migrations/postgres");
}

/// The `LISTEN`/`NOTIFY` channel of doorbell wake-ups.
const CHANNEL: &str = "fluxstore_hub_doorbells";
/// Advisory lock keys (one number space per database; "fxhub" plus a digit).
const MIGRATE_LOCK: i64 = 0x6678_6875_6201;
const WRITE_LOCK: i64 = 0x6678_6875_6202;
const PRUNE_LOCK: i64 = 0x6678_6875_6203;
/// How long a request waits for a connection, or for a new one to be made.
pub(super) const POOL_TIMEOUT: Duration = Duration::from_secs(5);
const POOL_SIZE: usize = 16;
/// Most doorbells in one group commit.
const MAX_BATCH: usize = 256;

fn unavailable(e: impl fmt::Display) -> StoreError {
    StoreError::Unavailable(e.to_string())
}

type Reply = oneshot::Sender<Result<bool, StoreError>>;

/// Aborts the replica's background tasks when the last handle goes.
struct Tasks(Vec<tokio::task::JoinHandle<()>>);

impl Drop for Tasks {
    fn drop(&mut self) {
        for t in &self.0 {
            t.abort();
        }
    }
}

/// The PostgreSQL store of one replica. Cheap to clone.
#[derive(Clone)]
pub struct PgStore {
    pool: Pool,
    writer: mpsc::Sender<(NewDoorbell, Reply)>,
    wake: broadcast::Sender<WakeKey>,
    _tasks: Arc<Tasks>,
}

impl PgStore {
    /// Connect, migrate (one replica at a time), start the writer and the `LISTEN` task.
    pub async fn connect(config: &tokio_postgres::Config) -> Result<PgStore, StoreError> {
        migrate(config).await?;
        let manager = Manager::from_config(
            config.clone(),
            NoTls,
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = Pool::builder(manager)
            .max_size(POOL_SIZE)
            .runtime(Runtime::Tokio1)
            .wait_timeout(Some(POOL_TIMEOUT))
            .create_timeout(Some(POOL_TIMEOUT))
            .recycle_timeout(Some(POOL_TIMEOUT))
            .build()
            .map_err(unavailable)?;
        let (wake, _) = broadcast::channel(WAKE_CHANNEL);
        let (writer, queue) = mpsc::channel(MAX_BATCH * 4);
        let write_task = tokio::spawn(write_loop(pool.clone(), queue));
        let (ready_tx, ready) = oneshot::channel();
        let listen_task = tokio::spawn(listen_loop(config.clone(), wake.clone(), ready_tx));
        let tasks = Arc::new(Tasks(vec![write_task, listen_task]));
        // Ready means wake-ups flow: a feed opened now hears every later doorbell.
        match tokio::time::timeout(POOL_TIMEOUT, ready).await {
            Ok(Ok(())) => {}
            _ => {
                return Err(StoreError::Unavailable(
                    "the notification channel (LISTEN) could not be opened".to_owned(),
                ));
            }
        }
        Ok(PgStore {
            pool,
            writer,
            wake,
            _tasks: tasks,
        })
    }

    async fn client(&self) -> Result<deadpool_postgres::Object, StoreError> {
        self.pool.get().await.map_err(unavailable)
    }
}

async fn migrate(config: &tokio_postgres::Config) -> Result<(), StoreError> {
    let (mut client, connection) = config.connect(NoTls).await.map_err(unavailable)?;
    let driver = tokio::spawn(connection);
    let result = async {
        client
            .execute("SELECT pg_advisory_lock($1)", &[&MIGRATE_LOCK])
            .await
            .map_err(unavailable)?;
        let run = embedded::migrations::runner()
            .run_async(&mut client)
            .await
            .map_err(|e| StoreError::Migration(e.to_string()));
        let _ = client
            .execute("SELECT pg_advisory_unlock($1)", &[&MIGRATE_LOCK])
            .await;
        run.map(|_| ())
    }
    .await;
    drop(client);
    let _ = driver.await;
    result
}

/// One transaction per batch of queued doorbells (see the module docs).
async fn write_loop(pool: Pool, mut queue: mpsc::Receiver<(NewDoorbell, Reply)>) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while queue.recv_many(&mut batch, MAX_BATCH).await > 0 {
        let doorbells: Vec<&NewDoorbell> = batch.iter().map(|(d, _)| d).collect();
        match write_batch(&pool, &doorbells).await {
            Ok(fresh) => {
                for ((_, reply), new) in batch.drain(..).zip(fresh) {
                    let _ = reply.send(Ok(new));
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, count = batch.len(), "doorbells could not be written");
                for (_, reply) in batch.drain(..) {
                    let _ = reply.send(Err(StoreError::Unavailable(e.to_string())));
                }
            }
        }
    }
}

/// One transaction of a fixed number of round trips whatever the batch's size: the lock,
/// one multi-row `INSERT … SELECT FROM unnest(…)`, one `pg_notify` per distinct wake key in
/// one statement, the commit. (Round trips are taken under the write lock, which every
/// replica shares, so they bound the intake of all replicas together.)
async fn write_batch(pool: &Pool, doorbells: &[&NewDoorbell]) -> Result<Vec<bool>, StoreError> {
    // Within a batch the first of two equal doorbells is the new one; the rest duplicates.
    let key_of = |d: &NewDoorbell| match &d.target {
        Target::Account(a) => (Some(a.clone()), None, d.event_id.clone()),
        Target::Store(s) => (None, Some(s.clone()), d.event_id.clone()),
    };
    let mut first_of = std::collections::HashMap::new();
    let mut unique: Vec<&NewDoorbell> = Vec::with_capacity(doorbells.len());
    for (i, d) in doorbells.iter().enumerate() {
        first_of.entry(key_of(d)).or_insert_with(|| {
            unique.push(d);
            i
        });
    }
    let (mut accounts, mut stores) = (Vec::new(), Vec::new());
    let (mut livemodes, mut ids, mut types, mut created, mut received) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for d in &unique {
        let (account, store, _) = key_of(d);
        accounts.push(account);
        stores.push(store);
        livemodes.push(d.livemode);
        ids.push(d.event_id.as_str());
        types.push(d.event_type.as_str());
        created.push(d.created);
        received.push(d.received);
    }

    let mut client = pool.get().await.map_err(unavailable)?;
    let tx = client.transaction().await.map_err(unavailable)?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&WRITE_LOCK])
        .await
        .map_err(unavailable)?;
    // `WITH ORDINALITY … ORDER BY` keeps the cursors in the order the doorbells came.
    let insert = tx
        .prepare_cached(
            "INSERT INTO doorbells (account, store, livemode, event_id, type, created, received)
             SELECT a, s, l, e, t, c, r
             FROM unnest($1::text[], $2::text[], $3::bool[], $4::text[], $5::text[], $6::int8[], $7::int8[])
                  WITH ORDINALITY AS u(a, s, l, e, t, c, r, n)
             ORDER BY n
             ON CONFLICT DO NOTHING RETURNING account, store, event_id",
        )
        .await
        .map_err(unavailable)?;
    let rows = tx
        .query(
            &insert,
            &[
                &accounts, &stores, &livemodes, &ids, &types, &created, &received,
            ],
        )
        .await
        .map_err(unavailable)?;
    let written: std::collections::HashSet<(Option<String>, Option<String>, String)> = rows
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2)))
        .collect();
    let fresh: Vec<bool> = doorbells
        .iter()
        .enumerate()
        .map(|(i, d)| {
            let key = key_of(d);
            first_of.get(&key) == Some(&i) && written.contains(&key)
        })
        .collect();
    let mut keys: Vec<String> = Vec::new();
    for (d, new) in doorbells.iter().zip(&fresh) {
        let key = d.scope().wake_key();
        if *new && !keys.contains(&key) {
            keys.push(key);
        }
    }
    if !keys.is_empty() {
        tx.execute(
            "SELECT pg_notify($1, k) FROM unnest($2::text[]) AS k",
            &[&CHANNEL, &keys],
        )
        .await
        .map_err(unavailable)?;
    }
    tx.commit().await.map_err(unavailable)?;
    Ok(fresh)
}

/// Keep one `LISTEN` connection, forwarding notifications to the local feeds.
async fn listen_loop(
    config: tokio_postgres::Config,
    wake: broadcast::Sender<WakeKey>,
    ready: oneshot::Sender<()>,
) {
    let mut backoff = Duration::from_millis(200);
    let mut ready = Some(ready);
    loop {
        match listen_once(&config, &wake, &mut ready).await {
            Ok(()) => backoff = Duration::from_millis(200),
            Err(e) => {
                tracing::warn!(error = %e, "the doorbell notification channel was lost; reconnecting")
            }
        }
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(Duration::from_secs(5));
    }
}

async fn listen_once(
    config: &tokio_postgres::Config,
    wake: &broadcast::Sender<WakeKey>,
    ready: &mut Option<oneshot::Sender<()>>,
) -> Result<(), tokio_postgres::Error> {
    let (client, mut connection) = config.connect(NoTls).await?;
    let forward = wake.clone();
    let driver = async move {
        loop {
            match std::future::poll_fn(|cx| connection.poll_message(cx)).await {
                Some(Ok(AsyncMessage::Notification(n))) => {
                    let _ = forward.send(WakeKey::from(n.payload()));
                }
                Some(Ok(_)) => {}
                Some(Err(e)) => return Err(e),
                None => return Ok(()),
            }
        }
    };
    tokio::pin!(driver);
    let listen = format!("LISTEN {CHANNEL}");
    tokio::select! {
        ended = &mut driver => return ended,
        listened = client.batch_execute(&listen) => listened?,
    }
    match ready.take() {
        Some(first) => {
            let _ = first.send(());
        }
        None => {
            // Doorbells rung while the channel was down were not announced here.
            let _ = wake.send(WakeKey::from(WAKE_ALL));
        }
    }
    let ended = driver.await;
    drop(client);
    ended
}

fn row_to_doorbell(row: &tokio_postgres::Row) -> Doorbell {
    let account: Option<String> = row.get(1);
    let store: Option<String> = row.get(2);
    let target = match (account, store) {
        (Some(a), _) => Target::Account(a),
        (None, s) => Target::Store(s.unwrap_or_default()),
    };
    Doorbell {
        cursor: row.get(0),
        doorbell: NewDoorbell {
            target,
            livemode: row.get(3),
            event_id: row.get(4),
            event_type: row.get(5),
            created: row.get(6),
            received: row.get(7),
        },
    }
}

impl Store for PgStore {
    async fn ping(&self) -> Result<(), StoreError> {
        let client = self.client().await?;
        client
            .query_one("SELECT 1", &[])
            .await
            .map(|_| ())
            .map_err(unavailable)
    }

    async fn create_store(&self, store: &NewStore) -> Result<(), StoreError> {
        let client = self.client().await?;
        client
            .execute(
                "INSERT INTO stores (id, key_hash, feed_token_hash, created) VALUES ($1, $2, $3, $4)",
                &[
                    &store.id,
                    &store.key_hash.as_slice(),
                    &store.feed_token_hash.as_slice(),
                    &store.created,
                ],
            )
            .await
            .map(|_| ())
            .map_err(unavailable)
    }

    async fn store_by_key(&self, key_hash: [u8; 32]) -> Result<Option<String>, StoreError> {
        let client = self.client().await?;
        let row = client
            .query_opt(
                "SELECT id FROM stores WHERE key_hash = $1",
                &[&key_hash.as_slice()],
            )
            .await
            .map_err(unavailable)?;
        Ok(row.map(|r| r.get(0)))
    }

    async fn store_by_feed_token(
        &self,
        token_hash: [u8; 32],
    ) -> Result<Option<String>, StoreError> {
        let client = self.client().await?;
        let row = client
            .query_opt(
                "SELECT id, claimed FROM stores WHERE feed_token_hash = $1",
                &[&token_hash.as_slice()],
            )
            .await
            .map_err(unavailable)?;
        let Some(row) = row else {
            return Ok(None);
        };
        let id: String = row.get(0);
        if !row.get::<_, bool>(1) {
            client
                .execute("UPDATE stores SET claimed = TRUE WHERE id = $1", &[&id])
                .await
                .map_err(unavailable)?;
        }
        Ok(Some(id))
    }

    async fn ring(&self, doorbell: NewDoorbell) -> Result<bool, StoreError> {
        let (reply, answer) = oneshot::channel();
        self.writer
            .send((doorbell, reply))
            .await
            .map_err(|_| StoreError::Unavailable("the doorbell writer stopped".to_owned()))?;
        answer
            .await
            .map_err(|_| StoreError::Unavailable("the doorbell writer stopped".to_owned()))?
    }

    async fn after(
        &self,
        scope: &Scope,
        cursor: i64,
        limit: u32,
    ) -> Result<Vec<Doorbell>, StoreError> {
        let client = self.client().await?;
        let limit = i64::from(limit);
        let rows = match scope {
            Scope::Account { account, livemode } => {
                let st = client
                    .prepare_cached(
                        "SELECT cursor, account, store, livemode, event_id, type, created, received
                         FROM doorbells WHERE account = $1 AND livemode = $2 AND cursor > $3
                         ORDER BY cursor LIMIT $4",
                    )
                    .await
                    .map_err(unavailable)?;
                client
                    .query(&st, &[account, livemode, &cursor, &limit])
                    .await
            }
            Scope::Store { store } => {
                let st = client
                    .prepare_cached(
                        "SELECT cursor, account, store, livemode, event_id, type, created, received
                         FROM doorbells WHERE store = $1 AND cursor > $2 ORDER BY cursor LIMIT $3",
                    )
                    .await
                    .map_err(unavailable)?;
                client.query(&st, &[store, &cursor, &limit]).await
            }
        }
        .map_err(unavailable)?;
        Ok(rows.iter().map(row_to_doorbell).collect())
    }

    async fn horizon(&self) -> Result<Horizon, StoreError> {
        let client = self.client().await?;
        let row = client
            .query_one(
                "SELECT r.pruned_through,
                        GREATEST(r.pruned_through, COALESCE((SELECT max(cursor) FROM doorbells), 0))
                 FROM retention r WHERE r.id = 1",
                &[],
            )
            .await
            .map_err(unavailable)?;
        Ok(Horizon {
            pruned_through: row.get(0),
            tip: row.get(1),
        })
    }

    async fn prune(&self, received_before: i64) -> Result<Option<u64>, StoreError> {
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(unavailable)?;
        let locked: bool = tx
            .query_one("SELECT pg_try_advisory_xact_lock($1)", &[&PRUNE_LOCK])
            .await
            .map_err(unavailable)?
            .get(0);
        if !locked {
            return Ok(None);
        }
        let row = tx
            .query_one(
                "WITH gone AS (DELETE FROM doorbells WHERE received < $1 RETURNING cursor)
                 SELECT count(*), max(cursor) FROM gone",
                &[&received_before],
            )
            .await
            .map_err(unavailable)?;
        let removed: i64 = row.get(0);
        let highest: Option<i64> = row.get(1);
        if let Some(h) = highest {
            tx.execute(
                "UPDATE retention SET pruned_through = GREATEST(pruned_through, $1) WHERE id = 1",
                &[&h],
            )
            .await
            .map_err(unavailable)?;
        }
        tx.commit().await.map_err(unavailable)?;
        Ok(Some(removed as u64))
    }

    async fn prune_unclaimed_stores(&self, created_before: i64) -> Result<u64, StoreError> {
        let client = self.client().await?;
        client
            .execute(
                "DELETE FROM stores WHERE NOT claimed AND created < $1",
                &[&created_before],
            )
            .await
            .map_err(unavailable)
    }

    async fn put_grant(
        &self,
        code_hash: [u8; 32],
        sealed: Vec<u8>,
        expires: i64,
    ) -> Result<(), StoreError> {
        let now = fluxstore_relay::signature::unix_now();
        let client = self.client().await?;
        // One statement, one round trip: expired grants go, the new one comes.
        client
            .execute(
                "WITH gone AS (DELETE FROM broker_grants WHERE expires <= $4)
                 INSERT INTO broker_grants (code_hash, sealed, expires) VALUES ($1, $2, $3)",
                &[&code_hash.as_slice(), &sealed, &expires, &now],
            )
            .await
            .map(|_| ())
            .map_err(unavailable)
    }

    async fn take_grant(&self, code_hash: [u8; 32], now: i64) -> Result<TakenGrant, StoreError> {
        let client = self.client().await?;
        let row = client
            .query_opt(
                "DELETE FROM broker_grants WHERE code_hash = $1 RETURNING sealed, expires",
                &[&code_hash.as_slice()],
            )
            .await
            .map_err(unavailable)?;
        Ok(match row {
            Some(r) if r.get::<_, i64>(1) > now => TakenGrant::Fresh(r.get(0)),
            Some(_) => TakenGrant::Expired,
            None => TakenGrant::Missing,
        })
    }

    async fn prune_grants(&self, now: i64) -> Result<u64, StoreError> {
        let client = self.client().await?;
        client
            .execute("DELETE FROM broker_grants WHERE expires <= $1", &[&now])
            .await
            .map_err(unavailable)
    }

    fn wakeups(&self) -> broadcast::Receiver<WakeKey> {
        self.wake.subscribe()
    }
}
