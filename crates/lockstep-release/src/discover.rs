//! Discovery: each repository's packages and the edges between repositories, read from the
//! repositories' own manifests on disk.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use lockstep_cascade::{DepKind, Ecosystem, Edge, Graph, Package, PinSpec, Repo};
use lockstep_manifest::RepoEntry;
use lockstep_pins::{GitRef, OwnVersion, Pin};

use serde::Serialize;

use super::{Error, LoadedConfig};
use crate::packages::{clean, parse_version};

/// One repository of the cascade as found on disk.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct DiscoveredRepo {
    /// Its entry in `cascade.toml`.
    pub entry: RepoEntry,
    /// Its work tree.
    pub dir: PathBuf,
    /// Its HEAD commit, as hex.
    pub head: String,
    /// The branch HEAD is on; `None` when detached.
    pub branch: Option<String>,
    /// The names of the packages it holds, sorted.
    pub packages: Vec<String>,
    /// The command that records new versions in its lockfile, when it has one.
    pub lockfile_command: Option<String>,
}

/// An explicit `depends_on` edge: every package of `dependent` depends on every package of
/// `dependency`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[non_exhaustive]
pub struct RepoEdge {
    /// The repository whose entry says `depends_on`.
    pub dependent: String,
    /// The repository named there.
    pub dependency: String,
}

/// A dependency discovery saw but could not turn into an edge, or a manifest it passed over.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Note {
    /// The repository.
    pub repo: String,
    /// The manifest, relative to the repository root.
    pub file: String,
    /// What was passed over and why.
    pub message: String,
}

/// What [`discover`] found: the planner's input, plus where everything is.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Discovered {
    /// The config it was discovered from.
    pub config: LoadedConfig,
    /// Every repository, in config order.
    pub repos: Vec<DiscoveredRepo>,
    /// Every package, sorted by name.
    pub packages: Vec<Package>,
    /// Every dependency of a package on a package of another repository, from the manifests,
    /// sorted by dependent, dependency, kind and file. Dependencies inside one repository are
    /// not edges: a repository is released as one commit.
    pub edges: Vec<Edge>,
    /// The `depends_on` edges of the config, sorted.
    pub explicit: Vec<RepoEdge>,
    /// Dependencies on a package of another repository pinned by a registry requirement (not
    /// a git reference or a path): the dependent's lockfile resolves them from a registry, so
    /// the upstream's release must be published there first. (dependent, dependency, file).
    pub registry_pins: Vec<(String, String, String)>,
    /// Dependencies and manifests passed over, with why.
    pub notes: Vec<Note>,
    /// Groups of packages kept at one version (each sorted by name): cargo-release's
    /// `shared-version`, and members inheriting the workspace's version. The cascade releases
    /// each group together.
    pub shared_versions: Vec<Vec<String>>,
}

impl Discovered {
    /// The package with this name.
    pub fn package(&self, name: &str) -> Option<&Package> {
        self.packages.iter().find(|p| p.name == name)
    }

    /// The repository with this name.
    pub fn repo(&self, name: &str) -> Option<&DiscoveredRepo> {
        self.repos.iter().find(|r| r.entry.name == name)
    }

    /// The planner's repositories: name, HEAD, smoke command, lockfile command.
    pub fn planner_repos(&self) -> Vec<Repo> {
        self.repos
            .iter()
            .map(|r| {
                let mut repo = Repo::new(&r.entry.name, &r.head);
                if let Some(smoke) = &r.entry.smoke {
                    repo = repo.with_smoke(smoke);
                }
                if let Some(command) = &r.lockfile_command {
                    repo = repo.with_lockfile_command(command);
                }
                if let Some(publish) = &r.entry.publish {
                    repo = repo.with_publish(publish);
                }
                repo
            })
            .collect()
    }

    /// The manifest edges plus the explicit ones, as planner edges. An explicit edge becomes
    /// a normal edge from every package of the dependent repository to every package of the
    /// dependency's, pinned by path (nothing to rewrite), with `cascade.toml` (relative to the
    /// dependent's root) as its file; pairs that already have a manifest edge are left out.
    pub fn all_edges(&self) -> Vec<Edge> {
        let mut edges = self.edges.clone();
        for e in &self.explicit {
            let (Some(down), Some(up)) = (self.repo(&e.dependent), self.repo(&e.dependency)) else {
                continue;
            };
            let file = relative(&down.dir, &self.config.path);
            let pin = relative(&down.dir, &up.dir);
            for dependent in &down.packages {
                for dependency in &up.packages {
                    let covered = self
                        .edges
                        .iter()
                        .any(|x| &x.dependent == dependent && &x.dependency == dependency);
                    if !covered {
                        edges.push(Edge::new(
                            dependent,
                            dependency,
                            DepKind::Normal,
                            PinSpec::Path(pin.clone()),
                            file.clone(),
                        ));
                    }
                }
            }
        }
        edges
    }

    /// The validated planner graph (fails on a dependency cycle, naming it).
    pub fn graph(&self) -> Result<Graph, Error> {
        Ok(Graph::new(
            self.packages.clone(),
            self.all_edges(),
            self.planner_repos(),
        )?)
    }
}

/// `to` relative to the directory `from` (both joined the same way to the config's
/// directory), with `/` separators; `to` as given when they share no prefix.
fn relative(from: &Path, to: &Path) -> String {
    let from: Vec<_> = from.components().collect();
    let to_c: Vec<_> = to.components().collect();
    let common = from.iter().zip(&to_c).take_while(|(a, b)| a == b).count();
    if common == 0 {
        return to.to_string_lossy().replace('\\', "/");
    }
    let mut parts: Vec<String> = vec!["..".to_owned(); from.len() - common];
    parts.extend(
        to_c[common..]
            .iter()
            .map(|c| c.as_os_str().to_string_lossy().into_owned()),
    );
    if parts.is_empty() {
        ".".to_owned()
    } else {
        parts.join("/")
    }
}

/// A package's manifest as read, before edges are known.
struct Found {
    package: Package,
    /// Its dependencies (pins resolved through the workspace root where inherited), with the
    /// file that holds each pin.
    deps: Vec<(lockstep_pins::Dependency, String)>,
    /// Its version is the workspace's (`version.workspace = true`): one field for every such
    /// member, so they are released together.
    inherits_version: bool,
}

/// Reads every repository's manifests: packages, cross-repository edges, `depends_on` edges,
/// HEAD and branch.
pub fn discover(config: &LoadedConfig) -> Result<Discovered, Error> {
    let _span = tracing::info_span!("discover_cascade", config = %config.path.display()).entered();
    let mut repos = Vec::new();
    let mut found: Vec<Found> = Vec::new();
    let mut notes = Vec::new();
    for entry in &config.config.repos {
        let dir = config.repo_dir(entry);
        if !dir.is_dir() {
            return Err(match &entry.source {
                lockstep_manifest::RepoSource::Url(url) => Error::NotCloned {
                    repo: entry.name.clone(),
                    url: url.clone(),
                    dir,
                },
                lockstep_manifest::RepoSource::Path(_) => Error::RepoMissing {
                    repo: entry.name.clone(),
                    dir,
                },
            });
        }
        let mut reader = RepoReader {
            entry,
            dir: &dir,
            notes: &mut notes,
        };
        let (mut packages, lockfile_command) = reader.read()?;
        let head = lockstep_snapshot::head(&dir).map_err(|source| Error::Git {
            repo: entry.name.clone(),
            source,
        })?;
        let commit = head.commit.ok_or_else(|| Error::UnbornHead {
            repo: entry.name.clone(),
        })?;
        for f in &mut packages {
            f.package.reexports = entry.reexports.clone();
        }
        let mut names: Vec<String> = packages.iter().map(|f| f.package.name.clone()).collect();
        names.sort();
        found.append(&mut packages);
        repos.push(DiscoveredRepo {
            entry: entry.clone(),
            dir,
            head: commit.as_str().to_owned(),
            branch: head.branch,
            packages: names,
            lockfile_command,
        });
    }

    // Package names are unique across the cascade. A dependency names a package by its name,
    // whatever either side's ecosystem (an npm package may pin a Cargo repository by git tag);
    // a Python dependent's names are compared after PEP 503 normalisation.
    let mut by_name: BTreeMap<&str, usize> = BTreeMap::new();
    let mut by_python_name: BTreeMap<String, usize> = BTreeMap::new();
    for (i, f) in found.iter().enumerate() {
        let p = &f.package;
        if let Some(&j) = by_name.get(p.name.as_str()) {
            let q = &found[j].package;
            return Err(Error::DuplicatePackage {
                package: p.name.clone(),
                first: format!("{}:{}", q.repo, q.manifest),
                second: format!("{}:{}", p.repo, p.manifest),
            });
        }
        by_name.insert(&p.name, i);
        by_python_name
            .entry(lockstep_pins::normalize_python_name(&p.name))
            .or_insert(i);
    }
    let lookup = |dependent: Ecosystem, name: &str| {
        by_name.get(name).copied().or_else(|| {
            (dependent == Ecosystem::Python)
                .then(|| {
                    by_python_name
                        .get(&lockstep_pins::normalize_python_name(name))
                        .copied()
                })
                .flatten()
        })
    };
    for repo in &repos {
        for name in &repo.entry.reexports {
            if !by_name.contains_key(name.as_str()) {
                return Err(Error::UnknownReexport {
                    repo: repo.entry.name.clone(),
                    package: name.clone(),
                });
            }
        }
    }

    let mut edges = Vec::new();
    let mut registry_pins = Vec::new();
    for f in &found {
        let p = &f.package;
        for (dep, file) in &f.deps {
            let Some(j) = lookup(p.ecosystem, &dep.name) else {
                continue;
            };
            let upstream = &found[j].package;
            // A package's dependency on itself (a dev-dependency on its own crate, as some
            // workspaces write for doctests) is no edge.
            if upstream.name == p.name {
                continue;
            }
            let kind = match dep.kind {
                lockstep_pins::DepKind::Dev => DepKind::Dev,
                lockstep_pins::DepKind::Build => DepKind::Build,
                _ => DepKind::Normal,
            };
            if kind != DepKind::Dev
                && upstream.repo != p.repo
                && matches!(dep.pin, Pin::Version(_) | Pin::Any)
            {
                registry_pins.push((p.name.clone(), upstream.name.clone(), file.clone()));
            }
            // npm's `workspace:` protocol (pnpm, Yarn): the member in this repository, by
            // link; the registry range is written at publish time, so no edit is needed.
            let pin = match (p.ecosystem, &dep.pin) {
                (Ecosystem::Npm, Pin::Inherited) if upstream.repo == p.repo => {
                    Ok(PinSpec::Path("workspace:".into()))
                }
                _ => pin_spec(&dep.pin),
            };
            match pin {
                Ok(pin) => edges.push(Edge::new(&p.name, &upstream.name, kind, pin, file)),
                Err(why) => notes.push(Note {
                    repo: p.repo.clone(),
                    file: file.clone(),
                    message: format!(
                        "{} on {} at {} is not an edge: {why}",
                        p.name, upstream.name, dep.location
                    ),
                }),
            }
        }
    }
    edges.sort_by(|a, b| {
        (&a.dependent, &a.dependency, a.kind, &a.file).cmp(&(
            &b.dependent,
            &b.dependency,
            b.kind,
            &b.file,
        ))
    });
    edges.dedup();

    let mut explicit: Vec<RepoEdge> = config
        .config
        .repos
        .iter()
        .flat_map(|r| {
            r.depends_on.iter().map(|d| RepoEdge {
                dependent: r.name.clone(),
                dependency: d.clone(),
            })
        })
        .collect();
    explicit.sort();

    // Members that inherit the workspace's version share one version field.
    let mut inheriting: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for f in found.iter().filter(|f| f.inherits_version) {
        inheriting
            .entry(f.package.repo.clone())
            .or_default()
            .push(f.package.name.clone());
    }
    let mut packages: Vec<Package> = found.into_iter().map(|f| f.package).collect();
    packages.sort_by(|a, b| a.name.cmp(&b.name));
    let mut shared_versions = crate::cargo_release::apply(&repos, &mut packages, &mut notes);
    shared_versions.extend(
        inheriting
            .into_values()
            .filter(|g| g.len() > 1)
            .map(|mut g| {
                g.sort();
                g
            }),
    );
    crate::conventions::apply(&repos, &mut packages)?;
    Ok(Discovered {
        config: config.clone(),
        repos,
        packages,
        edges,
        explicit,
        registry_pins: {
            registry_pins.sort();
            registry_pins.dedup();
            registry_pins
        },
        notes,
        shared_versions,
    })
}

/// npm's stand-ins for a version that CI injects from the tag at publish time.
fn is_placeholder(version: &str) -> bool {
    matches!(
        version.trim(),
        "0.0.0-dev" | "0.0.0-development" | "0.0.0-semantically-released"
    )
}

/// The planner's view of a pin; `Err` says why a dependency cannot be one.
fn pin_spec(pin: &Pin) -> Result<PinSpec, String> {
    Ok(match pin {
        Pin::Version(v) => PinSpec::Requirement(v.clone()),
        Pin::Git {
            version: Some(v), ..
        }
        | Pin::Path {
            version: Some(v), ..
        } => PinSpec::Requirement(v.clone()),
        Pin::Git { reference, .. } => match reference {
            GitRef::Tag(t) => PinSpec::GitTag(t.clone()),
            GitRef::Rev(r) => PinSpec::GitRev(r.clone()),
            GitRef::Semver(range) => PinSpec::Requirement(range.clone()),
            GitRef::Branch(b) => {
                return Err(format!(
                    "it follows branch `{b}`, which lockstep does not pin"
                ));
            }
            _ => return Err("it follows the default branch, which lockstep does not pin".into()),
        },
        Pin::Path { path, .. } => PinSpec::Path(path.clone()),
        Pin::Any => PinSpec::Requirement(String::new()),
        Pin::Url(u) => {
            return Err(format!(
                "it is a direct URL `{u}`, which lockstep does not pin"
            ));
        }
        _ => return Err("its pin is inherited from a workspace that does not declare it".into()),
    })
}

/// The root manifest a member's inherited version and pins come from.
struct WorkspaceRoot<'a> {
    /// Its file name, relative to the repository root.
    file: &'a str,
    /// Its workspace, when it is one.
    workspace: Option<&'a lockstep_pins::Workspace>,
    /// Its `[workspace.dependencies]`.
    deps: &'a [lockstep_pins::Dependency],
}

/// Reads one repository's manifests.
struct RepoReader<'a> {
    entry: &'a RepoEntry,
    dir: &'a Path,
    notes: &'a mut Vec<Note>,
}

/// The manifests a repository root may hold, in the order they are read.
const ROOT_MANIFESTS: [(lockstep_pins::Ecosystem, Ecosystem); 3] = [
    (lockstep_pins::Ecosystem::Cargo, Ecosystem::Cargo),
    (lockstep_pins::Ecosystem::Npm, Ecosystem::Npm),
    (lockstep_pins::Ecosystem::Python, Ecosystem::Python),
];

impl RepoReader<'_> {
    fn read(&mut self) -> Result<(Vec<Found>, Option<String>), Error> {
        let mut out = Vec::new();
        let mut lockfile_command = None;
        let mut any = false;
        for (pins_eco, eco) in ROOT_MANIFESTS {
            let file = pins_eco.manifest_file_name();
            let path = self.dir.join(file);
            if !path.is_file() {
                continue;
            }
            any = true;
            let text = self.read_text(&path)?;
            let root = self.parse(&path, lockstep_pins::package(pins_eco, &text))?;
            let root_deps = self.parse(&path, lockstep_pins::dependencies(pins_eco, &text))?;
            if lockfile_command.is_none() {
                let tool = self.parse(
                    &path,
                    lockstep_pins::LockTool::for_manifest(pins_eco, &text),
                )?;
                if self.dir.join(tool.lockfile_name()).is_file() {
                    lockfile_command = tool.after_version_change().map(|c| c.to_string());
                }
            }
            let workspace_deps: Vec<lockstep_pins::Dependency> = root_deps
                .iter()
                .filter(|d| d.kind == lockstep_pins::DepKind::Workspace)
                .cloned()
                .collect();
            // A pnpm workspace lists its packages in pnpm-workspace.yaml, not package.json.
            let pnpm = match (eco, &root.workspace) {
                (Ecosystem::Npm, None) => self.pnpm_workspace()?,
                _ => None,
            };
            let ws_root = WorkspaceRoot {
                file,
                workspace: root.workspace.as_ref().or(pnpm.as_ref()),
                deps: &workspace_deps,
            };
            // The root itself, unless it is a virtual manifest.
            if root.name.is_some() {
                out.push(self.package(eco, file, &root, &root_deps, &ws_root)?);
            }
            let Some(ws) = ws_root.workspace else {
                continue;
            };
            for member in self.members(ws, file)? {
                let rel = format!("{member}/{file}");
                let path = self.dir.join(&rel);
                let text = self.read_text(&path)?;
                let pkg = self.parse(&path, lockstep_pins::package(pins_eco, &text))?;
                let deps = self.parse(&path, lockstep_pins::dependencies(pins_eco, &text))?;
                if pkg.name.is_none() {
                    self.note(&rel, "declares no package; passed over");
                    continue;
                }
                out.push(self.package(eco, &rel, &pkg, &deps, &ws_root)?);
            }
        }
        if !any {
            return Err(Error::NoManifest {
                repo: self.entry.name.clone(),
                dir: self.dir.to_owned(),
            });
        }
        Ok((out, lockfile_command))
    }

    /// One package: name, version (inherited from the workspace where it says so), and its
    /// dependencies with their pins (inherited ones looked up in the workspace root).
    fn package(
        &mut self,
        eco: Ecosystem,
        rel: &str,
        pkg: &lockstep_pins::Package,
        deps: &[lockstep_pins::Dependency],
        root: &WorkspaceRoot<'_>,
    ) -> Result<Found, Error> {
        let name = pkg.name.clone().unwrap_or_default();
        let bad = |reason: String| Error::BadVersion {
            repo: self.entry.name.clone(),
            package: name.clone(),
            path: self.dir.join(rel),
            reason,
        };
        // A version kept in release tags (hatch-vcs, setuptools-scm, an npm `0.0.0-dev`
        // placeholder) is read from the tags once the repository's convention is known.
        let tag_versioned = match &pkg.version {
            Some(OwnVersion::Dynamic) => true,
            Some(OwnVersion::Declared { version, .. }) => {
                eco == Ecosystem::Npm && is_placeholder(version)
            }
            _ => false,
        };
        let written = match &pkg.version {
            _ if tag_versioned => "0.0.0".to_owned(),
            Some(OwnVersion::Declared { version, .. }) => version.clone(),
            Some(OwnVersion::Inherited) => match root.workspace.and_then(|w| w.version.clone()) {
                Some(v) => v,
                None => {
                    return Err(bad(
                        "inherits its version, but the workspace root declares none in [workspace.package]".into(),
                    ));
                }
            },
            Some(OwnVersion::Dynamic) => {
                return Err(bad(
                    "its version is computed by the build backend (dynamic); write it in [project] version".into(),
                ));
            }
            _ => return Err(bad("declares no version; write one such as 0.1.0".into())),
        };
        let version = parse_version(eco, &written).map_err(bad)?;
        let file = rel.to_owned();
        let mut resolved = Vec::with_capacity(deps.len());
        for d in deps {
            if d.kind == lockstep_pins::DepKind::Workspace {
                continue;
            }
            if d.pin == Pin::Inherited
                && let Some(declared) = root.deps.iter().find(|w| w.name == d.name)
            {
                let mut d = d.clone();
                d.pin = declared.pin.clone();
                resolved.push((d, root.file.to_owned()));
                continue;
            }
            resolved.push((d.clone(), file.clone()));
        }
        let mut package = Package::new(name, &self.entry.name, eco, version, rel);
        if !pkg.publish && !self.entry.release_unpublished {
            package = package.unpublished();
        }
        if tag_versioned {
            package = package.tag_versioned();
        }
        Ok(Found {
            package,
            deps: resolved,
            inherits_version: matches!(pkg.version, Some(OwnVersion::Inherited)),
        })
    }

    /// The members of a pnpm workspace (`packages:` in `pnpm-workspace.yaml`, `!` patterns
    /// excluded), when the repository has that file.
    fn pnpm_workspace(&mut self) -> Result<Option<lockstep_pins::Workspace>, Error> {
        let path = self.dir.join("pnpm-workspace.yaml");
        if !path.is_file() {
            return Ok(None);
        }
        let text = self.read_text(&path)?;
        Ok(Some(crate::pnpm::workspace(&text)))
    }

    /// Member directories (relative, `/`-separated, sorted) of a workspace: globs expanded,
    /// excludes removed, only directories holding `file`.
    fn members(&mut self, ws: &lockstep_pins::Workspace, file: &str) -> Result<Vec<String>, Error> {
        let mut out = Vec::new();
        let excluded: Vec<String> = ws.exclude.iter().map(|e| clean(e)).collect();
        for pattern in &ws.members {
            // The repository's own path is matched literally, only the pattern as a glob.
            let base = glob::Pattern::escape(&self.dir.to_string_lossy());
            let full = format!("{base}/{}", pattern.trim_start_matches("./"));
            let paths = glob::glob(&full).map_err(|e| Error::BadGlob {
                repo: self.entry.name.clone(),
                pattern: pattern.clone(),
                message: e.msg.to_owned(),
            })?;
            let mut matched = false;
            for path in paths {
                let path = path.map_err(|e| Error::Read {
                    repo: self.entry.name.clone(),
                    path: e.path().to_owned(),
                    source: std::io::Error::new(e.error().kind(), e.error().to_string()),
                })?;
                let Ok(rel) = path.strip_prefix(self.dir) else {
                    continue;
                };
                let rel = clean(&rel.to_string_lossy());
                matched = true;
                if rel.is_empty() || excluded.contains(&rel) || !path.join(file).is_file() {
                    continue;
                }
                if !out.contains(&rel) {
                    out.push(rel);
                }
            }
            if !matched {
                self.note(
                    file,
                    &format!("workspace member pattern `{pattern}` matches nothing"),
                );
            }
        }
        out.sort();
        Ok(out)
    }

    fn read_text(&self, path: &Path) -> Result<String, Error> {
        std::fs::read_to_string(path).map_err(|source| Error::Read {
            repo: self.entry.name.clone(),
            path: path.to_owned(),
            source,
        })
    }

    fn parse<T>(&self, path: &Path, r: Result<T, lockstep_pins::Error>) -> Result<T, Error> {
        r.map_err(|source| Error::Manifest {
            repo: self.entry.name.clone(),
            path: path.to_owned(),
            source: Box::new(source),
        })
    }

    fn note(&mut self, file: &str, message: &str) {
        self.notes.push(Note {
            repo: self.entry.name.clone(),
            file: file.to_owned(),
            message: message.to_owned(),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use semver::Version;

    #[test]
    fn relative_paths_between_repositories() {
        let base = Path::new("/w");
        assert_eq!(relative(&base.join("a"), &base.join("b")), "../b");
        assert_eq!(
            relative(&base.join("x/a"), &base.join("cascade.toml")),
            "../../cascade.toml"
        );
        assert_eq!(relative(&base.join("a"), &base.join("a")), ".");
    }

    #[test]
    fn versions_are_semver_with_python_padding() {
        assert_eq!(
            parse_version(Ecosystem::Python, "1.2"),
            Ok(Version::new(1, 2, 0))
        );
        assert_eq!(
            parse_version(Ecosystem::Cargo, "0.3.1"),
            Ok(Version::new(0, 3, 1))
        );
        assert!(parse_version(Ecosystem::Cargo, "1.2").is_err());
        assert!(parse_version(Ecosystem::Python, "1.2rc1").is_err());
    }

    #[test]
    fn paths_are_cleaned() {
        assert_eq!(clean("./crates//a/"), "crates/a");
        assert_eq!(clean("."), "");
    }
}
