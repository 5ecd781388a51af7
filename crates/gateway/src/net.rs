//! Where the app may send a key or a token: over https anywhere, over plain http only to this
//! computer (a local fake, the sample store's stand-in, a developer's own service).
//!
//! Invariant: every address that a key or token travels to passes [`sends_secrets_safely`]
//! before any connection is made — the Stripe API base and the Connect service alike.
use url::Url;

/// 127.0.0.0/8, `::1` or the name `localhost` (the Connect wire's one rule).
pub fn is_loopback(url: &Url) -> bool {
    url.host_str()
        .is_some_and(fluxstore_connect_api::is_loopback_host)
}

/// https with a host, or http to this computer.
pub fn sends_secrets_safely(url: &Url) -> bool {
    fluxstore_connect_api::carries_secrets_safely(url.scheme(), url.host_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn https_anywhere_http_only_here() {
        for ok in [
            "https://api.stripe.com",
            "https://connect.example.com/prefix",
            "http://127.0.0.1:8790",
            "http://127.2.3.4:9",
            "http://[::1]:8790",
            "http://localhost:8790",
        ] {
            assert!(sends_secrets_safely(&Url::parse(ok).unwrap()), "{ok}");
        }
        for bad in [
            "http://api.stripe.com",
            "http://192.168.1.10:8790",
            "http://10.0.0.1",
            "ftp://127.0.0.1",
            "file:///etc/passwd",
        ] {
            assert!(!sends_secrets_safely(&Url::parse(bad).unwrap()), "{bad}");
        }
    }
}
