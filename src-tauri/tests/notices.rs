//! Notices: a new dispute delivered through the in-process relay is shown once, and not again
//! after a restart (the recorder stands where the OS notification is in the app).
use std::sync::Arc;
use std::time::Duration;

use fluxstore_desktop::alerts::AlertingNotify;
use fluxstore_desktop::dto::*;
use fluxstore_desktop::store::{Store, StoreKind};
use fluxstore_relay::{SigningSecret, SigningSecrets, sign_header};
use fluxstore_samples::{ApiShape, Ctx, Outcome, order_story};
use fluxstore_test_support::{GUARD, eventually, now};

use crate::support::Recorder;

const DAY: i64 = 86_400;

async fn deliver(url: &str, secret: &SigningSecret, event: &serde_json::Value) {
    let body = serde_json::to_vec(event).unwrap();
    let t = now();
    let status = reqwest::Client::new()
        .post(url)
        .header("Stripe-Signature", sign_header(&body, secret, t))
        .body(body)
        .send()
        .await
        .expect("the relay answers")
        .status();
    assert!(status.is_success(), "{status}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_dispute_through_the_relay_is_shown_once_and_not_after_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("mirror.db");
    let secret = SigningSecret::new("whsec_noticetest0123456789abcdef", Mode::Test).unwrap();
    let rec = Recorder::new();
    // An order paid three days ago, disputed a minute ago.
    let events = order_story(
        1,
        Outcome::DisputeOpen,
        "usd",
        2500,
        &Ctx::test(ApiShape::Basil),
        now() - 3 * DAY - 120,
    );
    let dispute = events
        .iter()
        .find(|e| e["type"] == "charge.dispute.created")
        .unwrap()
        .clone();

    {
        let store = Arc::new(Store::open(StoreKind::Real, &path).unwrap());
        let alerting = AlertingNotify::new(rec.clone());
        let _alerts = alerting.watch(store.clone());
        let url = store
            .ensure_relay(
                SigningSecrets::new(vec![secret.clone()]),
                Some(0),
                alerting.clone(),
            )
            .await
            .unwrap();
        for e in &events {
            deliver(&url, &secret, e).await;
        }
        eventually("the dispute's notice", GUARD, || {
            !rec.notices.lock().unwrap().is_empty()
        })
        .await;
        // Stripe delivers the same dispute again: acknowledged, not shown again.
        deliver(&url, &secret, &dispute).await;
        tokio::time::sleep(Duration::from_millis(800)).await;
        let shown = rec.notices.lock().unwrap().clone();
        assert_eq!(shown.len(), 1, "{shown:#?}");
        assert_eq!(shown[0].kind, NoticeKind::NewDispute);
        assert_eq!(shown[0].mode, Mode::Test);
        assert_eq!(
            shown[0].target,
            NoticeTarget::Dispute {
                id: dispute["data"]["object"]["id"].as_str().unwrap().to_owned()
            }
        );
        assert!(shown[0].title.contains("25.00 USD"), "{}", shown[0].title);
        store.shutdown().await;
    }

    // A restart: the app looks at start, and the dispute arrives once more (a retry).
    let store = Arc::new(Store::open(StoreKind::Real, &path).unwrap());
    let alerting = AlertingNotify::new(rec.clone());
    let alerts = alerting.watch(store.clone());
    assert!(alerts.look().await.unwrap().is_empty());
    let url = store
        .ensure_relay(
            SigningSecrets::new(vec![secret.clone()]),
            Some(0),
            alerting.clone(),
        )
        .await
        .unwrap();
    deliver(&url, &secret, &dispute).await;
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert_eq!(rec.notices.lock().unwrap().len(), 1);
    store.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_kind_turned_off_is_not_shown() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(Store::open(StoreKind::Real, &dir.path().join("mirror.db")).unwrap());
    store
        .write(|m| m.set_notice_kind_on(NoticeKind::NewDispute, false))
        .await
        .unwrap();
    let rec = Recorder::new();
    let alerting = AlertingNotify::new(rec.clone());
    let alerts = alerting.watch(store.clone());
    let events = order_story(
        2,
        Outcome::DisputeOpen,
        "jpy",
        1500,
        &Ctx::test(ApiShape::Basil),
        now() - 3 * DAY - 120,
    );
    store
        .write(move |m| {
            for e in &events {
                m.ingest(e.to_string().as_bytes(), fluxstore_mirror::Source::Webhook)?;
            }
            Ok(())
        })
        .await
        .unwrap();
    assert!(alerts.look().await.unwrap().is_empty());
    assert!(rec.notices.lock().unwrap().is_empty());
}
