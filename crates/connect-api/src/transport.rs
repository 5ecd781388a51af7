//! Where credentials may travel in clear: to this computer only.
//!
//! One rule for both ends of the Connect wire (the desktop's API base and Connect service
//! URL, the service's own public URL and Stripe bases): `https` anywhere, `http` only to a
//! loopback host — 127.0.0.0/8, `::1` or the name `localhost`.

use std::net::IpAddr;

/// True for a URL host (as `url::Url::host_str` spells it: IPv6 in brackets) that is this
/// computer: 127.0.0.0/8, `::1` or the name `localhost`.
pub fn is_loopback_host(host: &str) -> bool {
    let bare = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host);
    match bare.parse::<IpAddr>() {
        Ok(ip) => ip.is_loopback(),
        Err(_) => bare.eq_ignore_ascii_case("localhost"),
    }
}

/// True when a URL of this scheme and host may carry secrets: `https` with a host, or
/// `http` to a loopback host.
pub fn carries_secrets_safely(scheme: &str, host: Option<&str>) -> bool {
    match (scheme, host) {
        ("https", Some(h)) => !h.is_empty(),
        ("http", Some(h)) => is_loopback_host(h),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_is_127_slash_8_ipv6_one_and_localhost() {
        for ok in [
            "127.0.0.1",
            "127.2.3.4",
            "[::1]",
            "::1",
            "localhost",
            "LocalHost",
        ] {
            assert!(is_loopback_host(ok), "{ok}");
        }
        for bad in [
            "128.0.0.1",
            "10.0.0.1",
            "[::2]",
            "localhost.example.com",
            "example.com",
            "",
        ] {
            assert!(!is_loopback_host(bad), "{bad}");
        }
        assert!(carries_secrets_safely("https", Some("connect.example.com")));
        assert!(carries_secrets_safely("http", Some("127.0.0.1")));
        assert!(!carries_secrets_safely("http", Some("connect.example.com")));
        assert!(!carries_secrets_safely("ftp", Some("127.0.0.1")));
        assert!(!carries_secrets_safely("https", None));
    }
}
