//! Secrets never reach argv, the environment of the child, logs, error output or the
//! database file.

use crate::support::{SECRET, Server, WRONG_SECRET, run, secret_file, text};

fn assert_clean(what: &str, haystack: &[u8]) {
    for secret in [SECRET, WRONG_SECRET] {
        let needle = secret.as_bytes();
        let hidden = secret.trim_start_matches("whsec_").as_bytes();
        let found = haystack.windows(needle.len()).any(|w| w == needle)
            || haystack.windows(hidden.len()).any(|w| w == hidden);
        assert!(!found, "the secret appears in {what}");
    }
}

#[test]
fn secrets_stay_out_of_argv_logs_output_and_the_database() {
    let dir = tempfile::tempdir().expect("dir");
    let db = dir.path().join("mirror.sqlite3");
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
    for file in std::fs::read_dir(dir.path()).expect("dir").flatten() {
        let name = file.file_name().to_string_lossy().to_string();
        if name.starts_with("mirror.sqlite3") {
            assert_clean(&name, &std::fs::read(file.path()).expect("read db"));
        }
    }
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
