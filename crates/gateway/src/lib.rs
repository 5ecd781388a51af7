//! Stripe gateway.
