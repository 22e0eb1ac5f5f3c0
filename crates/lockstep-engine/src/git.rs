//! The git questions the engine asks, answered by `lockstep-snapshot`.

use std::path::Path;

/// The latest tag reachable from HEAD (`git describe --tags --abbrev=0`).
pub fn describe_tag(_root: &Path) -> Option<String> {
    None // INTEGRATE: lockstep-snapshot
}
