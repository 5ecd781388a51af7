//! `fluxstore sync --follow --hub URL --mode test --db PATH`: the headless follower as a real
//! child process, against the real hub and the Stripe fake: a signed Connect webhook reaches
//! the mirror without waiting for a poll, and Ctrl-C (SIGINT) ends it cleanly with a summary;
//! in key mode, with live updates through the hub turned on, it follows with the store's feed
//! token from the keyring and a doorbell at the store's hub URL reaches the mirror.
//!
//! Needs a Secret Service (the Connect token and the feed token are read from the keyring):
//!   scripts/with-secret-service.sh cargo test -p fluxstore --test cli -- --include-ignored follow
use std::io::Read;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use fluxstore_gateway::SecretStore;
use fluxstore_test_support::stripe_fake::accounts::StripeAccounts;
use fluxstore_test_support::{assert_no_secret, assert_no_secret_in, wait_until};

#[path = "../../../gateway/tests/gateway/hub_rig.rs"]
mod hub_rig;
use fluxstore_mirror::Mode;
use hub_rig::{Desktop, HubDb, post_signed, post_to_store, start_hub};

use super::support::bin;

/// `fluxstore sync --follow` for `store` through `hub`, its stderr collected.
struct Follower {
    child: std::process::Child,
    err: Arc<Mutex<String>>,
    reader: std::thread::JoinHandle<()>,
}

impl Follower {
    fn start(store: &Desktop, hub: &str) -> Follower {
        let db = store.data_dir().join("mirror.db");
        let mut child = Command::new(bin())
            .args(["sync", "--follow", "--hub", hub, "--mode", "test"])
            .arg("--db")
            .arg(&db)
            .args(["--store", store.profile.store()])
            .args(["--api-base", &store.fake.base_url()])
            .env_remove("FLUXSTORE_DB")
            .env_remove("FLUXSTORE_HUB")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let err = Arc::new(Mutex::new(String::new()));
        let mut pipe = child.stderr.take().unwrap();
        let buf = err.clone();
        let reader = std::thread::spawn(move || {
            let mut chunk = [0u8; 4096];
            while let Ok(n) = pipe.read(&mut chunk) {
                if n == 0 {
                    break;
                }
                buf.lock()
                    .unwrap()
                    .push_str(&String::from_utf8_lossy(&chunk[..n]));
            }
        });
        Follower { child, err, reader }
    }

    fn said(&self, what: &str) -> bool {
        self.err.lock().unwrap().contains(what)
    }

    fn stderr(&self) -> String {
        self.err.lock().unwrap().clone()
    }

    /// Ctrl-C: the follower must end cleanly; its stdout and stderr.
    async fn interrupt(mut self) -> (String, String) {
        Command::new("kill")
            .args(["-INT", &self.child.id().to_string()])
            .status()
            .unwrap();
        let mut status = None;
        wait_until(Duration::from_secs(20), || {
            status = self.child.try_wait().unwrap();
            status.is_some()
        })
        .await;
        let status = status.unwrap_or_else(|| {
            let _ = self.child.kill();
            panic!("sync --follow did not end on SIGINT")
        });
        let mut out = String::new();
        self.child
            .stdout
            .take()
            .unwrap()
            .read_to_string(&mut out)
            .unwrap();
        self.reader.join().unwrap();
        assert!(status.success(), "{status:?}; {out}");
        let err = self.err.lock().unwrap().clone();
        (out, err)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs a Secret Service: scripts/with-secret-service.sh … -- --include-ignored"]
async fn sync_follow_stores_a_connect_webhook_from_the_hub_and_ends_cleanly_on_ctrl_c() {
    let dir = tempfile::tempdir().unwrap();
    let stripe = StripeAccounts::start().await.unwrap();
    let hub = start_hub(
        &HubDb::Sqlite(dir.path().join("hub.db")),
        "127.0.0.1:0".parse().unwrap(),
        &stripe.base_url(),
    )
    .await;
    // The store was connected through Connect (token in the app's keyring, facts in its mirror).
    let store = Desktop::connect(&stripe, &hub.url(), SecretStore::new().unwrap()).await;
    let f = Follower::start(&store, &hub.url());
    assert!(
        wait_until(Duration::from_secs(30), || f.said("hub feed live")
            && f.said("read Stripe's events"))
        .await,
        "stderr: {}",
        f.stderr()
    );

    let (_, events) = store.pay(4_200);
    let http = reqwest::Client::new();
    for e in &events {
        assert_eq!(post_signed(&http, &hub.url(), e).await, 200);
    }
    let ids: Vec<String> = events
        .iter()
        .map(|e| e["id"].as_str().unwrap().to_owned())
        .collect();
    assert!(
        wait_until(Duration::from_secs(20), || ids
            .iter()
            .all(|id| store.has(id)))
        .await,
        "stderr: {}",
        f.stderr()
    );
    for id in &ids {
        assert!(f.said(&format!("stored {id}")), "{}", f.stderr());
    }

    let (out, stderr) = f.interrupt().await;
    assert!(
        out.contains("stopped following test mode: 3 doorbells answered, 0 refused"),
        "{out}"
    );
    assert_no_secret_in(
        "the follower's output",
        format!("{out}{stderr}"),
        &[&store.token],
    );
    assert_no_secret(store.data_dir(), &[store.token.as_str()]);
    hub.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs a Secret Service: scripts/with-secret-service.sh … -- --include-ignored"]
async fn sync_follow_in_key_mode_follows_with_the_stores_feed_token() {
    let dir = tempfile::tempdir().unwrap();
    let stripe = StripeAccounts::start().await.unwrap();
    let hub = start_hub(
        &HubDb::Sqlite(dir.path().join("hub.db")),
        "127.0.0.1:0".parse().unwrap(),
        &stripe.base_url(),
    )
    .await;
    // The owner saved a secret key and turned on live updates through the hub in the app.
    let store = Desktop::with_key(&hub.url(), SecretStore::new().unwrap()).await;
    store.profile.enable_key_hub(Mode::Test).await.unwrap();
    let endpoint = store.fake.webhook_endpoints()[0]["url"]
        .as_str()
        .unwrap()
        .to_owned();
    let path = url::Url::parse(&endpoint).unwrap().path().to_owned();
    let token = store
        .profile
        .hub_token(Mode::Test)
        .await
        .unwrap()
        .expect("the feed token is in the keyring");
    let f = Follower::start(&store, &hub.url());
    assert!(
        wait_until(Duration::from_secs(30), || f.said("hub feed live")
            && f.said("read Stripe's events"))
        .await,
        "stderr: {}",
        f.stderr()
    );
    let (_, events) = store.pay_by_key(1_900);
    let http = reqwest::Client::new();
    for e in &events {
        assert_eq!(post_to_store(&http, &hub.url(), &path, e).await, 200);
    }
    let ids: Vec<String> = events
        .iter()
        .map(|e| e["id"].as_str().unwrap().to_owned())
        .collect();
    assert!(
        wait_until(Duration::from_secs(20), || ids
            .iter()
            .all(|id| store.has(id)))
        .await,
        "stderr: {}",
        f.stderr()
    );
    let (out, stderr) = f.interrupt().await;
    assert!(
        out.contains("stopped following test mode: 3 doorbells answered, 0 refused"),
        "{out}"
    );
    let store_key = path.rsplit('/').next().unwrap().to_owned();
    let secrets = [token.expose(), store_key.as_str(), store.token.as_str()];
    assert_no_secret_in("the follower's output", format!("{out}{stderr}"), &secrets);
    assert_no_secret(store.data_dir(), &secrets);
    hub.shutdown().await;
}
