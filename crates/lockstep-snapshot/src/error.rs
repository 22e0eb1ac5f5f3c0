//! The crate's one error type, with the repository, ref or file it concerns in its fields.

use std::fmt;
use std::path::PathBuf;

/// Everything that can go wrong in this crate.
///
/// Each variant names what it concerns (repository, snapshot id, tag, file) in fields;
/// [`Error::kind`] is what callers branch on.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// `repo` is not a git work tree (missing, bare, or not a repository).
    #[error("cannot open git work tree at {repo}")]
    NotARepository {
        /// The directory that was given.
        repo: PathBuf,
        /// Why it could not be opened.
        #[source]
        source: Cause,
    },
    /// The work tree has tracked changes (modified, staged, deleted or conflicted paths).
    #[error("work tree at {repo} has uncommitted changes to tracked files: {}", paths.join(", "))]
    Dirty {
        /// The repository's work tree.
        repo: PathBuf,
        /// Every path with a tracked change, sorted.
        paths: Vec<String>,
    },
    /// HEAD points at a branch with no commit yet.
    #[error("HEAD of {repo} has no commit yet")]
    UnbornHead {
        /// The repository's work tree.
        repo: PathBuf,
    },
    /// A snapshot with this id already exists (as a ref or in the store).
    #[error("snapshot {id} already exists in {repo}")]
    SnapshotExists {
        /// The repository's work tree.
        repo: PathBuf,
        /// The snapshot id.
        id: String,
    },
    /// There is no snapshot with this id (no ref, or no record in the store).
    #[error("no snapshot {id} in {repo}")]
    SnapshotNotFound {
        /// The repository's work tree.
        repo: PathBuf,
        /// The snapshot id.
        id: String,
    },
    /// A snapshot record exists but cannot be read as one.
    #[error("snapshot record {path} is not valid")]
    InvalidRecord {
        /// The record file.
        path: PathBuf,
        /// What is wrong with it.
        #[source]
        source: Cause,
    },
    /// A snapshot id that cannot be a ref name component.
    #[error("invalid snapshot id {id:?}: {reason}")]
    InvalidId {
        /// The rejected id.
        id: String,
        /// What would be accepted.
        reason: &'static str,
    },
    /// A path that is not a relative path inside the work tree.
    #[error("path {path:?} is not a relative path inside the work tree {repo}")]
    InvalidPath {
        /// The repository's work tree.
        repo: PathBuf,
        /// The rejected path.
        path: PathBuf,
    },
    /// A tag name that git would not accept.
    #[error("invalid tag name {name:?}")]
    InvalidTagName {
        /// The rejected name.
        name: String,
        /// Why it was rejected.
        #[source]
        source: Cause,
    },
    /// The named tag does not exist.
    #[error("tag {name} not found in {repo}")]
    TagNotFound {
        /// The repository's work tree.
        repo: PathBuf,
        /// The tag name, without `refs/tags/`.
        name: String,
    },
    /// The named tag already exists.
    #[error("tag {name} already exists in {repo}")]
    TagExists {
        /// The repository's work tree.
        repo: PathBuf,
        /// The tag name, without `refs/tags/`.
        name: String,
    },
    /// A commit was asked for but nothing differs from HEAD.
    #[error("nothing to commit in {repo}")]
    NothingToCommit {
        /// The repository's work tree.
        repo: PathBuf,
    },
    /// No committer identity: none given, and `user.name`/`user.email` are not configured.
    #[error("no identity to commit with in {repo}: set user.name and user.email or pass one")]
    NoIdentity {
        /// The repository's work tree.
        repo: PathBuf,
    },
    /// Files could not be written while resetting the work tree.
    #[error("could not write {} path(s) in {repo}: {}", paths.len(), paths.join(", "))]
    Checkout {
        /// The repository's work tree.
        repo: PathBuf,
        /// The paths that were not written.
        paths: Vec<String>,
    },
    /// A file system operation failed.
    #[error("cannot {op} {path}")]
    Io {
        /// What was being done (`read`, `write`, `remove`, …).
        op: &'static str,
        /// The file or directory.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// A git operation failed.
    #[error("git {op} failed in {repo}")]
    Git {
        /// The repository's work tree.
        repo: PathBuf,
        /// The operation (`status`, `read HEAD`, `update ref`, …).
        op: &'static str,
        /// Why it failed.
        #[source]
        source: Cause,
    },
}

/// What kind of [`Error`] happened: the part of an error callers branch on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The directory is not a git work tree.
    NotARepository,
    /// The work tree has tracked changes; the user must commit or stash first.
    Dirty,
    /// HEAD has no commit.
    UnbornHead,
    /// The snapshot or tag already exists.
    AlreadyExists,
    /// The snapshot or tag does not exist.
    NotFound,
    /// Input that cannot be accepted: an id, a path, a tag name.
    InvalidInput,
    /// Stored data (a snapshot record) is not what this crate wrote.
    Corrupt,
    /// Nothing differs from HEAD.
    NothingToCommit,
    /// No committer identity is configured or given.
    NoIdentity,
    /// A file system operation failed.
    Io,
    /// A git operation failed.
    Git,
}

impl Error {
    /// What kind of error this is.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::NotARepository { .. } => ErrorKind::NotARepository,
            Error::Dirty { .. } => ErrorKind::Dirty,
            Error::UnbornHead { .. } => ErrorKind::UnbornHead,
            Error::SnapshotExists { .. } | Error::TagExists { .. } => ErrorKind::AlreadyExists,
            Error::SnapshotNotFound { .. } | Error::TagNotFound { .. } => ErrorKind::NotFound,
            Error::InvalidId { .. } | Error::InvalidPath { .. } | Error::InvalidTagName { .. } => {
                ErrorKind::InvalidInput
            }
            Error::InvalidRecord { .. } => ErrorKind::Corrupt,
            Error::NothingToCommit { .. } => ErrorKind::NothingToCommit,
            Error::NoIdentity { .. } => ErrorKind::NoIdentity,
            Error::Io { .. } => ErrorKind::Io,
            Error::Git { .. } | Error::Checkout { .. } => ErrorKind::Git,
        }
    }

    pub(crate) fn io(op: &'static str, path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            op,
            path: path.into(),
            source,
        }
    }
}

/// The underlying cause of an [`Error`], kept opaque so that no dependency's error type becomes
/// part of this crate's API. Read it through [`std::error::Error::source`] and `Display`.
pub struct Cause(Box<dyn std::error::Error + Send + Sync + 'static>);

impl Cause {
    pub(crate) fn new(err: impl std::error::Error + Send + Sync + 'static) -> Self {
        Cause(Box::new(err))
    }

    pub(crate) fn msg(msg: impl Into<String>) -> Self {
        Cause(msg.into().into())
    }
}

impl fmt::Debug for Cause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.0, f)
    }
}

impl fmt::Display for Cause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl std::error::Error for Cause {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.0.source()
    }
}

/// Shorthand for this crate's results.
pub type Result<T, E = Error> = std::result::Result<T, E>;
