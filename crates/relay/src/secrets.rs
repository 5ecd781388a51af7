//! Webhook signing secrets (`whsec_…`), each with the mode (test or live) of the endpoint it
//! belongs to.
//!
//! Invariant: a secret's text never leaves this module except as HMAC key bytes
//! ([`SigningSecret::expose`] is crate-private). `Debug` prints `whsec_<redacted>` and the
//! mode, there is no `Display` or `Serialize`, and every loading error names a line number,
//! never its text. A secret without a mode cannot exist: the relay refuses an event whose
//! `livemode` differs from the mode of the secret that verified it.
//!
//! Secret file (and standard input) format, one secret per line:
//! ```text
//! # comments and blank lines are ignored
//! test whsec_…
//! live whsec_…
//! whsec_…        (a bare line: only with a mode given for bare lines, e.g. `--mode test`)
//! ```

use std::fmt;
use std::io::Read;
use std::path::{Path, PathBuf};

use fluxstore_mirror::Mode;
use secrecy::{ExposeSecret, SecretString};

const PREFIX: &str = "whsec_";

/// Why a secret, or a secret file, was refused. Never contains the secret itself.
#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    #[error(
        "this is not a webhook signing secret: it must start with whsec_ (find it in the Stripe Dashboard under Developers → Webhooks → your endpoint → Signing secret)"
    )]
    NotWhsec,
    #[error(
        "this looks like a Stripe API key ({kind}), not a webhook signing secret; the signing secret starts with whsec_ and is shown on the webhook endpoint's page in the Stripe Dashboard"
    )]
    LooksLikeApiKey { kind: &'static str },
    #[error("the signing secret is empty after whsec_")]
    Empty,
    #[error("the signing secret contains spaces or control characters")]
    BadCharacters,
    #[error(
        "the secret has no mode: write `test whsec_…` or `live whsec_…` (the mode of the Stripe endpoint it belongs to), or give the mode of every bare secret with --mode test or --mode live"
    )]
    MissingMode,
    #[error(
        "the mode before the secret must be `test` or `live` (e.g. `live whsec_…`); anything else is refused so that no secret signs events of the wrong mode"
    )]
    UnknownMode,
    #[error("line {line} of the secret file: {source}")]
    Line {
        line: usize,
        #[source]
        source: Box<SecretError>,
    },
    #[error("the secret file {path} could not be read: {source}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("the signing secrets could not be read from standard input: {0}")]
    Stdin(#[source] std::io::Error),
}

/// One `whsec_…` secret and the mode of the endpoint it belongs to. Cheap to clone,
/// redacted in `Debug`, not serializable.
#[derive(Clone)]
pub struct SigningSecret {
    secret: SecretString,
    mode: Mode,
}

impl SigningSecret {
    /// Validate and wrap. Surrounding whitespace (a trailing newline from a copy) is removed.
    pub fn new(text: &str, mode: Mode) -> Result<SigningSecret, SecretError> {
        let text = text.trim();
        if !text.starts_with(PREFIX) {
            for (prefix, kind) in [
                ("sk_", "a secret key, sk_…"),
                ("rk_", "a restricted key, rk_…"),
                ("pk_", "a publishable key, pk_…"),
            ] {
                if text.starts_with(prefix) {
                    return Err(SecretError::LooksLikeApiKey { kind });
                }
            }
            return Err(SecretError::NotWhsec);
        }
        let rest = &text[PREFIX.len()..];
        if rest.is_empty() {
            return Err(SecretError::Empty);
        }
        if rest.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(SecretError::BadCharacters);
        }
        Ok(SigningSecret {
            secret: SecretString::from(text.to_owned()),
            mode,
        })
    }

    /// The mode of the endpoint this secret signs for: events it verifies must be of it.
    pub fn mode(&self) -> Mode {
        self.mode
    }

    /// The key bytes for HMAC. Crate-private on purpose.
    pub(crate) fn expose(&self) -> &str {
        self.secret.expose_secret()
    }

    /// Compare two secrets and their modes (for de-duplication) without exposing either.
    fn same_as(&self, other: &SigningSecret) -> bool {
        use subtle::ConstantTimeEq;
        self.mode == other.mode
            && bool::from(self.expose().as_bytes().ct_eq(other.expose().as_bytes()))
    }
}

impl fmt::Debug for SigningSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} whsec_<redacted>", self.mode.as_str())
    }
}

/// A warning found while loading secrets; safe to print (no secret text).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SecretWarning {
    /// The file is readable or writable by group or others.
    FileTooOpen { path: PathBuf, mode: u32 },
}

impl fmt::Display for SecretWarning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SecretWarning::FileTooOpen { path, mode } => write!(
                f,
                "the secret file {} can be read by other users of this computer (mode {:o}); restrict it with: chmod 600 {}",
                path.display(),
                mode & 0o777,
                path.display()
            ),
        }
    }
}

/// The active secrets. Several at once is Stripe's rotation (during a roll each delivery is
/// signed once per active secret, and any match is accepted) or one endpoint per mode.
#[derive(Clone, Debug, Default)]
pub struct SigningSecrets(Vec<SigningSecret>);

impl SigningSecrets {
    pub fn new(secrets: Vec<SigningSecret>) -> SigningSecrets {
        let mut unique: Vec<SigningSecret> = Vec::with_capacity(secrets.len());
        for s in secrets {
            if !unique.iter().any(|u| u.same_as(&s)) {
                unique.push(s);
            }
        }
        SigningSecrets(unique)
    }

    pub fn none() -> SigningSecrets {
        SigningSecrets(Vec::new())
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn iter(&self) -> impl Iterator<Item = &SigningSecret> {
        self.0.iter()
    }

    /// Parse secret-file text: one secret per line, `test whsec_…` or `live whsec_…`; a bare
    /// `whsec_…` takes `bare_mode`, and is refused without one. Blank lines, lines starting
    /// with `#` and surrounding whitespace are ignored. Errors name the line, never its text.
    pub fn parse(text: &str, bare_mode: Option<Mode>) -> Result<SigningSecrets, SecretError> {
        let mut secrets = Vec::new();
        for (index, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let at_line = |e| SecretError::Line {
                line: index + 1,
                source: Box::new(e),
            };
            let (mode, secret) = match line.split_once(char::is_whitespace) {
                Some((word, rest)) => {
                    let mode = match word {
                        "test" => Mode::Test,
                        "live" => Mode::Live,
                        // A secret followed by junk, or a pasted key: say what the text is.
                        _ if word.starts_with(PREFIX) => {
                            return Err(at_line(SecretError::BadCharacters));
                        }
                        // A pasted API key followed by more text is named as a key.
                        _ => match SigningSecret::new(word, Mode::Test) {
                            Err(e @ SecretError::LooksLikeApiKey { .. }) => {
                                return Err(at_line(e));
                            }
                            _ => return Err(at_line(SecretError::UnknownMode)),
                        },
                    };
                    (mode, SigningSecret::new(rest, mode).map_err(at_line)?)
                }
                None => {
                    // Validate first, so a pasted API key is named as one.
                    let checked = SigningSecret::new(line, Mode::Test).map_err(at_line)?;
                    let mode = bare_mode.ok_or_else(|| at_line(SecretError::MissingMode))?;
                    (mode, SigningSecret { mode, ..checked })
                }
            };
            debug_assert_eq!(secret.mode(), mode);
            secrets.push(secret);
        }
        Ok(SigningSecrets::new(secrets))
    }

    /// Load from a file (see [`SigningSecrets::parse`]); also reports a file that other
    /// users can read.
    pub fn from_file(
        path: &Path,
        bare_mode: Option<Mode>,
    ) -> Result<(SigningSecrets, Vec<SecretWarning>), SecretError> {
        let read_err = |source| SecretError::Read {
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
        Ok((SigningSecrets::parse(&text, bare_mode)?, warnings))
    }

    /// Load from any reader (standard input in the CLI) until end of input, in the secret
    /// file's format.
    pub fn from_reader(
        mut reader: impl Read,
        bare_mode: Option<Mode>,
    ) -> Result<SigningSecrets, SecretError> {
        let mut text = String::new();
        reader
            .read_to_string(&mut text)
            .map_err(SecretError::Stdin)?;
        SigningSecrets::parse(&text, bare_mode)
    }

    /// How many active secrets each mode has (for start-up output; no secret text).
    pub fn count(&self, mode: Mode) -> usize {
        self.0.iter().filter(|s| s.mode == mode).count()
    }
}

impl From<SigningSecret> for SigningSecrets {
    fn from(secret: SigningSecret) -> SigningSecrets {
        SigningSecrets(vec![secret])
    }
}
