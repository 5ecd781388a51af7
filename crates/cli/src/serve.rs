//! `fluxstore serve`: the relay in the foreground until SIGINT/SIGTERM.
//!
//! Secrets come only from a file or standard input (never argv or the environment), and are
//! never printed: start-up output says how many secrets are active, not what they are.

use std::io::IsTerminal;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, Result};
use clap::Args;
use fluxstore_mirror::{Mode, RejectionCode};
use fluxstore_relay::{Relay, RelayConfig, SigningSecrets};

use crate::paths;
use crate::read::ModeArg;

#[derive(Args)]
pub struct ServeArgs {
    /// Mirror database file (created if missing). Default: the platform data directory.
    #[arg(long, env = "FLUXSTORE_DB")]
    db: Option<PathBuf>,
    /// Address to listen on. Keep 127.0.0.1 unless a reverse proxy or tunnel fronts it.
    #[arg(long, default_value = "127.0.0.1:8787")]
    listen: SocketAddr,
    /// File with the webhook signing secret(s), one per line with its mode: `test whsec_…`
    /// or `live whsec_…` (several = rotation, or one endpoint per mode; `#` comments).
    #[arg(long, conflicts_with = "secret_stdin")]
    secret_file: Option<PathBuf>,
    /// Read the signing secret(s) from standard input until end of input, in the secret
    /// file's format.
    #[arg(long)]
    secret_stdin: bool,
    /// The mode of every bare `whsec_…` line (one without `test` or `live` before it).
    /// Without it a bare line is refused: an event is accepted only in its secret's mode.
    #[arg(long, value_enum)]
    mode: Option<ModeArg>,
    /// Allowed difference in seconds between the signature's timestamp and this clock.
    #[arg(long, default_value_t = 300)]
    tolerance: u64,
    /// Largest accepted request body in bytes.
    #[arg(long, default_value_t = fluxstore_relay::DEFAULT_BODY_LIMIT)]
    body_limit: usize,
    /// Most connections served at once.
    #[arg(long, default_value_t = 256)]
    max_connections: usize,
}

fn load_secrets(args: &ServeArgs) -> Result<SigningSecrets> {
    if let Some(path) = &args.secret_file {
        let (secrets, warnings) = SigningSecrets::from_file(path, args.mode.map(Mode::from))?;
        for warning in warnings {
            eprintln!("warning: {warning}");
        }
        return Ok(secrets);
    }
    if args.secret_stdin {
        let stdin = std::io::stdin();
        if stdin.is_terminal() {
            eprintln!(
                "Paste the webhook signing secret, one per line as `test whsec_…` or `live whsec_…`, then press Ctrl+D:"
            );
        }
        return Ok(SigningSecrets::from_reader(
            stdin.lock(),
            args.mode.map(Mode::from),
        )?);
    }
    Ok(SigningSecrets::none())
}

pub fn run(args: ServeArgs) -> Result<ExitCode> {
    let secrets = load_secrets(&args)?;
    let db = paths::db_path(args.db.clone())?;
    if let Some(parent) = db.parent().filter(|p| !p.as_os_str().is_empty()) {
        fluxstore_mirror::create_private_dir(parent)
            .with_context(|| format!("could not create the folder {}", parent.display()))?;
    }
    paths::announce_upgrade(&db);
    let config = RelayConfig {
        listen: args.listen,
        secrets: secrets.clone(),
        tolerance: Duration::from_secs(args.tolerance),
        body_limit: args.body_limit,
        max_connections: args.max_connections,
        ..RelayConfig::default()
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("could not start the async runtime")?;
    runtime.block_on(async move {
        // Watch the signals before announcing, so a stop request right after start-up is
        // a graceful stop rather than the default (abrupt) termination.
        let signals = Signals::watch()?;
        let relay = Relay::start(config, &db).await?;
        announce(
            &relay.webhook_url(),
            &db,
            &secrets,
            args.secret_file.as_deref(),
            args.mode.map(Mode::from),
        );
        let signal = signals.next().await;
        tracing::info!(signal, "stopping: finishing requests in flight");
        relay.shutdown().await;
        println!("FluxStore relay stopped.");
        Ok(ExitCode::SUCCESS)
    })
}

fn announce(
    url: &str,
    db: &std::path::Path,
    secrets: &SigningSecrets,
    file: Option<&std::path::Path>,
    bare_mode: Option<Mode>,
) {
    println!("FluxStore relay is listening.");
    println!("  Webhook URL: {url}");
    println!("  Mirror:      {}", db.display());
    if url.starts_with("http://0.0.0.0") || url.starts_with("http://[::]") {
        println!(
            "  Note: listening on every network interface; Stripe needs HTTPS, so put a TLS reverse proxy or tunnel in front."
        );
    }
    if secrets.is_empty() {
        println!(
            "  Signing secret: NONE. Every delivery is answered 503 {} until one is set.",
            RejectionCode::NoSigningSecret
        );
        println!(
            "  Add the endpoint's signing secret (whsec_…, from the Stripe Dashboard) with --secret-file or --secret-stdin."
        );
    } else {
        println!(
            "  Signing secrets: {} active ({} test, {} live); each accepts only events of its mode",
            secrets.len(),
            secrets.count(Mode::Test),
            secrets.count(Mode::Live)
        );
    }
    let file = file.map_or_else(
        || "<file with your `test whsec_…` line>".to_string(),
        |f| f.display().to_string(),
    );
    let mode = bare_mode.map_or_else(String::new, |m| format!(" --mode {}", m.as_str()));
    println!("Send it a signed test event:");
    println!("  fluxstore send-test-event --url {url} --secret-file {file}{mode}");
    println!("Stop with Ctrl+C.");
    use std::io::Write;
    let _ = std::io::stdout().flush();
}

#[cfg(unix)]
struct Signals {
    term: tokio::signal::unix::Signal,
    int: tokio::signal::unix::Signal,
}

#[cfg(unix)]
impl Signals {
    fn watch() -> Result<Signals> {
        use tokio::signal::unix::{SignalKind, signal};
        Ok(Signals {
            term: signal(SignalKind::terminate()).context("could not watch SIGTERM")?,
            int: signal(SignalKind::interrupt()).context("could not watch SIGINT")?,
        })
    }

    async fn next(mut self) -> &'static str {
        tokio::select! {
            _ = self.term.recv() => "SIGTERM",
            _ = self.int.recv() => "SIGINT",
        }
    }
}

#[cfg(not(unix))]
struct Signals;

#[cfg(not(unix))]
impl Signals {
    fn watch() -> Result<Signals> {
        Ok(Signals)
    }

    async fn next(self) -> &'static str {
        let _ = tokio::signal::ctrl_c().await;
        "Ctrl+C"
    }
}
