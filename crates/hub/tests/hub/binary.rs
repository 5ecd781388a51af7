//! The `fluxstore-hub` binary with the contract's flags.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

use fluxstore_test_support::assert_no_secret_in;

use crate::rig;

const BIN: &str = env!("CARGO_BIN_EXE_fluxstore-hub");

pub fn secret_file(dir: &std::path::Path, name: &str, text: &str) -> std::path::PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
    path
}

/// Start the binary with the required flags (and a database URL through the environment);
/// the child and its URL, read from its one line on standard output.
pub async fn spawn_hub(
    dir: &std::path::Path,
    secrets: &std::path::Path,
    database_url: Option<&str>,
) -> (std::process::Child, String) {
    let mut command = Command::new(BIN);
    command
        .current_dir(dir)
        .args([
            "--listen",
            "127.0.0.1:0",
            "--public-url",
            "https://hub.example.test",
        ])
        .arg("--webhook-secret-file")
        .arg(secrets)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    match database_url {
        Some(url) => command.env("FLUXSTORE_HUB_DATABASE_URL", url),
        None => command.env_remove("FLUXSTORE_HUB_DATABASE_URL"),
    };
    let mut child = command.spawn().unwrap();
    let stdout = child.stdout.take().unwrap();
    let line = tokio::task::spawn_blocking(move || {
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line).unwrap();
        line
    });
    let line = tokio::time::timeout(Duration::from_secs(30), line)
        .await
        .unwrap()
        .unwrap();
    let url = line
        .trim()
        .strip_prefix("fluxstore-hub listening on ")
        .unwrap_or_else(|| panic!("the hub did not start: {line:?}"))
        .to_owned();
    (child, url)
}

#[tokio::test]
async fn the_hub_starts_with_only_the_required_flags_on_its_embedded_store() {
    let dir = rig::data_dir();
    let secrets = secret_file(dir.path(), "webhook-secrets", &rig::secret_file_text());
    let (child, url) = spawn_hub(dir.path(), &secrets, None).await;
    assert_eq!(
        reqwest::get(format!("{url}/healthz"))
            .await
            .unwrap()
            .status(),
        200
    );
    let store = rig::register(&url).await;
    assert!(
        store["webhook_url"]
            .as_str()
            .unwrap()
            .starts_with("https://hub.example.test/api/webhooks/stripe/s/hsk_")
    );
    let body = rig::event(
        &rig::new_event_id(),
        "charge.succeeded",
        Some("acct_1Bin"),
        false,
    )
    .to_string();
    assert_eq!(
        rig::post_signed(&url, body.as_bytes(), rig::TEST_SECRET, rig::now())
            .await
            .0,
        200
    );
    assert!(
        dir.path().join("fluxstore-hub.db").exists(),
        "the embedded store is in the working directory"
    );
    let _ = Command::new("kill").arg(child.id().to_string()).status();
    let out = child.wait_with_output().unwrap();
    let log = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_no_secret_in(
        "the hub's log",
        &log,
        &[rig::TEST_SECRET, rig::TEST_SECRET_NEXT, rig::LIVE_SECRET],
    );
}

#[test]
fn a_password_on_the_command_line_or_a_bad_secret_line_stops_the_hub_with_a_clear_reason() {
    let dir = rig::data_dir();
    let secrets = secret_file(dir.path(), "webhook-secrets", &rig::secret_file_text());
    let out = Command::new(BIN)
        .current_dir(dir.path())
        .args([
            "--listen",
            "127.0.0.1:0",
            "--public-url",
            "https://hub.example.test",
        ])
        .arg("--webhook-secret-file")
        .arg(&secrets)
        .args([
            "--database-url",
            "postgres://hub:pw-on-argv-1234@127.0.0.1:1/hub",
        ])
        .env_remove("FLUXSTORE_HUB_DATABASE_URL")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("FLUXSTORE_HUB_DATABASE_URL"), "{stderr}");
    assert_no_secret_in("the hub's error", stderr.as_bytes(), &["pw-on-argv-1234"]);

    let bad = secret_file(
        dir.path(),
        "bad-secrets",
        &format!("test {}\n{}\n", rig::TEST_SECRET, rig::LIVE_SECRET),
    );
    let out = Command::new(BIN)
        .current_dir(dir.path())
        .args([
            "--listen",
            "127.0.0.1:0",
            "--public-url",
            "https://hub.example.test",
        ])
        .arg("--webhook-secret-file")
        .arg(&bad)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("line 2") && stderr.contains("live whsec_"),
        "{stderr}"
    );
    assert_no_secret_in(
        "the hub's error",
        stderr.as_bytes(),
        &[rig::TEST_SECRET, rig::LIVE_SECRET],
    );

    let out = Command::new(BIN)
        .args([
            "--listen",
            "127.0.0.1:0",
            "--public-url",
            "http://hub.example.test",
        ])
        .arg("--webhook-secret-file")
        .arg(&secrets)
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("must be https"));
}
