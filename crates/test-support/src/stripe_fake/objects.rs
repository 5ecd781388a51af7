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
