//! Where a key or a token may travel: over https anywhere, over plain http only to this
//! computer (a local fake, the sample store's stand-in, a developer's own service).
//!
//! Invariant: every address that a key or token travels to passes [`sends_secrets_safely`]
//! before any connection is made — the desktop's Stripe API base and Connect service, and the
//! hub's public URL (its feed carries tokens) and Stripe API base alike.
use url::{Host, Url};

/// 127.0.0.0/8, `::1` or the name `localhost`.
pub fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(Host::Ipv4(ip)) => ip.is_loopback(),
        Some(Host::Ipv6(ip)) => ip.is_loopback(),
        Some(Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        None => false,
    }
}

/// https with a host, or http to this computer.
pub fn sends_secrets_safely(url: &Url) -> bool {
    match url.scheme() {
        "https" => url.host().is_some(),
        "http" => is_loopback(url),
        _ => false,
    }
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
            "http://128.0.0.1",
            "http://[::2]:8790",
            "http://localhost.example.com",
        ] {
            assert!(!sends_secrets_safely(&Url::parse(bad).unwrap()), "{bad}");
        }
        assert!(is_loopback(&Url::parse("http://LocalHost:1").unwrap()));
    }
}
