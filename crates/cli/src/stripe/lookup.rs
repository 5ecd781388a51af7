//! `fluxstore lookup ORDER`: "Look it up on Stripe's side" — what Stripe says about a
//! FluxStore order's payment, refunds and disputes next to what the mirror says, healing the
//! mirror from Stripe's events when they differ. `fluxstore order-marker`: which Checkout
//! Sessions are FluxStore orders.
use fluxstore_gateway::{OrderFacts, ProfileError};
use fluxstore_mirror::OrderMarker;
use serde_json::json;

use super::{Common, Done, common_profile, mode_of};

fn facts(f: &OrderFacts) -> String {
    let disputes = if f.disputes.is_empty() {
        "none".to_owned()
    } else {
        f.disputes
            .iter()
            .map(|d| format!("{} ({})", d.id, d.status))
            .collect::<Vec<_>>()
            .join(", ")
    };
    format!(
        "paid {}, refunded {} (smallest unit), disputes: {disputes}",
        if f.paid { "yes" } else { "no" },
        f.amount_refunded
    )
}

pub async fn run(c: &Common, order: String) -> Done {
    let profile = common_profile(c)?;
    let mode = mode_of(c, &profile).await?;
    let report = profile.lookup_order(mode, &order).await?;
    let mut text = format!(
        "order {}\n  Stripe says:  {}\n  mirror said:  {}\n",
        report.session_id,
        facts(&report.stripe.facts),
        facts(&report.mirror)
    );
    if report.differences.is_empty() {
        text.push_str("Stripe and the mirror agree.\n");
    }
    for d in &report.differences {
        text.push_str(&format!("  differs: {d}\n"));
    }
    if let Some(h) = &report.healed {
        text.push_str(&format!(
            "healed: {} missed event(s) fetched from Stripe; mirror now: {}\n",
            h.events_applied,
            facts(&h.mirror)
        ));
        for d in &h.differences {
            text.push_str(&format!("  still differs: {d}\n"));
        }
    }
    Ok((json!(report), text))
}

/// Show, set or clear the order marker.
pub async fn marker(
    c: &Common,
    metadata: Option<String>,
    prefix: Option<String>,
    clear: bool,
) -> Done {
    let profile = common_profile(c)?;
    let wanted = match (metadata, prefix, clear) {
        (None, None, false) => {
            let m = profile.order_marker().await?;
            return Ok((json!(m), describe(m.as_ref())));
        }
        (Some(kv), None, false) => {
            let (key, value) = kv.split_once('=').ok_or_else(|| {
                ProfileError::Invalid(
                    "--metadata takes KEY=VALUE, for example --metadata store_id=42".to_owned(),
                )
            })?;
            Some(OrderMarker::Metadata {
                key: key.to_owned(),
                value: value.to_owned(),
            })
        }
        (None, Some(prefix), false) => Some(OrderMarker::ClientReferencePrefix { prefix }),
        (None, None, true) => None,
        _ => {
            return Err(ProfileError::Invalid(
                "Give one of --metadata KEY=VALUE, --client-reference-prefix PREFIX or --clear."
                    .to_owned(),
            ));
        }
    };
    let stored = profile.set_order_marker(wanted).await?;
    Ok((json!(stored), describe(stored.as_ref())))
}

fn describe(m: Option<&OrderMarker>) -> String {
    match m {
        None => "Every Checkout Session of the account is a FluxStore order (no marker set).\n"
            .to_owned(),
        Some(OrderMarker::Metadata { key, value }) => {
            format!("A FluxStore order is a Checkout Session whose metadata {key} is {value:?}.\n")
        }
        Some(OrderMarker::ClientReferencePrefix { prefix }) => format!(
            "A FluxStore order is a Checkout Session whose client reference id starts with {prefix:?}.\n"
        ),
    }
}
