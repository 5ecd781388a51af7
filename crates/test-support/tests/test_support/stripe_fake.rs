//! The Stripe fake checked with plain HTTP requests against the protocol reference (§5, §1),
//! independently of the gateway's client.

use fluxstore_test_support::now;
use fluxstore_test_support::stripe_fake::{
    Fault, PaymentSpec, READ_ONLY_KEY, StripeFake, StripeFakeConfig, TEST_SECRET_KEY, webhooks,
};
use hmac::{Hmac, Mac};
use serde_json::Value;
use sha2::Sha256;

async fn fake() -> StripeFake {
    StripeFake::start(StripeFakeConfig::default())
        .await
        .unwrap()
}

async fn get(f: &StripeFake, key: &str, path_and_query: &str) -> (u16, Value) {
    let r = reqwest::Client::new()
        .get(format!("{}{path_and_query}", f.base_url()))
        .bearer_auth(key)
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.json().await.unwrap())
}

async fn post(
    f: &StripeFake,
    key: &str,
    path: &str,
    idem: Option<&str>,
    body: &str,
) -> (u16, Value, bool) {
    let mut req = reqwest::Client::new()
        .post(format!("{}{path}", f.base_url()))
        .bearer_auth(key)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body.to_owned());
    if let Some(k) = idem {
        req = req.header("idempotency-key", k);
    }
    let r = req.send().await.unwrap();
    let replayed = r.headers().get("idempotent-replayed").is_some();
    (r.status().as_u16(), r.json().await.unwrap(), replayed)
}

fn spec(created: i64) -> PaymentSpec {
    PaymentSpec {
        amount: 1000,
        currency: "usd".into(),
        email: "e@example.com".into(),
        livemode: false,
        created,
    }
}

#[tokio::test]
async fn authentication_and_errors_follow_stripes_shapes() {
    let f = fake().await;
    let r = reqwest::get(format!("{}/v1/account", f.base_url()))
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    // HTTP Basic with the key as user name works like Bearer.
    let r = reqwest::Client::new()
        .get(format!("{}/v1/account", f.base_url()))
        .basic_auth(TEST_SECRET_KEY, Some(""))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.headers().get("request-id").is_some());
    let (s, v) = get(&f, "sk_test_unknownkey000000001234", "/v1/account").await;
    assert_eq!(s, 401);
    assert_eq!(v["error"]["type"], "invalid_request_error");
    assert_eq!(
        v["error"]["message"],
        "Invalid API Key provided: sk_test_****1234"
    );
    let (s, v) = get(&f, TEST_SECRET_KEY, "/v1/nothing_here").await;
    assert_eq!(s, 404);
    assert!(
        v["error"]["message"]
            .as_str()
            .unwrap()
            .starts_with("Unrecognized request URL")
    );
    let (s, v) = get(&f, TEST_SECRET_KEY, "/v1/charges/ch_missing").await;
    assert_eq!(
        (s, v["error"]["code"].as_str()),
        (404, Some("resource_missing"))
    );
    let (s, v, _) = post(&f, READ_ONLY_KEY, "/v1/refunds", Some("k1"), "charge=ch_x").await;
    assert_eq!(s, 403);
    assert!(
        v["error"]["message"]
            .as_str()
            .unwrap()
            .contains("'rak_refund_write'")
    );
}

#[tokio::test]
async fn parameters_are_validated_by_name() {
    let f = fake().await;
    let (s, v, _) = post(
        &f,
        TEST_SECRET_KEY,
        "/v1/webhook_endpoints",
        Some("a"),
        "url=https%3A%2F%2Fx.example&colour=red",
    )
    .await;
    assert_eq!((s, v["error"]["param"].as_str()), (400, Some("colour")));
    let (s, v, _) = post(
        &f,
        TEST_SECRET_KEY,
        "/v1/webhook_endpoints",
        Some("b"),
        "enabled_events[]=invoice.paid",
    )
    .await;
    assert_eq!((s, v["error"]["param"].as_str()), (400, Some("url")));
    let (s, v, _) = post(
        &f,
        TEST_SECRET_KEY,
        "/v1/webhook_endpoints",
        Some("c"),
        "url=https%3A%2F%2Fx.example&enabled_events[]=invoice.exploded",
    )
    .await;
    assert_eq!(
        (s, v["error"]["param"].as_str()),
        (400, Some("enabled_events[0]"))
    );
    let (s, v) = get(&f, TEST_SECRET_KEY, "/v1/events?limit=101").await;
    assert_eq!((s, v["error"]["param"].as_str()), (400, Some("limit")));
    let (s, _) = get(
        &f,
        TEST_SECRET_KEY,
        "/v1/events?type=charge.succeeded&types[]=invoice.paid",
    )
    .await;
    assert_eq!(s, 400);
    let (s, v, _) = post(
        &f,
        TEST_SECRET_KEY,
        "/v1/refunds",
        Some("d"),
        "reason=because",
    )
    .await;
    assert_eq!((s, v["error"]["param"].as_str()), (400, Some("reason")));
    let r = reqwest::Client::new()
        .get(format!("{}/v1/account", f.base_url()))
        .bearer_auth(TEST_SECRET_KEY)
        .header("stripe-version", "yesterday")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
}

#[tokio::test]
async fn idempotent_posts_replay_and_refuse_changed_parameters() {
    let f = fake().await;
    let p = f.seed_payment(&spec(now()));
    let body = format!("charge={}&amount=300", p.charge_id);
    let (s1, r1, replay1) = post(&f, TEST_SECRET_KEY, "/v1/refunds", Some("key-1"), &body).await;
    let (s2, r2, replay2) = post(&f, TEST_SECRET_KEY, "/v1/refunds", Some("key-1"), &body).await;
    assert_eq!((s1, s2), (200, 200));
    assert_eq!(r1, r2);
    assert!(!replay1 && replay2);
    assert_eq!(f.object(&p.charge_id).unwrap()["amount_refunded"], 300);
    let (s, v, _) = post(
        &f,
        TEST_SECRET_KEY,
        "/v1/refunds",
        Some("key-1"),
        &format!("charge={}&amount=301", p.charge_id),
    )
    .await;
    assert_eq!(
        (s, v["error"]["type"].as_str()),
        (400, Some("idempotency_error"))
    );
    // A validation failure is not stored: the same key may be used again.
    let (s, _, _) = post(
        &f,
        TEST_SECRET_KEY,
        "/v1/refunds",
        Some("key-2"),
        &format!("charge={}&amount=999999", p.charge_id),
    )
    .await;
    assert_eq!(s, 400);
    let (s, r, _) = post(
        &f,
        TEST_SECRET_KEY,
        "/v1/refunds",
        Some("key-2"),
        &format!("charge={}", p.charge_id),
    )
    .await;
    assert_eq!((s, r["amount"].as_i64()), (200, Some(700)));
    let ch = f.object(&p.charge_id).unwrap();
    assert_eq!(
        (ch["amount_refunded"].as_i64(), ch["refunded"].as_bool()),
        (Some(1000), Some(true))
    );
    let (s, v, _) = post(
        &f,
        TEST_SECRET_KEY,
        "/v1/refunds",
        Some("key-3"),
        &format!("charge={}", p.charge_id),
    )
    .await;
    assert_eq!(
        (s, v["error"]["code"].as_str()),
        (400, Some("charge_already_refunded"))
    );
}

#[tokio::test]
async fn events_page_newest_first_in_both_directions() {
    let f = fake().await;
    let t = now() - 5000;
    for i in 0..4 {
        f.seed_payment(&spec(t + i * 10));
    }
    // 12 events, created in 4 groups of 3.
    let (_, all) = get(&f, TEST_SECRET_KEY, "/v1/events?limit=100").await;
    let ids: Vec<String> = all["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(ids.len(), 12);
    let created: Vec<i64> = all["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["created"].as_i64().unwrap())
        .collect();
    assert!(created.windows(2).all(|w| w[0] >= w[1]), "newest first");
    assert_eq!(all["has_more"], false);
    assert_eq!(all["object"], "list");

    let (_, p1) = get(&f, TEST_SECRET_KEY, "/v1/events?limit=5").await;
    assert_eq!(p1["has_more"], true);
    let (_, p2) = get(
        &f,
        TEST_SECRET_KEY,
        &format!("/v1/events?limit=5&starting_after={}", ids[4]),
    )
    .await;
    let p2_ids: Vec<&str> = p2["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        p2_ids,
        ids[5..10].iter().map(String::as_str).collect::<Vec<_>>()
    );
    // ending_before: the page just newer than the cursor.
    let (_, back) = get(
        &f,
        TEST_SECRET_KEY,
        &format!("/v1/events?limit=3&ending_before={}", ids[6]),
    )
    .await;
    let back_ids: Vec<&str> = back["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        back_ids,
        ids[3..6].iter().map(String::as_str).collect::<Vec<_>>()
    );
    assert_eq!(back["has_more"], true);
    let (_, only) = get(
        &f,
        TEST_SECRET_KEY,
        "/v1/events?types[]=charge.succeeded&limit=100",
    )
    .await;
    assert_eq!(only["data"].as_array().unwrap().len(), 4);
    let (s, v) = get(&f, TEST_SECRET_KEY, "/v1/events?starting_after=evt_unknown").await;
    assert_eq!(
        (s, v["error"]["param"].as_str()),
        (404, Some("starting_after"))
    );
    // Older than 30 days: gone.
    f.push_event(
        "charge.succeeded",
        &serde_json::json!({"id": "ch_old", "object": "charge"}),
        now() - 31 * 86_400,
        false,
    );
    let (_, again) = get(&f, TEST_SECRET_KEY, "/v1/events?limit=100").await;
    assert_eq!(again["data"].as_array().unwrap().len(), 12);
}

#[tokio::test]
async fn faults_are_injected_once() {
    let f = fake().await;
    f.inject(
        "/v1/account",
        Fault::Status {
            status: 429,
            should_retry: Some(true),
        },
    );
    let r = reqwest::Client::new()
        .get(format!("{}/v1/account", f.base_url()))
        .bearer_auth(TEST_SECRET_KEY)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 429);
    assert_eq!(r.headers()["stripe-should-retry"], "true");
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["error"]["code"], "rate_limit");
    f.inject("/v1/account", Fault::DropBeforeProcessing);
    assert!(
        reqwest::Client::new()
            .get(format!("{}/v1/account", f.base_url()))
            .bearer_auth(TEST_SECRET_KEY)
            .send()
            .await
            .is_err()
    );
    let (s, _) = get(&f, TEST_SECRET_KEY, "/v1/account").await;
    assert_eq!(s, 200);
}

#[tokio::test]
async fn created_endpoints_receive_correctly_signed_deliveries() {
    use std::sync::{Arc, Mutex};
    let f = fake().await;
    // (Stripe-Signature header, raw body) of each delivery.
    type Deliveries = Arc<Mutex<Vec<(String, Vec<u8>)>>>;
    let received: Deliveries = Arc::default();
    let sink = received.clone();
    let app = axum::Router::new().route(
        "/api/webhooks/stripe",
        axum::routing::post(
            move |headers: axum::http::HeaderMap, body: axum::body::Bytes| {
                let sink = sink.clone();
                async move {
                    let sig = headers["stripe-signature"].to_str().unwrap().to_owned();
                    sink.lock().unwrap().push((sig, body.to_vec()));
                    "ok"
                }
            },
        ),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!(
        "http://{}/api/webhooks/stripe",
        listener.local_addr().unwrap()
    );
    let server = tokio::spawn(async move { axum::serve(listener, app).await });

    let body = format!(
        "url={}&enabled_events[]=charge.succeeded&api_version=2026-07-29.dahlia",
        url.replace(':', "%3A").replace('/', "%2F")
    );
    let (s, ep, _) = post(
        &f,
        TEST_SECRET_KEY,
        "/v1/webhook_endpoints",
        Some("we-1"),
        &body,
    )
    .await;
    assert_eq!(s, 200, "{ep}");
    let secret = ep["secret"].as_str().unwrap().to_owned();
    assert!(secret.starts_with("whsec_"));
    let p = f.seed_payment(&spec(now()));
    let results = f.deliver(&p.events[2]).await;
    assert_eq!(results.len(), 1);
    assert_eq!(results[0].1, Ok(200));
    assert!(
        f.deliver(&p.events[0]).await.is_empty(),
        "not subscribed to checkout events"
    );

    let (sig, payload) = received.lock().unwrap()[0].clone();
    let t: &str = sig.split(',').find_map(|kv| kv.strip_prefix("t=")).unwrap();
    let v1 = sig
        .split(',')
        .find_map(|kv| kv.strip_prefix("v1="))
        .unwrap();
    // Verified here with the hmac crate directly, keyed with the whole whsec_ string.
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(format!("{t}.").as_bytes());
    mac.update(&payload);
    mac.verify_slice(&hex::decode(v1).unwrap())
        .expect("signature verifies");
    assert_eq!(
        serde_json::from_slice::<Value>(&payload).unwrap()["id"],
        p.events[2]["id"]
    );
    assert_eq!(
        webhooks::signature_header(&[&secret], t.parse().unwrap(), &payload),
        sig
    );
    server.abort();
}

#[tokio::test]
async fn an_account_change_is_served_and_listed_as_account_updated() {
    use fluxstore_test_support::stripe_fake::{AccountSpec, LIVE_SECRET_KEY};
    let f = fake().await;
    let id = f.account_id();
    let disabled = AccountSpec {
        id: id.clone(),
        charges_enabled: false,
        currently_due: vec!["external_account".into()],
        disabled_reason: Some("requirements.past_due".into()),
        ..AccountSpec::default()
    };
    let ev = f.set_account(disabled);
    assert_eq!(ev["type"], "account.updated");
    assert_eq!(ev["livemode"], false);
    assert_eq!(ev["data"]["object"]["id"], id.as_str());
    assert_eq!(ev["data"]["object"]["charges_enabled"], false);
    assert_eq!(
        ev["data"]["previous_attributes"]["charges_enabled"], true,
        "the old value of what changed"
    );
    assert!(ev["data"]["previous_attributes"].get("country").is_none());

    let (s, account) = get(&f, TEST_SECRET_KEY, "/v1/account").await;
    assert_eq!((s, &account["charges_enabled"]), (200, &Value::Bool(false)));
    let (_, list) = get(&f, TEST_SECRET_KEY, "/v1/events?type=account.updated").await;
    assert_eq!(list["data"].as_array().unwrap().len(), 1);
    assert_eq!(list["data"][0]["id"], ev["id"]);

    // The mode and time of the event can be chosen; a live event lists for a live key only.
    let t = now() - 60;
    let live = f.update_account(
        AccountSpec {
            id: id.clone(),
            ..AccountSpec::default()
        },
        true,
        t,
    );
    assert_eq!(live["created"], t);
    let (_, list) = get(&f, LIVE_SECRET_KEY, "/v1/events?type=account.updated").await;
    assert_eq!(list["data"][0]["id"], live["id"]);
    let (_, list) = get(&f, TEST_SECRET_KEY, "/v1/events?type=account.updated").await;
    assert_eq!(list["data"].as_array().unwrap().len(), 1);
}
