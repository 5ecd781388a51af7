//! The order projection: one row per purchase, keyed by its Checkout Session.
//!
//! # What is an order
//! A FluxStore order is a Checkout Session: a group whose events reveal a session is an
//! order, keyed by the session id. A group that holds an invoice but no session is a
//! subscription renewal, not an order: no row. A group of payments only (a PaymentIntent
//! or Charge with no session: a point of sale, another shop, an API charge, or an order
//! whose `checkout.session.completed` has not arrived yet) is *other activity*: one row in
//! `other_payments` keyed by its smallest PaymentIntent id, else its smallest Charge id,
//! holding no customer data, no link and no dispute. When the session arrives, that row
//! is replaced by the order. How long such a payment waits for its session before it is
//! counted is a read-time rule (`facts::ORDER_SESSION_WAIT_SECS`), as is the owner's
//! marker (`OrderMarker`): neither changes a row, so the rows stay a function of the events.
//!
//! # Status precedence (first rule that applies wins)
//! 1. A dispute folded to `lost` → `dispute_lost`.
//! 2. A dispute still open (any status other than won, lost, warning_closed, prevented;
//!    inquiries `warning_*` included, unknown statuses included) → `disputed`.
//! 3. A dispute `won` → `dispute_won`. (`warning_closed`/`prevented` leave no mark.)
//! 4. Refunded amount > 0 → `refunded` when it reaches the captured amount (or a charge's
//!    newest snapshot says `refunded: true`), else `partially_refunded`. The refunded amount
//!    counts no failed or canceled refund (see [`super::refund`]).
//! 5. Any evidence of payment → `paid`: session `payment_status` paid/no_payment_required,
//!    PaymentIntent `succeeded`, Charge `succeeded`, Invoice `paid`.
//! 6. Any evidence of failure → `failed`: PaymentIntent with `last_payment_error` back at
//!    `requires_payment_method`, or `canceled`; Charge `failed`; session expired unpaid or
//!    `checkout.session.async_payment_failed`; `invoice.payment_failed`.
//! 7. Otherwise `pending`.
//!
//! Each rule asks "does the set contain…", so a late failure can never downgrade a paid
//! order and arrival order cannot matter. Field values come from the newest snapshot of
//! the object that owns them (session first, then PaymentIntent, then Charge).

use std::collections::BTreeMap;

use rusqlite::{Connection, params};

use super::Snap;
use super::dispute::{self, DisputeRow};
use super::group::{Group, order_group};
use crate::event::Kind;
use crate::facts::event_types;
use crate::fields::{at, bool_at, first_str, i64_at, id_at, list_at, str_at};
use crate::{Event, MirrorError, OrderStatus};

#[derive(Debug, Clone, PartialEq)]
pub struct OrderRow {
    pub key: String,
    pub payment_intent_id: Option<String>,
    pub charge_id: Option<String>,
    pub subscription_id: Option<String>,
    pub status: OrderStatus,
    pub amount: Option<i64>,
    pub amount_refunded: i64,
    pub currency: Option<String>,
    pub customer_email: Option<String>,
    pub customer_name: Option<String>,
    pub customer_country: Option<String>,
    /// The Stripe Customer (`cus_…`) of the session, else of the PaymentIntent or Charge.
    pub customer_id: Option<String>,
    pub client_reference_id: Option<String>,
    /// The session's `metadata` object as JSON text (keys sorted), or None.
    pub metadata: Option<String>,
    pub card_brand: Option<String>,
    pub card_last4: Option<String>,
    pub risk_level: Option<String>,
    pub failure_message: Option<String>,
    pub livemode: bool,
    pub account: Option<String>,
    pub created: i64,
    pub updated: i64,
    pub paid_at: Option<i64>,
}

/// A payment group with no Checkout Session (see the module docs): no customer data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OtherRow {
    pub key: String,
    pub livemode: bool,
    pub created: i64,
}

/// What a group of objects projects to.
#[derive(Debug, Clone, PartialEq)]
pub enum Projection {
    Order(Box<OrderRow>),
    Other(OtherRow),
}

/// Newest snapshot per object of `kind`, by object id.
fn newest<'a, 'e>(snaps: &'a [Snap<'e>], kind: Kind) -> BTreeMap<&'a str, &'a Snap<'e>> {
    let mut m = BTreeMap::new();
    for s in snaps.iter().filter(|s| s.kind == kind) {
        m.insert(s.object_id.as_str(), s); // later (newer) snapshots overwrite
    }
    m
}

fn owned(s: Option<&str>) -> Option<String> {
    s.map(str::to_owned)
}

fn is_paid(s: &Snap<'_>) -> bool {
    let o = &s.obj;
    match s.kind {
        Kind::Session => matches!(
            str_at(o, &["payment_status"]),
            Some("paid" | "no_payment_required")
        ),
        Kind::PaymentIntent => str_at(o, &["status"]) == Some("succeeded"),
        Kind::Charge => {
            str_at(o, &["status"]) == Some("succeeded") && bool_at(o, &["paid"]) != Some(false)
        }
        Kind::Invoice => str_at(o, &["status"]) == Some("paid"),
        _ => false,
    }
}

/// The failure message if this snapshot is evidence of a failed payment.
fn failure(s: &Snap<'_>) -> Option<String> {
    let o = &s.obj;
    let status = str_at(o, &["status"]);
    match s.kind {
        Kind::PaymentIntent => {
            let err = at(o, &["last_payment_error"]);
            let failed = (status == Some("requires_payment_method") && err.is_some())
                || status == Some("canceled");
            failed.then(|| {
                err.and_then(|e| str_at(e, &["message"]))
                    .map(str::to_owned)
                    .or_else(|| {
                        str_at(o, &["cancellation_reason"])
                            .map(|r| format!("The payment was canceled ({r})."))
                    })
                    .unwrap_or_else(|| "The payment was canceled.".into())
            })
        }
        Kind::Charge if status == Some("failed") => Some(
            owned(str_at(o, &["failure_message"]))
                .unwrap_or_else(|| "The card payment failed.".into()),
        ),
        Kind::Session if s.event_type == "checkout.session.async_payment_failed" => {
            Some("The delayed payment failed.".into())
        }
        Kind::Session if status == Some("expired") && !is_paid(s) => {
            Some("The checkout expired without a payment.".into())
        }
        Kind::Invoice if s.event_type == event_types::INVOICE_PAYMENT_FAILED => {
            Some("The invoice payment failed.".into())
        }
        _ => None,
    }
}

/// The key of a group and whether it is an order, or None when it projects to nothing
/// (see module docs).
fn key_of(g: &Group<'_>) -> Option<(String, bool)> {
    let first = |k: Kind| {
        g.objects
            .iter()
            .find(|(_, kind)| **kind == k)
            .map(|(id, _)| id.clone())
    };
    if let Some(s) = first(Kind::Session) {
        return Some((s, true));
    }
    if first(Kind::Invoice).is_some() {
        return None;
    }
    first(Kind::PaymentIntent)
        .or_else(|| first(Kind::Charge))
        .map(|k| (k, false))
}

pub fn fold(g: &Group<'_>, snaps: &[Snap<'_>], disputes: &[DisputeRow]) -> Option<Projection> {
    let (key, is_order) = key_of(g)?;
    if snaps.is_empty() {
        return None;
    }
    if !is_order {
        // Only what a count needs: when the payment happened, in which mode.
        let created = snaps
            .iter()
            .filter(|s| matches!(s.kind, Kind::PaymentIntent | Kind::Charge))
            .filter_map(|s| i64_at(&s.obj, &["created"]))
            .min()
            .unwrap_or(snaps[0].created);
        return Some(Projection::Other(OtherRow {
            key,
            livemode: snaps.iter().any(|s| s.livemode),
            created,
        }));
    }
    let sessions = newest(snaps, Kind::Session);
    let pis = newest(snaps, Kind::PaymentIntent);
    let charges = newest(snaps, Kind::Charge);
    let session = sessions
        .get(key.as_str())
        .copied()
        .or_else(|| sessions.values().next().copied());
    let pi = pis.values().next().copied();
    let ok_charge = charges
        .values()
        .copied()
        .filter(|c| is_paid(c))
        .max_by_key(|c| (c.created, &c.event_id));
    let any_charge = ok_charge.or_else(|| {
        charges
            .values()
            .copied()
            .max_by_key(|c| (c.created, &c.event_id))
    });
    let sv = |path: &[&str]| session.and_then(|s| str_at(&s.obj, path));

    let amount = session
        .and_then(|s| i64_at(&s.obj, &["amount_total"]))
        .or_else(|| pi.and_then(|p| i64_at(&p.obj, &["amount"])))
        .or_else(|| any_charge.and_then(|c| i64_at(&c.obj, &["amount"])));
    let currency = sv(&["currency"])
        .or_else(|| pi.and_then(|p| str_at(&p.obj, &["currency"])))
        .or_else(|| any_charge.and_then(|c| str_at(&c.obj, &["currency"])));
    let email = sv(&["customer_details", "email"])
        .or_else(|| sv(&["customer_email"]))
        .or_else(|| {
            any_charge.and_then(|c| {
                first_str(&c.obj, &[&["billing_details", "email"], &["receipt_email"]])
            })
        })
        .or_else(|| pi.and_then(|p| str_at(&p.obj, &["receipt_email"])));
    let name = sv(&["customer_details", "name"])
        .or_else(|| any_charge.and_then(|c| str_at(&c.obj, &["billing_details", "name"])));
    let country = sv(&["customer_details", "address", "country"]).or_else(|| {
        any_charge.and_then(|c| str_at(&c.obj, &["billing_details", "address", "country"]))
    });
    let customer_id = session
        .and_then(|s| id_at(&s.obj, &["customer"]))
        .or_else(|| pi.and_then(|p| id_at(&p.obj, &["customer"])))
        .or_else(|| any_charge.and_then(|c| id_at(&c.obj, &["customer"])));
    let card = |field: &str| {
        any_charge.and_then(|c| str_at(&c.obj, &["payment_method_details", "card", field]))
    };
    let metadata = session
        .and_then(|s| at(&s.obj, &["metadata"]))
        .and_then(|m| m.as_object())
        .filter(|m| !m.is_empty())
        .map(|m| {
            // Keys sorted, values as text: one spelling per metadata, whatever the order
            // Stripe sent them in.
            let sorted: BTreeMap<&str, String> = m
                .iter()
                .map(|(k, v)| {
                    let text = v.as_str().map_or_else(|| v.to_string(), str::to_owned);
                    (k.as_str(), text)
                })
                .collect();
            serde_json::to_string(&sorted).unwrap_or_default()
        });
    let pi_id = session
        .and_then(|s| id_at(&s.obj, &["payment_intent"]))
        .or_else(|| pi.map(|p| p.object_id.as_str()))
        .or_else(|| any_charge.and_then(|c| id_at(&c.obj, &["payment_intent"])));
    let pi_latest = pi.and_then(|p| {
        id_at(&p.obj, &["latest_charge"]).or_else(|| {
            list_at(&p.obj, &["charges"])
                .next()
                .and_then(|c| id_at(c, &["id"]))
        })
    });
    let charge_id = ok_charge
        .map(|c| c.object_id.as_str())
        .or(pi_latest)
        .or_else(|| any_charge.map(|c| c.object_id.as_str()));

    let (amount_refunded, fully) = super::refund::refunded(snaps);
    let captured = ok_charge
        .and_then(|c| {
            i64_at(&c.obj, &["amount_captured"])
                .filter(|a| *a > 0)
                .or_else(|| i64_at(&c.obj, &["amount"]))
        })
        .or(amount);

    let paid_at = snaps.iter().filter(|s| is_paid(s)).map(|s| s.created).min();
    // The card's own words (PaymentIntent, Charge) say more than "the checkout expired".
    let last_failure = snaps
        .iter()
        .rev()
        .filter(|s| matches!(s.kind, Kind::PaymentIntent | Kind::Charge))
        .find_map(failure)
        .or_else(|| snaps.iter().rev().find_map(failure));
    let ds = |st: &str| disputes.iter().any(|d| d.status == st);
    let open_dispute = disputes.iter().any(|d| !dispute::is_closed(&d.status));
    let status = if ds("lost") {
        OrderStatus::DisputeLost
    } else if open_dispute {
        OrderStatus::Disputed
    } else if ds("won") {
        OrderStatus::DisputeWon
    } else if amount_refunded > 0 {
        if fully || captured.is_some_and(|c| amount_refunded >= c) {
            OrderStatus::Refunded
        } else {
            OrderStatus::PartiallyRefunded
        }
    } else if paid_at.is_some() {
        OrderStatus::Paid
    } else if last_failure.is_some() {
        OrderStatus::Failed
    } else {
        OrderStatus::Pending
    };
    let created = session
        .and_then(|s| i64_at(&s.obj, &["created"]))
        .or_else(|| {
            [pi, any_charge]
                .into_iter()
                .flatten()
                .filter_map(|s| i64_at(&s.obj, &["created"]))
                .min()
        })
        .unwrap_or(snaps[0].created);
    Some(Projection::Order(Box::new(OrderRow {
        payment_intent_id: owned(pi_id),
        charge_id: owned(charge_id),
        subscription_id: session
            .and_then(|s| id_at(&s.obj, &["subscription"]))
            .map(str::to_owned),
        status,
        amount,
        amount_refunded,
        currency: currency.map(str::to_ascii_lowercase),
        customer_email: owned(email),
        customer_name: owned(name),
        customer_country: owned(country),
        customer_id: owned(customer_id),
        client_reference_id: owned(sv(&["client_reference_id"])),
        metadata,
        card_brand: owned(card("brand")),
        card_last4: owned(card("last4")),
        risk_level: owned(any_charge.and_then(|c| str_at(&c.obj, &["outcome", "risk_level"]))),
        failure_message: if status == OrderStatus::Failed {
            last_failure
        } else {
            None
        },
        livemode: snaps.iter().any(|s| s.livemode),
        account: snaps.iter().find_map(|s| s.account.clone()),
        created,
        updated: snaps.iter().map(|s| s.created).max().unwrap_or(created),
        paid_at,
        key,
    })))
}

/// Re-derive the order (and its disputes) that the objects in `seeds` belong to. `fresh`
/// is the event being ingested (None when re-deriving stored events, as a migration does).
pub fn rederive(
    conn: &Connection,
    seeds: &[(String, Kind)],
    fresh: Option<&Event>,
) -> Result<(), MirrorError> {
    let g = order_group(conn, seeds, fresh)?;
    if g.objects.is_empty() {
        return Ok(());
    }
    let snaps = &g.snaps;
    let mut disputes = Vec::new();
    for (id, _) in g.objects.iter().filter(|(_, k)| **k == Kind::Dispute) {
        let own: Vec<&Snap<'_>> = snaps
            .iter()
            .filter(|s| s.kind == Kind::Dispute && &s.object_id == id)
            .collect();
        if let Some(d) = dispute::fold(&own) {
            disputes.push(d);
        }
    }
    let projection = fold(&g, snaps, &disputes);
    let (order, other) = match projection {
        Some(Projection::Order(r)) => (Some(*r), None),
        Some(Projection::Other(o)) => (None, Some(o)),
        None => (None, None),
    };
    let order_key = order.as_ref().map(|r| r.key.clone());
    let other_key = other.as_ref().map(|o| o.key.clone());
    // Rows under keys this group has outgrown (a payment whose session arrived, a merged
    // group).
    let mut del_order = conn.prepare_cached("DELETE FROM orders WHERE session_id = ?1")?;
    let mut del_other = conn.prepare_cached("DELETE FROM other_payments WHERE key = ?1")?;
    for id in g.objects.keys() {
        if Some(id) != order_key.as_ref() {
            del_order.execute(params![id])?;
        }
        if Some(id) != other_key.as_ref() {
            del_other.execute(params![id])?;
        }
    }
    if let Some(r) = &order {
        write(conn, r)?;
        // A link that already points at this key is left alone: rewriting an unchanged
        // row would still dirty its page and cost a WAL frame.
        let mut link = conn.prepare_cached(
            "INSERT INTO order_links(object_id, order_key) VALUES (?1, ?2)
             ON CONFLICT(object_id) DO UPDATE SET order_key = excluded.order_key
             WHERE order_key IS NOT excluded.order_key",
        )?;
        for id in g.objects.keys() {
            link.execute(params![id, r.key])?;
        }
    } else {
        // Not an order: nothing links to it, so no lookup, refund or search reaches it.
        let mut del_link = conn.prepare_cached("DELETE FROM order_links WHERE object_id = ?1")?;
        for id in g.objects.keys() {
            del_link.execute(params![id])?;
        }
    }
    if let Some(o) = &other {
        conn.prepare_cached(
            "INSERT INTO other_payments(key, livemode, created) VALUES (?1, ?2, ?3)
             ON CONFLICT(key) DO UPDATE SET livemode = excluded.livemode, created = excluded.created
             WHERE livemode IS NOT excluded.livemode OR created IS NOT excluded.created",
        )?
        .execute(params![o.key, o.livemode, o.created])?;
        // Its disputes are someone else's business: not in the queue.
        let mut del_dispute = conn.prepare_cached("DELETE FROM disputes WHERE id = ?1")?;
        for d in &disputes {
            del_dispute.execute(params![d.id])?;
        }
    } else {
        for d in &disputes {
            dispute::write(conn, d, order_key.as_deref())?;
        }
    }
    Ok(())
}

/// Re-derive every order group from the stored events (a migration's data step).
pub fn rederive_all(conn: &Connection) -> Result<(), MirrorError> {
    let seeds = conn
        .prepare(
            "SELECT DISTINCT object_id, kind FROM event_refs WHERE is_self = 1
             AND kind IN ('checkout.session', 'payment_intent', 'charge', 'refund', 'dispute', 'invoice')
             ORDER BY object_id",
        )?
        .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?
        .collect::<Result<Vec<_>, _>>()?;
    let mut done = std::collections::BTreeSet::new();
    for (id, kind) in seeds {
        if done.contains(&id) {
            continue;
        }
        let Some(kind) = Kind::from_object(&kind) else {
            continue;
        };
        let g = order_group(conn, &[(id.clone(), kind)], None)?;
        done.extend(g.objects.keys().cloned());
        rederive(conn, &[(id, kind)], None)?;
    }
    Ok(())
}

fn write(conn: &Connection, r: &OrderRow) -> Result<(), MirrorError> {
    let mut stmt = conn.prepare_cached(
        "INSERT INTO orders(session_id, payment_intent_id, charge_id, subscription_id, status, amount, amount_refunded,
            currency, customer_email, customer_name, client_reference_id, failure_message, livemode, account, created,
            updated, paid_at, customer_country, metadata, card_brand, card_last4, risk_level, customer_id)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22, ?23)
         ON CONFLICT(session_id) DO UPDATE SET payment_intent_id = excluded.payment_intent_id,
            charge_id = excluded.charge_id, subscription_id = excluded.subscription_id, status = excluded.status,
            amount = excluded.amount, amount_refunded = excluded.amount_refunded, currency = excluded.currency,
            customer_email = excluded.customer_email, customer_name = excluded.customer_name,
            client_reference_id = excluded.client_reference_id, failure_message = excluded.failure_message,
            livemode = excluded.livemode, account = excluded.account, created = excluded.created,
            updated = excluded.updated, paid_at = excluded.paid_at, customer_country = excluded.customer_country,
            metadata = excluded.metadata, card_brand = excluded.card_brand, card_last4 = excluded.card_last4,
            risk_level = excluded.risk_level, customer_id = excluded.customer_id",
    )?;
    stmt.execute(params![
        r.key,
        r.payment_intent_id,
        r.charge_id,
        r.subscription_id,
        r.status.as_str(),
        r.amount,
        r.amount_refunded,
        r.currency,
        r.customer_email,
        r.customer_name,
        r.client_reference_id,
        r.failure_message,
        r.livemode,
        r.account,
        r.created,
        r.updated,
        r.paid_at,
        r.customer_country,
        r.metadata,
        r.card_brand,
        r.card_last4,
        r.risk_level,
        r.customer_id
    ])?;
    Ok(())
}
