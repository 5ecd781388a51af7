//! The gateway's one error type: what went wrong talking to Stripe, in the owner's words.
//!
//! Invariant: no variant carries a key, token or request body. Text that came from Stripe is
//! passed through [`crate::secret::redact_secrets`] first, because Stripe quotes part of the
//! key in some messages.

use fluxstore_mirror::MirrorError;

use crate::keys::KeyError;
use crate::keystore::KeyringError;

#[derive(Debug, thiserror::Error)]
pub enum GatewayError {
    #[error(
        "Stripe did not accept the API key: it is wrong, or it was revoked or rolled. Create or copy a current key in the Stripe Dashboard (Developers → API keys) and enter it again."
    )]
    InvalidKey,
    #[error("{}", permission_message(.permission.as_deref()))]
    PermissionDenied { permission: Option<String> },
    #[error("The card was declined: {message}")]
    Card {
        message: String,
        decline_code: Option<String>,
    },
    #[error("Stripe has no {what} with that id in this account and mode.")]
    NotFound { what: String },
    #[error(
        "Stripe is still processing an earlier identical request. Wait a moment and try again; nothing was done twice."
    )]
    Conflict,
    #[error(
        "Stripe saw this as a repeat of an earlier request with different details and did nothing. Check the details and try again."
    )]
    IdempotencyMismatch,
    #[error("Stripe refused the request: {message}")]
    InvalidRequest {
        message: String,
        param: Option<String>,
        code: Option<String>,
    },
    #[error("Stripe is limiting how fast FluxStore may call it. Try again in a minute.")]
    RateLimited,
    #[error(
        "Stripe is having trouble right now (HTTP {status}). Try again later; if it persists, check status.stripe.com."
    )]
    StripeUnavailable { status: u16 },
    #[error("Stripe could not be reached. Check the internet connection and try again.")]
    Offline,
    #[error("Stripe did not answer in time. Check the internet connection and try again.")]
    Timeout,
    #[error("Stripe's answer could not be read ({0}).")]
    UnexpectedResponse(String),
    #[error(
        "FluxStore only looks at payments that belong to a FluxStore order, and {id} is not one of them."
    )]
    NotAFluxStoreObject { id: String },
    #[error("{0} is not a payment, charge or dispute id (they start with pi_, ch_, dp_ or du_).")]
    BadId(String),
    #[error(
        "No API key is stored for the {mode} mode of store \"{account}\". Enter your keys first (fluxstore keys set)."
    )]
    NoKey { account: String, mode: &'static str },
    #[error("Stopped before the end, as asked.")]
    Cancelled,
    #[error(transparent)]
    Key(#[from] KeyError),
    #[error(transparent)]
    Keyring(#[from] KeyringError),
    #[error("The local mirror database failed: {0}")]
    Mirror(#[from] MirrorError),
}

fn permission_message(permission: Option<&str>) -> String {
    match permission {
        Some(p) => format!(
            "The restricted key lacks the permission this needs ({p}). In the Stripe Dashboard (Developers → API keys), edit the key and grant it, then try again."
        ),
        None => "The restricted key lacks a permission this needs. In the Stripe Dashboard (Developers → API keys), edit the key's permissions, then try again.".to_owned(),
    }
}

impl GatewayError {
    /// A short, stable code the UI and scripts can branch on.
    pub fn code(&self) -> &'static str {
        match self {
            GatewayError::InvalidKey => "invalid_key",
            GatewayError::PermissionDenied { .. } => "permission_denied",
            GatewayError::Card { .. } => "card_error",
            GatewayError::NotFound { .. } => "not_found",
            GatewayError::Conflict => "conflict",
            GatewayError::IdempotencyMismatch => "idempotency_mismatch",
            GatewayError::InvalidRequest { .. } => "invalid_request",
            GatewayError::RateLimited => "rate_limited",
            GatewayError::StripeUnavailable { .. } => "stripe_unavailable",
            GatewayError::Offline => "offline",
            GatewayError::Timeout => "timeout",
            GatewayError::UnexpectedResponse(_) => "unexpected_response",
            GatewayError::NotAFluxStoreObject { .. } => "not_a_fluxstore_object",
            GatewayError::BadId(_) => "bad_id",
            GatewayError::NoKey { .. } => "no_key",
            GatewayError::Cancelled => "cancelled",
            GatewayError::Key(_) => "invalid_key_format",
            GatewayError::Keyring(e) => e.code(),
            GatewayError::Mirror(_) => "mirror_error",
        }
    }
}
