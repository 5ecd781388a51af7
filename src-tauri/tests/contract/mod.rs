//! Contract transcripts: the UI's in-memory backend answers like this shell because both run
//! the same scenarios (`ui/tests/contract/scenarios/*.json`) and must produce the same
//! transcript (`ui/tests/contract/transcripts/*.json`). This test records the transcript from
//! a real `AppState` through `commands::dispatch` (the handler table itself), against the Stripe
//! fake or the real Connect service in front of the Connect fake; the UI's `contract.test.ts`
//! replays the scenarios on the memory backend and compares with the same files. A stale
//! transcript fails here; `FLUXSTORE_WRITE_TRANSCRIPTS=1` rewrites them.
//!
//! A pasted secret in the arguments is shown as `<secret>`. What else a transcript leaves out
//! (clock, generated ids, ports, PKCE values, the account's own facts at Stripe) is in
//! [`normalize`], mirrored exactly in the UI's test.
//!
//! Needs a Secret Service (keys and tokens go to the OS keyring); run inside the throwaway one:
//!   scripts/with-secret-service.sh cargo test -p fluxstore-desktop --test shell contract -- --include-ignored
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use fluxstore_connect::{Config, PlatformKeys, RunningService};
use fluxstore_desktop::commands::dispatch;
use fluxstore_desktop::dto::*;
use fluxstore_desktop::notify::Notify;
use fluxstore_desktop::state::AppState;
use fluxstore_gateway::SecretStore;
use fluxstore_gateway::profile::Setting;
use fluxstore_relay::{SigningSecret, sign_header};
use fluxstore_test_support::connect_fake::{ConnectFake, ConnectFakeConfig, Decision};
use fluxstore_test_support::stripe_fake::{AccountSpec, StripeFake, StripeFakeConfig};
use secrecy::SecretString;
use serde_json::{Map, Value, json};
use url::Url;

mod normalize;
use normalize::{Names, normalize};

/// The memory backend's stand-in for the Connect service's address in scenario arguments.
const CONNECT_SERVICE_ARG: &str = "$CONNECT_SERVICE";
/// The same for the FluxStore hub's address (a scenario with `"hub": true` gets a real hub).
const HUB_ARG: &str = "$HUB";

/// Every event the window would get, in order, as (event name, payload).
#[derive(Default)]
struct Events(Mutex<Vec<(String, Value)>>);

impl Events {
    fn push(&self, name: &str, payload: Value) {
        self.0.lock().unwrap().push((name.to_owned(), payload));
    }
    fn len(&self) -> usize {
        self.0.lock().unwrap().len()
    }
    fn since(&self, from: usize) -> Vec<(String, Value)> {
        self.0.lock().unwrap()[from..].to_vec()
    }
}

impl Notify for Events {
    fn event_applied(&self, event: &AppliedEvent) {
        self.push("event_applied", json!(event));
    }
    fn sync_progress(&self, progress: &SyncProgress) {
        self.push("sync_progress", json!(progress));
    }
    fn online_changed(&self, online: OnlineChanged) {
        self.push("online_changed", json!(online));
    }
    fn account_changed(&self, status: &ConnectionStatus) {
        self.push("account_changed", json!(status));
    }
    fn sign_in_ended(&self, ended: &SignInEnded) {
        self.push("sign_in_ended", json!(ended));
    }
    fn hub_feed_changed(&self, status: &HubFeedStatus) {
        self.push("hub_feed_changed", json!(status));
    }
    fn open_in_browser(&self, url: &str) -> Result<(), String> {
        self.push("opened_in_browser", json!({ "url": url }));
        Ok(())
    }
    /// The scenarios' owner closes the file dialog without picking a file.
    fn pick_file(
        &self,
        _title: &str,
        _filter: &str,
        _extensions: &[&str],
    ) -> Result<Option<PathBuf>, String> {
        Ok(None)
    }

    fn show_notice(&self, notice: &Notice) {
        self.push("notice_shown", json!(notice));
    }
    fn choose_save_path(&self, _suggested_name: &str) -> Option<PathBuf> {
        // The contract's owner cancels every save dialog: nothing is written.
        None
    }
}

fn contract_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../ui/tests/contract")
}

fn keyring(scenario: &str) -> SecretStore {
    crate::support::keyring(&format!("contract {scenario}"))
}

async fn connect_service(fake: &ConnectFake) -> RunningService {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let public = Url::parse(&format!("http://{}", listener.local_addr().unwrap())).unwrap();
    let keys = PlatformKeys::from_keys([
        SecretString::from(fake.config().platform_key.clone()),
        SecretString::from(fake.config().live_platform_key.clone()),
    ])
    .unwrap();
    let mut config = Config::with_platform_keys(public, &fake.config().client_id, keys).unwrap();
    config.stripe_connect_base = Url::parse(&fake.base_url()).unwrap();
    config.stripe_api_base = Url::parse(&fake.base_url()).unwrap();
    RunningService::spawn(listener, config).unwrap()
}

/// The owner's browser: follows every redirect and keeps cookies, like a real one
/// (hang-guarded).
fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::limited(10))
        .timeout(Duration::from_secs(20))
        .build()
        .unwrap()
}

/// Wait until no new event arrived for a moment (the shell reports sign-in endings and the
/// connection after them from background tasks), bounded.
async fn quiet(events: &Events) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    let mut seen = events.len();
    loop {
        tokio::time::sleep(Duration::from_millis(400)).await;
        let now = events.len();
        if now == seen || tokio::time::Instant::now() > deadline {
            return;
        }
        seen = now;
    }
}

/// The arguments as the transcript shows them: a pasted secret is only named, never kept.
fn redacted(args: &Value) -> Value {
    let mut shown = args.clone();
    if let Some(o) = shown.as_object_mut() {
        for key in SECRET_ARGS {
            if let Some(v) = o.get_mut(key) {
                *v = json!("<secret>");
            }
        }
    }
    shown
}

/// Command arguments that carry a secret (`SecretInput` fields).
const SECRET_ARGS: [&str; 2] = ["secret_key", "webhook_secret"];

/// Replace the Connect service and hub placeholders in a scenario's arguments.
fn with_service(args: &Value, service: &str, hub: &str) -> Value {
    match args {
        Value::String(s) => Value::String(
            s.replace(CONNECT_SERVICE_ARG, service)
                .replace(HUB_ARG, hub),
        ),
        Value::Array(a) => Value::Array(a.iter().map(|v| with_service(v, service, hub)).collect()),
        Value::Object(o) => Value::Object(
            o.iter()
                .map(|(k, v)| (k.clone(), with_service(v, service, hub)))
                .collect(),
        ),
        other => other.clone(),
    }
}

/// A real hub on loopback (embedded SQLite in `dir`), its public address its own.
async fn start_hub(dir: &std::path::Path) -> fluxstore_hub::HubHandle {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let public = Url::parse(&format!("http://{addr}")).unwrap();
    let secrets =
        fluxstore_hub::PlatformSecrets::parse("test whsec_contracthubplatformsecret00000001\n")
            .unwrap();
    let config = fluxstore_hub::HubConfig::new(addr, public, secrets).unwrap();
    let store = fluxstore_hub::SqliteStore::open(&dir.join("hub.db")).unwrap();
    fluxstore_hub::Hub::spawn(listener, config, store).unwrap()
}

/// Run one scenario against a real `AppState` and return its raw transcript, with the
/// Connect service's and the hub's addresses.
async fn record(name: &str, scenario: &Value) -> (Value, String, Option<String>) {
    let stripe = scenario["stripe"].as_str().unwrap_or("keys");
    // The scenario's fixed identities, so both sides connect the same account.
    let mut connect_config = ConnectFakeConfig::default();
    if let Some(account) = scenario["identities"]["connect_account"].as_str() {
        connect_config.account_id = account.to_owned();
    }
    let connect = ConnectFake::start(connect_config).await.unwrap();
    let service = connect_service(&connect).await;
    let service_url = service.base_url().to_string();
    let service_url = service_url.trim_end_matches('/').to_owned();
    let stripe_fake = StripeFake::start(StripeFakeConfig::default())
        .await
        .unwrap();
    let api_base = match stripe {
        "connect" => connect.base_url(),
        _ => stripe_fake.base_url(),
    };
    let dir = tempfile::tempdir().unwrap();
    let hub = if scenario["hub"].as_bool() == Some(true) {
        Some(start_hub(dir.path()).await)
    } else {
        None
    };
    let hub_url = hub
        .as_ref()
        .map(|h| h.url().trim_end_matches('/').to_owned());
    let events = Arc::new(Events::default());
    let state = AppState::open_with(
        dir.path(),
        events.clone(),
        Some(keyring(name)),
        Some(api_base),
    )
    .await
    .unwrap();

    // Any free port for the relay: the owner's usual one (8787) belongs to the other shell
    // tests, which expect to get it back after a restart.
    state
        .real
        .set_setting(Setting::RelayPort, Some("0".into()))
        .await
        .unwrap();

    let mut steps = Vec::new();
    let mut last_opened: Option<String> = None;
    let mut webhook_secret: Option<String> = None;
    for step in scenario["steps"].as_array().expect("steps") {
        let from = events.len();
        let mut entry = Map::new();
        if let Some(command) = step.get("call").and_then(Value::as_str) {
            let args = with_service(
                step.get("args").unwrap_or(&Value::Null),
                &service_url,
                hub_url.as_deref().unwrap_or(HUB_ARG),
            );
            entry.insert("call".into(), json!(command));
            if let Some(secret) = args["webhook_secret"].as_str() {
                webhook_secret = Some(secret.to_owned());
            }
            if !args.is_null() {
                entry.insert("args".into(), redacted(&args));
            }
            match dispatch(&state, command, args).await {
                Ok(v) => entry.insert("ok".into(), v),
                Err(e) => entry.insert("err".into(), json!(e)),
            };
        } else if let Some(action) = step.get("browser").and_then(Value::as_str) {
            entry.insert("browser".into(), json!(action));
            connect.set_decision(match action {
                "deny" => Decision::Deny,
                _ => Decision::Approve,
            });
            let url = last_opened.clone().expect("a sign-in was started");
            browser().get(url).send().await.unwrap();
        } else if let Some(change) = step.get("stripe").and_then(Value::as_str) {
            assert_eq!(change, "account_updated", "{name}: unknown Stripe change");
            entry.insert("stripe".into(), json!(change));
            let mode = step["mode"].as_str().expect("the mode of the change");
            entry.insert("mode".into(), json!(mode));
            // Stripe finished verifying the account and delivers its signed account.updated
            // to the relay with the signing secret the scenario saved.
            let secret = webhook_secret.clone().expect("a signing secret was saved");
            let relay = state
                .connection_status()
                .await
                .unwrap()
                .relay
                .local_url
                .expect("the relay listens");
            let spec = AccountSpec {
                id: stripe_fake.account_id(),
                ..AccountSpec::default()
            };
            let t = fluxstore_test_support::now();
            let event = stripe_fake.update_account(spec, mode == "live", t);
            let body = serde_json::to_vec(&event).unwrap();
            let secret_mode = if mode == "live" {
                fluxstore_mirror::Mode::Live
            } else {
                fluxstore_mirror::Mode::Test
            };
            let signature =
                sign_header(&body, &SigningSecret::new(&secret, secret_mode).unwrap(), t);
            let answer = reqwest::Client::new()
                .post(relay)
                .header("Stripe-Signature", signature)
                .body(body)
                .send()
                .await
                .unwrap();
            assert!(answer.status().is_success(), "{}", answer.status());
        } else {
            panic!("{name}: unknown step {step}");
        }
        quiet(&events).await;
        let emitted: Vec<Value> = events
            .since(from)
            .into_iter()
            .map(|(event, payload)| {
                if event == "opened_in_browser" {
                    last_opened = payload["url"].as_str().map(str::to_owned);
                }
                json!({ "event": event, "payload": payload })
            })
            .collect();
        entry.insert("events".into(), Value::Array(emitted));
        steps.push(Value::Object(entry));
    }
    state.shutdown().await;
    service.stop().await;
    if let Some(hub) = hub {
        hub.shutdown().await;
    }
    (
        json!({ "scenario": name, "steps": steps }),
        service_url,
        hub_url,
    )
}

/// Where a committed transcript and the shell's answer part, for the failure message.
fn first_difference(name: &str, committed: &str, recorded: &str) -> String {
    let mut committed_lines = committed.lines();
    for (i, line) in recorded.lines().enumerate() {
        let old = committed_lines.next();
        if old != Some(line) {
            return format!(
                "{name}.json line {}: committed {:?}, the shell now gives {line:?}",
                i + 1,
                old.unwrap_or("(nothing)")
            );
        }
    }
    format!("{name}.json: the committed transcript goes on past the shell's")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs a Secret Service: scripts/with-secret-service.sh … -- --include-ignored"]
async fn contract_transcripts_match_the_shell() {
    let dir = contract_dir();
    let mut scenarios: Vec<PathBuf> = std::fs::read_dir(dir.join("scenarios"))
        .expect("scenarios dir")
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    scenarios.sort();
    assert!(!scenarios.is_empty(), "no scenarios");
    let write = std::env::var_os("FLUXSTORE_WRITE_TRANSCRIPTS").is_some();
    let mut stale = Vec::new();
    // A transcript whose scenario is gone would keep testing the memory backend against
    // answers nobody records any more.
    for entry in std::fs::read_dir(dir.join("transcripts")).expect("transcripts dir") {
        let path = entry.unwrap().path();
        let scenario = dir.join("scenarios").join(path.file_name().unwrap());
        if !scenario.exists() {
            stale.push(format!("{}: no scenario records it", path.display()));
        }
    }
    for path in scenarios {
        let name = path.file_stem().unwrap().to_string_lossy().into_owned();
        let scenario_text = std::fs::read_to_string(&path).unwrap();
        let scenario: Value = serde_json::from_str(&scenario_text).unwrap();
        let (raw, service, hub) = record(&name, &scenario).await;
        let mut names = Names {
            scenario: scenario_text,
            service,
            hub,
            accounts: Vec::new(),
            events: Vec::new(),
            generated: Vec::new(),
        };
        let transcript = normalize(&raw, &mut names);
        let text = format!("{}\n", serde_json::to_string_pretty(&transcript).unwrap());
        let target = dir.join("transcripts").join(format!("{name}.json"));
        let committed = std::fs::read_to_string(&target).unwrap_or_default();
        if committed != text {
            if write {
                std::fs::write(&target, &text).unwrap();
            } else {
                stale.push(first_difference(&name, &committed, &text));
            }
        }
    }
    assert!(
        stale.is_empty(),
        "the shell's transcripts differ from the committed ones; if the change is intended, \
         rerun with FLUXSTORE_WRITE_TRANSCRIPTS=1 and make the memory backend match:\n{}",
        stale.join("\n")
    );
}

#[tokio::test]
async fn dispatch_is_the_handler_by_name() {
    let dir = tempfile::tempdir().unwrap();
    let state = AppState::open(dir.path(), Arc::new(Events::default()), None)
        .await
        .unwrap();
    let by_name = dispatch(&state, "connection_status", Value::Null)
        .await
        .unwrap();
    assert_eq!(by_name, json!(state.connection_status().await.unwrap()));
    let e = dispatch(&state, "no_such_command", Value::Null)
        .await
        .unwrap_err();
    assert_eq!(e.code, fluxstore_desktop::error::ErrorCode::InvalidInput);
    let e = dispatch(&state, "disconnect", json!({ "mode": "sideways" }))
        .await
        .unwrap_err();
    assert_eq!(e.code, fluxstore_desktop::error::ErrorCode::InvalidInput);
    assert!(e.message.contains("disconnect"), "{}", e.message);
    state.shutdown().await;
}
