//! Webhook signing secrets (`whsec_…`).
//!
//! Invariant: a secret's text never leaves this module except as HMAC key bytes
//! ([`SigningSecret::expose`] is crate-private). `Debug` prints `whsec_<redacted>`, there is
//! no `Display` or `Serialize`, and every loading error names a line number, never its text.

use std::fmt;
use std::io::Read;
use std::path::{Path, PathBuf};

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

/// One `whsec_…` secret. Cheap to clone, redacted in `Debug`, not serializable.
#[derive(Clone)]
pub struct SigningSecret(SecretString);

impl SigningSecret {
    /// Validate and wrap. Surrounding whitespace (a trailing newline from a copy) is removed.
    pub fn new(text: &str) -> Result<SigningSecret, SecretError> {
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
        Ok(SigningSecret(SecretString::from(text.to_owned())))
    }

    /// The key bytes for HMAC. Crate-private on purpose.
    pub(crate) fn expose(&self) -> &str {
        self.0.expose_secret()
    }

    /// Compare two secrets (for de-duplication) without exposing either.
    fn same_as(&self, other: &SigningSecret) -> bool {
        use subtle::ConstantTimeEq;
        bool::from(self.expose().as_bytes().ct_eq(other.expose().as_bytes()))
    }
}

impl fmt::Debug for SigningSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("whsec_<redacted>")
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

/// The active secrets. Several at once is Stripe's rotation: during a roll each delivery is
/// signed once per active secret, and any match is accepted.
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

    /// Parse secret-file text: one secret per line; blank lines, lines starting with `#`
    /// and surrounding whitespace are ignored.
    pub fn parse(text: &str) -> Result<SigningSecrets, SecretError> {
        let mut secrets = Vec::new();
        for (index, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let secret = SigningSecret::new(line).map_err(|e| SecretError::Line {
                line: index + 1,
                source: Box::new(e),
            })?;
            secrets.push(secret);
        }
        Ok(SigningSecrets::new(secrets))
    }

    /// Load from a file; also reports a file that other users can read.
    pub fn from_file(path: &Path) -> Result<(SigningSecrets, Vec<SecretWarning>), SecretError> {
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
        Ok((SigningSecrets::parse(&text)?, warnings))
    }

    /// Load from any reader (standard input in the CLI) until end of input.
    pub fn from_reader(mut reader: impl Read) -> Result<SigningSecrets, SecretError> {
        let mut text = String::new();
        reader
            .read_to_string(&mut text)
            .map_err(SecretError::Stdin)?;
        SigningSecrets::parse(&text)
    }
}

impl From<SigningSecret> for SigningSecrets {
    fn from(secret: SigningSecret) -> SigningSecrets {
        SigningSecrets(vec![secret])
    }
}
