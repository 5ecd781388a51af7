//! Where the mirror lives when `--db` is not given: the platform's data directory
//! (e.g. `~/.local/share/fluxstore/mirror.sqlite3` on Linux), shared with the desktop app.

use std::path::PathBuf;

use anyhow::{Context, Result};

pub const DB_FILE: &str = "mirror.sqlite3";

/// `--db`, else `FLUXSTORE_DB` (handled by clap), else the platform data directory.
pub fn db_path(explicit: Option<PathBuf>) -> Result<PathBuf> {
    if let Some(path) = explicit {
        return Ok(path);
    }
    let dirs = directories::ProjectDirs::from("com", "FluxStore", "FluxStore")
        .context("no home directory was found; pass --db PATH")?;
    Ok(dirs.data_dir().join(DB_FILE))
}
