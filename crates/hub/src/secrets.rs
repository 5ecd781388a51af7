//! The platform's webhook signing secrets, per mode.
//!
//! Stripe signs a test-mode Connect endpoint's deliveries and a live-mode one's with
//! different secrets, and during a roll it signs each delivery once per active secret. The
//! secret file therefore names each secret's mode: one `test whsec_…` or `live whsec_…` per
//! line, `#` comments and blank lines ignored — the relay's secret-file format, parsed by the
//! relay's one parser with no default mode (a bare line is refused: the hub serves both modes).
//!
//! Invariant: a delivery is accepted only when a secret **of the event's own mode** signed
//! it (a leaked test secret cannot ring a live doorbell). The secret text stays inside the
//! relay's [`SigningSecret`] (redacted `Debug`, no `Serialize`); every error names a line
//! number, never the line. The HMAC itself is the relay's [`fluxstore_relay::signature`].

use std::path::Path;
use std::time::Duration;

use fluxstore_relay::signature::{self, SignatureError, Verified};
use fluxstore_relay::{Mode, SecretError, SecretWarning, SigningSecrets};

/// Why the secret file was refused: the relay's own error (it names a line, never a secret).
pub type SecretFileError = SecretError;

/// The active secrets of the platform's test-mode and live-mode Connect endpoints.
#[derive(Debug, Clone, Default)]
pub struct PlatformSecrets(SigningSecrets);

impl PlatformSecrets {
    /// Parse secret-file text (see the module docs).
    pub fn parse(text: &str) -> Result<PlatformSecrets, SecretFileError> {
        SigningSecrets::parse(text, None).map(PlatformSecrets)
    }

    /// Read the file; also reports a file that other users of the machine can read.
    pub fn from_file(
        path: &Path,
    ) -> Result<(PlatformSecrets, Vec<SecretWarning>), SecretFileError> {
        let (secrets, warnings) = SigningSecrets::from_file(path, None)?;
        Ok((PlatformSecrets(secrets), warnings))
    }

    /// The modes that have at least one secret, test first.
    pub fn modes(&self) -> Vec<Mode> {
        [Mode::Test, Mode::Live]
            .into_iter()
            .filter(|m| self.0.count(*m) > 0)
            .collect()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Verify `header` over the raw `body` against every secret; says which mode signed it
    /// (check [`Verified::allows`] against the event's `livemode` before trusting it).
    pub fn verify(
        &self,
        body: &[u8],
        header: &str,
        tolerance: Duration,
        now: i64,
    ) -> Result<Verified, SignatureError> {
        signature::verify(body, header, &self.0, tolerance, now)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use fluxstore_relay::{SigningSecret, sign_header};

    const TEST: &str = "whsec_testsecret0001";
    const TEST_NEXT: &str = "whsec_testsecret0002";
    const LIVE: &str = "whsec_livesecret0001";

    fn secrets() -> PlatformSecrets {
        PlatformSecrets::parse(&format!(
            "# platform endpoints\n\ntest {TEST}\n  test   {TEST_NEXT}  \nlive {LIVE}\n"
        ))
        .unwrap()
    }

    #[test]
    fn each_secret_verifies_in_its_own_mode_only() {
        let s = secrets();
        assert_eq!(s.modes(), vec![Mode::Test, Mode::Live]);
        let body = br#"{"id":"evt_1"}"#;
        let now = 1_700_000_000;
        for (secret, mode) in [
            (TEST, Mode::Test),
            (TEST_NEXT, Mode::Test),
            (LIVE, Mode::Live),
        ] {
            let header = sign_header(body, &SigningSecret::new(secret, mode).unwrap(), now);
            let verified = s
                .verify(body, &header, Duration::from_secs(300), now)
                .unwrap();
            assert_eq!(verified.mode, mode);
            assert!(verified.allows(mode.is_live()));
            assert!(!verified.allows(!mode.is_live()));
        }
        let other = sign_header(
            body,
            &SigningSecret::new("whsec_other", Mode::Test).unwrap(),
            now,
        );
        assert_eq!(
            s.verify(body, &other, Duration::from_secs(300), now),
            Err(SignatureError::NoMatch)
        );
        let stale = sign_header(
            body,
            &SigningSecret::new(LIVE, Mode::Live).unwrap(),
            now - 301,
        );
        assert!(matches!(
            s.verify(body, &stale, Duration::from_secs(300), now),
            Err(SignatureError::OutsideTolerance { .. })
        ));
    }

    #[test]
    fn a_line_without_its_mode_is_refused_by_number_without_its_text() {
        for (text, line) in [
            (format!("test {TEST}\n{LIVE}\n"), 2),
            (format!("# c\nprod {LIVE}\n"), 2),
            ("test sk_test_abc\n".to_owned(), 1),
        ] {
            let e = PlatformSecrets::parse(&text).unwrap_err();
            let message = e.to_string();
            assert!(message.contains(&format!("line {line}")), "{message}");
            assert!(!message.contains("whsec_live"), "{message}");
            assert!(!message.contains("sk_test_abc"), "{message}");
        }
    }

    #[test]
    fn an_empty_file_has_no_modes() {
        let s = PlatformSecrets::parse("# nothing yet\n").unwrap();
        assert!(s.is_empty());
        assert!(s.modes().is_empty());
        assert!(format!("{s:?}").contains("SigningSecrets"));
    }
}
