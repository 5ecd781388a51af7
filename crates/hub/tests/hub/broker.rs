//! The Connect broker in the hub, over real sockets: two replicas sharing one state key and
//! one database (PostgreSQL; the embedded store with two servers over one file), the Connect
//! fake as Stripe, and a browser with cookies as the owner's. Stripe is told to send owners
//! back to replica B (as a load balancer would), sign-ins start at A and codes are redeemed
//! at A, so nothing a replica keeps in memory can carry a sign-in.

use std::collections::HashMap;
use std::time::Duration;

use fluxstore_hub::broker::{Config, PlatformKeys, StateKey};
use fluxstore_hub::{Hub, HubHandle, SqliteStore, Store};
use fluxstore_test_support::connect_fake::{ConnectFake, ConnectFakeConfig};
use fluxstore_test_support::owner_browser::{LOOPBACK, browser_stopping_at_loopback, pkce};
use secrecy::SecretString;
use serde_json::Value;
use url::Url;

use crate::rig;

/// Two replicas of one platform: same state key, same store, callbacks routed to B.
pub struct Pair {
    pub fake: ConnectFake,
    pub a: HubHandle,
    pub b: HubHandle,
}

impl Pair {
    pub fn a(&self) -> Url {
        Url::parse(&self.a.url()).unwrap()
    }
    pub fn b(&self) -> Url {
        Url::parse(&self.b.url()).unwrap()
    }
}

fn broker_config(public: &Url, fake: &ConnectFake, key: &StateKey) -> Config {
    let keys = PlatformKeys::from_keys([
        SecretString::from(fake.config().platform_key.clone()),
        SecretString::from(fake.config().live_platform_key.clone()),
    ])
    .unwrap();
    let mut c = Config::with_platform_keys(public.clone(), &fake.config().client_id, keys).unwrap();
    c.stripe_connect_base = Url::parse(&fake.base_url()).unwrap();
    c.stripe_api_base = Url::parse(&fake.base_url()).unwrap();
    c.state_key = key.clone();
    c
}

/// Start A over `store_a` and B over `store_b` (two connections to one database, or one
/// embedded store twice), `tweak` applied to both brokers' configurations.
pub async fn start_pair<S: Store>(store_a: &S, store_b: &S, tweak: impl Fn(&mut Config)) -> Pair {
    let fake = ConnectFake::start(ConnectFakeConfig::default())
        .await
        .unwrap();
    let key = StateKey::generate();
    let (la, lb) = (
        tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap(),
        tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap(),
    );
    // The platform's one public address is B's: Stripe sends every owner back there.
    let public = Url::parse(&format!("http://{}", lb.local_addr().unwrap())).unwrap();
    let start = |listener, store: &S| {
        let mut hub = rig::config(Some(&fake.base_url()));
        let mut broker = broker_config(&public, &fake, &key);
        tweak(&mut broker);
        hub.public_url = public.clone();
        hub.broker = Some(broker);
        Hub::spawn(listener, hub, store.clone()).unwrap()
    };
    let a = start(la, store_a);
    let b = start(lb, store_b);
    Pair { fake, a, b }
}

fn authorize_url(at: &Url, challenge: &str, mode: &str) -> Url {
    let mut url = at.join("/oauth/authorize").unwrap();
    url.query_pairs_mut()
        .append_pair("response_type", "code")
        .append_pair("redirect_uri", LOOPBACK)
        .append_pair("state", "desktop-state-1")
        .append_pair("code_challenge", challenge)
        .append_pair("code_challenge_method", "S256")
        .append_pair("mode", mode);
    url
}

fn query(url: &Url) -> HashMap<String, String> {
    url.query_pairs().into_owned().collect()
}

/// The owner's browser from A's authorize page, through Stripe, to B's callback and on to
/// the loopback; the loopback URL it is sent to.
async fn sign_in(pair: &Pair, challenge: &str, mode: &str) -> Url {
    let resp = browser_stopping_at_loopback()
        .get(authorize_url(&pair.a(), challenge, mode))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 303, "sent back to the loopback");
    Url::parse(resp.headers()["location"].to_str().unwrap()).unwrap()
}

async fn redeem(at: &Url, code: &str, verifier: &str) -> (u16, Value) {
    let resp = reqwest::Client::new()
        .post(at.join("/oauth/token").unwrap())
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("code_verifier", verifier),
            ("redirect_uri", LOOPBACK),
        ])
        .send()
        .await
        .unwrap();
    (resp.status().as_u16(), resp.json().await.unwrap())
}

/// What the broker's single-instance tests show, across two replicas of `store`.
async fn the_broker_across_replicas<S: Store>(store_a: &S, store_b: &S) {
    let pair = start_pair(store_a, store_b, |_| {}).await;
    let (verifier, challenge) = pkce();

    // Authorize at A, callback at B, token at A; in the mode asked for.
    let back = sign_in(&pair, &challenge, "test").await;
    let q = query(&back);
    assert_eq!(q["state"], "desktop-state-1", "the desktop's own state");
    let code = q["code"].clone();
    let (status, grant) = redeem(&pair.a(), &code, &verifier).await;
    assert_eq!(status, 200, "{grant}");
    assert!(
        grant["access_token"]
            .as_str()
            .unwrap()
            .starts_with("sk_test_")
    );
    assert_eq!(grant["livemode"], false);
    // Once, on any replica.
    let (status, again) = redeem(&pair.b(), &code, &verifier).await;
    assert_eq!(
        (status, again["error"].as_str()),
        (400, Some("invalid_grant"))
    );

    // A wrong verifier at B burns the code for A too.
    let code = query(&sign_in(&pair, &challenge, "live").await)["code"].clone();
    let (status, _) = redeem(&pair.b(), &code, &"x".repeat(64)).await;
    assert_eq!(status, 400);
    let (status, burnt) = redeem(&pair.a(), &code, &verifier).await;
    assert_eq!(
        (status, burnt["error"].as_str()),
        (400, Some("invalid_grant"))
    );

    // A live sign-in is redeemed with the live key and hands out live tokens only.
    let code = query(&sign_in(&pair, &challenge, "live").await)["code"].clone();
    let (status, live) = redeem(&pair.a(), &code, &verifier).await;
    assert_eq!(status, 200, "{live}");
    assert_eq!(live["livemode"], true);

    // Revoke at B with the token Stripe issued.
    let token = live["access_token"].as_str().unwrap().to_owned();
    let account = live["stripe_user_id"].as_str().unwrap().to_owned();
    let resp = reqwest::Client::new()
        .post(pair.b().join("/oauth/revoke").unwrap())
        .bearer_auth(&token)
        .form(&[("stripe_user_id", account.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(pair.fake.deauthorized(), vec![account]);

    // Redirect targets: only the desktop's loopback /callback.
    for bad in [
        "http://127.0.0.1:4000/elsewhere",
        "http://localhost:4000/callback",
        "https://example.com/callback",
    ] {
        let mut url = pair.a().join("/oauth/authorize").unwrap();
        url.query_pairs_mut()
            .append_pair("redirect_uri", bad)
            .append_pair("state", "s")
            .append_pair("code_challenge", &challenge)
            .append_pair("code_challenge_method", "S256");
        let resp = browser_stopping_at_loopback()
            .get(url)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 400, "{bad}");
    }
    // No grant is left waiting: each was taken on redeem.
    pair.a.shutdown().await;
    pair.b.shutdown().await;
}

#[tokio::test]
async fn the_broker_across_two_replicas_on_the_embedded_store() {
    let dir = rig::data_dir();
    let store = SqliteStore::open(&dir.path().join("hub.db")).unwrap();
    the_broker_across_replicas(&store, &store).await;
}

#[tokio::test]
async fn the_broker_across_two_replicas_on_postgres() {
    let Some(server) = rig::postgres_server() else {
        return;
    };
    let url = rig::postgres_database(&server).await;
    let (store_a, store_b) = tokio::join!(rig::pg_store(&url), rig::pg_store(&url));
    the_broker_across_replicas(&store_a, &store_b).await;
}

/// Row counts of every table of the database at `url`.
async fn pg_row_counts(url: &Url) -> Vec<(String, i64)> {
    let config: tokio_postgres::Config = url.as_str().parse().unwrap();
    let (client, conn) = config.connect(tokio_postgres::NoTls).await.unwrap();
    let driver = tokio::spawn(conn);
    let tables: Vec<String> = client
        .query(
            "SELECT table_name::text FROM information_schema.tables
             WHERE table_schema = 'public' ORDER BY 1",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    let mut counts = Vec::new();
    for t in tables {
        let n: i64 = client
            .query_one(&format!("SELECT count(*) FROM \"{t}\""), &[])
            .await
            .unwrap()
            .get(0);
        counts.push((t, n));
    }
    drop(client);
    let _ = driver.await;
    counts
}

#[tokio::test]
async fn a_flood_of_anonymous_sign_ins_grows_no_table_and_a_real_one_goes_through() {
    let Some(server) = rig::postgres_server() else {
        return;
    };
    let url = rig::postgres_database(&server).await;
    let (store_a, store_b) = tokio::join!(rig::pg_store(&url), rig::pg_store(&url));
    let pair = start_pair(&store_a, &store_b, |_| {}).await;
    let before = pg_row_counts(&url).await;
    assert!(before.iter().any(|(t, _)| t == "broker_grants"));

    // 4,000 authorize requests, 32 at a time, at both replicas, abandoned at Stripe.
    let no_redirects = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let (_, challenge) = pkce();
    let mut flood = tokio::task::JoinSet::new();
    for worker in 0..32 {
        let (client, a, b, challenge) =
            (no_redirects.clone(), pair.a(), pair.b(), challenge.clone());
        flood.spawn(async move {
            let mut statuses = HashMap::<u16, usize>::new();
            for i in 0..125 {
                let at = if (worker + i) % 2 == 0 { &a } else { &b };
                let status = client
                    .get(authorize_url(at, &challenge, "test"))
                    .send()
                    .await
                    .unwrap()
                    .status()
                    .as_u16();
                *statuses.entry(status).or_default() += 1;
            }
            statuses
        });
    }
    // A real owner signs in while the flood runs.
    let (verifier, challenge) = pkce();
    let code = query(&sign_in(&pair, &challenge, "test").await)["code"].clone();
    let (status, grant) = redeem(&pair.a(), &code, &verifier).await;
    assert_eq!(status, 200, "{grant}");
    let mut total = HashMap::<u16, usize>::new();
    while let Some(statuses) = flood.join_next().await {
        for (s, n) in statuses.unwrap() {
            *total.entry(s).or_default() += n;
        }
    }
    assert_eq!(total, HashMap::from([(303, 4000)]), "every one answered");
    assert_eq!(
        pg_row_counts(&url).await,
        before,
        "no table grew (the real sign-in's grant was taken on redeem)"
    );
}

/// The state the broker sent Stripe for a sign-in started by `client` at A.
async fn state_sent_to_stripe(client: &reqwest::Client, pair: &Pair) -> Url {
    let resp = client
        .get(authorize_url(&pair.a(), &pkce().1, "test"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 303);
    Url::parse(resp.headers()["location"].to_str().unwrap()).unwrap()
}

fn no_redirects_with_cookies() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

async fn callback_at_b(client: &reqwest::Client, pair: &Pair, state: &str) -> (u16, String) {
    let mut url = pair.b().join("/oauth/callback").unwrap();
    url.query_pairs_mut()
        .append_pair("code", "ac_from_stripe")
        .append_pair("state", state);
    let resp = client.get(url).send().await.unwrap();
    let status = resp.status().as_u16();
    (status, resp.text().await.unwrap())
}

#[tokio::test]
async fn a_tampered_or_expired_state_is_refused_in_owner_words() {
    let dir = rig::data_dir();
    let store = SqliteStore::open(&dir.path().join("hub.db")).unwrap();
    let pair = start_pair(&store, &store, |_| {}).await;
    let browser = no_redirects_with_cookies();
    let at_stripe = state_sent_to_stripe(&browser, &pair).await;
    let state = query(&at_stripe)["state"].clone();
    // One character changed.
    let mut tampered: Vec<char> = state.chars().collect();
    let i = tampered.len() / 2;
    tampered[i] = if tampered[i] == 'A' { 'B' } else { 'A' };
    let tampered: String = tampered.into_iter().collect();
    let (status, page) = callback_at_b(&browser, &pair, &tampered).await;
    assert_eq!(status, 400);
    assert!(
        page.contains("no longer valid")
            && page.contains("changed on the way")
            && page.contains("Start the connection again"),
        "{page}"
    );
    // A state sealed by another platform's key.
    let other_store = SqliteStore::open(&dir.path().join("other.db")).unwrap();
    let other = start_pair(&other_store, &other_store, |_| {}).await;
    let foreign = query(&state_sent_to_stripe(&browser, &other).await)["state"].clone();
    let (status, page) = callback_at_b(&browser, &pair, &foreign).await;
    assert_eq!(status, 400);
    assert!(
        page.contains("not issued by this Connect service"),
        "{page}"
    );

    // A sign-in that outlived its time.
    let store = SqliteStore::open(&dir.path().join("hub2.db")).unwrap();
    let hasty = start_pair(&store, &store, |c| c.pending_ttl = Duration::ZERO).await;
    let state = query(&state_sent_to_stripe(&browser, &hasty).await)["state"].clone();
    let (status, page) = callback_at_b(&browser, &hasty, &state).await;
    assert_eq!(status, 400);
    assert!(
        page.contains("took longer than") && page.contains("Start the connection again"),
        "{page}"
    );
    assert_eq!(
        pair.fake.token_requests() + hasty.fake.token_requests(),
        0,
        "no refused callback reached Stripe"
    );
}

#[tokio::test]
async fn a_callback_from_another_browser_is_refused_and_the_owners_own_still_finishes() {
    let dir = rig::data_dir();
    let store = SqliteStore::open(&dir.path().join("hub.db")).unwrap();
    let pair = start_pair(&store, &store, |_| {}).await;
    let owner = no_redirects_with_cookies();
    let (verifier, challenge) = pkce();
    let resp = owner
        .get(authorize_url(&pair.a(), &challenge, "test"))
        .send()
        .await
        .unwrap();
    let binding = resp.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert!(
        binding.starts_with("fluxstore_signin_")
            && binding.contains("HttpOnly")
            && binding.contains("SameSite=Lax")
            && binding.contains("Path=/oauth"),
        "{binding}"
    );
    let at_stripe = resp.headers()["location"].to_str().unwrap().to_owned();
    // Stripe approves and sends the browser back to B's callback.
    let back_to_b = owner.get(&at_stripe).send().await.unwrap();
    let callback = back_to_b.headers()["location"].to_str().unwrap().to_owned();
    assert!(callback.contains("/oauth/callback?"), "{callback}");

    // Another browser (no cookie, or a cookie of its own sign-in) opens that link.
    let stranger = no_redirects_with_cookies();
    let _ = stranger
        .get(authorize_url(&pair.a(), &challenge, "test"))
        .send()
        .await
        .unwrap();
    for other in [reqwest::Client::new(), stranger] {
        let resp = other.get(&callback).send().await.unwrap();
        assert_eq!(resp.status(), 400);
        let page = resp.text().await.unwrap();
        assert!(page.contains("started in another browser"), "{page}");
    }
    assert_eq!(
        pair.fake.token_requests(),
        0,
        "Stripe's code was not redeemed"
    );

    // The owner's browser finishes it.
    let resp = owner.get(&callback).send().await.unwrap();
    assert_eq!(resp.status(), 303);
    let loopback = Url::parse(resp.headers()["location"].to_str().unwrap()).unwrap();
    let code = query(&loopback)["code"].clone();
    let (status, _) = redeem(&pair.a(), &code, &verifier).await;
    assert_eq!(status, 200);
    assert!(
        resp.headers()
            .get_all("set-cookie")
            .iter()
            .any(|c| c.to_str().unwrap().contains("Max-Age=0")),
        "the binding cookie is cleared once used"
    );
}

/// The `fluxstore-hub` binary with the contract's broker flags, on its embedded store: a
/// grant waits sealed in the file, and no token, code or key is in the SQLite file (its WAL
/// included) or the log, before or after the grant is redeemed.
#[tokio::test]
async fn the_binary_brokers_with_the_contract_flags_and_keeps_no_secret_in_its_file_or_log() {
    use std::process::{Command, Stdio};

    let fake = ConnectFake::start(ConnectFakeConfig::default())
        .await
        .unwrap();
    let dir = rig::data_dir();
    let file = |name: &str, text: &str| crate::binary::secret_file(dir.path(), name, text);
    let secrets = file("webhook-secrets", &rig::secret_file_text());
    let test_key = file("platform-test.key", &fake.config().platform_key);
    let live_key = file("platform-live.key", &fake.config().live_platform_key);
    let state_key_hex = rig::hex_id(32);
    let state_key = file("state.key", &format!("{state_key_hex}\n"));
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let public = format!("http://127.0.0.1:{port}");
    let mut child = Command::new(env!("CARGO_BIN_EXE_fluxstore-hub"))
        .current_dir(dir.path())
        .args([
            "--listen",
            &format!("127.0.0.1:{port}"),
            "--public-url",
            &public,
        ])
        .arg("--webhook-secret-file")
        .arg(&secrets)
        .args(["--stripe-api-base", &fake.base_url()])
        .args(["--stripe-connect-base", &fake.base_url()])
        .args(["--client-id", &fake.config().client_id])
        .arg("--platform-key-file")
        .arg(&test_key)
        .arg("--platform-key-file")
        .arg(&live_key)
        .arg("--state-key-file")
        .arg(&state_key)
        .env_remove("FLUXSTORE_HUB_DATABASE_URL")
        .env("RUST_LOG", "debug")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let public = Url::parse(&public).unwrap();
    let health = public.join("/healthz").unwrap();
    fluxstore_test_support::eventually_async("the hub to answer", Duration::from_secs(30), || {
        let health = health.clone();
        async move { reqwest::get(health).await.is_ok_and(|r| r.status() == 200) }
    })
    .await;

    let (verifier, challenge) = pkce();
    let by_hand = |mode: &'static str| {
        let (public, challenge) = (public.clone(), challenge.clone());
        async move {
            let resp = browser_stopping_at_loopback()
                .get(authorize_url(&public, &challenge, mode))
                .send()
                .await
                .unwrap();
            let back = Url::parse(resp.headers()["location"].to_str().unwrap()).unwrap();
            query(&back)["code"].clone()
        }
    };
    let first = by_hand("test").await;
    let (status, grant) = redeem(&public, &first, &verifier).await;
    assert_eq!(status, 200, "{grant}");
    let waiting = by_hand("live").await;

    let text = |v: &Value, k: &str| v[k].as_str().unwrap_or_default().to_owned();
    let mut secrets = vec![
        first.clone(),
        waiting.clone(),
        text(&grant, "access_token"),
        text(&grant, "refresh_token"),
        fake.config().platform_key.clone(),
        fake.config().live_platform_key.clone(),
        state_key_hex.clone(),
    ];
    secrets.retain(|s| !s.is_empty());
    let scan = |secrets: &[String]| {
        let refs: Vec<&str> = secrets.iter().map(String::as_str).collect();
        fluxstore_test_support::assert_no_secret(dir.path().join("db"), &refs);
    };
    // The database's files only (the key files are where the operator put the keys).
    let copy_db = || {
        let db = dir.path().join("db");
        std::fs::create_dir_all(&db).unwrap();
        for name in ["fluxstore-hub.db", "fluxstore-hub.db-wal"] {
            let from = dir.path().join(name);
            if from.exists() {
                std::fs::copy(&from, db.join(name)).unwrap();
            }
        }
    };
    copy_db();
    scan(&secrets);

    let (status, live) = redeem(&public, &waiting, &verifier).await;
    assert_eq!(status, 200, "{live}");
    secrets.push(text(&live, "access_token"));
    secrets.retain(|s| !s.is_empty());
    copy_db();
    scan(&secrets);

    let _ = Command::new("kill").arg(child.id().to_string()).status();
    let mut log = String::new();
    std::io::Read::read_to_string(child.stderr.as_mut().unwrap(), &mut log).unwrap();
    child.wait().unwrap();
    assert!(log.contains("Connect broker on"), "{log}");
    let refs: Vec<&str> = secrets.iter().map(String::as_str).collect();
    fluxstore_test_support::assert_no_secret_in("the hub's log", &log, &refs);
}
