//! Crate-internal tests: migrations from every earlier schema, storage failures.

use fluxstore_samples::{ApiShape, Ctx, Outcome, order_story};
use rusqlite::Connection;

use super::*;

fn story_bytes(n: u64, outcome: Outcome) -> Vec<Vec<u8>> {
    order_story(
        n,
        outcome,
        "usd",
        1999,
        &Ctx::test(ApiShape::Legacy2024),
        1_700_000_000,
    )
    .into_iter()
    .map(|e| e.to_string().into_bytes())
    .collect()
}

/// Fill a database at an earlier schema version with what a build of that version stored
/// for `raws`: the events, their references and the projection rows (the columns every
/// version has). The rows come from this build's fold of the same events, which for
/// Checkout orders is what earlier builds wrote; version 5's own changes are tested apart.
fn populate_as_earlier_build(path: &std::path::Path, raws: &[Vec<u8>]) {
    let dir = tempfile::tempdir().unwrap();
    let fresh_path = dir.path().join("fresh.sqlite");
    {
        let mut fresh = Mirror::open(&fresh_path).unwrap();
        for raw in raws {
            fresh.ingest(raw, Source::Webhook).unwrap();
        }
    }
    let conn = Connection::open(path).unwrap();
    conn.execute(
        "ATTACH DATABASE ?1 AS fresh",
        [fresh_path.to_str().unwrap()],
    )
    .unwrap();
    conn.execute_batch(
        "INSERT INTO main.events SELECT * FROM fresh.events;
         INSERT INTO main.event_refs SELECT * FROM fresh.event_refs;
         INSERT INTO main.orders(session_id, payment_intent_id, charge_id, subscription_id, status, amount,
            amount_refunded, currency, customer_email, customer_name, client_reference_id, failure_message,
            livemode, account, created, updated, paid_at)
         SELECT session_id, payment_intent_id, charge_id, subscription_id, status, amount, amount_refunded,
            currency, customer_email, customer_name, client_reference_id, failure_message, livemode, account,
            created, updated, paid_at FROM fresh.orders;
         INSERT INTO main.order_links SELECT * FROM fresh.order_links;
         INSERT INTO main.disputes SELECT id, charge_id, payment_intent_id, order_key, status, reason, amount,
            currency, due_by, needs_response, queue_rank, queue_sort, livemode, created, updated FROM fresh.disputes;
         INSERT INTO main.subscriptions SELECT * FROM fresh.subscriptions;
         INSERT INTO main.invoices SELECT * FROM fresh.invoices;",
    )
    .unwrap();
    conn.execute("DETACH DATABASE fresh", []).unwrap();
}

/// The projections a mirror of this build makes of `raws`.
fn fresh_dump(raws: &[Vec<u8>]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let mut fresh = Mirror::open(&dir.path().join("fresh.sqlite")).unwrap();
    for raw in raws {
        fresh.ingest(raw, Source::Webhook).unwrap();
    }
    fresh.dump_projections().unwrap()
}

#[test]
fn a_writer_that_syncs_itself_commits_without_sync_or_checkpoint_and_others_keep_full() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("m.sqlite");
    let mut writer = Mirror::open(&path).unwrap();
    writer.defer_commit_sync().unwrap();
    let pragma = |m: &Mirror, name: &str| -> i64 {
        m.conn
            .query_row(&format!("PRAGMA {name}"), [], |r| r.get(0))
            .unwrap()
    };
    assert_eq!(
        pragma(&writer, "synchronous"),
        1,
        "NORMAL: the caller syncs the WAL"
    );
    assert_eq!(
        pragma(&writer, "wal_autocheckpoint"),
        0,
        "no checkpoint inside a commit"
    );
    // The setting is the connection's: any other connection still syncs every commit.
    let other = Mirror::open(&path).unwrap();
    assert_eq!(pragma(&other, "synchronous"), 2);
    assert!(pragma(&other, "wal_autocheckpoint") > 0);
    // A commit leaves its frames in the WAL, beside the database, for the caller to sync.
    writer
        .ingest(
            br#"{"id":"evt_defer","object":"event","type":"charge.succeeded","created":1790000000,"livemode":false,"data":{"object":{"id":"ch_defer","object":"charge"}}}"#,
            Source::Webhook,
        )
        .unwrap();
    let wal = std::fs::metadata(dir.path().join("m.sqlite-wal")).unwrap();
    assert!(wal.len() > 0);
}

#[test]
fn migrates_from_empty_to_latest() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("m.sqlite");
    let m = Mirror::open(&path).unwrap();
    let v: i64 = m
        .conn
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap();
    assert_eq!(v, SCHEMA_VERSION as i64);
    let mode: String = m
        .conn
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
    let sync: i64 = m
        .conn
        .query_row("PRAGMA synchronous", [], |r| r.get(0))
        .unwrap();
    assert_eq!(sync, 2, "synchronous=FULL");
    let fk: i64 = m
        .conn
        .query_row("PRAGMA foreign_keys", [], |r| r.get(0))
        .unwrap();
    assert_eq!(fk, 1);
    drop(m);
    // Reopening an up-to-date database is a no-op.
    Mirror::open(&path).unwrap();
}

#[test]
fn migrates_a_populated_version_1_database() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("v1.sqlite");
    {
        let mut conn = Connection::open(&path).unwrap();
        schema::configure_writer(&conn).unwrap();
        schema::migrations().to_version(&mut conn, 1).unwrap();
        populate_as_earlier_build(&path, &story_bytes(1, Outcome::Refunded));
        let m = Mirror { conn };
        // Version 1 wrote a row per refusal.
        m.conn
            .execute(
                "INSERT INTO rejections(received_at, code, size, peer) VALUES (7200, 'signature_invalid', 10, NULL)",
                [],
            )
            .unwrap();
        // Version 1 has no settings table: the app must not rely on it yet.
        assert!(m.setting("x").is_err());
    }
    let before = {
        let conn = Connection::open(&path).unwrap();
        dump::dump(&conn).unwrap()
    };
    let read_only = Mirror::open_read_only(&path);
    assert!(
        matches!(read_only, Err(MirrorError::Migration(_))),
        "an old schema is refused for reading"
    );

    let mut m = Mirror::open(&path).unwrap();
    assert_eq!(
        m.dump_projections().unwrap(),
        fresh_dump(&story_bytes(1, Outcome::Refunded)),
        "projections re-derived as a fresh mirror makes them"
    );
    assert!(
        before.contains("order-1"),
        "the version 1 file held the order"
    );
    let page = m.orders(Mode::Test, &OrderQuery::default()).unwrap();
    assert_eq!(page.items.len(), 1);
    assert_eq!(page.items[0].status, OrderStatus::Refunded);
    let rejections = m.rejections(10).unwrap();
    assert_eq!(rejections.len(), 1);
    assert_eq!((rejections[0].count, rejections[0].last_size), (1, 10));
    // The app works on the upgraded file: new tables and new events.
    m.set_setting("mode", Some("test")).unwrap();
    assert_eq!(m.setting("mode").unwrap().as_deref(), Some("test"));
    for raw in story_bytes(2, Outcome::Paid) {
        m.ingest(&raw, Source::Webhook).unwrap();
    }
    assert_eq!(
        m.orders(Mode::Test, &OrderQuery::default())
            .unwrap()
            .items
            .len(),
        2
    );
    Mirror::open_read_only(&path).unwrap();
}

#[test]
fn version_4_rejection_rows_fold_into_hourly_counts_and_the_table_is_capped() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("v4.sqlite");
    {
        let mut conn = Connection::open(&path).unwrap();
        schema::configure_writer(&conn).unwrap();
        schema::migrations().to_version(&mut conn, 4).unwrap();
        let tx = conn.transaction().unwrap();
        {
            let mut insert = tx
                .prepare(
                    "INSERT INTO rejections(received_at, code, size, peer) VALUES (?1, ?2, ?3, ?4)",
                )
                .unwrap();
            // Three refusals of one code in the hour starting at 3600, the last from :2.
            for (at, peer, size) in [
                (3_600, "10.0.0.1:1", 5),
                (7_199, "10.0.0.1:2", 6),
                (3_700, "10.0.0.1:3", 7),
            ] {
                insert
                    .execute(rusqlite::params![at, "signature_invalid", size, peer])
                    .unwrap();
            }
            insert
                .execute(rusqlite::params![
                    3_650,
                    "signature_header_missing",
                    1,
                    None::<String>
                ])
                .unwrap();
            // The next hour, and then far more hours than the cap keeps.
            insert
                .execute(rusqlite::params![
                    7_200,
                    "signature_invalid",
                    8,
                    "10.0.0.1:4"
                ])
                .unwrap();
            let hours = i64::from(crate::MAX_REJECTION_ROWS) + 50;
            for h in 0..hours {
                insert
                    .execute(rusqlite::params![
                        1_000_000 + h * 3_600,
                        "malformed_payload",
                        1,
                        None::<String>
                    ])
                    .unwrap();
            }
        }
        tx.commit().unwrap();
    }
    let m = Mirror::open(&path).unwrap();
    let all = m.rejections(u32::MAX).unwrap();
    assert_eq!(all.len(), crate::MAX_REJECTION_ROWS as usize, "capped");
    assert!(
        all.iter()
            .all(|r| r.code == RejectionCode::MalformedPayload && r.count == 1),
        "the oldest buckets went first"
    );
    // Without the newer rows, the old hour is folded as expected.
    let dir2 = tempfile::tempdir().unwrap();
    let path2 = dir2.path().join("v4b.sqlite");
    {
        let mut conn = Connection::open(&path2).unwrap();
        schema::configure_writer(&conn).unwrap();
        schema::migrations().to_version(&mut conn, 4).unwrap();
        for (at, code, peer, size) in [
            (3_600, "signature_invalid", Some("10.0.0.1:1"), 5),
            (7_199, "signature_invalid", Some("10.0.0.1:2"), 6),
            (3_700, "signature_invalid", Some("10.0.0.1:3"), 7),
            (3_650, "signature_header_missing", None, 1),
            (7_200, "signature_invalid", Some("10.0.0.1:4"), 8),
        ] {
            conn.execute(
                "INSERT INTO rejections(received_at, code, size, peer) VALUES (?1, ?2, ?3, ?4)",
                rusqlite::params![at, code, size, peer],
            )
            .unwrap();
        }
    }
    let m = Mirror::open(&path2).unwrap();
    let rows = m.rejections(10).unwrap();
    let summary: Vec<_> = rows
        .iter()
        .map(|r| {
            (
                r.bucket_start,
                r.code.as_str(),
                r.count,
                r.first_at,
                r.last_at,
                r.last_peer.as_deref(),
                r.last_size,
            )
        })
        .collect();
    assert_eq!(
        summary,
        vec![
            (
                7_200,
                "signature_invalid",
                1,
                7_200,
                7_200,
                Some("10.0.0.1:4"),
                8
            ),
            (
                3_600,
                "signature_invalid",
                3,
                3_600,
                7_199,
                Some("10.0.0.1:2"),
                6
            ),
            (3_600, "signature_header_missing", 1, 3_650, 3_650, None, 1),
        ]
    );
}

#[test]
fn a_full_disk_is_reported_and_nothing_is_committed() {
    let dir = tempfile::tempdir().unwrap();
    let mut m = Mirror::open(&dir.path().join("full.sqlite")).unwrap();
    let pages: i64 = m
        .conn
        .query_row("PRAGMA page_count", [], |r| r.get(0))
        .unwrap();
    // SQLite's own limit on the file size: writes past it fail with SQLITE_FULL.
    m.conn.pragma_update(None, "max_page_count", pages).unwrap();
    let raws = story_bytes(3, Outcome::Paid);
    let events: Vec<(Event, Source)> = raws
        .iter()
        .map(|r| (Event::parse(r).unwrap(), Source::Webhook))
        .collect();
    let err = m.ingest_batch(&events).unwrap_err();
    assert!(matches!(err, MirrorError::StorageFull), "{err:?}");
    assert!(err.is_storage_unavailable());
    assert!(m.events(None, 10).unwrap().is_empty(), "nothing committed");
    m.conn
        .pragma_update(None, "max_page_count", 1_000_000)
        .unwrap();
    let out = m.ingest_batch(&events).unwrap();
    assert!(
        out.iter()
            .all(|o| matches!(o, IngestOutcome::Applied { .. })),
        "retry after space frees"
    );
}

#[test]
fn a_read_only_database_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ro.sqlite");
    Mirror::open(&path).unwrap();
    let mut ro = Mirror::open_read_only(&path).unwrap();
    let raw = &story_bytes(4, Outcome::Paid)[0];
    let err = ro.ingest(raw, Source::Webhook).unwrap_err();
    assert!(matches!(err, MirrorError::ReadOnly), "{err:?}");
    let err = ro
        .record_rejection(&NewRejection {
            code: "x".into(),
            size: 1,
            peer: None,
        })
        .unwrap_err();
    assert!(matches!(err, MirrorError::ReadOnly), "{err:?}");
}

#[test]
fn a_background_checkpoint_copies_what_another_connection_committed() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("m.sqlite");
    let mut writer = Mirror::open(&path).unwrap();
    let checkpointer = Mirror::open(&path).unwrap();
    for raw in story_bytes(7, Outcome::Paid) {
        writer.ingest(&raw, Source::Webhook).unwrap();
    }
    let (in_wal, copied) = checkpointer.checkpoint().unwrap();
    assert!(in_wal > 0, "the commits are in the WAL");
    assert_eq!(copied, in_wal, "nothing reads, so every page is copied");
    // The writer goes on after the checkpoint, and a reader sees everything.
    for raw in story_bytes(8, Outcome::Paid) {
        writer.ingest(&raw, Source::Webhook).unwrap();
    }
    let reader = Mirror::open_read_only(&path).unwrap();
    let orders = reader.orders(Mode::Test, &OrderQuery::default()).unwrap();
    assert_eq!(orders.items.len(), 2);
}

/// An order's key and its events (id, type, created), oldest first.
type Timeline = (String, Vec<(String, String, i64)>);

/// Every order's timeline as version 2 read it: through the links indexed by order key.
fn v2_timelines(conn: &Connection) -> Vec<Timeline> {
    let keys: Vec<String> = conn
        .prepare("SELECT session_id FROM orders ORDER BY session_id")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let mut stmt = conn
        .prepare(
            "SELECT DISTINCT e.id, e.type, e.created
             FROM order_links l JOIN event_refs r ON r.object_id = l.object_id
             JOIN events e ON e.id = r.event_id
             WHERE l.order_key = ?1 ORDER BY e.created, e.id",
        )
        .unwrap();
    keys.into_iter()
        .map(|k| {
            let rows = stmt
                .query_map([&k], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
                .unwrap()
                .collect::<Result<Vec<_>, _>>()
                .unwrap();
            (k, rows)
        })
        .collect()
}

#[test]
fn migrates_a_populated_version_2_database() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("v2.sqlite");
    let raws: Vec<Vec<u8>> = [
        (1, Outcome::Refunded),
        (2, Outcome::DisputeWon),
        (3, Outcome::Paid),
    ]
    .into_iter()
    .flat_map(|(n, outcome)| story_bytes(n, outcome))
    .collect();
    let (before, timelines) = {
        let mut conn = Connection::open(&path).unwrap();
        schema::configure_writer(&conn).unwrap();
        schema::migrations().to_version(&mut conn, 2).unwrap();
        populate_as_earlier_build(&path, &raws);
        let mut m = Mirror { conn };
        m.set_setting("mode", Some("test")).unwrap();
        (m.dump_projections().unwrap(), v2_timelines(&m.conn))
    };
    assert_eq!(timelines.len(), 3);

    let mut m = Mirror::open(&path).unwrap();
    assert_eq!(
        m.dump_projections().unwrap(),
        fresh_dump(&raws),
        "projections re-derived as a fresh mirror makes them"
    );
    assert!(
        before.contains("order-3"),
        "the version 2 file held the orders"
    );
    assert_eq!(m.setting("mode").unwrap().as_deref(), Some("test"));
    let index: i64 = m
        .conn
        .query_row(
            "SELECT count(*) FROM sqlite_schema WHERE name = 'order_links_key'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(index, 0, "the index by order key is gone");
    // The timeline walk of version 3 finds exactly the events version 2 listed.
    for (key, events) in &timelines {
        assert!(!events.is_empty(), "{key}");
        let detail = m.order_detail(Mode::Test, key).unwrap().expect("order");
        let got: Vec<_> = detail
            .timeline
            .iter()
            .map(|t| (t.event_id.clone(), t.event_type.clone(), t.created))
            .collect();
        assert_eq!(&got, events, "{key}");
        assert!(detail.timeline.iter().all(|t| t.source == Source::Webhook));
    }
    // Events arriving after the upgrade still project, and an e-mail change still
    // reaches the search index.
    for raw in story_bytes(4, Outcome::Paid) {
        m.ingest(&raw, Source::Webhook).unwrap();
    }
    assert_eq!(
        m.orders(Mode::Test, &OrderQuery::default())
            .unwrap()
            .items
            .len(),
        4
    );
    m.conn
        .execute(
            "UPDATE orders SET customer_email = 'renamed.buyer@example.org' WHERE session_id = ?1",
            [&timelines[0].0],
        )
        .unwrap();
    let found = m
        .orders(
            Mode::Test,
            &OrderQuery {
                search: Some("renamed.buyer".into()),
                ..OrderQuery::default()
            },
        )
        .unwrap();
    assert_eq!(found.items.len(), 1);
    assert_eq!(found.items[0].session_id, timelines[0].0);
    Mirror::open_read_only(&path).unwrap();
}

/// An `account.updated` event as Stripe sends it (no `business_profile` on old renders).
fn account_event(id: &str, acct: &str, livemode: bool, created: i64, ready: bool) -> String {
    serde_json::json!({
        "id": id, "object": "event", "type": "account.updated", "created": created,
        "livemode": livemode, "api_version": "2024-06-20", "pending_webhooks": 1,
        "data": {"object": {
            "id": acct, "object": "account", "charges_enabled": ready, "payouts_enabled": ready,
            "details_submitted": true, "business_profile": {"name": "Example Shop"},
            "requirements": {"currently_due": if ready { vec![] } else { vec!["external_account"] },
                "past_due": [], "eventually_due": [], "disabled_reason": null}
        }}
    })
    .to_string()
}

#[test]
fn migrates_a_populated_version_3_database() {
    let accounts = [
        account_event("evt_a2", "acct_1", false, 1_700_000_060, true),
        account_event("evt_a1", "acct_1", false, 1_700_000_000, false),
        account_event("evt_a3", "acct_1", true, 1_700_000_010, false),
        account_event("evt_b1", "acct_2", false, 1_700_000_030, false),
    ];
    let deauthorized = serde_json::json!({
        "id": "evt_d1", "object": "event", "type": "account.application.deauthorized",
        "created": 1_700_000_070, "livemode": false, "account": "acct_2",
        "data": {"object": {"id": "ca_1", "object": "application"}}
    })
    .to_string();
    let orders = story_bytes(1, Outcome::Refunded);

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("v3.sqlite");
    let before = {
        let mut conn = Connection::open(&path).unwrap();
        schema::configure_writer(&conn).unwrap();
        schema::migrations().to_version(&mut conn, 3).unwrap();
        populate_as_earlier_build(&path, &orders);
        let m = Mirror { conn };
        // What a version 3 build stored for account events: the event, no index, no row.
        for raw in accounts.iter().chain([&deauthorized]) {
            let ev = Event::parse(raw.as_bytes()).unwrap();
            m.conn
                .execute(
                    "INSERT INTO events(id, type, created, livemode, account, api_version, source, received_at, raw)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'webhook', ?3, ?7)",
                    rusqlite::params![ev.id, ev.event_type, ev.created, ev.livemode, ev.account, ev.api_version, ev.raw],
                )
                .unwrap();
        }
        m.dump_projections().unwrap()
    };
    assert!(before.ends_with("== accounts\n"), "no accounts table yet");

    let m = Mirror::open(&path).unwrap();
    // The migrated mirror is the one a fresh mirror builds from the same events.
    let fresh_dir = tempfile::tempdir().unwrap();
    let expected = {
        let mut fresh = Mirror::open(&fresh_dir.path().join("fresh.sqlite")).unwrap();
        for raw in &orders {
            fresh.ingest(raw, Source::Webhook).unwrap();
        }
        for raw in accounts.iter().chain([&deauthorized]) {
            fresh.ingest(raw.as_bytes(), Source::Webhook).unwrap();
        }
        fresh.dump_projections().unwrap()
    };
    assert_eq!(m.dump_projections().unwrap(), expected);

    let test = m.account_status(Mode::Test, "acct_1").unwrap().unwrap();
    assert!(test.is_ready(), "the newest test-mode event wins: {test:?}");
    assert_eq!(test.checked_at, 1_700_000_060);
    let live = m.account_status(Mode::Live, "acct_1").unwrap().unwrap();
    assert!(!live.charges_enabled);
    assert_eq!(live.requirements.currently_due, ["external_account"]);
    assert_eq!(
        m.latest_account_status(Mode::Test)
            .unwrap()
            .unwrap()
            .account_id,
        "acct_1"
    );
    assert!(m.account_status(Mode::Test, "ca_1").unwrap().is_none());
    drop(m);

    // Account events arriving after the upgrade fold with the migrated ones.
    let mut m = Mirror::open(&path).unwrap();
    let late = account_event("evt_a0", "acct_1", false, 1_699_999_000, false);
    m.ingest(late.as_bytes(), Source::Webhook).unwrap();
    assert!(
        m.account_status(Mode::Test, "acct_1")
            .unwrap()
            .unwrap()
            .is_ready()
    );
    let newer = account_event("evt_a9", "acct_1", false, 1_700_000_100, false);
    m.ingest(newer.as_bytes(), Source::Webhook).unwrap();
    assert!(
        !m.account_status(Mode::Test, "acct_1")
            .unwrap()
            .unwrap()
            .is_ready()
    );
    Mirror::open_read_only(&path).unwrap();
}

#[test]
fn unknown_stored_spellings_read_as_documented() {
    for s in OrderStatus::ALL {
        assert_eq!(serde_json::to_value(s).unwrap(), s.as_str());
        assert_eq!(OrderStatus::parse(s.as_str()), s);
    }
    assert!(
        serde_json::from_value::<OrderStatus>(serde_json::json!("refund_failed")).is_err(),
        "a filter with an unknown status is refused, not widened"
    );
    let dir = tempfile::tempdir().unwrap();
    let mut m = Mirror::open(&dir.path().join("m.sqlite")).unwrap();
    for raw in story_bytes(3, Outcome::Paid) {
        m.ingest(&raw, Source::Webhook).unwrap();
    }
    m.record_rejection(&NewRejection {
        code: RejectionCode::SignatureInvalid,
        size: 1,
        peer: None,
    })
    .unwrap();
    // What a newer build of the same schema might have written.
    m.conn
        .execute_batch(
            "UPDATE orders SET status = 'refund_failed';
             UPDATE rejections SET code = 'a_newer_code';",
        )
        .unwrap();
    let order = &m.orders(Mode::Test, &OrderQuery::default()).unwrap().items[0];
    assert_eq!(order.status, OrderStatus::Pending);
    assert_eq!(m.rejections(1).unwrap()[0].code, RejectionCode::Unknown);
}

#[test]
fn an_applied_outcome_keeps_its_json_shape() {
    let applied = IngestOutcome::Applied(AppliedEvent {
        event_id: "evt_1".into(),
        event_type: "charge.succeeded".into(),
        mode: Mode::Live,
        projected: true,
    });
    assert_eq!(
        serde_json::to_value(&applied).unwrap(),
        serde_json::json!({"outcome": "applied", "event_id": "evt_1",
            "event_type": "charge.succeeded", "mode": "live", "projected": true})
    );
    assert_eq!(applied.event_id(), "evt_1");
    let duplicate = IngestOutcome::Duplicate {
        event_id: "evt_1".into(),
    };
    assert_eq!(duplicate.applied(), None);
    assert_eq!(
        serde_json::to_value(&duplicate).unwrap(),
        serde_json::json!({"outcome": "duplicate", "event_id": "evt_1"})
    );
}

#[cfg(unix)]
#[test]
fn the_mirror_folder_and_files_are_the_owners_alone() {
    use std::os::unix::fs::PermissionsExt;
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("data").join("store");
    crate::create_private_dir(&dir).unwrap();
    assert_eq!(mode(&dir), 0o700);
    assert_eq!(mode(&tmp.path().join("data")), 0o700, "created parents too");
    let path = dir.join("mirror.db");
    let mut m = Mirror::open(&path).unwrap();
    // A write leaves the -wal and -shm files beside the database.
    for bytes in story_bytes(1, Outcome::Paid) {
        m.ingest(&bytes, Source::Webhook).unwrap();
    }
    for suffix in ["", "-wal", "-shm"] {
        let file = dir.join(format!("mirror.db{suffix}"));
        assert!(file.exists(), "{}", file.display());
        assert_eq!(mode(&file), 0o600, "{}", file.display());
    }
    drop(m);
    // A database an earlier build left readable by others is tightened when opened.
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
    drop(Mirror::open(&path).unwrap());
    assert_eq!(mode(&path), 0o600);
    // A folder that exists already (one the owner chose) is left as it was.
    let chosen = tmp.path().join("chosen");
    std::fs::create_dir(&chosen).unwrap();
    std::fs::set_permissions(&chosen, std::fs::Permissions::from_mode(0o755)).unwrap();
    crate::create_private_dir(&chosen).unwrap();
    assert_eq!(mode(&chosen), 0o755);
}

/// Version 5: a payment that a version 4 build showed as a provisional order (keyed by its
/// PaymentIntent, no Checkout Session) becomes counted other activity with no customer data
/// and no link, while Checkout orders stay orders and gain their buyer's country and card.
#[test]
fn migrates_a_populated_version_4_database_and_retires_provisional_orders() {
    let checkout = story_bytes(1, Outcome::Paid);
    // Another payment on the account: its PaymentIntent and charge, no session.
    let foreign: Vec<Vec<u8>> = story_bytes(2, Outcome::Paid)
        .into_iter()
        .filter(|raw| !String::from_utf8_lossy(raw).contains("\"checkout.session\""))
        .collect();
    assert!(!foreign.is_empty());
    let all: Vec<Vec<u8>> = checkout.iter().chain(&foreign).cloned().collect();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("v4.sqlite");
    let pi = {
        let mut conn = Connection::open(&path).unwrap();
        schema::configure_writer(&conn).unwrap();
        schema::migrations().to_version(&mut conn, 4).unwrap();
        populate_as_earlier_build(&path, &checkout);
        // What version 4 made of the foreign payment: its events and a provisional order
        // with the buyer's address, linked for refunds.
        let spec = fluxstore_samples::OrderSpec::new(2, "usd", 1999, false);
        for raw in &foreign {
            let ev = Event::parse(raw).unwrap();
            conn.execute(
                "INSERT INTO events(id, type, created, livemode, account, api_version, source, received_at, raw)
                 VALUES (?1, ?2, ?3, 0, NULL, ?4, 'events_api', ?3, ?5)",
                rusqlite::params![ev.id, ev.event_type, ev.created, ev.api_version, ev.raw],
            )
            .unwrap();
            for r in crate::event::refs(&ev.json) {
                conn.execute(
                    "INSERT OR IGNORE INTO event_refs(object_id, event_id, kind, is_self) VALUES (?1, ?2, ?3, ?4)",
                    rusqlite::params![r.id, ev.id, r.kind.as_str(), r.is_self],
                )
                .unwrap();
            }
        }
        conn.execute(
            "INSERT INTO orders(session_id, payment_intent_id, charge_id, status, amount, amount_refunded, currency,
                customer_email, customer_name, livemode, created, updated, paid_at)
             VALUES (?1, ?1, ?2, 'paid', 1999, 0, 'usd', ?3, 'Other Buyer', 0, 1700000000, 1700000000, 1700000000)",
            rusqlite::params![spec.payment_intent, spec.charge, spec.email],
        )
        .unwrap();
        for id in [&spec.payment_intent, &spec.charge] {
            conn.execute(
                "INSERT INTO order_links(object_id, order_key) VALUES (?1, ?2)",
                rusqlite::params![id, spec.payment_intent],
            )
            .unwrap();
        }
        spec.payment_intent
    };
    let m = Mirror::open(&path).unwrap();
    assert_eq!(m.dump_projections().unwrap(), fresh_dump(&all));
    let orders = m.orders(Mode::Test, &OrderQuery::default()).unwrap().items;
    assert_eq!(orders.len(), 1, "only the Checkout order: {orders:?}");
    assert!(orders[0].session_id.starts_with("cs_"));
    assert_eq!(orders[0].customer_country.as_deref(), Some("US"));
    assert_eq!(orders[0].card_last4.as_deref(), Some("4242"));
    assert!(m.order_for_payment(&pi).unwrap().is_none(), "no link left");
    let other = m.other_activity(Mode::Test).unwrap();
    assert_eq!((other.count, other.waiting), (1, 0), "{other:?}");
    let dump = m.dump_projections().unwrap();
    assert!(
        !dump.contains("Other Buyer"),
        "no customer data kept: {dump}"
    );
}

/// Version 8: the orders a version 7 build stored gain their Stripe Customer id, re-derived
/// from their events; `pending_update` says beforehand that the upgrade re-reads the events
/// (with their real number) and nothing once it is done.
#[test]
fn migrates_a_populated_version_7_database_and_names_each_orders_customer() {
    let raws: Vec<Vec<u8>> = [Outcome::Paid, Outcome::RefundRetried, Outcome::DisputeOpen]
        .into_iter()
        .enumerate()
        .flat_map(|(i, o)| story_bytes(i as u64 + 1, o))
        .collect();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("v7.sqlite");
    {
        let mut conn = Connection::open(&path).unwrap();
        schema::configure_writer(&conn).unwrap();
        schema::migrations().to_version(&mut conn, 7).unwrap();
        populate_as_earlier_build(&path, &raws);
    }
    let pending = Mirror::pending_update(&path)
        .unwrap()
        .expect("an upgrade that re-derives");
    assert_eq!(
        pending,
        PendingUpdate {
            from_version: 7,
            to_version: SCHEMA_VERSION as u32,
            events: raws.len() as u64
        }
    );
    let m = Mirror::open(&path).unwrap();
    assert_eq!(m.dump_projections().unwrap(), fresh_dump(&raws));
    let orders = m.orders(Mode::Test, &OrderQuery::default()).unwrap().items;
    assert_eq!(orders.len(), 3);
    for o in &orders {
        let cus = o.customer_id.as_deref().unwrap_or_default();
        assert!(cus.starts_with("cus_"), "{o:?}");
    }
    drop(m);
    assert_eq!(Mirror::pending_update(&path).unwrap(), None, "up to date");
    let fresh = dir.path().join("new.sqlite");
    assert_eq!(Mirror::pending_update(&fresh).unwrap(), None, "no file yet");
    drop(Mirror::open(&fresh).unwrap());
    assert_eq!(
        Mirror::pending_update(&fresh).unwrap(),
        None,
        "an empty mirror"
    );
}

/// The fixture "a mirror a version 7 build left" undoes every later version exactly: the
/// file it leaves migrates to the latest version again, with the same tables and columns.
#[test]
fn as_version_7_left_it_undoes_every_later_version() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("m.sqlite");
    let shape = |path: &std::path::Path| -> Vec<(String, String)> {
        let conn = Connection::open(path).unwrap();
        let mut st = conn
            .prepare(
                "SELECT m.name, p.name FROM sqlite_master m, pragma_table_info(m.name) p
                 WHERE m.type = 'table' ORDER BY 1, 2",
            )
            .unwrap();
        st.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap()
    };
    drop(Mirror::open(&path).unwrap());
    let latest = shape(&path);
    let conn = Connection::open(&path).unwrap();
    conn.execute_batch(crate::AS_VERSION_7_LEFT_IT).unwrap();
    let version: i64 = conn
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap();
    assert_eq!(version, 7);
    assert_ne!(shape(&path), latest);
    drop(conn);
    drop(Mirror::open(&path).unwrap());
    assert_eq!(shape(&path), latest);
}

/// An upgrade from before version 7 re-derives once (the last re-deriving version's step),
/// and a mirror that has no re-deriving step ahead of it is not announced as a long upgrade.
#[test]
fn only_upgrades_that_re_derive_orders_are_announced() {
    assert!(schema::rederives_from(1));
    assert!(schema::rederives_from(6));
    assert!(schema::rederives_from(7));
    assert!(schema::rederives_from(8));
    assert!(
        !schema::rederives_from(0),
        "a new file has nothing to re-derive"
    );
    assert!(!schema::rederives_from(SCHEMA_VERSION));
}

#[test]
fn an_event_and_its_setting_commit_together_and_a_duplicate_changes_only_the_setting() {
    let dir = tempfile::tempdir().unwrap();
    let mut m = Mirror::open(&dir.path().join("m.sqlite")).unwrap();
    let raws = story_bytes(1, Outcome::Paid);
    let first = m
        .ingest_with_setting(&raws[0], Source::Feed, "feed.cursor", "1")
        .unwrap();
    assert!(matches!(first, IngestOutcome::Applied(_)));
    assert_eq!(m.setting("feed.cursor").unwrap().as_deref(), Some("1"));
    let again = m
        .ingest_with_setting(&raws[0], Source::Feed, "feed.cursor", "2")
        .unwrap();
    assert!(matches!(again, IngestOutcome::Duplicate { .. }));
    assert_eq!(m.setting("feed.cursor").unwrap().as_deref(), Some("2"));
    assert_eq!(m.events(None, 10).unwrap().len(), 1);
    // A setting that carries a secret is refused, and the event with it.
    let e = m
        .ingest_with_setting(&raws[1], Source::Feed, "feed.cursor", "sk_test_leak")
        .unwrap_err();
    assert!(matches!(e, MirrorError::SecretRefused));
    assert_eq!(m.events(None, 10).unwrap().len(), 1);
}
