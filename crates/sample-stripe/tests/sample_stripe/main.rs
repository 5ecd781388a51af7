//! The sample store's Stripe stand-in checked with plain HTTP against Stripe's documented
//! behaviour, independently of the gateway's client. One binary, modules.

mod answers;
mod key;

use fluxstore_sample_stripe::SampleStripe;
use secrecy::ExposeSecret;
use serde_json::Value;

/// A request with `key`; returns (status, body, replayed).
pub async fn call(
    s: &SampleStripe,
    key: Option<&str>,
    method: reqwest::Method,
    path: &str,
    form: &str,
    headers: &[(&str, &str)],
) -> (u16, Value, bool) {
    let mut req = reqwest::Client::new().request(method.clone(), format!("{}{path}", s.base_url()));
    if let Some(k) = key {
        req = req.bearer_auth(k);
    }
    if method == reqwest::Method::POST {
        req = req
            .header("content-type", "application/x-www-form-urlencoded")
            .body(form.to_owned());
    }
    for (name, value) in headers {
        req = req.header(*name, *value);
    }
    let r = req.send().await.expect("the stand-in answers");
    let replayed = r
        .headers()
        .get("idempotent-replayed")
        .is_some_and(|v| v == "true");
    assert!(r.headers().contains_key("request-id"));
    (r.status().as_u16(), r.json().await.expect("JSON"), replayed)
}

/// GET `path` with the stand-in's own key.
pub async fn get(s: &SampleStripe, path: &str) -> (u16, Value) {
    let key = s.secret_key().expose_secret().to_owned();
    let (status, body, _) = call(s, Some(&key), reqwest::Method::GET, path, "", &[]).await;
    (status, body)
}

/// POST `form` to `path` with the stand-in's own key and an optional idempotency key.
pub async fn post(
    s: &SampleStripe,
    path: &str,
    form: &str,
    idem: Option<&str>,
) -> (u16, Value, bool) {
    let key = s.secret_key().expose_secret().to_owned();
    let headers: Vec<(&str, &str)> = idem.map(|k| ("idempotency-key", k)).into_iter().collect();
    call(s, Some(&key), reqwest::Method::POST, path, form, &headers).await
}
