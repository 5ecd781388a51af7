//! The broker's sealed values: the sign-in that travels through Stripe's authorize page as
//! its `state`, and Stripe's grant waiting in the database for its desktop.
//!
//! Both are sealed with XChaCha20-Poly1305 under the state key (random 192-bit nonces, so
//! any number of replicas may seal with one key without coordinating). A sign-in in progress
//! is therefore remembered nowhere: an anonymous flood of authorize requests writes no row,
//! and any replica can open a state another replica sealed. A grant is written only after
//! Stripe accepted a real authorization code, holds its tokens only as ciphertext (bound to
//! the hash of its one-time code, so rows cannot be swapped), and lives at most 60 s.
//!
//! Invariant: nothing opened from a sealed value is trusted unless the AEAD tag verifies and
//! the embedded expiry is in the future; the key never leaves [`StateKey`] (its `Debug` is
//! redacted, it has no `Serialize`).

use std::path::Path;
use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use fluxstore_connect_api::{Mode, TokenResponse};
use serde::{Deserialize, Serialize};
use url::Url;

use super::error::ConfigError;

const NONCE_LEN: usize = 24;
/// What each sealed value is for, as associated data: a state cannot pass for a grant.
const STATE_PURPOSE: &[u8] = b"fluxstore-hub sign-in state v1";
const GRANT_PURPOSE: &[u8] = b"fluxstore-hub grant v1";
/// The longest state accepted back from a browser (a sealed sign-in is well under 1.5 KiB).
const MAX_STATE_LEN: usize = 4096;

/// The key that seals sign-in states and waiting grants. Every replica of one platform
/// must hold the same key (`--state-key-file`); a single instance may make one at start.
#[derive(Clone)]
pub struct StateKey(Arc<XChaCha20Poly1305>);

impl std::fmt::Debug for StateKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("StateKey([redacted])")
    }
}

impl StateKey {
    /// A fresh random key (one instance only: other replicas could not open its states).
    pub fn generate() -> StateKey {
        StateKey::from_bytes(rand::random::<[u8; 32]>())
    }

    pub fn from_bytes(bytes: [u8; 32]) -> StateKey {
        StateKey(Arc::new(XChaCha20Poly1305::new(&bytes.into())))
    }

    /// A key file holds 32 random bytes as 64 hexadecimal digits (surrounding whitespace
    /// ignored), e.g. made with `openssl rand -hex 32`. The error names the file, never its
    /// content.
    pub fn read_file(path: &Path) -> Result<StateKey, ConfigError> {
        let bad = |reason: &str| ConfigError::StateKeyFile {
            path: path.display().to_string(),
            reason: reason.to_owned(),
        };
        let text = std::fs::read_to_string(path).map_err(|e| bad(&e.kind().to_string()))?;
        let mut bytes = [0u8; 32];
        hex::decode_to_slice(text.trim(), &mut bytes).map_err(|_| {
            bad("it must hold exactly 64 hexadecimal digits (32 random bytes, e.g. from `openssl rand -hex 32`)")
        })?;
        Ok(StateKey::from_bytes(bytes))
    }

    fn seal(&self, purpose: &[u8], plaintext: &[u8]) -> Vec<u8> {
        let nonce: [u8; NONCE_LEN] = rand::random();
        let sealed = self
            .0
            .encrypt(
                XNonce::from_slice(&nonce),
                Payload {
                    msg: plaintext,
                    aad: purpose,
                },
            )
            .expect("sealing in memory does not fail");
        let mut out = Vec::with_capacity(NONCE_LEN + sealed.len());
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&sealed);
        out
    }

    fn open(&self, purpose: &[u8], sealed: &[u8]) -> Option<Vec<u8>> {
        if sealed.len() < NONCE_LEN {
            return None;
        }
        let (nonce, body) = sealed.split_at(NONCE_LEN);
        self.0
            .decrypt(
                XNonce::from_slice(nonce),
                Payload {
                    msg: body,
                    aad: purpose,
                },
            )
            .ok()
    }
}

/// A desktop's sign-in, carried by the browser through Stripe and back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct SignIn {
    #[serde(rename = "r")]
    pub(crate) redirect_uri: Url,
    #[serde(rename = "s")]
    pub(crate) desktop_state: String,
    #[serde(rename = "c")]
    pub(crate) code_challenge: String,
    /// The mode the desktop asked for; Stripe's code is redeemed with this mode's key.
    #[serde(rename = "m")]
    pub(crate) mode: Mode,
    /// SHA-256 of the browser's binding cookie (hex).
    #[serde(rename = "b")]
    pub(crate) browser: String,
    /// Unix seconds after which the state is refused.
    #[serde(rename = "e")]
    pub(crate) expires: i64,
}

/// Why a state from a browser is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum StateRefusal {
    /// Not sealed by this platform's key, altered, or not a state at all.
    Invalid,
    /// Sealed here, but the sign-in took longer than allowed.
    Expired,
}

impl StateKey {
    /// The state to send to Stripe (base64url, URL-safe as it stands).
    pub(crate) fn seal_sign_in(&self, sign_in: &SignIn) -> String {
        let json = serde_json::to_vec(sign_in).expect("a sign-in serializes");
        URL_SAFE_NO_PAD.encode(self.seal(STATE_PURPOSE, &json))
    }

    pub(crate) fn open_sign_in(&self, state: &str, now: i64) -> Result<SignIn, StateRefusal> {
        if state.len() > MAX_STATE_LEN {
            return Err(StateRefusal::Invalid);
        }
        let sealed = URL_SAFE_NO_PAD
            .decode(state)
            .map_err(|_| StateRefusal::Invalid)?;
        let json = self
            .open(STATE_PURPOSE, &sealed)
            .ok_or(StateRefusal::Invalid)?;
        let sign_in: SignIn = serde_json::from_slice(&json).map_err(|_| StateRefusal::Invalid)?;
        if sign_in.expires <= now {
            return Err(StateRefusal::Expired);
        }
        Ok(sign_in)
    }
}

/// Stripe's grant waiting for the desktop's one-time code, and what the code must match.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct WaitingGrant {
    pub(crate) grant: TokenResponse,
    pub(crate) redirect_uri: Url,
    pub(crate) code_challenge: String,
}

impl StateKey {
    /// The grant as stored: ciphertext bound to the hash of its one-time code.
    pub(crate) fn seal_grant(&self, code_hash: &[u8; 32], waiting: &WaitingGrant) -> Vec<u8> {
        let json = zeroize::Zeroizing::new(serde_json::to_vec(waiting).expect("serializes"));
        self.seal(&grant_purpose(code_hash), &json)
    }

    /// `None` when the row was not sealed by this key for this code.
    pub(crate) fn open_grant(&self, code_hash: &[u8; 32], sealed: &[u8]) -> Option<WaitingGrant> {
        let json = zeroize::Zeroizing::new(self.open(&grant_purpose(code_hash), sealed)?);
        serde_json::from_slice(&json).ok()
    }
}

fn grant_purpose(code_hash: &[u8; 32]) -> Vec<u8> {
    let mut aad = GRANT_PURPOSE.to_vec();
    aad.extend_from_slice(code_hash);
    aad
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sign_in(expires: i64) -> SignIn {
        SignIn {
            redirect_uri: Url::parse("http://127.0.0.1:4000/callback").unwrap(),
            desktop_state: "desktop-state".into(),
            code_challenge: "c".repeat(43),
            mode: Mode::Test,
            browser: "ab".repeat(32),
            expires,
        }
    }

    #[test]
    fn a_state_opens_with_its_key_until_it_expires_and_never_when_altered() {
        let key = StateKey::generate();
        let state = key.seal_sign_in(&sign_in(1_000));
        assert_eq!(key.open_sign_in(&state, 999), Ok(sign_in(1_000)));
        assert_eq!(key.open_sign_in(&state, 1_000), Err(StateRefusal::Expired));
        assert_eq!(
            StateKey::generate().open_sign_in(&state, 999),
            Err(StateRefusal::Invalid),
            "another platform's key"
        );
        let mut bytes = URL_SAFE_NO_PAD.decode(&state).unwrap();
        let last = bytes.len() - 1;
        bytes[last] ^= 1;
        assert_eq!(
            key.open_sign_in(&URL_SAFE_NO_PAD.encode(&bytes), 999),
            Err(StateRefusal::Invalid)
        );
        for junk in ["", "never-issued", "!!", &"A".repeat(5000)] {
            assert_eq!(key.open_sign_in(junk, 0), Err(StateRefusal::Invalid));
        }
        assert!(!format!("{key:?}").contains(|c: char| c.is_ascii_digit()));
    }

    #[test]
    fn a_grant_opens_only_for_its_own_code() {
        let key = StateKey::generate();
        let waiting = WaitingGrant {
            grant: serde_json::from_value(serde_json::json!({
                "access_token": "sk_test_connected", "livemode": false,
                "stripe_user_id": "acct_1", "token_type": "bearer", "scope": "read_write"
            }))
            .unwrap(),
            redirect_uri: Url::parse("http://127.0.0.1:4000/callback").unwrap(),
            code_challenge: "c".repeat(43),
        };
        let sealed = key.seal_grant(&[1; 32], &waiting);
        assert!(
            !sealed.windows(b"sk_test".len()).any(|w| w == b"sk_test"),
            "the token is not stored in clear"
        );
        let opened = key.open_grant(&[1; 32], &sealed).expect("opens");
        assert_eq!(opened.redirect_uri, waiting.redirect_uri);
        assert!(key.open_grant(&[2; 32], &sealed).is_none(), "another code");
        assert!(
            key.open_sign_in(&URL_SAFE_NO_PAD.encode(&sealed), 0)
                .is_err(),
            "a grant is not a state"
        );
    }
}
