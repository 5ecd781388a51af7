//! Realistic Stripe event payloads.
