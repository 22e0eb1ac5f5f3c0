//! The input vocabulary: packages, the repositories that hold them, and the edges between them.

use semver::Version;
use serde::{Deserialize, Serialize};

pub use lockstep_vocab::{DepKind, Ecosystem, ParseNameError};

/// How a dependent pins its dependency, as written in its manifest.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind", content = "value")]
pub enum PinSpec {
    /// A version requirement in the ecosystem's syntax (`^1.2`, `1.2.3`, `>=1.2,<2`, `~=1.2`).
    /// A Cargo path or git dependency that also carries a `version` key is this.
    Requirement(String),
    /// A git tag (`v1.2.0`, `core-v1.2.0`).
    GitTag(String),
    /// A git commit id.
    GitRev(String),
    /// A path to the dependency's sources; nothing to rewrite.
    Path(String),
}

impl PinSpec {
    /// The value as written in the manifest.
    pub fn as_str(&self) -> &str {
        match self {
            PinSpec::Requirement(s)
            | PinSpec::GitTag(s)
            | PinSpec::GitRev(s)
            | PinSpec::Path(s) => s,
        }
    }
}

/// One releasable package.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Package {
    /// The package's name, unique across all repositories.
    pub name: String,
    /// The repository that holds it (a [`Repo::name`]).
    pub repo: String,
    /// Its ecosystem.
    pub ecosystem: Ecosystem,
    /// Its current version (the one its manifest states).
    pub version: Version,
    /// Its manifest, relative to the repository root (`crates/foo/Cargo.toml`).
    pub manifest: String,
    /// Upstream packages it re-exports: when one of them has a breaking release, so does this
    /// package.
    pub reexports: Vec<String>,
    /// `false` for a package never published to a registry (Cargo `publish = false`): it is
    /// released only when another package pins it by git tag or revision (or it starts the
    /// cascade); otherwise it only gets its requirement rewrites ("edited, not released").
    pub publish: bool,
    /// The package's release tag format, when its repository has one of its own (read from
    /// its tags or `cascade.toml`); `None` means `vX.Y.Z` in a repository holding one package
    /// and `NAME-vX.Y.Z` in one holding several.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tag: Option<lockstep_vocab::TagFormat>,
    /// The version lives in the package's release tags, not in its manifest (hatch-vcs,
    /// setuptools-scm, an npm `0.0.0-dev` placeholder): a release creates the tag and edits
    /// no version field.
    #[serde(default)]
    pub tag_versioned: bool,
}

impl Package {
    /// A package that re-exports nothing.
    pub fn new(
        name: impl Into<String>,
        repo: impl Into<String>,
        ecosystem: Ecosystem,
        version: Version,
        manifest: impl Into<String>,
    ) -> Self {
        Package {
            name: name.into(),
            repo: repo.into(),
            ecosystem,
            version,
            manifest: manifest.into(),
            reexports: Vec::new(),
            publish: true,
            tag: None,
            tag_versioned: false,
        }
    }

    /// The same package, versioned by its release tags rather than its manifest.
    #[must_use]
    pub fn tag_versioned(mut self) -> Self {
        self.tag_versioned = true;
        self
    }

    /// The same package with its own release tag format.
    #[must_use]
    pub fn with_tag_format(mut self, format: lockstep_vocab::TagFormat) -> Self {
        self.tag = Some(format);
        self
    }

    /// The same package, marked as never published to a registry.
    #[must_use]
    pub fn unpublished(mut self) -> Self {
        self.publish = false;
        self
    }

    /// The same package, declaring that it re-exports `upstream`.
    #[must_use]
    pub fn reexporting(mut self, upstream: impl Into<String>) -> Self {
        self.reexports.push(upstream.into());
        self
    }
}

/// `dependent` depends on `dependency`, pinned by `pin` in `file`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Edge {
    /// The package that has the dependency.
    pub dependent: String,
    /// The package depended on.
    pub dependency: String,
    /// Normal, build or dev.
    pub kind: DepKind,
    /// The pin as written.
    pub pin: PinSpec,
    /// The file that holds the pin, relative to the dependent's repository root (usually the
    /// dependent's manifest; a Cargo workspace root for `[workspace.dependencies]`).
    pub file: String,
}

impl Edge {
    /// An edge; see the fields.
    pub fn new(
        dependent: impl Into<String>,
        dependency: impl Into<String>,
        kind: DepKind,
        pin: PinSpec,
        file: impl Into<String>,
    ) -> Self {
        Edge {
            dependent: dependent.into(),
            dependency: dependency.into(),
            kind,
            pin,
            file: file.into(),
        }
    }
}

/// Per-repository facts the caller passes in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Repo {
    /// The repository's name (from `cascade.toml`).
    pub name: String,
    /// Its HEAD commit id: part of the plan's digest.
    pub head: String,
    /// The smoke command to run after the pins change, if any.
    pub smoke: Option<String>,
    /// The command that regenerates its lockfile, if any.
    pub lockfile_command: Option<String>,
    /// How its releases are published: a command run after tagging, or `ci` (the tag push
    /// triggers CI); `None` when nothing is published (git pins only).
    #[serde(default)]
    pub publish: Option<String>,
}

impl Repo {
    /// A repository without smoke or lockfile commands.
    pub fn new(name: impl Into<String>, head: impl Into<String>) -> Self {
        Repo {
            name: name.into(),
            head: head.into(),
            smoke: None,
            lockfile_command: None,
            publish: None,
        }
    }

    /// The same repository with a smoke command.
    #[must_use]
    pub fn with_smoke(mut self, command: impl Into<String>) -> Self {
        self.smoke = Some(command.into());
        self
    }

    /// The same repository, publishing its releases with `command` (or `ci`).
    #[must_use]
    pub fn with_publish(mut self, command: impl Into<String>) -> Self {
        self.publish = Some(command.into());
        self
    }

    /// The same repository with a lockfile command.
    #[must_use]
    pub fn with_lockfile_command(mut self, command: impl Into<String>) -> Self {
        self.lockfile_command = Some(command.into());
        self
    }
}
