//! Doorbells in: the platform's Connect webhooks and key-mode stores' webhooks; the health
//! check; the coded refusals every route answers with.
//!
//! Invariant (as the relay's intake): refuse early, verify the raw bytes before parsing, and
//! answer 200 only after the doorbell is committed; a database that does not answer is a
//! 503 (Stripe retries). Every refusal is a coarse `{"error":{"code","message"}}` with the
//! relay's codes where the relay has one; the detail goes to the log only, never the body.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::{ConnectInfo, Path, Request, State};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use fluxstore_mirror::RejectionCode;
use fluxstore_relay::Mode;
use fluxstore_relay::signature::unix_now;
use http_body_util::{BodyExt, LengthLimitError, Limited};
use serde::Deserialize;
use serde_json::json;

use crate::store::{NewDoorbell, Store, Target};
use crate::{App, STORE_WEBHOOK_PREFIX, tokens};

/// A refusal: status, public code and message, and the detail for the log only.
pub(crate) struct Refusal {
    status: StatusCode,
    code: &'static str,
    message: &'static str,
    detail: String,
}

impl Refusal {
    pub(crate) fn coded(
        status: StatusCode,
        code: RejectionCode,
        detail: impl Into<String>,
    ) -> Refusal {
        Refusal {
            status,
            code: code.as_str(),
            message: code.public_message(),
            detail: detail.into(),
        }
    }

    pub(crate) fn new(
        status: StatusCode,
        code: &'static str,
        message: &'static str,
        detail: impl Into<String>,
    ) -> Refusal {
        Refusal {
            status,
            code,
            message,
            detail: detail.into(),
        }
    }

    pub(crate) fn storage(detail: impl std::fmt::Display) -> Refusal {
        Refusal::coded(
            StatusCode::SERVICE_UNAVAILABLE,
            RejectionCode::StorageUnavailable,
            detail.to_string(),
        )
    }

    pub(crate) fn answer(self, what: &str, peer: Option<SocketAddr>) -> Response {
        tracing::info!(
            status = self.status.as_u16(),
            code = self.code,
            peer = %peer.map(|p| p.to_string()).unwrap_or_else(|| "-".into()),
            reason = %self.detail,
            "{what} refused"
        );
        let mut response = (
            self.status,
            axum::Json(json!({ "error": { "code": self.code, "message": self.message } })),
        )
            .into_response();
        match self.status {
            StatusCode::METHOD_NOT_ALLOWED => {
                response
                    .headers_mut()
                    .insert(header::ALLOW, header::HeaderValue::from_static("POST"));
            }
            StatusCode::TOO_MANY_REQUESTS => {
                response
                    .headers_mut()
                    .insert(header::RETRY_AFTER, header::HeaderValue::from_static("1"));
            }
            StatusCode::UNAUTHORIZED => {
                response.headers_mut().insert(
                    header::WWW_AUTHENTICATE,
                    header::HeaderValue::from_static("Bearer"),
                );
            }
            _ => {}
        }
        response
    }
}

pub(crate) fn peer_of(req: &Request) -> Option<SocketAddr> {
    req.extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0)
}

const RATE_LIMITED_MESSAGE: &str =
    "Too many deliveries for this store at once; Stripe retries them later.";

/// POST only, the declared and the actual size within the limit, the body within the time.
async fn read_body<S: Store>(app: &App<S>, req: Request) -> Result<(HeaderMap, Bytes), Refusal> {
    if req.method() != Method::POST {
        return Err(Refusal::coded(
            StatusCode::METHOD_NOT_ALLOWED,
            RejectionCode::MethodNotAllowed,
            format!("method {}", req.method()),
        ));
    }
    let limit = app.config.body_limit;
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        return Err(Refusal::coded(
            StatusCode::PAYLOAD_TOO_LARGE,
            RejectionCode::PayloadTooLarge,
            format!("declared {} bytes, limit {limit}", declared.unwrap_or(0)),
        ));
    }
    let (parts, body) = req.into_parts();
    let read = tokio::time::timeout(
        app.config.request_timeout,
        Limited::new(body, limit).collect(),
    );
    match read.await {
        Ok(Ok(collected)) => Ok((parts.headers, collected.to_bytes())),
        Err(_) => Err(Refusal::coded(
            StatusCode::REQUEST_TIMEOUT,
            RejectionCode::RequestTimeout,
            "the body did not arrive within the request timeout",
        )),
        Ok(Err(e)) if e.downcast_ref::<LengthLimitError>().is_some() => Err(Refusal::coded(
            StatusCode::PAYLOAD_TOO_LARGE,
            RejectionCode::PayloadTooLarge,
            format!("body over the limit of {limit} bytes"),
        )),
        Ok(Err(e)) => Err(Refusal::coded(
            StatusCode::BAD_REQUEST,
            RejectionCode::MalformedPayload,
            format!("the body could not be read: {e}"),
        )),
    }
}

/// The only fields of an event the hub reads; everything else stays unread.
#[derive(Deserialize)]
struct EventIds {
    id: String,
    #[serde(rename = "type")]
    kind: String,
    created: i64,
    livemode: bool,
    #[serde(default)]
    account: Option<String>,
}

fn id_shaped(text: &str, prefix: &str) -> bool {
    text.len() <= 255
        && text.len() > prefix.len()
        && text.starts_with(prefix)
        && text.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

fn type_shaped(text: &str) -> bool {
    !text.is_empty()
        && text.len() <= 128
        && text
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'.' || b == b'_')
}

fn parse_ids(body: &[u8]) -> Result<EventIds, Refusal> {
    let malformed = |detail: String| {
        Refusal::coded(
            StatusCode::BAD_REQUEST,
            RejectionCode::MalformedPayload,
            detail,
        )
    };
    let ids: EventIds =
        serde_json::from_slice(body).map_err(|e| malformed(format!("not an event: {e}")))?;
    if !id_shaped(&ids.id, "evt_") {
        return Err(malformed("the event id is not an evt_ id".into()));
    }
    if !type_shaped(&ids.kind) {
        return Err(malformed("the event type is not an event type".into()));
    }
    if ids.created < 0 {
        return Err(malformed("the event's created time is negative".into()));
    }
    if let Some(account) = &ids.account
        && !id_shaped(account, "acct_")
    {
        return Err(malformed("the event's account is not an acct_ id".into()));
    }
    Ok(ids)
}

/// Commit a doorbell within the request timeout; 200 with whether it was new.
async fn commit<S: Store>(app: &App<S>, doorbell: NewDoorbell) -> Result<Response, Refusal> {
    let event_id = doorbell.event_id.clone();
    let written = tokio::time::timeout(app.config.request_timeout, app.store.ring(doorbell))
        .await
        .map_err(|_| Refusal::storage("the commit did not finish within the request timeout"))?
        .map_err(Refusal::storage)?;
    tracing::debug!(event_id, duplicate = !written, "doorbell stored");
    let body = json!({ "received": true, "event_id": event_id, "duplicate": !written });
    Ok((StatusCode::OK, axum::Json(body)).into_response())
}

/// `POST /api/webhooks/stripe`: the platform's Connect endpoint.
pub(crate) async fn platform_webhook<S: Store>(
    State(app): State<Arc<App<S>>>,
    req: Request,
) -> Response {
    let peer = peer_of(&req);
    let outcome = async {
        let (headers, body) = read_body(&app, req).await?;
        accept_platform(&app, &headers, &body).await
    };
    outcome
        .await
        .unwrap_or_else(|r| r.answer("platform webhook delivery", peer))
}

/// Secrets present → header present → signature of the event's mode → parse → commit.
async fn accept_platform<S: Store>(
    app: &App<S>,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Response, Refusal> {
    let secrets = &app.config.secrets;
    if secrets.is_empty() {
        return Err(Refusal::coded(
            StatusCode::SERVICE_UNAVAILABLE,
            RejectionCode::NoSigningSecret,
            "the webhook secret file has no secret",
        ));
    }
    let values: Vec<_> = headers.get_all("stripe-signature").iter().collect();
    if values.is_empty() {
        return Err(Refusal::coded(
            StatusCode::BAD_REQUEST,
            RejectionCode::SignatureHeaderMissing,
            "no Stripe-Signature header",
        ));
    }
    // Several header lines mean the same as one line joined by commas (RFC 9110 §5.3).
    let mut header_text = String::new();
    for value in values {
        let text = value.to_str().map_err(|_| {
            Refusal::coded(
                StatusCode::BAD_REQUEST,
                RejectionCode::SignatureInvalid,
                "the Stripe-Signature header is not visible ASCII",
            )
        })?;
        if !header_text.is_empty() {
            header_text.push(',');
        }
        header_text.push_str(text);
    }
    let verified = secrets
        .verify(body, &header_text, app.config.tolerance, unix_now())
        .map_err(|e| Refusal::coded(StatusCode::BAD_REQUEST, e.code(), e.to_string()))?;
    let ids = parse_ids(body)?;
    if !verified.allows(ids.livemode) {
        return Err(Refusal::coded(
            StatusCode::BAD_REQUEST,
            RejectionCode::ModeMismatch,
            format!(
                "a {}-mode secret signed a {}-mode event",
                verified.mode.as_str(),
                Mode::from_livemode(ids.livemode).as_str()
            ),
        ));
    }
    let Some(account) = ids.account else {
        // The platform's own event (not a connected account's): no store to ring.
        let body = json!({ "received": true, "event_id": ids.id, "doorbell": false });
        return Ok((StatusCode::OK, axum::Json(body)).into_response());
    };
    commit(
        app,
        NewDoorbell {
            target: Target::Account(account),
            livemode: ids.livemode,
            event_id: ids.id,
            event_type: ids.kind,
            created: ids.created,
            received: unix_now(),
        },
    )
    .await
}

/// `POST /api/webhooks/stripe/s/{store_key}`: a key-mode store's endpoint.
pub(crate) async fn store_webhook<S: Store>(
    State(app): State<Arc<App<S>>>,
    Path(store_key): Path<String>,
    req: Request,
) -> Response {
    let peer = peer_of(&req);
    let outcome = async {
        if req.method() != Method::POST {
            return Err(Refusal::coded(
                StatusCode::METHOD_NOT_ALLOWED,
                RejectionCode::MethodNotAllowed,
                format!("method {}", req.method()),
            ));
        }
        if !tokens::well_formed(&store_key, tokens::STORE_KEY_PREFIX) {
            return Err(unknown_store());
        }
        let store = app
            .store
            .store_by_key(tokens::hash(&store_key))
            .await
            .map_err(Refusal::storage)?
            .ok_or_else(unknown_store)?;
        let (_, body) = read_body(&app, req).await?;
        if app.store_limiter.check_key(&store).is_err() {
            return Err(Refusal::new(
                StatusCode::TOO_MANY_REQUESTS,
                "rate_limited",
                RATE_LIMITED_MESSAGE,
                format!("store {store} is over its doorbell rate"),
            ));
        }
        let ids = parse_ids(&body)?;
        commit(
            &app,
            NewDoorbell {
                target: Target::Store(store),
                livemode: ids.livemode,
                event_id: ids.id,
                event_type: ids.kind,
                created: ids.created,
                received: unix_now(),
            },
        )
        .await
    };
    outcome
        .await
        .unwrap_or_else(|r| r.answer("store webhook delivery", peer))
}

fn unknown_store() -> Refusal {
    Refusal::coded(
        StatusCode::NOT_FOUND,
        RejectionCode::NotFound,
        "no store has this key",
    )
}

/// `GET /healthz`: 200 while the database answers within five seconds.
pub(crate) async fn healthz<S: Store>(State(app): State<Arc<App<S>>>) -> Response {
    let ping = tokio::time::timeout(std::time::Duration::from_secs(5), app.store.ping()).await;
    match ping {
        Ok(Ok(())) => (StatusCode::OK, axum::Json(json!({ "status": "ok" }))).into_response(),
        Ok(Err(e)) => Refusal::storage(e).answer("health check", None),
        Err(_) => Refusal::storage("no answer within 5 s").answer("health check", None),
    }
}

pub(crate) async fn not_found(req: Request) -> Response {
    let peer = peer_of(&req);
    // A path under the store endpoints may carry a store key: never into the log.
    let path = req.uri().path();
    let shown = if path.starts_with(STORE_WEBHOOK_PREFIX) {
        format!("{STORE_WEBHOOK_PREFIX}…")
    } else {
        path.to_owned()
    };
    Refusal::coded(
        StatusCode::NOT_FOUND,
        RejectionCode::NotFound,
        format!("{} {shown}", req.method()),
    )
    .answer("request", peer)
}
