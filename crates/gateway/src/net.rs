//! Where the app may send a key or a token. The rule is declared once, in the wire crate the
//! desktop shares with the hosted hub and the Connect service (which apply it to their own
//! public URL and Stripe bases).
pub use fluxstore_connect_api::net::{is_loopback, sends_secrets_safely};
