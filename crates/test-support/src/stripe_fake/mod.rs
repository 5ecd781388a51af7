//! A local fake of Stripe's REST API for tests.
//!
//! Written from the protocol reference (REST §5, signatures §1), not from the client: it
//! validates the parameters it receives, answers with Stripe's error object and status
//! codes, pages lists newest first, replays idempotent POSTs, and can post correctly signed
//! webhooks. It listens on 127.0.0.1:0 and stops when its handle is dropped.
//!
//! The account's objects and events, the refund and list logic, idempotency and the wire
//! format are the sample store's stand-in's (`fluxstore-sample-stripe`); this fake adds what
//! tests need around them: fixed known keys in both modes, restricted keys, injected faults,
//! recorded requests, webhook endpoints and signed deliveries, disputes.

pub mod accounts;
mod objects;
mod routes;
mod server;
pub mod webhooks;

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};

use axum::body::Bytes;
use axum::http::{HeaderMap, Method, Uri};
use fluxstore_sample_stripe::{Idempotency, Ledger};
use serde_json::Value;
use tokio::sync::watch;

pub use crate::now;
pub use fluxstore_sample_stripe::{
    AccountSpec, ApiError, Params, PaymentSpec, SeededPayment, new_id,
};

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
            event_api_version: fluxstore_sample_stripe::EVENT_API_VERSION.to_owned(),
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
    /// Process the request, then answer 200 with this object instead of the real result:
    /// what a mock server with canned fixtures does (its objects name ids of their own).
    CannedAfterProcessing(Value),
}

/// The largest request body the fake reads: room for a file over Stripe's 5 MB evidence
/// limit, so the fake refuses it as Stripe does instead of failing to read it.
pub(crate) const BODY_LIMIT: usize = 16 * 1024 * 1024;

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

pub(crate) struct State {
    cfg: StripeFakeConfig,
    account: AccountSpec,
    ledger: Ledger,
    idempotency: Idempotency,
    endpoints: Vec<Value>,
    /// Files uploaded through the Files API, with their mode.
    files: Vec<(bool, Value)>,
    faults: VecDeque<(String, Fault)>,
    requests: Vec<RecordedRequest>,
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
            ledger: Ledger::new(&cfg.event_api_version),
            cfg,
            idempotency: Idempotency::default(),
            endpoints: Vec::new(),
            files: Vec::new(),
            faults: VecDeque::new(),
            requests: Vec::new(),
        })));
        let for_router = shared.clone();
        let router = axum::Router::new()
            .fallback(
                move |method: Method, uri: Uri, headers: HeaderMap, body: Bytes| {
                    let shared = for_router.clone();
                    async move {
                        let multipart = headers
                            .get("content-type")
                            .and_then(|v| v.to_str().ok())
                            .is_some_and(|v| v.starts_with("multipart/form-data"));
                        let (body, upload) = if multipart {
                            match fluxstore_sample_stripe::disputes::read_multipart(
                                &headers, body, BODY_LIMIT,
                            )
                            .await
                            {
                                Ok((raw, upload)) => (Bytes::from(raw), upload),
                                Err(e) => {
                                    return fluxstore_sample_stripe::wire::Reply::from(e)
                                        .into_response();
                                }
                            }
                        } else {
                            (body, None)
                        };
                        let reply = {
                            let mut s = shared.lock();
                            routes::handle(
                                &mut s,
                                &method,
                                uri.path(),
                                uri.query().unwrap_or(""),
                                &headers,
                                &body,
                                upload.as_ref(),
                            )
                        };
                        reply.into_response()
                    }
                },
            )
            // Room for a file over Stripe's 5 MB evidence limit, so the fake can refuse it as
            // Stripe does instead of failing to read it.
            .layer(axum::extract::DefaultBodyLimit::max(BODY_LIMIT));
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
        self.shared.lock().ledger.seed_payment(spec)
    }

    /// Make the fake know the charges and PaymentIntents of events it did not create (see
    /// `Ledger::learn`); returns how many objects were new.
    pub fn seed_from_events(&self, events: &[Value]) -> usize {
        self.shared.lock().ledger.learn(events)
    }

    /// Seed a dispute on a seeded charge; returns the `charge.dispute.created` event.
    pub fn seed_dispute(&self, charge_id: &str, reason: &str) -> Option<Value> {
        let mut s = self.shared.lock();
        let mut charge = s.ledger.object(charge_id)?.clone();
        let created = charge["created"].as_i64().unwrap_or_else(now) + 60;
        let d = objects::dispute(&new_id("du_"), &charge, reason, created);
        charge["disputed"] = serde_json::json!(true);
        let livemode = charge["livemode"].as_bool().unwrap_or(false);
        s.ledger.put_object(charge);
        s.ledger.put_object(d.clone());
        Some(
            s.ledger
                .push_event("charge.dispute.created", &d, created, livemode),
        )
    }

    /// Refund `amount` of a charge (None: what remains) outside the app, as the owner would
    /// in Stripe's Dashboard: the refund, the charge's new state and their events are in the
    /// account, and nothing is delivered. Returns the refund.
    pub fn refund_in_dashboard(&self, charge_id: &str, amount: Option<i64>) -> Option<Value> {
        let mut s = self.shared.lock();
        let live = s.ledger.object(charge_id)?["livemode"].as_bool()?;
        let query = match amount {
            Some(a) => format!("charge={charge_id}&amount={a}"),
            None => format!("charge={charge_id}"),
        };
        let params = Params::parse(&query).ok()?;
        s.ledger.create_refund(live, &params).ok()?;
        let refund = s
            .ledger
            .object_ids_of("refund")
            .into_iter()
            .filter_map(|id| s.ledger.object(&id).cloned())
            .filter(|r| r["charge"] == charge_id)
            .max_by_key(|r| (r["created"].as_i64(), r["id"].as_str().map(str::to_owned)))?;
        Some(refund)
    }

    /// Add an arbitrary event to the events list (e.g. one older than the retention window).
    pub fn push_event(&self, kind: &str, object: &Value, created: i64, livemode: bool) -> Value {
        self.shared
            .lock()
            .ledger
            .push_event(kind, object, created, livemode)
    }

    /// A refund fails after Stripe accepted it (see `Ledger::fail_refund`): returns the
    /// `charge.refund.updated`, `refund.updated` and `refund.failed` events, created now.
    pub fn fail_refund(&self, refund_id: &str, failure_reason: &str) -> Option<Vec<Value>> {
        self.shared
            .lock()
            .ledger
            .fail_refund(refund_id, failure_reason, now())
    }

    /// Files uploaded through the Files API, oldest first.
    pub fn files(&self) -> Vec<Value> {
        self.shared
            .lock()
            .files
            .iter()
            .map(|(_, f)| f.clone())
            .collect()
    }

    /// Change a dispute as Stripe would on its own (e.g. close it or move its due date);
    /// returns the `charge.dispute.updated` (or `.closed`) event added to the events list.
    pub fn update_dispute(&self, id: &str, change: impl FnOnce(&mut Value)) -> Option<Value> {
        let mut s = self.shared.lock();
        let mut d = s.ledger.object(id)?.clone();
        change(&mut d);
        let closed = matches!(
            d["status"].as_str(),
            Some("won" | "lost" | "warning_closed")
        );
        let live = d["livemode"].as_bool().unwrap_or(false);
        s.ledger.put_object(d.clone());
        let kind = if closed {
            "charge.dispute.closed"
        } else {
            "charge.dispute.updated"
        };
        Some(s.ledger.push_event(kind, &d, now(), live))
    }

    /// The current state of an object, as `GET` would return it.
    pub fn object(&self, id: &str) -> Option<Value> {
        self.shared.lock().ledger.object(id).cloned()
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
        let before = fluxstore_sample_stripe::objects::account(&s.account);
        let after = fluxstore_sample_stripe::objects::account(&account);
        s.account = account;
        let ev = s
            .ledger
            .push_event("account.updated", &after, created, livemode);
        // Stripe's event carries the old values too; the ledger keeps the event as recorded.
        let previous = objects::changed_fields(&before, &after);
        s.ledger.set_previous_attributes(&ev, previous.clone());
        let mut ev = ev;
        ev["data"]["previous_attributes"] = previous;
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

    /// Accept `key` from now on, as Stripe accepts an access token its Connect OAuth has just
    /// issued for this account.
    pub fn accept_key(&self, key: FakeKey) {
        let mut s = self.shared.lock();
        if !s.cfg.keys.iter().any(|k| k.key == key.key) {
            s.cfg.keys.push(key);
        }
    }

    /// Every request seen so far, oldest first.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.shared.lock().requests.clone()
    }

    /// Add an endpoint as the owner would in the Dashboard (the `secret` is made here, as
    /// Stripe does); returns it with its secret. `status` is `enabled` or `disabled`.
    pub fn add_webhook_endpoint(
        &self,
        url: &str,
        enabled_events: &[&str],
        status: &str,
        livemode: bool,
    ) -> Value {
        let endpoint = serde_json::json!({
            "id": new_id("we_"), "object": "webhook_endpoint", "url": url,
            "enabled_events": enabled_events, "api_version": null, "application": null,
            "description": null, "metadata": {}, "status": status, "livemode": livemode,
            "created": now(), "secret": format!("whsec_{}{}", new_id(""), &new_id("")[..8]),
        });
        self.shared.lock().endpoints.push(endpoint.clone());
        endpoint
    }

    /// Roll `key` away (as the Dashboard's "Roll key" does): every later call with it answers
    /// 401, as Stripe does for a key it no longer knows.
    pub fn revoke_key(&self, key: &str) {
        self.shared.lock().cfg.keys.retain(|k| k.key != key);
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
