//! The endpoints and the state they share. Invariants: the browser is only ever redirected
//! to a loopback URI (checked before anything is remembered); a token leaves this service
//! only once, only against the PKCE verifier of the desktop that started the sign-in, and
//! only in the mode that sign-in asked for; the platform keys are sent only to Stripe, each
//! only for its own mode.

mod browser;
mod desktop;

pub(crate) use browser::{authorize, callback};
pub(crate) use desktop::{revoke, token};

use axum::extract::Query;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use fluxstore_connect_api::{Mode, TokenResponse};
use url::Url;

use crate::config::Config;
use crate::store::Bounded;
use crate::stripe::StripeConnect;

pub(crate) struct AppState {
    pub(crate) config: Config,
    pub(crate) stripe: StripeConnect,
    pub(crate) pending: Bounded<PendingSignIn>,
    pub(crate) codes: Bounded<IssuedCode>,
}

/// A desktop's sign-in waiting for the owner at Stripe, keyed by this service's own state.
pub(crate) struct PendingSignIn {
    pub(crate) redirect_uri: Url,
    pub(crate) desktop_state: String,
    pub(crate) code_challenge: String,
    /// The mode the desktop asked for; Stripe's code is redeemed with this mode's key.
    pub(crate) mode: Mode,
}

/// Stripe's grant, waiting for the desktop to redeem its one-time code.
pub(crate) struct IssuedCode {
    pub(crate) grant: TokenResponse,
    pub(crate) redirect_uri: Url,
    pub(crate) code_challenge: String,
}

/// The query of a browser request, as sent.
pub(crate) type Params = Query<std::collections::HashMap<String, String>>;

pub(crate) fn random_token(prefix: &str) -> String {
    format!(
        "{prefix}{}",
        URL_SAFE_NO_PAD.encode(rand::random::<[u8; 32]>())
    )
}
