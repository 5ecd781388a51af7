//! Stripe webhook signatures (`Stripe-Signature: t=…,v1=…[,v1=…]`).
//!
//! Invariant: a delivery is accepted only when one `v1` value equals
//! HMAC-SHA256(key = the whole `whsec_…` string, message = `"{t}.{raw body}"`) for one of the
//! configured secrets, compared in constant time, AND `t` lies within the tolerance on either
//! side of the local clock. `v0` and unknown schemes are ignored (never a downgrade path).
//! [`verify`] checks the signature before the timestamp. The relay's intake instead checks
//! the header alone first ([`parse_header`], [`check_timestamp`]) so that a request that
//! cannot verify is refused before its body is read, then the signature over the body
//! ([`verify_parsed`]); the tolerance it reveals that way is Stripe's published one.
//!
//! A verification also says which modes' secrets matched, so an event of the other mode
//! can be refused (a test secret never vouches for a live event).

use std::time::Duration;

use fluxstore_mirror::{Mode, RejectionCode};
use hmac::{Hmac, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;

use crate::secrets::{SigningSecret, SigningSecrets};

type HmacSha256 = Hmac<Sha256>;

/// Stripe's default: five minutes either way.
pub const DEFAULT_TOLERANCE: Duration = Duration::from_secs(300);

/// Why a `Stripe-Signature` header did not verify. Messages are for logs and the store owner;
/// the HTTP layer answers with the coarse [`SignatureError::code`] only.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("the Stripe-Signature header is not a list of key=value pairs ({0})")]
    Malformed(&'static str),
    #[error("the Stripe-Signature header has no timestamp (t=…)")]
    MissingTimestamp,
    #[error("the Stripe-Signature header timestamp is not a whole number of seconds")]
    BadTimestamp,
    #[error("the Stripe-Signature header carries no v1 signature")]
    NoV1Signature,
    #[error(
        "no v1 signature matches any configured signing secret (wrong secret, or the body was altered)"
    )]
    NoMatch,
    #[error(
        "the signature timestamp is {skew_secs} s away from this computer's clock (allowed: {tolerance_secs} s); check the clock (NTP) or whether this is a replay"
    )]
    OutsideTolerance { skew_secs: i64, tolerance_secs: u64 },
}

impl SignatureError {
    /// The coarse public code: a prober learns nothing about which part failed.
    pub fn code(&self) -> RejectionCode {
        match self {
            SignatureError::OutsideTolerance { .. } => RejectionCode::TimestampOutsideTolerance,
            _ => RejectionCode::SignatureInvalid,
        }
    }
}

/// A parsed `Stripe-Signature` header: the timestamp and every well-formed `v1` digest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignatureHeader {
    pub timestamp: i64,
    pub v1: Vec<[u8; 32]>,
}

/// Parse a `Stripe-Signature` value. Whitespace around pairs, keys and values is tolerated,
/// empty items (a trailing comma) are skipped, `v0` and unknown keys are ignored, and `v1`
/// values that are not 64 hex digits are skipped (as stripe-go does). A pair without `=`,
/// two different timestamps, or no `v1` at all is an error.
pub fn parse_header(value: &str) -> Result<SignatureHeader, SignatureError> {
    let mut timestamp: Option<i64> = None;
    let mut v1 = Vec::new();
    let mut saw_any = false;
    for item in value.split(',') {
        let item = item.trim();
        if item.is_empty() {
            continue;
        }
        saw_any = true;
        let Some((key, val)) = item.split_once('=') else {
            return Err(SignatureError::Malformed("a part has no '='"));
        };
        let (key, val) = (key.trim(), val.trim());
        match key {
            "t" => {
                // Digits only: "+5", "1e9" or "1.5" are not Stripe timestamps.
                if val.is_empty() || val.len() > 18 || !val.bytes().all(|b| b.is_ascii_digit()) {
                    return Err(SignatureError::BadTimestamp);
                }
                let t: i64 = val.parse().map_err(|_| SignatureError::BadTimestamp)?;
                if timestamp.is_some_and(|prev| prev != t) {
                    return Err(SignatureError::Malformed("two different timestamps"));
                }
                timestamp = Some(t);
            }
            "v1" => {
                let mut digest = [0u8; 32];
                if val.len() == 64 && hex::decode_to_slice(val, &mut digest).is_ok() {
                    v1.push(digest);
                }
            }
            // v0 is signed with an unpublished test secret; other schemes are unknown.
            _ => {}
        }
    }
    if !saw_any {
        return Err(SignatureError::Malformed("it is empty"));
    }
    let timestamp = timestamp.ok_or(SignatureError::MissingTimestamp)?;
    if v1.is_empty() {
        return Err(SignatureError::NoV1Signature);
    }
    Ok(SignatureHeader { timestamp, v1 })
}

fn mac_for(secret: &SigningSecret, timestamp: i64, body: &[u8]) -> HmacSha256 {
    // HMAC accepts keys of any length; `new_from_slice` cannot fail for it.
    let mut mac = HmacSha256::new_from_slice(secret.expose().as_bytes())
        .expect("HMAC takes keys of any length");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    mac
}

/// The lowercase hex `v1` signature of `body` at `timestamp`.
pub fn compute_signature(body: &[u8], secret: &SigningSecret, timestamp: i64) -> String {
    hex::encode(mac_for(secret, timestamp, body).finalize().into_bytes())
}

/// A header exactly as Stripe sends it (`t=…,v1=…`), for tests and `send-test-event`.
pub fn sign_header(body: &[u8], secret: &SigningSecret, timestamp: i64) -> String {
    format!(
        "t={timestamp},v1={}",
        compute_signature(body, secret, timestamp)
    )
}

/// What a successful verification established.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Verified {
    pub timestamp: i64,
    /// Index of the first configured secret that matched (useful while rotating).
    pub secret_index: usize,
    /// The mode of that secret.
    pub mode: Mode,
    /// Whether a secret of the other mode matched too (one secret saved for both modes).
    pub other_mode_too: bool,
}

impl Verified {
    /// Whether an event with this `livemode` may be accepted on this signature.
    pub fn allows(&self, livemode: bool) -> bool {
        self.other_mode_too || self.mode == Mode::from_livemode(livemode)
    }
}

/// Verify `header` over the exact `body` bytes with every secret against every `v1`,
/// then the timestamp against `now` (unix seconds) within `tolerance` either way.
pub fn verify(
    body: &[u8],
    header: &str,
    secrets: &SigningSecrets,
    tolerance: Duration,
    now: i64,
) -> Result<Verified, SignatureError> {
    let parsed = parse_header(header)?;
    let verified = verify_parsed(body, &parsed, secrets)?;
    check_timestamp(&parsed, tolerance, now)?;
    Ok(verified)
}

/// The timestamp of a parsed header against `now` (unix seconds), `tolerance` either way.
pub fn check_timestamp(
    parsed: &SignatureHeader,
    tolerance: Duration,
    now: i64,
) -> Result<(), SignatureError> {
    let skew = now.saturating_sub(parsed.timestamp);
    let tolerance_secs = tolerance.as_secs();
    if skew.unsigned_abs() > tolerance_secs {
        return Err(SignatureError::OutsideTolerance {
            skew_secs: skew,
            tolerance_secs,
        });
    }
    Ok(())
}

/// The signatures of a parsed header over the exact `body` bytes, with every secret against
/// every `v1` (no early exit). Does not look at the timestamp.
pub fn verify_parsed(
    body: &[u8],
    parsed: &SignatureHeader,
    secrets: &SigningSecrets,
) -> Result<Verified, SignatureError> {
    let mut matched: Option<(usize, Mode)> = None;
    let mut modes = [false; 2];
    for (index, secret) in secrets.iter().enumerate() {
        let expected = mac_for(secret, parsed.timestamp, body)
            .finalize()
            .into_bytes();
        // Fold over every candidate without early exit so timing does not reveal which
        // position matched.
        let mut any = subtle::Choice::from(0u8);
        for candidate in &parsed.v1 {
            any |= expected.as_slice().ct_eq(candidate.as_slice());
        }
        if bool::from(any) {
            modes[usize::from(secret.mode().is_live())] = true;
            if matched.is_none() {
                matched = Some((index, secret.mode()));
            }
        }
    }
    let (secret_index, mode) = matched.ok_or(SignatureError::NoMatch)?;
    Ok(Verified {
        timestamp: parsed.timestamp,
        secret_index,
        mode,
        other_mode_too: modes[0] && modes[1],
    })
}

/// Seconds since the Unix epoch on this machine's clock.
pub fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}
