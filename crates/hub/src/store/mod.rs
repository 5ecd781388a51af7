//! The hub's rows, behind one interface with two implementations: an embedded SQLite file
//! (one instance) and PostgreSQL (any number of stateless replicas).
//!
//! Invariants, held by both and proven by one shared test suite:
//! - a doorbell is unique per (account or store, event id): a duplicate delivery rings once;
//! - cursors grow in commit order, so a feed that has read up to cursor `c` never later
//!   finds a committed doorbell below `c` (PostgreSQL: doorbells are written under a
//!   transaction-scoped advisory lock, in group commits; SQLite: one writer);
//! - after a doorbell is committed, every replica's [`Store::wakeups`] carries its
//!   [`WakeKey`] (PostgreSQL: `NOTIFY` in the same transaction; SQLite: in process);
//! - only hashes of a store's key and feed token are stored;
//! - a Connect grant waiting for its desktop is stored sealed (ciphertext only), keyed by the
//!   hash of its one-time code, handed out at most once, and never after it expired.

mod database_url;
mod postgres;
mod sqlite;

use std::sync::Arc;

use tokio::sync::broadcast;

pub use database_url::{DatabaseUrl, DatabaseUrlError};
pub use postgres::PgStore;
pub use sqlite::SqliteStore;

/// Who a doorbell rings: a connected account (Connect webhooks) or a key-mode store.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Target {
    Account(String),
    Store(String),
}

/// What a feed reads: one account in one mode (the mode of the token that opened it), or
/// every doorbell of one key-mode store.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Scope {
    Account { account: String, livemode: bool },
    Store { store: String },
}

/// The name under which a committed doorbell wakes the feeds of its scope.
pub type WakeKey = Arc<str>;

/// A wake-up for every feed (after the notification channel was lost and re-established,
/// when a doorbell may have been missed).
pub const WAKE_ALL: &str = "*";

impl Scope {
    pub fn wake_key(&self) -> String {
        match self {
            Scope::Account { account, livemode } => {
                format!("a:{}:{account}", if *livemode { "live" } else { "test" })
            }
            Scope::Store { store } => format!("s:{store}"),
        }
    }
}

/// A doorbell about to be written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewDoorbell {
    pub target: Target,
    pub livemode: bool,
    pub event_id: String,
    pub event_type: String,
    /// The event's own `created` (unix seconds).
    pub created: i64,
    /// When the hub received it (unix seconds); retention counts from here.
    pub received: i64,
}

impl NewDoorbell {
    /// The scope whose feeds this doorbell wakes.
    pub fn scope(&self) -> Scope {
        match &self.target {
            Target::Account(account) => Scope::Account {
                account: account.clone(),
                livemode: self.livemode,
            },
            Target::Store(store) => Scope::Store {
                store: store.clone(),
            },
        }
    }
}

/// A stored doorbell and its cursor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Doorbell {
    pub cursor: i64,
    pub doorbell: NewDoorbell,
}

/// Where a feed's cursor stands against what the store still holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Horizon {
    /// The highest cursor ever removed by retention (0 when none was).
    pub pruned_through: i64,
    /// The highest cursor ever issued (as far as the rows and the retention mark tell).
    pub tip: i64,
}

impl Horizon {
    /// Whether a feed resuming after `cursor` may have missed doorbells it can no longer be
    /// given (retention removed them), or holds a cursor this database never issued (the
    /// database was replaced): either way the desktop must run a full events sync.
    pub fn needs_resync(&self, cursor: i64) -> bool {
        cursor < self.pruned_through || cursor > self.tip
    }
}

/// A registered key-mode store, by the hashes of its secrets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewStore {
    pub id: String,
    pub key_hash: [u8; 32],
    pub feed_token_hash: [u8; 32],
    pub created: i64,
}

/// A storage failure. The detail is for the log; callers answer 503 without it.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("the database is unavailable: {0}")]
    Unavailable(String),
    #[error("the database could not be prepared: {0}")]
    Migration(String),
}

/// A waiting grant looked up by its one-time code (the row is gone either way).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TakenGrant {
    /// The sealed grant, within its lifetime.
    Fresh(Vec<u8>),
    Expired,
    Missing,
}

/// The hub's storage. Every method is one short transaction.
pub trait Store: Clone + Send + Sync + 'static {
    /// Answers when the database does.
    fn ping(&self) -> impl Future<Output = Result<(), StoreError>> + Send;
    fn create_store(&self, store: &NewStore)
    -> impl Future<Output = Result<(), StoreError>> + Send;
    /// The store id whose key hashes to `key_hash`.
    fn store_by_key(
        &self,
        key_hash: [u8; 32],
    ) -> impl Future<Output = Result<Option<String>, StoreError>> + Send;
    /// The store id whose feed token hashes to `token_hash`; the store is marked claimed
    /// (its desktop is using it), so it is not removed as an abandoned registration.
    fn store_by_feed_token(
        &self,
        token_hash: [u8; 32],
    ) -> impl Future<Output = Result<Option<String>, StoreError>> + Send;
    /// Write a doorbell durably; `Ok(true)` when it is new, `Ok(false)` for a duplicate.
    /// Returns only after the commit.
    fn ring(&self, doorbell: NewDoorbell) -> impl Future<Output = Result<bool, StoreError>> + Send;
    /// Up to `limit` doorbells of `scope` after `cursor`, oldest first.
    fn after(
        &self,
        scope: &Scope,
        cursor: i64,
        limit: u32,
    ) -> impl Future<Output = Result<Vec<Doorbell>, StoreError>> + Send;
    fn horizon(&self) -> impl Future<Output = Result<Horizon, StoreError>> + Send;
    /// Remove doorbells received before `received_before`. `Ok(None)` when another replica
    /// is pruning right now (one at a time); else how many rows went.
    fn prune(
        &self,
        received_before: i64,
    ) -> impl Future<Output = Result<Option<u64>, StoreError>> + Send;
    /// Remove stores registered before `created_before` whose feed was never opened (and
    /// their doorbells); how many went.
    fn prune_unclaimed_stores(
        &self,
        created_before: i64,
    ) -> impl Future<Output = Result<u64, StoreError>> + Send;
    /// Keep a sealed Connect grant under the hash of its one-time code until `expires`
    /// (unix seconds); grants already expired are removed on the way.
    fn put_grant(
        &self,
        code_hash: [u8; 32],
        sealed: Vec<u8>,
        expires: i64,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
    /// Remove the grant of `code_hash` and return it if it had not expired by `now`.
    fn take_grant(
        &self,
        code_hash: [u8; 32],
        now: i64,
    ) -> impl Future<Output = Result<TakenGrant, StoreError>> + Send;
    /// Remove every grant that expired by `now`; how many went.
    fn prune_grants(&self, now: i64) -> impl Future<Output = Result<u64, StoreError>> + Send;
    /// Wake keys of committed doorbells (and [`WAKE_ALL`]), from every replica.
    fn wakeups(&self) -> broadcast::Receiver<WakeKey>;
}

/// Room for bursts of wake-ups; a feed that falls further behind re-reads (see the feed).
pub(crate) const WAKE_CHANNEL: usize = 4096;
