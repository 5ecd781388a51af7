//! The four endpoints. Invariants: the browser is only ever redirected to a loopback URI
//! (checked before anything is remembered); a token leaves this service only once, only
//! against the PKCE verifier of the desktop that started the sign-in; the platform key is
//! sent only to Stripe.

use std::collections::HashMap;
use std::net::{Ipv4Addr, Ipv6Addr};
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use secrecy::{ExposeSecret, SecretString};
use serde_json::json;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use url::{Host, Url};

use crate::config::Config;
use crate::error::{OAuthError, StripeError};
use crate::store::{Bounded, Taken};
use crate::stripe::{Grant, StripeConnect};

pub(crate) struct AppState {
    pub(crate) config: Config,
    pub(crate) stripe: StripeConnect,
    pub(crate) pending: Bounded<PendingSignIn>,
    pub(crate) codes: Bounded<IssuedCode>,
}

/// A desktop's sign-in waiting for the owner at Stripe, keyed by this service's own state.
pub(crate) struct PendingSignIn {
    redirect_uri: Url,
    desktop_state: String,
    code_challenge: String,
}

/// Stripe's grant, waiting for the desktop to redeem its one-time code.
pub(crate) struct IssuedCode {
    grant: Grant,
    redirect_uri: Url,
    code_challenge: String,
}

type Params = Query<HashMap<String, String>>;

fn random_token(prefix: &str) -> String {
    format!(
        "{prefix}{}",
        URL_SAFE_NO_PAD.encode(rand::random::<[u8; 32]>())
    )
}

/// A small page for the owner's browser when there is no loopback to send them back to.
fn page(status: StatusCode, title: &str, message: &str) -> Response {
    let html = format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>FluxStore Connect</title></head>\
         <body style=\"font-family:sans-serif;max-width:36em;margin:4em auto\"><h1>{}</h1><p>{}</p></body></html>",
        escape(title),
        escape(message)
    );
    (status, Html(html)).into_response()
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// RFC 8252 §7.3: only an IP loopback literal with an explicit port, plain http, no
/// credentials or fragment. The name "localhost" is refused (it may resolve elsewhere).
pub(crate) fn loopback_redirect(raw: &str) -> Result<Url, &'static str> {
    let url = Url::parse(raw).map_err(|_| "the redirect_uri is not a valid URL")?;
    let loopback = match url.host() {
        Some(Host::Ipv4(ip)) => ip == Ipv4Addr::LOCALHOST,
        Some(Host::Ipv6(ip)) => ip == Ipv6Addr::LOCALHOST,
        _ => false,
    };
    if url.scheme() != "http" || !loopback {
        return Err("the redirect_uri must be http://127.0.0.1:<port>/… or http://[::1]:<port>/…");
    }
    if url.port().is_none() {
        return Err("the redirect_uri must name the port of the desktop's listener");
    }
    if !url.username().is_empty() || url.password().is_some() || url.fragment().is_some() {
        return Err("the redirect_uri must not carry credentials or a fragment");
    }
    Ok(url)
}

fn with_params(base: &Url, pairs: &[(&str, &str)]) -> Url {
    let mut url = base.clone();
    {
        let mut q = url.query_pairs_mut();
        for (k, v) in pairs {
            q.append_pair(k, v);
        }
    }
    url
}

/// `GET /oauth/authorize` — the desktop (through the owner's browser) starts a sign-in.
pub(crate) async fn authorize(State(app): State<Arc<AppState>>, Query(q): Params) -> Response {
    let Some(raw_redirect) = q.get("redirect_uri") else {
        return page(
            StatusCode::BAD_REQUEST,
            "Sign-in refused",
            "The redirect_uri is missing.",
        );
    };
    let redirect_uri = match loopback_redirect(raw_redirect) {
        Ok(u) => u,
        Err(why) => {
            tracing::info!(reason = why, "authorize refused: redirect_uri");
            return page(StatusCode::BAD_REQUEST, "Sign-in refused", why);
        }
    };
    let problem = match (
        q.get("state"),
        q.get("code_challenge"),
        q.get("code_challenge_method"),
    ) {
        (None, _, _) => Some("the state parameter is missing"),
        (Some(s), _, _) if s.is_empty() || s.len() > 512 => Some("the state parameter is invalid"),
        (_, None, _) => Some("PKCE is required: the code_challenge is missing"),
        (_, Some(c), _) if c.len() != 43 || URL_SAFE_NO_PAD.decode(c).is_err() => {
            Some("the code_challenge is not a base64url SHA-256 value")
        }
        (_, _, m) if m.map(String::as_str) != Some("S256") => {
            Some("PKCE is required with code_challenge_method=S256")
        }
        _ => None,
    };
    if let Some(why) = problem {
        tracing::info!(reason = why, "authorize refused");
        return page(StatusCode::BAD_REQUEST, "Sign-in refused", why);
    }
    let service_state = random_token("");
    let pending = PendingSignIn {
        redirect_uri,
        desktop_state: q["state"].clone(),
        code_challenge: q["code_challenge"].clone(),
    };
    if app.pending.insert(service_state.clone(), pending).is_err() {
        tracing::warn!("authorize refused: too many sign-ins in progress");
        return page(
            StatusCode::SERVICE_UNAVAILABLE,
            "Too many sign-ins in progress",
            "Please try again in a few minutes.",
        );
    }
    let target = app
        .stripe
        .authorize_url(&app.config.callback_url(), &service_state);
    tracing::info!("authorize: sending the owner to Stripe");
    Redirect::to(target.as_str()).into_response()
}

/// `GET /oauth/callback` — Stripe sends the owner back here with `code` or `error`.
pub(crate) async fn callback(State(app): State<Arc<AppState>>, Query(q): Params) -> Response {
    let expired = || {
        page(
            StatusCode::BAD_REQUEST,
            "This sign-in link is no longer valid",
            "It expired or was already used. Start the connection again from FluxStore Desktop.",
        )
    };
    let Some(state) = q.get("state") else {
        return expired();
    };
    let pending = match app.pending.take(state) {
        Taken::Fresh(p) => p,
        Taken::Expired | Taken::Missing => {
            tracing::info!("callback: unknown or expired state");
            return expired();
        }
    };
    let back = |pairs: &[(&str, &str)]| {
        let mut all = pairs.to_vec();
        all.push(("state", &pending.desktop_state));
        Redirect::to(with_params(&pending.redirect_uri, &all).as_str()).into_response()
    };
    if let Some(error) = q.get("error") {
        let code: String = error
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
            .take(64)
            .collect();
        let description: String = q
            .get("error_description")
            .map(|d| d.chars().take(300).collect())
            .unwrap_or_else(|| "The connection was not authorized at Stripe.".to_owned());
        tracing::info!(error = %code, "callback: Stripe returned an error");
        return back(&[("error", &code), ("error_description", &description)]);
    }
    let Some(stripe_code) = q.get("code") else {
        return back(&[
            ("error", "invalid_request"),
            ("error_description", "Stripe returned no code."),
        ]);
    };
    let grant = match app.stripe.redeem(stripe_code).await {
        Ok(g) => g,
        Err(e) => {
            log_stripe_error("callback: redeeming Stripe's code failed", &e);
            let description = match e {
                StripeError::Unreachable(_) => {
                    "Stripe could not be reached to finish the connection. Please try again."
                }
                _ => {
                    "Stripe did not complete the connection. Please start again; if it keeps failing, contact the operator of this Connect service."
                }
            };
            return back(&[
                ("error", "server_error"),
                ("error_description", description),
            ]);
        }
    };
    let code = random_token("fsc_");
    let issued = IssuedCode {
        grant,
        redirect_uri: pending.redirect_uri.clone(),
        code_challenge: pending.code_challenge.clone(),
    };
    if app.codes.insert(code.clone(), issued).is_err() {
        tracing::warn!("callback: too many unredeemed codes");
        return back(&[
            ("error", "temporarily_unavailable"),
            (
                "error_description",
                "The Connect service is busy. Please try again in a minute.",
            ),
        ]);
    }
    tracing::info!("callback: one-time code issued");
    back(&[("code", &code)])
}

fn log_stripe_error(what: &str, e: &StripeError) {
    match e {
        StripeError::OAuth { status, code, .. } => tracing::warn!(status, code = %code, "{what}"),
        other => tracing::warn!(error = %other, "{what}"),
    }
}

/// `POST /oauth/token` — the desktop redeems its one-time code with its PKCE verifier.
pub(crate) async fn token(State(app): State<Arc<AppState>>, body: Bytes) -> Response {
    match redeem(&app, &body) {
        Ok(grant) => {
            let mut body = json!({
                "access_token": grant.access_token.expose_secret(),
                "token_type": grant.token_type,
                "stripe_publishable_key": grant.stripe_publishable_key,
                "stripe_user_id": grant.stripe_user_id,
                "scope": grant.scope,
                "livemode": grant.livemode,
            });
            if let Some(r) = &grant.refresh_token {
                body["refresh_token"] = r.expose_secret().into();
            }
            tracing::info!("token: code redeemed");
            let mut resp = axum::Json(body).into_response();
            resp.headers_mut()
                .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            resp.headers_mut()
                .insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
            resp
        }
        Err(e) => {
            tracing::info!(error = e.code, "token refused");
            e.into_response()
        }
    }
}

fn redeem(app: &AppState, body: &[u8]) -> Result<Grant, OAuthError> {
    let form: HashMap<String, String> = url::form_urlencoded::parse(body).into_owned().collect();
    let field = |name: &str| {
        form.get(name)
            .filter(|v| !v.is_empty())
            .ok_or_else(|| OAuthError::invalid_request(format!("the {name} parameter is missing")))
    };
    if field("grant_type")? != "authorization_code" {
        return Err(OAuthError::new(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            "only grant_type=authorization_code is supported",
        ));
    }
    let (code, verifier, redirect_uri) = (
        field("code")?,
        field("code_verifier")?,
        field("redirect_uri")?,
    );
    // Taken before any check: a code gets one attempt, so a verifier cannot be guessed.
    let issued = match app.codes.take(code) {
        Taken::Fresh(i) => i,
        Taken::Expired => {
            return Err(OAuthError::invalid_grant(
                "the code has expired; start the connection again",
            ));
        }
        Taken::Missing => {
            return Err(OAuthError::invalid_grant(
                "the code is unknown or was already used",
            ));
        }
    };
    if Url::parse(redirect_uri).ok().as_ref() != Some(&issued.redirect_uri) {
        return Err(OAuthError::invalid_grant(
            "the redirect_uri does not match the sign-in",
        ));
    }
    let verifier_ok = (43..=128).contains(&verifier.len())
        && verifier
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b));
    let computed = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
    let matches: bool = computed
        .as_bytes()
        .ct_eq(issued.code_challenge.as_bytes())
        .into();
    if !verifier_ok || !matches {
        return Err(OAuthError::invalid_grant(
            "the code_verifier does not match the code_challenge",
        ));
    }
    Ok(issued.grant)
}

/// `POST /oauth/revoke` — deauthorize an account at Stripe. The caller proves it holds that
/// account's access token: Stripe must accept the token and name the same account.
pub(crate) async fn revoke(
    State(app): State<Arc<AppState>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let unauthorized = |msg: &str| {
        let mut resp =
            OAuthError::new(StatusCode::UNAUTHORIZED, "invalid_token", msg).into_response();
        resp.headers_mut()
            .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        resp
    };
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(|t| SecretString::from(t.trim().to_owned()));
    let Some(token) = token.filter(|t| !t.expose_secret().is_empty()) else {
        return unauthorized("the account's access token is required");
    };
    let form: HashMap<String, String> = url::form_urlencoded::parse(&body).into_owned().collect();
    let Some(account) = form
        .get("stripe_user_id")
        .filter(|a| a.starts_with("acct_"))
    else {
        return OAuthError::invalid_request("the stripe_user_id parameter (acct_…) is missing")
            .into_response();
    };
    match app.stripe.account_of_token(&token).await {
        Ok(Some(id)) if &id == account => {}
        Ok(_) => {
            tracing::info!("revoke refused: token not valid for the account");
            return unauthorized(
                "the access token is not valid for this account (it may already be revoked)",
            );
        }
        Err(e) => {
            log_stripe_error("revoke: checking the token failed", &e);
            return OAuthError::new(
                StatusCode::BAD_GATEWAY,
                "temporarily_unavailable",
                "Stripe could not be asked; please try again",
            )
            .into_response();
        }
    }
    match app.stripe.deauthorize(account).await {
        Ok(()) => {
            tracing::info!("revoke: account deauthorized");
            axum::Json(json!({ "stripe_user_id": account })).into_response()
        }
        Err(e) => {
            log_stripe_error("revoke: deauthorize failed", &e);
            OAuthError::new(
                StatusCode::BAD_GATEWAY,
                "temporarily_unavailable",
                "Stripe did not confirm the disconnection; please try again",
            )
            .into_response()
        }
    }
}
