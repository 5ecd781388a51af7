//! The store's in-process relay: a signed delivery over loopback becomes an `event_applied`
//! notice and a paid order; a badly signed one is refused, recorded, and explained.
use fluxstore_desktop::dto::*;
use fluxstore_desktop::store::{Store, StoreKind};
use fluxstore_relay::{SigningSecret, SigningSecrets, sign_header};

use fluxstore_test_support::{GUARD, assert_no_secret, eventually, eventually_async, now};

use crate::support::Recorder;

async fn post(url: &str, body: &[u8], signature: &str) -> reqwest::StatusCode {
    reqwest::Client::new()
        .post(url)
        .header("Stripe-Signature", signature)
        .header("Content-Type", "application/json")
        .body(body.to_vec())
        .send()
        .await
        .expect("the relay answers")
        .status()
}

#[tokio::test]
async fn a_signed_checkout_reaches_the_view_live_and_a_forged_one_is_explained() {
    let dir = tempfile::tempdir().unwrap();
    let rec = Recorder::new();
    let store = Store::open(StoreKind::Real, &dir.path().join("mirror.db")).unwrap();
    let secret = SigningSecret::new("whsec_relaytest0123456789abcdef", Mode::Test).unwrap();
    let url = store
        .ensure_relay(
            SigningSecrets::new(vec![secret.clone()]),
            Some(0),
            rec.clone(),
        )
        .await
        .unwrap();
    assert!(
        url.starts_with("http://127.0.0.1:") && url.ends_with("/api/webhooks/stripe"),
        "{url}"
    );
    assert_eq!(store.relay_url().as_deref(), Some(url.as_str()));

    let t = now();
    let event = fluxstore_samples::test_event("checkout.session.completed", false, t).unwrap();
    let body = serde_json::to_vec(&event).unwrap();
    assert!(
        post(&url, &body, &sign_header(&body, &secret, t))
            .await
            .is_success()
    );

    let id = event["id"].as_str().unwrap().to_owned();
    eventually("the event_applied notice", GUARD, || {
        rec.applied_ids().contains(&id)
    })
    .await;
    let notice = rec
        .applied
        .lock()
        .unwrap()
        .iter()
        .find(|a| a.event_id == id)
        .cloned()
        .unwrap();
    assert_eq!(notice.event_type, "checkout.session.completed");
    assert_eq!(notice.mode, Mode::Test);

    let session = event["data"]["object"]["id"].as_str().unwrap().to_owned();
    let lookup = session.clone();
    let detail = store
        .read(move |m| m.order_detail(fluxstore_mirror::Mode::Test, &lookup))
        .await
        .unwrap()
        .expect("the order is in the mirror");
    assert_eq!(detail.order.status, OrderStatus::Paid);

    // Same event again: acknowledged, but no second notice.
    assert!(
        post(&url, &body, &sign_header(&body, &secret, t))
            .await
            .is_success()
    );

    // Signed with another endpoint's secret: refused and recorded with its reason.
    let other = SigningSecret::new("whsec_someotherendpoint000000000", Mode::Test).unwrap();
    let forged = fluxstore_samples::test_event("payment_intent.succeeded", false, t + 1).unwrap();
    let forged_body = serde_json::to_vec(&forged).unwrap();
    assert_eq!(
        post(&url, &forged_body, &sign_header(&forged_body, &other, t)).await,
        400
    );
    eventually_async("the refusal is recorded", GUARD, || async {
        store
            .read(|m| m.rejections(10))
            .await
            .unwrap()
            .iter()
            .any(|r| r.code.as_str() == "signature_invalid")
    })
    .await;
    let rejections = store.read(|m| m.rejections(10)).await.unwrap();
    assert_eq!(
        rejections.first().map(|r| (r.code.as_str(), r.count)),
        Some(("signature_invalid", 1))
    );

    // A live checkout signed with the (test-mode) secret: refused, recorded, no live order.
    let live = fluxstore_samples::test_event("checkout.session.completed", true, t + 2).unwrap();
    let live_body = serde_json::to_vec(&live).unwrap();
    assert_eq!(
        post(&url, &live_body, &sign_header(&live_body, &secret, t)).await,
        400
    );
    eventually_async("the mode mismatch is recorded", GUARD, || async {
        store
            .read(|m| m.rejections(10))
            .await
            .unwrap()
            .iter()
            .any(|r| r.code.as_str() == "mode_mismatch")
    })
    .await;
    let live_orders = store
        .read(|m| {
            m.orders(
                fluxstore_mirror::Mode::Live,
                &fluxstore_mirror::OrderQuery::default(),
            )
        })
        .await
        .unwrap();
    assert!(
        live_orders.items.is_empty(),
        "no live order from a test secret"
    );
    assert_eq!(rec.applied_ids().iter().filter(|i| **i == id).count(), 1);

    store.shutdown().await;
    assert_eq!(store.relay_url(), None);
    // The signing secret never reaches the mirror (its -wal included).
    assert_no_secret(dir.path(), &["whsec_rela"]);
}
