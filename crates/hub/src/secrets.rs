//! The platform's webhook signing secrets, per mode.
//!
//! Stripe signs a test-mode Connect endpoint's deliveries and a live-mode one's with
//! different secrets, and during a roll it signs each delivery once per active secret. The
//! secret file therefore names each secret's mode: one `test whsec_…` or `live whsec_…` per
//! line, `#` comments and blank lines ignored.
//!
//! Invariant: a delivery is accepted only when a secret **of the event's own mode** signed
//! it (a leaked test secret cannot ring a live doorbell). The secret text stays inside the
//! relay's [`SigningSecret`] (redacted `Debug`, no `Serialize`); every error here names a line
//! number, never the line. The HMAC itself is the relay's [`fluxstore_relay::signature`].

use std::path::{Path, PathBuf};
use std::time::Duration;

use fluxstore_connect_api::Mode;
use fluxstore_relay::signature::{self, SignatureError};
use fluxstore_relay::{SecretError, SecretWarning, SigningSecret, SigningSecrets};

/// Why the secret file was refused. Never contains a secret.
#[derive(Debug, thiserror::Error)]
pub enum SecretFileError {
    #[error(
        "line {line} of the webhook secret file must be `test whsec_…` or `live whsec_…` (the mode of the Stripe endpoint the secret belongs to, a space, then its signing secret)"
    )]
    NoMode { line: usize },
    #[error("line {line} of the webhook secret file: {source}")]
    Secret {
        line: usize,
        #[source]
        source: SecretError,
    },
    #[error("the webhook secret file {path} could not be read: {source}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// The active secrets of the platform's test-mode and live-mode Connect endpoints.
#[derive(Debug, Clone, Default)]
pub struct PlatformSecrets {
    test: SigningSecrets,
    live: SigningSecrets,
}

impl PlatformSecrets {
    /// Parse secret-file text (see the module docs).
    pub fn parse(text: &str) -> Result<PlatformSecrets, SecretFileError> {
        let (mut test, mut live) = (Vec::new(), Vec::new());
        for (index, line) in text.lines().enumerate() {
            let line_no = index + 1;
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let (word, rest) = line
                .split_once(char::is_whitespace)
                .ok_or(SecretFileError::NoMode { line: line_no })?;
            let slot = match word {
                "test" => &mut test,
                "live" => &mut live,
                _ => return Err(SecretFileError::NoMode { line: line_no }),
            };
            let secret = SigningSecret::new(rest).map_err(|source| SecretFileError::Secret {
                line: line_no,
                source,
            })?;
            slot.push(secret);
        }
        Ok(PlatformSecrets {
            test: SigningSecrets::new(test),
            live: SigningSecrets::new(live),
        })
    }

    /// Read the file; also reports a file that other users of the machine can read.
    pub fn from_file(
        path: &Path,
    ) -> Result<(PlatformSecrets, Vec<SecretWarning>), SecretFileError> {
        let read_err = |source| SecretFileError::Read {
            path: path.to_path_buf(),
            source,
        };
        let text = std::fs::read_to_string(path).map_err(read_err)?;
        let mut warnings = Vec::new();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(path)
                .map_err(read_err)?
                .permissions()
                .mode();
            if mode & 0o077 != 0 {
                warnings.push(SecretWarning::FileTooOpen {
                    path: path.to_path_buf(),
                    mode,
                });
            }
        }
        Ok((PlatformSecrets::parse(&text)?, warnings))
    }

    /// The secrets of one mode.
    pub fn of(&self, mode: Mode) -> &SigningSecrets {
        match mode {
            Mode::Test => &self.test,
            Mode::Live => &self.live,
        }
    }

    /// The modes that have at least one secret, test first.
    pub fn modes(&self) -> Vec<Mode> {
        [Mode::Test, Mode::Live]
            .into_iter()
            .filter(|m| !self.of(*m).is_empty())
            .collect()
    }

    pub fn is_empty(&self) -> bool {
        self.test.is_empty() && self.live.is_empty()
    }

    /// Verify `header` over the raw `body` against each mode's secrets; the mode whose secret
    /// signed it. A stale timestamp under a matching secret is reported as such; otherwise the
    /// last mode's refusal stands (both say the same coarse thing to the sender).
    pub fn verify(
        &self,
        body: &[u8],
        header: &str,
        tolerance: Duration,
        now: i64,
    ) -> Result<Mode, SignatureError> {
        let mut refusal = SignatureError::NoMatch;
        for mode in self.modes() {
            match signature::verify(body, header, self.of(mode), tolerance, now) {
                Ok(_) => return Ok(mode),
                Err(e @ SignatureError::OutsideTolerance { .. }) => return Err(e),
                Err(e) => refusal = e,
            }
        }
        Err(refusal)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use fluxstore_relay::sign_header;

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
            let header = sign_header(body, &SigningSecret::new(secret).unwrap(), now);
            assert_eq!(
                s.verify(body, &header, Duration::from_secs(300), now),
                Ok(mode)
            );
        }
        let other = sign_header(body, &SigningSecret::new("whsec_other").unwrap(), now);
        assert_eq!(
            s.verify(body, &other, Duration::from_secs(300), now),
            Err(SignatureError::NoMatch)
        );
        let stale = sign_header(body, &SigningSecret::new(LIVE).unwrap(), now - 301);
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
