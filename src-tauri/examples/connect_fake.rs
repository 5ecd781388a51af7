//! The local fake of Stripe's Connect OAuth endpoints as a process, for the real-app
//! end-to-end tests of Connect sign-ins (tests/e2e/connect.e2e.test.mjs), which run the
//! FluxStore Connect service in front of it.
//!
//! Prints five lines — the fake's base URL (Stripe's Connect base and API base alike), the
//! platform's client id, the account every approval connects, and the paths of two files
//! holding the platform's test-mode and live-mode secret keys — then serves until its standard
//! input closes. The keys travel only through those files (mode 0600, removed on exit), never
//! through argv, the environment or stdout, since the Connect service reads them the same way.
//!
//! What the owner does at Stripe's authorize page is switched at run time by a line on stdin,
//! `approve` or `deny`; each is acknowledged with a line `decision approve|deny` once it holds
//! for the next authorize request, so a test never races its own switch.
use std::io::{BufRead, Write};
use std::path::Path;

use fluxstore_test_support::connect_fake::{ConnectFake, ConnectFakeConfig, Decision};

fn write_key(path: &Path, key: &str) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    file.write_all(key.as_bytes())?;
    file.sync_all()
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> std::io::Result<()> {
    let fake = ConnectFake::start(ConnectFakeConfig::default()).await?;
    // Removed when this process ends (the guard drops at the end of main).
    let keys = tempfile::Builder::new()
        .prefix("fluxstore-connect-fake-")
        .tempdir()?;
    let test_key = keys.path().join("platform-test.key");
    let live_key = keys.path().join("platform-live.key");
    write_key(&test_key, &fake.config().platform_key)?;
    write_key(&live_key, &fake.config().live_platform_key)?;

    {
        let mut out = std::io::stdout().lock();
        writeln!(out, "{}", fake.base_url())?;
        writeln!(out, "{}", fake.config().client_id)?;
        writeln!(out, "{}", fake.config().account_id)?;
        writeln!(out, "{}", test_key.display())?;
        writeln!(out, "{}", live_key.display())?;
        out.flush()?;
    }

    // Decisions from stdin until the test run closes it.
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<String>();
    std::thread::spawn(move || {
        let stdin = std::io::stdin();
        for line in stdin.lock().lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    while let Some(line) = rx.recv().await {
        let (decision, word) = match line.trim() {
            "approve" => (Decision::Approve, "approve"),
            "deny" => (Decision::Deny, "deny"),
            "" => continue,
            other => {
                eprintln!("connect-fake: unknown command {other:?} (approve or deny)");
                continue;
            }
        };
        fake.set_decision(decision);
        let mut out = std::io::stdout().lock();
        writeln!(out, "decision {word}")?;
        out.flush()?;
    }
    drop(fake);
    drop(keys);
    Ok(())
}
