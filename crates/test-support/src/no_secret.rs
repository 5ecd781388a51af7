//! The one check that a secret stayed off disk and out of text: a byte search of every file
//! under a data directory, or of one piece of text (argv, logs, an error message).
//!
//! Why every file: SQLite in WAL mode commits into `<db>-wal` and copies pages into the
//! database file only at a checkpoint, so a freshly written secret can sit in the `-wal`
//! file alone; reading just the database file would then pass while the secret is stored.
//! The `-shm` index, a rollback `-journal` and log files are read for the same reason.
//!
//! Invariant: a failure names the file (or the text) and which secret of the list was
//! found, by position and length, never the secret itself, so a failing run does not print
//! what it guards.

use std::fmt;
use std::path::{Path, PathBuf};

/// One secret found in one file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Leak {
    pub file: PathBuf,
    /// Position of the secret in the list given to the scan.
    pub secret: usize,
    /// Byte offset of its first occurrence in the file.
    pub offset: usize,
    secret_len: usize,
}

impl fmt::Display for Leak {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "secret #{} ({} bytes) is in {} at byte {}",
            self.secret,
            self.secret_len,
            self.file.display(),
            self.offset
        )
    }
}

/// Where `needle` first occurs in `haystack`.
pub fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    assert!(
        !needle.is_empty(),
        "an empty secret would match everything; the test passed an empty string"
    );
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// Every file under `root` (recursively), or `root` itself when it is a file.
pub fn files_under(root: &Path) -> std::io::Result<Vec<PathBuf>> {
    let meta = std::fs::metadata(root)?;
    if !meta.is_dir() {
        return Ok(vec![root.to_path_buf()]);
    }
    let mut out = Vec::new();
    let mut pending = vec![root.to_path_buf()];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir)? {
            let path = entry?.path();
            // Not followed: a link out of the data dir is not the data dir's content.
            let kind = std::fs::symlink_metadata(&path)?.file_type();
            if kind.is_dir() {
                pending.push(path);
            } else if kind.is_file() {
                out.push(path);
            }
        }
    }
    out.sort();
    Ok(out)
}

/// Every secret of `secrets` found in the given files (each read whole).
pub fn scan_files(files: &[PathBuf], secrets: &[&str]) -> std::io::Result<Vec<Leak>> {
    let mut leaks = Vec::new();
    for file in files {
        let bytes = std::fs::read(file)?;
        for (i, secret) in secrets.iter().enumerate() {
            if let Some(offset) = find(&bytes, secret.as_bytes()) {
                leaks.push(Leak {
                    file: file.clone(),
                    secret: i,
                    offset,
                    secret_len: secret.len(),
                });
            }
        }
    }
    Ok(leaks)
}

/// Every secret of `secrets` found in any file under `root` (see [`files_under`]).
pub fn scan(root: &Path, secrets: &[&str]) -> std::io::Result<Vec<Leak>> {
    scan_files(&files_under(root)?, secrets)
}

/// Panic when any file under `root` (the database, its `-wal` and `-shm`, logs, …) holds
/// one of `secrets`. Also panics when there is nothing to read: a scan of a missing or
/// empty directory would pass without having looked at anything.
#[track_caller]
pub fn assert_no_secret(root: impl AsRef<Path>, secrets: &[&str]) {
    let root = root.as_ref();
    let files = files_under(root)
        .unwrap_or_else(|e| panic!("cannot list {} for the secret scan: {e}", root.display()));
    assert!(
        !files.is_empty(),
        "the secret scan found no file under {}",
        root.display()
    );
    let leaks = scan_files(&files, secrets)
        .unwrap_or_else(|e| panic!("cannot read {} for the secret scan: {e}", root.display()));
    if !leaks.is_empty() {
        let lines: Vec<String> = leaks.iter().map(Leak::to_string).collect();
        panic!(
            "secrets reached the disk under {}:\n  {}",
            root.display(),
            lines.join("\n  ")
        );
    }
}

/// Panic when `haystack` (argv, an environment, logs, an error's text) holds one of
/// `secrets`; `what` names it in the failure.
#[track_caller]
pub fn assert_no_secret_in(what: &str, haystack: impl AsRef<[u8]>, secrets: &[&str]) {
    let haystack = haystack.as_ref();
    for (i, secret) in secrets.iter().enumerate() {
        if let Some(offset) = find(haystack, secret.as_bytes()) {
            panic!(
                "secret #{i} ({} bytes) is in {what} at byte {offset}",
                secret.len()
            );
        }
    }
}
