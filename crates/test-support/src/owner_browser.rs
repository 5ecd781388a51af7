//! The owner's browser and the desktop's PKCE pair, for tests that drive a Connect sign-in
//! by hand against the Connect broker (the hub's `/oauth/*` routes).
//!
//! The browser follows redirects and keeps cookies as a real one does: the broker binds a
//! sign-in to the browser that started it, so a client without cookies is refused at the
//! callback, as another browser would be.

use std::time::Duration;

use base64::Engine;
use sha2::Digest;

/// The desktop's loopback when a test plays the desktop by hand (nothing listens there).
pub const LOOPBACK: &str = "http://127.0.0.1:9/callback";

/// Follows every redirect and keeps cookies, like a real browser.
pub fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::limited(10))
        .timeout(Duration::from_secs(20))
        .build()
        .expect("a client")
}

/// A browser (with cookies) that stops when it is sent to the desktop's loopback
/// (`/callback`), so a test can play the desktop by hand: the final response is the
/// redirect towards the loopback.
pub fn browser_stopping_at_loopback() -> reqwest::Client {
    let policy = reqwest::redirect::Policy::custom(|attempt| {
        if attempt.url().path() == "/callback" || attempt.previous().len() > 10 {
            attempt.stop()
        } else {
            attempt.follow()
        }
    });
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(policy)
        .timeout(Duration::from_secs(20))
        .build()
        .expect("a client")
}

/// A valid PKCE pair (verifier, S256 challenge), computed independently of both halves.
pub fn pkce() -> (String, String) {
    let verifier: String = (0..64)
        .map(|i| (b'a' + (i * 7 % 26) as u8) as char)
        .collect();
    let challenge = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(sha2::Sha256::digest(verifier.as_bytes()));
    (verifier, challenge)
}
