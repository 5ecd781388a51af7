//! The mirror's one error type, and the mapping from SQLite result codes to it.
//!
//! The relay answers 503 (Stripe retries) for every storage failure, so the mapping only has
//! to tell the owner *why* in plain words: disk full, read-only, or busy.

use rusqlite::ErrorCode;

#[derive(Debug, thiserror::Error)]
pub enum MirrorError {
    /// The payload is not a Stripe event envelope. Not retryable.
    #[error("the event is not valid Stripe event JSON: {0}")]
    Malformed(String),
    /// SQLITE_FULL / SQLITE_IOERR on write: nothing was committed; retry later.
    #[error("the mirror database could not be written: the disk is full")]
    StorageFull,
    /// Read-only file or file system.
    #[error("the mirror database is read-only")]
    ReadOnly,
    /// Database busy/locked beyond the busy timeout.
    #[error("the mirror database is busy")]
    Busy,
    #[error("the mirror database schema could not be migrated: {0}")]
    Migration(String),
    /// A value that looks like a key, token or signing secret was offered for storage. The
    /// mirror file never holds secrets; they live in the system keyring.
    #[error(
        "a secret key or token must not be stored in the mirror database; keep it in the system keyring"
    )]
    SecretRefused,
    /// A page cursor that this mirror did not hand out (or that was altered).
    #[error("the page cursor is not valid; start again from the first page")]
    InvalidCursor,
    /// An order marker the owner typed that cannot match anything Stripe stores (the text
    /// says what to change).
    #[error("{0}")]
    InvalidMarker(String),
    /// A change to the owner's own records (an evidence draft) that cannot be kept as asked;
    /// the text says what to change.
    #[error("{0}")]
    Invalid(String),
    #[error("mirror database error: {0}")]
    Sqlite(rusqlite::Error),
    #[error("the mirror database file could not be created: {0}")]
    Files(String),
}

impl MirrorError {
    /// True when the failure is the storage's, not the event's: a webhook sender should be
    /// told to retry (HTTP 503), nothing was committed.
    pub fn is_storage_unavailable(&self) -> bool {
        !matches!(
            self,
            MirrorError::Malformed(_)
                | MirrorError::InvalidCursor
                | MirrorError::SecretRefused
                | MirrorError::InvalidMarker(_)
                | MirrorError::Invalid(_)
        )
    }
}

impl MirrorError {
    /// A failure of the file system around the database (creating its file or folder), or
    /// of writing an export.
    pub fn from_io(e: std::io::Error) -> MirrorError {
        match e.kind() {
            std::io::ErrorKind::StorageFull => MirrorError::StorageFull,
            std::io::ErrorKind::ReadOnlyFilesystem => MirrorError::ReadOnly,
            _ => MirrorError::Files(e.to_string()),
        }
    }
}

/// Every rusqlite error passes through here, so `?` classifies storage failures.
impl From<rusqlite::Error> for MirrorError {
    fn from(e: rusqlite::Error) -> MirrorError {
        match e.sqlite_error_code() {
            Some(ErrorCode::DiskFull) | Some(ErrorCode::SystemIoFailure) => {
                MirrorError::StorageFull
            }
            Some(ErrorCode::ReadOnly) => MirrorError::ReadOnly,
            Some(ErrorCode::DatabaseBusy) | Some(ErrorCode::DatabaseLocked) => MirrorError::Busy,
            _ => MirrorError::Sqlite(e),
        }
    }
}

impl From<rusqlite_migration::Error> for MirrorError {
    fn from(e: rusqlite_migration::Error) -> MirrorError {
        match e {
            rusqlite_migration::Error::RusqliteError { err, .. } => match MirrorError::from(err) {
                MirrorError::Sqlite(inner) => MirrorError::Migration(inner.to_string()),
                storage => storage,
            },
            other => MirrorError::Migration(other.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sqlite_err(code: i32) -> rusqlite::Error {
        rusqlite::Error::SqliteFailure(rusqlite::ffi::Error::new(code), None)
    }

    #[test]
    fn storage_codes_map_to_clear_errors() {
        assert!(matches!(
            MirrorError::from(sqlite_err(rusqlite::ffi::SQLITE_FULL)),
            MirrorError::StorageFull
        ));
        assert!(matches!(
            MirrorError::from(sqlite_err(rusqlite::ffi::SQLITE_IOERR_WRITE)),
            MirrorError::StorageFull
        ));
        assert!(matches!(
            MirrorError::from(sqlite_err(rusqlite::ffi::SQLITE_READONLY)),
            MirrorError::ReadOnly
        ));
        assert!(matches!(
            MirrorError::from(sqlite_err(rusqlite::ffi::SQLITE_BUSY)),
            MirrorError::Busy
        ));
        assert!(matches!(
            MirrorError::from(sqlite_err(rusqlite::ffi::SQLITE_LOCKED)),
            MirrorError::Busy
        ));
        assert!(matches!(
            MirrorError::from(sqlite_err(rusqlite::ffi::SQLITE_CONSTRAINT)),
            MirrorError::Sqlite(_)
        ));
        assert!(MirrorError::StorageFull.is_storage_unavailable());
        assert!(!MirrorError::Malformed("x".into()).is_storage_unavailable());
    }
}
