//! An order's purchase and its state at Stripe: the line items of its Checkout Session
//! (fetched once, kept in the mirror for offline review) and the look-up that puts what
//! Stripe says next to what the mirror says, healing the mirror when they differ.
//!
//! Invariants:
//! - Every request passes the privacy guard first (`guard_order`, `guard_payment`): only a
//!   FluxStore order's session, PaymentIntent, charge, refunds and disputes are asked for.
//! - Every request is audited by the one client, like every other call.
//! - Healing never writes a projection: it fetches the events the sync would fetch (every
//!   projected type since the order was created) and ingests them through the mirror's one
//!   `ingest`, which skips those already stored. It leaves the sync's watermark alone.

use fluxstore_mirror::facts::minor_unit_exponent;
use fluxstore_mirror::{LineItem, OrderStatus};
use serde::Serialize;
use serde_json::Value;

use crate::client::{Call, StripeClient};
use crate::error::GatewayError;
use crate::form::Form;
use crate::sync::{CancelToken, SyncOptions};

/// Line items of one session fetched at most this many pages of 100 (Stripe allows far
/// fewer items per Checkout Session than that).
const LINE_ITEM_PAGES: u32 = 10;
/// Orders whose line items are fetched after one sync run (the rest follow on later runs or
/// when the order is opened).
pub const LINE_ITEMS_PER_RUN: u32 = 25;
/// Pages of events a look-up walks back through at most to heal an order.
const HEAL_PAGES: u32 = 50;

/// What one side says about an order's money.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct OrderFacts {
    pub paid: bool,
    /// Minor units.
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub amount_refunded: i64,
    /// (dispute id, status), sorted by id.
    pub disputes: Vec<DisputeFact>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct DisputeFact {
    pub id: String,
    pub status: String,
}

/// One refund as Stripe lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct RefundFact {
    pub id: String,
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub amount: i64,
    /// Stripe's refund status (`succeeded`, `pending`, `failed`, `canceled`; an open set).
    pub status: String,
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub created: i64,
}

/// What Stripe says now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct StripeSays {
    pub payment_intent_id: Option<String>,
    /// The PaymentIntent's status (`succeeded`, `requires_payment_method`, …; an open set).
    pub payment_intent_status: Option<String>,
    pub charge_id: Option<String>,
    /// The charge's status (`succeeded`, `pending`, `failed`).
    pub charge_status: Option<String>,
    pub refunds: Vec<RefundFact>,
    pub facts: OrderFacts,
}

/// What healing did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Healed {
    /// Events fetched from Stripe's events API and stored for the first time.
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub events_applied: u64,
    /// What the mirror says after them.
    pub mirror: OrderFacts,
    /// Differences left (empty: the mirror now agrees with Stripe).
    pub differences: Vec<String>,
}

/// The answer of "Look it up on Stripe's side".
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct LookupReport {
    pub session_id: String,
    pub stripe: StripeSays,
    /// What the mirror said before the look-up.
    pub mirror: OrderFacts,
    /// Where the two differed, in the owner's words (empty: they agree).
    pub differences: Vec<String>,
    /// Present when they differed and the mirror was healed from Stripe's events.
    pub healed: Option<Healed>,
}

fn s(v: &Value, k: &str) -> Option<String> {
    v.get(k).and_then(Value::as_str).map(str::to_owned)
}

/// An amount as people read it in a message (the UI formats its own views).
fn money(minor: i64, currency: Option<&str>) -> String {
    let Some(cur) = currency else {
        return minor.to_string();
    };
    let exp = minor_unit_exponent(cur);
    let text = if exp == 0 {
        minor.to_string()
    } else {
        let d = 10i64.pow(exp);
        format!("{}.{:0w$}", minor / d, (minor % d).abs(), w = exp as usize)
    };
    format!("{text} {}", cur.to_ascii_uppercase())
}

/// Where `stripe` and `mirror` differ, in words.
pub fn differences(
    stripe: &OrderFacts,
    mirror: &OrderFacts,
    currency: Option<&str>,
) -> Vec<String> {
    let mut out = Vec::new();
    if stripe.paid != mirror.paid {
        out.push(if stripe.paid {
            "Stripe says the payment succeeded; this app did not know yet.".to_owned()
        } else {
            "This app shows the order as paid, but Stripe does not show a successful payment."
                .to_owned()
        });
    }
    if stripe.amount_refunded != mirror.amount_refunded {
        out.push(format!(
            "Stripe has refunded {} of this order; this app knew of {}.",
            money(stripe.amount_refunded, currency),
            money(mirror.amount_refunded, currency)
        ));
    }
    for d in &stripe.disputes {
        match mirror.disputes.iter().find(|m| m.id == d.id) {
            None => out.push(format!(
                "Stripe has a dispute {} ({}) that this app did not know of.",
                d.id, d.status
            )),
            Some(m) if m.status != d.status => out.push(format!(
                "Stripe says dispute {} is {}; this app shows {}.",
                d.id, d.status, m.status
            )),
            Some(_) => {}
        }
    }
    for m in &mirror.disputes {
        if !stripe.disputes.iter().any(|d| d.id == m.id) {
            out.push(format!(
                "This app shows dispute {}, which Stripe does not list for this payment.",
                m.id
            ));
        }
    }
    out
}

fn list_data(v: &Value) -> Vec<Value> {
    v.get("data")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default()
}

fn line_item(v: &Value) -> Result<LineItem, GatewayError> {
    let bad = || GatewayError::UnexpectedResponse("a line item lacks its id or amounts".to_owned());
    let price = v.get("price").filter(|p| p.is_object());
    Ok(LineItem {
        id: s(v, "id").ok_or_else(bad)?,
        description: s(v, "description"),
        quantity: v.get("quantity").and_then(Value::as_i64),
        amount_subtotal: v
            .get("amount_subtotal")
            .and_then(Value::as_i64)
            .ok_or_else(bad)?,
        amount_total: v
            .get("amount_total")
            .and_then(Value::as_i64)
            .ok_or_else(bad)?,
        currency: s(v, "currency").ok_or_else(bad)?,
        price_id: price.and_then(|p| s(p, "id")).or_else(|| s(v, "price")),
        // `price.product` is an id unless expanded.
        product_id: price.and_then(|p| {
            p.get("product")
                .and_then(|x| x.as_str().map(str::to_owned).or_else(|| s(x, "id")))
        }),
    })
}

impl StripeClient {
    /// `GET /v1/checkout/sessions/{id}/line_items` (every page) of a FluxStore order, kept
    /// in the mirror. Returns the items.
    pub async fn fetch_line_items(&self, session_id: &str) -> Result<Vec<LineItem>, GatewayError> {
        self.guard_order(session_id)?;
        let mut items = Vec::new();
        let mut after: Option<String> = None;
        for _ in 0..LINE_ITEM_PAGES {
            let mut call = Call::get(format!("/v1/checkout/sessions/{session_id}/line_items"))
                .object(session_id);
            let mut q = Form::new();
            q.push("limit", 100)
                .push_opt("starting_after", after.as_deref());
            call.query = q;
            let page = self.send(call).await?;
            let data = list_data(&page);
            for v in &data {
                items.push(line_item(v)?);
            }
            let more = page.get("has_more").and_then(Value::as_bool) == Some(true);
            after = items.last().map(|i| i.id.clone());
            if !more || data.is_empty() {
                break;
            }
        }
        self.lock_mirror().store_line_items(session_id, &items)?;
        Ok(items)
    }

    /// Fetch the line items of up to `limit` orders of this mode that have none kept yet,
    /// newest first. Returns how many orders got theirs; stops at the first failure.
    pub async fn fetch_missing_line_items(&self, limit: u32) -> Result<u32, GatewayError> {
        let missing = self
            .lock_mirror()
            .orders_without_line_items(self.mode(), limit)?;
        let mut done = 0;
        for id in missing {
            self.fetch_line_items(&id).await?;
            done += 1;
        }
        Ok(done)
    }

    /// What the mirror says about an order (its facts), or a refusal when it is not one.
    fn mirror_facts(
        &self,
        session_id: &str,
    ) -> Result<(fluxstore_mirror::Order, OrderFacts), GatewayError> {
        self.guard_order(session_id)?;
        let detail = self
            .lock_mirror()
            .order_detail(self.mode(), session_id)?
            .ok_or_else(|| GatewayError::NotAFluxStoreObject {
                id: session_id.to_owned(),
            })?;
        let o = detail.order;
        let paid = !matches!(o.status, OrderStatus::Pending | OrderStatus::Failed);
        let mut disputes: Vec<DisputeFact> = detail
            .disputes
            .into_iter()
            .map(|d| DisputeFact {
                id: d.id,
                status: d.status,
            })
            .collect();
        disputes.sort_by(|a, b| a.id.cmp(&b.id));
        let facts = OrderFacts {
            paid,
            amount_refunded: o.amount_refunded,
            disputes,
        };
        Ok((o, facts))
    }

    /// What Stripe says now about an order's PaymentIntent, charge, refunds and disputes.
    async fn stripe_facts(
        &self,
        order: &fluxstore_mirror::Order,
    ) -> Result<StripeSays, GatewayError> {
        let pi = match &order.payment_intent_id {
            Some(id) => Some(self.payment_intent(id).await?),
            None => None,
        };
        let charge_id = pi
            .as_ref()
            .and_then(|p| s(p, "latest_charge"))
            .or_else(|| {
                pi.as_ref()
                    .and_then(|p| p.pointer("/charges/data/0/id"))
                    .and_then(Value::as_str)
                    .map(str::to_owned)
            })
            .or_else(|| order.charge_id.clone());
        let charge = match &charge_id {
            Some(id) => Some(self.charge(id).await?),
            None => None,
        };
        let mut refunds = Vec::new();
        let mut disputes = Vec::new();
        if let Some(ch) = &charge_id {
            self.guard_payment(ch)?;
            for (path, out) in [
                ("/v1/refunds", &mut refunds),
                ("/v1/disputes", &mut disputes),
            ] {
                let mut call = Call::get(path).object(ch);
                let mut q = Form::new();
                q.push("charge", ch).push("limit", 100);
                call.query = q;
                *out = list_data(&self.send(call).await?);
            }
        }
        let refunds: Vec<RefundFact> = refunds
            .iter()
            .map(|r| RefundFact {
                id: s(r, "id").unwrap_or_default(),
                amount: r.get("amount").and_then(Value::as_i64).unwrap_or(0),
                status: s(r, "status").unwrap_or_default(),
                created: r.get("created").and_then(Value::as_i64).unwrap_or(0),
            })
            .collect();
        let mut disputes: Vec<DisputeFact> = disputes
            .iter()
            .map(|d| DisputeFact {
                id: s(d, "id").unwrap_or_default(),
                status: s(d, "status").unwrap_or_default(),
            })
            .collect();
        disputes.sort_by(|a, b| a.id.cmp(&b.id));
        let pi_status = pi.as_ref().and_then(|p| s(p, "status"));
        let charge_status = charge.as_ref().and_then(|c| s(c, "status"));
        let paid = pi_status.as_deref() == Some("succeeded")
            || (charge_status.as_deref() == Some("succeeded")
                && charge
                    .as_ref()
                    .and_then(|c| c.get("paid"))
                    .and_then(Value::as_bool)
                    != Some(false));
        let amount_refunded = charge
            .as_ref()
            .and_then(|c| c.get("amount_refunded"))
            .and_then(Value::as_i64)
            .unwrap_or(0);
        Ok(StripeSays {
            payment_intent_id: order.payment_intent_id.clone(),
            payment_intent_status: pi_status,
            charge_id,
            charge_status,
            refunds,
            facts: OrderFacts {
                paid,
                amount_refunded,
                disputes,
            },
        })
    }

    /// "Look it up on Stripe's side": fetch the order's current PaymentIntent, charge,
    /// refunds and disputes, compare them with the mirror and, when they differ, heal the
    /// mirror from the events Stripe kept since the order was created.
    pub async fn lookup_order(
        &self,
        session_id: &str,
        cancel: &CancelToken,
    ) -> Result<LookupReport, GatewayError> {
        let (order, mirror) = self.mirror_facts(session_id)?;
        if order.payment_intent_id.is_none() && order.charge_id.is_none() {
            return Err(GatewayError::invalid(
                "This order has no payment at Stripe yet, so there is nothing to look up. It changes once the buyer pays.",
            ));
        }
        let stripe = self.stripe_facts(&order).await?;
        let currency = order.currency.as_deref();
        let diff = differences(&stripe.facts, &mirror, currency);
        let healed = if diff.is_empty() {
            None
        } else {
            let opts = SyncOptions {
                max_pages: HEAL_PAGES,
                ..SyncOptions::default()
            };
            let applied = self
                .ingest_events_since(order.created - 1, &opts, cancel)
                .await?;
            let (_, after) = self.mirror_facts(session_id)?;
            Some(Healed {
                events_applied: applied,
                differences: differences(&stripe.facts, &after, currency),
                mirror: after,
            })
        };
        Ok(LookupReport {
            session_id: order.session_id,
            stripe,
            mirror,
            differences: diff,
            healed,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn differences_are_told_in_words_with_money_as_people_read_it() {
        let mirror = OrderFacts {
            paid: true,
            amount_refunded: 0,
            disputes: vec![],
        };
        let stripe = OrderFacts {
            amount_refunded: 12_340,
            disputes: vec![DisputeFact {
                id: "du_1".into(),
                status: "needs_response".into(),
            }],
            ..mirror.clone()
        };
        let d = differences(&stripe, &mirror, Some("kwd"));
        assert_eq!(d.len(), 2, "{d:?}");
        assert!(d[0].contains("12.340 KWD"), "{d:?}");
        assert!(d[1].contains("du_1"), "{d:?}");
        assert!(differences(&mirror, &mirror, Some("usd")).is_empty());
        assert_eq!(money(1500, Some("jpy")), "1500 JPY");
        assert_eq!(money(2500, Some("usd")), "25.00 USD");
    }

    #[test]
    fn line_items_read_stripes_item_object() {
        let v = serde_json::json!({"id": "li_1", "object": "item", "amount_subtotal": 900,
            "amount_total": 900, "currency": "eur", "description": "VIP Rank", "quantity": 1,
            "price": {"id": "price_1", "product": "prod_1"}});
        let li = line_item(&v).unwrap();
        assert_eq!(li.product_id.as_deref(), Some("prod_1"));
        assert_eq!(li.price_id.as_deref(), Some("price_1"));
        assert!(line_item(&serde_json::json!({"id": "li_2"})).is_err());
    }
}
