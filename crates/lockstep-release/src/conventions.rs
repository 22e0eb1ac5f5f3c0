//! Each package's release tag format, applied at discovery: `tag = "…"` from `cascade.toml`,
//! cargo-release's own setting, or the convention the repository's tags follow
//! ([`crate::tags`]); and, for tag-versioned packages, the version their latest tag names.

use std::collections::BTreeMap;

use lockstep_cascade::Package;

use crate::Error;
use crate::discover::DiscoveredRepo;

/// Gives each package its repository's release tag format: `tag = "…"` from `cascade.toml`,
/// else the convention its existing tags follow (see [`crate::tags`]).
pub(crate) fn apply(repos: &[DiscoveredRepo], packages: &mut [Package]) -> Result<(), Error> {
    for repo in repos {
        let names: Vec<String> = packages
            .iter()
            .filter(|p| p.repo == repo.entry.name)
            .map(|p| p.name.clone())
            .collect();
        let top = packages
            .iter()
            .find(|p| p.repo == repo.entry.name && !p.manifest.contains('/'))
            .map(|p| p.name.clone());
        let configured = repo
            .entry
            .tag
            .as_deref()
            .and_then(|t| lockstep_vocab::TagFormat::parse_template(t).ok());
        if let Some(f) = configured.as_ref().filter(|f| f.unscoped()) {
            let mut seen: BTreeMap<&str, &str> = BTreeMap::new();
            for n in &names {
                if let Some(other) = seen.insert(lockstep_vocab::unscoped(n), n) {
                    return Err(Error::TagCollision {
                        repo: repo.entry.name.clone(),
                        format: f.template().to_owned(),
                        packages: vec![other.to_owned(), n.clone()],
                    });
                }
            }
        }
        // The repository's tags, listed once when anything reads them: detection and the
        // shared-tag split (without `tag` in cascade.toml), tag-versioned packages.
        let tag_versioned = packages
            .iter()
            .any(|p| p.repo == repo.entry.name && p.tag_versioned);
        let tags: Vec<String> = if configured.is_none() || tag_versioned {
            lockstep_snapshot::list_tag_names(&repo.dir).map_err(|source| Error::Git {
                repo: repo.entry.name.clone(),
                source,
            })?
        } else {
            Vec::new()
        };
        let detected = if configured.is_some() {
            crate::tags::Detected::Default
        } else {
            crate::tags::detect(&tags, &names, top.as_deref()).map_err(|candidates| {
                Error::AmbiguousTags {
                    repo: repo.entry.name.clone(),
                    candidates,
                }
            })?
        };
        let mut formats =
            crate::tags::formats(configured.as_ref(), &detected, &names, top.as_deref());
        if configured.is_none() && names.len() > 1 {
            // A tag-versioned package's version is read from these tags below: it is at the
            // shared version by construction, never apart.
            let versions: BTreeMap<&str, &semver::Version> = packages
                .iter()
                .filter(|p| p.repo == repo.entry.name && !p.tag_versioned)
                .map(|p| (p.name.as_str(), &p.version))
                .collect();
            split_shared(&mut formats, &tags, &versions);
        }
        for p in packages.iter_mut().filter(|p| p.repo == repo.entry.name) {
            // cargo-release's own setting, already in place, wins over what the tags suggest;
            // `tag` in cascade.toml wins over both.
            if p.tag.is_some() && configured.is_none() {
                continue;
            }
            if let Some(f) = formats.get(&p.name) {
                p.tag = Some(f.clone());
            }
        }
        // Tag-versioned packages: the current version is the latest release tag naming them
        // in the repository's convention (0.0.0 before the first release).
        if tag_versioned {
            let single = names.len() == 1;
            for p in packages
                .iter_mut()
                .filter(|p| p.repo == repo.entry.name && p.tag_versioned)
            {
                let format = p.tag.clone().unwrap_or_else(|| {
                    if single {
                        lockstep_vocab::TagFormat::v_version()
                    } else {
                        lockstep_vocab::TagFormat::name_v_version()
                    }
                });
                let latest = tags
                    .iter()
                    .filter_map(|t| format.parse(t))
                    .filter(|(n, v)| {
                        n.as_deref()
                            .is_none_or(|n| n == format.name_in_tag(&p.name))
                            && v.pre.is_empty()
                    })
                    .map(|(_, v)| v)
                    .max();
                if let Some(v) = latest {
                    p.version = v;
                }
            }
        }
    }
    Ok(())
}

/// A detected shared tag (`v1.0.228`) names the version its packages share: a package of the
/// repository at another version (serde's `serde_derive_internals` 0.29.1 beside serde
/// 1.0.228) has never had a tag of its own, and gets the per-package default
/// (`NAME-vX.Y.Z`) instead of borrowing the shared one.
fn split_shared(
    formats: &mut BTreeMap<String, lockstep_vocab::TagFormat>,
    tags: &[String],
    versions: &BTreeMap<&str, &semver::Version>,
) {
    let mut shared: Vec<lockstep_vocab::TagFormat> = Vec::new();
    for f in formats.values().filter(|f| !f.per_package()) {
        if !shared.contains(f) {
            shared.push(f.clone());
        }
    }
    for format in shared {
        let members: Vec<&String> = formats
            .iter()
            .filter(|(_, f)| **f == format)
            .map(|(name, _)| name)
            .collect();
        if members.len() < 2 {
            continue;
        }
        // The shared version: the newest release the shared tags name.
        let Some(latest) = tags
            .iter()
            .filter_map(|t| format.parse(t))
            .map(|(_, v)| v)
            .filter(|v| v.pre.is_empty())
            .max()
        else {
            continue;
        };
        // Only when some package is at it: otherwise nothing tells the group apart.
        if !members
            .iter()
            .any(|m| versions.get(m.as_str()).is_some_and(|v| **v == latest))
        {
            continue;
        }
        let apart: Vec<String> = members
            .into_iter()
            .filter(|m| versions.get(m.as_str()).is_some_and(|v| **v != latest))
            .cloned()
            .collect();
        for name in apart {
            formats.insert(name, lockstep_vocab::TagFormat::name_v_version());
        }
    }
}
