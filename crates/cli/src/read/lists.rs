//! `fluxstore disputes`, `events` and `rejections`.

use std::process::ExitCode;

use anyhow::Result;
use clap::Args;
use fluxstore_mirror::{Dispute, Rejection, StoredEvent, Subscription};
use serde::Serialize;

use super::{DbArg, ModeArgs, open, print_json};
use crate::{money, table};

#[derive(Args)]
pub struct DisputesArgs {
    #[command(flatten)]
    db: DbArg,
    #[command(flatten)]
    mode: ModeArgs,
    /// Write CSV (a header row, then every dispute) to standard output.
    #[arg(long, conflicts_with = "json")]
    csv: bool,
}

#[derive(Args)]
pub struct SubscriptionsArgs {
    #[command(flatten)]
    db: DbArg,
    #[command(flatten)]
    mode: ModeArgs,
    /// Write CSV (a header row, then every subscription) to standard output.
    #[arg(long, conflicts_with = "json")]
    csv: bool,
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
    /// How many rows (one per hour and code) to show.
    #[arg(long, default_value_t = 50)]
    limit: u32,
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
    if args.csv {
        return super::write_csv(|out| fluxstore_mirror::export::disputes_csv(out, &disputes));
    }
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
struct SubscriptionOut {
    id: String,
    customer: Option<String>,
    status: String,
    current_period_end: Option<i64>,
    cancel_at_period_end: bool,
    livemode: bool,
    created: i64,
    updated: i64,
}

impl From<Subscription> for SubscriptionOut {
    fn from(s: Subscription) -> SubscriptionOut {
        SubscriptionOut {
            id: s.id,
            customer: s.customer,
            status: s.status,
            current_period_end: s.current_period_end,
            cancel_at_period_end: s.cancel_at_period_end,
            livemode: s.mode.is_live(),
            created: s.created,
            updated: s.updated,
        }
    }
}

pub fn subscriptions(args: SubscriptionsArgs) -> Result<ExitCode> {
    let mirror = open(&args.db)?;
    let mode = args.mode.mode();
    let subscriptions = mirror.subscriptions(mode)?;
    if args.csv {
        let invoices = mirror.invoices(mode)?;
        return super::write_csv(|out| {
            fluxstore_mirror::export::subscriptions_csv(out, &subscriptions, &invoices)
        });
    }
    if args.db.json {
        let out: Vec<SubscriptionOut> = subscriptions
            .into_iter()
            .map(SubscriptionOut::from)
            .collect();
        return print_json(&out);
    }
    if subscriptions.is_empty() {
        println!("No {} subscriptions.", mode.as_str());
        return Ok(ExitCode::SUCCESS);
    }
    let rows: Vec<Vec<String>> = subscriptions
        .iter()
        .map(|s| {
            vec![
                table::time(s.created),
                s.status.clone(),
                s.current_period_end.map_or_else(|| "-".into(), table::time),
                if s.cancel_at_period_end { "yes" } else { "" }.to_string(),
                s.id.clone(),
                table::opt(&s.customer),
            ]
        })
        .collect();
    println!("{} subscriptions, newest first", mode.as_str());
    table::print(
        &[
            "CREATED",
            "STATUS",
            "PERIOD ENDS",
            "CANCELS",
            "SUBSCRIPTION",
            "CUSTOMER",
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
                table::time(r.last_at),
                r.count.to_string(),
                r.code.to_string(),
                table::opt(&r.last_peer),
                r.last_size.to_string(),
                format!("{} {}", r.code.reason(), r.code.fix()),
            ]
        })
        .collect();
    println!(
        "rejected deliveries per hour and code, most recent first (counts since the hour began)"
    );
    table::print(
        &[
            "LAST",
            "COUNT",
            "CODE",
            "LAST PEER",
            "LAST BYTES",
            "MEANING",
        ],
        &rows,
    );
    Ok(ExitCode::SUCCESS)
}
