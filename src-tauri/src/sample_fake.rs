//! The sample store's local Stripe stand-in: the Stripe fake from the test-support crate on
//! 127.0.0.1, answering account status and refunds like Stripe does.
//!
//! The fake learns every charge and PaymentIntent the sample events describe
//! (`StripeFake::seed_from_events`), so every paid sample order in test mode can be refunded
//! from the window; a few extra paid orders are created in the fake itself (their events then
//! travel through the relay like the rest of the sample store), one of them in a zero-decimal
//! and one in a three-decimal currency.
use fluxstore_test_support::stripe_fake::{
    PaymentSpec, StripeFake, StripeFakeConfig, TEST_SECRET_KEY,
};
use serde_json::Value;

/// (amount in minor units, currency): one zero-decimal and one three-decimal currency among them.
const REFUNDABLE: [(i64, &str); 3] = [(2_500, "usd"), (1_500, "jpy"), (12_340, "kwd")];

pub struct Fake {
    fake: StripeFake,
}

impl Fake {
    pub fn base_url(&self) -> String {
        self.fake.base_url()
    }
    /// A key the fake accepts. Not a secret: it only opens this process's own stand-in.
    pub fn secret_key(&self) -> &'static str {
        TEST_SECRET_KEY
    }
}

/// Start the fake, teach it the objects of `sample_events`, and seed the extra refundable
/// orders; returns it with the extra orders' events (to be delivered with the rest).
pub async fn start(now: i64, sample_events: &[Value]) -> Result<(Fake, Vec<Value>), String> {
    let fake = StripeFake::start(StripeFakeConfig::default())
        .await
        .map_err(|e| e.to_string())?;
    let learned = fake.seed_from_events(sample_events);
    tracing::debug!(
        learned,
        "the sample store's Stripe stand-in knows the sample objects"
    );
    let mut events = Vec::new();
    for (i, (amount, currency)) in REFUNDABLE.into_iter().enumerate() {
        let seeded = fake.seed_payment(&PaymentSpec {
            amount,
            currency: currency.to_owned(),
            email: format!("refundable{}@example.com", i + 1),
            livemode: false,
            created: now - 3_600 * (i as i64 + 1),
        });
        events.extend(seeded.events);
    }
    Ok((Fake { fake }, events))
}
