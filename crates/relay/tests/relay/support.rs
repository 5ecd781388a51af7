//! Shared helpers: a relay on 127.0.0.1 with a real mirror file in a temp dir, signed
//! posts, raw HTTP for what an HTTP client will not send, and mirror reads.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::time::Duration;

use fluxstore_mirror::{Mirror, Rejection, StoredEvent};
use fluxstore_relay::{
    Mode, Relay, RelayConfig, RelayHandle, SigningSecret, SigningSecrets, sign_header,
};
use serde_json::Value;

/// A throwaway secret for these tests only.
pub const SECRET: &str = "whsec_test_relaySuiteSecret0123456789abcdef";
pub const OTHER_SECRET: &str = "whsec_test_someOtherEndpointSecret987654";

/// A test-mode secret (the sample events are test-mode events).
pub fn secret(text: &str) -> SigningSecret {
    SigningSecret::new(text, Mode::Test).expect("valid test secret")
}

/// A live-mode secret.
pub fn live_secret(text: &str) -> SigningSecret {
    SigningSecret::new(text, Mode::Live).expect("valid live secret")
}

pub use fluxstore_test_support::now;

pub struct TestRelay {
    pub handle: Option<RelayHandle>,
    pub db: PathBuf,
    pub url: String,
    pub addr: SocketAddr,
    pub client: reqwest::Client,
    _dir: Option<tempfile::TempDir>,
}

impl TestRelay {
    pub async fn start() -> TestRelay {
        TestRelay::start_with(|_| {}).await
    }

    pub async fn start_with(tweak: impl FnOnce(&mut RelayConfig)) -> TestRelay {
        let dir = tempfile::tempdir().expect("temp dir");
        let db = dir.path().join("mirror.sqlite3");
        let mut relay = TestRelay::start_at(&db, tweak).await;
        relay._dir = Some(dir);
        relay
    }

    pub async fn start_at(db: &Path, tweak: impl FnOnce(&mut RelayConfig)) -> TestRelay {
        let mut config = RelayConfig {
            listen: "127.0.0.1:0".parse().expect("addr"),
            secrets: SigningSecrets::from(secret(SECRET)),
            ..RelayConfig::default()
        };
        tweak(&mut config);
        let handle = Relay::start(config, db).await.expect("relay starts");
        let url = handle.webhook_url();
        let addr = handle.local_addr();
        TestRelay {
            handle: Some(handle),
            db: db.to_path_buf(),
            url,
            addr,
            client: reqwest::Client::builder()
                .timeout(Duration::from_secs(30))
                .build()
                .expect("client"),
            _dir: None,
        }
    }

    pub fn handle(&self) -> &RelayHandle {
        self.handle.as_ref().expect("running")
    }

    pub async fn shutdown(&mut self) {
        if let Some(h) = self.handle.take() {
            tokio::time::timeout(Duration::from_secs(30), h.shutdown())
                .await
                .expect("shutdown finishes");
        }
    }

    /// POST `body` with a `Stripe-Signature` header made from `secret` at time `t`.
    pub async fn post_signed(&self, body: &[u8], secret_text: &str, t: i64) -> (u16, Value) {
        let header = sign_header(body, &secret(secret_text), t);
        self.post(body.to_vec(), Some(&header)).await
    }

    pub async fn post(&self, body: Vec<u8>, header: Option<&str>) -> (u16, Value) {
        let mut req = self
            .client
            .post(&self.url)
            .header("content-type", "application/json; charset=utf-8")
            .body(body);
        if let Some(h) = header {
            req = req.header("Stripe-Signature", h);
        }
        let resp = req.send().await.expect("relay answers");
        let status = resp.status().as_u16();
        let text = resp.text().await.expect("body");
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    pub fn reader(&self) -> Mirror {
        Mirror::open_read_only(&self.db).expect("mirror opens read-only")
    }

    pub fn events(&self) -> Vec<StoredEvent> {
        self.reader().events(None, 100_000).expect("events")
    }

    pub fn rejections(&self) -> Vec<Rejection> {
        self.reader().rejections(100_000).expect("rejections")
    }

    /// Refusals stored so far (the sum of the aggregates' counts).
    pub fn refusals_stored(&self) -> u64 {
        self.rejections().iter().map(|r| r.count).sum()
    }

    /// The aggregates once at least `total` refusals are stored: refusals are counted in
    /// memory and written with the next batch, or on their own shortly after.
    pub async fn rejections_once(&self, total: u64) -> Vec<Rejection> {
        fluxstore_test_support::eventually(
            "the refusals are written",
            fluxstore_test_support::GUARD,
            || self.refusals_stored() >= total,
        )
        .await;
        self.rejections()
    }
}

/// A fixed instant the sample events are built around, so the same `n` always yields the
/// same bytes (event ids derive from it); the signature timestamp is separate and current.
pub const BASE: i64 = 1_790_000_000;

/// A realistic event body of `event_type`, the same for the same `n`, unique per `n`.
pub fn event_body(event_type: &str, n: i64) -> Vec<u8> {
    let mut v =
        fluxstore_samples::test_event(event_type, false, BASE - n).expect("known sample type");
    pad(&mut v, 0);
    serde_json::to_vec(&v).expect("json")
}

/// The same as [`event_body`] with `livemode: true` (a distinct id per `n` from the test ones).
pub fn live_event_body(event_type: &str, n: i64) -> Vec<u8> {
    let v = fluxstore_samples::test_event(event_type, true, BASE - 500_000 - n)
        .expect("known sample type");
    serde_json::to_vec(&v).expect("json")
}

pub fn pad(v: &mut Value, bytes: usize) {
    if bytes > 0 {
        fluxstore_samples::pad_to(v, bytes);
    }
}

pub fn event_id(body: &[u8]) -> String {
    let v: Value = serde_json::from_slice(body).expect("json");
    v["id"].as_str().expect("id").to_string()
}

/// Send raw bytes (one request, `Connection: close`) and read the whole answer.
pub fn raw_http(addr: SocketAddr, request: &[u8]) -> (u16, Value) {
    let mut stream = TcpStream::connect(addr).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .expect("timeout");
    stream.write_all(request).expect("write");
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer);
    parse_response(&answer)
}

pub fn parse_response(answer: &[u8]) -> (u16, Value) {
    let text = String::from_utf8_lossy(answer);
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let body = text.split("\r\n\r\n").nth(1).unwrap_or("");
    // Tolerate a chunked body: take the JSON object inside.
    let json = match (body.find('{'), body.rfind('}')) {
        (Some(a), Some(b)) if b > a => serde_json::from_str(&body[a..=b]).unwrap_or(Value::Null),
        _ => Value::Null,
    };
    (status, json)
}

pub fn error_code(v: &Value) -> &str {
    v["error"]["code"].as_str().unwrap_or("<none>")
}
