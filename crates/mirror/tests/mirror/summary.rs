//! The revenue summary against a sample computed by hand (USD, JPY, KWD).

use fluxstore_mirror::{CurrencyRevenue, Mode, OrderMarker};
use fluxstore_samples::{ApiShape, Ctx, OrderSpec, Outcome, dispute, envelope, order_story};
use fluxstore_test_support::temp_mirror;

use crate::common::{T0, ingest_all};

const DAY: i64 = 86_400;

fn story(
    m: &mut fluxstore_mirror::Mirror,
    n: u64,
    outcome: Outcome,
    cur: &str,
    amount: i64,
    t0: i64,
) {
    let events = order_story(n, outcome, cur, amount, &Ctx::test(ApiShape::Basil), t0);
    ingest_all(m, &events);
}

fn row(currency: &str, orders: u64, g: i64, r: i64, d: i64, w: i64, net: i64) -> CurrencyRevenue {
    CurrencyRevenue {
        currency: currency.into(),
        orders,
        gross: g,
        refunded: r,
        disputed: d,
        won_back: w,
        net,
    }
}

#[test]
fn the_summary_matches_a_hand_computed_sample() {
    let (_d, mut m) = temp_mirror().into_parts();
    // USD, paid inside the period (T0 .. T0 + 10 days):
    story(&mut m, 1, Outcome::Paid, "usd", 2500, T0); //            gross 2500
    story(&mut m, 2, Outcome::Refunded, "usd", 1000, T0); //        refunded 1000
    story(&mut m, 3, Outcome::PartiallyRefunded, "usd", 3000, T0); // refunded 1500
    story(&mut m, 4, Outcome::DisputeLost, "usd", 2000, T0); //     disputed 2000
    story(&mut m, 5, Outcome::RefundFailed, "usd", 1200, T0); //    a failed refund: 0
    story(&mut m, 6, Outcome::Pending, "usd", 999, T0); //          never paid: not counted
    story(&mut m, 7, Outcome::Failed, "usd", 888, T0); //           never paid: not counted
    // An inquiry (warning_needs_response) takes no money: gross 1800, disputed 0.
    story(&mut m, 8, Outcome::Paid, "usd", 1800, T0);
    let ctx = Ctx::test(ApiShape::Basil);
    let o8 = OrderSpec::new(8, "usd", 1800, false);
    let inquiry = dispute(
        &o8,
        "warning_needs_response",
        "fraudulent",
        Some(T0 + 9 * DAY),
        false,
        T0 + DAY,
        &ctx,
    );
    ingest_all(
        &mut m,
        &[envelope("charge.dispute.created", inquiry, T0 + DAY, &ctx)],
    );
    // JPY:
    story(&mut m, 10, Outcome::Paid, "jpy", 1500, T0); //           gross 1500
    story(&mut m, 11, Outcome::DisputeWon, "jpy", 3000, T0); //     disputed 3000, won back 3000
    story(&mut m, 12, Outcome::RefundRetried, "jpy", 500, T0); //   failed, then refunded 500
    // KWD (three decimals):
    story(&mut m, 20, Outcome::Paid, "kwd", 12_340, T0); //         gross 12.340
    story(&mut m, 21, Outcome::PartiallyRefunded, "kwd", 5_120, T0); // refunded 2.560
    story(&mut m, 22, Outcome::DisputeOpen, "kwd", 7_000, T0); //   disputed 7.000, still open
    // Outside the period, and the other mode: never counted.
    story(&mut m, 30, Outcome::Paid, "usd", 100_000, T0 - 30 * DAY);
    let live = order_story(
        31,
        Outcome::Paid,
        "usd",
        50_000,
        &Ctx::live(ApiShape::Basil),
        T0,
    );
    ingest_all(&mut m, &live);

    let from = Some(T0);
    let to = Some(T0 + 10 * DAY);
    let s = m.revenue_summary(Mode::Test, from, to).unwrap();
    assert_eq!((s.mode, s.from, s.to), (Mode::Test, from, to));
    assert_eq!(
        s.currencies,
        vec![
            // 1500+3000+500 = 5000; 5000 - 500 - 3000 + 3000 = 4500
            row("jpy", 3, 5_000, 500, 3_000, 3_000, 4_500),
            // 12340+5120+7000 = 24460; 24460 - 2560 - 7000 = 14900
            row("kwd", 3, 24_460, 2_560, 7_000, 0, 14_900),
            // 2500+1000+3000+2000+1200+1800 = 11500; 11500 - 2500 - 2000 = 7000
            row("usd", 6, 11_500, 2_500, 2_000, 0, 7_000),
        ]
    );

    // Unbounded: the older USD order counts too; the live order only in live mode.
    let all = m.revenue_summary(Mode::Test, None, None).unwrap();
    let usd = all.currencies.iter().find(|c| c.currency == "usd").unwrap();
    assert_eq!((usd.orders, usd.gross, usd.net), (7, 111_500, 107_000));
    let live = m.revenue_summary(Mode::Live, None, None).unwrap();
    assert_eq!(
        live.currencies,
        vec![row("usd", 1, 50_000, 0, 0, 0, 50_000)]
    );

    // A period with no paid order is empty, not an error.
    let none = m
        .revenue_summary(Mode::Test, Some(T0 + 400 * DAY), None)
        .unwrap();
    assert!(none.currencies.is_empty());
}

#[test]
fn the_summary_counts_only_the_orders_the_marker_counts() {
    let (_d, mut m) = temp_mirror().into_parts();
    story(&mut m, 1, Outcome::Paid, "usd", 2500, T0);
    m.set_order_marker(Some(&OrderMarker::ClientReferencePrefix {
        prefix: "no-such-store-".into(),
    }))
    .unwrap();
    assert!(
        m.revenue_summary(Mode::Test, None, None)
            .unwrap()
            .currencies
            .is_empty()
    );
    m.set_order_marker(None).unwrap();
    assert_eq!(
        m.revenue_summary(Mode::Test, None, None)
            .unwrap()
            .currencies
            .len(),
        1
    );
}
