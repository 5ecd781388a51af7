//! Store keys and feed tokens: 32 random bytes each (from a cryptographic generator),
//! stored only as their SHA-256.
//!
//! Why a plain SHA-256 suffices: these are not passwords. Each token carries 256 random
//! bits, so the hash cannot be reversed by guessing (there is no dictionary to try),
//! and a slow, salted password hash would only cost every request time without adding
//! safety. A lookup by hash also leaks nothing through timing about the token.
//!
//! Invariant: a token's text exists only in the one response that issues it and in the
//! requests that present it; it is a [`SecretString`] in between and is never logged.

use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};

/// Prefix of a store key (the last segment of a key-mode store's webhook URL).
pub const STORE_KEY_PREFIX: &str = "hsk_";
/// Prefix of a feed token (the desktop's Bearer on `GET /v1/feed` in key mode).
pub const FEED_TOKEN_PREFIX: &str = "hft_";
/// Prefix of a store's public id (in feed events' `store`).
pub const STORE_ID_PREFIX: &str = "st_";

/// `rand`'s thread generator is a CSPRNG seeded from the operating system.
fn random_hex(bytes: usize) -> String {
    let buf: Vec<u8> = (0..bytes).map(|_| rand::random::<u8>()).collect();
    hex::encode(buf)
}

/// A fresh token: `prefix` and 64 hex digits (256 random bits).
pub fn new_token(prefix: &str) -> SecretString {
    SecretString::from(format!("{prefix}{}", random_hex(32)))
}

/// A fresh public store id (128 random bits: unique, not a secret).
pub fn new_store_id() -> String {
    format!("{STORE_ID_PREFIX}{}", random_hex(16))
}

/// The stored form of a token.
pub fn hash(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

/// The stored form of a secret token.
pub fn hash_secret(token: &SecretString) -> [u8; 32] {
    hash(token.expose_secret())
}

/// Whether `text` has the shape of a token with `prefix` (checked before any lookup, so a
/// malformed one costs no database round trip).
pub fn well_formed(text: &str, prefix: &str) -> bool {
    text.strip_prefix(prefix)
        .is_some_and(|rest| rest.len() == 64 && rest.bytes().all(|b| b.is_ascii_hexdigit()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_fresh_well_formed_and_hashed() {
        let a = new_token(FEED_TOKEN_PREFIX);
        let b = new_token(FEED_TOKEN_PREFIX);
        assert_ne!(a.expose_secret(), b.expose_secret());
        assert!(well_formed(a.expose_secret(), FEED_TOKEN_PREFIX));
        assert!(!well_formed(a.expose_secret(), STORE_KEY_PREFIX));
        assert!(!well_formed("hft_xyz", FEED_TOKEN_PREFIX));
        assert_eq!(hash_secret(&a), hash(a.expose_secret()));
        assert_ne!(hash_secret(&a), hash_secret(&b));
        assert!(new_store_id().starts_with(STORE_ID_PREFIX));
    }
}
