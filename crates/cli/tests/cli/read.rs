//! Human and JSON output of the read commands over a realistic store.

use fluxstore_mirror::{Mirror, Source};
use serde_json::Value;

use crate::support::{run, text};

fn store() -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().expect("dir");
    let db = dir.path().join("mirror.sqlite3");
    let mut mirror = Mirror::open(&db).expect("mirror");
    for event in fluxstore_samples::sample_store(7, 1_790_000_000) {
        let raw = serde_json::to_vec(&event).expect("json");
        mirror.ingest(&raw, Source::Webhook).expect("ingest");
    }
    drop(mirror);
    let path = db.to_str().expect("utf8").to_string();
    (dir, path)
}

#[test]
fn money_is_shown_with_each_currency_exponent() {
    let (_dir, db) = store();
    let json = run(&["orders", "--db", &db, "--json", "--limit", "500"]);
    let orders: Value = serde_json::from_slice(&json.stdout).expect("json");
    let orders = orders.as_array().expect("array");
    let human = run(&["orders", "--db", &db, "--limit", "500"]);
    assert!(human.status.success(), "{}", text(&human));
    let table = String::from_utf8_lossy(&human.stdout).to_string();
    let mut checked = 0;
    for o in orders {
        let (Some(amount), Some(currency)) = (o["amount"].as_i64(), o["currency"].as_str()) else {
            continue;
        };
        let shown = match currency {
            "jpy" => format!("{} JPY", group(amount)),
            "kwd" => format!("{}.{:03} KWD", group(amount / 1000), amount % 1000),
            "usd" | "eur" => format!(
                "{}.{:02} {}",
                group(amount / 100),
                amount % 100,
                currency.to_uppercase()
            ),
            _ => continue,
        };
        assert!(table.contains(&shown), "{shown} in\n{table}");
        checked += 1;
    }
    assert!(
        orders.iter().any(|o| o["currency"] == "jpy"),
        "the store has JPY orders"
    );
    assert!(
        orders.iter().any(|o| o["currency"] == "kwd"),
        "the store has KWD orders"
    );
    assert!(checked >= 4);
}

fn group(n: i64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[test]
fn filters_and_pagination() {
    let (_dir, db) = store();
    let all = run(&["orders", "--db", &db, "--json", "--limit", "500"]);
    let all: Value = serde_json::from_slice(&all.stdout).expect("json");
    let all = all.as_array().expect("array").clone();
    assert!(all.len() > 4);
    assert!(all.iter().all(|o| o["livemode"] == false));

    let paid = run(&[
        "orders",
        "--db",
        &db,
        "--json",
        "--status",
        "paid",
        "--currency",
        "JPY",
    ]);
    let paid: Value = serde_json::from_slice(&paid.stdout).expect("json");
    for o in paid.as_array().expect("array") {
        assert_eq!(o["status"], "paid");
        assert_eq!(o["currency"], "jpy");
    }

    // Page 1 of 2, then the cursor printed on stderr continues exactly where it stopped.
    let first = run(&["orders", "--db", &db, "--json", "--limit", "2"]);
    let hint = String::from_utf8_lossy(&first.stderr).to_string();
    let cursor = hint
        .split("--after ")
        .nth(1)
        .map(str::trim)
        .expect("a cursor hint");
    let second = run(&[
        "orders", "--db", &db, "--json", "--limit", "2", "--after", cursor,
    ]);
    let first: Value = serde_json::from_slice(&first.stdout).expect("json");
    let second: Value = serde_json::from_slice(&second.stdout).expect("json");
    assert_eq!(first.as_array().expect("a").as_slice(), &all[..2]);
    assert_eq!(second.as_array().expect("a").as_slice(), &all[2..4]);

    let email = all[0]["customer_email"]
        .as_str()
        .expect("email")
        .to_string();
    let found = run(&["orders", "--db", &db, "--json", "--search", &email]);
    let found: Value = serde_json::from_slice(&found.stdout).expect("json");
    assert!(
        found
            .as_array()
            .expect("a")
            .iter()
            .any(|o| o["customer_email"] == email.as_str())
    );

    let live = run(&[
        "orders", "--db", &db, "--json", "--mode", "live", "--limit", "500",
    ]);
    let live: Value = serde_json::from_slice(&live.stdout).expect("json");
    assert!(
        live.as_array()
            .expect("a")
            .iter()
            .all(|o| o["livemode"] == true)
    );

    let bad = run(&["orders", "--db", &db, "--status", "shipped"]);
    assert!(!bad.status.success());
    assert!(
        text(&bad).contains("unknown order status"),
        "{}",
        text(&bad)
    );
}

#[test]
fn disputes_events_and_rejections_print() {
    let (_dir, db) = store();
    let disputes = run(&["disputes", "--db", &db]);
    assert!(disputes.status.success(), "{}", text(&disputes));
    assert!(String::from_utf8_lossy(&disputes.stdout).contains("DUE BY"));
    let events = run(&["events", "--db", &db, "--limit", "5"]);
    assert!(events.status.success());
    assert_eq!(
        String::from_utf8_lossy(&events.stdout).lines().count(),
        1 + 1 + 5
    );
    let rejections = run(&["rejections", "--db", &db]);
    assert!(String::from_utf8_lossy(&rejections.stdout).contains("No rejected deliveries"));
}

/// A mirror a version 7 build left: the first command that opens it for writing says in one
/// line on stderr that it rebuilds the order history (with the real number of events), and
/// the next one says nothing; the JSON on stdout stays clean.
#[test]
fn an_upgrade_that_rebuilds_the_orders_is_announced_once() {
    let (dir, db) = store();
    let events: i64 = {
        let conn = rusqlite::Connection::open(&db).expect("open");
        conn.execute_batch(fluxstore_mirror::AS_VERSION_7_LEFT_IT)
            .expect("as version 7 left it");
        conn.query_row("SELECT count(*) FROM events", [], |r| r.get(0))
            .expect("count")
    };
    let first = run(&["order-marker", "--db", &db, "--json"]);
    assert!(first.status.success(), "{}", text(&first));
    let stderr = String::from_utf8_lossy(&first.stderr);
    let lines: Vec<&str> = stderr
        .lines()
        .filter(|l| l.contains("Updating the order history"))
        .collect();
    assert_eq!(lines.len(), 1, "{stderr}");
    assert!(
        lines[0].contains(&format!("the {events} stored events")),
        "{}",
        lines[0]
    );
    let marker: Value = serde_json::from_slice(&first.stdout).expect("json on stdout");
    assert!(marker.is_null());
    let again = run(&["order-marker", "--db", &db, "--json"]);
    assert!(
        !String::from_utf8_lossy(&again.stderr).contains("Updating the order history"),
        "{}",
        text(&again)
    );
    let orders = run(&["orders", "--db", &db, "--json", "--limit", "500"]);
    let orders: Value = serde_json::from_slice(&orders.stdout).expect("json");
    let orders = orders.as_array().expect("array");
    assert!(!orders.is_empty());
    assert!(
        orders.iter().all(|o| o["customer_id"]
            .as_str()
            .is_some_and(|c| c.starts_with("cus_"))),
        "every sample order names its customer"
    );
    drop(dir);
}
