//! A flood of bad requests: counted per hour and code in a few rows, never a commit each,
//! never waiting for the database, refused from the headers alone when they can be.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use fluxstore_test_support::GUARD;

use crate::support::{
    SECRET, TestRelay, error_code, event_body, now, parse_response, raw_http, secret,
};

/// `count` requests of each kind that anyone can send, over keep-alive connections.
async fn flood(relay: &TestRelay, count: usize) {
    let t = now();
    let body = event_body("checkout.session.completed", 3);
    let wrong = fluxstore_relay::sign_header(&body, &secret("whsec_not_this_endpoint0000"), t);
    let stale = fluxstore_relay::sign_header(&body, &secret(SECRET), t - 3_600);
    let root = relay.url.replace("/api/webhooks/stripe", "/");
    let mut tasks = tokio::task::JoinSet::new();
    for worker in 0..16 {
        let (client, url, root) = (relay.client.clone(), relay.url.clone(), root.clone());
        let (body, wrong, stale) = (body.clone(), wrong.clone(), stale.clone());
        tasks.spawn(async move {
            for i in (worker..count * 5).step_by(16) {
                let req = match i % 5 {
                    0 => client.post(&url).body(body.clone()),
                    1 => client
                        .post(&url)
                        .header("Stripe-Signature", &wrong)
                        .body(body.clone()),
                    2 => client
                        .post(&url)
                        .header("Stripe-Signature", &stale)
                        .body(body.clone()),
                    3 => client.get(&url),
                    _ => client.post(&root).body(body.clone()),
                };
                let status = req.send().await.expect("answer").status().as_u16();
                assert!(matches!(status, 400 | 404 | 405), "status {status}");
            }
        });
    }
    while let Some(done) = tasks.join_next().await {
        done.expect("flood task");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_bad_requests_make_a_few_rows_and_noise_is_only_counted() {
    let relay = TestRelay::start().await;
    let per_kind = 300;
    flood(&relay, per_kind).await;
    let stored = 3 * per_kind as u64;
    let rows = relay.rejections_once(stored).await;
    let total: u64 = rows.iter().map(|r| r.count).sum();
    assert_eq!(
        total, stored,
        "every storable refusal counted once: {rows:?}"
    );
    // One row per (hour, code): three codes, at most two hours if the run straddles one.
    assert!(
        rows.len() <= 6,
        "a few rows, not one per request: {}",
        rows.len()
    );
    let mut codes: Vec<&str> = rows.iter().map(|r| r.code.as_str()).collect();
    codes.sort_unstable();
    codes.dedup();
    assert_eq!(
        codes,
        [
            "signature_header_missing",
            "signature_invalid",
            "timestamp_outside_tolerance"
        ]
    );
    let stats = relay.handle().stats();
    assert_eq!(
        (stats.not_found, stats.method_not_allowed, stats.rejections),
        (per_kind as u64, per_kind as u64, stored)
    );
    let health: serde_json::Value = relay
        .client
        .get(relay.url.replace("/api/webhooks/stripe", "/healthz"))
        .send()
        .await
        .expect("health")
        .json()
        .await
        .expect("json");
    assert_eq!(health["ignored"]["not_found"], per_kind, "{health}");
    assert_eq!(health["ignored"]["method_not_allowed"], per_kind);
    assert!(relay.events().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refusals_are_answered_while_the_database_is_locked_and_written_after() {
    let relay = TestRelay::start().await;
    // Another program holds the write lock: the writer cannot commit anything meanwhile.
    let locker = rusqlite::Connection::open(&relay.db).expect("second connection");
    locker
        .execute_batch("BEGIN IMMEDIATE; CREATE TABLE IF NOT EXISTS held(x);")
        .expect("lock");
    let per_kind = 20;
    let answered_while_locked = {
        let flood = flood(&relay, per_kind);
        tokio::time::timeout(Duration::from_secs(3), flood)
            .await
            .is_ok()
    };
    // The lock goes only now: anything answered above did not wait for the database.
    locker.execute_batch("ROLLBACK").expect("unlock");
    assert!(
        answered_while_locked,
        "refusals were answered without waiting for the locked database"
    );
    let rows = relay.rejections_once(3 * per_kind as u64).await;
    assert_eq!(
        rows.iter().map(|r| r.count).sum::<u64>(),
        3 * per_kind as u64
    );
    // And a valid delivery is stored as usual.
    let body = event_body("checkout.session.completed", 4);
    let (status, answer) = relay.post_signed(&body, SECRET, now()).await;
    assert_eq!(status, 200, "{answer}");
}

/// Headers announcing a body that never comes: answered at once when the headers settle it.
fn headers_only(addr: std::net::SocketAddr, signature: Option<String>) -> (u16, serde_json::Value) {
    let mut stream = TcpStream::connect(addr).expect("connect");
    stream.set_read_timeout(Some(GUARD)).expect("timeout");
    let signature = signature.map_or(String::new(), |s| format!("Stripe-Signature: {s}\r\n"));
    let head = format!(
        "POST /api/webhooks/stripe HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n{signature}Content-Length: 500000\r\n\r\n"
    );
    stream.write_all(head.as_bytes()).expect("write");
    let mut answer = Vec::new();
    // The relay answers and closes without waiting for (or reading) the 500,000 bytes.
    let _ = stream.read_to_end(&mut answer);
    parse_response(&answer)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_signature_or_a_stale_timestamp_is_refused_before_the_body_is_read() {
    // A long request timeout: a relay that waited for the body would answer 408 only after
    // it, long past the test's guard.
    let relay = TestRelay::start_with(|c| c.request_timeout = GUARD * 4).await;
    let addr = relay.addr;
    let v1 = "0".repeat(64);
    let cases = [
        (None, "signature_header_missing"),
        (
            Some(format!("t={},v1={v1}", now() - 3_600)),
            "timestamp_outside_tolerance",
        ),
        (Some(format!("t={},v0={v1}", now())), "signature_invalid"),
        (Some("garbage".to_string()), "signature_invalid"),
    ];
    for (signature, code) in cases {
        let (status, json) = tokio::task::spawn_blocking(move || headers_only(addr, signature))
            .await
            .expect("task");
        assert_eq!((status, error_code(&json)), (400, code), "{json}");
    }
    relay.rejections_once(4).await;
    // A current, well-formed header does wait for the body (it may verify).
    let t = now();
    let probe = format!(
        "POST /api/webhooks/stripe HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nStripe-Signature: t={t},v1={v1}\r\nContent-Length: 2\r\n\r\n{{}}"
    );
    let (status, json) = tokio::task::spawn_blocking(move || raw_http(addr, probe.as_bytes()))
        .await
        .expect("task");
    assert_eq!(
        (status, error_code(&json)),
        (400, "signature_invalid"),
        "{json}"
    );
}
