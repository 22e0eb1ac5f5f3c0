//! A package's own name and version, and workspace members.

use insta::assert_snapshot;
use lockstep_pins::{Bump, Ecosystem, bump_version, package, set_version};

use crate::{fixture, render_edit};

#[test]
fn reads_the_package() {
    let cases = [
        (Ecosystem::Cargo, "Cargo.toml"),
        (Ecosystem::Cargo, "Cargo.workspace.toml"),
        (Ecosystem::Cargo, "Cargo.member.toml"),
        (Ecosystem::Npm, "package.json"),
        (Ecosystem::Python, "pyproject.toml"),
        (Ecosystem::Python, "pyproject.poetry.toml"),
    ];
    let mut out = String::new();
    for (eco, file) in cases {
        out.push_str(&format!(
            "{file}: {:#?}\n",
            package(eco, fixture(file)).unwrap()
        ));
    }
    assert_snapshot!(out);
}

#[test]
fn sets_and_bumps_versions_in_place() {
    let cases = [
        (
            Ecosystem::Cargo,
            "Cargo.toml",
            Bump::Minor,
            "version_cargo_package",
        ),
        (
            Ecosystem::Cargo,
            "Cargo.workspace.toml",
            Bump::Major,
            "version_cargo_workspace_package",
        ),
        (Ecosystem::Npm, "package.json", Bump::Patch, "version_npm"),
        (
            Ecosystem::Python,
            "pyproject.toml",
            Bump::Minor,
            "version_pep621",
        ),
        (
            Ecosystem::Python,
            "pyproject.poetry.toml",
            Bump::Patch,
            "version_poetry",
        ),
    ];
    for (eco, file, bump, snapshot) in cases {
        let before = fixture(file);
        let edit = bump_version(eco, before, bump).unwrap_or_else(|e| panic!("{snapshot}: {e}"));
        assert_snapshot!(snapshot, render_edit(before, &edit));
        let again = set_version(eco, before, "9.9.9").unwrap();
        assert_eq!(again.changes.len(), 1, "{snapshot}");
    }
}

#[test]
fn a_root_package_inheriting_its_own_workspace_version_edits_the_workspace() {
    let before = "[workspace]\nmembers = []\n[workspace.package]\nversion = \"1.0.0\"\n[package]\nname = \"root\"\nversion.workspace = true\n";
    let edit = set_version(Ecosystem::Cargo, before, "1.1.0").unwrap();
    assert_eq!(edit.text, before.replace("\"1.0.0\"", "\"1.1.0\""));
    assert_eq!(
        edit.changes[0].location.to_string(),
        "[workspace.package].version"
    );
}

#[test]
fn setting_the_same_version_changes_nothing() {
    let before = fixture("package.json");
    let edit = set_version(Ecosystem::Npm, before, "0.3.0").unwrap();
    assert_eq!(edit.text, before);
    assert!(edit.changes.is_empty());
}

#[test]
fn versions_kept_in_tags_are_dynamic() {
    let dynamic = |text: &str| {
        matches!(
            package(Ecosystem::Python, text).unwrap().version,
            Some(lockstep_pins::OwnVersion::Dynamic)
        )
    };
    // hatch-vcs / setuptools-scm: `[project] dynamic = ["version"]`.
    assert!(dynamic(
        "[project]\nname = \"a\"\ndynamic = [\"version\"]\n\n[tool.hatch.version]\nsource = \"vcs\"\n"
    ));
    // poetry-dynamic-versioning: the declared version is a placeholder the plugin replaces.
    assert!(dynamic(
        "[tool.poetry]\nname = \"a\"\nversion = \"0.0.0\"\n\n[tool.poetry-dynamic-versioning]\nenable = true\n"
    ));
    assert!(!dynamic(
        "[tool.poetry]\nname = \"a\"\nversion = \"1.2.0\"\n\n[tool.poetry-dynamic-versioning]\nenable = false\n"
    ));
}
