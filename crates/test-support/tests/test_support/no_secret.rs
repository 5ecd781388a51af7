//! The shared no-secret scan against a real mirror: a secret written in WAL mode sits only in
//! the `-wal` file until a checkpoint, so a scan of the database file alone misses it and the
//! directory scan does not. Failures name the file and the secret's position, never its value.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::Path;

use fluxstore_test_support::no_secret::{scan, scan_files};
use fluxstore_test_support::{assert_no_secret, assert_no_secret_in, temp_mirror};

/// Not shaped like a Stripe secret, so the mirror's own guard lets it through: the scan is
/// what must catch it.
const SECRET: &str = "fluxstore_connect_token_onlyInTheWal_0001";
const OTHER: &str = "another-secret-never-written-42";

fn panic_text(f: impl FnOnce()) -> String {
    let err = catch_unwind(AssertUnwindSafe(f)).expect_err("the check fails");
    err.downcast_ref::<String>()
        .cloned()
        .or_else(|| err.downcast_ref::<&str>().map(|s| (*s).to_owned()))
        .unwrap_or_default()
}

fn name(p: &Path) -> String {
    p.file_name().unwrap().to_string_lossy().into_owned()
}

#[test]
fn a_secret_only_in_the_wal_is_found_where_a_database_file_read_would_miss_it() {
    let mut m = temp_mirror();
    m.set_setting("wal-canary", Some(SECRET)).unwrap();
    let main = m.path();
    let wal = main.with_file_name(format!("{}-wal", name(&main)));
    assert!(wal.is_file(), "the mirror writes in WAL mode");

    // What the old checks read: the database file alone. It holds no trace yet.
    assert!(
        scan_files(std::slice::from_ref(&main), &[SECRET])
            .unwrap()
            .is_empty(),
        "the committed row is still only in the WAL"
    );
    // The shared scan reads every file of the directory and finds it in the WAL.
    let leaks = scan(m.dir(), &[OTHER, SECRET]).unwrap();
    assert_eq!(leaks.len(), 1, "{leaks:?}");
    assert_eq!(leaks[0].file, wal);
    assert_eq!(leaks[0].secret, 1);

    let text = panic_text(|| assert_no_secret(m.dir(), &[OTHER, SECRET]));
    assert!(
        text.contains("secret #1") && text.contains("-wal"),
        "{text}"
    );
    assert!(
        !text.contains(SECRET),
        "the failure never prints the secret"
    );

    // Closing the last connection checkpoints: then the database file holds it too.
    let (dir, mirror) = m.into_parts();
    drop(mirror);
    assert!(!scan_files(&[main], &[SECRET]).unwrap().is_empty());
    assert!(!scan(dir.path(), &[SECRET]).unwrap().is_empty());
}

#[test]
fn every_file_below_the_directory_is_read() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("logs/old")).unwrap();
    std::fs::write(dir.path().join("mirror.db"), b"nothing here").unwrap();
    std::fs::write(
        dir.path().join("logs/old/app.log"),
        format!("INFO started\nDEBUG token={OTHER}\n"),
    )
    .unwrap();
    let leaks = scan(dir.path(), &[SECRET, OTHER]).unwrap();
    assert_eq!(leaks.len(), 1);
    assert!(leaks[0].file.ends_with("logs/old/app.log"));
    assert_eq!((leaks[0].secret, leaks[0].offset), (1, 25));
    assert_no_secret(dir.path(), &[SECRET]);
}

#[test]
fn a_scan_of_nothing_fails_instead_of_passing() {
    let empty = tempfile::tempdir().unwrap();
    let text = panic_text(|| assert_no_secret(empty.path(), &[SECRET]));
    assert!(text.contains("found no file"), "{text}");
    let text = panic_text(|| assert_no_secret(empty.path().join("absent"), &[SECRET]));
    assert!(text.contains("cannot list"), "{text}");
}

#[test]
fn text_is_checked_the_same_way() {
    assert_no_secret_in("a clean log", "refund created for ch_123", &[SECRET]);
    let text = panic_text(|| {
        assert_no_secret_in("the error", format!("refused: {SECRET}"), &[OTHER, SECRET]);
    });
    assert!(
        text.contains("secret #1") && text.contains("the error"),
        "{text}"
    );
    assert!(!text.contains(SECRET));
}
