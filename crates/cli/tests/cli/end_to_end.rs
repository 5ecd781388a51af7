//! serve + send-test-event + the read commands, over the built binary.

use serde_json::Value;

use crate::support::{SECRET, Server, WRONG_SECRET, run, secret_file, text};

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
    let rejections = run(&["rejections", "--db", db.to_str().expect("utf8"), "--json"]);
    let rejections: Value = serde_json::from_slice(&rejections.stdout).expect("json");
    assert_eq!(rejections[0]["code"], "signature_invalid");

    let events = run(&["events", "--db", db.to_str().expect("utf8"), "--json"]);
    let events: Value = serde_json::from_slice(&events.stdout).expect("json");
    assert_eq!(events.as_array().map(Vec::len), Some(2));

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
    let server = Server::start(&db, &["--secret-stdin"], Some(&format!("{SECRET}\n")), &[]);
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
