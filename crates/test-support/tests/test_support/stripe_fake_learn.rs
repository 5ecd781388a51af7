//! `StripeFake::seed_from_events`: the fake learns the charges and PaymentIntents of events it
//! did not create (the sample store's, at every API version it renders) and then refunds them
//! over HTTP as Stripe would.

use std::collections::HashMap;

use fluxstore_test_support::now;
use fluxstore_test_support::stripe_fake::{
    PaymentSpec, StripeFake, StripeFakeConfig, TEST_SECRET_KEY,
};
use serde_json::Value;

async fn refund(f: &StripeFake, body: &str) -> (u16, Value) {
    let r = reqwest::Client::new()
        .post(format!("{}/v1/refunds", f.base_url()))
        .bearer_auth(TEST_SECRET_KEY)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body.to_owned())
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.json().await.unwrap())
}

/// The newest snapshot of every test-mode charge in `events`, by id.
fn newest_test_charges(events: &[Value]) -> HashMap<String, Value> {
    let mut out: HashMap<String, (i64, Value)> = HashMap::new();
    for e in events {
        let o = &e["data"]["object"];
        if o["object"] != "charge" || o["livemode"] != false {
            continue;
        }
        let created = e["created"].as_i64().unwrap();
        let id = o["id"].as_str().unwrap().to_owned();
        if out.get(&id).is_none_or(|(c, _)| created >= *c) {
            out.insert(id, (created, o.clone()));
        }
    }
    out.into_iter().map(|(k, (_, v))| (k, v)).collect()
}

#[tokio::test]
async fn every_paid_sample_order_refunds_and_refunded_ones_are_refused() {
    let f = StripeFake::start(StripeFakeConfig::default())
        .await
        .unwrap();
    let events = fluxstore_samples::sample_store(2026, now());
    let learned = f.seed_from_events(&events);
    assert!(learned > 0);

    let charges = newest_test_charges(&events);
    let (mut refunded_now, mut refused) = (0, 0);
    for charge in charges.values() {
        if charge["status"] != "succeeded" {
            continue;
        }
        let pi = charge["payment_intent"].as_str().unwrap();
        // The fake's own view matches the event's last snapshot.
        assert_eq!(
            f.object(charge["id"].as_str().unwrap()).unwrap()["amount_refunded"],
            charge["amount_refunded"]
        );
        let remaining =
            charge["amount"].as_i64().unwrap() - charge["amount_refunded"].as_i64().unwrap();
        let (status, body) = refund(&f, &format!("payment_intent={pi}")).await;
        if remaining > 0 {
            assert_eq!(status, 200, "{pi}: {body}");
            assert_eq!(body["amount"], remaining);
            assert_eq!(body["charge"], charge["id"]);
            refunded_now += 1;
        } else {
            assert_eq!(status, 400, "{pi}: {body}");
            assert_eq!(body["error"]["code"], "charge_already_refunded");
            refused += 1;
        }
    }
    assert!(
        refunded_now >= 10,
        "only {refunded_now} sample orders refunded"
    );
    assert!(refused >= 1, "the sample store has fully refunded orders");
}

#[tokio::test]
async fn live_objects_stay_out_of_reach_of_a_test_key() {
    let f = StripeFake::start(StripeFakeConfig::default())
        .await
        .unwrap();
    let events = fluxstore_samples::sample_store(2026, now());
    f.seed_from_events(&events);
    let live_charge = events
        .iter()
        .map(|e| &e["data"]["object"])
        .find(|o| o["object"] == "charge" && o["livemode"] == true && o["status"] == "succeeded")
        .expect("the sample store has live orders");
    let (status, body) = refund(
        &f,
        &format!("charge={}", live_charge["id"].as_str().unwrap()),
    )
    .await;
    assert_eq!(status, 404, "{body}");
    assert_eq!(body["error"]["code"], "resource_missing");
}

#[tokio::test]
async fn objects_the_fake_already_knows_are_not_rolled_back() {
    let f = StripeFake::start(StripeFakeConfig::default())
        .await
        .unwrap();
    let seeded = f.seed_payment(&PaymentSpec {
        amount: 1000,
        currency: "usd".into(),
        email: "e@example.com".into(),
        livemode: false,
        created: now() - 60,
    });
    let (status, _) = refund(&f, &format!("payment_intent={}", seeded.payment_intent_id)).await;
    assert_eq!(status, 200);
    // The seeding events describe the charge before its refund: learning them changes nothing.
    assert_eq!(f.seed_from_events(&seeded.events), 0);
    assert_eq!(
        f.object(&seeded.charge_id).unwrap()["amount_refunded"],
        1000
    );
    let (status, body) = refund(&f, &format!("charge={}", seeded.charge_id)).await;
    assert_eq!(status, 400);
    assert_eq!(body["error"]["code"], "charge_already_refunded");
}

#[tokio::test]
async fn events_without_objects_or_of_other_kinds_are_ignored() {
    let f = StripeFake::start(StripeFakeConfig::default())
        .await
        .unwrap();
    let events = vec![
        serde_json::json!({"id": "evt_1", "type": "ping", "created": 1, "livemode": false}),
        serde_json::json!({"id": "evt_2", "type": "customer.subscription.created", "created": 1, "livemode": false,
                           "data": {"object": {"id": "sub_1", "object": "subscription"}}}),
    ];
    assert_eq!(f.seed_from_events(&events), 0);
    assert!(f.object("sub_1").is_none());
}
