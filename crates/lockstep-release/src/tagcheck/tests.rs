//! Tests of the tag rule and the hook.
use super::*;

fn check(tag: &str, expected: Result<(Option<&str>, &str), &str>) {
    let got = parse_tag(tag).map(|t| (t.package, t.version.to_string()));
    match expected {
        Ok((package, version)) => assert_eq!(
            got,
            Ok((package.map(str::to_owned), version.to_owned())),
            "{tag}"
        ),
        Err(part) => {
            let err = got.expect_err(tag);
            assert!(err.contains(part), "{tag}: {err}");
        }
    }
}

#[test]
fn release_tags_are_strict_semver() {
    check("v1.2.0", Ok((None, "1.2.0")));
    check("v0.0.0", Ok((None, "0.0.0")));
    check("v1.2.0-rc.1+build.5", Ok((None, "1.2.0-rc.1+build.5")));
    check("core-v10.20.30", Ok((Some("core"), "10.20.30")));
    check("gix-hash-v0.15.0", Ok((Some("gix-hash"), "0.15.0")));
    check("lib-v2-v1.0.0", Ok((Some("lib-v2"), "1.0.0")));
    check(
        "@scope/pkg-v1.0.0-alpha",
        Ok((Some("@scope/pkg"), "1.0.0-alpha")),
    );
    check("v1.2", Err("not strict SemVer"));
    check("v1", Err("not strict SemVer"));
    check("v01.2.0", Err("not strict SemVer"));
    check("v1.02.0", Err("not strict SemVer"));
    check("v1.2.0-01", Err("not strict SemVer"));
    check("v1.2.0-", Err("not strict SemVer"));
    check("v1.2.0.4", Err("not strict SemVer"));
    check("v 1.2.0", Err("release tags are"));
    check("core-v1.2", Err("not strict SemVer"));
    check("1.2.0", Err("the `v` is missing: write v1.2.0"));
    check("V1.2.0", Err("release tags are"));
    check("-v1.2.0", Err("release tags are"));
    check("release-2024", Err("release tags are"));
    check("latest", Err("release tags are"));
    check("", Err("release tags are"));
}

#[test]
fn python_versions_pad_like_discovery() {
    assert_eq!(
        package_version(Ecosystem::Python, "1.2"),
        Ok(Version::new(1, 2, 0))
    );
    assert!(package_version(Ecosystem::Cargo, "1.2").is_err());
    assert!(package_version(Ecosystem::Python, "1.2rc1").is_err());
    assert!(package_version(Ecosystem::Npm, "").is_err());
}

#[test]
fn the_hook_knows_itself() {
    let script = pre_push_hook_script();
    assert!(script.starts_with("#!/bin/sh\n"));
    assert!(is_ours(script.as_bytes()));
    assert!(!is_ours(b"#!/bin/sh\nexit 0\n"));
}

/// `(ok, package, version, file, expected_tag, problem code)` of a check.
type Outcome = (
    bool,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<ProblemCode>,
);

/// The outcome of checking `tag`.
fn outcome(repo: &lockstep_testkit::git::GitRepo, tag: &str) -> Outcome {
    let c = check_tag(repo.path(), tag).expect("check runs");
    (
        c.ok,
        c.package,
        c.version,
        c.file,
        c.expected_tag,
        c.problem.map(|p| p.code),
    )
}

fn s(v: &str) -> Option<String> {
    Some(v.to_owned())
}

#[test]
fn workspace_members_are_found_by_name_at_the_tagged_commit() {
    let repo = lockstep_testkit::git::GitRepo::new();
    repo.write(
        "Cargo.toml",
        "[workspace]\nmembers = [\"crates/*\", \"tools/cli\"]\nexclude = [\"crates/old\"]\n\n[workspace.package]\nversion = \"0.4.0\"\n",
    )
    .write("crates/alpha/Cargo.toml", "[package]\nname = \"alpha\"\nversion.workspace = true\n")
    .write("crates/beta/Cargo.toml", "[package]\nname = \"beta\"\nversion = \"2.1.0\"\n")
    .write("crates/old/Cargo.toml", "[package]\nname = \"old\"\nversion = \"9.0.0\"\n")
    .write("tools/cli/Cargo.toml", "[package]\nname = \"cli\"\nversion = \"1.0.0-rc.1\"\n");
    repo.commit_all("feat: workspace");
    repo.tag("alpha-v0.4.0")
        .tag("beta-v2.1.0")
        .tag("cli-v1.0.0-rc.1")
        .tag("v0.4.0");
    repo.tag("beta-v2.2.0")
        .tag("old-v9.0.0")
        .tag("gamma-v1.0.0");
    // The work tree moves on: the check reads the tagged commit, not the files.
    repo.write(
        "crates/beta/Cargo.toml",
        "[package]\nname = \"beta\"\nversion = \"2.2.0\"\n",
    );
    repo.commit_all("chore: bump beta");

    assert_eq!(
        outcome(&repo, "alpha-v0.4.0"),
        (
            true,
            s("alpha"),
            s("0.4.0"),
            s("crates/alpha/Cargo.toml"),
            s("alpha-v0.4.0"),
            None
        )
    );
    assert!(outcome(&repo, "beta-v2.1.0").0);
    assert!(outcome(&repo, "cli-v1.0.0-rc.1").0);
    // A virtual workspace's plain tag is its [workspace.package] version.
    assert_eq!(
        outcome(&repo, "v0.4.0"),
        (true, None, s("0.4.0"), s("Cargo.toml"), s("v0.4.0"), None)
    );
    assert_eq!(
        outcome(&repo, "beta-v2.2.0"),
        (
            false,
            s("beta"),
            s("2.1.0"),
            s("crates/beta/Cargo.toml"),
            s("beta-v2.1.0"),
            Some(ProblemCode::VersionMismatch)
        )
    );
    assert_eq!(
        outcome(&repo, "old-v9.0.0").5,
        Some(ProblemCode::UnknownPackage)
    );
    assert_eq!(
        outcome(&repo, "gamma-v1.0.0").5,
        Some(ProblemCode::UnknownPackage)
    );
}

#[test]
fn npm_and_python_packages() {
    let npm = lockstep_testkit::git::GitRepo::new();
    npm.write(
        "package.json",
        "{\"name\": \"@acme/ui\", \"version\": \"3.0.1\"}\n",
    );
    npm.commit_all("feat: ui");
    npm.tag("v3.0.1").tag("@acme/ui-v3.0.1").tag("v3.0.0");
    assert!(outcome(&npm, "v3.0.1").0);
    assert!(outcome(&npm, "@acme/ui-v3.0.1").0);
    assert_eq!(
        outcome(&npm, "v3.0.0").5,
        Some(ProblemCode::VersionMismatch)
    );

    let py = lockstep_testkit::git::GitRepo::new();
    py.write(
        "pyproject.toml",
        "[project]\nname = \"Data_Tools\"\nversion = \"1.2\"\n",
    );
    py.commit_all("feat: tools");
    py.tag("v1.2.0").tag("data-tools-v1.2.0").tag("v1.2.1");
    assert!(outcome(&py, "v1.2.0").0);
    assert!(outcome(&py, "data-tools-v1.2.0").0);
    assert_eq!(outcome(&py, "v1.2.1").5, Some(ProblemCode::VersionMismatch));

    let dynamic = lockstep_testkit::git::GitRepo::new();
    dynamic.write(
        "pyproject.toml",
        "[project]\nname = \"dyn\"\ndynamic = [\"version\"]\n",
    );
    dynamic.commit_all("feat: dyn");
    dynamic.tag("v1.0.0").tag("v1.0");
    // Tag-versioned (hatch-vcs and friends): the tag is the version, if it is strict SemVer.
    assert!(outcome(&dynamic, "v1.0.0").0);
    assert_eq!(outcome(&dynamic, "v1.0").5, Some(ProblemCode::NotSemver));
}

#[test]
fn a_missing_tag_is_an_error() {
    let repo = lockstep_testkit::git::GitRepo::new();
    repo.write(
        "Cargo.toml",
        "[package]\nname = \"a\"\nversion = \"1.0.0\"\n",
    );
    repo.commit_all("feat: a");
    let err = check_tag(repo.path(), "v1.0.0").unwrap_err();
    assert_eq!(err.kind(), "tag_not_found", "{err}");
}
