//! Refunds, made so that a double click can never refund twice, a retry after a failed
//! refund is a new refund, and a refund Stripe accepted is never reported as not done.
//!
//! Invariants:
//! - The `Idempotency-Key` is derived from what the owner asked for (payment, amount,
//!   reason), how much of the order is refunded and how many of its refunds failed or were
//!   canceled, as the mirror knows them. Two identical clicks before the first completes send
//!   the same key, so Stripe answers the second with the first's result. Once a refund lands,
//!   the refunded amount moves on; once one fails, the count of failed refunds moves on: either
//!   way the next deliberate refund gets a fresh key instead of Stripe's replay of the old one.
//! - Once Stripe accepted the refund (`POST /v1/refunds` answered), the refund is done: it is
//!   recorded in the mirror from the refund object itself, as a synthetic `refund.created`
//!   event (source `api`) tied to the order it was made for, and reported as done. Reading
//!   the charge back (a synthetic `charge.refunded`) is a bonus: when that read fails, or the
//!   charge belongs to another payment, the order catches up at the next sync, and the outcome
//!   says so. Nothing from a foreign charge is recorded, so it can never become an "order".

use fluxstore_mirror::{IngestOutcome, Order, Source};
use serde::Serialize;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::client::{Call, STRIPE_VERSION, StripeClient, unix_now};
use crate::error::GatewayError;
use crate::form::Form;
use crate::guard::{ObjectKind, kind_of};

/// Why a refund is made, as Stripe takes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum RefundReason {
    Duplicate,
    Fraudulent,
    RequestedByCustomer,
}

impl RefundReason {
    pub fn as_str(self) -> &'static str {
        match self {
            RefundReason::Duplicate => "duplicate",
            RefundReason::Fraudulent => "fraudulent",
            RefundReason::RequestedByCustomer => "requested_by_customer",
        }
    }
    pub fn parse(s: &str) -> Result<RefundReason, GatewayError> {
        match s.trim() {
            "duplicate" => Ok(RefundReason::Duplicate),
            "fraudulent" => Ok(RefundReason::Fraudulent),
            "requested_by_customer" => Ok(RefundReason::RequestedByCustomer),
            _ => Err(GatewayError::invalid(
                "The refund reason must be duplicate, fraudulent or requested_by_customer.",
            )),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefundRequest {
    /// `pi_…` or `ch_…` of a FluxStore order.
    pub payment: String,
    /// Minor units; None refunds what is left.
    pub amount: Option<i64>,
    pub reason: Option<RefundReason>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RefundOutcome {
    pub refund_id: String,
    /// Stripe's refund status (`succeeded`, `pending`, …; open set).
    pub status: String,
    pub amount: i64,
    pub currency: String,
    /// The charge refunded, as recorded on the order.
    pub charge_id: Option<String>,
    pub idempotency_key: String,
    /// What the mirror made of the refund itself (the synthetic `refund.created` event).
    pub recorded: IngestOutcome,
    /// Set when the order could not be brought fully up to date at once: what happened, in
    /// the owner's words. The refund is done either way; the order catches up at the next sync.
    pub catching_up: Option<String>,
}

/// The idempotency key of a refund request, given how much the order had refunded already
/// and how many of its refunds had failed or were canceled.
pub fn refund_idempotency_key(req: &RefundRequest, already_refunded: i64, voided: usize) -> String {
    let mut h = Sha256::new();
    let amount = req
        .amount
        .map_or_else(|| "rest".to_owned(), |a| a.to_string());
    let reason = req.reason.map_or("none", RefundReason::as_str);
    h.update(format!(
        "refund\n{}\n{amount}\n{reason}\n{already_refunded}\n{voided}",
        req.payment
    ));
    format!("fluxstore-refund-{}", &hex::encode(h.finalize())[..40])
}

impl StripeClient {
    /// `POST /v1/refunds` for a FluxStore order's payment, then record it in the mirror.
    pub async fn refund(&self, req: &RefundRequest) -> Result<RefundOutcome, GatewayError> {
        if let Some(a) = req.amount
            && a <= 0
        {
            return Err(GatewayError::invalid(
                "The refund amount must be a positive number of the currency's smallest unit.",
            ));
        }
        let order = self.guard_payment(&req.payment)?;
        let voided = self
            .lock_mirror()
            .order_refunds(&order.session_id)?
            .iter()
            .filter(|r| r.is_void())
            .count();
        let key = refund_idempotency_key(req, order.amount_refunded, voided);
        let mut body = Form::new();
        match kind_of(&req.payment)? {
            ObjectKind::PaymentIntent => body.push("payment_intent", &req.payment),
            _ => body.push("charge", &req.payment),
        };
        body.push_opt("amount", req.amount)
            .push_opt("reason", req.reason.map(RefundReason::as_str));
        let refund = self
            .send(Call::post("/v1/refunds", body, Some(key.clone())).object(&req.payment))
            .await?;

        // Stripe accepted the refund: from here on it is done, whatever else fails.
        let refund_id = str_field(&refund, "id")
            .ok_or_else(|| GatewayError::UnexpectedResponse("the refund has no id".to_owned()))?;
        let refund = self.on_order(refund, &order, &req.payment);
        let created = unix_now().max(refund.get("created").and_then(Value::as_i64).unwrap_or(0));
        let account = self.config().stripe_account.as_deref();
        let event = synthetic_refund_created(&refund, order.mode.is_live(), created, account);
        let recorded = self.record(&event)?;
        let charge_id = str_field(&refund, "charge");
        let catching_up = match self.read_charge_back(charge_id.as_deref(), &order).await {
            Ok(charge) => {
                let mut event = synthetic_charge_refunded(&refund_id, &charge, account);
                // Never older than the refund it follows (this computer's clock may lag).
                event["created"] = json!(created);
                self.record(&event).err().map(|e| {
                    tracing::warn!(error = %e, refund = %refund_id, "the refunded charge could not be recorded");
                    CATCHING_UP.to_owned()
                })
            }
            Err(why) => {
                tracing::warn!(reason = %why, refund = %refund_id, "the refunded charge was not read back");
                Some(CATCHING_UP.to_owned())
            }
        };
        Ok(RefundOutcome {
            refund_id,
            status: str_field(&refund, "status").unwrap_or_else(|| "unknown".to_owned()),
            amount: refund.get("amount").and_then(Value::as_i64).unwrap_or(0),
            currency: str_field(&refund, "currency").unwrap_or_default(),
            charge_id,
            idempotency_key: key,
            recorded,
            catching_up,
        })
    }

    fn record(&self, event: &Value) -> Result<IngestOutcome, GatewayError> {
        let raw = serde_json::to_vec(event)
            .map_err(|e| GatewayError::UnexpectedResponse(e.to_string()))?;
        Ok(self.lock_mirror().ingest(&raw, Source::Api)?)
    }

    /// Whose payment `id` (a PaymentIntent or Charge) is, as the mirror knows it.
    fn owner_of(&self, id: &str, order: &Order) -> Owner {
        match self.lock_mirror().order_for_payment(id) {
            Ok(Some(o)) if o.session_id == order.session_id => Owner::ThisOrder,
            Ok(None) => Owner::Unknown,
            _ => Owner::Other,
        }
    }

    /// The refund tied to the order it was made for. Stripe refunds exactly the payment it is
    /// asked to; an answer whose `payment_intent` or `charge` is empty, or names a payment of
    /// another order (a mock server's canned object), is recorded with the order's own ids
    /// instead, so it lands on this order and never makes a new one.
    fn on_order(&self, mut refund: Value, order: &Order, asked: &str) -> Value {
        let pi = str_field(&refund, "payment_intent");
        let pi_ok = pi
            .as_deref()
            .is_some_and(|id| self.owner_of(id, order) == Owner::ThisOrder);
        if !pi_ok {
            if pi.is_some() {
                tracing::warn!(
                    asked,
                    "Stripe's refund names another PaymentIntent; recorded on the order it was made for"
                );
            }
            refund["payment_intent"] = json!(order.payment_intent_id);
        }
        // A charge the mirror has not seen yet is the order's when it came with the order's
        // own PaymentIntent.
        let charge = str_field(&refund, "charge");
        let charge_ok = charge
            .as_deref()
            .is_some_and(|id| match self.owner_of(id, order) {
                Owner::ThisOrder => true,
                Owner::Unknown => pi_ok,
                Owner::Other => false,
            });
        if !charge_ok {
            if charge.is_some() {
                tracing::warn!(
                    asked,
                    "Stripe's refund names another charge; recorded on the order it was made for"
                );
            }
            refund["charge"] = json!(order.charge_id);
        }
        refund
    }

    /// `GET /v1/charges/{id}` of the refunded charge, only if it is the order's own.
    async fn read_charge_back(
        &self,
        charge_id: Option<&str>,
        order: &Order,
    ) -> Result<Value, String> {
        let ch = charge_id.ok_or("the refund names no charge")?;
        let charge = self
            .send(Call::get(format!("/v1/charges/{ch}")).object(ch))
            .await
            .map_err(|e| e.to_string())?;
        let same_id = str_field(&charge, "id").as_deref() == Some(ch);
        let pi = str_field(&charge, "payment_intent");
        let same_payment = match (&pi, &order.payment_intent_id) {
            (Some(named), Some(ours)) => named == ours,
            (Some(_), None) => false,
            (None, _) => true,
        };
        if same_id && same_payment {
            Ok(charge)
        } else {
            Err("the charge Stripe returned belongs to another payment".to_owned())
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Owner {
    ThisOrder,
    Other,
    Unknown,
}

/// What the owner reads when the order could not be brought fully up to date at once.
const CATCHING_UP: &str = "Stripe accepted the refund and it is recorded on the order, but the payment could not be read back from Stripe just now; the order catches up at the next sync.";

fn str_field(v: &Value, k: &str) -> Option<String> {
    v.get(k).and_then(Value::as_str).map(str::to_owned)
}

/// A `refund.created` event carrying the refund as recorded on the order. Its id derives
/// from the refund's, so recording the same refund twice is a duplicate; it sorts before the
/// refund's `charge.refunded` of the same second, so an order's timeline reads in the order
/// things happened.
pub fn synthetic_refund_created(
    refund: &Value,
    livemode: bool,
    created: i64,
    account: Option<&str>,
) -> Value {
    let id = refund.get("id").and_then(Value::as_str).unwrap_or_default();
    json!({
        "id": format!("evt_fluxstore_api_{id}"),
        "object": "event",
        "type": "refund.created",
        "api_version": STRIPE_VERSION,
        "created": created,
        "livemode": livemode,
        "account": account,
        "pending_webhooks": 0,
        "request": {"id": null, "idempotency_key": null},
        "data": {"object": refund},
    })
}

/// A `charge.refunded` event carrying the charge as Stripe returned it after the refund.
/// Its id derives from the refund's, so recording the same refund twice is a duplicate.
pub fn synthetic_charge_refunded(refund_id: &str, charge: &Value, account: Option<&str>) -> Value {
    json!({
        "id": format!("evt_fluxstore_api_{refund_id}_charge"),
        "object": "event",
        "type": "charge.refunded",
        "api_version": STRIPE_VERSION,
        "created": unix_now(),
        "livemode": charge.get("livemode").and_then(Value::as_bool).unwrap_or(false),
        "account": account,
        "pending_webhooks": 0,
        "request": {"id": null, "idempotency_key": null},
        "data": {"object": charge},
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_key_depends_on_the_request_the_refunded_amount_and_the_failed_refunds_only() {
        let a = RefundRequest {
            payment: "pi_1".into(),
            amount: Some(500),
            reason: None,
        };
        assert_eq!(
            refund_idempotency_key(&a, 0, 0),
            refund_idempotency_key(&a.clone(), 0, 0)
        );
        assert_ne!(
            refund_idempotency_key(&a, 0, 0),
            refund_idempotency_key(&a, 500, 0)
        );
        assert_ne!(
            refund_idempotency_key(&a, 0, 0),
            refund_idempotency_key(&a, 0, 1),
            "a retry after a failed refund is a new refund"
        );
        let b = RefundRequest {
            amount: Some(400),
            ..a.clone()
        };
        assert_ne!(
            refund_idempotency_key(&a, 0, 0),
            refund_idempotency_key(&b, 0, 0)
        );
        let c = RefundRequest {
            reason: Some(RefundReason::Duplicate),
            ..a.clone()
        };
        assert_ne!(
            refund_idempotency_key(&a, 0, 0),
            refund_idempotency_key(&c, 0, 0)
        );
        assert!(refund_idempotency_key(&a, 0, 0).len() <= 255);
    }
}
