//! The service's only outbound client: Stripe's Connect OAuth endpoints (authenticated with
//! the platform key as a Bearer credential, never in a URL) and `GET /v1/account` (with the
//! desktop's own access token, to authenticate a revoke).

use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use url::Url;

use crate::config::{Config, join};
use crate::error::StripeError;

pub(crate) struct StripeConnect {
    http: reqwest::Client,
    connect_base: Url,
    api_base: Url,
    client_id: String,
    platform_key: SecretString,
}

/// What Stripe returns for a redeemed authorization code. Tokens are wrapped at once.
pub(crate) struct Grant {
    pub access_token: SecretString,
    pub refresh_token: Option<SecretString>,
    pub token_type: String,
    pub stripe_publishable_key: String,
    pub stripe_user_id: String,
    pub scope: String,
    pub livemode: bool,
}

#[derive(Deserialize)]
struct TokenBody {
    access_token: String,
    #[serde(default)]
    refresh_token: Option<String>,
    #[serde(default)]
    token_type: Option<String>,
    #[serde(default)]
    stripe_publishable_key: Option<String>,
    stripe_user_id: String,
    #[serde(default)]
    scope: Option<String>,
    #[serde(default)]
    livemode: bool,
}

#[derive(Deserialize)]
struct FlatError {
    error: String,
    #[serde(default)]
    error_description: Option<String>,
}

#[derive(Deserialize)]
struct AccountBody {
    id: String,
}

impl StripeConnect {
    pub(crate) fn new(config: &Config) -> Result<Self, StripeError> {
        let http = reqwest::Client::builder()
            .timeout(config.outbound_timeout)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| StripeError::from_reqwest(&e))?;
        Ok(StripeConnect {
            http,
            connect_base: config.stripe_connect_base.clone(),
            api_base: config.stripe_api_base.clone(),
            client_id: config.client_id.clone(),
            platform_key: config.platform_key.clone(),
        })
    }

    /// Stripe's authorize URL for an owner, carrying this service's own state and redirect URI.
    pub(crate) fn authorize_url(&self, redirect_uri: &Url, state: &str) -> Url {
        let mut url = join(&self.connect_base, "/oauth/authorize");
        url.query_pairs_mut()
            .append_pair("response_type", "code")
            .append_pair("client_id", &self.client_id)
            .append_pair("scope", "read_write")
            .append_pair("redirect_uri", redirect_uri.as_str())
            .append_pair("state", state);
        url
    }

    /// `POST /oauth/token` with `grant_type=authorization_code`.
    pub(crate) async fn redeem(&self, code: &str) -> Result<Grant, StripeError> {
        let resp = self
            .http
            .post(join(&self.connect_base, "/oauth/token"))
            .bearer_auth(self.platform_key.expose_secret())
            .form(&[("grant_type", "authorization_code"), ("code", code)])
            .send()
            .await
            .map_err(|e| StripeError::from_reqwest(&e))?;
        let status = resp.status();
        let bytes = resp
            .bytes()
            .await
            .map_err(|e| StripeError::from_reqwest(&e))?;
        if !status.is_success() {
            return Err(oauth_error(status.as_u16(), &bytes));
        }
        let body: TokenBody = serde_json::from_slice(&bytes).map_err(|_| StripeError::Malformed)?;
        Ok(Grant {
            access_token: SecretString::from(body.access_token),
            refresh_token: body.refresh_token.map(SecretString::from),
            token_type: body.token_type.unwrap_or_else(|| "bearer".to_owned()),
            stripe_publishable_key: body.stripe_publishable_key.unwrap_or_default(),
            stripe_user_id: body.stripe_user_id,
            scope: body.scope.unwrap_or_default(),
            livemode: body.livemode,
        })
    }

    /// The account an access token belongs to; `None` when Stripe refuses the token (401),
    /// i.e. it is unknown or already revoked.
    pub(crate) async fn account_of_token(
        &self,
        token: &SecretString,
    ) -> Result<Option<String>, StripeError> {
        let resp = self
            .http
            .get(join(&self.api_base, "/v1/account"))
            .bearer_auth(token.expose_secret())
            .send()
            .await
            .map_err(|e| StripeError::from_reqwest(&e))?;
        let status = resp.status();
        if status == reqwest::StatusCode::UNAUTHORIZED {
            return Ok(None);
        }
        if !status.is_success() {
            return Err(StripeError::Status(status.as_u16()));
        }
        let body: AccountBody = resp.json().await.map_err(|_| StripeError::Malformed)?;
        Ok(Some(body.id))
    }

    /// `POST /oauth/deauthorize` with `client_id` and `stripe_user_id`.
    pub(crate) async fn deauthorize(&self, stripe_user_id: &str) -> Result<(), StripeError> {
        let resp = self
            .http
            .post(join(&self.connect_base, "/oauth/deauthorize"))
            .bearer_auth(self.platform_key.expose_secret())
            .form(&[
                ("client_id", self.client_id.as_str()),
                ("stripe_user_id", stripe_user_id),
            ])
            .send()
            .await
            .map_err(|e| StripeError::from_reqwest(&e))?;
        let status = resp.status();
        let bytes = resp
            .bytes()
            .await
            .map_err(|e| StripeError::from_reqwest(&e))?;
        if status.is_success() {
            Ok(())
        } else {
            Err(oauth_error(status.as_u16(), &bytes))
        }
    }
}

fn oauth_error(status: u16, bytes: &[u8]) -> StripeError {
    match serde_json::from_slice::<FlatError>(bytes) {
        Ok(e) => StripeError::OAuth {
            status,
            code: e.error,
            description: e.error_description.unwrap_or_default(),
        },
        Err(_) => StripeError::Status(status),
    }
}
