//! Signed webhook deliveries, written from the protocol reference (§1), independent of the
//! relay's verifier: `Stripe-Signature: t=<unix>,v1=<hex HMAC-SHA256("{t}.{body}")>`, keyed
//! with the whole `whsec_…` string as UTF-8 bytes.

use hmac::{Hmac, Mac};
use sha2::Sha256;

/// The `v1` signature of `payload` at time `t` with `secret`.
pub fn sign(secret: &str, t: i64, payload: &[u8]) -> String {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret.as_bytes())
        .expect("HMAC takes any key length");
    mac.update(t.to_string().as_bytes());
    mac.update(b".");
    mac.update(payload);
    hex::encode(mac.finalize().into_bytes())
}

/// The `Stripe-Signature` header for one or more secrets (several = a rolled secret).
pub fn signature_header(secrets: &[&str], t: i64, payload: &[u8]) -> String {
    let mut h = format!("t={t}");
    for s in secrets {
        h.push_str(",v1=");
        h.push_str(&sign(s, t, payload));
    }
    h
}

/// POST `payload` to `url` signed with `secret` at time `t`; returns the HTTP status.
pub async fn post_signed(
    url: &str,
    secret: &str,
    t: i64,
    payload: &[u8],
) -> Result<u16, reqwest::Error> {
    let resp = reqwest::Client::new()
        .post(url)
        .header("content-type", "application/json; charset=utf-8")
        .header("stripe-signature", signature_header(&[secret], t, payload))
        .header(
            "user-agent",
            "Stripe/1.0 (+https://stripe.com/docs/webhooks)",
        )
        .body(payload.to_vec())
        .send()
        .await?;
    Ok(resp.status().as_u16())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_has_one_v1_per_secret() {
        let h = signature_header(&["whsec_a", "whsec_b"], 1_700_000_000, b"{}");
        assert!(h.starts_with("t=1700000000,v1="));
        assert_eq!(h.matches(",v1=").count(), 2);
        assert_eq!(sign("whsec_a", 1, b"x").len(), 64);
    }
}
