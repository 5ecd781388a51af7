//! `fluxstore`: the relay server and mirror queries for headless owners and scripts.
//!
//! This file only declares the command tree and dispatches; each command lives in its own
//! module (`serve`, `send_test`, `read`, `stripe`), so a further
//! command group adds a module and one variant here.

mod money;
mod paths;
mod read;
mod send_test;
mod serve;
mod stripe;
mod table;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// The relay's writer builds and drops many small JSON values per event; mimalloc's
/// thread-local free lists make that markedly cheaper than the system allocator.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    name = "fluxstore",
    version,
    about = "FluxStore's Stripe webhook relay and local order mirror",
    long_about = "FluxStore's Stripe webhook relay and local order mirror.\n\nSigning secrets are read from a file or standard input, never from the command line."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the webhook relay: verify Stripe deliveries and store them in the mirror.
    Serve(serve::ServeArgs),
    /// Sign and post a realistic sample event to a relay, to check a setup end to end.
    SendTestEvent(send_test::SendTestArgs),
    /// List orders from the mirror, newest first.
    Orders(read::OrdersArgs),
    /// List disputes, those needing a response first.
    Disputes(read::DisputesArgs),
    /// List subscriptions, newest first.
    Subscriptions(read::SubscriptionsArgs),
    /// Revenue per currency for a period: gross, refunded, disputed, won back and net.
    Summary(read::SummaryArgs),
    /// List stored (verified) events, newest first.
    Events(read::EventsArgs),
    /// List rejected webhook deliveries and why they were refused.
    Rejections(read::RejectionsArgs),
    #[command(flatten)]
    Stripe(stripe::StripeCommand),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging(matches!(cli.command, Command::Serve(_)));
    let result = match cli.command {
        Command::Serve(args) => serve::run(args),
        Command::SendTestEvent(args) => send_test::run(args),
        Command::Orders(args) => read::orders(args),
        Command::Disputes(args) => read::disputes(args),
        Command::Subscriptions(args) => read::subscriptions(args),
        Command::Summary(args) => read::summary(args),
        Command::Events(args) => read::events(args),
        Command::Rejections(args) => read::rejections(args),
        Command::Stripe(cmd) => on_runtime(stripe::run(cmd)),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// Run an async command group to completion on a fresh runtime.
fn on_runtime(command: impl std::future::Future<Output = ExitCode>) -> anyhow::Result<ExitCode> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    Ok(runtime.block_on(command))
}

/// Logs go to stderr; `RUST_LOG` overrides. The server logs at info, the rest at warn.
fn init_logging(server: bool) {
    let default = if server { "info" } else { "warn" };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_target(false)
        .init();
}
