//! Relay throughput: durable, verified events per second and latency percentiles.
//!
//! Starts the relay on 127.0.0.1 with a fresh mirror file, then posts ~3 KB realistic
//! signed events at concurrency 1, 8 and 64. Every 2xx is a committed event (the relay
//! answers after its group commit), and the run checks the mirror holds them all.
//! Client and server share the machine. Run:
//!   cargo bench -p fluxstore-relay --bench throughput
//! Counts per level can be scaled with FLUXSTORE_BENCH_SCALE (default 1.0); the mirror file
//! goes into a temp dir under FLUXSTORE_BENCH_DIR (default: the system temp dir), to
//! measure a particular disk.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use fluxstore_mirror::Mirror;
use fluxstore_relay::{Relay, RelayConfig, SigningSecret, SigningSecrets, sign_header};

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
    runtime.block_on(run());
}

fn events(count: usize, offset: usize) -> Vec<Vec<u8>> {
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
    let dir = match std::env::var_os("FLUXSTORE_BENCH_DIR") {
        Some(base) => tempfile::tempdir_in(base),
        None => tempfile::tempdir(),
    }
    .expect("temp dir");
    let db = dir.path().join("bench.sqlite3");
    let secret = SigningSecret::new(SECRET, fluxstore_relay::Mode::Test).expect("secret");
    let config = RelayConfig {
        listen: "127.0.0.1:0".parse().expect("addr"),
        secrets: SigningSecrets::from(secret.clone()),
        ..RelayConfig::default()
    };
    let relay = Relay::start(config, &db).await.expect("relay starts");
    let url = relay.webhook_url();
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(128)
        .timeout(Duration::from_secs(60))
        .build()
        .expect("client");

    println!(
        "relay throughput: ~{EVENT_BYTES} B signed events, client and relay on this machine ({} CPUs)",
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    println!("concurrency   events   durable ev/s   p50 ms   p99 ms   max ms   avg batch");
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
        let before = relay.stats();
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
        let after = relay.stats();
        let avg_batch =
            (after.events - before.events) as f64 / (after.batches - before.batches).max(1) as f64;
        latencies.sort();
        let pct = |p: f64| {
            let i = ((latencies.len() as f64 * p).ceil() as usize).clamp(1, latencies.len()) - 1;
            latencies[i].as_secs_f64() * 1000.0
        };
        println!(
            "{:>11}   {:>6}   {:>12.0}   {:>6.2}   {:>6.2}   {:>6.2}   {:>9.1}",
            level.concurrency,
            count,
            count as f64 / elapsed.as_secs_f64(),
            pct(0.50),
            pct(0.99),
            pct(1.0),
            avg_batch,
        );
        total += count;
    }
    relay.shutdown().await;
    let stored = Mirror::open_read_only(&db)
        .expect("mirror")
        .events(None, u32::MAX)
        .expect("events")
        .len();
    assert_eq!(stored, total, "every acknowledged event is in the mirror");
    println!("verified: all {total} acknowledged events are stored in the mirror file");
}
