//! Ecosystems and dependency kinds.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// The packaging ecosystem of a package: which manifest it has and how its pins are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Ecosystem {
    /// Rust: `Cargo.toml`; requirements in Cargo syntax (a bare `1.2` is `^1.2`).
    Cargo,
    /// JavaScript: `package.json`; requirements in npm syntax (a bare `1.2` is `1.2.x`).
    Npm,
    /// Python: `pyproject.toml` (PEP 621, Poetry, uv); PEP 440 specifiers.
    Python,
}

impl Ecosystem {
    /// Every ecosystem, in a fixed order.
    pub const ALL: [Ecosystem; 3] = [Ecosystem::Cargo, Ecosystem::Npm, Ecosystem::Python];

    /// The ecosystem whose manifest has this file name (the last path component, exactly).
    ///
    /// ```
    /// use lockstep_vocab::Ecosystem;
    /// assert_eq!(Ecosystem::from_file_name("crates/a/Cargo.toml"), Some(Ecosystem::Cargo));
    /// assert_eq!(Ecosystem::from_file_name("setup.py"), None);
    /// ```
    pub fn from_file_name(name: &str) -> Option<Self> {
        let base = name.rsplit(['/', '\\']).next().unwrap_or(name);
        Self::ALL
            .into_iter()
            .find(|eco| eco.manifest_file_name() == base)
    }

    /// The manifest's file name: `Cargo.toml`, `package.json` or `pyproject.toml`.
    pub fn manifest_file_name(self) -> &'static str {
        match self {
            Ecosystem::Cargo => "Cargo.toml",
            Ecosystem::Npm => "package.json",
            Ecosystem::Python => "pyproject.toml",
        }
    }

    /// `cargo`, `npm` or `python`, as in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Ecosystem::Cargo => "cargo",
            Ecosystem::Npm => "npm",
            Ecosystem::Python => "python",
        }
    }
}

impl fmt::Display for Ecosystem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Ecosystem {
    type Err = ParseNameError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "cargo" => Ok(Ecosystem::Cargo),
            "npm" => Ok(Ecosystem::Npm),
            "python" => Ok(Ecosystem::Python),
            _ => Err(ParseNameError {
                input: s.to_owned(),
                expected: "cargo, npm or python",
            }),
        }
    }
}

/// A word that is not one of the accepted ones (an [`Ecosystem`], a [`DepKind`] or a
/// [`Bump`](crate::Bump)).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{input}` is not accepted; expected {expected}")]
pub struct ParseNameError {
    /// What was given.
    pub input: String,
    /// What would be accepted.
    pub expected: &'static str,
}

/// How a dependent needs its dependency.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DepKind {
    /// Needed to build and run the dependent (Cargo `[dependencies]`, npm `dependencies`,
    /// `peerDependencies` and `optionalDependencies`, Python `[project] dependencies`).
    Normal,
    /// Needed to build the dependent (Cargo `[build-dependencies]`, Python
    /// `[build-system] requires`): treated like [`DepKind::Normal`] when releasing.
    Build,
    /// Needed only for tests and development: does not order releases, and a cycle through
    /// dev-dependencies is allowed, as in Cargo.
    Dev,
    /// Declared in Cargo's `[workspace.dependencies]` for members to inherit; not an edge of
    /// the manifest's own package.
    Workspace,
}

impl DepKind {
    /// `normal`, `build`, `dev` or `workspace`.
    pub fn as_str(self) -> &'static str {
        match self {
            DepKind::Normal => "normal",
            DepKind::Build => "build",
            DepKind::Dev => "dev",
            DepKind::Workspace => "workspace",
        }
    }

    /// Whether this edge orders releases and cascades them (normal and build edges do).
    pub fn orders(self) -> bool {
        matches!(self, DepKind::Normal | DepKind::Build)
    }
}

impl fmt::Display for DepKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for DepKind {
    type Err = ParseNameError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "normal" => Ok(DepKind::Normal),
            "build" => Ok(DepKind::Build),
            "dev" => Ok(DepKind::Dev),
            "workspace" => Ok(DepKind::Workspace),
            _ => Err(ParseNameError {
                input: s.to_owned(),
                expected: "normal, build, dev or workspace",
            }),
        }
    }
}
