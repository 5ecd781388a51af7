//! Two replicas on one PostgreSQL, over real sockets; and a database that goes away.

use std::time::Duration;

use fluxstore_test_support::connect_fake::{ConnectFake, ConnectFakeConfig};
use serde_json::json;

use crate::binary::{secret_file, spawn_hub};
use crate::rig::{self, Next};

#[tokio::test]
async fn a_doorbell_posted_at_one_replica_reaches_a_feed_streaming_from_the_other() {
    let Some(server) = rig::postgres_server() else {
        return;
    };
    let url = rig::postgres_database(&server).await;
    let fake = ConnectFake::start(ConnectFakeConfig::default())
        .await
        .unwrap();
    let account = fake.config().account_id.clone();
    let (store_a, store_b) = tokio::join!(rig::pg_store(&url), rig::pg_store(&url));
    let a = rig::start(rig::config(Some(&fake.base_url())), &store_a).await;
    let b = rig::start(rig::config(Some(&fake.base_url())), &store_b).await;

    // Connect: signed webhook at A, the account's desktop streams from B.
    let token = rig::connect_token(&fake, false).await;
    let mut at_b = rig::open_feed(&b.url(), &token, None).await.unwrap();
    let id = rig::new_event_id();
    let body = rig::event(&id, "checkout.session.completed", Some(&account), false).to_string();
    assert_eq!(
        rig::post_signed(&a.url(), body.as_bytes(), rig::TEST_SECRET, rig::now())
            .await
            .0,
        200
    );
    assert_eq!(at_b.expect().await.json()["event_id"], json!(id));
    // The same delivery retried at B: one doorbell across replicas.
    let (status, answer) =
        rig::post_signed(&b.url(), body.as_bytes(), rig::TEST_SECRET, rig::now()).await;
    assert_eq!((status, answer["duplicate"].clone()), (200, json!(true)));
    at_b.expect_quiet(Duration::from_millis(500)).await;

    // Key mode: registered at B, rung at A, read at B; store Y's token reads nothing of X's.
    let x = rig::register(&b.url()).await;
    let y = rig::register(&a.url()).await;
    let mut x_at_b = rig::open_feed(&b.url(), x["feed_token"].as_str().unwrap(), None)
        .await
        .unwrap();
    let mut y_at_a = rig::open_feed(&a.url(), y["feed_token"].as_str().unwrap(), None)
        .await
        .unwrap();
    let path = format!(
        "/api/webhooks/stripe/s/{}",
        x["store_key"].as_str().unwrap()
    );
    let id = rig::new_event_id();
    let body = rig::event(&id, "invoice.paid", None, false).to_string();
    assert_eq!(
        rig::post(&format!("{}{path}", a.url()), body.as_bytes(), None)
            .await
            .0,
        200
    );
    let data = x_at_b.expect().await.json();
    assert_eq!(
        (data["event_id"].clone(), data["store"].clone()),
        (json!(id), x["store_id"].clone())
    );
    y_at_a.expect_quiet(Duration::from_millis(500)).await;

    // A feed resumed at A after B's cursor misses nothing and repeats nothing.
    let first = data["cursor"].as_i64().unwrap();
    let id2 = rig::new_event_id();
    let body2 = rig::event(&id2, "invoice.paid", None, false).to_string();
    drop(x_at_b);
    assert_eq!(
        rig::post(&format!("{}{path}", b.url()), body2.as_bytes(), None)
            .await
            .0,
        200
    );
    let mut x_at_a = rig::open_feed(
        &a.url(),
        x["feed_token"].as_str().unwrap(),
        Some(&first.to_string()),
    )
    .await
    .unwrap();
    assert_eq!(x_at_a.expect().await.json()["event_id"], json!(id2));
    x_at_a.expect_quiet(Duration::from_millis(300)).await;
}

#[tokio::test]
async fn with_the_database_gone_intake_answers_503_and_recovers_by_itself() {
    let Some(server) = rig::postgres_server() else {
        return;
    };
    let url = rig::postgres_database(&server).await;
    let proxy = rig::Proxy::start(rig::server_addr(&server)).await;
    let store = rig::pg_store(&rig::via(&url, proxy.addr)).await;
    let mut config = rig::config(None);
    config.request_timeout = Duration::from_secs(8);
    let hub = rig::start(config, &store).await;
    let x = rig::register(&hub.url()).await;
    let path = format!(
        "{}/api/webhooks/stripe/s/{}",
        hub.url(),
        x["store_key"].as_str().unwrap()
    );
    let mut feed = rig::open_feed(&hub.url(), x["feed_token"].as_str().unwrap(), None)
        .await
        .unwrap();

    proxy.cut();
    let body = rig::event(&rig::new_event_id(), "charge.succeeded", None, false).to_string();
    let (status, answer) = rig::post(&path, body.as_bytes(), None).await;
    assert_eq!(status, 503, "{answer}");
    assert!(
        ["storage_unavailable"].contains(&answer["error"]["code"].as_str().unwrap_or("")),
        "{answer}"
    );
    let health = reqwest::get(format!("{}/healthz", hub.url()))
        .await
        .unwrap();
    assert_eq!(health.status(), 503);
    let signed = rig::event(
        &rig::new_event_id(),
        "charge.succeeded",
        Some("acct_1Down"),
        false,
    )
    .to_string();
    assert_eq!(
        rig::post_signed(&hub.url(), signed.as_bytes(), rig::TEST_SECRET, rig::now())
            .await
            .0,
        503
    );

    // The database returns: no restart, the next delivery is stored and reaches the feed.
    proxy.restore();
    let mut recovered = false;
    for _ in 0..50 {
        let (status, _) = rig::post(&path, body.as_bytes(), None).await;
        if status == 200 {
            recovered = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(
        recovered,
        "the hub did not recover within 10 s of the database's return"
    );
    let data = feed.expect().await.json();
    assert_eq!(data["store"], x["store_id"]);
    assert_eq!(
        reqwest::get(format!("{}/healthz", hub.url()))
            .await
            .unwrap()
            .status(),
        200
    );
}

#[tokio::test]
async fn a_replica_killed_mid_stream_loses_no_doorbell_and_repeats_none() {
    let Some(server) = rig::postgres_server() else {
        return;
    };
    let db = rig::postgres_database(&server).await;
    let dir = rig::data_dir();
    let secrets = secret_file(dir.path(), "webhook-secrets", &rig::secret_file_text());
    let (mut a, url_a) = spawn_hub(dir.path(), &secrets, Some(db.as_str())).await;
    let (mut b, url_b) = spawn_hub(dir.path(), &secrets, Some(db.as_str())).await;
    let x = rig::register(&url_a).await;
    let token = x["feed_token"].as_str().unwrap();
    let path = format!(
        "/api/webhooks/stripe/s/{}",
        x["store_key"].as_str().unwrap()
    );
    let post = |id: &str| {
        let body = rig::event(id, "invoice.paid", None, false).to_string();
        let url = format!("{url_a}{path}");
        async move { assert_eq!(rig::post(&url, body.as_bytes(), None).await.0, 200) }
    };

    let posted: Vec<String> = (0..20).map(|_| rig::new_event_id()).collect();
    let mut seen: Vec<String> = Vec::new();
    let mut last = String::new();
    let mut feed = rig::open_feed(&url_b, token, None).await.unwrap();
    for id in &posted[..10] {
        post(id).await;
    }
    for _ in 0..5 {
        let ev = feed.expect().await;
        seen.push(ev.json()["event_id"].as_str().unwrap().to_owned());
        last = ev.id.unwrap();
    }
    // SIGKILL: no graceful end, the connection just breaks.
    b.kill().unwrap();
    b.wait().unwrap();
    loop {
        match feed.next(Duration::from_secs(5)).await {
            Next::Event(ev) => {
                seen.push(ev.json()["event_id"].as_str().unwrap().to_owned());
                last = ev.id.unwrap();
            }
            Next::Ended => break,
            Next::Quiet => panic!("the killed replica's feed neither ended nor spoke"),
        }
    }
    for id in &posted[10..] {
        post(id).await;
    }
    // The desktop reconnects to the surviving replica from its last cursor.
    let mut feed = rig::open_feed(&url_a, token, Some(&last)).await.unwrap();
    while seen.len() < posted.len() {
        let ev = feed.expect().await;
        seen.push(ev.json()["event_id"].as_str().unwrap().to_owned());
    }
    feed.expect_quiet(Duration::from_millis(500)).await;
    assert_eq!(seen, posted, "every doorbell once, in order");
    a.kill().unwrap();
    a.wait().unwrap();
}
