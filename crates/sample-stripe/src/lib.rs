//! The sample store's Stripe stand-in: a small local server that plays Stripe's API for the
//! sample store's own test-mode account, so account status and refunds can be tried on
//! sample orders with nothing leaving the machine.
//!
//! It behaves like Stripe for what it answers and answers no more than the sample store
//! uses: Stripe's wire format (form-encoded parameters, Stripe's error object and status
//! codes, list paging, idempotent POSTs replayed), one random per-session key and no fixed
//! one. Its parts (the objects as Stripe renders them, parameter parsing, the ledger of
//! objects and events, idempotency) are also what the test suites' fuller Stripe fake is
//! built from, so both speak the same wire format from one source.

mod events;
mod idempotency;
mod learn;
mod ledger;
mod lists;
pub use lists::page as list_page;
pub mod disputes;
pub mod objects;
mod params;
mod standin;
pub mod wire;

pub use events::RETENTION_SECS;
pub use idempotency::Idempotency;
pub use ledger::{Ledger, SeededPayment};
pub use objects::{AccountSpec, PaymentSpec, new_id, now};
pub use params::{ApiError, Params};
pub use standin::{EVENT_API_VERSION, SampleStripe};
