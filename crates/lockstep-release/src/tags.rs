//! Each repository's release tag convention, read from the tags it already has (or taken from
//! `tag = "…"` in `cascade.toml`), so the cascade tags the way the repository always has.
//!
//! Conventions recognised: `vX.Y.Z` and bare `X.Y.Z` (one tag for the repository: a single
//! package, or every package sharing one version), `NAME-vX.Y.Z`, `NAME-X.Y.Z`, `NAME@X.Y.Z`
//! and `NAME/vX.Y.Z` (one tag per package, NAME a package of the repository, either whole or,
//! for an npm package, without its scope: `arborist-v8.0.0` for `@npmcli/arborist`, as
//! release-please writes them), and the mix of a repository-wide format for the top-level
//! package beside a per-package one for the others.
//! A Cargo crate's own cargo-release `tag-name` wins over what the tags suggest (see
//! `cargo_release`). A repository without release tags keeps lockstep's default (`vX.Y.Z` for one package,
//! `NAME-vX.Y.Z` for several). Two conventions that match equally many tags are ambiguous:
//! an error names them and asks for `tag = "…"`.

use std::collections::BTreeMap;

use lockstep_vocab::TagFormat;

/// The conventions tried, in the order ties are reported. An `{unscoped}` one and its `{name}`
/// twin read the same tags of packages without a scope; between the two, the scoped
/// packages' tags decide: more of them, or as many and the newest release among them. In a
/// repository without scoped names `{name}` is kept.
pub const CONVENTIONS: [&str; 10] = [
    "v{version}",
    "{version}",
    "{name}-v{version}",
    "{name}-{version}",
    "{name}@{version}",
    "{name}/v{version}",
    "{unscoped}-v{version}",
    "{unscoped}-{version}",
    "{unscoped}@{version}",
    "{unscoped}/v{version}",
];

/// What detection found for one repository.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Detected {
    /// No release tag follows any convention: keep the default.
    Default,
    /// One format for every package of the repository.
    One(TagFormat),
    /// The top-level package tagged repository-wide, the others per package.
    Mixed {
        /// The top-level package's format (no `{name}`).
        top: TagFormat,
        /// Every other package's format.
        others: TagFormat,
    },
}

/// Detects the convention of a repository whose packages are `packages` (the top-level one,
/// whose manifest sits at the repository's root, named by `top`) from its `tags`.
///
/// `Err` lists the conventions that match equally many tags.
pub fn detect(
    tags: &[String],
    packages: &[String],
    top: Option<&str>,
) -> Result<Detected, Vec<String>> {
    let unscoped: Vec<&str> = packages
        .iter()
        .map(|p| lockstep_vocab::unscoped(p))
        .collect();
    // Two packages that differ only in their scope cannot be told apart without it.
    let unscoped_unique = {
        let mut sorted = unscoped.clone();
        sorted.sort_unstable();
        sorted.windows(2).all(|w| w[0] != w[1])
    };
    let scoped = packages.iter().any(|p| p.starts_with('@'));
    let known: std::collections::HashSet<&str> = packages.iter().map(String::as_str).collect();
    let mut counts: Vec<(usize, TagFormat)> = Vec::new();
    for template in CONVENTIONS {
        let Ok(format) = TagFormat::parse_template(template) else {
            continue;
        };
        // Without a scoped name the `{unscoped}` conventions read exactly what their twins
        // read: not tried (a large repository has thousands of tags).
        if format.unscoped() && !(unscoped_unique && scoped) {
            continue;
        }
        let n = tags
            .iter()
            .filter(|t| match format.parse(t) {
                Some((Some(name), _)) if format.unscoped() => unscoped.contains(&name.as_str()),
                Some((Some(name), _)) => known.contains(name.as_str()),
                Some((None, _)) => true,
                None => false,
            })
            .count();
        if n > 0 {
            counts.push((n, format));
        }
    }
    // Between an `{unscoped}` convention and its `{name}` twin (they read the same tags of
    // packages without a scope), the scoped packages' tags decide: more of them, or, as many,
    // the newest release among them (a repository that changed convention keeps the new one).
    let scoped_versions = |f: &TagFormat| -> Vec<semver::Version> {
        tags.iter()
            .filter_map(|t| f.parse(t))
            .filter(|(name, _)| {
                name.as_deref().is_some_and(|n| {
                    packages
                        .iter()
                        .any(|p| p.starts_with('@') && f.name_in_tag(p) == n)
                })
            })
            .map(|(_, v)| v)
            .collect()
    };
    let mut dropped: Vec<String> = Vec::new();
    for (_, f) in counts.iter().filter(|(_, f)| f.unscoped()) {
        let twin = f.template().replace("{unscoped}", "{name}");
        let Ok(twin_format) = TagFormat::parse_template(&twin) else {
            continue;
        };
        let (short, whole) = (scoped_versions(f), scoped_versions(&twin_format));
        let unscoped_wins = short.len() > whole.len()
            || (short.len() == whole.len() && short.iter().max() > whole.iter().max());
        dropped.push(if unscoped_wins {
            twin
        } else {
            f.template().to_owned()
        });
    }
    counts.retain(|(_, f)| !dropped.iter().any(|d| d == f.template()));
    let best = |per_package: bool| -> Result<Option<TagFormat>, Vec<String>> {
        let of_kind: Vec<&(usize, TagFormat)> = counts
            .iter()
            .filter(|(_, f)| f.per_package() == per_package)
            .collect();
        let Some(max) = of_kind.iter().map(|(n, _)| *n).max() else {
            return Ok(None);
        };
        let top: Vec<&TagFormat> = of_kind
            .iter()
            .filter(|(n, _)| *n == max)
            .map(|(_, f)| f)
            .collect();
        match top.as_slice() {
            [one] => Ok(Some((*one).clone())),
            many => Err(many.iter().map(|f| f.template().to_owned()).collect()),
        }
    };
    let shared = best(false)?;
    let named = best(true)?;
    Ok(match (shared, named) {
        (None, None) => Detected::Default,
        (Some(f), None) | (None, Some(f)) => Detected::One(f),
        (Some(top_format), Some(others)) => match top {
            Some(_) if packages.len() > 1 => Detected::Mixed {
                top: top_format,
                others,
            },
            _ => Detected::One(others),
        },
    })
}

/// The format each package of a repository gets: `configured` (from `cascade.toml`) wins;
/// otherwise what [`detect`] found. Packages left out keep the default.
pub fn formats(
    configured: Option<&TagFormat>,
    detected: &Detected,
    packages: &[String],
    top: Option<&str>,
) -> BTreeMap<String, TagFormat> {
    packages
        .iter()
        .filter_map(|p| {
            let format = match (configured, detected) {
                (Some(f), _) => f.clone(),
                (None, Detected::Default) => return None,
                (None, Detected::One(f)) => f.clone(),
                (None, Detected::Mixed { top: t, others }) => {
                    if Some(p.as_str()) == top {
                        t.clone()
                    } else {
                        others.clone()
                    }
                }
            };
            Some((p.clone(), format))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(list: &[&str]) -> Vec<String> {
        list.iter().map(|x| (*x).to_owned()).collect()
    }

    /// Each package's format, detected from `tags`.
    fn formats_of(
        tags: &[String],
        pkgs: &[String],
        top: Option<&str>,
    ) -> BTreeMap<String, TagFormat> {
        let d = detect(tags, pkgs, top).unwrap();
        formats(None, &d, pkgs, top)
    }

    fn one(t: &str) -> Detected {
        Detected::One(TagFormat::parse_template(t).unwrap())
    }

    #[test]
    fn each_convention_is_read_from_the_tags() {
        let pkgs = s(&["serde", "serde_derive"]);
        let top = Some("serde");
        for (tags, want) in [
            (s(&["v1.0.227", "v1.0.228"]), one("v{version}")),
            (s(&["1.0.0", "1.1.0"]), one("{version}")),
            (
                s(&["serde-v1.0.0", "serde_derive-v1.0.0"]),
                one("{name}-v{version}"),
            ),
            (
                s(&["serde-1.0.0", "serde_derive-1.0.0-rc.1"]),
                one("{name}-{version}"),
            ),
            (s(&["serde@1.0.0"]), one("{name}@{version}")),
            (s(&["serde_derive/v1.0.0"]), one("{name}/v{version}")),
            (s(&["nightly", "other-v1.0.0"]), Detected::Default),
        ] {
            assert_eq!(detect(&tags, &pkgs, top), Ok(want), "{tags:?}");
        }
    }

    #[test]
    fn a_top_level_crate_tagged_bare_beside_named_members_is_a_mix() {
        let pkgs = s(&["tokio", "tokio-util", "tokio-macros"]);
        let tags = s(&[
            "1.40.0",
            "1.41.0",
            "tokio-util-0.7.12",
            "tokio-macros-2.4.0",
        ]);
        let f = formats_of(&tags, &pkgs, Some("tokio"));
        assert_eq!(f["tokio"].template(), "{version}");
        assert_eq!(f["tokio-util"].template(), "{name}-{version}");
    }

    #[test]
    fn npm_members_tagged_without_their_scope_keep_that_convention() {
        // npm/cli's shape: `v10.9.0` for the top-level npm, `arborist-v8.0.0` for
        // @npmcli/arborist, `libnpmexec-v9.0.0`, and one tag from an older convention.
        let pkgs = s(&["npm", "@npmcli/arborist", "@npmcli/config", "libnpmexec"]);
        let tags = s(&[
            "v10.8.0",
            "v10.9.0",
            "@npmcli/arborist-v5.0.0",
            "arborist-v7.5.4",
            "arborist-v8.0.0",
            "config-v9.0.0",
            "libnpmexec-v8.1.4",
            "libnpmexec-v9.0.0",
        ]);
        let f = formats_of(&tags, &pkgs, Some("npm"));
        assert_eq!(f["npm"].template(), "v{version}");
        assert_eq!(f["@npmcli/arborist"].template(), "{unscoped}-v{version}");
        assert_eq!(
            f["@npmcli/arborist"].format("@npmcli/arborist", &semver::Version::new(8, 1, 0)),
            "arborist-v8.1.0"
        );
        assert_eq!(f["libnpmexec"].template(), "{unscoped}-v{version}");

        // As many tags each way: the newest release decides.
        let pkgs = s(&["top", "@acme/arbor"]);
        let tags = s(&["v3.2.0", "@acme/arbor-v7.0.0", "arbor-v8.0.0"]);
        let f = formats_of(&tags, &pkgs, Some("top"));
        assert_eq!(f["@acme/arbor"].template(), "{unscoped}-v{version}");
        let tags = s(&["v3.2.0", "@acme/arbor-v8.0.0", "arbor-v7.0.0"]);
        let f = formats_of(&tags, &pkgs, Some("top"));
        assert_eq!(f["@acme/arbor"].template(), "{name}-v{version}");

        // Without scoped names the two read the same tags: `{name}` is kept, no ambiguity.
        let pkgs = s(&["a", "b"]);
        assert_eq!(
            detect(&s(&["a-v1.0.0", "b-v2.0.0"]), &pkgs, None),
            Ok(one("{name}-v{version}"))
        );
        // Scoped names tagged whole stay whole.
        let pkgs = s(&["@s/a", "@s/b"]);
        assert_eq!(
            detect(&s(&["@s/a@1.0.0", "@s/b@2.0.0"]), &pkgs, None),
            Ok(one("{name}@{version}"))
        );
        // Two names that differ only in scope: the unscoped conventions are not tried.
        let pkgs = s(&["@s/a", "@t/a"]);
        assert_eq!(
            detect(&s(&["a-v1.0.0"]), &pkgs, None),
            Ok(Detected::Default)
        );
    }

    #[test]
    fn ties_are_ambiguous_and_the_config_wins() {
        let pkgs = s(&["a", "b"]);
        let tags = s(&["a-v1.0.0", "b@1.0.0"]);
        assert_eq!(
            detect(&tags, &pkgs, None),
            Err(s(&["{name}-v{version}", "{name}@{version}"]))
        );
        let configured = TagFormat::parse_template("{name}@{version}").unwrap();
        let f = formats(Some(&configured), &Detected::Default, &pkgs, None);
        assert_eq!(f["a"].template(), "{name}@{version}");
    }
}
