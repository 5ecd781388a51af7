//! `orders --csv`, `disputes --csv`, `subscriptions --csv` and `summary` over a mirror file
//! with USD, JPY and KWD orders.

use fluxstore_mirror::{Mirror, Source};
use fluxstore_samples::{ApiShape, Ctx, Outcome, SubOutcome, order_story, subscription_story};
use serde_json::Value;

use crate::support::{run, text};

/// 2025-06-15T15:06:40Z
const T0: i64 = 1_750_000_000;
const DAY: i64 = 86_400;

fn store() -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().expect("dir");
    let db = dir.path().join("mirror.sqlite3");
    let mut mirror = Mirror::open(&db).expect("mirror");
    let ctx = Ctx::test(ApiShape::Basil);
    let mut events = Vec::new();
    for (n, outcome, cur, amount, t0) in [
        (1, Outcome::Paid, "usd", 2500, T0),
        (2, Outcome::Refunded, "usd", 1000, T0),
        (3, Outcome::DisputeLost, "usd", 2000, T0),
        (4, Outcome::Paid, "jpy", 1500, T0),
        (5, Outcome::DisputeWon, "jpy", 3000, T0),
        (6, Outcome::Paid, "kwd", 12_340, T0),
        (7, Outcome::PartiallyRefunded, "kwd", 5_120, T0),
        (8, Outcome::Pending, "usd", 999, T0),
        // The day before the period below.
        (9, Outcome::Paid, "usd", 70_000, T0 - DAY),
    ] {
        events.extend(order_story(n, outcome, cur, amount, &ctx, t0));
    }
    events.extend(subscription_story(
        1,
        SubOutcome::PastDue,
        "kwd",
        4_500,
        &ctx,
        T0,
    ));
    for e in events {
        mirror
            .ingest(e.to_string().as_bytes(), Source::Webhook)
            .expect("ingest");
    }
    drop(mirror);
    let path = db.to_str().expect("utf8").to_owned();
    (dir, path)
}

fn csv_rows(stdout: &[u8]) -> Vec<std::collections::BTreeMap<String, String>> {
    let mut r = csv::Reader::from_reader(stdout);
    let header: Vec<String> = r
        .headers()
        .expect("header")
        .iter()
        .map(str::to_owned)
        .collect();
    r.records()
        .map(|rec| {
            header
                .iter()
                .cloned()
                .zip(rec.expect("record").iter().map(str::to_owned))
                .collect()
        })
        .collect()
}

#[test]
fn orders_csv_exports_the_filtered_list_in_major_and_minor_units() {
    let (_d, db) = store();
    let out = run(&["orders", "--db", &db, "--csv", "--status", "paid"]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        String::from_utf8_lossy(&out.stdout).starts_with("created,status,amount,amount_minor,")
    );
    let rows = csv_rows(&out.stdout);
    let mut got: Vec<(String, String, String)> = rows
        .iter()
        .map(|r| {
            (
                r["currency"].clone(),
                r["amount"].clone(),
                r["amount_minor"].clone(),
            )
        })
        .collect();
    got.sort();
    assert_eq!(
        got,
        [
            ("JPY", "1500", "1500"),
            ("KWD", "12.340", "12340"),
            ("USD", "25.00", "2500"),
            ("USD", "700.00", "70000"),
        ]
        .map(|(a, b, c)| (a.to_owned(), b.to_owned(), c.to_owned()))
    );
    assert!(rows.iter().all(|r| r["status"] == "paid"));
    assert!(
        rows.iter()
            .all(|r| r["created"].ends_with('Z') && r["created"].contains('T'))
    );

    // A currency filter on top; --limit still bounds an export.
    let out = run(&["orders", "--db", &db, "--csv", "--currency", "KWD"]);
    let rows = csv_rows(&out.stdout);
    assert_eq!(rows.len(), 2, "{}", text(&out));
    let partial = rows
        .iter()
        .find(|r| r["status"] == "partially_refunded")
        .unwrap();
    assert_eq!(
        (
            partial["amount_refunded"].as_str(),
            partial["amount_refunded_minor"].as_str()
        ),
        ("2.560", "2560")
    );
    let out = run(&["orders", "--db", &db, "--csv", "--limit", "3"]);
    assert_eq!(csv_rows(&out.stdout).len(), 3);

    let both = run(&["orders", "--db", &db, "--csv", "--json"]);
    assert!(!both.status.success());
}

#[test]
fn disputes_and_subscriptions_export_as_csv() {
    let (_d, db) = store();
    let out = run(&["disputes", "--db", &db, "--csv"]);
    assert!(out.status.success(), "{}", text(&out));
    let mut rows: Vec<(String, String, String, String)> = csv_rows(&out.stdout)
        .into_iter()
        .map(|r| {
            (
                r["currency"].clone(),
                r["status"].clone(),
                r["amount"].clone(),
                r["amount_minor"].clone(),
            )
        })
        .collect();
    rows.sort();
    assert_eq!(
        rows,
        [
            ("JPY", "won", "3000", "3000"),
            ("USD", "lost", "20.00", "2000")
        ]
        .map(|(a, b, c, d)| (a.to_owned(), b.to_owned(), c.to_owned(), d.to_owned()))
    );

    let out = run(&["subscriptions", "--db", &db, "--csv"]);
    assert!(out.status.success(), "{}", text(&out));
    let rows = csv_rows(&out.stdout);
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["status"], "past_due");
    assert_eq!(rows[0]["currency"], "KWD");
    assert_eq!(rows[0]["latest_invoice_amount"], "4.500");
    assert_eq!(rows[0]["latest_invoice_amount_minor"], "4500");
    assert_eq!(rows[0]["latest_invoice_status"], "open");
    let human = run(&["subscriptions", "--db", &db]);
    assert!(text(&human).contains("past_due"), "{}", text(&human));
}

#[test]
fn summary_prints_the_period_per_currency() {
    let (_d, db) = store();
    let out = run(&[
        "summary",
        "--db",
        &db,
        "--from",
        "2025-06-15",
        "--to",
        "2025-06-30",
        "--json",
    ]);
    assert!(out.status.success(), "{}", text(&out));
    let s: Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(s["mode"], "test");
    let by: Vec<(&str, i64, i64, i64, i64, i64)> = s["currencies"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            let n = |k: &str| c[k].as_i64().unwrap();
            (
                c["currency"].as_str().unwrap(),
                n("gross"),
                n("refunded"),
                n("disputed"),
                n("won_back"),
                n("net"),
            )
        })
        .collect();
    assert_eq!(
        by,
        vec![
            ("jpy", 4_500, 0, 3_000, 3_000, 4_500),
            ("kwd", 17_460, 2_560, 0, 0, 14_900),
            ("usd", 5_500, 1_000, 2_000, 0, 2_500),
        ]
    );
    let human = run(&[
        "summary",
        "--db",
        &db,
        "--from",
        "2025-06-15",
        "--to",
        "2025-06-30",
    ]);
    let t = text(&human);
    for shown in ["4,500 JPY", "17.460 KWD", "14.900 KWD", "25.00 USD", "NET"] {
        assert!(t.contains(shown), "{shown} in\n{t}");
    }
    // Without a period, the day-before order counts too.
    let all = run(&["summary", "--db", &db, "--json"]);
    let s: Value = serde_json::from_slice(&all.stdout).expect("json");
    assert_eq!(s["currencies"][2]["gross"], 75_500);

    let bad = run(&["summary", "--db", &db, "--from", "15/06/2025"]);
    assert!(!bad.status.success());
    assert!(text(&bad).contains("YYYY-MM-DD"), "{}", text(&bad));
    let backwards = run(&[
        "summary",
        "--db",
        &db,
        "--from",
        "2025-06-30",
        "--to",
        "2025-06-01",
    ]);
    assert!(
        text(&backwards).contains("before --from"),
        "{}",
        text(&backwards)
    );
}
