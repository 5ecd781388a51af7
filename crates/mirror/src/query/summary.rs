//! The revenue summary: per currency, what the owner's orders of a period brought in.
//!
//! # The rules (written here once; the CLI, the shell and the UI only show the result)
//! - **Which orders.** FluxStore orders of the mode (narrowed by the owner's marker when
//!   one is set) that were paid, whose first successful payment (`paid_at`) falls in the
//!   period `[from, to)`. Pending and failed orders bring nothing and are not counted. What
//!   happens to an order later (a refund, a dispute) is counted with the order, in the
//!   period the order was paid: the summary answers "what did this period's sales earn".
//! - **Gross**: the paid amount of each such order.
//! - **Refunded**: each order's refunded amount as the mirror derives it: a refund counts
//!   while pending or succeeded; one that failed or was canceled does not (its money went
//!   back to the charge).
//! - **Disputed**: the amount of each chargeback on those orders, whatever its outcome
//!   (open, won or lost): the bank took it when the dispute opened. Inquiries (`warning_*`)
//!   and `prevented` take no money and are not counted
//!   ([`crate::facts::CHARGEBACK_DISPUTE_STATUSES`]).
//! - **Won back**: the amount of the disputes among those that were won.
//! - **Net** = gross − refunded − disputed + won back. Stripe's fees (processing, dispute
//!   fees) are not in the events the mirror keeps, so they are not subtracted.
//! - Each currency stands alone; amounts are never converted.

use std::collections::BTreeMap;

use rusqlite::Connection;
use rusqlite::types::Value as Sql;

use crate::facts::{CHARGEBACK_DISPUTE_STATUSES, DISPUTE_WON_STATUS};
use crate::{CurrencyRevenue, MirrorError, Mode, RevenueSummary};

pub fn revenue_summary(
    conn: &Connection,
    mode: Mode,
    from: Option<i64>,
    to: Option<i64>,
) -> Result<RevenueSummary, MirrorError> {
    let marker = crate::marker::load(conn)?;
    let (cond, marker_args) = crate::marker::condition(marker.as_ref());
    // The orders of the period, as a condition on `o` with its arguments. A bound is written
    // only when given, so a period walks its range of `orders_paid` (livemode, paid_at).
    let mut period = "o.livemode = ? AND o.paid_at IS NOT NULL AND o.amount IS NOT NULL AND o.currency IS NOT NULL".to_owned();
    let mut period_args = vec![Sql::Integer(i64::from(mode.is_live()))];
    if let Some(from) = from {
        period.push_str(" AND o.paid_at >= ?");
        period_args.push(Sql::Integer(from));
    }
    if let Some(to) = to {
        period.push_str(" AND o.paid_at < ?");
        period_args.push(Sql::Integer(to));
    }
    period.push_str(&cond);
    period_args.extend(marker_args);

    let mut rows: BTreeMap<String, CurrencyRevenue> = BTreeMap::new();
    let mut stmt = conn.prepare(&format!(
        "SELECT lower(o.currency), count(*), sum(o.amount), sum(min(o.amount_refunded, o.amount))
         FROM orders o WHERE {period} GROUP BY lower(o.currency)"
    ))?;
    let mut q = stmt.query(rusqlite::params_from_iter(period_args.iter()))?;
    while let Some(r) = q.next()? {
        let currency: String = r.get(0)?;
        let orders: i64 = r.get(1)?;
        rows.insert(
            currency.clone(),
            CurrencyRevenue {
                currency,
                orders: orders.max(0) as u64,
                gross: r.get(2)?,
                refunded: r.get(3)?,
                disputed: 0,
                won_back: 0,
                net: 0,
            },
        );
    }

    let statuses = vec!["?"; CHARGEBACK_DISPUTE_STATUSES.len()].join(", ");
    let mut stmt = conn.prepare(&format!(
        "SELECT lower(o.currency), sum(d.amount), sum(CASE WHEN d.status = ? THEN d.amount ELSE 0 END)
         FROM disputes d JOIN orders o ON o.session_id = d.order_key
         WHERE {period} AND d.status IN ({statuses}) AND d.livemode = o.livemode
         GROUP BY lower(o.currency)"
    ))?;
    let args = std::iter::once(Sql::Text(DISPUTE_WON_STATUS.to_owned()))
        .chain(period_args.iter().cloned())
        .chain(
            CHARGEBACK_DISPUTE_STATUSES
                .iter()
                .map(|s| Sql::Text((*s).to_owned())),
        );
    let mut q = stmt.query(rusqlite::params_from_iter(args))?;
    while let Some(r) = q.next()? {
        let currency: String = r.get(0)?;
        if let Some(row) = rows.get_mut(&currency) {
            row.disputed = r.get(1)?;
            row.won_back = r.get(2)?;
        }
    }
    let currencies = rows
        .into_values()
        .map(|mut c| {
            c.net = c.gross - c.refunded - c.disputed + c.won_back;
            c
        })
        .collect();
    Ok(RevenueSummary {
        mode,
        from,
        to,
        currencies,
    })
}
