//! The account projection: per (account id, mode), whether the account can take payments
//! and pay out, and what Stripe still asks for.
//!
//! Invariant (the law): the row of an (account, mode) is read from exactly one snapshot,
//! the account carried by the newest stored account event of that account and mode by
//! `(created, id)`. So arrival order and duplicates cannot change it, and an older
//! `account.updated` arriving late never overwrites a newer status. An account fetched
//! through the API enters as a synthetic `account.updated` event (source `api`) and competes
//! on the same terms as a delivered one.
//!
//! An account event is an `account.*` event whose object is an `account` with an id (that is
//! `account.updated`; the object of `account.application.*` is an `application`). It is
//! indexed in `event_refs` under the account id with kind `account`; the account id is
//! `data.object.id`, for the owner's own account and for a connected one alike.
//!
//! Fields are read along paths with fallbacks: the name from `business_profile.name`, then
//! `settings.dashboard.display_name`, then `company.name`, then the pre-2019 top-level
//! `business_name` / `display_name`; requirements from `requirements`, or from the pre-2019
//! `verification` when an old API version rendered the event. Missing flags read as false
//! (not enabled until Stripe says so); unknown `disabled_reason` strings are kept.

use rusqlite::{Connection, params};
use serde_json::Value;

use crate::fields::{at, bool_at, str_at};
use crate::{Event, MirrorError};

/// The `event_refs.kind` of an account event's own object.
pub const KIND: &str = "account";

/// The account id of an account event (see the module docs), else None.
pub fn account_of<'a>(event_type: &str, json: &'a Value) -> Option<&'a str> {
    if !event_type.starts_with("account.") {
        return None;
    }
    let obj = &json["data"]["object"];
    if str_at(obj, &["object"]) != Some("account") {
        return None;
    }
    str_at(obj, &["id"]).filter(|id| !id.is_empty())
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountRow {
    pub account_id: String,
    pub livemode: bool,
    pub business_name: Option<String>,
    pub charges_enabled: bool,
    pub payouts_enabled: bool,
    pub details_submitted: bool,
    pub currently_due: Vec<String>,
    pub past_due: Vec<String>,
    pub eventually_due: Vec<String>,
    pub disabled_reason: Option<String>,
    pub event_created: i64,
    pub event_id: String,
}

fn strings(v: Option<&Value>) -> Vec<String> {
    v.and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .map(str::to_owned)
        .collect()
}

fn name(obj: &Value) -> Option<String> {
    const PATHS: [&[&str]; 5] = [
        &["business_profile", "name"],
        &["settings", "dashboard", "display_name"],
        &["company", "name"],
        &["business_name"],
        &["display_name"],
    ];
    PATHS
        .iter()
        .filter_map(|p| str_at(obj, p))
        .map(str::trim)
        .find(|s| !s.is_empty())
        .map(str::to_owned)
}

/// The row one snapshot of an account says.
pub fn fold(
    account_id: &str,
    livemode: bool,
    event_id: &str,
    created: i64,
    obj: &Value,
) -> AccountRow {
    let flag = |k: &str| bool_at(obj, &[k]).unwrap_or(false);
    let (currently_due, past_due, eventually_due, disabled_reason) =
        match at(obj, &["requirements"]) {
            Some(r) => (
                strings(at(r, &["currently_due"])),
                strings(at(r, &["past_due"])),
                strings(at(r, &["eventually_due"])),
                str_at(r, &["disabled_reason"]),
            ),
            None => {
                let v = at(obj, &["verification"]);
                (
                    strings(v.and_then(|v| at(v, &["fields_needed"]))),
                    Vec::new(),
                    Vec::new(),
                    v.and_then(|v| str_at(v, &["disabled_reason"])),
                )
            }
        };
    AccountRow {
        account_id: account_id.to_owned(),
        livemode,
        business_name: name(obj),
        charges_enabled: flag("charges_enabled"),
        payouts_enabled: flag("payouts_enabled"),
        details_submitted: flag("details_submitted"),
        currently_due,
        past_due,
        eventually_due,
        disabled_reason: disabled_reason.map(str::to_owned),
        event_created: created,
        event_id: event_id.to_owned(),
    }
}

/// Index `ev` if it is an account event and re-derive its account's row in its mode.
/// Returns whether it was one. The caller owns the transaction; `ev` is already stored.
pub fn on_ingest(conn: &Connection, ev: &Event) -> Result<bool, MirrorError> {
    let Some(account_id) = account_of(&ev.event_type, &ev.json) else {
        return Ok(false);
    };
    index(conn, account_id, &ev.id)?;
    rederive(conn, account_id, ev.livemode, Some(ev))?;
    Ok(true)
}

fn index(conn: &Connection, account_id: &str, event_id: &str) -> Result<(), MirrorError> {
    let mut stmt = conn.prepare_cached(
        "INSERT OR IGNORE INTO event_refs(object_id, event_id, kind, is_self) VALUES (?1, ?2, ?3, 1)",
    )?;
    stmt.execute(params![account_id, event_id, KIND])?;
    Ok(())
}

/// Re-derive the row of (`account_id`, `livemode`) from its newest readable account event.
/// `fresh` is the event being ingested, used as parsed instead of parsing it again.
pub fn rederive(
    conn: &Connection,
    account_id: &str,
    livemode: bool,
    fresh: Option<&Event>,
) -> Result<(), MirrorError> {
    let mut stmt = conn.prepare_cached(
        "SELECT e.id, e.type, e.created, e.raw FROM event_refs r JOIN events e ON e.id = r.event_id
         WHERE r.object_id = ?1 AND r.is_self = 1 AND r.kind = ?2 AND e.livemode = ?3
         ORDER BY e.created DESC, e.id DESC",
    )?;
    let mut rows = stmt.query(params![account_id, KIND, livemode])?;
    let mut found = None;
    while let Some(r) = rows.next()? {
        let (id, event_type, created): (String, String, i64) = (r.get(0)?, r.get(1)?, r.get(2)?);
        let row = match fresh.filter(|f| f.id == id) {
            Some(f) => account_of(&f.event_type, &f.json).map(|_| {
                fold(
                    account_id,
                    livemode,
                    &id,
                    created,
                    &f.json["data"]["object"],
                )
            }),
            None => {
                // A stored row that no longer parses (edited by hand) is passed over, as
                // the other folds do, rather than failing every later ingest.
                let raw: String = r.get(3)?;
                serde_json::from_str::<Value>(&raw).ok().and_then(|json| {
                    (account_of(&event_type, &json) == Some(account_id))
                        .then(|| fold(account_id, livemode, &id, created, &json["data"]["object"]))
                })
            }
        };
        if row.is_some() {
            found = row;
            break;
        }
    }
    drop(rows);
    match found {
        Some(row) => write(conn, &row),
        None => {
            conn.prepare_cached("DELETE FROM accounts WHERE account_id = ?1 AND livemode = ?2")?
                .execute(params![account_id, livemode])?;
            Ok(())
        }
    }
}

fn write(conn: &Connection, r: &AccountRow) -> Result<(), MirrorError> {
    let list = |l: &[String]| Value::from(l.to_vec()).to_string();
    let mut stmt = conn.prepare_cached(
        "INSERT OR REPLACE INTO accounts(account_id, livemode, business_name, charges_enabled, payouts_enabled,
            details_submitted, currently_due, past_due, eventually_due, disabled_reason, event_created, event_id)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
    )?;
    stmt.execute(params![
        r.account_id,
        r.livemode,
        r.business_name,
        r.charges_enabled,
        r.payouts_enabled,
        r.details_submitted,
        list(&r.currently_due),
        list(&r.past_due),
        list(&r.eventually_due),
        r.disabled_reason,
        r.event_created,
        r.event_id,
    ])?;
    Ok(())
}

/// Index and fold every account event already stored (the data step of the migration that
/// added the table). Only `account.*` rows are parsed.
pub fn backfill(conn: &Connection) -> Result<(), MirrorError> {
    let mut stmt =
        conn.prepare("SELECT id, type, livemode, raw FROM events WHERE type LIKE 'account.%'")?;
    let found = stmt
        .query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, bool>(2)?,
                r.get::<_, String>(3)?,
            ))
        })?
        .collect::<Result<Vec<_>, _>>()?;
    let mut touched = std::collections::BTreeSet::new();
    for (id, event_type, livemode, raw) in found {
        let Ok(json) = serde_json::from_str::<Value>(&raw) else {
            continue;
        };
        if let Some(account_id) = account_of(&event_type, &json) {
            index(conn, account_id, &id)?;
            touched.insert((account_id.to_owned(), livemode));
        }
    }
    for (account_id, livemode) in touched {
        rederive(conn, &account_id, livemode, None)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn only_account_objects_of_account_events_count() {
        let ev = |t: &str, o: Value| json!({"type": t, "data": {"object": o}});
        let acct = json!({"object": "account", "id": "acct_1"});
        assert_eq!(
            account_of("account.updated", &ev("account.updated", acct.clone())),
            Some("acct_1")
        );
        assert_eq!(
            account_of("charge.succeeded", &ev("charge.succeeded", acct)),
            None
        );
        let app = json!({"object": "application", "id": "ca_1"});
        assert_eq!(
            account_of("account.application.deauthorized", &ev("x", app)),
            None
        );
        let no_id = json!({"object": "account", "id": ""});
        assert_eq!(account_of("account.updated", &ev("x", no_id)), None);
    }

    #[test]
    fn fields_fall_back_across_shapes() {
        let now = json!({
            "id": "acct_1", "object": "account", "charges_enabled": true,
            "business_profile": {"name": "  "}, "settings": {"dashboard": {"display_name": "Shop"}},
            "requirements": {"currently_due": ["external_account", 7], "past_due": null,
                "eventually_due": ["company.tax_id"], "disabled_reason": "some_new_reason"}
        });
        let r = fold("acct_1", true, "evt_1", 5, &now);
        assert_eq!(r.business_name.as_deref(), Some("Shop"));
        assert!(r.charges_enabled && !r.payouts_enabled && !r.details_submitted);
        assert_eq!(r.currently_due, ["external_account"]);
        assert!(r.past_due.is_empty());
        assert_eq!(r.eventually_due, ["company.tax_id"]);
        assert_eq!(r.disabled_reason.as_deref(), Some("some_new_reason"));

        let company = json!({"company": {"name": "Company Ltd"}});
        assert_eq!(
            fold("a", false, "e", 1, &company).business_name.as_deref(),
            Some("Company Ltd")
        );

        let old = json!({"business_name": "Old Shop", "verification":
            {"fields_needed": ["legal_entity.dob.day"], "disabled_reason": "fields_needed"}});
        let r = fold("a", false, "e", 1, &old);
        assert_eq!(r.business_name.as_deref(), Some("Old Shop"));
        assert_eq!(r.currently_due, ["legal_entity.dob.day"]);
        assert_eq!(r.disabled_reason.as_deref(), Some("fields_needed"));
    }
}
