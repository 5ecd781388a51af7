//! `fluxstore-connect`: run the Connect service. The platform key is read from a file
//! (never argv or the environment) and never logged.

use std::net::SocketAddr;
use std::path::PathBuf;

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
    /// A file holding only the platform's secret key (`sk_live_…` or `sk_test_…`).
    #[arg(long)]
    platform_key_file: PathBuf,
    /// Stripe's Connect OAuth base URL (for a local fake in tests).
    #[arg(long, default_value = fluxstore_connect::DEFAULT_STRIPE_CONNECT_BASE)]
    stripe_connect_base: Url,
    /// Stripe's API base URL, used to check the token that accompanies a revoke.
    #[arg(long, default_value = fluxstore_connect::DEFAULT_STRIPE_API_BASE)]
    stripe_api_base: Url,
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
    let key = fluxstore_connect::read_platform_key_file(&args.platform_key_file)?;
    let mut config = fluxstore_connect::Config::new(args.public_url, &args.client_id, key)?;
    config.stripe_connect_base = args.stripe_connect_base;
    config.stripe_api_base = args.stripe_api_base;
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("could not listen on {}", args.listen))?;
    tracing::info!(
        listen = %listener.local_addr()?,
        callback = %config.callback_url(),
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
