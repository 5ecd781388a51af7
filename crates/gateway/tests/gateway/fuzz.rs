//! Property fuzzing of Stripe's form encoding: what the gateway encodes (`Form`), Stripe's
//! side decodes to the same parameters (checked with the Stripe fake's decoder, which reads
//! brackets as Stripe does, and with a plain form decoder), and the decoder refuses or reads
//! any text without a panic. `scripts/fuzz --cases N` runs these with N cases each.

use std::collections::BTreeMap;

use fluxstore_gateway::form::Form;
use fluxstore_test_support::fuzz::{DEFAULT_CASES, config};
use fluxstore_test_support::stripe_fake::Params;
use proptest::prelude::*;

/// Parameter names as Stripe's are: lowercase words.
fn name() -> impl Strategy<Value = String> {
    "[a-z][a-z_]{0,15}"
}

proptest! {
    #![proptest_config(config(DEFAULT_CASES))]

    /// Any keys and values, any characters, in any order: decoded back in the same order.
    #[test]
    fn any_pairs_round_trip_in_order(
        pairs in prop::collection::vec((any::<String>(), any::<String>()), 0..8),
    ) {
        let mut form = Form::new();
        for (k, v) in &pairs {
            form.push(k, v);
        }
        let encoded = form.encode();
        prop_assert!(encoded.is_ascii());
        let decoded: Vec<(String, String)> = serde_urlencoded::from_str(&encoded).expect("decodes");
        prop_assert_eq!(&decoded, &pairs);
        let plain: Vec<(String, String)> = url::form_urlencoded::parse(encoded.as_bytes()).into_owned().collect();
        prop_assert_eq!(&plain, &pairs);
    }

    /// Scalars, arrays (`k[]`) and hashes (`k[sub]`) with any values reach Stripe's side
    /// as the same scalars, arrays and hashes.
    #[test]
    fn nested_parameters_reach_stripe_as_sent(
        scalars in prop::collection::btree_map(name(), any::<String>(), 0..4),
        lists in prop::collection::btree_map(name(), prop::collection::vec(any::<String>(), 1..4), 0..3),
        hashes in prop::collection::btree_map(name(), prop::collection::btree_map("[a-z0-9_]*[a-z_][a-z0-9_]*", any::<String>(), 1..4), 0..3),
    ) {
        let mut form = Form::new();
        for (k, v) in &scalars {
            form.push(k, v);
        }
        for (k, vs) in &lists {
            form.push_list(k, vs);
        }
        for (k, h) in &hashes {
            for (sub, v) in h {
                form.push_nested(k, sub, v);
            }
        }
        let params = Params::parse(&form.encode()).expect("Stripe's side reads it");
        prop_assert_eq!(&params.scalars, &scalars);
        prop_assert_eq!(&params.arrays, &lists);
        let hashes: BTreeMap<String, BTreeMap<String, String>> = hashes;
        prop_assert_eq!(&params.hashes, &hashes);
        prop_assert_eq!(params.pairs, form.pairs().to_vec());
    }

    /// Any text given to the decoder is read or refused with Stripe's error, never a panic;
    /// what it reads keeps every pair in order.
    #[test]
    fn any_text_is_decoded_or_refused(
        text in prop_oneof![
            any::<String>(),
            "([a-z\\[\\]%0-9]{0,8}=[a-z%+0-9]{0,8}&?){0,6}",
        ],
    ) {
        if let Ok(params) = Params::parse(&text) {
            let plain: Vec<(String, String)> = url::form_urlencoded::parse(text.as_bytes()).into_owned().collect();
            prop_assert_eq!(params.pairs.len(), plain.len());
            prop_assert!(params.scalars.len() <= params.pairs.len());
        }
    }
}
