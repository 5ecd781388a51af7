//! Test or live: which of Stripe's two worlds a sign-in, a platform key or a token belongs to.
//! On the wire it is the lowercase word (`mode=test`, `"live"`); Stripe itself says it with a
//! key's prefix and a token response's `livemode`.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    Test,
    Live,
}

/// The mode of a sign-in whose authorize request names none. Live, because a desktop that
/// predates the `mode` parameter connected real stores.
pub const DEFAULT_MODE: Mode = Mode::Live;

impl Mode {
    pub fn from_livemode(livemode: bool) -> Mode {
        if livemode { Mode::Live } else { Mode::Test }
    }

    pub fn is_live(self) -> bool {
        self == Mode::Live
    }

    /// `"test"` or `"live"`, as on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Test => "test",
            Mode::Live => "live",
        }
    }

    /// The mode a Stripe secret or restricted key (or a Connect access token, which is a
    /// secret key of the connected account) works in, read from its prefix: `sk_test_`/`rk_test_`
    /// or `sk_live_`/`rk_live_`. `None` for anything else (a publishable key, a typo).
    pub fn of_key(key: &str) -> Option<Mode> {
        let rest = key
            .strip_prefix("sk_")
            .or_else(|| key.strip_prefix("rk_"))?;
        if rest.starts_with("test_") {
            Some(Mode::Test)
        } else if rest.starts_with("live_") {
            Some(Mode::Live)
        } else {
            None
        }
    }
}

impl fmt::Display for Mode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A `mode` value other than `test` or `live`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownMode;

impl fmt::Display for UnknownMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the mode must be test or live")
    }
}

impl std::error::Error for UnknownMode {}

impl FromStr for Mode {
    type Err = UnknownMode;

    /// Exactly `test` or `live`; a near miss (`Live`, `production`) is refused rather than
    /// guessed, since guessing wrong connects the other world.
    fn from_str(s: &str) -> Result<Mode, UnknownMode> {
        match s {
            "test" => Ok(Mode::Test),
            "live" => Ok(Mode::Live),
            _ => Err(UnknownMode),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_key_prefix_says_the_mode() {
        assert_eq!(Mode::of_key("sk_test_123"), Some(Mode::Test));
        assert_eq!(Mode::of_key("rk_test_123"), Some(Mode::Test));
        assert_eq!(Mode::of_key("sk_live_123"), Some(Mode::Live));
        assert_eq!(Mode::of_key("rk_live_123"), Some(Mode::Live));
        for other in [
            "pk_test_123",
            "sk_123",
            "whsec_123",
            "",
            "sk_tests_1",
            "SK_LIVE_1",
        ] {
            assert_eq!(Mode::of_key(other), None, "{other}");
        }
    }

    #[test]
    fn the_wire_word_is_lowercase_and_exact() {
        assert_eq!("test".parse::<Mode>(), Ok(Mode::Test));
        assert_eq!("live".parse::<Mode>(), Ok(Mode::Live));
        assert_eq!("Live".parse::<Mode>(), Err(UnknownMode));
        assert_eq!(serde_json::to_string(&Mode::Live).unwrap(), "\"live\"");
        assert_eq!(
            serde_json::from_str::<Mode>("\"test\"").unwrap(),
            Mode::Test
        );
        for m in [Mode::Test, Mode::Live] {
            assert_eq!(m.as_str().parse::<Mode>(), Ok(m));
            assert_eq!(Mode::from_livemode(m.is_live()), m);
        }
        assert_eq!(DEFAULT_MODE, Mode::Live);
    }
}
