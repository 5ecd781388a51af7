//! The hub's live feed end to end, shared by the tests and the benchmark: the real
//! `fluxstore-hub` on a real socket (embedded SQLite, or PostgreSQL when the test run has
//! one), one Stripe with many accounts (a Stripe fake per account behind
//! [`StripeAccounts`], the hub checking Connect tokens there), and desktops: a real mirror
//! file and the real OS keyring per store, following the hub through the gateway's feed.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use fluxstore_gateway::oauth::ConnectTokens;
use fluxstore_gateway::profile::{
    Feed, FeedObserver, FeedOptions, HubFeedState, HubFeedStatus, Profile, ProfileConfig,
};
use fluxstore_gateway::{AppliedEvent, Secret, SecretStore};
use fluxstore_hub::{Hub, HubConfig, HubHandle, PgStore, PlatformSecrets, SqliteStore};
use fluxstore_mirror::{Mirror, Mode};
use fluxstore_relay::{SigningSecret, sign_header};
use fluxstore_test_support::stripe_fake::accounts::StripeAccounts;
use fluxstore_test_support::stripe_fake::{
    AccountSpec, FakeKey, PaymentSpec, SeededPayment, StripeFake, StripeFakeConfig,
};
use serde_json::{Value, json};
use url::Url;

pub const PLATFORM_SECRET: &str = "whsec_hubfeedplatformsecret0000000000001";

pub fn rand_hex(bytes: usize) -> String {
    (0..bytes)
        .map(|_| format!("{:02x}", rand::random::<u8>()))
        .collect()
}

/// Where the hub keeps its doorbells.
#[derive(Clone)]
pub enum HubDb {
    Sqlite(std::path::PathBuf),
    Postgres(Url),
}

/// A hub on `listen` (port 0 for any) checking tokens at `stripe`.
pub async fn start_hub(db: &HubDb, listen: SocketAddr, stripe: &str) -> HubHandle {
    let secrets = PlatformSecrets::parse(&format!("test {PLATFORM_SECRET}\n")).unwrap();
    let mut config =
        HubConfig::new(listen, Url::parse("http://127.0.0.1:1").unwrap(), secrets).unwrap();
    config
        .set_stripe_api_base(Url::parse(stripe).unwrap())
        .unwrap();
    config.heartbeat = Duration::from_millis(500);
    config.shutdown_grace = Duration::from_secs(1);
    config.max_connections = 4_096;
    match db {
        HubDb::Sqlite(path) => Hub::start(config, SqliteStore::open(path).unwrap())
            .await
            .unwrap(),
        HubDb::Postgres(url) => {
            let store = match fluxstore_hub::DatabaseUrl::parse(url.as_str()).unwrap() {
                fluxstore_hub::DatabaseUrl::Postgres(c) => PgStore::connect(&c).await.unwrap(),
                fluxstore_hub::DatabaseUrl::Sqlite(_) => unreachable!("a postgres:// URL"),
            };
            Hub::start(config, store).await.unwrap()
        }
    }
}

/// A fresh database on the test run's PostgreSQL server, when there is one.
pub async fn postgres_database() -> Option<Url> {
    let server = std::env::var("FLUXSTORE_TEST_DATABASE_URL")
        .ok()
        .filter(|s| !s.trim().is_empty())?;
    let server = Url::parse(server.trim()).unwrap();
    let config: tokio_postgres::Config = server.as_str().parse().unwrap();
    let (client, conn) = config.connect(tokio_postgres::NoTls).await.unwrap();
    let driver = tokio::spawn(conn);
    let name = format!("feed_{}", rand_hex(8));
    client
        .batch_execute(&format!("CREATE DATABASE {name}"))
        .await
        .unwrap();
    drop(client);
    let _ = driver.await;
    let mut url = server;
    url.set_path(&format!("/{name}"));
    Some(url)
}

/// POST `event` to the hub's platform endpoint, signed with the platform's test secret.
pub async fn post_signed(http: &reqwest::Client, hub: &str, event: &Value) -> u16 {
    let body = serde_json::to_vec(event).unwrap();
    let secret = SigningSecret::new(PLATFORM_SECRET, Mode::Test).unwrap();
    let header = sign_header(&body, &secret, fluxstore_test_support::now());
    http.post(format!("{hub}/api/webhooks/stripe"))
        .header("content-type", "application/json")
        .header("stripe-signature", header)
        .body(body)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

/// What a desktop's feed reported.
#[derive(Default)]
pub struct Seen {
    pub applied: Mutex<Vec<(String, Instant)>>,
    pub hub: Mutex<Vec<HubFeedStatus>>,
    pub syncs: Mutex<usize>,
}

pub struct Watch(pub Arc<Seen>);

impl FeedObserver for Watch {
    fn applied(&self, e: &AppliedEvent) {
        self.0
            .applied
            .lock()
            .unwrap()
            .push((e.event_id.clone(), Instant::now()));
    }
    fn hub_feed(&self, s: &HubFeedStatus) {
        self.0.hub.lock().unwrap().push(s.clone());
    }
    fn finished(
        &self,
        _mode: Mode,
        _outcome: Result<&fluxstore_gateway::SyncReport, &fluxstore_gateway::ProfileError>,
    ) {
        *self.0.syncs.lock().unwrap() += 1;
    }
}

/// One store: its Stripe account (a fake), its desktop (mirror, keyring, feed).
pub struct Desktop {
    pub dir: tempfile::TempDir,
    pub fake: StripeFake,
    pub account: String,
    pub token: String,
    pub profile: Arc<Profile>,
    pub seen: Arc<Seen>,
    pub feed: Option<Feed>,
}

pub fn keyring(tag: &str) -> SecretStore {
    let s = SecretStore::with_service(&format!(
        "FluxStore Desktop hub feed tests {} {tag}",
        std::process::id()
    ))
    .unwrap();
    if let Err(e) = s.probe() {
        panic!(
            "no usable Secret Service ({e}); run these tests inside scripts/with-secret-service.sh"
        );
    }
    s
}

impl Desktop {
    /// A store connected in test mode through Connect, its token known to `stripe`.
    pub async fn connect(stripe: &StripeAccounts, hub: &str, keyring: SecretStore) -> Desktop {
        let tag = rand_hex(6);
        let account = format!("acct_1Feed{tag}");
        let token = format!("sk_test_feedtoken{tag}{}", rand_hex(8));
        let fake = StripeFake::start(StripeFakeConfig {
            keys: vec![FakeKey::secret(&token)],
            account: AccountSpec {
                id: account.clone(),
                ..AccountSpec::default()
            },
            ..StripeFakeConfig::default()
        })
        .await
        .unwrap();
        stripe.add(&token, &fake.base_url());
        let dir = tempfile::tempdir().unwrap();
        let mirror = Mirror::open(&dir.path().join("mirror.db")).unwrap();
        let config = ProfileConfig {
            api_base: Some(fake.base_url()),
            hub: Some(Url::parse(hub).unwrap()),
            ..ProfileConfig::new(&format!("hub-feed-{tag}"))
        };
        let profile =
            Arc::new(Profile::open(config, Some(keyring), Arc::new(Mutex::new(mirror))).unwrap());
        let tokens = ConnectTokens {
            access_token: Secret::new(&token),
            refresh_token: None,
            token_type: "bearer".into(),
            stripe_publishable_key: "pk_test_connected".into(),
            stripe_user_id: account.clone(),
            scope: "read_write".into(),
            livemode: false,
        };
        profile
            .keep_connection(Mode::Test, &Url::parse(hub).unwrap(), tokens)
            .await
            .unwrap();
        Desktop {
            dir,
            fake,
            account,
            token,
            profile,
            seen: Arc::default(),
            feed: None,
        }
    }

    /// Start following (test mode; the poll far off, so what arrives came through the hub).
    pub fn follow(&mut self) {
        let options = FeedOptions {
            poll: Duration::from_secs(3_600),
            follow_hub: true,
            modes: vec![Mode::Test],
        };
        self.feed = Some(Feed::start_with(
            self.profile.clone(),
            Arc::new(Watch(self.seen.clone())),
            options,
        ));
    }

    pub fn state(&self) -> Option<HubFeedState> {
        self.feed
            .as_ref()
            .and_then(|f| f.hub_status().first().map(|s| s.state))
    }

    /// Wait until the feed is live and the first events sync is done (so what arrives
    /// afterwards came through the hub).
    pub async fn until_live(&self) {
        let synced = fluxstore_test_support::wait_until(Duration::from_secs(20), || {
            *self.seen.syncs.lock().unwrap() > 0
        })
        .await;
        assert!(synced, "the first events sync did not finish");
        let ok = fluxstore_test_support::wait_until(Duration::from_secs(20), || {
            self.state() == Some(HubFeedState::Live)
        })
        .await;
        let status = self.feed.as_ref().map(|f| f.hub_status());
        assert!(ok, "the feed did not become live: {status:?}");
    }

    /// A paid order at this store's Stripe; its events as a Connect endpoint receives them.
    pub fn pay(&self, amount: i64) -> (SeededPayment, Vec<Value>) {
        let p = self.fake.seed_payment(&PaymentSpec {
            amount,
            currency: "usd".into(),
            email: "buyer@example.com".into(),
            livemode: false,
            created: fluxstore_test_support::now(),
        });
        let events = p
            .events
            .iter()
            .map(|e| {
                let mut e = e.clone();
                e["account"] = json!(self.account);
                e
            })
            .collect();
        (p, events)
    }

    /// Ids of the events in the mirror, with their source.
    pub fn stored(&self) -> Vec<(String, fluxstore_mirror::Source)> {
        let m = self.profile.mirror().lock().unwrap();
        m.events(None, 10_000)
            .unwrap()
            .into_iter()
            .map(|e| (e.id, e.source))
            .collect()
    }

    pub fn has(&self, id: &str) -> bool {
        self.stored().iter().any(|(e, _)| e == id)
    }

    /// How often this store's Stripe was asked for `id`.
    pub fn fetches_of(&self, id: &str) -> usize {
        let path = format!("/v1/events/{id}");
        self.fake
            .requests()
            .iter()
            .filter(|r| r.path == path)
            .count()
    }

    pub async fn stop(&mut self) {
        if let Some(f) = self.feed.take() {
            f.stop().await;
        }
    }

    pub async fn forget(&mut self) {
        self.stop().await;
        let _ = self
            .profile
            .disconnect(Mode::Test, Duration::from_millis(200))
            .await;
    }

    pub fn data_dir(&self) -> &Path {
        self.dir.path()
    }
}

impl Desktop {
    /// A store connected in test mode with its own secret key (key mode), following `hub`
    /// once live updates through the hub are turned on.
    pub async fn with_key(hub: &str, keyring: SecretStore) -> Desktop {
        let tag = rand_hex(6);
        let account = format!("acct_1Keys{tag}");
        let key = format!("sk_test_keyhub{tag}{}", rand_hex(8));
        let fake = StripeFake::start(StripeFakeConfig {
            keys: vec![FakeKey::secret(&key)],
            account: AccountSpec {
                id: account.clone(),
                ..AccountSpec::default()
            },
            ..StripeFakeConfig::default()
        })
        .await
        .unwrap();
        let dir = tempfile::tempdir().unwrap();
        let mirror = Mirror::open(&dir.path().join("mirror.db")).unwrap();
        let config = ProfileConfig {
            api_base: Some(fake.base_url()),
            hub: Some(Url::parse(hub).unwrap()),
            ..ProfileConfig::new(&format!("key-hub-{tag}"))
        };
        let profile =
            Arc::new(Profile::open(config, Some(keyring), Arc::new(Mutex::new(mirror))).unwrap());
        let keys = fluxstore_gateway::ManualKeys::parse(None, &key, None).unwrap();
        profile.save_keys(keys).await.unwrap();
        Desktop {
            dir,
            fake,
            account,
            token: key,
            profile,
            seen: Arc::default(),
            feed: None,
        }
    }

    /// A paid order at this store's Stripe; its events as the owner's own endpoint gets them.
    pub fn pay_by_key(&self, amount: i64) -> (SeededPayment, Vec<Value>) {
        let p = self.fake.seed_payment(&PaymentSpec {
            amount,
            currency: "usd".into(),
            email: "buyer@example.com".into(),
            livemode: false,
            created: fluxstore_test_support::now(),
        });
        let events = p.events.clone();
        (p, events)
    }
}

/// POST `event` unsigned to a key-mode store's endpoint at the hub (`path`: the endpoint's
/// path, as registered in Stripe).
pub async fn post_to_store(http: &reqwest::Client, hub: &str, path: &str, event: &Value) -> u16 {
    http.post(format!("{hub}{path}"))
        .header("content-type", "application/json")
        .body(serde_json::to_vec(event).unwrap())
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}
