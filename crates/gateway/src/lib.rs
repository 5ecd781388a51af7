//! Everything the app asks Stripe: key validation, secrets in the OS keyring, the one
//! outbound Stripe client (retries, audit rows, privacy guard), refunds, the webhook
//! endpoint, events sync into the mirror, and the store profile that owns the connection
//! (which both the desktop shell and the CLI act through). Tauri-free.

pub mod account;
pub mod api;
pub mod client;
pub mod dispute;
pub mod error;
pub mod events;
pub mod form;
pub mod guard;
pub mod keys;
pub mod keystore;
pub mod net;
pub mod oauth;
pub mod orders;
pub mod profile;
pub mod refund;
pub mod secret;
pub mod sync;
pub mod webhook;

pub use account::AccountRefresh;
pub use api::{AccountStatus, Requirements};
pub use client::{ClientConfig, Credential, STRIPE_VERSION, StripeClient};
pub use dispute::SubmitOutcome;
pub use error::GatewayError;
pub use fluxstore_mirror::AppliedEvent;
pub use keys::{ApiKey, KeyError, ManualKeys, PublishableKey, WebhookSecret};
pub use keystore::{SecretKind, SecretSlot, SecretStore};
pub use orders::{DisputeFact, Healed, LookupReport, OrderFacts, RefundFact, StripeSays};
pub use profile::{Profile, ProfileConfig, ProfileError};
pub use refund::{RefundOutcome, RefundReason, RefundRequest};
pub use secret::Secret;
pub use sync::{CancelToken, SyncOptions, SyncProgress, SyncReport};
