//! Opening a store whose mirror upgrade re-derives the orders: the window is told it is
//! updating the order history while commands wait, and then everything answers from the
//! upgraded mirror.
use std::time::Duration;

use fluxstore_desktop::boot::Boot;
use fluxstore_desktop::dto::*;
use fluxstore_desktop::state::MIRROR_FILE;
use fluxstore_mirror::{Mirror, SCHEMA_VERSION, Source};
use fluxstore_samples::{ApiShape, Ctx, Outcome, order_story};

use crate::support::Recorder;

/// A mirror as a version 7 build left it: its events and orders, no customer column.
fn version_7_mirror(path: &std::path::Path) -> String {
    let mut m = Mirror::open(path).unwrap();
    let events = order_story(
        1,
        Outcome::Paid,
        "usd",
        2500,
        &Ctx::test(ApiShape::Basil),
        1_700_000_000,
    );
    for e in &events {
        m.ingest(e.to_string().as_bytes(), Source::Webhook).unwrap();
    }
    let session = m.orders(Mode::Test, &Default::default()).unwrap().items[0]
        .session_id
        .clone();
    drop(m);
    let conn = rusqlite::Connection::open(path).unwrap();
    conn.execute_batch(fluxstore_mirror::AS_VERSION_7_LEFT_IT)
        .unwrap();
    session
}

#[test]
fn the_window_hears_of_the_order_history_update_and_commands_wait_for_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(MIRROR_FILE);
    let session = version_7_mirror(&path);
    // Another writer holds the database, so the upgrade is still running when asked.
    let blocker = rusqlite::Connection::open(&path).unwrap();
    blocker.execute_batch("BEGIN IMMEDIATE").unwrap();

    let boot = Boot::open(dir.path(), Recorder::new(), None, |_| async { Ok(()) }).unwrap();
    let updating = boot.startup_status().updating.expect("an update under way");
    assert_eq!(
        (updating.from_version, updating.to_version),
        (7, SCHEMA_VERSION as u32)
    );
    assert!(updating.events > 0);
    assert!(boot.state_now().is_none(), "not open yet");

    blocker.execute_batch("COMMIT").unwrap();
    drop(blocker);
    let state = tauri::async_runtime::block_on(async {
        tokio::time::timeout(Duration::from_secs(30), boot.ready_state())
            .await
            .expect("the store opens")
    })
    .unwrap();
    assert_eq!(boot.startup_status(), StartupStatus::default(), "done");
    let detail = tauri::async_runtime::block_on(state.order_detail(OrderDetailArgs {
        mode: Mode::Test,
        session_id: session,
    }))
    .unwrap();
    let customer = detail
        .order
        .customer_id
        .expect("re-derived with its customer");
    assert!(customer.starts_with("cus_"), "{customer}");
    assert!(Mirror::pending_update(&path).unwrap().is_none());
    tauri::async_runtime::block_on(state.shutdown());
}

#[test]
fn an_up_to_date_store_opens_at_once_and_reports_nothing_to_update() {
    let dir = tempfile::tempdir().unwrap();
    let boot = Boot::open(dir.path(), Recorder::new(), None, |_| async { Ok(()) }).unwrap();
    assert!(boot.state_now().is_some());
    assert_eq!(boot.startup_status(), StartupStatus::default());
    tauri::async_runtime::block_on(boot.state_now().unwrap().shutdown());
}
