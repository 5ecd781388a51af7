//! The desktop's client of the FluxStore Connect service: redeem the one-time code with the
//! PKCE verifier, and revoke, speaking the service's own wire types. Tokens arrive in
//! redacted wire secrets and move into [`Secret`]s; the service's OAuth error text is kept
//! (it never holds a secret), transport errors are reduced to their kind.

use std::time::Duration;

use fluxstore_connect_api::{
    OAuthErrorBody, REVOKE_PATH, RevokeRequest, TOKEN_PATH, TokenRequest, TokenResponse, WireSecret,
};
use url::Url;

use super::{ConnectTokens, OAuthError};
use crate::secret::Secret;

/// `service` with `path` appended (keeps a path prefix such as `/connect`).
pub(crate) fn endpoint(service: &Url, path: &str) -> Url {
    let mut url = service.clone();
    let prefix = service.path().trim_end_matches('/');
    url.set_path(&format!("{prefix}{path}"));
    url.set_query(None);
    url.set_fragment(None);
    url
}

pub(crate) fn http_client(timeout: Duration) -> Result<reqwest::Client, OAuthError> {
    reqwest::Client::builder()
        .timeout(timeout)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(|_| OAuthError::ServiceUnreachable {
            reason: "the HTTP client could not start",
        })
}

fn unreachable(e: &reqwest::Error) -> OAuthError {
    let reason = if e.is_timeout() {
        "it did not answer in time"
    } else if e.is_connect() {
        "the connection failed"
    } else {
        "the request failed"
    };
    OAuthError::ServiceUnreachable { reason }
}

async fn refusal(resp: reqwest::Response) -> OAuthError {
    let status = resp.status().as_u16();
    match resp.json::<OAuthErrorBody>().await {
        Ok(e) => OAuthError::ServiceRefused {
            status,
            code: e.error.chars().take(64).collect(),
            description: e.error_description.chars().take(300).collect(),
        },
        Err(_) => OAuthError::ServiceRefused {
            status,
            code: "http_error".into(),
            description: String::new(),
        },
    }
}

/// `POST {service}/oauth/token` with the one-time code and the PKCE verifier.
pub(crate) async fn exchange(
    http: &reqwest::Client,
    service: &Url,
    code: &Secret,
    verifier: &str,
    redirect_uri: &Url,
    client_id: &str,
) -> Result<ConnectTokens, OAuthError> {
    let form = TokenRequest::authorization_code(
        WireSecret::new(code.expose()),
        WireSecret::new(verifier),
        redirect_uri.as_str(),
        client_id,
    );
    let resp = http
        .post(endpoint(service, TOKEN_PATH))
        .form(&form)
        .send()
        .await
        .map_err(|e| unreachable(&e))?;
    if !resp.status().is_success() {
        return Err(refusal(resp).await);
    }
    let body: TokenResponse = resp.json().await.map_err(|_| OAuthError::BadResponse)?;
    if !body.stripe_user_id.starts_with("acct_") {
        return Err(OAuthError::BadResponse);
    }
    Ok(ConnectTokens::from(body))
}

/// `POST {service}/oauth/revoke`: the service deauthorizes the account at Stripe.
/// `Err(OAuthError::TokenRejected)` when Stripe no longer accepts the token (already revoked).
pub async fn revoke(
    service: &Url,
    access_token: &Secret,
    stripe_user_id: &str,
    timeout: Duration,
) -> Result<(), OAuthError> {
    let http = http_client(timeout)?;
    let form = RevokeRequest {
        stripe_user_id: Some(stripe_user_id.to_owned()),
    };
    let resp = http
        .post(endpoint(service, REVOKE_PATH))
        .bearer_auth(access_token.expose())
        .form(&form)
        .send()
        .await
        .map_err(|e| unreachable(&e))?;
    match resp.status().as_u16() {
        200..=299 => Ok(()),
        401 => Err(OAuthError::TokenRejected),
        _ => Err(refusal(resp).await),
    }
}
