//! Read commands over the mirror: `orders`, `disputes`, `events`, `rejections`.
//!
//! Each opens the mirror read-only (safe while a relay writes), prints a table for people
//! or, with `--json`, a JSON array for scripts. Test and live data are never mixed: a
//! command shows one mode, test unless `--live` or `--mode live`.

mod lists;
mod orders;
mod summary;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use clap::{Args, ValueEnum};
use fluxstore_mirror::{Mirror, Mode};
use serde::Serialize;

use crate::paths;

pub use lists::{DisputesArgs, EventsArgs, RejectionsArgs, disputes, events, rejections};
pub use lists::{SubscriptionsArgs, subscriptions};
pub use orders::{OrdersArgs, orders};
pub use summary::{SummaryArgs, summary};

#[derive(Args)]
pub struct DbArg {
    /// Mirror database file. Default: the platform data directory.
    #[arg(long, env = "FLUXSTORE_DB")]
    pub(crate) db: Option<PathBuf>,
    /// Print JSON (an array) instead of a table.
    #[arg(long)]
    pub(crate) json: bool,
}

/// `--mode test|live` on the command line: the mirror's [`Mode`], spelled for clap.
#[derive(Clone, Copy, ValueEnum)]
pub(crate) enum ModeArg {
    Test,
    Live,
}

impl From<ModeArg> for Mode {
    fn from(arg: ModeArg) -> Mode {
        match arg {
            ModeArg::Test => Mode::Test,
            ModeArg::Live => Mode::Live,
        }
    }
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
    pub(crate) fn mode(&self) -> Mode {
        match (self.live, self.mode) {
            (true, _) => Mode::Live,
            (false, mode) => mode.map_or(Mode::Test, Mode::from),
        }
    }
}

pub(crate) fn open(db: &DbArg) -> Result<Mirror> {
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

pub(crate) fn print_json<T: Serialize>(items: &[T]) -> Result<ExitCode> {
    println!("{}", serde_json::to_string_pretty(items)?);
    Ok(ExitCode::SUCCESS)
}

/// Write a CSV export to standard output (the format is the mirror's `export` module).
pub(crate) fn write_csv(
    write: impl FnOnce(&mut dyn std::io::Write) -> std::io::Result<()>,
) -> Result<ExitCode> {
    let stdout = std::io::stdout();
    let mut lock = stdout.lock();
    write(&mut lock).context("could not write the CSV to standard output")?;
    Ok(ExitCode::SUCCESS)
}
