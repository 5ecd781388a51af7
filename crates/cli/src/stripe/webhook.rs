//! `fluxstore webhook create`: the Stripe webhook endpoint, its secret straight to the keyring.
use serde_json::json;

use super::{Common, Done, common_profile, mode_of};

#[derive(Debug, clap::Subcommand)]
pub enum WebhookCommand {
    /// Create the endpoint with the 12 events (plus charge.refunded and account.updated) and
    /// store its signing secret in the keyring.
    Create {
        #[arg(long)]
        url: String,
        #[command(flatten)]
        common: Common,
    },
}

pub async fn create(c: &Common, url: &str) -> Done {
    let profile = common_profile(c)?;
    let mode = mode_of(c, &profile).await?;
    let ep = profile.create_webhook_endpoint(mode, url).await?;
    let backend = profile.keyring()?.backend();
    let text = format!(
        "webhook endpoint {} for {} ({} events); its signing secret is in {backend}\n",
        ep.id,
        ep.url,
        ep.enabled_events.len(),
    );
    Ok((json!(ep), text))
}
