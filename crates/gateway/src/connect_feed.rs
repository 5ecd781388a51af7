//! The Connect-mode feed: in Connect mode the mirror is fed from Stripe's events API with the
//! access token — no webhook secret needed. A sync runs on start (connect), on every tick
//! while the app runs, and at once on [`ConnectFeed::resume`] (wake from sleep, back online).
//!
//! Invariants: at most one sync runs at a time (one task); a failed run (offline, Stripe
//! down) is reported and retried on the next tick; a 401 or a deauthorization event flips the
//! app to disconnected (see [`crate::connect`]) and ends the feed, since the token is dead.

use std::time::Duration;

use serde::Serialize;
use tokio::sync::{Notify, watch};

use crate::client::StripeClient;
use crate::connect::{apply_deauthorization, apply_stripe_error, status};
use crate::sync::{CancelToken, SyncOptions, SyncReport};

/// What the feed has done so far, for the UI.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct FeedState {
    /// Completed runs (successful or not).
    pub runs: u64,
    pub last_report: Option<SyncReport>,
    /// The owner-facing message of the last failed run, if the last run failed.
    pub last_error: Option<String>,
    /// Set when the feed ended because the connection is gone; the reason is in the settings.
    pub disconnected: bool,
}

pub struct ConnectFeed {
    resume: std::sync::Arc<Notify>,
    cancel: CancelToken,
    state: watch::Receiver<FeedState>,
    task: tokio::task::JoinHandle<()>,
}

impl ConnectFeed {
    /// Start feeding the mirror through `client` (which authenticates with the Connect token).
    pub fn start(client: StripeClient, options: SyncOptions, interval: Duration) -> ConnectFeed {
        let resume = std::sync::Arc::new(Notify::new());
        let cancel = CancelToken::new();
        let (tx, state) = watch::channel(FeedState::default());
        let task = tokio::spawn(run(
            client,
            options,
            interval,
            resume.clone(),
            cancel.clone(),
            tx,
        ));
        ConnectFeed {
            resume,
            cancel,
            state,
            task,
        }
    }

    /// Sync now (the machine woke up or came back online).
    pub fn resume(&self) {
        self.resume.notify_one();
    }

    /// Watch the feed's progress.
    pub fn state(&self) -> watch::Receiver<FeedState> {
        self.state.clone()
    }

    /// Stop, interrupting a sync in flight, and wait for the task.
    pub async fn stop(mut self) {
        self.cancel.cancel();
        self.resume.notify_one();
        let _ = (&mut self.task).await;
    }
}

impl Drop for ConnectFeed {
    fn drop(&mut self) {
        self.cancel.cancel();
        self.task.abort();
    }
}

async fn run(
    client: StripeClient,
    options: SyncOptions,
    interval: Duration,
    resume: std::sync::Arc<Notify>,
    cancel: CancelToken,
    tx: watch::Sender<FeedState>,
) {
    let mut ticker = tokio::time::interval(interval);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        // The first tick completes at once: the sync on connect.
        tokio::select! {
            _ = ticker.tick() => {}
            _ = resume.notified() => {}
        }
        if cancel.is_cancelled() {
            return;
        }
        let result = client.sync_events(&options, &mut |_| {}, &cancel).await;
        let mut ended;
        let mut state = tx.borrow().clone();
        state.runs += 1;
        {
            let mut mirror = client.mirror().lock().unwrap_or_else(|p| p.into_inner());
            match &result {
                Ok(report) => {
                    state.last_report = Some(report.clone());
                    state.last_error = None;
                    ended = apply_deauthorization(&mut mirror).unwrap_or(false);
                }
                Err(e) => {
                    state.last_error = Some(e.to_string());
                    ended = apply_stripe_error(&mut mirror, e).unwrap_or(false);
                }
            }
            // Disconnected by any path (also by the owner in another window): stop feeding.
            if !status(&mirror).map(|s| s.connected).unwrap_or(true) {
                ended = true;
            }
        }
        state.disconnected = ended;
        tx.send_replace(state);
        if ended || cancel.is_cancelled() {
            return;
        }
    }
}
