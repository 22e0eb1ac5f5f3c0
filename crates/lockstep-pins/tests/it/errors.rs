//! Every error says what, where and what would be accepted.

use insta::assert_snapshot;
use lockstep_pins::{Bump, Ecosystem, PinValue, bump_version, pins, set_pin, set_version};

use crate::fixture;

fn tag(t: &str) -> PinValue {
    PinValue::Tag(t.into())
}

fn version(v: &str) -> PinValue {
    PinValue::Version(v.into())
}

fn pin_error(eco: Ecosystem, text: &str, name: &str, new: PinValue) -> String {
    match set_pin(eco, text, name, &new) {
        Ok(edit) => panic!("{name}: expected an error, got {:?}", edit.changes),
        Err(err) => err.to_string(),
    }
}

#[test]
fn missing_dependencies_name_the_sections_searched() {
    let cargo = pins(Ecosystem::Cargo, fixture("Cargo.toml"), "nope")
        .unwrap_err()
        .to_string();
    assert_snapshot!(cargo, @r#"
        Cargo.toml has no dependency `nope`; searched [dependencies], [dev-dependencies], [build-dependencies], [workspace.dependencies], [target.'cfg(unix)'.dependencies], [target.'cfg(unix)'.dev-dependencies], [target.'cfg(unix)'.build-dependencies], [target.x86_64-pc-windows-msvc.dependencies], [target.x86_64-pc-windows-msvc.dev-dependencies], [target.x86_64-pc-windows-msvc.build-dependencies]
        "#);
    let npm = pins(Ecosystem::Npm, fixture("package.json"), "nope")
        .unwrap_err()
        .to_string();
    assert_snapshot!(npm, @r#"
        package.json has no dependency `nope`; searched dependencies, devDependencies, peerDependencies, optionalDependencies
        "#);
    let py = pins(Ecosystem::Python, fixture("pyproject.poetry.toml"), "nope")
        .unwrap_err()
        .to_string();
    assert_snapshot!(py, @r#"
        pyproject.toml has no dependency `nope`; searched [project].dependencies, [project.optional-dependencies], [build-system].requires, [tool.poetry.dependencies], [tool.poetry.dev-dependencies], [tool.poetry.group.dev.dependencies]
        "#);
}

#[test]
fn incompatible_pins() {
    let cargo = fixture("Cargo.toml");
    let npm = fixture("package.json");
    let py = fixture("pyproject.toml");
    let cases = [
        pin_error(Ecosystem::Cargo, cargo, "serde", tag("v2")),
        pin_error(Ecosystem::Cargo, cargo, "core-nightly", tag("v2")),
        pin_error(Ecosystem::Cargo, cargo, "core-macros", version("1.2")),
        pin_error(Ecosystem::Cargo, cargo, "local-only", version("1.2")),
        pin_error(
            Ecosystem::Cargo,
            fixture("Cargo.member.toml"),
            "core",
            tag("v2"),
        ),
        pin_error(Ecosystem::Npm, npm, "tarball", version("1.2.0")),
        pin_error(Ecosystem::Npm, npm, "left-pad", tag("v2")),
        pin_error(Ecosystem::Npm, npm, "core", version("^1.2.0")),
        pin_error(Ecosystem::Python, py, "requests", tag("v2")),
        pin_error(Ecosystem::Python, py, "bare-name", tag("v2")),
        pin_error(Ecosystem::Python, py, "core", version(">=1.2")),
    ];
    assert_snapshot!(cases.join("\n"), @r#"
        cannot set tag `v2` on `serde` at [dependencies].serde: it is a version requirement `1.0.200`; a registry dependency takes a version requirement, not a tag or rev
        cannot set tag `v2` on `core-nightly` at [dependencies].core-nightly: it is a git dependency on branch `main`; a branch pin is left for a person to change; replace `branch` with a `tag` or `rev` first
        cannot set version `1.2` on `core-macros` at [dependencies].core-macros: it is a git dependency on rev `0a1b2c3d`; it has no `version` key to change; pin it by tag or rev instead
        cannot set version `1.2` on `local-only` at [dependencies].local-only: it is a path dependency on `../local-only`; a path dependency takes no tag or rev, and a version only when one is written beside the path
        cannot set tag `v2` on `core` at [dependencies].core: it is inherited from the workspace; set the pin where the workspace root declares it
        cannot set version `1.2.0` on `tarball` at dependencies.tarball: it is a direct URL `https://example.com/x-1.0.0.tgz`; a tarball URL takes no version; replace the URL by hand
        cannot set tag `v2` on `left-pad` at dependencies.left-pad: it is a version requirement `^1.3.0`; only a git dependency (`git+https://…#tag`, `github:owner/repo#tag`) takes a tag or rev
        cannot set version `^1.2.0` on `core` at dependencies.core: it is a git dependency on tag `v1.1.0`; a git dependency takes a tag or rev (or a `#semver:` range)
        cannot set tag `v2` on `Requests` at [project].dependencies[3]: it is a version requirement `>= 2.31, < 3`; a git pin needs a direct reference such as `name @ git+https://host/repo@v1.0`
        cannot set tag `v2` on `bare-name` at [project].dependencies[5]: it is unconstrained; no entry for it holds a git source
        cannot set version `>=1.2` on `core` at [project].dependencies[0]: it is a git dependency on tag `v1.1.0`; a direct reference takes a tag or rev, not a version specifier
        "#);
}

#[test]
fn invalid_values() {
    let cases = [
        pin_error(
            Ecosystem::Cargo,
            fixture("Cargo.toml"),
            "serde",
            version(" "),
        ),
        pin_error(Ecosystem::Cargo, fixture("Cargo.toml"), "core", tag("v 2")),
        pin_error(
            Ecosystem::Npm,
            fixture("package.json"),
            "core",
            PinValue::Rev("main".into()),
        ),
        pin_error(Ecosystem::Npm, fixture("package.json"), "core", tag("a#b")),
        pin_error(
            Ecosystem::Python,
            fixture("pyproject.toml"),
            "requests",
            version("2.32"),
        ),
        pin_error(
            Ecosystem::Python,
            fixture("pyproject.toml"),
            "core",
            tag("pkg@1.0"),
        ),
    ];
    assert_snapshot!(cases.join("\n"), @r#"
        Cargo.toml: version ` ` cannot be written: it is empty; expected a non-empty version requirement such as `^1.3` or `1.3.0`
        Cargo.toml: tag `v 2` cannot be written: a git reference cannot contain whitespace; expected a non-empty tag name without spaces, such as `v1.3.0`
        package.json: rev `main` cannot be written: package.json marks a revision only by its form; expected a commit id of 7 to 40 hexadecimal digits
        package.json: tag `a#b` cannot be written: a git reference in a URL fragment cannot contain `#`; expected a tag such as `v1.3.0`
        pyproject.toml: version `2.32` cannot be written: it is not a PEP 440 version specifier; expected a specifier such as `>=1.3,<2` or `==1.3.0`
        pyproject.toml: tag `pkg@1.0` cannot be written: a direct reference cannot hold `@` or `#` in its git reference; expected a tag such as `v1.3.0`
        "#);
}

#[test]
fn malformed_manifests() {
    let cases = [
        (Ecosystem::Cargo, "[dependencies]\ncore = \n"),
        (Ecosystem::Cargo, "[dependencies]\ncore = 3\n"),
        (Ecosystem::Cargo, "dependencies = 3\n"),
        (
            Ecosystem::Cargo,
            "[dependencies]\ncore = { git = \"u\", tag = \"a\", rev = \"b\" }\n",
        ),
        (Ecosystem::Npm, "{\"dependencies\": {\"a\": \"1\",}}"),
        (Ecosystem::Npm, "{\"dependencies\": [\"a\"]}"),
        (Ecosystem::Npm, "{\"dependencies\": {\"a\": 1}}"),
        (Ecosystem::Npm, "[]"),
        (Ecosystem::Python, "[project]\ndependencies = [\">=1\"]\n"),
        (Ecosystem::Python, "[project]\ndependencies = \"a\"\n"),
        (Ecosystem::Python, "[tool.poetry.dependencies]\ncore = 1\n"),
    ];
    let messages: Vec<String> = cases
        .iter()
        .map(|(eco, text)| {
            lockstep_pins::dependencies(*eco, text)
                .unwrap_err()
                .to_string()
        })
        .collect();
    assert_snapshot!(messages.join("\n"), @r#"
        Cargo.toml is not valid TOML at line 2, column 8: string values must be quoted, expected literal string
        Cargo.toml: [dependencies].core is an integer, expected a version requirement string or a table such as `{ version = "1" }`
        Cargo.toml: [dependencies] is an integer, expected a table
        Cargo.toml: [dependencies].core is a git dependency with more than one of tag, rev and branch, expected at most one of `tag`, `rev` or `branch`
        package.json is not valid JSON at line 1, column 28: trailing comma
        package.json: dependencies is an array, expected an object of package names to version ranges
        package.json: dependencies.a is a number, expected a string such as "^1.2.0" or "git+https://host/repo.git#v1.2.0"
        package.json: the top level is an array, expected an object
        pyproject.toml: [project].dependencies[0] is a string that is not a PEP 508 requirement, expected a PEP 508 requirement such as `requests>=2.8` or `core @ git+https://host/core@v1.0`
        pyproject.toml: [project].dependencies is a string, expected an array of PEP 508 requirement strings
        pyproject.toml: [tool.poetry.dependencies].core is an integer, expected a version string such as "^1.2" or a table such as `{ git = "…", tag = "v1.0" }`
        "#);
}

#[test]
fn version_errors() {
    let cases = [
        set_version(Ecosystem::Cargo, fixture("Cargo.member.toml"), "1.0.0"),
        set_version(Ecosystem::Cargo, "[dependencies]\n", "1.0.0"),
        set_version(Ecosystem::Cargo, fixture("Cargo.toml"), "1.0"),
        set_version(Ecosystem::Npm, "{}", "1.0.0"),
        set_version(
            Ecosystem::Python,
            "[project]\nname = \"x\"\ndynamic = [\"version\"]\n",
            "1.0",
        ),
        set_version(Ecosystem::Python, fixture("pyproject.toml"), "one"),
        bump_version(
            Ecosystem::Python,
            "[project]\nversion = \"1.0rc1\"\n",
            Bump::Patch,
        ),
    ];
    let messages: Vec<String> = cases
        .into_iter()
        .map(|r| r.unwrap_err().to_string())
        .collect();
    assert_snapshot!(messages.join("\n"), @r#"
        Cargo.toml: the package version at [package].version is inherited from the workspace (`version.workspace = true`); set it in `[workspace.package] version` of the workspace root's Cargo.toml
        Cargo.toml declares no package version; searched [package].version, [workspace.package].version
        Cargo.toml: `1.0` is not a valid package version: expected SemVer such as `1.4.0` or `2.0.0-rc.1`
        package.json declares no package version; searched version
        pyproject.toml: the package version at [project].version is dynamic (computed by the build backend); set it where the build backend reads it (a tag, or a `__version__` in the code)
        pyproject.toml: `one` is not a valid package version: expected a PEP 440 version such as `1.4.0` or `2.0.0rc1`
        pyproject.toml: `1.0rc1` is not a valid package version: a bump needs a MAJOR.MINOR.PATCH version; set the new version explicitly instead
        "#);
}

#[test]
fn a_failed_edit_changes_nothing_even_when_other_entries_could_take_it() {
    // `core` is a git dependency in one section and a branch pin in another:
    // all or nothing, so no tag is written anywhere.
    let text = "[dependencies]\ncore = { git = \"u\", tag = \"v1\" }\n[dev-dependencies]\ncore = { git = \"u\", branch = \"main\" }\n";
    let err = set_pin(Ecosystem::Cargo, text, "core", &tag("v2")).unwrap_err();
    assert!(
        matches!(err, lockstep_pins::Error::IncompatiblePin { ref location, .. } if location.table == "[dev-dependencies]")
    );
}
