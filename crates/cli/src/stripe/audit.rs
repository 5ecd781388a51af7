//! `fluxstore audit`: every call FluxStore made to Stripe, newest first.
use serde_json::json;

use super::{Common, Done, common_profile};

pub async fn run(c: &Common, limit: u32) -> Done {
    let profile = common_profile(c)?;
    let calls = profile.read(move |m| m.api_calls(limit)).await?;
    let mut text = String::new();
    for c in &calls {
        text.push_str(&format!(
            "{} {:<4} {} {} {} {}ms {}\n",
            c.at,
            c.method,
            c.path,
            c.object_id.as_deref().unwrap_or("-"),
            c.status
                .map_or_else(|| "no answer".to_owned(), |s| s.to_string()),
            c.duration_ms,
            c.error_code
                .as_deref()
                .or(c.request_id.as_deref())
                .unwrap_or("")
        ));
    }
    Ok((json!(calls), text))
}
