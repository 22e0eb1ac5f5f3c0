//! `release-cascade --status`: every package's version against its latest tag, and every
//! pin that lags its upstream's current version.

use std::collections::BTreeMap;

use lockstep_cascade::PinSpec;
use lockstep_snapshot::Tag;
use semver::Version;
use serde::Serialize;

use super::{Discovered, Error};
use lockstep_vocab::Requirement;

/// The `schema` value of the status JSON.
pub const STATUS_SCHEMA: &str = "lockstep.cascade-status/v1";

/// The global view of a cascade: `lockstep.cascade-status/v1`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct StatusReport {
    /// Always [`STATUS_SCHEMA`].
    pub schema: &'static str,
    /// Every package, sorted by name.
    pub packages: Vec<PackageStatus>,
    /// Every downstream pin that does not admit (or name) its upstream's current version,
    /// sorted by package and dependency.
    pub lagging_pins: Vec<LaggingPin>,
}

impl StatusReport {
    /// Whether every released package's latest tag matches its version and no pin lags (what
    /// `--check` requires). A package with no release tag at all has never been released: it
    /// has nothing to match yet.
    pub fn is_consistent(&self) -> bool {
        self.lagging_pins.is_empty()
            && self
                .packages
                .iter()
                .all(|p| p.tag_matches || p.latest_tag.is_none())
    }

    /// The report as pretty JSON.
    pub fn to_json(&self) -> String {
        // Serialising plain strings, numbers and booleans cannot fail.
        serde_json::to_string_pretty(self).unwrap_or_default()
    }
}

/// One package's line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct PackageStatus {
    /// The package.
    pub name: String,
    /// Its repository.
    pub repo: String,
    /// `cargo`, `npm` or `python`.
    pub ecosystem: String,
    /// The version its manifest states.
    pub version: String,
    /// Its highest release tag in its format (`NAME-vX.Y.Z`, `vX.Y.Z`, …) by SemVer
    /// precedence; under a tag shared by several packages, the tag naming its own version
    /// when there is one (a newer shared tag may be another package's release); `null` when
    /// it has none.
    pub latest_tag: Option<String>,
    /// Whether the latest tag names the manifest's version.
    pub tag_matches: bool,
}

/// A downstream pin behind its upstream.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct LaggingPin {
    /// The package that pins.
    pub package: String,
    /// The package pinned.
    pub dependency: String,
    /// The pin as written (a requirement, a tag or a commit id).
    pub pinned: String,
    /// The dependency's current version.
    pub current: String,
    /// `requirement`, `git_tag` or `git_rev`.
    pub pin_kind: &'static str,
    /// The file that holds the pin, relative to the package's repository root.
    pub file: String,
}

/// Reads every repository's tags and compares them, and every pin, with the manifests.
pub fn status(discovered: &Discovered) -> Result<StatusReport, Error> {
    let _span = tracing::info_span!("cascade_status").entered();
    let mut tags: BTreeMap<&str, Vec<Tag>> = BTreeMap::new();
    for repo in &discovered.repos {
        let list = lockstep_snapshot::list_tags(&repo.dir).map_err(|source| Error::Git {
            repo: repo.entry.name.clone(),
            source,
        })?;
        tags.insert(&repo.entry.name, list);
    }
    let single = |repo: &str| discovered.repo(repo).is_some_and(|r| r.packages.len() == 1);

    let mut packages = Vec::with_capacity(discovered.packages.len());
    for p in &discovered.packages {
        let ours: Vec<(Version, &Tag)> = tags
            .get(p.repo.as_str())
            .map(|list| {
                list.iter()
                    .filter_map(|t| {
                        package_tag_version(&t.name, p, single(&p.repo)).map(|v| (v, t))
                    })
                    // A tag-versioned package's version is its latest release tag: a
                    // pre-release tag (from a beta branch, say) is not its current version.
                    .filter(|(v, _)| !p.tag_versioned || v.pre.is_empty())
                    .collect()
            })
            .unwrap_or_default();
        // A tag shared by several packages (`v4.6.6`) may be another package's release: one
        // of them at an older version was last released under the tag naming that version.
        let shared = !single(&p.repo) && p.tag.as_ref().is_some_and(|f| !f.per_package());
        let latest = ours
            .iter()
            .find(|(v, _)| shared && *v == p.version)
            .or_else(|| ours.iter().max_by(|a, b| a.0.cmp(&b.0)))
            .cloned();
        packages.push(PackageStatus {
            name: p.name.clone(),
            repo: p.repo.clone(),
            ecosystem: p.ecosystem.to_string(),
            version: p.version.to_string(),
            latest_tag: latest.as_ref().map(|(_, t)| t.name.clone()),
            tag_matches: latest.is_some_and(|(v, _)| v == p.version),
        });
    }

    let mut lagging = Vec::new();
    for e in &discovered.edges {
        let (Some(down), Some(up)) = (
            discovered.package(&e.dependent),
            discovered.package(&e.dependency),
        ) else {
            continue;
        };
        let current = &up.version;
        let (lags, kind) = match &e.pin {
            PinSpec::Requirement(r) => (
                Requirement::parse(r, down.ecosystem).is_ok_and(|r| !r.admits(current)),
                "requirement",
            ),
            PinSpec::GitTag(t) => (
                package_tag_version(t, up, true).is_some_and(|v| v < *current),
                "git_tag",
            ),
            PinSpec::GitRev(rev) => {
                // Behind when the tag of the current version is at another commit.
                let expected = release_tag_commit(&tags, up, current, single(&up.repo));
                (
                    expected.is_some_and(|commit| !commit.starts_with(rev.as_str())),
                    "git_rev",
                )
            }
            _ => (false, "path"),
        };
        if lags {
            lagging.push(LaggingPin {
                package: e.dependent.clone(),
                dependency: e.dependency.clone(),
                pinned: e.pin.as_str().to_owned(),
                current: current.to_string(),
                pin_kind: kind,
                file: e.file.clone(),
            });
        }
    }
    lagging.sort_by(|a, b| {
        (&a.package, &a.dependency, &a.file).cmp(&(&b.package, &b.dependency, &b.file))
    });
    lagging.dedup();
    Ok(StatusReport {
        schema: STATUS_SCHEMA,
        packages,
        lagging_pins: lagging,
    })
}

/// The version a release tag of `package` names: `PACKAGE-vX.Y.Z`, or `vX.Y.Z` when `bare`
/// tags count (a repository holding one package). Strict SemVer only.
/// The version a release tag of `package` names, in the package's own tag format when it has
/// one (else [`tag_version`]'s default).
fn package_tag_version(
    tag: &str,
    package: &lockstep_cascade::Package,
    bare: bool,
) -> Option<Version> {
    match &package.tag {
        Some(format) => format
            .parse(tag)
            .filter(|(name, _)| {
                name.as_deref()
                    .is_none_or(|n| n == format.name_in_tag(&package.name))
            })
            .map(|(_, v)| v),
        None => tag_version(tag, &package.name, bare),
    }
}

fn tag_version(tag: &str, package: &str, bare: bool) -> Option<Version> {
    let rest = tag
        .strip_prefix(package)
        .and_then(|r| r.strip_prefix("-v"))
        .or_else(|| if bare { tag.strip_prefix('v') } else { None })?;
    Version::parse(rest).ok()
}

/// The commit of the release tag of `package` at `version`, when that tag exists.
fn release_tag_commit<'t>(
    tags: &'t BTreeMap<&str, Vec<Tag>>,
    package: &lockstep_cascade::Package,
    version: &Version,
    bare: bool,
) -> Option<&'t str> {
    tags.get(package.repo.as_str())?
        .iter()
        .find(|t| package_tag_version(&t.name, package, bare).as_ref() == Some(version))
        .map(|t| t.commit.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn release_tags_name_a_package_and_a_strict_version() {
        let v = |s| Version::parse(s).ok();
        assert_eq!(tag_version("core-v1.2.0", "core", false), v("1.2.0"));
        assert_eq!(tag_version("v1.2.0", "core", true), v("1.2.0"));
        assert_eq!(tag_version("v1.2.0", "core", false), None);
        assert_eq!(tag_version("v1.2", "core", true), None);
        assert_eq!(tag_version("core-types-v1.0.0", "core", false), None);
        assert_eq!(
            tag_version("core-v2.0.0-rc.1", "core", false),
            v("2.0.0-rc.1")
        );
    }
}
