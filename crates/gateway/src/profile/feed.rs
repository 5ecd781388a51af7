//! The one feed loop: keeps the mirror current from Stripe's events API, for every connected
//! mode, by key or Connect token. It runs at start, every [`POLL`], at once after the computer
//! wakes from sleep (the wall clock jumped past the monotonic one), and on demand
//! ([`Feed::sync_now`]: after keys are saved, after a Connect sign-in, "Sync now").
//!
//! Beside the poll, each mode connected through Connect (or by API key with live updates
//! through the hub turned on, see [`super::keyhub`]) follows the FluxStore hub's live feed
//! ([`super::follow`]): the hub rings a doorbell as Stripe sends an event, and the desktop
//! fetches that event from Stripe at once. The poll stays: it heals whatever the feed could
//! not bring (the hub unreachable, a resync, events from before the feed opened).
//!
//! Invariants: at most one poll run at a time (one task); a run is bounded by the sync's page
//! limit and cancellable; a failed run is reported and retried on the next tick; a 401 on a
//! Connect token and a deauthorization event end that mode's connection (see
//! [`super::connect`]) and are reported as a connection change; modes that are not connected
//! are skipped.
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use fluxstore_mirror::Mode;
use tokio::sync::Notify;

use super::follow::{HubFeedStatus, Tracker, follow};
use super::{Profile, ProfileError};
use crate::error::GatewayError;
use crate::sync::{CancelToken, SyncOptions, SyncProgress, SyncReport};
use fluxstore_mirror::AppliedEvent;

/// How often the mirror is brought up to date while the feed runs.
pub const POLL: Duration = Duration::from_secs(120);
/// The loop wakes this often to notice a resume from sleep (the monotonic clock stops while
/// the computer sleeps; the wall clock does not).
const TICK: Duration = Duration::from_secs(10);

/// Where the feed reports; every method has a no-op default.
pub trait FeedObserver: Send + Sync + 'static {
    /// An event stored for the first time by a sync.
    fn applied(&self, _event: &AppliedEvent) {}
    /// A page of a run is done.
    fn progress(&self, _mode: Mode, _progress: &SyncProgress) {}
    /// A run ended (its report, or why it failed).
    fn finished(&self, _mode: Mode, _outcome: Result<&SyncReport, &ProfileError>) {}
    /// Whether Stripe answered (false: offline or timed out).
    fn reachable(&self, _online: bool) {}
    /// A mode's connection ended (deauthorized, token revoked).
    fn connection_changed(&self, _mode: Mode) {}
    /// Line items of `count` orders were fetched and kept after a run.
    fn line_items_fetched(&self, _mode: Mode, _count: u32) {}
    /// A mode's live feed through the hub changed (state, or a doorbell answered).
    fn hub_feed(&self, _status: &HubFeedStatus) {}
}

/// What a feed keeps current, and how.
#[derive(Debug, Clone)]
pub struct FeedOptions {
    /// How often Stripe's events are read.
    pub poll: Duration,
    /// Follow the hub's live feed for modes connected through Connect or with live updates
    /// through the hub turned on.
    pub follow_hub: bool,
    /// The modes fed (both, unless a command names one).
    pub modes: Vec<Mode>,
}

impl FeedOptions {
    /// Both modes, polled every `poll`, following the hub.
    pub fn new(poll: Duration) -> FeedOptions {
        FeedOptions {
            poll,
            follow_hub: true,
            modes: vec![Mode::Test, Mode::Live],
        }
    }
}

/// An observer that reports nothing.
pub struct Quiet;
impl FeedObserver for Quiet {}

impl Profile {
    /// One sync run of `mode`; Ok(None) when that mode is not connected.
    pub async fn sync(
        &self,
        mode: Mode,
        options: &SyncOptions,
        observer: &dyn FeedObserver,
        cancel: &CancelToken,
    ) -> Result<Option<SyncReport>, ProfileError> {
        if !self.is_connected(mode).await? {
            return Ok(None);
        }
        let client = self.client(mode).await?;
        let mut on_progress = |p: &SyncProgress| observer.progress(mode, p);
        let mut on_applied = |e: &AppliedEvent| observer.applied(e);
        let result = client
            .sync_events_with(options, &mut on_progress, &mut on_applied, cancel)
            .await;
        observer.reachable(!matches!(
            result,
            Err(GatewayError::Offline | GatewayError::Timeout)
        ));
        let result = match result {
            Ok(report) => {
                if self.apply_deauthorization(mode).await? {
                    observer.connection_changed(mode);
                } else {
                    // What new orders bought, kept for offline review. Best effort: an order
                    // whose items could not be fetched now is tried on the next run.
                    match client
                        .fetch_missing_line_items(crate::orders::LINE_ITEMS_PER_RUN)
                        .await
                    {
                        Ok(n) if n > 0 => observer.line_items_fetched(mode, n),
                        Ok(_) => {}
                        Err(e) => {
                            tracing::info!(mode = mode.as_str(), code = e.code(), error = %e, "line items not fetched this run");
                        }
                    }
                }
                Ok(report)
            }
            Err(e) => {
                if self.note_stripe_error(mode, &e).await? {
                    observer.connection_changed(mode);
                }
                Err(ProfileError::from(e))
            }
        };
        observer.finished(mode, result.as_ref());
        result.map(Some)
    }
}

/// The running feed of one profile.
pub struct Feed {
    wake: Arc<Notify>,
    /// Wakes the hub followers (a connection or a setting changed).
    changed: Arc<Notify>,
    cancel: CancelToken,
    task: tokio::task::JoinHandle<()>,
    followers: Vec<(Arc<Tracker>, tokio::task::JoinHandle<()>)>,
}

impl Feed {
    /// Start feeding `profile`'s mirror (both modes, following the hub); the first run
    /// starts at once.
    pub fn start(profile: Arc<Profile>, observer: Arc<dyn FeedObserver>, poll: Duration) -> Feed {
        Feed::start_with(profile, observer, FeedOptions::new(poll))
    }

    /// [`Feed::start`] with its options spelled out.
    pub fn start_with(
        profile: Arc<Profile>,
        observer: Arc<dyn FeedObserver>,
        options: FeedOptions,
    ) -> Feed {
        let wake = Arc::new(Notify::new());
        let changed = Arc::new(Notify::new());
        let cancel = CancelToken::new();
        let followers = if options.follow_hub {
            options
                .modes
                .iter()
                .map(|&mode| {
                    let tracker = Arc::new(Tracker::new(mode, observer.clone()));
                    let task = tokio::spawn(follow(
                        profile.clone(),
                        mode,
                        tracker.clone(),
                        changed.clone(),
                        cancel.clone(),
                    ));
                    (tracker, task)
                })
                .collect()
        } else {
            Vec::new()
        };
        let task = tokio::spawn(run(
            profile,
            observer,
            options,
            wake.clone(),
            cancel.clone(),
        ));
        Feed {
            wake,
            changed,
            cancel,
            task,
            followers,
        }
    }

    /// Run again now (new keys, a new connection, "Sync now", back online); a mode whose
    /// live feed is off or waiting looks again too.
    pub fn sync_now(&self) {
        self.wake.notify_one();
        self.changed.notify_waiters();
    }

    /// The live feed of each mode followed (none when the hub is not followed).
    pub fn hub_status(&self) -> Vec<HubFeedStatus> {
        self.followers.iter().map(|(t, _)| t.get()).collect()
    }

    /// Stop, interrupting a run in flight, and wait for the tasks.
    pub async fn stop(mut self) {
        self.cancel.cancel();
        self.wake.notify_one();
        self.changed.notify_waiters();
        let _ = (&mut self.task).await;
        for (_, task) in &mut self.followers {
            let _ = task.await;
        }
    }
}

impl Drop for Feed {
    fn drop(&mut self) {
        self.cancel.cancel();
        self.task.abort();
        for (_, task) in &self.followers {
            task.abort();
        }
    }
}

async fn run(
    profile: Arc<Profile>,
    observer: Arc<dyn FeedObserver>,
    feed: FeedOptions,
    wake: Arc<Notify>,
    cancel: CancelToken,
) {
    let options = SyncOptions::default();
    let poll = feed.poll;
    loop {
        for &mode in &feed.modes {
            if cancel.is_cancelled() {
                return;
            }
            if let Err(e) = profile
                .sync(mode, &options, observer.as_ref(), &cancel)
                .await
            {
                tracing::info!(mode = mode.as_str(), code = e.code(), error = %e, "events sync did not complete");
            }
        }
        tokio::select! {
            () = next_run(poll) => {}
            () = wake.notified() => {}
        }
    }
}

/// Sleep until the next poll, or less when the wall clock shows the computer slept.
async fn next_run(poll: Duration) {
    let started = Instant::now();
    let wall = SystemTime::now();
    while started.elapsed() < poll {
        tokio::time::sleep(TICK.min(poll)).await;
        let wall_elapsed = SystemTime::now().duration_since(wall).unwrap_or_default();
        if wall_elapsed > started.elapsed() + TICK * 3 {
            tracing::info!("the computer woke up; healing the mirror from Stripe's events");
            return;
        }
    }
}
