//! The single writer: one blocking thread owns the write `Mirror` and commits.
//!
//! Invariant: a delivery is acknowledged (its reply sent `Ok`) only after the
//! `ingest_batch` transaction that holds it has committed. Deliveries that arrive while a
//! commit is in progress queue in the channel and are drained into the next batch, so under
//! load one fsync covers many events (group commit) and the batch size adapts by itself.
//!
//! A second thread, on its own connection, copies committed WAL pages into the database
//! file (a passive checkpoint) after commits, at most every [`CHECKPOINT_EVERY`], so the
//! writer almost never stops to checkpoint inside a commit. It only ever copies pages that
//! are already durable in the WAL, so acknowledgements do not depend on it.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use fluxstore_mirror::{
    AppliedEvent, Event, IngestOutcome, Mirror, MirrorError, NewRejection, Source,
};
use tokio::sync::{broadcast, mpsc, oneshot};

/// Why a delivery could not be committed.
#[derive(Debug, thiserror::Error)]
pub(crate) enum WriteError {
    /// The storage failed (full, read-only, busy, I/O): nothing was committed, retry later.
    #[error("storage unavailable: {0}")]
    Storage(String),
    /// The mirror refused this event itself (not retryable).
    #[error("the mirror refused the event: {0}")]
    Refused(String),
    /// The writer thread is gone (stopped or crashed).
    #[error("the writer is not running")]
    Gone,
}

enum Job {
    Ingest {
        event: Event,
        reply: oneshot::Sender<Result<IngestOutcome, WriteError>>,
    },
    Reject {
        rejection: NewRejection,
        reply: oneshot::Sender<bool>,
    },
}

/// Counters of committed work (for benchmarks and the desktop's health view).
#[derive(Default)]
pub(crate) struct Counters {
    pub(crate) batches: AtomicU64,
    pub(crate) events: AtomicU64,
}

/// The sending side, cloned into every request handler.
#[derive(Clone)]
pub(crate) struct Writer {
    tx: mpsc::Sender<Job>,
    alive: Arc<AtomicBool>,
    pub(crate) counters: Arc<Counters>,
}

impl Writer {
    /// Open the mirror on a new thread. Returns once the mirror is open (or failed to open).
    pub(crate) fn spawn(
        path: &Path,
        max_batch: usize,
        queue: usize,
        applied: broadcast::Sender<AppliedEvent>,
    ) -> Result<(Writer, JoinHandle<()>), MirrorError> {
        let (tx, rx) = mpsc::channel(queue.max(1));
        let (ready_tx, ready_rx) = std::sync::mpsc::sync_channel(1);
        let alive = Arc::new(AtomicBool::new(true));
        let path = path.to_path_buf();
        let alive_thread = alive.clone();
        let counters = Arc::new(Counters::default());
        let counters_thread = counters.clone();
        let join = std::thread::Builder::new()
            .name("fluxstore-relay-writer".into())
            .spawn(move || {
                let mirror = match Mirror::open(&path) {
                    Ok(m) => {
                        let _ = ready_tx.send(Ok(()));
                        m
                    }
                    Err(e) => {
                        alive_thread.store(false, Ordering::SeqCst);
                        let _ = ready_tx.send(Err(e));
                        return;
                    }
                };
                // Marks the writer dead even if the mirror panics, so /healthz says so.
                let _guard = AliveGuard(alive_thread);
                let checkpointer = Checkpointer::spawn(&path);
                run(
                    mirror,
                    rx,
                    max_batch.max(1),
                    applied,
                    &counters_thread,
                    checkpointer.as_ref(),
                );
                if let Some(c) = checkpointer {
                    c.stop();
                }
            })
            .map_err(|e| MirrorError::Migration(format!("could not start the writer: {e}")))?;
        match ready_rx.recv() {
            Ok(Ok(())) => Ok((
                Writer {
                    tx,
                    alive,
                    counters,
                },
                join,
            )),
            Ok(Err(e)) => {
                let _ = join.join();
                Err(e)
            }
            Err(_) => {
                let _ = join.join();
                Err(MirrorError::Migration(
                    "the mirror could not be opened (the writer stopped)".into(),
                ))
            }
        }
    }

    pub(crate) fn is_alive(&self) -> bool {
        self.alive.load(Ordering::SeqCst)
    }

    /// Queue a verified event and wait until its batch has committed.
    pub(crate) async fn ingest(&self, event: Event) -> Result<IngestOutcome, WriteError> {
        let (reply, answer) = oneshot::channel();
        self.tx
            .send(Job::Ingest { event, reply })
            .await
            .map_err(|_| WriteError::Gone)?;
        answer.await.map_err(|_| WriteError::Gone)?
    }

    /// Record a rejected delivery; true once it is stored.
    pub(crate) async fn reject(&self, rejection: NewRejection) -> bool {
        let (reply, answer) = oneshot::channel();
        if self
            .tx
            .send(Job::Reject { rejection, reply })
            .await
            .is_err()
        {
            return false;
        }
        answer.await.unwrap_or(false)
    }
}

struct AliveGuard(Arc<AtomicBool>);

impl Drop for AliveGuard {
    fn drop(&mut self) {
        self.0.store(false, Ordering::SeqCst);
    }
}

/// Shortest pause between two background checkpoints: each one fsyncs the database file,
/// so checkpointing after every small commit would double the syncs.
const CHECKPOINT_EVERY: Duration = Duration::from_millis(250);

/// The background checkpoint thread and the bell that wakes it after a commit.
struct Checkpointer {
    bell: std::sync::mpsc::SyncSender<()>,
    join: JoinHandle<()>,
}

impl Checkpointer {
    /// None when its connection cannot be opened: the writer's own automatic checkpoint
    /// still bounds the WAL, so the relay runs on without it.
    fn spawn(path: &Path) -> Option<Checkpointer> {
        let mirror = match Mirror::open(path) {
            Ok(m) => m,
            Err(e) => {
                tracing::warn!(error = %e, "no background checkpoint; commits will checkpoint themselves");
                return None;
            }
        };
        // One pending ring is enough: a checkpoint copies everything committed so far.
        let (bell, rings) = std::sync::mpsc::sync_channel::<()>(1);
        let join = std::thread::Builder::new()
            .name("fluxstore-relay-checkpoint".into())
            .spawn(move || {
                // Ends when the writer drops the bell (it has stopped).
                while rings.recv().is_ok() {
                    if let Err(e) = mirror.checkpoint() {
                        tracing::debug!(error = %e, "background checkpoint did not finish");
                    }
                    std::thread::sleep(CHECKPOINT_EVERY);
                }
            })
            .map_err(|e| tracing::warn!(error = %e, "could not start the checkpoint thread"))
            .ok()?;
        Some(Checkpointer { bell, join })
    }

    fn ring(&self) {
        // Full means a checkpoint is already due; it will cover this commit too.
        let _ = self.bell.try_send(());
    }

    fn stop(self) {
        drop(self.bell);
        let _ = self.join.join();
    }
}

fn run(
    mut mirror: Mirror,
    mut rx: mpsc::Receiver<Job>,
    max_batch: usize,
    applied: broadcast::Sender<AppliedEvent>,
    counters: &Counters,
    checkpointer: Option<&Checkpointer>,
) {
    let mut events: Vec<(Event, Source)> = Vec::with_capacity(max_batch);
    let mut replies = Vec::with_capacity(max_batch);
    let mut rejections = Vec::new();
    // Ends when every sender is gone: the server has stopped and in-flight requests are done.
    while let Some(first) = rx.blocking_recv() {
        let mut next = Some(first);
        while let Some(job) = next.take() {
            match job {
                Job::Ingest { event, reply } => {
                    events.push((event, Source::Webhook));
                    replies.push(reply);
                }
                Job::Reject { rejection, reply } => rejections.push((rejection, reply)),
            }
            if events.len() + rejections.len() < max_batch {
                next = rx.try_recv().ok();
            }
        }
        if !events.is_empty() {
            counters.batches.fetch_add(1, Ordering::Relaxed);
            counters
                .events
                .fetch_add(events.len() as u64, Ordering::Relaxed);
            commit(&mut mirror, &mut events, &mut replies, &applied);
            if let Some(c) = checkpointer {
                c.ring();
            }
        }
        for (rejection, reply) in rejections.drain(..) {
            let stored = match mirror.record_rejection(&rejection) {
                Ok(()) => true,
                Err(e) => {
                    tracing::warn!(error = %e, code = %rejection.code, "could not record a rejected delivery");
                    false
                }
            };
            let _ = reply.send(stored);
        }
    }
    tracing::debug!("relay writer stopped");
}

type Reply = oneshot::Sender<Result<IngestOutcome, WriteError>>;

fn commit(
    mirror: &mut Mirror,
    events: &mut Vec<(Event, Source)>,
    replies: &mut Vec<Reply>,
    applied: &broadcast::Sender<AppliedEvent>,
) {
    match mirror.ingest_batch(events) {
        Ok(outcomes) => {
            tracing::debug!(batch = events.len(), "batch committed");
            for (outcome, reply) in outcomes.into_iter().zip(replies.drain(..)) {
                announce(&outcome, applied);
                let _ = reply.send(Ok(outcome));
            }
            // A short answer from the mirror would leave replies: never acknowledge those.
            for reply in replies.drain(..) {
                let _ = reply.send(Err(WriteError::Storage(
                    "the mirror returned fewer outcomes than events".into(),
                )));
            }
        }
        Err(e) if e.is_storage_unavailable() => {
            tracing::error!(error = %e, batch = events.len(), "batch not committed; answering 503");
            for reply in replies.drain(..) {
                let _ = reply.send(Err(WriteError::Storage(e.to_string())));
            }
        }
        Err(e) if events.len() > 1 => {
            // One event the mirror refuses must not sink its neighbours: commit one by one.
            tracing::warn!(error = %e, "batch refused; retrying its events one at a time");
            let singles = std::mem::take(events);
            let reps = std::mem::take(replies);
            for (single, reply) in singles.into_iter().zip(reps) {
                let mut one = vec![single];
                let mut rep = vec![reply];
                commit(mirror, &mut one, &mut rep, applied);
            }
        }
        Err(e) => {
            tracing::warn!(error = %e, "event refused by the mirror");
            for reply in replies.drain(..) {
                let _ = reply.send(Err(WriteError::Refused(e.to_string())));
            }
        }
    }
    events.clear();
}

fn announce(outcome: &IngestOutcome, applied: &broadcast::Sender<AppliedEvent>) {
    if let Some(event) = outcome.applied() {
        // No subscriber is fine: the desktop may not be listening.
        let _ = applied.send(event.clone());
    }
}
