//! The request and response bodies of the service's endpoints.
//!
//! Requests are all-optional on purpose: the service reads whatever arrived and refuses what
//! is missing with an OAuth error that names the parameter, instead of a parser's message.

use serde::{Deserialize, Deserializer, Serialize};

use crate::mode::{DEFAULT_MODE, Mode, UnknownMode};
use crate::secret::WireSecret;

/// The name of the authorize query parameter that carries the [`Mode`].
pub const MODE_PARAM: &str = "mode";
/// The only `grant_type` the token endpoint accepts.
pub const GRANT_AUTHORIZATION_CODE: &str = "authorization_code";

/// The query of `GET /oauth/authorize`: OAuth 2.0's authorization request (RFC 6749 §4.1.1)
/// with PKCE (RFC 7636) and the mode of the sign-in.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthorizeQuery {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    /// The desktop's loopback listener, `http://127.0.0.1:PORT/…`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub redirect_uri: Option<String>,
    /// The desktop's own state; it comes back unchanged on the loopback redirect.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code_challenge: Option<String>,
    /// Must be `S256`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code_challenge_method: Option<String>,
    /// `test` or `live`, as sent; read it with [`AuthorizeQuery::requested_mode`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mode: Option<String>,
}

impl AuthorizeQuery {
    /// The mode asked for: [`DEFAULT_MODE`] when the parameter is absent, an error for any
    /// value but `test` or `live` (an empty one included).
    pub fn requested_mode(&self) -> Result<Mode, UnknownMode> {
        match &self.mode {
            None => Ok(DEFAULT_MODE),
            Some(m) => m.parse(),
        }
    }
}

/// The form of `POST /oauth/token`: the one-time code from the loopback redirect and the PKCE
/// verifier of the sign-in that asked for it.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct TokenRequest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grant_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<WireSecret>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code_verifier: Option<WireSecret>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub redirect_uri: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
}

impl TokenRequest {
    /// The complete request a desktop sends.
    pub fn authorization_code(
        code: WireSecret,
        code_verifier: WireSecret,
        redirect_uri: &str,
        client_id: &str,
    ) -> TokenRequest {
        TokenRequest {
            grant_type: Some(GRANT_AUTHORIZATION_CODE.to_owned()),
            code: Some(code),
            code_verifier: Some(code_verifier),
            redirect_uri: Some(redirect_uri.to_owned()),
            client_id: Some(client_id.to_owned()),
        }
    }
}

/// Stripe's token fields (its answer to a redeemed Connect authorization code), which the
/// service passes on to the desktop unchanged. The service also reads Stripe's own answer
/// into this type, so absent optional fields get Stripe's documented defaults; `livemode` is
/// required, because the mode of a connection is never guessed.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TokenResponse {
    /// A secret key of the connected account (`sk_test_…`/`sk_live_…`).
    pub access_token: WireSecret,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<WireSecret>,
    #[serde(default = "bearer", deserialize_with = "bearer_if_null")]
    pub token_type: String,
    /// `read_write` or `read_only`.
    #[serde(default, deserialize_with = "default_if_null")]
    pub scope: String,
    pub livemode: bool,
    /// The connected account, `acct_…`.
    pub stripe_user_id: String,
    #[serde(default, deserialize_with = "default_if_null")]
    pub stripe_publishable_key: String,
}

impl TokenResponse {
    /// The mode the tokens work in, as Stripe reports it.
    pub fn mode(&self) -> Mode {
        Mode::from_livemode(self.livemode)
    }
}

/// An OAuth 2.0 error (RFC 6749 §5.2), the shape of every refusal from the service's JSON
/// endpoints and of Stripe's Connect endpoints alike. The description is written for people.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OAuthErrorBody {
    pub error: String,
    #[serde(default, deserialize_with = "default_if_null")]
    pub error_description: String,
}

impl OAuthErrorBody {
    pub fn new(error: impl Into<String>, description: impl Into<String>) -> OAuthErrorBody {
        OAuthErrorBody {
            error: error.into(),
            error_description: description.into(),
        }
    }
}

/// The form of `POST /oauth/revoke`; the account's access token travels as the Bearer
/// credential, never in the form.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RevokeRequest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stripe_user_id: Option<String>,
}

/// The answer to a revoke: the account that is no longer connected.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RevokeResponse {
    pub stripe_user_id: String,
}

fn bearer() -> String {
    "bearer".to_owned()
}

fn bearer_if_null<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    Ok(Option::<String>::deserialize(d)?.unwrap_or_else(bearer))
}

fn default_if_null<'de, D: Deserializer<'de>, T: Default + Deserialize<'de>>(
    d: D,
) -> Result<T, D::Error> {
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stripes_token_answer_reads_with_its_defaults_and_debug_hides_the_tokens() {
        let json = r#"{"access_token":"sk_live_abc123","refresh_token":"rt_def456",
            "livemode":true,"stripe_user_id":"acct_1","scope":null}"#;
        let t: TokenResponse = serde_json::from_str(json).unwrap();
        assert_eq!(t.mode(), Mode::Live);
        assert_eq!(t.token_type, "bearer");
        assert_eq!(t.scope, "");
        assert_eq!(t.stripe_publishable_key, "");
        let debug = format!("{t:?}");
        assert!(
            !debug.contains("abc123") && !debug.contains("def456"),
            "{debug}"
        );
        let out = serde_json::to_value(&t).unwrap();
        assert_eq!(out["access_token"], "sk_live_abc123");
        assert_eq!(out["refresh_token"], "rt_def456");
    }

    #[test]
    fn a_token_answer_without_livemode_is_not_read() {
        let json = r#"{"access_token":"sk_test_1","stripe_user_id":"acct_1"}"#;
        assert!(serde_json::from_str::<TokenResponse>(json).is_err());
    }

    #[test]
    fn the_authorize_mode_defaults_to_live_and_is_exact() {
        let q: AuthorizeQuery = serde_urlencoded::from_str("state=s").unwrap();
        assert_eq!(q.requested_mode(), Ok(Mode::Live));
        let q: AuthorizeQuery = serde_urlencoded::from_str("mode=test&state=s").unwrap();
        assert_eq!(q.requested_mode(), Ok(Mode::Test));
        for bad in ["mode=", "mode=sandbox", "mode=LIVE"] {
            let q: AuthorizeQuery = serde_urlencoded::from_str(bad).unwrap();
            assert_eq!(q.requested_mode(), Err(UnknownMode), "{bad}");
        }
        let sent = AuthorizeQuery {
            mode: Some(Mode::Test.as_str().to_owned()),
            ..AuthorizeQuery::default()
        };
        assert_eq!(
            serde_urlencoded::to_string(&sent).unwrap(),
            format!("{MODE_PARAM}=test")
        );
    }

    #[test]
    fn a_token_request_form_round_trips_and_hides_its_secrets() {
        let req = TokenRequest::authorization_code(
            WireSecret::new("fsc_code"),
            WireSecret::new("verifier-value"),
            "http://127.0.0.1:4000/callback",
            "fluxstore-desktop",
        );
        let form = serde_urlencoded::to_string(&req).unwrap();
        assert!(form.contains("grant_type=authorization_code"), "{form}");
        assert!(form.contains("code=fsc_code"), "{form}");
        let back: TokenRequest = serde_urlencoded::from_str(&form).unwrap();
        assert_eq!(back.code_verifier.unwrap().expose(), "verifier-value");
        let debug = format!("{req:?}");
        assert!(!debug.contains("fsc_code") && !debug.contains("verifier-value"));
        let empty: TokenRequest = serde_urlencoded::from_str("").unwrap();
        assert!(empty.grant_type.is_none() && empty.code.is_none());
    }

    #[test]
    fn error_bodies_tolerate_a_missing_description() {
        let e: OAuthErrorBody = serde_json::from_str(r#"{"error":"invalid_grant"}"#).unwrap();
        assert_eq!(e, OAuthErrorBody::new("invalid_grant", ""));
        let json = serde_json::to_value(OAuthErrorBody::new("invalid_request", "why")).unwrap();
        assert_eq!(json["error_description"], "why");
    }
}
