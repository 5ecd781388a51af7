//! Service configuration. The platform key lives only in a [`SecretString`]: `Config`'s
//! `Debug` prints it redacted and nothing in this crate serializes it.

use std::path::Path;
use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};
use url::Url;

use crate::error::ConfigError;

/// Stripe's Connect OAuth host (authorize, token, deauthorize).
pub const DEFAULT_STRIPE_CONNECT_BASE: &str = "https://connect.stripe.com";
/// Stripe's REST API host, used only to check that a revoke request carries a live token.
pub const DEFAULT_STRIPE_API_BASE: &str = "https://api.stripe.com";
/// The path under the public URL that Stripe redirects back to. Register
/// `{public_url}/oauth/callback` as a redirect URI in the platform's Connect settings.
pub const CALLBACK_PATH: &str = "/oauth/callback";

#[derive(Debug, Clone)]
pub struct Config {
    /// The URL under which browsers reach this service (scheme, host, optional path prefix).
    pub public_url: Url,
    /// The platform's Connect client id (`ca_…`).
    pub client_id: String,
    /// The platform's secret key. Used only in requests to Stripe.
    pub platform_key: SecretString,
    pub stripe_connect_base: Url,
    pub stripe_api_base: Url,
    /// How long a one-time code handed to the desktop stays redeemable (at most 60 s).
    pub code_ttl: Duration,
    /// How long an owner may take at Stripe's authorize page.
    pub pending_ttl: Duration,
    /// Upper bound on sign-ins waiting at Stripe and on unredeemed codes (each).
    pub max_pending: usize,
    /// Timeout of each request this service makes to Stripe.
    pub outbound_timeout: Duration,
}

impl Config {
    /// A configuration with the documented defaults. Fails on a malformed client id or key.
    pub fn new(
        public_url: Url,
        client_id: &str,
        platform_key: SecretString,
    ) -> Result<Config, ConfigError> {
        let client_id = client_id.trim();
        if !client_id.starts_with("ca_") || client_id.len() < 4 {
            return Err(ConfigError::ClientId);
        }
        check_platform_key(&platform_key)?;
        if !matches!(public_url.scheme(), "http" | "https") || public_url.host().is_none() {
            return Err(ConfigError::PublicUrl);
        }
        Ok(Config {
            public_url,
            client_id: client_id.to_owned(),
            platform_key,
            stripe_connect_base: Url::parse(DEFAULT_STRIPE_CONNECT_BASE).expect("constant URL"),
            stripe_api_base: Url::parse(DEFAULT_STRIPE_API_BASE).expect("constant URL"),
            code_ttl: Duration::from_secs(60),
            pending_ttl: Duration::from_secs(15 * 60),
            max_pending: 1024,
            outbound_timeout: Duration::from_secs(20),
        })
    }

    /// The redirect URI this service registers with Stripe.
    pub fn callback_url(&self) -> Url {
        join(&self.public_url, CALLBACK_PATH)
    }
}

/// Read the platform key from a file (surrounding whitespace trimmed). The error names the
/// file, never its content.
pub fn read_platform_key_file(path: &Path) -> Result<SecretString, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|e| ConfigError::KeyFile {
        path: path.display().to_string(),
        reason: e.kind().to_string(),
    })?;
    let key = SecretString::from(text.trim().to_owned());
    check_platform_key(&key)?;
    Ok(key)
}

fn check_platform_key(key: &SecretString) -> Result<(), ConfigError> {
    let k = key.expose_secret();
    let ok = (k.starts_with("sk_test_") || k.starts_with("sk_live_")) && k.len() > 8;
    if ok && !k.chars().any(char::is_whitespace) {
        Ok(())
    } else {
        Err(ConfigError::PlatformKey)
    }
}

/// `base` with `path` appended to its path (keeps a path prefix such as `/connect`).
pub(crate) fn join(base: &Url, path: &str) -> Url {
    let mut url = base.clone();
    let prefix = base.path().trim_end_matches('/');
    url.set_path(&format!("{prefix}{path}"));
    url.set_query(None);
    url.set_fragment(None);
    url
}
