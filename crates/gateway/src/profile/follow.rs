//! Following the hub's live feed for one mode: `GET {hub}/v1/feed` as Server-Sent Events,
//! with the mode's Connect access token (or, in key mode, the store's feed token), resumed with `Last-Event-ID` from the cursor kept in
//! the mirror. Each doorbell is answered by [`Profile::answer_doorbell`]; several waiting at
//! once, or an `event: resync`, run the incremental events sync instead.
//!
//! Invariants:
//! - The cursor moves only after a doorbell is dealt with (its event committed, or the
//!   doorbell refused and recorded), so a feed cut at any point resumes without a gap and
//!   without storing anything twice (the mirror is idempotent on event ids anyway).
//! - Every way the feed is not live is a state the owner sees ([`HubFeedStatus`]): off (no
//!   Connect connection nor live updates turned on in key mode, the hub refused the token, or
//!   Stripe refused the owner's key) or polling (the hub is unreachable or
//!   is no hub; the feed loop's events sync keeps the mirror current meanwhile).
//! - Reconnects back off (0.5 s doubling to 30 s, jittered); a feed silent for longer than
//!   [`IDLE`] (the hub's heartbeats stopped) is treated as cut.
use std::sync::{Arc, Mutex};
use std::time::Duration;

use eventsource_stream::Eventsource;
use fluxstore_connect_api::hub::{Doorbell, FEED_PATH, RESYNC_EVENT, Resync};
use fluxstore_mirror::Mode;
use futures_util::{FutureExt, StreamExt};
use serde::{Deserialize, Serialize};
use tokio::sync::Notify;
use url::Url;

use super::feed::FeedObserver;
use super::hub::{HubService, HubSource, Rung, hub_url};
use super::{Profile, ProfileError, unix_now};
use crate::sync::{CancelToken, SyncOptions};

/// A feed that sent nothing (not even a heartbeat) for this long is treated as cut.
pub const IDLE: Duration = Duration::from_secs(45);
/// More doorbells than this waiting at once are answered by one events sync.
pub const COALESCE: usize = 8;
const BACKOFF_FIRST: Duration = Duration::from_millis(500);
const BACKOFF_MAX: Duration = Duration::from_secs(30);
/// How often a mode that cannot follow (not connected, token refused, no hub there) looks
/// again, unless woken sooner (a sign-in, a changed setting, "Sync now").
const RECHECK: Duration = Duration::from_secs(10 * 60);

/// Whether a mode's orders arrive through the hub.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum HubFeedState {
    /// The feed is open: doorbells arrive as Stripe sends the events.
    Live,
    /// The hub cannot be reached (or is no hub): Stripe's events are read every 2 minutes.
    Polling,
    /// No feed for this mode (not connected through Connect nor live updates turned on in key
    /// mode, the hub refused the token, or Stripe refused the owner's key).
    Off,
}

/// A mode's live feed, for Payment Gateways.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct HubFeedStatus {
    pub mode: Mode,
    pub state: HubFeedState,
    /// The hub followed (or tried).
    pub hub: Option<String>,
    /// Where that address comes from (the owner's setting, `FLUXSTORE_HUB`, …).
    pub hub_source: Option<HubSource>,
    /// What the state means and, when not live, why; in the owner's words.
    pub detail: String,
    /// When the last doorbell was answered (unix seconds).
    #[cfg_attr(feature = "ts", ts(type = "number | null"))]
    pub last_doorbell_at: Option<i64>,
    /// Seconds from the hub receiving the last doorbell's webhook to its event being stored.
    #[cfg_attr(feature = "ts", ts(type = "number | null"))]
    pub last_delay_secs: Option<i64>,
    /// Doorbells answered since the app started (stored, known or skipped).
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub doorbells: u64,
    /// Doorbells refused since the app started (Stripe did not confirm them).
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub refused: u64,
}

impl HubFeedStatus {
    pub fn off(mode: Mode) -> HubFeedStatus {
        HubFeedStatus {
            mode,
            state: HubFeedState::Off,
            hub: None,
            hub_source: None,
            detail: "Not following the FluxStore hub yet.".to_owned(),
            last_doorbell_at: None,
            last_delay_secs: None,
            doorbells: 0,
            refused: 0,
        }
    }
}

/// The shared, observable state of one mode's follower.
pub(crate) struct Tracker {
    status: Mutex<HubFeedStatus>,
    observer: Arc<dyn FeedObserver>,
}

impl Tracker {
    pub(crate) fn new(mode: Mode, observer: Arc<dyn FeedObserver>) -> Tracker {
        Tracker {
            status: Mutex::new(HubFeedStatus::off(mode)),
            observer,
        }
    }

    pub(crate) fn get(&self) -> HubFeedStatus {
        self.status
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    fn update(&self, f: impl FnOnce(&mut HubFeedStatus)) {
        let now = {
            let mut s = self.status.lock().unwrap_or_else(|p| p.into_inner());
            let before = s.clone();
            f(&mut s);
            (*s != before).then(|| s.clone())
        };
        if let Some(s) = now {
            self.observer.hub_feed(&s);
        }
    }

    fn set(&self, state: HubFeedState, hub: Option<&HubService>, detail: String) {
        self.update(|s| {
            s.state = state;
            s.hub = hub.map(|h| h.url.clone());
            s.hub_source = hub.map(|h| h.source);
            s.detail = detail;
        });
    }
}

/// How one connection to the feed ended.
enum Ended {
    Cancelled,
    /// 401/403: the hub does not accept this token.
    Refused,
    /// 404: nothing serves a feed at this address.
    NoFeed,
    /// Could not connect, or the feed was cut; `live` when it had been open.
    Lost {
        why: String,
        live: bool,
    },
    /// The mode's connection ended while following (disconnected, deauthorized, 401).
    Disconnected,
    /// Stripe refused the owner's API key (revoked or rolled) while fetching a doorbell's
    /// event: nothing can be verified until a current key is saved.
    KeyRejected,
}

/// The HTTP client the desktop speaks to the hub with (no redirects: a token never follows
/// one elsewhere).
pub(crate) fn hub_http() -> reqwest::Result<reqwest::Client> {
    reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(10))
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("FluxStore-Desktop/", env!("CARGO_PKG_VERSION")))
        .build()
}

/// Follow `mode`'s feed until cancelled.
pub(crate) async fn follow(
    profile: Arc<Profile>,
    mode: Mode,
    tracker: Arc<Tracker>,
    changed: Arc<Notify>,
    cancel: CancelToken,
) {
    let http = match hub_http() {
        Ok(h) => h,
        Err(e) => {
            tracker.set(
                HubFeedState::Off,
                None,
                format!("The live feed could not start ({e}); FluxStore reads Stripe's events every 2 minutes."),
            );
            return;
        }
    };
    let mut backoff = BACKOFF_FIRST;
    loop {
        if cancel.is_cancelled() {
            return;
        }
        let token = match profile.hub_token(mode).await {
            Ok(Some(t)) => t,
            Ok(None) => {
                tracker.set(
                    HubFeedState::Off,
                    None,
                    format!("{} mode is not connected through Stripe Connect, and live updates through the FluxStore hub are not turned on for its API keys, so there is no live feed for it.", title(mode)),
                );
                if !pause(RECHECK, &changed, &cancel).await {
                    return;
                }
                continue;
            }
            Err(e) => {
                tracker.set(HubFeedState::Off, None, e.to_string());
                if !pause(RECHECK, &changed, &cancel).await {
                    return;
                }
                continue;
            }
        };
        let (service, hub) = match profile
            .hub(mode)
            .await
            .and_then(|h| hub_url(&h.url).map(|u| (h, u)))
        {
            Ok(h) => h,
            Err(e) => {
                tracker.set(HubFeedState::Off, None, e.to_string());
                if !pause(RECHECK, &changed, &cancel).await {
                    return;
                }
                continue;
            }
        };
        let session = Session {
            profile: &profile,
            mode,
            hub: &hub,
            service: &service,
            client: Mutex::new(None),
            tracker: &tracker,
            changed: &changed,
            cancel: &cancel,
        };
        match session.run(&http, token.expose()).await {
            Ended::Cancelled => return,
            Ended::Refused => {
                let detail = if profile.follows_as_store(mode).await.unwrap_or(false) {
                    "The FluxStore hub no longer accepts this store's feed token; FluxStore reads Stripe's events every 2 minutes. Turn live updates through the hub off and on again to register anew.".to_owned()
                } else {
                    "The FluxStore hub did not accept this mode's Stripe access; FluxStore reads Stripe's events every 2 minutes. If Stripe no longer accepts it either, connect again.".to_owned()
                };
                tracker.set(HubFeedState::Off, Some(&service), detail);
                if !pause(RECHECK, &changed, &cancel).await {
                    return;
                }
            }
            Ended::NoFeed => {
                tracker.set(
                    HubFeedState::Polling,
                    Some(&service),
                    format!(
                        "{} has no live feed, so FluxStore reads Stripe's events every 2 minutes.",
                        host(&hub)
                    ),
                );
                if !pause(RECHECK, &changed, &cancel).await {
                    return;
                }
            }
            Ended::KeyRejected => {
                tracker.set(
                    HubFeedState::Off,
                    Some(&service),
                    format!("Stripe no longer accepts {} mode's API key, so the live feed stopped. Save a current key in Payment Gateways (Stripe Dashboard → Developers → API keys).", mode.as_str()),
                );
                if !pause(RECHECK, &changed, &cancel).await {
                    return;
                }
            }
            // The next round finds the mode without a Connect token and says so.
            Ended::Disconnected => {
                tracker.observer.connection_changed(mode);
                continue;
            }
            Ended::Lost { why, live } => {
                if live {
                    backoff = BACKOFF_FIRST;
                }
                tracker.set(
                    HubFeedState::Polling,
                    Some(&service),
                    format!("The FluxStore hub cannot be reached ({why}); FluxStore reads Stripe's events every 2 minutes meanwhile and reconnects by itself."),
                );
                if !pause(jitter(backoff), &changed, &cancel).await {
                    return;
                }
                backoff = (backoff * 2).min(BACKOFF_MAX);
            }
        }
    }
}

/// Wait `d`, or until woken; false when cancelled.
async fn pause(d: Duration, changed: &Notify, cancel: &CancelToken) -> bool {
    tokio::select! {
        () = tokio::time::sleep(d) => {}
        () = changed.notified() => {}
        () = cancel.cancelled() => return false,
    }
    !cancel.is_cancelled()
}

fn jitter(d: Duration) -> Duration {
    let f = 0.8 + rand::random::<f64>() * 0.4;
    d.mul_f64(f)
}

/// "Test" or "Live", to begin a sentence.
pub(crate) fn title(mode: Mode) -> &'static str {
    match mode {
        Mode::Test => "Test",
        Mode::Live => "Live",
    }
}

fn host(url: &Url) -> String {
    url.host_str().unwrap_or("The hub").to_owned()
}

struct Session<'a> {
    profile: &'a Arc<Profile>,
    mode: Mode,
    hub: &'a Url,
    service: &'a HubService,
    tracker: &'a Tracker,
    /// Rung when a connection or setting changed: the feed ends if its token is gone.
    changed: &'a Notify,
    cancel: &'a CancelToken,
    /// The mode's Stripe client, made at the first doorbell of this connection.
    client: Mutex<Option<crate::client::StripeClient>>,
}

/// What the stream held: a doorbell, a resync, or something this build skips.
enum Item {
    Doorbell(Doorbell),
    Resync(Resync),
    Other,
}

fn item(ev: &eventsource_stream::Event) -> Item {
    if ev.event == RESYNC_EVENT {
        return match serde_json::from_str(&ev.data) {
            Ok(r) => Item::Resync(r),
            Err(_) => Item::Other,
        };
    }
    if ev.event != "message" {
        return Item::Other;
    }
    match serde_json::from_str::<Doorbell>(&ev.data) {
        Ok(d) => Item::Doorbell(d),
        Err(e) => {
            tracing::info!(error = %e, "a feed message that is no doorbell was skipped");
            Item::Other
        }
    }
}

impl Session<'_> {
    async fn run(&self, http: &reqwest::Client, token: &str) -> Ended {
        let resume = match self.profile.hub_cursor(self.mode, self.hub).await {
            Ok(c) => c,
            Err(e) => {
                return Ended::Lost {
                    why: e.to_string(),
                    live: false,
                };
            }
        };
        let mut url = self.hub.clone();
        let prefix = self.hub.path().trim_end_matches('/').to_owned();
        url.set_path(&format!("{prefix}{FEED_PATH}"));
        url.set_query(None);
        let mut req = http
            .get(url)
            .bearer_auth(token)
            .header(reqwest::header::ACCEPT, "text/event-stream");
        if let Some(c) = resume {
            req = req.header("last-event-id", c.to_string());
        }
        let resp = tokio::select! {
            r = req.send() => r,
            () = self.cancel.cancelled() => return Ended::Cancelled,
        };
        let resp = match resp {
            Ok(r) => r,
            Err(e) => {
                return Ended::Lost {
                    why: reason(&e),
                    live: false,
                };
            }
        };
        match resp.status().as_u16() {
            200 => {}
            401 | 403 => return Ended::Refused,
            404 | 405 => return Ended::NoFeed,
            other => {
                return Ended::Lost {
                    why: format!("it answered {other}"),
                    live: false,
                };
            }
        }
        self.tracker.set(
            HubFeedState::Live,
            Some(self.service),
            format!(
                "Live through the FluxStore hub ({}): a new order shows up within seconds of payment.",
                host(self.hub)
            ),
        );
        tracing::info!(mode = self.mode.as_str(), hub = %host(self.hub), "following the hub's live feed");
        let chunks = futures_util::stream::unfold(Some(resp), |resp| async move {
            let mut resp = resp?;
            match tokio::time::timeout(IDLE, resp.chunk()).await {
                Ok(Ok(Some(bytes))) => Some((Ok(bytes), Some(resp))),
                Ok(Ok(None)) => None,
                Ok(Err(e)) => Some((Err(reason(&e)), None)),
                Err(_) => Some((
                    Err("the feed fell silent; its heartbeats stopped".to_owned()),
                    None,
                )),
            }
        });
        let mut events = Box::pin(chunks.eventsource());
        let lost = |why: String| Ended::Lost { why, live: true };
        loop {
            let next = tokio::select! {
                n = events.next() => n,
                () = self.changed.notified() => {
                    // Disconnected, or live updates turned off: this feed is no longer the
                    // mode's (the next round says why).
                    match self.profile.hub_token(self.mode).await {
                        Ok(Some(_)) => continue,
                        _ => return Ended::Disconnected,
                    }
                }
                () = self.cancel.cancelled() => return Ended::Cancelled,
            };
            let first = match next {
                None => return lost("the hub closed the feed".to_owned()),
                Some(Err(e)) => return lost(e.to_string()),
                Some(Ok(ev)) => item(&ev),
            };
            match first {
                Item::Other => continue,
                Item::Resync(r) => {
                    tracing::info!(mode = self.mode.as_str(), "the hub asked for a resync");
                    if let Err(e) = self.sync().await {
                        return lost(e.to_string());
                    }
                    if let Err(e) = self
                        .profile
                        .set_hub_cursor(self.mode, self.hub, r.cursor)
                        .await
                    {
                        return lost(e.to_string());
                    }
                }
                Item::Doorbell(d) => {
                    // Whatever else already arrived is answered together.
                    let mut batch = vec![d];
                    let mut held = None;
                    while let Some(Some(more)) = events.next().now_or_never() {
                        match more.map(|ev| item(&ev)) {
                            Ok(Item::Doorbell(d)) => batch.push(d),
                            Ok(Item::Other) => {}
                            Ok(other) => {
                                held = Some(other);
                                break;
                            }
                            Err(e) => return lost(e.to_string()),
                        }
                    }
                    match self.answer(batch).await {
                        Ok(()) => {}
                        Err(
                            ProfileError::NotConnected { .. } | ProfileError::Disconnected { .. },
                        ) => return Ended::Disconnected,
                        Err(ProfileError::Gateway(crate::error::GatewayError::InvalidKey)) => {
                            return Ended::KeyRejected;
                        }
                        Err(e) => return lost(e.to_string()),
                    }
                    if let Some(Item::Resync(r)) = held {
                        if let Err(e) = self.sync().await {
                            return lost(e.to_string());
                        }
                        if let Err(e) = self
                            .profile
                            .set_hub_cursor(self.mode, self.hub, r.cursor)
                            .await
                        {
                            return lost(e.to_string());
                        }
                    }
                }
            }
        }
    }

    /// One run of the mode's incremental events sync.
    async fn sync(&self) -> Result<(), ProfileError> {
        let observer = self.tracker.observer.clone();
        self.profile
            .sync(
                self.mode,
                &SyncOptions::default(),
                observer.as_ref(),
                self.cancel,
            )
            .await
            .map(|_| ())
    }

    /// Answer doorbells in order, the cursor following each; many at once become one sync.
    async fn answer(&self, batch: Vec<Doorbell>) -> Result<(), ProfileError> {
        let Some(last) = batch.last() else {
            return Ok(());
        };
        if batch.len() > COALESCE {
            self.sync().await?;
            let (cursor, received) = (last.cursor, last.received);
            self.profile
                .set_hub_cursor(self.mode, self.hub, cursor)
                .await?;
            let n = batch.len() as u64;
            self.tracker.update(|s| {
                let now = unix_now();
                s.doorbells += n;
                s.last_doorbell_at = Some(now);
                s.last_delay_secs = Some((now - received).max(0));
            });
            return Ok(());
        }
        // The mode's credential is read once per connection of the feed (a keyring read is
        // slow), and a mode disconnected meanwhile answers nothing: its doorbells wait.
        if !self.profile.is_connected(self.mode).await? {
            return Err(ProfileError::NotConnected { mode: self.mode });
        }
        let cached = self
            .client
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        let client = match cached {
            Some(c) => c,
            None => {
                let c = self.profile.client(self.mode).await?;
                *self.client.lock().unwrap_or_else(|p| p.into_inner()) = Some(c.clone());
                c
            }
        };
        for d in batch {
            let rung = self
                .profile
                .answer_doorbell(self.mode, self.hub, &client, &d)
                .await?;
            match &rung {
                Rung::Stored(e) => {
                    self.tracker.observer.applied(e);
                    if e.event_type == super::DEAUTHORIZED_EVENT
                        && self.profile.apply_deauthorization(self.mode).await?
                    {
                        self.tracker.observer.connection_changed(self.mode);
                    }
                }
                Rung::Refused(why) => {
                    tracing::info!(mode = self.mode.as_str(), event = %d.event_id, why, "a doorbell was refused");
                }
                Rung::Known | Rung::Skipped => {}
            }
            let refused = matches!(rung, Rung::Refused(_));
            self.tracker.update(|s| {
                let now = unix_now();
                if refused {
                    s.refused += 1;
                } else {
                    s.doorbells += 1;
                    s.last_doorbell_at = Some(now);
                    s.last_delay_secs = Some((now - d.received).max(0));
                }
            });
        }
        Ok(())
    }
}

/// A transport error in words.
fn reason(e: &reqwest::Error) -> String {
    if e.is_connect() {
        "no connection".to_owned()
    } else if e.is_timeout() {
        "it did not answer in time".to_owned()
    } else {
        e.to_string()
    }
}
