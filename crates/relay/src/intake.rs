//! The HTTP intake: `POST /api/webhooks/stripe` and `GET /healthz`.
//!
//! Invariant: the raw body is verified before it is parsed, and a 2xx is sent only after the
//! writer reports the event's batch committed. A request whose headers already settle it (no
//! signing secret, no or a malformed `Stripe-Signature`, a timestamp outside the tolerance,
//! a declared size over the limit) is refused before its body is read. An event is accepted
//! only in the mode of the secret that signed it (`mode_mismatch` otherwise). Every refusal
//! is answered with a coarse `{"error":{"code","message"}}` (never internals) and counted:
//! into the hourly rejection aggregates (code, count, last size and peer; never the body),
//! written with the writer's next batch, except 404/405 noise, counted in memory only.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use axum::Router;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get};
use fluxstore_mirror::{Event, IngestOutcome, Mode, NewRejection, RejectionCode};
use http_body_util::{BodyExt, LengthLimitError, Limited};
use serde_json::json;

use crate::secrets::SigningSecrets;
use crate::signature::{self, SignatureError, SignatureHeader};
use crate::writer::{WriteError, Writer};

/// The path Stripe is configured to post to (a domain fact, declared in the mirror's facts).
pub use fluxstore_mirror::facts::WEBHOOK_PATH;

/// State shared by every request.
pub(crate) struct Intake {
    pub(crate) secrets: RwLock<Arc<SigningSecrets>>,
    pub(crate) tolerance: Duration,
    pub(crate) body_limit: usize,
    pub(crate) request_timeout: Duration,
    pub(crate) writer: Writer,
    pub(crate) noise: Noise,
}

impl Intake {
    pub(crate) fn secrets(&self) -> Arc<SigningSecrets> {
        // A poisoned lock only means a writer panicked mid-swap of an Arc: the value is whole.
        self.secrets
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    pub(crate) fn set_secrets(&self, secrets: SigningSecrets) {
        *self.secrets.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(secrets);
    }
}

pub(crate) fn router(intake: Arc<Intake>) -> Router {
    Router::new()
        .route(WEBHOOK_PATH, any(webhook))
        .route("/healthz", get(healthz))
        .fallback(not_found)
        .with_state(intake)
}

/// A refusal: status, public code, and the detail kept for the log only.
struct Refusal {
    status: StatusCode,
    code: RejectionCode,
    detail: String,
}

impl Refusal {
    fn new(status: StatusCode, code: RejectionCode, detail: impl Into<String>) -> Refusal {
        Refusal {
            status,
            code,
            detail: detail.into(),
        }
    }
}

fn error_body(status: StatusCode, code: RejectionCode) -> Response {
    let body = json!({ "error": { "code": code.as_str(), "message": code.public_message() } });
    (status, axum::Json(body)).into_response()
}

fn peer_of(req: &Request) -> Option<String> {
    req.extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.to_string())
}

/// Answer a refusal and count it (written as an aggregate with the next batch). 404 and
/// 405 are noise anyone can make: they are counted in memory only ([`crate::RelayStats`]).
fn refuse(intake: &Intake, refusal: Refusal, size: u64, peer: Option<String>) -> Response {
    // Debug, not info: a flood of refusals must not become a flood of log lines.
    tracing::debug!(
        code = refusal.code.as_str(),
        size,
        peer = peer.as_deref().unwrap_or("-"),
        reason = %refusal.detail,
        "webhook delivery rejected"
    );
    match refusal.code {
        RejectionCode::NotFound => {
            intake.noise.not_found.fetch_add(1, Ordering::Relaxed);
        }
        RejectionCode::MethodNotAllowed => {
            intake
                .noise
                .method_not_allowed
                .fetch_add(1, Ordering::Relaxed);
        }
        code => intake.writer.reject(&NewRejection { code, size, peer }),
    }
    let mut response = error_body(refusal.status, refusal.code);
    if refusal.status == StatusCode::METHOD_NOT_ALLOWED {
        response
            .headers_mut()
            .insert(header::ALLOW, header::HeaderValue::from_static("POST"));
    }
    response
}

/// A refusal sent before the body was read: the connection is closed after the answer, so
/// the unread body is never consumed (nor waited for).
fn refuse_unread(intake: &Intake, refusal: Refusal, size: u64, peer: Option<String>) -> Response {
    let mut response = refuse(intake, refusal, size, peer);
    response.headers_mut().insert(
        header::CONNECTION,
        header::HeaderValue::from_static("close"),
    );
    response
}

/// 404 and 405 seen since start (counted, never stored).
#[derive(Default)]
pub(crate) struct Noise {
    pub(crate) not_found: AtomicU64,
    pub(crate) method_not_allowed: AtomicU64,
}

async fn webhook(State(intake): State<Arc<Intake>>, req: Request) -> Response {
    let peer = peer_of(&req);
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    let size = declared.unwrap_or(0);
    if req.method() != Method::POST {
        let refusal = Refusal::new(
            StatusCode::METHOD_NOT_ALLOWED,
            RejectionCode::MethodNotAllowed,
            format!("method {}", req.method()),
        );
        return refuse_unread(&intake, refusal, size, peer);
    }
    // Everything that can be decided from the headers is decided before the body is read:
    // a sender without a valid-looking, current signature costs no body read.
    let secrets = intake.secrets();
    let signature = match check_headers(&intake, &secrets, req.headers()) {
        Ok(parsed) => parsed,
        Err(refusal) => return refuse_unread(&intake, refusal, size, peer),
    };
    let limit = intake.body_limit;
    if declared.is_some_and(|n| n > limit as u64) {
        let refusal = Refusal::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            RejectionCode::PayloadTooLarge,
            format!("declared {size} bytes, limit {limit}"),
        );
        return refuse_unread(&intake, refusal, size, peer);
    }
    let body = req.into_body();
    let read = tokio::time::timeout(intake.request_timeout, Limited::new(body, limit).collect());
    let body = match read.await {
        Ok(Ok(collected)) => collected.to_bytes(),
        Err(_elapsed) => {
            let refusal = Refusal::new(
                StatusCode::REQUEST_TIMEOUT,
                RejectionCode::RequestTimeout,
                "the body did not arrive within the request timeout",
            );
            return refuse_unread(&intake, refusal, size, peer);
        }
        Ok(Err(e)) if e.downcast_ref::<LengthLimitError>().is_some() => {
            let refusal = Refusal::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                RejectionCode::PayloadTooLarge,
                format!("body over the limit of {limit} bytes"),
            );
            return refuse_unread(&intake, refusal, limit as u64 + 1, peer);
        }
        Ok(Err(e)) => {
            let refusal = Refusal::new(
                StatusCode::BAD_REQUEST,
                RejectionCode::MalformedPayload,
                format!("the body could not be read: {e}"),
            );
            return refuse_unread(&intake, refusal, size, peer);
        }
    };
    let size = body.len() as u64;
    match accept(&intake, &secrets, &signature, &body).await {
        Ok(outcome) => {
            let (id, duplicate) = (outcome.event_id(), outcome.applied().is_none());
            tracing::debug!(event_id = id, duplicate, "webhook delivery stored");
            let body = json!({ "received": true, "event_id": id, "duplicate": duplicate });
            (StatusCode::OK, axum::Json(body)).into_response()
        }
        Err(refusal) => refuse(&intake, refusal, size, peer),
    }
}

/// Secret present → header present and well formed → timestamp within the tolerance.
fn check_headers(
    intake: &Intake,
    secrets: &SigningSecrets,
    headers: &HeaderMap,
) -> Result<SignatureHeader, Refusal> {
    if secrets.is_empty() {
        return Err(Refusal::new(
            StatusCode::SERVICE_UNAVAILABLE,
            RejectionCode::NoSigningSecret,
            "no signing secret is configured",
        ));
    }
    let values: Vec<_> = headers.get_all("stripe-signature").iter().collect();
    if values.is_empty() {
        return Err(Refusal::new(
            StatusCode::BAD_REQUEST,
            RejectionCode::SignatureHeaderMissing,
            "no Stripe-Signature header",
        ));
    }
    // Several header lines mean the same as one line joined by commas (RFC 9110 §5.3).
    let mut header_text = String::new();
    for value in values {
        let Ok(text) = value.to_str() else {
            return Err(Refusal::new(
                StatusCode::BAD_REQUEST,
                RejectionCode::SignatureInvalid,
                "the Stripe-Signature header is not visible ASCII",
            ));
        };
        if !header_text.is_empty() {
            header_text.push(',');
        }
        header_text.push_str(text);
    }
    let bad = |e: SignatureError| Refusal::new(StatusCode::BAD_REQUEST, e.code(), e.to_string());
    let parsed = signature::parse_header(&header_text).map_err(bad)?;
    signature::check_timestamp(&parsed, intake.tolerance, signature::unix_now()).map_err(bad)?;
    Ok(parsed)
}

/// Signature over the body → parse → the event's mode is the secret's → durable commit.
async fn accept(
    intake: &Intake,
    secrets: &SigningSecrets,
    signature: &SignatureHeader,
    body: &[u8],
) -> Result<IngestOutcome, Refusal> {
    let verified = signature::verify_parsed(body, signature, secrets)
        .map_err(|e| Refusal::new(StatusCode::BAD_REQUEST, e.code(), e.to_string()))?;
    let event = Event::parse(body).map_err(|e| {
        Refusal::new(
            StatusCode::BAD_REQUEST,
            RejectionCode::MalformedPayload,
            format!("a signed body that is not an event: {e}"),
        )
    })?;
    if !verified.allows(event.livemode) {
        return Err(Refusal::new(
            StatusCode::BAD_REQUEST,
            RejectionCode::ModeMismatch,
            format!(
                "a {} event signed with a {} mode secret",
                Mode::from_livemode(event.livemode).as_str(),
                verified.mode.as_str()
            ),
        ));
    }
    // A commit that takes this long means the database is stuck (locked by another
    // program, a hung disk): answer 503 so Stripe retries. If it commits later anyway,
    // the retry is a harmless duplicate.
    let committed = tokio::time::timeout(intake.request_timeout, intake.writer.ingest(event))
        .await
        .map_err(|_| {
            Refusal::new(
                StatusCode::SERVICE_UNAVAILABLE,
                RejectionCode::StorageUnavailable,
                "the commit did not finish within the request timeout",
            )
        })?;
    committed.map_err(|e| match e {
        WriteError::Refused(detail) => Refusal::new(
            StatusCode::BAD_REQUEST,
            RejectionCode::MalformedPayload,
            detail,
        ),
        other => Refusal::new(
            StatusCode::SERVICE_UNAVAILABLE,
            RejectionCode::StorageUnavailable,
            other.to_string(),
        ),
    })
}

async fn healthz(State(intake): State<Arc<Intake>>) -> Response {
    let secrets = !intake.secrets().is_empty();
    if intake.writer.is_alive() {
        let body = json!({
            "status": "ok",
            "signing_secret": secrets,
            // Requests to other paths and methods since start: counted, not stored.
            "ignored": {
                "not_found": intake.noise.not_found.load(Ordering::Relaxed),
                "method_not_allowed": intake.noise.method_not_allowed.load(Ordering::Relaxed),
            },
        });
        (StatusCode::OK, axum::Json(body)).into_response()
    } else {
        error_body(
            StatusCode::SERVICE_UNAVAILABLE,
            RejectionCode::StorageUnavailable,
        )
    }
}

async fn not_found(State(intake): State<Arc<Intake>>, req: Request) -> Response {
    let peer = peer_of(&req);
    let refusal = Refusal::new(
        StatusCode::NOT_FOUND,
        RejectionCode::NotFound,
        format!("{} to {}", req.method(), req.uri().path()),
    );
    refuse_unread(&intake, refusal, 0, peer)
}
