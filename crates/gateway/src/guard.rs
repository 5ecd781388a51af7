//! The privacy guard: "we only look at data that belongs to a FluxStore order".
//!
//! Invariant: a refund or a lookup by id is sent to Stripe only for a FluxStore order (a
//! Checkout Session of the store, narrowed by the owner's marker), a PaymentIntent or Charge
//! the mirror ties to one, or a dispute of one. Other payments on the account (no Checkout
//! Session) have no such tie in the mirror. Everything else is refused here, before any
//! request exists.

use fluxstore_mirror::{Dispute, Mode, Order};

use crate::client::StripeClient;
use crate::error::GatewayError;
use crate::secret::redact_secrets;

/// What kind of object an id names, by Stripe's prefix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ObjectKind {
    Session,
    PaymentIntent,
    Charge,
    Dispute,
}

pub fn kind_of(id: &str) -> Result<ObjectKind, GatewayError> {
    let ok_chars = id.len() > 3 && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    let kind = if id.starts_with("cs_") {
        Some(ObjectKind::Session)
    } else if id.starts_with("pi_") {
        Some(ObjectKind::PaymentIntent)
    } else if id.starts_with("ch_") || id.starts_with("py_") {
        Some(ObjectKind::Charge)
    } else if id.starts_with("dp_") || id.starts_with("du_") {
        Some(ObjectKind::Dispute)
    } else {
        None
    };
    match kind {
        Some(k) if ok_chars => Ok(k),
        // Redacted: an owner may paste a key where an id belongs.
        _ => Err(GatewayError::BadId(redact_secrets(id))),
    }
}

impl StripeClient {
    /// The order a payment (PaymentIntent or Charge) belongs to, or a refusal.
    pub fn guard_payment(&self, id: &str) -> Result<Order, GatewayError> {
        match kind_of(id)? {
            ObjectKind::PaymentIntent | ObjectKind::Charge => {}
            ObjectKind::Session | ObjectKind::Dispute => {
                return Err(GatewayError::BadId(id.to_owned()));
            }
        }
        let order = self.lock_mirror().order_for_payment(id)?;
        let order = order.ok_or_else(|| GatewayError::NotAFluxStoreObject { id: id.to_owned() })?;
        self.same_mode(id, order.mode)?;
        Ok(order)
    }

    /// The order of a Checkout Session id (`cs_…`), or a refusal.
    pub fn guard_order(&self, session_id: &str) -> Result<Order, GatewayError> {
        if kind_of(session_id)? != ObjectKind::Session {
            return Err(GatewayError::BadId(session_id.to_owned()));
        }
        let order = self.lock_mirror().order_for_payment(session_id)?;
        let order = order.ok_or_else(|| GatewayError::NotAFluxStoreObject {
            id: session_id.to_owned(),
        })?;
        self.same_mode(session_id, order.mode)?;
        Ok(order)
    }

    /// The mirror's dispute row for `id`, or a refusal. The queue holds disputes of orders
    /// and of subscription renewals only (a payment outside the checkout keeps none); one of
    /// a session the owner's marker leaves out is refused too.
    pub fn guard_dispute(&self, id: &str) -> Result<Dispute, GatewayError> {
        if kind_of(id)? != ObjectKind::Dispute {
            return Err(GatewayError::BadId(id.to_owned()));
        }
        let mode = self.mode();
        let mirror = self.lock_mirror();
        let found = mirror.disputes(mode)?.into_iter().find(|d| d.id == id);
        let of_an_order = match found.as_ref().and_then(|d| d.order_session_id.as_deref()) {
            Some(key) => mirror.order_for_payment(key)?.is_some(),
            None => found.is_some(),
        };
        found
            .filter(|_| of_an_order)
            .ok_or_else(|| GatewayError::NotAFluxStoreObject { id: id.to_owned() })
    }

    fn same_mode(&self, id: &str, mode: Mode) -> Result<(), GatewayError> {
        if mode == self.mode() {
            Ok(())
        } else {
            // A test-mode order looked up with a live key (or the reverse) would only
            // reach the wrong data set at Stripe.
            Err(GatewayError::NotAFluxStoreObject { id: id.to_owned() })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_classified_by_prefix_and_keys_are_never_echoed() {
        assert_eq!(kind_of("pi_123").unwrap(), ObjectKind::PaymentIntent);
        assert_eq!(kind_of("cs_test_123").unwrap(), ObjectKind::Session);
        assert_eq!(kind_of("ch_123").unwrap(), ObjectKind::Charge);
        assert_eq!(kind_of("du_123").unwrap(), ObjectKind::Dispute);
        let e = kind_of("sk_live_abcdefgh").unwrap_err();
        assert!(!e.to_string().contains("abcdefgh"), "{e}");
        assert!(kind_of("pi_1/../../v1/account").is_err());
        assert!(kind_of("cus_1").is_err());
    }
}
