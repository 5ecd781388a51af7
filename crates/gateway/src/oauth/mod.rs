//! The desktop half of "Connect with Stripe": OAuth 2.0 for native apps (RFC 8252) against
//! the FluxStore Connect service, with PKCE S256 and a random `state` (the `oauth2` crate).
//!
//! Usage: [`PendingConnect::start`] binds the loopback listener and returns at once with the
//! authorize URL (so a UI can show it for copying when no browser opens) and a
//! [`CancelHandle`]; [`PendingConnect::finish`] waits for the browser to come back, redeems
//! the one-time code with the verifier, and only then shows the owner a success or failure
//! page. The desktop never sees the platform key: the service redeems Stripe's code.
//!
//! A connection is asked for in one mode ([`ConnectOptions::mode`], sent as `mode=`); tokens
//! of the other mode are refused, never kept, whatever the service hands over.

mod loopback;
mod service;

use std::time::Duration;

use fluxstore_connect_api::{AUTHORIZE_PATH, MODE_PARAM, TokenResponse};
use fluxstore_mirror::Mode;
use oauth2::basic::BasicClient;
use oauth2::{AuthUrl, ClientId, CsrfToken, PkceCodeChallenge, PkceCodeVerifier, RedirectUrl};
use tokio::net::TcpListener;
use tokio::sync::watch;
use url::Url;

pub use service::revoke;

use crate::secret::Secret;

/// The path of the loopback redirect URI: the one the Connect service accepts.
pub const CALLBACK_PATH: &str = fluxstore_connect_api::DESKTOP_CALLBACK_PATH;
/// The client id the desktop presents to the Connect service (a public client).
pub const CLIENT_ID: &str = "fluxstore-desktop";

#[derive(Debug, Clone)]
pub struct ConnectOptions {
    /// The Connect service's base URL, e.g. `https://connect.example.com`.
    pub service_url: Url,
    /// The mode to connect in. The service redeems Stripe's code with its platform key of
    /// this mode (and refuses when it has none); [`PendingConnect::finish`] refuses tokens
    /// of the other mode.
    pub mode: Mode,
    /// How long the owner may take in the browser (5 minutes by default).
    pub timeout: Duration,
    /// How long one browser connection may take to send its request.
    pub read_timeout: Duration,
    /// The largest request head the listener reads.
    pub max_request_bytes: usize,
    /// Timeout of each request to the Connect service.
    pub http_timeout: Duration,
}

impl ConnectOptions {
    pub fn new(service_url: Url, mode: Mode) -> ConnectOptions {
        ConnectOptions {
            service_url,
            mode,
            timeout: Duration::from_secs(5 * 60),
            read_timeout: Duration::from_secs(10),
            max_request_bytes: 8 * 1024,
            http_timeout: Duration::from_secs(30),
        }
    }
}

/// Stripe's token fields, as handed over by the Connect service.
#[derive(Debug)]
pub struct ConnectTokens {
    pub access_token: Secret,
    pub refresh_token: Option<Secret>,
    pub token_type: String,
    pub stripe_publishable_key: String,
    /// The connected account, `acct_…`.
    pub stripe_user_id: String,
    pub scope: String,
    pub livemode: bool,
}

impl ConnectTokens {
    pub fn mode(&self) -> Mode {
        Mode::from_livemode(self.livemode)
    }
}

impl From<TokenResponse> for ConnectTokens {
    fn from(t: TokenResponse) -> ConnectTokens {
        ConnectTokens {
            access_token: Secret::new(t.access_token.into_inner()),
            refresh_token: t.refresh_token.map(|r| Secret::new(r.into_inner())),
            token_type: t.token_type,
            stripe_publishable_key: t.stripe_publishable_key,
            stripe_user_id: t.stripe_user_id,
            scope: t.scope,
            livemode: t.livemode,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum OAuthError {
    #[error("FluxStore could not open a local port to receive Stripe's answer: {0}")]
    Bind(std::io::Error),
    #[error("the Connect service URL must be an http(s) URL")]
    BadServiceUrl,
    #[error("the connection was not finished within {}; start it again", wait_words(*waited))]
    TimedOut { waited: Duration },
    #[error("the connection was cancelled")]
    Cancelled,
    #[error(
        "the answer that came back does not belong to this sign-in, so it was ignored for your safety; start the connection again"
    )]
    StateMismatch,
    #[error("Stripe did not connect the account: {description}")]
    Denied { description: String },
    #[error("the connection failed ({code}): {description}")]
    Provider { code: String, description: String },
    #[error("the answer from the Connect service carried no code")]
    MissingCode,
    #[error("the Connect service could not be reached: {reason}")]
    ServiceUnreachable { reason: &'static str },
    #[error("the Connect service refused ({code}): {description}")]
    ServiceRefused {
        status: u16,
        code: String,
        description: String,
    },
    #[error("the Connect service answered something FluxStore does not understand")]
    BadResponse,
    #[error("Stripe no longer accepts this connection's access token (it was already revoked)")]
    TokenRejected,
    #[error(
        "Stripe connected the account in {} mode, but the connection was started in {} mode, so it was not kept; start it again in the mode you want",
        got.as_str(),
        asked.as_str()
    )]
    ModeMismatch { asked: Mode, got: Mode },
}

/// A wait in the words an owner reads: "5 minutes", "1 minute", "30 seconds".
fn wait_words(waited: Duration) -> String {
    let secs = waited.as_secs();
    let (n, unit) = if secs >= 60 && secs.is_multiple_of(60) {
        (secs / 60, "minute")
    } else if secs >= 120 {
        (secs.div_ceil(60), "minute")
    } else {
        (secs.max(1), "second")
    };
    if n == 1 {
        format!("1 {unit}")
    } else {
        format!("{n} {unit}s")
    }
}

impl OAuthError {
    /// A stable code the UI can branch on.
    pub fn code(&self) -> &'static str {
        match self {
            OAuthError::Bind(_) => "loopback_unavailable",
            OAuthError::BadServiceUrl => "bad_service_url",
            OAuthError::TimedOut { .. } => "timed_out",
            OAuthError::Cancelled => "cancelled",
            OAuthError::StateMismatch => "state_mismatch",
            OAuthError::Denied { .. } => "access_denied",
            OAuthError::Provider { .. } => "provider_error",
            OAuthError::MissingCode => "missing_code",
            OAuthError::ServiceUnreachable { .. } => "service_unreachable",
            OAuthError::ServiceRefused { .. } => "service_refused",
            OAuthError::BadResponse => "bad_response",
            OAuthError::TokenRejected => "token_rejected",
            OAuthError::ModeMismatch { .. } => "mode_mismatch",
        }
    }
}

/// Cancels a pending connection from another task (a UI's Cancel button).
#[derive(Debug, Clone)]
pub struct CancelHandle(std::sync::Arc<watch::Sender<bool>>);

impl CancelHandle {
    pub fn cancel(&self) {
        self.0.send_replace(true);
    }
}

/// A connection in progress: the listener is bound and the authorize URL is known.
pub struct PendingConnect {
    options: ConnectOptions,
    listener: TcpListener,
    authorize_url: Url,
    redirect_uri: Url,
    state: CsrfToken,
    verifier: PkceCodeVerifier,
    cancel_tx: std::sync::Arc<watch::Sender<bool>>,
    cancel_rx: watch::Receiver<bool>,
}

impl PendingConnect {
    /// Bind `127.0.0.1:0` and prepare the authorize URL. Waits for nothing.
    pub async fn start(options: ConnectOptions) -> Result<PendingConnect, OAuthError> {
        if !matches!(options.service_url.scheme(), "http" | "https") {
            return Err(OAuthError::BadServiceUrl);
        }
        let listener = TcpListener::bind((std::net::Ipv4Addr::LOCALHOST, 0))
            .await
            .map_err(OAuthError::Bind)?;
        let port = listener.local_addr().map_err(OAuthError::Bind)?.port();
        let redirect_uri =
            Url::parse(&format!("http://127.0.0.1:{port}{CALLBACK_PATH}")).expect("loopback URL");
        let client = BasicClient::new(ClientId::new(CLIENT_ID.to_owned()))
            .set_auth_uri(AuthUrl::from_url(service::endpoint(
                &options.service_url,
                AUTHORIZE_PATH,
            )))
            .set_redirect_uri(RedirectUrl::from_url(redirect_uri.clone()));
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let (authorize_url, state) = client
            .authorize_url(CsrfToken::new_random)
            .set_pkce_challenge(challenge)
            .add_extra_param(MODE_PARAM, options.mode.as_str())
            .url();
        let (cancel_tx, cancel_rx) = watch::channel(false);
        Ok(PendingConnect {
            options,
            listener,
            authorize_url,
            redirect_uri,
            state,
            verifier,
            cancel_tx: std::sync::Arc::new(cancel_tx),
            cancel_rx,
        })
    }

    /// Open this in the owner's browser, or show it for copying.
    pub fn authorize_url(&self) -> &Url {
        &self.authorize_url
    }

    /// `http://127.0.0.1:PORT/callback`
    pub fn redirect_uri(&self) -> &Url {
        &self.redirect_uri
    }

    /// The mode this connection was asked for.
    pub fn mode(&self) -> Mode {
        self.options.mode
    }

    pub fn cancel_handle(&self) -> CancelHandle {
        CancelHandle(self.cancel_tx.clone())
    }

    /// How long the owner may take in the browser, counted when [`PendingConnect::finish`] starts.
    pub fn set_timeout(&mut self, timeout: Duration) {
        self.options.timeout = timeout;
    }

    /// Wait for the browser, redeem the code, answer the browser, close the listener.
    pub async fn finish(self) -> Result<ConnectTokens, OAuthError> {
        let limits = loopback::Limits {
            overall: self.options.timeout,
            read: self.options.read_timeout,
            max_request: self.options.max_request_bytes,
        };
        let mut cancel = self.cancel_rx.clone();
        let callback = loopback::wait(
            self.listener,
            CALLBACK_PATH,
            self.state.secret(),
            limits,
            self.cancel_rx,
        )
        .await?;
        let loopback::Callback { result, responder } = callback;
        let code = match result {
            Ok(code) => code,
            Err(e) => {
                responder
                    .respond(loopback::Page::Failure(sentence(&e)))
                    .await;
                return Err(e);
            }
        };
        let http = service::http_client(self.options.http_timeout)?;
        let exchanged = tokio::select! {
            r = service::exchange(&http, &self.options.service_url, &code, self.verifier.secret(), &self.redirect_uri, CLIENT_ID) => r,
            _ = cancelled(&mut cancel) => Err(OAuthError::Cancelled),
        };
        let exchanged = exchanged.and_then(|t| in_mode(self.options.mode, t));
        let page = match &exchanged {
            Ok(_) => loopback::Page::Success,
            Err(e) => loopback::Page::Failure(sentence(e)),
        };
        responder.respond(page).await;
        exchanged
    }
}

/// The tokens, if they are of the mode asked for. Tokens of the other mode are dropped here
/// (the service should never hand them out; this holds even if one does).
fn in_mode(asked: Mode, tokens: ConnectTokens) -> Result<ConnectTokens, OAuthError> {
    let got = tokens.mode();
    if got == asked {
        Ok(tokens)
    } else {
        Err(OAuthError::ModeMismatch { asked, got })
    }
}

/// Resolves once cancellation was asked for; never if every handle is gone.
pub(crate) async fn cancelled(rx: &mut watch::Receiver<bool>) {
    let asked = rx.wait_for(|c| *c).await.is_ok();
    if !asked {
        std::future::pending::<()>().await;
    }
}

/// An error as a sentence for the browser page.
fn sentence(e: &OAuthError) -> String {
    let mut s = e.to_string();
    if let Some(first) = s.get(0..1) {
        let upper = first.to_uppercase();
        s.replace_range(0..1, &upper);
    }
    if !s.ends_with('.') {
        s.push('.');
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use fluxstore_connect_api::AuthorizeQuery;

    fn tokens(livemode: bool) -> ConnectTokens {
        ConnectTokens {
            access_token: Secret::new("sk_test_x"),
            refresh_token: None,
            token_type: "bearer".into(),
            stripe_publishable_key: String::new(),
            stripe_user_id: "acct_1".into(),
            scope: "read_write".into(),
            livemode,
        }
    }

    #[test]
    fn tokens_of_the_other_mode_are_refused_in_words() {
        assert!(in_mode(Mode::Test, tokens(false)).is_ok());
        assert!(in_mode(Mode::Live, tokens(true)).is_ok());
        let err = in_mode(Mode::Test, tokens(true)).unwrap_err();
        assert_eq!(err.code(), "mode_mismatch");
        let text = err.to_string();
        assert!(
            text.contains("live mode") && text.contains("started in test mode"),
            "{text}"
        );
    }

    #[tokio::test]
    async fn the_authorize_url_asks_for_the_mode_the_service_reads() {
        for mode in [Mode::Test, Mode::Live] {
            let options = ConnectOptions::new(Url::parse("http://127.0.0.1:9/c").unwrap(), mode);
            let pending = PendingConnect::start(options).await.unwrap();
            assert_eq!(pending.mode(), mode);
            let url = pending.authorize_url();
            assert_eq!(url.path(), "/c/oauth/authorize");
            let q: AuthorizeQuery = serde_urlencoded::from_str(url.query().unwrap()).unwrap();
            let read = q.requested_mode().unwrap();
            assert_eq!(read.as_str(), mode.as_str());
            assert_eq!(q.code_challenge_method.as_deref(), Some("S256"));
            assert_eq!(q.client_id.as_deref(), Some(CLIENT_ID));
        }
    }

    #[test]
    fn a_timeout_reads_in_whole_units_with_the_right_plural() {
        let words = |secs| {
            OAuthError::TimedOut {
                waited: Duration::from_secs(secs),
            }
            .to_string()
        };
        assert!(words(300).contains("within 5 minutes;"), "{}", words(300));
        assert!(words(60).contains("within 1 minute;"), "{}", words(60));
        assert!(words(30).contains("within 30 seconds;"), "{}", words(30));
        assert!(words(1).contains("within 1 second;"), "{}", words(1));
        assert!(words(90).contains("within 90 seconds;"), "{}", words(90));
        assert!(words(150).contains("within 3 minutes;"), "{}", words(150));
    }
}
