//! One Stripe for the real-app end-to-end test of the live feed through the hub
//! (tests/e2e/hub.e2e.test.mjs), as a process: Stripe's Connect OAuth side (the Connect fake)
//! and Stripe's API for the connected account (the Stripe fake), joined the way Stripe is one
//! service — an access token issued by the OAuth side is a key of that account's API from the
//! moment it is issued.
//!
//! Prints six lines — the OAuth base URL (also where a Connect token is checked with
//! `GET /v1/account`), the API base URL, the platform's client id, the connected account, and
//! the paths of two files holding the platform's test-mode and live-mode secret keys — then
//! takes commands on stdin, one a line, each answered with one line:
//!
//! - `endpoint URL`: the platform adds a test-mode Connect webhook endpoint at URL with the
//!   events the product page lists; answered `endpoint PATH`, a 0600 file holding its signing
//!   secret as the hub reads it (`test whsec_…`). Secrets travel only through files.
//! - `pay`: a buyer completes a 25.00 USD Checkout payment at the connected account now; its
//!   events are delivered to the endpoints as a Connect endpoint receives them (with
//!   `account`), signed; answered `paid SESSION_ID STATUS,STATUS,…` (each delivery's HTTP
//!   status, or `error`).
//!
//! It serves until its standard input closes; the key files go with it.
use std::io::{BufRead, Write};
use std::path::Path;

use fluxstore_mirror::facts::WEBHOOK_EVENTS;
use fluxstore_test_support::connect_fake::{ConnectFake, ConnectFakeConfig};
use fluxstore_test_support::stripe_fake::{FakeKey, PaymentSpec, StripeFake, StripeFakeConfig};

fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    file.write_all(text.as_bytes())?;
    file.sync_all()
}

fn say(line: &str) -> std::io::Result<()> {
    let mut out = std::io::stdout().lock();
    writeln!(out, "{line}")?;
    out.flush()
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> std::io::Result<()> {
    let api = std::sync::Arc::new(StripeFake::start(StripeFakeConfig::default()).await?);
    let account = api.account_id();
    let oauth = ConnectFake::start(ConnectFakeConfig {
        account_id: account.clone(),
        ..ConnectFakeConfig::default()
    })
    .await?;
    let issued_to = api.clone();
    oauth.on_token_issued(move |token, _account| issued_to.accept_key(FakeKey::secret(token)));

    let files = tempfile::Builder::new()
        .prefix("fluxstore-hub-fake-")
        .tempdir()?;
    let test_key = files.path().join("platform-test.key");
    let live_key = files.path().join("platform-live.key");
    write_private(&test_key, &oauth.config().platform_key)?;
    write_private(&live_key, &oauth.config().live_platform_key)?;
    say(&oauth.base_url())?;
    say(&api.base_url())?;
    say(&oauth.config().client_id)?;
    say(&account)?;
    say(&test_key.display().to_string())?;
    say(&live_key.display().to_string())?;

    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<String>();
    std::thread::spawn(move || {
        for line in std::io::stdin().lock().lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let mut endpoints = 0;
    while let Some(line) = rx.recv().await {
        let line = line.trim();
        if let Some(url) = line.strip_prefix("endpoint ") {
            let events: Vec<&str> = WEBHOOK_EVENTS.iter().map(|e| e.event_type).collect();
            let endpoint = api.add_webhook_endpoint(url.trim(), &events, "enabled", false);
            endpoints += 1;
            let path = files.path().join(format!("endpoint-{endpoints}.secrets"));
            let secret = endpoint["secret"].as_str().unwrap_or_default();
            write_private(&path, &format!("test {secret}\n"))?;
            say(&format!("endpoint {}", path.display()))?;
        } else if line == "pay" {
            let paid = api.seed_payment(&PaymentSpec {
                amount: 2_500,
                currency: "usd".to_owned(),
                email: "buyer@example.com".to_owned(),
                livemode: false,
                created: fluxstore_test_support::now(),
            });
            let mut statuses = Vec::new();
            for event in &paid.events {
                let mut event = event.clone();
                event["account"] = serde_json::Value::String(account.clone());
                for (_, result) in api.deliver(&event).await {
                    statuses.push(match result {
                        Ok(status) => status.to_string(),
                        Err(_) => "error".to_owned(),
                    });
                }
            }
            say(&format!("paid {} {}", paid.session_id, statuses.join(",")))?;
        } else if !line.is_empty() {
            eprintln!("hub-fake: unknown command {line:?} (endpoint URL, or pay)");
        }
    }
    drop(oauth);
    Ok(())
}
