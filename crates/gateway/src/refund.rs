//! Refunds, made so that a double click or a retry can never refund twice.
//!
//! Invariants:
//! - The `Idempotency-Key` is derived from what the owner asked for (payment, amount,
//!   reason) and from how much of the order was already refunded, as the mirror knows it.
//!   Two identical clicks before the first completes send the same key, so Stripe answers the
//!   second with the first's result. Once a refund lands, the mirror's refunded amount moves
//!   on, so a deliberate second partial refund gets a fresh key.
//! - A successful refund is recorded in the mirror at once, as a synthetic `charge.refunded`
//!   event (the charge as Stripe returns it after the refund) ingested with source `api`, so
//!   the order shows refunded or partially refunded without waiting for a webhook.

use fluxstore_mirror::{IngestOutcome, Source};
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
    pub charge_id: Option<String>,
    pub idempotency_key: String,
    /// What the mirror made of the synthetic `charge.refunded` event.
    pub recorded: IngestOutcome,
}

/// The idempotency key of a refund request, given how much the order had refunded already.
pub fn refund_idempotency_key(req: &RefundRequest, already_refunded: i64) -> String {
    let mut h = Sha256::new();
    let amount = req
        .amount
        .map_or_else(|| "rest".to_owned(), |a| a.to_string());
    let reason = req.reason.map_or("none", RefundReason::as_str);
    h.update(format!(
        "refund\n{}\n{amount}\n{reason}\n{already_refunded}",
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
        let key = refund_idempotency_key(req, order.amount_refunded);
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

        let refund_id = str_field(&refund, "id")
            .ok_or_else(|| GatewayError::UnexpectedResponse("the refund has no id".to_owned()))?;
        let charge_id = str_field(&refund, "charge").or_else(|| order.charge_id.clone());
        let charge = match &charge_id {
            Some(ch) => {
                self.send(Call::get(format!("/v1/charges/{ch}")).object(ch))
                    .await?
            }
            None => {
                return Err(GatewayError::UnexpectedResponse(
                    "the refund names no charge, so the order could not be updated".to_owned(),
                ));
            }
        };
        let event =
            synthetic_charge_refunded(&refund_id, &charge, self.config().stripe_account.as_deref());
        let raw = serde_json::to_vec(&event)
            .map_err(|e| GatewayError::UnexpectedResponse(e.to_string()))?;
        let recorded = self.lock_mirror().ingest(&raw, Source::Api)?;
        Ok(RefundOutcome {
            refund_id,
            status: str_field(&refund, "status").unwrap_or_else(|| "unknown".to_owned()),
            amount: refund.get("amount").and_then(Value::as_i64).unwrap_or(0),
            currency: str_field(&refund, "currency").unwrap_or_default(),
            charge_id,
            idempotency_key: key,
            recorded,
        })
    }
}

fn str_field(v: &Value, k: &str) -> Option<String> {
    v.get(k).and_then(Value::as_str).map(str::to_owned)
}

/// A `charge.refunded` event carrying the charge as Stripe returned it after the refund.
/// Its id derives from the refund's, so recording the same refund twice is a duplicate.
pub fn synthetic_charge_refunded(refund_id: &str, charge: &Value, account: Option<&str>) -> Value {
    json!({
        "id": format!("evt_fluxstore_api_{refund_id}"),
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
    fn the_key_depends_on_the_request_and_the_refunded_amount_only() {
        let a = RefundRequest {
            payment: "pi_1".into(),
            amount: Some(500),
            reason: None,
        };
        assert_eq!(
            refund_idempotency_key(&a, 0),
            refund_idempotency_key(&a.clone(), 0)
        );
        assert_ne!(
            refund_idempotency_key(&a, 0),
            refund_idempotency_key(&a, 500)
        );
        let b = RefundRequest {
            amount: Some(400),
            ..a.clone()
        };
        assert_ne!(refund_idempotency_key(&a, 0), refund_idempotency_key(&b, 0));
        let c = RefundRequest {
            reason: Some(RefundReason::Duplicate),
            ..a.clone()
        };
        assert_ne!(refund_idempotency_key(&a, 0), refund_idempotency_key(&c, 0));
        assert!(refund_idempotency_key(&a, 0).len() <= 255);
    }
}
