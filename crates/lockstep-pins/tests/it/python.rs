//! pyproject.toml: PEP 508 strings, uv sources and Poetry tables.

use insta::assert_snapshot;
use lockstep_pins::{Ecosystem, PinValue, dependencies, pins, set_pin};

use crate::{fixture, render_deps, render_edit};

#[test]
fn lists_every_dependency() {
    let pep621 = dependencies(Ecosystem::Python, fixture("pyproject.toml")).unwrap();
    let poetry = dependencies(Ecosystem::Python, fixture("pyproject.poetry.toml")).unwrap();
    assert_snapshot!(format!(
        "{}---\n{}",
        render_deps(&pep621),
        render_deps(&poetry)
    ));
}

#[test]
fn matches_names_after_pep_503_normalisation() {
    let text = fixture("pyproject.toml");
    for name in [
        "requests",
        "REQUESTS",
        "Requests",
        "core_rev",
        "Core.Rev",
        "bare_name",
    ] {
        assert!(
            !pins(Ecosystem::Python, text, name).unwrap().is_empty(),
            "{name}"
        );
    }
    let both = pins(Ecosystem::Python, text, "requests").unwrap();
    assert_eq!(both.len(), 2, "[project] and the test extra");
}

#[test]
fn edits_each_pin_kind() {
    let cases = [
        (
            "pyproject.toml",
            "core",
            PinValue::Tag("v1.2.0".into()),
            "py_direct_reference_tag",
        ),
        (
            "pyproject.toml",
            "core",
            PinValue::Rev("fedcba98".into()),
            "py_direct_reference_tag_to_rev",
        ),
        (
            "pyproject.toml",
            "core-rev",
            PinValue::Tag("v1.2.0".into()),
            "py_direct_reference_literal_string",
        ),
        (
            "pyproject.toml",
            "core-head",
            PinValue::Tag("v1.2.0".into()),
            "py_direct_reference_add_ref",
        ),
        (
            "pyproject.toml",
            "requests",
            PinValue::Version(">=2.32,<3".into()),
            "py_specifier_with_extras_and_markers",
        ),
        (
            "pyproject.toml",
            "legacy",
            PinValue::Version(">=1.1".into()),
            "py_parenthesised_specifier",
        ),
        (
            "pyproject.toml",
            "bare-name",
            PinValue::Version("==1.0".into()),
            "py_add_specifier",
        ),
        (
            "pyproject.toml",
            "uv-core",
            PinValue::Tag("v1.2.0".into()),
            "py_uv_source",
        ),
        (
            "pyproject.toml",
            "ruff",
            PinValue::Version(">=0.5".into()),
            "py_dependency_group",
        ),
        (
            "pyproject.toml",
            "hatchling",
            PinValue::Version(">=1.25".into()),
            "py_build_system",
        ),
        (
            "pyproject.poetry.toml",
            "core",
            PinValue::Tag("v1.2.0".into()),
            "poetry_git_tag",
        ),
        (
            "pyproject.poetry.toml",
            "core-rev",
            PinValue::Rev("fedcba98".into()),
            "poetry_git_rev",
        ),
        (
            "pyproject.poetry.toml",
            "requests",
            PinValue::Version("^2.32".into()),
            "poetry_plain_version",
        ),
        (
            "pyproject.poetry.toml",
            "multi",
            PinValue::Version("^3".into()),
            "poetry_multiple_constraints",
        ),
        (
            "pyproject.poetry.toml",
            "pytest",
            PinValue::Version("^8.2".into()),
            "poetry_group",
        ),
    ];
    for (file, name, new, snapshot) in cases {
        let before = fixture(file);
        let edit = set_pin(Ecosystem::Python, before, name, &new)
            .unwrap_or_else(|e| panic!("{snapshot}: {e}"));
        assert!(!edit.changes.is_empty(), "{snapshot}");
        assert_snapshot!(snapshot, render_edit(before, &edit));
    }
}
