//! serve + send-test-event + the read commands, over the built binary.

use serde_json::Value;

use fluxstore_test_support::{GUARD, wait_until_blocking};

use crate::support::{SECRET, Server, WRONG_SECRET, run, secret_file, secret_file_lines, text};

/// `fluxstore rejections --json` once it lists `code` (refusals are written within a
/// moment, with the relay's next write).
fn rejections_with(db: &std::path::Path, code: &str) -> Value {
    let mut last = Value::Null;
    let found = wait_until_blocking(GUARD, || {
        let out = run(&["rejections", "--db", db.to_str().expect("utf8"), "--json"]);
        last = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
        last.as_array()
            .is_some_and(|rows| rows.iter().any(|r| r["code"] == code))
    });
    assert!(found, "a {code} rejection is listed: {last}");
    last
}

/// The event ids a `send-test-event` run printed ("Sending TYPE evt_… (…)"), in order.
fn sent_ids(out: &std::process::Output) -> Vec<String> {
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.strip_prefix("Sending "))
        .filter_map(|l| l.split_whitespace().nth(1))
        .map(str::to_owned)
        .collect()
}

#[test]
fn serve_send_test_event_then_orders_shows_it() {
    let dir = tempfile::tempdir().expect("dir");
    let db = dir.path().join("mirror.sqlite3");
    let secrets = secret_file(dir.path(), "whsec.txt", SECRET);
    let server = Server::start(
        &db,
        &["--secret-file", secrets.to_str().expect("utf8")],
        None,
        &[],
    );
    assert!(server.url.starts_with("http://127.0.0.1:"));
    assert!(server.url.ends_with("/api/webhooks/stripe"));
    let banner = server.stdout();
    assert!(
        banner.contains("fluxstore send-test-event --url ") && banner.contains("--secret-file"),
        "start-up output says how to send a test event: {banner}"
    );

    let sent = run(&[
        "send-test-event",
        "--url",
        &server.url,
        "--secret-file",
        secrets.to_str().expect("utf8"),
        "--type",
        "checkout.session.completed",
    ]);
    assert!(sent.status.success(), "{}", text(&sent));
    let out = String::from_utf8_lossy(&sent.stdout).to_string();
    assert!(out.contains("HTTP 200"), "{out}");
    let first_sent = sent.clone();
    let session = out
        .split("object ")
        .nth(1)
        .and_then(|rest| rest.split(',').next())
        .expect("the session id is printed")
        .to_string();

    let listed = run(&["orders", "--db", db.to_str().expect("utf8"), "--json"]);
    assert!(listed.status.success(), "{}", text(&listed));
    let orders: Value = serde_json::from_slice(&listed.stdout).expect("a JSON array");
    let orders = orders.as_array().expect("array");
    assert_eq!(orders.len(), 1);
    let order = &orders[0];
    assert_eq!(order["session_id"], session.as_str());
    assert_eq!(order["status"], "paid");
    assert_eq!(order["livemode"], false);
    assert_eq!(order["currency"], "usd");
    assert!(order["amount"].as_i64().is_some_and(|a| a > 0));
    assert!(
        order["payment_intent_id"]
            .as_str()
            .is_some_and(|p| p.starts_with("pi_"))
    );
    assert!(
        order["customer_email"]
            .as_str()
            .is_some_and(|e| e.contains('@'))
    );
    assert!(order["created"].as_i64().is_some());
    // Live mode is a separate world.
    let live = run(&[
        "orders",
        "--db",
        db.to_str().expect("utf8"),
        "--json",
        "--live",
    ]);
    let live: Value = serde_json::from_slice(&live.stdout).expect("json");
    assert_eq!(live.as_array().map(Vec::len), Some(0));

    // A dispute on a fresh order, then the dispute queue.
    let sent = run(&[
        "send-test-event",
        "--url",
        &server.url,
        "--secret-file",
        secrets.to_str().expect("utf8"),
        "--type",
        "charge.dispute.created",
    ]);
    assert!(sent.status.success(), "{}", text(&sent));
    // A dispute is about an order: its checkout is delivered first, then the dispute.
    let dispute_sent = sent_ids(&sent);
    assert_eq!(dispute_sent.len(), 2, "{}", text(&sent));
    let disputes = run(&["disputes", "--db", db.to_str().expect("utf8"), "--json"]);
    let disputes: Value = serde_json::from_slice(&disputes.stdout).expect("json");
    let dispute = &disputes.as_array().expect("array")[0];
    assert!(dispute["id"].as_str().is_some_and(|d| d.starts_with("dp_")));
    for field in ["status", "reason", "amount", "currency", "due_by", "order"] {
        assert!(!dispute[field].is_null(), "dispute has {field}: {dispute}");
    }

    // A delivery signed with the wrong secret: non-zero exit, the relay's code shown, and a
    // rejection row.
    let wrong = secret_file(dir.path(), "wrong.txt", WRONG_SECRET);
    let refused = run(&[
        "send-test-event",
        "--url",
        &server.url,
        "--secret-file",
        wrong.to_str().expect("utf8"),
    ]);
    assert!(!refused.status.success());
    assert!(
        text(&refused).contains("signature_invalid"),
        "{}",
        text(&refused)
    );
    let rejections = rejections_with(&db, "signature_invalid");
    assert_eq!(rejections[0]["code"], "signature_invalid");
    assert_eq!(rejections[0]["count"], 1);
    assert!(
        rejections[0]["last_peer"]
            .as_str()
            .is_some_and(|p| p.starts_with("127.0.0.1:"))
    );
    let table = run(&["rejections", "--db", db.to_str().expect("utf8")]);
    let table = String::from_utf8_lossy(&table.stdout).to_string();
    assert!(
        table.contains("COUNT") && table.contains("signature_invalid"),
        "{table}"
    );

    let events = run(&["events", "--db", db.to_str().expect("utf8"), "--json"]);
    let events: Value = serde_json::from_slice(&events.stdout).expect("json");
    // Every delivered event once (the dispute's checkout is the first one when both runs
    // fell in the same second: its ids derive from the time), and the refused one not at all.
    let stored: std::collections::BTreeSet<String> = events
        .as_array()
        .expect("array")
        .iter()
        .map(|e| e["id"].as_str().expect("id").to_owned())
        .collect();
    let delivered: std::collections::BTreeSet<String> = sent_ids(&first_sent)
        .into_iter()
        .chain(dispute_sent)
        .collect();
    assert_eq!(stored, delivered);
    assert_eq!(events.as_array().map(Vec::len), Some(delivered.len()));

    let (clean, stdout, _) = server.terminate();
    assert!(clean, "SIGTERM stops the relay cleanly");
    assert!(stdout.contains("stopped"), "{stdout}");
}

#[test]
fn without_a_secret_it_serves_503_and_says_so() {
    let dir = tempfile::tempdir().expect("dir");
    let db = dir.path().join("mirror.sqlite3");
    let server = Server::start(&db, &[], None, &[]);
    assert!(
        server.stdout().contains("no_signing_secret"),
        "the banner warns: {}",
        server.stdout()
    );
    let secrets = secret_file(dir.path(), "whsec.txt", SECRET);
    let sent = run(&[
        "send-test-event",
        "--url",
        &server.url,
        "--secret-file",
        secrets.to_str().expect("utf8"),
    ]);
    assert!(!sent.status.success());
    let out = text(&sent);
    assert!(
        out.contains("503") && out.contains("no_signing_secret"),
        "{out}"
    );
    let (clean, _, _) = server.terminate();
    assert!(clean);
}

#[test]
fn secrets_from_stdin() {
    let dir = tempfile::tempdir().expect("dir");
    let db = dir.path().join("mirror.sqlite3");
    let server = Server::start(
        &db,
        &["--secret-stdin"],
        Some(&format!("# the test endpoint\ntest {SECRET}\n")),
        &[],
    );
    assert!(server.stdout().contains("1 active"), "{}", server.stdout());
    let secrets = secret_file(dir.path(), "whsec.txt", SECRET);
    let sent = run(&[
        "send-test-event",
        "--url",
        &server.url,
        "--secret-file",
        secrets.to_str().expect("utf8"),
        "--type",
        "invoice.paid",
    ]);
    assert!(sent.status.success(), "{}", text(&sent));
    let (clean, _, _) = server.terminate();
    assert!(clean);
}

#[test]
fn helpful_errors() {
    let dir = tempfile::tempdir().expect("dir");
    let missing = dir.path().join("nothing-here.sqlite3");
    let out = run(&["orders", "--db", missing.to_str().expect("utf8")]);
    assert!(!out.status.success());
    assert!(text(&out).contains("no mirror database"), "{}", text(&out));

    let secrets = secret_file(dir.path(), "whsec.txt", SECRET);
    let out = run(&[
        "send-test-event",
        "--url",
        "http://127.0.0.1:9/api/webhooks/stripe",
        "--secret-file",
        secrets.to_str().expect("utf8"),
        "--type",
        "customer.created",
    ]);
    assert!(!out.status.success());
    assert!(text(&out).contains("unknown event type"), "{}", text(&out));

    let out = run(&[
        "orders",
        "--db",
        missing.to_str().expect("utf8"),
        "--status",
        "shipped",
    ]);
    assert!(!out.status.success());
}

#[test]
fn a_live_event_signed_with_the_test_secret_is_refused_mode_mismatch() {
    let dir = tempfile::tempdir().expect("dir");
    let db = dir.path().join("mirror.sqlite3");
    let secrets = secret_file(dir.path(), "whsec.txt", SECRET);
    let server = Server::start(
        &db,
        &["--secret-file", secrets.to_str().expect("utf8")],
        None,
        &[],
    );
    assert!(
        server.stdout().contains("1 test, 0 live"),
        "{}",
        server.stdout()
    );
    // The attacker's file: the (widely shared) test secret, used to sign a live event.
    let forged = secret_file_lines(dir.path(), "forged.txt", &format!("live {SECRET}\n"));
    let refused = run(&[
        "send-test-event",
        "--url",
        &server.url,
        "--secret-file",
        forged.to_str().expect("utf8"),
        "--live",
    ]);
    assert!(!refused.status.success());
    assert!(
        text(&refused).contains("mode_mismatch"),
        "{}",
        text(&refused)
    );
    let rejections = rejections_with(&db, "mode_mismatch");
    assert_eq!(rejections[0]["count"], 1);
    let events = run(&[
        "events",
        "--db",
        db.to_str().expect("utf8"),
        "--json",
        "--live",
    ]);
    let events: Value = serde_json::from_slice(&events.stdout).expect("json");
    assert_eq!(events.as_array().map(Vec::len), Some(0), "nothing stored");
    let orders = run(&[
        "orders",
        "--db",
        db.to_str().expect("utf8"),
        "--json",
        "--live",
    ]);
    let orders: Value = serde_json::from_slice(&orders.stdout).expect("json");
    assert_eq!(orders.as_array().map(Vec::len), Some(0), "no live order");
    // The same secret file without --live sends a test event, which the relay accepts.
    let sent = run(&[
        "send-test-event",
        "--url",
        &server.url,
        "--secret-file",
        secrets.to_str().expect("utf8"),
    ]);
    assert!(sent.status.success(), "{}", text(&sent));
    let (clean, _, _) = server.terminate();
    assert!(clean);
}

#[test]
fn bare_secret_lines_need_a_mode() {
    let dir = tempfile::tempdir().expect("dir");
    let db = dir.path().join("mirror.sqlite3");
    let bare = secret_file_lines(dir.path(), "bare.txt", &format!("# ours\n{SECRET}\n"));
    let path = bare.to_str().expect("utf8");
    let refused = run(&[
        "serve",
        "--db",
        db.to_str().expect("utf8"),
        "--listen",
        "127.0.0.1:0",
        "--secret-file",
        path,
    ]);
    assert!(!refused.status.success());
    let out = text(&refused);
    assert!(
        out.contains("line 2") && out.contains("--mode") && out.contains("test whsec_"),
        "{out}"
    );
    assert!(!out.contains(&SECRET[6..]), "the secret is not echoed");
    // With --mode the same file serves, and signs test events.
    let server = Server::start(&db, &["--secret-file", path, "--mode", "test"], None, &[]);
    assert!(
        server.stdout().contains("--mode test"),
        "{}",
        server.stdout()
    );
    let sent = run(&[
        "send-test-event",
        "--url",
        &server.url,
        "--secret-file",
        path,
        "--mode",
        "test",
    ]);
    assert!(sent.status.success(), "{}", text(&sent));
    // A live event needs a live secret in the file.
    let sent = run(&[
        "send-test-event",
        "--url",
        &server.url,
        "--secret-file",
        path,
        "--mode",
        "test",
        "--live",
    ]);
    assert!(!sent.status.success());
    assert!(
        text(&sent).contains("no live mode signing secret"),
        "{}",
        text(&sent)
    );
    let (clean, _, _) = server.terminate();
    assert!(clean);
}
