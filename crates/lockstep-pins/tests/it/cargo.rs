//! Cargo.toml: reading every pin form and editing each pin kind.

use insta::assert_snapshot;
use lockstep_pins::{Ecosystem, PinValue, dependencies, pins, set_pin};

use crate::{fixture, render_deps, render_edit};

#[test]
fn lists_every_dependency() {
    let deps = dependencies(Ecosystem::Cargo, fixture("Cargo.toml")).unwrap();
    assert_snapshot!(render_deps(&deps));
}

#[test]
fn lists_workspace_dependencies_and_inheritance() {
    let root = dependencies(Ecosystem::Cargo, fixture("Cargo.workspace.toml")).unwrap();
    let member = dependencies(Ecosystem::Cargo, fixture("Cargo.member.toml")).unwrap();
    assert_snapshot!(format!(
        "{}---\n{}",
        render_deps(&root),
        render_deps(&member)
    ));
}

#[test]
fn reads_pins_by_real_name() {
    let text = fixture("Cargo.toml");
    let cases = [
        ("core", 2),
        ("core-types", 1),
        ("renamed", 0),
        ("core-unix", 1),
        ("core-win", 1),
        ("dotted", 1),
        ("shared", 1),
    ];
    for (name, count) in cases {
        let found = pins(Ecosystem::Cargo, text, name)
            .map(|p| p.len())
            .unwrap_or(0);
        assert_eq!(found, count, "{name}");
    }
}

fn check(file: &str, name: &str, new: PinValue, snapshot: &str) {
    let before = fixture(file);
    let edit =
        set_pin(Ecosystem::Cargo, before, name, &new).unwrap_or_else(|e| panic!("{snapshot}: {e}"));
    // The edit reads back as the new value everywhere it was applied.
    for change in &edit.changes {
        let after = pins(Ecosystem::Cargo, &edit.text, name).unwrap();
        assert!(
            after.iter().any(|d| d.location == change.location),
            "{snapshot}: {} gone",
            change.location
        );
    }
    assert_snapshot!(snapshot, render_edit(before, &edit));
}

#[test]
fn edits_each_pin_kind() {
    let cases = [
        (
            "Cargo.toml",
            "core",
            PinValue::Tag("v1.2.0".into()),
            "cargo_tag_inline_literal_and_version_beside_path",
        ),
        (
            "Cargo.toml",
            "core-macros",
            PinValue::Rev("fedcba98".into()),
            "cargo_rev",
        ),
        (
            "Cargo.toml",
            "core-macros",
            PinValue::Tag("v1.2.0".into()),
            "cargo_rev_to_tag",
        ),
        (
            "Cargo.toml",
            "core-sub",
            PinValue::Rev("fedcba98".into()),
            "cargo_subtable_tag_to_rev",
        ),
        (
            "Cargo.toml",
            "core-head",
            PinValue::Tag("v1.2.0".into()),
            "cargo_add_tag_inline",
        ),
        (
            "Cargo.toml",
            "core-sub-head",
            PinValue::Tag("v1.2.0".into()),
            "cargo_add_tag_subtable",
        ),
        (
            "Cargo.toml",
            "serde",
            PinValue::Version("1.0.210".into()),
            "cargo_plain_version",
        ),
        (
            "Cargo.toml",
            "core-types",
            PinValue::Version("~1.2".into()),
            "cargo_renamed",
        ),
        (
            "Cargo.toml",
            "dotted",
            PinValue::Version("3".into()),
            "cargo_dotted",
        ),
        (
            "Cargo.toml",
            "local",
            PinValue::Version("0.4".into()),
            "cargo_path_with_version",
        ),
        (
            "Cargo.toml",
            "core-build",
            PinValue::Tag("v1.2.0".into()),
            "cargo_build_dependency",
        ),
        (
            "Cargo.toml",
            "core-unix",
            PinValue::Version("1.2".into()),
            "cargo_target_table",
        ),
        (
            "Cargo.toml",
            "core-win",
            PinValue::Version("=1.2.0".into()),
            "cargo_target_dev_table",
        ),
        (
            "Cargo.workspace.toml",
            "core",
            PinValue::Tag("v1.1.0".into()),
            "cargo_workspace_dependencies",
        ),
    ];
    for (file, name, new, snapshot) in cases {
        check(file, name, new, snapshot);
    }
}

#[test]
fn edit_of_an_already_pinned_value_changes_nothing() {
    let before = fixture("Cargo.toml");
    let edit = set_pin(
        Ecosystem::Cargo,
        before,
        "serde",
        &PinValue::Version("1.0.200".into()),
    )
    .unwrap();
    assert_eq!(edit.text, before);
    assert!(edit.changes.is_empty());
    assert_eq!(edit.skipped.len(), 1);
}

#[test]
fn keeps_crlf_line_endings() {
    let before = "[dependencies.core]\r\ngit = \"u\"\r\nfeatures = []\r\n";
    let edit = set_pin(
        Ecosystem::Cargo,
        before,
        "core",
        &PinValue::Tag("v2".into()),
    )
    .unwrap();
    assert_eq!(
        edit.text,
        "[dependencies.core]\r\ngit = \"u\"\r\ntag = \"v2\"\r\nfeatures = []\r\n"
    );
}

#[test]
fn adds_a_tag_to_a_dotted_git_dependency_and_at_end_of_file() {
    let before = "[dependencies]\ncore.git = 'u'";
    let edit = set_pin(
        Ecosystem::Cargo,
        before,
        "core",
        &PinValue::Tag("v2".into()),
    )
    .unwrap();
    assert_eq!(edit.text, "[dependencies]\ncore.git = 'u'\ncore.tag = 'v2'");
}
