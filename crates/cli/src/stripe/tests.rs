//! The commands in-process, over real sockets against the Stripe fake, with a real
//! SQLite mirror, and Connect against the real Connect service in front of the fake of
//! Stripe's Connect endpoints. Keyring-backed ones are `#[ignore]`d: run them inside
//! scripts/with-secret-service.sh with `--include-ignored`.

use super::*;
use fluxstore_connect::{Config, PlatformKeys, RunningService};
use fluxstore_gateway::{SecretKind, SecretSlot, SecretStore};
use fluxstore_mirror::Mirror;
use fluxstore_mirror::Source;
use fluxstore_test_support::connect_fake::{ConnectFake, ConnectFakeConfig};
use fluxstore_test_support::stripe_fake::{PaymentSpec, StripeFake, TEST_SECRET_KEY};
use fluxstore_test_support::{assert_no_secret, now};
use std::time::Duration;

struct Env {
    /// The mirror's directory, holding nothing else: the secret scan reads all of it.
    dir: tempfile::TempDir,
    /// The owner's key file, apart from the data.
    keys: tempfile::TempDir,
    fake: StripeFake,
}

impl Env {
    async fn new() -> Env {
        Env {
            dir: tempfile::tempdir().unwrap(),
            keys: tempfile::tempdir().unwrap(),
            fake: StripeFake::start(Default::default()).await.unwrap(),
        }
    }
    fn common(&self, key: Option<&str>, json: bool) -> Common {
        let key_file = key.map(|k| {
            let p = self.keys.path().join("key");
            std::fs::write(&p, format!("{k}\n")).unwrap();
            p
        });
        Common {
            json,
            db: Some(self.dir.path().join("mirror.sqlite3")),
            key_file,
            api_base: Some(self.fake.base_url()),
            store: format!("cli-test-{}", std::process::id()),
            mode: None,
        }
    }
}

async fn exec(cmd: StripeCommand, stdin: &str) -> Outcome {
    execute(cmd, &mut |_, _| {}, &mut stdin.as_bytes(), false).await
}

#[tokio::test]
async fn a_revoked_key_exits_non_zero_and_never_echoes_it() {
    let env = Env::new().await;
    let revoked = "sk_test_51RevokedKeyForTheCliTest00000QWER";
    for json in [false, true] {
        let out = exec(StripeCommand::Account(env.common(Some(revoked), json)), "").await;
        assert_eq!(out.code, 3, "{out:?}");
        let all = format!("{}{}", out.stdout, out.stderr);
        assert!(all.contains("revoked"), "{all}");
        assert!(!all.contains("QWER") && !all.contains("sk_test"), "{all}");
        if json {
            let v: Value = serde_json::from_str(&out.stdout).unwrap();
            assert_eq!(v["error"]["code"], "invalid_key");
        }
    }
    assert_no_secret(env.dir.path(), &["RevokedKey"]);
}

#[tokio::test]
async fn account_refund_sync_and_audit_work_end_to_end() {
    let env = Env::new().await;
    let p = env.fake.seed_payment(&PaymentSpec {
        amount: 2500,
        currency: "eur".into(),
        email: "a@example.com".into(),
        livemode: false,
        created: now() - 60,
    });
    let out = exec(
        StripeCommand::Account(env.common(Some(TEST_SECRET_KEY), false)),
        "",
    )
    .await;
    assert_eq!(out.code, 0, "{out:?}");
    assert!(out.stdout.contains("charges enabled: yes"));

    // Before the order is in the mirror, the refund is refused.
    let refund = |amount| StripeCommand::Refund {
        payment: p.payment_intent_id.clone(),
        amount,
        reason: Some("requested_by_customer".into()),
        common: env.common(Some(TEST_SECRET_KEY), true),
    };
    let out = exec(refund(Some(1000)), "").await;
    assert_eq!(out.code, 1);
    assert!(out.stdout.contains("not_a_fluxstore_object"), "{out:?}");

    let out = exec(
        StripeCommand::Sync(SyncArgs::once(env.common(Some(TEST_SECRET_KEY), true))),
        "",
    )
    .await;
    assert_eq!(out.code, 0, "{out:?}");
    let v: Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(v["progress"]["applied"], 3);

    let out = exec(refund(Some(1000)), "").await;
    assert_eq!(out.code, 0, "{out:?}");
    let v: Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(
        (v["amount"].as_i64(), v["currency"].as_str()),
        (Some(1000), Some("eur"))
    );
    assert_eq!(
        env.fake.object(&p.charge_id).unwrap()["amount_refunded"],
        1000
    );

    let out = exec(
        StripeCommand::Audit {
            limit: 20,
            common: env.common(None, true),
        },
        "",
    )
    .await;
    let calls: Vec<Value> = serde_json::from_str(&out.stdout).unwrap();
    assert!(
        calls
            .iter()
            .any(|c| c["path"] == "/v1/refunds" && c["status"] == 200)
    );
    assert!(calls.iter().any(|c| c["path"] == "/v1/events"));
    let text = exec(
        StripeCommand::Audit {
            limit: 20,
            common: env.common(None, false),
        },
        "",
    )
    .await
    .stdout;
    assert!(text.contains("POST /v1/refunds"), "{text}");

    // No secret anywhere in what was printed or stored.
    assert_no_secret(env.dir.path(), &[TEST_SECRET_KEY, &TEST_SECRET_KEY[8..]]);
    let m = Mirror::open(&env.dir.path().join("mirror.sqlite3")).unwrap();
    assert!(
        m.events(None, 50)
            .unwrap()
            .iter()
            .any(|e| e.source == Source::Api),
        "refund recorded at once"
    );
}

#[tokio::test]
async fn keys_set_refuses_bad_input_before_touching_the_keyring() {
    let env = Env::new().await;
    let cases = [
        (
            "pk_test_51Abcdefghijklmnop\nsk_live_51Abcdefghijklmnop\n",
            "same mode",
        ),
        ("hello there\n", "not a Stripe key"),
        ("pk_test_51Abcdefghijklmnop\n", "secret key is empty"),
    ];
    for (stdin, expected) in cases {
        let out = exec(
            StripeCommand::Keys {
                cmd: KeysCommand::Set(env.common(None, false)),
            },
            stdin,
        )
        .await;
        assert_ne!(out.code, 0);
        assert!(out.stderr.contains(expected), "{stdin:?} → {}", out.stderr);
        assert!(!out.stderr.contains("Abcdefghijklmnop"));
    }
}

#[tokio::test]
#[ignore = "needs a Secret Service: scripts/with-secret-service.sh … -- --include-ignored"]
async fn keys_set_then_status_then_calls_with_the_stored_key() {
    let env = Env::new().await;
    let common = env.common(None, true);
    let stdin =
        format!("whsec_cliTestSigningSecret123\n{TEST_SECRET_KEY}\npk_test_51Abcdefghijklmnop\n");
    let out = exec(
        StripeCommand::Keys {
            cmd: KeysCommand::Set(common.clone()),
        },
        &stdin,
    )
    .await;
    assert_eq!(out.code, 0, "{out:?}");
    let out = exec(
        StripeCommand::Keys {
            cmd: KeysCommand::Status(common.clone()),
        },
        "",
    )
    .await;
    let v: Value = serde_json::from_str(&out.stdout).unwrap();
    let present: Vec<&str> = v["secrets"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["present"] == true)
        .map(|r| r["kind"].as_str().unwrap())
        .collect();
    assert_eq!(present, vec!["api_key", "webhook_secret"]);
    assert!(
        !out.stdout.contains("cliTestSigningSecret") && !out.stdout.contains(&TEST_SECRET_KEY[8..])
    );

    // The key now comes from the keyring.
    let out = exec(StripeCommand::Account(common.clone()), "").await;
    assert_eq!(out.code, 0, "{out:?}");
    let out = exec(
        StripeCommand::Webhook {
            cmd: WebhookCommand::Create {
                url: "https://relay.example/api/webhooks/stripe".into(),
                common: common.clone(),
            },
        },
        "",
    )
    .await;
    assert_eq!(out.code, 0, "{out:?}");
    let secret = env.fake.webhook_endpoints()[0]["secret"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(!out.stdout.contains(&secret));
    assert_no_secret(
        env.dir.path(),
        &[TEST_SECRET_KEY, "cliTestSigningSecret", secret.as_str()],
    );
    // Clean the throwaway entries.
    let store = SecretStore::new().unwrap();
    for kind in SecretKind::ALL {
        store
            .delete(&SecretSlot::new(&common.store, Mode::Test, kind))
            .unwrap();
    }
    let id = env.fake.webhook_endpoints()[0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    store
        .delete(
            &SecretSlot::new(&common.store, Mode::Test, SecretKind::WebhookSecret).with_label(&id),
        )
        .unwrap();
}

// ---- Connect ----

async fn service() -> (ConnectFake, RunningService) {
    let fake = ConnectFake::start(ConnectFakeConfig::default())
        .await
        .unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let public = Url::parse(&format!("http://{}", listener.local_addr().unwrap())).unwrap();
    let keys = PlatformKeys::from_keys([
        secrecy::SecretString::from(fake.config().platform_key.clone()),
        secrecy::SecretString::from(fake.config().live_platform_key.clone()),
    ])
    .unwrap();
    let mut config = Config::with_platform_keys(public, &fake.config().client_id, keys).unwrap();
    config.stripe_connect_base = Url::parse(&fake.base_url()).unwrap();
    config.stripe_api_base = Url::parse(&fake.base_url()).unwrap();
    let svc = RunningService::spawn(listener, config).unwrap();
    (fake, svc)
}

#[tokio::test]
#[ignore = "needs a Secret Service: scripts/with-secret-service.sh … -- --include-ignored"]
async fn connect_prints_the_url_then_the_account_and_disconnect_revokes() {
    let (fake, svc) = service().await;
    let dir = tempfile::tempdir().unwrap();
    let db = Some(dir.path().join("mirror.sqlite3"));
    let args = ConnectArgs {
        service: Some(svc.base_url().to_string()),
        mode: "test".into(),
        api_base: Some(fake.base_url()),
        no_browser: true,
        db: db.clone(),
        store: "cli-test".into(),
        json: false,
        timeout: 60,
    };
    let (tx, rx) = tokio::sync::oneshot::channel::<(Url, bool)>();
    let mut tx = Some(tx);
    let mut show = move |url: &Url, open: bool| {
        if let Some(tx) = tx.take() {
            let _ = tx.send((url.clone(), open));
        }
    };
    // The "browser": follows every redirect from the printed URL to the loopback, keeping
    // cookies as a real one does (the service binds the sign-in to its browser).
    let browser = tokio::spawn(async move {
        let (url, open) = rx.await.unwrap();
        assert!(!open, "--no-browser opens nothing");
        let client = reqwest::Client::builder()
            .cookie_store(true)
            .build()
            .unwrap();
        client.get(url).send().await.unwrap().text().await.unwrap()
    });
    let mut no_input = std::io::empty();
    let out = tokio::time::timeout(
        Duration::from_secs(60),
        execute(
            StripeCommand::Connect(args),
            &mut show,
            &mut no_input,
            false,
        ),
    )
    .await
    .unwrap();
    let page = browser.await.unwrap();
    assert_eq!(out.code, 0, "{out:?}");
    assert!(page.contains("Connected to Stripe"));
    let account = fake.config().account_id.clone();
    assert!(
        out.stdout.contains(&account) && out.stdout.contains("test mode"),
        "{}",
        out.stdout
    );

    let args = DisconnectArgs {
        mode: "test".into(),
        db,
        store: "cli-test".into(),
        yes: false,
        json: true,
    };
    let out = execute(
        StripeCommand::Disconnect(args),
        &mut |_, _| {},
        &mut no_input,
        false,
    )
    .await;
    assert_eq!(out.code, 0, "{out:?}");
    let v: Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(v["account_id"], account.as_str());
    assert_eq!(v["revoked_now"], true);
    assert_eq!(fake.deauthorized(), vec![account]);
}

#[tokio::test]
async fn a_bad_service_url_is_refused_before_anything_happens() {
    let args = ConnectArgs {
        service: Some("not a url".into()),
        mode: "live".into(),
        api_base: None,
        no_browser: true,
        db: None,
        store: "default".into(),
        json: true,
        timeout: 1,
    };
    let mut shown = false;
    let out = execute(
        StripeCommand::Connect(args),
        &mut |_, _| shown = true,
        &mut std::io::empty(),
        false,
    )
    .await;
    assert_eq!(out.code, 1);
    assert!(!shown);
    let v: Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(v["error"]["code"], "invalid_input");
}

#[tokio::test]
#[ignore = "needs a Secret Service: scripts/with-secret-service.sh … -- --include-ignored"]
async fn a_deauthorized_connect_token_is_refused_like_in_the_app() {
    use fluxstore_gateway::oauth::ConnectTokens;
    use fluxstore_gateway::profile::REASON_DEAUTHORIZED;
    let env = Env::new().await;
    let mut common = env.common(None, true);
    common.mode = Some("test".into());
    let token = "sk_test_connectTokenOfTheCliDeauthTest0001";
    let account = "acct_1CliDeauthorized";
    // Connected through Connect in test mode (the same profile function a sign-in ends in).
    let profile = common_profile(&common).unwrap();
    let tokens = ConnectTokens {
        access_token: fluxstore_gateway::Secret::new(token),
        refresh_token: None,
        token_type: "bearer".into(),
        stripe_publishable_key: "pk_test_cliDeauth".into(),
        stripe_user_id: account.into(),
        scope: "read_write".into(),
        livemode: false,
    };
    let service = Url::parse("http://127.0.0.1:9").unwrap();
    profile
        .keep_connection(Mode::Test, &service, tokens)
        .await
        .unwrap();
    // Stripe then says the owner removed FluxStore.
    let ctx = fluxstore_samples::Ctx {
        account: Some(account.into()),
        ..fluxstore_samples::Ctx::test(fluxstore_samples::ApiShape::Dahlia)
    };
    let event = fluxstore_samples::envelope(
        "account.application.deauthorized",
        serde_json::json!({"id": "ca_platform", "object": "application"}),
        now() + 5,
        &ctx,
    );
    profile
        .write(move |m| {
            m.ingest(event.to_string().as_bytes(), Source::Webhook)
                .map(|_| ())
        })
        .await
        .unwrap();
    assert!(profile.apply_deauthorization(Mode::Test).await.unwrap());
    drop(profile);

    let out = exec(StripeCommand::Account(common.clone()), "").await;
    assert_eq!(out.code, 1, "{out:?}");
    let v: Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(v["error"]["code"], "disconnected");
    assert!(
        v["error"]["message"]
            .as_str()
            .unwrap()
            .contains(REASON_DEAUTHORIZED),
        "{v}"
    );
    assert!(!out.stdout.contains(token));
    assert!(env.fake.requests().is_empty(), "nothing was sent to Stripe");
    let store = SecretStore::new().unwrap();
    for kind in SecretKind::ALL {
        store
            .delete(&SecretSlot::new(&common.store, Mode::Test, kind))
            .unwrap();
    }
}

#[tokio::test]
async fn lookup_heals_a_missed_refund_and_the_order_marker_narrows_orders() {
    let env = Env::new().await;
    let p = env.fake.seed_payment(&PaymentSpec {
        amount: 2500,
        currency: "usd".into(),
        email: "player@example.com".into(),
        livemode: false,
        created: now() - 60,
    });
    let sync = exec(
        StripeCommand::Sync(SyncArgs::once(env.common(Some(TEST_SECRET_KEY), true))),
        "",
    )
    .await;
    assert_eq!(sync.code, 0, "{sync:?}");
    env.fake.refund_in_dashboard(&p.charge_id, None).unwrap();
    let lookup = |order: &str| StripeCommand::Lookup {
        order: order.to_owned(),
        common: env.common(Some(TEST_SECRET_KEY), false),
    };
    let out = exec(lookup(&p.payment_intent_id), "").await;
    assert_eq!(out.code, 0, "{out:?}");
    assert!(
        out.stdout
            .contains("Stripe has refunded 25.00 USD of this order; this app knew of 0.00 USD."),
        "{}",
        out.stdout
    );
    assert!(out.stdout.contains("healed: "), "{}", out.stdout);
    let again = exec(lookup(&p.session_id), "").await;
    assert!(
        again.stdout.contains("Stripe and the mirror agree."),
        "{again:?}"
    );

    // A marker the order does not carry: it is no longer an order, so no look-up.
    let marker = |metadata: Option<&str>, clear| StripeCommand::OrderMarker {
        metadata: metadata.map(str::to_owned),
        client_reference_prefix: None,
        clear,
        common: env.common(None, false),
    };
    let out = exec(marker(Some("store_id=other"), false), "").await;
    assert_eq!(out.code, 0, "{out:?}");
    assert!(
        out.stdout.contains("metadata store_id is \"other\""),
        "{out:?}"
    );
    let out = exec(lookup(&p.session_id), "").await;
    assert_ne!(out.code, 0, "{out:?}");
    assert!(
        format!("{}{}", out.stdout, out.stderr).contains("not in this mode's mirror"),
        "{out:?}"
    );
    let out = exec(marker(Some("no-equals-sign"), false), "").await;
    assert_ne!(out.code, 0);
    assert!(out.stderr.contains("KEY=VALUE"), "{out:?}");
    let out = exec(marker(None, true), "").await;
    assert!(out.stdout.contains("no marker set"), "{out:?}");
    assert_no_secret(env.dir.path(), &[TEST_SECRET_KEY, &TEST_SECRET_KEY[8..]]);
}
