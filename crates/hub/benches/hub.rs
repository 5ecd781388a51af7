//! Hub benchmarks; figures printed, never asserted (docs/benchmarks.md).
//!
//! 1. Intake: durable doorbells per second at concurrency 64 — signed Connect webhooks for
//!    100 accounts into one replica, then into two replicas on one database. PostgreSQL when
//!    `FLUXSTORE_TEST_DATABASE_URL` is set (run under `scripts/with-postgres.sh`), else the
//!    embedded SQLite store. Every acknowledged doorbell is then counted in the database.
//! 2. Idle subscribers: the `fluxstore-hub` binary holding `FLUXSTORE_BENCH_SUBSCRIBERS`
//!    (default 10,000) open feeds; its resident memory before and after, per feed.
//!
//! `FLUXSTORE_BENCH_DOORBELLS` sets the doorbells per intake run (default 20,000);
//! `FLUXSTORE_BENCH_SUBSCRIBERS=0` skips the idle feeds.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use fluxstore_hub::store::{Scope, Store};
use fluxstore_hub::{
    DatabaseUrl, Hub, HubConfig, HubHandle, PgStore, PlatformSecrets, SqliteStore,
};
use fluxstore_relay::{Mode, SigningSecret, sign_header};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const SECRET: &str = "whsec_benchplatformsecret0000000000000001";
const ACCOUNTS: usize = 100;
const CONCURRENCY: usize = 64;

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn config() -> HubConfig {
    let secrets = PlatformSecrets::parse(&format!("test {SECRET}\n")).unwrap();
    let mut c = HubConfig::new(
        "127.0.0.1:0".parse().unwrap(),
        url::Url::parse("https://hub.example.test").unwrap(),
        secrets,
    )
    .unwrap();
    c.max_connections = 30_000;
    c
}

fn account(i: usize) -> String {
    format!("acct_1Bench{i:05}")
}

fn event(n: usize) -> Vec<u8> {
    serde_json::json!({
        "id": format!("evt_1Bench{n:010}{:08x}", rand::random::<u32>()),
        "object": "event",
        "account": account(n % ACCOUNTS),
        "api_version": "2025-03-31.basil",
        "created": fluxstore_relay::signature::unix_now(),
        "livemode": false,
        "type": "checkout.session.completed",
        "pending_webhooks": 1,
        "data": { "object": { "id": format!("cs_test_{n}"), "object": "checkout.session", "amount_total": 1999, "currency": "eur", "payment_status": "paid" } },
    })
    .to_string()
    .into_bytes()
}

/// Post `total` signed deliveries spread over `hubs`, `CONCURRENCY` at a time.
async fn intake(hubs: &[String], total: usize) -> (f64, Vec<Duration>) {
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(CONCURRENCY)
        .build()
        .unwrap();
    let secret = SigningSecret::new(SECRET, Mode::Test).unwrap();
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for worker in 0..CONCURRENCY {
        let (client, secret, next) = (client.clone(), secret.clone(), next.clone());
        let url = format!("{}/api/webhooks/stripe", hubs[worker % hubs.len()]);
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            loop {
                let n = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                if n >= total {
                    return latencies;
                }
                let body = event(n);
                let header = sign_header(&body, &secret, fluxstore_relay::signature::unix_now());
                let t = Instant::now();
                let resp = client
                    .post(&url)
                    .header("stripe-signature", header)
                    .body(body)
                    .send()
                    .await
                    .unwrap();
                assert_eq!(resp.status(), 200, "a delivery was refused");
                let _ = resp.bytes().await;
                latencies.push(t.elapsed());
            }
        }));
    }
    let mut all = Vec::with_capacity(total);
    for t in tasks {
        all.extend(t.await.unwrap());
    }
    let per_second = total as f64 / started.elapsed().as_secs_f64();
    all.sort();
    (per_second, all)
}

fn pct(sorted: &[Duration], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i].as_secs_f64() * 1000.0
}

async fn count<S: Store>(store: &S) -> usize {
    let mut n = 0;
    for i in 0..ACCOUNTS {
        let scope = Scope::Account {
            account: account(i),
            livemode: false,
        };
        let mut cursor = 0;
        loop {
            let page = store.after(&scope, cursor, 1000).await.unwrap();
            let Some(last) = page.last() else { break };
            cursor = last.cursor;
            n += page.len();
        }
    }
    n
}

async fn run_intake<S: Store + Clone>(label: &str, stores: Vec<S>, total: usize) {
    let mut hubs: Vec<HubHandle> = Vec::new();
    for s in &stores {
        hubs.push(Hub::start(config(), s.clone()).await.unwrap());
    }
    let urls: Vec<String> = hubs.iter().map(|h| h.url()).collect();
    let before = count(&stores[0]).await;
    let (rate, lat) = intake(&urls, total).await;
    let stored = count(&stores[0]).await - before;
    println!(
        "intake {label}: {rate:.0} durable doorbells/s at concurrency {CONCURRENCY}; p50 {:.2} ms, p99 {:.2} ms; {stored}/{total} in the database",
        pct(&lat, 0.5),
        pct(&lat, 0.99)
    );
    for h in hubs {
        h.shutdown().await;
    }
}

fn rss_kb(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

async fn idle_subscribers(n: usize) {
    let dir = tempfile::tempdir().unwrap();
    let secrets = dir.path().join("secrets");
    std::fs::write(&secrets, format!("test {SECRET}\n")).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&secrets, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
    let mut child = Command::new(env!("CARGO_BIN_EXE_fluxstore-hub"))
        .current_dir(dir.path())
        .args([
            "--listen",
            "127.0.0.1:0",
            "--public-url",
            "https://hub.example.test",
        ])
        .arg("--webhook-secret-file")
        .arg(&secrets)
        .args(["--max-connections", "30000"])
        .env_remove("FLUXSTORE_HUB_DATABASE_URL")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let url = line
        .trim()
        .strip_prefix("fluxstore-hub listening on ")
        .unwrap()
        .to_owned();
    let addr = url.strip_prefix("http://").unwrap().to_owned();
    let store: serde_json::Value = reqwest::Client::new()
        .post(format!("{url}/v1/stores"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = store["feed_token"].as_str().unwrap().to_owned();
    tokio::time::sleep(Duration::from_millis(500)).await;
    let before = rss_kb(child.id());
    let request = format!(
        "GET /v1/feed HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\nAccept: text/event-stream\r\n\r\n"
    );
    let mut feeds = Vec::with_capacity(n);
    let started = Instant::now();
    for _ in 0..n {
        let mut s = TcpStream::connect(&addr).await.unwrap();
        s.write_all(request.as_bytes()).await.unwrap();
        let mut head = Vec::new();
        let mut buf = [0u8; 512];
        while !head.windows(4).any(|w| w == b"\r\n\r\n") {
            let got = s.read(&mut buf).await.unwrap();
            assert!(got > 0, "the hub closed a feed");
            head.extend_from_slice(&buf[..got]);
        }
        assert!(head.starts_with(b"HTTP/1.1 200"), "a feed was refused");
        feeds.push(s);
    }
    let opened = started.elapsed();
    tokio::time::sleep(Duration::from_secs(2)).await;
    let after = rss_kb(child.id());
    println!(
        "idle subscribers: {n} open feeds (opened in {:.1} s); hub RSS {before} kB before, {after} kB after: {:.1} kB per feed",
        opened.as_secs_f64(),
        (after.saturating_sub(before)) as f64 / n as f64
    );
    drop(feeds);
    let _ = child.kill();
    let _ = child.wait();
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let total = env_usize("FLUXSTORE_BENCH_DOORBELLS", 20_000);
        match std::env::var("FLUXSTORE_TEST_DATABASE_URL") {
            Ok(server) if !server.is_empty() => {
                let url = database(&server).await;
                let DatabaseUrl::Postgres(pg) = DatabaseUrl::parse(&url).unwrap() else {
                    unreachable!()
                };
                let a = PgStore::connect(&pg).await.unwrap();
                run_intake("PostgreSQL, one replica", vec![a.clone()], total).await;
                let b = PgStore::connect(&pg).await.unwrap();
                run_intake("PostgreSQL, two replicas", vec![a, b], total).await;
            }
            _ => {
                let dir = tempfile::tempdir().unwrap();
                let s = SqliteStore::open(&dir.path().join("hub.db")).unwrap();
                run_intake("SQLite (embedded)", vec![s], total).await;
            }
        }
        // FLUXSTORE_BENCH_SUBSCRIBERS=0 measures the intake alone.
        let subscribers = env_usize("FLUXSTORE_BENCH_SUBSCRIBERS", 10_000);
        if subscribers > 0 {
            idle_subscribers(subscribers).await;
        }
    });
}

/// A fresh database on the server; its URL.
async fn database(server: &str) -> String {
    let config: tokio_postgres::Config = server.parse().unwrap();
    let (client, conn) = config.connect(tokio_postgres::NoTls).await.unwrap();
    let driver = tokio::spawn(conn);
    let name = format!("hub_bench_{:08x}", rand::random::<u32>());
    client
        .batch_execute(&format!("CREATE DATABASE {name}"))
        .await
        .unwrap();
    drop(client);
    let _ = driver.await;
    let mut url = url::Url::parse(server).unwrap();
    url.set_path(&format!("/{name}"));
    url.to_string()
}
