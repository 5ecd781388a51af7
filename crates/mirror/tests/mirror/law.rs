//! THE LAW: every permutation and every duplication of a set of related events yields an
//! identical mirror (the canonical dump of all projection tables), whether events arrive
//! one by one or in group-commit batches of any size. Orders, subscriptions and invoices,
//! and account statuses (several `account.updated` of one account, ties in `created` common),
//! and payments of other shops on the account (no Checkout Session: other activity, never
//! an order).

use fluxstore_mirror::{Event, Source};
use fluxstore_samples::ids::splitmix;
use fluxstore_samples::{ApiShape, Ctx, Outcome, SubOutcome, order_story, subscription_story};
use fluxstore_test_support::temp_mirror;
use proptest::prelude::*;
use serde_json::Value;

const CURRENCIES: [(&str, i64); 4] = [("usd", 1999), ("eur", 4500), ("jpy", 3500), ("kwd", 12_340)];

#[derive(Debug, Clone)]
struct Story {
    outcome: usize,
    currency: usize,
    shape: usize,
    live: bool,
    /// Stories share start times often, so `created` ties are common.
    t0_step: i64,
}

fn story() -> impl Strategy<Value = Story> {
    (
        0..Outcome::ALL.len(),
        0..4usize,
        0..4usize,
        any::<bool>(),
        0i64..3,
    )
        .prop_map(|(outcome, currency, shape, live, t0_step)| Story {
            outcome,
            currency,
            shape,
            live,
            t0_step,
        })
}

/// One `account.updated` of an account story: which account (two share ids across modes),
/// the mode, a time step (ties are common), and what it says.
#[derive(Debug, Clone)]
struct AccountUpdate {
    account: usize,
    live: bool,
    t_step: i64,
    charges: bool,
    payouts: bool,
    requirement: usize,
    connected: bool,
}

fn account_update() -> impl Strategy<Value = AccountUpdate> {
    (
        0..2usize,
        any::<bool>(),
        0i64..4,
        any::<bool>(),
        any::<bool>(),
        0..3usize,
        any::<bool>(),
    )
        .prop_map(
            |(account, live, t_step, charges, payouts, requirement, connected)| AccountUpdate {
                account,
                live,
                t_step,
                charges,
                payouts,
                requirement,
                connected,
            },
        )
}

fn account_events(updates: &[AccountUpdate]) -> Vec<Value> {
    const DUE: [&[&str]; 3] = [
        &[],
        &["external_account"],
        &["individual.id_number", "tos_acceptance.date"],
    ];
    updates
        .iter()
        .map(|u| {
            let snap = crate::common::AccountSnap {
                id: format!("acct_1Law{}", u.account),
                livemode: u.live,
                charges_enabled: u.charges,
                payouts_enabled: u.payouts,
                currently_due: DUE[u.requirement].iter().map(|s| (*s).to_owned()).collect(),
                disabled_reason: (!u.charges).then(|| "requirements.past_due".to_owned()),
            };
            crate::common::account_updated(&snap, crate::common::T0 + 60 * u.t_step, u.connected)
        })
        .collect()
}

/// The events of a purchase made outside the store's checkout: the story's events without
/// its Checkout Session (a point of sale, another shop, an API charge).
fn foreign_events(stories: &[Story]) -> Vec<Value> {
    let mut out = Vec::new();
    for (i, s) in stories.iter().enumerate() {
        let ctx = Ctx {
            livemode: s.live,
            shape: ApiShape::ALL[s.shape],
            account: None,
        };
        let (cur, amount) = CURRENCIES[s.currency];
        out.extend(
            order_story(
                300 + i as u64,
                Outcome::ALL[s.outcome],
                cur,
                amount,
                &ctx,
                crate::common::T0 + 60 * s.t0_step,
            )
            .into_iter()
            .filter(|e| e["data"]["object"]["object"] != "checkout.session"),
        );
    }
    out
}

fn events_of(stories: &[Story], subs: &[(usize, usize, bool)]) -> Vec<Value> {
    let mut out = Vec::new();
    for (i, s) in stories.iter().enumerate() {
        let ctx = Ctx {
            livemode: s.live,
            shape: ApiShape::ALL[s.shape],
            account: None,
        };
        let (cur, amount) = CURRENCIES[s.currency];
        out.extend(order_story(
            i as u64,
            Outcome::ALL[s.outcome],
            cur,
            amount,
            &ctx,
            crate::common::T0 + 60 * s.t0_step,
        ));
    }
    for (i, (outcome, shape, live)) in subs.iter().enumerate() {
        let ctx = Ctx {
            livemode: *live,
            shape: ApiShape::ALL[*shape],
            account: None,
        };
        let o = [
            SubOutcome::Active,
            SubOutcome::PastDue,
            SubOutcome::Canceled,
        ][*outcome];
        let n = 100 + i as u64;
        out.extend(subscription_story(
            n,
            o,
            "usd",
            900,
            &ctx,
            crate::common::T0,
        ));
        // The first invoice's own payment events: other activity until the invoice
        // that names them arrives, then no order at all.
        let sub = fluxstore_samples::SubscriptionSpec::new(n, "usd", 900, *live);
        let pay = fluxstore_samples::OrderSpec {
            payment_intent: sub.payment_intent_id(0),
            charge: sub.charge_id(0),
            ..fluxstore_samples::OrderSpec::new(n, "usd", 900, *live)
        };
        let ch = fluxstore_samples::charge(
            &pay,
            &pay.charge,
            "succeeded",
            0,
            false,
            crate::common::T0,
            &ctx,
        );
        let pi = fluxstore_samples::payment_intent(
            &pay,
            "succeeded",
            std::slice::from_ref(&ch),
            false,
            crate::common::T0,
            &ctx,
        );
        out.push(fluxstore_samples::envelope(
            "charge.succeeded",
            ch,
            crate::common::T0 + 1,
            &ctx,
        ));
        out.push(fluxstore_samples::envelope(
            "payment_intent.succeeded",
            pi,
            crate::common::T0 + 1,
            &ctx,
        ));
    }
    out
}

/// A deterministic shuffle with duplicates: every event at least once, some twice or more.
fn scramble(events: &[Value], seed: u64, dup_count: usize) -> Vec<Value> {
    let mut state = seed;
    let mut out: Vec<Value> = events.to_vec();
    for _ in 0..dup_count {
        let pick = (splitmix(&mut state) % events.len() as u64) as usize;
        out.push(events[pick].clone());
    }
    for i in (1..out.len()).rev() {
        let j = (splitmix(&mut state) % (i as u64 + 1)) as usize;
        out.swap(i, j);
    }
    out
}

fn natural_dump(events: &[Value]) -> String {
    let (_d, mut m) = temp_mirror().into_parts();
    crate::common::ingest_all(&mut m, events);
    m.dump_projections().unwrap()
}

fn scrambled_dump(events: &[Value], seed: u64, max_batch: u64) -> String {
    let (_d, mut m) = temp_mirror().into_parts();
    let parsed: Vec<(Event, Source)> = events
        .iter()
        .map(|e| {
            (
                Event::parse(e.to_string().as_bytes()).unwrap(),
                Source::Webhook,
            )
        })
        .collect();
    let mut state = seed ^ 0xba7c;
    let mut rest = &parsed[..];
    while !rest.is_empty() {
        let n = (1 + splitmix(&mut state) % max_batch).min(rest.len() as u64) as usize;
        m.ingest_batch(&rest[..n]).unwrap();
        rest = &rest[n..];
    }
    m.dump_projections().unwrap()
}

proptest! {
    // Seeds of past failures stay beside this file (law.proptest-regressions): inside a
    // test binary with a main.rs, proptest's default would look in a sibling folder instead.
    #![proptest_config(ProptestConfig {
        cases: 40,
        failure_persistence: Some(Box::new(proptest::test_runner::FileFailurePersistence::WithSource("proptest-regressions"))),
        ..ProptestConfig::default()
    })]

    #[test]
    fn every_permutation_and_duplication_yields_the_same_mirror(
        stories in prop::collection::vec(story(), 1..4),
        foreign in prop::collection::vec(story(), 0..3),
        subs in prop::collection::vec((0..3usize, 0..4usize, any::<bool>()), 0..3),
        accounts in prop::collection::vec(account_update(), 0..7),
        seed in any::<u64>(),
        dup_count in 0usize..8,
        max_batch in 1u64..10,
    ) {
        let mut events = events_of(&stories, &subs);
        events.extend(foreign_events(&foreign));
        events.extend(account_events(&accounts));
        let expected = natural_dump(&events);
        prop_assert!(expected.lines().count() > 5, "the dump holds rows: {}", expected);
        let scrambled = scramble(&events, seed, dup_count);
        let got = scrambled_dump(&scrambled, seed, max_batch);
        prop_assert_eq!(got, expected);
    }
}

#[test]
fn reversed_order_of_a_whole_sample_store_yields_the_same_mirror() {
    let events = fluxstore_samples::sample_store(7, crate::common::T0 + 90 * 86_400);
    let expected = natural_dump(&events);
    let reversed: Vec<Value> = events.iter().rev().cloned().collect();
    assert_eq!(scrambled_dump(&reversed, 1, 16), expected);
    assert_eq!(scrambled_dump(&scramble(&events, 99, 30), 5, 1), expected);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 60, ..ProptestConfig::default() })]

    /// Account stories alone: several updates of two accounts in both modes, many sharing a
    /// second, shuffled and duplicated, always leave the same account rows.
    #[test]
    fn account_updates_in_any_order_yield_the_same_accounts(
        accounts in prop::collection::vec(account_update(), 1..10),
        seed in any::<u64>(),
        dup_count in 0usize..8,
        max_batch in 1u64..6,
    ) {
        let events = account_events(&accounts);
        let expected = natural_dump(&events);
        prop_assert!(expected.contains("acct_1Law"), "the dump holds account rows: {}", expected);
        let got = scrambled_dump(&scramble(&events, seed, dup_count), seed, max_batch);
        prop_assert_eq!(got, expected);
    }
}
