//! Stripe objects as the API renders them (fields from the protocol reference, §3 and §5).

use serde_json::{Value, json};

/// A random Stripe-looking id: `prefix` + 24 alphanumerics.
pub fn new_id(prefix: &str) -> String {
    use rand::Rng;
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let mut rng = rand::rng();
    let tail: String = (0..24)
        .map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char)
        .collect();
    format!("{prefix}{tail}")
}

/// Now, in Unix seconds (Stripe's `created`).
pub fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaymentSpec {
    pub amount: i64,
    pub currency: String,
    pub email: String,
    pub livemode: bool,
    pub created: i64,
}

pub fn checkout_session(id: &str, pi: &str, s: &PaymentSpec) -> Value {
    json!({
        "id": id, "object": "checkout.session", "mode": "payment", "status": "complete",
        "payment_status": "paid", "payment_intent": pi, "subscription": null,
        "amount_total": s.amount, "amount_subtotal": s.amount, "currency": s.currency,
        "customer": null, "customer_email": null,
        "customer_details": {"email": s.email, "name": "Sam Buyer", "phone": null,
            "address": {"city": "Portland", "country": "US", "line1": "1 Main St", "line2": null, "postal_code": "97201", "state": "OR"},
            "tax_exempt": "none", "tax_ids": []},
        "client_reference_id": format!("order-{}", &id[id.len().saturating_sub(8)..]),
        "metadata": fluxstore_samples::shop::checkout_metadata(id, &format!("order-{}", &id[id.len().saturating_sub(8)..]), s.amount, &s.currency),
        "created": s.created,
        "expires_at": s.created + 86_400, "livemode": s.livemode, "ui_mode": "hosted_page",
        "url": null, "invoice": null
    })
}

pub fn payment_intent(id: &str, ch: &str, s: &PaymentSpec) -> Value {
    json!({
        "id": id, "object": "payment_intent", "status": "succeeded", "amount": s.amount,
        "amount_received": s.amount, "amount_capturable": 0, "currency": s.currency,
        "latest_charge": ch, "last_payment_error": null, "metadata": {}, "customer": null,
        "payment_method": format!("pm_{}", &id[3..]), "description": null, "receipt_email": s.email,
        "cancellation_reason": null, "canceled_at": null, "capture_method": "automatic_async",
        "created": s.created, "livemode": s.livemode
    })
}

pub fn charge(id: &str, pi: &str, s: &PaymentSpec) -> Value {
    json!({
        "id": id, "object": "charge", "status": "succeeded", "paid": true, "captured": true,
        "refunded": false, "amount": s.amount, "amount_captured": s.amount, "amount_refunded": 0,
        "currency": s.currency, "payment_intent": pi, "disputed": false,
        "balance_transaction": format!("txn_{}", &id[3..]),
        "outcome": {"type": "authorized", "network_status": "approved_by_network", "reason": null, "risk_level": "normal", "seller_message": "Payment complete."},
        "failure_code": null, "failure_message": null, "receipt_url": null,
        "billing_details": {"email": s.email, "name": "Sam Buyer",
            "address": {"city": "Portland", "country": "US", "line1": "1 Main St", "line2": null, "postal_code": "97201", "state": "OR"}},
        "payment_method_details": {"type": "card", "card": {"brand": "visa", "last4": "4242", "country": "US", "exp_month": 12, "exp_year": 2030, "funding": "credit"}},
        "customer": null, "metadata": {}, "created": s.created, "livemode": s.livemode
    })
}

pub fn refund(id: &str, charge: &Value, amount: i64, reason: Option<&str>, created: i64) -> Value {
    json!({
        "id": id, "object": "refund", "status": "succeeded", "amount": amount,
        "currency": charge["currency"], "charge": charge["id"],
        "payment_intent": charge["payment_intent"], "reason": reason, "failure_reason": null,
        "metadata": {}, "created": created, "balance_transaction": null
    })
}

pub fn event(
    id: &str,
    kind: &str,
    object: &Value,
    created: i64,
    livemode: bool,
    api_version: &str,
) -> Value {
    json!({
        "id": id, "object": "event", "type": kind, "api_version": api_version,
        "created": created, "livemode": livemode, "pending_webhooks": 1,
        "request": {"id": null, "idempotency_key": null},
        "data": {"object": object}
    })
}

/// The account `GET /v1/account` answers with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountSpec {
    pub id: String,
    pub charges_enabled: bool,
    pub payouts_enabled: bool,
    pub details_submitted: bool,
    pub currently_due: Vec<String>,
    pub disabled_reason: Option<String>,
}

impl Default for AccountSpec {
    fn default() -> AccountSpec {
        AccountSpec {
            id: new_id("acct_"),
            charges_enabled: true,
            payouts_enabled: true,
            details_submitted: true,
            currently_due: Vec::new(),
            disabled_reason: None,
        }
    }
}

pub fn account(a: &AccountSpec) -> Value {
    json!({
        "id": a.id, "object": "account", "type": "standard",
        "charges_enabled": a.charges_enabled, "payouts_enabled": a.payouts_enabled,
        "details_submitted": a.details_submitted,
        "requirements": {
            "currently_due": a.currently_due, "eventually_due": a.currently_due, "past_due": [],
            "pending_verification": [], "errors": [], "alternatives": [],
            "current_deadline": null, "disabled_reason": a.disabled_reason
        },
        "country": "US", "default_currency": "usd", "email": "owner@example.com",
        "business_profile": {"name": "Example Shop", "url": "https://shop.example", "support_email": null},
        "capabilities": {"card_payments": "active", "transfers": "active"},
        "created": 1_700_000_000
    })
}
