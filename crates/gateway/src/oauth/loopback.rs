//! The one-shot loopback listener of RFC 8252 §7.3.
//!
//! Invariants: it binds `127.0.0.1` with an ephemeral port (the name "localhost" is never
//! resolved); it hands back at most one callback — the first request for the callback path
//! that carries this sign-in's `state` (one with another state is answered 400 and the wait
//! goes on, so no other page on the computer can end a sign-in) — and ignores everything else
//! a browser sends (favicon requests, speculative connections that never send a byte); every
//! connection has a read deadline and a size cap; nothing
//! waits longer than the overall timeout or past a cancellation. Only the request line is
//! parsed, so the cap is small and no header or body is ever interpreted.

use std::collections::HashMap;
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, oneshot, watch};
use tokio::task::JoinSet;

use super::OAuthError;
use crate::secret::Secret;

/// At most this many browser connections are served at once; more wait in the backlog.
const MAX_CONNECTIONS: usize = 16;

#[derive(Debug, Clone, Copy)]
pub(crate) struct Limits {
    pub overall: Duration,
    pub read: Duration,
    pub max_request: usize,
}

/// The page the browser is shown once the flow has an outcome.
pub(crate) enum Page {
    Success,
    Failure(String),
}

/// The first callback, plus the means to answer the waiting browser.
pub(crate) struct Callback {
    pub result: Result<Secret, OAuthError>,
    pub responder: Responder,
}

pub(crate) struct Responder {
    reply: oneshot::Sender<Page>,
    written: oneshot::Receiver<()>,
    /// Kept so the callback's connection lives until answered; dropping aborts the rest.
    _tasks: JoinSet<()>,
    read: Duration,
}

/// What a connection hands to the flow: the callback's outcome, where to send the page, and
/// a signal once the page is written.
type Delivery = (
    Result<Secret, OAuthError>,
    oneshot::Sender<Page>,
    oneshot::Receiver<()>,
);

impl Responder {
    /// Show `page` to the browser that delivered the callback, then close the listener.
    pub(crate) async fn respond(self, page: Page) {
        let Responder {
            reply,
            written,
            _tasks,
            read,
        } = self;
        let _ = reply.send(page);
        // Let the page reach the browser; bounded, since the browser might have gone away.
        // Other connections (idle preconnects) are aborted when `_tasks` drops.
        let _ = tokio::time::timeout(read, written).await;
    }
}

/// Wait for the first callback; `Err` when the flow ended without one.
pub(crate) async fn wait(
    listener: TcpListener,
    callback_path: &str,
    expected_state: &str,
    limits: Limits,
    mut cancel: watch::Receiver<bool>,
) -> Result<Callback, OAuthError> {
    let (tx, mut rx) = mpsc::channel::<Delivery>(1);
    let mut tasks = JoinSet::new();
    let deadline = tokio::time::sleep(limits.overall);
    tokio::pin!(deadline);
    loop {
        tokio::select! {
            _ = &mut deadline => return Err(OAuthError::TimedOut { waited: limits.overall }),
            _ = super::cancelled(&mut cancel) => return Err(OAuthError::Cancelled),
            Some((result, reply, written)) = rx.recv() => {
                let responder = Responder { reply, written, _tasks: tasks, read: limits.read };
                return Ok(Callback { result, responder });
            }
            accepted = listener.accept(), if tasks.len() < MAX_CONNECTIONS => {
                let Ok((stream, _peer)) = accepted else {
                    // e.g. out of file descriptors: back off briefly instead of spinning.
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                };
                let (path, state, tx) = (callback_path.to_owned(), expected_state.to_owned(), tx.clone());
                tasks.spawn(serve_connection(stream, path, state, limits, tx));
            }
            Some(_) = tasks.join_next(), if !tasks.is_empty() => {}
        }
    }
}

async fn serve_connection(
    mut stream: TcpStream,
    callback_path: String,
    expected_state: String,
    limits: Limits,
    tx: mpsc::Sender<Delivery>,
) {
    let head =
        match tokio::time::timeout(limits.read, read_head(&mut stream, limits.max_request)).await {
            Ok(Ok(Some(head))) => head,
            Ok(Err(TooLarge)) => {
                let _ = write_response(
                    &mut stream,
                    "431 Request Header Fields Too Large",
                    "text/plain",
                    "Request too large",
                )
                .await;
                return;
            }
            // An empty or idle speculative connection, or a reset: nothing to answer.
            Ok(Ok(None)) | Err(_) => return,
        };
    let params = match route(&head, &callback_path, &expected_state) {
        Route::NotFound => {
            let _ = write_response(&mut stream, "404 Not Found", "text/plain", "Not found").await;
            return;
        }
        Route::MethodNotAllowed => {
            let _ = write_response(
                &mut stream,
                "405 Method Not Allowed",
                "text/plain",
                "Method not allowed",
            )
            .await;
            return;
        }
        Route::WrongState => {
            // Another page on this computer (or a stale tab) answering with a state that is
            // not this sign-in's must not end the owner's sign-in: refuse it and keep waiting
            // for the real answer, the timeout or a cancel.
            let _ = write_response(
                &mut stream,
                "400 Bad Request",
                "text/plain",
                "This answer does not belong to the sign-in in progress, so it was ignored.",
            )
            .await;
            return;
        }
        Route::Callback(params) => params,
    };
    let result = interpret(&params, &expected_state);
    let (reply_tx, reply_rx) = oneshot::channel();
    let (written_tx, written_rx) = oneshot::channel();
    if tx.send((result, reply_tx, written_rx)).await.is_err() {
        return;
    }
    // The flow answers once the token exchange is done, so the page tells the truth.
    let page = reply_rx
        .await
        .unwrap_or(Page::Failure("The sign-in was interrupted.".to_owned()));
    let html = render(&page);
    let write = write_response(&mut stream, "200 OK", "text/html; charset=utf-8", &html);
    let _ = tokio::time::timeout(limits.read, write).await;
    let _ = written_tx.send(());
}

/// What a request line asks of the listener.
#[derive(Debug, PartialEq, Eq)]
enum Route {
    NotFound,
    MethodNotAllowed,
    /// The callback path, with another sign-in's state or none.
    WrongState,
    /// This sign-in's callback, with its query parameters.
    Callback(HashMap<String, String>),
}

/// Read a request line (`GET /callback?… HTTP/1.1`): only a GET of the callback path that
/// carries this sign-in's `state` is its callback.
fn route(line: &str, callback_path: &str, expected_state: &str) -> Route {
    let mut parts = line.split(' ');
    let (method, target) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    if path != callback_path {
        return Route::NotFound;
    }
    if method != "GET" {
        return Route::MethodNotAllowed;
    }
    let params: HashMap<String, String> = url::form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .collect();
    if state_matches(&params, expected_state) {
        Route::Callback(params)
    } else {
        Route::WrongState
    }
}

/// Whether the callback carries this sign-in's `state` (compared in constant time).
fn state_matches(params: &HashMap<String, String>, expected_state: &str) -> bool {
    params
        .get("state")
        .is_some_and(|s| subtle_eq::eq(s.as_bytes(), expected_state.as_bytes()))
}

/// The callback's query: a state that must match, then `code` or `error`.
fn interpret(params: &HashMap<String, String>, expected_state: &str) -> Result<Secret, OAuthError> {
    if !state_matches(params, expected_state) {
        return Err(OAuthError::StateMismatch);
    }
    if let Some(error) = params.get("error") {
        let description: String = params
            .get("error_description")
            .map(|d| d.chars().take(300).collect())
            .unwrap_or_default();
        let code: String = error.chars().take(64).collect();
        return Err(if code == "access_denied" {
            OAuthError::Denied { description }
        } else {
            OAuthError::Provider { code, description }
        });
    }
    match params.get("code") {
        Some(code) if !code.is_empty() => Ok(Secret::new(code.clone())),
        _ => Err(OAuthError::MissingCode),
    }
}

/// Constant-time comparison of the state, so a local page cannot probe it byte by byte.
mod subtle_eq {
    pub(super) fn eq(a: &[u8], b: &[u8]) -> bool {
        a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
    }
}

struct TooLarge;

/// Read up to the end of the request head; `None` for a connection closed before a request
/// line. Returns the request line only.
async fn read_head(
    stream: &mut (impl AsyncRead + Unpin),
    cap: usize,
) -> Result<Option<String>, TooLarge> {
    let mut buf = Vec::with_capacity(1024);
    let mut chunk = [0u8; 1024];
    loop {
        let n = match stream.read(&mut chunk).await {
            Ok(0) | Err(_) => return Ok(None),
            Ok(n) => n,
        };
        buf.extend_from_slice(&chunk[..n]);
        if buf.windows(4).any(|w| w == b"\r\n\r\n") {
            let line_end = buf
                .windows(2)
                .position(|w| w == b"\r\n")
                .unwrap_or(buf.len());
            return Ok(String::from_utf8(buf[..line_end].to_vec()).ok());
        }
        if buf.len() > cap {
            return Err(TooLarge);
        }
    }
}

async fn write_response(
    stream: &mut TcpStream,
    status: &str,
    content_type: &str,
    body: &str,
) -> std::io::Result<()> {
    let head = format!(
        "HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).await?;
    stream.write_all(body.as_bytes()).await?;
    stream.shutdown().await
}

fn render(page: &Page) -> String {
    let (title, message) = match page {
        Page::Success => (
            "Connected to Stripe",
            "You can close this tab and return to FluxStore Desktop.".to_owned(),
        ),
        Page::Failure(why) => (
            "Not connected",
            format!("{why} You can close this tab and try again from FluxStore Desktop."),
        ),
    };
    format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>FluxStore Desktop</title></head>\
         <body style=\"font-family:sans-serif;max-width:36em;margin:4em auto\"><h1>{}</h1><p>{}</p></body></html>",
        escape(title),
        escape(&message)
    )
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn the_state_must_match_before_anything_else_is_read() {
        let r = interpret(&params(&[("code", "x"), ("state", "other")]), "mine");
        assert!(matches!(r, Err(OAuthError::StateMismatch)));
        let r = interpret(&params(&[("code", "x")]), "mine");
        assert!(matches!(r, Err(OAuthError::StateMismatch)));
        let r = interpret(&params(&[("code", "x"), ("state", "mine")]), "mine");
        assert_eq!(r.unwrap().expose(), "x");
    }

    #[test]
    fn provider_errors_keep_their_description() {
        let r = interpret(
            &params(&[
                ("error", "access_denied"),
                ("error_description", "The user denied your request"),
                ("state", "s"),
            ]),
            "s",
        );
        match r {
            Err(OAuthError::Denied { description }) => {
                assert_eq!(description, "The user denied your request")
            }
            other => panic!("unexpected {other:?}"),
        }
        let r = interpret(&params(&[("error", "server_error"), ("state", "s")]), "s");
        assert!(matches!(r, Err(OAuthError::Provider { code, .. }) if code == "server_error"));
    }

    #[test]
    fn pages_escape_what_the_provider_said() {
        let html = render(&Page::Failure("<script>x</script>".into()));
        assert!(!html.contains("<script>"));
        assert!(html.contains("&lt;script&gt;"));
    }
}

/// Property fuzzing of what the listener reads from any local process: the request head and
/// its request line. `scripts/fuzz --cases N` runs these with N cases each; failures are kept
/// in `loopback.proptest-regressions` beside this file.
#[cfg(test)]
mod fuzz {
    use fluxstore_test_support::fuzz::{DEFAULT_CASES, config};
    use proptest::prelude::*;

    use super::*;

    const PATH: &str = "/callback";
    const STATE: &str = "Zq3vT8pL0wXe5Rk2Yb7Nc1Hs9Jd4Mf6A";
    const CAP: usize = 8 * 1024;

    fn read(bytes: &[u8]) -> (Result<Option<String>, TooLarge>, usize) {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("runtime");
        let mut reader = bytes;
        let result = runtime.block_on(read_head(&mut reader, CAP));
        (result, bytes.len() - reader.len())
    }

    fn callback_line(method: &str, path: &str, params: &[(String, String)]) -> String {
        let mut query = url::form_urlencoded::Serializer::new(String::new());
        for (k, v) in params {
            query.append_pair(k, v);
        }
        format!("{method} {path}?{} HTTP/1.1", query.finish())
    }

    proptest! {
        #![proptest_config(config(DEFAULT_CASES))]

        /// Any bytes: a request line, nothing, or "too large"; never more read than the cap
        /// and one chunk; without a head's end, "too large" exactly when over the cap.
        #[test]
        fn any_bytes_give_a_line_nothing_or_too_large(
            bytes in prop_oneof![
                prop::collection::vec(any::<u8>(), 0..(3 * CAP)),
                "[ -~\r\n]{0,200}".prop_map(String::into_bytes),
            ],
        ) {
            let (result, consumed) = read(&bytes);
            prop_assert!(consumed <= CAP + 1024);
            let ends = bytes.windows(4).any(|w| w == b"\r\n\r\n");
            match result {
                Ok(Some(line)) => {
                    prop_assert!(ends);
                    prop_assert!(!line.contains("\r\n"));
                    prop_assert!(bytes.starts_with(line.as_bytes()));
                }
                Ok(None) => prop_assert!(ends || bytes.len() <= CAP),
                Err(TooLarge) => prop_assert!(bytes.len() > CAP),
            }
            if !ends {
                prop_assert_eq!(bytes.len() > CAP, matches!(read(&bytes).0, Err(TooLarge)));
            }
        }

        /// A browser's head under the cap gives its request line back.
        #[test]
        fn a_head_under_the_cap_gives_its_line(
            line in "[!-~]{1,10} [!-~]{1,200} HTTP/1\\.1",
            headers in prop::collection::vec("[A-Za-z-]{1,20}: [ -~]{0,60}", 0..10),
        ) {
            let head = format!("{line}\r\n{}\r\n", headers.iter().map(|h| format!("{h}\r\n")).collect::<String>());
            let (result, _) = read(head.as_bytes());
            prop_assert_eq!(result.ok().flatten(), Some(line));
        }

        /// Any request line is routed without a panic; only a GET of the callback path with
        /// this sign-in's state is its callback.
        #[test]
        fn only_the_matching_state_is_a_callback(line in prop_oneof![
            any::<String>(),
            "(GET|POST|HEAD) /[a-z?=&%0-9A-F]{0,40} HTTP/1\\.1",
        ]) {
            if let Route::Callback(params) = route(&line, PATH, STATE) {
                prop_assert_eq!(params.get("state").map(String::as_str), Some(STATE));
                prop_assert!(line.starts_with("GET /callback?"));
            }
        }

        /// A callback with any code (any characters, encoded as a browser would) and this
        /// state hands back exactly that code; with another state, path or method, it does
        /// not end the sign-in.
        #[test]
        fn a_callback_round_trips_and_others_do_not_end_the_sign_in(
            code in any::<String>(),
            extra in prop::collection::vec(("[a-z_]{1,12}", any::<String>()), 0..3),
            other_state in any::<String>(),
            other_path in "/[a-z]{0,12}",
            other_method in "[A-Z]{1,7}",
        ) {
            prop_assume!(!code.is_empty() && other_state != STATE);
            let mut params: Vec<(String, String)> = extra
                .into_iter()
                .filter(|(k, _)| k != "state" && k != "code" && k != "error")
                .collect();
            params.push(("code".to_owned(), code.clone()));
            let mut ours = params.clone();
            ours.push(("state".to_owned(), STATE.to_owned()));
            match route(&callback_line("GET", PATH, &ours), PATH, STATE) {
                Route::Callback(p) => {
                    let got = interpret(&p, STATE).expect("a code");
                    prop_assert_eq!(got.expose(), code.as_str());
                }
                other => prop_assert!(false, "not a callback: {:?}", other),
            }
            let mut theirs = params.clone();
            theirs.push(("state".to_owned(), other_state));
            prop_assert_eq!(route(&callback_line("GET", PATH, &theirs), PATH, STATE), Route::WrongState);
            prop_assert_eq!(route(&callback_line("GET", PATH, &params), PATH, STATE), Route::WrongState);
            if other_path != PATH {
                prop_assert_eq!(route(&callback_line("GET", &other_path, &ours), PATH, STATE), Route::NotFound);
            }
            if other_method != "GET" {
                prop_assert_eq!(route(&callback_line(&other_method, PATH, &ours), PATH, STATE), Route::MethodNotAllowed);
            }
        }
    }
}
