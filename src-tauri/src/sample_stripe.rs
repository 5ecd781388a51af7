//! The sample store's local Stripe stand-in (`fluxstore-sample-stripe`) on 127.0.0.1,
//! answering account status and refunds like Stripe does, with a key of its own made for
//! this session.
//!
//! The stand-in learns every charge and PaymentIntent the sample events describe
//! (`SampleStripe::learn`), so every paid sample order in test mode can be refunded from the
//! window; a few extra paid orders are created in the stand-in itself (their events then
//! travel through the relay like the rest of the sample store), one of them in a
//! zero-decimal and one in a three-decimal currency.
use fluxstore_sample_stripe::{AccountSpec, PaymentSpec, SampleStripe};
use fluxstore_samples::{ApiShape, Ctx};
use serde_json::Value;

/// How long ago the sample store was set up (both modes connected): before all its orders,
/// so its checklist shows a store that is fully set up, test and live.
pub const SET_UP_AGO: i64 = 60 * 86_400;

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
    // The account is fully set up in both modes: charges and payouts enabled.
    let account = fluxstore_sample_stripe::objects::account(&AccountSpec {
        id: stand_in.account_id(),
        ..AccountSpec::default()
    });
    let mut events: Vec<Value> = [false, true]
        .into_iter()
        .map(|livemode| {
            let ctx = Ctx {
                livemode,
                shape: ApiShape::Dahlia,
                account: None,
            };
            let mut e = fluxstore_samples::envelope(
                "account.updated",
                account.clone(),
                now - SET_UP_AGO,
                &ctx,
            );
            // One event per mode: the envelope's id alone would be the same for both.
            e["id"] = format!(
                "evt_sample_account_{}",
                if livemode { "live" } else { "test" }
            )
            .into();
            e
        })
        .collect();
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
