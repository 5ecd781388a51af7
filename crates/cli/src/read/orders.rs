//! `fluxstore orders`: filters, keyset pages, and money in each currency's own exponent.

use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::Args;
use fluxstore_mirror::{Order, OrderQuery, OrderStatus};
use serde::Serialize;

use super::{DbArg, ModeArgs, open, print_json};
use crate::{money, table};

#[derive(Args)]
pub struct OrdersArgs {
    #[command(flatten)]
    db: DbArg,
    #[command(flatten)]
    mode: ModeArgs,
    /// Only these statuses (repeat or separate with commas): pending, paid, failed, refunded,
    /// partially_refunded, disputed, dispute_won, dispute_lost.
    #[arg(long, value_delimiter = ',')]
    status: Vec<String>,
    /// Only this currency (ISO code, e.g. usd).
    #[arg(long)]
    currency: Option<String>,
    /// Text search over customer e-mail and Stripe ids.
    #[arg(long)]
    search: Option<String>,
    /// How many orders to show (default 50; with --csv, every matching order).
    #[arg(long)]
    limit: Option<u32>,
    /// Write CSV (a header row, then every matching order) to standard output.
    #[arg(long, conflicts_with = "json")]
    csv: bool,
    /// Continue after this cursor (printed at the end of the previous page).
    #[arg(long)]
    after: Option<String>,
}

/// An order as scripts see it: stable names, money in minor units, `livemode` spelled out.
#[derive(Serialize)]
struct OrderOut {
    session_id: String,
    payment_intent_id: Option<String>,
    charge_id: Option<String>,
    status: OrderStatus,
    amount: Option<i64>,
    amount_refunded: i64,
    currency: Option<String>,
    customer_email: Option<String>,
    customer_name: Option<String>,
    /// The buyer's Stripe Customer (`cus_…`), when the checkout has one.
    customer_id: Option<String>,
    client_reference_id: Option<String>,
    failure_message: Option<String>,
    livemode: bool,
    created: i64,
    updated: i64,
}

impl From<Order> for OrderOut {
    fn from(o: Order) -> OrderOut {
        OrderOut {
            session_id: o.session_id,
            payment_intent_id: o.payment_intent_id,
            charge_id: o.charge_id,
            status: o.status,
            amount: o.amount,
            amount_refunded: o.amount_refunded,
            currency: o.currency,
            customer_email: o.customer_email,
            customer_name: o.customer_name,
            customer_id: o.customer_id,
            client_reference_id: o.client_reference_id,
            failure_message: o.failure_message,
            livemode: o.mode.is_live(),
            created: o.created,
            updated: o.updated,
        }
    }
}

fn parse_status(text: &str) -> Result<OrderStatus> {
    let text = text.trim().to_ascii_lowercase();
    OrderStatus::known(&text).with_context(|| {
        let known: Vec<&str> = OrderStatus::ALL.iter().map(|s| s.as_str()).collect();
        format!(
            "unknown order status {text:?}; use one of: {}",
            known.join(", ")
        )
    })
}

fn money_of(amount: Option<i64>, currency: &Option<String>) -> String {
    match (amount, currency) {
        (Some(a), Some(c)) => money::format(a, c),
        (Some(a), None) => a.to_string(),
        _ => "-".into(),
    }
}

pub fn orders(args: OrdersArgs) -> Result<ExitCode> {
    let mirror = open(&args.db)?;
    let mode = args.mode.mode();
    let statuses = args
        .status
        .iter()
        .filter(|s| !s.trim().is_empty())
        .map(|s| parse_status(s))
        .collect::<Result<Vec<_>>>()?;
    let mut query = OrderQuery {
        mode: Some(mode),
        statuses,
        currency: args.currency.map(|c| c.to_ascii_lowercase()),
        search: args.search,
        after: args.after,
        limit: 0,
        ..OrderQuery::default()
    };
    if args.csv {
        let max = args.limit.map_or(usize::MAX, |n| n as usize);
        let items = mirror.orders_matching(mode, &query, max)?;
        return super::write_csv(|out| fluxstore_mirror::export::orders_csv(out, &items));
    }
    let limit = args.limit.unwrap_or(50);
    // The mirror pages at most MAX_PAGE at a time; larger limits follow the cursor.
    let mut items: Vec<Order> = Vec::new();
    let mut next = None;
    while (items.len() as u32) < limit {
        query.limit = (limit - items.len() as u32).min(fluxstore_mirror::MAX_PAGE);
        let page = mirror.orders(mode, &query)?;
        items.extend(page.items);
        next = page.next;
        match &next {
            Some(cursor) => query.after = Some(cursor.clone()),
            None => break,
        }
    }
    if let Some(cursor) = &next {
        eprintln!("more orders: add --after {cursor}");
    }
    if args.db.json {
        let out: Vec<OrderOut> = items.into_iter().map(OrderOut::from).collect();
        return print_json(&out);
    }
    if items.is_empty() {
        println!("No {} orders.", mode.as_str());
        return Ok(ExitCode::SUCCESS);
    }
    let rows: Vec<Vec<String>> = items
        .iter()
        .map(|o| {
            vec![
                table::time(o.created),
                o.status.to_string(),
                money_of(o.amount, &o.currency),
                table::opt(&o.customer_email),
                o.session_id.clone(),
                table::opt(&o.payment_intent_id),
            ]
        })
        .collect();
    println!("{} orders ({} shown)", mode.as_str(), rows.len());
    table::print(
        &[
            "CREATED",
            "STATUS",
            "AMOUNT",
            "CUSTOMER",
            "SESSION",
            "PAYMENT INTENT",
        ],
        &rows,
    );
    Ok(ExitCode::SUCCESS)
}
