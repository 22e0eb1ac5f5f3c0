//! Loading releases from a registry spec, with the cache in the vertical's state directory.

use std::path::Path;

use lockstep_manifest::Release;

pub use lockstep_registry::Error;

/// Loads every release (drafts excluded, SemVer order) from `spec`. `state_dir` is the
/// `.lockstep/` directory whose `cache/` keeps ETags; `None` disables caching.
pub fn load(spec: &str, state_dir: Option<&Path>) -> Result<Vec<Release>, Error> {
    let mut options = lockstep_registry::Options::from_env();
    options.cache_dir = state_dir.map(|d| d.join("cache"));
    let source = lockstep_registry::open(spec, &options)?;
    source.releases()
}
