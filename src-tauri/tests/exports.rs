//! CSV export through the save dialog (the recorder answers it), and the desktop preferences
//! across a restart.
use fluxstore_desktop::dto::*;
use fluxstore_desktop::state::AppState;
use fluxstore_samples::{ApiShape, Ctx, Outcome, order_story};

use crate::support::Recorder;

async fn store_with_orders(
    dir: &std::path::Path,
    rec: std::sync::Arc<Recorder>,
) -> std::sync::Arc<AppState> {
    let state = AppState::open(dir, rec, None).await.unwrap();
    let ctx = Ctx::test(ApiShape::Basil);
    let mut events = Vec::new();
    for (n, outcome, cur, amount) in [
        (1, Outcome::Paid, "usd", 2500),
        (2, Outcome::Paid, "jpy", 1500),
        (3, Outcome::Paid, "kwd", 12_340),
        (4, Outcome::Refunded, "usd", 999),
        (5, Outcome::DisputeLost, "kwd", 5_120),
    ] {
        events.extend(order_story(
            n,
            outcome,
            cur,
            amount,
            &ctx,
            1_750_000_000 + n as i64,
        ));
    }
    state
        .real
        .write(move |m| {
            for e in &events {
                m.ingest(e.to_string().as_bytes(), fluxstore_mirror::Source::Webhook)?;
            }
            Ok(())
        })
        .await
        .unwrap();
    state
}

fn export_args(
    list: ExportList,
    statuses: Vec<OrderStatus>,
    currency: Option<&str>,
) -> ExportCsvArgs {
    ExportCsvArgs {
        list,
        mode: Mode::Test,
        filters: OrderFilters {
            statuses,
            currency: currency.map(str::to_owned),
            ..OrderFilters::default()
        },
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_filtered_list_is_saved_where_the_owner_chose() {
    let dir = tempfile::tempdir().unwrap();
    let rec = Recorder::new();
    let state = store_with_orders(dir.path(), rec.clone()).await;

    // The owner cancels the dialog: nothing is written.
    let done = state
        .export_csv(export_args(ExportList::Orders, vec![], None))
        .await
        .unwrap();
    assert!(done.path.is_none());

    let target = dir.path().join("paid.csv");
    *rec.save_to.lock().unwrap() = Some(target.clone());
    let done = state
        .export_csv(export_args(
            ExportList::Orders,
            vec![OrderStatus::Paid],
            None,
        ))
        .await
        .unwrap();
    assert_eq!(done.path.as_deref(), Some(target.to_str().unwrap()));
    assert_eq!(done.rows, 3);
    let text = std::fs::read_to_string(&target).unwrap();
    let mut lines: Vec<&str> = text.lines().collect();
    assert!(
        lines
            .remove(0)
            .starts_with("created,status,amount,amount_minor,")
    );
    let mut amounts: Vec<String> = lines
        .iter()
        .map(|l| {
            let cells: Vec<&str> = l.split(',').collect();
            format!("{} {} {}", cells[2], cells[3], cells[6])
        })
        .collect();
    amounts.sort();
    assert_eq!(
        amounts,
        ["12.340 12340 KWD", "1500 1500 JPY", "25.00 2500 USD"]
    );

    // A currency filter on top, then the disputes list.
    let done = state
        .export_csv(export_args(
            ExportList::Orders,
            vec![OrderStatus::Paid],
            Some(" USD "),
        ))
        .await
        .unwrap();
    assert_eq!(done.rows, 1);
    let done = state
        .export_csv(export_args(ExportList::Disputes, vec![], None))
        .await
        .unwrap();
    assert_eq!(done.rows, 1);
    let text = std::fs::read_to_string(&target).unwrap();
    assert!(text.contains(",lost,"), "{text}");
    assert!(text.contains(",5.120,5120,KWD,"), "{text}");

    // A folder that cannot be written: the owner is told what to do, nothing else changes.
    *rec.save_to.lock().unwrap() = Some(dir.path().join("no-such-folder").join("x.csv"));
    let e = state
        .export_csv(export_args(ExportList::Subscriptions, vec![], None))
        .await
        .unwrap_err();
    assert!(
        e.message.contains("Pick a folder you can write to"),
        "{}",
        e.message
    );
    state.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn preferences_survive_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let state = AppState::open(dir.path(), Recorder::new(), None)
        .await
        .unwrap();
    let p = state.preferences().await.unwrap();
    assert!(p.notices.iter().all(|n| n.on));
    assert!(p.keep_in_tray);
    assert!(!p.tray_available, "no tray icon is made without the app");
    assert!(
        !state.keep_in_tray_now(),
        "without a tray, closing the window quits"
    );
    state
        .set_preferences(SetPreferencesArgs {
            notices: vec![NoticePreference {
                kind: NoticeKind::DisputeDueSoon,
                on: false,
            }],
            keep_in_tray: Some(false),
        })
        .await
        .unwrap();
    state.shutdown().await;
    drop(state);
    let state = AppState::open(dir.path(), Recorder::new(), None)
        .await
        .unwrap();
    let p = state.preferences().await.unwrap();
    let off: Vec<NoticeKind> = p.notices.iter().filter(|n| !n.on).map(|n| n.kind).collect();
    assert_eq!(off, vec![NoticeKind::DisputeDueSoon]);
    assert!(!p.keep_in_tray);
    state.shutdown().await;
}
