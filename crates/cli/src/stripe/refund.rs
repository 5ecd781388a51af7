//! `fluxstore refund`: refund a FluxStore order's payment, with the app's preconditions.
use fluxstore_gateway::RefundReason;
use fluxstore_gateway::profile::RefundTarget;
use serde_json::json;

use super::{Common, Done, common_profile, mode_of};

pub async fn run(c: &Common, payment: String, amount: Option<i64>, reason: Option<&str>) -> Done {
    let reason = reason.map(RefundReason::parse).transpose()?;
    let profile = common_profile(c)?;
    let mode = mode_of(c, &profile).await?;
    let out = profile
        .refund(mode, RefundTarget::Payment(payment), amount, reason)
        .await?;
    let mut text = format!(
        "refund {} {}: {} {} of charge {}\n",
        out.refund_id,
        out.status,
        out.amount,
        out.currency,
        out.charge_id.as_deref().unwrap_or("?")
    );
    if let Some(note) = &out.catching_up {
        text.push_str(note);
        text.push('\n');
    }
    Ok((json!(out), text))
}
