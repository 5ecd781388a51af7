//! The endpoints the desktop calls directly: redeem a one-time code, revoke an account.
//! Answers are OAuth error JSON (RFC 6749 §5.2); nothing internal is echoed.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use fluxstore_connect_api::{
    GRANT_AUTHORIZATION_CODE, Mode, RevokeRequest, RevokeResponse, TokenRequest, TokenResponse,
    WireSecret,
};
use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use url::Url;

use super::Broker;
use super::browser::{log_stripe_error, not_set_up_for};
use super::error::OAuthError;
use crate::auth::CheckError;
use crate::store::{Store, TakenGrant};
use crate::tokens;
use fluxstore_relay::signature::unix_now;

pub(crate) async fn token<S: Store>(State(app): State<Arc<Broker<S>>>, body: Bytes) -> Response {
    match redeem(&app, &body).await {
        Ok(grant) => {
            tracing::info!(mode = %grant.mode(), "token: code redeemed");
            let mut resp = axum::Json(grant).into_response();
            resp.headers_mut()
                .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            resp.headers_mut()
                .insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
            resp
        }
        Err(e) => {
            tracing::info!(error = e.code, "token refused");
            e.into_response()
        }
    }
}

async fn redeem<S: Store>(app: &Broker<S>, body: &[u8]) -> Result<TokenResponse, OAuthError> {
    let form: TokenRequest = serde_urlencoded::from_bytes(body).map_err(|_| {
        OAuthError::invalid_request("the request could not be read (is a parameter repeated?)")
    })?;
    fn field<'a>(name: &str, value: Option<&'a str>) -> Result<&'a str, OAuthError> {
        value
            .filter(|v| !v.is_empty())
            .ok_or_else(|| OAuthError::invalid_request(format!("the {name} parameter is missing")))
    }
    if field("grant_type", form.grant_type.as_deref())? != GRANT_AUTHORIZATION_CODE {
        return Err(OAuthError::new(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            "only grant_type=authorization_code is supported",
        ));
    }
    let (code, verifier, redirect_uri) = (
        field("code", form.code.as_ref().map(WireSecret::expose))?,
        field(
            "code_verifier",
            form.code_verifier.as_ref().map(WireSecret::expose),
        )?,
        field("redirect_uri", form.redirect_uri.as_deref())?,
    );
    // Taken before any check: a code gets one attempt, so a verifier cannot be guessed.
    let code_hash = tokens::hash(code);
    let taken = app.store.take_grant(code_hash, unix_now()).await.map_err(|e| {
        tracing::warn!(error = %e, "token: the waiting grants could not be read");
        OAuthError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "temporarily_unavailable",
            "the Connect service cannot reach its database just now; start the connection again in a minute",
        )
    })?;
    let issued = match taken {
        TakenGrant::Fresh(sealed) => app
            .config
            .state_key
            .open_grant(&code_hash, &sealed)
            .ok_or_else(|| {
                tracing::warn!("token: a waiting grant does not open with this service's state key");
                OAuthError::invalid_grant(
                    "the code was issued by a Connect service with another state key; start the connection again",
                )
            })?,
        TakenGrant::Expired => {
            return Err(OAuthError::invalid_grant(
                "the code has expired; start the connection again",
            ));
        }
        TakenGrant::Missing => {
            return Err(OAuthError::invalid_grant(
                "the code is unknown or was already used",
            ));
        }
    };
    if Url::parse(redirect_uri).ok().as_ref() != Some(&issued.redirect_uri) {
        return Err(OAuthError::invalid_grant(
            "the redirect_uri does not match the sign-in",
        ));
    }
    let verifier_ok = (43..=128).contains(&verifier.len())
        && verifier
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b));
    let computed = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
    let matches: bool = computed
        .as_bytes()
        .ct_eq(issued.code_challenge.as_bytes())
        .into();
    if !verifier_ok || !matches {
        return Err(OAuthError::invalid_grant(
            "the code_verifier does not match the code_challenge",
        ));
    }
    Ok(issued.grant)
}

/// `POST /oauth/revoke` — deauthorize an account at Stripe. The caller proves it holds that
/// account's access token: Stripe must accept the token and name the same account.
pub(crate) async fn revoke<S: Store>(
    State(app): State<Arc<Broker<S>>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let unauthorized = |msg: &str| {
        let mut resp =
            OAuthError::new(StatusCode::UNAUTHORIZED, "invalid_token", msg).into_response();
        resp.headers_mut()
            .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        resp
    };
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(|t| SecretString::from(t.trim().to_owned()));
    let Some(token) = token.filter(|t| !t.expose_secret().is_empty()) else {
        return unauthorized("the account's access token is required");
    };
    let form: RevokeRequest = serde_urlencoded::from_bytes(&body).unwrap_or_default();
    let Some(account) = form
        .stripe_user_id
        .as_deref()
        .filter(|a| a.starts_with("acct_"))
    else {
        return OAuthError::invalid_request("the stripe_user_id parameter (acct_…) is missing")
            .into_response();
    };
    // A Connect access token is a secret key of the connected account; its prefix is the
    // mode of the connection, and so the platform key that may deauthorize it.
    let Some(mode) = Mode::of_key(token.expose_secret()) else {
        return unauthorized(
            "the access token is not a Stripe secret key (sk_test_… or sk_live_…)",
        );
    };
    if !app.stripe.serves(mode) {
        tracing::info!(mode = %mode, "revoke refused: no platform key for the mode");
        return OAuthError::invalid_request(not_set_up_for(mode)).into_response();
    }
    match app.connect.account_of(&token, true).await {
        Ok(id) if id == account => {}
        Ok(_) | Err(CheckError::Refused) => {
            tracing::info!("revoke refused: token not valid for the account");
            return unauthorized(
                "the access token is not valid for this account (it may already be revoked)",
            );
        }
        Err(CheckError::Busy) => {
            tracing::warn!("revoke: over the rate of token checks with Stripe");
            return OAuthError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "temporarily_unavailable",
                "too many requests are being checked with Stripe right now; please try again in a minute",
            )
            .into_response();
        }
        Err(CheckError::Unavailable(detail)) => {
            tracing::warn!(%detail, "revoke: checking the token failed");
            return OAuthError::new(
                StatusCode::BAD_GATEWAY,
                "temporarily_unavailable",
                "Stripe could not be asked; please try again",
            )
            .into_response();
        }
    }
    match app.stripe.deauthorize(account, mode).await {
        Ok(()) => {
            tracing::info!(mode = %mode, "revoke: account deauthorized");
            axum::Json(RevokeResponse {
                stripe_user_id: account.to_owned(),
            })
            .into_response()
        }
        Err(e) => {
            log_stripe_error("revoke: deauthorize failed", &e);
            OAuthError::new(
                StatusCode::BAD_GATEWAY,
                "temporarily_unavailable",
                "Stripe did not confirm the disconnection; please try again",
            )
            .into_response()
        }
    }
}
