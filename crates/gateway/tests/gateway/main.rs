//! The gateway's integration tests: one binary, a real SQLite mirror in a temporary
//! directory, the local Stripe fake over a real socket, and (for the `keyring` module) the
//! real OS keyring.

mod common;

mod account_status;
mod checklist;
mod disputes;
mod events_sync;
mod events_sync_applied;
mod fuzz;
mod hub_feed;
mod hub_rig;
mod key_hub;
mod keyring;
mod no_secret_leaks;
mod orders;
mod profile;
mod refund_truth;
mod stripe_api;
