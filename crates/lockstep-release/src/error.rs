//! What can go wrong while loading a cascade config and discovering its repositories.

use std::path::PathBuf;

/// Everything that can go wrong in [`load`](super::load), [`discover`](super::discover) and
/// [`status`](super::status). Each variant names the file or repository it concerns.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The config file could not be read.
    #[error(
        "cannot read cascade config {path}: {source}; pass --config FILE to name another, or run `release-cascade --demo` to see one"
    )]
    ReadConfig {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The config file is not a valid `cascade.toml`.
    #[error("{path}: {source}")]
    InvalidConfig {
        /// The file.
        path: PathBuf,
        /// Every problem, with line, column and field.
        source: lockstep_manifest::Invalid,
    },
    /// A repository's `path` is not a directory.
    #[error("repository {repo}: {dir} is not a directory; `path` is relative to cascade.toml")]
    RepoMissing {
        /// The repository's name.
        repo: String,
        /// Where it was expected.
        dir: PathBuf,
    },
    /// A repository given by `url` has no local checkout: lockstep does not clone.
    #[error(
        "repository {repo}: {url} is not checked out; clone it to {dir} or give its `path` instead"
    )]
    NotCloned {
        /// The repository's name.
        repo: String,
        /// Its URL.
        url: String,
        /// Where the checkout is looked for.
        dir: PathBuf,
    },
    /// A repository has none of `Cargo.toml`, `package.json` and `pyproject.toml` at its root.
    #[error(
        "repository {repo}: no Cargo.toml, package.json or pyproject.toml at {dir}; a cascade needs packages"
    )]
    NoManifest {
        /// The repository's name.
        repo: String,
        /// Its root.
        dir: PathBuf,
    },
    /// A manifest or a member directory could not be read.
    #[error("repository {repo}: cannot read {path}")]
    Read {
        /// The repository's name.
        repo: String,
        /// The file or directory.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A manifest could not be understood.
    #[error("repository {repo}: {path}: {source}")]
    Manifest {
        /// The repository's name.
        repo: String,
        /// The manifest.
        path: PathBuf,
        /// What is wrong with it (boxed: the pins error is large).
        source: Box<lockstep_pins::Error>,
    },
    /// A workspace member pattern is not a valid glob.
    #[error(
        "repository {repo}: workspace member pattern {pattern:?} is not a valid glob: {message}"
    )]
    BadGlob {
        /// The repository's name.
        repo: String,
        /// The pattern as written.
        pattern: String,
        /// What is wrong with it.
        message: String,
    },
    /// A package's version cannot be released: not SemVer, inherited from nowhere or computed
    /// by the build backend.
    #[error("repository {repo}: package {package} in {path}: {reason}")]
    BadVersion {
        /// The repository's name.
        repo: String,
        /// The package.
        package: String,
        /// Its manifest.
        path: PathBuf,
        /// What is wrong and what would be accepted.
        reason: String,
    },
    /// The repository's tags follow several conventions equally often.
    #[error(
        "repository {repo}: its release tags follow several conventions equally often ({}); say which in cascade.toml with tag = \"{}\" (placeholders {{name}} and {{version}})", candidates.join(", "), candidates.first().map(String::as_str).unwrap_or("{name}-v{version}")
    )]
    AmbiguousTags {
        /// The repository's name.
        repo: String,
        /// The conventions that match.
        candidates: Vec<String>,
    },
    /// A tag format gives two packages the same tags.
    #[error(
        "repository {repo}: tag = \"{format}\" in cascade.toml gives {} the same tags (their names without scope are equal); use {{name}} instead of {{unscoped}}",
        packages.join(" and ")
    )]
    TagCollision {
        /// The repository's name.
        repo: String,
        /// The configured format.
        format: String,
        /// The packages whose tags would collide.
        packages: Vec<String>,
    },
    /// Two repositories (or two manifests of one) declare the same package.
    #[error(
        "package {package} is declared twice: in {first} and in {second}; package names must be unique across the cascade"
    )]
    DuplicatePackage {
        /// The package.
        package: String,
        /// The first manifest (`repo:path`).
        first: String,
        /// The second manifest (`repo:path`).
        second: String,
    },
    /// `reexports` names a package no repository declares.
    #[error(
        "repository {repo}: reexports names {package}, which no repository of the cascade declares"
    )]
    UnknownReexport {
        /// The repository whose entry names it.
        repo: String,
        /// The name.
        package: String,
    },
    /// A git operation on a repository failed (reading HEAD or tags).
    #[error("repository {repo}: {source}")]
    Git {
        /// The repository's name.
        repo: String,
        /// What failed.
        source: lockstep_snapshot::Error,
    },
    /// A repository's HEAD has no commit yet.
    #[error("repository {repo} has no commit yet; commit before releasing")]
    UnbornHead {
        /// The repository's name.
        repo: String,
    },
    /// The discovered packages and edges do not form a valid graph (a dependency cycle, say).
    #[error(transparent)]
    Graph(#[from] lockstep_cascade::Error),
}

impl Error {
    /// A short machine-readable kind, as the command line's error JSON carries.
    pub fn kind(&self) -> &'static str {
        match self {
            Error::ReadConfig { .. } | Error::Read { .. } => "io",
            Error::InvalidConfig { .. } => "invalid_config",
            Error::RepoMissing { .. } => "repo_missing",
            Error::NotCloned { .. } => "not_cloned",
            Error::NoManifest { .. } => "no_manifest",
            Error::AmbiguousTags { .. } => "ambiguous_tags",
            Error::TagCollision { .. } => "tag_collision",
            Error::Manifest { .. } | Error::BadGlob { .. } | Error::BadVersion { .. } => {
                "invalid_manifest"
            }
            Error::DuplicatePackage { .. } => "duplicate_package",
            Error::UnknownReexport { .. } => "unknown_package",
            Error::Git { .. } | Error::UnbornHead { .. } => "git",
            Error::Graph(_) => "graph",
        }
    }
}

impl lockstep_state::Classify for Error {
    fn kind(&self) -> &'static str {
        Error::kind(self)
    }
}
