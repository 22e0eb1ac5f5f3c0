//! The tag rule of a cascade, checkable on its own: a release tag is strict SemVer
//! (`vX.Y.Z` or `NAME-vX.Y.Z`, optional `-pre` and `+build`, no leading zeros) and equals the
//! version of the package it names *at the tagged commit*. [`check_tag`] is what
//! `lockstep tag-check` runs in CI, and what the pre-push hook written by [`install_hook`]
//! runs before a tag leaves the machine.
//!
//! The package is read from the commit's own tree (not the work tree): `Cargo.toml` (a single
//! crate, or the workspace member named NAME, with `version.workspace = true` followed into
//! `[workspace.package]`), `package.json` (npm workspaces too) or `pyproject.toml`, in that
//! order. A `vX.Y.Z` tag names the root package (or, in a virtual Cargo workspace, the
//! `[workspace.package]` version); `NAME-vX.Y.Z` names the root package or a workspace member
//! called NAME (Python names compared after PEP 503 normalisation).
//!
//! # Limitations
//!
//! - Workspace member globs are expanded one directory level per `*`/`?`/`[…]` segment; `**`
//!   matches a single level only.
//! - Versions compare exactly, build metadata included: `v1.2.0+ci.4` does not match `1.2.0`.
//!
//! ## Examples
//!
//! ```
//! use lockstep_release::tagcheck::{check_tag, parse_tag};
//! use lockstep_testkit::git::GitRepo;
//!
//! let tag = parse_tag("core-v1.4.0-rc.1").unwrap();
//! assert_eq!(tag.package.as_deref(), Some("core"));
//! assert!(parse_tag("v01.4.0").is_err());
//!
//! let repo = GitRepo::new();
//! repo.write("Cargo.toml", "[package]\nname = \"core\"\nversion = \"1.2.0\"\n");
//! repo.commit_all("feat: core");
//! repo.annotated_tag("v1.2.0", "release").tag("v1.3.0");
//! assert!(check_tag(repo.path(), "v1.2.0")?.ok);
//! let bad = check_tag(repo.path(), "v1.3.0")?;
//! assert!(!bad.ok);
//! assert_eq!(bad.expected_tag.as_deref(), Some("v1.2.0"));
//! # Ok::<(), lockstep_release::tagcheck::Error>(())
//! ```

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use lockstep_pins::{Ecosystem, OwnVersion};
use lockstep_snapshot::CommitTree;
use semver::Version;
use serde::Serialize;

use crate::packages::{clean, parse_version, same_name};

mod hooks;

#[cfg(test)]
use hooks::is_ours;
pub use hooks::{HookOutcome, InstalledHook, install_hook, pre_push_hook_script};

/// The `schema` of `tag-check --json`.
pub const SCHEMA: &str = "lockstep.tag-check/v1";

/// The first line of every hook this module writes; how [`install_hook`] knows its own.
pub const HOOK_MARKER: &str = "# lockstep-hook: pre-push";

/// What can go wrong while checking a tag or installing the hook. A tag that breaks the rule
/// is not an error: it is a [`TagCheck`] with a [`Problem`].
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The repository, the tag or a file of the tagged commit could not be read.
    #[error("{}: cannot read {what}", repo.display())]
    Git {
        /// The repository.
        repo: PathBuf,
        /// What was being read (`tag v1.2.0`, `Cargo.toml at v1.2.0`).
        what: String,
        /// Why.
        source: lockstep_snapshot::Error,
    },
    /// A manifest of the tagged commit could not be understood.
    #[error("{}: {file} at {tag}: {source}", repo.display())]
    Manifest {
        /// The repository.
        repo: PathBuf,
        /// The tag.
        tag: String,
        /// The manifest, relative to the repository root.
        file: String,
        /// What is wrong with it (boxed: the pins error is large).
        source: Box<lockstep_pins::Error>,
    },
    /// A hook that lockstep did not write is in the way.
    #[error(
        "{} exists and was not written by lockstep; pass --force to replace it (it is kept as {})",
        path.display(),
        backup.display()
    )]
    ForeignHook {
        /// The existing hook.
        path: PathBuf,
        /// Where `--force` keeps it.
        backup: PathBuf,
    },
    /// The hook could not be written.
    #[error("cannot {op} {}", path.display())]
    Io {
        /// What was being done.
        op: &'static str,
        /// The file or directory.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
}

impl Error {
    /// A short machine-readable kind, as the command line's error JSON carries.
    pub fn kind(&self) -> &'static str {
        match self {
            Error::Git { source, .. } => match source.kind() {
                lockstep_snapshot::ErrorKind::NotFound => "tag_not_found",
                lockstep_snapshot::ErrorKind::NotARepository => "not_a_repository",
                _ => "git",
            },
            Error::Manifest { .. } => "manifest",
            Error::ForeignHook { .. } => "foreign_hook",
            Error::Io { .. } => "io",
        }
    }
}

/// A release tag, split: the package it names (none for `vX.Y.Z`) and its version.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ReleaseTag {
    /// `NAME` of `NAME-vX.Y.Z`; `None` for `vX.Y.Z`.
    pub package: Option<String>,
    /// `X.Y.Z[-pre][+build]`.
    pub version: Version,
}

/// Splits `tag` into package and version, or says why it is not a release tag.
///
/// Accepted: `v` + strict SemVer, or `NAME-v` + strict SemVer with a non-empty NAME. Where
/// NAME itself holds `-v` followed by a digit (`lib-v2-v1.0.0`), the leftmost split whose
/// version parses wins.
pub fn parse_tag(tag: &str) -> Result<ReleaseTag, String> {
    const SHAPE: &str = "release tags are vX.Y.Z or NAME-vX.Y.Z (strict SemVer: no leading zeros, optional -pre and +build)";
    let mut first_err = None;
    let mut candidates: Vec<(Option<&str>, &str)> = Vec::new();
    if let Some(rest) = tag.strip_prefix('v') {
        candidates.push((None, rest));
    }
    for (i, _) in tag.match_indices("-v") {
        let rest = &tag[i + 2..];
        if i > 0 && rest.starts_with(|c: char| c.is_ascii_digit()) {
            candidates.push((Some(&tag[..i]), rest));
        }
    }
    for (package, text) in candidates {
        match Version::parse(text) {
            Ok(version) => {
                return Ok(ReleaseTag {
                    package: package.map(str::to_owned),
                    version,
                });
            }
            Err(e) if first_err.is_none() && text.starts_with(|c: char| c.is_ascii_digit()) => {
                first_err = Some(format!("`{text}` is not strict SemVer ({e}); {SHAPE}"));
            }
            Err(_) => {}
        }
    }
    if let Some(err) = first_err {
        return Err(err);
    }
    if Version::parse(tag).is_ok() {
        return Err(format!("the `v` is missing: write v{tag}; {SHAPE}"));
    }
    Err(SHAPE.to_owned())
}

/// `tag` read in the repository's own convention when that is not lockstep's default
/// (`vX.Y.Z`, `NAME-vX.Y.Z`): bare `X.Y.Z`, `NAME-X.Y.Z`, `NAME@X.Y.Z`, `NAME/vX.Y.Z`, as
/// detected from the repository's tags ([`crate::tags`]). `None` when the repository's tags
/// do not follow a convention that reads `tag`.
fn conventional(repo_dir: &Path, tag: &str) -> Option<ReleaseTag> {
    let tags: Vec<String> = lockstep_snapshot::list_tag_names(repo_dir).ok()?;
    let formats: Vec<(usize, lockstep_vocab::TagFormat)> = crate::tags::CONVENTIONS
        .iter()
        .filter_map(|t| lockstep_vocab::TagFormat::parse_template(t).ok())
        .map(|f| (tags.iter().filter(|t| f.parse(t).is_some()).count(), f))
        .collect();
    // The convention the repository's tags follow most, among those that name a package or
    // among those that do not, whichever kind reads `tag`.
    let (_, parsed) = formats
        .iter()
        .filter(|(n, _)| *n > 0)
        .filter_map(|(n, f)| f.parse(tag).map(|p| (n, f.per_package(), p)))
        .filter(|(n, per_package, _)| {
            formats
                .iter()
                .filter(|(_, g)| g.per_package() == *per_package)
                .all(|(m, _)| m <= n)
        })
        .map(|(n, _, p)| (n, p))
        .next()?;
    Some(ReleaseTag {
        package: parsed.0,
        version: parsed.1,
    })
}

/// Why a tag breaks the rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ProblemCode {
    /// The tag is not `vX.Y.Z` or `NAME-vX.Y.Z` with strict SemVer.
    NotSemver,
    /// The tagged commit has no package the tag could name.
    UnknownPackage,
    /// The package's version at the commit cannot be compared (dynamic, or not SemVer).
    NoVersion,
    /// The tag's version differs from the package's.
    VersionMismatch,
}

/// A broken rule: a code to branch on and a message for people.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Problem {
    /// What kind of problem.
    pub code: ProblemCode,
    /// What is wrong and what would be accepted.
    pub message: String,
}

/// The outcome of checking one tag.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct TagCheck {
    /// The tag.
    pub tag: String,
    /// The commit it points at (annotated tags peeled), as hex.
    pub commit: String,
    /// Whether the tag keeps the rule.
    pub ok: bool,
    /// The package the tag names (for a `vX.Y.Z` tag, the root package when there is one).
    pub package: Option<String>,
    /// The version the tag says, when it parses.
    pub tag_version: Option<String>,
    /// The package's version in the manifest at that commit, as written.
    pub version: Option<String>,
    /// That manifest, relative to the repository root.
    pub file: Option<String>,
    /// The tag that would match that commit, when the version is known.
    pub expected_tag: Option<String>,
    /// What is wrong, when something is.
    pub problem: Option<Problem>,
}

impl TagCheck {
    /// One line for people: `v1.2.0: ok (core 1.2.0 in Cargo.toml)` or the problem.
    pub fn summary(&self) -> String {
        match &self.problem {
            None => format!(
                "{}: ok ({} {} in {})",
                self.tag,
                self.package.as_deref().unwrap_or("workspace"),
                self.version.as_deref().unwrap_or("?"),
                self.file.as_deref().unwrap_or("?")
            ),
            Some(p) => format!("{}: {}", self.tag, p.message),
        }
    }
}

/// A package as the tagged commit declares it.
struct Declared {
    /// The version lives in release tags (dynamic, or an npm `0.0.0-dev` placeholder): any
    /// strict SemVer tag names it.
    tag_versioned: bool,
    package: Option<String>,
    written: String,
    ecosystem: Ecosystem,
    file: String,
    /// `NAME-` when the package is named in tags by name.
    tag_prefix: String,
}

/// Checks tag `tag` of the repository at `repo_dir` against the package it names at the
/// tagged commit. A tag that breaks the rule is `Ok` with [`TagCheck::ok`] false and a
/// [`Problem`]; `Err` is for a tag that does not exist and files that cannot be read.
pub fn check_tag(repo_dir: &Path, tag: &str) -> Result<TagCheck, Error> {
    let _span = tracing::info_span!("check_tag", repo = %repo_dir.display(), tag).entered();
    let git = |what: String| {
        move |source| Error::Git {
            repo: repo_dir.to_owned(),
            what,
            source,
        }
    };
    // Only tags: a branch or commit id given by mistake must not pass as a tag.
    let commit =
        lockstep_snapshot::resolve_tag(repo_dir, tag).map_err(git(format!("tag {tag}")))?;
    let tree = CommitTree::open(repo_dir, commit.as_str()).map_err(git(format!("tag {tag}")))?;
    let reader = Reader {
        repo_dir,
        tag,
        tree: &tree,
    };
    let parsed =
        parse_tag(tag).or_else(|default_err| conventional(repo_dir, tag).ok_or(default_err));
    let wanted = parsed.as_ref().ok().and_then(|t| t.package.as_deref());
    // A name is first looked up whole, then (an npm tag such as `arborist-v8.0.0`) as a
    // package's name without its scope.
    let named_version = parsed.as_ref().ok().map(|t| &t.version);
    let declared = match reader.find(wanted, false, named_version)? {
        None if wanted.is_some() => reader.find(wanted, true, named_version)?,
        found => found,
    };

    let mut check = TagCheck {
        tag: tag.to_owned(),
        commit: commit.as_str().to_owned(),
        ok: false,
        package: declared.as_ref().and_then(|d| d.package.clone()),
        tag_version: parsed.as_ref().ok().map(|t| t.version.to_string()),
        version: declared.as_ref().map(|d| d.written.clone()),
        file: declared.as_ref().map(|d| d.file.clone()),
        expected_tag: None,
        problem: None,
    };
    let version = declared
        .as_ref()
        .map(|d| package_version(d.ecosystem, &d.written));
    if let (Some(d), Some(Ok(v))) = (&declared, &version) {
        check.expected_tag = Some(format!("{}v{v}", d.tag_prefix));
    }
    let short = commit.short(7);
    let problem = |code, message| Some(Problem { code, message });
    check.problem = match (&parsed, &declared, &version) {
        (Err(reason), _, _) => {
            let hint = match (&check.expected_tag, &declared) {
                (Some(expected), Some(d)) => format!(
                    "; {} at {short} declares {}, so the tag would be {expected}",
                    d.file, d.written
                ),
                _ => String::new(),
            };
            problem(
                ProblemCode::NotSemver,
                format!("not a release tag: {reason}{hint}"),
            )
        }
        (Ok(t), None, _) => problem(
            ProblemCode::UnknownPackage,
            match &t.package {
                Some(name) => format!(
                    "commit {short} has no package {name} (looked in Cargo.toml, package.json and pyproject.toml and their workspace members)"
                ),
                None => format!(
                    "commit {short} has no single package to compare with: the root manifest declares no package or workspace version; tag a member as NAME-vX.Y.Z"
                ),
            },
        ),
        // A tag-versioned package: the (strict SemVer) tag is its version.
        (Ok(_), Some(d), _) if d.tag_versioned => None,
        (Ok(_), Some(d), Some(Err(reason))) => problem(
            ProblemCode::NoVersion,
            format!("{} at {short}: {reason}", d.file),
        ),
        (Ok(t), Some(d), Some(Ok(v))) if &t.version != v => problem(
            ProblemCode::VersionMismatch,
            format!(
                "tag says {}, but {} at {short} declares {} {}; expected tag {}",
                t.version,
                d.file,
                d.package.as_deref().unwrap_or("workspace version"),
                d.written,
                check.expected_tag.as_deref().unwrap_or("?")
            ),
        ),
        _ => None,
    };
    check.ok = check.problem.is_none();
    Ok(check)
}

/// The names of the repository's tags, sorted: all of them, or only those pointing at HEAD
/// (what `tag-check` checks when it is given no tag).
pub fn tags(repo_dir: &Path, at_head_only: bool) -> Result<Vec<String>, Error> {
    let git = |what: &str| {
        let what = what.to_owned();
        move |source| Error::Git {
            repo: repo_dir.to_owned(),
            what,
            source,
        }
    };
    let head = if at_head_only {
        lockstep_snapshot::head(repo_dir)
            .map_err(git("HEAD"))?
            .commit
    } else {
        None
    };
    Ok(lockstep_snapshot::list_tags(repo_dir)
        .map_err(git("tags"))?
        .into_iter()
        .filter(|t| !at_head_only || head.as_ref() == Some(&t.commit))
        .map(|t| t.name)
        .collect())
}

/// A package's own version as SemVer; Python's `1.2` is 1.2.0, as discovery reads it.
fn package_version(ecosystem: Ecosystem, written: &str) -> Result<Version, String> {
    if written.is_empty() {
        return Err(
            "declares no version, or one computed by the build backend (dynamic); it cannot be checked".into(),
        );
    }
    parse_version(ecosystem, written)
}

/// Reads manifests out of the tagged commit.
struct Reader<'a> {
    repo_dir: &'a Path,
    tag: &'a str,
    tree: &'a CommitTree,
}

impl Reader<'_> {
    /// The package `name` names (the root package when `None`), first in `Cargo.toml`, then
    /// `package.json`, then `pyproject.toml`; with `unscoped`, `name` is compared with npm
    /// packages' names without their scope.
    fn find(
        &self,
        name: Option<&str>,
        unscoped: bool,
        version: Option<&Version>,
    ) -> Result<Option<Declared>, Error> {
        let named = |ecosystem: Ecosystem, declared: Option<&str>, wanted: &str| {
            if unscoped {
                ecosystem == Ecosystem::Npm
                    && declared.is_some_and(|d| lockstep_vocab::unscoped(d) == wanted)
            } else {
                same_name(ecosystem, declared, wanted)
            }
        };
        for ecosystem in Ecosystem::ALL {
            let file = ecosystem.manifest_file_name();
            let Some(root) = self.package(ecosystem, file)? else {
                continue;
            };
            let ws_version = root.workspace.as_ref().and_then(|w| w.version.clone());
            // A pnpm workspace lists its members in pnpm-workspace.yaml.
            let workspace = match (&root.workspace, ecosystem) {
                (Some(ws), _) => Some(ws.clone()),
                (None, Ecosystem::Npm) => self.pnpm_workspace()?,
                _ => None,
            };
            let declared = |pkg: &lockstep_pins::Package, file: &str, prefixed: bool| {
                let pkg_name = pkg.name.clone();
                let written = match &pkg.version {
                    Some(OwnVersion::Declared { version, .. }) => version.clone(),
                    Some(OwnVersion::Inherited) => ws_version.clone().unwrap_or_default(),
                    _ => String::new(),
                };
                let tag_versioned = match &pkg.version {
                    Some(OwnVersion::Dynamic) => true,
                    Some(OwnVersion::Declared { version, .. }) => {
                        ecosystem == Ecosystem::Npm
                            && matches!(
                                version.trim(),
                                "0.0.0-dev" | "0.0.0-development" | "0.0.0-semantically-released"
                            )
                    }
                    _ => false,
                };
                Declared {
                    tag_versioned,
                    tag_prefix: match (&pkg_name, prefixed) {
                        (Some(n), true) if unscoped => format!("{}-", lockstep_vocab::unscoped(n)),
                        (Some(n), true) => format!("{n}-"),
                        _ => String::new(),
                    },
                    package: pkg_name,
                    written,
                    ecosystem,
                    file: file.to_owned(),
                }
            };
            match name {
                None => {
                    if root.name.is_some() {
                        return Ok(Some(declared(&root, file, false)));
                    }
                    if let Some(version) = &ws_version {
                        return Ok(Some(Declared {
                            tag_versioned: false,
                            package: None,
                            written: version.clone(),
                            ecosystem,
                            file: file.to_owned(),
                            tag_prefix: String::new(),
                        }));
                    }
                    // A virtual workspace whose members share one version: the shared tag
                    // (`v1.0.228`) names that version. A member at a version of its own
                    // (serde's `serde_derive_internals` 0.29.1 beside serde 1.0.228) is not
                    // one of them: a member declaring the tag's version is the one it names;
                    // otherwise the version most publishable members declare is the shared
                    // one, when no other is declared as often.
                    if let Some(ws) = &workspace {
                        let mut by_version: BTreeMap<String, Vec<Declared>> = BTreeMap::new();
                        for member in self.members(ws)? {
                            let rel = format!("{member}/{file}");
                            let Some(pkg) = self.package(ecosystem, &rel)? else {
                                continue;
                            };
                            if !pkg.publish {
                                continue;
                            }
                            let d = declared(&pkg, &rel, false);
                            by_version.entry(d.written.clone()).or_default().push(d);
                        }
                        if let Some(v) = version
                            && let Some(key) = by_version
                                .keys()
                                .find(|w| package_version(ecosystem, w).as_ref() == Ok(v))
                                .cloned()
                            && let Some(mut named) = by_version.remove(&key)
                        {
                            return Ok(Some(named.swap_remove(0)));
                        }
                        let most = by_version.values().map(Vec::len).max().unwrap_or(0);
                        let mut leaders = by_version.into_values().filter(|v| v.len() == most);
                        if let (Some(mut shared), None) = (leaders.next(), leaders.next())
                            && (most >= 2 || shared.len() == 1)
                        {
                            return Ok(Some(shared.swap_remove(0)));
                        }
                    }
                }
                Some(name) => {
                    if named(ecosystem, root.name.as_deref(), name) {
                        return Ok(Some(declared(&root, file, true)));
                    }
                    let Some(ws) = &workspace else {
                        continue;
                    };
                    for member in self.members(ws)? {
                        let rel = format!("{member}/{file}");
                        if let Some(pkg) = self.package(ecosystem, &rel)?
                            && named(ecosystem, pkg.name.as_deref(), name)
                        {
                            return Ok(Some(declared(&pkg, &rel, true)));
                        }
                    }
                }
            }
        }
        Ok(None)
    }

    /// `file` at the commit, when the commit has it.
    fn read(&self, file: &str) -> Result<Option<Vec<u8>>, Error> {
        self.tree.read(file).map_err(|source| Error::Git {
            repo: self.repo_dir.to_owned(),
            what: format!("{file} at {}", self.tag),
            source,
        })
    }

    /// The package `file` declares at the commit, when the commit has that file.
    fn package(
        &self,
        ecosystem: Ecosystem,
        file: &str,
    ) -> Result<Option<lockstep_pins::Package>, Error> {
        let Some(bytes) = self.read(file)? else {
            return Ok(None);
        };
        let text = String::from_utf8_lossy(&bytes);
        lockstep_pins::package(ecosystem, &text)
            .map(Some)
            .map_err(|source| Error::Manifest {
                repo: self.repo_dir.to_owned(),
                tag: self.tag.to_owned(),
                file: file.to_owned(),
                source: Box::new(source),
            })
    }

    /// The pnpm workspace at the commit, when it has `pnpm-workspace.yaml`.
    fn pnpm_workspace(&self) -> Result<Option<lockstep_pins::Workspace>, Error> {
        Ok(self
            .read("pnpm-workspace.yaml")?
            .map(|bytes| crate::pnpm::workspace(&String::from_utf8_lossy(&bytes))))
    }

    /// Member directories of a workspace at the commit: patterns expanded against the
    /// commit's tree, excludes removed, sorted.
    fn members(&self, ws: &lockstep_pins::Workspace) -> Result<Vec<String>, Error> {
        let excluded: Vec<String> = ws.exclude.iter().map(|e| clean(e)).collect();
        let mut out = Vec::new();
        for pattern in &ws.members {
            let mut dirs = vec![String::new()];
            for segment in clean(pattern).split('/').filter(|s| !s.is_empty()) {
                let mut next = Vec::new();
                let is_glob = segment.contains(['*', '?', '[']);
                let matcher = if is_glob {
                    glob::Pattern::new(segment).ok()
                } else {
                    None
                };
                for dir in &dirs {
                    let join = |name: &str| {
                        if dir.is_empty() {
                            name.to_owned()
                        } else {
                            format!("{dir}/{name}")
                        }
                    };
                    match &matcher {
                        None if !is_glob => next.push(join(segment)),
                        None => {}
                        Some(m) => {
                            let listed = self.tree.list(dir).map_err(|source| Error::Git {
                                repo: self.repo_dir.to_owned(),
                                what: format!("{dir}/ at {}", self.tag),
                                source,
                            })?;
                            next.extend(
                                listed
                                    .unwrap_or_default()
                                    .iter()
                                    .filter(|n| m.matches(n))
                                    .map(|n| join(n)),
                            );
                        }
                    }
                }
                dirs = next;
            }
            for dir in dirs {
                if !dir.is_empty() && !excluded.contains(&dir) && !out.contains(&dir) {
                    out.push(dir);
                }
            }
        }
        out.sort();
        Ok(out)
    }
}

#[cfg(test)]
mod tests;
