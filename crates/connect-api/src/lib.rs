//! The wire of the FluxStore Connect service, declared once for both of its ends: the
//! service (`fluxstore-connect`, later the hub) and the desktop's loopback client.
//!
//! Invariant: every secret these types carry (access and refresh tokens, the one-time code,
//! the PKCE verifier) is a [`WireSecret`], which serializes as the plain string the wire
//! needs and prints `[redacted]` through `Debug` — so a `{:?}` of a request or a response, in
//! a log line or an error, never shows a token. Nothing here does I/O.
//!
//! Endpoints (all under the service's public URL, which may carry a path prefix):
//! - `GET` [`AUTHORIZE_PATH`] with an [`AuthorizeQuery`]: the owner's browser starts a sign-in
//!   in the [`Mode`] asked for (`mode=test|live`, [`DEFAULT_MODE`] when absent);
//! - `GET` [`CALLBACK_PATH`]: Stripe sends the browser back to the service;
//! - `POST` [`TOKEN_PATH`] with a [`TokenRequest`] form: the desktop redeems its one-time code
//!   for a [`TokenResponse`], or gets an [`OAuthErrorBody`];
//! - `POST` [`REVOKE_PATH`] with the access token as Bearer and a [`RevokeRequest`] form.

pub mod hub;
mod mode;
pub mod net;
mod secret;
mod wire;

pub use mode::{DEFAULT_MODE, Mode, UnknownMode};
pub use secret::WireSecret;
pub use wire::{
    AuthorizeQuery, GRANT_AUTHORIZATION_CODE, MODE_PARAM, OAuthErrorBody, RevokeRequest,
    RevokeResponse, TokenRequest, TokenResponse,
};

/// Where the desktop sends the owner's browser to start a sign-in.
pub const AUTHORIZE_PATH: &str = "/oauth/authorize";
/// Where Stripe sends the browser back to the service. Its operator registers
/// `{public_url}/oauth/callback` as a redirect URI in the platform's Connect settings.
pub const CALLBACK_PATH: &str = "/oauth/callback";
/// The path of the desktop's loopback listener, the only redirect target the service
/// accepts (`http://127.0.0.1:<port>/callback` or `http://[::1]:<port>/callback`).
pub const DESKTOP_CALLBACK_PATH: &str = "/callback";
/// Where the desktop redeems its one-time code with its PKCE verifier.
pub const TOKEN_PATH: &str = "/oauth/token";
/// Where the desktop asks the service to disconnect (deauthorize) an account.
pub const REVOKE_PATH: &str = "/oauth/revoke";
/// Answers 200 (`{"status":"ok"}`) while the service and its database run.
pub const HEALTH_PATH: &str = "/healthz";
