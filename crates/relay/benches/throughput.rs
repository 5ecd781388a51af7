//! Relay throughput: durable, verified events per second and latency percentiles; and the
//! relay under a flood of bad requests.
//!
//! The relay runs in a child process (this same binary, started with
//! `FLUXSTORE_BENCH_RELAY=<mirror file>`) on 127.0.0.1 with a fresh mirror file, so its peak
//! resident memory is its own (read from `/proc/<pid>/status`, `VmHWM`, on Linux), not the
//! client's. Client and relay share the machine.
//!
//! Default: posts ~3 KB realistic signed events at concurrency 1, 8 and 64. Every 2xx is a
//! committed event (the relay answers after its group commit), and the run checks the mirror
//! holds them all. Run:
//!   cargo bench -p fluxstore-relay --bench throughput
//! Before the levels it prints the disk's own sync latency (a 4 KiB write + `fdatasync`,
//! 1,000 times): no acknowledgement can come faster than one such sync.
//! Counts per level can be scaled with FLUXSTORE_BENCH_SCALE (default 1.0); the mirror file
//! goes into a temp dir under FLUXSTORE_BENCH_DIR (default: the system temp dir), to
//! measure a particular disk.
//!
//! `-- --flood [--quick] [--duration SECS] [--flooders N] [--valid-rate N]`: bad requests as
//! fast as N keep-alive connections can send them (default 64; a mix of bad signatures,
//! missing signatures, stale timestamps and wrong paths) for SECS seconds (default 60,
//! `--quick` 5), beside correctly signed deliveries at N per second (default 2). Reports
//! the growth of the database files (with the WAL) and the valid deliveries' latencies.

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use fluxstore_mirror::{Mirror, Mode};
use fluxstore_relay::{Relay, RelayConfig, SigningSecret, SigningSecrets, sign_header};

#[path = "throughput/flood.rs"]
mod flood;

/// The same allocator as the `fluxstore` binary that serves the relay, so the figures are
/// the shipped ones.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const EVENT_BYTES: usize = 3_000;
const SECRET: &str = "whsec_bench_localThroughputSecret000000";

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    if let Some(db) = std::env::var_os("FLUXSTORE_BENCH_RELAY") {
        runtime.block_on(serve(PathBuf::from(db)));
        return;
    }
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.iter().any(|a| a == "--flood") {
        runtime.block_on(flood::run(flood::Options::parse(&args)));
    } else {
        runtime.block_on(run());
    }
}

fn secret() -> SigningSecret {
    SigningSecret::new(SECRET, Mode::Test).expect("secret")
}

/// The child's part: serve until standard input closes, then print the writer's counters.
async fn serve(db: PathBuf) {
    let config = RelayConfig {
        listen: "127.0.0.1:0".parse().expect("addr"),
        secrets: SigningSecrets::from(secret()),
        ..RelayConfig::default()
    };
    let relay = Relay::start(config, &db).await.expect("relay starts");
    println!("{}", relay.webhook_url());
    tokio::task::spawn_blocking(|| {
        let mut sink = Vec::new();
        let _ = std::io::stdin().read_to_end(&mut sink);
    })
    .await
    .expect("stdin");
    let stats = relay.stats();
    relay.shutdown().await;
    println!(
        "{} {} {} {} {}",
        stats.batches, stats.events, stats.rejections, stats.not_found, stats.method_not_allowed
    );
}

/// The relay in a child process, and its webhook URL.
pub struct RelayProcess {
    child: Child,
    pub url: String,
    lines: std::io::Lines<BufReader<std::process::ChildStdout>>,
}

impl RelayProcess {
    pub fn start(db: &Path) -> RelayProcess {
        let mut child = Command::new(std::env::current_exe().expect("this binary"))
            .env("FLUXSTORE_BENCH_RELAY", db)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("the relay process starts");
        let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
        let url = lines.next().expect("a URL").expect("readable");
        RelayProcess { child, url, lines }
    }

    /// Peak resident memory so far, in MiB (Linux; None elsewhere).
    pub fn peak_rss_mib(&self) -> Option<f64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).ok()?;
        let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
        let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
        Some(kib / 1024.0)
    }

    /// Stop (graceful: in-flight requests finish) and return the writer's counters:
    /// batches, events, refusals stored, 404s, 405s.
    pub fn stop(mut self) -> [u64; 5] {
        drop(self.child.stdin.take());
        let line = self.lines.next().expect("counters").expect("readable");
        let _ = self.child.wait();
        let mut out = [0; 5];
        for (slot, n) in out.iter_mut().zip(line.split_whitespace()) {
            *slot = n.parse().expect("a count");
        }
        out
    }
}

pub fn temp_dir() -> tempfile::TempDir {
    match std::env::var_os("FLUXSTORE_BENCH_DIR") {
        Some(base) => tempfile::tempdir_in(base),
        None => tempfile::tempdir(),
    }
    .expect("temp dir")
}

/// Percentile `p` (0..=1) of sorted latencies, in milliseconds.
pub fn pct(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[i].as_secs_f64() * 1000.0
}

/// The disk's own sync latency, the floor under every acknowledgement: 1,000 times, one
/// 4 KiB write into a 1 MiB file (in place, as a restarted WAL is written) and
/// `fdatasync`. Returns p50, p99 and max in milliseconds.
fn fsync_probe(dir: &Path) -> [f64; 3] {
    use std::io::{Seek, SeekFrom, Write};
    let path = dir.join("fsync-probe");
    let mut file = std::fs::File::create(&path).expect("probe file");
    file.write_all(&vec![0u8; 1 << 20]).expect("probe file");
    file.sync_all().expect("probe sync");
    let page = [7u8; 4096];
    let mut latencies: Vec<Duration> = (0..1_000u64)
        .map(|i| {
            file.seek(SeekFrom::Start((i * 7 % 256) * 4096))
                .expect("seek");
            file.write_all(&page).expect("probe write");
            let t = Instant::now();
            file.sync_data().expect("probe sync");
            t.elapsed()
        })
        .collect();
    drop(file);
    let _ = std::fs::remove_file(&path);
    latencies.sort();
    [
        pct(&latencies, 0.5),
        pct(&latencies, 0.99),
        pct(&latencies, 1.0),
    ]
}

pub fn events(count: usize, offset: usize) -> Vec<Vec<u8>> {
    const TYPES: [&str; 4] = [
        "checkout.session.completed",
        "payment_intent.succeeded",
        "charge.succeeded",
        "invoice.paid",
    ];
    (0..count)
        .map(|i| {
            let n = (offset + i) as i64;
            let kind = TYPES[i % TYPES.len()];
            let mut v =
                fluxstore_samples::test_event(kind, false, 1_790_000_000 - n).expect("sample type");
            fluxstore_samples::pad_to(&mut v, EVENT_BYTES);
            serde_json::to_vec(&v).expect("json")
        })
        .collect()
}

struct Level {
    concurrency: usize,
    count: usize,
}

async fn run() {
    let scale: f64 = std::env::var("FLUXSTORE_BENCH_SCALE")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1.0);
    let levels = [
        Level {
            concurrency: 1,
            count: 1_000,
        },
        Level {
            concurrency: 8,
            count: 6_000,
        },
        Level {
            concurrency: 64,
            count: 30_000,
        },
    ];
    let dir = temp_dir();
    let db = dir.path().join("bench.sqlite3");
    let secret = secret();
    let relay = RelayProcess::start(&db);
    let url = relay.url.clone();
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(128)
        .timeout(Duration::from_secs(60))
        .build()
        .expect("client");

    println!(
        "relay throughput: ~{EVENT_BYTES} B signed events, client and relay on this machine ({} CPUs)",
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    let [p50, p99, max] = fsync_probe(dir.path());
    println!(
        "disk floor: a 4 KiB write + fdatasync in the mirror's folder, p50 {p50:.2} ms, p99 {p99:.2} ms, max {max:.2} ms"
    );
    println!("concurrency   events   durable ev/s   p50 ms   p99 ms   max ms");
    let mut offset = 0;
    let mut total = 0;
    for level in levels {
        let count = ((level.count as f64 * scale) as usize).max(level.concurrency);
        let bodies = Arc::new(events(count, offset));
        offset += count;
        let t = fluxstore_relay::signature::unix_now();
        let headers: Arc<Vec<String>> =
            Arc::new(bodies.iter().map(|b| sign_header(b, &secret, t)).collect());
        let next = Arc::new(AtomicUsize::new(0));
        let started = Instant::now();
        let mut workers = tokio::task::JoinSet::new();
        for _ in 0..level.concurrency {
            let (client, url) = (client.clone(), url.clone());
            let (bodies, headers, next) = (bodies.clone(), headers.clone(), next.clone());
            workers.spawn(async move {
                let mut latencies = Vec::new();
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= bodies.len() {
                        break;
                    }
                    let sent = Instant::now();
                    let resp = client
                        .post(&url)
                        .header("Stripe-Signature", &headers[i])
                        .header("content-type", "application/json")
                        .body(bodies[i].clone())
                        .send()
                        .await
                        .expect("relay answers");
                    let status = resp.status();
                    let _ = resp.bytes().await;
                    assert!(status.is_success(), "status {status}");
                    latencies.push(sent.elapsed());
                }
                latencies
            });
        }
        let mut latencies = Vec::with_capacity(count);
        while let Some(part) = workers.join_next().await {
            latencies.extend(part.expect("worker"));
        }
        let elapsed = started.elapsed();
        latencies.sort();
        println!(
            "{:>11}   {:>6}   {:>12.0}   {:>6.2}   {:>6.2}   {:>6.2}",
            level.concurrency,
            count,
            count as f64 / elapsed.as_secs_f64(),
            pct(&latencies, 0.50),
            pct(&latencies, 0.99),
            pct(&latencies, 1.0),
        );
        total += count;
    }
    let peak = relay.peak_rss_mib();
    let [batches, events, ..] = relay.stop();
    println!(
        "relay process: peak RSS {} MiB; {events} events in {batches} commits (avg batch {:.1})",
        peak.map_or_else(|| "?".into(), |p| format!("{p:.1}")),
        events as f64 / batches.max(1) as f64
    );
    let stored = Mirror::open_read_only(&db)
        .expect("mirror")
        .events(None, u32::MAX)
        .expect("events")
        .len();
    assert_eq!(stored, total, "every acknowledged event is in the mirror");
    println!("verified: all {total} acknowledged events are stored in the mirror file");
}
