//! The single writer: one blocking thread owns the write `Mirror` and commits.
//!
//! Invariant: a delivery is acknowledged (its reply sent `Ok`) only after the
//! `ingest_batch` transaction that holds it has committed **and** the WAL file has been
//! synced after that commit. Deliveries that arrive while a batch is being written queue in
//! the channel and are drained into the next batch, so under load one transaction covers
//! many events (group commit) and the batch size adapts by itself.
//!
//! The sync is pipelined: the writer's connection commits without waiting for the disk
//! (`Mirror::defer_commit_sync`) and hands the batch's replies to a second thread, the
//! syncer, which syncs the WAL file (`fdatasync`) and only then answers them. While that
//! sync runs, the writer already writes the next batch; batches committed during one sync
//! are answered after the next. A sync puts on disk every WAL frame written before it began,
//! so it makes each commit that returned before it exactly as durable as a
//! `synchronous=FULL` commit would have been. A process crash before the sync loses nothing
//! (the frames are in the OS cache) and acknowledged nothing; a power loss before it may undo
//! commits that were never acknowledged. If a sync fails, the WAL's unsynced frames may be
//! lost without a later sync saying so, so the syncer answers that batch and every later one
//! `storage_unavailable` and the writer reports itself dead (`/healthz`).
//!
//! Refused deliveries are counted in memory ([`Writer::reject`] never waits, never queues
//! a job per refusal) and the counts ride in the next batch's transaction; when no event
//! comes, a flush at most [`REJECTION_FLUSH`] later writes them alone. A flood of bad
//! requests thus costs a counter increment each and at most a few small commits a second,
//! never a commit each, and real deliveries never queue behind it.
//!
//! A third thread, on its own connection, copies committed WAL pages into the database file
//! (a passive checkpoint) after commits, at most every [`CHECKPOINT_EVERY`], and then syncs
//! the database file. The writer never checkpoints inside a commit; under a steady stream of
//! events (when the background copy never finds the WAL idle, so the WAL cannot start over)
//! it pauses every [`RESTART_EVERY`] events, between two batches, for one pass that copies
//! the little the background thread has not and lets the next commit restart the WAL.
//! Checkpoints only copy pages already synced in the WAL (SQLite syncs the WAL first), so
//! acknowledgements never depend on them.
//!
//! That pause is what the slowest deliveries of a steady stream wait for, so it is kept
//! short. SQLite syncs the database file only in a pass that reaches the end of the WAL,
//! which under a steady stream is only the pass of the pause: left alone, it would flush
//! every page copied since the last restart (10-20 ms in the relay benchmark). The background thread
//! therefore syncs the file after each pass, and before the pause the writer asks for
//! passes back to back ([`WARM_UP_PASSES`]) until one finds little left, so the pause's own
//! pass copies and syncs only the commits of the last few milliseconds.

use std::fs::{File, OpenOptions};
use std::path::{Path, PathBuf};
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
                let opened = open_pipelined(&path).and_then(|(mirror, wal)| {
                    Syncer::spawn(wal, applied, alive_thread.clone())
                        .map(|syncer| (mirror, syncer))
                        .map_err(|e| {
                            MirrorError::Migration(format!("could not start the writer: {e}"))
                        })
                });
                let (mirror, syncer) = match opened {
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
                    &counters_thread,
                    &pending_thread,
                    checkpointer.as_ref(),
                    &syncer,
                );
                // Every committed reply is answered (after its sync) before the writer ends.
                syncer.stop();
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

/// Open the writer's mirror with its commits' sync handed to the syncer. When the WAL file
/// cannot be opened a second time, commits keep syncing themselves (slower, as durable).
fn open_pipelined(path: &Path) -> Result<(Mirror, Option<WalFile>), MirrorError> {
    let mut mirror = Mirror::open(path)?;
    match WalFile::open(path) {
        Ok(wal) => {
            mirror.defer_commit_sync()?;
            Ok((mirror, Some(wal)))
        }
        Err(e) => {
            tracing::warn!(error = %e, "could not open the write-ahead log to sync it; every commit syncs itself");
            Ok((mirror, None))
        }
    }
}

/// Shortest pause between two background checkpoints: each one syncs the database file,
/// so checkpointing after every commit of a busy writer would double the syncs. Short, so
/// that the pages left for a catch-up (see [`Checkpointer::catch_up`]) are few.
const CHECKPOINT_EVERY: Duration = Duration::from_millis(5);

/// Events the writer commits between two catch-ups that let the WAL restart (about ten WAL
/// pages per 3 KB event, so the WAL stays near 40 MB under a steady stream, below the 64 MiB
/// it is trimmed back to when it restarts).
const RESTART_EVERY: u64 = 1_000;

/// At most this many back-to-back passes before the pause that lets the WAL restart...
const WARM_UP_PASSES: u32 = 4;

/// ...fewer when one copies at most this many WAL frames (a few milliseconds of commits).
const WARM_UP_FRAMES: u64 = 200;

/// The longest the writer waits for a catch-up; after it, it writes on (the WAL grows).
const CATCH_UP_LIMIT: Duration = Duration::from_millis(250);

/// What the writer asked of the checkpoint thread, and how far it got.
#[derive(Default)]
struct CheckpointState {
    /// A commit happened since the last pass began.
    rung: bool,
    /// The writer waits for a pass: skip the pause.
    hurry: bool,
    stop: bool,
    started: u64,
    finished: u64,
    /// WAL frames the last finished pass copied.
    last_frames: u64,
}

/// The background checkpoint thread and the state it shares with the writer.
struct Checkpointer {
    shared: Arc<(Mutex<CheckpointState>, std::sync::Condvar)>,
    join: JoinHandle<()>,
}

impl Checkpointer {
    /// None when its connection cannot be opened: the writer then checkpoints by itself
    /// between batches, so the WAL stays bounded.
    fn spawn(path: &Path) -> Option<Checkpointer> {
        let mirror = match Mirror::open(path) {
            Ok(m) => m,
            Err(e) => {
                tracing::warn!(error = %e, "no background checkpoint; the writer will checkpoint by itself");
                return None;
            }
        };
        // Only to sync what the passes copied; SQLite syncs the file itself whenever
        // durability depends on it, so without this handle the pauses are merely longer.
        let database = OpenOptions::new()
            .read(true)
            .write(true)
            .open(path)
            .map_err(|e| tracing::debug!(error = %e, "the checkpoint thread will not sync the database file"))
            .ok();
        let shared = Arc::new((
            Mutex::new(CheckpointState::default()),
            std::sync::Condvar::new(),
        ));
        let theirs = shared.clone();
        let join = std::thread::Builder::new()
            .name("fluxstore-relay-checkpoint".into())
            .spawn(move || checkpoint_loop(&mirror, database.as_ref(), &theirs))
            .map_err(|e| tracing::warn!(error = %e, "could not start the checkpoint thread"))
            .ok()?;
        Some(Checkpointer { shared, join })
    }

    fn state(&self) -> std::sync::MutexGuard<'_, CheckpointState> {
        self.shared.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A commit happened: copy it (after the pause).
    fn ring(&self) {
        self.state().rung = true;
        self.shared.1.notify_all();
    }

    /// Wait (at most `limit`) for a pass that starts now, while the writer commits nothing:
    /// it copies the whole WAL, so the next commit restarts the WAL from its beginning.
    /// False when the limit passed first.
    fn catch_up(&self, limit: Duration) -> bool {
        let deadline = std::time::Instant::now() + limit;
        let mut state = self.state();
        let target = state.started + 1;
        state.rung = true;
        state.hurry = true;
        self.shared.1.notify_all();
        while state.finished < target {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            if left.is_zero() {
                return false;
            }
            state = self
                .shared
                .1
                .wait_timeout(state, left)
                .unwrap_or_else(|p| p.into_inner())
                .0;
        }
        true
    }

    /// Ask for a pass that starts now, without waiting for it; returns its number.
    fn hurry(&self) -> u64 {
        let mut state = self.state();
        let pass = state.started + 1;
        state.rung = true;
        state.hurry = true;
        self.shared.1.notify_all();
        pass
    }

    /// Between two batches, once the WAL is due to restart: whether the pause may begin
    /// now. Until then it keeps passes running back to back, each one copying what was
    /// committed during the one before; `overdue` ends the warm-up whatever its state.
    fn warmed_up(&self, warm_up: &mut Option<(u64, u32)>, overdue: bool) -> bool {
        let Some((pass, passes)) = *warm_up else {
            *warm_up = Some((self.hurry(), 1));
            return false;
        };
        let state = self.state();
        let finished = state.finished >= pass;
        let frames = state.last_frames;
        drop(state);
        if overdue || (finished && (frames <= WARM_UP_FRAMES || passes >= WARM_UP_PASSES)) {
            *warm_up = None;
            true
        } else {
            if finished {
                *warm_up = Some((self.hurry(), passes + 1));
            }
            false
        }
    }

    fn stop(self) {
        self.state().stop = true;
        self.shared.1.notify_all();
        let _ = self.join.join();
    }
}

fn checkpoint_loop(
    mirror: &Mirror,
    database: Option<&File>,
    shared: &(Mutex<CheckpointState>, std::sync::Condvar),
) {
    let (lock, bell) = shared;
    let wait = |guard, timeout: Option<Duration>| match timeout {
        None => bell.wait(guard).unwrap_or_else(|p| p.into_inner()),
        Some(t) => {
            bell.wait_timeout(guard, t)
                .unwrap_or_else(|p| p.into_inner())
                .0
        }
    };
    let mut last_pass: Option<std::time::Instant> = None;
    // WAL frames copied so far (SQLite's count starts again at 0 when the WAL restarts).
    let mut copied = 0u64;
    loop {
        let mut state = lock.lock().unwrap_or_else(|p| p.into_inner());
        while !state.rung && !state.stop {
            state = wait(state, None);
        }
        // The pause since the last pass, cut short when the writer waits.
        if let Some(last) = last_pass {
            let due = last + CHECKPOINT_EVERY;
            while !state.hurry && !state.stop {
                let left = due.saturating_duration_since(std::time::Instant::now());
                if left.is_zero() {
                    break;
                }
                state = wait(state, Some(left));
            }
        }
        if state.stop {
            return;
        }
        state.rung = false;
        state.hurry = false;
        state.started += 1;
        let pass = state.started;
        drop(state);
        let frames = match mirror.checkpoint() {
            Ok((_, now)) => {
                let frames = now.checked_sub(copied).unwrap_or(now);
                copied = now;
                frames
            }
            Err(e) => {
                tracing::debug!(error = %e, "background checkpoint did not finish");
                0
            }
        };
        if frames > 0
            && let Some(Err(e)) = database.map(File::sync_data)
        {
            tracing::debug!(error = %e, "could not sync the database file after a checkpoint");
        }
        last_pass = Some(std::time::Instant::now());
        let mut state = lock.lock().unwrap_or_else(|p| p.into_inner());
        state.finished = pass;
        state.last_frames = frames;
        drop(state);
        bell.notify_all();
    }
}

fn run(
    mut mirror: Mirror,
    mut rx: mpsc::Receiver<Job>,
    max_batch: usize,
    counters: &Counters,
    pending: &Mutex<Pending>,
    checkpointer: Option<&Checkpointer>,
    syncer: &Syncer,
) {
    let mut events: Vec<(Event, Source)> = Vec::with_capacity(max_batch);
    let mut replies = Vec::with_capacity(max_batch);
    let mut since_restart = 0u64;
    let mut warm_up = None;
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
            since_restart += events.len() as u64;
            let mut committed = Vec::with_capacity(events.len());
            tally_written |= commit(
                &mut mirror,
                &mut events,
                &mut replies,
                &tally,
                &mut committed,
            );
            syncer.acknowledge(committed);
            if let Some(c) = checkpointer {
                c.ring();
            }
        }
        if !tally_written {
            write_alone(&mut mirror, tally, pending);
            syncer.acknowledge(Vec::new());
        }
        if since_restart >= RESTART_EVERY {
            // Between two batches, so no acknowledgement waits for it (the syncer answers
            // the last batch meanwhile); the background passes have copied most pages.
            match checkpointer {
                Some(c) => {
                    if c.warmed_up(&mut warm_up, since_restart >= 2 * RESTART_EVERY) {
                        since_restart = 0;
                        if !c.catch_up(CATCH_UP_LIMIT) {
                            tracing::debug!(
                                "the checkpoint did not catch up in time; the WAL grows"
                            );
                        }
                    }
                }
                None => {
                    since_restart = 0;
                    if let Err(e) = mirror.checkpoint() {
                        tracing::debug!(error = %e, "writer checkpoint did not finish");
                    }
                }
            }
        }
    }
    // Counts that arrived with the last requests.
    let tally = take_pending(pending);
    if !tally.is_empty() {
        write_alone(&mut mirror, tally, pending);
        syncer.acknowledge(Vec::new());
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

/// Commit a batch of events, with the counted refusals in the same transaction. The replies
/// of committed events move to `committed` (answered once the WAL is synced); the others are
/// answered here, nothing of theirs having been committed. Returns whether the refusals were
/// written (only when the whole batch committed).
fn commit(
    mirror: &mut Mirror,
    events: &mut Vec<(Event, Source)>,
    replies: &mut Vec<Reply>,
    tally: &RejectionTally,
    committed: &mut Vec<(Reply, IngestOutcome)>,
) -> bool {
    let mut written = false;
    match mirror.ingest_batch_with_rejections(events, tally) {
        Ok(outcomes) => {
            written = true;
            tracing::debug!(batch = events.len(), "batch committed");
            committed.extend(
                replies
                    .drain(..outcomes.len().min(replies.len()))
                    .zip(outcomes),
            );
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
                commit(mirror, &mut one, &mut rep, &none, committed);
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

/// The mirror's write-ahead log, opened a second time to sync it from the syncer thread.
struct WalFile {
    path: PathBuf,
    file: File,
}

impl WalFile {
    /// The WAL SQLite keeps beside the database while a connection is open (the writer's
    /// connection keeps it, so it is never removed or replaced while the writer runs).
    fn open(db: &Path) -> std::io::Result<WalFile> {
        let mut name = db.as_os_str().to_owned();
        name.push("-wal");
        let path = PathBuf::from(name);
        // Never create it: a missing WAL means the database is not in WAL mode as expected.
        let file = OpenOptions::new().read(true).write(true).open(&path)?;
        Ok(WalFile { path, file })
    }

    /// Put every frame written to the WAL so far on disk.
    fn sync(&self) -> std::io::Result<()> {
        self.check_same_file()?;
        self.file.sync_data()
    }

    /// The handle must still name the file SQLite writes: a sync of any other file would
    /// acknowledge events that are not durable.
    #[cfg(unix)]
    fn check_same_file(&self) -> std::io::Result<()> {
        use std::os::unix::fs::MetadataExt;
        let ours = self.file.metadata()?;
        let now = std::fs::metadata(&self.path)?;
        if (ours.dev(), ours.ino()) == (now.dev(), now.ino()) {
            Ok(())
        } else {
            Err(std::io::Error::other(
                "the database's write-ahead log was replaced while the relay ran",
            ))
        }
    }

    #[cfg(not(unix))]
    fn check_same_file(&self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Committed replies waiting for the WAL sync that makes them durable.
type Committed = Vec<(Reply, IngestOutcome)>;

/// The syncer thread: syncs the WAL after commits and then answers their replies.
struct Syncer {
    tx: Option<std::sync::mpsc::Sender<Committed>>,
    join: Option<JoinHandle<()>>,
}

impl Syncer {
    /// `wal` None: the writer's commits sync themselves (`synchronous=FULL`), so the syncer
    /// only answers.
    fn spawn(
        wal: Option<WalFile>,
        applied: broadcast::Sender<AppliedEvent>,
        alive: Arc<AtomicBool>,
    ) -> std::io::Result<Syncer> {
        let (tx, rx) = std::sync::mpsc::channel::<Committed>();
        let join = std::thread::Builder::new()
            .name("fluxstore-relay-sync".into())
            .spawn(move || sync_loop(wal, &rx, &applied, &alive))?;
        Ok(Syncer {
            tx: Some(tx),
            join: Some(join),
        })
    }

    /// Answer these committed replies once the WAL is synced; an empty list still syncs (a
    /// commit of counted refusals alone).
    fn acknowledge(&self, committed: Committed) {
        if let Some(tx) = &self.tx {
            // Gone only if the syncer panicked: the replies drop and their requests get 503.
            let _ = tx.send(committed);
        }
    }

    /// Answer everything handed over so far, then stop.
    fn stop(mut self) {
        self.tx.take();
        if let Some(join) = self.join.take() {
            let _ = join.join();
        }
    }
}

fn sync_loop(
    wal: Option<WalFile>,
    rx: &std::sync::mpsc::Receiver<Committed>,
    applied: &broadcast::Sender<AppliedEvent>,
    alive: &AtomicBool,
) {
    let mut failed: Option<String> = None;
    while let Ok(mut done) = rx.recv() {
        // Everything committed so far rides on this one sync.
        while let Ok(more) = rx.try_recv() {
            done.extend(more);
        }
        if failed.is_none()
            && let Some(Err(e)) = wal.as_ref().map(WalFile::sync)
        {
            tracing::error!(error = %e, "could not sync the database's write-ahead log; answering 503 until the relay restarts");
            alive.store(false, Ordering::SeqCst);
            failed = Some(format!("could not sync the write-ahead log: {e}"));
        }
        match &failed {
            None => {
                for (reply, outcome) in done {
                    announce(&outcome, applied);
                    let _ = reply.send(Ok(outcome));
                }
            }
            Some(why) => {
                for (reply, _) in done {
                    let _ = reply.send(Err(WriteError::Storage(why.clone())));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The checkpoint sequence number in the WAL's header (bytes 12..16, big-endian): SQLite
    /// adds one each time the WAL starts over from its beginning. 0 for an empty WAL.
    fn wal_restarts(db: &Path) -> u32 {
        use std::io::Read;
        let mut name = db.as_os_str().to_owned();
        name.push("-wal");
        let mut header = [0u8; 16];
        match File::open(PathBuf::from(name)).and_then(|mut f| f.read_exact(&mut header)) {
            Ok(()) => u32::from_be_bytes([header[12], header[13], header[14], header[15]]),
            Err(_) => 0,
        }
    }

    fn wal_len(db: &Path) -> u64 {
        let mut name = db.as_os_str().to_owned();
        name.push("-wal");
        std::fs::metadata(PathBuf::from(name)).map_or(0, |m| m.len())
    }

    /// A backlog queued in full before the writer starts never lets it wait for input, so
    /// the background passes never find the WAL idle and cannot let it start over by
    /// themselves. The writer's pause every [`RESTART_EVERY`] events still does, so the WAL
    /// file stays bounded (without it, these 4,000 events of 3 KB leave a WAL of ~150 MB).
    #[test]
    fn a_backlog_that_never_pauses_still_lets_the_wal_start_over() {
        let dir = tempfile::tempdir().expect("temp dir");
        let db = dir.path().join("mirror.sqlite3");
        let (mirror, wal) = open_pipelined(&db).expect("mirror");
        // Another connection keeps the WAL file once the writer's connections close.
        let _reader = Mirror::open_read_only(&db).expect("reader");
        let count = 4 * RESTART_EVERY;
        let (tx, rx) = mpsc::channel(count as usize);
        let mut answers = Vec::new();
        for n in 0..count {
            let mut v = fluxstore_samples::test_event(
                "checkout.session.completed",
                false,
                1_790_000_000 - n as i64,
            )
            .expect("sample");
            fluxstore_samples::pad_to(&mut v, 3_000);
            let event = Event::parse(&serde_json::to_vec(&v).expect("json")).expect("event");
            let (reply, answer) = oneshot::channel();
            assert!(tx.try_send(Job::Ingest { event, reply }).is_ok());
            answers.push(answer);
        }
        drop(tx);
        let (applied, _) = broadcast::channel(16);
        let syncer = Syncer::spawn(wal, applied, Arc::new(AtomicBool::new(true))).expect("syncer");
        let checkpointer = Checkpointer::spawn(&db).expect("checkpoint thread");
        let before = wal_restarts(&db);
        let pending = Mutex::new(Pending::default());
        run(
            mirror,
            rx,
            8,
            &Counters::default(),
            &pending,
            Some(&checkpointer),
            &syncer,
        );
        syncer.stop();
        let restarts = wal_restarts(&db).wrapping_sub(before);
        let largest = wal_len(&db);
        checkpointer.stop();
        for answer in answers {
            assert!(
                matches!(answer.blocking_recv(), Ok(Ok(_))),
                "every event acknowledged"
            );
        }
        assert!(
            restarts >= 3,
            "the WAL started over {restarts} times during {count} events"
        );
        assert!(
            largest < 64 * 1024 * 1024,
            "the WAL reached {largest} bytes"
        );
    }
}
