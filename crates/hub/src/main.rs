//! `fluxstore-hub`: run the hub. The webhook signing secrets come from a file; a database
//! password only from `FLUXSTORE_HUB_DATABASE_URL` (never argv); neither is ever logged.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use clap::parser::ValueSource;
use clap::{CommandFactory, FromArgMatches, Parser};
use fluxstore_hub::broker::StateKey;
use fluxstore_hub::{DatabaseUrl, Hub, HubConfig, PgStore, PlatformSecrets, SqliteStore};
use url::Url;

/// The embedded database when no URL is given, in the working directory.
const DEFAULT_SQLITE_FILE: &str = "fluxstore-hub.db";

#[derive(Parser)]
#[command(
    name = "fluxstore-hub",
    about = "The FluxStore hub: Stripe's Connect webhooks and key-mode stores' webhooks in, a live feed of doorbells out to the desktops"
)]
struct Args {
    /// Address to listen on, e.g. 127.0.0.1:8791 behind a TLS reverse proxy.
    #[arg(long)]
    listen: SocketAddr,
    /// The public https URL Stripe and desktops use to reach this hub; the platform's Connect
    /// webhook endpoint is `<public-url>/api/webhooks/stripe`.
    #[arg(long)]
    public_url: Url,
    /// A file with the platform endpoints' signing secrets: one `test whsec_…` or
    /// `live whsec_…` per line (several per mode while rotating; `#` comments).
    #[arg(long, value_name = "PATH")]
    webhook_secret_file: PathBuf,
    /// `postgres://USER@HOST:PORT/DB` for PostgreSQL (any number of replicas), or
    /// `sqlite:PATH`. Default: the SQLite file fluxstore-hub.db in the working directory.
    /// A URL with a password is accepted only from the environment variable.
    #[arg(long, env = "FLUXSTORE_HUB_DATABASE_URL", hide_env_values = true)]
    database_url: Option<String>,
    /// Stripe's API base URL, where a Connect access token is checked (a local stand-in in tests).
    #[arg(long, default_value = fluxstore_hub::DEFAULT_STRIPE_API_BASE)]
    stripe_api_base: Url,
    /// How many days doorbells are kept; a feed resuming from further back is told to resync.
    #[arg(long, default_value_t = 7, value_parser = clap::value_parser!(u32).range(1..=90))]
    retention_days: u32,
    /// Connections served at once (each open feed holds one).
    #[arg(long, default_value_t = 16_384)]
    max_connections: usize,
    /// The platform's Connect client id (`ca_…`): turns the Connect broker's `/oauth/*`
    /// routes on (register `<public-url>/oauth/callback` as a redirect URI at Stripe).
    #[arg(long, requires = "platform_key_files")]
    client_id: Option<String>,
    /// A file holding only one of the platform's secret keys (`sk_test_…` or `sk_live_…`); its
    /// prefix is the mode it serves. Give it twice, once with each key, to serve both modes.
    #[arg(
        long = "platform-key-file",
        value_name = "PATH",
        requires = "client_id"
    )]
    platform_key_files: Vec<PathBuf>,
    /// Stripe's Connect OAuth base URL (for a local stand-in in tests).
    #[arg(long, default_value = fluxstore_hub::broker::DEFAULT_STRIPE_CONNECT_BASE)]
    stripe_connect_base: Url,
    /// A file with the key that seals sign-ins in progress and grants waiting for their
    /// desktop: 64 hexadecimal digits (`openssl rand -hex 32`). Every replica must read the
    /// same key; without it this instance makes one at start (one replica only).
    #[arg(long, value_name = "PATH", requires = "client_id")]
    state_key_file: Option<PathBuf>,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    // The log goes to standard error; standard output carries only the listening line.
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .init();
    let matches = Args::command().get_matches();
    let from_argv = matches.value_source("database_url") == Some(ValueSource::CommandLine);
    let args = Args::from_arg_matches(&matches)?;

    let (secrets, warnings) = PlatformSecrets::from_file(&args.webhook_secret_file)?;
    for warning in warnings {
        tracing::warn!("{warning}");
    }
    if secrets.is_empty() {
        tracing::warn!(
            "the webhook secret file has no secret: Connect webhooks are answered 503 until one is added and the hub restarted"
        );
    }
    let modes: Vec<&str> = secrets.modes().iter().map(|m| m.as_str()).collect();
    let mut config = HubConfig::new(args.listen, args.public_url, secrets)?;
    config.set_stripe_api_base(args.stripe_api_base)?;
    config.retention = Duration::from_secs(u64::from(args.retention_days) * 24 * 60 * 60);
    config.max_connections = args.max_connections;
    if let Some(client_id) = &args.client_id {
        let keys = fluxstore_hub::broker::read_platform_key_files(&args.platform_key_files)?;
        let mut broker = fluxstore_hub::broker::Config::with_platform_keys(
            config.public_url.clone(),
            client_id,
            keys,
        )?;
        broker.stripe_connect_base = args.stripe_connect_base.clone();
        broker.stripe_api_base = config.stripe_api_base.clone();
        match &args.state_key_file {
            Some(path) => broker.state_key = StateKey::read_file(path)?,
            None => tracing::warn!(
                "no --state-key-file: this instance made its own state key, so sign-ins must start and finish on it; give every replica the same key file"
            ),
        }
        broker.check()?;
        let modes: Vec<&str> = broker
            .platform_keys
            .modes()
            .iter()
            .map(|m| m.as_str())
            .collect();
        tracing::info!(
            callback = %broker.callback_url(),
            modes = %modes.join(", "),
            "Connect broker on; register the callback URL in Stripe's Connect settings"
        );
        config.broker = Some(broker);
    }

    let database = match &args.database_url {
        Some(text) => DatabaseUrl::parse(text)?,
        None => DatabaseUrl::Sqlite(PathBuf::from(DEFAULT_SQLITE_FILE)),
    };
    if from_argv && database.has_password() {
        anyhow::bail!(
            "the database URL on the command line carries a password, which other users of this computer can read; give the URL in FLUXSTORE_HUB_DATABASE_URL instead"
        );
    }
    tracing::info!(
        database = %database.describe(),
        platform_webhook = %config.public(fluxstore_hub::PLATFORM_WEBHOOK_PATH),
        secret_modes = %modes.join(", "),
        "starting the FluxStore hub; register the platform webhook URL in Stripe as a Connect endpoint"
    );
    let handle = match database {
        DatabaseUrl::Postgres(pg) => {
            let store = PgStore::connect(&pg)
                .await
                .context("could not prepare the PostgreSQL database")?;
            Hub::start(config, store).await?
        }
        DatabaseUrl::Sqlite(path) => {
            let store = SqliteStore::open(&path)
                .with_context(|| format!("could not open the database file {}", path.display()))?;
            Hub::start(config, store).await?
        }
    };
    tracing::info!(listen = %handle.local_addr(), "the hub is running");
    // One line on standard output for scripts that start the hub on port 0.
    println!("fluxstore-hub listening on http://{}", handle.local_addr());
    shutdown_signal().await;
    tracing::info!("stopping: open feeds end, requests in flight finish");
    handle.shutdown().await;
    Ok(())
}

/// Ctrl-C, or SIGTERM from a service manager.
async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
            return;
        }
    }
    let _ = tokio::signal::ctrl_c().await;
}
