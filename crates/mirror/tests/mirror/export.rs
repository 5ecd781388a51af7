//! CSV exports of filtered lists: rows, amounts per currency exponent, formula neutralising.

use fluxstore_mirror::export::{disputes_csv, orders_csv};
use fluxstore_mirror::{Mode, OrderQuery, OrderStatus};
use fluxstore_samples::{ApiShape, Ctx, Outcome, order_story};
use fluxstore_test_support::temp_mirror;
use serde_json::Value;

use crate::common::{T0, ingest_all};

fn parse(bytes: &[u8]) -> (Vec<String>, Vec<Vec<String>>) {
    let mut r = csv::Reader::from_reader(bytes);
    let header = r.headers().unwrap().iter().map(str::to_owned).collect();
    let rows = r
        .records()
        .map(|rec| rec.unwrap().iter().map(str::to_owned).collect())
        .collect();
    (header, rows)
}

fn col(header: &[String], name: &str) -> usize {
    header.iter().position(|h| h == name).unwrap()
}

#[test]
fn a_filtered_order_export_has_the_right_rows_and_amounts() {
    let (_d, mut m) = temp_mirror().into_parts();
    let ctx = Ctx::test(ApiShape::Basil);
    for (n, outcome, cur, amount) in [
        (1, Outcome::Paid, "usd", 2500),
        (2, Outcome::Paid, "jpy", 1500),
        (3, Outcome::Paid, "kwd", 12_340),
        (4, Outcome::Refunded, "usd", 999),
        (5, Outcome::Pending, "jpy", 700),
        (6, Outcome::PartiallyRefunded, "kwd", 5_120),
    ] {
        ingest_all(
            &mut m,
            &order_story(n, outcome, cur, amount, &ctx, T0 + n as i64 * 100),
        );
    }
    // The Orders filter "paid or partially refunded": four of the six.
    let q = OrderQuery {
        statuses: vec![OrderStatus::Paid, OrderStatus::PartiallyRefunded],
        ..OrderQuery::default()
    };
    let orders = m.orders_matching(Mode::Test, &q, 10_000).unwrap();
    let mut out = Vec::new();
    orders_csv(&mut out, &orders).unwrap();
    let (header, rows) = parse(&out);
    let (a, minor, r, rm, cur, st, created) = (
        col(&header, "amount"),
        col(&header, "amount_minor"),
        col(&header, "amount_refunded"),
        col(&header, "amount_refunded_minor"),
        col(&header, "currency"),
        col(&header, "status"),
        col(&header, "created"),
    );
    let got: Vec<[&str; 6]> = rows
        .iter()
        .map(|row| {
            [&row[st], &row[a], &row[minor], &row[r], &row[rm], &row[cur]].map(String::as_str)
        })
        .collect();
    // Newest first, as the list shows them.
    assert_eq!(
        got,
        vec![
            [
                "partially_refunded",
                "5.120",
                "5120",
                "2.560",
                "2560",
                "KWD"
            ],
            ["paid", "12.340", "12340", "0.000", "0", "KWD"],
            ["paid", "1500", "1500", "0", "0", "JPY"],
            ["paid", "25.00", "2500", "0.00", "0", "USD"],
        ]
    );
    // ISO 8601 UTC: the session of order 1 was created at T0 + 100.
    assert_eq!(rows[3][created], "2025-06-15T15:08:20Z");

    // The same filter plus one currency.
    let q = OrderQuery {
        currency: Some("kwd".into()),
        ..q
    };
    assert_eq!(m.orders_matching(Mode::Test, &q, 10_000).unwrap().len(), 2);
}

#[test]
fn text_that_a_spreadsheet_would_run_is_neutralised() {
    let (_d, mut m) = temp_mirror().into_parts();
    let ctx = Ctx::test(ApiShape::Basil);
    let mut events = order_story(1, Outcome::DisputeOpen, "usd", 2500, &ctx, T0);
    for e in events.iter_mut() {
        let obj: &mut Value = &mut e["data"]["object"];
        if obj["object"] == "checkout.session" {
            obj["customer_details"]["name"] = "=HYPERLINK(\"https://evil.example\",\"x\")".into();
            obj["customer_details"]["email"] = "@SUM(1+1)@example.com".into();
            obj["client_reference_id"] = "+order-1".into();
        }
        if obj["object"] == "dispute" {
            obj["reason"] = "-fraudulent".into();
        }
    }
    ingest_all(&mut m, &events);
    let orders = m
        .orders_matching(Mode::Test, &OrderQuery::default(), 100)
        .unwrap();
    let mut out = Vec::new();
    orders_csv(&mut out, &orders).unwrap();
    let (header, rows) = parse(&out);
    let row = &rows[0];
    assert_eq!(
        row[col(&header, "customer_name")],
        "'=HYPERLINK(\"https://evil.example\",\"x\")"
    );
    assert_eq!(
        row[col(&header, "customer_email")],
        "'@SUM(1+1)@example.com"
    );
    assert_eq!(row[col(&header, "client_reference_id")], "'+order-1");
    assert_eq!(row[col(&header, "amount")], "25.00");

    let mut out = Vec::new();
    disputes_csv(&mut out, &m.disputes(Mode::Test).unwrap()).unwrap();
    let (header, rows) = parse(&out);
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0][col(&header, "reason")], "'-fraudulent");
    assert_eq!(rows[0][col(&header, "amount")], "25.00");
    assert_eq!(rows[0][col(&header, "currency")], "USD");
    assert_eq!(rows[0][col(&header, "needs_response")], "true");
    assert!(rows[0][col(&header, "due_by")].ends_with('Z'));
    // No cell of either file starts with a formula character.
    for cell in rows.iter().flatten() {
        assert!(!cell.starts_with(['=', '+', '@']), "{cell}");
    }
}
