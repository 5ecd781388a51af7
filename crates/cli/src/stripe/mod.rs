//! `fluxstore keys|account|refund|webhook|sync|audit|connect|disconnect`: the Stripe side for
//! headless owners and scripts, one module per subcommand, each an adapter over the gateway's
//! store profile (the same functions the desktop app calls).
//!
//! Invariants: a secret is read from the keyring, a key file or stdin — never from argv or
//! the environment — and is never printed; errors print the owner message (which never echoes
//! a key) and exit non-zero (3 for a key Stripe or the format refused, 130 when cancelled);
//! `--json` prints one JSON document on stdout.

mod account;
mod audit;
mod connect;
mod dispute;
mod input;
mod keys;
mod lookup;
mod refund;
mod sync;
#[cfg(test)]
mod tests;
mod webhook;

use std::io::{BufRead, IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::{Arc, Mutex};

use fluxstore_gateway::profile::{DEFAULT_STORE, Profile, ProfileConfig};
use fluxstore_gateway::{GatewayError, ProfileError, SecretStore};
use fluxstore_mirror::{Mirror, Mode};
use serde_json::{Value, json};
use url::Url;

pub use connect::{ConnectArgs, DisconnectArgs};
pub use dispute::DisputeCommand;
pub use keys::KeysCommand;
pub use sync::SyncArgs;
pub use webhook::WebhookCommand;

/// Options every Stripe command takes.
#[derive(Debug, Clone, clap::Args)]
pub struct Common {
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
    /// The mirror database (default: the desktop app's, in the platform data directory).
    #[arg(long, value_name = "PATH", env = "FLUXSTORE_DB")]
    pub db: Option<PathBuf>,
    /// Read the API key from this file instead of the OS keyring.
    #[arg(long, value_name = "PATH")]
    pub key_file: Option<PathBuf>,
    /// Stripe API base URL (default https://api.stripe.com).
    #[arg(long, value_name = "URL", env = "FLUXSTORE_STRIPE_API_BASE")]
    pub api_base: Option<String>,
    /// The store's name, when one machine runs several.
    #[arg(long, default_value = DEFAULT_STORE)]
    pub store: String,
    /// test or live (default: the mode of the keys last set for this store).
    #[arg(long, value_parser = ["test", "live"])]
    pub mode: Option<String>,
}

#[derive(Debug, clap::Subcommand)]
pub enum StripeCommand {
    /// Stripe keys in the OS keyring.
    Keys {
        #[command(subcommand)]
        cmd: KeysCommand,
    },
    /// Account readiness: charges, payouts, details submitted, requirements (keys or Connect).
    Account(Common),
    /// Refund a FluxStore order's payment (amount in the currency's smallest unit).
    Refund {
        /// pi_… or ch_… of a FluxStore order.
        payment: String,
        #[arg(long)]
        amount: Option<i64>,
        /// duplicate, fraudulent or requested_by_customer.
        #[arg(long)]
        reason: Option<String>,
        #[command(flatten)]
        common: Common,
    },
    /// Look a FluxStore order up on Stripe's side (its payment, refunds, disputes) next to
    /// the mirror, and heal the mirror from Stripe's events when they differ.
    Lookup {
        /// The order: its cs_… id, or its pi_… or ch_… id.
        order: String,
        #[command(flatten)]
        common: Common,
    },
    /// Which Checkout Sessions are FluxStore orders: show the marker, or set or clear it.
    OrderMarker {
        /// Only sessions whose metadata KEY equals VALUE (KEY=VALUE).
        #[arg(long, value_name = "KEY=VALUE")]
        metadata: Option<String>,
        /// Only sessions whose client_reference_id starts with PREFIX.
        #[arg(long, value_name = "PREFIX")]
        client_reference_prefix: Option<String>,
        /// Remove the marker: every Checkout Session is an order.
        #[arg(long)]
        clear: bool,
        #[command(flatten)]
        common: Common,
    },
    /// The Stripe webhook endpoint.
    Webhook {
        #[command(subcommand)]
        cmd: WebhookCommand,
    },
    /// Pull events from Stripe's events API into the mirror; with --follow, keep following
    /// the FluxStore hub's live feed until interrupted.
    Sync(SyncArgs),
    /// Answer a dispute: the evidence draft (offline) and its submission to Stripe.
    Dispute {
        #[command(subcommand)]
        cmd: DisputeCommand,
    },
    /// Every call FluxStore made to Stripe, newest first.
    Audit {
        #[arg(long, default_value_t = 50)]
        limit: u32,
        #[command(flatten)]
        common: Common,
    },
    /// Connect a Stripe account through Stripe Connect (browser sign-in).
    Connect(ConnectArgs),
    /// Disconnect a mode: revoke a Connect connection, delete that mode's local secrets, keep
    /// all data.
    Disconnect(DisconnectArgs),
}

/// What a command produced: exit code, stdout, stderr.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    pub code: u8,
    pub stdout: String,
    pub stderr: String,
}

/// Receives the authorize URL of a Connect sign-in (and whether to open a browser) before
/// the wait begins.
pub type ShowUrl<'a> = &'a mut (dyn FnMut(&Url, bool) + Send);

/// Run a command in a terminal and print its output.
pub async fn run(cmd: StripeCommand) -> ExitCode {
    let mut show_url = |url: &Url, open_browser: bool| connect::show_url(url, open_browser);
    let stdin = std::io::stdin();
    let interactive = stdin.is_terminal();
    let mut input = std::io::BufReader::new(stdin);
    let out = execute(cmd, &mut show_url, &mut input, interactive).await;
    print!("{}", out.stdout);
    eprint!("{}", out.stderr);
    let _ = std::io::stdout().flush();
    ExitCode::from(out.code)
}

/// Run a command, capturing what it would print (tests call this in-process).
pub async fn execute(
    cmd: StripeCommand,
    show_url: ShowUrl<'_>,
    input: &mut (dyn BufRead + Send),
    interactive: bool,
) -> Outcome {
    let json = match &cmd {
        StripeCommand::Keys {
            cmd: KeysCommand::Set(c) | KeysCommand::Status(c),
        }
        | StripeCommand::Account(c)
        | StripeCommand::Sync(SyncArgs { common: c, .. })
        | StripeCommand::Refund { common: c, .. }
        | StripeCommand::Lookup { common: c, .. }
        | StripeCommand::OrderMarker { common: c, .. }
        | StripeCommand::Webhook {
            cmd: WebhookCommand::Create { common: c, .. },
        }
        | StripeCommand::Audit { common: c, .. } => c.json,
        StripeCommand::Connect(a) => a.json,
        StripeCommand::Disconnect(a) => a.json,
        StripeCommand::Dispute { cmd } => cmd.json(),
    };
    let result = match cmd {
        StripeCommand::Keys {
            cmd: KeysCommand::Set(c),
        } => keys::set(&c, input, interactive).await,
        StripeCommand::Keys {
            cmd: KeysCommand::Status(c),
        } => keys::status(&c).await,
        StripeCommand::Account(c) => account::run(&c).await,
        StripeCommand::Refund {
            payment,
            amount,
            reason,
            common,
        } => refund::run(&common, payment, amount, reason.as_deref()).await,
        StripeCommand::Lookup { order, common } => lookup::run(&common, order).await,
        StripeCommand::OrderMarker {
            metadata,
            client_reference_prefix,
            clear,
            common,
        } => lookup::marker(&common, metadata, client_reference_prefix, clear).await,
        StripeCommand::Webhook {
            cmd: WebhookCommand::Create { url, common },
        } => webhook::create(&common, &url).await,
        StripeCommand::Sync(a) => sync::run(&a).await,
        StripeCommand::Dispute { cmd } => dispute::run(cmd).await,
        StripeCommand::Audit { limit, common } => audit::run(&common, limit).await,
        StripeCommand::Connect(a) => connect::connect(&a, show_url).await,
        StripeCommand::Disconnect(a) => connect::disconnect(&a, input, interactive).await,
    };
    match result {
        Ok((value, text)) => Outcome {
            // A report that could not reach the keyring is printed, but is not a success.
            code: if value.get("keyring_error").is_some_and(|e| !e.is_null()) {
                1
            } else {
                0
            },
            stdout: if json { format!("{value:#}\n") } else { text },
            stderr: String::new(),
        },
        Err(e) => failure(&e, json),
    }
}

/// How a failed command ends: the owner message (never a secret), a stable code, an exit code.
fn failure(e: &ProfileError, json: bool) -> Outcome {
    let exit = match e {
        ProfileError::Gateway(GatewayError::InvalidKey | GatewayError::Key(_)) => 3,
        _ if e.code() == "cancelled" => 130,
        _ => 1,
    };
    let mut message = e.to_string();
    if matches!(
        e,
        ProfileError::NotConnected { .. } | ProfileError::Disconnected { .. }
    ) {
        message.push_str(" (fluxstore keys set, or fluxstore connect)");
    }
    if json {
        Outcome {
            code: exit,
            stdout: format!(
                "{:#}\n",
                json!({"error": {"code": e.code(), "message": message}})
            ),
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

type Done = Result<(Value, String), ProfileError>;

/// The mirror the command acts on: --db, else FLUXSTORE_DB (via clap), else the desktop app's.
fn open_mirror(db: &Option<PathBuf>) -> Result<Mirror, ProfileError> {
    let path =
        crate::paths::db_path(db.clone()).map_err(|e| ProfileError::Invalid(format!("{e:#}")))?;
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        let _ = fluxstore_mirror::create_private_dir(dir);
    }
    crate::paths::announce_upgrade(&path);
    Ok(Mirror::open(&path)?)
}

/// The store's profile over the command's mirror, with the overrides the flags give.
fn profile(
    db: &Option<PathBuf>,
    store: &str,
    api_base: Option<&str>,
    connect_service: Option<Url>,
) -> Result<Profile, ProfileError> {
    let mirror = Arc::new(Mutex::new(open_mirror(db)?));
    let keyring = match SecretStore::new() {
        Ok(k) => Some(k),
        Err(e) => {
            tracing::warn!(error = %e, "no keyring; secrets cannot be read or kept");
            None
        }
    };
    let config = ProfileConfig {
        store: store.to_owned(),
        api_base: api_base.map(str::to_owned),
        connect_service,
        api_key: None,
        hub: None,
    };
    Profile::open(config, keyring, mirror)
}

/// The profile of a command's [`Common`] options (a `--key-file` key is this run's credential).
fn common_profile(c: &Common) -> Result<Profile, ProfileError> {
    let mut profile = profile(&c.db, &c.store, c.api_base.as_deref(), None)?;
    if let Some(path) = &c.key_file {
        profile = profile.with_api_key(input::read_key_file(path)?);
    }
    Ok(profile)
}

/// `--mode`, else the key file's mode, else the profile's active mode.
async fn mode_of(c: &Common, profile: &Profile) -> Result<Mode, ProfileError> {
    match c.mode.as_deref() {
        Some("live") => Ok(Mode::Live),
        Some(_) => Ok(Mode::Test),
        None => match profile.api_key_override() {
            Some(key) => Ok(key.mode()),
            None => profile.active_mode().await,
        },
    }
}

fn mode_flag(text: &str) -> Mode {
    if text == "test" {
        Mode::Test
    } else {
        Mode::Live
    }
}

fn yes(b: bool) -> &'static str {
    if b { "yes" } else { "no" }
}
