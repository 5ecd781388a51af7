//! How long the first open of this version takes on a mirror a version 7 build left: the
//! upgrade to the latest version (8 and 9 re-derive) re-derives every order from the stored events, in one transaction.
//!
//! Run (from the workspace root):
//!
//! ```text
//! cargo bench -p fluxstore-mirror --bench upgrade
//! ```
//!
//! Environment (optional): `FLUXSTORE_BENCH_STORES` — how many sample stores of 40 orders
//! each (default 125, i.e. 5,000 orders). Prints the events and orders, the time
//! `Mirror::pending_update` takes to tell (the shell asks it before opening), and the time of
//! the upgrade itself. Figures only: nothing passes or fails on a time.

use std::time::Instant;

use fluxstore_mirror::{Event, Mirror, Mode, OrderQuery, Source};

const NOW: i64 = 1_790_000_000;

fn main() {
    let stores: u64 = std::env::var("FLUXSTORE_BENCH_STORES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(125);
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("mirror.db");
    let built = Instant::now();
    {
        let mut m = Mirror::open(&path).expect("mirror");
        for seed in 0..stores {
            let batch: Vec<(Event, Source)> = fluxstore_samples::sample_store(seed, NOW)
                .iter()
                .map(|e| {
                    let raw = serde_json::to_vec(e).expect("json");
                    (Event::parse(&raw).expect("event"), Source::Webhook)
                })
                .collect();
            m.ingest_batch(&batch).expect("ingest");
        }
    }
    // As a version 7 build left it: no customer column, at version 7.
    let conn = rusqlite::Connection::open(&path).expect("open");
    conn.execute_batch(fluxstore_mirror::AS_VERSION_7_LEFT_IT)
        .expect("downgrade");
    drop(conn);
    println!(
        "built a version 7 mirror of {stores} sample stores in {:.1} s",
        built.elapsed().as_secs_f64()
    );

    let asked = Instant::now();
    let pending = Mirror::pending_update(&path)
        .expect("pending")
        .expect("an upgrade that re-derives");
    let asked = asked.elapsed();
    let upgrade = Instant::now();
    let m = Mirror::open(&path).expect("upgrade");
    let upgrade = upgrade.elapsed();
    let orders = [Mode::Test, Mode::Live]
        .into_iter()
        .map(|mode| {
            let mut n = 0;
            let mut q = OrderQuery {
                limit: 500,
                ..OrderQuery::default()
            };
            loop {
                let page = m.orders(mode, &q).expect("orders");
                n += page.items.len();
                match page.next {
                    Some(next) => q.after = Some(next),
                    None => break n,
                }
            }
        })
        .sum::<usize>();
    println!(
        "pending_update: {} events to re-read, answered in {:.1} ms",
        pending.events,
        asked.as_secs_f64() * 1e3
    );
    println!(
        "upgrade 7 -> 8 of {orders} orders ({} events): {:.2} s",
        pending.events,
        upgrade.as_secs_f64()
    );
}
