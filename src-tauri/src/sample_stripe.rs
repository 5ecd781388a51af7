//! The sample store's local Stripe stand-in (`fluxstore-sample-stripe`) on 127.0.0.1,
//! answering account status and refunds like Stripe does, with a key of its own made for
//! this session.
//!
//! The stand-in learns every charge and PaymentIntent the sample events describe
//! (`SampleStripe::learn`), so every paid sample order in test mode can be refunded from the
//! window; a few extra paid orders are created in the stand-in itself (their events then
//! travel through the relay like the rest of the sample store), one of them in a
//! zero-decimal and one in a three-decimal currency.
use fluxstore_sample_stripe::{PaymentSpec, SampleStripe};
use serde_json::Value;

/// (amount in minor units, currency): one zero-decimal and one three-decimal currency among them.
const REFUNDABLE: [(i64, &str); 3] = [(2_500, "usd"), (1_500, "jpy"), (12_340, "kwd")];

/// Start the stand-in, teach it the objects of `sample_events`, and seed the extra
/// refundable orders; returns it with the extra orders' events (to be delivered with the
/// rest).
pub async fn start(
    now: i64,
    sample_events: &[Value],
) -> Result<(SampleStripe, Vec<Value>), String> {
    let stand_in = SampleStripe::start().await.map_err(|e| e.to_string())?;
    let learned = stand_in.learn(sample_events);
    tracing::debug!(
        learned,
        "the sample store's Stripe stand-in knows the sample objects"
    );
    let mut events = Vec::new();
    for (i, (amount, currency)) in REFUNDABLE.into_iter().enumerate() {
        let seeded = stand_in.seed_payment(&PaymentSpec {
            amount,
            currency: currency.to_owned(),
            email: format!("refundable{}@example.com", i + 1),
            livemode: false,
            created: now - 3_600 * (i as i64 + 1),
        });
        events.extend(seeded.events);
    }
    Ok((stand_in, events))
}
