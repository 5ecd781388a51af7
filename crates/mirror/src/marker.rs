//! The owner's order marker: which Checkout Sessions are FluxStore orders.
//!
//! Invariant: the marker is applied when reading (every order list, detail, payment lookup
//! and checklist fact goes through [`condition`]), never when folding, so changing it
//! re-derives nothing and the projections stay a function of the events. It is stored as
//! one setting, [`SETTING_KEY`], as JSON; an unreadable value reads as no marker only after
//! it was validated on the way in, so it cannot be unreadable short of a hand edit.

use rusqlite::Connection;
use rusqlite::types::Value as Sql;

use crate::facts::{
    CLIENT_REFERENCE_ID_MAX_CHARS, METADATA_KEY_MAX_CHARS, METADATA_VALUE_MAX_CHARS,
};
use crate::{MirrorError, OrderMarker};

/// The setting that holds the marker (JSON of [`OrderMarker`]).
pub const SETTING_KEY: &str = "orders.marker";

/// The marker trimmed and checked against what Stripe can store, or an owner-words error.
pub fn validate(m: &OrderMarker) -> Result<OrderMarker, MirrorError> {
    let bad = |s: &str| Err(MirrorError::InvalidMarker(s.to_owned()));
    match m {
        OrderMarker::Metadata { key, value } => {
            let (key, value) = (key.trim(), value.trim());
            if key.is_empty() || value.is_empty() {
                return bad(
                    "The order marker needs both a metadata key and the value FluxStore's checkout writes under it (for example store_id and your store's id).",
                );
            }
            if key.chars().count() > METADATA_KEY_MAX_CHARS || key.contains(['[', ']']) {
                return bad(&format!(
                    "The metadata key must be at most {METADATA_KEY_MAX_CHARS} characters without square brackets, as Stripe stores it."
                ));
            }
            if value.chars().count() > METADATA_VALUE_MAX_CHARS {
                return bad(&format!(
                    "The metadata value must be at most {METADATA_VALUE_MAX_CHARS} characters, as Stripe stores it."
                ));
            }
            Ok(OrderMarker::Metadata {
                key: key.to_owned(),
                value: value.to_owned(),
            })
        }
        OrderMarker::ClientReferencePrefix { prefix } => {
            let prefix = prefix.trim();
            if prefix.is_empty() {
                return bad(
                    "The order marker needs the start of the client reference id FluxStore's checkout writes (for example fs_).",
                );
            }
            if prefix.chars().count() > CLIENT_REFERENCE_ID_MAX_CHARS {
                return bad(&format!(
                    "The client reference id prefix must be at most {CLIENT_REFERENCE_ID_MAX_CHARS} characters, as Stripe stores it."
                ));
            }
            Ok(OrderMarker::ClientReferencePrefix {
                prefix: prefix.to_owned(),
            })
        }
    }
}

pub fn load(conn: &Connection) -> Result<Option<OrderMarker>, MirrorError> {
    let raw = crate::log::setting(conn, SETTING_KEY)?;
    Ok(raw.and_then(|r| serde_json::from_str(&r).ok()))
}

pub fn store(
    conn: &Connection,
    m: Option<&OrderMarker>,
) -> Result<Option<OrderMarker>, MirrorError> {
    let m = m.map(validate).transpose()?;
    let text = m
        .as_ref()
        .map(|m| serde_json::to_string(m).map_err(|e| MirrorError::InvalidMarker(e.to_string())))
        .transpose()?;
    crate::log::set_setting(conn, SETTING_KEY, text.as_deref())?;
    Ok(m)
}

/// An SQL condition on the orders row `o` (prefixed with ` AND `) that the marker's orders
/// satisfy, with its arguments; empty when there is no marker.
pub fn condition(m: Option<&OrderMarker>) -> (String, Vec<Sql>) {
    match m {
        None => (String::new(), Vec::new()),
        Some(OrderMarker::Metadata { key, value }) => (
            " AND EXISTS (SELECT 1 FROM json_each(o.metadata) j WHERE j.key = ? AND j.value = ?)"
                .to_owned(),
            vec![Sql::Text(key.clone()), Sql::Text(value.clone())],
        ),
        Some(OrderMarker::ClientReferencePrefix { prefix }) => (
            " AND substr(o.client_reference_id, 1, ?) = ?".to_owned(),
            vec![
                Sql::Integer(prefix.chars().count() as i64),
                Sql::Text(prefix.clone()),
            ],
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markers_are_trimmed_and_bounded_in_owner_words() {
        let m = validate(&OrderMarker::Metadata {
            key: " store_id ".into(),
            value: " 42 ".into(),
        })
        .unwrap();
        assert_eq!(
            m,
            OrderMarker::Metadata {
                key: "store_id".into(),
                value: "42".into()
            }
        );
        let e = validate(&OrderMarker::Metadata {
            key: "k".repeat(41),
            value: "v".into(),
        })
        .unwrap_err();
        assert!(e.to_string().contains("at most 40"), "{e}");
        let e = validate(&OrderMarker::ClientReferencePrefix {
            prefix: "  ".into(),
        })
        .unwrap_err();
        assert!(e.to_string().contains("client reference id"), "{e}");
    }
}
