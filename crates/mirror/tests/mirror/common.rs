//! Helpers shared by the modules: ingest and read helpers (the mirror in a temporary
//! directory comes from the shared test support).
#![allow(dead_code)]

use fluxstore_mirror::{IngestOutcome, Mirror, Mode, Order, OrderQuery, Source};
use serde_json::Value;

pub const T0: i64 = 1_750_000_000;

pub fn ingest(m: &mut Mirror, e: &Value) -> IngestOutcome {
    m.ingest(e.to_string().as_bytes(), Source::Webhook)
        .expect("ingest")
}

pub fn ingest_all<'a>(m: &mut Mirror, events: impl IntoIterator<Item = &'a Value>) {
    for e in events {
        ingest(m, e);
    }
}

pub fn all_orders(m: &Mirror, mode: Mode) -> Vec<Order> {
    m.orders(
        mode,
        &OrderQuery {
            limit: 500,
            ..OrderQuery::default()
        },
    )
    .expect("orders")
    .items
}

pub fn only_order(m: &Mirror, mode: Mode) -> Order {
    let mut all = all_orders(m, mode);
    assert_eq!(all.len(), 1, "exactly one order expected: {all:#?}");
    all.remove(0)
}

/// The first event of `ty` in `events`.
pub fn of_type<'a>(events: &'a [Value], ty: &str) -> &'a Value {
    events
        .iter()
        .find(|e| e["type"] == ty)
        .unwrap_or_else(|| panic!("no {ty} event"))
}
