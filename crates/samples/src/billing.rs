//! Billing objects: Subscription and Invoice, in the legacy and basil-or-later shapes.
//!
//! Legacy: `subscription.current_period_*` at the top level, `invoice.subscription`,
//! `invoice.charge`, `invoice.payment_intent`, `invoice.paid`. Basil on: periods on
//! `items.data[]`, `invoice.parent.subscription_details.subscription`, `invoice.payments`.

use serde_json::{Value, json};

use crate::Ctx;
use crate::ids::object_id;

/// A subscription and its ids, derived from `n` and the mode.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubscriptionSpec {
    pub n: u64,
    pub id: String,
    pub item: String,
    pub price: String,
    pub customer: String,
    pub email: String,
    pub currency: String,
    /// Per period, minor units.
    pub amount: i64,
    pub livemode: bool,
}

impl SubscriptionSpec {
    pub fn new(n: u64, currency: &str, amount: i64, livemode: bool) -> SubscriptionSpec {
        SubscriptionSpec {
            n,
            id: object_id("sub_1Q", "sub", n, livemode, 22),
            item: object_id("si_", "si", n, livemode, 14),
            price: object_id("price_1Q", "price", n % 3, livemode, 22),
            customer: object_id("cus_", "subcus", n, livemode, 14),
            email: format!("member{n}@example.com"),
            currency: currency.to_ascii_lowercase(),
            amount,
            livemode,
        }
    }
    pub fn invoice_id(&self, k: u32) -> String {
        object_id("in_1Q", &format!("in{k}"), self.n, self.livemode, 22)
    }
    pub fn payment_intent_id(&self, k: u32) -> String {
        object_id("pi_3Q", &format!("inpi{k}"), self.n, self.livemode, 22)
    }
    pub fn charge_id(&self, k: u32) -> String {
        object_id("ch_3Q", &format!("inch{k}"), self.n, self.livemode, 22)
    }
}

/// A `subscription`. `status`: active | past_due | canceled | trialing | … (open enum).
pub fn subscription(
    s: &SubscriptionSpec,
    status: &str,
    period: (i64, i64),
    cancel_at_period_end: bool,
    created: i64,
    ctx: &Ctx,
) -> Value {
    let canceled = status == "canceled";
    let mut item = json!({
        "id": s.item, "object": "subscription_item", "created": created, "metadata": {},
        "price": {"id": s.price, "object": "price", "currency": s.currency, "unit_amount": s.amount,
                  "recurring": {"interval": "month", "interval_count": 1}, "type": "recurring"},
        "quantity": 1, "subscription": s.id,
    });
    let mut sub = json!({
        "id": s.id,
        "object": "subscription",
        "billing_cycle_anchor": created,
        "cancel_at": if cancel_at_period_end { json!(period.1) } else { Value::Null },
        "cancel_at_period_end": cancel_at_period_end,
        "canceled_at": if canceled || cancel_at_period_end { json!(period.0) } else { Value::Null },
        "cancellation_details": {"comment": null, "feedback": null,
                                 "reason": if canceled { json!("cancellation_requested") } else { Value::Null }},
        "collection_method": "charge_automatically",
        "created": created,
        "currency": s.currency,
        "customer": s.customer,
        "default_payment_method": object_id("pm_1Q", "subpm", s.n, s.livemode, 22),
        "ended_at": if canceled { json!(period.1) } else { Value::Null },
        "latest_invoice": s.invoice_id(0),
        "livemode": ctx.livemode,
        "metadata": {"plan": "monthly"},
        "start_date": created,
        "status": status,
        "trial_end": null,
        "trial_start": null,
    });
    if ctx.shape.is_basil_or_later() {
        item["current_period_start"] = json!(period.0);
        item["current_period_end"] = json!(period.1);
        sub["billing_mode"] = json!({"type": "classic"});
        sub["discounts"] = json!([]);
    } else {
        sub["current_period_start"] = json!(period.0);
        sub["current_period_end"] = json!(period.1);
        sub["discount"] = Value::Null;
    }
    sub["items"] = json!({"object": "list", "data": [item], "has_more": false, "total_count": 1,
                          "url": format!("/v1/subscription_items?subscription={}", s.id)});
    sub
}

/// The `k`-th invoice of a subscription (k = 0 is the first). `paid` false renders a
/// failed attempt (`status` open, `attempted`, `amount_paid` 0).
pub fn invoice(
    s: &SubscriptionSpec,
    k: u32,
    paid: bool,
    period: (i64, i64),
    created: i64,
    ctx: &Ctx,
) -> Value {
    let id = s.invoice_id(k);
    let reason = if k == 0 {
        "subscription_create"
    } else {
        "subscription_cycle"
    };
    let mut inv = json!({
        "id": id,
        "object": "invoice",
        "account_country": "US",
        "amount_due": s.amount,
        "amount_paid": if paid { s.amount } else { 0 },
        "amount_remaining": if paid { 0 } else { s.amount },
        "attempt_count": 1,
        "attempted": true,
        "billing_reason": reason,
        "collection_method": "charge_automatically",
        "created": created,
        "currency": s.currency,
        "customer": s.customer,
        "customer_email": s.email,
        "due_date": null,
        "hosted_invoice_url": format!("https://invoice.example.com/i/{id}"),
        "invoice_pdf": format!("https://invoice.example.com/i/{id}/pdf"),
        "lines": {"object": "list", "data": [], "has_more": false, "total_count": 1, "url": format!("/v1/invoices/{id}/lines")},
        "livemode": ctx.livemode,
        "metadata": {},
        "next_payment_attempt": if paid { Value::Null } else { json!(created + 3 * 86_400) },
        "number": format!("FLX-{:04}-{:04}", s.n, k + 1),
        "period_end": period.1,
        "period_start": period.0,
        "status": if paid { "paid" } else { "open" },
        "status_transitions": {"finalized_at": created, "paid_at": if paid { json!(created) } else { Value::Null }},
        "subtotal": s.amount,
        "total": s.amount,
    });
    if ctx.shape.is_basil_or_later() {
        inv["parent"] = json!({"type": "subscription_details", "quote_details": null,
                               "subscription_details": {"metadata": {"plan": "monthly"}, "subscription": s.id}});
        inv["amount_overpaid"] = json!(0);
        inv["payments"] = json!({"object": "list", "has_more": false, "url": format!("/v1/invoice_payments?invoice={id}"),
            "data": [{"id": object_id("inpay_1Q", &format!("inpay{k}"), s.n, s.livemode, 22), "object": "invoice_payment",
                      "amount_paid": if paid { json!(s.amount) } else { Value::Null }, "amount_requested": s.amount,
                      "invoice": id, "is_default": true, "livemode": ctx.livemode,
                      "payment": {"type": "payment_intent", "payment_intent": s.payment_intent_id(k)},
                      "status": if paid { "paid" } else { "open" }}]});
    } else {
        inv["subscription"] = json!(s.id);
        inv["charge"] = json!(s.charge_id(k));
        inv["payment_intent"] = json!(s.payment_intent_id(k));
        inv["paid"] = json!(paid);
        inv["paid_out_of_band"] = json!(false);
        inv["discount"] = Value::Null;
    }
    inv
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ApiShape;

    #[test]
    fn period_and_subscription_link_follow_the_api_version() {
        let s = SubscriptionSpec::new(4, "usd", 900, false);
        for shape in ApiShape::ALL {
            let ctx = Ctx::test(shape);
            let sub = subscription(&s, "active", (100, 200), false, 100, &ctx);
            let inv = invoice(&s, 0, true, (100, 200), 100, &ctx);
            if shape.is_basil_or_later() {
                assert_eq!(sub["items"]["data"][0]["current_period_end"], 200);
                assert!(sub.get("current_period_end").is_none());
                assert_eq!(
                    inv["parent"]["subscription_details"]["subscription"],
                    s.id.as_str()
                );
                assert!(inv.get("subscription").is_none());
                assert_eq!(
                    inv["payments"]["data"][0]["payment"]["payment_intent"],
                    s.payment_intent_id(0).as_str()
                );
            } else {
                assert_eq!(sub["current_period_end"], 200);
                assert_eq!(inv["subscription"], s.id.as_str());
                assert_eq!(inv["charge"], s.charge_id(0).as_str());
            }
        }
    }
}
