//! Mirror query benchmark on a generated store of 1,000,000 orders and 50,000 disputes.
//!
//! Run (from the workspace root):
//!
//! ```text
//! cargo bench -p fluxstore-mirror --bench queries
//! ```
//!
//! Environment (all optional):
//! - `FLUXSTORE_BENCH_ORDERS` — number of orders (default 1000000; disputes are 1 in 20).
//! - `FLUXSTORE_BENCH_DB` — a database path to keep; when it already holds a built store
//!   the build step is skipped (re-run queries without rebuilding).
//!
//! The store is built through `Mirror::ingest_batch` (group commits of 1,000 realistic
//! event payloads, in several API shapes), exactly as the relay writes; the build time is
//! reported. Then each query runs many times and p50/p99 latencies are printed for: the
//! first orders page, filtered pages, text searches, the dispute queue.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use fluxstore_mirror::{Event, Mirror, Mode, OrderQuery, OrderStatus, Source};
use fluxstore_samples::{ApiShape, Ctx, OrderSpec, charge, checkout_session, dispute, envelope};
use serde_json::Value;

const DAY: i64 = 86_400;
const START: i64 = 1_700_000_000;
const BATCH: usize = 1_000;
const CURRENCIES: [(&str, i64); 4] = [
    ("usd", 2_500),
    ("eur", 4_500),
    ("jpy", 3_500),
    ("kwd", 12_340),
];

/// The events of order `i`: a completed Checkout Session (paid, 5% pending, 3% expired),
/// and for 1 in 20 orders a charge and a dispute (96% of them closed).
fn order_events(i: u64) -> Vec<Value> {
    let ctx = Ctx {
        livemode: i % 10 == 9,
        shape: ApiShape::ALL[(i % 4) as usize],
        account: None,
    };
    let (cur, base) = CURRENCIES[(i % 4) as usize];
    let amount = base + (i as i64 % 50) * 10;
    let o = OrderSpec::new(i, cur, amount, ctx.livemode);
    let t = START + i as i64 * 60;
    let mut out = Vec::with_capacity(4);
    let (status, pay) = match i % 100 {
        0..=4 => ("complete", "unpaid"),
        5..=7 => ("expired", "unpaid"),
        _ => ("complete", "paid"),
    };
    let kind = if status == "expired" {
        "checkout.session.expired"
    } else {
        "checkout.session.completed"
    };
    out.push(envelope(
        kind,
        checkout_session(&o, status, pay, t, &ctx),
        t + 30,
        &ctx,
    ));
    if i % 20 == 10 {
        out.push(envelope(
            "charge.succeeded",
            charge(&o, &o.charge, "succeeded", 0, false, t + 29, &ctx),
            t + 29,
            &ctx,
        ));
        let opened = t + 3 * DAY;
        let open = dispute(
            &o,
            "needs_response",
            "fraudulent",
            Some(opened + 7 * DAY),
            false,
            opened,
            &ctx,
        );
        out.push(envelope("charge.dispute.created", open, opened, &ctx));
        if i % 500 >= 20 {
            let fin = if i.is_multiple_of(3) { "won" } else { "lost" };
            let closed = dispute(&o, fin, "fraudulent", None, true, opened, &ctx);
            out.push(envelope(
                "charge.dispute.closed",
                closed,
                opened + 40 * DAY,
                &ctx,
            ));
        }
    }
    out
}

fn build(m: &mut Mirror, orders: u64) {
    let started = Instant::now();
    let mut batch: Vec<(Event, Source)> = Vec::with_capacity(BATCH + 4);
    let mut events = 0u64;
    let mut bytes = 0u64;
    for i in 0..orders {
        for e in order_events(i) {
            let raw = e.to_string();
            bytes += raw.len() as u64;
            batch.push((
                Event::parse(raw.as_bytes()).expect("valid event"),
                Source::Webhook,
            ));
        }
        if batch.len() >= BATCH || i + 1 == orders {
            events += batch.len() as u64;
            m.ingest_batch(&batch).expect("ingest batch");
            batch.clear();
        }
        if (i + 1) % 100_000 == 0 {
            eprintln!(
                "  … {} orders, {:.0} s",
                i + 1,
                started.elapsed().as_secs_f64()
            );
        }
    }
    let secs = started.elapsed().as_secs_f64();
    println!(
        "build: {orders} orders, {events} events ({:.0} MB of JSON, avg {} B) in {secs:.1} s = {:.0} events/s",
        bytes as f64 / 1e6,
        bytes / events.max(1),
        events as f64 / secs
    );
}

fn measure(name: &str, runs: usize, mut f: impl FnMut() -> usize) {
    let mut times: Vec<Duration> = Vec::with_capacity(runs);
    let mut rows = 0;
    for _ in 0..runs.min(5) {
        f(); // warm the page cache
    }
    for _ in 0..runs {
        let t = Instant::now();
        rows = f();
        times.push(t.elapsed());
    }
    times.sort();
    let pct = |p: f64| times[((times.len() as f64 * p) as usize).min(times.len() - 1)];
    println!(
        "{name:<48} rows {rows:>4}   p50 {:>8.3} ms   p99 {:>8.3} ms",
        pct(0.50).as_secs_f64() * 1e3,
        pct(0.99).as_secs_f64() * 1e3
    );
}

fn main() {
    let orders: u64 = std::env::var("FLUXSTORE_BENCH_ORDERS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    let tmp = tempfile::tempdir().expect("temp dir");
    let path = std::env::var_os("FLUXSTORE_BENCH_DB")
        .map(PathBuf::from)
        .unwrap_or_else(|| tmp.path().join("bench.sqlite"));
    let mut m = Mirror::open(&path).expect("open mirror");
    if m.orders(
        Mode::Test,
        &OrderQuery {
            limit: 1,
            ..Default::default()
        },
    )
    .expect("query")
    .items
    .is_empty()
    {
        build(&mut m, orders);
    } else {
        println!("build: reusing the store in {}", path.display());
    }
    drop(m);
    let size: u64 = ["", "-wal"]
        .iter()
        .filter_map(|s| std::fs::metadata(format!("{}{s}", path.display())).ok())
        .map(|md| md.len())
        .sum();
    println!("database: {:.0} MB", size as f64 / 1e6);

    // Queries run on a read-only connection, as the desktop UI does.
    let r = Mirror::open_read_only(&path).expect("open read-only");
    let page = |q: OrderQuery| {
        r.orders(Mode::Test, &OrderQuery { limit: 50, ..q })
            .expect("orders")
    };
    let first = page(OrderQuery::default());
    let cursor = first.next.clone();
    let runs = 300;
    measure("orders: first page (50)", runs, || {
        page(OrderQuery::default()).items.len()
    });
    measure("orders: page 2 via cursor", runs, || {
        page(OrderQuery {
            after: cursor.clone(),
            ..Default::default()
        })
        .items
        .len()
    });
    measure("orders: status = disputed", runs, || {
        page(OrderQuery {
            statuses: vec![OrderStatus::Disputed],
            ..Default::default()
        })
        .items
        .len()
    });
    measure("orders: status in (pending, failed)", runs, || {
        page(OrderQuery {
            statuses: vec![OrderStatus::Pending, OrderStatus::Failed],
            ..Default::default()
        })
        .items
        .len()
    });
    let mid = START + orders as i64 * 30;
    measure(
        "orders: currency = jpy, created in a 30-day range",
        runs,
        || {
            page(OrderQuery {
                currency: Some("jpy".into()),
                created_from: Some(mid - 30 * DAY),
                created_to: Some(mid),
                ..Default::default()
            })
            .items
            .len()
        },
    );
    let probe = OrderSpec::new(orders / 2 + 2, "jpy", 1, false);
    let email = probe.email.clone();
    let local = email.split('@').next().unwrap_or("").to_owned();
    measure(&format!("search: e-mail fragment {local:?}"), runs, || {
        page(OrderQuery {
            search: Some(local.clone()),
            ..Default::default()
        })
        .items
        .len()
    });
    measure("search: whole e-mail address", runs, || {
        page(OrderQuery {
            search: Some(email.clone()),
            ..Default::default()
        })
        .items
        .len()
    });
    measure("search: full PaymentIntent id", runs, || {
        page(OrderQuery {
            search: Some(probe.payment_intent.clone()),
            ..Default::default()
        })
        .items
        .len()
    });
    measure("search: common term \"hopper\" (1 in 8 orders)", 50, || {
        page(OrderQuery {
            search: Some("hopper".into()),
            ..Default::default()
        })
        .items
        .len()
    });
    measure("disputes: queue (needs response first)", runs, || {
        r.disputes(Mode::Test).expect("disputes").len()
    });
    // The revenue summary at the top of Orders: all time (every paid order), and the last 30
    // days of the store's history.
    let last = START + orders as i64 * 60;
    measure("revenue summary: all time", 5, || {
        r.revenue_summary(Mode::Test, None, None)
            .expect("summary")
            .currencies
            .len()
    });
    measure("revenue summary: last 30 days", runs, || {
        r.revenue_summary(Mode::Test, Some(last - 30 * 86_400), Some(last))
            .expect("summary")
            .currencies
            .len()
    });
    // The checklist's facts (both modes), re-read after every applied event: connected just
    // now over the whole history, connected before every order, connected half-way.
    let end = START + orders as i64 * 60;
    for (name, since) in [
        ("checklist facts: connected after all history", end + 1),
        ("checklist facts: connected before every order", START - 1),
        ("checklist facts: connected half-way", mid),
    ] {
        measure(name, runs, || {
            let f = r
                .checklist_facts_since(Some(since), Some(since))
                .expect("facts");
            usize::from(f.test.first_paid_order.is_some()) + f.test.earlier_paid_orders as usize
        });
    }
}
