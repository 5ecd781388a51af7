//! The crash test: `fluxstore serve` is killed with SIGKILL while a client streams signed
//! deliveries; after a restart every event that got a 2xx is present exactly once.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use fluxstore_mirror::Mirror;
use fluxstore_relay::{SigningSecret, sign_header};
use fluxstore_test_support::{eventually, now};
use tokio::sync::Mutex;

use crate::support::{SECRET, Server, secret_file};

const CLIENTS: usize = 8;
const MAX_EVENTS: usize = 20_000;
const KILL_AFTER_ACKS: usize = 300;

fn body(n: usize) -> Vec<u8> {
    let kinds = [
        "checkout.session.completed",
        "payment_intent.succeeded",
        "charge.succeeded",
        "customer.subscription.updated",
    ];
    let mut v =
        fluxstore_samples::test_event(kinds[n % kinds.len()], false, 1_790_000_000 - n as i64)
            .expect("sample");
    fluxstore_samples::pad_to(&mut v, 3_000);
    serde_json::to_vec(&v).expect("json")
}

fn id_of(body: &[u8]) -> String {
    let v: serde_json::Value = serde_json::from_slice(body).expect("json");
    v["id"].as_str().expect("id").to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_mid_stream_loses_no_acknowledged_event() {
    let dir = tempfile::tempdir().expect("dir");
    let db = dir.path().join("mirror.sqlite3");
    let secrets = secret_file(dir.path(), "whsec.txt", SECRET);
    let secret_arg = secrets.to_str().expect("utf8").to_string();
    let server = Server::start(&db, &["--secret-file", &secret_arg], None, &[]);
    let url = server.url.clone();
    let secret = SigningSecret::new(SECRET, fluxstore_relay::Mode::Test).expect("secret");

    let next = Arc::new(AtomicUsize::new(0));
    let acked = Arc::new(Mutex::new(Vec::<String>::new()));
    let ack_count = Arc::new(AtomicUsize::new(0));
    let down = Arc::new(AtomicBool::new(false));
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .expect("client");
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..CLIENTS {
        let (client, url, secret) = (client.clone(), url.clone(), secret.clone());
        let (next, acked, ack_count, down) =
            (next.clone(), acked.clone(), ack_count.clone(), down.clone());
        tasks.spawn(async move {
            loop {
                let n = next.fetch_add(1, Ordering::SeqCst);
                if n >= MAX_EVENTS || down.load(Ordering::SeqCst) {
                    return;
                }
                let body = body(n);
                let id = id_of(&body);
                let header = sign_header(&body, &secret, now());
                let sent = client
                    .post(&url)
                    .header("Stripe-Signature", header)
                    .body(body)
                    .send()
                    .await;
                match sent {
                    Ok(resp) if resp.status().is_success() => {
                        acked.lock().await.push(id);
                        ack_count.fetch_add(1, Ordering::SeqCst);
                    }
                    Ok(resp) => panic!("unexpected status {} before the kill", resp.status()),
                    // The relay is gone: this delivery was not acknowledged.
                    Err(_) => {
                        down.store(true, Ordering::SeqCst);
                        return;
                    }
                }
            }
        });
    }
    // Enough deliveries acknowledged, then SIGKILL mid-stream.
    eventually(
        "the relay to acknowledge deliveries before the kill",
        Duration::from_secs(60),
        || ack_count.load(Ordering::SeqCst) >= KILL_AFTER_ACKS,
    )
    .await;
    let (_stdout, _stderr) = tokio::task::spawn_blocking(move || server.kill_hard())
        .await
        .expect("kill");
    down.store(true, Ordering::SeqCst);
    while let Some(done) = tasks.join_next().await {
        done.expect("client task");
    }
    let acked = acked.lock().await.clone();
    let attempted = next.load(Ordering::SeqCst).min(MAX_EVENTS);
    assert!(
        acked.len() < attempted,
        "the kill landed while deliveries were in flight"
    );

    // Restart on the same file: every acknowledged event is there exactly once.
    let server = Server::start(&db, &["--secret-file", &secret_arg], None, &[]);
    let stored: Vec<String> = Mirror::open_read_only(&db)
        .expect("mirror")
        .events(None, u32::MAX)
        .expect("events")
        .into_iter()
        .map(|e| e.id)
        .collect();
    for id in &acked {
        assert_eq!(
            stored.iter().filter(|s| *s == id).count(),
            1,
            "acknowledged event {id} is stored exactly once"
        );
    }
    // Stripe retries what was not acknowledged; the restarted relay takes it, and answers
    // the acknowledged ones as duplicates.
    let mut duplicates = 0;
    for n in 0..attempted {
        let body = body(n);
        let header = sign_header(&body, &secret, now());
        let resp = client
            .post(&server.url)
            .header("Stripe-Signature", header)
            .body(body)
            .send()
            .await
            .expect("restarted relay answers");
        assert!(resp.status().is_success());
        let v: serde_json::Value = resp.json().await.expect("json");
        if v["duplicate"] == true {
            duplicates += 1;
        }
    }
    assert!(duplicates >= acked.len());
    let (clean, _, _) = tokio::task::spawn_blocking(move || server.terminate())
        .await
        .expect("stop");
    assert!(clean);
    let total = Mirror::open_read_only(&db)
        .expect("mirror")
        .events(None, u32::MAX)
        .expect("events")
        .len();
    assert_eq!(total, attempted);
}
