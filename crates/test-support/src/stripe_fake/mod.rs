//! A local fake of Stripe's REST API for tests and the sample store.
//!
//! Written from the protocol reference (REST §5, signatures §1), not from the client: it
//! validates the parameters it receives, answers with Stripe's error object and status
//! codes, pages lists newest first, replays idempotent POSTs, and can post correctly signed
//! webhooks. It listens on 127.0.0.1:0 and stops when its handle is dropped.

mod events;
mod learn;
mod objects;
mod params;
mod routes;
mod server;
pub mod webhooks;

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};

use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, Method, Response, Uri};
use serde_json::Value;
use tokio::sync::watch;

pub use objects::{AccountSpec, PaymentSpec, new_id, now};
pub use params::{ApiError, Params};

/// Event types the fake accepts in `enabled_events[]` (those the reference names).
pub const KNOWN_EVENT_TYPES: &[&str] = &[
    "checkout.session.completed",
    "checkout.session.expired",
    "checkout.session.async_payment_succeeded",
    "checkout.session.async_payment_failed",
    "payment_intent.succeeded",
    "payment_intent.payment_failed",
    "payment_intent.processing",
    "payment_intent.canceled",
    "charge.succeeded",
    "charge.failed",
    "charge.refunded",
    "charge.refund.updated",
    "charge.dispute.created",
    "charge.dispute.updated",
    "charge.dispute.closed",
    "charge.dispute.funds_withdrawn",
    "charge.dispute.funds_reinstated",
    "customer.subscription.created",
    "customer.subscription.updated",
    "customer.subscription.deleted",
    "invoice.paid",
    "invoice.payment_failed",
    "invoice.payment_succeeded",
    "invoice.overpaid",
    "refund.created",
    "refund.updated",
    "refund.failed",
    "account.updated",
    "account.application.deauthorized",
];

/// An API key the fake knows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FakeKey {
    pub key: String,
    pub livemode: bool,
    /// None: a full secret key. Some: a restricted key with these permissions
    /// (e.g. `rak_charge_read`, `rak_refund_write`, `rak_webhook_write`, `rak_event_read`).
    pub permissions: Option<Vec<String>>,
}

impl FakeKey {
    pub fn secret(key: &str) -> FakeKey {
        FakeKey {
            key: key.to_owned(),
            livemode: key.starts_with("sk_live_") || key.starts_with("rk_live_"),
            permissions: None,
        }
    }
    pub fn restricted(key: &str, permissions: &[&str]) -> FakeKey {
        FakeKey {
            permissions: Some(permissions.iter().map(|s| (*s).to_owned()).collect()),
            ..FakeKey::secret(key)
        }
    }
}

#[derive(Debug, Clone)]
pub struct StripeFakeConfig {
    pub keys: Vec<FakeKey>,
    pub account: AccountSpec,
    /// The version events are rendered at (the account's default).
    pub event_api_version: String,
}

/// Keys every default fake accepts.
pub const TEST_SECRET_KEY: &str = "sk_test_51FluxStoreFakeKey0000000000000001";
pub const LIVE_SECRET_KEY: &str = "sk_live_51FluxStoreFakeKey0000000000000001";
/// A restricted test key that may only read (no refunds, no webhook endpoints).
pub const READ_ONLY_KEY: &str = "rk_test_51FluxStoreFakeReadOnly00000000001";

impl Default for StripeFakeConfig {
    fn default() -> StripeFakeConfig {
        StripeFakeConfig {
            keys: vec![
                FakeKey::secret(TEST_SECRET_KEY),
                FakeKey::secret(LIVE_SECRET_KEY),
                FakeKey::restricted(
                    READ_ONLY_KEY,
                    &[
                        "rak_charge_read",
                        "rak_payment_intent_read",
                        "rak_dispute_read",
                        "rak_event_read",
                        "rak_accounts_kyc_basic_read",
                    ],
                ),
            ],
            account: AccountSpec::default(),
            event_api_version: "2025-09-30.clover".to_owned(),
        }
    }
}

/// A fault to inject into the next request whose path starts with the given prefix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    /// Answer with this status and Stripe's error object, optionally `Stripe-Should-Retry`.
    Status {
        status: u16,
        should_retry: Option<bool>,
    },
    /// Close the connection without reading on (the request is not processed).
    DropBeforeProcessing,
    /// Process the request, then close the connection instead of answering (the client
    /// cannot know the outcome: the case idempotency keys exist for).
    DropAfterProcessing,
}

/// One request as the fake saw it (never the key itself).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordedRequest {
    pub method: String,
    pub path: String,
    pub params: Vec<(String, String)>,
    pub stripe_version: Option<String>,
    pub idempotency_key: Option<String>,
    pub stripe_account: Option<String>,
    /// Some(livemode) when the key was recognised.
    pub key_livemode: Option<bool>,
}

pub(crate) struct Stored {
    path: String,
    fingerprint: Vec<(String, String)>,
    status: axum::http::StatusCode,
    body: Value,
}

pub(crate) struct State {
    cfg: StripeFakeConfig,
    account: AccountSpec,
    objects: HashMap<String, Value>,
    events: Vec<Value>,
    event_seq: HashMap<String, u64>,
    next_seq: u64,
    endpoints: Vec<Value>,
    idempotency: HashMap<(String, String), Stored>,
    faults: VecDeque<(String, Fault)>,
    requests: Vec<RecordedRequest>,
}

impl State {
    fn push_event(&mut self, kind: &str, object: &Value, created: i64, livemode: bool) -> Value {
        let ev = objects::event(
            &new_id("evt_"),
            kind,
            object,
            created,
            livemode,
            &self.cfg.event_api_version,
        );
        self.insert_event(ev.clone());
        ev
    }
    fn insert_event(&mut self, ev: Value) {
        let id = ev["id"].as_str().unwrap_or_default().to_owned();
        self.event_seq.insert(id, self.next_seq);
        self.next_seq += 1;
        self.events.push(ev);
    }
    /// The list order of an event: (created, arrival); larger is newer.
    fn event_order(&self, id: &str) -> Option<(i64, u64)> {
        let seq = *self.event_seq.get(id)?;
        let ev = self.events.iter().find(|e| e["id"] == id)?;
        Some((ev["created"].as_i64().unwrap_or(0), seq))
    }
    fn events_newest_first(&self) -> Vec<&Value> {
        let mut v: Vec<&Value> = self.events.iter().collect();
        v.sort_by_key(|e| {
            std::cmp::Reverse(
                self.event_order(e["id"].as_str().unwrap_or(""))
                    .unwrap_or((0, 0)),
            )
        });
        v
    }
}

#[derive(Clone)]
pub(crate) struct Shared(Arc<Mutex<State>>);

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }
    fn take_fault(&self, path: &str) -> Option<Fault> {
        let mut s = self.lock();
        let i = s
            .faults
            .iter()
            .position(|(prefix, _)| path.starts_with(prefix.as_str()))?;
        s.faults.remove(i).map(|(_, f)| f)
    }
}

/// Objects of one seeded payment (a paid Checkout order).
#[derive(Debug, Clone, PartialEq)]
pub struct SeededPayment {
    pub session_id: String,
    pub payment_intent_id: String,
    pub charge_id: String,
    /// checkout.session.completed, payment_intent.succeeded, charge.succeeded (oldest first).
    pub events: Vec<Value>,
}

/// The running fake. Dropping it stops the server.
pub struct StripeFake {
    addr: SocketAddr,
    shared: Shared,
    stop: watch::Sender<bool>,
}

impl StripeFake {
    /// Start on 127.0.0.1 with a free port.
    pub async fn start(cfg: StripeFakeConfig) -> std::io::Result<StripeFake> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let shared = Shared(Arc::new(Mutex::new(State {
            account: cfg.account.clone(),
            cfg,
            objects: HashMap::new(),
            events: Vec::new(),
            event_seq: HashMap::new(),
            next_seq: 0,
            endpoints: Vec::new(),
            idempotency: HashMap::new(),
            faults: VecDeque::new(),
            requests: Vec::new(),
        })));
        let for_router = shared.clone();
        let router = axum::Router::new().fallback(
            move |method: Method, uri: Uri, headers: HeaderMap, body: Bytes| {
                let shared = for_router.clone();
                async move {
                    let reply = {
                        let mut s = shared.lock();
                        routes::handle(
                            &mut s,
                            &method,
                            uri.path(),
                            uri.query().unwrap_or(""),
                            &headers,
                            &body,
                        )
                    };
                    let mut resp = Response::builder()
                        .status(reply.status)
                        .header("content-type", "application/json")
                        .header("request-id", new_id("req_"));
                    if reply.replayed {
                        resp = resp.header("idempotent-replayed", "true");
                    }
                    if let Some(r) = reply.should_retry {
                        resp = resp.header("stripe-should-retry", if r { "true" } else { "false" });
                    }
                    resp.body(Body::from(reply.body.to_string()))
                        .unwrap_or_default()
                }
            },
        );
        let (stop, stop_rx) = watch::channel(false);
        tokio::spawn(server::serve(listener, router, shared.clone(), stop_rx));
        Ok(StripeFake { addr, shared, stop })
    }

    /// `http://127.0.0.1:PORT` (no trailing slash).
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Seed a paid Checkout order: session, PaymentIntent, charge and their three events.
    pub fn seed_payment(&self, spec: &PaymentSpec) -> SeededPayment {
        let mut s = self.shared.lock();
        let (cs, pi, ch) = (new_id("cs_test_"), new_id("pi_"), new_id("ch_"));
        let session = objects::checkout_session(&cs, &pi, spec);
        let intent = objects::payment_intent(&pi, &ch, spec);
        let charge = objects::charge(&ch, &pi, spec);
        let mut events = Vec::new();
        for (kind, obj) in [
            ("checkout.session.completed", &session),
            ("payment_intent.succeeded", &intent),
            ("charge.succeeded", &charge),
        ] {
            events.push(s.push_event(kind, obj, spec.created, spec.livemode));
        }
        s.objects.insert(cs.clone(), session);
        s.objects.insert(pi.clone(), intent);
        s.objects.insert(ch.clone(), charge);
        SeededPayment {
            session_id: cs,
            payment_intent_id: pi,
            charge_id: ch,
            events,
        }
    }

    /// Seed a dispute on a seeded charge; returns the `charge.dispute.created` event.
    pub fn seed_dispute(&self, charge_id: &str, reason: &str) -> Option<Value> {
        let mut s = self.shared.lock();
        let mut charge = s.objects.get(charge_id)?.clone();
        let created = charge["created"].as_i64().unwrap_or_else(now) + 60;
        let d = objects::dispute(&new_id("du_"), &charge, reason, created);
        charge["disputed"] = serde_json::json!(true);
        let livemode = charge["livemode"].as_bool().unwrap_or(false);
        s.objects.insert(charge_id.to_owned(), charge);
        s.objects
            .insert(d["id"].as_str().unwrap_or_default().to_owned(), d.clone());
        Some(s.push_event("charge.dispute.created", &d, created, livemode))
    }

    /// Add an arbitrary event to the events list (e.g. one older than the retention window).
    pub fn push_event(&self, kind: &str, object: &Value, created: i64, livemode: bool) -> Value {
        self.shared
            .lock()
            .push_event(kind, object, created, livemode)
    }

    /// The current state of an object, as `GET` would return it.
    pub fn object(&self, id: &str) -> Option<Value> {
        self.shared.lock().objects.get(id).cloned()
    }

    /// Change the account (as onboarding or the Dashboard would) and add the `account.updated`
    /// Stripe emits for it to the events list: test mode, created now. Returns the event.
    pub fn set_account(&self, account: AccountSpec) -> Value {
        self.update_account(account, false, now())
    }

    /// [`Self::set_account`] with the event's mode and `created` chosen (a test can then
    /// make one event newer or older than another). The event carries the new account and,
    /// in `data.previous_attributes`, the old values of the fields that changed.
    pub fn update_account(&self, account: AccountSpec, livemode: bool, created: i64) -> Value {
        let mut s = self.shared.lock();
        let before = objects::account(&s.account);
        let after = objects::account(&account);
        s.account = account;
        let mut ev = objects::event(
            &new_id("evt_"),
            "account.updated",
            &after,
            created,
            livemode,
            &s.cfg.event_api_version,
        );
        ev["data"]["previous_attributes"] = objects::changed_fields(&before, &after);
        s.insert_event(ev.clone());
        ev
    }
    pub fn account_id(&self) -> String {
        self.shared.lock().account.id.clone()
    }

    /// Inject `fault` into the next request whose path starts with `path_prefix`.
    pub fn inject(&self, path_prefix: &str, fault: Fault) {
        self.shared
            .lock()
            .faults
            .push_back((path_prefix.to_owned(), fault));
    }

    /// Every request seen so far, oldest first.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.shared.lock().requests.clone()
    }

    /// Webhook endpoints created through the API (including their `secret`).
    pub fn webhook_endpoints(&self) -> Vec<Value> {
        self.shared.lock().endpoints.clone()
    }

    /// Deliver an event to every created endpoint of its mode that subscribes to its type,
    /// signed with that endpoint's secret. Returns (endpoint url, HTTP status or error text).
    pub async fn deliver(&self, event: &Value) -> Vec<(String, Result<u16, String>)> {
        let targets: Vec<(String, String)> = {
            let s = self.shared.lock();
            s.endpoints
                .iter()
                .filter(|e| e["livemode"] == event["livemode"])
                .filter(|e| {
                    e["enabled_events"]
                        .as_array()
                        .is_some_and(|a| a.iter().any(|t| t == "*" || *t == event["type"]))
                })
                .map(|e| {
                    (
                        e["url"].as_str().unwrap_or("").to_owned(),
                        e["secret"].as_str().unwrap_or("").to_owned(),
                    )
                })
                .collect()
        };
        let payload = event.to_string();
        let mut out = Vec::new();
        for (url, secret) in targets {
            let r = webhooks::post_signed(&url, &secret, now(), payload.as_bytes())
                .await
                .map_err(|e| e.to_string());
            out.push((url, r));
        }
        out
    }
}

impl Drop for StripeFake {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
    }
}
