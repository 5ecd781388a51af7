//! Stripe's side of the wire, shared by every server that plays it: how a request is read
//! (the key from `Authorization`, the `Stripe-Version` header, form-encoded parameters in the
//! body for POST and in the query for GET) and how an answer is written (JSON, a
//! `request-id`, `Idempotent-Replayed` on a replay, Stripe's error object).
//!
//! Invariant: no answer echoes a key; a key is only ever shown masked, as Stripe does
//! (`sk_test_****abcd`).

use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, Method, Response, StatusCode};
use base64::Engine;
use serde_json::Value;

use crate::objects::new_id;
use crate::params::ApiError;

/// An answer: status and JSON body, and whether it replays a stored one.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: StatusCode,
    pub body: Value,
    pub replayed: bool,
    pub should_retry: Option<bool>,
}

impl From<ApiError> for Reply {
    fn from(e: ApiError) -> Reply {
        Reply {
            status: e.status,
            body: e.body,
            replayed: false,
            should_retry: e.should_retry,
        }
    }
}

impl Reply {
    /// The HTTP response Stripe would send.
    pub fn into_response(self) -> Response<Body> {
        let mut resp = Response::builder()
            .status(self.status)
            .header("content-type", "application/json")
            .header("request-id", new_id("req_"));
        if self.replayed {
            resp = resp.header("idempotent-replayed", "true");
        }
        if let Some(r) = self.should_retry {
            resp = resp.header("stripe-should-retry", if r { "true" } else { "false" });
        }
        resp.body(Body::from(self.body.to_string()))
            .unwrap_or_default()
    }
}

/// A 200 with `body`.
pub fn ok(body: Value) -> Result<Reply, ApiError> {
    Ok(Reply {
        status: StatusCode::OK,
        body,
        replayed: false,
        should_retry: None,
    })
}

/// Stripe's masked echo of a key: `sk_test_****abcd`.
pub fn masked(key: &str) -> String {
    let prefix_len = key.match_indices('_').nth(1).map_or(3, |(i, _)| i + 1);
    let tail: String = key
        .chars()
        .rev()
        .take(4)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    format!("{}****{tail}", &key[..prefix_len.min(key.len())])
}

/// The key a request carries: `Authorization: Bearer <key>`, or Basic with the key as the
/// user name (what Stripe accepts).
pub fn bearer(headers: &HeaderMap) -> Option<String> {
    let h = headers.get("authorization")?.to_str().ok()?;
    if let Some(t) = h.strip_prefix("Bearer ") {
        return Some(t.trim().to_owned());
    }
    let b = h.strip_prefix("Basic ")?;
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(b.trim())
        .ok()?;
    let text = String::from_utf8(decoded).ok()?;
    Some(text.split(':').next().unwrap_or("").to_owned())
}

/// The key of a request, or Stripe's 401 when there is none.
pub fn presented_key(headers: &HeaderMap) -> Result<String, ApiError> {
    bearer(headers).filter(|k| !k.is_empty()).ok_or_else(|| {
        ApiError::new(
            StatusCode::UNAUTHORIZED,
            "invalid_request_error",
            "You did not provide an API key. You need to provide your API key in the Authorization header, using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY').",
        )
    })
}

/// Stripe's 401 for a key it does not know (masked, never echoed whole).
pub fn unknown_key(key: &str) -> ApiError {
    ApiError::new(
        StatusCode::UNAUTHORIZED,
        "invalid_request_error",
        format!("Invalid API Key provided: {}", masked(key)),
    )
}

/// A header's text, when present and readable.
pub fn header(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

/// `YYYY-MM-DD` with an optional `.name` (lower-case letters), as Stripe versions are.
pub fn valid_version(v: &str) -> bool {
    let (date, name) = v.split_once('.').map_or((v, None), |(d, n)| (d, Some(n)));
    let b = date.as_bytes();
    let date_ok = b.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && b.iter()
            .enumerate()
            .all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit());
    date_ok && name.is_none_or(|n| !n.is_empty() && n.chars().all(|c| c.is_ascii_lowercase()))
}

/// A present `Stripe-Version` must name a version.
pub fn check_version(headers: &HeaderMap) -> Result<(), ApiError> {
    match header(headers, "stripe-version") {
        Some(v) if !valid_version(&v) => Err(ApiError::invalid(
            format!("Invalid Stripe API version: {v}"),
            "",
        )),
        _ => Ok(()),
    }
}

/// The form-encoded text a request's parameters travel in: the body of a POST, else the
/// query.
pub fn raw_params(method: &Method, query: &str, body: &Bytes) -> String {
    if method == Method::POST {
        String::from_utf8_lossy(body).into_owned()
    } else {
        query.to_owned()
    }
}

/// Stripe's 404 for a URL the API does not have.
pub fn unrecognized(method: &Method, path: &str) -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "invalid_request_error",
        format!(
            "Unrecognized request URL ({}: {path}). Please see https://docs.stripe.com or we can help at https://support.stripe.com/.",
            method.as_str()
        ),
    )
}
