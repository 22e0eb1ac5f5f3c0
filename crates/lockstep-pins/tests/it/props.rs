//! Property tests: for random names and versions in a template, an edit
//! then a read returns the new pin, and every other line is unchanged.

use lockstep_pins::{Ecosystem, GitRef, Pin, PinValue, normalize_python_name, pins, set_pin};
use proptest::prelude::*;

fn version() -> impl Strategy<Value = String> {
    (
        0u32..200,
        0u32..200,
        0u32..200,
        prop::sample::select(vec!["", "^", "~", "="]),
    )
        .prop_map(|(a, b, c, op)| format!("{op}{a}.{b}.{c}"))
}

fn tag() -> impl Strategy<Value = String> {
    (
        0u32..50,
        0u32..50,
        0u32..50,
        prop::sample::select(vec!["v", "release-", "core-v"]),
    )
        .prop_map(|(a, b, c, p)| format!("{p}{a}.{b}.{c}"))
}

fn rev() -> impl Strategy<Value = String> {
    "[0-9a-f]{7,40}"
}

fn new_git_value() -> impl Strategy<Value = PinValue> {
    prop_oneof![tag().prop_map(PinValue::Tag), rev().prop_map(PinValue::Rev)]
}

/// Names that cannot collide with the template's own `zz…` entries.
fn cargo_name() -> impl Strategy<Value = String> {
    "[a-y][a-z0-9_-]{0,15}"
}

/// Does `pin` now hold `value`?
fn holds(pin: &Pin, value: &PinValue) -> bool {
    match (pin, value) {
        (Pin::Version(v), PinValue::Version(w)) => v == w,
        (
            Pin::Git {
                reference: GitRef::Tag(t),
                ..
            },
            PinValue::Tag(w),
        ) => t == w,
        (
            Pin::Git {
                reference: GitRef::Rev(r),
                ..
            },
            PinValue::Rev(w),
        ) => r == w,
        _ => false,
    }
}

/// Every line that differs held the old value; nothing else moved.
fn only_entry_lines_changed(before: &str, after: &str, old: &str) -> Result<(), TestCaseError> {
    let a: Vec<&str> = before.lines().collect();
    let b: Vec<&str> = after.lines().collect();
    prop_assert_eq!(a.len(), b.len(), "line count changed");
    for (x, y) in a.iter().zip(&b) {
        if x != y {
            prop_assert!(
                x.contains(old),
                "line {:?} changed to {:?} without holding {:?}",
                x,
                y,
                old
            );
        }
    }
    Ok(())
}

const CARGO_TEMPLATE: &str = "# host crate\n[package]\nname = \"zz-host\"\nversion = \"0.1.0\"\n\n[dependencies]\nzz-a = \"1\"   # keep me\n{ENTRY}\nzz-b = { path = \"../b\" }\n\n[dev-dependencies]\nzz-c = '2'\n{TABLE}";

fn cargo_text(entry: &str, table: &str) -> String {
    CARGO_TEMPLATE
        .replace("{ENTRY}", entry)
        .replace("{TABLE}", table)
}

fn check_edit(
    eco: Ecosystem,
    before: &str,
    name: &str,
    old: &str,
    new: &PinValue,
) -> Result<(), TestCaseError> {
    let edit = set_pin(eco, before, name, new).map_err(|e| TestCaseError::fail(e.to_string()))?;
    let found = pins(eco, &edit.text, name).map_err(|e| TestCaseError::fail(e.to_string()))?;
    prop_assert!(
        found.iter().any(|d| holds(&d.pin, new)),
        "read back {:?}, wanted {:?}",
        found,
        new
    );
    if old != new.as_str() {
        prop_assert_eq!(edit.changes.len(), 1);
    }
    only_entry_lines_changed(before, &edit.text, old)
}

proptest! {
    #[test]
    fn cargo_version_edits(name in cargo_name(), old in version(), new in version(), form in 0usize..4) {
        let (entry, table) = match form {
            0 => (format!("{name} = \"{old}\""), String::new()),
            1 => (format!("{name} = {{ version = \"{old}\", features = [\"a\"] }} # c"), String::new()),
            2 => (String::new(), format!("[dependencies.{name}]\nversion = \"{old}\"\noptional = true\n")),
            _ => (format!("{name}.version = '{old}'"), String::new()),
        };
        check_edit(Ecosystem::Cargo, &cargo_text(&entry, &table), &name, &old, &PinValue::Version(new))?;
    }

    #[test]
    fn cargo_git_edits(name in cargo_name(), old in prop_oneof![tag(), rev()], is_rev in any::<bool>(), new in new_git_value(), inline in any::<bool>()) {
        let key = if is_rev { "rev" } else { "tag" };
        let (entry, table) = if inline {
            (format!("{name} = {{ git = \"https://h/{name}.git\", {key} = \"{old}\" }}"), String::new())
        } else {
            (String::new(), format!("[build-dependencies.{name}]\ngit = \"https://h/{name}.git\"\n{key} = \"{old}\"\n"))
        };
        let before = cargo_text(&entry, &table);
        // A tag/rev swap renames the key too, on the same line.
        let edit = set_pin(Ecosystem::Cargo, &before, &name, &new).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let found = pins(Ecosystem::Cargo, &edit.text, &name).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert!(found.iter().any(|d| holds(&d.pin, &new)));
        only_entry_lines_changed(&before, &edit.text, &old)?;
    }

    #[test]
    fn npm_edits(name in "(@[a-y][a-z0-9-]{0,8}/)?[a-y][a-z0-9._-]{0,15}", old in version(), new in version(), tag_old in tag(), new_git in new_git_value(), git in any::<bool>()) {
        let before_entry = if git { format!("git+https://h/x.git#{tag_old}") } else { old.clone() };
        let before = format!("{{\n  \"name\": \"zz-host\",\n  \"version\": \"1.0.0\",\n  \"dependencies\": {{\n    \"zz-a\": \"^1.0.0\",\n    \"{name}\": \"{before_entry}\",\n    \"zz-b\": \"file:../b\"\n  }}\n}}\n");
        if git {
            check_edit(Ecosystem::Npm, &before, &name, &tag_old, &new_git)?;
        } else {
            check_edit(Ecosystem::Npm, &before, &name, &old, &PinValue::Version(new))?;
        }
    }

    #[test]
    fn python_edits(name in "[A-Ya-y][A-Za-z0-9._-]{0,12}[a-z0-9]", old in "[0-9]{1,3}\\.[0-9]{1,3}", new in "[0-9]{1,3}\\.[0-9]{1,3}", tag_old in tag(), new_git in new_git_value(), git in any::<bool>(), marker in any::<bool>()) {
        let marker = if marker { " ; python_version >= '3.9'" } else { "" };
        let (req, old_value) = if git {
            (format!("{name} @ git+https://h/x.git@{tag_old}{marker}"), tag_old.clone())
        } else {
            (format!("{name}>={old}{marker}"), format!(">={old}"))
        };
        let before = format!("[project]\nname = \"zz-host\"\nversion = \"1.0\"\ndependencies = [\n    \"zz-a>=1\",  # keep\n    \"{req}\",\n    \"zz-b\",\n]\n");
        // Look it up by another spelling of the same normalised name.
        let lookup = normalize_python_name(&name).to_uppercase().replace('-', "_");
        let new_value = if git { new_git } else { PinValue::Version(format!("=={new}")) };
        check_edit(Ecosystem::Python, &before, &lookup, &old_value, &new_value)?;
    }

    #[test]
    fn truncated_fixtures_never_panic(cut in 0usize..2000, which in 0usize..4, tag in tag()) {
        let (eco, file) = [
            (Ecosystem::Cargo, "Cargo.toml"),
            (Ecosystem::Npm, "package.json"),
            (Ecosystem::Python, "pyproject.toml"),
            (Ecosystem::Python, "pyproject.poetry.toml"),
        ][which];
        let text = crate::fixture(file);
        let mut cut = cut.min(text.len());
        while !text.is_char_boundary(cut) {
            cut -= 1;
        }
        let text = &text[..cut];
        let _ = lockstep_pins::dependencies(eco, text);
        let _ = lockstep_pins::package(eco, text);
        // Whatever is left of the file, an edit that succeeds leaves it parseable.
        if let Ok(edit) = set_pin(eco, text, "core", &PinValue::Tag(tag)) {
            prop_assert!(lockstep_pins::dependencies(eco, &edit.text).is_ok());
        }
    }

    #[test]
    fn readers_never_panic(text in "\\PC{0,200}") {
        for eco in Ecosystem::ALL {
            let _ = lockstep_pins::dependencies(eco, &text);
            let _ = lockstep_pins::package(eco, &text);
            let _ = set_pin(eco, &text, "a", &PinValue::Version("1".into()));
        }
    }
}
