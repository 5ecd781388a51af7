//! `fluxstore sync`: one run of the profile's events sync for a mode (the feed loop's run);
//! `fluxstore sync --follow [--hub URL]`: the feed loop itself for that mode, headless — the
//! FluxStore hub's live feed (each doorbell's event fetched from Stripe and stored at once)
//! with the events sync every 2 minutes beneath it — until Ctrl-C.
use std::sync::Arc;

use fluxstore_gateway::profile::{
    Feed, FeedObserver, FeedOptions, HUB_ENV, HubFeedState, HubFeedStatus, POLL, hub_url,
};
use fluxstore_gateway::{AppliedEvent, CancelToken, ProfileError, SyncOptions, SyncProgress};
use fluxstore_mirror::Mode;
use serde_json::json;

use super::{Common, Done, common_profile, mode_of};

/// `fluxstore sync` options.
#[derive(Debug, Clone, clap::Args)]
pub struct SyncArgs {
    #[command(flatten)]
    pub common: Common,
    /// Keep following: the FluxStore hub's live feed and the periodic events sync, until
    /// interrupted (Ctrl-C).
    #[arg(long)]
    pub follow: bool,
    /// The FluxStore hub to follow (default: the owner's setting, else the Connect service
    /// the mode's token came from). https, or http to this computer.
    #[arg(long, value_name = "URL", env = HUB_ENV)]
    pub hub: Option<String>,
}

#[cfg(test)]
impl SyncArgs {
    /// One sync run with these options.
    pub fn once(common: Common) -> SyncArgs {
        SyncArgs {
            common,
            follow: false,
            hub: None,
        }
    }
}

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

pub async fn run(a: &SyncArgs) -> Done {
    if a.follow {
        return follow(a).await;
    }
    let c = &a.common;
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

/// Tells, on stderr, each change of the live feed and each event stored.
struct Follower {
    quiet: bool,
}

impl FeedObserver for Follower {
    fn applied(&self, e: &AppliedEvent) {
        if !self.quiet {
            eprintln!("stored {} ({})", e.event_id, e.event_type);
        }
    }
    fn finished(&self, mode: Mode, outcome: Result<&fluxstore_gateway::SyncReport, &ProfileError>) {
        if self.quiet {
            return;
        }
        match outcome {
            Ok(r) => eprintln!(
                "{} mode: read Stripe's events: {} new, {} already known",
                mode.as_str(),
                r.progress.applied,
                r.progress.duplicates
            ),
            Err(e) => eprintln!(
                "{} mode: Stripe's events could not be read: {e}",
                mode.as_str()
            ),
        }
    }
    fn hub_feed(&self, s: &HubFeedStatus) {
        if self.quiet {
            return;
        }
        // A doorbell changes only the counters; the state line is printed when it changes.
        static LAST: std::sync::Mutex<Option<(HubFeedState, String)>> = std::sync::Mutex::new(None);
        let mut last = LAST.lock().unwrap_or_else(|p| p.into_inner());
        let now = (s.state, s.detail.clone());
        if last.as_ref() != Some(&now) {
            let word = match s.state {
                HubFeedState::Live => "live",
                HubFeedState::Polling => "polling",
                HubFeedState::Off => "off",
            };
            eprintln!("{} mode: hub feed {word}: {}", s.mode.as_str(), s.detail);
            *last = Some(now);
        }
    }
}

async fn follow(a: &SyncArgs) -> Done {
    let c = &a.common;
    let mut profile = common_profile(c)?;
    let mode = mode_of(c, &profile).await?;
    if let Some(text) = &a.hub {
        profile = profile.with_hub(hub_url(text)?);
    }
    if !profile.is_connected(mode).await? {
        return Err(ProfileError::NotConnected { mode });
    }
    let profile = Arc::new(profile);
    let hub = profile.hub(mode).await?;
    if !c.json {
        eprintln!(
            "following {} mode through {} until Ctrl-C; Stripe's events are also read every {} minutes",
            mode.as_str(),
            hub.url,
            POLL.as_secs() / 60
        );
    }
    let options = FeedOptions {
        poll: POLL,
        follow_hub: true,
        modes: vec![mode],
    };
    let feed = Feed::start_with(
        profile.clone(),
        Arc::new(Follower { quiet: c.json }),
        options,
    );
    let interrupted = tokio::signal::ctrl_c().await;
    let status = feed.hub_status();
    feed.stop().await;
    if let Err(e) = interrupted {
        return Err(ProfileError::Invalid(format!(
            "Ctrl-C could not be watched for ({e}), so following was stopped."
        )));
    }
    let s = status.into_iter().next();
    let text = match &s {
        Some(s) => format!(
            "stopped following {} mode: {} doorbells answered, {} refused\n",
            mode.as_str(),
            s.doorbells,
            s.refused
        ),
        None => format!("stopped following {} mode\n", mode.as_str()),
    };
    Ok((json!({ "mode": mode, "hub": hub, "feed": s }), text))
}
