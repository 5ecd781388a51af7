//! Where the mirror lives when `--db` is not given: the desktop app's own mirror, in the
//! platform's data directory (e.g. `~/.local/share/net.fluxstore.desktop/mirror.db` on Linux),
//! so the command line and the app read and write one store.

use std::path::PathBuf;

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
