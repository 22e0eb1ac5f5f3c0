//! `release-cascade --demo python` with the real tools: pypiserver and verdaccio on 127.0.0.1
//! (started and stopped by the demo), uv, Poetry and npm regenerating real lockfiles. The end state is
//! read from what the registries stored and from the lockfiles, not from lockstep's report.
//! Needs `pypi-server`, `verdaccio` (PATH or target/ci-tools), `uv`, `poetry`, `npm`: `.ci/run` installs
//! them; without them this test fails with the demo's install hint.

use std::path::Path;
use std::process::Command;

fn workspace_root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask is inside the workspace")
}

#[test]
fn the_python_demo_publishes_every_package_once_and_every_lockfile_resolves_the_new_versions() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("demo");
    let out = Command::new(env!("CARGO_BIN_EXE_lockstep"))
        .args([
            "release-cascade",
            "--demo",
            "python",
            "--json",
            "--demo-dir",
        ])
        .arg(&dir)
        .current_dir(workspace_root())
        .env("NO_COLOR", "1")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    let report: serde_json::Value = serde_json::from_str(&stdout).expect("one JSON report");
    assert_eq!(report["outcome"], "released", "{report}");
    // The demo checked every lockfile with the tools while the registries were up.
    for check in [
        "pycore uv lock --check ok",
        "pyapp uv lock --check ok",
        "pyworker poetry check --lock ok",
        "jscore npm ci",
        "jsapp npm ci",
    ] {
        let (repo, rest) = check.split_once(' ').unwrap();
        assert!(
            stderr.lines().any(|l| l.trim_start().starts_with(repo)
                && l.contains(rest.trim_end_matches(" ok"))
                && l.ends_with("ok")),
            "no passing `{check}` in:\n{stderr}"
        );
    }

    // What the registries stored: each release once, the 1.0.0s the demo started from.
    let mut files: Vec<String> = std::fs::read_dir(dir.join("registry/pypi"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    files.sort();
    assert_eq!(
        files,
        [
            "pyapp-1.0.0-py3-none-any.whl",
            "pyapp-1.0.0.tar.gz",
            "pyapp-1.0.1-py3-none-any.whl",
            "pyapp-1.0.1.tar.gz",
            "pycore-1.0.0-py3-none-any.whl",
            "pycore-1.0.0.tar.gz",
            "pycore-1.1.0-py3-none-any.whl",
            "pycore-1.1.0.tar.gz",
        ]
    );
    for (name, versions) in [
        ("jscore", ["1.0.0", "1.1.0"]),
        ("jsapp", ["1.0.0", "1.0.1"]),
    ] {
        let doc: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(dir.join(format!("registry/npm/{name}/package.json")))
                .unwrap(),
        )
        .unwrap();
        let got: Vec<&str> = doc["versions"]
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(got, versions, "{name} on verdaccio");
        // The version went into the published package, never into git.
        let manifest = std::fs::read_to_string(dir.join(name).join("package.json")).unwrap();
        assert!(manifest.contains("\"0.0.0-dev\""), "{name}: {manifest}");
    }

    // The lockfiles, read back: the dependents resolve the new upstream versions.
    let uv = std::fs::read_to_string(dir.join("pyapp/uv.lock")).unwrap();
    assert_eq!(
        lockstep_pins::locked_version("uv.lock", &uv, "pycore"),
        Some(semver::Version::new(1, 1, 0))
    );
    let poetry = std::fs::read_to_string(dir.join("pyworker/poetry.lock")).unwrap();
    assert_eq!(
        lockstep_pins::locked_version("poetry.lock", &poetry, "pycore"),
        Some(semver::Version::new(1, 1, 0))
    );
    let npm = std::fs::read_to_string(dir.join("jsapp/package-lock.json")).unwrap();
    assert_eq!(
        lockstep_pins::locked_version("package-lock.json", &npm, "jscore"),
        Some(semver::Version::new(1, 1, 0))
    );

    // Tags, one per release, and clean trees.
    for (repo, tag) in [
        ("pycore", "v1.1.0"),
        ("pyapp", "v1.0.1"),
        ("pyworker", "v1.0.1"),
        ("jscore", "v1.1.0"),
        ("jsapp", "v1.0.1"),
    ] {
        let git = |args: &[&str]| {
            let o = Command::new("git")
                .args(args)
                .current_dir(dir.join(repo))
                .output()
                .unwrap();
            String::from_utf8_lossy(&o.stdout).trim().to_owned()
        };
        assert_eq!(git(&["tag", "--points-at", "HEAD"]), tag, "{repo}");
        assert_eq!(git(&["status", "--porcelain"]), "", "{repo} is clean");
    }

    // A tag-versioned release with no pin to move leaves its lockfile as committed.
    for (repo, lockfile) in [("pycore", "uv.lock"), ("jscore", "package-lock.json")] {
        let diff = Command::new("git")
            .args(["diff", "--stat", "v1.0.0", "v1.1.0", "--", lockfile])
            .current_dir(dir.join(repo))
            .output()
            .unwrap();
        assert!(diff.status.success());
        assert_eq!(
            String::from_utf8_lossy(&diff.stdout),
            "",
            "{repo}/{lockfile}"
        );
    }

    // The servers are gone.
    let ps = Command::new("ps").args(["-eo", "args"]).output().unwrap();
    let registry = dir.join("registry");
    let lingering: Vec<String> = String::from_utf8_lossy(&ps.stdout)
        .lines()
        .filter(|l| l.contains(&*registry.to_string_lossy()))
        .map(str::to_owned)
        .collect();
    assert!(lingering.is_empty(), "servers still running: {lingering:?}");
}
