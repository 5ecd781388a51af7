//! Refund preconditions (product page R3, R10): what the app checks before it asks Stripe to
//! refund, the same for the window and the command line.
//!
//! Invariants: only a FluxStore order's payment is refunded (the client's privacy guard checks
//! it again before any request); a refund never asks for more than remains; an order with no
//! payment yet, or refunded in full, is refused with a reason before anything is sent.
use fluxstore_mirror::{Mode, Order};

use super::{Profile, ProfileError};
use crate::refund::{RefundOutcome, RefundReason, RefundRequest};

/// What to refund.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RefundTarget {
    /// An order, by its Checkout Session (`cs_…`) or the id it is listed under.
    Order(String),
    /// A FluxStore order's PaymentIntent or Charge (`pi_…`, `ch_…`).
    Payment(String),
}

impl Profile {
    /// Refund `amount` minor units of an order (None: all that remains).
    pub async fn refund(
        &self,
        mode: Mode,
        target: RefundTarget,
        amount: Option<i64>,
        reason: Option<RefundReason>,
    ) -> Result<RefundOutcome, ProfileError> {
        let order = self.order_for(mode, &target).await?;
        let payment = order
            .payment_intent_id
            .clone()
            .or_else(|| order.charge_id.clone())
            .ok_or_else(|| {
                ProfileError::Refused(
                    "This order has no payment yet, so there is nothing to refund.".to_owned(),
                )
            })?;
        let remaining = order.amount.unwrap_or(0) - order.amount_refunded;
        if remaining <= 0 {
            return Err(ProfileError::Refused(
                "This order has already been refunded in full.".to_owned(),
            ));
        }
        if let Some(a) = amount
            && (a <= 0 || a > remaining)
        {
            return Err(ProfileError::Invalid(format!(
                "The refund amount must be more than zero and at most what remains of the order ({remaining} in the currency's smallest unit)."
            )));
        }
        let client = self.client(mode).await?;
        Ok(client
            .refund(&RefundRequest {
                payment,
                amount,
                reason,
            })
            .await?)
    }

    async fn order_for(&self, mode: Mode, target: &RefundTarget) -> Result<Order, ProfileError> {
        let target = target.clone();
        let found = self
            .read({
                let target = target.clone();
                move |m| match &target {
                    RefundTarget::Order(id) => {
                        Ok(m.order_detail(mode, id.trim())?.map(|d| d.order))
                    }
                    RefundTarget::Payment(id) => {
                        Ok(m.order_for_payment(id.trim())?.filter(|o| o.mode == mode))
                    }
                }
            })
            .await?;
        found.ok_or_else(|| match target {
            RefundTarget::Order(id) => ProfileError::OrderNotFound(id),
            RefundTarget::Payment(id) => {
                ProfileError::Gateway(crate::GatewayError::NotAFluxStoreObject { id })
            }
        })
    }
}
