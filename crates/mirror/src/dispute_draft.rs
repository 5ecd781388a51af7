//! The owner's evidence drafts, and the dispute workbench: a dispute, what Stripe says of its
//! evidence, its order, and every evidence field's value — the owner's text where they typed
//! one, else a value pre-filled from the mirror (marked as such, with where it came from).
//!
//! Invariants: a draft is the owner's work, never a projection (no event writes or deletes
//! it); every change moves its `revision` on; only text fields of the form are stored as
//! text and only file fields as files; pre-filled values are computed on read, so they follow
//! the mirror and are never sent unless the owner submits them.

use std::collections::BTreeMap;

use rusqlite::types::Value as Sql;
use rusqlite::{Connection, OptionalExtension, params};
use serde::{Deserialize, Serialize};

use crate::evidence::{
    DISPUTE_TEXTS, EVIDENCE_FIELDS, EvidenceKind, ReasonGuidance, accepts_evidence, evidence_field,
    reason_guidance, utc_text as utc,
};
use crate::query::lists::{DISPUTE_COLS, dispute_from_row};
use crate::{Dispute, MirrorError, Mode, Order, OrderDetail, OrderStatus};

/// A file attached to a draft, copied into the app's data folder.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct DraftFile {
    /// Stripe's evidence field (`receipt`, …).
    pub field: String,
    /// The name of the owner's original file.
    pub file_name: String,
    /// The copy in the data folder that is uploaded.
    pub stored_path: String,
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub size: i64,
    pub mime: String,
    /// SHA-256 of the copy (hex).
    pub sha256: String,
    /// Set once Stripe's Files API accepted the copy.
    pub stripe_file_id: Option<String>,
}

/// The owner's draft of one dispute's evidence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct DisputeDraft {
    pub dispute_id: String,
    /// Text fields the owner typed (an empty text clears a pre-filled value).
    pub fields: BTreeMap<String, String>,
    pub files: Vec<DraftFile>,
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub revision: i64,
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub updated_at: i64,
}

/// One text field of the evidence form as the workbench shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct EvidenceValue {
    pub field: String,
    pub value: String,
    /// True when the value was filled in from the mirror (or a reusable text) and the owner
    /// has not changed it.
    pub prefilled: bool,
    /// Where a pre-filled value came from, in the owner's words.
    pub source: Option<String>,
}

/// What the workbench shows of one dispute.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct DisputeWorkbench {
    pub dispute: Dispute,
    /// `evidence_details` as Stripe last said (None when no event carried it).
    pub has_evidence: Option<bool>,
    #[cfg_attr(feature = "ts", ts(type = "number | null"))]
    pub submission_count: Option<i64>,
    pub past_due: Option<bool>,
    /// True while Stripe takes evidence: a status that needs a response and a due date not
    /// passed.
    pub accepts_evidence: bool,
    pub guidance: ReasonGuidance,
    pub order: Option<OrderDetail>,
    /// The same customer's other orders (by e-mail address, same mode), newest first.
    pub other_orders: Vec<Order>,
    /// Every text field of the form, in the form's order.
    pub values: Vec<EvidenceValue>,
    pub files: Vec<DraftFile>,
    #[cfg_attr(feature = "ts", ts(type = "number | null"))]
    pub draft_revision: Option<i64>,
    #[cfg_attr(feature = "ts", ts(type = "number | null"))]
    pub draft_updated_at: Option<i64>,
}

impl DisputeWorkbench {
    /// The text evidence that would be sent: every non-empty value.
    pub fn text_evidence(&self) -> Vec<(String, String)> {
        self.values
            .iter()
            .filter(|v| !v.value.trim().is_empty())
            .map(|v| (v.field.clone(), v.value.clone()))
            .collect()
    }
}

/// The dispute row by id, any mode.
pub fn dispute(conn: &Connection, id: &str) -> Result<Option<(Dispute, Evidence)>, MirrorError> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {DISPUTE_COLS}, d.has_evidence, d.submission_count, d.past_due
         FROM disputes d WHERE d.id = ?1"
    ))?;
    Ok(stmt
        .query_row(params![id], |r| {
            Ok((
                dispute_from_row(r)?,
                Evidence {
                    has_evidence: r.get(13)?,
                    submission_count: r.get(14)?,
                    past_due: r.get(15)?,
                },
            ))
        })
        .optional()?)
}

/// `evidence_details` of a dispute row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Evidence {
    pub has_evidence: Option<bool>,
    pub submission_count: Option<i64>,
    pub past_due: Option<bool>,
}

pub fn draft(conn: &Connection, id: &str) -> Result<Option<DisputeDraft>, MirrorError> {
    let row = conn
        .query_row(
            "SELECT fields, revision, updated_at FROM dispute_drafts WHERE dispute_id = ?1",
            params![id],
            |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, i64>(1)?,
                    r.get::<_, i64>(2)?,
                ))
            },
        )
        .optional()?;
    let Some((fields, revision, updated_at)) = row else {
        return Ok(None);
    };
    let fields: BTreeMap<String, String> = serde_json::from_str(&fields)
        .map_err(|e| MirrorError::Migration(format!("a dispute draft is unreadable: {e}")))?;
    let mut stmt = conn.prepare_cached(
        "SELECT field, file_name, stored_path, size, mime, sha256, stripe_file_id
         FROM dispute_draft_files WHERE dispute_id = ?1 ORDER BY field",
    )?;
    let files = stmt
        .query_map(params![id], |r| {
            Ok(DraftFile {
                field: r.get(0)?,
                file_name: r.get(1)?,
                stored_path: r.get(2)?,
                size: r.get(3)?,
                mime: r.get(4)?,
                sha256: r.get(5)?,
                stripe_file_id: r.get(6)?,
            })
        })?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Some(DisputeDraft {
        dispute_id: id.to_owned(),
        fields,
        files,
        revision,
        updated_at,
    }))
}

/// A change to a draft.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DraftChange {
    /// Set a text field (an empty text clears a pre-filled value).
    Text { field: String, value: String },
    /// Forget the owner's text of a field: the pre-filled value shows again.
    Reset { field: String },
    /// Attach (or replace) a file.
    File(DraftFile),
    /// Remove a field's file.
    RemoveFile { field: String },
}

fn refuse(msg: String) -> MirrorError {
    MirrorError::Invalid(msg)
}

fn check_field(field: &str, kind: EvidenceKind) -> Result<(), MirrorError> {
    match evidence_field(field) {
        Some(f) if f.kind == kind => Ok(()),
        Some(_) if kind == EvidenceKind::Text => Err(refuse(format!(
            "\"{field}\" takes a file, not text: attach one with --file {field}=PATH."
        ))),
        Some(_) => Err(refuse(format!(
            "\"{field}\" takes text, not a file: set it with --set {field}=TEXT."
        ))),
        None => Err(refuse(format!(
            "\"{field}\" is not an evidence field this app sends. Fields: {}.",
            EVIDENCE_FIELDS
                .iter()
                .filter(|f| f.kind == kind)
                .map(|f| f.name)
                .collect::<Vec<_>>()
                .join(", ")
        ))),
    }
}

/// Apply `changes` to the draft of dispute `id` (created on first change), in one
/// transaction; returns the draft as stored. Returns the files a change replaced or removed,
/// so their copies can be deleted.
pub fn save(
    conn: &Connection,
    id: &str,
    changes: &[DraftChange],
    now: i64,
) -> Result<(DisputeDraft, Vec<DraftFile>), MirrorError> {
    if dispute(conn, id)?.is_none() {
        return Err(refuse(format!(
            "There is no dispute {id} in this store's records. Check the id (it starts with dp_ or du_), or sync with Stripe first."
        )));
    }
    let old = draft(conn, id)?;
    let mut fields = old.as_ref().map(|d| d.fields.clone()).unwrap_or_default();
    let mut replaced = Vec::new();
    for c in changes {
        match c {
            DraftChange::Text { field, value } => {
                check_field(field, EvidenceKind::Text)?;
                let max = crate::evidence::evidence_max_chars(field);
                let n = value.chars().count();
                if n > max {
                    return Err(refuse(format!(
                        "\"{field}\" is {n} characters long; Stripe takes at most {max} in that field. Shorten it."
                    )));
                }
                fields.insert(field.clone(), value.clone());
            }
            DraftChange::Reset { field } => {
                check_field(field, EvidenceKind::Text)?;
                fields.remove(field);
            }
            DraftChange::File(f) => check_field(&f.field, EvidenceKind::File)?,
            DraftChange::RemoveFile { field } => check_field(field, EvidenceKind::File)?,
        }
    }
    let total: usize = fields.values().map(|v| v.chars().count()).sum();
    if total > crate::evidence::EVIDENCE_TEXT_MAX_CHARS {
        return Err(refuse(format!(
            "The evidence texts add up to {total} characters; Stripe takes at most {} in all. Shorten some of them.",
            crate::evidence::EVIDENCE_TEXT_MAX_CHARS
        )));
    }
    let json = serde_json::to_string(&fields).unwrap_or_else(|_| "{}".to_owned());
    conn.execute(
        "INSERT INTO dispute_drafts(dispute_id, fields, revision, created_at, updated_at)
         VALUES (?1, ?2, 1, ?3, ?3)
         ON CONFLICT(dispute_id) DO UPDATE SET fields = excluded.fields,
            revision = revision + 1, updated_at = excluded.updated_at",
        params![id, json, now],
    )?;
    for c in changes {
        let field = match c {
            DraftChange::File(f) => &f.field,
            DraftChange::RemoveFile { field } => field,
            _ => continue,
        };
        if let Some(prev) = old
            .as_ref()
            .and_then(|d| d.files.iter().find(|f| &f.field == field))
        {
            replaced.push(prev.clone());
        }
        conn.execute(
            "DELETE FROM dispute_draft_files WHERE dispute_id = ?1 AND field = ?2",
            params![id, field],
        )?;
        if let DraftChange::File(f) = c {
            conn.execute(
                "INSERT INTO dispute_draft_files(dispute_id, field, file_name, stored_path, size, mime, sha256, stripe_file_id)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, NULL)",
                params![id, f.field, f.file_name, f.stored_path, f.size, f.mime, f.sha256],
            )?;
        }
    }
    let saved = draft(conn, id)?.ok_or_else(|| refuse("the draft was not saved".to_owned()))?;
    // A file still attached (same copy) is not to be deleted.
    replaced.retain(|r| !saved.files.iter().any(|f| f.stored_path == r.stored_path));
    Ok((saved, replaced))
}

/// Record that Stripe's Files API accepted a draft's file (only if it is still the same copy).
pub fn set_uploaded(
    conn: &Connection,
    id: &str,
    field: &str,
    sha256: &str,
    file_id: &str,
) -> Result<(), MirrorError> {
    conn.execute(
        "UPDATE dispute_draft_files SET stripe_file_id = ?4
         WHERE dispute_id = ?1 AND field = ?2 AND sha256 = ?3",
        params![id, field, sha256, file_id],
    )?;
    Ok(())
}

/// The workbench of dispute `id` in `mode` (None when there is no such dispute in that mode).
pub fn workbench(
    conn: &Connection,
    mode: Mode,
    id: &str,
    now: i64,
) -> Result<Option<DisputeWorkbench>, MirrorError> {
    let Some((dispute, ev)) = dispute(conn, id)?.filter(|(d, _)| d.mode == mode) else {
        return Ok(None);
    };
    let order = match dispute.order_session_id.as_deref() {
        Some(key) => crate::query::orders::order_detail(conn, mode, key)?,
        None => None,
    };
    let other_orders = match order.as_ref().and_then(|o| o.order.customer_email.clone()) {
        Some(email) => other_orders(
            conn,
            mode,
            &email,
            &order.as_ref().unwrap().order.session_id,
        )?,
        None => Vec::new(),
    };
    let draft = draft(conn, id)?;
    let prefill = prefill(conn, order.as_ref(), &other_orders)?;
    let values = EVIDENCE_FIELDS
        .iter()
        .filter(|f| f.kind == EvidenceKind::Text)
        .map(|f| {
            let typed = draft.as_ref().and_then(|d| d.fields.get(f.name));
            match (typed, prefill.get(f.name)) {
                (Some(t), _) => EvidenceValue {
                    field: f.name.to_owned(),
                    value: t.clone(),
                    prefilled: false,
                    source: None,
                },
                (None, Some((v, src))) => EvidenceValue {
                    field: f.name.to_owned(),
                    value: v.clone(),
                    prefilled: true,
                    source: Some(src.clone()),
                },
                (None, None) => EvidenceValue {
                    field: f.name.to_owned(),
                    value: String::new(),
                    prefilled: false,
                    source: None,
                },
            }
        })
        .collect();
    let open = accepts_evidence(&dispute.status) && dispute.due_by.is_none_or(|d| d > now);
    Ok(Some(DisputeWorkbench {
        guidance: reason_guidance(dispute.reason.as_deref().unwrap_or("")),
        has_evidence: ev.has_evidence,
        submission_count: ev.submission_count,
        past_due: ev.past_due,
        accepts_evidence: open && ev.past_due != Some(true),
        dispute,
        order,
        other_orders,
        values,
        files: draft.as_ref().map(|d| d.files.clone()).unwrap_or_default(),
        draft_revision: draft.as_ref().map(|d| d.revision),
        draft_updated_at: draft.as_ref().map(|d| d.updated_at),
    }))
}

fn other_orders(
    conn: &Connection,
    mode: Mode,
    email: &str,
    except: &str,
) -> Result<Vec<Order>, MirrorError> {
    let (cond, extra) = crate::marker::condition(crate::marker::load(conn)?.as_ref());
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {} FROM orders o WHERE o.livemode = ? AND o.customer_email = ? COLLATE NOCASE
         AND o.session_id <> ?{cond} ORDER BY o.created DESC, o.session_id DESC LIMIT 20",
        crate::query::orders::COLS
    ))?;
    let args = [
        Sql::Integer(i64::from(mode.is_live())),
        Sql::Text(email.to_owned()),
        Sql::Text(except.to_owned()),
    ]
    .into_iter()
    .chain(extra);
    let rows = stmt
        .query_map(
            rusqlite::params_from_iter(args),
            crate::query::orders::order_from_row,
        )?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(rows)
}

fn outcome(status: OrderStatus) -> &'static str {
    match status {
        OrderStatus::Paid => "paid, not disputed",
        OrderStatus::Refunded => "refunded",
        OrderStatus::PartiallyRefunded => "partly refunded",
        OrderStatus::Disputed => "disputed",
        OrderStatus::DisputeWon => "disputed, won",
        OrderStatus::DisputeLost => "disputed, lost",
        OrderStatus::Failed => "payment failed",
        OrderStatus::Pending => "not paid yet",
    }
}

/// Pre-filled values per field: (value, where it came from).
fn prefill(
    conn: &Connection,
    order: Option<&OrderDetail>,
    others: &[Order],
) -> Result<BTreeMap<&'static str, (String, String)>, MirrorError> {
    let mut out = BTreeMap::new();
    let mut texts = BTreeMap::new();
    for t in DISPUTE_TEXTS {
        if let Some(v) =
            crate::log::setting(conn, t.setting_key())?.filter(|v| !v.trim().is_empty())
        {
            texts.insert(t.evidence_field(), v);
        }
    }
    if let Some(v) = texts.get("refund_policy_disclosure") {
        out.insert(
            "refund_policy_disclosure",
            (v.clone(), "your refund policy (settings)".to_owned()),
        );
    }
    if let Some(v) = texts.get("cancellation_policy_disclosure") {
        out.insert(
            "cancellation_policy_disclosure",
            (v.clone(), "your terms of sale (settings)".to_owned()),
        );
    }
    let Some(d) = order else {
        if let Some(v) = texts.get("access_activity_log") {
            out.insert(
                "access_activity_log",
                (v.clone(), "your delivery explanation (settings)".to_owned()),
            );
        }
        return Ok(out);
    };
    let o = &d.order;
    if let Some(n) = &o.customer_name {
        out.insert("customer_name", (n.clone(), "the order's buyer".to_owned()));
    }
    if let Some(e) = &o.customer_email {
        out.insert(
            "customer_email_address",
            (e.clone(), "the order's buyer".to_owned()),
        );
    }
    let bought_at = o.created;
    out.insert(
        "service_date",
        (
            utc(bought_at)[..10].to_owned(),
            "the order's date".to_owned(),
        ),
    );
    // What was bought: the line items, else the amount; then the checkout's metadata.
    let mut product = Vec::new();
    for li in d.line_items.iter().flatten() {
        product.push(format!(
            "{} × {} ({})",
            li.quantity.unwrap_or(1),
            li.description.as_deref().unwrap_or("item"),
            crate::money::format(li.amount_total, &li.currency)
        ));
    }
    if product.is_empty()
        && let (Some(a), Some(c)) = (o.amount, o.currency.as_deref())
    {
        product.push(format!(
            "Order {} of {}",
            o.session_id,
            crate::money::format(a, c)
        ));
    }
    for m in &d.metadata {
        product.push(format!("{}: {}", m.key, m.value));
    }
    if !product.is_empty() {
        out.insert(
            "product_description",
            (
                product.join("\n"),
                "the order's items and details".to_owned(),
            ),
        );
    }
    // Delivery and use: the owner's delivery explanation, then the purchase facts.
    let mut log = Vec::new();
    if let Some(v) = texts.get("access_activity_log") {
        log.push(v.clone());
    }
    log.push(format!(
        "Purchased {} (order {}).",
        utc(bought_at),
        o.session_id
    ));
    for m in &d.metadata {
        log.push(format!("{}: {}", m.key, m.value));
    }
    out.insert(
        "access_activity_log",
        (
            log.join("\n"),
            if texts.contains_key("access_activity_log") {
                "your delivery explanation (settings) and the order".to_owned()
            } else {
                "the order".to_owned()
            },
        ),
    );
    // The customer's history and the payment's risk data.
    let mut other = Vec::new();
    if !others.is_empty() {
        other.push(format!(
            "The same customer ({}) placed {} other order(s):",
            o.customer_email.as_deref().unwrap_or(""),
            others.len()
        ));
        for x in others {
            let amount = match (x.amount, x.currency.as_deref()) {
                (Some(a), Some(c)) => crate::money::format(a, c),
                _ => String::new(),
            };
            other.push(format!(
                "- {} {} {}: {}",
                utc(x.created),
                x.session_id,
                amount,
                outcome(x.status)
            ));
        }
    }
    let mut risk = Vec::new();
    if let (Some(b), Some(l)) = (&o.card_brand, &o.card_last4) {
        risk.push(format!("paid with {b} card ending {l}"));
    }
    if let Some(c) = &o.customer_country {
        risk.push(format!("billing country {c}"));
    }
    if let Some(r) = &o.risk_level {
        risk.push(format!("Stripe Radar risk level {r}"));
    }
    if !risk.is_empty() {
        other.push(format!("Payment: {}.", risk.join(", ")));
    }
    if !other.is_empty() {
        out.insert(
            "uncategorized_text",
            (
                other.join("\n"),
                "the customer's other orders and the payment's risk data".to_owned(),
            ),
        );
    }
    Ok(out)
}
