//! `POST /v1/stores`: a key-mode store registers, and receives its store key (the last
//! segment of its webhook URL) and its feed token, each shown only in this answer.
//!
//! Invariant: only the SHA-256 of each is stored (see [`crate::tokens`]); registrations are
//! rate-limited per replica.

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

/// `POST /v1/stores`: register a key-mode store.
pub(crate) async fn register_store<S: Store>(
    State(app): State<Arc<App<S>>>,
    req: Request,
) -> Response {
    let peer = peer_of(&req);
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
