//! The account status projection: `account.updated` events (delivered or synthesised from a
//! fetch) fold into one row per (account, mode); the newest by `(created, id)` wins.

use crate::common::{AccountSnap, T0, account_updated, ingest};
use fluxstore_mirror::{AccountRequirements, AppliedEvent, IngestOutcome, Mode, Source};
use fluxstore_test_support::temp_mirror;
use serde_json::json;

fn snap(id: &str, livemode: bool, ready: bool) -> AccountSnap {
    AccountSnap {
        id: id.to_owned(),
        livemode,
        charges_enabled: ready,
        payouts_enabled: ready,
        currently_due: if ready {
            Vec::new()
        } else {
            vec!["external_account".to_owned()]
        },
        disabled_reason: (!ready).then(|| "requirements.past_due".to_owned()),
    }
}

#[test]
fn an_account_event_is_projected_into_its_mode() {
    let (_d, mut m) = temp_mirror().into_parts();
    let out = ingest(
        &mut m,
        &account_updated(&snap("acct_1", false, false), T0, false),
    );
    assert!(matches!(
        out,
        IngestOutcome::Applied(AppliedEvent {
            projected: true,
            mode: Mode::Test,
            ..
        })
    ));
    let s = m
        .account_status(Mode::Test, "acct_1")
        .unwrap()
        .expect("a row");
    assert_eq!(s.account_id, "acct_1");
    assert_eq!(s.mode, Mode::Test);
    assert_eq!(s.business_name.as_deref(), Some("Example Shop"));
    assert!(!s.charges_enabled && !s.payouts_enabled && !s.details_submitted);
    assert!(!s.is_ready());
    assert_eq!(
        s.requirements,
        AccountRequirements {
            currently_due: vec!["external_account".into()],
            past_due: Vec::new(),
            eventually_due: vec!["external_account".into()],
            disabled_reason: Some("requirements.past_due".into()),
        }
    );
    assert_eq!(s.checked_at, T0);
    assert_eq!(m.account_status(Mode::Live, "acct_1").unwrap(), None);
    assert_eq!(m.latest_account_status(Mode::Live).unwrap(), None);
    assert_eq!(m.latest_account_status(Mode::Test).unwrap(), Some(s));
}

#[test]
fn the_newest_event_wins_whatever_arrives_last() {
    let (_d, mut m) = temp_mirror().into_parts();
    let older = account_updated(&snap("acct_1", true, false), T0, true);
    let newer = account_updated(&snap("acct_1", true, true), T0 + 60, true);
    ingest(&mut m, &newer);
    ingest(&mut m, &older);
    let s = m.account_status(Mode::Live, "acct_1").unwrap().unwrap();
    assert!(s.is_ready(), "a late older update does not win: {s:?}");
    assert_eq!(s.checked_at, T0 + 60);
    assert!(s.requirements.currently_due.is_empty());
    // A redelivery of the older one changes nothing either.
    assert!(matches!(
        ingest(&mut m, &older),
        IngestOutcome::Duplicate { .. }
    ));
    assert_eq!(m.account_status(Mode::Live, "acct_1").unwrap(), Some(s));
    // A newer one flips it back.
    ingest(
        &mut m,
        &account_updated(&snap("acct_1", true, false), T0 + 120, true),
    );
    let s = m.account_status(Mode::Live, "acct_1").unwrap().unwrap();
    assert!(!s.charges_enabled);
    assert_eq!(s.checked_at, T0 + 120);
}

#[test]
fn modes_and_accounts_stay_apart_and_the_latest_is_per_mode() {
    let (_d, mut m) = temp_mirror().into_parts();
    ingest(
        &mut m,
        &account_updated(&snap("acct_1", false, true), T0, false),
    );
    ingest(
        &mut m,
        &account_updated(&snap("acct_1", true, false), T0 + 10, false),
    );
    ingest(
        &mut m,
        &account_updated(&snap("acct_2", false, false), T0 + 5, false),
    );
    assert!(
        m.account_status(Mode::Test, "acct_1")
            .unwrap()
            .unwrap()
            .is_ready()
    );
    assert!(
        !m.account_status(Mode::Live, "acct_1")
            .unwrap()
            .unwrap()
            .is_ready()
    );
    let latest = m.latest_account_status(Mode::Test).unwrap().unwrap();
    assert_eq!(
        latest.account_id, "acct_2",
        "heard from most recently in test mode"
    );
    assert_eq!(
        m.latest_account_status(Mode::Live)
            .unwrap()
            .unwrap()
            .account_id,
        "acct_1"
    );
}

#[test]
fn a_synthetic_fetch_competes_with_delivered_events_on_time() {
    let (_d, mut m) = temp_mirror().into_parts();
    // What the gateway records after GET /v1/account: source api, created = fetch time.
    let mut fetched = account_updated(&snap("acct_1", false, false), T0 + 30, false);
    fetched["id"] = json!(format!("evt_0fluxstore_api_acct_1_test_{}", T0 + 30));
    m.ingest(fetched.to_string().as_bytes(), Source::Api)
        .unwrap();
    ingest(
        &mut m,
        &account_updated(&snap("acct_1", false, true), T0, false),
    );
    assert!(
        !m.account_status(Mode::Test, "acct_1")
            .unwrap()
            .unwrap()
            .charges_enabled,
        "the fetch is newer than the delivered event"
    );
    ingest(
        &mut m,
        &account_updated(&snap("acct_1", false, true), T0 + 31, false),
    );
    assert!(
        m.account_status(Mode::Test, "acct_1")
            .unwrap()
            .unwrap()
            .charges_enabled
    );
}

#[test]
fn unknown_and_missing_fields_are_tolerated() {
    let (_d, mut m) = temp_mirror().into_parts();
    let bare = json!({
        "id": "evt_bare", "object": "event", "type": "account.updated", "created": T0,
        "livemode": false,
        "data": {"object": {"id": "acct_9", "object": "account", "requirements": null,
            "charges_enabled": "yes", "future_field": {"x": 1}}}
    });
    ingest(&mut m, &bare);
    let s = m.account_status(Mode::Test, "acct_9").unwrap().unwrap();
    assert!(
        !s.charges_enabled,
        "a flag that is not a boolean is not taken as enabled"
    );
    assert_eq!(s.business_name, None);
    assert_eq!(s.requirements, AccountRequirements::default());

    let mut odd = snap("acct_9", false, false);
    odd.disabled_reason = Some("a_reason_from_the_future".into());
    ingest(&mut m, &account_updated(&odd, T0 + 1, false));
    let s = m.account_status(Mode::Test, "acct_9").unwrap().unwrap();
    assert_eq!(
        s.requirements.disabled_reason.as_deref(),
        Some("a_reason_from_the_future")
    );

    // An account event without an account object is stored, not projected.
    let app = json!({
        "id": "evt_app", "object": "event", "type": "account.updated", "created": T0 + 2,
        "livemode": false, "data": {"object": {"id": "ca_1", "object": "application"}}
    });
    assert!(matches!(
        ingest(&mut m, &app),
        IngestOutcome::Applied(AppliedEvent {
            projected: false,
            ..
        })
    ));
    assert_eq!(m.account_status(Mode::Test, "ca_1").unwrap(), None);
}

#[test]
fn account_events_never_touch_orders() {
    let (_d, mut m) = temp_mirror().into_parts();
    let ctx = fluxstore_samples::Ctx::test(fluxstore_samples::ApiShape::Dahlia);
    crate::common::ingest_all(
        &mut m,
        &fluxstore_samples::order_story(3, fluxstore_samples::Outcome::Paid, "usd", 900, &ctx, T0),
    );
    let before = crate::common::all_orders(&m, Mode::Test);
    ingest(
        &mut m,
        &account_updated(&snap("acct_1", false, true), T0 + 5, false),
    );
    assert_eq!(crate::common::all_orders(&m, Mode::Test), before);
    assert_eq!(
        m.events(Some(Mode::Test), 1).unwrap()[0].event_type,
        "account.updated"
    );
}

#[test]
fn a_fetched_account_is_not_an_arriving_event() {
    let (_d, mut m) = temp_mirror().into_parts();
    let mut fetched = account_updated(&snap("acct_1", false, true), T0, false);
    fetched["id"] = json!(format!("evt_0fluxstore_api_acct_1_test_{T0}"));
    m.ingest(fetched.to_string().as_bytes(), Source::Api)
        .unwrap();
    let facts = m.checklist_facts().unwrap().test;
    assert_eq!(
        facts.first_event_at, None,
        "connecting is not an event arriving"
    );
    assert_eq!(facts.last_event_at, None);
    assert_eq!(facts.event_count, 0);
    assert!(m.account_status(Mode::Test, "acct_1").unwrap().is_some());

    ingest(
        &mut m,
        &account_updated(&snap("acct_1", false, false), T0 + 5, false),
    );
    let facts = m.checklist_facts().unwrap().test;
    assert!(facts.first_event_at.is_some());
    assert_eq!(facts.first_event_at, facts.last_event_at);
    assert_eq!(facts.event_count, 1);
}
