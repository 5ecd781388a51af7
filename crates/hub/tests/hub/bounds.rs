//! What anonymous callers cannot do to the hub: grow the stores table without limit, lock
//! other owners out of registering, or make the hub hammer Stripe with token checks.

use std::time::{Duration, Instant};

use fluxstore_test_support::connect_fake::{ConnectFake, ConnectFakeConfig};
use serde_json::json;

use crate::rig;

#[tokio::test]
async fn one_peer_is_held_to_its_own_registration_rate() {
    let dir = rig::data_dir();
    let mut config = rig::config(None);
    config.registration_rate = (100, 100);
    config.registration_rate_per_peer = (1, 3);
    let (hub, _store) = rig::sqlite_hub(dir.path(), config).await;
    let url = format!("{}/v1/stores", hub.url());
    let mut statuses = Vec::new();
    let mut refusal = None;
    for _ in 0..5 {
        let (status, body) = rig::post(&url, b"", None).await;
        statuses.push(status);
        if status == 429 {
            refusal = Some(body);
        }
    }
    assert_eq!(statuses, vec![200, 200, 200, 429, 429]);
    let refusal = refusal.unwrap();
    assert_eq!(refusal["error"]["code"], json!("rate_limited"));
    assert!(
        refusal["error"]["message"]
            .as_str()
            .unwrap()
            .contains("from this address"),
        "{refusal}"
    );
}

#[tokio::test]
async fn registrations_whose_feed_is_never_opened_are_removed_and_used_ones_stay() {
    let dir = rig::data_dir();
    let mut config = rig::config(None);
    config.unclaimed_store_ttl = Duration::from_secs(2);
    config.sweep_every = Duration::from_millis(200);
    let (hub, _store) = rig::sqlite_hub(dir.path(), config).await;
    let used = rig::register(&hub.url()).await;
    let abandoned = rig::register(&hub.url()).await;
    let _feed = rig::open_feed(&hub.url(), used["feed_token"].as_str().unwrap(), None)
        .await
        .unwrap();
    let ring = |store: &serde_json::Value| {
        let url = format!(
            "{}/api/webhooks/stripe/s/{}",
            hub.url(),
            store["store_key"].as_str().unwrap()
        );
        async move {
            let body = rig::event(&rig::new_event_id(), "invoice.paid", None, false).to_string();
            rig::post(&url, body.as_bytes(), None).await.0
        }
    };
    let unknown = json!({ "store_key": format!("hsk_{}", rig::hex_id(32)) });
    let gone = ring(&unknown).await;
    assert_ne!(gone, 200, "an unknown store key rings nothing");
    let deadline = Instant::now() + Duration::from_secs(15);
    while ring(&abandoned).await != gone {
        assert!(
            Instant::now() < deadline,
            "the abandoned registration was not removed"
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    assert_eq!(ring(&used).await, 200, "the store in use stays");
}

#[tokio::test]
async fn a_flood_of_bogus_connect_tokens_costs_stripe_at_most_the_check_rate() {
    let fake = ConnectFake::start(ConnectFakeConfig::default())
        .await
        .unwrap();
    let account = fake.config().account_id.clone();
    let dir = rig::data_dir();
    let mut config = rig::config(Some(&fake.base_url()));
    config.token_check_rate = (2, 4);
    let (hub, _store) = rig::sqlite_hub(dir.path(), config).await;
    let url = hub.url();
    let token = rig::connect_token(&fake, false).await;
    let mut feed = rig::open_feed(&url, &token, None).await.unwrap();

    // A token Stripe refused is refused again without asking Stripe.
    let revoked = "sk_test_refusedonce000000000000";
    assert_eq!(
        rig::open_feed(&url, revoked, None).await.err().unwrap().0,
        401
    );
    let asked = fake.account_requests();
    for _ in 0..50 {
        assert_eq!(
            rig::open_feed(&url, revoked, None).await.err().unwrap().0,
            401
        );
    }
    assert_eq!(fake.account_requests(), asked, "the refusal was remembered");

    // 300 different bogus tokens: refused (401) or told to come back (429), and Stripe is
    // asked at most the burst plus the rate over the time the flood took.
    let started = Instant::now();
    let mut statuses = std::collections::BTreeMap::<u16, usize>::new();
    let mut busy = None;
    for i in 0..300 {
        let bogus = format!("sk_test_bogus{i:020}");
        let (status, body) = rig::open_feed(&url, &bogus, None).await.err().unwrap();
        *statuses.entry(status).or_default() += 1;
        if status == 429 {
            busy = Some(body);
        }
    }
    let elapsed = started.elapsed().as_secs_f64();
    let asked_in_flood = fake.account_requests() - asked;
    assert!(
        (asked_in_flood as f64) <= 4.0 + 2.0 * elapsed.ceil() + 1.0,
        "Stripe was asked {asked_in_flood} times in {elapsed:.1}s: {statuses:?}"
    );
    assert_eq!(statuses.keys().copied().collect::<Vec<_>>(), vec![401, 429]);
    let busy = busy.unwrap();
    assert_eq!(busy["error"]["code"], json!("rate_limited"));
    assert!(
        busy["error"]["message"]
            .as_str()
            .unwrap()
            .contains("try again"),
        "{busy}"
    );

    // The feed opened before the flood is untouched, and a new owner gets in shortly after.
    let body = rig::event(
        &rig::new_event_id(),
        "charge.succeeded",
        Some(&account),
        false,
    )
    .to_string();
    assert_eq!(
        rig::post_signed(&url, body.as_bytes(), rig::TEST_SECRET, rig::now())
            .await
            .0,
        200
    );
    assert_eq!(feed.expect().await.json()["account"], json!(account));
    let newcomer = rig::connect_token(&fake, true).await;
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        match rig::open_feed(&url, &newcomer, None).await {
            Ok(_) => break,
            Err((429, _)) if Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(300)).await;
            }
            Err(other) => panic!("a new owner's feed was refused: {other:?}"),
        }
    }
}
