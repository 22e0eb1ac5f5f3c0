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

/// The identity lockstep commits and tags as when the repository configures none.
fn fallback_identity() -> lockstep_snapshot::Identity {
    lockstep_snapshot::Identity::new("lockstep", "lockstep@localhost")
}

/// Runs `op` as the configured identity, and again as lockstep's own when none is configured.
fn with_identity<T>(
    op: impl Fn(Option<&lockstep_snapshot::Identity>) -> lockstep_snapshot::Result<T>,
) -> lockstep_snapshot::Result<T> {
    match op(None) {
        Err(e) if e.kind() == lockstep_snapshot::ErrorKind::NoIdentity => {
            op(Some(&fallback_identity()))
        }
        other => other,
    }
}

/// [`lockstep_snapshot::commit`] as the configured identity, else as lockstep.
pub fn commit(
    root: &Path,
    message: &str,
    paths: &[impl AsRef<Path>],
) -> lockstep_snapshot::Result<lockstep_snapshot::ObjectId> {
    with_identity(|who| lockstep_snapshot::commit(root, message, paths, who))
}

/// [`lockstep_snapshot::create_tag`] as the configured identity, else as lockstep.
pub fn create_tag(root: &Path, name: &str, message: &str) -> lockstep_snapshot::Result<()> {
    with_identity(|who| lockstep_snapshot::create_tag(root, name, message, who)).map(drop)
}
