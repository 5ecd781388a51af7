//! `fluxstore connect` and `fluxstore disconnect`: Stripe Connect from a terminal, per mode.
//!
//! Invariants: the access token goes from the Connect service straight into the OS keyring
//! and is never printed; the browser is opened with the authorize URL only (it carries no
//! secret: the PKCE verifier stays in this process); the URL is also printed on a line of its
//! own, so an owner on a machine without a browser can copy it.
use std::io::{BufRead, Write};
use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use fluxstore_gateway::ProfileError;
use fluxstore_gateway::oauth::OAuthError;
use fluxstore_gateway::profile::{DEFAULT_STORE, connect_service_url};
use serde_json::json;
use url::Url;

use super::{Done, ShowUrl, mode_flag, profile};

#[derive(Debug, Clone, clap::Args)]
pub struct ConnectArgs {
    /// The FluxStore Connect service (default: the one set in the app, else FluxStore's).
    #[arg(long, value_name = "URL", env = "FLUXSTORE_CONNECT_SERVICE")]
    pub service: Option<String>,
    /// test or live: the mode to connect.
    #[arg(long, value_parser = ["test", "live"], default_value = "live")]
    pub mode: String,
    /// Do not open a browser; only print the URL to open.
    #[arg(long)]
    pub no_browser: bool,
    /// The mirror database (default: the desktop app's, in the platform data directory).
    #[arg(long, value_name = "PATH", env = "FLUXSTORE_DB")]
    pub db: Option<PathBuf>,
    /// The store's name, when one machine runs several.
    #[arg(long, default_value = DEFAULT_STORE)]
    pub store: String,
    /// Stripe API base URL, for the account status fetched after connecting.
    #[arg(long, value_name = "URL", env = "FLUXSTORE_STRIPE_API_BASE")]
    pub api_base: Option<String>,
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
    /// Give up after this many seconds in the browser.
    #[arg(long, default_value_t = 300, value_name = "SECONDS")]
    pub timeout: u64,
}

#[derive(Debug, Clone, clap::Args)]
pub struct DisconnectArgs {
    /// test or live: the mode to disconnect.
    #[arg(long, value_parser = ["test", "live"], default_value = "live")]
    pub mode: String,
    /// The mirror database (default: the desktop app's, in the platform data directory).
    #[arg(long, value_name = "PATH", env = "FLUXSTORE_DB")]
    pub db: Option<PathBuf>,
    #[arg(long, default_value = DEFAULT_STORE)]
    pub store: String,
    /// Disconnect even though subscriptions will fail to renew, without asking.
    #[arg(long)]
    pub yes: bool,
    #[arg(long)]
    pub json: bool,
}

/// Print the authorize URL on a line of its own and open the browser unless asked not to.
pub fn show_url(url: &Url, open_browser: bool) {
    println!("{url}");
    let _ = std::io::stdout().flush();
    eprintln!("Open the address above in your browser to connect your Stripe account.");
    if open_browser && !open_in_browser(url) {
        eprintln!("(No browser could be opened; copy the address instead.)");
    }
    eprintln!("Waiting for Stripe… (Ctrl-C to cancel)");
}

pub async fn connect(a: &ConnectArgs, show_url: ShowUrl<'_>) -> Done {
    let service = a
        .service
        .as_deref()
        .filter(|s| !s.trim().is_empty())
        .map(connect_service_url)
        .transpose()?;
    let mode = mode_flag(&a.mode);
    let profile = profile(&a.db, &a.store, a.api_base.as_deref(), service)?;
    // Fail before the browser if the keyring cannot take the result.
    profile.with_keyring(|k| k.probe()).await?;
    let mut sign_in = profile.start_sign_in(mode).await?;
    sign_in.set_timeout(Duration::from_secs(a.timeout.max(1)));
    show_url(sign_in.authorize_url(), !a.no_browser);
    let cancel = sign_in.cancel_handle();
    let ctrl_c = tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            cancel.cancel();
        }
    });
    let (ended, result) = profile.finish_sign_in(sign_in).await;
    ctrl_c.abort();
    result?;
    let account = ended.account_id.unwrap_or_default();
    let backend = profile.keyring()?.backend();
    let status = profile.account_status(mode).await?;
    let value = json!({
        "account_id": account,
        "mode": mode.as_str(),
        "token_stored_in": backend,
        "account": status,
    });
    let mut text = format!(
        "Connected Stripe account {account} ({} mode).\nThe access token is in the OS keyring ({backend}).\n",
        mode.as_str()
    );
    if let Some(s) = &status {
        text.push_str(&format!(
            "charges enabled: {}, payouts enabled: {}\n",
            super::yes(s.charges_enabled),
            super::yes(s.payouts_enabled)
        ));
    }
    Ok((value, text))
}

pub async fn disconnect(
    a: &DisconnectArgs,
    input: &mut (dyn BufRead + Send),
    interactive: bool,
) -> Done {
    let mode = mode_flag(&a.mode);
    let profile = profile(&a.db, &a.store, None, None)?;
    let status = profile.status().await?;
    let connection = if mode.is_live() {
        &status.live
    } else {
        &status.test
    };
    if !connection.connected && connection.secrets.is_empty() {
        return Err(ProfileError::NotConnected { mode });
    }
    let renewing = profile.renewing_if_revoked(mode).await?;
    if renewing > 0 && !a.yes {
        let warning = format!(
            "{renewing} active subscription(s) will fail to renew until you connect again."
        );
        if !interactive {
            return Err(ProfileError::Refused(format!(
                "{warning} Run again with --yes to disconnect anyway."
            )));
        }
        eprint!("{warning} Disconnect anyway? [y/N] ");
        let mut answer = String::new();
        let _ = input.read_line(&mut answer);
        if !matches!(answer.trim(), "y" | "Y" | "yes") {
            return Err(ProfileError::OAuth(OAuthError::Cancelled));
        }
    }
    let report = profile.disconnect(mode, Duration::from_secs(30)).await?;
    let account = report.account_id.clone().unwrap_or_default();
    let mut text = format!(
        "Disconnected {} mode{}. Local secrets deleted; all orders and history are kept.\n",
        mode.as_str(),
        if account.is_empty() {
            String::new()
        } else {
            format!(" (Stripe account {account})")
        }
    );
    if report.was_connect && !report.revoked_now {
        text.push_str(
            "Stripe had already ended FluxStore's access (or no token was stored); check Settings → Connected applications in Stripe.\n",
        );
    }
    if report.renewing_subscriptions > 0 {
        text.push_str(&format!(
            "{} subscription(s) will fail to renew until you connect again.\n",
            report.renewing_subscriptions
        ));
    }
    let value = json!({
        "account_id": report.account_id,
        "mode": mode.as_str(),
        "was_connect": report.was_connect,
        "renewing_subscriptions": report.renewing_subscriptions,
        "revoked_now": report.revoked_now,
    });
    Ok((value, text))
}

/// Open `url` in the system browser. The URL carries no secret, so argv is fine for it.
fn open_in_browser(url: &Url) -> bool {
    let mut cmd = if cfg!(target_os = "macos") {
        std::process::Command::new("open")
    } else if cfg!(windows) {
        let mut c = std::process::Command::new("rundll32");
        c.arg("url.dll,FileProtocolHandler");
        c
    } else {
        std::process::Command::new("xdg-open")
    };
    cmd.arg(url.as_str())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    match cmd.spawn() {
        // Reap the opener in the background; it exits once the browser has the URL.
        Ok(mut child) => {
            std::thread::spawn(move || {
                let _ = child.wait();
            });
            true
        }
        Err(_) => false,
    }
}
