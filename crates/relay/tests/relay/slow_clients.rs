//! Slow clients: connections that trickle their request head (slowloris) or their body, held
//! open while Stripe's signed deliveries keep arriving. Every signed delivery must still be
//! answered 200 well within the relay's own timeouts.
//!
//! The normal run holds 100 slow connections against a relay capped at 64 connections (so
//! the slow ones alone would fill it). `FLUXSTORE_SLOW_CLIENTS=500 FLUXSTORE_SLOW_DELIVERIES=500`
//! `FLUXSTORE_SLOW_SECONDS=40` (what `scripts/slow-clients` sets) is the campaign against the
//! default cap, printing latency figures.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;
use tokio::task::JoinSet;

use crate::support::{SECRET, TestRelay, event_body, now, secret};

fn knob(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Trickle a request that never completes: one byte every `pace`, until the relay closes
/// the connection or `stop`. Returns whether the relay closed it.
async fn slow_client(
    addr: std::net::SocketAddr,
    body: bool,
    pace: Duration,
    connected: Arc<AtomicUsize>,
    stop: Arc<AtomicBool>,
) -> bool {
    let Ok(mut stream) = TcpStream::connect(addr).await else {
        return true;
    };
    let head = if body {
        // A head that passes every check made before the body is read, then a body that
        // never finishes arriving.
        format!(
            "POST /api/webhooks/stripe HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nStripe-Signature: t={},v1={}\r\nContent-Length: 20000\r\n\r\n{{",
            now(),
            "0".repeat(64)
        )
    } else {
        format!("POST /api/webhooks/stripe HTTP/1.1\r\nHost: {addr}\r\n")
    };
    if stream.write_all(head.as_bytes()).await.is_err() {
        return true;
    }
    connected.fetch_add(1, Ordering::SeqCst);
    let drip: &[u8] = if body { b" " } else { b"x" };
    while !stop.load(Ordering::SeqCst) {
        tokio::time::sleep(pace).await;
        if stream.write_all(drip).await.is_err() {
            return true;
        }
    }
    false
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signed_deliveries_get_through_while_slow_clients_hold_connections() {
    let slow = knob("FLUXSTORE_SLOW_CLIENTS", 100);
    let deliveries = knob("FLUXSTORE_SLOW_DELIVERIES", 40);
    // Keep delivering at least this long (the campaign spans the relay's header and body
    // timeouts, so slow clients are also cut off by them meanwhile).
    let hold = Duration::from_secs(knob("FLUXSTORE_SLOW_SECONDS", 0) as u64);
    let campaign = std::env::var_os("FLUXSTORE_SLOW_CLIENTS").is_some();
    // In the normal run the slow connections alone outnumber the cap: without making room,
    // every signed delivery would wait for a slow client's timeout.
    let relay = TestRelay::start_with(|c| {
        if !campaign {
            c.max_connections = 64;
        }
    })
    .await;
    let cap = if campaign { 256 } else { 64 };

    let connected = Arc::new(AtomicUsize::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let mut slow_tasks = JoinSet::new();
    for i in 0..slow {
        let (connected, stop) = (connected.clone(), stop.clone());
        slow_tasks.spawn(slow_client(
            relay.addr,
            i % 2 == 1,
            Duration::from_millis(500),
            connected,
            stop,
        ));
    }
    fluxstore_test_support::eventually(
        "the slow clients to connect and send their first bytes",
        Duration::from_secs(30),
        || connected.load(Ordering::SeqCst) >= slow,
    )
    .await;

    // A fresh connection per delivery, as a webhook sender opens them.
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .timeout(Duration::from_secs(5))
        .build()
        .expect("client");
    let secret = secret(SECRET);
    let mut latencies = Vec::with_capacity(deliveries);
    let started = Instant::now();
    let mut n = 0;
    while n < deliveries || started.elapsed() < hold {
        let body = event_body("checkout.session.completed", 500_000 + n as i64);
        let header = fluxstore_relay::sign_header(&body, &secret, now());
        let t = Instant::now();
        let resp = client
            .post(&relay.url)
            .header("Stripe-Signature", header)
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await;
        let status = resp.map(|r| r.status().as_u16());
        assert_eq!(
            status.as_ref().ok(),
            Some(&200),
            "delivery {n} with {slow} slow connections held: {status:?}"
        );
        latencies.push(t.elapsed());
        n += 1;
    }
    let deliveries = n;
    let elapsed = started.elapsed();
    stop.store(true, Ordering::SeqCst);
    let mut cut = 0;
    while let Some(closed) = slow_tasks.join_next().await {
        cut += usize::from(closed.expect("slow client task"));
    }
    assert_eq!(relay.events().len(), deliveries, "every delivery stored");
    latencies.sort_unstable();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "slow clients: {slow} held ({} slow head, {} slow body) against a cap of {cap} | {deliveries} signed deliveries all 200 in {:.1} s | latency p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms | slow connections seen closed by the relay {cut}",
        slow - slow / 2,
        slow / 2,
        elapsed.as_secs_f64(),
        ms(percentile(&latencies, 0.5)),
        ms(percentile(&latencies, 0.99)),
        ms(*latencies.last().unwrap_or(&Duration::ZERO)),
    );
}
