//! The handlers of the Connect fake (see `connect_fake` for what each endpoint does).

use std::collections::HashMap;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::{AuthCode, Authenticated, Decision, FakeState, Inner, random_hex};

fn oauth_error(status: StatusCode, code: &str, description: &str) -> Response {
    (
        status,
        axum::Json(json!({ "error": code, "error_description": description })),
    )
        .into_response()
}

fn form(body: &[u8]) -> HashMap<String, String> {
    serde_urlencoded::from_bytes::<Vec<(String, String)>>(body)
        .unwrap_or_default()
        .into_iter()
        .collect()
}

fn bearer(headers: &HeaderMap) -> Option<String> {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(|v| v.trim().to_owned())
}

/// Why a request to a platform-key endpoint was not authenticated.
enum KeyRefusal {
    Missing,
    Unknown,
}

impl IntoResponse for KeyRefusal {
    fn into_response(self) -> Response {
        match self {
            KeyRefusal::Missing => oauth_error(
                StatusCode::UNAUTHORIZED,
                "invalid_request",
                "No API key provided. Set your API key using the client_secret parameter or the Authorization header.",
            ),
            KeyRefusal::Unknown => oauth_error(
                StatusCode::UNAUTHORIZED,
                "invalid_client",
                "Invalid API Key provided.",
            ),
        }
    }
}

/// The platform key from `client_secret` or the Bearer header: the livemode of the key when
/// it is one of the platform's two.
fn platform_key_mode(
    state: &FakeState,
    headers: &HeaderMap,
    form: &HashMap<String, String>,
) -> Result<bool, KeyRefusal> {
    let given = form
        .get("client_secret")
        .cloned()
        .or_else(|| bearer(headers));
    match given {
        None => Err(KeyRefusal::Missing),
        Some(k) if k == state.config.platform_key => Ok(false),
        Some(k) if k == state.config.live_platform_key => Ok(true),
        Some(_) => Err(KeyRefusal::Unknown),
    }
}

pub(super) async fn authorize(
    State(s): State<Arc<FakeState>>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let decision = {
        let mut inner = s.lock();
        inner.authorize_requests.push(q.clone());
        inner.decision.unwrap_or(Decision::Approve)
    };
    if q.get("response_type").map(String::as_str) != Some("code") {
        return (
            StatusCode::BAD_REQUEST,
            "Invalid response_type: only 'code' is supported",
        )
            .into_response();
    }
    if q.get("client_id") != Some(&s.config.client_id) {
        return (StatusCode::BAD_REQUEST, "Invalid client_id").into_response();
    }
    let scope = q
        .get("scope")
        .cloned()
        .unwrap_or_else(|| "read_only".to_owned());
    if scope != "read_write" && scope != "read_only" {
        return (StatusCode::BAD_REQUEST, "Invalid scope").into_response();
    }
    let redirect = match q.get("redirect_uri") {
        Some(r) if s.config.redirect_uris.is_empty() || s.config.redirect_uris.contains(r) => {
            r.clone()
        }
        Some(_) => {
            return (
                StatusCode::BAD_REQUEST,
                "Invalid redirect_uri: it does not match a registered redirect URI",
            )
                .into_response();
        }
        None => match s.config.redirect_uris.first() {
            Some(r) => r.clone(),
            None => {
                return (StatusCode::BAD_REQUEST, "No redirect URI is registered").into_response();
            }
        },
    };
    let mut pairs: Vec<(&str, String)> = Vec::new();
    match decision {
        Decision::Approve => {
            let code = format!("ac_{}", random_hex(16));
            s.lock().codes.insert(
                code.clone(),
                AuthCode {
                    scope: scope.clone(),
                    used: false,
                    tokens: Vec::new(),
                },
            );
            pairs.push(("code", code));
            pairs.push(("scope", scope));
        }
        Decision::Deny => {
            pairs.push(("error", "access_denied".to_owned()));
            pairs.push((
                "error_description",
                "The user denied your request".to_owned(),
            ));
        }
    }
    if let Some(state) = q.get("state") {
        pairs.push(("state", state.clone()));
    }
    let sep = if redirect.contains('?') { '&' } else { '?' };
    let query = serde_urlencoded::to_string(&pairs).unwrap_or_default();
    // Stripe answers with 302 Found.
    let location = format!("{redirect}{sep}{query}");
    (StatusCode::FOUND, [(header::LOCATION, location)]).into_response()
}

/// Tokens in the mode of the key that redeemed (`key_live`), as Stripe issues them.
fn issue(
    s: &FakeState,
    inner: &mut Inner,
    scope: &str,
    key_live: bool,
) -> (String, serde_json::Value) {
    let livemode = s.config.livemode_override.unwrap_or(key_live);
    let mode = if livemode { "live" } else { "test" };
    let access = format!("sk_{mode}_{}", random_hex(24));
    let refresh = format!("rt_{}", random_hex(24));
    inner
        .tokens
        .insert(access.clone(), s.config.account_id.clone());
    inner
        .refresh_tokens
        .insert(refresh.clone(), scope.to_owned());
    if let Some(hook) = &inner.on_issue {
        hook(&access, &s.config.account_id);
    }
    let body = json!({
        "access_token": access,
        "livemode": livemode,
        "refresh_token": refresh,
        "token_type": "bearer",
        "stripe_publishable_key": format!("pk_{mode}_{}", random_hex(24)),
        "stripe_user_id": s.config.account_id,
        "scope": scope,
    });
    (access, body)
}

pub(super) async fn token(
    State(s): State<Arc<FakeState>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let f = form(&body);
    s.lock().token_requests += 1;
    let key_live = match platform_key_mode(&s, &headers, &f) {
        Ok(live) => live,
        Err(refusal) => return refusal.into_response(),
    };
    let mut inner = s.lock();
    match f.get("grant_type").map(String::as_str) {
        Some("authorization_code") => {
            let Some(code) = f.get("code") else {
                return oauth_error(
                    StatusCode::BAD_REQUEST,
                    "invalid_request",
                    "No authorization code provided",
                );
            };
            let Some(entry) = inner.codes.get_mut(code) else {
                return oauth_error(
                    StatusCode::BAD_REQUEST,
                    "invalid_grant",
                    "Authorization code provided does not belong to you",
                );
            };
            if entry.used {
                let revoked = std::mem::take(&mut entry.tokens);
                for t in revoked {
                    inner.tokens.remove(&t);
                }
                return oauth_error(
                    StatusCode::BAD_REQUEST,
                    "invalid_grant",
                    "This authorization code has already been used. All tokens issued with this code have been revoked.",
                );
            }
            entry.used = true;
            let scope = entry.scope.clone();
            inner.redemptions.push(Authenticated {
                subject: code.clone(),
                live_key: key_live,
            });
            let (access, body) = issue(&s, &mut inner, &scope, key_live);
            if let Some(entry) = inner.codes.get_mut(code) {
                entry.tokens.push(access);
            }
            axum::Json(body).into_response()
        }
        Some("refresh_token") => {
            let scope = f
                .get("refresh_token")
                .and_then(|r| inner.refresh_tokens.get(r))
                .cloned();
            match scope {
                Some(scope) => {
                    axum::Json(issue(&s, &mut inner, &scope, key_live).1).into_response()
                }
                None => oauth_error(
                    StatusCode::BAD_REQUEST,
                    "invalid_grant",
                    "Refresh token provided does not belong to you",
                ),
            }
        }
        Some(other) => oauth_error(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            &format!("Unsupported grant type: {other}"),
        ),
        None => oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "No grant type specified",
        ),
    }
}

pub(super) async fn deauthorize(
    State(s): State<Arc<FakeState>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let f = form(&body);
    let key_live = match platform_key_mode(&s, &headers, &f) {
        Ok(live) => live,
        Err(refusal) => return refusal.into_response(),
    };
    if f.get("client_id") != Some(&s.config.client_id) {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_client",
            "No such application",
        );
    }
    let Some(account) = f.get("stripe_user_id") else {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "No stripe_user_id provided",
        );
    };
    let mut inner = s.lock();
    let before = inner.tokens.len();
    inner.tokens.retain(|_, a| a != account);
    if before == inner.tokens.len() && account != &s.config.account_id {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_client",
            &format!(
                "This application is not connected to stripe account {account}, or that account does not exist."
            ),
        );
    }
    inner.deauthorized.push(account.clone());
    inner.deauthorizations.push(Authenticated {
        subject: account.clone(),
        live_key: key_live,
    });
    axum::Json(json!({ "stripe_user_id": account })).into_response()
}

pub(super) async fn account(State(s): State<Arc<FakeState>>, headers: HeaderMap) -> Response {
    let token = bearer(&headers).unwrap_or_default();
    let account = {
        let mut inner = s.lock();
        inner.account_requests += 1;
        inner.tokens.get(&token).cloned()
    };
    match account {
        Some(id) => axum::Json(json!({
            "id": id,
            "object": "account",
            "type": "standard",
            "charges_enabled": true,
            "payouts_enabled": true,
            "details_submitted": true,
        }))
        .into_response(),
        None => {
            let tail: String = token
                .chars()
                .rev()
                .take(4)
                .collect::<Vec<_>>()
                .into_iter()
                .rev()
                .collect();
            let body = json!({ "error": {
                "type": "invalid_request_error",
                "message": format!("Invalid API Key provided: sk_****{tail}"),
            }});
            (StatusCode::UNAUTHORIZED, axum::Json(body)).into_response()
        }
    }
}
