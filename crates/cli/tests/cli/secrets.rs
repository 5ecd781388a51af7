//! Secrets never reach argv, the environment of the child, logs, error output or the
//! database file.

use fluxstore_test_support::{assert_no_secret, assert_no_secret_in};

use crate::support::{SECRET, Server, WRONG_SECRET, run, secret_file, text};

/// The secrets, and their part after `whsec_` (a secret with its prefix cut is still one).
fn all_secrets() -> [&'static str; 4] {
    let hidden = |s: &'static str| s.trim_start_matches("whsec_");
    [SECRET, WRONG_SECRET, hidden(SECRET), hidden(WRONG_SECRET)]
}

#[track_caller]
fn assert_clean(what: &str, haystack: &[u8]) {
    assert_no_secret_in(what, haystack, &all_secrets());
}

#[test]
fn secrets_stay_out_of_argv_logs_output_and_the_database() {
    let dir = tempfile::tempdir().expect("dir");
    // The secret files live beside the data dir, so every file inside it can be scanned.
    let data = dir.path().join("data");
    std::fs::create_dir(&data).expect("data dir");
    let db = data.join("mirror.sqlite3");
    let secrets = secret_file(dir.path(), "whsec.txt", SECRET);
    // The most verbose logging there is.
    let server = Server::start(
        &db,
        &["--secret-file", secrets.to_str().expect("utf8")],
        None,
        &[("RUST_LOG", "trace")],
    );
    let pid = server.pid();
    let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).expect("cmdline");
    assert_clean("the relay's argv", &cmdline);
    let environ = std::fs::read(format!("/proc/{pid}/environ")).expect("environ");
    assert_clean("the relay's environment", &environ);

    let mut outputs = Vec::new();
    for (file, kind) in [
        (secrets.clone(), "checkout.session.completed"),
        (
            secret_file(dir.path(), "wrong.txt", WRONG_SECRET),
            "charge.succeeded",
        ),
    ] {
        let out = run(&[
            "send-test-event",
            "--url",
            &server.url,
            "--secret-file",
            file.to_str().expect("utf8"),
            "--type",
            kind,
        ]);
        outputs.push(text(&out));
    }
    assert!(outputs[0].contains("HTTP 200"), "{}", outputs[0]);
    assert!(outputs[1].contains("signature_invalid"), "{}", outputs[1]);
    for out in &outputs {
        assert_clean("send-test-event output", out.as_bytes());
    }
    let (clean, stdout, stderr) = server.terminate();
    assert!(clean);
    assert!(
        stderr.contains("TRACE") || stderr.contains("DEBUG"),
        "trace logging was on"
    );
    assert_clean("serve stdout", stdout.as_bytes());
    assert_clean("serve logs", stderr.as_bytes());
    assert_no_secret(&data, &all_secrets());
}

#[test]
fn a_wrong_kind_of_key_is_explained_without_echoing_it() {
    let dir = tempfile::tempdir().expect("dir");
    let db = dir.path().join("mirror.sqlite3");
    let key = "sk_test_51cliSuiteNotAWebhookSecretXYZ";
    let file = secret_file(dir.path(), "keys.txt", &format!("{SECRET}\n\n{key}"));
    let out = run(&[
        "serve",
        "--db",
        db.to_str().expect("utf8"),
        "--listen",
        "127.0.0.1:0",
        "--secret-file",
        file.to_str().expect("utf8"),
    ]);
    assert!(!out.status.success());
    let said = text(&out);
    assert!(
        said.contains("line 3") && said.contains("secret key"),
        "{said}"
    );
    assert!(!said.contains("cliSuiteNotAWebhookSecret"), "{said}");
    assert_clean("the error", said.as_bytes());
}

#[test]
fn a_secret_file_others_can_read_is_warned_about() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().expect("dir");
    let db = dir.path().join("mirror.sqlite3");
    let file = secret_file(dir.path(), "whsec.txt", SECRET);
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).expect("chmod");
    let server = Server::start(
        &db,
        &["--secret-file", file.to_str().expect("utf8")],
        None,
        &[],
    );
    let (clean, stdout, stderr) = server.terminate();
    assert!(clean);
    assert!(
        stderr.contains("can be read by other users") && stderr.contains("chmod 600"),
        "{stderr}"
    );
    assert_clean("the warning", format!("{stdout}{stderr}").as_bytes());
}

#[test]
fn there_is_no_secret_flag() {
    let out = run(&["serve", "--secret", SECRET]);
    assert!(
        !out.status.success(),
        "secrets cannot be passed on the command line"
    );
}
