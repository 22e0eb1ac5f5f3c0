//! Loading releases from a registry spec (temporary: local files only).

use std::path::Path;

use lockstep_manifest::Release;

/// Temporary error.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct Error(String);

/// Loads releases.
pub fn load(spec: &str, _state_dir: Option<&Path>) -> Result<Vec<Release>, Error> {
    let p = Path::new(spec);
    let p = if p.is_dir() {
        p.join("releases.json")
    } else {
        p.to_path_buf()
    };
    let text = std::fs::read_to_string(&p).map_err(|e| Error(format!("{}: {e}", p.display())))?;
    lockstep_manifest::ReleaseIndex::parse(&text)
        .map(|i| i.releases)
        .map_err(|e| Error(e.to_string()))
}
