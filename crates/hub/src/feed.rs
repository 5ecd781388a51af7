//! `GET /v1/feed`: one account's (or key-mode store's) doorbells as Server-Sent Events.
//!
//! Each doorbell is `id: <cursor>` and `data: {"event_id","type","created","livemode",
//! "account"|"store","received"}`. A desktop resumes with `Last-Event-ID: <cursor>`; without
//! it the feed starts at the newest doorbell (the desktop's events sync covers what came
//! before). A cursor below what retention kept, or above anything this database issued, is
//! answered first with `event: resync` (its `id` the newest cursor): the desktop then runs a
//! full events sync instead of trusting the feed to be complete. Heartbeat comments keep
//! proxies from closing an idle feed.
//!
//! Invariant: a feed reads only its own scope, and never skips a committed doorbell: it
//! subscribes to wake-ups before it reads, re-reads on every wake-up of its scope (and when
//! wake-ups were lost), and cursors become visible in order (see the store).

use std::collections::VecDeque;
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use fluxstore_connect_api::Mode;
use fluxstore_connect_api::hub as wire;
use secrecy::SecretString;
use tokio::sync::{broadcast, watch};
use tokio::time::Instant;

use crate::App;
use crate::auth::CheckError;
use crate::intake::Refusal;
use crate::store::{Doorbell, Scope, Store, Target, WAKE_ALL, WakeKey};
use crate::tokens;

/// Doorbells read per query.
const PAGE: u32 = 100;
/// Pause after a failed read before trying again (the feed stays open meanwhile).
const READ_RETRY: Duration = Duration::from_secs(1);
/// Pause before asking Stripe again when it could not be asked about a token.
const CHECK_RETRY: Duration = Duration::from_secs(30);

const UNAUTHORIZED_MESSAGE: &str = "This feed needs the store's feed token or a Connect access token of the account, as a Bearer token.";

fn unauthorized(detail: &str) -> Refusal {
    Refusal::new(
        StatusCode::UNAUTHORIZED,
        "unauthorized",
        UNAUTHORIZED_MESSAGE,
        detail,
    )
}

fn bearer(headers: &HeaderMap) -> Option<SecretString> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty())
        .then(|| SecretString::from(token.to_owned()))
}

/// A Connect feed's token, asked about again when `at` has passed.
struct Recheck {
    token: SecretString,
    account: String,
    at: Instant,
}

/// Which scope the token may read; for a Connect token also when to check it again.
async fn authorize<S: Store>(
    app: &App<S>,
    headers: &HeaderMap,
) -> Result<(Scope, Option<Recheck>), Refusal> {
    use secrecy::ExposeSecret;
    let token = bearer(headers).ok_or_else(|| unauthorized("no Bearer token"))?;
    let text = token.expose_secret();
    if tokens::well_formed(text, tokens::FEED_TOKEN_PREFIX) {
        let store = app
            .store
            .store_by_feed_token(tokens::hash(text))
            .await
            .map_err(Refusal::storage)?
            .ok_or_else(|| unauthorized("no store has this feed token"))?;
        return Ok((Scope::Store { store }, None));
    }
    let mode = Mode::of_key(text).ok_or_else(|| unauthorized("neither a feed token nor a key"))?;
    match app.connect.account_of(&token, false).await {
        Ok(account) => {
            let recheck = Recheck {
                token,
                account: account.clone(),
                at: Instant::now() + app.connect.trust_for(),
            };
            Ok((
                Scope::Account {
                    account,
                    livemode: mode.is_live(),
                },
                Some(recheck),
            ))
        }
        Err(CheckError::Refused) => Err(unauthorized("Stripe refused the token")),
        Err(CheckError::Unavailable(detail)) => Err(Refusal::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "stripe_unavailable",
            "Stripe could not be asked whether this token is valid; the desktop will try again.",
            detail,
        )),
        Err(CheckError::Busy) => Err(Refusal::new(
            StatusCode::TOO_MANY_REQUESTS,
            "rate_limited",
            "Too many feeds are being opened right now; the desktop will try again shortly.",
            "over the rate of token checks with Stripe",
        )),
    }
}

fn last_event_id(headers: &HeaderMap) -> Result<Option<i64>, Refusal> {
    let Some(value) = headers.get("last-event-id") else {
        return Ok(None);
    };
    let text = value.to_str().unwrap_or("").trim();
    if text.is_empty() {
        return Ok(None);
    }
    text.parse::<i64>()
        .ok()
        .filter(|c| *c >= 0)
        .map(Some)
        .ok_or_else(|| {
            Refusal::new(
                StatusCode::BAD_REQUEST,
                "bad_cursor",
                "Last-Event-ID must be the id of an event this feed sent (a whole number).",
                "Last-Event-ID is not a cursor",
            )
        })
}

pub(crate) async fn feed<S: Store>(State(app): State<Arc<App<S>>>, headers: HeaderMap) -> Response {
    match open(app, &headers).await {
        Ok(response) => response,
        Err(refusal) => refusal.answer("feed", None),
    }
}

async fn open<S: Store>(app: Arc<App<S>>, headers: &HeaderMap) -> Result<Response, Refusal> {
    let resume = last_event_id(headers)?;
    let (scope, recheck) = authorize(&app, headers).await?;
    // Subscribe before reading, so a doorbell committed in between still wakes this feed.
    let wake = app.store.wakeups();
    let horizon = app.store.horizon().await.map_err(Refusal::storage)?;
    let mut first = None;
    let cursor = match resume {
        Some(c) if !horizon.needs_resync(c) => c,
        Some(c) => {
            tracing::info!(cursor = c, tip = horizon.tip, "feed told to resync");
            let resync = wire::Resync {
                cursor: horizon.tip,
                reason: "this feed no longer holds every doorbell after the cursor given; run a full events sync".to_owned(),
            };
            first = Some(
                Event::default()
                    .event(wire::RESYNC_EVENT)
                    .id(horizon.tip.to_string())
                    .data(serde_json::to_string(&resync).unwrap_or_default()),
            );
            horizon.tip
        }
        None => horizon.tip,
    };
    let state = FeedState {
        key: scope.wake_key(),
        scope,
        cursor,
        wake,
        pending: VecDeque::new(),
        first,
        recheck,
        stop: app.stop.clone(),
        app: app.clone(),
    };
    let stream = futures_util::stream::unfold(state, next);
    let keep_alive = KeepAlive::new()
        .interval(app.config.heartbeat)
        .text("heartbeat");
    Ok(Sse::new(stream).keep_alive(keep_alive).into_response())
}

struct FeedState<S> {
    app: Arc<App<S>>,
    scope: Scope,
    key: String,
    cursor: i64,
    wake: broadcast::Receiver<WakeKey>,
    pending: VecDeque<Doorbell>,
    first: Option<Event>,
    recheck: Option<Recheck>,
    stop: watch::Receiver<bool>,
}

fn event_of(d: &Doorbell) -> Event {
    let b = &d.doorbell;
    let (account, store) = match &b.target {
        Target::Account(a) => (Some(a.clone()), None),
        Target::Store(s) => (None, Some(s.clone())),
    };
    let wire = wire::Doorbell {
        cursor: d.cursor,
        event_id: b.event_id.clone(),
        event_type: b.event_type.clone(),
        created: b.created,
        livemode: b.livemode,
        account,
        store,
        received: b.received,
    };
    Event::default()
        .id(d.cursor.to_string())
        .data(serde_json::to_string(&wire).unwrap_or_default())
}

/// Resolves when a wake-up for `key` (or for every feed) arrives, or wake-ups were lost;
/// false when the channel is gone.
async fn woken(wake: &mut broadcast::Receiver<WakeKey>, key: &str) -> bool {
    loop {
        match wake.recv().await {
            Ok(k) if &*k == key || &*k == WAKE_ALL => return true,
            Ok(_) => continue,
            Err(broadcast::error::RecvError::Lagged(_)) => return true,
            Err(broadcast::error::RecvError::Closed) => return false,
        }
    }
}

/// The next item of the feed; `None` ends it (shutdown, or a token Stripe no longer accepts).
async fn next<S: Store>(mut st: FeedState<S>) -> Option<(Result<Event, Infallible>, FeedState<S>)> {
    if let Some(event) = st.first.take() {
        return Some((Ok(event), st));
    }
    loop {
        if let Some(d) = st.pending.pop_front() {
            st.cursor = d.cursor;
            return Some((Ok(event_of(&d)), st));
        }
        if *st.stop.borrow() {
            return None;
        }
        if let Some(r) = &mut st.recheck
            && Instant::now() >= r.at
        {
            match st.app.connect.account_of(&r.token, true).await {
                Ok(account) if account == r.account => {
                    r.at = Instant::now() + st.app.connect.trust_for()
                }
                Ok(_) | Err(CheckError::Refused) => {
                    tracing::info!(scope = %st.key, "feed ended: Stripe no longer accepts its token");
                    return None;
                }
                Err(CheckError::Unavailable(detail)) => {
                    tracing::warn!(%detail, "a feed's token could not be checked; keeping the feed");
                    r.at = Instant::now() + CHECK_RETRY;
                }
                Err(CheckError::Busy) => {
                    // Over the check rate: keep the feed and ask again shortly.
                    r.at = Instant::now() + Duration::from_secs(1);
                }
            }
        }
        match st.app.store.after(&st.scope, st.cursor, PAGE).await {
            Ok(rows) if !rows.is_empty() => {
                st.pending.extend(rows);
                continue;
            }
            Ok(_) => {}
            Err(e) => {
                tracing::warn!(error = %e, "a feed could not read its doorbells; trying again");
                tokio::select! {
                    _ = tokio::time::sleep(READ_RETRY) => continue,
                    _ = st.stop.wait_for(|s| *s) => return None,
                }
            }
        }
        let recheck_at = st.recheck.as_ref().map(|r| r.at);
        let until_recheck = async {
            match recheck_at {
                Some(at) => tokio::time::sleep_until(at).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            alive = woken(&mut st.wake, &st.key) => if !alive { return None },
            _ = until_recheck => {}
            _ = st.stop.wait_for(|s| *s) => return None,
        }
    }
}
