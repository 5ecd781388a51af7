//! A real mirror file in a fresh temporary directory, removed with the value.
//!
//! The directory holds nothing but the mirror (and SQLite's `-wal` / `-shm` beside it), so
//! [`crate::assert_no_secret`] over [`TempMirror::dir`] reads exactly what the mirror wrote.

use std::ops::{Deref, DerefMut};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use fluxstore_mirror::Mirror;
use tempfile::TempDir;

/// The mirror's file name inside the temporary directory (the app's own name).
pub const MIRROR_FILE: &str = "mirror.db";

/// An opened mirror and the directory that holds it; both go away together.
pub struct TempMirror {
    // Declared first so the connection closes before the directory is removed.
    pub mirror: Mirror,
    pub dir: TempDir,
}

/// Open a fresh mirror in a new temporary directory.
#[track_caller]
pub fn temp_mirror() -> TempMirror {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let mirror = Mirror::open(&dir.path().join(MIRROR_FILE)).expect("the mirror opens");
    TempMirror { mirror, dir }
}

impl TempMirror {
    /// The directory: what a secret scan reads.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// The mirror's database file.
    pub fn path(&self) -> PathBuf {
        self.dir.path().join(MIRROR_FILE)
    }

    /// The directory guard and the mirror, for tests that own them apart.
    pub fn into_parts(self) -> (TempDir, Mirror) {
        (self.dir, self.mirror)
    }

    /// The directory guard and the mirror behind the lock the gateway's client takes.
    pub fn shared(self) -> (TempDir, Arc<Mutex<Mirror>>) {
        (self.dir, Arc::new(Mutex::new(self.mirror)))
    }
}

impl Deref for TempMirror {
    type Target = Mirror;
    fn deref(&self) -> &Mirror {
        &self.mirror
    }
}

impl DerefMut for TempMirror {
    fn deref_mut(&mut self) -> &mut Mirror {
        &mut self.mirror
    }
}
