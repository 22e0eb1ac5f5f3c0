//! The git questions the engine asks, answered by `lockstep-snapshot`.

use std::path::Path;

/// The latest tag reachable from HEAD (`git describe --tags --abbrev=0`), if any.
pub fn describe_tag(root: &Path) -> Option<String> {
    match lockstep_snapshot::describe(root) {
        Ok(found) => found.map(|d| d.tag),
        Err(e) => {
            tracing::debug!(root = %root.display(), error = %e, "git describe failed");
            None
        }
    }
}
