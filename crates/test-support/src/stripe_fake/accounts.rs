//! One Stripe with many accounts: a front on 127.0.0.1 that passes each request to the fake
//! of the account whose key or Connect access token it carries, as Stripe's single API host
//! serves every account by its credential. A key no account has goes to the first fake,
//! which answers Stripe's 401.
//!
//! It adds nothing to what the fakes answer: status, body and Stripe's headers pass through
//! unchanged (the hub checks a Connect token with `GET /v1/account` here, and a desktop's
//! own fake answers the same for that token).

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};

/// Request headers a Stripe client sends that the fakes read.
const PASSED_IN: [&str; 5] = [
    "authorization",
    "stripe-version",
    "idempotency-key",
    "stripe-account",
    "content-type",
];
/// Response headers Stripe sends that clients read.
const PASSED_OUT: [&str; 4] = [
    "content-type",
    "request-id",
    "stripe-should-retry",
    "idempotent-replayed",
];

#[derive(Default)]
struct Routes {
    by_key: HashMap<String, String>,
    first: Option<String>,
}

/// The running front. Dropping it stops the server.
pub struct StripeAccounts {
    addr: SocketAddr,
    routes: Arc<Mutex<Routes>>,
    task: tokio::task::JoinHandle<()>,
}

fn presented_key(headers: &HeaderMap) -> Option<String> {
    let value = headers.get("authorization")?.to_str().ok()?;
    let (scheme, key) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| key.trim().to_owned())
}

impl StripeAccounts {
    pub async fn start() -> std::io::Result<StripeAccounts> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let routes: Arc<Mutex<Routes>> = Arc::default();
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(std::io::Error::other)?;
        let for_router = routes.clone();
        let router = axum::Router::new().fallback(
            move |method: Method, uri: Uri, headers: HeaderMap, body: Bytes| {
                let routes = for_router.clone();
                let http = http.clone();
                async move {
                    let base = {
                        let r = routes.lock().unwrap_or_else(|p| p.into_inner());
                        presented_key(&headers)
                            .and_then(|k| r.by_key.get(&k).cloned())
                            .or_else(|| r.first.clone())
                    };
                    let Some(base) = base else {
                        return StatusCode::SERVICE_UNAVAILABLE.into_response();
                    };
                    forward(&http, &base, method, &uri, &headers, body).await
                }
            },
        );
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, router).await;
        });
        Ok(StripeAccounts { addr, routes, task })
    }

    /// `http://127.0.0.1:PORT` (no trailing slash).
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Requests carrying `key` go to the fake at `fake_base`.
    pub fn add(&self, key: &str, fake_base: &str) {
        let mut r = self.routes.lock().unwrap_or_else(|p| p.into_inner());
        r.by_key.insert(key.to_owned(), fake_base.to_owned());
        r.first.get_or_insert_with(|| fake_base.to_owned());
    }
}

impl Drop for StripeAccounts {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn forward(
    http: &reqwest::Client,
    base: &str,
    method: Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: Bytes,
) -> Response {
    let path_and_query = uri.path_and_query().map_or("/", |p| p.as_str());
    let mut req = http.request(method, format!("{base}{path_and_query}"));
    for name in PASSED_IN {
        if let Some(v) = headers.get(name) {
            req = req.header(name, v.clone());
        }
    }
    let answer = match req.body(body).send().await {
        Ok(a) => a,
        Err(_) => return StatusCode::BAD_GATEWAY.into_response(),
    };
    let status = answer.status();
    let mut out = HeaderMap::new();
    for name in PASSED_OUT {
        if let Some(v) = answer.headers().get(name)
            && let Ok(v) = HeaderValue::from_bytes(v.as_bytes())
        {
            out.insert(name, v);
        }
    }
    let bytes = answer.bytes().await.unwrap_or_default();
    (status, out, bytes).into_response()
}
