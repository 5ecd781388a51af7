//! Idempotent POSTs as Stripe keeps them: the first answer to an `Idempotency-Key` is stored
//! per API key and replayed for the same request; the same key with other parameters or
//! another path is refused.
//!
//! Invariant: a validation failure (400) is not stored, so the request may be corrected and
//! retried with the same key; anything else (success, 402, 404, …) is, and replays as it was.

use std::collections::HashMap;

use axum::http::StatusCode;
use serde_json::Value;

use crate::params::{ApiError, Params};
use crate::wire::Reply;

/// Stripe's limit on the key's length.
const MAX_KEY_LEN: usize = 255;

#[derive(Debug, Clone)]
struct Stored {
    path: String,
    fingerprint: Vec<(String, String)>,
    status: StatusCode,
    body: Value,
}

/// Stored first answers, by (API key, idempotency key).
#[derive(Debug, Default)]
pub struct Idempotency {
    stored: HashMap<(String, String), Stored>,
}

impl Idempotency {
    /// Before doing a POST's work: Some(answer) when the key is malformed, already used for
    /// another request (refused), or already answered (the stored answer, replayed).
    pub fn before(&self, api_key: &str, idem: &str, path: &str, params: &Params) -> Option<Reply> {
        if idem.len() > MAX_KEY_LEN {
            return Some(
                ApiError::invalid("Idempotency keys are at most 255 characters long.", "").into(),
            );
        }
        let stored = self.stored.get(&(api_key.to_owned(), idem.to_owned()))?;
        if stored.path != path || stored.fingerprint != params.fingerprint() {
            return Some(
                ApiError::new(
                    StatusCode::BAD_REQUEST,
                    "idempotency_error",
                    format!("Keys for idempotent requests can only be used with the same parameters they were first used with. Try using a key other than '{idem}' if you meant to execute a different request."),
                )
                .into(),
            );
        }
        Some(Reply {
            status: stored.status,
            body: stored.body.clone(),
            replayed: true,
            should_retry: None,
        })
    }

    /// After the work: keep the answer for replays (not a validation failure).
    pub fn after(&mut self, api_key: &str, idem: &str, path: &str, params: &Params, reply: &Reply) {
        if reply.status == StatusCode::BAD_REQUEST {
            return;
        }
        self.stored.insert(
            (api_key.to_owned(), idem.to_owned()),
            Stored {
                path: path.to_owned(),
                fingerprint: params.fingerprint(),
                status: reply.status,
                body: reply.body.clone(),
            },
        );
    }
}
