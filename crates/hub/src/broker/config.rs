//! The broker's configuration. The platform keys live only in [`SecretString`]s: `Config`'s
//! `Debug` prints them redacted and nothing in this crate serializes them. There is at most
//! one key per mode, and a key's mode is its prefix — never a separate setting that could
//! disagree with it.

use std::path::{Path, PathBuf};
use std::time::Duration;

use fluxstore_connect_api::Mode;
use fluxstore_connect_api::net::sends_secrets_safely;
use secrecy::{ExposeSecret, SecretString};
use url::Url;

use super::error::ConfigError;
use super::sealed::StateKey;

/// Stripe's Connect OAuth host (authorize, token, deauthorize).
pub const DEFAULT_STRIPE_CONNECT_BASE: &str = "https://connect.stripe.com";
/// Stripe's REST API host, used only to check that a revoke request carries a live token.
pub const DEFAULT_STRIPE_API_BASE: &str = "https://api.stripe.com";
/// The path under the public URL that Stripe redirects back to. Register
/// `{public_url}/oauth/callback` as a redirect URI in the platform's Connect settings.
pub const CALLBACK_PATH: &str = fluxstore_connect_api::CALLBACK_PATH;

/// The platform's secret keys, at most one per mode. A sign-in in a mode without a key is
/// refused before anything reaches Stripe.
#[derive(Debug, Clone, Default)]
pub struct PlatformKeys {
    test: Option<SecretString>,
    live: Option<SecretString>,
}

impl PlatformKeys {
    /// Keys from any number of sources; fails on a malformed key or on two of one mode.
    pub fn from_keys(
        keys: impl IntoIterator<Item = SecretString>,
    ) -> Result<PlatformKeys, ConfigError> {
        let mut all = PlatformKeys::default();
        for key in keys {
            all.insert(key)?;
        }
        Ok(all)
    }

    /// Add a key in the slot its prefix names; returns that mode.
    pub fn insert(&mut self, key: SecretString) -> Result<Mode, ConfigError> {
        let mode = check_platform_key(&key)?;
        let slot = self.slot(mode);
        if slot.is_some() {
            return Err(ConfigError::SameMode { mode });
        }
        *slot = Some(key);
        Ok(mode)
    }

    /// The key of `mode`, if this service has one.
    pub fn get(&self, mode: Mode) -> Option<&SecretString> {
        match mode {
            Mode::Test => self.test.as_ref(),
            Mode::Live => self.live.as_ref(),
        }
    }

    /// The modes with a key, test first.
    pub fn modes(&self) -> Vec<Mode> {
        [Mode::Test, Mode::Live]
            .into_iter()
            .filter(|m| self.get(*m).is_some())
            .collect()
    }

    fn slot(&mut self, mode: Mode) -> &mut Option<SecretString> {
        match mode {
            Mode::Test => &mut self.test,
            Mode::Live => &mut self.live,
        }
    }
}

#[derive(Debug, Clone)]
pub struct Config {
    /// The URL under which browsers reach this service (scheme, host, optional path prefix).
    pub public_url: Url,
    /// The platform's Connect client id (`ca_…`). Stripe uses one id for both modes.
    pub client_id: String,
    /// The platform's secret keys. Used only in requests to Stripe.
    pub platform_keys: PlatformKeys,
    pub stripe_connect_base: Url,
    /// Where a revoke's token is checked (`GET /v1/account`). In the hub, the hub's own
    /// `--stripe-api-base` is used (one checker for feeds and revokes); `fluxstore-connect`
    /// passes this one to it.
    pub stripe_api_base: Url,
    /// How long a one-time code handed to the desktop stays redeemable (at most 60 s).
    pub code_ttl: Duration,
    /// How long an owner may take at Stripe's authorize page.
    pub pending_ttl: Duration,
    /// Seals sign-in states and waiting grants; shared by every replica of one platform.
    pub state_key: StateKey,
    /// Timeout of each request this service makes to Stripe.
    pub outbound_timeout: Duration,
    /// How long a client may take to send a request's headers; then the connection is cut.
    pub header_read_timeout: Duration,
    /// How long one request may take from its headers to the answer (its body included);
    /// then it is answered 408. Longer than `outbound_timeout`, so a slow Stripe is reported
    /// as Stripe's.
    pub request_timeout: Duration,
    /// Connections served at once; further ones wait in the listen backlog until one ends.
    pub max_connections: usize,
}

/// Defaults of the broker's bounds (each a flag of `fluxstore-connect`).
pub const DEFAULT_HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
pub const DEFAULT_MAX_CONNECTIONS: usize = 512;

impl Config {
    /// A configuration with one platform key (serving that key's mode only) and the
    /// documented defaults. Fails on a malformed client id or key.
    pub fn new(
        public_url: Url,
        client_id: &str,
        platform_key: SecretString,
    ) -> Result<Config, ConfigError> {
        Config::with_platform_keys(
            public_url,
            client_id,
            PlatformKeys::from_keys([platform_key])?,
        )
    }

    /// A configuration serving the modes `platform_keys` has keys for (at least one).
    pub fn with_platform_keys(
        public_url: Url,
        client_id: &str,
        platform_keys: PlatformKeys,
    ) -> Result<Config, ConfigError> {
        let client_id = client_id.trim();
        if !client_id.starts_with("ca_") || client_id.len() < 4 {
            return Err(ConfigError::ClientId);
        }
        if platform_keys.modes().is_empty() {
            return Err(ConfigError::NoPlatformKey);
        }
        if !matches!(public_url.scheme(), "http" | "https") || public_url.host().is_none() {
            return Err(ConfigError::PublicUrl);
        }
        if !sends_secrets_safely(&public_url) {
            return Err(ConfigError::PublicUrlInClear {
                url: public_url.to_string(),
            });
        }
        Ok(Config {
            public_url,
            client_id: client_id.to_owned(),
            platform_keys,
            stripe_connect_base: Url::parse(DEFAULT_STRIPE_CONNECT_BASE).expect("constant URL"),
            stripe_api_base: Url::parse(DEFAULT_STRIPE_API_BASE).expect("constant URL"),
            code_ttl: Duration::from_secs(60),
            pending_ttl: Duration::from_secs(15 * 60),
            state_key: StateKey::generate(),
            outbound_timeout: Duration::from_secs(20),
            header_read_timeout: DEFAULT_HEADER_READ_TIMEOUT,
            request_timeout: DEFAULT_REQUEST_TIMEOUT,
            max_connections: DEFAULT_MAX_CONNECTIONS,
        })
    }

    /// Checks of what may be changed after construction, made before serving: the Stripe
    /// bases receive the platform key, so they take https (http only to this computer), and
    /// every bound is more than zero.
    pub fn check(&self) -> Result<(), ConfigError> {
        for (what, url) in [
            ("Stripe Connect base URL", &self.stripe_connect_base),
            ("Stripe API base URL", &self.stripe_api_base),
        ] {
            if !sends_secrets_safely(url) {
                return Err(ConfigError::StripeBaseInClear {
                    what,
                    url: url.to_string(),
                });
            }
        }
        for (what, zero) in [
            (
                "the header read timeout",
                self.header_read_timeout.is_zero(),
            ),
            ("the request timeout", self.request_timeout.is_zero()),
            ("the connection limit", self.max_connections == 0),
        ] {
            if zero {
                return Err(ConfigError::ZeroLimit { what });
            }
        }
        Ok(())
    }

    /// The redirect URI this service registers with Stripe.
    pub fn callback_url(&self) -> Url {
        join(&self.public_url, CALLBACK_PATH)
    }
}

/// Read a platform key from a file (surrounding whitespace trimmed). The error names the
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

/// Read one key file per mode (one or two files). Two files of one mode is an error that
/// names both files, so the operator knows which one to replace.
pub fn read_platform_key_files(paths: &[PathBuf]) -> Result<PlatformKeys, ConfigError> {
    let mut keys = PlatformKeys::default();
    let mut first_of: Vec<(Mode, &Path)> = Vec::new();
    for path in paths {
        let key = read_platform_key_file(path)?;
        match keys.insert(key) {
            Ok(mode) => first_of.push((mode, path)),
            Err(ConfigError::SameMode { mode }) => {
                let first = first_of
                    .iter()
                    .find(|(m, _)| *m == mode)
                    .map(|(_, p)| p.display().to_string())
                    .unwrap_or_default();
                return Err(ConfigError::SameModeFiles {
                    mode,
                    first,
                    second: path.display().to_string(),
                });
            }
            Err(e) => return Err(e),
        }
    }
    if keys.modes().is_empty() {
        return Err(ConfigError::NoPlatformKey);
    }
    Ok(keys)
}

/// A platform key is the platform's secret key; its prefix is its mode. Restricted keys
/// (`rk_…`) are refused: redeeming Connect codes needs the full secret key.
fn check_platform_key(key: &SecretString) -> Result<Mode, ConfigError> {
    let k = key.expose_secret();
    let mode = Mode::of_key(k).filter(|_| k.starts_with("sk_") && k.len() > 8);
    match mode {
        Some(mode) if !k.chars().any(char::is_whitespace) => Ok(mode),
        _ => Err(ConfigError::PlatformKey),
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

#[cfg(test)]
mod tests {
    use super::*;

    fn key(s: &str) -> SecretString {
        SecretString::from(s.to_owned())
    }

    #[test]
    fn each_key_takes_the_slot_of_its_prefix_and_one_mode_takes_one_key() {
        let keys = PlatformKeys::from_keys([key("sk_live_one"), key("sk_test_two")]).unwrap();
        assert_eq!(keys.modes(), vec![Mode::Test, Mode::Live]);
        assert_eq!(keys.get(Mode::Live).unwrap().expose_secret(), "sk_live_one");
        assert_eq!(keys.get(Mode::Test).unwrap().expose_secret(), "sk_test_two");

        let only_test = PlatformKeys::from_keys([key("sk_test_two")]).unwrap();
        assert_eq!(only_test.modes(), vec![Mode::Test]);
        assert!(only_test.get(Mode::Live).is_none());

        let twice = PlatformKeys::from_keys([key("sk_test_one"), key("sk_test_two")]);
        assert!(matches!(
            twice,
            Err(ConfigError::SameMode { mode: Mode::Test })
        ));
        for bad in ["rk_live_restricted", "pk_test_x", "sk_test_", "sk_test_a b"] {
            assert!(
                matches!(
                    PlatformKeys::from_keys([key(bad)]),
                    Err(ConfigError::PlatformKey)
                ),
                "{bad}"
            );
        }
        let debug = format!("{keys:?}");
        assert!(!debug.contains("sk_live_one") && !debug.contains("sk_test_two"));
    }

    #[test]
    fn a_public_url_in_clear_is_refused_unless_it_is_this_computer() {
        let k = || key("sk_test_one");
        for ok in [
            "https://connect.example.com",
            "https://connect.example.com/prefix",
            "http://127.0.0.1:8790",
            "http://127.9.9.9",
            "http://[::1]:8790",
            "http://localhost:8790",
        ] {
            let url = Url::parse(ok).unwrap();
            assert!(Config::new(url, "ca_123", k()).is_ok(), "{ok}");
        }
        for bad in [
            "http://connect.example.com",
            "http://192.168.1.10:8790",
            "http://10.0.0.1",
            "http://[::2]:80",
            "http://localhost.example.com",
        ] {
            let url = Url::parse(bad).unwrap();
            let e = Config::new(url, "ca_123", k()).unwrap_err();
            assert!(
                matches!(e, ConfigError::PublicUrlInClear { .. }),
                "{bad}: {e:?}"
            );
            let text = e.to_string();
            assert!(
                text.contains("https://")
                    && text.contains("in clear")
                    && text.contains("localhost"),
                "the error says why and what to do: {text}"
            );
        }
    }

    #[test]
    fn stripe_bases_in_clear_and_zero_bounds_are_refused_before_serving() {
        let url = Url::parse("https://connect.example.com").unwrap();
        let mut c = Config::new(url, "ca_123", key("sk_test_one")).unwrap();
        assert!(c.check().is_ok());
        c.stripe_api_base = Url::parse("http://127.0.0.1:9").unwrap();
        assert!(c.check().is_ok(), "a local fake");
        c.stripe_connect_base = Url::parse("http://stripe.example.net").unwrap();
        assert!(matches!(
            c.check(),
            Err(ConfigError::StripeBaseInClear { .. })
        ));
        c.stripe_connect_base = Url::parse(DEFAULT_STRIPE_CONNECT_BASE).unwrap();
        c.max_connections = 0;
        assert!(matches!(c.check(), Err(ConfigError::ZeroLimit { .. })));
    }

    #[test]
    fn a_service_needs_at_least_one_key() {
        let url = Url::parse("https://connect.example.com").unwrap();
        let none = Config::with_platform_keys(url, "ca_123", PlatformKeys::default());
        assert!(matches!(none, Err(ConfigError::NoPlatformKey)));
    }
}
