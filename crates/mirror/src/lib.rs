//! The local SQLite mirror of verified Stripe events, and the order, dispute, subscription,
//! invoice and account status rows derived from them.
//!
//! # Invariants
//! - **Events once.** `events` keeps every verified event exactly once (primary key =
//!   Stripe event id, raw JSON verbatim, first arrival's source wins); a duplicate changes
//!   nothing and is reported as [`IngestOutcome::Duplicate`].
//! - **The law.** Projection rows are a pure function of the *set* of stored events: each
//!   ingest re-derives the rows of every object the event names from all stored events of
//!   those objects, folded in `(created, id)` order (see the `project` module and the order status
//!   precedence in `project::order`). Any permutation of any multiset of events yields the
//!   same [`Mirror::dump_projections`]; the property tests prove it.
//! - **Atomic and durable.** An ingest (or a whole [`Mirror::ingest_batch`]) is one
//!   transaction; WAL with `synchronous=FULL`, so an acknowledged event survives power loss.
//! - **Modes apart.** Every read takes a [`Mode`] (or filters by one); test and live rows
//!   never mix in a list or a count.
//! - **Both shapes.** Fields are read along paths with fallbacks (pre-2022 `charges` list,
//!   2024 top-level periods and `invoice.subscription`, basil-or-later items periods,
//!   `invoice.parent`, `invoice.payments`); enums are kept as the strings Stripe sent.
//!
//! - **One type per fact.** The read types are the desktop's IPC types (TypeScript derived in
//!   place behind the `ts` feature), and the domain facts every crate shares — the webhook
//!   events, rejection codes, currency exponents, renewing statuses — live in [`facts`].
//!
//! `account.updated` events project the account status of their account and mode
//! ([`Mirror::account_status`]; the newest event by `(created, id)` wins). Types of event that
//! are not projected (e.g. `account.application.deauthorized`) are stored and readable
//! through [`Mirror::events`] and [`Mirror::event_raw`].

mod account;
mod closed;
mod dispute_draft;
mod dump;
mod error;
mod event;
pub mod evidence;
pub mod export;
pub mod facts;
mod fields;
mod ingest;
mod log;
mod marker;
pub mod money;
pub mod notices;
mod private;
mod project;
mod query;
mod schema;
mod types;

use std::path::Path;

use rusqlite::{Connection, OpenFlags, TransactionBehavior};

pub use account::{AccountRequirements, AccountStatus};
pub use dispute_draft::{
    DisputeDraft, DisputeWorkbench, DraftChange, DraftFile, Evidence as DisputeEvidence,
    EvidenceValue,
};
pub use error::MirrorError;
pub use facts::RejectionCode;
pub use log::{MAX_REJECTION_ROWS, REJECTION_BUCKET_SECS, RejectionTally};
pub use marker::{SETTING_KEY as ORDER_MARKER_SETTING, validate as validate_order_marker};
pub use notices::{Notice, NoticeKind, NoticeTarget};
pub use private::create_private_dir;
#[doc(hidden)]
pub use schema::AS_VERSION_7_LEFT_IT;
pub use schema::LATEST_VERSION as SCHEMA_VERSION;
pub use types::*;

/// Rows returned by [`Mirror::disputes`] at most (open disputes always come first).
pub const DISPUTE_QUEUE_LIMIT: u32 = 500;
/// Largest page [`Mirror::orders`] returns, whatever `limit` asks.
pub const MAX_PAGE: u32 = 500;

pub struct Mirror {
    conn: Connection,
}

impl Mirror {
    /// Open (creating if needed) and migrate; WAL, busy timeout, synchronous=FULL.
    pub fn open(path: &Path) -> Result<Mirror, MirrorError> {
        private::prepare_database_file(path).map_err(MirrorError::from_io)?;
        let mut conn = Connection::open(path)?;
        schema::configure_writer(&conn)?;
        schema::migrate(&mut conn)?;
        Ok(Mirror { conn })
    }

    /// What [`Mirror::open`] will have to do to the database at `path` before it can be
    /// used: Some when the upgrade re-derives every order from the stored events (a few
    /// seconds on a large store), with the real number of events to re-read; None for a
    /// new file, a mirror already up to date, or one whose upgrade is quick. Reads only.
    pub fn pending_update(path: &Path) -> Result<Option<PendingUpdate>, MirrorError> {
        if !path.exists() {
            return Ok(None);
        }
        let conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        let version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
        let version = usize::try_from(version).unwrap_or(0);
        if !schema::rederives_from(version) {
            return Ok(None);
        }
        let events: i64 = conn.query_row("SELECT count(*) FROM events", [], |r| r.get(0))?;
        Ok((events > 0).then_some(PendingUpdate {
            from_version: version as u32,
            to_version: schema::LATEST_VERSION as u32,
            events: events as u64,
        }))
    }

    /// A connection that only reads (the desktop UI while the relay writes). The database
    /// must exist at the current schema version.
    pub fn open_read_only(path: &Path) -> Result<Mirror, MirrorError> {
        let flags = OpenFlags::SQLITE_OPEN_READ_ONLY
            | OpenFlags::SQLITE_OPEN_NO_MUTEX
            | OpenFlags::SQLITE_OPEN_URI;
        let conn = Connection::open_with_flags(path, flags)?;
        schema::configure_reader(&conn)?;
        schema::check_version(&conn)?;
        Ok(Mirror { conn })
    }

    pub fn ingest(&mut self, raw: &[u8], source: Source) -> Result<IngestOutcome, MirrorError> {
        let ev = Event::parse(raw)?;
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let out = ingest::ingest_one(&tx, &ev, source, ingest::now_unix())?;
        tx.commit()?;
        Ok(out)
    }

    /// [`Mirror::ingest`] that also sets a (non-secret) setting in the same transaction: a
    /// feed's cursor moves exactly when its event is committed, with one commit for both.
    pub fn ingest_with_setting(
        &mut self,
        raw: &[u8],
        source: Source,
        key: &str,
        value: &str,
    ) -> Result<IngestOutcome, MirrorError> {
        let ev = Event::parse(raw)?;
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let out = ingest::ingest_one(&tx, &ev, source, ingest::now_unix())?;
        log::set_setting(&tx, key, Some(value))?;
        tx.commit()?;
        Ok(out)
    }

    /// Group commit: all events in ONE transaction. Outer Err: nothing committed. Inner
    /// results are per event, in input order (duplicates inside the batch are reported as
    /// Duplicate).
    pub fn ingest_batch(
        &mut self,
        events: &[(Event, Source)],
    ) -> Result<Vec<IngestOutcome>, MirrorError> {
        self.ingest_batch_with_rejections(events, &RejectionTally::default())
    }

    /// [`Mirror::ingest_batch`] that also adds counted refusals to the rejection aggregates,
    /// in the same transaction: one commit (one fsync) for both. Outer Err: nothing of
    /// either committed.
    pub fn ingest_batch_with_rejections(
        &mut self,
        events: &[(Event, Source)],
        rejections: &RejectionTally,
    ) -> Result<Vec<IngestOutcome>, MirrorError> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let now = ingest::now_unix();
        let out = events
            .iter()
            .map(|(ev, source)| ingest::ingest_one(&tx, ev, *source, now))
            .collect::<Result<Vec<_>, _>>()?;
        log::write_rejections(&tx, rejections)?;
        tx.commit()?;
        Ok(out)
    }

    /// Copy committed WAL pages into the database file without waiting for readers and
    /// without blocking a writer on another connection (a PASSIVE checkpoint), so that
    /// commits rarely pay for a checkpoint themselves. Returns (pages in the WAL, pages
    /// copied so far). Durability does not depend on it: committed pages are already
    /// synced in the WAL.
    pub fn checkpoint(&self) -> Result<(u64, u64), MirrorError> {
        let (log, copied): (i64, i64) =
            self.conn
                .query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |r| {
                    Ok((r.get(1)?, r.get(2)?))
                })?;
        Ok((log.max(0) as u64, copied.max(0) as u64))
    }

    /// Hand the durability of this connection's commits to the caller, for a single writer
    /// that syncs the WAL itself on another thread while it prepares its next commit (the
    /// relay's pipelined writer). Commits then write their WAL frames without waiting for the
    /// disk (`synchronous=NORMAL`) and never checkpoint by themselves (`wal_autocheckpoint=0`;
    /// call [`Mirror::checkpoint`]).
    ///
    /// A commit is durable only once the WAL file (the database path with `-wal` appended)
    /// has been synced after the commit returned (`File::sync_data` on a handle to the same
    /// file): that sync puts on disk every frame written before it, the commit's included,
    /// which is what `synchronous=FULL` does inside the commit. Until then a process crash
    /// loses nothing (the frames are in the OS cache) but a power loss may undo the commit,
    /// so nothing may be acknowledged before the sync. SQLite keeps the database consistent
    /// either way: with `NORMAL` it still syncs the WAL before each checkpoint and the
    /// database file after it.
    pub fn defer_commit_sync(&mut self) -> Result<(), MirrorError> {
        self.conn.pragma_update(None, "synchronous", "NORMAL")?;
        self.conn.pragma_update(None, "wal_autocheckpoint", 0)?;
        Ok(())
    }

    /// Count one refused delivery now, in its own transaction. The relay counts in memory
    /// and writes with its batches instead ([`Mirror::ingest_batch_with_rejections`]).
    pub fn record_rejection(&mut self, r: &NewRejection) -> Result<(), MirrorError> {
        let tx = self.conn.transaction()?;
        log::record_rejection(&tx, r, ingest::now_unix())?;
        tx.commit()?;
        Ok(())
    }

    pub fn record_api_call(&mut self, call: &ApiCall) -> Result<(), MirrorError> {
        log::record_api_call(&self.conn, call)
    }

    // ---- settings (small key/value, non-secret) ----
    pub fn setting(&self, key: &str) -> Result<Option<String>, MirrorError> {
        log::setting(&self.conn, key)
    }

    /// `None` removes the key.
    pub fn set_setting(&mut self, key: &str, value: Option<&str>) -> Result<(), MirrorError> {
        log::set_setting(&self.conn, key, value)
    }

    // ---- read API ----

    /// A page of orders of `mode`, newest first (`created`, then key, descending).
    /// Filters combine with AND; `statuses` is any-of. `search` matches a Stripe id
    /// (session, payment intent, charge, refund, dispute) by its start — a full id or a
    /// leading part — and a customer e-mail address by any part of it, ignoring case.
    /// `limit` 0 means 50; at most [`MAX_PAGE`].
    pub fn orders(&self, mode: Mode, q: &OrderQuery) -> Result<Page<Order>, MirrorError> {
        query::orders::orders(&self.conn, mode, q)
    }

    /// An order by its key or by any of its Stripe ids, with every event of the order
    /// (oldest first) and its disputes. None when absent or of the other mode.
    pub fn order_detail(&self, mode: Mode, id: &str) -> Result<Option<OrderDetail>, MirrorError> {
        query::orders::order_detail(&self.conn, mode, id)
    }

    /// The order a PaymentIntent or Charge id (or any other id of the order) belongs to
    /// (privacy guard, refunds). None for a payment that is not one of the owner's orders.
    pub fn order_for_payment(&self, id: &str) -> Result<Option<Order>, MirrorError> {
        query::orders::order_for_payment(&self.conn, id)
    }

    /// The refunds of the order keyed `order_key` (its Checkout Session, or provisional
    /// key), oldest first, each with its status as the stored events say now.
    pub fn order_refunds(&self, order_key: &str) -> Result<Vec<Refund>, MirrorError> {
        query::orders::order_refunds(&self.conn, order_key)
    }

    /// Payments of `mode` that are not orders: how many count as other activity now, and
    /// how many still wait for their Checkout Session. Counts only, never who or what.
    pub fn other_activity(&self, mode: Mode) -> Result<OtherActivity, MirrorError> {
        query::orders::other_activity(&self.conn, mode, ingest::now_unix())
    }

    /// The owner's order marker, if set.
    pub fn order_marker(&self) -> Result<Option<OrderMarker>, MirrorError> {
        marker::load(&self.conn)
    }

    /// Set (Some) or clear (None) the order marker; returns it as stored (trimmed). A
    /// marker Stripe could not match is refused with words that say what to change.
    pub fn set_order_marker(
        &mut self,
        m: Option<&OrderMarker>,
    ) -> Result<Option<OrderMarker>, MirrorError> {
        marker::store(&self.conn, m)
    }

    /// Keep the line items fetched from Stripe for an order's session (replacing any kept).
    pub fn store_line_items(
        &mut self,
        session_id: &str,
        items: &[LineItem],
    ) -> Result<(), MirrorError> {
        let tx = self.conn.transaction()?;
        query::orders::store_line_items(&tx, session_id, items, ingest::now_unix())?;
        tx.commit()?;
        Ok(())
    }

    /// The kept line items of an order's session; None when never fetched.
    pub fn line_items(&self, session_id: &str) -> Result<Option<Vec<LineItem>>, MirrorError> {
        query::orders::line_items(&self.conn, session_id)
    }

    /// Orders of `mode` whose line items were never fetched, newest first, at most `limit`.
    pub fn orders_without_line_items(
        &self,
        mode: Mode,
        limit: u32,
    ) -> Result<Vec<String>, MirrorError> {
        query::orders::orders_without_line_items(&self.conn, mode, limit)
    }

    /// The dispute queue: disputes needing a response first, then those under review, each
    /// by `evidence_details.due_by` ascending (none last); then closed ones, newest first.
    /// At most [`DISPUTE_QUEUE_LIMIT`] rows.
    pub fn disputes(&self, mode: Mode) -> Result<Vec<Dispute>, MirrorError> {
        query::lists::disputes(&self.conn, mode, DISPUTE_QUEUE_LIMIT)
    }

    /// Every order of `mode` that `q` matches (after `q.after` when set; `q.limit`
    /// ignored), newest first, at most `max`: the pages of [`Mirror::orders`] followed to the
    /// end (an export of a filtered list).
    pub fn orders_matching(
        &self,
        mode: Mode,
        q: &OrderQuery,
        max: usize,
    ) -> Result<Vec<Order>, MirrorError> {
        let mut q = OrderQuery {
            limit: MAX_PAGE,
            ..q.clone()
        };
        let mut out = Vec::new();
        while out.len() < max {
            let page = self.orders(mode, &q)?;
            out.extend(page.items);
            match page.next {
                Some(cursor) => q.after = Some(cursor),
                None => break,
            }
        }
        out.truncate(max);
        Ok(out)
    }

    /// The number of disputes of `mode` that need a response.
    /// A dispute by id (any mode) with what Stripe last said of its evidence.
    pub fn dispute(&self, id: &str) -> Result<Option<(Dispute, DisputeEvidence)>, MirrorError> {
        dispute_draft::dispute(&self.conn, id)
    }

    /// The owner's evidence draft of a dispute, if one was saved.
    pub fn dispute_draft(&self, id: &str) -> Result<Option<DisputeDraft>, MirrorError> {
        dispute_draft::draft(&self.conn, id)
    }

    /// Apply `changes` to a dispute's draft in one transaction (see [`DraftChange`]). Returns
    /// the draft as stored and the attachments the changes replaced or removed (their copies
    /// may be deleted by the caller).
    pub fn save_dispute_draft(
        &mut self,
        id: &str,
        changes: &[DraftChange],
        now: i64,
    ) -> Result<(DisputeDraft, Vec<DraftFile>), MirrorError> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let out = dispute_draft::save(&tx, id, changes, now)?;
        tx.commit()?;
        Ok(out)
    }

    /// Remember the Files API's id of a draft's attachment (only while it is the same copy).
    pub fn set_draft_file_uploaded(
        &mut self,
        id: &str,
        field: &str,
        sha256: &str,
        file_id: &str,
    ) -> Result<(), MirrorError> {
        dispute_draft::set_uploaded(&self.conn, id, field, sha256, file_id)
    }

    /// The dispute workbench of `id` in `mode` at time `now` (unix seconds): the dispute, its
    /// order, and every evidence field's value, pre-filled from the mirror where the owner
    /// typed nothing.
    pub fn dispute_workbench(
        &self,
        mode: Mode,
        id: &str,
        now: i64,
    ) -> Result<Option<DisputeWorkbench>, MirrorError> {
        dispute_draft::workbench(&self.conn, mode, id, now)
    }

    pub fn disputes_needing_response(&self, mode: Mode) -> Result<u64, MirrorError> {
        query::lists::disputes_needing_response(&self.conn, mode)
    }

    /// Subscriptions of `mode`, newest first.
    pub fn subscriptions(&self, mode: Mode) -> Result<Vec<Subscription>, MirrorError> {
        query::lists::subscriptions(&self.conn, mode)
    }

    /// Invoices of `mode`, newest first.
    pub fn invoices(&self, mode: Mode) -> Result<Vec<Invoice>, MirrorError> {
        query::lists::invoices(&self.conn, mode)
    }

    /// The revenue of `mode`'s orders paid in `[from, to)` (unix seconds; None: unbounded),
    /// per currency: gross, refunded, disputed, won back and net, by the rules written in
    /// the `query::summary` module.
    pub fn revenue_summary(
        &self,
        mode: Mode,
        from: Option<i64>,
        to: Option<i64>,
    ) -> Result<RevenueSummary, MirrorError> {
        query::summary::revenue_summary(&self.conn, mode, from, to)
    }

    /// Stored events, newest received first; `None` = both modes (each row says its mode).
    pub fn events(&self, mode: Option<Mode>, limit: u32) -> Result<Vec<StoredEvent>, MirrorError> {
        query::lists::events(&self.conn, mode, limit)
    }

    /// The raw JSON of a stored event, exactly as received.
    pub fn event_raw(&self, id: &str) -> Result<Option<String>, MirrorError> {
        query::lists::event_raw(&self.conn, id)
    }

    /// Rejected deliveries aggregated per (hour, code), the most recently refused first.
    pub fn rejections(&self, limit: u32) -> Result<Vec<Rejection>, MirrorError> {
        log::rejections(&self.conn, limit)
    }

    /// Outbound API calls, newest first.
    pub fn api_calls(&self, limit: u32) -> Result<Vec<ApiCall>, MirrorError> {
        log::api_calls(&self.conn, limit)
    }

    /// The status of `account_id` in `mode`, as its newest account event says (a fetch from
    /// the API or a delivered `account.updated`). None until one is stored.
    pub fn account_status(
        &self,
        mode: Mode,
        account_id: &str,
    ) -> Result<Option<AccountStatus>, MirrorError> {
        query::account::account_status(&self.conn, mode, account_id)
    }

    /// The status of the account of `mode` heard from most recently (for when the account id
    /// is not known yet). None until an account event of that mode is stored.
    pub fn latest_account_status(&self, mode: Mode) -> Result<Option<AccountStatus>, MirrorError> {
        query::account::latest_account_status(&self.conn, mode)
    }

    /// The checklist's facts with no connection time recorded: a paid order counts when it
    /// was created after the mode's first event arrived (see [`ModeFacts::connected_at`]).
    pub fn checklist_facts(&self) -> Result<ChecklistFacts, MirrorError> {
        query::lists::checklist_facts(&self.conn, None, None)
    }

    /// The checklist's facts, counting paid orders created at or after the time each mode was
    /// connected (`None`: not recorded, then as [`Mirror::checklist_facts`]).
    pub fn checklist_facts_since(
        &self,
        test_since: Option<i64>,
        live_since: Option<i64>,
    ) -> Result<ChecklistFacts, MirrorError> {
        query::lists::checklist_facts(&self.conn, test_since, live_since)
    }

    /// The notices of `kinds` not raised before, recorded as raised (once per fact, across
    /// restarts and concurrent callers; see the `notices` module). `now` in unix seconds.
    pub fn claim_notices(
        &mut self,
        kinds: &[NoticeKind],
        now: i64,
    ) -> Result<Vec<Notice>, MirrorError> {
        notices::claim(&mut self.conn, kinds, now)
    }

    /// The notice kinds the owner wants raised (all unless turned off).
    pub fn notice_kinds_on(&self) -> Result<Vec<NoticeKind>, MirrorError> {
        notices::kinds_on(&self.conn)
    }

    /// Turn one notice kind on or off.
    pub fn set_notice_kind_on(&mut self, kind: NoticeKind, on: bool) -> Result<(), MirrorError> {
        notices::set_kind_on(&self.conn, kind, on)
    }

    /// A canonical text dump of every projection table (for the property tests).
    pub fn dump_projections(&self) -> Result<String, MirrorError> {
        dump::dump(&self.conn)
    }
}

#[cfg(test)]
mod tests;
