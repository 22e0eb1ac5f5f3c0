//! The typed result of a restore: what was checked and every difference found.

use crate::id::ObjectId;

/// The outcome of a restore (or of [`verify`](crate::verify())): where HEAD should be, what the
/// restore changed, and every way the repository differs from the snapshot.
///
/// A restore that returns `Ok` may still not be verified: check [`Verification::is_verified`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Verification {
    /// The commit HEAD must be at.
    pub commit: ObjectId,
    /// The branch HEAD must be on (`None`: the snapshot was taken on a detached HEAD).
    pub branch: Option<String>,
    /// Tracked files the restore wrote (0 for a plain verification).
    pub files_written: usize,
    /// Tracked files the restore removed (0 for a plain verification).
    pub files_removed: usize,
    /// Copied files the restore wrote or removed (0 for a plain verification).
    pub copies_restored: usize,
    /// Every difference found after the restore; empty when verified.
    pub mismatches: Vec<Mismatch>,
}

impl Verification {
    /// True when HEAD, index, tracked files and copied files all equal the snapshot.
    pub fn is_verified(&self) -> bool {
        self.mismatches.is_empty()
    }
}

/// One way the repository differs from its snapshot.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Mismatch {
    /// HEAD resolves to another commit (or to none).
    Head {
        /// The snapshot's commit.
        expected: ObjectId,
        /// Where HEAD is.
        actual: Option<ObjectId>,
    },
    /// HEAD is on another branch, or detached.
    Branch {
        /// The snapshot's branch.
        expected: Option<String>,
        /// HEAD's branch now.
        actual: Option<String>,
    },
    /// The index entry for this path differs from the snapshot's tree (or is extra, or missing).
    Index {
        /// Path relative to the work tree's root.
        path: String,
    },
    /// The tracked file at this path differs from the index (content, mode, or missing).
    WorkTree {
        /// Path relative to the work tree's root.
        path: String,
    },
    /// A copied file in the work tree does not hash as recorded (or exists when it should not,
    /// or is missing).
    CopiedFile {
        /// Path relative to the work tree's root.
        path: String,
        /// The recorded sha256, `None` when the file must not exist.
        expected: Option<String>,
        /// The sha256 found, `None` when the file does not exist.
        actual: Option<String>,
    },
    /// The stored copy of a file does not hash as recorded, so it was not restored.
    StoredCopy {
        /// Path relative to the work tree's root.
        path: String,
        /// The recorded sha256.
        expected: String,
        /// The stored copy's sha256, `None` when the copy is missing.
        actual: Option<String>,
    },
}

impl std::fmt::Display for Mismatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let or_none = |s: &Option<String>| s.clone().unwrap_or_else(|| "(none)".into());
        match self {
            Mismatch::Head { expected, actual } => write!(
                f,
                "HEAD is at {} instead of {expected}",
                actual
                    .as_ref()
                    .map_or("(no commit)".into(), ObjectId::to_string)
            ),
            Mismatch::Branch { expected, actual } => write!(
                f,
                "HEAD is on {} instead of {}",
                actual.as_deref().unwrap_or("(detached)"),
                expected.as_deref().unwrap_or("(detached)")
            ),
            Mismatch::Index { path } => write!(f, "index entry {path} differs from the snapshot"),
            Mismatch::WorkTree { path } => write!(f, "tracked file {path} differs from the index"),
            Mismatch::CopiedFile {
                path,
                expected,
                actual,
            } => write!(
                f,
                "copied file {path} has sha256 {} instead of {}",
                or_none(actual),
                or_none(expected)
            ),
            Mismatch::StoredCopy {
                path,
                expected,
                actual,
            } => write!(
                f,
                "stored copy of {path} has sha256 {} instead of {expected}; not restored",
                or_none(actual)
            ),
        }
    }
}
