//! `fluxstore account`: the account's readiness in a mode, by key or Connect token, fetched
//! from Stripe and recorded in the mirror (as the app does on Refresh).
use serde_json::json;

use super::{Common, Done, common_profile, mode_of, yes};

pub async fn run(c: &Common) -> Done {
    let profile = common_profile(c)?;
    let mode = mode_of(c, &profile).await?;
    let a = profile.refresh_account(mode).await?;
    let r = &a.requirements;
    let mut text = format!(
        "account {} ({} mode)\ncharges enabled: {}\npayouts enabled: {}\ndetails submitted: {}\n",
        a.account_id,
        mode.as_str(),
        yes(a.charges_enabled),
        yes(a.payouts_enabled),
        yes(a.details_submitted),
    );
    if let Some(reason) = &r.disabled_reason {
        text.push_str(&format!("disabled because: {reason}\n"));
    }
    if !r.currently_due.is_empty() {
        text.push_str(&format!(
            "Stripe needs: {}\nFinish onboarding at https://dashboard.stripe.com/account/onboarding\n",
            r.currently_due.join(", ")
        ));
    }
    let value = json!({
        "id": a.account_id,
        "livemode": mode.is_live(),
        "business_name": a.business_name,
        "charges_enabled": a.charges_enabled,
        "payouts_enabled": a.payouts_enabled,
        "details_submitted": a.details_submitted,
        "requirements": r,
    });
    Ok((value, text))
}
