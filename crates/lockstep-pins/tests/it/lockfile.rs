//! Lockfile commands as data.

use insta::assert_snapshot;
use lockstep_pins::{Ecosystem, LockTool, PinValue};

use crate::fixture;

#[test]
fn names_the_tool_lockfile_and_commands() {
    let cases = [
        (Ecosystem::Cargo, "Cargo.toml"),
        (Ecosystem::Npm, "package.json"),
        (Ecosystem::Python, "pyproject.toml"),
        (Ecosystem::Python, "pyproject.poetry.toml"),
    ];
    let version = PinValue::Version("^1.2.0".into());
    let tag = PinValue::Tag("v1.2.0".into());
    let mut out = String::new();
    for (eco, file) in cases {
        let tool = LockTool::for_manifest(eco, fixture(file)).unwrap();
        out.push_str(&format!(
            "{file}: needs `{}`, writes {}\n  version, resolved: {}\n  version: {}\n  tag: {}\n  own version: {}\n",
            tool.program(),
            tool.lockfile_name(),
            tool.after_pin_change("core", &version, Some("1.2.0")),
            tool.after_pin_change("core", &version, None),
            tool.after_pin_change("core", &tag, None),
            tool.after_version_change().map_or("(nothing to do)".to_owned(), |c| c.to_string()),
        ));
    }
    assert_snapshot!(out, @r"
    Cargo.toml: needs `cargo`, writes Cargo.lock
      version, resolved: cargo update -p core --precise 1.2.0
      version: cargo update -p core
      tag: cargo update -p core
      own version: cargo update --workspace
    package.json: needs `npm`, writes package-lock.json
      version, resolved: npm install --package-lock-only
      version: npm install --package-lock-only
      tag: npm install --package-lock-only
      own version: npm install --package-lock-only
    pyproject.toml: needs `uv`, writes uv.lock
      version, resolved: uv lock
      version: uv lock
      tag: uv lock
      own version: uv lock
    pyproject.poetry.toml: needs `poetry`, writes poetry.lock
      version, resolved: poetry lock
      version: poetry lock
      tag: poetry lock
      own version: (nothing to do)
    ");
}

#[test]
fn commands_are_argument_vectors() {
    let cmd =
        LockTool::Cargo.after_pin_change("core", &PinValue::Version("1".into()), Some("1.2.0"));
    assert_eq!(cmd.program, "cargo");
    assert_eq!(cmd.args, ["update", "-p", "core", "--precise", "1.2.0"]);
}

#[test]
fn ecosystem_from_file_name() {
    let cases = [
        ("Cargo.toml", Some(Ecosystem::Cargo)),
        ("a/b/package.json", Some(Ecosystem::Npm)),
        ("C:\\x\\pyproject.toml", Some(Ecosystem::Python)),
        ("cargo.toml", None),
        ("Cargo.lock", None),
        ("", None),
    ];
    for (name, expected) in cases {
        assert_eq!(Ecosystem::from_file_name(name), expected, "{name}");
    }
}
