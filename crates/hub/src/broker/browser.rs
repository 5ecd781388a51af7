//! The endpoints the owner's browser visits: the desktop's authorize request and Stripe's
//! redirect back. Every failure is a small page or a redirect to the checked loopback URI.
//!
//! The sign-in travels as sealed state (see [`super::sealed`]); the browser that starts it
//! gets an HttpOnly, SameSite=Lax cookie whose SHA-256 the state carries, and Stripe's
//! answer is accepted only with that cookie, so a code cannot be pushed into another
//! browser's sign-in (login CSRF) nor a link finished elsewhere.

use std::net::{Ipv4Addr, Ipv6Addr};
use std::sync::Arc;
use std::time::Duration;

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use fluxstore_connect_api::{AuthorizeQuery, DESKTOP_CALLBACK_PATH, Mode};
use fluxstore_relay::signature::unix_now;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use url::{Host, Url};

use super::error::StripeError;
use super::sealed::{SignIn, StateRefusal, WaitingGrant};
use super::{Broker, MAX_CODE_TTL, Params, random_token};
use crate::store::Store;
use crate::tokens;

/// Cookies binding a sign-in to its browser are named this, then 16 hex digits of the
/// binding's hash, so several sign-ins in one browser do not overwrite each other.
const COOKIE_PREFIX: &str = "fluxstore_signin_";

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
    if url.path() != DESKTOP_CALLBACK_PATH {
        return Err("the redirect_uri must be the desktop's loopback /callback path");
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

/// `GET /oauth/authorize` — the desktop (through the owner's browser) starts a sign-in in
/// the mode it asks for (`mode=test|live`, live when absent).
pub(crate) async fn authorize<S: Store>(
    State(app): State<Arc<Broker<S>>>,
    query: Result<Query<AuthorizeQuery>, QueryRejection>,
) -> Response {
    let Ok(Query(q)) = query else {
        // e.g. a parameter given twice: which one was meant cannot be known.
        return page(
            StatusCode::BAD_REQUEST,
            "Sign-in refused",
            "The sign-in request could not be read.",
        );
    };
    let Some(raw_redirect) = q.redirect_uri.as_deref() else {
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
    let (state, challenge) = match check_state_and_pkce(&q) {
        Ok(pair) => pair,
        Err(why) => {
            tracing::info!(reason = why, "authorize refused");
            return page(StatusCode::BAD_REQUEST, "Sign-in refused", why);
        }
    };
    // From here the desktop can be told in its own words, on its own loopback.
    let back = |code: &str, description: &str| {
        let pairs = [
            ("error", code),
            ("error_description", description),
            ("state", state),
        ];
        Redirect::to(with_params(&redirect_uri, &pairs).as_str()).into_response()
    };
    let Ok(mode) = q.requested_mode() else {
        tracing::info!("authorize refused: unknown mode");
        return back(
            "invalid_request",
            "The sign-in asked for a mode other than test or live.",
        );
    };
    if !app.stripe.serves(mode) {
        tracing::info!(mode = %mode, "authorize refused: no platform key for the mode");
        return back("invalid_request", &not_set_up_for(mode));
    }
    // The binding: a random value in the browser's cookie, its hash in the sealed state.
    let binding = URL_SAFE_NO_PAD.encode(rand::random::<[u8; 32]>());
    let binding_hash = hex::encode(Sha256::digest(binding.as_bytes()));
    let ttl = app.config.pending_ttl;
    let sign_in = SignIn {
        redirect_uri: redirect_uri.clone(),
        desktop_state: state.to_owned(),
        code_challenge: challenge.to_owned(),
        mode,
        browser: binding_hash.clone(),
        expires: unix_now() + i64::try_from(ttl.as_secs()).unwrap_or(i64::MAX / 2),
    };
    let service_state = app.config.state_key.seal_sign_in(&sign_in);
    let target = app
        .stripe
        .authorize_url(&app.config.callback_url(), &service_state);
    tracing::info!(mode = %mode, "authorize: sending the owner to Stripe");
    let mut response = Redirect::to(target.as_str()).into_response();
    let cookie = cookie(&app.config.public_url, &binding_hash, &binding, ttl);
    if let Ok(value) = HeaderValue::from_str(&cookie) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    response
}

/// `Set-Cookie` for a sign-in's binding (an empty value and no lifetime clears it).
fn cookie(public_url: &Url, binding_hash: &str, value: &str, max_age: Duration) -> String {
    let path = format!("{}/oauth", public_url.path().trim_end_matches('/'));
    let secure = if public_url.scheme() == "https" {
        "; Secure"
    } else {
        ""
    };
    format!(
        "{COOKIE_PREFIX}{}={value}; Path={path}; Max-Age={}; HttpOnly; SameSite=Lax{secure}",
        &binding_hash[..16],
        max_age.as_secs()
    )
}

/// Whether the request carries the cookie whose SHA-256 is `binding_hash`.
fn carries_binding(headers: &HeaderMap, binding_hash: &str) -> bool {
    let Some(prefix) = binding_hash.get(..16) else {
        return false;
    };
    let name = format!("{COOKIE_PREFIX}{prefix}");
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .filter(|(n, _)| *n == name)
        .any(|(_, value)| {
            let hash = hex::encode(Sha256::digest(value.as_bytes()));
            hash.as_bytes().ct_eq(binding_hash.as_bytes()).into()
        })
}

/// The desktop's state and its S256 code challenge, or why the request is refused.
fn check_state_and_pkce(q: &AuthorizeQuery) -> Result<(&str, &str), &'static str> {
    let state = match q.state.as_deref() {
        None => return Err("the state parameter is missing"),
        Some(s) if s.is_empty() || s.len() > 512 => return Err("the state parameter is invalid"),
        Some(s) => s,
    };
    let challenge = match q.code_challenge.as_deref() {
        None => return Err("PKCE is required: the code_challenge is missing"),
        Some(c) if c.len() != 43 || URL_SAFE_NO_PAD.decode(c).is_err() => {
            return Err("the code_challenge is not a base64url SHA-256 value");
        }
        Some(c) => c,
    };
    if q.code_challenge_method.as_deref() != Some("S256") {
        return Err("PKCE is required with code_challenge_method=S256");
    }
    Ok((state, challenge))
}

/// What the owner reads when the desktop asks for a mode this service has no key for.
pub(crate) fn not_set_up_for(mode: Mode) -> String {
    let other = match mode {
        Mode::Test => Mode::Live,
        Mode::Live => Mode::Test,
    };
    format!(
        "This Connect service is not set up for {mode} mode. Connect in {other} mode, or ask the operator of this Connect service to add the platform's {mode}-mode secret key."
    )
}

/// `GET /oauth/callback` — Stripe sends the owner back here with `code` or `error`.
pub(crate) async fn callback<S: Store>(
    State(app): State<Arc<Broker<S>>>,
    headers: HeaderMap,
    Query(q): Params,
) -> Response {
    let refused = |message: &str| {
        page(
            StatusCode::BAD_REQUEST,
            "This sign-in link is no longer valid",
            message,
        )
    };
    let Some(state) = q.get("state") else {
        return refused(
            "It carries no sign-in. Start the connection again from FluxStore Desktop.",
        );
    };
    let pending = match app.config.state_key.open_sign_in(state, unix_now()) {
        Ok(p) => p,
        Err(StateRefusal::Expired) => {
            tracing::info!("callback refused: the sign-in state expired");
            return refused(&format!(
                "The sign-in took longer than the {} minutes allowed. Start the connection again from FluxStore Desktop.",
                app.config.pending_ttl.as_secs().div_ceil(60)
            ));
        }
        Err(StateRefusal::Invalid) => {
            tracing::info!("callback refused: a state this service did not issue, or altered");
            return refused(
                "It was not issued by this Connect service, or it was changed on the way. Start the connection again from FluxStore Desktop.",
            );
        }
    };
    if !carries_binding(&headers, &pending.browser) {
        tracing::info!("callback refused: not the browser that started the sign-in");
        return page(
            StatusCode::BAD_REQUEST,
            "This sign-in was started in another browser",
            "For your safety, a connection can only be finished in the browser where it was started. Start the connection again from FluxStore Desktop and finish it in the browser that opens.",
        );
    }
    let clear = cookie(&app.config.public_url, &pending.browser, "", Duration::ZERO);
    let with_cleared = move |mut response: Response| {
        if let Ok(value) = HeaderValue::from_str(&clear) {
            response.headers_mut().append(header::SET_COOKIE, value);
        }
        response
    };
    let back = |pairs: &[(&str, &str)]| {
        let mut all = pairs.to_vec();
        all.push(("state", &pending.desktop_state));
        with_cleared(
            Redirect::to(with_params(&pending.redirect_uri, &all).as_str()).into_response(),
        )
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
    let grant = match app.stripe.redeem(stripe_code, pending.mode).await {
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
    if grant.mode() != pending.mode {
        // The key of one mode yielded tokens of the other: a misconfigured platform or a
        // changed Stripe. Handing them out would connect the store in a world it did not ask
        // for, so the grant is dropped here (it is not logged).
        tracing::warn!(
            asked = %pending.mode,
            stripe_said = %grant.mode(),
            "callback: Stripe's tokens are of another mode than asked for; refused"
        );
        let description = format!(
            "Stripe connected the account in {} mode although {} mode was asked for, so the connection was not handed out. Please tell the operator of this Connect service.",
            grant.mode(),
            pending.mode
        );
        return back(&[
            ("error", "server_error"),
            ("error_description", &description),
        ]);
    }
    let code = random_token("fsc_");
    let code_hash = tokens::hash(&code);
    let waiting = WaitingGrant {
        grant,
        redirect_uri: pending.redirect_uri.clone(),
        code_challenge: pending.code_challenge.clone(),
    };
    let sealed = app.config.state_key.seal_grant(&code_hash, &waiting);
    drop(waiting);
    let ttl = app.config.code_ttl.min(MAX_CODE_TTL);
    let expires = unix_now() + i64::try_from(ttl.as_secs()).unwrap_or(60);
    if let Err(e) = app.store.put_grant(code_hash, sealed, expires).await {
        tracing::warn!(error = %e, "callback: the grant could not be stored");
        return back(&[
            ("error", "temporarily_unavailable"),
            (
                "error_description",
                "The Connect service could not finish the connection just now. Please try again in a minute.",
            ),
        ]);
    }
    tracing::info!("callback: one-time code issued");
    back(&[("code", &code)])
}

pub(crate) fn log_stripe_error(what: &str, e: &StripeError) {
    match e {
        StripeError::OAuth { status, code, .. } => tracing::warn!(status, code = %code, "{what}"),
        other => tracing::warn!(error = %other, "{what}"),
    }
}
