//! From options to a plan: which packages start the cascade, how they are bumped, and the
//! history each package's bump is read from; settings merged from flags and `cascade.toml`.
//!
//! This is the step between [`discover`](crate::discover) and the pure planner
//! ([`lockstep_cascade::plan`]): it checks the names the user gave (suggesting the closest
//! package for a typo), reads the commits since each package's last release tag when no
//! `--bump` is given, and merges the command line over the config file.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use lockstep_cascade::{Bump, Plan, ReleaseDependents, Request};

use crate::Discovered;

/// What to plan: the flags a caller has, before they are merged with `cascade.toml`.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct PlanOptions {
    /// The packages whose change starts the cascade; empty means every package with a change.
    pub from: Vec<String>,
    /// One bump for the start packages; `None` reads conventional commits since each tag.
    pub bump: Option<Bump>,
    /// Pin exact versions (`--exact-pins`); the config's `exact_pins` also turns it on.
    pub exact_pins: bool,
    /// Which dependents are released (`--release-dependents`); `None` takes the config's
    /// `release_dependents`, else only those whose pin had to change.
    pub release_dependents: Option<ReleaseDependents>,
}

impl PlanOptions {
    /// Start from these packages.
    pub fn from(mut self, packages: Vec<String>) -> Self {
        self.from = packages;
        self
    }

    /// Bump the start packages by `bump`.
    pub fn bump(mut self, bump: Option<Bump>) -> Self {
        self.bump = bump;
        self
    }

    /// Pin exact versions.
    pub fn exact_pins(mut self, exact: bool) -> Self {
        self.exact_pins = exact;
        self
    }

    /// Release dependents by this rule, over the config's.
    pub fn release_dependents(mut self, rule: Option<ReleaseDependents>) -> Self {
        self.release_dependents = rule;
        self
    }
}

/// Errors while planning.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PlanError {
    /// `--from` names no package of the cascade.
    #[error("--from {name}: no such package{}; the cascade has {count} package(s), `release-cascade --status` lists them", suggestion.as_ref().map(|s| format!("; did you mean `{s}`?")).unwrap_or_default())]
    UnknownPackage {
        /// The name given.
        name: String,
        /// The closest known name, when one is close.
        suggestion: Option<String>,
        /// How many packages there are.
        count: usize,
    },
    /// The graph could not be built or planned (a cycle, say).
    #[error(transparent)]
    Planner(#[from] lockstep_cascade::Error),
    /// Reading the repositories failed.
    #[error(transparent)]
    Discovery(#[from] crate::Error),
    /// A dependent resolves a released upstream from a registry, but the upstream's repository
    /// publishes nothing.
    #[error("{0}")]
    Unpublished(Box<UnpublishedPin>),
    /// A repository tags its packages with one shared tag, but the plan releases them at
    /// different versions.
    #[error(
        "repository {repo} tags its packages with one shared tag (`{format}`), but this plan releases them at different versions: {}; give each package its own tag with `tag = \"{{name}}-v{{version}}\"` under [[repo]] {repo} in cascade.toml (a shared tag fits packages released at one version only)",
        releases.iter().map(|(p, v)| format!("{p} {v}")).collect::<Vec<_>>().join(", ")
    )]
    SharedTag {
        /// The repository.
        repo: String,
        /// Its tag format (no name placeholder).
        format: String,
        /// Each released package sharing the format, with its new version.
        releases: Vec<(String, String)>,
    },
    /// Packages kept at one version (one shared tag, or cargo-release's `shared-version`)
    /// would be released in part.
    #[error(
        "repository {repo} keeps {} at one version (one shared tag, cargo-release's shared-version, or the workspace's version), but this plan releases {} and not {}, which only --from brings in; release them together with --from {from} and one --bump",
        released.iter().chain(left).cloned().collect::<Vec<_>>().join(", "),
        released.join(", "),
        left.join(", ")
    )]
    PartialGroup {
        /// The repository.
        repo: String,
        /// The members the plan releases.
        released: Vec<String>,
        /// The members it leaves out.
        left: Vec<String>,
        /// The `--from` list that releases them together (`a --from b`).
        from: String,
    },
    /// A saved plan could not be read.
    #[error(
        "{path}: not a lockstep.cascade-plan/v1 plan ({message}); write one with `release-cascade --dry-run --json > FILE`"
    )]
    SavedPlan {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
}

impl lockstep_state::Classify for PlanError {
    fn kind(&self) -> &'static str {
        match self {
            PlanError::UnknownPackage { .. } => "unknown_package",
            PlanError::Planner(_) => "cascade_plan",
            PlanError::Discovery(e) => e.kind(),
            PlanError::SavedPlan { .. } => "invalid_plan",
            PlanError::Unpublished(_) => "unpublished_upstream",
            PlanError::SharedTag { .. } => "shared_tag_versions_differ",
            PlanError::PartialGroup { .. } => "shared_version_group_split",
        }
    }
}

/// Plans a release of `discovered` with `options`, merged over the config's settings.
pub fn plan(discovered: &Discovered, options: &PlanOptions) -> Result<Plan, PlanError> {
    let _span =
        tracing::info_span!("cascade.plan", from = ?options.from, bump = ?options.bump).entered();
    let graph = discovered.graph()?;
    for name in &options.from {
        if discovered.package(name).is_none() {
            let names = discovered.packages.iter().map(|p| p.name.as_str());
            return Err(PlanError::UnknownPackage {
                name: name.clone(),
                suggestion: closest(name, names).map(str::to_owned),
                count: discovered.packages.len(),
            });
        }
    }
    let groups = shared_groups(discovered);
    let mut start: Vec<String> = if options.from.is_empty() {
        discovered.packages.iter().map(|p| p.name.clone()).collect()
    } else {
        options.from.clone()
    };
    // Packages that share one version and one tag are released together, at one version.
    // Notes the plan gains here: who joined, then `workspace:` dependents, then missing tags.
    let mut notes = Vec::new();
    let mut why_started: Vec<(String, String)> = Vec::new();
    for group in &groups {
        let (named, others): (Vec<&String>, Vec<&String>) =
            group.iter().partition(|m| start.contains(m));
        if named.is_empty() {
            continue;
        }
        let with = named
            .iter()
            .map(|m| m.as_str())
            .collect::<Vec<_>>()
            .join(", ");
        for m in others {
            notes.push(format!(
                "{m} is released with {with}: repository {} keeps them at one version",
                discovered.package(m).map_or("", |p| p.repo.as_str()),
            ));
            why_started.push((m.clone(), format!("released with {with} (one version)")));
            start.push(m.clone());
        }
    }
    let exact = options.exact_pins || discovered.config.config.options.exact_pins;
    let configured = match discovered.config.config.release_dependents.as_deref() {
        Some("always") => ReleaseDependents::Always,
        _ => ReleaseDependents::Needed,
    };
    let rule = options.release_dependents.unwrap_or(configured);
    let mut missing = Vec::new();
    let mut request = Request::new(start)
        .with_exact_pins(exact)
        .with_release_dependents(rule);
    for (package, why) in why_started {
        request = request.with_start_reason(package, why);
    }
    match options.bump {
        Some(b) => request = request.with_bump(b),
        None => {
            let mut commits: BTreeMap<String, Vec<String>> = BTreeMap::new();
            for p in &discovered.packages {
                let Some(repo) = discovered.repo(&p.repo) else {
                    continue;
                };
                let tag = graph.tag(p, &p.version);
                if !crate::tag_exists(&repo.dir, &tag) {
                    // No release to count from: reading the whole history would propose a
                    // bump from commits long released. Say what is missing instead.
                    missing.push(format!(
                        "{} has no release tag {tag} for its version {}: its commits are not read; pass --bump to release it",
                        p.name, p.version
                    ));
                    continue;
                }
                let dir = package_dir(&p.manifest);
                let log = lockstep_snapshot::log_since_touching(&repo.dir, Some(&tag), &dir)
                    .map_err(|source| crate::Error::Git {
                        repo: repo.entry.name.clone(),
                        source,
                    })?;
                tracing::debug!(package = %p.name, since = %tag, dir, commits = log.len(), "history read");
                commits.insert(p.name.clone(), log.into_iter().map(|c| c.message).collect());
            }
            // A shared-version group's members each take every member's commits: one bump
            // for the group.
            for group in &groups {
                let all: Vec<String> = group
                    .iter()
                    .filter_map(|m| commits.get(m))
                    .flatten()
                    .cloned()
                    .collect();
                for m in group {
                    if let Some(list) = commits.get_mut(m) {
                        list.clone_from(&all);
                    }
                }
            }
            for (name, messages) in commits {
                request = request.with_commits(name, messages);
            }
        }
    }
    let mut plan = lockstep_cascade::plan(&graph, &request)?;
    // npm's `workspace:` protocol needs no edit, but pnpm and Yarn turn it into a range of the
    // dependency's version at publish time: a dependent left unreleased keeps the range of
    // its last publication.
    for e in discovered.edges.iter().filter(|e| {
        e.kind != lockstep_cascade::DepKind::Dev
            && matches!(&e.pin, lockstep_cascade::PinSpec::Path(p) if p.starts_with("workspace:"))
    }) {
        let (Some(up), true) = (
            plan.step(&e.dependency).filter(|s| s.release),
            plan.not_released.iter().any(|x| x.package == e.dependent),
        ) else {
            continue;
        };
        notes.push(format!(
            "{} depends on {} by `workspace:`, which is written as a range of {}'s version when it is published: its last publication's range may not admit {} {}; --release-dependents always releases it too",
            e.dependent, e.dependency, e.dependency, e.dependency, up.to
        ));
    }
    let from: Vec<&str> = options.from.iter().map(String::as_str).collect();
    notes.extend(
        missing
            .into_iter()
            .filter(|m| from.is_empty() || from.iter().any(|s| m.starts_with(&format!("{s} ")))),
    );
    if !notes.is_empty() {
        plan.notes.extend(notes);
        plan.digest = plan.compute_digest();
    }
    check_publication(discovered, &plan)?;
    check_shared_tags(discovered, &plan, &groups, &options.from)?;
    tracing::info!(
        packages = plan.steps().count(),
        waves = plan.waves.len(),
        digest = %plan.digest,
        "planned"
    );
    Ok(plan)
}

/// Refuses a plan in which a dependent must resolve a released upstream from a registry that
/// the upstream's repository never publishes to (inside one repository, dependencies resolve
/// by path and need no publication).
fn check_publication(discovered: &Discovered, plan: &Plan) -> Result<(), PlanError> {
    let released: BTreeMap<&str, &lockstep_cascade::Step> = plan
        .steps()
        .filter(|s| s.release)
        .map(|s| (s.package.as_str(), s))
        .collect();
    for step in plan.steps() {
        for (dependent, upstream, file) in &discovered.registry_pins {
            if dependent != &step.package {
                continue;
            }
            let Some(up) = released.get(upstream.as_str()) else {
                continue;
            };
            let publishes = discovered
                .repo(&up.repo)
                .is_some_and(|r| r.entry.publish.is_some());
            if !publishes && up.repo != step.repo {
                return Err(PlanError::Unpublished(Box::new(UnpublishedPin {
                    upstream: upstream.clone(),
                    upstream_repo: up.repo.to_string(),
                    version: up.to.to_string(),
                    dependent: dependent.clone(),
                    dependent_repo: step.repo.to_string(),
                    file: file.clone(),
                })));
            }
        }
    }
    Ok(())
}

/// Packages released together, groups of two or more, each sorted by name: per repository,
/// those whose tag format names no package (one shared tag, `v1.0.228`) and that are at one
/// version, and those cargo-release's `shared-version` keeps at one version (those of them at
/// one version). Groups that share a package are one group.
fn shared_groups(discovered: &Discovered) -> Vec<Vec<String>> {
    let mut found: Vec<Vec<String>> = Vec::new();
    let mut by_format: BTreeMap<(&str, &str, String), Vec<String>> = BTreeMap::new();
    // A package that is never released (`publish = false`, cargo-release's `release =
    // false`) is in no group: it keeps its version.
    for p in discovered.packages.iter().filter(|p| p.publish) {
        if let Some(f) = p.tag.as_ref().filter(|f| !f.per_package()) {
            by_format
                .entry((p.repo.as_str(), f.template(), p.version.to_string()))
                .or_default()
                .push(p.name.clone());
        }
    }
    found.extend(by_format.into_values());
    for declared in &discovered.shared_versions {
        let mut by_version: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for name in declared {
            if let Some(p) = discovered.package(name).filter(|p| p.publish) {
                by_version
                    .entry(p.version.to_string())
                    .or_default()
                    .push(name.clone());
            }
        }
        found.extend(by_version.into_values());
    }
    // Merged until no two groups share a package.
    let mut groups: Vec<Vec<String>> = Vec::new();
    for mut g in found.into_iter().filter(|g| g.len() > 1) {
        while let Some(i) = groups.iter().position(|h| h.iter().any(|m| g.contains(m))) {
            g.extend(groups.swap_remove(i));
        }
        g.sort();
        g.dedup();
        groups.push(g);
    }
    groups.sort();
    groups
}

/// Refuses a plan that releases, at different versions, packages of one repository whose tag
/// format names no package: one tag (`v1.4.1`) can name one version only, and tagging the
/// same commit `v0.5.0` and `v1.2.1` would say two things about one release. Refuses, too, a
/// plan that releases part of one of `groups` ([`shared_groups`]).
fn check_shared_tags(
    discovered: &Discovered,
    plan: &Plan,
    groups: &[Vec<String>],
    from: &[String],
) -> Result<(), PlanError> {
    // Per repository and shared format: each release under it (package, version).
    type Releases = Vec<(String, String)>;
    let mut shared: BTreeMap<(&str, String), Releases> = BTreeMap::new();
    for step in plan.steps().filter(|s| s.release) {
        let Some(format) = discovered
            .package(&step.package)
            .and_then(|p| p.tag.as_ref())
            .filter(|f| !f.per_package())
        else {
            continue;
        };
        shared
            .entry((step.repo.as_str(), format.template().to_owned()))
            .or_default()
            .push((step.package.to_string(), step.to.to_string()));
    }
    for ((repo, format), releases) in shared {
        let first = &releases[0].1;
        if releases.iter().any(|(_, v)| v != first) {
            return Err(PlanError::SharedTag {
                repo: repo.to_owned(),
                format,
                releases,
            });
        }
    }
    // A group kept at one version is released whole or not at all: a member reached as a
    // dependent does not bring the others (only `--from` does).
    for group in groups {
        let (released, left): (Vec<&String>, Vec<&String>) = group
            .iter()
            .partition(|m| plan.step(m).is_some_and(|s| s.release));
        if !released.is_empty() && !left.is_empty() {
            let mut from: Vec<String> = from.to_vec();
            for m in group {
                if !from.contains(m) {
                    from.push(m.clone());
                }
            }
            return Err(PlanError::PartialGroup {
                repo: discovered
                    .package(&group[0])
                    .map_or_else(String::new, |p| p.repo.clone()),
                released: released.into_iter().cloned().collect(),
                left: left.into_iter().cloned().collect(),
                from: from.join(" --from "),
            });
        }
    }
    Ok(())
}

/// The directory of a package's manifest, relative to its repository (`` for the root).
fn package_dir(manifest: &str) -> String {
    manifest
        .rsplit_once('/')
        .map(|(dir, _)| dir.to_owned())
        .unwrap_or_default()
}

/// Reads a plan saved with `release-cascade --dry-run --json`.
pub fn read_plan(path: &Path) -> Result<Plan, PlanError> {
    let fail = |message: String| PlanError::SavedPlan {
        path: path.to_path_buf(),
        message,
    };
    let text = std::fs::read_to_string(path).map_err(|e| fail(e.to_string()))?;
    serde_json::from_str(&text).map_err(|e| fail(e.to_string()))
}

/// The name closest to `wanted` by edit distance, when it is close enough to be a typo (at
/// most a third of the name's length, and at least one edit).
pub fn closest<'a>(wanted: &str, names: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let limit = (wanted.chars().count() / 3).max(1);
    names
        .into_iter()
        .map(|n| (distance(wanted, n), n))
        .filter(|(d, _)| *d <= limit)
        .min()
        .map(|(_, n)| n)
}

/// Levenshtein distance over characters.
fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = if ca == *cb {
                prev
            } else {
                1 + prev.min(cur).min(row[j])
            };
            prev = cur;
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typos_get_the_closest_name() {
        let names = ["gix-hash", "gix-features", "gix-object", "manifest"];
        assert_eq!(closest("gix-hsah", names), Some("gix-hash"));
        assert_eq!(closest("manifst", names), Some("manifest"));
        assert_eq!(closest("tokio", names), None);
        assert_eq!(distance("kitten", "sitting"), 3);
        assert_eq!(distance("", "abc"), 3);
    }
}

/// A registry requirement on a released package whose repository publishes nothing.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "{dependent} (repository {dependent_repo}) pins {upstream} by a registry requirement in {file}, but repository {upstream_repo} has no `publish` setting, so {upstream} {version} would never reach the registry its lockfile resolves from; add `publish = \"COMMAND\"` (or `publish = \"ci\"`) to [[repo]] {upstream_repo} in cascade.toml, or pin {upstream} by git tag"
)]
#[non_exhaustive]
pub struct UnpublishedPin {
    /// The upstream package.
    pub upstream: String,
    /// Its repository.
    pub upstream_repo: String,
    /// Its new version.
    pub version: String,
    /// The dependent package.
    pub dependent: String,
    /// Its repository.
    pub dependent_repo: String,
    /// The file holding the requirement.
    pub file: String,
}
