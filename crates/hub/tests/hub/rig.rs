//! What the hub's suites share: a hub on a real socket over either store, signed
//! deliveries, a Server-Sent Events reader, a private PostgreSQL database per test, Connect
//! tokens from the Connect fake, and a TCP proxy that cuts the database away.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use fluxstore_hub::{Hub, HubConfig, HubHandle, PgStore, PlatformSecrets, SqliteStore, Store};
use fluxstore_relay::{Mode, SigningSecret, sign_header};
use fluxstore_test_support::connect_fake::ConnectFake;
use serde_json::{Value, json};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;
use url::Url;

pub const TEST_SECRET: &str = "whsec_hubtestplatformsecret000000000001";
pub const TEST_SECRET_NEXT: &str = "whsec_hubtestplatformsecret000000000002";
pub const LIVE_SECRET: &str = "whsec_hublivplatformsecret000000000001";

/// The secret file's text: two test secrets (a roll in progress) and one live secret.
pub fn secret_file_text() -> String {
    format!(
        "# the platform's Connect endpoints\ntest {TEST_SECRET}\ntest {TEST_SECRET_NEXT}\nlive {LIVE_SECRET}\n"
    )
}

pub fn secrets() -> PlatformSecrets {
    PlatformSecrets::parse(&secret_file_text()).unwrap()
}

/// A configuration on 127.0.0.1:0 with short timers for tests.
pub fn config(stripe_api_base: Option<&str>) -> HubConfig {
    let mut c = HubConfig::new(
        "127.0.0.1:0".parse().unwrap(),
        Url::parse("https://hub.example.test/prefix").unwrap(),
        secrets(),
    )
    .unwrap();
    if let Some(base) = stripe_api_base {
        c.set_stripe_api_base(Url::parse(base).unwrap()).unwrap();
    }
    c.heartbeat = Duration::from_millis(500);
    c.request_timeout = Duration::from_secs(10);
    c.shutdown_grace = Duration::from_secs(2);
    c
}

pub async fn sqlite_hub(dir: &Path, config: HubConfig) -> (HubHandle, SqliteStore) {
    let store = SqliteStore::open(&dir.join("hub.db")).unwrap();
    let hub = Hub::start(config, store.clone()).await.unwrap();
    (hub, store)
}

pub async fn start<S: Store + Clone>(config: HubConfig, store: &S) -> HubHandle {
    Hub::start(config, store.clone()).await.unwrap()
}

pub fn now() -> i64 {
    fluxstore_relay::signature::unix_now()
}

/// An event as Stripe sends it to a Connect endpoint (`account` set) or to an account's own.
pub fn event(id: &str, kind: &str, account: Option<&str>, livemode: bool) -> Value {
    let mut e = json!({
        "id": id,
        "object": "event",
        "api_version": "2025-03-31.basil",
        "created": now(),
        "livemode": livemode,
        "type": kind,
        "pending_webhooks": 1,
        "request": { "id": null, "idempotency_key": null },
        "data": { "object": { "id": "cs_test_1", "object": "checkout.session", "customer_email": "owner@example.com" } },
    });
    if let Some(a) = account {
        e["account"] = json!(a);
    }
    e
}

pub fn new_event_id() -> String {
    format!("evt_1{}", hex_id(12))
}

pub fn hex_id(bytes: usize) -> String {
    (0..bytes)
        .map(|_| format!("{:02x}", rand::random::<u8>()))
        .collect()
}

/// POST `body` to the platform endpoint signed with `secret` at `timestamp`.
pub async fn post_signed(hub: &str, body: &[u8], secret: &str, timestamp: i64) -> (u16, Value) {
    // The HMAC depends on the secret's text only; its mode matters to the verifier alone.
    let header = sign_header(
        body,
        &SigningSecret::new(secret, Mode::Test).unwrap(),
        timestamp,
    );
    post(
        &format!("{hub}/api/webhooks/stripe"),
        body,
        Some(("stripe-signature", header)),
    )
    .await
}

pub async fn post(url: &str, body: &[u8], header: Option<(&str, String)>) -> (u16, Value) {
    let mut req = reqwest::Client::new()
        .post(url)
        .header("content-type", "application/json")
        .body(body.to_vec());
    if let Some((name, value)) = header {
        req = req.header(name, value);
    }
    let resp = req.send().await.unwrap();
    let status = resp.status().as_u16();
    let body = resp.json::<Value>().await.unwrap_or(Value::Null);
    (status, body)
}

/// `POST /v1/stores`.
pub async fn register(hub: &str) -> Value {
    let (status, body) = post(&format!("{hub}/v1/stores"), b"", None).await;
    assert_eq!(status, 200, "{body}");
    body
}

/// One Server-Sent Event.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SseEvent {
    pub id: Option<String>,
    pub event: Option<String>,
    pub data: String,
}

impl SseEvent {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.data).unwrap()
    }
}

/// A feed held open, read event by event.
pub struct Feed {
    resp: reqwest::Response,
    buf: String,
    pub heartbeats: usize,
}

/// Open `GET /v1/feed`; the status when it is not 200.
pub async fn open_feed(
    hub: &str,
    token: &str,
    last_event_id: Option<&str>,
) -> Result<Feed, (u16, Value)> {
    let mut req = reqwest::Client::new()
        .get(format!("{hub}/v1/feed"))
        .bearer_auth(token);
    if let Some(id) = last_event_id {
        req = req.header("last-event-id", id);
    }
    let resp = req.send().await.unwrap();
    if resp.status() != 200 {
        let status = resp.status().as_u16();
        return Err((status, resp.json().await.unwrap_or(Value::Null)));
    }
    assert_eq!(
        resp.headers()["content-type"].to_str().unwrap(),
        "text/event-stream"
    );
    Ok(Feed {
        resp,
        buf: String::new(),
        heartbeats: 0,
    })
}

pub enum Next {
    Event(SseEvent),
    /// Nothing within the time given.
    Quiet,
    /// The hub ended the stream.
    Ended,
}

impl Feed {
    /// The next event (heartbeat comments are counted, not returned).
    pub async fn next(&mut self, within: Duration) -> Next {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            if let Some(end) = self.buf.find("\n\n") {
                let block: String = self.buf.drain(..end + 2).collect();
                let mut ev = SseEvent::default();
                let mut any = false;
                for line in block.lines().filter(|l| !l.is_empty()) {
                    if line.starts_with(':') {
                        self.heartbeats += 1;
                        continue;
                    }
                    let (field, value) = line.split_once(':').unwrap_or((line, ""));
                    let value = value.strip_prefix(' ').unwrap_or(value);
                    any = true;
                    match field {
                        "id" => ev.id = Some(value.to_owned()),
                        "event" => ev.event = Some(value.to_owned()),
                        "data" => {
                            if !ev.data.is_empty() {
                                ev.data.push('\n');
                            }
                            ev.data.push_str(value);
                        }
                        _ => {}
                    }
                }
                if any {
                    return Next::Event(ev);
                }
                continue;
            }
            match tokio::time::timeout_at(deadline, self.resp.chunk()).await {
                Err(_) => return Next::Quiet,
                Ok(Ok(Some(bytes))) => self.buf.push_str(&String::from_utf8_lossy(&bytes)),
                Ok(Ok(None)) | Ok(Err(_)) => return Next::Ended,
            }
        }
    }

    /// The next event, failing the test when none comes within 10 s.
    pub async fn expect(&mut self) -> SseEvent {
        match self.next(Duration::from_secs(10)).await {
            Next::Event(e) => e,
            Next::Quiet => panic!("no event within 10 s"),
            Next::Ended => panic!("the feed ended"),
        }
    }

    /// Assert that no event comes within `within`.
    pub async fn expect_quiet(&mut self, within: Duration) {
        match self.next(within).await {
            Next::Quiet => {}
            Next::Event(e) => panic!("unexpected event {e:?}"),
            Next::Ended => panic!("the feed ended"),
        }
    }
}

/// A Connect access token for the fake's account, the way a platform gets one: the owner
/// approves at the authorize page, the platform redeems the code with its key.
pub async fn connect_token(fake: &ConnectFake, live: bool) -> String {
    let cfg = fake.config();
    let browser = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let resp = browser
        .get(format!("{}/oauth/authorize", fake.base_url()))
        .query(&[
            ("response_type", "code"),
            ("client_id", cfg.client_id.as_str()),
            ("scope", "read_write"),
            ("redirect_uri", "http://127.0.0.1:9/callback"),
            ("state", "s"),
        ])
        .send()
        .await
        .unwrap();
    let location = Url::parse(resp.headers()["location"].to_str().unwrap()).unwrap();
    let code = location
        .query_pairs()
        .find(|(k, _)| k == "code")
        .unwrap()
        .1
        .into_owned();
    let key = if live {
        &cfg.live_platform_key
    } else {
        &cfg.platform_key
    };
    let token: Value = browser
        .post(format!("{}/oauth/token", fake.base_url()))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("client_secret", key.as_str()),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    token["access_token"].as_str().unwrap().to_owned()
}

/// The PostgreSQL server of this test run (`scripts/with-postgres.sh` sets it). `None`
/// skips a PostgreSQL test, unless `FLUXSTORE_REQUIRE_POSTGRES=1`: then its absence fails.
pub fn postgres_server() -> Option<Url> {
    match std::env::var("FLUXSTORE_TEST_DATABASE_URL") {
        Ok(url) if !url.trim().is_empty() => Some(Url::parse(url.trim()).unwrap()),
        _ => {
            assert!(
                std::env::var("FLUXSTORE_REQUIRE_POSTGRES").as_deref() != Ok("1"),
                "FLUXSTORE_REQUIRE_POSTGRES=1 but FLUXSTORE_TEST_DATABASE_URL is not set: run the tests under scripts/with-postgres.sh"
            );
            eprintln!("skipped: no PostgreSQL (run under scripts/with-postgres.sh)");
            None
        }
    }
}

/// A fresh database on the test run's server; its URL.
pub async fn postgres_database(server: &Url) -> Url {
    let config: tokio_postgres::Config = server.as_str().parse().unwrap();
    let (client, conn) = config.connect(tokio_postgres::NoTls).await.unwrap();
    let driver = tokio::spawn(conn);
    let name = format!("hub_{}", hex_id(8));
    client
        .batch_execute(&format!("CREATE DATABASE {name}"))
        .await
        .unwrap();
    drop(client);
    let _ = driver.await;
    let mut url = server.clone();
    url.set_path(&format!("/{name}"));
    url
}

pub async fn pg_store(url: &Url) -> PgStore {
    match fluxstore_hub::DatabaseUrl::parse(url.as_str()).unwrap() {
        fluxstore_hub::DatabaseUrl::Postgres(c) => PgStore::connect(&c).await.unwrap(),
        fluxstore_hub::DatabaseUrl::Sqlite(_) => unreachable!("a postgres:// URL"),
    }
}

/// A TCP proxy in front of a server: `cut` closes every connection and refuses new ones (to
/// the client, the server is gone), `restore` lets them through again.
pub struct Proxy {
    pub addr: SocketAddr,
    open: Arc<Mutex<bool>>,
    live: Arc<Mutex<Vec<JoinHandle<()>>>>,
    accept: JoinHandle<()>,
}

impl Proxy {
    pub async fn start(target: SocketAddr) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let open = Arc::new(Mutex::new(true));
        let live: Arc<Mutex<Vec<JoinHandle<()>>>> = Arc::default();
        let (o, l) = (open.clone(), live.clone());
        let accept = tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                if !*o.lock().unwrap() {
                    drop(inbound);
                    continue;
                }
                let task = tokio::spawn(async move {
                    if let Ok(mut outbound) = TcpStream::connect(target).await {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                    }
                });
                l.lock().unwrap().push(task);
            }
        });
        Proxy {
            addr,
            open,
            live,
            accept,
        }
    }

    pub fn cut(&self) {
        *self.open.lock().unwrap() = false;
        for task in self.live.lock().unwrap().drain(..) {
            task.abort();
        }
    }

    pub fn restore(&self) {
        *self.open.lock().unwrap() = true;
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.accept.abort();
        self.cut();
    }
}

/// `url` with its host and port replaced by `addr`.
pub fn via(url: &Url, addr: SocketAddr) -> Url {
    let mut u = url.clone();
    u.set_host(Some(&addr.ip().to_string())).unwrap();
    u.set_port(Some(addr.port())).unwrap();
    u
}

pub fn server_addr(url: &Url) -> SocketAddr {
    let host = url.host_str().unwrap();
    format!("{host}:{}", url.port().unwrap_or(5432))
        .parse()
        .unwrap()
}

pub fn data_dir() -> tempfile::TempDir {
    tempfile::tempdir().unwrap()
}
