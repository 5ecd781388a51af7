//! `fluxstore sync`: one run of the profile's events sync for a mode (the feed loop's run).
use fluxstore_gateway::profile::FeedObserver;
use fluxstore_gateway::{CancelToken, ProfileError, SyncOptions, SyncProgress};
use fluxstore_mirror::Mode;
use serde_json::json;

use super::{Common, Done, common_profile, mode_of};

/// Prints each page's progress on stderr (unless JSON was asked for).
struct Printer {
    quiet: bool,
}

impl FeedObserver for Printer {
    fn progress(&self, _mode: Mode, p: &SyncProgress) {
        if !self.quiet {
            eprintln!("page {}: {} events ({} new)", p.pages, p.events, p.applied);
        }
    }
}

pub async fn run(c: &Common) -> Done {
    let profile = common_profile(c)?;
    let mode = mode_of(c, &profile).await?;
    let cancel = CancelToken::new();
    let stop = cancel.clone();
    // Ctrl-C stops between pages; what was stored stays stored.
    let ctrl_c = tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            stop.cancel();
        }
    });
    let printer = Printer { quiet: c.json };
    let r = profile
        .sync(mode, &SyncOptions::default(), &printer, &cancel)
        .await;
    ctrl_c.abort();
    let r = r?.ok_or(ProfileError::NotConnected { mode })?;
    let mut text = format!(
        "synced {} events in {} pages: {} new, {} already known\n",
        r.progress.events, r.progress.pages, r.progress.applied, r.progress.duplicates
    );
    if let Some(g) = &r.gap {
        text.push_str(&format!(
            "warning: the last sync was before Stripe's 30-day history (last event at {}); events between then and {} may be missing from the mirror\n",
            g.last_synced_created, g.retention_starts
        ));
    }
    if !r.complete {
        text.push_str("more events are waiting: run sync again\n");
    }
    Ok((json!(r), text))
}
