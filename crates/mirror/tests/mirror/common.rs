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

/// What one `account.updated` says about an account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountSnap {
    pub id: String,
    pub livemode: bool,
    pub charges_enabled: bool,
    pub payouts_enabled: bool,
    pub currently_due: Vec<String>,
    pub disabled_reason: Option<String>,
}

/// An `account.updated` event carrying the account as Stripe renders it (for a connected
/// account pass `connected`: the event then names it in `account`, as Connect does).
pub fn account_updated(a: &AccountSnap, created: i64, connected: bool) -> Value {
    let account = serde_json::json!({
        "id": a.id, "object": "account", "type": "standard",
        "charges_enabled": a.charges_enabled, "payouts_enabled": a.payouts_enabled,
        "details_submitted": a.charges_enabled,
        "requirements": {
            "currently_due": a.currently_due, "eventually_due": a.currently_due,
            "past_due": [], "pending_verification": [], "errors": [], "alternatives": [],
            "current_deadline": null, "disabled_reason": a.disabled_reason
        },
        "business_profile": {"name": "Example Shop", "url": "https://shop.example"},
        "country": "US", "default_currency": "usd", "created": 1_700_000_000
    });
    let ctx = fluxstore_samples::Ctx {
        livemode: a.livemode,
        shape: fluxstore_samples::ApiShape::Dahlia,
        account: connected.then(|| a.id.clone()),
    };
    let mut event = fluxstore_samples::envelope("account.updated", account, created, &ctx);
    // An account carries no `livemode`, so the same snapshot in both modes would get one
    // event id; Stripe never gives two events one id.
    let id = event["id"].as_str().unwrap_or_default().replacen(
        "evt_",
        if a.livemode { "evt_L" } else { "evt_T" },
        1,
    );
    event["id"] = Value::from(id);
    event
}
