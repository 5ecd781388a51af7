//! The endpoints the app uses, answered the way Stripe documents them.
//!
//! Order of checks per request, as Stripe does it: authentication (401), the version header,
//! then the endpoint (404 for unknown URLs), then permission (403 for a restricted key),
//! parameters (400 naming the `param`), idempotency replay for POST, then the work.

use axum::body::Bytes;
use axum::http::{HeaderMap, Method, StatusCode};
use base64::Engine;
use serde_json::{Value, json};

use super::objects::{self, new_id, now};
use super::params::{ApiError, Params};
use super::{FakeKey, RecordedRequest, State, Stored};

pub struct Reply {
    pub status: StatusCode,
    pub body: Value,
    pub replayed: bool,
    pub should_retry: Option<bool>,
}

impl From<ApiError> for Reply {
    fn from(e: ApiError) -> Reply {
        Reply {
            status: e.status,
            body: e.body,
            replayed: false,
            should_retry: e.should_retry,
        }
    }
}

pub(crate) fn ok(body: Value) -> Result<Reply, ApiError> {
    Ok(Reply {
        status: StatusCode::OK,
        body,
        replayed: false,
        should_retry: None,
    })
}

/// Stripe's masked echo of a key: `sk_test_****abcd`.
fn masked(key: &str) -> String {
    let prefix_len = key.match_indices('_').nth(1).map_or(3, |(i, _)| i + 1);
    let tail: String = key
        .chars()
        .rev()
        .take(4)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    format!("{}****{tail}", &key[..prefix_len.min(key.len())])
}

fn bearer(headers: &HeaderMap) -> Option<String> {
    let h = headers.get("authorization")?.to_str().ok()?;
    if let Some(t) = h.strip_prefix("Bearer ") {
        return Some(t.trim().to_owned());
    }
    let b = h.strip_prefix("Basic ")?;
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(b.trim())
        .ok()?;
    let text = String::from_utf8(decoded).ok()?;
    Some(text.split(':').next().unwrap_or("").to_owned())
}

fn authenticate(state: &State, headers: &HeaderMap) -> Result<FakeKey, ApiError> {
    let Some(key) = bearer(headers).filter(|k| !k.is_empty()) else {
        return Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "invalid_request_error",
            "You did not provide an API key. You need to provide your API key in the Authorization header, using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY').",
        ));
    };
    state
        .cfg
        .keys
        .iter()
        .find(|k| k.key == key)
        .cloned()
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::UNAUTHORIZED,
                "invalid_request_error",
                format!("Invalid API Key provided: {}", masked(&key)),
            )
        })
}

fn require(key: &FakeKey, account: &str, permission: &str) -> Result<(), ApiError> {
    match &key.permissions {
        Some(granted) if !granted.iter().any(|g| g == permission) => Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "invalid_request_error",
            format!(
                "The provided key '{}' does not have the required permissions for this endpoint on account '{account}'. Having the '{permission}' permission would allow this request to continue.",
                masked(&key.key)
            ),
        )),
        _ => Ok(()),
    }
}

fn valid_version(v: &str) -> bool {
    let (date, name) = v.split_once('.').map_or((v, None), |(d, n)| (d, Some(n)));
    let b = date.as_bytes();
    let date_ok = b.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && b.iter()
            .enumerate()
            .all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit());
    date_ok && name.is_none_or(|n| !n.is_empty() && n.chars().all(|c| c.is_ascii_lowercase()))
}

/// Handle one request against the shared state.
pub fn handle(
    state: &mut State,
    method: &Method,
    path: &str,
    query: &str,
    headers: &HeaderMap,
    body: &Bytes,
) -> Reply {
    let header = |n: &str| {
        headers
            .get(n)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let raw = if method == Method::POST {
        String::from_utf8_lossy(body).into_owned()
    } else {
        query.to_owned()
    };
    let auth = authenticate(state, headers);
    state.requests.push(RecordedRequest {
        method: method.to_string(),
        path: path.to_owned(),
        params: Params::parse(&raw).map(|p| p.pairs).unwrap_or_default(),
        stripe_version: header("stripe-version"),
        idempotency_key: header("idempotency-key"),
        stripe_account: header("stripe-account"),
        key_livemode: auth.as_ref().ok().map(|k| k.livemode),
    });
    let key = match auth {
        Ok(k) => k,
        Err(e) => return e.into(),
    };
    if let Some(v) = header("stripe-version")
        && !valid_version(&v)
    {
        return ApiError::invalid(format!("Invalid Stripe API version: {v}"), "").into();
    }
    let params = match Params::parse(&raw) {
        Ok(p) => p,
        Err(e) => return e.into(),
    };
    if *method == Method::POST {
        let idem = header("idempotency-key");
        if let Some(k) = &idem {
            if k.len() > 255 {
                return ApiError::invalid("Idempotency keys are at most 255 characters long.", "")
                    .into();
            }
            let slot = (key.key.clone(), k.clone());
            if let Some(stored) = state.idempotency.get(&slot) {
                if stored.path != path || stored.fingerprint != params.fingerprint() {
                    return ApiError::new(
                        StatusCode::BAD_REQUEST,
                        "idempotency_error",
                        format!("Keys for idempotent requests can only be used with the same parameters they were first used with. Try using a key other than '{k}' if you meant to execute a different request."),
                    )
                    .into();
                }
                return Reply {
                    status: stored.status,
                    body: stored.body.clone(),
                    replayed: true,
                    should_retry: None,
                };
            }
        }
        let reply = route(state, &key, method, path, &params).unwrap_or_else(Reply::from);
        // Validation failures (400) are not stored, so they may be retried with the same key.
        if let Some(k) = idem
            && reply.status != StatusCode::BAD_REQUEST
        {
            state.idempotency.insert(
                (key.key.clone(), k),
                Stored {
                    path: path.to_owned(),
                    fingerprint: params.fingerprint(),
                    status: reply.status,
                    body: reply.body.clone(),
                },
            );
        }
        return reply;
    }
    route(state, &key, method, path, &params).unwrap_or_else(Reply::from)
}

fn route(
    state: &mut State,
    key: &FakeKey,
    method: &Method,
    path: &str,
    p: &Params,
) -> Result<Reply, ApiError> {
    let segs: Vec<&str> = path.trim_matches('/').split('/').collect();
    let acct = state.account.id.clone();
    match (method.as_str(), segs.as_slice()) {
        ("GET", ["v1", "account"]) => {
            require(key, &acct, "rak_accounts_kyc_basic_read")?;
            p.only(&["expand"])?;
            ok(objects::account(&state.account))
        }
        ("GET", ["v1", "charges", id]) => {
            get_object(state, key, &acct, p, id, "charge", "rak_charge_read")
        }
        ("GET", ["v1", "payment_intents", id]) => get_object(
            state,
            key,
            &acct,
            p,
            id,
            "payment_intent",
            "rak_payment_intent_read",
        ),
        ("GET", ["v1", "disputes", id]) => {
            get_object(state, key, &acct, p, id, "dispute", "rak_dispute_read")
        }
        ("POST", ["v1", "refunds"]) => {
            require(key, &acct, "rak_refund_write")?;
            create_refund(state, key, p)
        }
        ("POST", ["v1", "webhook_endpoints"]) => {
            require(key, &acct, "rak_webhook_write")?;
            create_webhook_endpoint(state, key, p)
        }
        ("GET", ["v1", "events"]) => {
            require(key, &acct, "rak_event_read")?;
            super::events::list_events(state, key, p)
        }
        _ => Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "invalid_request_error",
            format!(
                "Unrecognized request URL ({}: {path}). Please see https://docs.stripe.com or we can help at https://support.stripe.com/.",
                method.as_str()
            ),
        )),
    }
}

fn get_object(
    state: &State,
    key: &FakeKey,
    acct: &str,
    p: &Params,
    id: &str,
    what: &str,
    perm: &str,
) -> Result<Reply, ApiError> {
    require(key, acct, perm)?;
    p.only(&["expand"])?;
    match state.objects.get(id) {
        Some(o) if o["object"] == what && o["livemode"] == key.livemode => ok(o.clone()),
        _ => Err(ApiError::missing(id, what, "id")),
    }
}

fn create_refund(state: &mut State, key: &FakeKey, p: &Params) -> Result<Reply, ApiError> {
    p.only(&[
        "payment_intent",
        "charge",
        "amount",
        "reason",
        "metadata",
        "instructions_email",
        "refund_application_fee",
        "reverse_transfer",
        "origin",
        "expand",
    ])?;
    let amount = p.int("amount")?;
    let reason = p.one_of(
        "reason",
        &["duplicate", "fraudulent", "requested_by_customer"],
    )?;
    let charge_id = match (p.str("charge"), p.str("payment_intent")) {
        (Some(_), Some(_)) => {
            return Err(ApiError::invalid("You cannot pass both charge and payment_intent. Specify one.", "payment_intent"));
        }
        (Some(ch), None) => match state.objects.get(ch) {
            Some(c) if c["object"] == "charge" && c["livemode"] == key.livemode => ch.to_owned(),
            _ => return Err(ApiError::missing(ch, "charge", "charge")),
        },
        (None, Some(pi)) => match state.objects.get(pi) {
            Some(o) if o["object"] == "payment_intent" && o["livemode"] == key.livemode => {
                o["latest_charge"].as_str().map(str::to_owned).ok_or_else(|| {
                    ApiError::invalid(format!("This PaymentIntent ({pi}) does not have a successful charge to refund."), "payment_intent")
                })?
            }
            _ => return Err(ApiError::missing(pi, "payment_intent", "payment_intent")),
        },
        (None, None) => return Err(ApiError::invalid("Missing required param: charge or payment_intent.", "charge")),
    };
    let charge = state
        .objects
        .get(&charge_id)
        .cloned()
        .ok_or_else(|| ApiError::missing(&charge_id, "charge", "charge"))?;
    let total = charge["amount"].as_i64().unwrap_or(0);
    let refunded = charge["amount_refunded"].as_i64().unwrap_or(0);
    let remaining = total - refunded;
    if remaining <= 0 {
        return Err(ApiError::invalid(
            format!("Charge {charge_id} has already been refunded."),
            "charge",
        )
        .code("charge_already_refunded"));
    }
    let amount = amount.unwrap_or(remaining);
    if amount <= 0 {
        return Err(ApiError::invalid("Invalid positive integer", "amount")
            .code("parameter_invalid_integer"));
    }
    if amount > remaining {
        return Err(ApiError::invalid(
            format!(
                "Refund amount ({amount}) is greater than unrefunded amount on charge ({remaining})"
            ),
            "amount",
        )
        .code("amount_too_large"));
    }
    let t = now();
    let refund = objects::refund(&new_id("re_"), &charge, amount, reason.as_deref(), t);
    let mut updated = charge;
    updated["amount_refunded"] = json!(refunded + amount);
    updated["refunded"] = json!(refunded + amount == total);
    state.objects.insert(charge_id, updated.clone());
    state.objects.insert(
        refund["id"].as_str().unwrap_or_default().to_owned(),
        refund.clone(),
    );
    state.push_event("charge.refunded", &updated, t, key.livemode);
    state.push_event("refund.created", &refund, t, key.livemode);
    ok(refund)
}

fn create_webhook_endpoint(
    state: &mut State,
    key: &FakeKey,
    p: &Params,
) -> Result<Reply, ApiError> {
    p.only(&[
        "url",
        "enabled_events",
        "api_version",
        "connect",
        "description",
        "metadata",
        "expand",
    ])?;
    let url = p.required("url")?;
    let scheme_ok = url.starts_with("https://") || url.starts_with("http://");
    if !scheme_ok || url.contains(' ') {
        return Err(ApiError::invalid(
            "Invalid URL: URL must be publicly accessible and use http or https.",
            "url",
        )
        .code("url_invalid"));
    }
    let events = p.arrays.get("enabled_events").cloned().unwrap_or_default();
    if events.is_empty() {
        return Err(ApiError::invalid(
            "Missing required param: enabled_events.",
            "enabled_events",
        ));
    }
    for (i, e) in events.iter().enumerate() {
        if e != "*" && !super::KNOWN_EVENT_TYPES.contains(&e.as_str()) {
            return Err(ApiError::invalid(
                format!("Invalid enabled_events[{i}]: {e} is not a valid event type"),
                &format!("enabled_events[{i}]"),
            ));
        }
    }
    if let Some(v) = p.str("api_version")
        && !valid_version(v)
    {
        return Err(ApiError::invalid(
            format!("Invalid api_version: {v}"),
            "api_version",
        ));
    }
    let connect = p.bool("connect")?.unwrap_or(false);
    let endpoint = json!({
        "id": new_id("we_"), "object": "webhook_endpoint", "url": url,
        "enabled_events": events, "api_version": p.str("api_version"),
        "application": null, "connect": connect, "description": p.str("description"),
        "metadata": p.hashes.get("metadata").cloned().unwrap_or_default(),
        "status": "enabled", "livemode": key.livemode, "created": now(),
        "secret": format!("whsec_{}{}", new_id(""), &new_id("")[..8]),
    });
    state.endpoints.push(endpoint.clone());
    ok(endpoint)
}
