//! What can go wrong acting on the store's connection, and whose fault it is.
//!
//! Invariant: each variant names the party at fault — the owner's input ([`ProfileError::Invalid`]),
//! the app's own rules ([`ProfileError::Refused`]), the connection's state, Stripe or the
//! Connect service (through the gateway's and OAuth's errors), the keyring, the mirror — and
//! its message says what to do, in a store owner's words, without any secret.
use fluxstore_mirror::{MirrorError, Mode};

use crate::error::GatewayError;
use crate::keystore::KeyringError;
use crate::oauth::OAuthError;

#[derive(Debug, thiserror::Error)]
pub enum ProfileError {
    #[error(
        "Stripe is not connected for {} mode yet. Connect with Stripe or enter your {} mode keys first.",
        .mode.as_str(), .mode.as_str()
    )]
    NotConnected { mode: Mode },
    /// A Connect connection that ended (deauthorized in Stripe, or its token revoked).
    #[error("{reason}")]
    Disconnected { mode: Mode, reason: String },
    /// The owner's input was refused by the app before anything was sent.
    #[error("{0}")]
    Invalid(String),
    /// The app will not do it (a rule of the app, not Stripe's answer).
    #[error("{0}")]
    Refused(String),
    #[error("The order {0} is not in this mode's mirror. Check the test/live switch.")]
    OrderNotFound(String),
    #[error("{0}")]
    Gateway(#[from] GatewayError),
    /// The FluxStore hub could not be reached or refused (its words, when it gave any).
    #[error("{0}")]
    Hub(String),
    #[error("{}", sentence(&.0.to_string()))]
    OAuth(#[from] OAuthError),
    #[error(transparent)]
    Keyring(#[from] KeyringError),
    #[error("The local mirror database failed: {0}")]
    Mirror(#[from] MirrorError),
    #[error("FluxStore's records disagree: {0}. The details are in the log.")]
    Inconsistent(&'static str),
    #[error("The operation stopped unexpectedly. Try again.")]
    Interrupted,
}

impl ProfileError {
    /// A short, stable code the UI and scripts can branch on.
    pub fn code(&self) -> &'static str {
        match self {
            ProfileError::NotConnected { .. } => "not_connected",
            ProfileError::Disconnected { .. } => "disconnected",
            ProfileError::Invalid(_) => "invalid_input",
            ProfileError::Refused(_) => "refused",
            ProfileError::OrderNotFound(_) => "not_found",
            ProfileError::Gateway(e) => e.code(),
            ProfileError::Hub(_) => "hub_unavailable",
            ProfileError::OAuth(e) => e.code(),
            ProfileError::Keyring(e) => e.code(),
            ProfileError::Mirror(_) => "mirror_error",
            ProfileError::Inconsistent(_) | ProfileError::Interrupted => "internal",
        }
    }
}

impl From<crate::keys::KeyError> for ProfileError {
    fn from(e: crate::keys::KeyError) -> ProfileError {
        ProfileError::Gateway(GatewayError::Key(e))
    }
}

/// "the connection was cancelled" → "The connection was cancelled."
fn sentence(text: &str) -> String {
    let mut chars = text.chars();
    let mut out: String = match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => return String::new(),
    };
    if !out.ends_with('.') {
        out.push('.');
    }
    out
}
