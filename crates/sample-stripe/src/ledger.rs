//! What a Stripe account holds, as far as the sample store and the tests act on it: its
//! charges, PaymentIntents, Checkout Sessions and refunds, and the events they produced; and
//! the operations Stripe performs on them (retrieve, refund, list events).
//!
//! Invariants: an object is visible only to a key of its own mode; a refund never takes more
//! than the charge's unrefunded amount and moves the charge with it, emitting
//! `charge.refunded` and `refund.created` like Stripe; a refund that fails later gives its
//! amount back to the charge and emits `charge.refund.updated`, `refund.updated` and
//! `refund.failed` (each carrying the refund); events list in (created, arrival) order. Authentication and permissions are the caller's: the ledger is what sits behind
//! them.

use std::collections::HashMap;

use serde_json::{Value, json};

use crate::objects::{self, PaymentSpec, new_id, now};
use crate::params::{ApiError, Params};
use crate::wire::{Reply, ok};

/// Objects of one seeded payment (a paid Checkout order).
#[derive(Debug, Clone, PartialEq)]
pub struct SeededPayment {
    pub session_id: String,
    pub payment_intent_id: String,
    pub charge_id: String,
    /// checkout.session.completed, payment_intent.succeeded, charge.succeeded (oldest first).
    pub events: Vec<Value>,
}

/// The account's objects and events.
#[derive(Debug)]
pub struct Ledger {
    pub(crate) objects: HashMap<String, Value>,
    events: Vec<Value>,
    event_seq: HashMap<String, u64>,
    next_seq: u64,
    /// The version events are rendered at (the account's default).
    event_api_version: String,
}

impl Ledger {
    pub fn new(event_api_version: &str) -> Ledger {
        Ledger {
            objects: HashMap::new(),
            events: Vec::new(),
            event_seq: HashMap::new(),
            next_seq: 0,
            event_api_version: event_api_version.to_owned(),
        }
    }

    /// The current state of an object, as `GET` would return it.
    pub fn object(&self, id: &str) -> Option<&Value> {
        self.objects.get(id)
    }

    /// Ids of every known object of `what` (e.g. `refund`).
    pub fn object_ids_of(&self, what: &str) -> Vec<String> {
        self.objects
            .iter()
            .filter(|(_, o)| o["object"] == what)
            .map(|(id, _)| id.clone())
            .collect()
    }

    /// Put an object in place (a new one, or the next state of a known one).
    pub fn put_object(&mut self, object: Value) {
        let id = object["id"].as_str().unwrap_or_default().to_owned();
        self.objects.insert(id, object);
    }

    /// Record an event of `kind` about `object`; returns the event.
    pub fn push_event(
        &mut self,
        kind: &str,
        object: &Value,
        created: i64,
        livemode: bool,
    ) -> Value {
        let ev = objects::event(
            &new_id("evt_"),
            kind,
            object,
            created,
            livemode,
            &self.event_api_version,
        );
        let id = ev["id"].as_str().unwrap_or_default().to_owned();
        self.event_seq.insert(id, self.next_seq);
        self.next_seq += 1;
        self.events.push(ev.clone());
        ev
    }

    /// Attach `data.previous_attributes` to a recorded event (an update's old values).
    pub fn set_previous_attributes(&mut self, event: &Value, previous: Value) {
        if let Some(ev) = self.events.iter_mut().find(|e| e["id"] == event["id"]) {
            ev["data"]["previous_attributes"] = previous;
        }
    }

    /// The list order of an event: (created, arrival); larger is newer.
    pub(crate) fn event_order(&self, id: &str) -> Option<(i64, u64)> {
        let seq = *self.event_seq.get(id)?;
        let ev = self.events.iter().find(|e| e["id"] == id)?;
        Some((ev["created"].as_i64().unwrap_or(0), seq))
    }

    pub(crate) fn events_newest_first(&self) -> Vec<&Value> {
        let mut v: Vec<&Value> = self.events.iter().collect();
        v.sort_by_key(|e| {
            std::cmp::Reverse(
                self.event_order(e["id"].as_str().unwrap_or(""))
                    .unwrap_or((0, 0)),
            )
        });
        v
    }

    /// A paid Checkout order: session, PaymentIntent, charge and their three events.
    pub fn seed_payment(&mut self, spec: &PaymentSpec) -> SeededPayment {
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
            events.push(self.push_event(kind, obj, spec.created, spec.livemode));
        }
        for object in [session, intent, charge] {
            self.put_object(object);
        }
        SeededPayment {
            session_id: cs,
            payment_intent_id: pi,
            charge_id: ch,
            events,
        }
    }

    /// `GET /v1/{kind}s/{id}` for a key of mode `livemode`: an object of another kind or
    /// mode does not exist for it.
    pub fn retrieve(
        &self,
        id: &str,
        what: &str,
        livemode: bool,
        p: &Params,
    ) -> Result<Reply, ApiError> {
        p.only(&["expand"])?;
        match self.objects.get(id) {
            Some(o) if o["object"] == what && o["livemode"] == livemode => ok(o.clone()),
            _ => Err(ApiError::missing(id, what, "id")),
        }
    }

    /// `POST /v1/refunds` for a key of mode `livemode`.
    pub fn create_refund(&mut self, livemode: bool, p: &Params) -> Result<Reply, ApiError> {
        p.only(&[
            "payment_intent",
            "charge",
            "amount",
            "reason",
            "metadata",
            "instructions_email",
            "refund_application_fee",
            "reverse_transfer",
            "origin",
            "expand",
        ])?;
        let amount = p.int("amount")?;
        let reason = p.one_of(
            "reason",
            &["duplicate", "fraudulent", "requested_by_customer"],
        )?;
        let charge_id = match (p.str("charge"), p.str("payment_intent")) {
            (Some(_), Some(_)) => {
                return Err(ApiError::invalid(
                    "You cannot pass both charge and payment_intent. Specify one.",
                    "payment_intent",
                ));
            }
            (Some(ch), None) => match self.objects.get(ch) {
                Some(c) if c["object"] == "charge" && c["livemode"] == livemode => ch.to_owned(),
                _ => return Err(ApiError::missing(ch, "charge", "charge")),
            },
            (None, Some(pi)) => match self.objects.get(pi) {
                Some(o) if o["object"] == "payment_intent" && o["livemode"] == livemode => {
                    o["latest_charge"].as_str().map(str::to_owned).ok_or_else(|| {
                        ApiError::invalid(
                            format!("This PaymentIntent ({pi}) does not have a successful charge to refund."),
                            "payment_intent",
                        )
                    })?
                }
                _ => return Err(ApiError::missing(pi, "payment_intent", "payment_intent")),
            },
            (None, None) => {
                return Err(ApiError::invalid(
                    "Missing required param: charge or payment_intent.",
                    "charge",
                ));
            }
        };
        let charge = self
            .objects
            .get(&charge_id)
            .cloned()
            .ok_or_else(|| ApiError::missing(&charge_id, "charge", "charge"))?;
        let total = charge["amount"].as_i64().unwrap_or(0);
        let refunded = charge["amount_refunded"].as_i64().unwrap_or(0);
        let remaining = total - refunded;
        if remaining <= 0 {
            return Err(ApiError::invalid(
                format!("Charge {charge_id} has already been refunded."),
                "charge",
            )
            .code("charge_already_refunded"));
        }
        let amount = amount.unwrap_or(remaining);
        if amount <= 0 {
            return Err(ApiError::invalid("Invalid positive integer", "amount")
                .code("parameter_invalid_integer"));
        }
        if amount > remaining {
            return Err(ApiError::invalid(
                format!(
                    "Refund amount ({amount}) is greater than unrefunded amount on charge ({remaining})"
                ),
                "amount",
            )
            .code("amount_too_large"));
        }
        let t = now();
        let refund = objects::refund(&new_id("re_"), &charge, amount, reason.as_deref(), t);
        let mut updated = charge;
        updated["amount_refunded"] = json!(refunded + amount);
        updated["refunded"] = json!(refunded + amount == total);
        self.put_object(updated.clone());
        self.put_object(refund.clone());
        self.push_event("charge.refunded", &updated, t, livemode);
        self.push_event("refund.created", &refund, t, livemode);
        ok(refund)
    }

    /// A refund fails after Stripe accepted it (the card was closed, say), as Stripe
    /// reports it: the refund turns `failed` with its `failure_reason`, its amount is no
    /// longer refunded on the charge, and `charge.refund.updated`, `refund.updated` and
    /// `refund.failed` carry the refund, `created` at `at`. Returns those events; None for
    /// an unknown refund or one that is already failed or canceled.
    pub fn fail_refund(
        &mut self,
        refund_id: &str,
        failure_reason: &str,
        at: i64,
    ) -> Option<Vec<Value>> {
        let mut refund = self.objects.get(refund_id).cloned()?;
        if refund["object"] != "refund"
            || matches!(refund["status"].as_str(), Some("failed" | "canceled"))
        {
            return None;
        }
        let amount = refund["amount"].as_i64().unwrap_or(0);
        let charge_id = refund["charge"].as_str().map(str::to_owned);
        let mut livemode = false;
        if let Some(mut charge) = charge_id.and_then(|c| self.objects.get(&c).cloned()) {
            let refunded = (charge["amount_refunded"].as_i64().unwrap_or(0) - amount).max(0);
            charge["amount_refunded"] = json!(refunded);
            charge["refunded"] = json!(false);
            livemode = charge["livemode"].as_bool().unwrap_or(false);
            self.put_object(charge);
        }
        refund["status"] = json!("failed");
        refund["failure_reason"] = json!(failure_reason);
        self.put_object(refund.clone());
        Some(
            ["charge.refund.updated", "refund.updated", "refund.failed"]
                .into_iter()
                .map(|kind| self.push_event(kind, &refund, at, livemode))
                .collect(),
        )
    }
}
