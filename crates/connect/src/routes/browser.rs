//! The endpoints the owner's browser visits: the desktop's authorize request and Stripe's
//! redirect back. Every failure is a small page or a redirect to the checked loopback URI.

use std::net::{Ipv4Addr, Ipv6Addr};
use std::sync::Arc;

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
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

pub(crate) fn log_stripe_error(what: &str, e: &StripeError) {
    match e {
        StripeError::OAuth { status, code, .. } => tracing::warn!(status, code = %code, "{what}"),
        other => tracing::warn!(error = %other, "{what}"),
    }
}
