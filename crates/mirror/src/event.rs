//! Parsing the event envelope, and the Stripe objects an event names.
//!
//! Parsing checks the envelope only; object fields are read later, leniently. The object
//! references (`refs`) are what lets a fold find every event of an order whatever order
//! they arrived in: each event is indexed under its own object and the objects it links.

use serde_json::Value;

use crate::fields::{first_id, id_at, list_at, str_at};
use crate::{Event, MirrorError};

impl Event {
    /// Parse the envelope of a Stripe event. `Err(MirrorError::Malformed)` for anything that
    /// is not a JSON object with a string `id`, string `type`, integer `created`, bool
    /// `livemode` and an object `data.object`.
    pub fn parse(raw: &[u8]) -> Result<Event, MirrorError> {
        let text = std::str::from_utf8(raw)
            .map_err(|_| MirrorError::Malformed("the body is not UTF-8 text".into()))?;
        let json: Value = serde_json::from_str(text)
            .map_err(|e| MirrorError::Malformed(format!("the body is not JSON ({e})")))?;
        if !json.is_object() {
            return Err(MirrorError::Malformed(
                "the body is not a JSON object".into(),
            ));
        }
        let id = json["id"]
            .as_str()
            .filter(|s| !s.is_empty())
            .ok_or_else(|| MirrorError::Malformed("the event has no id".into()))?
            .to_owned();
        let event_type = json["type"]
            .as_str()
            .filter(|s| !s.is_empty())
            .ok_or_else(|| MirrorError::Malformed("the event has no type".into()))?
            .to_owned();
        let created = json["created"]
            .as_i64()
            .ok_or_else(|| MirrorError::Malformed("the event has no creation time".into()))?;
        let livemode = json["livemode"].as_bool().ok_or_else(|| {
            MirrorError::Malformed("the event does not say whether it is live or test".into())
        })?;
        if !json["data"]["object"].is_object() {
            return Err(MirrorError::Malformed("the event carries no object".into()));
        }
        let account = json["account"].as_str().map(str::to_owned);
        let api_version = json["api_version"].as_str().map(str::to_owned);
        Ok(Event {
            id,
            event_type,
            created,
            livemode,
            account,
            api_version,
            raw: text.to_owned(),
            json,
        })
    }
}

/// The kinds of Stripe object the mirror projects.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    Session,
    PaymentIntent,
    Charge,
    Refund,
    Dispute,
    Invoice,
    Subscription,
}

impl Kind {
    pub fn from_object(object: &str) -> Option<Kind> {
        Some(match object {
            "checkout.session" => Kind::Session,
            "payment_intent" => Kind::PaymentIntent,
            "charge" => Kind::Charge,
            "refund" => Kind::Refund,
            "dispute" => Kind::Dispute,
            "invoice" => Kind::Invoice,
            "subscription" => Kind::Subscription,
            _ => return None,
        })
    }
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Session => "checkout.session",
            Kind::PaymentIntent => "payment_intent",
            Kind::Charge => "charge",
            Kind::Refund => "refund",
            Kind::Dispute => "dispute",
            Kind::Invoice => "invoice",
            Kind::Subscription => "subscription",
        }
    }
    /// Objects that belong to one purchase (an invoice joins only to mark payments that
    /// pay a subscription rather than a checkout).
    pub fn is_order_part(self) -> bool {
        self != Kind::Subscription
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjRef {
    pub id: String,
    pub kind: Kind,
    pub is_self: bool,
}

/// The projected object an event carries, if the mirror projects its kind.
pub fn own_kind(json: &Value) -> Option<(Kind, &str)> {
    object_kind(&json["data"]["object"])
}

/// The kind and id of a Stripe object, if the mirror projects its kind.
pub fn object_kind(obj: &Value) -> Option<(Kind, &str)> {
    let kind = Kind::from_object(str_at(obj, &["object"])?)?;
    Some((kind, id_at(obj, &["id"])?))
}

/// Every object the event names: its own object first, then the linked ones.
pub fn refs(json: &Value) -> Vec<ObjRef> {
    object_refs(&json["data"]["object"])
}

/// Every object a Stripe object names: itself first, then the linked ones.
pub fn object_refs(obj: &Value) -> Vec<ObjRef> {
    let Some((kind, id)) = object_kind(obj) else {
        return Vec::new();
    };
    let mut out = vec![ObjRef {
        id: id.to_owned(),
        kind,
        is_self: true,
    }];
    let mut link = |k: Kind, id: Option<&str>| {
        if let Some(id) = id.filter(|s| !s.is_empty())
            && !out.iter().any(|r| r.id == id)
        {
            out.push(ObjRef {
                id: id.to_owned(),
                kind: k,
                is_self: false,
            });
        }
    };
    match kind {
        Kind::Session => {
            link(Kind::PaymentIntent, id_at(obj, &["payment_intent"]));
            link(Kind::Invoice, id_at(obj, &["invoice"]));
            link(Kind::Subscription, id_at(obj, &["subscription"]));
        }
        Kind::PaymentIntent => {
            link(Kind::Charge, id_at(obj, &["latest_charge"]));
            for c in list_at(obj, &["charges"]) {
                link(Kind::Charge, id_at(c, &["id"]));
            }
            link(Kind::Invoice, id_at(obj, &["invoice"]));
        }
        Kind::Charge => {
            link(Kind::PaymentIntent, id_at(obj, &["payment_intent"]));
            link(Kind::Invoice, id_at(obj, &["invoice"]));
        }
        Kind::Refund | Kind::Dispute => {
            link(Kind::Charge, id_at(obj, &["charge"]));
            link(Kind::PaymentIntent, id_at(obj, &["payment_intent"]));
        }
        Kind::Invoice => {
            link(Kind::Subscription, invoice_subscription(obj));
            link(Kind::Charge, id_at(obj, &["charge"]));
            link(Kind::PaymentIntent, id_at(obj, &["payment_intent"]));
            for p in list_at(obj, &["payments"]) {
                link(
                    Kind::PaymentIntent,
                    id_at(p, &["payment", "payment_intent"]),
                );
                link(Kind::Charge, id_at(p, &["payment", "charge"]));
            }
        }
        Kind::Subscription => {}
    }
    out
}

/// Invoice → subscription: basil's `parent.subscription_details.subscription`, then the
/// pre-basil top-level `subscription`.
pub fn invoice_subscription(invoice: &Value) -> Option<&str> {
    first_id(
        invoice,
        &[
            &["parent", "subscription_details", "subscription"],
            &["subscription"],
        ],
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn parse_rejects_what_is_not_an_event() {
        let cases: [&[u8]; 8] = [
            b"\xff\xfe",
            b"not json",
            b"[1,2]",
            br#"{"type":"x","created":1,"livemode":false,"data":{"object":{}}}"#,
            br#"{"id":"evt_1","created":1,"livemode":false,"data":{"object":{}}}"#,
            br#"{"id":"evt_1","type":"x","created":"1","livemode":false,"data":{"object":{}}}"#,
            br#"{"id":"evt_1","type":"x","created":1,"livemode":"no","data":{"object":{}}}"#,
            br#"{"id":"evt_1","type":"x","created":1,"livemode":false,"data":{"object":null}}"#,
        ];
        for raw in cases {
            assert!(
                matches!(Event::parse(raw), Err(MirrorError::Malformed(_))),
                "{:?}",
                String::from_utf8_lossy(raw)
            );
        }
        let ok = Event::parse(br#"{"id":"evt_1","type":"x.y","created":5,"livemode":true,"account":"acct_1","data":{"object":{"id":"o"}}}"#).unwrap();
        assert_eq!(
            (
                ok.id.as_str(),
                ok.created,
                ok.livemode,
                ok.account.as_deref()
            ),
            ("evt_1", 5, true, Some("acct_1"))
        );
        assert_eq!(ok.api_version, None);
    }

    #[test]
    fn refs_follow_both_shapes() {
        let old = json!({"data": {"object": {"object": "payment_intent", "id": "pi_1",
            "charges": {"data": [{"id": "ch_2"}, {"id": "ch_1"}]}}}});
        let ids: Vec<_> = refs(&old).into_iter().map(|r| r.id).collect();
        assert_eq!(ids, ["pi_1", "ch_2", "ch_1"]);
        let basil = json!({"data": {"object": {"object": "invoice", "id": "in_1",
            "parent": {"subscription_details": {"subscription": "sub_1"}},
            "payments": {"data": [{"payment": {"payment_intent": "pi_9"}}]}}}});
        let r = refs(&basil);
        assert_eq!(
            r[1],
            ObjRef {
                id: "sub_1".into(),
                kind: Kind::Subscription,
                is_self: false
            }
        );
        assert_eq!(r[2].id, "pi_9");
        let legacy = json!({"data": {"object": {"object": "invoice", "id": "in_1", "subscription": "sub_2", "charge": {"id": "ch_5"}}}});
        let ids: Vec<_> = refs(&legacy).into_iter().map(|r| r.id).collect();
        assert_eq!(ids, ["in_1", "sub_2", "ch_5"]);
        assert!(
            refs(&json!({"data": {"object": {"object": "account", "id": "acct_1"}}})).is_empty()
        );
    }
}
