//! Notices: which facts are raised, and each only once (restarts included).

use fluxstore_mirror::{Mirror, Mode, NoticeKind, NoticeTarget};
use fluxstore_samples::{
    ApiShape, Ctx, OrderSpec, Outcome, SubOutcome, dispute, envelope, order_story,
    subscription_story,
};
use fluxstore_test_support::temp_mirror;

use crate::common::ingest_all;

const NOW: i64 = 1_800_000_000;
const DAY: i64 = 86_400;

#[test]
fn each_fact_is_raised_once_and_never_again_after_a_restart() {
    let t = temp_mirror();
    let path = t.path();
    let (dir, mut m) = t.into_parts();
    let ctx = Ctx::test(ApiShape::Basil);
    // A dispute opened 40 seconds ago (order_story opens it 3 days and 60 s after checkout).
    ingest_all(
        &mut m,
        &order_story(
            1,
            Outcome::DisputeOpen,
            "usd",
            2500,
            &ctx,
            NOW - 3 * DAY - 100,
        ),
    );
    // One opened 40 days ago: history, never news.
    ingest_all(
        &mut m,
        &order_story(2, Outcome::DisputeOpen, "usd", 900, &ctx, NOW - 40 * DAY),
    );
    // A dispute due in 48 hours without evidence, opened 6 days ago.
    let o3 = OrderSpec::new(3, "jpy", 1500, false);
    ingest_all(
        &mut m,
        &order_story(3, Outcome::Paid, "jpy", 1500, &ctx, NOW - 7 * DAY),
    );
    let d3 = dispute(
        &o3,
        "needs_response",
        "product_not_received",
        Some(NOW + 2 * DAY),
        false,
        NOW - 6 * DAY,
        &ctx,
    );
    ingest_all(
        &mut m,
        &[envelope("charge.dispute.created", d3, NOW - 6 * DAY, &ctx)],
    );
    // A renewal that failed an hour ago (the story's second invoice fails 1 h into period 2).
    ingest_all(
        &mut m,
        &subscription_story(
            4,
            SubOutcome::PastDue,
            "kwd",
            4_500,
            &ctx,
            NOW - 30 * DAY - 2 * 3600,
        ),
    );
    // The store's first live order, paid a minute ago.
    ingest_all(
        &mut m,
        &order_story(
            5,
            Outcome::Paid,
            "usd",
            7_000,
            &Ctx::live(ApiShape::Basil),
            NOW - 120,
        ),
    );

    let first = m.claim_notices(&NoticeKind::ALL, NOW).unwrap();
    let got: Vec<(NoticeKind, Mode)> = first.iter().map(|n| (n.kind, n.mode)).collect();
    assert_eq!(
        got,
        vec![
            (NoticeKind::NewDispute, Mode::Test),
            (NoticeKind::DisputeDueSoon, Mode::Test),
            (NoticeKind::RenewalFailed, Mode::Test),
            (NoticeKind::FirstLiveOrder, Mode::Live),
        ],
        "{first:#?}"
    );
    assert_eq!(
        first[0].target,
        NoticeTarget::Dispute {
            id: OrderSpec::new(1, "usd", 2500, false).dispute
        }
    );
    assert!(first[0].title.contains("25.00 USD"), "{}", first[0].title);
    assert!(first[1].title.contains("in 48 hours"), "{}", first[1].title);
    assert!(first[2].body.contains("4.500 KWD"), "{}", first[2].body);
    assert!(first[3].body.contains("70.00 USD"), "{}", first[3].body);
    assert!(matches!(first[3].target, NoticeTarget::Order { .. }));

    // Asked again, nothing; a second live order is not a first.
    assert!(
        m.claim_notices(&NoticeKind::ALL, NOW + 5)
            .unwrap()
            .is_empty()
    );
    ingest_all(
        &mut m,
        &order_story(
            6,
            Outcome::Paid,
            "usd",
            100,
            &Ctx::live(ApiShape::Basil),
            NOW,
        ),
    );
    assert!(
        m.claim_notices(&NoticeKind::ALL, NOW + 200)
            .unwrap()
            .is_empty()
    );

    // After a restart, still nothing.
    drop(m);
    let mut m = Mirror::open(&path).unwrap();
    assert!(
        m.claim_notices(&NoticeKind::ALL, NOW + 300)
            .unwrap()
            .is_empty()
    );
    drop(dir);
}

#[test]
fn a_kind_turned_off_is_not_raised_and_not_used_up() {
    let (_d, mut m) = temp_mirror().into_parts();
    let ctx = Ctx::test(ApiShape::Basil);
    ingest_all(
        &mut m,
        &order_story(
            1,
            Outcome::DisputeOpen,
            "usd",
            2500,
            &ctx,
            NOW - 3 * DAY - 100,
        ),
    );
    assert!(
        m.claim_notices(&[NoticeKind::FirstLiveOrder], NOW)
            .unwrap()
            .is_empty()
    );
    // Turned on again while still news: raised then.
    let n = m
        .claim_notices(&[NoticeKind::NewDispute], NOW + 10)
        .unwrap();
    assert_eq!(n.len(), 1);
}
