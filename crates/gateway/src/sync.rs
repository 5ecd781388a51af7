//! Events sync: Stripe's events API as a feed into the mirror.
//!
//! Invariants:
//! - Events are ingested with source `events_api`; the mirror deduplicates on the event id,
//!   so an event already delivered by webhook is a duplicate, never a second fold.
//! - The watermark (newest event id and time per mode and account, a mirror setting) only
//!   moves after the events up to it are stored, so an interrupted sync repeats work rather
//!   than losing any.
//! - A watermark older than Stripe's 30-day retention is reported as a gap, not hidden.
//! - Every loop is bounded ([`SyncOptions::max_pages`]); cancellation is checked between
//!   pages and interrupts a waiting request.
//! - [`StripeClient::sync_events_with`] reports each event stored for the first time, after
//!   its page is committed and the mirror lock released, so a caller can tell its views at
//!   once (duplicates are not reported: they changed nothing).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use fluxstore_mirror::facts::subscribed_event_types;
use fluxstore_mirror::{AppliedEvent, IngestOutcome, Source};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use tokio::sync::Notify;

use crate::client::{StripeClient, unix_now};
use crate::error::GatewayError;
use crate::events::{EventPage, EventsQuery, MAX_PAGE};
use crate::profile::DEAUTHORIZED_EVENT;

/// How long Stripe keeps events.
pub const RETENTION_SECS: i64 = 30 * 24 * 60 * 60;

/// The event types a sync asks for (≤ 20, Stripe's `types[]` cap): those a created endpoint
/// subscribes to, and the end of a Connect connection.
pub fn projected_types() -> Vec<String> {
    subscribed_event_types()
        .chain([DEAUTHORIZED_EVENT])
        .map(str::to_owned)
        .collect()
}

/// A cancellation handle shared between the caller and a running sync.
#[derive(Debug, Clone, Default)]
pub struct CancelToken {
    flag: Arc<AtomicBool>,
    notify: Arc<Notify>,
}

impl CancelToken {
    pub fn new() -> CancelToken {
        CancelToken::default()
    }
    pub fn cancel(&self) {
        self.flag.store(true, Ordering::SeqCst);
        self.notify.notify_waiters();
    }
    pub fn is_cancelled(&self) -> bool {
        self.flag.load(Ordering::SeqCst)
    }
    pub(crate) async fn cancelled(&self) {
        let waiter = self.notify.notified();
        if self.is_cancelled() {
            return;
        }
        waiter.await;
    }
}

#[derive(Debug, Clone)]
pub struct SyncOptions {
    pub types: Vec<String>,
    pub page_size: u32,
    /// Hard bound on pages per run (a run that hits it reports `complete: false`).
    pub max_pages: u32,
}

impl Default for SyncOptions {
    fn default() -> SyncOptions {
        SyncOptions {
            types: projected_types(),
            page_size: MAX_PAGE,
            max_pages: 500,
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct SyncProgress {
    pub pages: u32,
    pub events: u64,
    pub applied: u64,
    pub duplicates: u64,
    /// `created` of the newest event seen so far.
    pub newest_created: Option<i64>,
}

/// The caller's callbacks for one run.
struct Hooks<'a> {
    progress: &'a mut (dyn FnMut(&SyncProgress) + Send),
    applied: &'a mut (dyn FnMut(&AppliedEvent) + Send),
}

impl Hooks<'_> {
    fn page_done(&mut self, applied: &[AppliedEvent], progress: &SyncProgress) {
        for event in applied {
            (self.applied)(event);
        }
        (self.progress)(progress);
    }
}

/// Events older than Stripe's retention may have been missed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Gap {
    /// The newest event the mirror had synced before this run.
    pub last_synced_created: i64,
    /// Stripe keeps nothing older than this; events between the two may be lost.
    pub retention_starts: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SyncReport {
    pub progress: SyncProgress,
    pub gap: Option<Gap>,
    /// False when `max_pages` stopped the run early; run again to continue.
    pub complete: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Watermark {
    id: String,
    created: i64,
}

impl StripeClient {
    fn watermark_key(&self) -> String {
        let acct = self.config().stripe_account.as_deref().unwrap_or("self");
        format!("events_sync.watermark.{}.{acct}", self.mode().as_str())
    }

    fn load_watermark(&self) -> Result<Option<Watermark>, GatewayError> {
        let raw = self.lock_mirror().setting(&self.watermark_key())?;
        // An unreadable watermark is treated as none: a full catch-up is idempotent.
        Ok(raw.and_then(|r| serde_json::from_str(&r).ok()))
    }

    fn store_watermark(&self, w: &Watermark) -> Result<(), GatewayError> {
        let v = serde_json::to_string(w)
            .map_err(|e| GatewayError::UnexpectedResponse(e.to_string()))?;
        self.lock_mirror()
            .set_setting(&self.watermark_key(), Some(&v))?;
        Ok(())
    }

    async fn page(&self, q: &EventsQuery, cancel: &CancelToken) -> Result<EventPage, GatewayError> {
        if cancel.is_cancelled() {
            return Err(GatewayError::Cancelled);
        }
        tokio::select! {
            r = self.list_events(q) => r,
            () = cancel.cancelled() => Err(GatewayError::Cancelled),
        }
    }

    /// Ingest one page (oldest first) and update the progress; returns the events applied.
    fn ingest_page(
        &self,
        data: &[Value],
        p: &mut SyncProgress,
    ) -> Result<Vec<AppliedEvent>, GatewayError> {
        let mut applied = Vec::new();
        let mut mirror = self.lock_mirror();
        for ev in data.iter().rev() {
            let raw = serde_json::to_vec(ev)
                .map_err(|e| GatewayError::UnexpectedResponse(e.to_string()))?;
            match mirror.ingest(&raw, Source::EventsApi)? {
                IngestOutcome::Applied(event) => {
                    p.applied += 1;
                    applied.push(event);
                }
                IngestOutcome::Duplicate { .. } => p.duplicates += 1,
            }
            p.events += 1;
            if let Some(c) = ev.get("created").and_then(Value::as_i64) {
                p.newest_created = Some(p.newest_created.map_or(c, |n| n.max(c)));
            }
        }
        Ok(applied)
    }

    /// Page `GET /v1/events` forward from the stored watermark into the mirror.
    pub async fn sync_events(
        &self,
        opts: &SyncOptions,
        on_progress: &mut (dyn FnMut(&SyncProgress) + Send),
        cancel: &CancelToken,
    ) -> Result<SyncReport, GatewayError> {
        self.sync_events_with(opts, on_progress, &mut |_| {}, cancel)
            .await
    }

    /// [`Self::sync_events`], also calling `on_applied` for every event stored for the first
    /// time (after its page is committed, before that page's `on_progress`).
    pub async fn sync_events_with(
        &self,
        opts: &SyncOptions,
        on_progress: &mut (dyn FnMut(&SyncProgress) + Send),
        on_applied: &mut (dyn FnMut(&AppliedEvent) + Send),
        cancel: &CancelToken,
    ) -> Result<SyncReport, GatewayError> {
        let mut hooks = Hooks {
            progress: on_progress,
            applied: on_applied,
        };
        let now = unix_now();
        let retention_starts = now - RETENTION_SECS;
        let mark = self.load_watermark()?;
        let gap = mark
            .as_ref()
            .filter(|w| w.created < retention_starts)
            .map(|w| Gap {
                last_synced_created: w.created,
                retention_starts,
            });
        let mut progress = SyncProgress::default();
        let base = EventsQuery {
            types: opts.types.clone(),
            limit: opts.page_size,
            ..EventsQuery::default()
        };

        let complete = match mark.filter(|_| gap.is_none()) {
            Some(w) => match self
                .forward(&base, w.clone(), opts, &mut progress, &mut hooks, cancel)
                .await
            {
                // The cursor event is gone (pruned or deleted at Stripe): walk back to it
                // by time instead; the mirror deduplicates any overlap.
                Err(GatewayError::NotFound { .. }) if progress.pages == 0 => {
                    self.walk_back(
                        &base,
                        Some(w.created - 1),
                        opts,
                        &mut progress,
                        &mut hooks,
                        cancel,
                    )
                    .await?
                }
                other => other?,
            },
            None => {
                self.walk_back(&base, None, opts, &mut progress, &mut hooks, cancel)
                    .await?
            }
        };
        Ok(SyncReport {
            progress,
            gap,
            complete,
        })
    }

    /// Page forward from `cursor`: each page is the next newer slice, newest first. The
    /// watermark follows every stored page. Ok(false) when `max_pages` stopped it.
    async fn forward(
        &self,
        base: &EventsQuery,
        mut cursor: Watermark,
        opts: &SyncOptions,
        progress: &mut SyncProgress,
        hooks: &mut Hooks<'_>,
        cancel: &CancelToken,
    ) -> Result<bool, GatewayError> {
        loop {
            if progress.pages >= opts.max_pages {
                return Ok(false);
            }
            let q = EventsQuery {
                ending_before: Some(cursor.id.clone()),
                ..base.clone()
            };
            let page = self.page(&q, cancel).await?;
            progress.pages += 1;
            let applied = self.ingest_page(&page.data, progress)?;
            if let Some(newest) = page.data.first() {
                cursor = watermark_of(newest).unwrap_or(cursor);
                self.store_watermark(&cursor)?;
            }
            hooks.page_done(&applied, progress);
            if !page.has_more || page.data.is_empty() {
                return Ok(true);
            }
        }
    }

    /// Fetch and ingest every event of the synced types created after `since` (a look-up
    /// healing one order), leaving the watermark alone: the walk covers only part of the
    /// history, so it proves nothing about what came before `since`. Returns how many events
    /// were stored for the first time.
    pub async fn ingest_events_since(
        &self,
        since: i64,
        opts: &SyncOptions,
        cancel: &CancelToken,
    ) -> Result<u64, GatewayError> {
        let base = EventsQuery {
            types: opts.types.clone(),
            limit: opts.page_size,
            ..EventsQuery::default()
        };
        let mut progress = SyncProgress::default();
        let mut hooks = Hooks {
            progress: &mut |_| {},
            applied: &mut |_| {},
        };
        self.walk_back_with(
            &base,
            Some(since),
            opts,
            &mut progress,
            &mut hooks,
            cancel,
            false,
        )
        .await?;
        Ok(progress.applied)
    }

    /// Walk back from the newest event (to `since` when given). The watermark is set to the
    /// newest event only once the whole walk is stored. Ok(false) when `max_pages` stopped it.
    async fn walk_back(
        &self,
        base: &EventsQuery,
        since: Option<i64>,
        opts: &SyncOptions,
        progress: &mut SyncProgress,
        hooks: &mut Hooks<'_>,
        cancel: &CancelToken,
    ) -> Result<bool, GatewayError> {
        self.walk_back_with(base, since, opts, progress, hooks, cancel, true)
            .await
    }

    #[allow(clippy::too_many_arguments)]
    async fn walk_back_with(
        &self,
        base: &EventsQuery,
        since: Option<i64>,
        opts: &SyncOptions,
        progress: &mut SyncProgress,
        hooks: &mut Hooks<'_>,
        cancel: &CancelToken,
        set_watermark: bool,
    ) -> Result<bool, GatewayError> {
        let mut newest: Option<Watermark> = None;
        let mut after: Option<String> = None;
        loop {
            if progress.pages >= opts.max_pages {
                return Ok(false);
            }
            let q = EventsQuery {
                starting_after: after.clone(),
                created_gt: since,
                ..base.clone()
            };
            let page = self.page(&q, cancel).await?;
            progress.pages += 1;
            let applied = self.ingest_page(&page.data, progress)?;
            if newest.is_none() {
                newest = page.data.first().and_then(watermark_of);
            }
            hooks.page_done(&applied, progress);
            after = page
                .data
                .last()
                .and_then(|e| e.get("id"))
                .and_then(Value::as_str)
                .map(str::to_owned);
            if !page.has_more || after.is_none() {
                break;
            }
        }
        if let Some(w) = newest.filter(|_| set_watermark) {
            self.store_watermark(&w)?;
        }
        Ok(true)
    }
}

fn watermark_of(ev: &Value) -> Option<Watermark> {
    Some(Watermark {
        id: ev.get("id")?.as_str()?.to_owned(),
        created: ev.get("created")?.as_i64()?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn projected_types_fit_stripes_cap() {
        let t = projected_types();
        assert!(t.len() <= crate::events::MAX_TYPES);
        assert!(t.iter().any(|s| s == "charge.refunded"));
        assert!(t.iter().any(|s| s == "account.application.deauthorized"));
        // A Connect owner's readiness reaches the mirror through the feed too.
        assert!(t.iter().any(|s| s == "account.updated"));
    }
}
