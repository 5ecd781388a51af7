//! `fluxstore-connect`: run the Connect service (the hub's Connect broker on its own). The platform keys are read from files
//! (never argv or the environment) and never logged.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use clap::Parser;
use url::Url;

#[derive(Parser)]
#[command(
    name = "fluxstore-connect",
    about = "The FluxStore Connect service (Stripe Connect OAuth broker)"
)]
struct Args {
    /// Address to listen on, e.g. 127.0.0.1:8790 behind a TLS reverse proxy.
    #[arg(long)]
    listen: SocketAddr,
    /// The public URL browsers use to reach this service; Stripe redirects to
    /// `<public-url>/oauth/callback`, which must be registered in the platform's Connect settings.
    #[arg(long)]
    public_url: Url,
    /// The platform's Connect client id (`ca_…`).
    #[arg(long)]
    client_id: String,
    /// A file holding only one of the platform's secret keys (`sk_test_…` or `sk_live_…`); its
    /// prefix is the mode it serves. Give it twice, once with each key, to serve both modes.
    #[arg(long = "platform-key-file", value_name = "PATH", required = true)]
    platform_key_files: Vec<PathBuf>,
    /// Stripe's Connect OAuth base URL (for a local fake in tests).
    #[arg(long, default_value = fluxstore_connect::DEFAULT_STRIPE_CONNECT_BASE)]
    stripe_connect_base: Url,
    /// Stripe's API base URL, used to check the token that accompanies a revoke.
    #[arg(long, default_value = fluxstore_connect::DEFAULT_STRIPE_API_BASE)]
    stripe_api_base: Url,
    /// Seconds a client may take to send a request's headers before its connection is cut.
    #[arg(long, value_name = "SECONDS", default_value_t = fluxstore_connect::DEFAULT_HEADER_READ_TIMEOUT.as_secs())]
    header_read_timeout: u64,
    /// Seconds one request may take, its body included, before it is answered 408.
    #[arg(long, value_name = "SECONDS", default_value_t = fluxstore_connect::DEFAULT_REQUEST_TIMEOUT.as_secs())]
    request_timeout: u64,
    /// Connections served at once; further ones wait until one ends.
    #[arg(long, value_name = "N", default_value_t = fluxstore_connect::DEFAULT_MAX_CONNECTIONS)]
    max_connections: usize,
    /// A file with the key that seals sign-ins in progress and grants waiting for their
    /// desktop (64 hexadecimal digits, `openssl rand -hex 32`); without it one is made at start.
    #[arg(long, value_name = "PATH")]
    state_key_file: Option<PathBuf>,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .init();
    let args = Args::parse();
    let keys = fluxstore_connect::read_platform_key_files(&args.platform_key_files)?;
    let mut config =
        fluxstore_connect::Config::with_platform_keys(args.public_url, &args.client_id, keys)?;
    config.stripe_connect_base = args.stripe_connect_base;
    config.stripe_api_base = args.stripe_api_base;
    config.header_read_timeout = Duration::from_secs(args.header_read_timeout);
    config.request_timeout = Duration::from_secs(args.request_timeout);
    config.max_connections = args.max_connections;
    if let Some(path) = &args.state_key_file {
        config.state_key = fluxstore_connect::StateKey::read_file(path)?;
    }
    // Refused before listening: a service that cannot serve safely does not start.
    config.check()?;
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("could not listen on {}", args.listen))?;
    let modes: Vec<&str> = config
        .platform_keys
        .modes()
        .into_iter()
        .map(|m| m.as_str())
        .collect();
    tracing::info!(
        listen = %listener.local_addr()?,
        callback = %config.callback_url(),
        modes = %modes.join(", "),
        "FluxStore Connect is running; register the callback URL in Stripe's Connect settings"
    );
    fluxstore_connect::serve(listener, config, shutdown_signal()).await?;
    Ok(())
}

/// Ctrl-C, or SIGTERM from a service manager: finish the requests in flight, then exit.
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
