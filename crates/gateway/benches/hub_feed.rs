//! End to end through the hub: a signed Connect webhook posted to the real `fluxstore-hub`
//! (embedded SQLite, or PostgreSQL with `FLUXSTORE_TEST_DATABASE_URL`) → the doorbell on the
//! store's feed → the desktop fetches the event from its Stripe (a fake on loopback) → the
//! event committed in that store's mirror. Prints p50/p99/max of that delay over every event.
//!
//! `scripts/with-secret-service.sh cargo bench -p fluxstore-gateway --bench hub_feed`
//! (the Connect tokens live in the keyring). `FLUXSTORE_BENCH_STORES` (default 100),
//! `FLUXSTORE_BENCH_PAYMENTS` per store (default 4; 3 events each), `FLUXSTORE_BENCH_SENDERS`
//! (payments posted at once, default 8), `FLUXSTORE_BENCH_RATE` (webhooks per second offered in
//! all, default 0: as fast as the senders go).
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use fluxstore_test_support::stripe_fake::accounts::StripeAccounts;

#[path = "../tests/gateway/hub_rig.rs"]
mod hub_rig;
use hub_rig::{Desktop, HubDb, keyring, post_signed, postgres_database, start_hub};

fn env_or(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let stores = env_or("FLUXSTORE_BENCH_STORES", 100);
    let payments = env_or("FLUXSTORE_BENCH_PAYMENTS", 4);
    let senders = env_or("FLUXSTORE_BENCH_SENDERS", 8).max(1);
    let rate = env_or("FLUXSTORE_BENCH_RATE", 0);
    let dir = tempfile::tempdir().unwrap();
    let db = match postgres_database().await {
        Some(url) => HubDb::Postgres(url),
        None => HubDb::Sqlite(dir.path().join("hub.db")),
    };
    let backend = match &db {
        HubDb::Postgres(_) => "PostgreSQL",
        HubDb::Sqlite(_) => "embedded SQLite",
    };
    let stripe = StripeAccounts::start().await.unwrap();
    let hub = start_hub(&db, "127.0.0.1:0".parse().unwrap(), &stripe.base_url()).await;
    let url = hub.url();
    let ring = keyring("bench");
    let mut desktops = Vec::with_capacity(stores);
    for _ in 0..stores {
        let mut d = Desktop::connect(&stripe, &url, ring.clone()).await;
        d.follow();
        desktops.push(d);
    }
    for d in &desktops {
        d.until_live().await;
    }
    eprintln!("{stores} stores following {url} ({backend})");

    // Every payment's events, as the platform's Connect endpoint receives them.
    let mut work = Vec::new();
    for round in 0..payments {
        for (i, d) in desktops.iter().enumerate() {
            let (_, events) = d.pay(1_000 + round as i64);
            work.push((i, events));
        }
    }
    let total: usize = work.iter().map(|(_, e)| e.len()).sum();
    let work = Arc::new(std::sync::Mutex::new(work));
    let sent: Arc<std::sync::Mutex<HashMap<String, Instant>>> = Arc::default();
    let started = Instant::now();
    let mut tasks = Vec::new();
    // A paced run sends webhook n at `started + n / rate`, whichever sender is free.
    let next = Arc::new(std::sync::atomic::AtomicU64::new(0));
    for _ in 0..senders {
        let (work, sent, url, next) = (work.clone(), sent.clone(), url.clone(), next.clone());
        tasks.push(tokio::spawn(async move {
            let http = reqwest::Client::new();
            loop {
                let Some((_, events)) = work.lock().unwrap().pop() else {
                    return;
                };
                for e in events {
                    if rate > 0 {
                        let n = next.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                        let at = started + Duration::from_secs_f64(n as f64 / rate as f64);
                        tokio::time::sleep_until(at.into()).await;
                    }
                    let id = e["id"].as_str().unwrap().to_owned();
                    sent.lock().unwrap().insert(id, Instant::now());
                    assert_eq!(post_signed(&http, &url, &e).await, 200);
                }
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let posted = started.elapsed();
    // Every event committed in its own store's mirror.
    let all_in = fluxstore_test_support::wait_until(Duration::from_secs(120), || {
        desktops
            .iter()
            .map(|d| d.seen.applied.lock().unwrap().len())
            .sum::<usize>()
            >= total
    })
    .await;
    let sent = sent.lock().unwrap().clone();
    let mut delays = Vec::with_capacity(total);
    for d in &desktops {
        for (id, at) in d.seen.applied.lock().unwrap().iter() {
            if let Some(t0) = sent.get(id) {
                delays.push(at.saturating_duration_since(*t0));
            }
        }
    }
    delays.sort();
    let fetches: usize = desktops
        .iter()
        .map(|d| {
            d.fake
                .requests()
                .iter()
                .filter(|r| r.path.starts_with("/v1/events/"))
                .count()
        })
        .sum();
    println!(
        "hub feed end to end ({backend}): {} of {total} events across {stores} stores, {senders} senders, {}, posted in {:.1} s",
        delays.len(),
        if rate > 0 {
            format!("{rate} webhooks/s offered")
        } else {
            "unpaced".to_owned()
        },
        posted.as_secs_f64()
    );
    if !delays.is_empty() {
        println!(
            "webhook into the hub -> committed in the desktop mirror: p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms ({fetches} event fetches)",
            percentile(&delays, 0.50).as_secs_f64() * 1e3,
            percentile(&delays, 0.99).as_secs_f64() * 1e3,
            delays.last().unwrap().as_secs_f64() * 1e3,
        );
    }
    assert!(all_in, "not every event reached its mirror");
    for d in &mut desktops {
        d.stop().await;
    }
    hub.shutdown().await;
}
