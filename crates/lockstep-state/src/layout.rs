//! The state directory's name and the files lockstep keeps in it.
//!
//! Per repository (or per cascade, beside `cascade.toml`, or per pack home), lockstep keeps
//! its state in one directory, [`STATE_DIR`]. Nothing else in the code spells these names.

use std::path::{Path, PathBuf};

/// The state directory's name: `.lockstep`.
pub const STATE_DIR: &str = ".lockstep";
/// The hash-chained audit log.
pub const AUDIT_FILE: &str = "audit.jsonl";
/// The upgrade or rollback transaction in flight.
pub const JOURNAL_FILE: &str = "journal.json";
/// The release cascade in flight.
pub const CASCADE_JOURNAL_FILE: &str = "cascade-journal.json";
/// The pack install in flight.
pub const PACK_JOURNAL_FILE: &str = "pack-journal.json";
/// One mutating command at a time.
pub const LOCK_FILE: &str = "lock";
/// Registry responses with their ETags.
pub const CACHE_DIR: &str = "cache";
/// The SQLite state database (packs, fleet).
pub const STATE_DB: &str = "state.db";
/// Installed packs.
pub const PACKS_DIR: &str = "packs";

/// `ROOT/.lockstep`.
pub fn state_dir(root: &Path) -> PathBuf {
    root.join(STATE_DIR)
}

/// The nearest directory at or above `dir` that holds `.git` (a work tree's root).
pub fn work_tree_root(dir: &Path) -> Option<PathBuf> {
    dir.ancestors()
        .find(|d| d.join(".git").exists())
        .map(Path::to_path_buf)
}
