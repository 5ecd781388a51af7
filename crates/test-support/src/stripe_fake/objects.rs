//! The objects only the test fake renders (the sample store's stand-in answers no dispute);
//! the rest come from the stand-in's crate.

use serde_json::{Value, json};

pub fn dispute(id: &str, charge: &Value, reason: &str, created: i64) -> Value {
    json!({
        "id": id, "object": "dispute", "status": "needs_response", "reason": reason,
        "amount": charge["amount"], "currency": charge["currency"], "charge": charge["id"],
        "payment_intent": charge["payment_intent"], "is_charge_refundable": true,
        "evidence_details": {"due_by": created + 7 * 86_400, "has_evidence": false, "past_due": false, "submission_count": 0},
        "balance_transactions": [], "metadata": {}, "created": created, "livemode": charge["livemode"]
    })
}

/// Stripe's `previous_attributes` of an update: for each top-level field that changed, its
/// old value (a changed sub-object whole, as Stripe renders changed sub-arrays since 2017).
pub fn changed_fields(before: &Value, after: &Value) -> Value {
    let mut prev = serde_json::Map::new();
    if let (Some(b), Some(a)) = (before.as_object(), after.as_object()) {
        for (k, old) in b {
            if a.get(k) != Some(old) {
                prev.insert(k.clone(), old.clone());
            }
        }
    }
    Value::Object(prev)
}
