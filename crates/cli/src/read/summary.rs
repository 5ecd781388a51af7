//! `fluxstore summary`: the per-currency revenue summary of a period, from the mirror.

use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use clap::Args;
use time::macros::format_description;
use time::{Date, Duration};

use super::{DbArg, ModeArgs, open};
use crate::{money, table};

#[derive(Args)]
pub struct SummaryArgs {
    #[command(flatten)]
    db: DbArg,
    #[command(flatten)]
    mode: ModeArgs,
    /// First day counted (YYYY-MM-DD, UTC). Default: since the first order.
    #[arg(long, value_name = "DATE")]
    from: Option<String>,
    /// Last day counted, the whole day included (YYYY-MM-DD, UTC). Default: up to now.
    #[arg(long, value_name = "DATE")]
    to: Option<String>,
}

/// `2026-11-26` as the unix second the UTC day starts.
fn day_start(flag: &str, text: &str) -> Result<Date> {
    let format = format_description!("[year]-[month]-[day]");
    Date::parse(text.trim(), &format).with_context(|| {
        format!("{flag} {text:?} is not a date; write it as YYYY-MM-DD, e.g. 2026-11-01")
    })
}

fn unix(day: Date) -> i64 {
    day.midnight().assume_utc().unix_timestamp()
}

pub fn summary(args: SummaryArgs) -> Result<ExitCode> {
    let from = args
        .from
        .as_deref()
        .map(|t| day_start("--from", t))
        .transpose()?;
    let to = args
        .to
        .as_deref()
        .map(|t| day_start("--to", t))
        .transpose()?;
    if let (Some(f), Some(t)) = (from, to)
        && t < f
    {
        bail!("--to {t} is before --from {f}; the period would be empty");
    }
    let mirror = open(&args.db)?;
    let mode = args.mode.mode();
    // --to names the last day counted: the period ends when the next day starts.
    let end = to.map(|t| unix(t + Duration::days(1)));
    let summary = mirror.revenue_summary(mode, from.map(unix), end)?;
    if args.db.json {
        println!("{}", serde_json::to_string_pretty(&summary)?);
        return Ok(ExitCode::SUCCESS);
    }
    let period = match (from, to) {
        (None, None) => "all time".to_owned(),
        (Some(f), None) => format!("from {f}"),
        (None, Some(t)) => format!("up to {t}"),
        (Some(f), Some(t)) => format!("{f} to {t}"),
    };
    if summary.currencies.is_empty() {
        println!(
            "No paid {} orders in this period ({period}).",
            mode.as_str()
        );
        return Ok(ExitCode::SUCCESS);
    }
    println!(
        "{} revenue, orders paid {period} (UTC); refunds and disputes of those orders, Stripe's fees not included",
        mode.as_str()
    );
    let rows: Vec<Vec<String>> = summary
        .currencies
        .iter()
        .map(|c| {
            let m = |amount| money::format(amount, &c.currency);
            vec![
                c.currency.to_ascii_uppercase(),
                c.orders.to_string(),
                m(c.gross),
                m(c.refunded),
                m(c.disputed),
                m(c.won_back),
                m(c.net),
            ]
        })
        .collect();
    table::print(
        &[
            "CURRENCY", "ORDERS", "GROSS", "REFUNDED", "DISPUTED", "WON BACK", "NET",
        ],
        &rows,
    );
    Ok(ExitCode::SUCCESS)
}
