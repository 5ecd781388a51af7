//! The flood scenario: bad requests as fast as the client can send them beside a trickle of
//! valid signed deliveries; reports the database files' growth and the valid latencies.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use fluxstore_mirror::Mirror;
use fluxstore_relay::sign_header;

use super::{RelayProcess, events, pct, secret, temp_dir};

pub struct Options {
    duration: Duration,
    flooders: usize,
    valid_per_sec: f64,
}

impl Options {
    /// `--quick`, `--duration SECS`, `--flooders N`, `--valid-rate N`; anything else (such as
    /// the `--bench` cargo passes) is ignored.
    pub fn parse(args: &[String]) -> Options {
        let value = |name: &str| {
            args.iter()
                .position(|a| a == name)
                .and_then(|i| args.get(i + 1))
                .map(|v| {
                    v.parse::<f64>()
                        .unwrap_or_else(|_| panic!("{name} takes a number"))
                })
        };
        let quick = args.iter().any(|a| a == "--quick");
        Options {
            duration: Duration::from_secs_f64(value("--duration").unwrap_or(if quick {
                5.0
            } else {
                60.0
            })),
            flooders: value("--flooders").map_or(64, |n| n as usize).max(1),
            valid_per_sec: value("--valid-rate").unwrap_or(2.0).max(0.1),
        }
    }
}

fn files_size(db: &std::path::Path) -> u64 {
    ["", "-wal"]
        .iter()
        .map(|suffix| {
            let mut p = db.as_os_str().to_owned();
            p.push(suffix);
            std::fs::metadata(p).map_or(0, |m| m.len())
        })
        .sum()
}

pub async fn run(options: Options) {
    let dir = temp_dir();
    let db = dir.path().join("flood.sqlite3");
    let relay = RelayProcess::start(&db);
    let url = relay.url.clone();
    let root = url.replace("/api/webhooks/stripe", "/");
    let secret = secret();
    // Warm up: one valid delivery creates the tables' first pages.
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(256)
        .timeout(Duration::from_secs(60))
        .build()
        .expect("client");
    let bodies = Arc::new(events(
        (options.duration.as_secs_f64() * options.valid_per_sec) as usize + 2,
        1_000_000,
    ));
    let t = fluxstore_relay::signature::unix_now();
    let warm = client
        .post(&url)
        .header("Stripe-Signature", sign_header(&bodies[0], &secret, t))
        .body(bodies[0].clone())
        .send()
        .await
        .expect("relay answers");
    assert!(warm.status().is_success());
    let size_before = files_size(&db);

    println!(
        "relay flood: {} connections of bad requests for {:.0} s beside {} valid deliveries/s, client and relay on this machine ({} CPUs)",
        options.flooders,
        options.duration.as_secs_f64(),
        options.valid_per_sec,
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    let stop = Arc::new(AtomicBool::new(false));
    let sent = Arc::new(AtomicU64::new(0));
    let bad_body = bodies[1].clone();
    let wrong = sign_header(
        &bad_body,
        &fluxstore_relay::SigningSecret::new(
            "whsec_not_this_endpoint",
            fluxstore_mirror::Mode::Test,
        )
        .expect("secret"),
        t,
    );
    let stale = sign_header(&bad_body, &secret, t - 3_600);
    let mut flooders = tokio::task::JoinSet::new();
    for worker in 0..options.flooders {
        let (client, url, root) = (client.clone(), url.clone(), root.clone());
        let (stop, sent, body) = (stop.clone(), sent.clone(), bad_body.clone());
        let (wrong, stale) = (wrong.clone(), stale.clone());
        flooders.spawn(async move {
            let mut i = worker;
            while !stop.load(Ordering::Relaxed) {
                // 4 in 10 bad signatures (the body is read and verified), 3 without a
                // signature, 2 with a stale timestamp, 1 to a wrong path.
                let req = match i % 10 {
                    0..=3 => client.post(&url).header("Stripe-Signature", &wrong),
                    4..=6 => client.post(&url),
                    7 | 8 => client.post(&url).header("Stripe-Signature", &stale),
                    _ => client.post(&root),
                };
                if let Ok(resp) = req.body(body.clone()).send().await {
                    let _ = resp.bytes().await;
                }
                sent.fetch_add(1, Ordering::Relaxed);
                i += 1;
            }
        });
    }
    let started = Instant::now();
    let every = Duration::from_secs_f64(1.0 / options.valid_per_sec);
    let mut latencies = Vec::new();
    let mut next = 2;
    let mut tick = tokio::time::interval(every);
    while started.elapsed() < options.duration && next < bodies.len() {
        tick.tick().await;
        let body = &bodies[next];
        next += 1;
        let header = sign_header(body, &secret, fluxstore_relay::signature::unix_now());
        let at = Instant::now();
        let resp = client
            .post(&url)
            .header("Stripe-Signature", header)
            .body(body.clone())
            .send()
            .await
            .expect("relay answers");
        let status = resp.status();
        let _ = resp.bytes().await;
        assert!(status.is_success(), "a valid delivery got {status}");
        latencies.push(at.elapsed());
    }
    let flood_secs = started.elapsed().as_secs_f64();
    stop.store(true, Ordering::Relaxed);
    while flooders.join_next().await.is_some() {}
    let bad = sent.load(Ordering::Relaxed);
    let peak = relay.peak_rss_mib();
    let [_, _, stored_refusals, not_found, _] = relay.stop();
    let size_after = files_size(&db);
    latencies.sort();
    let grown = size_after.saturating_sub(size_before);
    let reader = Mirror::open_read_only(&db).expect("mirror");
    let rows = reader.rejections(u32::MAX).expect("rejections").len();
    let stored = reader.events(None, u32::MAX).expect("events").len();
    assert_eq!(
        stored,
        latencies.len() + 1,
        "every acknowledged event is stored"
    );
    println!(
        "bad requests: {bad} in {flood_secs:.1} s ({:.0}/s); {stored_refusals} refusals counted into {rows} rows, {not_found} 404s counted in memory",
        bad as f64 / flood_secs
    );
    println!(
        "valid deliveries: {} all stored; p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        latencies.len(),
        pct(&latencies, 0.50),
        pct(&latencies, 0.99),
        pct(&latencies, 1.0)
    );
    println!(
        "database + WAL: {size_before} -> {size_after} bytes, +{:.1} KiB ({:.1} KiB per minute of flood, valid events included); relay peak RSS {} MiB",
        grown as f64 / 1024.0,
        grown as f64 / 1024.0 * 60.0 / flood_secs,
        peak.map_or_else(|| "?".into(), |p| format!("{p:.1}"))
    );
}
