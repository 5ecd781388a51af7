//! No secret reaches the SQLite file, the audit rows, an error message or a log line.

use std::io::Write;
use std::sync::{Arc, Mutex};

use crate::common::World;
use fluxstore_gateway::{
    ApiKey, CancelToken, ClientConfig, Credential, RefundRequest, StripeClient, SyncOptions,
};
use fluxstore_test_support::stripe_fake::{Fault, READ_ONLY_KEY, TEST_SECRET_KEY};
use fluxstore_test_support::{assert_no_secret, assert_no_secret_in};

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn secrets_stay_out_of_the_database_audit_errors_and_logs() {
    let logs = Captured::default();
    let sink = logs.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || sink.clone())
        .with_ansi(false)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let w = World::new().await;
    let revoked = "sk_test_51RevokedButStillSecret000000000LEAK";
    let token = "fluxstore_connect_token_secret_value_0001";
    let p = w.paid_order(4200);
    let mut errors = Vec::new();

    let ok = w.client(TEST_SECRET_KEY);
    ok.account().await.unwrap();
    w.fake.inject("/v1/refunds", Fault::DropAfterProcessing);
    ok.refund(&RefundRequest {
        payment: p.charge_id.clone(),
        amount: Some(200),
        reason: None,
    })
    .await
    .unwrap();
    ok.sync_events(&SyncOptions::default(), &mut |_| {}, &CancelToken::new())
        .await
        .unwrap();
    errors.push(w.client(revoked).account().await.unwrap_err());
    errors.push(
        w.client(READ_ONLY_KEY)
            .refund(&RefundRequest {
                payment: p.charge_id.clone(),
                amount: None,
                reason: None,
            })
            .await
            .unwrap_err(),
    );
    let connect = StripeClient::new(
        w.config(),
        Credential::ConnectToken {
            token: fluxstore_gateway::Secret::new(token),
            mode: fluxstore_mirror::Mode::Test,
        },
        w.mirror.clone(),
    )
    .unwrap();
    errors.push(connect.account().await.unwrap_err());
    // A key pasted where an id belongs.
    errors.push(ok.charge(TEST_SECRET_KEY).await.unwrap_err());
    errors.push(
        ApiKey::parse(&format!("{TEST_SECRET_KEY} extra"))
            .unwrap_err()
            .into(),
    );
    let cfg_debug = format!("{:?} {:?}", ok, ClientConfig::default());
    tracing::info!(client = ?ok, "debug of the client");

    let secrets = [
        TEST_SECRET_KEY,
        &TEST_SECRET_KEY[8..],
        revoked,
        "LEAK",
        READ_ONLY_KEY,
        &READ_ONLY_KEY[8..],
        token,
    ];
    let audit = format!("{:?}", w.mirror.lock().unwrap().api_calls(100).unwrap());
    let logs = logs.0.lock().unwrap().clone();
    assert!(!logs.is_empty(), "the log capture works");
    assert!(audit.contains("/v1/refunds"));
    // The mirror is still open: its newest rows are in the -wal file, which the scan reads.
    assert_no_secret(w.dir.path(), &secrets);
    assert_no_secret_in("the audit rows", &audit, &secrets);
    assert_no_secret_in("the logs", &logs, &secrets);
    assert_no_secret_in("the client's Debug", &cfg_debug, &secrets);
    for (i, e) in errors.iter().enumerate() {
        assert_no_secret_in(&format!("error #{i}"), format!("{e} {e:?}"), &secrets);
    }
}
