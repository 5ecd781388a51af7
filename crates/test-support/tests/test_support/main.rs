//! The test support's own tests: the Stripe fake checked with plain HTTP against the protocol
//! reference, and the shared helpers checked against what they guard. One binary, modules.

mod no_secret;
mod stripe_fake;
mod stripe_fake_learn;
mod wait;
