//! The accept loop: bounded connections, header-read and request timeouts, graceful stop.
//!
//! Invariants: at most `max_connections` connections are served at once. When all are taken,
//! a new connection does not queue behind them: the connection that has been idle the longest
//! (still sending its request head, or kept alive between requests) is closed to make room,
//! else the one whose request has been in progress the longest, if longer than
//! [`STALL_AFTER`] (a webhook body arrives in milliseconds; a client that trickles it is the
//! one to go). Closing a connection before its answer acknowledges nothing, so Stripe
//! retries it; slow or idle clients therefore cannot keep signed deliveries out. Only when
//! every connection is busy with a young request does a new one wait for a free slot. On
//! shutdown the listener closes first, then every connection finishes its in-flight request
//! before the loop returns (bounded by a grace period).

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::ConnectInfo;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::{Notify, OwnedSemaphorePermit, Semaphore, watch};
use tokio::task::JoinSet;
use tower::ServiceExt;

/// Bounds of the accept loop (also used by the hosted hub, which serves its routes with it).
pub struct Limits {
    pub header_read_timeout: Duration,
    pub max_connections: usize,
    pub shutdown_grace: Duration,
}

/// A request in progress this long may be closed to make room for a new connection: a
/// webhook's head and body arrive within milliseconds of each other.
const STALL_AFTER: Duration = Duration::from_secs(1);

/// What the accept loop knows of a live connection.
struct Slot {
    /// When the connection last became idle (accepted, or answered), or began its request.
    since: Instant,
    /// Between a complete request head and the answer.
    busy: bool,
    evict: Arc<Notify>,
}

/// The live connections, for choosing which one makes room.
#[derive(Clone, Default)]
struct Registry(Arc<Mutex<HashMap<u64, Slot>>>);

impl Registry {
    fn lock(&self) -> MutexGuard<'_, HashMap<u64, Slot>> {
        // A panic while holding this lock leaves whole values behind: keep going.
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn insert(&self, id: u64) -> Arc<Notify> {
        let evict = Arc::new(Notify::new());
        let slot = Slot {
            since: Instant::now(),
            busy: false,
            evict: evict.clone(),
        };
        self.lock().insert(id, slot);
        evict
    }

    fn set_busy(&self, id: u64, busy: bool) {
        if let Some(slot) = self.lock().get_mut(&id) {
            slot.busy = busy;
            slot.since = Instant::now();
        }
    }

    fn remove(&self, id: u64) {
        self.lock().remove(&id);
    }

    /// Close the idle connection idle the longest, else the request in progress the longest
    /// if it is older than [`STALL_AFTER`]. Returns whether one was told to close.
    fn evict_one(&self, stall_after: Duration) -> bool {
        let mut slots = self.lock();
        let oldest = |busy: bool| {
            slots
                .iter()
                .filter(|(_, s)| s.busy == busy)
                .min_by_key(|(_, s)| s.since)
                .map(|(id, s)| (*id, s.since))
        };
        let victim = oldest(false)
            .or_else(|| oldest(true).filter(|(_, since)| since.elapsed() >= stall_after));
        match victim.and_then(|(id, _)| slots.remove(&id)) {
            Some(slot) => {
                slot.evict.notify_one();
                true
            }
            None => false,
        }
    }
}

/// Serve `router` on `listener` until `stop` turns true (see the module docs).
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: Limits,
    mut stop: watch::Receiver<bool>,
) {
    let permits = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    let registry = Registry::default();
    let mut next_id: u64 = 0;
    let mut tasks = JoinSet::new();
    let graceful = GracefulShutdown::new();
    let mut builder = http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout)
        .max_buf_size(64 * 1024);
    loop {
        // Reap finished connections so the set stays as small as the live ones.
        while tasks.try_join_next().is_some() {}
        let (stream, peer) = tokio::select! {
            _ = stopped(&mut stop) => break,
            accepted = listener.accept() => match accepted {
                Ok(pair) => pair,
                Err(e) => {
                    // EMFILE and friends: make room if a connection is idle, and back off
                    // briefly rather than spin.
                    tracing::warn!(error = %e, "accept failed");
                    registry.evict_one(STALL_AFTER);
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        let permit = match permits.clone().try_acquire_owned() {
            Ok(p) => p,
            Err(_) => match make_room(&permits, &registry, &mut stop).await {
                Some(p) => p,
                None => break,
            },
        };
        let _ = stream.set_nodelay(true);
        let id = next_id;
        next_id += 1;
        let evict = registry.insert(id);
        let (on_request, on_response) = (registry.clone(), registry.clone());
        let service = router
            .clone()
            .map_request(move |mut req: axum::http::Request<hyper::body::Incoming>| {
                on_request.set_busy(id, true);
                req.extensions_mut().insert(ConnectInfo::<SocketAddr>(peer));
                req
            })
            .map_response(move |resp| {
                on_response.set_busy(id, false);
                resp
            });
        let conn =
            builder.serve_connection(TokioIo::new(stream), TowerToHyperService::new(service));
        let conn = graceful.watch(conn);
        let registry = registry.clone();
        tasks.spawn(async move {
            tokio::select! {
                ended = conn => if let Err(e) = ended {
                    tracing::debug!(error = %e, %peer, "connection ended with an error");
                },
                _ = evict.notified() => {
                    tracing::debug!(%peer, "connection closed to make room for a new one");
                }
            }
            registry.remove(id);
            drop(permit);
        });
    }
    drop(listener);
    drop(router);
    tokio::select! {
        _ = graceful.shutdown() => tracing::debug!("all connections finished"),
        _ = tokio::time::sleep(limits.shutdown_grace) => {
            tracing::warn!("shutdown grace period over; closing remaining connections");
        }
    }
    // Dropping the connections releases their handles on the writer, which then stops.
    tasks.abort_all();
    while tasks.join_next().await.is_some() {}
}

/// At the limit: close a connection that is idle or stalled (now, or as soon as one is), or
/// wait for one to end. `None` when the relay stops meanwhile.
async fn make_room(
    permits: &Arc<Semaphore>,
    registry: &Registry,
    stop: &mut watch::Receiver<bool>,
) -> Option<OwnedSemaphorePermit> {
    loop {
        if registry.evict_one(STALL_AFTER) {
            tracing::debug!("at the connection limit: closed an idle or stalled connection");
        }
        tokio::select! {
            _ = stopped(stop) => return None,
            p = permits.clone().acquire_owned() => return p.ok(),
            // A young request may stall meanwhile: look again.
            _ = tokio::time::sleep(STALL_AFTER / 4) => {}
        }
    }
}

/// Resolves when a stop is requested or the handle is gone.
async fn stopped(stop: &mut watch::Receiver<bool>) {
    let _ = stop.wait_for(|s| *s).await;
}
