//! Events sync: in key mode it heals gaps at start and after the computer wakes, and polls
//! while the app runs, so a desktop that Stripe cannot reach still mirrors everything; in
//! Connect mode (an access token instead of a key) the same loop is the main feed.
//!
//! Invariants: only the owner's store syncs (the sample store is fed by its own relay); every
//! run is bounded by the gateway's page limit; a run's progress reaches the UI as
//! `sync_progress`, ending with `done: true` (and, when Stripe no longer has older events, a
//! `gap` in words); every event a run stores for the first time is announced as
//! `event_applied`, like a webhook delivery, so views update live after a sync.
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use fluxstore_gateway::keystore::{SecretKind, SecretSlot};
use fluxstore_gateway::{CancelToken, SyncOptions};

use crate::dto::{AppliedEvent, Mode, SyncProgress};
use crate::error::IpcResult;
use crate::state::{ACCOUNT, AppState, mode_word};

/// How often the mirror is brought up to date while the app runs.
const POLL: Duration = Duration::from_secs(120);
/// The loop wakes this often to notice a resume from sleep (the monotonic clock stops while
/// the computer sleeps; the wall clock does not).
const TICK: Duration = Duration::from_secs(10);

/// Start the background sync of the owner's store; it runs until the app exits.
pub fn spawn(state: Arc<AppState>) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            if !state.sample_open().await {
                for mode in [Mode::Test, Mode::Live] {
                    if let Err(e) = state.sync_mode(mode, &CancelToken::new()).await {
                        tracing::info!(mode = mode_word(mode), error = %e.message, "events sync did not run");
                    }
                }
            }
            tokio::select! {
                () = wait_for_next_run() => {}
                () = state.sync_wake.notified() => {}
            }
        }
    })
}

/// Sleep until the next poll, or less when the wall clock shows the computer slept.
async fn wait_for_next_run() {
    let started = Instant::now();
    let wall = SystemTime::now();
    while started.elapsed() < POLL {
        tokio::time::sleep(TICK).await;
        let wall_elapsed = SystemTime::now().duration_since(wall).unwrap_or_default();
        if wall_elapsed > started.elapsed() + TICK * 3 {
            tracing::info!("the computer woke up; healing the mirror from Stripe's events");
            return;
        }
    }
}

impl AppState {
    /// One sync run of `mode`, when an API key for it is stored.
    pub async fn sync_mode(&self, mode: Mode, cancel: &CancelToken) -> IpcResult<()> {
        let key = SecretSlot::new(ACCOUNT, mode, SecretKind::ApiKey).presence_setting();
        let token =
            SecretSlot::new(ACCOUNT, mode, SecretKind::ConnectAccessToken).presence_setting();
        let has_key = self
            .real
            .read(move |m| Ok(m.setting(&key)?.is_some() || m.setting(&token)?.is_some()))
            .await?;
        if !has_key {
            return Ok(());
        }
        let client = self.client(mode).await?;
        let notify = self.notify.clone();
        let mut on_progress = |p: &fluxstore_gateway::SyncProgress| {
            notify.sync_progress(&progress(mode, p, false, None));
        };
        // Each newly stored event is announced like a webhook's, so views update live.
        let applied_to = self.notify.clone();
        let mut on_applied = move |e: &AppliedEvent| applied_to.event_applied(e);
        let report = client
            .sync_events_with(
                &SyncOptions::default(),
                &mut on_progress,
                &mut on_applied,
                cancel,
            )
            .await;
        self.observe(&report);
        if let Err(e) = &report {
            // A revoked Connect token (401) flips the app to disconnected, with the reason.
            let flipped = self
                .real
                .write({
                    let e = GatewayErrorText::from(e);
                    move |m| e.apply(m)
                })
                .await
                .unwrap_or(false);
            if flipped {
                let _ = self.changed().await;
            }
        }
        let report = report?;
        // An `account.application.deauthorized` among the new events ends a Connect connection.
        if self
            .real
            .write(fluxstore_gateway::connect::apply_deauthorization)
            .await
            .unwrap_or(false)
        {
            let _ = self.changed().await;
        }
        let gap = report.gap.as_ref().map(|g| {
            format!(
                "Stripe keeps events for 30 days. The mirror was last updated before that, so changes between then and {} may be missing; open those orders in the Stripe Dashboard to check.",
                crate::time::date_words(g.retention_starts)
            )
        });
        self.notify
            .sync_progress(&progress(mode, &report.progress, true, gap));
        Ok(())
    }
}

fn progress(
    mode: Mode,
    p: &fluxstore_gateway::SyncProgress,
    done: bool,
    gap: Option<String>,
) -> SyncProgress {
    SyncProgress {
        mode,
        pages: u64::from(p.pages),
        events: p.events,
        newest: p.newest_created,
        done,
        gap,
    }
}

/// What `connect::apply_stripe_error` needs from a gateway error, movable to the mirror's
/// blocking thread (the error itself is not `Clone`).
struct GatewayErrorText {
    invalid_key: bool,
}

impl GatewayErrorText {
    fn from(e: &fluxstore_gateway::GatewayError) -> GatewayErrorText {
        GatewayErrorText {
            invalid_key: matches!(e, fluxstore_gateway::GatewayError::InvalidKey),
        }
    }

    fn apply(
        &self,
        m: &mut fluxstore_mirror::Mirror,
    ) -> Result<bool, fluxstore_mirror::MirrorError> {
        if !self.invalid_key {
            return Ok(false);
        }
        fluxstore_gateway::connect::apply_stripe_error(
            m,
            &fluxstore_gateway::GatewayError::InvalidKey,
        )
    }
}
