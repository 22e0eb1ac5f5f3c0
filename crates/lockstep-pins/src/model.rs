//! The data this crate reads and returns.

use std::fmt;

pub use lockstep_vocab::{Bump, DepKind, Ecosystem};

/// Where an entry sits in a manifest: a table (or JSON object) and an entry in it.
///
/// Displays as `[dependencies].core`, `[target.'cfg(unix)'.dependencies].core`,
/// `devDependencies.core`, `[project].dependencies[2]`, or just `version` for
/// a top-level JSON key (whose table is empty).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Location {
    /// The table, as a TOML header (`[dev-dependencies]`) or a JSON key (`devDependencies`).
    pub table: String,
    /// The entry in it: a key (`core`) or an array element (`dependencies[2]`).
    pub entry: String,
}

impl Location {
    pub(crate) fn new(table: impl Into<String>, entry: impl Into<String>) -> Self {
        Location {
            table: table.into(),
            entry: entry.into(),
        }
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.table.is_empty() {
            f.write_str(&self.entry)
        } else {
            write!(f, "{}.{}", self.table, self.entry)
        }
    }
}

/// Which git reference a git dependency follows.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum GitRef {
    /// A tag (Cargo and Poetry `tag`; in npm URLs and PEP 508 direct
    /// references, any reference that is not a hexadecimal commit id, since
    /// those formats cannot tell a tag from a branch).
    Tag(String),
    /// A commit (Cargo and Poetry `rev`; in URLs, 7 to 40 hex digits).
    Rev(String),
    /// A branch (Cargo and Poetry `branch`).
    Branch(String),
    /// An npm `#semver:RANGE` fragment: the highest matching tag.
    Semver(String),
    /// No reference: the remote's default branch.
    DefaultBranch,
}

/// How a dependency is pinned, as written in the manifest.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Pin {
    /// A version requirement from a registry, as written (`^1.2`, `>=1.0,<2`, `~1.4.0`, npm dist-tags such as `latest`).
    Version(String),
    /// A git repository.
    Git {
        /// The repository URL as written (npm shorthands such as `github:o/r` kept as is).
        url: String,
        /// The reference followed.
        reference: GitRef,
        /// A version requirement written beside the git source (Cargo and Poetry allow one).
        version: Option<String>,
    },
    /// A local path.
    Path {
        /// The path as written, without npm's `file:` prefix.
        path: String,
        /// A version requirement written beside the path (Cargo allows one).
        version: Option<String>,
    },
    /// A direct URL to an archive (npm tarball URL, PEP 508 `@ https://…`, Poetry or uv `url`).
    Url(String),
    /// The pin is declared elsewhere and inherited: Cargo `workspace = true`,
    /// uv `workspace = true`, npm `workspace:` protocol.
    Inherited,
    /// No constraint at all (a bare PEP 508 name such as `"requests"`).
    Any,
}

impl Pin {
    /// Describes the pin in words, for messages: `version requirement ^1.2`,
    /// `a git dependency on tag v1.0.0`, ….
    pub fn describe(&self) -> String {
        match self {
            Pin::Version(v) => format!("a version requirement `{v}`"),
            Pin::Git { reference, .. } => match reference {
                GitRef::Tag(t) => format!("a git dependency on tag `{t}`"),
                GitRef::Rev(r) => format!("a git dependency on rev `{r}`"),
                GitRef::Branch(b) => format!("a git dependency on branch `{b}`"),
                GitRef::Semver(s) => format!("a git dependency on semver range `{s}`"),
                GitRef::DefaultBranch => "a git dependency on the default branch".to_owned(),
            },
            Pin::Path { path, .. } => format!("a path dependency on `{path}`"),
            Pin::Url(u) => format!("a direct URL `{u}`"),
            Pin::Inherited => "inherited from the workspace".to_owned(),
            Pin::Any => "unconstrained".to_owned(),
        }
    }
}

/// One dependency entry of a manifest.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct Dependency {
    /// The real package name: Cargo's `package = "…"` and npm's `npm:name@…`
    /// aliases resolved; for Python, the name as written (compare with
    /// [`normalize_python_name`]).
    pub name: String,
    /// The key or name as written in the manifest (differs from `name` for renames).
    pub key: String,
    /// Which kind of edge this is.
    pub kind: DepKind,
    /// The Cargo target condition of a `[target.'cfg(…)'.dependencies]` table, as written.
    pub target: Option<String>,
    /// Where the entry is written.
    pub location: Location,
    /// How it is pinned.
    pub pin: Pin,
}

/// A pin value this crate can write.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum PinValue {
    /// A version requirement (`^1.3`, `1.3.0`, `>=1.3,<2`), written verbatim.
    Version(String),
    /// A git tag (`v1.3.0`).
    Tag(String),
    /// A git commit id.
    Rev(String),
}

impl PinValue {
    /// The value as written in the manifest, without its kind.
    pub fn as_str(&self) -> &str {
        match self {
            PinValue::Version(s) | PinValue::Tag(s) | PinValue::Rev(s) => s,
        }
    }

    /// `version`, `tag` or `rev`.
    pub fn kind_str(&self) -> &'static str {
        match self {
            PinValue::Version(_) => "version",
            PinValue::Tag(_) => "tag",
            PinValue::Rev(_) => "rev",
        }
    }
}

impl fmt::Display for PinValue {
    /// `version ^1.3`, `tag v1.3.0`, `rev 0a1b2c3`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} `{}`", self.kind_str(), self.as_str())
    }
}

/// One change an edit made.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Change {
    /// The entry that changed.
    pub location: Location,
    /// The dependency's package name; for version edits the package's own
    /// name (empty when the file names no package, as a virtual manifest).
    pub name: String,
    /// The value before; `None` when the entry had no value of this kind
    /// (a tag added to a git dependency on its default branch, a version
    /// specifier added to a bare Python name).
    pub from: Option<PinValue>,
    /// The value after.
    pub to: PinValue,
}

/// An entry an edit found but deliberately left alone.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Skipped {
    /// The entry.
    pub location: Location,
    /// Why it was left alone.
    pub reason: SkipReason,
}

/// Why an edit left an entry alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum SkipReason {
    /// It already holds the requested value.
    AlreadySet,
    /// It inherits its pin from elsewhere (`workspace = true`) and follows that.
    Inherited,
    /// It is a path dependency, which follows the path: it takes no tag or
    /// rev, and no version unless one is written beside the path.
    PathOnly,
    /// It is unconstrained and its git source is declared in another entry
    /// (a PEP 508 name whose `[tool.uv.sources]` entry holds the tag).
    SourceElsewhere,
}

/// The result of an edit: the new text and what changed.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Edit {
    /// The whole new file. Every byte outside the changed values is as before.
    pub text: String,
    /// Every change made, in file order. Empty when everything already held the value.
    pub changes: Vec<Change>,
    /// Entries found but left alone, with the reason.
    pub skipped: Vec<Skipped>,
}

/// How a package declares its own version.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum OwnVersion {
    /// Written in this file.
    Declared {
        /// The version as written.
        version: String,
        /// Where it is written: `[package].version`, `[workspace.package].version`, `version`, ….
        location: Location,
    },
    /// Inherited from the Cargo workspace root (`version.workspace = true`).
    Inherited,
    /// Computed by the build backend (`dynamic = ["version"]` in `[project]`).
    Dynamic,
}

/// A manifest's own package: name, version and, for a Cargo workspace root, its members.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct Package {
    /// The package's name, when the file declares a package.
    pub name: Option<String>,
    /// The package's version, when the file declares one (or says where it comes from).
    pub version: Option<OwnVersion>,
    /// The workspace this file is the root of, when it is one: Cargo's
    /// `[workspace]` or npm's `workspaces`.
    pub workspace: Option<Workspace>,
    /// `false` when the manifest says the package is never published to a registry (Cargo
    /// `publish = false` or `publish = []`); `true` otherwise.
    pub publish: bool,
}

/// A workspace root's members: Cargo's `[workspace]` table or npm's `workspaces`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct Workspace {
    /// Cargo `members` or npm `workspaces` (also Yarn's `workspaces.packages`),
    /// as written: globs are not expanded, since the caller has the file system.
    pub members: Vec<String>,
    /// Cargo `exclude`, as written.
    pub exclude: Vec<String>,
    /// Cargo `[workspace.package] version`, which members with `version.workspace = true` inherit.
    pub version: Option<String>,
}

/// Normalises a Python package name as PEP 503 does: lowercase, and every
/// run of `-`, `_` and `.` becomes a single `-`.
///
/// ```
/// assert_eq!(lockstep_pins::normalize_python_name("Foo.Bar__baz"), "foo-bar-baz");
/// ```
pub fn normalize_python_name(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut in_run = false;
    for c in name.chars() {
        if matches!(c, '-' | '_' | '.') {
            if !in_run {
                out.push('-');
            }
            in_run = true;
        } else {
            out.extend(c.to_lowercase());
            in_run = false;
        }
    }
    out
}
