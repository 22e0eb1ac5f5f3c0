//! Loading `cascade.toml` from disk.

use std::path::{Path, PathBuf};

use lockstep_manifest::{CascadeConfig, RepoEntry, RepoSource};

use super::Error;

/// Where checkouts of repositories given by `url` are looked for, relative to the directory of
/// `cascade.toml`.
pub const CHECKOUTS_DIR: &str = ".lockstep/checkouts";

/// A `cascade.toml` read from disk, with where it was found.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct LoadedConfig {
    /// The file as given.
    pub path: PathBuf,
    /// The directory repository paths are relative to (the file's directory).
    pub dir: PathBuf,
    /// The parsed config.
    pub config: CascadeConfig,
}

impl LoadedConfig {
    /// Parses `text` as if read from `path` (for callers that already hold the text).
    pub fn from_text(path: &Path, text: &str) -> Result<LoadedConfig, Error> {
        let config = CascadeConfig::parse(text).map_err(|source| Error::InvalidConfig {
            path: path.to_owned(),
            source,
        })?;
        let dir = match path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_owned(),
            _ => PathBuf::from("."),
        };
        Ok(LoadedConfig {
            path: path.to_owned(),
            dir,
            config,
        })
    }

    /// Where a repository's work tree is: its `path` joined to the config's directory, or for
    /// a `url`, its checkout under [`CHECKOUTS_DIR`].
    pub fn repo_dir(&self, entry: &RepoEntry) -> PathBuf {
        match &entry.source {
            RepoSource::Path(p) => self.dir.join(p),
            RepoSource::Url(_) => self.dir.join(CHECKOUTS_DIR).join(&entry.name),
        }
    }
}

/// Reads and validates the cascade config at `path`.
pub fn load(path: &Path) -> Result<LoadedConfig, Error> {
    let _span = tracing::debug_span!("load_cascade_config", path = %path.display()).entered();
    let text = std::fs::read_to_string(path).map_err(|source| Error::ReadConfig {
        path: path.to_owned(),
        source,
    })?;
    LoadedConfig::from_text(path, &text)
}
