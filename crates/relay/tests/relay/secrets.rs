//! Secret validation, secret files (`test whsec_…` / `live whsec_…`, bare lines only with a
//! mode for them) and redaction.

use std::io::Cursor;

use fluxstore_relay::{Mode, SecretError, SecretWarning, SigningSecret, SigningSecrets};

use crate::support::{OTHER_SECRET, SECRET};

#[test]
fn debug_is_redacted() {
    let s = SigningSecret::new(SECRET, Mode::Live).expect("valid");
    let shown = format!("{s:?} {:?}", SigningSecrets::from(s.clone()));
    assert!(!shown.contains("relaySuiteSecret"), "{shown}");
    assert!(
        shown.contains("redacted") && shown.contains("live"),
        "{shown}"
    );
}

#[test]
fn api_keys_and_junk_are_explained_without_echoing_them() {
    for (text, wanted) in [
        ("sk_test_51Habc", "secret key"),
        ("rk_live_51Habc", "restricted key"),
        ("pk_test_51Habc", "publishable key"),
        ("hello", "must start with whsec_"),
        ("whsec_", "empty"),
        ("whsec_ab cd", "spaces"),
    ] {
        let err = SigningSecret::new(text, Mode::Test).unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains(wanted), "{text}: {msg}");
        assert!(!msg.contains("51Habc") && !msg.contains("ab cd"), "{msg}");
    }
}

#[test]
fn file_lines_blank_lines_whitespace_and_rotation() {
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("secrets");
    std::fs::write(
        &path,
        format!("\n  {SECRET}  \n\n# the new one\n{OTHER_SECRET}\r\n{SECRET}\n"),
    )
    .expect("write");
    set_mode(&path, 0o600);
    let (secrets, warnings) = SigningSecrets::from_file(&path, Some(Mode::Test)).expect("loads");
    assert_eq!(secrets.len(), 2, "duplicates collapse");
    assert_eq!(
        secrets.count(Mode::Test),
        2,
        "bare lines take the given mode"
    );
    assert!(warnings.is_empty());
}

#[test]
fn an_api_key_line_names_its_line_only() {
    let text = format!("{SECRET}\nsk_live_51Hsecretvalue\n");
    let err = SigningSecrets::parse(&text, Some(Mode::Live)).unwrap_err();
    let msg = err.to_string();
    assert!(matches!(err, SecretError::Line { line: 2, .. }), "{msg}");
    assert!(
        msg.contains("line 2") && msg.contains("secret key"),
        "{msg}"
    );
    assert!(!msg.contains("51Hsecretvalue"));
}

#[test]
fn empty_file_means_no_secret() {
    let secrets = SigningSecrets::from_reader(Cursor::new("\n\n  \n"), None).expect("reads");
    assert!(secrets.is_empty());
}

#[test]
fn stdin_style_reader_loads_several() {
    let secrets = SigningSecrets::from_reader(
        Cursor::new(format!("test {SECRET}\nlive {OTHER_SECRET}")),
        None,
    )
    .expect("ok");
    assert_eq!(secrets.len(), 2);
    assert_eq!(
        (secrets.count(Mode::Test), secrets.count(Mode::Live)),
        (1, 1)
    );
}

#[test]
fn a_file_others_can_read_is_warned_about() {
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("secrets");
    std::fs::write(&path, format!("live {SECRET}\n")).expect("write");
    set_mode(&path, 0o644);
    let (_, warnings) = SigningSecrets::from_file(&path, None).expect("loads");
    assert_eq!(warnings.len(), 1);
    let SecretWarning::FileTooOpen { mode, .. } = &warnings[0];
    assert_eq!(mode & 0o777, 0o644);
    let text = warnings[0].to_string();
    assert!(text.contains("chmod 600"));
    assert!(!text.contains("relaySuiteSecret"));
}

#[test]
fn a_missing_file_is_a_clear_error() {
    let err =
        SigningSecrets::from_file(std::path::Path::new("/nonexistent/secret"), None).unwrap_err();
    assert!(err.to_string().contains("could not be read"));
}

#[test]
fn each_line_names_its_mode_and_comments_and_blank_lines_are_ignored() {
    let text = format!(
        "# the store's endpoints\n\n  test   {SECRET}  \nlive\t{OTHER_SECRET}\n# live {SECRET}\n"
    );
    let secrets = SigningSecrets::parse(&text, None).expect("parses");
    let modes: Vec<Mode> = secrets.iter().map(SigningSecret::mode).collect();
    assert_eq!(modes, [Mode::Test, Mode::Live]);
    // A bare line takes the mode given for bare lines; prefixed lines keep their own.
    let mixed = format!("{SECRET}\nlive {OTHER_SECRET}\n");
    let secrets = SigningSecrets::parse(&mixed, Some(Mode::Test)).expect("parses");
    let modes: Vec<Mode> = secrets.iter().map(SigningSecret::mode).collect();
    assert_eq!(modes, [Mode::Test, Mode::Live]);
}

#[test]
fn a_bare_secret_without_a_mode_is_refused_naming_its_line_only() {
    let text = format!("# rotation\ntest {OTHER_SECRET}\n\n{SECRET}\n");
    let err = SigningSecrets::parse(&text, None).unwrap_err();
    let msg = err.to_string();
    assert!(matches!(err, SecretError::Line { line: 4, .. }), "{msg}");
    assert!(
        msg.contains("line 4") && msg.contains("test whsec_") && msg.contains("--mode"),
        "{msg}"
    );
    assert!(!msg.contains("relaySuiteSecret"), "{msg}");
    // The same through a reader (standard input).
    let err = SigningSecrets::from_reader(Cursor::new(text), None).unwrap_err();
    assert!(err.to_string().contains("line 4"));
}

#[test]
fn an_unknown_mode_word_is_refused_naming_its_line_only() {
    for (line, wanted) in [
        (format!("prod {SECRET}"), "`test` or `live`"),
        (format!("Live {SECRET}"), "`test` or `live`"),
        ("live sk_live_51Hsecretvalue".to_string(), "secret key"),
        (format!("{SECRET} trailing"), "spaces"),
    ] {
        let err = SigningSecrets::parse(&format!("\n{line}\n"), Some(Mode::Test)).unwrap_err();
        let msg = err.to_string();
        assert!(
            msg.contains("line 2") && msg.contains(wanted),
            "{line}: {msg}"
        );
        assert!(
            !msg.contains("relaySuiteSecret") && !msg.contains("51Hsecretvalue"),
            "{msg}"
        );
    }
}

fn set_mode(path: &std::path::Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).expect("chmod");
}
