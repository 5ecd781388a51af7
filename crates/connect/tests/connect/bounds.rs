//! The service's bounds over real sockets: a client that stalls in its headers is cut off, a
//! request whose body never arrives is answered 408, idle connections at the cap make room
//! for a normal request, and an `http://` public URL that is not
//! this computer is refused before anything listens.

use std::process::Command;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::rig::{Rig, browser};
use fluxstore_test_support::connect_fake::ConnectFakeConfig;

/// Bounded wait for the server to end a connection: what it sent before closing (None when
/// it is still open after `within`).
async fn closed_within(stream: &mut TcpStream, within: Duration) -> Option<String> {
    let mut got = Vec::new();
    let read = tokio::time::timeout(within, async {
        let mut buf = [0u8; 1024];
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => got.extend_from_slice(&buf[..n]),
            }
        }
    })
    .await;
    read.ok()
        .map(|()| String::from_utf8_lossy(&got).into_owned())
}

async fn health_ok(rig: &Rig) -> bool {
    let url = rig.service_url().join("/healthz").unwrap();
    matches!(browser().get(url).send().await, Ok(r) if r.status() == 200)
}

#[tokio::test]
async fn a_client_that_stalls_in_its_headers_is_cut_off_and_others_are_served() {
    let rig = Rig::start_with(ConnectFakeConfig::default(), |c| {
        c.header_read_timeout = Duration::from_millis(300);
    })
    .await;
    let mut slow = TcpStream::connect(rig.service.addr()).await.unwrap();
    slow.write_all(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        .await
        .unwrap();
    // The headers never end.
    let answer = closed_within(&mut slow, Duration::from_secs(10)).await;
    let answer = answer.expect("the stalled connection was closed by the service");
    assert!(
        !answer.contains("200 OK"),
        "nothing was served to the stalled client: {answer:?}"
    );
    assert!(health_ok(&rig).await);
}

#[tokio::test]
async fn a_request_whose_body_never_arrives_is_answered_408() {
    let rig = Rig::start_with(ConnectFakeConfig::default(), |c| {
        c.request_timeout = Duration::from_millis(300);
    })
    .await;
    let mut slow = TcpStream::connect(rig.service.addr()).await.unwrap();
    slow.write_all(
        b"POST /oauth/token HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 200\r\n\r\ngrant_type=auth",
    )
    .await
    .unwrap();
    let answer = closed_within(&mut slow, Duration::from_secs(10))
        .await
        .expect("the service answered and closed");
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer:?}");
    assert!(health_ok(&rig).await);
}

/// The cap holds, and idle connections cannot keep an owner out: when every slot is held by
/// a connection that sends nothing, the one idle longest is closed to make room (the hub's
/// accept loop, shared with the relay), so a normal request is served without waiting for
/// the idle ones' header timeout.
#[tokio::test]
async fn connections_at_the_cap_that_sit_idle_make_room_for_a_normal_request() {
    let rig = Rig::start_with(ConnectFakeConfig::default(), |c| {
        c.max_connections = 2;
        c.header_read_timeout = Duration::from_secs(30);
    })
    .await;
    // Two connections that send nothing hold both slots.
    let mut idle = Vec::new();
    for _ in 0..2 {
        idle.push(TcpStream::connect(rig.service.addr()).await.unwrap());
    }
    tokio::time::sleep(Duration::from_millis(100)).await;
    let url = rig.service_url().join("/healthz").unwrap();
    let status = tokio::time::timeout(Duration::from_secs(10), browser().get(url).send())
        .await
        .expect("served well before the idle connections' 30 s header timeout")
        .expect("no error")
        .status();
    assert_eq!(status, 200);
    let mut closed = 0;
    for mut c in idle {
        if closed_within(&mut c, Duration::from_millis(500))
            .await
            .is_some()
        {
            closed += 1;
        }
    }
    assert!(closed >= 1, "an idle connection was closed to make room");
}

#[test]
fn the_binary_refuses_a_public_url_in_clear_before_listening() {
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("platform.key");
    std::fs::write(&key, "sk_test_51PlatformKeyForRefusalTest000001").unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let out = Command::new(env!("CARGO_BIN_EXE_fluxstore-connect"))
        .args(["--listen", &format!("127.0.0.1:{port}")])
        .args(["--public-url", "http://connect.example.com"])
        .args(["--client-id", "ca_123"])
        .arg("--platform-key-file")
        .arg(&key)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("http://connect.example.com") && err.contains("https://"),
        "{err}"
    );
    assert!(!err.contains("sk_test_51"), "{err}");
    // Nothing listened: the port is still free.
    assert!(std::net::TcpListener::bind(("127.0.0.1", port)).is_ok());
}
