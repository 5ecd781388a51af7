//! Schema and forward migrations, and the connection settings every mirror runs with.
//!
//! Invariant: a migration is only ever appended, never edited; each runs in its own
//! transaction (`rusqlite_migration`), so a database is always at exactly one version.
//! Version 1 holds the events and their projections, version 2 adds the owner's audit log
//! of API calls and the settings table, version 3 drops an index and narrows a trigger to
//! write fewer pages per event, version 4 adds the account status projection and derives it
//! from the account events already stored, version 5 aggregates rejections per hour and code,
//! version 6 indexes events by source, and version 7 makes an order a Checkout Session
//! (payments without one become counted "other activity"), keeps what an order says about
//! its buyer and card, and the line items fetched from Stripe. Version 8 keeps the buyer's
//! Stripe Customer id on each order (the Dashboard link), re-derived like version 7.
//! Version 9 keeps the dispute's evidence facts (`has_evidence`, `submission_count`,
//! `past_due`) and the owner's evidence drafts with their attachments. Version 10 records
//! the notices raised to the owner, one per fact.

use std::time::Duration;

use rusqlite::{Connection, Transaction};
use rusqlite_migration::{HookError, HookResult, M, Migrations};

use crate::MirrorError;

/// Version 1: verified events, the object-reference index, projections, rejections.
const V1: &str = r#"
CREATE TABLE events (
    id          TEXT PRIMARY KEY,
    type        TEXT NOT NULL,
    created     INTEGER NOT NULL,
    livemode    INTEGER NOT NULL,
    account     TEXT,
    api_version TEXT,
    source      TEXT NOT NULL,
    received_at INTEGER NOT NULL,
    raw         TEXT NOT NULL
);
CREATE INDEX events_mode_received ON events(livemode, received_at);

-- Every Stripe object an event names: the object itself (is_self = 1) and the objects it
-- links to. A fold finds all events of an order (or subscription, invoice) through it;
-- the other direction (event -> objects) is read from the event's own JSON.
CREATE TABLE event_refs (
    object_id TEXT NOT NULL,
    event_id  TEXT NOT NULL REFERENCES events(id),
    kind      TEXT NOT NULL,
    is_self   INTEGER NOT NULL,
    PRIMARY KEY (object_id, event_id)
) WITHOUT ROWID;

CREATE TABLE orders (
    id                  INTEGER PRIMARY KEY,
    session_id          TEXT NOT NULL UNIQUE,
    payment_intent_id   TEXT,
    charge_id           TEXT,
    subscription_id     TEXT,
    status              TEXT NOT NULL,
    amount              INTEGER,
    amount_refunded     INTEGER NOT NULL,
    currency            TEXT,
    customer_email      TEXT,
    customer_name       TEXT,
    client_reference_id TEXT,
    failure_message     TEXT,
    livemode            INTEGER NOT NULL,
    account             TEXT,
    created             INTEGER NOT NULL,
    updated             INTEGER NOT NULL,
    paid_at             INTEGER
);
-- Keyset pagination newest first, alone or with one status / one currency.
CREATE INDEX orders_page ON orders(livemode, created, session_id);
CREATE INDEX orders_status ON orders(livemode, status, created, session_id);
CREATE INDEX orders_currency ON orders(livemode, currency, created, session_id);
CREATE INDEX orders_paid ON orders(livemode, paid_at) WHERE paid_at IS NOT NULL;

-- Substring search over customer e-mail addresses.
CREATE VIRTUAL TABLE orders_email_fts USING fts5(
    email, content='', contentless_delete=1, tokenize='trigram'
);
CREATE TRIGGER orders_fts_ai AFTER INSERT ON orders WHEN new.customer_email IS NOT NULL BEGIN
    INSERT INTO orders_email_fts(rowid, email) VALUES (new.id, new.customer_email);
END;
CREATE TRIGGER orders_fts_ad AFTER DELETE ON orders BEGIN
    DELETE FROM orders_email_fts WHERE rowid = old.id;
END;
CREATE TRIGGER orders_fts_au AFTER UPDATE OF customer_email ON orders BEGIN
    DELETE FROM orders_email_fts WHERE rowid = old.id;
    INSERT INTO orders_email_fts(rowid, email) SELECT new.id, new.customer_email WHERE new.customer_email IS NOT NULL;
END;

-- Every Stripe object of an order (session, payment intents, charges, refunds, disputes)
-- to the order's key: payment lookups and id search.
CREATE TABLE order_links (
    object_id TEXT PRIMARY KEY,
    order_key TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX order_links_key ON order_links(order_key);

CREATE TABLE disputes (
    id                TEXT PRIMARY KEY,
    charge_id         TEXT,
    payment_intent_id TEXT,
    order_key         TEXT,
    status            TEXT NOT NULL,
    reason            TEXT,
    amount            INTEGER NOT NULL,
    currency          TEXT NOT NULL,
    due_by            INTEGER,
    needs_response    INTEGER NOT NULL,
    queue_rank        INTEGER NOT NULL,
    queue_sort        INTEGER NOT NULL,
    livemode          INTEGER NOT NULL,
    created           INTEGER NOT NULL,
    updated           INTEGER NOT NULL
);
-- The queue: rank 0 needs a response, 1 under review, 2 closed; within a rank open
-- disputes sort by due date (none last), closed ones newest first (queue_sort = -updated).
CREATE INDEX disputes_queue ON disputes(livemode, queue_rank, queue_sort, id);
CREATE INDEX disputes_order ON disputes(order_key);

CREATE TABLE subscriptions (
    id                   TEXT PRIMARY KEY,
    customer             TEXT,
    status               TEXT NOT NULL,
    current_period_end   INTEGER,
    cancel_at_period_end INTEGER NOT NULL,
    livemode             INTEGER NOT NULL,
    created              INTEGER NOT NULL,
    updated              INTEGER NOT NULL
);
CREATE INDEX subscriptions_mode ON subscriptions(livemode, created);

CREATE TABLE invoices (
    id                 TEXT PRIMARY KEY,
    subscription_id    TEXT,
    customer_email     TEXT,
    status             TEXT,
    amount_due         INTEGER NOT NULL,
    amount_paid        INTEGER NOT NULL,
    currency           TEXT NOT NULL,
    billing_reason     TEXT,
    hosted_invoice_url TEXT,
    livemode           INTEGER NOT NULL,
    created            INTEGER NOT NULL,
    updated            INTEGER NOT NULL
);
CREATE INDEX invoices_mode ON invoices(livemode, created);

CREATE TABLE rejections (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    received_at INTEGER NOT NULL,
    code        TEXT NOT NULL,
    size        INTEGER NOT NULL,
    peer        TEXT
);
"#;

/// Version 2: the owner's audit log of outbound API calls, and non-secret settings.
const V2: &str = r#"
CREATE TABLE api_calls (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    at              INTEGER NOT NULL,
    method          TEXT NOT NULL,
    path            TEXT NOT NULL,
    object_id       TEXT,
    status          INTEGER,
    request_id      TEXT,
    idempotency_key TEXT,
    duration_ms     INTEGER NOT NULL,
    mode            TEXT,
    error_code      TEXT
);
CREATE INDEX api_calls_at ON api_calls(at);
CREATE TABLE settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
"#;

/// Version 3: fewer pages written per event. The index of links by order key cost one
/// random leaf page per event and served only the order timeline, which now walks the
/// order's objects through `event_refs` instead. The e-mail index is rewritten only when
/// the address changes, not on every re-derivation of the order.
const V3: &str = r#"
DROP INDEX order_links_key;
DROP TRIGGER orders_fts_au;
CREATE TRIGGER orders_fts_au AFTER UPDATE OF customer_email ON orders
WHEN old.customer_email IS NOT new.customer_email BEGIN
    DELETE FROM orders_email_fts WHERE rowid = old.id;
    INSERT INTO orders_email_fts(rowid, email) SELECT new.id, new.customer_email WHERE new.customer_email IS NOT NULL;
END;
"#;

/// Version 4: the account status of each (account, mode), from its newest account event.
/// The rows are a projection like any other, so the events a version 3 mirror already holds
/// are indexed and folded at once ([`backfill_accounts`]). Each account fetch now stores a
/// synthetic event, so the events synthesised from API responses get an index of their own.
const V4: &str = r#"
CREATE TABLE accounts (
    account_id        TEXT NOT NULL,
    livemode          INTEGER NOT NULL,
    business_name     TEXT,
    charges_enabled   INTEGER NOT NULL,
    payouts_enabled   INTEGER NOT NULL,
    details_submitted INTEGER NOT NULL,
    -- JSON arrays of Stripe's requirement names, e.g. ["external_account"].
    currently_due     TEXT NOT NULL,
    past_due          TEXT NOT NULL,
    eventually_due    TEXT NOT NULL,
    disabled_reason   TEXT,
    -- The event the row was read from: its `created` and id.
    event_created     INTEGER NOT NULL,
    event_id          TEXT NOT NULL,
    PRIMARY KEY (account_id, livemode)
) WITHOUT ROWID;

-- Events synthesised from API responses (a refund made in the app, every account fetch) are
-- not deliveries: the checklist's "events arriving" facts count them apart, from this small
-- index, without reading every event's row.
CREATE INDEX events_api ON events(livemode, received_at) WHERE source = 'api';
"#;

/// Version 5: rejections aggregated per (hour, code) with a count, the first and last time,
/// and the last peer and size, so a flood of refused requests adds to a counter instead of
/// a row each. The rows a version 4 mirror holds are folded into their buckets; then the
/// table is capped like every write caps it ([`crate::log::cap_rejections`]).
const V5: &str = r#"
CREATE TABLE rejections_v5 (
    id           INTEGER PRIMARY KEY,
    bucket_start INTEGER NOT NULL,
    code         TEXT NOT NULL,
    count        INTEGER NOT NULL,
    first_at     INTEGER NOT NULL,
    last_at      INTEGER NOT NULL,
    last_peer    TEXT,
    last_size    INTEGER NOT NULL,
    UNIQUE (bucket_start, code)
);
INSERT INTO rejections_v5(bucket_start, code, count, first_at, last_at, last_peer, last_size)
SELECT bucket_start, code, n, first_at, last_at, peer, size FROM (
    SELECT received_at - (received_at % 3600 + 3600) % 3600 AS bucket_start, code, peer, size,
           COUNT(*) OVER hour AS n, MIN(received_at) OVER hour AS first_at,
           MAX(received_at) OVER hour AS last_at,
           ROW_NUMBER() OVER (
               PARTITION BY received_at - (received_at % 3600 + 3600) % 3600, code
               ORDER BY received_at DESC, id DESC
           ) AS newest
    FROM rejections
    WINDOW hour AS (PARTITION BY received_at - (received_at % 3600 + 3600) % 3600, code)
) WHERE newest = 1;
DROP TABLE rejections;
ALTER TABLE rejections_v5 RENAME TO rejections;
"#;

/// Version 6: the checklist tells the roads apart (a webhook, the hub's feed, polling the
/// events API), so the newest event of each source is read from one index range.
const V6: &str = r#"
CREATE INDEX events_source ON events(livemode, source, received_at);
"#;

/// Version 7: an order is a Checkout Session. Payments without one were provisional orders
/// under their PaymentIntent or Charge id; they move to `other_payments` (no customer data,
/// no links), re-derived from the stored events by [`rederive_orders`]. Orders gain the
/// buyer's country, the session's metadata and the card's brand, last 4 and risk level
/// (also filled by the re-derivation). Line items are not in any event: they are fetched
/// from Stripe once and kept in a table of their own, outside the projections.
const V7: &str = r#"
ALTER TABLE orders ADD COLUMN customer_country TEXT;
ALTER TABLE orders ADD COLUMN metadata TEXT;
ALTER TABLE orders ADD COLUMN card_brand TEXT;
ALTER TABLE orders ADD COLUMN card_last4 TEXT;
ALTER TABLE orders ADD COLUMN risk_level TEXT;

-- Payment groups without a Checkout Session: counted as other activity, never shown.
CREATE TABLE other_payments (
    key      TEXT PRIMARY KEY,
    livemode INTEGER NOT NULL,
    created  INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX other_payments_mode ON other_payments(livemode, created);

-- What was bought: GET /v1/checkout/sessions/{id}/line_items, fetched once per order.
CREATE TABLE line_item_fetches (
    session_id TEXT PRIMARY KEY,
    fetched_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE line_items (
    session_id      TEXT NOT NULL REFERENCES line_item_fetches(session_id) ON DELETE CASCADE,
    position        INTEGER NOT NULL,
    id              TEXT NOT NULL,
    description     TEXT,
    quantity        INTEGER,
    amount_subtotal INTEGER NOT NULL,
    amount_total    INTEGER NOT NULL,
    currency        TEXT NOT NULL,
    price_id        TEXT,
    product_id      TEXT,
    PRIMARY KEY (session_id, position)
) WITHOUT ROWID;
"#;

/// Version 8: the order's Stripe Customer (`cus_…`), read from the session, else the
/// PaymentIntent or Charge, so an order links to the customer's Dashboard page. Filled for
/// the orders already stored by re-deriving them from their events ([`rederive_orders`]).
const V8: &str = r#"
ALTER TABLE orders ADD COLUMN customer_id TEXT;
"#;

/// Version 9: what Stripe says of a dispute's evidence (re-derived from the stored dispute
/// events by [`rederive_orders`], which folds disputes with their orders), and the owner's
/// evidence drafts. A draft is the owner's own work, not a projection: it is never derived
/// from events and never deleted by a re-derivation. `fields` is a JSON object of Stripe's
/// evidence field names to the text the owner typed (an empty text clears a pre-filled
/// value); `revision` moves on with every change and keys the submission's idempotency.
const V9: &str = r#"
ALTER TABLE disputes ADD COLUMN has_evidence INTEGER;
ALTER TABLE disputes ADD COLUMN submission_count INTEGER;
ALTER TABLE disputes ADD COLUMN past_due INTEGER;

CREATE TABLE dispute_drafts (
    dispute_id TEXT PRIMARY KEY,
    fields     TEXT NOT NULL,
    revision   INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
) WITHOUT ROWID;

-- A file attached to a draft: copied into the app's data folder when attached, so the
-- draft never depends on where the owner's original was. `stripe_file_id` is set once the
-- Files API accepted the copy; a retried submission does not upload it again.
CREATE TABLE dispute_draft_files (
    dispute_id     TEXT NOT NULL REFERENCES dispute_drafts(dispute_id) ON DELETE CASCADE,
    field          TEXT NOT NULL,
    file_name      TEXT NOT NULL,
    stored_path    TEXT NOT NULL,
    size           INTEGER NOT NULL,
    mime           TEXT NOT NULL,
    sha256         TEXT NOT NULL,
    stripe_file_id TEXT,
    PRIMARY KEY (dispute_id, field)
) WITHOUT ROWID;
"#;

/// The notices raised to the owner, one row per fact, so none is raised twice (not after a
/// restart either). Version 10.
const V10: &str = r#"
CREATE TABLE notices_shown (
    fact     TEXT PRIMARY KEY,
    kind     TEXT NOT NULL,
    livemode INTEGER NOT NULL,
    shown_at INTEGER NOT NULL
) WITHOUT ROWID;
"#;

/// The newest schema version this build knows.
pub const LATEST_VERSION: usize = 10;

/// The versions whose data step re-derives every order from the stored events: opening a
/// mirror below the last of them takes a while on a large store (see
/// [`crate::Mirror::pending_update`]).
pub const REDERIVING_VERSIONS: [usize; 3] = [7, 8, 9];

/// True when migrating a mirror at `version` re-derives every order from its events.
pub fn rederives_from(version: usize) -> bool {
    version > 0 && REDERIVING_VERSIONS.iter().any(|v| version < *v)
}

/// What undoes versions 8 to the latest on a mirror at the latest version, so a test or a
/// benchmark can make "a mirror a version 7 build left" from today's fixtures. Kept beside the
/// migrations: a new version must be undone here too (the upgrade tests then re-apply it).
pub const AS_VERSION_7_LEFT_IT: &str = r#"
DROP TABLE notices_shown;
DROP TABLE dispute_draft_files;
DROP TABLE dispute_drafts;
ALTER TABLE disputes DROP COLUMN has_evidence;
ALTER TABLE disputes DROP COLUMN submission_count;
ALTER TABLE disputes DROP COLUMN past_due;
ALTER TABLE orders DROP COLUMN customer_id;
PRAGMA user_version = 7;
"#;

pub fn migrations() -> Migrations<'static> {
    Migrations::new(vec![
        M::up(V1),
        M::up(V2),
        M::up(V3),
        M::up_with_hook(V4, backfill_accounts),
        M::up_with_hook(V5, cap_rejections),
        M::up(V6),
        // Versions 7's and 8's data step (re-derive every order) is done by version 9's,
        // which re-derives them all again: every pending step runs in ONE transaction
        // (`rusqlite_migration`), and this build only ever migrates to the latest version,
        // so deriving once, at the end, writes the same rows in half the time.
        M::up(V7),
        M::up(V8),
        M::up_with_hook(V9, rederive_orders),
        M::up(V10),
    ])
}

/// Versions 7's, 8's and 9's data step, in the migration's transaction.
fn rederive_orders(tx: &Transaction<'_>) -> HookResult {
    crate::project::order::rederive_all(tx).map_err(|e| HookError::Hook(e.to_string()))
}

/// Version 4's data step, in the migration's transaction.
fn backfill_accounts(tx: &Transaction<'_>) -> HookResult {
    crate::project::account::backfill(tx).map_err(|e| HookError::Hook(e.to_string()))
}

/// Version 5's data step: the folded rows obey the same cap as every later write.
fn cap_rejections(tx: &Transaction<'_>) -> HookResult {
    crate::log::cap_rejections(tx).map_err(|e| HookError::Hook(e.to_string()))
}

/// Settings for a writing connection. `synchronous=FULL`: an acknowledged event survives
/// power loss (WAL with NORMAL could lose the last commits).
pub fn configure_writer(conn: &Connection) -> Result<(), MirrorError> {
    conn.busy_timeout(Duration::from_secs(5))?;
    // Every statement of the ingest path stays prepared (the default keeps 16).
    conn.set_prepared_statement_cache_capacity(64);
    let mode: String = conn.query_row("PRAGMA journal_mode=WAL", [], |r| r.get(0))?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(MirrorError::Migration(format!(
            "the database would not switch to WAL (it uses {mode})"
        )));
    }
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    // Each event dirties about six pages, mostly index leaves on random ids. A batch at
    // concurrency 64 dirties ~400 pages (1.6 MiB), which must fit without spilling; the
    // leaves it reads come from the OS page cache at a few microseconds each, small next to
    // the commit's fsync. The relay benchmark ran as fast with 4 MiB as with 64 MiB, and the
    // relay's peak memory fell from 95 to 28 MiB (docs/benchmarks.md).
    conn.pragma_update(None, "cache_size", WRITER_CACHE_KIB)?;
    // Checkpoint less often than the default 1,000 pages: a page dirtied by many commits
    // is then copied to the database file once, and the fsync of the database file is
    // paid per several thousand pages. The relay copies pages in the background sooner
    // (see `Mirror::checkpoint`); this is the bound when nothing else checkpoints.
    conn.pragma_update(None, "wal_autocheckpoint", WAL_AUTOCHECKPOINT_PAGES)?;
    // After a burst the WAL file shrinks back to this size once it restarts.
    conn.pragma_update(None, "journal_size_limit", WAL_SIZE_LIMIT_BYTES)?;
    Ok(())
}

/// Page cache of a writing connection, in KiB (a negative `cache_size` means KiB).
const WRITER_CACHE_KIB: i64 = -4_096;
/// WAL pages after which a commit checkpoints by itself.
const WAL_AUTOCHECKPOINT_PAGES: i64 = 10_000;
/// Size the WAL file is truncated to after a checkpoint lets it restart.
const WAL_SIZE_LIMIT_BYTES: i64 = 64 * 1024 * 1024;

/// Settings for a reading connection (the UI while the relay writes).
pub fn configure_reader(conn: &Connection) -> Result<(), MirrorError> {
    conn.busy_timeout(Duration::from_secs(5))?;
    conn.set_prepared_statement_cache_capacity(64);
    conn.pragma_update(None, "query_only", "ON")?;
    Ok(())
}

/// Bring a writing connection to the newest schema.
pub fn migrate(conn: &mut Connection) -> Result<(), MirrorError> {
    migrations().to_latest(conn)?;
    Ok(())
}

/// Refuse a read-only open of a database this build cannot read correctly.
pub fn check_version(conn: &Connection) -> Result<(), MirrorError> {
    let v: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if v != LATEST_VERSION as i64 {
        return Err(MirrorError::Migration(format!(
            "the database is at schema version {v}, this build reads version {LATEST_VERSION}; open it once for writing to upgrade"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrations_are_valid() {
        migrations().validate().expect("valid migrations");
    }

    #[test]
    fn the_latest_version_is_the_last_migration() {
        let mut conn = Connection::open_in_memory().unwrap();
        migrate(&mut conn).unwrap();
        let v: i64 = conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .unwrap();
        assert_eq!(v, LATEST_VERSION as i64);
    }
}
