//! The stand-in server: Stripe's API for one test-mode account, on 127.0.0.1 with a free
//! port, for the sample store's own session.
//!
//! It answers what the sample store uses — `GET /v1/account`, `GET /v1/charges/{id}`,
//! `GET /v1/payment_intents/{id}`, `GET /v1/disputes/{id}`, `POST /v1/refunds`,
//! `GET /v1/events`, a session's line items and the lists of refunds and disputes, and a
//! dispute's evidence (`POST /v1/files`, multipart, and `POST /v1/disputes/{id}`) — as Stripe does,
//! and every other URL with Stripe's 404. It knows the objects it was taught
//! ([`SampleStripe::learn`]) or created ([`SampleStripe::seed_payment`]).
//!
//! Invariants: the only key it accepts is the random test-mode key it generated at start,
//! which lives in memory for the session and is never printed (its `Debug` is redacted);
//! there is no fixed key to know. Checks run in Stripe's order: the key (401), the version
//! header, the endpoint (404), parameters (400), idempotency replay for POST, then the work.

use std::fmt;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};

use axum::body::Bytes;
use axum::http::{HeaderMap, Method, Uri};
use secrecy::{ExposeSecret, SecretString};
use serde_json::Value;
use tokio::sync::watch;

use crate::disputes::{self, Files, Upload};
use crate::idempotency::Idempotency;
use crate::ledger::{Ledger, SeededPayment};
use crate::objects::{self, AccountSpec, PaymentSpec};
use crate::params::{ApiError, Params};
use crate::wire::{self, Reply, ok};

/// The version events are rendered at (the account's default).
pub const EVENT_API_VERSION: &str = "2025-09-30.clover";

/// Random characters after `sk_test_`: as long as a real key's body, far beyond guessing.
const KEY_BODY_LEN: usize = 99;

struct Account {
    key: SecretString,
    spec: AccountSpec,
    ledger: Ledger,
    idempotency: Idempotency,
    /// Evidence files uploaded this session.
    files: Files,
}

/// The largest request body read: room for a file over Stripe's 5 MB evidence limit, so it
/// is refused as Stripe refuses it.
const BODY_LIMIT: usize = 16 * 1024 * 1024;

#[derive(Clone)]
struct Shared(Arc<Mutex<Account>>);

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Account> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// The running stand-in. Dropping it stops the server.
pub struct SampleStripe {
    addr: SocketAddr,
    key: SecretString,
    shared: Shared,
    stop: watch::Sender<bool>,
}

impl fmt::Debug for SampleStripe {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SampleStripe")
            .field("addr", &self.addr)
            .field("key", &"<redacted>")
            .finish_non_exhaustive()
    }
}

impl SampleStripe {
    /// Start on 127.0.0.1 with a free port and a key of its own.
    pub async fn start() -> std::io::Result<SampleStripe> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let key = SecretString::from(format!("sk_test_{}", random_body()));
        let shared = Shared(Arc::new(Mutex::new(Account {
            key: key.clone(),
            spec: AccountSpec::default(),
            ledger: Ledger::new(EVENT_API_VERSION),
            idempotency: Idempotency::default(),
            files: Files::new(),
        })));
        let for_router = shared.clone();
        let router = axum::Router::new()
            .fallback(
                move |method: Method, uri: Uri, headers: HeaderMap, body: Bytes| {
                    let shared = for_router.clone();
                    async move {
                        let multipart = wire::header(&headers, "content-type")
                            .is_some_and(|v| v.starts_with("multipart/form-data"));
                        let (body, upload) = if multipart {
                            match disputes::read_multipart(&headers, body, BODY_LIMIT).await {
                                Ok((raw, upload)) => (Bytes::from(raw), upload),
                                Err(e) => return Reply::from(e).into_response(),
                            }
                        } else {
                            (body, None)
                        };
                        let mut account = shared.lock();
                        answer(
                            &mut account,
                            &method,
                            uri.path(),
                            uri.query().unwrap_or(""),
                            &headers,
                            &body,
                            upload.as_ref(),
                        )
                        .into_response()
                    }
                },
            )
            .layer(axum::extract::DefaultBodyLimit::max(BODY_LIMIT));
        let (stop, mut stopped) = watch::channel(false);
        tokio::spawn(async move {
            let shutdown = async move {
                let _ = stopped.wait_for(|s| *s).await;
            };
            if let Err(e) = axum::serve(listener, router)
                .with_graceful_shutdown(shutdown)
                .await
            {
                tracing::warn!(error = %e, "the sample store's Stripe stand-in stopped");
            }
        });
        Ok(SampleStripe {
            addr,
            key,
            shared,
            stop,
        })
    }

    /// `http://127.0.0.1:PORT` (no trailing slash).
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The only key this stand-in accepts (test mode), made for this session.
    pub fn secret_key(&self) -> &SecretString {
        &self.key
    }

    /// The account `GET /v1/account` describes.
    pub fn account_id(&self) -> String {
        self.shared.lock().spec.id.clone()
    }

    /// Know the charges and PaymentIntents of events rendered elsewhere (see
    /// [`Ledger::learn`]); returns how many objects were new.
    pub fn learn(&self, events: &[Value]) -> usize {
        self.shared.lock().ledger.learn(events)
    }

    /// Create a paid Checkout order in the account; returns its objects and events.
    pub fn seed_payment(&self, spec: &PaymentSpec) -> SeededPayment {
        self.shared.lock().ledger.seed_payment(spec)
    }

    /// The current state of an object, as `GET` would return it.
    pub fn object(&self, id: &str) -> Option<Value> {
        self.shared.lock().ledger.object(id).cloned()
    }
}

impl Drop for SampleStripe {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
    }
}

fn random_body() -> String {
    use rand::Rng;
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let mut rng = rand::rng();
    (0..KEY_BODY_LEN)
        .map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char)
        .collect()
}

/// Equal without an early exit, so the answer's timing says nothing about the key.
fn same_key(presented: &str, expected: &str) -> bool {
    let (a, b) = (presented.as_bytes(), expected.as_bytes());
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn answer(
    account: &mut Account,
    method: &Method,
    path: &str,
    query: &str,
    headers: &HeaderMap,
    body: &Bytes,
    upload: Option<&Upload>,
) -> Reply {
    let presented = match wire::presented_key(headers) {
        Ok(k) => k,
        Err(e) => return e.into(),
    };
    if !same_key(&presented, account.key.expose_secret()) {
        return wire::unknown_key(&presented).into();
    }
    if let Err(e) = wire::check_version(headers) {
        return e.into();
    }
    let params = match Params::parse(&wire::raw_params(method, query, body)) {
        Ok(p) => p,
        Err(e) => return e.into(),
    };
    let idem = if method == Method::POST {
        wire::header(headers, "idempotency-key")
    } else {
        None
    };
    let key = account.key.expose_secret().to_owned();
    if let Some(k) = &idem
        && let Some(reply) = account.idempotency.before(&key, k, path, &params)
    {
        return reply;
    }
    let reply = route(account, method, path, &params, upload).unwrap_or_else(Reply::from);
    if let Some(k) = &idem {
        account.idempotency.after(&key, k, path, &params, &reply);
    }
    reply
}

fn route(
    account: &mut Account,
    method: &Method,
    path: &str,
    p: &Params,
    upload: Option<&Upload>,
) -> Result<Reply, ApiError> {
    // The key is a test-mode key: live objects do not exist for it.
    const LIVEMODE: bool = false;
    let segs: Vec<&str> = path.trim_matches('/').split('/').collect();
    match (method.as_str(), segs.as_slice()) {
        ("GET", ["v1", "account"]) => {
            p.only(&["expand"])?;
            ok(objects::account(&account.spec))
        }
        ("GET", ["v1", "charges", id]) => account.ledger.retrieve(id, "charge", LIVEMODE, p),
        ("GET", ["v1", "payment_intents", id]) => {
            account.ledger.retrieve(id, "payment_intent", LIVEMODE, p)
        }
        ("POST", ["v1", "refunds"]) => account.ledger.create_refund(LIVEMODE, p),
        ("GET", ["v1", "events"]) => account.ledger.list_events(LIVEMODE, p),
        ("GET", ["v1", "events", id]) => account.ledger.retrieve_event(id, LIVEMODE, p),
        ("GET", ["v1", "checkout", "sessions", id, "line_items"]) => {
            account.ledger.list_line_items(id, LIVEMODE, p)
        }
        ("GET", ["v1", "refunds"]) => account.ledger.list_children("refund", LIVEMODE, p),
        ("GET", ["v1", "disputes"]) => account.ledger.list_children("dispute", LIVEMODE, p),
        ("GET", ["v1", "disputes", id]) => account.ledger.retrieve(id, "dispute", LIVEMODE, p),
        ("POST", ["v1", "disputes", id]) => {
            disputes::update_dispute(&mut account.ledger, &account.files, LIVEMODE, id, p)
        }
        ("POST", ["v1", "files"]) => disputes::create_file(&mut account.files, LIVEMODE, p, upload),
        _ => Err(wire::unrecognized(method, path)),
    }
}
