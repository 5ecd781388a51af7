//! The mirror's files are the owner's alone: orders, customers' e-mail addresses and the
//! audit log are nobody else's business on a shared computer.
//!
//! Invariant (Unix): the folders created for a mirror are `0700` and the database file `0600`
//! from the moment they exist; SQLite creates the `-wal` and `-shm` files with the database
//! file's permissions, and files inside a `0700` folder (logs too) are out of other users'
//! reach. Existing database files are tightened when opened. Elsewhere the platform's
//! per-user folders already keep them private.
use std::io;
use std::path::Path;

/// Create `dir` and its missing parents readable by their owner only. A folder that exists
/// already is left as it is (it may be one the owner chose, such as a home folder); the
/// database files inside are tightened by [`prepare_database_file`] anyway.
pub fn create_private_dir(dir: &Path) -> io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir)
}

/// Create the database file owner-only before SQLite opens it; tighten it and its `-wal` and
/// `-shm` companions when they exist already.
pub(crate) fn prepare_database_file(path: &Path) -> io::Result<()> {
    if !path.exists() {
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        match options.open(path) {
            Ok(_) => {}
            // Someone else created it in between: tighten it below like any existing file.
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(e),
        }
    }
    for suffix in ["", "-wal", "-shm"] {
        let mut name = path.as_os_str().to_owned();
        name.push(suffix);
        let file = Path::new(&name);
        // Best effort on existing files: a read-only or immutable file is reported by SQLite
        // itself, in its own words, when it is written.
        if file.exists()
            && let Err(e) = restrict(file, 0o600)
        {
            tracing::debug!(error = %e, file = %file.display(), "could not tighten a mirror file");
        }
    }
    Ok(())
}

#[cfg(unix)]
fn restrict(path: &Path, mode: u32) -> io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
}

#[cfg(not(unix))]
fn restrict(_path: &Path, _mode: u32) -> io::Result<()> {
    Ok(())
}
