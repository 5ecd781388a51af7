//! Doorbells in and out over real sockets, on the embedded store: the platform's signed
//! Connect webhooks, key-mode stores' endpoints, and who may read which feed.

use std::time::Duration;

use fluxstore_hub::store::{Scope, Store};
use fluxstore_test_support::assert_no_secret;
use fluxstore_test_support::connect_fake::{ConnectFake, ConnectFakeConfig};
use serde_json::json;

use crate::rig::{self, Next};

const QUIET: Duration = Duration::from_millis(700);

#[tokio::test]
async fn a_signed_connect_webhook_rings_its_account_once_and_no_one_else() {
    let fake = ConnectFake::start(ConnectFakeConfig::default())
        .await
        .unwrap();
    let account = fake.config().account_id.clone();
    let dir = rig::data_dir();
    let (hub, _store) = rig::sqlite_hub(dir.path(), rig::config(Some(&fake.base_url()))).await;
    let url = hub.url();
    let token = rig::connect_token(&fake, false).await;
    let mut mine = rig::open_feed(&url, &token, None).await.unwrap();
    let other_store = rig::register(&url).await;
    let mut others = rig::open_feed(&url, other_store["feed_token"].as_str().unwrap(), None)
        .await
        .unwrap();

    let id = rig::new_event_id();
    let body = rig::event(&id, "checkout.session.completed", Some(&account), false).to_string();
    // Signed with the second test secret: a roll in progress.
    let (status, answer) =
        rig::post_signed(&url, body.as_bytes(), rig::TEST_SECRET_NEXT, rig::now()).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["duplicate"], json!(false));
    let ev = mine.expect().await;
    let data = ev.json();
    assert_eq!(ev.id.as_deref(), Some(data["cursor"].to_string().as_str()));
    assert_eq!(data["event_id"], json!(id));
    assert_eq!(data["type"], json!("checkout.session.completed"));
    assert_eq!(data["account"], json!(account));
    assert_eq!(data["livemode"], json!(false));
    assert!(data["created"].as_i64().unwrap() > 0);
    assert!(data.get("store").is_none());

    // Stripe delivers twice: one doorbell.
    let (status, answer) =
        rig::post_signed(&url, body.as_bytes(), rig::TEST_SECRET, rig::now()).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["duplicate"], json!(true));
    // Another account's event, and a live-mode event of this account, are not this feed's.
    let elsewhere = rig::event(
        &rig::new_event_id(),
        "invoice.paid",
        Some("acct_1Someoneelse"),
        false,
    );
    let live = rig::event(&rig::new_event_id(), "invoice.paid", Some(&account), true);
    assert_eq!(
        rig::post_signed(
            &url,
            elsewhere.to_string().as_bytes(),
            rig::TEST_SECRET,
            rig::now()
        )
        .await
        .0,
        200
    );
    assert_eq!(
        rig::post_signed(
            &url,
            live.to_string().as_bytes(),
            rig::LIVE_SECRET,
            rig::now()
        )
        .await
        .0,
        200
    );
    mine.expect_quiet(QUIET).await;
    others.expect_quiet(Duration::from_millis(50)).await;
    // Heartbeats keep the idle feed open.
    assert!(mine.heartbeats > 0, "no heartbeat within {QUIET:?}");
}

#[tokio::test]
async fn forged_stale_and_wrong_mode_deliveries_are_refused_and_ring_nothing() {
    let fake = ConnectFake::start(ConnectFakeConfig::default())
        .await
        .unwrap();
    let account = fake.config().account_id.clone();
    let dir = rig::data_dir();
    let (hub, store) = rig::sqlite_hub(dir.path(), rig::config(Some(&fake.base_url()))).await;
    let url = hub.url();
    let test_body = rig::event(
        &rig::new_event_id(),
        "charge.succeeded",
        Some(&account),
        false,
    )
    .to_string();
    let live_body = rig::event(
        &rig::new_event_id(),
        "charge.succeeded",
        Some(&account),
        true,
    )
    .to_string();

    let cases: Vec<(&str, u16, &str, (u16, serde_json::Value))> = vec![
        (
            "forged",
            400,
            "signature_invalid",
            rig::post_signed(&url, test_body.as_bytes(), "whsec_notthesecret", rig::now()).await,
        ),
        (
            "stale",
            400,
            "timestamp_outside_tolerance",
            rig::post_signed(
                &url,
                test_body.as_bytes(),
                rig::TEST_SECRET,
                rig::now() - 301,
            )
            .await,
        ),
        (
            "from the future",
            400,
            "timestamp_outside_tolerance",
            rig::post_signed(
                &url,
                test_body.as_bytes(),
                rig::TEST_SECRET,
                rig::now() + 301,
            )
            .await,
        ),
        (
            "a live event under a test secret",
            400,
            "mode_mismatch",
            rig::post_signed(&url, live_body.as_bytes(), rig::TEST_SECRET, rig::now()).await,
        ),
        (
            "a test event under the live secret",
            400,
            "mode_mismatch",
            rig::post_signed(&url, test_body.as_bytes(), rig::LIVE_SECRET, rig::now()).await,
        ),
        (
            "unsigned",
            400,
            "signature_header_missing",
            rig::post(
                &format!("{url}/api/webhooks/stripe"),
                test_body.as_bytes(),
                None,
            )
            .await,
        ),
        (
            "signed but not an event",
            400,
            "malformed_payload",
            rig::post_signed(&url, br#"{"id":"nope"}"#, rig::TEST_SECRET, rig::now()).await,
        ),
    ];
    for (what, status, code, (got, body)) in cases {
        assert_eq!(got, status, "{what}: {body}");
        assert_eq!(body["error"]["code"], json!(code), "{what}");
        assert!(
            body["error"]["message"]
                .as_str()
                .is_some_and(|m| !m.is_empty()),
            "{what}"
        );
    }
    let too_big = vec![b' '; fluxstore_relay::DEFAULT_BODY_LIMIT + 1];
    let (status, body) = rig::post_signed(&url, &too_big, rig::TEST_SECRET, rig::now()).await;
    assert_eq!(
        (status, body["error"]["code"].clone()),
        (413, json!("payload_too_large"))
    );
    let get = reqwest::get(format!("{url}/api/webhooks/stripe"))
        .await
        .unwrap();
    assert_eq!(get.status(), 405);
    assert_eq!(get.headers()["allow"], "POST");

    for livemode in [false, true] {
        let scope = Scope::Account {
            account: account.clone(),
            livemode,
        };
        assert!(
            store.after(&scope, 0, 10).await.unwrap().is_empty(),
            "no doorbell rang"
        );
    }
    // The platform's own events (no `account`) are acknowledged and ring no one.
    let own = rig::event(&rig::new_event_id(), "account.updated", None, false).to_string();
    let (status, body) = rig::post_signed(&url, own.as_bytes(), rig::TEST_SECRET, rig::now()).await;
    assert_eq!((status, body["doorbell"].clone()), (200, json!(false)));
    assert_eq!(store.horizon().await.unwrap().tip, 0);
}

#[tokio::test]
async fn a_key_mode_store_registers_rings_its_own_feed_and_keeps_only_hashes() {
    let dir = rig::data_dir();
    let (hub, _store) = rig::sqlite_hub(dir.path(), rig::config(None)).await;
    let url = hub.url();
    let x = rig::register(&url).await;
    let y = rig::register(&url).await;
    let key_x = x["store_key"].as_str().unwrap();
    let webhook_x = x["webhook_url"].as_str().unwrap();
    assert_eq!(
        webhook_x,
        format!("https://hub.example.test/prefix/api/webhooks/stripe/s/{key_x}")
    );
    assert_ne!(x["feed_token"], y["feed_token"]);
    let path_x = webhook_x
        .strip_prefix("https://hub.example.test/prefix")
        .unwrap();

    let mut feed_x = rig::open_feed(&url, x["feed_token"].as_str().unwrap(), None)
        .await
        .unwrap();
    let mut feed_y = rig::open_feed(&url, y["feed_token"].as_str().unwrap(), None)
        .await
        .unwrap();
    let id = rig::new_event_id();
    let body = rig::event(&id, "payment_intent.succeeded", None, true).to_string();
    let (status, answer) = rig::post(&format!("{url}{path_x}"), body.as_bytes(), None).await;
    assert_eq!(status, 200, "{answer}");
    let data = feed_x.expect().await.json();
    assert_eq!(data["event_id"], json!(id));
    assert_eq!(data["store"], x["store_id"]);
    assert_eq!(data["livemode"], json!(true));
    assert!(data.get("account").is_none());
    // Store X's doorbell is not on store Y's feed; a duplicate rings once.
    assert_eq!(
        rig::post(&format!("{url}{path_x}"), body.as_bytes(), None)
            .await
            .1["duplicate"],
        json!(true)
    );
    feed_y.expect_quiet(QUIET).await;
    feed_x.expect_quiet(Duration::from_millis(50)).await;

    // An unknown key is a 404; a body that is not an event a 400.
    let unknown = format!("{url}/api/webhooks/stripe/s/hsk_{}", "0".repeat(64));
    let (status, body) = rig::post(&unknown, b"{}", None).await;
    assert_eq!(
        (status, body["error"]["code"].clone()),
        (404, json!("not_found"))
    );
    let (status, body) = rig::post(&format!("{url}{path_x}"), b"{\"id\":1}", None).await;
    assert_eq!(
        (status, body["error"]["code"].clone()),
        (400, json!("malformed_payload"))
    );

    // No feed for a made-up or missing token.
    let bad = rig::open_feed(&url, &format!("hft_{}", "1".repeat(64)), None)
        .await
        .err()
        .unwrap();
    assert_eq!(bad.0, 401);
    assert_eq!(bad.1["error"]["code"], json!("unauthorized"));
    let none = reqwest::get(format!("{url}/v1/feed")).await.unwrap();
    assert_eq!(none.status(), 401);

    // The database holds only hashes: neither the store key nor the feed token is on disk.
    drop((feed_x, feed_y));
    hub.shutdown().await;
    let secrets: Vec<&str> = [&x, &y]
        .iter()
        .flat_map(|s| {
            [
                s["store_key"].as_str().unwrap(),
                s["feed_token"].as_str().unwrap(),
            ]
        })
        .collect();
    assert_no_secret(dir.path(), &secrets);
}

#[tokio::test]
async fn unverified_doorbells_are_rate_limited_per_store() {
    let dir = rig::data_dir();
    let mut config = rig::config(None);
    config.store_doorbell_rate = (1, 3);
    let (hub, _store) = rig::sqlite_hub(dir.path(), config).await;
    let url = hub.url();
    let x = rig::register(&url).await;
    let y = rig::register(&url).await;
    let post_to = |s: &serde_json::Value| {
        let path = format!(
            "{url}/api/webhooks/stripe/s/{}",
            s["store_key"].as_str().unwrap()
        );
        async move {
            let body =
                rig::event(&rig::new_event_id(), "charge.succeeded", None, false).to_string();
            rig::post(&path, body.as_bytes(), None).await
        }
    };
    let mut answers = Vec::new();
    for _ in 0..5 {
        answers.push(post_to(&x).await);
    }
    let statuses: Vec<u16> = answers.iter().map(|(s, _)| *s).collect();
    assert_eq!(&statuses[..3], &[200, 200, 200]);
    // The burst is spent; at most one more token can have dripped in meanwhile.
    let refused = answers
        .iter()
        .find(|(s, _)| *s == 429)
        .unwrap_or_else(|| panic!("no 429 after the burst: {statuses:?}"));
    assert_eq!(refused.1["error"]["code"], json!("rate_limited"));
    // Another store is not held back by X's flood.
    assert_eq!(post_to(&y).await.0, 200);
}

#[tokio::test]
async fn a_feed_resumes_after_its_cursor_and_is_told_to_resync_when_out_of_reach() {
    let dir = rig::data_dir();
    let (hub, store) = rig::sqlite_hub(dir.path(), rig::config(None)).await;
    let url = hub.url();
    let x = rig::register(&url).await;
    let token = x["feed_token"].as_str().unwrap();
    let path = format!(
        "{url}/api/webhooks/stripe/s/{}",
        x["store_key"].as_str().unwrap()
    );
    let mut ids = Vec::new();
    for _ in 0..3 {
        let id = rig::new_event_id();
        let body = rig::event(&id, "invoice.paid", None, false).to_string();
        assert_eq!(rig::post(&path, body.as_bytes(), None).await.0, 200);
        ids.push(id);
    }
    let scope = Scope::Store {
        store: x["store_id"].as_str().unwrap().to_owned(),
    };
    let rows = store.after(&scope, 0, 10).await.unwrap();
    // Resume after the first: the second and the third, in order.
    let mut feed = rig::open_feed(&url, token, Some(&rows[0].cursor.to_string()))
        .await
        .unwrap();
    assert_eq!(feed.expect().await.json()["event_id"], json!(ids[1]));
    let third = feed.expect().await;
    assert_eq!(third.json()["event_id"], json!(ids[2]));
    assert_eq!(third.id, Some(rows[2].cursor.to_string()));
    drop(feed);

    // A cursor this database never issued: resync first, then live doorbells.
    let mut feed = rig::open_feed(&url, token, Some("999999")).await.unwrap();
    let resync = feed.expect().await;
    assert_eq!(resync.event.as_deref(), Some("resync"));
    assert_eq!(resync.id, Some(rows[2].cursor.to_string()));
    drop(feed);

    // Retention removed doorbells after the cursor: resync, never silence.
    store.prune(rig::now() + 10).await.unwrap();
    let mut feed = rig::open_feed(&url, token, Some(&rows[0].cursor.to_string()))
        .await
        .unwrap();
    let resync = feed.expect().await;
    assert_eq!(resync.event.as_deref(), Some("resync"));
    let id = rig::new_event_id();
    let body = rig::event(&id, "invoice.paid", None, false).to_string();
    assert_eq!(rig::post(&path, body.as_bytes(), None).await.0, 200);
    assert_eq!(feed.expect().await.json()["event_id"], json!(id));

    let bad = rig::open_feed(&url, token, Some("yesterday"))
        .await
        .err()
        .unwrap();
    assert_eq!(
        (bad.0, bad.1["error"]["code"].clone()),
        (400, json!("bad_cursor"))
    );
}

#[tokio::test]
async fn a_revoked_connect_token_loses_its_feed_at_the_next_check() {
    let fake = ConnectFake::start(ConnectFakeConfig::default())
        .await
        .unwrap();
    let account = fake.config().account_id.clone();
    let dir = rig::data_dir();
    let mut config = rig::config(Some(&fake.base_url()));
    config.token_recheck = Duration::from_secs(1);
    let (hub, _store) = rig::sqlite_hub(dir.path(), config).await;
    let url = hub.url();
    let token = rig::connect_token(&fake, true).await;
    let mut feed = rig::open_feed(&url, &token, None).await.unwrap();
    let body = rig::event(
        &rig::new_event_id(),
        "charge.succeeded",
        Some(&account),
        true,
    )
    .to_string();
    assert_eq!(
        rig::post_signed(&url, body.as_bytes(), rig::LIVE_SECRET, rig::now())
            .await
            .0,
        200
    );
    assert_eq!(feed.expect().await.json()["livemode"], json!(true));

    fake.revoke_account(&account);
    match feed.next(Duration::from_secs(10)).await {
        Next::Ended => {}
        Next::Event(e) => panic!("the feed went on after the revocation: {e:?}"),
        Next::Quiet => panic!("the feed stayed open after the revocation"),
    }
    let refused = rig::open_feed(&url, &token, None).await.err().unwrap();
    assert_eq!(refused.0, 401);
    // A token that never was.
    let never = rig::open_feed(&url, "sk_test_neverissued", None)
        .await
        .err()
        .unwrap();
    assert_eq!(never.0, 401);
}

#[tokio::test]
async fn health_answers_while_the_database_does() {
    let dir = rig::data_dir();
    let (hub, _store) = rig::sqlite_hub(dir.path(), rig::config(None)).await;
    let resp = reqwest::get(format!("{}/healthz", hub.url()))
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let other = reqwest::get(format!("{}/nothing-here", hub.url()))
        .await
        .unwrap();
    assert_eq!(other.status(), 404);
}

#[tokio::test]
async fn store_registrations_are_rate_limited() {
    let dir = rig::data_dir();
    let mut config = rig::config(None);
    config.registration_rate = (1, 2);
    let (hub, _store) = rig::sqlite_hub(dir.path(), config).await;
    let url = format!("{}/v1/stores", hub.url());
    let mut answers = Vec::new();
    for _ in 0..4 {
        answers.push(rig::post(&url, b"", None).await);
    }
    let statuses: Vec<u16> = answers.iter().map(|(s, _)| *s).collect();
    assert_eq!(&statuses[..2], &[200, 200]);
    let refused = answers
        .iter()
        .find(|(s, _)| *s == 429)
        .unwrap_or_else(|| panic!("no 429 after the burst: {statuses:?}"));
    assert_eq!(refused.1["error"]["code"], json!("rate_limited"));
    assert!(refused.1.get("feed_token").is_none());
}
