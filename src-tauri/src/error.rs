//! How every command fails across IPC: `{code, message}`.
//!
//! Invariant: `code` is one of a small closed set the UI branches on; `message` is written for
//! a store owner and never carries a secret, a path, SQL or a stack trace — those go to the log,
//! at the point of mapping, with the command's span.
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use fluxstore_gateway::ProfileError;
use fluxstore_gateway::error::GatewayError;
use fluxstore_gateway::oauth::OAuthError;
use fluxstore_mirror::MirrorError;

/// The codes the UI branches on. Closed on purpose: a new code is a UI change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// Stripe, the Connect service or the FluxStore hub cannot be reached (or will not answer
    /// now); nothing changed.
    Offline,
    /// A pasted key or secret failed validation (the message says which and why).
    InvalidKey,
    /// Input the app refused before sending anything (a bad address, an amount out of range):
    /// the owner's to fix, not Stripe's answer.
    InvalidInput,
    /// The OS keyring is locked, missing or unreachable; nothing stored.
    KeyringUnavailable,
    /// The command needs a connection in that mode.
    NotConnected,
    /// The order or dispute is not in this mode's mirror.
    NotFound,
    /// Stripe answered with an error (the message is Stripe's, in owner words).
    StripeError,
    /// The app will not do it (e.g. a refund above what remains, not a FluxStore order).
    Refused,
    /// The owner or a timeout ended a long operation.
    Cancelled,
    /// Anything else; the details are in the log.
    Internal,
}

/// The error every command returns.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, thiserror::Error)]
#[error("{message}")]
pub struct IpcError {
    pub code: ErrorCode,
    pub message: String,
}

pub type IpcResult<T> = Result<T, IpcError>;

const LOG_HINT: &str = "The details are in the app log.";

impl IpcError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> IpcError {
        IpcError {
            code,
            message: message.into(),
        }
    }

    pub fn not_found(what: &str) -> IpcError {
        IpcError::new(
            ErrorCode::NotFound,
            format!("{what} is not in this mode's mirror. Check the test/live switch."),
        )
    }

    pub fn internal(context: &str, detail: &dyn std::fmt::Display) -> IpcError {
        tracing::error!(%detail, "{context}");
        IpcError::new(ErrorCode::Internal, format!("{context}. {LOG_HINT}"))
    }
}

impl From<MirrorError> for IpcError {
    fn from(e: MirrorError) -> IpcError {
        tracing::error!(error = %e, "mirror query failed");
        let message = match e {
            MirrorError::StorageFull => {
                "The local mirror could not be written because the disk is full. Free some space and try again."
            }
            MirrorError::ReadOnly => {
                "The local mirror is read-only. Check the permissions of the app's data folder."
            }
            MirrorError::Busy => "The local mirror is busy. Try again in a moment.",
            _ => "The local mirror could not be read. The details are in the app log.",
        };
        IpcError::new(ErrorCode::Internal, message)
    }
}

impl From<GatewayError> for IpcError {
    fn from(e: GatewayError) -> IpcError {
        // The gateway's messages are already the owner's words and never hold a secret.
        tracing::warn!(code = e.code(), error = %e, "gateway call failed");
        let code = match &e {
            GatewayError::InvalidKey | GatewayError::Key(_) => ErrorCode::InvalidKey,
            GatewayError::Invalid { .. } => ErrorCode::InvalidInput,
            GatewayError::Offline | GatewayError::Timeout => ErrorCode::Offline,
            GatewayError::NotAFluxStoreObject { .. } | GatewayError::BadId(_) => ErrorCode::Refused,
            GatewayError::NoKey { .. } => ErrorCode::NotConnected,
            GatewayError::Cancelled => ErrorCode::Cancelled,
            GatewayError::Keyring(_) => ErrorCode::KeyringUnavailable,
            GatewayError::Mirror(inner) => {
                tracing::error!(error = %inner, "mirror failed under a gateway call");
                return IpcError::new(
                    ErrorCode::Internal,
                    format!("The local mirror failed. {LOG_HINT}"),
                );
            }
            _ => ErrorCode::StripeError,
        };
        IpcError::new(code, e.to_string())
    }
}

impl From<ProfileError> for IpcError {
    fn from(e: ProfileError) -> IpcError {
        let code = match &e {
            ProfileError::Gateway(_) | ProfileError::Mirror(_) => {
                return match e {
                    ProfileError::Gateway(g) => IpcError::from(g),
                    ProfileError::Mirror(m) => IpcError::from(m),
                    _ => unreachable!("matched above"),
                };
            }
            ProfileError::NotConnected { .. } | ProfileError::Disconnected { .. } => {
                ErrorCode::NotConnected
            }
            ProfileError::Invalid(_) => ErrorCode::InvalidInput,
            ProfileError::Refused(_) => ErrorCode::Refused,
            ProfileError::Hub(_) => ErrorCode::Offline,
            ProfileError::OrderNotFound(_) => ErrorCode::NotFound,
            ProfileError::OAuth(OAuthError::Cancelled | OAuthError::TimedOut { .. }) => {
                ErrorCode::Cancelled
            }
            ProfileError::OAuth(OAuthError::ServiceUnreachable { .. }) => ErrorCode::Offline,
            ProfileError::OAuth(OAuthError::Bind(_) | OAuthError::BadServiceUrl) => {
                ErrorCode::InvalidInput
            }
            ProfileError::OAuth(_) => ErrorCode::StripeError,
            ProfileError::Keyring(_) => ErrorCode::KeyringUnavailable,
            ProfileError::Inconsistent(_) | ProfileError::Interrupted => {
                return IpcError::internal("The operation failed", &e);
            }
        };
        tracing::warn!(code = e.code(), error = %e, "store profile call failed");
        IpcError::new(code, e.to_string())
    }
}
