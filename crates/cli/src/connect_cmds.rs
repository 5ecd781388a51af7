//! `fluxstore connect` and `fluxstore disconnect`: Stripe Connect from a terminal.
//!
//! Invariants: the access token goes from the Connect service straight into the OS keyring
//! and is never printed; the browser is opened with the authorize URL only (it carries no
//! secret: the PKCE verifier stays in this process); the URL is also printed on a line of its
//! own, so an owner on a machine without a browser can copy it.

use std::io::{BufRead, IsTerminal, Write};
use std::path::PathBuf;
use std::process::{ExitCode, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use fluxstore_gateway::SecretStore;
use fluxstore_gateway::connect::{self, ConnectError};
use fluxstore_gateway::oauth::{ConnectOptions, OAuthError, PendingConnect};
use fluxstore_mirror::{Mirror, Mode};
use reqwest::Url;
use serde_json::{Value, json};

#[derive(Debug, Clone, clap::Args)]
pub struct ConnectArgs {
    /// The FluxStore Connect service, e.g. https://connect.example.com
    #[arg(long, value_name = "URL", env = "FLUXSTORE_CONNECT_SERVICE")]
    pub service: String,
    /// Do not open a browser; only print the URL to open.
    #[arg(long)]
    pub no_browser: bool,
    /// The mirror database (default: the platform data directory).
    #[arg(long, value_name = "PATH", env = "FLUXSTORE_DB")]
    pub db: Option<PathBuf>,
    /// The store's name, when one machine runs several.
    #[arg(long, default_value = "default")]
    pub store: String,
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
    /// Give up after this many seconds in the browser.
    #[arg(long, default_value_t = 300, value_name = "SECONDS")]
    pub timeout: u64,
}

#[derive(Debug, Clone, clap::Args)]
pub struct DisconnectArgs {
    /// The mirror database (default: the platform data directory).
    #[arg(long, value_name = "PATH", env = "FLUXSTORE_DB")]
    pub db: Option<PathBuf>,
    #[arg(long, default_value = "default")]
    pub store: String,
    /// Disconnect even though subscriptions will fail to renew, without asking.
    #[arg(long)]
    pub yes: bool,
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, clap::Subcommand)]
pub enum ConnectCommand {
    /// Connect a Stripe account through Stripe Connect (browser sign-in).
    Connect(ConnectArgs),
    /// Disconnect the Stripe account: revoke access, delete local tokens, keep all data.
    Disconnect(DisconnectArgs),
}

/// What a command produced: exit code, stdout, stderr.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    pub code: u8,
    pub stdout: String,
    pub stderr: String,
}

/// Run a command in a terminal: the URL is printed at once, results at the end.
pub async fn run(cmd: ConnectCommand) -> ExitCode {
    let mut show_url = |url: &Url, open_browser: bool| {
        println!("{url}");
        let _ = std::io::stdout().flush();
        eprintln!("Open the address above in your browser to connect your Stripe account.");
        if open_browser && !open_in_browser(url) {
            eprintln!("(No browser could be opened; copy the address instead.)");
        }
        eprintln!("Waiting for Stripe… (Ctrl-C to cancel)");
    };
    let interactive = std::io::stdin().is_terminal();
    let mut input = std::io::BufReader::new(std::io::stdin());
    let out = execute(cmd, &mut show_url, &mut input, interactive).await;
    print!("{}", out.stdout);
    eprint!("{}", out.stderr);
    let _ = std::io::stdout().flush();
    ExitCode::from(out.code)
}

/// Run a command, capturing its output; `show_url` receives the authorize URL (and whether
/// to open a browser) before the wait begins. Tests call this in-process.
pub async fn execute(
    cmd: ConnectCommand,
    show_url: &mut (dyn FnMut(&Url, bool) + Send),
    input: &mut (dyn BufRead + Send),
    interactive: bool,
) -> Outcome {
    let json = match &cmd {
        ConnectCommand::Connect(a) => a.json,
        ConnectCommand::Disconnect(a) => a.json,
    };
    let result = match cmd {
        ConnectCommand::Connect(a) => connect_cmd(&a, show_url).await,
        ConnectCommand::Disconnect(a) => disconnect_cmd(&a, input, interactive).await,
    };
    match result {
        Ok((value, text)) => Outcome {
            code: 0,
            stdout: if json { format!("{value:#}\n") } else { text },
            stderr: String::new(),
        },
        Err(e) => {
            let exit = if e.code() == "cancelled" { 130 } else { 1 };
            let message = e.to_string();
            if json {
                let body = json!({"error": {"code": e.code(), "message": message}});
                Outcome {
                    code: exit,
                    stdout: format!("{body:#}\n"),
                    stderr: String::new(),
                }
            } else {
                Outcome {
                    code: exit,
                    stdout: String::new(),
                    stderr: format!("error: {message}\n"),
                }
            }
        }
    }
}

type Done = Result<(Value, String), ConnectError>;

fn open_mirror(db: &Option<PathBuf>) -> Result<Mirror, ConnectError> {
    let path = crate::paths::db_path(db.clone()).map_err(|e| {
        ConnectError::Gateway(fluxstore_gateway::GatewayError::InvalidRequest {
            message: format!("{e:#}"),
            param: None,
            code: None,
        })
    })?;
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        let _ = std::fs::create_dir_all(dir);
    }
    Ok(Mirror::open(&path)?)
}

async fn connect_cmd(a: &ConnectArgs, show_url: &mut (dyn FnMut(&Url, bool) + Send)) -> Done {
    let service = Url::parse(a.service.trim()).map_err(|_| OAuthError::BadServiceUrl)?;
    // Fail before the browser if the keyring or the database cannot take the result.
    let store = SecretStore::new()?;
    store.probe()?;
    let mut mirror = open_mirror(&a.db)?;

    // Live, as the Connect service assumes when no mode is named.
    let mut options = ConnectOptions::new(service.clone(), Mode::Live);
    options.timeout = Duration::from_secs(a.timeout.max(1));
    let pending = PendingConnect::start(options).await?;
    show_url(pending.authorize_url(), !a.no_browser);
    let cancel = pending.cancel_handle();
    let ctrl_c = tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            cancel.cancel();
        }
    });
    let tokens = pending.finish().await;
    ctrl_c.abort();
    let tokens = tokens?;
    connect::store_connection(&store, &mut mirror, &a.store, &service, &tokens)?;
    let mode = tokens.mode().as_str();
    let value = json!({
        "account_id": tokens.stripe_user_id,
        "mode": mode,
        "scope": tokens.scope,
        "token_stored_in": store.backend(),
    });
    let text = format!(
        "Connected Stripe account {} ({mode} mode).\nThe access token is in the OS keyring ({}).\n",
        tokens.stripe_user_id,
        store.backend()
    );
    Ok((value, text))
}

async fn disconnect_cmd(
    a: &DisconnectArgs,
    input: &mut (dyn BufRead + Send),
    interactive: bool,
) -> Done {
    let store = SecretStore::new()?;
    let mirror = open_mirror(&a.db)?;
    let st = connect::status(&mirror)?;
    let (Some(mode), true) = (st.mode, st.connected) else {
        return Err(ConnectError::NotConnected);
    };
    let renewing = connect::renewing_subscriptions(&mirror, mode)?;
    if renewing > 0 && !a.yes {
        let warning = format!(
            "{renewing} active subscription(s) will fail to renew until you connect again."
        );
        if !interactive {
            return Err(ConnectError::Gateway(
                fluxstore_gateway::GatewayError::InvalidRequest {
                    message: format!("{warning} Run again with --yes to disconnect anyway."),
                    param: None,
                    code: None,
                },
            ));
        }
        eprint!("{warning} Disconnect anyway? [y/N] ");
        let mut answer = String::new();
        let _ = input.read_line(&mut answer);
        if !matches!(answer.trim(), "y" | "Y" | "yes") {
            return Err(ConnectError::OAuth(OAuthError::Cancelled));
        }
    }
    let mirror = Arc::new(Mutex::new(mirror));
    let report = connect::disconnect(&store, &mirror, &a.store, Duration::from_secs(30)).await?;
    let mut text = format!(
        "Disconnected Stripe account {} ({} mode). Local tokens deleted; all orders and history are kept.\n",
        report.account_id,
        report.mode.as_str()
    );
    if !report.revoked_now {
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
        "mode": report.mode.as_str(),
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

#[cfg(test)]
mod tests {
    //! In-process runs of the commands against the real Connect service in front of the fake
    //! of Stripe's Connect endpoints. They store tokens, so they need the Secret Service:
    //!   scripts/with-secret-service.sh cargo test -p fluxstore connect_cmds -- --include-ignored

    use super::*;
    use fluxstore_connect::{Config, PlatformKeys, RunningService};
    use fluxstore_test_support::connect_fake::{ConnectFake, ConnectFakeConfig};

    async fn service() -> (ConnectFake, RunningService) {
        let fake = ConnectFake::start(ConnectFakeConfig::default())
            .await
            .unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let public = Url::parse(&format!("http://{}", listener.local_addr().unwrap())).unwrap();
        let keys = PlatformKeys::from_keys([
            secrecy::SecretString::from(fake.config().platform_key.clone()),
            secrecy::SecretString::from(fake.config().live_platform_key.clone()),
        ])
        .unwrap();
        let mut config =
            Config::with_platform_keys(public, &fake.config().client_id, keys).unwrap();
        config.stripe_connect_base = Url::parse(&fake.base_url()).unwrap();
        config.stripe_api_base = Url::parse(&fake.base_url()).unwrap();
        let svc = RunningService::spawn(listener, config).unwrap();
        (fake, svc)
    }

    #[tokio::test]
    #[ignore = "needs a Secret Service: scripts/with-secret-service.sh … -- --include-ignored"]
    async fn connect_prints_the_url_then_the_account_and_disconnect_revokes() {
        let (fake, svc) = service().await;
        let dir = tempfile::tempdir().unwrap();
        let db = Some(dir.path().join("mirror.sqlite3"));
        let args = ConnectArgs {
            service: svc.base_url().to_string(),
            no_browser: true,
            db: db.clone(),
            store: "cli-test".into(),
            json: false,
            timeout: 60,
        };
        let (tx, rx) = tokio::sync::oneshot::channel::<(Url, bool)>();
        let mut tx = Some(tx);
        let mut show = move |url: &Url, open: bool| {
            if let Some(tx) = tx.take() {
                let _ = tx.send((url.clone(), open));
            }
        };
        // The "browser": follows every redirect from the printed URL to the loopback.
        let browser = tokio::spawn(async move {
            let (url, open) = rx.await.unwrap();
            assert!(!open, "--no-browser opens nothing");
            reqwest::get(url).await.unwrap().text().await.unwrap()
        });
        let mut no_input = std::io::empty();
        let out = tokio::time::timeout(
            Duration::from_secs(60),
            execute(
                ConnectCommand::Connect(args),
                &mut show,
                &mut no_input,
                false,
            ),
        )
        .await
        .unwrap();
        let page = browser.await.unwrap();
        assert_eq!(out.code, 0, "{out:?}");
        assert!(page.contains("Connected to Stripe"));
        let account = fake.config().account_id.clone();
        assert!(
            out.stdout.contains(&account) && out.stdout.contains("live mode"),
            "{}",
            out.stdout
        );

        let args = DisconnectArgs {
            db,
            store: "cli-test".into(),
            yes: false,
            json: true,
        };
        let out = execute(
            ConnectCommand::Disconnect(args),
            &mut |_, _| {},
            &mut no_input,
            false,
        )
        .await;
        assert_eq!(out.code, 0, "{out:?}");
        let v: Value = serde_json::from_str(&out.stdout).unwrap();
        assert_eq!(v["account_id"], account.as_str());
        assert_eq!(v["revoked_now"], true);
        assert_eq!(fake.deauthorized(), vec![account]);
    }

    #[tokio::test]
    async fn a_bad_service_url_is_refused_before_anything_happens() {
        let args = ConnectArgs {
            service: "not a url".into(),
            no_browser: true,
            db: None,
            store: "default".into(),
            json: true,
            timeout: 1,
        };
        let mut shown = false;
        let out = execute(
            ConnectCommand::Connect(args),
            &mut |_, _| shown = true,
            &mut std::io::empty(),
            false,
        )
        .await;
        assert_eq!(out.code, 1);
        assert!(!shown);
        let v: Value = serde_json::from_str(&out.stdout).unwrap();
        assert_eq!(v["error"]["code"], "bad_service_url");
    }
}
