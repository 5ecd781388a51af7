//! The `fluxstore-connect` binary as an operator runs it: keys from files (one, or one per
//! mode), Stripe's bases pointed at the local fake, full sign-ins through it, and not a trace
//! of a platform key or a token in its output even at the most verbose log level.

use std::io::Read;
use std::path::Path;
use std::process::{Child, ChildStderr, ChildStdout, Command, Stdio};
use std::time::Duration;

use fluxstore_gateway::oauth::{ConnectOptions, ConnectTokens, PendingConnect};
use fluxstore_mirror::Mode;
use fluxstore_test_support::connect_fake::{ConnectFake, ConnectFakeConfig};
use fluxstore_test_support::{GUARD, eventually_async};
use url::Url;

/// Kills the service when the test ends, however it ends.
struct Service(Child);

impl Drop for Service {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The binary, started against the fake with `key_files`, answering on its health path.
async fn start_binary(
    fake: &ConnectFake,
    key_files: &[&Path],
) -> (Service, String, ChildStdout, ChildStderr) {
    let port = free_port();
    let public = format!("http://127.0.0.1:{port}");
    let mut command = Command::new(env!("CARGO_BIN_EXE_fluxstore-connect"));
    command
        .args([
            "--listen",
            &format!("127.0.0.1:{port}"),
            "--public-url",
            &public,
        ])
        .args(["--client-id", &fake.config().client_id]);
    for file in key_files {
        command.arg("--platform-key-file").arg(file);
    }
    let mut child = command
        .args([
            "--stripe-connect-base",
            &fake.base_url(),
            "--stripe-api-base",
            &fake.base_url(),
        ])
        .env("RUST_LOG", "trace")
        .env("NO_COLOR", "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary starts");
    let stdout = child.stdout.take().unwrap();
    let stderr = child.stderr.take().unwrap();
    let service = Service(child);

    let health = format!("{public}/healthz");
    eventually_async("the service to answer its health check", GUARD, || async {
        reqwest::get(&health).await.is_ok_and(|r| r.status() == 200)
    })
    .await;
    (service, public, stdout, stderr)
}

/// One whole sign-in through the service at `public`, in `mode`.
async fn sign_in(public: &str, mode: Mode) -> ConnectTokens {
    let pending = PendingConnect::start(ConnectOptions::new(Url::parse(public).unwrap(), mode))
        .await
        .unwrap();
    let url = pending.authorize_url().clone();
    let finish = tokio::spawn(pending.finish());
    let page = crate::rig::browser()
        .get(url)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let tokens = tokio::time::timeout(Duration::from_secs(30), finish)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert!(page.contains("Connected to Stripe"));
    tokens
}

/// Everything the binary printed, once it is stopped.
fn output(service: Service, mut stdout: ChildStdout, mut stderr: ChildStderr) -> String {
    drop(service);
    let mut out = String::new();
    stdout.read_to_string(&mut out).unwrap();
    stderr.read_to_string(&mut out).unwrap();
    out
}

#[tokio::test]
async fn the_binary_brokers_a_sign_in_and_never_prints_the_platform_key() {
    let fake = ConnectFake::start(ConnectFakeConfig::default())
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let key_file = dir.path().join("platform.key");
    std::fs::write(&key_file, format!("{}\n", fake.config().platform_key)).unwrap();
    let (service, public, stdout, stderr) = start_binary(&fake, &[&key_file]).await;

    let tokens = sign_in(&public, Mode::Test).await;
    assert_eq!(tokens.stripe_user_id, fake.config().account_id);

    let out = output(service, stdout, stderr);
    assert!(
        out.contains("oauth/callback"),
        "the operator is told the callback URL: {out}"
    );
    assert!(
        !out.contains(&fake.config().platform_key),
        "the platform key was printed"
    );
    assert!(
        !out.contains(tokens.access_token.expose()),
        "an access token was printed"
    );
}

#[tokio::test]
async fn the_binary_with_two_key_files_serves_each_mode_with_its_key() {
    let fake = ConnectFake::start(ConnectFakeConfig::default())
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (live_file, test_file) = (dir.path().join("live.key"), dir.path().join("test.key"));
    std::fs::write(&live_file, &fake.config().live_platform_key).unwrap();
    std::fs::write(&test_file, format!("{}\n", fake.config().platform_key)).unwrap();
    let (service, public, stdout, stderr) = start_binary(&fake, &[&live_file, &test_file]).await;

    let live = sign_in(&public, Mode::Live).await;
    let test = sign_in(&public, Mode::Test).await;
    assert_eq!(live.mode(), Mode::Live);
    assert!(live.access_token.expose().starts_with("sk_live_"));
    assert_eq!(test.mode(), Mode::Test);
    assert!(test.access_token.expose().starts_with("sk_test_"));
    let keys_used: Vec<bool> = fake.redemptions().iter().map(|r| r.live_key).collect();
    assert_eq!(
        keys_used,
        vec![true, false],
        "each mode's code redeemed with its key"
    );

    let out = output(service, stdout, stderr);
    assert!(
        out.contains("test, live"),
        "the operator is told the modes: {out}"
    );
    for secret in [
        fake.config().platform_key.as_str(),
        fake.config().live_platform_key.as_str(),
        live.access_token.expose(),
        test.access_token.expose(),
    ] {
        assert!(!out.contains(secret), "a key or token was printed");
    }
}

#[test]
fn two_key_files_of_one_mode_stop_the_binary_naming_both_files() {
    let dir = tempfile::tempdir().unwrap();
    let (first, second) = (dir.path().join("first.key"), dir.path().join("second.key"));
    std::fs::write(&first, "sk_test_firstSecretPlatformKey").unwrap();
    std::fs::write(&second, "sk_test_secondSecretPlatformKey").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_fluxstore-connect"))
        .args([
            "--listen",
            "127.0.0.1:0",
            "--public-url",
            "https://connect.example.com",
        ])
        .args(["--client-id", "ca_123"])
        .arg("--platform-key-file")
        .arg(&first)
        .arg("--platform-key-file")
        .arg(&second)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let text =
        String::from_utf8_lossy(&out.stderr).into_owned() + &String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("first.key") && text.contains("second.key"),
        "{text}"
    );
    assert!(text.contains("test-mode key"), "{text}");
    assert!(!text.contains("SecretPlatformKey"), "{text}");
}

#[test]
fn a_bad_key_file_stops_the_binary_with_a_message_that_does_not_echo_it() {
    let dir = tempfile::tempdir().unwrap();
    let key_file = dir.path().join("platform.key");
    std::fs::write(&key_file, "rk_live_restrictedKeyIsNotAPlatformKey").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_fluxstore-connect"))
        .args([
            "--listen",
            "127.0.0.1:0",
            "--public-url",
            "https://connect.example.com",
        ])
        .args(["--client-id", "ca_123"])
        .arg("--platform-key-file")
        .arg(&key_file)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let text =
        String::from_utf8_lossy(&out.stderr).into_owned() + &String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("platform key"), "{text}");
    assert!(!text.contains("restrictedKeyIsNotAPlatformKey"), "{text}");
}
