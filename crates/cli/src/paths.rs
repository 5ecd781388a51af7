//! Where the mirror lives when `--db` is not given: the desktop app's own mirror, in the
//! platform's data directory (e.g. `~/.local/share/net.fluxstore.desktop/mirror.db` on Linux),
//! so the command line and the app read and write one store.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use fluxstore_gateway::profile::{MIRROR_FILE, default_data_dir};

/// `--db`, else `FLUXSTORE_DB` (handled by clap), else the app's mirror.
pub fn db_path(explicit: Option<PathBuf>) -> Result<PathBuf> {
    if let Some(path) = explicit {
        return Ok(path);
    }
    let dir = default_data_dir().context("no home directory was found; pass --db PATH")?;
    Ok(dir.join(MIRROR_FILE))
}

/// Before a command opens the mirror for writing: say in one line (on stderr, so JSON on
/// stdout stays clean) when this version's upgrade of it re-reads every stored event, which
/// takes seconds on a large store. Nothing is printed when there is nothing to upgrade.
pub fn announce_upgrade(db: &Path) {
    if let Some(line) = upgrade_line(db) {
        eprintln!("{line}");
    }
}

/// The line [`announce_upgrade`] prints, if any.
pub fn upgrade_line(db: &Path) -> Option<String> {
    let pending = fluxstore_mirror::Mirror::pending_update(db).ok()??;
    Some(format!(
        "Updating the order history in {}: this version reads the {} stored events once more to rebuild the orders (a few seconds on a large store)…",
        db.display(),
        pending.events
    ))
}
