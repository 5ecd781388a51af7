//! The one type a secret crosses the wire in.
//!
//! Unlike the secret types elsewhere in FluxStore it does implement `Serialize`: putting the
//! token into its response body is the one thing the service must do with it. It has no
//! `Display` and a redacted `Debug`, so it cannot reach a log line or an error message by
//! formatting, and its memory is wiped when it is dropped.

use std::fmt;

use serde::{Deserialize, Serialize};
use zeroize::Zeroize;

#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct WireSecret(String);

impl WireSecret {
    pub fn new(value: impl Into<String>) -> WireSecret {
        WireSecret(value.into())
    }

    /// The raw value, for the one place that must send, check or store it. Never format it.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// The raw value, moved out (into the receiver's own secret type) without a copy.
    pub fn into_inner(mut self) -> String {
        std::mem::take(&mut self.0)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for WireSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

impl Drop for WireSecret {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_the_value_but_the_wire_does() {
        let s = WireSecret::new("sk_test_secretvalue");
        assert_eq!(format!("{s:?}"), "[redacted]");
        assert_eq!(
            serde_json::to_string(&s).unwrap(),
            "\"sk_test_secretvalue\""
        );
        let back: WireSecret = serde_json::from_str("\"sk_test_secretvalue\"").unwrap();
        assert_eq!(back.expose(), "sk_test_secretvalue");
        assert_eq!(back.into_inner(), "sk_test_secretvalue");
    }
}
