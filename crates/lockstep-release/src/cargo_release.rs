//! What a Cargo repository tells cargo-release about its releases, read so the cascade releases
//! it the same way: `tag-name` and `tag-prefix` (the tag), `release = false` (a crate that is
//! never released), and `shared-version` (crates that always carry one version).
//!
//! Sources, first found wins per key, as cargo-release reads them: the crate's
//! `[package.metadata.release]`, the crate's `release.toml`, the workspace's
//! `[workspace.metadata.release]`, the workspace's `release.toml` (the workspace being the
//! repository root; for the root crate, the repository's `release.toml` is its own file and
//! comes before `[workspace.metadata.release]`). The table may be written as a section,
//! dotted keys or an inline table. Only keys a repository sets are used; the rest of the repository's
//! convention is read from its tags ([`crate::tags`]). User-level files (`~/.release.toml`)
//! are not read: a release must not depend on who runs it.

use std::collections::BTreeMap;
use std::path::Path;

use lockstep_cascade::{Ecosystem, Package};

use lockstep_vocab::TagFormat;
use toml_edit::{DocumentMut, Item};

use crate::discover::{DiscoveredRepo, Note};

/// One crate's cargo-release settings that the cascade follows.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Settings {
    /// Its release tag format, from `tag-name` / `tag-prefix`; `Err` says why it cannot be
    /// followed (a placeholder such as `{{date}}`).
    pub(crate) tag: Option<Result<TagFormat, String>>,
    /// `release = false`: never released.
    pub(crate) release: Option<bool>,
    /// `shared-version`: the name of the group of crates sharing one version (`true` is the
    /// unnamed group, `""`).
    pub(crate) shared_version: Option<String>,
}

/// A repository's workspace-level settings (`[workspace.metadata.release]`, then its
/// `release.toml`), read once for all its crates.
#[derive(Debug, Clone, Default)]
pub(crate) struct Workspace {
    /// `[workspace.metadata.release]` of the root `Cargo.toml`.
    metadata: Option<toml_edit::Table>,
    /// The root `release.toml`.
    file: Option<toml_edit::Table>,
}

impl Workspace {
    /// Reads `repo_dir`'s root `Cargo.toml` and `release.toml`; unreadable files hold nothing.
    pub(crate) fn read(repo_dir: &Path) -> Self {
        Workspace {
            metadata: read(repo_dir, "Cargo.toml", "release")
                .and_then(|doc| path(doc.as_item(), &["workspace", "metadata", "release"])),
            file: read(repo_dir, "release.toml", "").map(|doc| doc.as_table().clone()),
        }
    }
}

/// `rel` under `repo_dir`, parsed, when it exists and holds `needle` (a file that cannot
/// hold the settings is not parsed: a large workspace has many manifests).
fn read(repo_dir: &Path, rel: &str, needle: &str) -> Option<DocumentMut> {
    let text = std::fs::read_to_string(repo_dir.join(rel)).ok()?;
    if !text.contains(needle) {
        return None;
    }
    text.parse::<DocumentMut>().ok()
}

/// The settings of the crate whose manifest is `manifest` (relative to `repo_dir`, whose
/// workspace-level settings are `workspace`); `None` when none of the keys is set.
pub(crate) fn settings(repo_dir: &Path, workspace: &Workspace, manifest: &str) -> Option<Settings> {
    let crate_dir = manifest.rsplit_once('/').map_or("", |(dir, _)| dir);
    let at_root = crate_dir.is_empty();
    let joined = |file: &str| {
        if at_root {
            file.to_owned()
        } else {
            format!("{crate_dir}/{file}")
        }
    };
    // `release` anywhere: the table may be written `[package.metadata.release]`, dotted, or
    // inline under `[package.metadata]`.
    let own = read(repo_dir, &joined("Cargo.toml"), "release")
        .and_then(|doc| path(doc.as_item(), &["package", "metadata", "release"]));
    // The root crate's own release.toml is the repository's: it comes before the workspace
    // table, as cargo-release applies it as the crate's file.
    let own_file = if at_root {
        None
    } else {
        read(repo_dir, &joined("release.toml"), "").map(|doc| doc.as_table().clone())
    };
    let ordered = if at_root {
        [
            own.as_ref(),
            workspace.file.as_ref(),
            workspace.metadata.as_ref(),
            None,
        ]
    } else {
        [
            own.as_ref(),
            own_file.as_ref(),
            workspace.metadata.as_ref(),
            workspace.file.as_ref(),
        ]
    };
    // In precedence order.
    let tables: Vec<&toml_edit::Table> = ordered.into_iter().flatten().collect();
    if tables.is_empty() {
        return None;
    }
    let first = |key: &str| tables.iter().find_map(|t| t.get(key)).cloned();
    let text = |item: Option<Item>| item.and_then(|i| i.as_str().map(str::to_owned));

    let tag_name = text(first("tag-name"));
    let tag_prefix = text(first("tag-prefix"));
    let tag = (tag_name.is_some() || tag_prefix.is_some()).then(|| {
        // cargo-release's defaults for whichever of the two is not set.
        let prefix = tag_prefix.unwrap_or_else(|| {
            if at_root {
                String::new()
            } else {
                "{{crate_name}}-".to_owned()
            }
        });
        let name = tag_name.unwrap_or_else(|| "{{prefix}}v{{version}}".to_owned());
        template(&name.replace("{{prefix}}", &prefix))
    });
    let release = first("release").and_then(|i| i.as_bool());
    let shared_version = first("shared-version").and_then(|i| match (i.as_bool(), i.as_str()) {
        (Some(true), _) => Some(String::new()),
        (_, Some(name)) => Some(name.to_owned()),
        _ => None,
    });
    let found = Settings {
        tag,
        release,
        shared_version,
    };
    (found != Settings::default()).then_some(found)
}

/// The table at `keys` under `item`.
fn path(item: &Item, keys: &[&str]) -> Option<toml_edit::Table> {
    let mut at = item;
    for k in keys {
        at = at.get(k)?;
    }
    match at {
        Item::Table(t) => Some(t.clone()),
        Item::Value(toml_edit::Value::InlineTable(t)) => Some(t.clone().into_table()),
        _ => None,
    }
}

/// A cargo-release tag template (`{{crate_name}}-v{{version}}`) as a lockstep one.
fn template(cargo_release: &str) -> Result<TagFormat, String> {
    let ours = cargo_release
        .replace("{{crate_name}}", "{name}")
        .replace("{{version}}", "{version}");
    if let Some(at) = ours.find("{{") {
        let end = ours[at..].find("}}").map_or(ours.len(), |e| at + e + 2);
        return Err(format!(
            "cargo-release tag-name `{cargo_release}` uses `{}`, which a release tag lockstep reads back cannot hold; set `tag = \"…\"` for the repository in cascade.toml",
            &ours[at..end]
        ));
    }
    TagFormat::parse_template(&ours).map_err(|e| format!("cargo-release tag-name: {e}"))
}

/// Follows what each Cargo package's cargo-release settings say ([`crate::cargo_release`]):
/// its tag format (kept in [`Package::tag`] for [`crate::conventions::apply`], which lets
/// `cascade.toml` override it), `release = false` (released like an unpublished package:
/// edited, not released), and `shared-version` groups, returned.
pub(crate) fn apply(
    repos: &[DiscoveredRepo],
    packages: &mut [Package],
    notes: &mut Vec<Note>,
) -> Vec<Vec<String>> {
    let mut groups: BTreeMap<(String, String), Vec<String>> = BTreeMap::new();
    for repo in repos {
        if !packages
            .iter()
            .any(|p| p.repo == repo.entry.name && p.ecosystem == Ecosystem::Cargo)
        {
            continue;
        }
        let workspace = Workspace::read(&repo.dir);
        for p in packages
            .iter_mut()
            .filter(|p| p.repo == repo.entry.name && p.ecosystem == Ecosystem::Cargo)
        {
            let Some(found) = settings(&repo.dir, &workspace, &p.manifest) else {
                continue;
            };
            match found.tag {
                Some(Ok(format)) => p.tag = Some(format),
                Some(Err(why)) => notes.push(Note {
                    repo: repo.entry.name.clone(),
                    file: p.manifest.clone(),
                    message: format!("{}: {why}; its tags are read instead", p.name),
                }),
                None => {}
            }
            if found.release == Some(false) {
                p.publish = false;
            }
            if let Some(group) = found.shared_version {
                groups
                    .entry((repo.entry.name.clone(), group))
                    .or_default()
                    .push(p.name.clone());
            }
        }
    }
    groups
        .into_values()
        .filter(|g| g.len() > 1)
        .map(|mut g| {
            g.sort();
            g
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn repo(files: &[(&str, &str)]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        for (rel, text) in files {
            let p = dir.path().join(rel);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, text).unwrap();
        }
        dir
    }

    fn tag(s: &Settings) -> &str {
        s.tag.as_ref().unwrap().as_ref().unwrap().template()
    }

    #[test]
    fn clap_shape_shared_version_and_one_tag() {
        let r = repo(&[
            (
                "Cargo.toml",
                "[workspace]\nmembers = [\"clap_builder\", \"clap_lex\"]\n\n[package]\nname = \"clap\"\n\n[package.metadata.release]\nshared-version = true\ntag-name = \"v{{version}}\"\n",
            ),
            (
                "clap_builder/Cargo.toml",
                "[package]\nname = \"clap_builder\"\n\n[package.metadata.release]\nshared-version = true\ntag-name = \"v{{version}}\"\n",
            ),
            (
                "clap_lex/Cargo.toml",
                "[package]\nname = \"clap_lex\"\n\n[package.metadata.release]\npre-release-replacements = []\n",
            ),
            (
                "clap_bench/Cargo.toml",
                "[package]\nname = \"clap_bench\"\n\n[package.metadata.release]\nrelease = false\n",
            ),
        ]);
        let top = settings(r.path(), &Workspace::read(r.path()), "Cargo.toml").unwrap();
        assert_eq!(tag(&top), "v{version}");
        assert_eq!(top.shared_version.as_deref(), Some(""));
        let builder = settings(
            r.path(),
            &Workspace::read(r.path()),
            "clap_builder/Cargo.toml",
        )
        .unwrap();
        assert_eq!(tag(&builder), "v{version}");
        // Nothing the cascade follows: the tags decide.
        assert_eq!(
            settings(r.path(), &Workspace::read(r.path()), "clap_lex/Cargo.toml"),
            None
        );
        let bench = settings(
            r.path(),
            &Workspace::read(r.path()),
            "clap_bench/Cargo.toml",
        )
        .unwrap();
        assert_eq!(bench.release, Some(false));
        assert!(bench.tag.is_none());
    }

    #[test]
    fn precedence_and_defaults_follow_cargo_release() {
        let r = repo(&[
            (
                "Cargo.toml",
                "[workspace]\nmembers = [\"a\", \"b\"]\n\n[workspace.metadata.release]\ntag-prefix = \"\"\nshared-version = \"engine\"\n",
            ),
            (
                "release.toml",
                "tag-name = \"release-{{prefix}}{{version}}\"\n",
            ),
            ("a/Cargo.toml", "[package]\nname = \"a\"\n"),
            ("b/Cargo.toml", "[package]\nname = \"b\"\n"),
            ("b/release.toml", "tag-prefix = \"{{crate_name}}/\"\n"),
        ]);
        // The workspace's empty prefix inside the workspace file's tag-name.
        let a = settings(r.path(), &Workspace::read(r.path()), "a/Cargo.toml").unwrap();
        assert_eq!(tag(&a), "release-{version}");
        assert_eq!(a.shared_version.as_deref(), Some("engine"));
        // The crate's own release.toml wins over the workspace's prefix.
        let b = settings(r.path(), &Workspace::read(r.path()), "b/Cargo.toml").unwrap();
        assert_eq!(tag(&b), "release-{name}/{version}");

        // Only a prefix: cargo-release's default tag-name around it.
        let r = repo(&[
            ("Cargo.toml", "[workspace]\nmembers = [\"x\"]\n"),
            (
                "x/Cargo.toml",
                "[package]\nname = \"x\"\n\n[package.metadata.release]\ntag-prefix = \"{{crate_name}}@\"\n",
            ),
        ]);
        assert_eq!(
            tag(&settings(r.path(), &Workspace::read(r.path()), "x/Cargo.toml").unwrap()),
            "{name}@v{version}"
        );
    }

    #[test]
    fn the_root_crate_reads_release_toml_before_the_workspace_table_and_inline_tables() {
        let r = repo(&[
            (
                "Cargo.toml",
                "[package]\nname = \"top\"\n\n[workspace]\nmembers = [\"m\"]\n\n[workspace.metadata]\nrelease = { tag-name = \"ws-{{prefix}}v{{version}}\", shared-version = true }\n",
            ),
            ("release.toml", "tag-name = \"{{prefix}}v{{version}}\"\n"),
            ("m/Cargo.toml", "[package]\nname = \"m\"\n"),
        ]);
        let ws = Workspace::read(r.path());
        let top = settings(r.path(), &ws, "Cargo.toml").unwrap();
        assert_eq!(tag(&top), "v{version}");
        assert_eq!(top.shared_version.as_deref(), Some(""));
        // A member: the workspace table first, then the repository's release.toml.
        let m = settings(r.path(), &ws, "m/Cargo.toml").unwrap();
        assert_eq!(tag(&m), "ws-{name}-v{version}");
    }

    #[test]
    fn a_template_lockstep_cannot_read_back_is_named() {
        let r = repo(&[(
            "Cargo.toml",
            "[package]\nname = \"x\"\n\n[package.metadata.release]\ntag-name = \"{{date}}-v{{version}}\"\n",
        )]);
        let err = settings(r.path(), &Workspace::read(r.path()), "Cargo.toml")
            .unwrap()
            .tag
            .unwrap()
            .unwrap_err();
        assert!(
            err.contains("`{{date}}`") && err.contains("cascade.toml"),
            "{err}"
        );
    }
}
