//! What the stand-in answers, as Stripe does: the account, the sample orders' charges and
//! PaymentIntents once learned, refunds (partial, full, too much, twice), idempotent
//! replays, the events list, and Stripe's errors for anything else.

use std::collections::HashMap;

use fluxstore_sample_stripe::{PaymentSpec, SampleStripe, now};
use serde_json::Value;

use crate::{call, get, post};

fn spec(amount: i64, currency: &str) -> PaymentSpec {
    PaymentSpec {
        amount,
        currency: currency.into(),
        email: "buyer@example.com".into(),
        livemode: false,
        created: now() - 60,
    }
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
async fn the_account_reads_as_ready() {
    let s = SampleStripe::start().await.unwrap();
    let (status, account) = get(&s, "/v1/account").await;
    assert_eq!(status, 200, "{account}");
    assert_eq!(account["object"], "account");
    assert_eq!(account["id"], s.account_id());
    assert_eq!(account["charges_enabled"], true);
    assert_eq!(account["payouts_enabled"], true);
    let (status, body) = get(&s, "/v1/account?colour=blue").await;
    assert_eq!(status, 400);
    assert_eq!(body["error"]["param"], "colour");
}

#[tokio::test]
async fn every_learned_paid_sample_order_refunds_and_refunded_ones_are_refused() {
    let s = SampleStripe::start().await.unwrap();
    let events = fluxstore_samples::sample_store(2026, now());
    assert!(s.learn(&events) > 0);
    let (mut refunded_now, mut refused) = (0, 0);
    for charge in newest_test_charges(&events).values() {
        if charge["status"] != "succeeded" {
            continue;
        }
        let id = charge["id"].as_str().unwrap();
        let pi = charge["payment_intent"].as_str().unwrap();
        let (status, read) = get(&s, &format!("/v1/charges/{id}")).await;
        assert_eq!(status, 200, "{read}");
        assert_eq!(read["amount_refunded"], charge["amount_refunded"]);
        let (status, intent) = get(&s, &format!("/v1/payment_intents/{pi}")).await;
        assert_eq!(
            (status, intent["object"].as_str()),
            (200, Some("payment_intent"))
        );

        let remaining =
            charge["amount"].as_i64().unwrap() - charge["amount_refunded"].as_i64().unwrap();
        let (status, body, _) =
            post(&s, "/v1/refunds", &format!("payment_intent={pi}"), None).await;
        if remaining > 0 {
            assert_eq!(status, 200, "{pi}: {body}");
            assert_eq!(
                (body["object"].as_str(), &body["amount"]),
                (Some("refund"), &remaining.into())
            );
            assert_eq!(body["charge"], charge["id"]);
            let (_, after) = get(&s, &format!("/v1/charges/{id}")).await;
            assert_eq!(after["amount_refunded"], charge["amount"]);
            assert_eq!(after["refunded"], true);
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

    // Live-mode sample objects do not exist for the stand-in's test key.
    let live = events
        .iter()
        .map(|e| &e["data"]["object"])
        .find(|o| o["object"] == "charge" && o["livemode"] == true)
        .expect("the sample store has live orders");
    let id = live["id"].as_str().unwrap();
    let (status, body) = get(&s, &format!("/v1/charges/{id}")).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (404, Some("resource_missing"))
    );
}

#[tokio::test]
async fn refunds_are_bounded_by_what_remains_and_listed_as_events() {
    let s = SampleStripe::start().await.unwrap();
    let paid = s.seed_payment(&spec(12_340, "kwd"));
    let ch = &paid.charge_id;
    let (status, first, _) = post(
        &s,
        "/v1/refunds",
        &format!("charge={ch}&amount=2340&reason=requested_by_customer"),
        None,
    )
    .await;
    assert_eq!(status, 200, "{first}");
    assert_eq!(
        (first["amount"].as_i64(), first["currency"].as_str()),
        (Some(2_340), Some("kwd"))
    );
    let (status, body, _) = post(
        &s,
        "/v1/refunds",
        &format!("charge={ch}&amount=10001"),
        None,
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(body["error"]["code"], "amount_too_large");
    assert_eq!(body["error"]["param"], "amount");
    let (status, body, _) = post(
        &s,
        "/v1/refunds",
        &format!("charge={ch}&reason=because"),
        None,
    )
    .await;
    assert_eq!(
        (status, body["error"]["param"].as_str()),
        (400, Some("reason"))
    );
    let (status, body, _) = post(&s, "/v1/refunds", "amount=5", None).await;
    assert_eq!(
        (status, body["error"]["type"].as_str()),
        (400, Some("invalid_request_error"))
    );

    let (status, list) = get(&s, "/v1/events?limit=2").await;
    assert_eq!(status, 200, "{list}");
    assert_eq!(list["object"], "list");
    assert_eq!(list["has_more"], true);
    let types: Vec<&str> = list["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["type"].as_str().unwrap())
        .collect();
    assert!(
        types.contains(&"charge.refunded") && types.contains(&"refund.created"),
        "{types:?}"
    );
    let (status, body) = get(&s, "/v1/events?limit=101").await;
    assert_eq!(
        (status, body["error"]["param"].as_str()),
        (400, Some("limit"))
    );
}

#[tokio::test]
async fn an_idempotent_refund_is_replayed_and_a_changed_one_refused() {
    let s = SampleStripe::start().await.unwrap();
    let paid = s.seed_payment(&spec(2_500, "usd"));
    let form = format!("payment_intent={}&amount=1000", paid.payment_intent_id);
    let (status, first, replayed) = post(&s, "/v1/refunds", &form, Some("refund-1")).await;
    assert_eq!((status, replayed), (200, false), "{first}");
    let (status, again, replayed) = post(&s, "/v1/refunds", &form, Some("refund-1")).await;
    assert_eq!((status, replayed), (200, true));
    assert_eq!(
        again["id"], first["id"],
        "the same refund, not a second one"
    );
    assert_eq!(
        s.object(&paid.charge_id).unwrap()["amount_refunded"],
        1000,
        "refunded once"
    );
    let changed = format!("payment_intent={}&amount=1500", paid.payment_intent_id);
    let (status, body, _) = post(&s, "/v1/refunds", &changed, Some("refund-1")).await;
    assert_eq!(status, 400);
    assert_eq!(body["error"]["type"], "idempotency_error");
}

#[tokio::test]
async fn anything_else_gets_stripes_errors() {
    let s = SampleStripe::start().await.unwrap();
    let key = secrecy::ExposeSecret::expose_secret(s.secret_key()).to_owned();
    for (method, path) in [
        (reqwest::Method::POST, "/v1/webhook_endpoints"),
        (reqwest::Method::GET, "/v1/payouts"),
        (reqwest::Method::GET, "/v1/customers"),
        (reqwest::Method::DELETE, "/v1/account"),
    ] {
        let (status, body, _) = call(&s, Some(&key), method, path, "", &[]).await;
        assert_eq!(status, 404, "{path}: {body}");
        assert!(
            body["error"]["message"]
                .as_str()
                .unwrap()
                .starts_with("Unrecognized request URL"),
            "{body}"
        );
    }
    let (status, body) = get(&s, "/v1/charges/ch_unknown").await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (404, Some("resource_missing"))
    );
    let (status, body, _) = call(
        &s,
        Some(&key),
        reqwest::Method::GET,
        "/v1/account",
        "",
        &[("stripe-version", "yesterday")],
    )
    .await;
    assert_eq!(status, 400, "{body}");
}
