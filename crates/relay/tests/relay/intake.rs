//! Accepted deliveries over real HTTP: storage, duplicates, rotation, run-time secrets,
//! live notices, group commit under concurrency, health, limits and graceful shutdown.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use fluxstore_mirror::{Mode, OrderQuery};
use fluxstore_relay::{SigningSecrets, sign_header};
use fluxstore_test_support::{GUARD, eventually};

use crate::support::{
    OTHER_SECRET, SECRET, TestRelay, error_code, event_body, event_id, now, parse_response, secret,
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_signed_event_is_stored_once_and_projected() {
    let relay = TestRelay::start().await;
    let body = event_body("checkout.session.completed", 1);
    let (status, answer) = relay.post_signed(&body, SECRET, now()).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["received"], true);
    assert_eq!(answer["duplicate"], false);
    assert_eq!(answer["event_id"], event_id(&body).as_str());
    // The acknowledgement means it is in the file: a fresh connection sees it.
    let events = relay.events();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].id, event_id(&body));
    let orders = relay
        .reader()
        .orders(
            Mode::Test,
            &OrderQuery {
                limit: 10,
                ..OrderQuery::default()
            },
        )
        .expect("orders");
    assert_eq!(orders.items.len(), 1, "the checkout became an order");

    // A redelivery (new signature, same event) is a 200 that changes nothing.
    let (status, answer) = relay.post_signed(&body, SECRET, now()).await;
    assert_eq!(status, 200);
    assert_eq!(answer["duplicate"], true);
    assert_eq!(relay.events().len(), 1);
    assert!(relay.rejections().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rotation_and_several_v1_over_http() {
    let relay = TestRelay::start_with(|c| {
        c.secrets = SigningSecrets::new(vec![secret(SECRET), secret(OTHER_SECRET)]);
    })
    .await;
    let a = event_body("charge.succeeded", 1);
    let (status, _) = relay.post_signed(&a, OTHER_SECRET, now()).await;
    assert_eq!(status, 200, "the new secret verifies");
    let b = event_body("charge.succeeded", 2);
    let t = now();
    let header = format!(
        "{},{}",
        sign_header(&b, &secret("whsec_unrelated_rolled_away"), t),
        sign_header(&b, &secret(SECRET), t)
            .split(',')
            .nth(1)
            .expect("v1")
    );
    let (status, answer) = relay.post(b, Some(&header)).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(relay.events().len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secrets_can_be_set_at_run_time() {
    let relay = TestRelay::start_with(|c| c.secrets = SigningSecrets::none()).await;
    assert!(!relay.handle().has_secrets());
    let body = event_body("payment_intent.succeeded", 3);
    let (status, answer) = relay.post_signed(&body, SECRET, now()).await;
    assert_eq!((status, error_code(&answer)), (503, "no_signing_secret"));
    relay
        .handle()
        .set_secrets(SigningSecrets::from(secret(SECRET)));
    assert!(relay.handle().has_secrets());
    let (status, _) = relay.post_signed(&body, SECRET, now()).await;
    assert_eq!(status, 200);
    assert_eq!(relay.events().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn applied_events_are_announced() {
    let relay = TestRelay::start().await;
    let mut notices = relay.handle().subscribe();
    let body = event_body("charge.succeeded", 4);
    let (status, _) = relay.post_signed(&body, SECRET, now()).await;
    assert_eq!(status, 200);
    let applied = tokio::time::timeout(Duration::from_secs(10), notices.recv())
        .await
        .expect("a notice (hang guard)")
        .expect("notice");
    assert_eq!(applied.event_id, event_id(&body));
    assert_eq!(applied.event_type, "charge.succeeded");
    assert_eq!(applied.mode, Mode::Test);
    // A duplicate is not announced again.
    let (status, _) = relay.post_signed(&body, SECRET, now()).await;
    assert_eq!(status, 200);
    assert!(notices.try_recv().is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_deliveries_all_land_exactly_once() {
    let relay = TestRelay::start_with(|c| c.max_batch = 16).await;
    let mut bodies = Vec::new();
    for n in 0..96 {
        bodies.push(event_body("checkout.session.completed", 1_000 + n));
    }
    // Every event twice, concurrently: at-least-once delivery racing itself.
    let mut tasks = tokio::task::JoinSet::new();
    for body in bodies.iter().chain(bodies.iter()).cloned() {
        let client = relay.client.clone();
        let url = relay.url.clone();
        tasks.spawn(async move {
            let header = sign_header(&body, &secret(SECRET), now());
            let resp = client
                .post(url)
                .header("Stripe-Signature", header)
                .body(body)
                .send()
                .await
                .expect("answer");
            resp.status().as_u16()
        });
    }
    while let Some(status) = tasks.join_next().await {
        assert_eq!(status.expect("task"), 200);
    }
    let mut stored: Vec<String> = relay.events().into_iter().map(|e| e.id).collect();
    stored.sort();
    let mut wanted: Vec<String> = bodies.iter().map(|b| event_id(b)).collect();
    wanted.sort();
    assert_eq!(stored, wanted);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn healthz_reports_ok() {
    let relay = TestRelay::start().await;
    let resp = relay
        .client
        .get(format!("http://{}/healthz", relay.addr))
        .send()
        .await
        .expect("answer");
    assert_eq!(resp.status().as_u16(), 200);
    let v: serde_json::Value = resp.json().await.expect("json");
    assert_eq!(v["status"], "ok");
    assert_eq!(v["signing_secret"], true);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_never_finishes_its_headers_is_dropped() {
    let relay = TestRelay::start_with(|c| c.header_read_timeout = Duration::from_millis(300)).await;
    let addr = relay.addr;
    let closed = tokio::task::spawn_blocking(move || {
        let mut s = TcpStream::connect(addr).expect("connect");
        s.set_read_timeout(Some(Duration::from_secs(20)))
            .expect("hang guard");
        s.write_all(b"POST /api/webhooks/stripe HTTP/1.1\r\nHost: x\r\n")
            .expect("write");
        let mut buf = Vec::new();
        // The server closes the connection (possibly after a 408); the guard only stops a hang.
        s.read_to_end(&mut buf).is_ok()
    })
    .await
    .expect("task");
    assert!(closed, "the relay closed the stalled connection");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_finishes_the_request_in_flight() {
    let mut relay = TestRelay::start().await;
    let body = event_body("checkout.session.completed", 5);
    let header = sign_header(&body, &secret(SECRET), now());
    let addr = relay.addr;
    let mut stream = TcpStream::connect(addr).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .expect("hang guard");
    // One full request first, so the connection is surely accepted and being served (a
    // connection still in the listen backlog at shutdown is reset, not finished).
    stream
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        .expect("healthz");
    let mut first = vec![0u8; 4096];
    let n = stream.read(&mut first).expect("healthz answer");
    assert_eq!(parse_response(&first[..n]).0, 200);
    let head = format!(
        "POST /api/webhooks/stripe HTTP/1.1\r\nHost: 127.0.0.1\r\nStripe-Signature: {header}\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).expect("head");
    stream
        .write_all(&body[..body.len() / 2])
        .expect("half the body");
    stream.flush().expect("flush");
    // Let the server parse the head: a connection whose next request it has not read yet is
    // idle, and an idle connection is rightly closed at once on shutdown. On a loaded machine
    // the read can lag the write, so the test waits rather than racing it.
    tokio::time::sleep(Duration::from_millis(500)).await;

    let handle = relay.handle.take().expect("handle");
    let stopping = tokio::spawn(handle.shutdown());
    // New connections are refused once the listener is closed.
    eventually("the listener to close on shutdown", GUARD, || {
        TcpStream::connect(addr).is_err()
    })
    .await;
    assert!(
        !stopping.is_finished(),
        "shutdown waits for the request in flight"
    );

    let rest = body[body.len() / 2..].to_vec();
    let answer = tokio::task::spawn_blocking(move || {
        stream.write_all(&rest).expect("rest of the body");
        let mut buf = vec![0u8; 4096];
        let n = stream.read(&mut buf).expect("answer");
        buf.truncate(n);
        buf
    })
    .await
    .expect("task");
    let (status, json) = parse_response(&answer);
    assert_eq!(status, 200, "{json}");
    tokio::time::timeout(Duration::from_secs(30), stopping)
        .await
        .expect("shutdown completes (hang guard)")
        .expect("task");
    assert_eq!(relay.events().len(), 1, "the in-flight event was committed");
}

/// B connects to a relay whose one slot A holds, and waits for B's answer (status, time).
fn connect_b(addr: std::net::SocketAddr) -> std::thread::JoinHandle<(u16, std::time::Instant)> {
    std::thread::spawn(move || {
        let mut b = TcpStream::connect(addr).expect("connect b");
        b.set_read_timeout(Some(Duration::from_secs(30)))
            .expect("guard");
        b.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            .expect("write b");
        let mut answer = Vec::new();
        let _ = b.read_to_end(&mut answer);
        (parse_response(&answer).0, std::time::Instant::now())
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idle_connection_at_the_limit_makes_room_for_a_new_one() {
    let relay = TestRelay::start_with(|c| c.max_connections = 1).await;
    let addr = relay.addr;
    // A holds the only connection slot (a kept-alive connection after one request).
    let mut a = TcpStream::connect(addr).expect("connect a");
    a.set_read_timeout(Some(Duration::from_secs(30)))
        .expect("guard");
    a.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        .expect("write a");
    let mut buf = [0u8; 1024];
    let n = a.read(&mut buf).expect("a answered");
    assert_eq!(parse_response(&buf[..n]).0, 200);

    // B is served at once: idle A is closed to make room (an idle client cannot hold the
    // relay), and the limit still holds: A is gone.
    let (status, _) = tokio::task::spawn_blocking(move || connect_b(addr).join().expect("b"))
        .await
        .expect("join");
    assert_eq!(status, 200, "B is served");
    let closed = tokio::task::spawn_blocking(move || matches!(a.read(&mut buf), Ok(0) | Err(_)))
        .await
        .expect("join");
    assert!(closed, "A was closed to make room");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_young_request_at_the_limit_is_not_cut_off_a_stalled_one_is() {
    let relay = TestRelay::start_with(|c| c.max_connections = 1).await;
    let addr = relay.addr;
    // A's request is in progress: its head passed, its body is still coming.
    let mut a = TcpStream::connect(addr).expect("connect a");
    a.set_read_timeout(Some(Duration::from_secs(30)))
        .expect("guard");
    let head = format!(
        "POST /api/webhooks/stripe HTTP/1.1\r\nHost: x\r\nStripe-Signature: t={},v1={}\r\nContent-Length: 1000\r\n\r\n{{",
        crate::support::now(),
        "0".repeat(64)
    );
    a.write_all(head.as_bytes()).expect("write a");
    let a_started = std::time::Instant::now();
    // Until its head is read, A counts as idle; give the relay a moment to read it.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let b = connect_b(addr);
    // A young request keeps its slot: B waits.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(!b.is_finished(), "B waits while A's request is young");
    // Once A has stalled for a second, B gets A's slot.
    let (status, served_at) = tokio::task::spawn_blocking(move || b.join().expect("b"))
        .await
        .expect("join");
    assert_eq!(status, 200, "B is served once A has stalled");
    let waited = served_at - a_started;
    assert!(waited >= Duration::from_millis(900), "not before A stalled");
    // Well before A's own body timeout (30 s) would have freed the slot.
    assert!(waited < Duration::from_secs(15), "B waited {waited:?}");
    let closed = tokio::task::spawn_blocking(move || {
        let mut buf = [0u8; 64];
        matches!(a.read(&mut buf), Ok(0) | Err(_))
    })
    .await
    .expect("join");
    assert!(
        closed,
        "A was closed, unanswered (no 2xx: the sender retries)"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_that_never_arrives_is_a_recorded_408() {
    let relay = TestRelay::start_with(|c| c.request_timeout = Duration::from_millis(300)).await;
    let addr = relay.addr;
    let answer = tokio::task::spawn_blocking(move || {
        let mut s = TcpStream::connect(addr).expect("connect");
        s.set_read_timeout(Some(Duration::from_secs(30))).expect("hang guard");
        s.write_all(
            format!(
                "POST /api/webhooks/stripe HTTP/1.1\r\nHost: x\r\nStripe-Signature: t={},v1={}\r\nContent-Length: 1000\r\n\r\n{{\"id\":",
                now(),
                "0".repeat(64)
            )
            .as_bytes(),
        )
        .expect("write");
        let mut buf = Vec::new();
        let _ = s.read_to_end(&mut buf);
        buf
    })
    .await
    .expect("task");
    let (status, json) = parse_response(&answer);
    assert_eq!(
        (status, error_code(&json)),
        (408, "request_timeout"),
        "{json}"
    );
    assert!(relay.events().is_empty());
    let rejections = relay.rejections_once(1).await;
    assert_eq!(rejections.len(), 1);
    assert_eq!(rejections[0].code, "request_timeout");
    assert_eq!((rejections[0].count, rejections[0].last_size), (1, 1000));
}
