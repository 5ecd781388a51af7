//! The account status keeps itself true: a fetch is mirrored at once, and `account.updated`
//! events (by webhook or by the events sync) move it on; the newest by time wins.

use crate::common::World;
use fluxstore_gateway::account::synthetic_account_event_id;
use fluxstore_gateway::{CancelToken, Credential, Secret, StripeClient, SyncOptions};
use fluxstore_mirror::{AppliedEvent, IngestOutcome, Mode, Source};
use fluxstore_test_support::stripe_fake::{AccountSpec, LIVE_SECRET_KEY, TEST_SECRET_KEY, now};

fn not_ready(id: &str) -> AccountSpec {
    AccountSpec {
        id: id.to_owned(),
        charges_enabled: false,
        payouts_enabled: false,
        details_submitted: false,
        currently_due: vec!["external_account".into()],
        disabled_reason: Some("requirements.past_due".into()),
    }
}

fn ready(id: &str) -> AccountSpec {
    AccountSpec {
        id: id.to_owned(),
        charges_enabled: true,
        payouts_enabled: true,
        details_submitted: true,
        currently_due: Vec::new(),
        disabled_reason: None,
    }
}

#[tokio::test]
async fn a_fetch_is_mirrored_then_newer_events_win_and_older_ones_do_not() {
    let w = World::new().await;
    let id = w.fake.account_id();
    w.fake.update_account(not_ready(&id), false, now() - 3600);
    let client = w.client(TEST_SECRET_KEY);

    let fetched = client.refresh_account().await.unwrap();
    assert!(!fetched.status.charges_enabled);
    assert_eq!(
        fetched.recorded,
        IngestOutcome::Applied(AppliedEvent {
            event_id: synthetic_account_event_id(&id, Mode::Test, fetched.fetched_at),
            event_type: "account.updated".into(),
            mode: Mode::Test,
            projected: true,
        })
    );
    let t = fetched.fetched_at;
    {
        let m = w.mirror.lock().unwrap();
        let s = m
            .account_status(Mode::Test, &id)
            .unwrap()
            .expect("mirrored");
        assert!(!s.charges_enabled && !s.payouts_enabled && !s.details_submitted);
        assert_eq!(s.requirements.currently_due, ["external_account"]);
        assert_eq!(
            s.requirements.disabled_reason.as_deref(),
            Some("requirements.past_due")
        );
        assert_eq!(s.business_name.as_deref(), Some("Example Shop"));
        assert_eq!(s.checked_at, t);
        assert_eq!(m.account_status(Mode::Live, &id).unwrap(), None);
        let recorded = &m.events(Some(Mode::Test), 1).unwrap()[0];
        assert_eq!(recorded.source, Source::Api);
        assert_eq!(
            recorded.account, None,
            "the owner's own account, not a connected one"
        );
    }

    // Stripe reports onboarding finished: a newer account.updated arrives by webhook.
    let newer = w.fake.update_account(ready(&id), false, t + 60);
    w.ingest(&[newer]);
    let s = w
        .mirror
        .lock()
        .unwrap()
        .account_status(Mode::Test, &id)
        .unwrap()
        .unwrap();
    assert!(s.charges_enabled && s.payouts_enabled && s.is_ready());
    assert!(s.requirements.currently_due.is_empty());
    assert_eq!(s.checked_at, t + 60);

    // A delayed delivery of an older update changes nothing.
    let older = w.fake.update_account(not_ready(&id), false, t - 60);
    w.ingest(&[older]);
    let again = w
        .mirror
        .lock()
        .unwrap()
        .account_status(Mode::Test, &id)
        .unwrap()
        .unwrap();
    assert_eq!(again, s);
}

#[tokio::test]
async fn account_is_one_call_fetched_and_mirrored_in_the_clients_mode() {
    let w = World::new().await;
    let id = w.fake.account_id();
    let status = w.client(LIVE_SECRET_KEY).account().await.unwrap();
    assert!(status.is_ready());
    let m = w.mirror.lock().unwrap();
    let live = m
        .account_status(Mode::Live, &id)
        .unwrap()
        .expect("mirrored");
    assert!(live.is_ready());
    assert_eq!(live.mode, Mode::Live);
    assert_eq!(m.account_status(Mode::Test, &id).unwrap(), None);
    assert_eq!(m.latest_account_status(Mode::Live).unwrap(), Some(live));
}

#[tokio::test]
async fn the_events_sync_brings_account_updates_into_the_mirror() {
    let w = World::new().await;
    let id = w.fake.account_id();
    w.fake.update_account(ready(&id), false, now() - 3600);
    let client = w.client(TEST_SECRET_KEY);
    let t = client.refresh_account().await.unwrap().fetched_at;
    // Stripe disables payouts later; the change only reaches this desktop through the feed.
    w.fake.update_account(not_ready(&id), false, t + 30);
    let report = client
        .sync_events(&SyncOptions::default(), &mut |_| {}, &CancelToken::new())
        .await
        .unwrap();
    assert_eq!(report.progress.applied, 2, "both account.updated events");
    let s = w
        .mirror
        .lock()
        .unwrap()
        .account_status(Mode::Test, &id)
        .unwrap()
        .unwrap();
    assert!(!s.charges_enabled && !s.payouts_enabled);
    assert_eq!(s.checked_at, t + 30);
    assert_eq!(
        s.requirements.disabled_reason.as_deref(),
        Some("requirements.past_due")
    );
}

#[tokio::test]
async fn a_connect_token_names_the_connected_account_in_the_recorded_event() {
    let w = World::new().await;
    let id = w.fake.account_id();
    // The fake accepts any key it knows; here it stands in for an access token.
    let client = StripeClient::new(
        w.config(),
        Credential::ConnectToken {
            token: Secret::new(TEST_SECRET_KEY),
            mode: Mode::Test,
        },
        w.mirror.clone(),
    )
    .unwrap();
    client.account().await.unwrap();
    let m = w.mirror.lock().unwrap();
    let recorded = &m.events(Some(Mode::Test), 1).unwrap()[0];
    assert_eq!(recorded.event_type, "account.updated");
    assert_eq!(recorded.account.as_deref(), Some(id.as_str()));
    assert!(m.account_status(Mode::Test, &id).unwrap().is_some());
}
