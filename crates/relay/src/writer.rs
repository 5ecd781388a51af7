//! The single writer: one blocking thread owns the write `Mirror` and commits.
//!
//! Invariant: a delivery is acknowledged (its reply sent `Ok`) only after the
//! `ingest_batch` transaction that holds it has committed. Deliveries that arrive while a
//! commit is in progress queue in the channel and are drained into the next batch, so under
//! load one fsync covers many events (group commit) and the batch size adapts by itself.
//!
//! Refused deliveries are counted in memory ([`Writer::reject`] never waits, never queues
//! a job per refusal) and the counts ride in the next batch's transaction; when no event
//! comes, a flush at most [`REJECTION_FLUSH`] later writes them alone. A flood of bad
//! requests thus costs a counter increment each and at most a few small commits a second,
//! never a commit each, and real deliveries never queue behind it.
//!
//! A second thread, on its own connection, copies committed WAL pages into the database
//! file (a passive checkpoint) after commits, at most every [`CHECKPOINT_EVERY`], so the
//! writer almost never stops to checkpoint inside a commit. It only ever copies pages that
//! are already durable in the WAL, so acknowledgements do not depend on it.

use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use fluxstore_mirror::{
    AppliedEvent, Event, IngestOutcome, Mirror, MirrorError, NewRejection, RejectionTally, Source,
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
    /// Write the counted refusals now, if no batch has taken them since.
    Flush,
}

/// The longest a counted refusal waits for a batch before it is written on its own.
pub(crate) const REJECTION_FLUSH: Duration = Duration::from_millis(500);

/// Counters of committed work (for benchmarks and the desktop's health view).
#[derive(Default)]
pub(crate) struct Counters {
    pub(crate) batches: AtomicU64,
    pub(crate) events: AtomicU64,
    /// Refusals counted (stored as aggregates).
    pub(crate) rejections: AtomicU64,
}

/// Refusals counted since the last write, and whether a flush is already on its way.
#[derive(Default)]
struct Pending {
    tally: RejectionTally,
    flush_scheduled: bool,
}

/// The sending side, cloned into every request handler.
#[derive(Clone)]
pub(crate) struct Writer {
    tx: mpsc::Sender<Job>,
    alive: Arc<AtomicBool>,
    pending: Arc<Mutex<Pending>>,
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
        let pending = Arc::new(Mutex::new(Pending::default()));
        let pending_thread = pending.clone();
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
                    &pending_thread,
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
                    pending,
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

    /// Count a refused delivery; it is written with the next batch, or on its own at most
    /// [`REJECTION_FLUSH`] later. Never waits for the writer.
    pub(crate) fn reject(&self, rejection: &NewRejection) {
        self.counters.rejections.fetch_add(1, Ordering::Relaxed);
        let schedule = {
            let mut pending = lock(&self.pending);
            pending.tally.add(rejection, crate::signature::unix_now());
            !std::mem::replace(&mut pending.flush_scheduled, true)
        };
        if schedule {
            let tx = self.tx.clone();
            tokio::spawn(async move {
                tokio::time::sleep(REJECTION_FLUSH).await;
                // Full or closed: a batch is on its way (and takes the counts) or the writer
                // has stopped (and wrote them on its way out).
                let _ = tx.try_send(Job::Flush);
            });
        }
    }
}

fn lock(pending: &Mutex<Pending>) -> std::sync::MutexGuard<'_, Pending> {
    // A panic while holding the lock leaves counts at worst one short: keep counting.
    pending.lock().unwrap_or_else(|p| p.into_inner())
}

/// Take what has been counted; a refusal counted after this schedules a new flush.
fn take_pending(pending: &Mutex<Pending>) -> RejectionTally {
    let mut p = lock(pending);
    p.flush_scheduled = false;
    p.tally.take()
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
    pending: &Mutex<Pending>,
    checkpointer: Option<&Checkpointer>,
) {
    let mut events: Vec<(Event, Source)> = Vec::with_capacity(max_batch);
    let mut replies = Vec::with_capacity(max_batch);
    // Ends when every sender is gone: the server has stopped and in-flight requests are done.
    while let Some(first) = rx.blocking_recv() {
        let mut next = Some(first);
        while let Some(job) = next.take() {
            if let Job::Ingest { event, reply } = job {
                events.push((event, Source::Webhook));
                replies.push(reply);
            }
            if events.len() < max_batch {
                next = rx.try_recv().ok();
            }
        }
        let tally = take_pending(pending);
        let mut tally_written = tally.is_empty();
        if !events.is_empty() {
            counters.batches.fetch_add(1, Ordering::Relaxed);
            counters
                .events
                .fetch_add(events.len() as u64, Ordering::Relaxed);
            tally_written |= commit(&mut mirror, &mut events, &mut replies, &tally, &applied);
            if let Some(c) = checkpointer {
                c.ring();
            }
        }
        if !tally_written {
            write_alone(&mut mirror, tally, pending);
        }
    }
    // Counts that arrived with the last requests.
    let tally = take_pending(pending);
    if !tally.is_empty() {
        write_alone(&mut mirror, tally, pending);
    }
    tracing::debug!("relay writer stopped");
}

/// Write counted refusals in a transaction of their own (no event came to carry them, or
/// their batch failed). If storage is unavailable they go back to be retried with the next
/// write; the counts are bounded (one entry per hour and code), so keeping them is cheap.
fn write_alone(mirror: &mut Mirror, tally: RejectionTally, pending: &Mutex<Pending>) {
    match mirror.ingest_batch_with_rejections(&[], &tally) {
        Ok(_) => {}
        Err(e) if e.is_storage_unavailable() => {
            tracing::warn!(error = %e, refusals = tally.total(), "refused deliveries not recorded yet; retrying with the next write");
            lock(pending).tally.merge(tally);
        }
        Err(e) => {
            tracing::warn!(error = %e, refusals = tally.total(), "refused deliveries could not be recorded");
        }
    }
}

type Reply = oneshot::Sender<Result<IngestOutcome, WriteError>>;

/// Commit a batch of events, with the counted refusals in the same transaction. Returns
/// whether the refusals were written (only when the whole batch committed).
fn commit(
    mirror: &mut Mirror,
    events: &mut Vec<(Event, Source)>,
    replies: &mut Vec<Reply>,
    tally: &RejectionTally,
    applied: &broadcast::Sender<AppliedEvent>,
) -> bool {
    let mut written = false;
    match mirror.ingest_batch_with_rejections(events, tally) {
        Ok(outcomes) => {
            written = true;
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
        Err(e) if events.len() > 1 || !tally.is_empty() => {
            // One event the mirror refuses must not sink its neighbours (nor the counts):
            // commit the events one by one; the caller writes the counts apart.
            tracing::warn!(error = %e, "batch refused; retrying its events one at a time");
            let singles = std::mem::take(events);
            let reps = std::mem::take(replies);
            let none = RejectionTally::default();
            for (single, reply) in singles.into_iter().zip(reps) {
                let mut one = vec![single];
                let mut rep = vec![reply];
                commit(mirror, &mut one, &mut rep, &none, applied);
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
    written
}

fn announce(outcome: &IngestOutcome, applied: &broadcast::Sender<AppliedEvent>) {
    if let Some(event) = outcome.applied() {
        // No subscriber is fine: the desktop may not be listening.
        let _ = applied.send(event.clone());
    }
}
