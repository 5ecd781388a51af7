//! The gateway's one error type: what went wrong talking to Stripe, in the owner's words.
//!
//! Invariant: no variant carries a key, token or request body. Text that came from Stripe is
//! passed through [`crate::secret::redact_secrets`] first, because Stripe quotes part of the
//! key in some messages.

use fluxstore_mirror::MirrorError;
use reqwest::StatusCode;
use serde_json::Value;

use crate::keys::KeyError;
use crate::keystore::KeyringError;
use crate::secret::redact_secrets;

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
    /// Input the app refused before sending anything (a bad URL, an unreadable key file, a
    /// wrong flag): the owner's to fix, not Stripe's answer.
    #[error("{message}")]
    Invalid { message: String },
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
        "FluxStore only looks at payments that belong to a FluxStore order, and {id} is not one of them: it may be a payment made outside your FluxStore checkout (another shop, a point of sale or an API charge). Open it in your Stripe Dashboard instead."
    )]
    NotAFluxStoreObject { id: String },
    #[error(
        "{0} is not an order, payment, charge or dispute id (they start with cs_, pi_, ch_, dp_ or du_)."
    )]
    BadId(String),
    #[error(
        "No API key is stored for the {mode} mode of store \"{account}\". Enter your {mode} mode keys or connect with Stripe first."
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
            GatewayError::Invalid { .. } => "invalid_input",
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

/// Map Stripe's status and error object to a [`GatewayError`].
pub(crate) fn map_error(status: StatusCode, body: Option<&Value>, path: &str) -> GatewayError {
    let err = body.and_then(|b| b.get("error"));
    let field = |k: &str| {
        err.and_then(|e| e.get(k))
            .and_then(Value::as_str)
            .map(str::to_owned)
    };
    let message = field("message").map(|m| redact_secrets(&m));
    let kind = field("type");
    let code = field("code");
    match status.as_u16() {
        401 => GatewayError::InvalidKey,
        402 => GatewayError::Card {
            message: message.unwrap_or_else(|| "no reason given".to_owned()),
            decline_code: field("decline_code"),
        },
        403 => GatewayError::PermissionDenied {
            permission: message.as_deref().and_then(permission_named),
        },
        404 => GatewayError::NotFound {
            what: resource_name(path).to_owned(),
        },
        409 => GatewayError::Conflict,
        429 => GatewayError::RateLimited,
        400 if code.as_deref() == Some("rate_limit") => GatewayError::RateLimited,
        400 if kind.as_deref() == Some("idempotency_error") => GatewayError::IdempotencyMismatch,
        s if s >= 500 => GatewayError::StripeUnavailable { status: s },
        _ => GatewayError::InvalidRequest {
            message: message.unwrap_or_else(|| format!("HTTP {}", status.as_u16())),
            param: field("param"),
            code,
        },
    }
}

/// The permission a 403 names: Stripe says "Having the 'rak_refund_write' permission would
/// allow this request to continue."
fn permission_named(message: &str) -> Option<String> {
    let start = message.find("rak_")?;
    let name: String = message[start..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
        .collect();
    Some(name)
}

fn resource_name(path: &str) -> &'static str {
    let p = path.trim_start_matches("/v1/");
    match p.split('/').next().unwrap_or("") {
        "charges" => "charge",
        "payment_intents" => "payment",
        "disputes" => "dispute",
        "refunds" => "refund",
        "events" => "event",
        "webhook_endpoints" => "webhook endpoint",
        "account" | "accounts" => "account",
        _ => "object",
    }
}

impl GatewayError {
    /// Input refused locally, before any request (see [`GatewayError::Invalid`]).
    pub fn invalid(message: impl Into<String>) -> GatewayError {
        GatewayError::Invalid {
            message: message.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::StatusCode;
    use serde_json::json;

    #[test]
    fn maps_statuses_to_owner_errors_without_echoing_keys() {
        let body = json!({"error": {"type": "invalid_request_error", "message": "Invalid API Key provided: sk_test_****abcd"}});
        let e = map_error(StatusCode::UNAUTHORIZED, Some(&body), "/v1/account");
        assert_eq!(e.code(), "invalid_key");
        assert!(!e.to_string().contains("sk_test"));

        let body = json!({"error": {"type": "invalid_request_error", "message": "The provided key 'rk_test_***wxyz' does not have the required permissions for this endpoint on account 'acct_1'. Having the 'rak_refund_write' permission would allow this request to continue."}});
        let e = map_error(StatusCode::FORBIDDEN, Some(&body), "/v1/refunds");
        match &e {
            GatewayError::PermissionDenied { permission } => {
                assert_eq!(permission.as_deref(), Some("rak_refund_write"))
            }
            other => panic!("{other:?}"),
        }
        assert!(e.to_string().contains("rak_refund_write"));
        assert!(!e.to_string().contains("rk_test"));

        let body = json!({"error": {"type": "invalid_request_error", "message": "Amount must be no more than $10.00", "param": "amount", "code": "amount_too_large"}});
        match map_error(StatusCode::BAD_REQUEST, Some(&body), "/v1/refunds") {
            GatewayError::InvalidRequest { param, code, .. } => {
                assert_eq!(param.as_deref(), Some("amount"));
                assert_eq!(code.as_deref(), Some("amount_too_large"));
            }
            other => panic!("{other:?}"),
        }
        let idem = json!({"error": {"type": "idempotency_error", "message": "Keys for idempotent requests can only be used with the same parameters"}});
        assert_eq!(
            map_error(StatusCode::BAD_REQUEST, Some(&idem), "/v1/refunds").code(),
            "idempotency_mismatch"
        );
        assert_eq!(
            map_error(StatusCode::PAYMENT_REQUIRED, None, "/v1/refunds").code(),
            "card_error"
        );
        assert_eq!(
            map_error(StatusCode::NOT_FOUND, None, "/v1/charges/ch_1").to_string(),
            "Stripe has no charge with that id in this account and mode."
        );
        assert_eq!(
            map_error(StatusCode::CONFLICT, None, "/v1/refunds").code(),
            "conflict"
        );
        assert_eq!(
            map_error(StatusCode::TOO_MANY_REQUESTS, None, "/v1/events").code(),
            "rate_limited"
        );
        assert_eq!(
            map_error(StatusCode::BAD_GATEWAY, None, "/v1/events").code(),
            "stripe_unavailable"
        );
    }
}
