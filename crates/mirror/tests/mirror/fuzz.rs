//! Property fuzzing of the event parser (`Event::parse`), which meets the bytes of every
//! delivery once its signature holds, and of ingesting what it accepts. `scripts/fuzz --cases N`
//! runs these with N cases each in release mode; failures proptest finds are kept in
//! `fuzz.proptest-regressions` beside this file.

use fluxstore_mirror::{Event, MirrorError, Source};
use fluxstore_test_support::fuzz::{DEFAULT_CASES, config, config_scaled};
use fluxstore_test_support::temp_mirror;
use proptest::prelude::*;
use serde_json::{Map, Value, json};

/// Any JSON value, a few levels deep.
fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(|f| json!(f)),
        any::<String>().prop_map(Value::String),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map(any::<String>(), inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

/// A well-formed envelope and the values its fields must parse to.
#[derive(Debug, Clone)]
struct Envelope {
    id: String,
    event_type: String,
    created: i64,
    livemode: bool,
    account: Option<String>,
    api_version: Option<String>,
    object: Map<String, Value>,
}

impl Envelope {
    fn json(&self) -> Value {
        let mut v = json!({
            "id": self.id,
            "object": "event",
            "type": self.event_type,
            "created": self.created,
            "livemode": self.livemode,
            "data": {"object": Value::Object(self.object.clone())},
        });
        if let Some(a) = &self.account {
            v["account"] = json!(a);
        }
        if let Some(a) = &self.api_version {
            v["api_version"] = json!(a);
        }
        v
    }
}

fn envelope() -> impl Strategy<Value = Envelope> {
    (
        prop_oneof!["evt_[A-Za-z0-9]{1,30}", ".{1,20}"],
        prop_oneof![
            Just("checkout.session.completed".to_owned()),
            Just("charge.refunded".to_owned()),
            "[a-z_.]{1,40}",
            ".{1,12}"
        ],
        any::<i64>(),
        any::<bool>(),
        prop::option::of("acct_[A-Za-z0-9]{1,20}"),
        prop::option::of("20[0-9]{2}-[0-9]{2}-[0-9]{2}(\\.[a-z]{1,8})?"),
        prop::collection::btree_map("[a-z_]{1,12}", json_value(), 0..5),
    )
        .prop_map(
            |(id, event_type, created, livemode, account, api_version, object)| Envelope {
                id,
                event_type,
                created,
                livemode,
                account,
                api_version,
                object: object.into_iter().collect(),
            },
        )
}

/// The envelope rule read independently of the parser: what `parse` must accept.
fn acceptable(v: &Value) -> bool {
    v.is_object()
        && v["id"].as_str().is_some_and(|s| !s.is_empty())
        && v["type"].as_str().is_some_and(|s| !s.is_empty())
        && v["created"].as_i64().is_some()
        && v["livemode"].as_bool().is_some()
        && v["data"]["object"].is_object()
}

proptest! {
    #![proptest_config(config(DEFAULT_CASES))]

    /// Any bytes are parsed or refused as malformed, never a panic; and the parser accepts
    /// exactly what the envelope rule accepts.
    #[test]
    fn any_bytes_parse_or_are_refused_as_malformed(
        bytes in prop_oneof![
            prop::collection::vec(any::<u8>(), 0..512),
            json_value().prop_map(|v| v.to_string().into_bytes()),
        ],
    ) {
        let reference = std::str::from_utf8(&bytes)
            .ok()
            .and_then(|t| serde_json::from_str::<Value>(t).ok());
        match Event::parse(&bytes) {
            Ok(ev) => {
                let v = reference.expect("what parses is JSON");
                prop_assert!(acceptable(&v));
                prop_assert_eq!(ev.raw.as_bytes(), &bytes[..]);
            }
            Err(MirrorError::Malformed(_)) => {
                prop_assert!(reference.is_none_or(|v| !acceptable(&v)));
            }
            Err(other) => prop_assert!(false, "not a parse error: {other}"),
        }
    }

    /// A well-formed envelope round-trips: every field as written, the raw text verbatim.
    #[test]
    fn a_valid_envelope_round_trips(e in envelope(), pretty in any::<bool>()) {
        let v = e.json();
        let text = if pretty { serde_json::to_string_pretty(&v) } else { serde_json::to_string(&v) }
            .expect("json");
        let ev = Event::parse(text.as_bytes()).expect("a valid envelope parses");
        prop_assert_eq!(&ev.id, &e.id);
        prop_assert_eq!(&ev.event_type, &e.event_type);
        prop_assert_eq!(ev.created, e.created);
        prop_assert_eq!(ev.livemode, e.livemode);
        prop_assert_eq!(&ev.account, &e.account);
        prop_assert_eq!(&ev.api_version, &e.api_version);
        prop_assert_eq!(&ev.raw, &text);
        // Compared with serde_json's own reading of the text: without its `float_roundtrip`
        // feature a float may come back one ULP off, which is why the raw text is what is stored.
        let reread: Value = serde_json::from_str(&text).expect("json");
        prop_assert_eq!(&ev.json, &reread);
    }

    /// Removing a required field, or giving it a value of another type, is refused.
    #[test]
    fn a_missing_or_mistyped_field_is_refused(
        e in envelope(),
        field in prop::sample::select(vec!["id", "type", "created", "livemode", "data"]),
        replacement in prop::option::of(json_value()),
    ) {
        let mut v = e.json();
        match &replacement {
            None => { v.as_object_mut().expect("object").remove(field); }
            Some(r) => v[field] = r.clone(),
        }
        prop_assume!(!acceptable(&v));
        let refused = matches!(Event::parse(v.to_string().as_bytes()), Err(MirrorError::Malformed(_)));
        prop_assert!(refused);
    }

    /// Any one byte of a valid envelope changed to any value: parsed or refused, and the
    /// parser still agrees with the envelope rule.
    #[test]
    fn a_one_byte_change_is_parsed_or_refused_consistently(
        e in envelope(),
        at in any::<prop::sample::Index>(),
        byte in any::<u8>(),
    ) {
        let mut bytes = e.json().to_string().into_bytes();
        let i = at.index(bytes.len());
        bytes[i] = byte;
        let reference = std::str::from_utf8(&bytes)
            .ok()
            .and_then(|t| serde_json::from_str::<Value>(t).ok());
        let parsed = Event::parse(&bytes);
        prop_assert_eq!(parsed.is_ok(), reference.is_some_and(|v| acceptable(&v)));
    }
}

proptest! {
    // Each case opens a real SQLite file: a tenth of the cases, in a campaign too.
    #![proptest_config(config_scaled(DEFAULT_CASES / 10, 10))]

    /// What the parser accepts, the mirror stores once: the first ingest applies, a second
    /// is a duplicate, and the stored raw text is the bytes received.
    #[test]
    fn an_accepted_envelope_is_stored_once(e in envelope()) {
        let mut m = temp_mirror();
        let raw = e.json().to_string();
        let first = m.ingest(raw.as_bytes(), Source::Webhook).expect("stored");
        prop_assert!(first.applied().is_some());
        let second = m.ingest(raw.as_bytes(), Source::Webhook).expect("duplicate");
        prop_assert!(second.applied().is_none());
        let stored = m.events(None, 10).expect("events");
        prop_assert_eq!(stored.len(), 1);
        prop_assert_eq!(&stored[0].id, &e.id);
    }
}
