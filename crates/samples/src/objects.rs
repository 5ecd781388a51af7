//! One-time payment objects: Checkout Session, PaymentIntent, Charge, Refund, Dispute.
//!
//! Fields follow the stripe-protocol reference (§3.1–3.4) and vary with [`ApiShape`]
//! where Stripe's shapes differ (`charges` list vs `latest_charge`, `invoice` on PI and
//! Charge before basil, Checkout `ui_mode` values, `shipping_details` before basil).

use serde_json::{Value, json};

use crate::ids::{object_id, session_id};
use crate::{ApiShape, Ctx};

/// The error a declined card leaves on a PaymentIntent (`last_payment_error`).
pub const FAILED_CARD_ERROR: &str = "Your card has insufficient funds.";

/// One purchase: its ids (all derived from `n` and the mode), amount and buyer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderSpec {
    pub n: u64,
    pub session: String,
    pub payment_intent: String,
    /// The charge that succeeds (or the only one).
    pub charge: String,
    /// The declined first attempt of a retried payment.
    pub failed_charge: String,
    pub customer: String,
    pub dispute: String,
    pub currency: String,
    /// Minor units.
    pub amount: i64,
    pub email: String,
    pub name: String,
}

const FIRST: [&str; 8] = [
    "Ada", "Grace", "Linus", "Margaret", "Ken", "Barbara", "Dennis", "Frances",
];
const LAST: [&str; 8] = [
    "Lovelace", "Hopper", "Tanaka", "Hamilton", "Okafor", "Liskov", "Ritchie", "Allen",
];
const DOMAINS: [&str; 4] = [
    "example.com",
    "mail.example.org",
    "shop.example.net",
    "example.co.jp",
];

impl OrderSpec {
    pub fn new(n: u64, currency: &str, amount: i64, livemode: bool) -> OrderSpec {
        let first = FIRST[(n % 8) as usize];
        let last = LAST[((n / 8) % 8) as usize];
        let domain = DOMAINS[((n / 64) % 4) as usize];
        OrderSpec {
            n,
            session: session_id(n, livemode),
            payment_intent: object_id("pi_3Q", "pi", n, livemode, 22),
            charge: object_id("ch_3Q", "ch", n, livemode, 22),
            failed_charge: object_id("ch_3Q", "chf", n, livemode, 22),
            customer: object_id("cus_", "cus", n, livemode, 14),
            dispute: object_id("dp_1Q", "dp", n, livemode, 22),
            currency: currency.to_ascii_lowercase(),
            amount,
            email: format!(
                "{}.{}{}@{}",
                first.to_lowercase(),
                last.to_lowercase(),
                n,
                domain
            ),
            name: format!("{first} {last}"),
        }
    }

    /// The id of the `k`-th refund of this order.
    pub fn refund_id(&self, k: u32) -> String {
        object_id(
            "re_3Q",
            &format!("re{k}"),
            self.n,
            self.session.starts_with("cs_live"),
            22,
        )
    }
}

fn address() -> Value {
    json!({"city": "Springfield", "country": "US", "line1": "742 Evergreen Terrace",
           "line2": null, "postal_code": "97403", "state": "OR"})
}

/// A `checkout.session` in `payment` mode. `status`: open | complete | expired;
/// `payment_status`: paid | unpaid | no_payment_required.
pub fn checkout_session(
    o: &OrderSpec,
    status: &str,
    payment_status: &str,
    created: i64,
    ctx: &Ctx,
) -> Value {
    let ui_mode = if ctx.shape == ApiShape::Dahlia {
        "hosted_page"
    } else {
        "hosted"
    };
    let mut s = json!({
        "id": o.session,
        "object": "checkout.session",
        "after_expiration": null,
        "allow_promotion_codes": false,
        "amount_subtotal": o.amount,
        "amount_total": o.amount,
        "billing_address_collection": "auto",
        "cancel_url": "https://shop.example.com/cart",
        "client_reference_id": format!("order-{}", o.n),
        "created": created,
        "currency": o.currency,
        "customer": o.customer,
        "customer_creation": "if_required",
        "customer_details": {"address": address(), "email": o.email, "name": o.name,
                             "phone": null, "tax_exempt": "none", "tax_ids": []},
        "customer_email": null,
        "expires_at": created + 86_400,
        "invoice": null,
        "livemode": ctx.livemode,
        "locale": "auto",
        "metadata": crate::shop::checkout_metadata(&o.session, &format!("order-{}", o.n), o.amount, &o.currency),
        "mode": "payment",
        "payment_intent": o.payment_intent,
        "payment_method_types": ["card"],
        "payment_status": payment_status,
        "status": status,
        "submit_type": "pay",
        "subscription": null,
        "success_url": "https://shop.example.com/thanks?session_id={CHECKOUT_SESSION_ID}",
        "total_details": {"amount_discount": 0, "amount_shipping": 0, "amount_tax": 0},
        "ui_mode": ui_mode,
        "url": null,
    });
    if ctx.shape.is_basil_or_later() {
        s["collected_information"] = json!({"shipping_details": null});
    } else {
        s["shipping_details"] = Value::Null;
    }
    s
}

/// A `payment_intent`. `charges` are the charge objects so far, newest last: rendered as
/// `latest_charge` (2022-11-15 on) or the embedded `charges` list (before).
pub fn payment_intent(
    o: &OrderSpec,
    status: &str,
    charges: &[Value],
    failed: bool,
    created: i64,
    ctx: &Ctx,
) -> Value {
    let succeeded = status == "succeeded";
    let last_error = if failed {
        json!({"type": "card_error", "code": "card_declined", "decline_code": "insufficient_funds",
               "message": FAILED_CARD_ERROR, "param": null,
               "charge": charges.last().and_then(|c| c["id"].as_str()),
               "doc_url": "https://docs.stripe.com/error-codes/card-declined",
               "payment_method": {"id": object_id("pm_1Q", "pm", o.n, ctx.livemode, 22), "object": "payment_method", "type": "card"}})
    } else {
        Value::Null
    };
    let mut pi = json!({
        "id": o.payment_intent,
        "object": "payment_intent",
        "amount": o.amount,
        "amount_capturable": 0,
        "amount_received": if succeeded { o.amount } else { 0 },
        "application": null,
        "automatic_payment_methods": null,
        "canceled_at": null,
        "cancellation_reason": null,
        "capture_method": "automatic",
        "client_secret": null,
        "confirmation_method": "automatic",
        "created": created,
        "currency": o.currency,
        "customer": o.customer,
        "description": null,
        "last_payment_error": last_error,
        "livemode": ctx.livemode,
        "metadata": {},
        "payment_method": object_id("pm_1Q", "pm", o.n, ctx.livemode, 22),
        "payment_method_types": ["card"],
        "receipt_email": o.email,
        "status": status,
    });
    if ctx.shape.has_latest_charge() {
        pi["latest_charge"] = charges
            .last()
            .map(|c| c["id"].clone())
            .unwrap_or(Value::Null);
    } else {
        pi["charges"] = json!({"object": "list", "data": charges.iter().rev().collect::<Vec<_>>(),
                               "has_more": false, "total_count": charges.len(),
                               "url": format!("/v1/charges?payment_intent={}", o.payment_intent)});
    }
    if !ctx.shape.is_basil_or_later() {
        pi["invoice"] = Value::Null;
    }
    pi
}

/// A `charge`. `status`: succeeded | failed | pending. `amount_refunded` drives `refunded`.
pub fn charge(
    o: &OrderSpec,
    charge_id: &str,
    status: &str,
    amount_refunded: i64,
    disputed: bool,
    created: i64,
    ctx: &Ctx,
) -> Value {
    let ok = status == "succeeded";
    let mut c = json!({
        "id": charge_id,
        "object": "charge",
        "amount": o.amount,
        "amount_captured": if ok { o.amount } else { 0 },
        "amount_refunded": amount_refunded,
        "balance_transaction": if ok { json!(object_id("txn_3Q", charge_id, o.n, ctx.livemode, 22)) } else { Value::Null },
        "billing_details": {"address": address(), "email": o.email, "name": o.name, "phone": null},
        "calculated_statement_descriptor": "FLUXSTORE",
        "captured": ok,
        "created": created,
        "currency": o.currency,
        "customer": o.customer,
        "description": null,
        "disputed": disputed,
        "failure_code": if ok { Value::Null } else { json!("card_declined") },
        "failure_message": if ok { Value::Null } else { json!(FAILED_CARD_ERROR) },
        "livemode": ctx.livemode,
        "metadata": {},
        "outcome": if ok {
            json!({"network_status": "approved_by_network", "reason": null, "risk_level": "normal",
                   "seller_message": "Payment complete.", "type": "authorized"})
        } else {
            json!({"network_status": "declined_by_network", "reason": "insufficient_funds", "risk_level": "normal",
                   "seller_message": "The bank returned the decline code `insufficient_funds`.", "type": "issuer_declined"})
        },
        "paid": ok,
        "payment_intent": o.payment_intent,
        "payment_method_details": {"card": {"brand": "visa", "country": "US", "exp_month": 12, "exp_year": 2030, "last4": if ok { "4242" } else { "9995" }}, "type": "card"},
        "receipt_email": o.email,
        "receipt_url": if ok { json!(format!("https://pay.example.com/receipts/{charge_id}")) } else { Value::Null },
        "refunded": ok && amount_refunded >= o.amount,
        "status": status,
    });
    if !ctx.shape.has_latest_charge() {
        c["refunds"] = json!({"object": "list", "data": [], "has_more": false, "total_count": 0,
                              "url": format!("/v1/charges/{charge_id}/refunds")});
    }
    if !ctx.shape.is_basil_or_later() {
        c["invoice"] = Value::Null;
    }
    c
}

/// A `refund` of `amount` on the order's successful charge. `status`: pending | succeeded |
/// failed (then with Stripe's `failure_reason` for a closed card).
pub fn refund(
    o: &OrderSpec,
    refund_id: &str,
    amount: i64,
    status: &str,
    created: i64,
    ctx: &Ctx,
) -> Value {
    json!({
        "id": refund_id,
        "object": "refund",
        "amount": amount,
        "balance_transaction": object_id("txn_3Q", refund_id, o.n, ctx.livemode, 22),
        "charge": o.charge,
        "created": created,
        "currency": o.currency,
        "metadata": {},
        "payment_intent": o.payment_intent,
        "reason": "requested_by_customer",
        "receipt_number": null,
        "source_transfer_reversal": null,
        "status": status,
        "failure_reason": (status == "failed").then_some("expired_or_canceled_card"),
        "transfer_reversal": null,
    })
}

/// A `dispute` on the order's charge. `due_by` None renders 0 (no response allowed) for
/// closed disputes, as Stripe does after the deadline.
pub fn dispute(
    o: &OrderSpec,
    status: &str,
    reason: &str,
    due_by: Option<i64>,
    has_evidence: bool,
    created: i64,
    ctx: &Ctx,
) -> Value {
    json!({
        "id": o.dispute,
        "object": "dispute",
        "amount": o.amount,
        "balance_transactions": [],
        "charge": o.charge,
        "created": created,
        "currency": o.currency,
        "enhanced_eligibility_types": [],
        "evidence": {"customer_email_address": if has_evidence { json!(o.email) } else { Value::Null },
                     "product_description": if has_evidence { json!("Digital download") } else { Value::Null },
                     "uncategorized_text": null},
        "evidence_details": {"due_by": due_by.unwrap_or(0), "enhanced_eligibility": {},
                             "has_evidence": has_evidence, "past_due": false,
                             "submission_count": u32::from(has_evidence)},
        "is_charge_refundable": status == "needs_response" || status == "warning_needs_response",
        "livemode": ctx.livemode,
        "metadata": {},
        "network_reason_code": "10.4",
        "payment_intent": o.payment_intent,
        "payment_method_details": {"card": {"brand": "visa", "case_type": "chargeback", "network_reason_code": "10.4"}, "type": "card"},
        "reason": reason,
        "status": status,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payment_intent_shape_follows_the_api_version() {
        let o = OrderSpec::new(1, "usd", 1999, false);
        for shape in ApiShape::ALL {
            let ctx = Ctx::test(shape);
            let ch = charge(&o, &o.charge, "succeeded", 0, false, 10, &ctx);
            let pi = payment_intent(&o, "succeeded", &[ch], false, 10, &ctx);
            if shape.has_latest_charge() {
                assert_eq!(pi["latest_charge"], o.charge.as_str());
                assert!(pi.get("charges").is_none());
            } else {
                assert_eq!(pi["charges"]["data"][0]["id"], o.charge.as_str());
                assert!(pi.get("latest_charge").is_none());
            }
            assert_eq!(pi.get("invoice").is_some(), !shape.is_basil_or_later());
        }
    }

    #[test]
    fn charge_refunded_only_when_fully_refunded() {
        let o = OrderSpec::new(2, "jpy", 3500, true);
        let ctx = Ctx::live(ApiShape::Basil);
        assert_eq!(
            charge(&o, &o.charge, "succeeded", 1000, false, 1, &ctx)["refunded"],
            false
        );
        assert_eq!(
            charge(&o, &o.charge, "succeeded", 3500, false, 1, &ctx)["refunded"],
            true
        );
        let failed = charge(&o, &o.failed_charge, "failed", 0, false, 1, &ctx);
        assert_eq!(failed["paid"], false);
        assert_eq!(failed["failure_message"], FAILED_CARD_ERROR);
    }

    #[test]
    fn session_and_dispute_fields() {
        let o = OrderSpec::new(3, "EUR", 4500, false);
        let s = checkout_session(&o, "complete", "paid", 5, &Ctx::test(ApiShape::Dahlia));
        assert_eq!(s["currency"], "eur");
        assert_eq!(s["ui_mode"], "hosted_page");
        assert_eq!(s["customer_details"]["email"], o.email.as_str());
        assert!(s.get("collected_information").is_some());
        let d = dispute(
            &o,
            "needs_response",
            "fraudulent",
            Some(99),
            false,
            5,
            &Ctx::test(ApiShape::Legacy2024),
        );
        assert_eq!(d["evidence_details"]["due_by"], 99);
        assert_eq!(d["charge"], o.charge.as_str());
    }
}
