//! The account status of a mode, from the `accounts` projection.

use rusqlite::{Connection, OptionalExtension, Row, params};

use crate::{AccountRequirements, AccountStatus, MirrorError, Mode};

const COLS: &str = "account_id, livemode, business_name, charges_enabled, payouts_enabled,
    details_submitted, currently_due, past_due, eventually_due, disabled_reason, event_created";

/// A list column (JSON array text); a value this build cannot read shows as no requirement
/// rather than hiding the whole status.
fn list(r: &Row<'_>, i: usize) -> rusqlite::Result<Vec<String>> {
    let text: String = r.get(i)?;
    Ok(serde_json::from_str(&text).unwrap_or_default())
}

fn from_row(r: &Row<'_>) -> rusqlite::Result<AccountStatus> {
    Ok(AccountStatus {
        account_id: r.get(0)?,
        mode: Mode::from_livemode(r.get(1)?),
        business_name: r.get(2)?,
        charges_enabled: r.get(3)?,
        payouts_enabled: r.get(4)?,
        details_submitted: r.get(5)?,
        requirements: AccountRequirements {
            currently_due: list(r, 6)?,
            past_due: list(r, 7)?,
            eventually_due: list(r, 8)?,
            disabled_reason: r.get(9)?,
        },
        checked_at: r.get(10)?,
    })
}

pub fn account_status(
    conn: &Connection,
    mode: Mode,
    account_id: &str,
) -> Result<Option<AccountStatus>, MirrorError> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {COLS} FROM accounts WHERE account_id = ?1 AND livemode = ?2"
    ))?;
    Ok(stmt
        .query_row(params![account_id, mode.is_live()], from_row)
        .optional()?)
}

pub fn latest_account_status(
    conn: &Connection,
    mode: Mode,
) -> Result<Option<AccountStatus>, MirrorError> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {COLS} FROM accounts WHERE livemode = ?1
         ORDER BY event_created DESC, event_id DESC LIMIT 1"
    ))?;
    Ok(stmt
        .query_row(params![mode.is_live()], from_row)
        .optional()?)
}
