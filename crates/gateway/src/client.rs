//! The one outbound client for Stripe's REST API.
//!
//! Invariants:
//! - Every request carries the pinned [`STRIPE_VERSION`]; every POST carries an
//!   `Idempotency-Key`, and a retry reuses the key of the first attempt.
//! - Retries are bounded ([`ClientConfig::max_retries`]) and happen only where Stripe says
//!   they are safe: a connection failure, `Stripe-Should-Retry: true`, 429, or a 5xx on a GET.
//!   `Stripe-Should-Retry: false` always wins.
//! - Every attempt leaves one audit row in the mirror (method, path, object id, status,
//!   Request-Id, idempotency key, duration) and never the key, token, query or body.
//! - Errors are [`GatewayError`]s with the owner's words; Stripe's text is redacted first.

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use fluxstore_mirror::{ApiCall, Mirror, Mode};
use reqwest::{Method, StatusCode, header::HeaderMap};
use serde_json::Value;

use crate::error::{GatewayError, map_error};
use crate::form::Form;
use crate::keys::ApiKey;
use crate::secret::Secret;

/// The Stripe API version every request and every created webhook endpoint is pinned to.
/// The newest version the official server libraries pin (stripe-node, stripe-go) and the
/// one whose object shapes our reference documents; events keep their own version anyway.
pub const STRIPE_VERSION: &str = "2026-07-29.dahlia";

pub const DEFAULT_API_BASE: &str = "https://api.stripe.com";

/// Stripe's Files API lives on a host of its own; an API base set for tests or the sample
/// store serves both.
pub const DEFAULT_FILES_BASE: &str = "https://files.stripe.com";

/// Environment variable that overrides the API base URL (the sample store and tests point
/// it at a local fake).
pub const API_BASE_ENV: &str = "FLUXSTORE_STRIPE_API_BASE";

/// What the client authenticates with.
#[derive(Debug, Clone)]
pub enum Credential {
    /// A secret (`sk_`) or restricted (`rk_`) key pasted by the owner.
    ApiKey(ApiKey),
    /// A Connect access token; its mode comes from the token exchange's `livemode`.
    ConnectToken { token: Secret, mode: Mode },
}

impl Credential {
    pub fn mode(&self) -> Mode {
        match self {
            Credential::ApiKey(k) => k.mode(),
            Credential::ConnectToken { mode, .. } => *mode,
        }
    }
    fn secret(&self) -> &Secret {
        match self {
            Credential::ApiKey(k) => k.secret(),
            Credential::ConnectToken { token, .. } => token,
        }
    }
}

#[derive(Debug, Clone)]
pub struct ClientConfig {
    pub api_base: url::Url,
    /// Whole-request timeout (a hang guard, not a measurement).
    pub timeout: Duration,
    pub connect_timeout: Duration,
    /// Retries after the first attempt.
    pub max_retries: u32,
    pub backoff_base: Duration,
    pub backoff_max: Duration,
    /// `Stripe-Account: acct_…` for acting on a connected account.
    pub stripe_account: Option<String>,
}

impl Default for ClientConfig {
    fn default() -> ClientConfig {
        ClientConfig {
            api_base: url::Url::parse(DEFAULT_API_BASE).expect("constant URL parses"),
            timeout: Duration::from_secs(30),
            connect_timeout: Duration::from_secs(10),
            max_retries: 2,
            backoff_base: Duration::from_millis(500),
            backoff_max: Duration::from_secs(8),
            stripe_account: None,
        }
    }
}

impl ClientConfig {
    /// Where files are uploaded: Stripe's Files API host with Stripe's API base, else the
    /// configured base (`--api-base` serves both).
    pub fn files_base(&self) -> url::Url {
        let default = url::Url::parse(DEFAULT_API_BASE).expect("constant URL parses");
        if self.api_base == default {
            url::Url::parse(DEFAULT_FILES_BASE).expect("constant URL parses")
        } else {
            self.api_base.clone()
        }
    }

    /// Defaults with the base URL taken from `api_base`, else [`API_BASE_ENV`], else Stripe.
    pub fn from_env(api_base: Option<&str>) -> Result<ClientConfig, GatewayError> {
        let mut cfg = ClientConfig::default();
        let chosen = api_base.map(str::to_owned).or_else(|| {
            std::env::var(API_BASE_ENV)
                .ok()
                .filter(|s| !s.trim().is_empty())
        });
        if let Some(base) = chosen {
            let url = url::Url::parse(base.trim()).map_err(|_| {
                GatewayError::invalid(
                    "The Stripe API address (--api-base or FLUXSTORE_STRIPE_API_BASE) is not a valid URL.",
                )
            })?;
            // Checked before any connection: the key travels in every request's header.
            if !crate::net::sends_secrets_safely(&url) {
                return Err(GatewayError::invalid(
                    "The Stripe API address (--api-base or FLUXSTORE_STRIPE_API_BASE) must start with https:// (plain http is allowed only for an address on this computer), so your keys never travel unencrypted.",
                ));
            }
            cfg.api_base = url;
        }
        Ok(cfg)
    }
}

/// One request as the API modules describe it.
#[derive(Debug)]
pub(crate) struct Call {
    pub method: Method,
    pub path: String,
    pub query: Form,
    pub body: Form,
    /// Required for POST (set by [`Call::post`] when the caller has no derived key).
    pub idempotency_key: Option<String>,
    /// The object the call is about, for the audit row (else the response's `id`).
    pub object_id: Option<String>,
    /// A file sent as `multipart/form-data` to the Files API (the `body` pairs travel as
    /// text parts beside it).
    pub upload: Option<Upload>,
}

/// One file of a multipart upload.
#[derive(Debug, Clone)]
pub(crate) struct Upload {
    pub file_name: String,
    pub mime: String,
    pub bytes: Arc<Vec<u8>>,
}

impl Call {
    pub fn get(path: impl Into<String>) -> Call {
        Call {
            method: Method::GET,
            path: path.into(),
            query: Form::new(),
            body: Form::new(),
            idempotency_key: None,
            object_id: None,
            upload: None,
        }
    }
    pub fn post(path: impl Into<String>, body: Form, idempotency_key: Option<String>) -> Call {
        let key = idempotency_key.unwrap_or_else(random_idempotency_key);
        Call {
            method: Method::POST,
            path: path.into(),
            query: Form::new(),
            body,
            idempotency_key: Some(key),
            object_id: None,
            upload: None,
        }
    }
    pub fn delete(path: impl Into<String>) -> Call {
        Call {
            method: Method::DELETE,
            ..Call::get(path)
        }
    }
    /// A multipart POST of `upload` to the Files API.
    pub fn upload(
        path: impl Into<String>,
        body: Form,
        upload: Upload,
        idempotency_key: String,
    ) -> Call {
        Call {
            upload: Some(upload),
            ..Call::post(path, body, Some(idempotency_key))
        }
    }
    pub fn object(mut self, id: &str) -> Call {
        self.object_id = Some(id.to_owned());
        self
    }
}

fn random_idempotency_key() -> String {
    let bytes: [u8; 16] = rand::random();
    format!("fluxstore-{}", hex::encode(bytes))
}

/// The Stripe client: one per credential. Cheap to clone.
#[derive(Clone)]
pub struct StripeClient {
    http: reqwest::Client,
    cfg: ClientConfig,
    credential: Credential,
    mirror: Arc<Mutex<Mirror>>,
}

impl std::fmt::Debug for StripeClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StripeClient")
            .field("api_base", &self.cfg.api_base.as_str())
            .field("mode", &self.credential.mode())
            .finish_non_exhaustive()
    }
}

/// What one attempt produced, before mapping.
enum Attempt {
    Response {
        status: StatusCode,
        headers: HeaderMap,
        body: Vec<u8>,
    },
    Network(reqwest::Error),
}

impl StripeClient {
    pub fn new(
        cfg: ClientConfig,
        credential: Credential,
        mirror: Arc<Mutex<Mirror>>,
    ) -> Result<StripeClient, GatewayError> {
        let http = reqwest::Client::builder()
            .timeout(cfg.timeout)
            .connect_timeout(cfg.connect_timeout)
            .user_agent(concat!("FluxStore-Desktop/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| GatewayError::UnexpectedResponse(format!("HTTP client setup: {e}")))?;
        Ok(StripeClient {
            http,
            cfg,
            credential,
            mirror,
        })
    }

    pub fn mode(&self) -> Mode {
        self.credential.mode()
    }
    pub fn config(&self) -> &ClientConfig {
        &self.cfg
    }
    /// True when the credential is a Connect access token: the account is a connected one.
    pub(crate) fn is_connect_token(&self) -> bool {
        matches!(self.credential, Credential::ConnectToken { .. })
    }
    /// The shared mirror (audit rows, the privacy guard, ingest).
    pub fn mirror(&self) -> &Arc<Mutex<Mirror>> {
        &self.mirror
    }
    pub(crate) fn lock_mirror(&self) -> MutexGuard<'_, Mirror> {
        // A panic while holding the lock leaves a connection that is still consistent
        // (SQLite transactions roll back), so a poisoned lock is safe to reuse.
        self.mirror.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Send `call`, retrying where allowed, and return the JSON body of a 2xx answer.
    pub(crate) async fn send(&self, call: Call) -> Result<Value, GatewayError> {
        let mut attempt: u32 = 0;
        loop {
            let started = Instant::now();
            let outcome = self.attempt(&call).await;
            let duration_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
            let (result, retry) = self.judge(&call, outcome);
            self.audit(&call, &result, duration_ms);
            match result {
                Ok(v) => return Ok(v.body),
                Err(failure) => {
                    if retry && attempt < self.cfg.max_retries {
                        tokio::time::sleep(self.backoff(attempt)).await;
                        attempt += 1;
                        continue;
                    }
                    return Err(failure.error);
                }
            }
        }
    }

    async fn attempt(&self, call: &Call) -> Attempt {
        let base = if call.upload.is_some() {
            self.cfg.files_base()
        } else {
            self.cfg.api_base.clone()
        };
        let mut url = match base.join(call.path.trim_start_matches('/')) {
            Ok(u) => u,
            Err(_) => {
                return Attempt::Response {
                    status: StatusCode::BAD_REQUEST,
                    headers: HeaderMap::new(),
                    body: Vec::new(),
                };
            }
        };
        if !call.query.is_empty() {
            url.set_query(Some(&call.query.encode()));
        }
        let mut req = self
            .http
            .request(call.method.clone(), url)
            .bearer_auth(self.credential.secret().expose())
            .header("Stripe-Version", STRIPE_VERSION);
        if let Some(acct) = &self.cfg.stripe_account {
            req = req.header("Stripe-Account", acct);
        }
        if call.method == Method::POST {
            if let Some(k) = &call.idempotency_key {
                req = req.header("Idempotency-Key", k);
            }
            req = match &call.upload {
                None => req
                    .header("Content-Type", "application/x-www-form-urlencoded")
                    .body(call.body.encode()),
                Some(up) => {
                    // Built per attempt: a multipart body is consumed by sending it.
                    let mut form = reqwest::multipart::Form::new();
                    for (k, v) in call.body.pairs() {
                        form = form.text(k.clone(), v.clone());
                    }
                    let part = reqwest::multipart::Part::bytes(up.bytes.as_ref().clone())
                        .file_name(up.file_name.clone())
                        .mime_str(&up.mime)
                        .unwrap_or_else(|_| {
                            reqwest::multipart::Part::bytes(up.bytes.as_ref().clone())
                        });
                    req.multipart(form.part("file", part))
                }
            };
        }
        let resp = match req.send().await {
            Ok(r) => r,
            Err(e) => return Attempt::Network(e),
        };
        let status = resp.status();
        let headers = resp.headers().clone();
        match resp.bytes().await {
            Ok(b) => Attempt::Response {
                status,
                headers,
                body: b.to_vec(),
            },
            Err(e) => Attempt::Network(e),
        }
    }

    /// Map one attempt to a result and whether retrying is allowed.
    fn judge(&self, call: &Call, outcome: Attempt) -> (Result<Success, Failure>, bool) {
        match outcome {
            Attempt::Network(e) => {
                // A POST is safe to resend because it carries its idempotency key; a GET is
                // safe anyway.
                let error = if e.is_timeout() {
                    GatewayError::Timeout
                } else {
                    GatewayError::Offline
                };
                (
                    Err(Failure {
                        status: None,
                        request_id: None,
                        error,
                    }),
                    true,
                )
            }
            Attempt::Response {
                status,
                headers,
                body,
            } => {
                let request_id = header_str(&headers, "request-id");
                let should_retry = header_str(&headers, "stripe-should-retry").map(|v| v == "true");
                let parsed: Option<Value> = serde_json::from_slice(&body).ok();
                if status.is_success() {
                    return match parsed {
                        Some(body) => (
                            Ok(Success {
                                status: status.as_u16(),
                                request_id,
                                body,
                            }),
                            false,
                        ),
                        None => (
                            Err(Failure {
                                status: Some(status.as_u16()),
                                request_id,
                                error: GatewayError::UnexpectedResponse(
                                    "the body is not JSON".to_owned(),
                                ),
                            }),
                            false,
                        ),
                    };
                }
                let error = map_error(status, parsed.as_ref(), &call.path);
                let retry = match should_retry {
                    Some(explicit) => explicit,
                    None => {
                        status == StatusCode::TOO_MANY_REQUESTS
                            || (status.is_server_error() && call.method == Method::GET)
                    }
                };
                (
                    Err(Failure {
                        status: Some(status.as_u16()),
                        request_id,
                        error,
                    }),
                    retry,
                )
            }
        }
    }

    fn backoff(&self, attempt: u32) -> Duration {
        backoff_delay(
            self.cfg.backoff_base,
            self.cfg.backoff_max,
            attempt,
            rand::random::<f64>(),
        )
    }

    fn audit(&self, call: &Call, result: &Result<Success, Failure>, duration_ms: u64) {
        let (status, request_id, error_code, response_id) = match result {
            Ok(s) => (
                Some(s.status),
                s.request_id.clone(),
                None,
                s.body.get("id").and_then(Value::as_str).map(str::to_owned),
            ),
            Err(f) => (
                f.status,
                f.request_id.clone(),
                Some(f.error.code().to_owned()),
                None,
            ),
        };
        let row = ApiCall {
            at: unix_now(),
            method: call.method.as_str().to_owned(),
            path: call.path.clone(),
            object_id: call.object_id.clone().or(response_id),
            status,
            request_id,
            idempotency_key: call.idempotency_key.clone(),
            duration_ms,
            mode: Some(self.credential.mode()),
            error_code,
        };
        if let Err(e) = self.lock_mirror().record_api_call(&row) {
            // The call itself happened; failing it now would invite a second refund.
            tracing::warn!(error = %e, path = %row.path, "could not write the audit row");
        }
    }
}

struct Success {
    status: u16,
    request_id: Option<String>,
    body: Value,
}

struct Failure {
    status: Option<u16>,
    request_id: Option<String>,
    error: GatewayError,
}

fn header_str(h: &HeaderMap, name: &str) -> Option<String> {
    h.get(name).and_then(|v| v.to_str().ok()).map(str::to_owned)
}

pub(crate) fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// Exponential backoff capped at `max`, with jitter over the upper half (`unit` in [0, 1)):
/// spreads the retries of several clients apart without ever waiting less than half the step.
fn backoff_delay(base: Duration, max: Duration, attempt: u32, unit: f64) -> Duration {
    let capped = base.saturating_mul(2u32.saturating_pow(attempt)).min(max);
    capped.mul_f64(0.5 + unit.clamp(0.0, 1.0) * 0.5)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_api_base_that_would_send_keys_in_clear_is_refused_before_any_request() {
        let e = ClientConfig::from_env(Some("http://api.example.com")).unwrap_err();
        assert_eq!(e.code(), "invalid_input");
        assert!(e.to_string().contains("https://"), "{e}");
        assert!(ClientConfig::from_env(Some("ftp://127.0.0.1")).is_err());
        for ok in [
            "https://api.stripe.com",
            "http://127.0.0.1:12111",
            "http://localhost:1",
        ] {
            assert!(ClientConfig::from_env(Some(ok)).is_ok(), "{ok}");
        }
    }

    #[test]
    fn backoff_doubles_up_to_the_cap_with_bounded_jitter() {
        let (base, max) = (Duration::from_millis(500), Duration::from_secs(8));
        for (attempt, step) in [
            (0, 500),
            (1, 1000),
            (2, 2000),
            (3, 4000),
            (4, 8000),
            (9, 8000),
            (40, 8000),
        ] {
            let step = Duration::from_millis(step);
            assert_eq!(backoff_delay(base, max, attempt, 1.0), step);
            assert_eq!(backoff_delay(base, max, attempt, 0.0), step / 2);
            let mid = backoff_delay(base, max, attempt, 0.5);
            assert!(mid > step / 2 && mid < step);
        }
    }
}
