//! `POST /v1/stores`: a key-mode store registers, and receives its store key (the last
//! segment of its webhook URL) and its feed token, each shown only in this answer.
//!
//! Invariant: only the SHA-256 of each is stored (see [`crate::tokens`]).
//!
//! Why the stores table cannot grow without limit (an anonymous caller can write to it):
//! - each peer (an IPv4 address, or an IPv6 /64 — one host's usual share) may register only
//!   a few stores a minute, so one caller cannot fill the table nor use up the shared rate
//!   and lock others out;
//! - all peers together are held to a rate per replica, a ceiling on what a distributed flood
//!   writes;
//! - a store whose feed was never opened within a day (`unclaimed_store_ttl`) is removed by
//!   the periodic sweep, so abandoned registrations do not accumulate: the table holds the
//!   stores in use plus at most a day of registrations at the ceiling rate.
//!
//! A hub behind a load balancer sees the balancer as the peer; there the per-peer limit is
//! the balancer's, and the balancer should limit registrations per client itself.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use fluxstore_connect_api::WireSecret;
use fluxstore_connect_api::hub::StoreRegistration;
use fluxstore_relay::signature::unix_now;
use secrecy::ExposeSecret;

use crate::intake::{Refusal, peer_of};
use crate::store::{NewStore, Store};
use crate::{App, STORE_WEBHOOK_PREFIX, tokens};

/// The peer as the per-peer limit counts it: an IPv4 address, or an IPv6 /64.
pub(crate) fn peer_group(peer: Option<SocketAddr>) -> IpAddr {
    match peer.map(|p| p.ip()) {
        Some(IpAddr::V6(v6)) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let s = v6.segments();
                IpAddr::V6(Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
            }
        },
        Some(v4) => v4,
        None => IpAddr::V4(Ipv4Addr::UNSPECIFIED),
    }
}

/// `POST /v1/stores`: register a key-mode store.
pub(crate) async fn register_store<S: Store>(
    State(app): State<Arc<App<S>>>,
    req: Request,
) -> Response {
    let peer = peer_of(&req);
    if app
        .registration_peer_limiter
        .check_key(&peer_group(peer))
        .is_err()
    {
        return Refusal::new(
            StatusCode::TOO_MANY_REQUESTS,
            "rate_limited",
            "Too many stores were registered from this address; try again in a few minutes.",
            "over the registration rate of the peer",
        )
        .answer("store registration", peer);
    }
    if app.registration_limiter.check().is_err() {
        return Refusal::new(
            StatusCode::TOO_MANY_REQUESTS,
            "rate_limited",
            "Too many stores are being registered right now; try again in a minute.",
            "over the registration rate",
        )
        .answer("store registration", peer);
    }
    let key = tokens::new_token(tokens::STORE_KEY_PREFIX);
    let feed_token = tokens::new_token(tokens::FEED_TOKEN_PREFIX);
    let store = NewStore {
        id: tokens::new_store_id(),
        key_hash: tokens::hash_secret(&key),
        feed_token_hash: tokens::hash_secret(&feed_token),
        created: unix_now(),
    };
    if let Err(e) = app.store.create_store(&store).await {
        return Refusal::storage(e).answer("store registration", peer);
    }
    let webhook_url = app
        .config
        .public(&format!("{STORE_WEBHOOK_PREFIX}{}", key.expose_secret()));
    tracing::info!(store = %store.id, "store registered");
    let registration = StoreRegistration {
        store_id: store.id,
        store_key: WireSecret::new(key.expose_secret()),
        feed_token: WireSecret::new(feed_token.expose_secret()),
        webhook_url: webhook_url.to_string(),
    };
    (StatusCode::OK, axum::Json(registration)).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_peer_is_its_ipv4_address_or_its_ipv6_64() {
        let at = |s: &str| Some(s.parse::<SocketAddr>().unwrap());
        assert_eq!(
            peer_group(at("203.0.113.7:5000")),
            peer_group(at("203.0.113.7:6000"))
        );
        assert_ne!(
            peer_group(at("203.0.113.7:5000")),
            peer_group(at("203.0.113.8:5000"))
        );
        assert_eq!(
            peer_group(at("[2001:db8:1:2:aaaa::1]:5000")),
            peer_group(at("[2001:db8:1:2:bbbb::9]:5000")),
            "one host's /64 is one peer"
        );
        assert_ne!(
            peer_group(at("[2001:db8:1:2::1]:5000")),
            peer_group(at("[2001:db8:1:3::1]:5000"))
        );
        assert_eq!(
            peer_group(at("[::ffff:203.0.113.7]:5000")),
            peer_group(at("203.0.113.7:1")),
            "an IPv4 peer seen through IPv6 is the same peer"
        );
    }
}
