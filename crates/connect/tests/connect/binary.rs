//! The `fluxstore-connect` binary as an operator runs it: key from a file, Stripe's bases
//! pointed at the local fake, a full sign-in through it, and not a trace of the platform key
//! in its output even at the most verbose log level.

use std::io::Read;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use fluxstore_gateway::oauth::{ConnectOptions, PendingConnect};
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

#[tokio::test]
async fn the_binary_brokers_a_sign_in_and_never_prints_the_platform_key() {
    let fake = ConnectFake::start(ConnectFakeConfig::default())
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let key_file = dir.path().join("platform.key");
    std::fs::write(&key_file, format!("{}\n", fake.config().platform_key)).unwrap();
    let port = free_port();
    let public = format!("http://127.0.0.1:{port}");
    let mut child = Command::new(env!("CARGO_BIN_EXE_fluxstore-connect"))
        .args([
            "--listen",
            &format!("127.0.0.1:{port}"),
            "--public-url",
            &public,
        ])
        .args(["--client-id", &fake.config().client_id])
        .arg("--platform-key-file")
        .arg(&key_file)
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
    let mut stdout = child.stdout.take().unwrap();
    let mut stderr = child.stderr.take().unwrap();
    let service = Service(child);

    let health = format!("{public}/healthz");
    eventually_async("the service to answer its health check", GUARD, || async {
        reqwest::get(&health).await.is_ok_and(|r| r.status() == 200)
    })
    .await;

    let pending = PendingConnect::start(ConnectOptions::new(Url::parse(&public).unwrap()))
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
    assert_eq!(tokens.stripe_user_id, fake.config().account_id);

    drop(service);
    let mut out = String::new();
    stdout.read_to_string(&mut out).unwrap();
    stderr.read_to_string(&mut out).unwrap();
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
