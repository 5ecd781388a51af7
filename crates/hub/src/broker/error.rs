//! Errors of the broker. HTTP answers carry an OAuth error code and a sentence for people;
//! internals (Stripe's transport errors, anything holding the platform key) are logged by
//! kind only and never returned.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use fluxstore_connect_api::{Mode, OAuthErrorBody};

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error(
        "the Connect client id must be the platform's `ca_…` id from Stripe's Connect settings"
    )]
    ClientId,
    #[error(
        "the platform key must be the platform's secret key (`sk_test_…` or `sk_live_…`) alone in the file"
    )]
    PlatformKey,
    #[error("the public URL must be an http(s) URL with a host")]
    PublicUrl,
    #[error(
        "the public URL {url} uses http:// on a host that is not this computer: browsers would carry the owners' sign-in codes in clear across the network. Use an https:// URL (for example a TLS reverse proxy in front of this service); http:// is accepted only for 127.0.0.0/8, ::1 or localhost"
    )]
    PublicUrlInClear { url: String },
    #[error(
        "the {what} {url} must use https:// (the platform key travels to it); http:// is accepted only for 127.0.0.0/8, ::1 or localhost, such as a local test fake"
    )]
    StripeBaseInClear { what: &'static str, url: String },
    #[error("{what} must be more than zero")]
    ZeroLimit { what: &'static str },
    #[error("the platform key file {path} could not be read: {reason}")]
    KeyFile { path: String, reason: String },
    #[error(
        "two platform keys are for {mode} mode; give at most one `sk_test_…` key and one `sk_live_…` key"
    )]
    SameMode { mode: Mode },
    #[error(
        "the platform key files {first} and {second} both hold a {mode}-mode key; give one file with the `sk_test_…` key and one with the `sk_live_…` key"
    )]
    SameModeFiles {
        mode: Mode,
        first: String,
        second: String,
    },
    #[error("no platform key is configured; give the platform's `sk_test_…` or `sk_live_…` key")]
    NoPlatformKey,
    #[error("the state key file {path} could not be used: {reason}")]
    StateKeyFile { path: String, reason: String },
}

/// An OAuth 2.0 error answer (RFC 6749 §5.2): `{"error", "error_description"}`.
#[derive(Debug, thiserror::Error)]
#[error("{code}: {description}")]
pub struct OAuthError {
    pub status: StatusCode,
    pub code: &'static str,
    pub description: String,
}

impl OAuthError {
    pub fn invalid_request(description: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_request", description)
    }
    pub fn invalid_grant(description: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_grant", description)
    }
    pub fn new(status: StatusCode, code: &'static str, description: impl Into<String>) -> Self {
        OAuthError {
            status,
            code,
            description: description.into(),
        }
    }
}

impl IntoResponse for OAuthError {
    fn into_response(self) -> Response {
        let body = OAuthErrorBody::new(self.code, self.description);
        let mut resp = (self.status, Json(body)).into_response();
        resp.headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        resp
    }
}

/// What went wrong talking to Stripe. `Display` never includes the platform key: reqwest
/// errors are reduced to their kind and Stripe's own OAuth error text is kept.
#[derive(Debug, thiserror::Error)]
pub enum StripeError {
    #[error("Stripe could not be reached ({0})")]
    Unreachable(&'static str),
    #[error("Stripe answered {code}: {description}")]
    OAuth {
        status: u16,
        code: String,
        description: String,
    },
    #[error("Stripe answered HTTP {0}")]
    Status(u16),
    #[error("Stripe's answer was not understood")]
    Malformed,
    #[error("this Connect service has no platform key for {0} mode")]
    ModeNotServed(Mode),
}

impl StripeError {
    pub(crate) fn from_reqwest(e: &reqwest::Error) -> Self {
        let kind = if e.is_timeout() {
            "timed out"
        } else if e.is_connect() {
            "connection failed"
        } else if e.is_decode() || e.is_body() {
            "bad response"
        } else {
            "request failed"
        };
        StripeError::Unreachable(kind)
    }
}
