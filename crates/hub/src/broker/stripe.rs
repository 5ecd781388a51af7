//! The service's only outbound client: Stripe's Connect OAuth endpoints (authenticated with
//! the platform key of the mode at hand as a Bearer credential, never in a URL). A revoke's
//! token is checked by the hub's one token checker ([`crate::auth::ConnectCheck`]).

use fluxstore_connect_api::{Mode, OAuthErrorBody, TokenResponse};
use secrecy::{ExposeSecret, SecretString};
use url::Url;

use super::config::{Config, PlatformKeys, join};
use super::error::StripeError;

pub(crate) struct StripeConnect {
    http: reqwest::Client,
    connect_base: Url,
    client_id: String,
    platform_keys: PlatformKeys,
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
            client_id: config.client_id.clone(),
            platform_keys: config.platform_keys.clone(),
        })
    }

    /// Whether this service can redeem and deauthorize in `mode`.
    pub(crate) fn serves(&self, mode: Mode) -> bool {
        self.platform_keys.get(mode).is_some()
    }

    fn key(&self, mode: Mode) -> Result<&SecretString, StripeError> {
        self.platform_keys
            .get(mode)
            .ok_or(StripeError::ModeNotServed(mode))
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

    /// `POST /oauth/token` with `grant_type=authorization_code`, authenticated with the
    /// platform key of `mode`: Stripe issues tokens in the mode of the key that redeems.
    pub(crate) async fn redeem(
        &self,
        code: &str,
        mode: Mode,
    ) -> Result<TokenResponse, StripeError> {
        let key = self.key(mode)?;
        let resp = self
            .http
            .post(join(&self.connect_base, "/oauth/token"))
            .bearer_auth(key.expose_secret())
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
        serde_json::from_slice(&bytes).map_err(|_| StripeError::Malformed)
    }

    /// `POST /oauth/deauthorize` with `client_id` and `stripe_user_id`, authenticated with
    /// the platform key of the connection's `mode`.
    pub(crate) async fn deauthorize(
        &self,
        stripe_user_id: &str,
        mode: Mode,
    ) -> Result<(), StripeError> {
        let key = self.key(mode)?;
        let resp = self
            .http
            .post(join(&self.connect_base, "/oauth/deauthorize"))
            .bearer_auth(key.expose_secret())
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
    match serde_json::from_slice::<OAuthErrorBody>(bytes) {
        Ok(e) => StripeError::OAuth {
            status,
            code: e.error,
            description: e.error_description,
        },
        Err(_) => StripeError::Status(status),
    }
}
