//! The local Stripe fake as a process, for the real-app end-to-end tests (scripts/e2e).
//!
//! Prints three lines — the base URL, a test secret key the fake accepts, and the
//! `checkout.session.completed` event (one line of JSON) of a paid 25.00 USD order seeded in
//! the fake, which the tests deliver to the app's relay and then refund — then serves until
//! its standard input closes.
use std::io::{BufRead, Write};

use fluxstore_mirror::facts::event_types;
use fluxstore_test_support::stripe_fake::{
    PaymentSpec, StripeFake, StripeFakeConfig, TEST_SECRET_KEY,
};

#[tokio::main(flavor = "current_thread")]
async fn main() -> std::io::Result<()> {
    let fake = StripeFake::start(StripeFakeConfig::default()).await?;
    let now = fluxstore_desktop::sample::unix_now();
    let paid = fake.seed_payment(&PaymentSpec {
        amount: 2_500,
        currency: "usd".to_owned(),
        email: "buyer@example.com".to_owned(),
        livemode: false,
        created: now - 60,
    });
    let mut out = std::io::stdout().lock();
    writeln!(out, "{}", fake.base_url())?;
    writeln!(out, "{TEST_SECRET_KEY}")?;
    let checkout = paid
        .events
        .iter()
        .find(|e| e["type"] == event_types::CHECKOUT_SESSION_COMPLETED)
        .ok_or_else(|| std::io::Error::other("the fake seeded no checkout event"))?;
    writeln!(out, "{checkout}")?;
    out.flush()?;
    drop(out);
    // Serve until the test run closes our stdin.
    tokio::task::spawn_blocking(|| {
        let mut sink = String::new();
        let mut stdin = std::io::stdin().lock();
        while stdin.read_line(&mut sink).map(|n| n > 0).unwrap_or(false) {
            sink.clear();
        }
    })
    .await
    .map_err(std::io::Error::other)?;
    drop(fake);
    Ok(())
}
