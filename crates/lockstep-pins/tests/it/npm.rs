//! package.json: every specifier form, edited in place.

use insta::assert_snapshot;
use lockstep_pins::{Ecosystem, PinValue, dependencies, pins, set_pin};

use crate::{fixture, render_deps, render_edit};

#[test]
fn lists_every_dependency() {
    let deps = dependencies(Ecosystem::Npm, fixture("package.json")).unwrap();
    assert_snapshot!(render_deps(&deps));
}

#[test]
fn edits_each_pin_kind() {
    let cases = [
        ("core", PinValue::Tag("v1.2.0".into()), "npm_git_tag"),
        (
            "core",
            PinValue::Rev("fedcba9876543210fedcba9876543210fedcba98".into()),
            "npm_git_tag_to_rev",
        ),
        (
            "core-rev",
            PinValue::Tag("v1.2.0".into()),
            "npm_git_rev_to_tag",
        ),
        (
            "core-semver",
            PinValue::Version("^1.2.0".into()),
            "npm_git_semver_range",
        ),
        (
            "core-head",
            PinValue::Tag("v1.2.0".into()),
            "npm_add_fragment",
        ),
        (
            "left-pad",
            PinValue::Version("^1.4.0".into()),
            "npm_range_in_two_sections",
        ),
        (
            "@acme/core-types",
            PinValue::Version("~1.2.0".into()),
            "npm_alias",
        ),
        (
            "core-types",
            PinValue::Version("1.2.0".into()),
            "npm_dev_dependency",
        ),
        (
            "fsevents",
            PinValue::Version("^2".into()),
            "npm_optional_dependency",
        ),
    ];
    let before = fixture("package.json");
    for (name, new, snapshot) in cases {
        let edit = set_pin(Ecosystem::Npm, before, name, &new)
            .unwrap_or_else(|e| panic!("{snapshot}: {e}"));
        assert!(!pins(Ecosystem::Npm, &edit.text, name).unwrap().is_empty());
        assert_snapshot!(snapshot, render_edit(before, &edit));
    }
}

#[test]
fn keeps_unusual_layout_and_escapes() {
    let before = "{\"dependencies\":{\"a\":\"1\",\n\t\"core\" :  \"git+https://h/c.git#v1\"   ,\"b\":\"\\u0032\"}}";
    let edit = set_pin(Ecosystem::Npm, before, "core", &PinValue::Tag("v2".into())).unwrap();
    assert_eq!(
        edit.text,
        "{\"dependencies\":{\"a\":\"1\",\n\t\"core\" :  \"git+https://h/c.git#v2\"   ,\"b\":\"\\u0032\"}}"
    );
}

#[test]
fn path_dependencies_are_skipped_not_broken() {
    let before =
        r#"{"dependencies": {"core": "^1.0.0"}, "devDependencies": {"core": "file:../core"}}"#;
    let edit = set_pin(
        Ecosystem::Npm,
        before,
        "core",
        &PinValue::Version("^1.1.0".into()),
    )
    .unwrap();
    assert_eq!(edit.text, before.replace("^1.0.0", "^1.1.0"));
    assert_snapshot!(render_edit(before, &edit), @r#"
    changed dependencies.core (core): version `^1.0.0` -> version `^1.1.0`
    skipped devDependencies.core: PathOnly
    ---
    - {"dependencies": {"core": "^1.0.0"}, "devDependencies": {"core": "file:../core"}}
    \ no newline at end of file
    + {"dependencies": {"core": "^1.1.0"}, "devDependencies": {"core": "file:../core"}}
    \ no newline at end of file
    "#);
}
