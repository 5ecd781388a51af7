//! The one type every secret travels in.
//!
//! Invariant: a [`Secret`] can be read only through [`Secret::expose`], prints as
//! `[redacted]` through `Debug` and `Display`, and implements neither `Serialize` nor
//! `Clone`-into-a-`String`, so it cannot slip into JSON, a log line or an error message by
//! accident.

use std::fmt;

use secrecy::{ExposeSecret, SecretString};

/// A secret key, restricted key, webhook signing secret or Connect token.
#[derive(Clone)]
pub struct Secret(SecretString);

impl Secret {
    pub fn new(value: impl Into<String>) -> Secret {
        Secret(SecretString::from(value.into()))
    }

    /// The raw value, for the one place that must send or store it (an HTTP header, the
    /// OS keyring). Never format it.
    pub fn expose(&self) -> &str {
        self.0.expose_secret()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret([redacted])")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

impl From<SecretString> for Secret {
    fn from(s: SecretString) -> Secret {
        Secret(s)
    }
}

/// Replace anything that looks like a Stripe secret (`sk_…`, `rk_…`, `whsec_…`, also
/// Stripe's own masked echo such as `sk_test_****abcd`) with `[redacted]`.
///
/// Stripe's error messages quote part of the key ("Invalid API Key provided: sk_test_****1234");
/// every message that came from Stripe passes through here before it reaches an owner or a log.
pub fn redact_secrets(text: &str) -> String {
    const PREFIXES: [&str; 4] = ["sk_", "rk_", "whsec_", "Bearer "];
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    'outer: while !rest.is_empty() {
        for p in PREFIXES {
            if rest.starts_with(p) && at_word_start(text, rest) {
                let end = rest
                    .char_indices()
                    .skip(p.len())
                    .find(|&(_, c)| !(c.is_ascii_alphanumeric() || c == '_' || c == '*'))
                    .map_or(rest.len(), |(i, _)| i);
                out.push_str("[redacted]");
                rest = &rest[end..];
                continue 'outer;
            }
        }
        let c = rest.chars().next().unwrap_or(' ');
        out.push(c);
        rest = &rest[c.len_utf8()..];
    }
    out
}

/// True when `rest` (a suffix of `whole`) does not continue an identifier, so `desk_x` is
/// not mistaken for a key.
fn at_word_start(whole: &str, rest: &str) -> bool {
    let offset = whole.len() - rest.len();
    whole[..offset]
        .chars()
        .next_back()
        .is_none_or(|c| !(c.is_ascii_alphanumeric() || c == '_'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_and_display_are_redacted() {
        let s = Secret::new("sk_test_abcdef123456");
        assert_eq!(format!("{s:?}"), "Secret([redacted])");
        assert_eq!(format!("{s}"), "[redacted]");
        assert_eq!(s.expose(), "sk_test_abcdef123456");
    }

    #[test]
    fn redacts_keys_inside_text() {
        let t = redact_secrets(
            "Invalid API Key provided: sk_test_****abcd. Also 'rk_live_xyz' and whsec_q1.",
        );
        assert_eq!(
            t,
            "Invalid API Key provided: [redacted]. Also '[redacted]' and [redacted]."
        );
        assert_eq!(redact_secrets("desk_top is fine"), "desk_top is fine");
    }
}
