//! Learning objects from events: the ledger answers refunds and `GET`s only for objects it
//! knows, and it knows those it created. `Ledger::learn` teaches it the charges,
//! PaymentIntents, Checkout Sessions, refunds and disputes that already-rendered events describe (e.g. a sample store generated
//! elsewhere), so the API can act on them as Stripe would.
//!
//! Invariants: an object the ledger already knew before the call is left as it is (its state
//! may have moved on through the API, e.g. a refund, and an event is an older snapshot); among
//! the events of one call, the newest snapshot of an object wins (by `created`, then by
//! position), so a `charge.refunded` after a `charge.succeeded` leaves the refunded amount in
//! place. The events themselves are not added to the events list: they describe the past the
//! caller delivers on its own.

use std::collections::HashMap;

use serde_json::Value;

use crate::Ledger;

/// Object kinds the ledger learns: what the refund route, `GET`s and the lists of a
/// session's line items and a charge's refunds and disputes need.
const LEARNED: [&str; 5] = [
    "charge",
    "payment_intent",
    "checkout.session",
    "refund",
    "dispute",
];

impl Ledger {
    /// Know the objects of the [`LEARNED`] kinds `events` carry in `data.object`.
    ///
    /// A PaymentIntent rendered at an API version without `latest_charge` (it lists `charges`
    /// instead) gets `latest_charge` from that list, or from the newest learned charge that
    /// names it, so a refund by PaymentIntent finds its charge. Returns how many objects were
    /// learned (objects already known are skipped and not counted).
    pub fn learn(&mut self, events: &[Value]) -> usize {
        let mut newest: HashMap<String, (i64, Value)> = HashMap::new();
        for event in events {
            let Some(object) = event.pointer("/data/object") else {
                continue;
            };
            let kind = object["object"].as_str().unwrap_or_default();
            let Some(id) = object["id"].as_str() else {
                continue;
            };
            if !LEARNED.contains(&kind) {
                continue;
            }
            let created = event["created"].as_i64().unwrap_or(0);
            let mut object = object.clone();
            if object.get("livemode").is_none_or(Value::is_null) {
                object["livemode"] = event["livemode"].clone();
            }
            match newest.get(id) {
                Some((seen, _)) if *seen > created => {}
                _ => {
                    newest.insert(id.to_owned(), (created, object));
                }
            }
        }

        // The newest charge per PaymentIntent (by the charge's own `created`).
        let mut charge_of: HashMap<String, (i64, String)> = HashMap::new();
        for (id, (_, object)) in &newest {
            if object["object"] != "charge" {
                continue;
            }
            let Some(pi) = object["payment_intent"].as_str() else {
                continue;
            };
            let created = object["created"].as_i64().unwrap_or(0);
            if charge_of.get(pi).is_none_or(|(c, _)| created >= *c) {
                charge_of.insert(pi.to_owned(), (created, id.clone()));
            }
        }

        let mut learned = 0;
        for (id, (_, mut object)) in newest {
            if self.objects.contains_key(&id) {
                continue;
            }
            if object["object"] == "payment_intent"
                && object.get("latest_charge").is_none_or(Value::is_null)
            {
                let listed = object
                    .pointer("/charges/data/0/id")
                    .and_then(Value::as_str)
                    .map(str::to_owned);
                if let Some(charge) = listed.or_else(|| charge_of.get(&id).map(|(_, c)| c.clone()))
                {
                    object["latest_charge"] = Value::String(charge);
                }
            }
            self.objects.insert(id, object);
            learned += 1;
        }
        learned
    }
}
