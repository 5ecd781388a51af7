//! The endpoints the app uses, answered the way Stripe documents them.
//!
//! Order of checks per request, as Stripe does it: authentication (401), the version header,
//! then the endpoint (404 for unknown URLs), then permission (403 for a restricted key),
//! parameters (400 naming the `param`), idempotency replay for POST, then the work. The work
//! on charges, PaymentIntents, refunds and events is the stand-in's ledger; webhook
//! endpoints, disputes and restricted keys are this fake's own.

use axum::body::Bytes;
use axum::http::{HeaderMap, Method, StatusCode};
use fluxstore_sample_stripe::disputes;
use fluxstore_sample_stripe::wire::{self, Reply, masked, ok, valid_version};
use serde_json::json;

use super::{ApiError, FakeKey, Params, RecordedRequest, State, new_id, now};

fn authenticate(state: &State, headers: &HeaderMap) -> Result<FakeKey, ApiError> {
    let key = wire::presented_key(headers)?;
    state
        .cfg
        .keys
        .iter()
        .find(|k| k.key == key)
        .cloned()
        .ok_or_else(|| wire::unknown_key(&key))
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

/// Handle one request against the shared state.
pub fn handle(
    state: &mut State,
    method: &Method,
    path: &str,
    query: &str,
    headers: &HeaderMap,
    body: &Bytes,
    upload: Option<&disputes::Upload>,
) -> Reply {
    let header = |n: &str| wire::header(headers, n);
    let raw = wire::raw_params(method, query, body);
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
    if let Err(e) = wire::check_version(headers) {
        return e.into();
    }
    let params = match Params::parse(&raw) {
        Ok(p) => p,
        Err(e) => return e.into(),
    };
    let idem = if *method == Method::POST {
        header("idempotency-key")
    } else {
        None
    };
    if let Some(k) = &idem
        && let Some(reply) = state.idempotency.before(&key.key, k, path, &params)
    {
        return reply;
    }
    let reply = route(state, &key, method, path, &params, upload).unwrap_or_else(Reply::from);
    if let Some(k) = &idem {
        state.idempotency.after(&key.key, k, path, &params, &reply);
    }
    reply
}

fn route(
    state: &mut State,
    key: &FakeKey,
    method: &Method,
    path: &str,
    p: &Params,
    upload: Option<&disputes::Upload>,
) -> Result<Reply, ApiError> {
    let segs: Vec<&str> = path.trim_matches('/').split('/').collect();
    let acct = state.account.id.clone();
    let live = key.livemode;
    match (method.as_str(), segs.as_slice()) {
        ("GET", ["v1", "account"]) => {
            require(key, &acct, "rak_accounts_kyc_basic_read")?;
            p.only(&["expand"])?;
            ok(fluxstore_sample_stripe::objects::account(&state.account))
        }
        ("GET", ["v1", "charges", id]) => {
            require(key, &acct, "rak_charge_read")?;
            state.ledger.retrieve(id, "charge", live, p)
        }
        ("GET", ["v1", "payment_intents", id]) => {
            require(key, &acct, "rak_payment_intent_read")?;
            state.ledger.retrieve(id, "payment_intent", live, p)
        }
        ("GET", ["v1", "disputes", id]) => {
            require(key, &acct, "rak_dispute_read")?;
            state.ledger.retrieve(id, "dispute", live, p)
        }
        ("POST", ["v1", "disputes", id]) => {
            require(key, &acct, "rak_dispute_write")?;
            disputes::update_dispute(&mut state.ledger, &state.files, key.livemode, id, p)
        }
        ("POST", ["v1", "files"]) => {
            require(key, &acct, "rak_file_write")?;
            disputes::create_file(&mut state.files, key.livemode, p, upload)
        }
        ("POST", ["v1", "refunds"]) => {
            require(key, &acct, "rak_refund_write")?;
            state.ledger.create_refund(live, p)
        }
        ("POST", ["v1", "webhook_endpoints"]) => {
            require(key, &acct, "rak_webhook_write")?;
            create_webhook_endpoint(state, key, p)
        }
        ("DELETE", ["v1", "webhook_endpoints", id]) => {
            require(key, &acct, "rak_webhook_write")?;
            delete_webhook_endpoint(state, key, id, p)
        }
        ("GET", ["v1", "webhook_endpoints"]) => {
            require(key, &acct, "rak_webhook_read")?;
            list_webhook_endpoints(state, key, p)
        }
        ("GET", ["v1", "events"]) => {
            require(key, &acct, "rak_event_read")?;
            state.ledger.list_events(live, p)
        }
        ("GET", ["v1", "events", id]) => {
            require(key, &acct, "rak_event_read")?;
            state.ledger.retrieve_event(id, live, p)
        }
        ("GET", ["v1", "checkout", "sessions", id, "line_items"]) => {
            require(key, &acct, "rak_checkout_session_read")?;
            state.ledger.list_line_items(id, live, p)
        }
        ("GET", ["v1", "refunds"]) => {
            require(key, &acct, "rak_refund_read")?;
            state.ledger.list_children("refund", live, p)
        }
        ("GET", ["v1", "disputes"]) => {
            require(key, &acct, "rak_dispute_read")?;
            state.ledger.list_children("dispute", live, p)
        }
        _ => Err(wire::unrecognized(method, path)),
    }
}

/// `GET /v1/webhook_endpoints`: the mode's endpoints newest first, in Stripe's list object;
/// the signing secret is returned only at creation, so no listed endpoint carries it.
fn list_webhook_endpoints(state: &State, key: &FakeKey, p: &Params) -> Result<Reply, ApiError> {
    p.only(&["limit", "starting_after", "ending_before", "expand"])?;
    let mut all: Vec<serde_json::Value> = state
        .endpoints
        .iter()
        .filter(|e| e["livemode"] == key.livemode)
        .rev()
        .cloned()
        .collect();
    for e in &mut all {
        if let Some(o) = e.as_object_mut() {
            o.remove("secret");
        }
    }
    fluxstore_sample_stripe::list_page(&all, p, "webhook_endpoint", "/v1/webhook_endpoints")
}

/// `DELETE /v1/webhook_endpoints/{id}`: Stripe's deleted object, or 404 `resource_missing`
/// for an endpoint this mode does not have.
fn delete_webhook_endpoint(
    state: &mut State,
    key: &FakeKey,
    id: &str,
    p: &Params,
) -> Result<Reply, ApiError> {
    p.only(&[])?;
    let at = state
        .endpoints
        .iter()
        .position(|e| e["id"] == id && e["livemode"] == key.livemode)
        .ok_or_else(|| ApiError::missing(id, "webhook endpoint", "id"))?;
    state.endpoints.remove(at);
    ok(json!({ "id": id, "object": "webhook_endpoint", "deleted": true }))
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
