//! The endpoints the owner's browser visits: the desktop's authorize request and Stripe's
//! redirect back. Every failure is a small page or a redirect to the checked loopback URI.

use std::net::{Ipv4Addr, Ipv6Addr};
use std::sync::Arc;

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use fluxstore_connect_api::{AuthorizeQuery, Mode};
use url::{Host, Url};

use super::{AppState, IssuedCode, Params, PendingSignIn, random_token};
use crate::error::StripeError;
use crate::store::Taken;

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

/// `GET /oauth/authorize` — the desktop (through the owner's browser) starts a sign-in in
/// the mode it asks for (`mode=test|live`, live when absent).
pub(crate) async fn authorize(
    State(app): State<Arc<AppState>>,
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
    let service_state = random_token("");
    let pending = PendingSignIn {
        redirect_uri: redirect_uri.clone(),
        desktop_state: state.to_owned(),
        code_challenge: challenge.to_owned(),
        mode,
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
    tracing::info!(mode = %mode, "authorize: sending the owner to Stripe");
    Redirect::to(target.as_str()).into_response()
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

pub(crate) fn log_stripe_error(what: &str, e: &StripeError) {
    match e {
        StripeError::OAuth { status, code, .. } => tracing::warn!(status, code = %code, "{what}"),
        other => tracing::warn!(error = %other, "{what}"),
    }
}
