//! Read commands over the mirror: `orders`, `disputes`, `events`, `rejections`.
//!
//! Each opens the mirror read-only (safe while a relay writes), prints a table for people
//! or, with `--json`, a JSON array for scripts. Test and live data are never mixed: a
//! command shows one mode, test unless `--live` or `--mode live`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use clap::{Args, ValueEnum};
use fluxstore_mirror::{
    Dispute, Mirror, Mode, Order, OrderQuery, OrderStatus, Rejection, StoredEvent,
};
use serde::Serialize;

use crate::{money, paths, table};

#[derive(Args)]
pub struct DbArg {
    /// Mirror database file. Default: the platform data directory.
    #[arg(long, env = "FLUXSTORE_DB")]
    db: Option<PathBuf>,
    /// Print JSON (an array) instead of a table.
    #[arg(long)]
    json: bool,
}

#[derive(Clone, Copy, ValueEnum)]
enum ModeArg {
    Test,
    Live,
}

#[derive(Args)]
pub struct ModeArgs {
    /// Show live-mode data (same as --mode live).
    #[arg(long, conflicts_with = "mode")]
    live: bool,
    /// test or live (default test).
    #[arg(long, value_enum)]
    mode: Option<ModeArg>,
}

impl ModeArgs {
    fn mode(&self) -> Mode {
        match (self.live, self.mode) {
            (true, _) | (_, Some(ModeArg::Live)) => Mode::Live,
            _ => Mode::Test,
        }
    }
}

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
    /// How many orders to show.
    #[arg(long, default_value_t = 50)]
    limit: u32,
    /// Continue after this cursor (printed at the end of the previous page).
    #[arg(long)]
    after: Option<String>,
}

#[derive(Args)]
pub struct DisputesArgs {
    #[command(flatten)]
    db: DbArg,
    #[command(flatten)]
    mode: ModeArgs,
}

#[derive(Args)]
pub struct EventsArgs {
    #[command(flatten)]
    db: DbArg,
    #[command(flatten)]
    mode: ModeArgs,
    /// How many events to show.
    #[arg(long, default_value_t = 50)]
    limit: u32,
}

#[derive(Args)]
pub struct RejectionsArgs {
    #[command(flatten)]
    db: DbArg,
    /// How many rejections to show.
    #[arg(long, default_value_t = 50)]
    limit: u32,
}

fn open(db: &DbArg) -> Result<Mirror> {
    let path = paths::db_path(db.db.clone())?;
    open_path(&path)
}

fn open_path(path: &Path) -> Result<Mirror> {
    if !path.exists() {
        bail!(
            "there is no mirror database at {} yet; start `fluxstore serve` first, or pass --db PATH",
            path.display()
        );
    }
    Mirror::open_read_only(path)
        .with_context(|| format!("could not read the mirror database {}", path.display()))
}

fn print_json<T: Serialize>(items: &[T]) -> Result<ExitCode> {
    println!("{}", serde_json::to_string_pretty(items)?);
    Ok(ExitCode::SUCCESS)
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
            client_reference_id: o.client_reference_id,
            failure_message: o.failure_message,
            livemode: o.mode.is_live(),
            created: o.created,
            updated: o.updated,
        }
    }
}

fn status_text(status: &OrderStatus) -> String {
    match serde_json::to_value(status) {
        Ok(serde_json::Value::String(s)) => s,
        _ => format!("{status:?}"),
    }
}

fn parse_status(text: &str) -> Result<OrderStatus> {
    let text = text.trim().to_ascii_lowercase();
    let status: OrderStatus = serde_json::from_value(serde_json::Value::String(text.clone()))?;
    if matches!(status, OrderStatus::Other(_)) {
        bail!(
            "unknown order status {text:?}; use pending, paid, failed, refunded, partially_refunded, disputed, dispute_won or dispute_lost"
        );
    }
    Ok(status)
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
    // The mirror pages at most MAX_PAGE at a time; larger limits follow the cursor.
    let mut items: Vec<Order> = Vec::new();
    let mut next = None;
    while (items.len() as u32) < args.limit {
        query.limit = (args.limit - items.len() as u32).min(fluxstore_mirror::MAX_PAGE);
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
                status_text(&o.status),
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

#[derive(Serialize)]
struct DisputeOut {
    id: String,
    status: String,
    reason: Option<String>,
    amount: i64,
    currency: String,
    due_by: Option<i64>,
    needs_response: bool,
    order: Option<String>,
    charge_id: Option<String>,
    payment_intent_id: Option<String>,
    livemode: bool,
    created: i64,
    updated: i64,
}

impl From<Dispute> for DisputeOut {
    fn from(d: Dispute) -> DisputeOut {
        DisputeOut {
            id: d.id,
            status: d.status,
            reason: d.reason,
            amount: d.amount,
            currency: d.currency,
            due_by: d.due_by,
            needs_response: d.needs_response,
            order: d.order_session_id,
            charge_id: d.charge_id,
            payment_intent_id: d.payment_intent_id,
            livemode: d.mode.is_live(),
            created: d.created,
            updated: d.updated,
        }
    }
}

pub fn disputes(args: DisputesArgs) -> Result<ExitCode> {
    let mirror = open(&args.db)?;
    let mode = args.mode.mode();
    let disputes = mirror.disputes(mode)?;
    if args.db.json {
        let out: Vec<DisputeOut> = disputes.into_iter().map(DisputeOut::from).collect();
        return print_json(&out);
    }
    if disputes.is_empty() {
        println!("No {} disputes.", mode.as_str());
        return Ok(ExitCode::SUCCESS);
    }
    let rows: Vec<Vec<String>> = disputes
        .iter()
        .map(|d| {
            vec![
                if d.needs_response { "RESPOND" } else { "" }.to_string(),
                d.due_by.map_or_else(|| "-".into(), table::time),
                d.status.clone(),
                table::opt(&d.reason),
                money::format(d.amount, &d.currency),
                d.id.clone(),
                table::opt(&d.order_session_id),
            ]
        })
        .collect();
    println!("{} disputes", mode.as_str());
    table::print(
        &[
            "", "DUE BY", "STATUS", "REASON", "AMOUNT", "DISPUTE", "ORDER",
        ],
        &rows,
    );
    Ok(ExitCode::SUCCESS)
}

#[derive(Serialize)]
struct EventOut {
    id: String,
    #[serde(rename = "type")]
    event_type: String,
    created: i64,
    livemode: bool,
    account: Option<String>,
    api_version: Option<String>,
    source: fluxstore_mirror::Source,
    received_at: i64,
}

impl From<StoredEvent> for EventOut {
    fn from(e: StoredEvent) -> EventOut {
        EventOut {
            id: e.id,
            event_type: e.event_type,
            created: e.created,
            livemode: e.mode.is_live(),
            account: e.account,
            api_version: e.api_version,
            source: e.source,
            received_at: e.received_at,
        }
    }
}

pub fn events(args: EventsArgs) -> Result<ExitCode> {
    let mirror = open(&args.db)?;
    let mode = args.mode.mode();
    let events = mirror.events(Some(mode), args.limit)?;
    if args.db.json {
        let out: Vec<EventOut> = events.into_iter().map(EventOut::from).collect();
        return print_json(&out);
    }
    if events.is_empty() {
        println!("No {} events yet.", mode.as_str());
        return Ok(ExitCode::SUCCESS);
    }
    let rows: Vec<Vec<String>> = events
        .iter()
        .map(|e| {
            vec![
                table::time(e.received_at),
                e.event_type.clone(),
                e.id.clone(),
                table::opt(&e.api_version),
                format!("{:?}", e.source).to_ascii_lowercase(),
            ]
        })
        .collect();
    println!("{} events, newest first", mode.as_str());
    table::print(
        &["RECEIVED", "TYPE", "EVENT", "API VERSION", "SOURCE"],
        &rows,
    );
    Ok(ExitCode::SUCCESS)
}

/// What a rejection code means for the store owner, and what to do.
fn explain(code: &str) -> &'static str {
    match code {
        "signature_header_missing" => "not sent by Stripe (no Stripe-Signature header)",
        "signature_invalid" => {
            "signature did not match: check the signing secret is this endpoint's"
        }
        "timestamp_outside_tolerance" => {
            "timestamp too old or in the future: check the clock, or a replay"
        }
        "malformed_payload" => "the body was not a Stripe event",
        "payload_too_large" => "the body was larger than the limit",
        "no_signing_secret" => "no signing secret configured: add the endpoint's whsec_ secret",
        "storage_unavailable" => {
            "the database could not be written (disk full or read-only); Stripe retries"
        }
        "method_not_allowed" => "not a POST",
        "not_found" => "POST to a wrong path: the webhook URL should end in /api/webhooks/stripe",
        _ => "",
    }
}

pub fn rejections(args: RejectionsArgs) -> Result<ExitCode> {
    let mirror = open(&args.db)?;
    let rejections: Vec<Rejection> = mirror.rejections(args.limit)?;
    if args.db.json {
        return print_json(&rejections);
    }
    if rejections.is_empty() {
        println!("No rejected deliveries.");
        return Ok(ExitCode::SUCCESS);
    }
    let rows: Vec<Vec<String>> = rejections
        .iter()
        .map(|r| {
            vec![
                table::time(r.received_at),
                r.code.clone(),
                r.size.to_string(),
                table::opt(&r.peer),
                explain(&r.code).to_string(),
            ]
        })
        .collect();
    println!("rejected deliveries, newest first");
    table::print(&["RECEIVED", "CODE", "BYTES", "PEER", "MEANING"], &rows);
    Ok(ExitCode::SUCCESS)
}
