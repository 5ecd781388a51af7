//! The read API on a realistic sample store: filters, keyset pagination boundaries,
//! search, order detail, the dispute queue, facts, logs, settings, a concurrent reader.

use std::collections::HashSet;

use crate::common::{T0, all_orders, ingest_all};
use fluxstore_mirror::{
    ApiCall, MAX_REJECTION_ROWS, Mirror, MirrorError, Mode, NewRejection, Order, OrderQuery,
    OrderStatus, REJECTION_BUCKET_SECS, RejectionCode, RejectionTally, Source,
};
use fluxstore_samples::{ApiShape, Ctx, OrderSpec, Outcome, order_story, sample_store};
use fluxstore_test_support::{MIRROR_FILE, assert_no_secret, temp_mirror};

const NOW: i64 = T0 + 90 * 86_400;

fn store() -> (tempfile::TempDir, Mirror) {
    let (d, mut m) = temp_mirror().into_parts();
    ingest_all(&mut m, &sample_store(3, NOW));
    (d, m)
}

fn q() -> OrderQuery {
    OrderQuery {
        limit: 500,
        ..OrderQuery::default()
    }
}

fn walk(m: &Mirror, mode: Mode, base: &OrderQuery, limit: u32) -> Vec<Order> {
    let mut out = Vec::new();
    let mut after = None;
    for _ in 0..1_000 {
        let page = m
            .orders(
                mode,
                &OrderQuery {
                    after: after.clone(),
                    limit,
                    ..base.clone()
                },
            )
            .unwrap();
        assert!(page.items.len() <= limit as usize);
        out.extend(page.items);
        match page.next {
            Some(c) => after = Some(c),
            None => return out,
        }
    }
    panic!("pagination did not end");
}

#[test]
fn pages_walk_every_order_once_newest_first() {
    let (_d, m) = store();
    let all = all_orders(&m, Mode::Test);
    assert!(all.len() >= 25, "{}", all.len());
    for w in all.windows(2) {
        assert!(
            (w[0].created, &w[0].session_id) > (w[1].created, &w[1].session_id),
            "newest first"
        );
    }
    for limit in [
        1,
        2,
        7,
        all.len() as u32 - 1,
        all.len() as u32,
        all.len() as u32 + 1,
    ] {
        let walked = walk(&m, Mode::Test, &OrderQuery::default(), limit);
        assert_eq!(walked, all, "limit {limit}");
    }
    // Exactly one full page: no cursor for an empty next page.
    let page = m
        .orders(
            Mode::Test,
            &OrderQuery {
                limit: all.len() as u32,
                ..Default::default()
            },
        )
        .unwrap();
    assert_eq!(page.next, None);
}

#[test]
fn pagination_is_stable_when_orders_share_a_timestamp() {
    let (_d, mut m) = temp_mirror().into_parts();
    let ctx = Ctx::test(ApiShape::Basil);
    for n in 0..12 {
        ingest_all(
            &mut m,
            &order_story(n, Outcome::Paid, "usd", 1000, &ctx, T0),
        );
    }
    let all = all_orders(&m, Mode::Test);
    assert_eq!(all.len(), 12);
    assert_eq!(walk(&m, Mode::Test, &OrderQuery::default(), 5), all);
    let keys: HashSet<_> = all.iter().map(|o| o.session_id.clone()).collect();
    assert_eq!(keys.len(), 12);
}

#[test]
fn filters_combine() {
    let (_d, m) = store();
    let all = all_orders(&m, Mode::Test);
    let paid = m
        .orders(
            Mode::Test,
            &OrderQuery {
                statuses: vec![OrderStatus::Paid],
                ..q()
            },
        )
        .unwrap()
        .items;
    assert_eq!(
        paid,
        all.iter()
            .filter(|o| o.status == OrderStatus::Paid)
            .cloned()
            .collect::<Vec<_>>()
    );
    assert!(!paid.is_empty());
    let two = vec![OrderStatus::Refunded, OrderStatus::PartiallyRefunded];
    let refunded = walk(
        &m,
        Mode::Test,
        &OrderQuery {
            statuses: two.clone(),
            ..Default::default()
        },
        2,
    );
    assert_eq!(
        refunded,
        all.iter()
            .filter(|o| two.contains(&o.status))
            .cloned()
            .collect::<Vec<_>>()
    );
    let jpy = m
        .orders(
            Mode::Test,
            &OrderQuery {
                currency: Some("JPY".into()),
                ..q()
            },
        )
        .unwrap()
        .items;
    assert!(!jpy.is_empty() && jpy.iter().all(|o| o.currency.as_deref() == Some("jpy")));
    let mid = all[all.len() / 2].created;
    let range = m
        .orders(
            Mode::Test,
            &OrderQuery {
                created_from: Some(mid),
                created_to: Some(NOW),
                ..q()
            },
        )
        .unwrap()
        .items;
    assert_eq!(
        range,
        all.iter()
            .filter(|o| o.created >= mid)
            .cloned()
            .collect::<Vec<_>>()
    );
    // Filters combine with AND: a status no JPY order has finds nothing in JPY.
    let absent = OrderStatus::ALL
        .into_iter()
        .find(|s| !jpy.iter().any(|o| o.status == *s))
        .expect("a status no JPY order has");
    let none = m.orders(
        Mode::Test,
        &OrderQuery {
            currency: Some("jpy".into()),
            statuses: vec![absent],
            ..q()
        },
    );
    assert!(none.unwrap().items.is_empty());
}

#[test]
fn search_finds_emails_by_any_part_and_ids_by_their_start() {
    let (_d, m) = store();
    let all = all_orders(&m, Mode::Test);
    let target = all.iter().find(|o| o.charge_id.is_some()).unwrap().clone();
    let search = |s: &str| {
        m.orders(
            Mode::Test,
            &OrderQuery {
                search: Some(s.into()),
                ..q()
            },
        )
        .unwrap()
        .items
    };
    let email = target.customer_email.clone().unwrap();
    let local = email.split('@').next().unwrap();
    let middle = &local[1..local.len() - 1];
    for s in [
        email.as_str(),
        &email.to_uppercase(),
        middle,
        &email[email.len() - 6..],
    ] {
        let found = search(s);
        assert!(found.contains(&target), "search {s:?}");
        assert!(found.iter().all(|o| {
            o.customer_email
                .as_deref()
                .unwrap()
                .to_lowercase()
                .contains(&s.to_lowercase())
        }));
    }
    for id in [
        target.session_id.clone(),
        target.payment_intent_id.clone().unwrap(),
        target.charge_id.clone().unwrap(),
    ] {
        assert_eq!(search(&id), vec![target.clone()], "full id {id}");
        assert!(
            search(&id[..id.len() - 4]).contains(&target),
            "leading part of {id}"
        );
    }
    assert!(
        search("cs_test_").len() == all.len(),
        "every test session starts so"
    );
    assert!(search("zz-no-such-buyer").is_empty());
    assert!(
        search("a")
            .iter()
            .all(|o| o.customer_email.as_deref().unwrap().contains('a'))
    );
    assert!(!search("  ").is_empty(), "blank search is no filter");
    // Search respects the mode.
    let live = all_orders(&m, Mode::Live);
    let live_email = live[0].customer_email.clone().unwrap();
    assert!(search(&live_email).is_empty());
}

#[test]
fn a_bad_cursor_is_refused_in_plain_words() {
    let (_d, m) = store();
    let err = m
        .orders(
            Mode::Test,
            &OrderQuery {
                after: Some("not-a-cursor".into()),
                ..q()
            },
        )
        .unwrap_err();
    assert!(matches!(err, MirrorError::InvalidCursor));
    assert!(err.to_string().contains("first page"));
}

#[test]
fn order_detail_has_the_whole_timeline_and_disputes() {
    let (_d, mut m) = temp_mirror().into_parts();
    let ctx = Ctx::test(ApiShape::Legacy2024);
    let events = order_story(5, Outcome::DisputeWon, "usd", 2500, &ctx, T0);
    ingest_all(&mut m, events.iter().rev());
    let spec = OrderSpec::new(5, "usd", 2500, false);
    for id in [
        &spec.session,
        &spec.payment_intent,
        &spec.charge,
        &spec.dispute,
    ] {
        let d = m
            .order_detail(Mode::Test, id)
            .unwrap()
            .unwrap_or_else(|| panic!("{id}"));
        assert_eq!(d.order.session_id, spec.session);
        let got: Vec<_> = d.timeline.iter().map(|t| t.event_id.as_str()).collect();
        let mut want: Vec<_> = events
            .iter()
            .map(|e| (e["created"].as_i64().unwrap(), e["id"].as_str().unwrap()))
            .collect();
        want.sort();
        assert_eq!(got, want.iter().map(|w| w.1).collect::<Vec<_>>());
        assert_eq!(d.disputes.len(), 1);
        assert_eq!(d.disputes[0].status, "won");
    }
    assert!(
        m.order_detail(Mode::Test, "cs_test_missing")
            .unwrap()
            .is_none()
    );
    assert!(m.order_detail(Mode::Live, &spec.session).unwrap().is_none());
}

#[test]
fn the_dispute_queue_puts_needed_responses_first_by_due_date() {
    let (_d, mut m) = temp_mirror().into_parts();
    let ctx = Ctx::test(ApiShape::Basil);
    // Opened on different days: due dates differ; some closed, one under review.
    for (n, day, outcome) in [
        (1, 5, Outcome::DisputeOpen),
        (2, 1, Outcome::DisputeOpen),
        (3, 3, Outcome::DisputeWon),
        (4, 9, Outcome::DisputeOpen),
        (5, 2, Outcome::DisputeLost),
    ] {
        ingest_all(
            &mut m,
            &order_story(n, outcome, "usd", 1000, &ctx, T0 + day * 86_400),
        );
    }
    let spec = OrderSpec::new(6, "usd", 1000, false);
    ingest_all(
        &mut m,
        &order_story(6, Outcome::Paid, "usd", 1000, &ctx, T0),
    );
    let review = fluxstore_samples::dispute(
        &spec,
        "under_review",
        "general",
        Some(T0 + 1),
        true,
        T0 + 10,
        &ctx,
    );
    ingest_all(
        &mut m,
        [&fluxstore_samples::envelope(
            "charge.dispute.updated",
            review,
            T0 + 10,
            &ctx,
        )],
    );
    let q = m.disputes(Mode::Test).unwrap();
    let status: Vec<_> = q.iter().map(|d| d.status.as_str()).collect();
    assert_eq!(
        status,
        [
            "needs_response",
            "needs_response",
            "needs_response",
            "under_review",
            "won",
            "lost"
        ]
    );
    let due: Vec<_> = q[..3].iter().map(|d| d.due_by.unwrap()).collect();
    assert!(due.windows(2).all(|w| w[0] <= w[1]), "{due:?}");
    assert!(q[4].updated > q[5].updated, "closed: newest first");
    assert_eq!(m.disputes_needing_response(Mode::Test).unwrap(), 3);
}

#[test]
fn a_paid_order_from_before_the_connection_proves_nothing() {
    let (_d, mut m) = temp_mirror().into_parts();
    let paid = |n: u64, t0: i64| {
        order_story(
            n,
            Outcome::Paid,
            "usd",
            1000,
            &Ctx::test(ApiShape::Basil),
            t0,
        )
    };
    // The first sync pulls last month's history through the events API.
    for e in paid(1, T0) {
        m.ingest(e.to_string().as_bytes(), Source::EventsApi)
            .unwrap();
    }
    let connected = T0 + 86_400;
    let f = m.checklist_facts_since(Some(connected), None).unwrap().test;
    assert_eq!(f.first_paid_order, None, "history never ticks the step");
    assert_eq!(f.earlier_paid_orders, 1);
    assert!(f.last_polled_at.is_some());
    assert_eq!((f.last_webhook_at, f.last_feed_at), (None, None));
    // Nothing recorded (a store connected by an earlier build): the first arrival is the line.
    let f = m.checklist_facts().unwrap().test;
    assert_eq!(f.connected_at, f.first_event_at);
    assert_eq!(f.first_paid_order, None);

    // A new order after connecting, delivered by a webhook, ticks it.
    for e in paid(2, connected + 600) {
        m.ingest(e.to_string().as_bytes(), Source::Webhook).unwrap();
    }
    let f = m.checklist_facts_since(Some(connected), None).unwrap().test;
    let (session, paid_at) = f.first_paid_order.expect("the new order counts");
    assert_eq!(paid_at, connected + 660);
    assert!(session.starts_with("cs_test_"), "{session}");
    assert_eq!(
        f.earlier_paid_orders, 0,
        "counted only while nothing newer proves the mode"
    );
    assert!(f.last_webhook_at.is_some() && f.last_polled_at.is_some());
    assert_eq!(
        m.checklist_facts_since(None, Some(connected))
            .unwrap()
            .live
            .first_paid_order,
        None
    );
}

#[test]
fn facts_logs_and_settings() {
    let (_d, mut m) = temp_mirror().into_parts();
    assert_eq!(m.checklist_facts().unwrap(), Default::default());
    ingest_all(
        &mut m,
        &order_story(
            1,
            Outcome::Paid,
            "usd",
            1000,
            &Ctx::test(ApiShape::Basil),
            T0,
        ),
    );
    // Connected before the order was created: it proves the mode works.
    let f = m.checklist_facts_since(Some(T0 - 60), None).unwrap();
    assert_eq!(f.test.event_count, 3);
    assert!(f.test.first_event_at.is_some() && f.test.last_event_at >= f.test.first_event_at);
    assert_eq!(f.test.first_paid_order.as_ref().unwrap().1, T0 + 60);
    assert_eq!(f.test.connected_at, Some(T0 - 60));
    assert_eq!(f.test.earlier_paid_orders, 0);
    assert_eq!(f.test.last_webhook_at, f.test.last_event_at);
    assert_eq!((f.test.last_feed_at, f.test.last_polled_at), (None, None));
    assert_eq!(f.live, Default::default());

    m.record_rejection(&NewRejection {
        code: "signature_invalid".into(),
        size: 321,
        peer: Some("127.0.0.1:5000".into()),
    })
    .unwrap();
    m.record_rejection(&NewRejection {
        code: "timestamp_outside_tolerance".into(),
        size: 9,
        peer: None,
    })
    .unwrap();
    let r = m.rejections(10).unwrap();
    assert_eq!(
        (r[0].code.as_str(), r[1].code.as_str()),
        ("timestamp_outside_tolerance", "signature_invalid")
    );
    assert_eq!(r[1].last_size, 321);
    assert_eq!(r[1].last_peer.as_deref(), Some("127.0.0.1:5000"));
    assert_eq!(
        m.checklist_facts().unwrap().last_rejection.unwrap().code,
        "timestamp_outside_tolerance"
    );
    // More of the same code in the same hour add to its count, not rows.
    for port in 5001..5011 {
        m.record_rejection(&NewRejection {
            code: "signature_invalid".into(),
            size: 100,
            peer: Some(format!("127.0.0.1:{port}")),
        })
        .unwrap();
    }
    let r = m.rejections(10).unwrap();
    assert!(r.len() <= 3, "one row per hour and code: {r:?}");
    let counted: u64 = r
        .iter()
        .filter(|x| x.code == "signature_invalid")
        .map(|x| x.count)
        .sum();
    assert_eq!(counted, 11);
    let newest = r.iter().find(|x| x.code == "signature_invalid").unwrap();
    assert_eq!(newest.last_peer.as_deref(), Some("127.0.0.1:5010"));

    let call = ApiCall {
        at: T0,
        method: "POST".into(),
        path: "/v1/refunds".into(),
        object_id: Some("pi_1".into()),
        status: Some(200),
        request_id: Some("req_1".into()),
        idempotency_key: Some("k".into()),
        duration_ms: 120,
        mode: Some(Mode::Live),
        error_code: None,
    };
    m.record_api_call(&call).unwrap();
    m.record_api_call(&ApiCall {
        status: None,
        mode: None,
        error_code: Some("network".into()),
        ..call.clone()
    })
    .unwrap();
    let calls = m.api_calls(10).unwrap();
    assert_eq!(calls[1], call);
    assert_eq!(
        (calls[0].status, calls[0].error_code.as_deref()),
        (None, Some("network"))
    );

    assert_eq!(m.setting("k").unwrap(), None);
    m.set_setting("k", Some("v1")).unwrap();
    m.set_setting("k", Some("v2")).unwrap();
    assert_eq!(m.setting("k").unwrap().as_deref(), Some("v2"));
    m.set_setting("k", None).unwrap();
    assert_eq!(m.setting("k").unwrap(), None);
}

#[test]
fn a_reader_sees_what_the_writer_commits() {
    let (d, mut w) = temp_mirror().into_parts();
    let r = Mirror::open_read_only(&d.path().join(MIRROR_FILE)).unwrap();
    assert!(all_orders(&r, Mode::Test).is_empty());
    ingest_all(
        &mut w,
        &order_story(
            1,
            Outcome::Paid,
            "eur",
            1000,
            &Ctx::test(ApiShape::Dahlia),
            T0,
        ),
    );
    assert_eq!(all_orders(&r, Mode::Test).len(), 1);
    assert!(Mirror::open_read_only(&d.path().join("absent.sqlite")).is_err());
}

#[test]
fn searches_matching_thousands_of_orders_still_page_correctly() {
    let (_d, mut m) = temp_mirror().into_parts();
    let ctx = Ctx::test(ApiShape::Basil);
    let events: Vec<_> = (0..2_100u64)
        .map(|n| {
            let o = OrderSpec::new(n, "usd", 100, false);
            let s =
                fluxstore_samples::checkout_session(&o, "complete", "paid", T0 + n as i64, &ctx);
            let e =
                fluxstore_samples::envelope("checkout.session.completed", s, T0 + n as i64, &ctx);
            (
                fluxstore_mirror::Event::parse(e.to_string().as_bytes()).unwrap(),
                fluxstore_mirror::Source::Webhook,
            )
        })
        .collect();
    m.ingest_batch(&events).unwrap();
    for (term, expect) in [
        ("cs_test_", 2_100),
        ("example", 2_100),
        ("hopper", 2_100 / 8 + 1),
    ] {
        let base = OrderQuery {
            search: Some(term.into()),
            ..Default::default()
        };
        let walked = walk(&m, Mode::Test, &base, 100);
        let all: Vec<_> = all_orders_slow(&m)
            .into_iter()
            .filter(|o| {
                o.session_id.starts_with(term)
                    || o.customer_email.as_deref().unwrap().contains(term)
            })
            .collect();
        assert_eq!(walked.len(), all.len(), "{term}");
        assert!(
            walked.len().abs_diff(expect) <= 8,
            "{term}: {}",
            walked.len()
        );
        assert_eq!(walked, all, "{term}");
    }
}

/// Every test order newest first, through pages (the page size is capped).
fn all_orders_slow(m: &Mirror) -> Vec<Order> {
    walk(m, Mode::Test, &OrderQuery::default(), 500)
}

#[test]
fn secrets_are_refused_and_never_reach_the_file() {
    let (d, mut m) = temp_mirror().into_parts();
    let secrets = [
        "sk_test_51Habc",
        "sk_live_51Habc",
        "rk_live_51Habc",
        "whsec_abc123",
        "Bearer sk_x",
    ];
    for s in secrets {
        assert!(
            matches!(
                m.set_setting("key", Some(s)),
                Err(MirrorError::SecretRefused)
            ),
            "{s}"
        );
        let call = ApiCall {
            at: T0,
            method: "GET".into(),
            path: format!("/v1/charges?key={s}"),
            object_id: None,
            status: None,
            request_id: None,
            idempotency_key: None,
            duration_ms: 1,
            mode: None,
            error_code: None,
        };
        assert!(
            matches!(m.record_api_call(&call), Err(MirrorError::SecretRefused)),
            "{s}"
        );
        let rej = NewRejection {
            code: "signature_invalid".into(),
            size: 1,
            peer: Some(s.into()),
        };
        assert!(
            matches!(m.record_rejection(&rej), Err(MirrorError::SecretRefused)),
            "{s}"
        );
    }
    assert!(!MirrorError::SecretRefused.is_storage_unavailable());
    assert!(
        !MirrorError::SecretRefused.to_string().contains("sk_"),
        "the error names no secret"
    );
    drop(m);
    assert_no_secret(d.path(), &secrets);
}

#[test]
fn counted_refusals_commit_with_a_batch_in_a_few_rows_and_the_table_stays_capped() {
    let (_d, mut m) = store();
    let mut tally = RejectionTally::default();
    let late = 5_000 * REJECTION_BUCKET_SECS;
    for i in 0..5_000u64 {
        tally.add(
            &NewRejection {
                code: RejectionCode::SignatureInvalid,
                size: i,
                peer: Some(format!("10.0.0.9:{}", i % 7)),
            },
            late + (i as i64 % 60),
        );
    }
    let hours = i64::from(MAX_REJECTION_ROWS) + 20;
    for h in 0..hours {
        tally.add(
            &NewRejection {
                code: RejectionCode::MalformedPayload,
                size: 1,
                peer: None,
            },
            h * REJECTION_BUCKET_SECS,
        );
    }
    assert_eq!(tally.total(), 5_000 + hours as u64);
    let raw = serde_json::to_vec(
        &fluxstore_samples::test_event("charge.succeeded", false, T0).expect("sample"),
    )
    .unwrap();
    let event = fluxstore_mirror::Event::parse(&raw).unwrap();
    let out = m
        .ingest_batch_with_rejections(&[(event, fluxstore_mirror::Source::Webhook)], &tally)
        .unwrap();
    assert_eq!(out.len(), 1);
    assert!(
        m.event_raw(out[0].event_id()).unwrap().is_some(),
        "the event is stored"
    );
    let rows = m.rejections(u32::MAX).unwrap();
    assert_eq!(rows.len(), MAX_REJECTION_ROWS as usize, "capped");
    let newest = &rows[0];
    assert_eq!(
        (newest.code, newest.count, newest.bucket_start),
        (RejectionCode::SignatureInvalid, 5_000, late)
    );
    assert!(
        rows.iter()
            .all(|r| r.bucket_start >= 20 * REJECTION_BUCKET_SECS),
        "the oldest buckets were dropped"
    );
    // A second write adds to the same row.
    m.ingest_batch_with_rejections(&[], &tally).unwrap();
    assert_eq!(m.rejections(1).unwrap()[0].count, 10_000);
}
