//! `fluxstore keys|account|refund|webhook|sync|audit`: the Stripe side for headless owners
//! and scripts.
//!
//! Invariants: a secret is read from the keyring, a key file or stdin — never from argv or
//! the environment — and is never printed; errors print the gateway's owner message (which
//! never echoes a key) and exit non-zero; `--json` prints one JSON document on stdout.

use std::io::{BufRead, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::{Arc, Mutex};

use fluxstore_gateway::keys::{KeyShape, shape_of};
use fluxstore_gateway::keystore::{self, KeyringError, record_presence};
use fluxstore_gateway::{
    ApiKey, CancelToken, ClientConfig, Credential, GatewayError, ManualKeys, RefundReason,
    RefundRequest, SecretKind, SecretSlot, SecretStore, StripeClient, SyncOptions,
};
use fluxstore_mirror::{Mirror, Mode};
use serde_json::{Value, json};

/// Options every Stripe command takes.
#[derive(Debug, Clone, clap::Args)]
pub struct Common {
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
    /// The mirror database (default: the platform data directory).
    #[arg(long, value_name = "PATH", env = "FLUXSTORE_DB")]
    pub db: Option<PathBuf>,
    /// Read the API key from this file instead of the OS keyring.
    #[arg(long, value_name = "PATH")]
    pub key_file: Option<PathBuf>,
    /// Stripe API base URL (default https://api.stripe.com).
    #[arg(long, value_name = "URL", env = "FLUXSTORE_STRIPE_API_BASE")]
    pub api_base: Option<String>,
    /// The store's name, when one machine runs several.
    #[arg(long, default_value = "default")]
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
    /// Account readiness: charges, payouts, details submitted, requirements.
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
    /// The Stripe webhook endpoint.
    Webhook {
        #[command(subcommand)]
        cmd: WebhookCommand,
    },
    /// Pull events from Stripe's events API into the mirror.
    Sync(Common),
    /// Every call FluxStore made to Stripe, newest first.
    Audit {
        #[arg(long, default_value_t = 50)]
        limit: u32,
        #[command(flatten)]
        common: Common,
    },
}

#[derive(Debug, clap::Subcommand)]
pub enum KeysCommand {
    /// Read keys (one per line: pk_…, sk_… or rk_…, whsec_…) from stdin or a prompt,
    /// validate them and store the secrets in the OS keyring.
    Set(Common),
    /// Which secrets exist and where (never their values).
    Status(Common),
}

#[derive(Debug, clap::Subcommand)]
pub enum WebhookCommand {
    /// Create the endpoint with the 12 events (plus charge.refunded and account.updated) and
    /// store its signing secret in the keyring.
    Create {
        #[arg(long)]
        url: String,
        #[command(flatten)]
        common: Common,
    },
}

/// What a command produced: exit code, stdout, stderr.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    pub code: u8,
    pub stdout: String,
    pub stderr: String,
}

/// Run a command and print its output.
pub async fn run(cmd: StripeCommand) -> ExitCode {
    let stdin = std::io::stdin();
    let interactive = stdin.is_terminal();
    let out = execute(cmd, &mut stdin.lock(), interactive).await;
    print!("{}", out.stdout);
    eprint!("{}", out.stderr);
    let _ = std::io::stdout().flush();
    ExitCode::from(out.code)
}

/// Run a command, capturing what it would print (tests call this in-process).
pub async fn execute(cmd: StripeCommand, input: &mut dyn BufRead, interactive: bool) -> Outcome {
    let json = match &cmd {
        StripeCommand::Keys {
            cmd: KeysCommand::Set(c) | KeysCommand::Status(c),
        }
        | StripeCommand::Account(c)
        | StripeCommand::Sync(c)
        | StripeCommand::Refund { common: c, .. }
        | StripeCommand::Webhook {
            cmd: WebhookCommand::Create { common: c, .. },
        }
        | StripeCommand::Audit { common: c, .. } => c.json,
    };
    match dispatch(cmd, input, interactive).await {
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
        Err(e) => {
            let (code, message) = (e.code(), e.to_string());
            let exit = if matches!(e, GatewayError::InvalidKey | GatewayError::Key(_)) {
                3
            } else {
                1
            };
            if json {
                Outcome {
                    code: exit,
                    stdout: format!(
                        "{:#}\n",
                        json!({"error": {"code": code, "message": message}})
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
    }
}

type Done = Result<(Value, String), GatewayError>;

async fn dispatch(cmd: StripeCommand, input: &mut dyn BufRead, interactive: bool) -> Done {
    match cmd {
        StripeCommand::Keys {
            cmd: KeysCommand::Set(c),
        } => keys_set(&c, input, interactive),
        StripeCommand::Keys {
            cmd: KeysCommand::Status(c),
        } => keys_status(&c),
        StripeCommand::Account(c) => {
            let a = client(&c)?.account().await?;
            let text = format!(
                "account {}\ncharges enabled: {}\npayouts enabled: {}\ndetails submitted: {}\n{}{}",
                a.id,
                yes(a.charges_enabled),
                yes(a.payouts_enabled),
                yes(a.details_submitted),
                a.requirements
                    .disabled_reason
                    .as_ref()
                    .map(|r| format!("disabled because: {r}\n"))
                    .unwrap_or_default(),
                if a.requirements.currently_due.is_empty() {
                    String::new()
                } else {
                    format!(
                        "Stripe needs: {}\nFinish onboarding at https://dashboard.stripe.com/account/onboarding\n",
                        a.requirements.currently_due.join(", ")
                    )
                },
            );
            Ok((json!(a), text))
        }
        StripeCommand::Refund {
            payment,
            amount,
            reason,
            common,
        } => {
            let reason = reason.as_deref().map(RefundReason::parse).transpose()?;
            let out = client(&common)?
                .refund(&RefundRequest {
                    payment,
                    amount,
                    reason,
                })
                .await?;
            let text = format!(
                "refund {} {}: {} {} of charge {}\n",
                out.refund_id,
                out.status,
                out.amount,
                out.currency,
                out.charge_id.as_deref().unwrap_or("?")
            );
            Ok((json!(out), text))
        }
        StripeCommand::Webhook {
            cmd: WebhookCommand::Create { url, common },
        } => {
            let c = client(&common)?;
            let store = SecretStore::new()?;
            let ep = c
                .create_webhook_endpoint(&url, &store, &common.store)
                .await?;
            let text = format!(
                "webhook endpoint {} for {} ({} events); its signing secret is in {}\n",
                ep.id,
                ep.url,
                ep.enabled_events.len(),
                store.backend()
            );
            Ok((json!(ep), text))
        }
        StripeCommand::Sync(c) => {
            let client = client(&c)?;
            let cancel = CancelToken::new();
            let stop = cancel.clone();
            // Ctrl-C stops between pages; what was stored stays stored.
            let ctrl_c = tokio::spawn(async move {
                if tokio::signal::ctrl_c().await.is_ok() {
                    stop.cancel();
                }
            });
            let quiet = c.json;
            let mut progress = move |p: &fluxstore_gateway::SyncProgress| {
                if !quiet {
                    eprintln!("page {}: {} events ({} new)", p.pages, p.events, p.applied);
                }
            };
            let r = client
                .sync_events(&SyncOptions::default(), &mut progress, &cancel)
                .await;
            ctrl_c.abort();
            let r = r?;
            let mut text = format!(
                "synced {} events in {} pages: {} new, {} already known\n",
                r.progress.events, r.progress.pages, r.progress.applied, r.progress.duplicates
            );
            if let Some(g) = &r.gap {
                text.push_str(&format!(
                    "warning: the last sync was before Stripe's 30-day history (last event at {}); events between then and {} may be missing from the mirror\n",
                    g.last_synced_created, g.retention_starts
                ));
            }
            if !r.complete {
                text.push_str("more events are waiting: run sync again\n");
            }
            Ok((json!(r), text))
        }
        StripeCommand::Audit { limit, common } => {
            let m = open_mirror(&common)?;
            let calls = m.api_calls(limit)?;
            let mut text = String::new();
            for c in &calls {
                text.push_str(&format!(
                    "{} {:<4} {} {} {} {}ms {}\n",
                    c.at,
                    c.method,
                    c.path,
                    c.object_id.as_deref().unwrap_or("-"),
                    c.status
                        .map_or_else(|| "no answer".to_owned(), |s| s.to_string()),
                    c.duration_ms,
                    c.error_code
                        .as_deref()
                        .or(c.request_id.as_deref())
                        .unwrap_or("")
                ));
            }
            Ok((json!(calls), text))
        }
    }
}

fn yes(b: bool) -> &'static str {
    if b { "yes" } else { "no" }
}

/// The mirror path: --db, else FLUXSTORE_DB (via clap), else the platform data directory
/// shared with the other commands and the desktop app.
pub fn db_path(c: &Common) -> Result<PathBuf, GatewayError> {
    crate::paths::db_path(c.db.clone()).map_err(|e| GatewayError::InvalidRequest {
        message: format!("{e:#}"),
        param: None,
        code: None,
    })
}

fn open_mirror(c: &Common) -> Result<Mirror, GatewayError> {
    let path = db_path(c)?;
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        let _ = std::fs::create_dir_all(dir);
    }
    Ok(Mirror::open(&path)?)
}

fn active_mode_setting(store: &str) -> String {
    format!("gateway.active_mode.{store}")
}

fn mode_of(c: &Common, m: &Mirror) -> Result<Mode, GatewayError> {
    let chosen = match &c.mode {
        Some(s) => Some(s.clone()),
        None => m.setting(&active_mode_setting(&c.store))?,
    };
    Ok(if chosen.as_deref() == Some("live") {
        Mode::Live
    } else {
        Mode::Test
    })
}

fn read_key_file(path: &Path) -> Result<ApiKey, GatewayError> {
    let text = std::fs::read_to_string(path).map_err(|e| GatewayError::InvalidRequest {
        message: format!(
            "the key file {} could not be read ({})",
            path.display(),
            e.kind()
        ),
        param: None,
        code: None,
    })?;
    Ok(ApiKey::parse(&text)?)
}

fn client(c: &Common) -> Result<StripeClient, GatewayError> {
    let mirror = open_mirror(c)?;
    let credential = match &c.key_file {
        Some(p) => Credential::ApiKey(read_key_file(p)?),
        None => {
            let mode = mode_of(c, &mirror)?;
            let store = SecretStore::new()?;
            let key_slot = SecretSlot::new(&c.store, mode, SecretKind::ApiKey);
            let token_slot = SecretSlot::new(&c.store, mode, SecretKind::ConnectAccessToken);
            if let Some(secret) = store.get(&key_slot)? {
                Credential::ApiKey(ApiKey::parse(secret.expose())?)
            } else if let Some(token) = store.get(&token_slot)? {
                Credential::ConnectToken { token, mode }
            } else {
                return Err(GatewayError::NoKey {
                    account: c.store.clone(),
                    mode: mode.as_str(),
                });
            }
        }
    };
    let cfg = ClientConfig::from_env(c.api_base.as_deref())?;
    StripeClient::new(cfg, credential, Arc::new(Mutex::new(mirror)))
}

/// Read one value; on a terminal, prompt with echo off (Unix `stty`) so the key is not shown.
fn read_value(
    input: &mut dyn BufRead,
    interactive: bool,
    prompt: &str,
) -> Result<Option<String>, GatewayError> {
    if interactive {
        eprint!("{prompt}: ");
        let _ = std::io::stderr().flush();
    }
    let hide = interactive && cfg!(unix);
    if hide {
        let _ = std::process::Command::new("stty")
            .arg("-echo")
            .stdin(std::process::Stdio::inherit())
            .status();
    }
    let mut line = String::new();
    let read = input.read_line(&mut line);
    if hide {
        let _ = std::process::Command::new("stty")
            .arg("echo")
            .stdin(std::process::Stdio::inherit())
            .status();
        eprintln!();
    }
    match read {
        Ok(0) => Ok(None),
        Ok(_) => Ok(Some(line.trim().to_owned())),
        Err(_) => Err(GatewayError::InvalidRequest {
            message: "the keys could not be read from the input".to_owned(),
            param: None,
            code: None,
        }),
    }
}

fn keys_set(c: &Common, input: &mut dyn BufRead, interactive: bool) -> Done {
    let (mut pk, mut sk, mut wh) = (None, None, None);
    if interactive {
        pk = read_value(input, true, "Publishable key (pk_…, optional)")?;
        sk = read_value(
            input,
            true,
            "Secret key (sk_…) or restricted key (rk_…, recommended)",
        )?;
        wh = read_value(input, true, "Webhook signing secret (whsec_…, optional)")?;
    } else {
        // Scripts: one value per line in any order, recognised by its prefix.
        for n in 1..=16 {
            let Some(line) = read_value(input, false, "")? else {
                break;
            };
            if line.is_empty() {
                continue;
            }
            let slot = match shape_of(&line) {
                KeyShape::Publishable(_) => &mut pk,
                KeyShape::Secret(_) | KeyShape::Restricted(_) => &mut sk,
                KeyShape::WebhookSecret => &mut wh,
                KeyShape::Unknown => {
                    return Err(GatewayError::InvalidRequest {
                        message: format!(
                            "line {n} of the input is not a Stripe key (expected pk_…, sk_…, rk_… or whsec_…)"
                        ),
                        param: None,
                        code: None,
                    });
                }
            };
            *slot = Some(line);
        }
    }
    let keys = ManualKeys::parse(pk.as_deref(), sk.as_deref().unwrap_or(""), wh.as_deref())?;
    let mode = keys.mode();
    if let Some(m) = &c.mode
        && m != mode.as_str()
    {
        return Err(GatewayError::InvalidRequest {
            message: format!(
                "these are {} mode keys, but --mode {m} was given",
                mode.as_str()
            ),
            param: None,
            code: None,
        });
    }
    let store = SecretStore::new()?;
    let mut mirror = open_mirror(c)?;
    let key_slot = SecretSlot::new(&c.store, mode, SecretKind::ApiKey);
    store.put(&key_slot, keys.api_key.secret())?;
    record_presence(&mut mirror, &store, &key_slot, true)?;
    if let Some(w) = &keys.webhook_secret {
        let slot = SecretSlot::new(&c.store, mode, SecretKind::WebhookSecret);
        store.put(&slot, w.secret())?;
        record_presence(&mut mirror, &store, &slot, true)?;
    }
    if let Some(p) = &keys.publishable {
        // Publishable keys are public (they ship in checkout pages): a plain setting.
        mirror.set_setting(
            &format!("gateway.publishable_key.{}.{}", c.store, mode.as_str()),
            Some(p.as_str()),
        )?;
    }
    mirror.set_setting(&active_mode_setting(&c.store), Some(mode.as_str()))?;
    let kind = if keys.api_key.is_restricted() {
        "restricted key"
    } else {
        "secret key"
    };
    let text = format!(
        "{} mode keys saved for store \"{}\": {kind}{} in {}\n",
        mode.as_str(),
        c.store,
        if keys.webhook_secret.is_some() {
            " and webhook signing secret"
        } else {
            ""
        },
        store.backend()
    );
    let v = json!({"store": c.store, "mode": mode, "restricted": keys.api_key.is_restricted(),
                   "webhook_secret": keys.webhook_secret.is_some(), "publishable_key": keys.publishable.is_some(),
                   "stored_in": store.backend()});
    Ok((v, text))
}

fn keys_status(c: &Common) -> Done {
    let mirror = open_mirror(c)?;
    let store = SecretStore::new();
    let mut rows = Vec::new();
    let mut keyring_error: Option<KeyringError> = None;
    for mode in [Mode::Test, Mode::Live] {
        for kind in keystore::SecretKind::ALL {
            let slot = SecretSlot::new(&c.store, mode, kind);
            let recorded = mirror.setting(&slot.presence_setting())?;
            let present = match &store {
                Ok(s) if keyring_error.is_none() => match s.exists(&slot) {
                    Ok(p) => Some(p),
                    Err(e) => {
                        keyring_error = Some(e);
                        None
                    }
                },
                _ => None,
            };
            rows.push(
                json!({"mode": mode, "kind": kind.as_str(), "present": present,
                             "recorded_in": recorded}),
            );
        }
    }
    let backend = store.as_ref().map(SecretStore::backend).ok();
    let err = keyring_error
        .as_ref()
        .map(|e| json!({"code": e.code(), "message": e.to_string()}));
    let mut text = format!(
        "store \"{}\", secrets kept in {}\n",
        c.store,
        backend.unwrap_or("no supported keyring")
    );
    for r in &rows {
        let state = match r["present"].as_bool() {
            Some(true) => "present",
            Some(false) => "missing",
            None => "unknown (keyring unreachable)",
        };
        text.push_str(&format!(
            "{:<5} {:<22} {state}\n",
            r["mode"].as_str().unwrap_or(""),
            r["kind"].as_str().unwrap_or("")
        ));
    }
    if let Some(e) = &keyring_error {
        text.push_str(&format!("warning: {e}\n"));
    }
    let mode = mode_of(c, &mirror)?;
    Ok((
        json!({"store": c.store, "backend": backend, "active_mode": mode, "secrets": rows, "keyring_error": err}),
        text,
    ))
}

#[cfg(test)]
mod tests {
    //! The commands in-process, over real sockets against the Stripe fake, with a real
    //! SQLite mirror. Keyring-backed ones are `#[ignore]`d: run them inside
    //! scripts/with-secret-service.sh with `--include-ignored`.

    use super::*;
    use fluxstore_mirror::Source;
    use fluxstore_test_support::stripe_fake::{PaymentSpec, StripeFake, TEST_SECRET_KEY};
    use fluxstore_test_support::{assert_no_secret, now};

    struct Env {
        /// The mirror's directory, holding nothing else: the secret scan reads all of it.
        dir: tempfile::TempDir,
        /// The owner's key file, apart from the data.
        keys: tempfile::TempDir,
        fake: StripeFake,
    }

    impl Env {
        async fn new() -> Env {
            Env {
                dir: tempfile::tempdir().unwrap(),
                keys: tempfile::tempdir().unwrap(),
                fake: StripeFake::start(Default::default()).await.unwrap(),
            }
        }
        fn common(&self, key: Option<&str>, json: bool) -> Common {
            let key_file = key.map(|k| {
                let p = self.keys.path().join("key");
                std::fs::write(&p, format!("{k}\n")).unwrap();
                p
            });
            Common {
                json,
                db: Some(self.dir.path().join("mirror.sqlite3")),
                key_file,
                api_base: Some(self.fake.base_url()),
                store: format!("cli-test-{}", std::process::id()),
                mode: None,
            }
        }
    }

    async fn exec(cmd: StripeCommand, stdin: &str) -> Outcome {
        execute(cmd, &mut stdin.as_bytes(), false).await
    }

    #[tokio::test]
    async fn a_revoked_key_exits_non_zero_and_never_echoes_it() {
        let env = Env::new().await;
        let revoked = "sk_test_51RevokedKeyForTheCliTest00000QWER";
        for json in [false, true] {
            let out = exec(StripeCommand::Account(env.common(Some(revoked), json)), "").await;
            assert_eq!(out.code, 3, "{out:?}");
            let all = format!("{}{}", out.stdout, out.stderr);
            assert!(all.contains("revoked"), "{all}");
            assert!(!all.contains("QWER") && !all.contains("sk_test"), "{all}");
            if json {
                let v: Value = serde_json::from_str(&out.stdout).unwrap();
                assert_eq!(v["error"]["code"], "invalid_key");
            }
        }
        assert_no_secret(env.dir.path(), &["RevokedKey"]);
    }

    #[tokio::test]
    async fn account_refund_sync_and_audit_work_end_to_end() {
        let env = Env::new().await;
        let p = env.fake.seed_payment(&PaymentSpec {
            amount: 2500,
            currency: "eur".into(),
            email: "a@example.com".into(),
            livemode: false,
            created: now() - 60,
        });
        let out = exec(
            StripeCommand::Account(env.common(Some(TEST_SECRET_KEY), false)),
            "",
        )
        .await;
        assert_eq!(out.code, 0, "{out:?}");
        assert!(out.stdout.contains("charges enabled: yes"));

        // Before the order is in the mirror, the refund is refused.
        let refund = |amount| StripeCommand::Refund {
            payment: p.payment_intent_id.clone(),
            amount,
            reason: Some("requested_by_customer".into()),
            common: env.common(Some(TEST_SECRET_KEY), true),
        };
        let out = exec(refund(Some(1000)), "").await;
        assert_eq!(out.code, 1);
        assert!(out.stdout.contains("not_a_fluxstore_object"), "{out:?}");

        let out = exec(
            StripeCommand::Sync(env.common(Some(TEST_SECRET_KEY), true)),
            "",
        )
        .await;
        assert_eq!(out.code, 0, "{out:?}");
        let v: Value = serde_json::from_str(&out.stdout).unwrap();
        assert_eq!(v["progress"]["applied"], 3);

        let out = exec(refund(Some(1000)), "").await;
        assert_eq!(out.code, 0, "{out:?}");
        let v: Value = serde_json::from_str(&out.stdout).unwrap();
        assert_eq!(
            (v["amount"].as_i64(), v["currency"].as_str()),
            (Some(1000), Some("eur"))
        );
        assert_eq!(
            env.fake.object(&p.charge_id).unwrap()["amount_refunded"],
            1000
        );

        let out = exec(
            StripeCommand::Audit {
                limit: 20,
                common: env.common(None, true),
            },
            "",
        )
        .await;
        let calls: Vec<Value> = serde_json::from_str(&out.stdout).unwrap();
        assert!(
            calls
                .iter()
                .any(|c| c["path"] == "/v1/refunds" && c["status"] == 200)
        );
        assert!(calls.iter().any(|c| c["path"] == "/v1/events"));
        let text = exec(
            StripeCommand::Audit {
                limit: 20,
                common: env.common(None, false),
            },
            "",
        )
        .await
        .stdout;
        assert!(text.contains("POST /v1/refunds"), "{text}");

        // No secret anywhere in what was printed or stored.
        assert_no_secret(env.dir.path(), &[TEST_SECRET_KEY, &TEST_SECRET_KEY[8..]]);
        let m = Mirror::open(&env.dir.path().join("mirror.sqlite3")).unwrap();
        assert!(
            m.events(None, 50)
                .unwrap()
                .iter()
                .any(|e| e.source == Source::Api),
            "refund recorded at once"
        );
    }

    #[tokio::test]
    async fn keys_set_refuses_bad_input_before_touching_the_keyring() {
        let env = Env::new().await;
        let cases = [
            (
                "pk_test_51Abcdefghijklmnop\nsk_live_51Abcdefghijklmnop\n",
                "same mode",
            ),
            ("hello there\n", "not a Stripe key"),
            ("pk_test_51Abcdefghijklmnop\n", "secret key is empty"),
        ];
        for (stdin, expected) in cases {
            let out = exec(
                StripeCommand::Keys {
                    cmd: KeysCommand::Set(env.common(None, false)),
                },
                stdin,
            )
            .await;
            assert_ne!(out.code, 0);
            assert!(out.stderr.contains(expected), "{stdin:?} → {}", out.stderr);
            assert!(!out.stderr.contains("Abcdefghijklmnop"));
        }
    }

    #[tokio::test]
    #[ignore = "needs a Secret Service: scripts/with-secret-service.sh … -- --include-ignored"]
    async fn keys_set_then_status_then_calls_with_the_stored_key() {
        let env = Env::new().await;
        let common = env.common(None, true);
        let stdin = format!(
            "whsec_cliTestSigningSecret123\n{TEST_SECRET_KEY}\npk_test_51Abcdefghijklmnop\n"
        );
        let out = exec(
            StripeCommand::Keys {
                cmd: KeysCommand::Set(common.clone()),
            },
            &stdin,
        )
        .await;
        assert_eq!(out.code, 0, "{out:?}");
        let out = exec(
            StripeCommand::Keys {
                cmd: KeysCommand::Status(common.clone()),
            },
            "",
        )
        .await;
        let v: Value = serde_json::from_str(&out.stdout).unwrap();
        let present: Vec<&str> = v["secrets"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| r["present"] == true)
            .map(|r| r["kind"].as_str().unwrap())
            .collect();
        assert_eq!(present, vec!["api_key", "webhook_secret"]);
        assert!(
            !out.stdout.contains("cliTestSigningSecret")
                && !out.stdout.contains(&TEST_SECRET_KEY[8..])
        );

        // The key now comes from the keyring.
        let out = exec(StripeCommand::Account(common.clone()), "").await;
        assert_eq!(out.code, 0, "{out:?}");
        let out = exec(
            StripeCommand::Webhook {
                cmd: WebhookCommand::Create {
                    url: "https://relay.example/api/webhooks/stripe".into(),
                    common: common.clone(),
                },
            },
            "",
        )
        .await;
        assert_eq!(out.code, 0, "{out:?}");
        let secret = env.fake.webhook_endpoints()[0]["secret"]
            .as_str()
            .unwrap()
            .to_owned();
        assert!(!out.stdout.contains(&secret));
        assert_no_secret(
            env.dir.path(),
            &[TEST_SECRET_KEY, "cliTestSigningSecret", secret.as_str()],
        );
        // Clean the throwaway entries.
        let store = SecretStore::new().unwrap();
        for kind in SecretKind::ALL {
            store
                .delete(&SecretSlot::new(&common.store, Mode::Test, kind))
                .unwrap();
        }
        let id = env.fake.webhook_endpoints()[0]["id"]
            .as_str()
            .unwrap()
            .to_owned();
        store
            .delete(
                &SecretSlot::new(&common.store, Mode::Test, SecretKind::WebhookSecret)
                    .with_label(&id),
            )
            .unwrap();
    }
}
