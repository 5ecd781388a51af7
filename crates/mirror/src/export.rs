//! CSV exports of the mirror's lists (orders, disputes, subscriptions), one format for the
//! command line and the desktop's save dialog.
//!
//! # The format
//! - A header row, then one row per item, in the order given.
//! - Money: the amount in the currency's major unit with exactly its digits (`25.00`,
//!   `1500`, `12.340`, from [`crate::facts::major_units`]), the raw minor units in a column
//!   of their own (`…_minor`), and the currency's ISO code in capitals.
//! - Times: ISO 8601 in UTC (`2026-11-26T21:57:00Z`); empty when unknown.
//! - Text that came from outside (names, e-mail addresses, Stripe's reasons, ids) and that
//!   starts with `=`, `+`, `-`, `@`, a tab or a carriage return is prefixed with `'`, so a
//!   spreadsheet shows it as text instead of running it as a formula (CSV injection). The
//!   numbers this module writes itself are never altered.

use std::io::Write;

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::facts::major_units;
use crate::{Dispute, Invoice, Order, Subscription};

/// A text cell a spreadsheet cannot take for a formula.
pub fn safe_text(text: &str) -> String {
    match text.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{text}"),
        _ => text.to_owned(),
    }
}

fn text(value: Option<&str>) -> String {
    value.map(safe_text).unwrap_or_default()
}

/// Unix seconds as ISO 8601 UTC.
pub fn iso_time(unix: i64) -> String {
    OffsetDateTime::from_unix_timestamp(unix)
        .ok()
        .and_then(|t| t.format(&Rfc3339).ok())
        .unwrap_or_default()
}

fn opt_time(unix: Option<i64>) -> String {
    unix.map(iso_time).unwrap_or_default()
}

/// `(major, minor)` cells of an amount; empty when the amount or currency is unknown.
fn money(amount: Option<i64>, currency: Option<&str>) -> [String; 2] {
    match (amount, currency) {
        (Some(a), Some(c)) => [major_units(a, c), a.to_string()],
        (Some(a), None) => [String::new(), a.to_string()],
        _ => [String::new(), String::new()],
    }
}

fn code(currency: Option<&str>) -> String {
    currency.map(str::to_ascii_uppercase).unwrap_or_default()
}

fn yes_no(b: bool) -> String {
    if b { "true" } else { "false" }.to_owned()
}

fn write_rows<W: Write>(
    out: W,
    header: &[&str],
    rows: impl Iterator<Item = Vec<String>>,
) -> std::io::Result<()> {
    let mut w = csv::Writer::from_writer(out);
    w.write_record(header)?;
    for row in rows {
        w.write_record(&row)?;
    }
    w.flush()
}

pub const ORDER_COLUMNS: [&str; 17] = [
    "created",
    "status",
    "amount",
    "amount_minor",
    "amount_refunded",
    "amount_refunded_minor",
    "currency",
    "customer_email",
    "customer_name",
    "customer_country",
    "client_reference_id",
    "session_id",
    "payment_intent_id",
    "charge_id",
    "subscription_id",
    "livemode",
    "updated",
];

/// Orders as CSV ([`ORDER_COLUMNS`]).
pub fn orders_csv<W: Write>(out: W, orders: &[Order]) -> std::io::Result<()> {
    write_rows(
        out,
        &ORDER_COLUMNS,
        orders.iter().map(|o| {
            let cur = o.currency.as_deref();
            let [amount, amount_minor] = money(o.amount, cur);
            let [refunded, refunded_minor] = money(Some(o.amount_refunded), cur);
            vec![
                iso_time(o.created),
                o.status.to_string(),
                amount,
                amount_minor,
                refunded,
                refunded_minor,
                code(cur),
                text(o.customer_email.as_deref()),
                text(o.customer_name.as_deref()),
                text(o.customer_country.as_deref()),
                text(o.client_reference_id.as_deref()),
                safe_text(&o.session_id),
                text(o.payment_intent_id.as_deref()),
                text(o.charge_id.as_deref()),
                text(o.subscription_id.as_deref()),
                yes_no(o.mode.is_live()),
                iso_time(o.updated),
            ]
        }),
    )
}

pub const DISPUTE_COLUMNS: [&str; 13] = [
    "created",
    "id",
    "status",
    "reason",
    "amount",
    "amount_minor",
    "currency",
    "due_by",
    "needs_response",
    "order_session_id",
    "charge_id",
    "payment_intent_id",
    "livemode",
];

/// Disputes as CSV ([`DISPUTE_COLUMNS`]).
pub fn disputes_csv<W: Write>(out: W, disputes: &[Dispute]) -> std::io::Result<()> {
    write_rows(
        out,
        &DISPUTE_COLUMNS,
        disputes.iter().map(|d| {
            let [amount, amount_minor] = money(Some(d.amount), Some(&d.currency));
            vec![
                iso_time(d.created),
                safe_text(&d.id),
                safe_text(&d.status),
                text(d.reason.as_deref()),
                amount,
                amount_minor,
                code(Some(&d.currency)),
                opt_time(d.due_by),
                yes_no(d.needs_response),
                text(d.order_session_id.as_deref()),
                text(d.charge_id.as_deref()),
                text(d.payment_intent_id.as_deref()),
                yes_no(d.mode.is_live()),
            ]
        }),
    )
}

pub const SUBSCRIPTION_COLUMNS: [&str; 12] = [
    "created",
    "id",
    "customer",
    "status",
    "current_period_end",
    "cancel_at_period_end",
    "latest_invoice",
    "latest_invoice_status",
    "latest_invoice_amount",
    "latest_invoice_amount_minor",
    "currency",
    "livemode",
];

/// Subscriptions as CSV ([`SUBSCRIPTION_COLUMNS`]). A subscription's money is its newest
/// invoice's (by `created`, then id) amount due, taken from `invoices`.
pub fn subscriptions_csv<W: Write>(
    out: W,
    subscriptions: &[Subscription],
    invoices: &[Invoice],
) -> std::io::Result<()> {
    let latest = |sub: &str| {
        invoices
            .iter()
            .filter(|i| i.subscription_id.as_deref() == Some(sub))
            .max_by(|a, b| (a.created, &a.id).cmp(&(b.created, &b.id)))
    };
    write_rows(
        out,
        &SUBSCRIPTION_COLUMNS,
        subscriptions.iter().map(|s| {
            let inv = latest(&s.id);
            let cur = inv.map(|i| i.currency.as_str());
            let [amount, amount_minor] = money(inv.map(|i| i.amount_due), cur);
            vec![
                iso_time(s.created),
                safe_text(&s.id),
                text(s.customer.as_deref()),
                safe_text(&s.status),
                opt_time(s.current_period_end),
                yes_no(s.cancel_at_period_end),
                text(inv.map(|i| i.id.as_str())),
                text(inv.and_then(|i| i.status.as_deref())),
                amount,
                amount_minor,
                code(cur),
                yes_no(s.mode.is_live()),
            ]
        }),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formula_starts_are_neutralised_and_nothing_else() {
        for bad in ["=1+1", "+44 20", "-2", "@SUM(A1)", "\tx", "\rx"] {
            assert!(safe_text(bad).starts_with('\''), "{bad:?}");
        }
        for good in ["alice@example.com", "cs_test_1", "Ann = Bob", ""] {
            assert_eq!(safe_text(good), good);
        }
    }

    #[test]
    fn times_are_iso_8601_utc() {
        assert_eq!(iso_time(1_750_000_000), "2025-06-15T15:06:40Z");
        assert_eq!(opt_time(None), "");
    }
}
