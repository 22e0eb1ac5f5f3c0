//! `tag-check` and `hooks install` on real repositories, with a real `git push` through the
//! installed hook to a local bare remote.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use lockstep_testkit::git::{GitRepo, git_command};

fn lockstep(args: &[&str], cwd: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_lockstep"))
        .args(args)
        .current_dir(cwd)
        .env("NO_COLOR", "1")
        .env_remove("LOCKSTEP")
        .output()
        .expect("lockstep runs")
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// A single-crate repository at 1.2.0 (committed), then 1.3.0 in a later commit.
fn single_crate() -> GitRepo {
    let repo = GitRepo::new();
    repo.write(
        "Cargo.toml",
        "[package]\nname = \"core\"\nversion = \"1.2.0\"\nedition = \"2021\"\n",
    )
    .write("src/lib.rs", "");
    repo.commit_all("feat: core 1.2.0");
    repo
}

/// Checks each `(tag, exit code, text the output must hold)`.
fn check_tags(repo: &GitRepo, cases: &[(&str, i32, &str)]) {
    for (tag, code, needle) in cases {
        let out = lockstep(&["tag-check", tag], repo.path());
        let all = text(&out);
        assert_eq!(out.status.code(), Some(*code), "{tag}: {all}");
        assert!(all.contains(needle), "{tag}: expected {needle:?} in {all}");
    }
}

#[test]
fn tag_check_accepts_the_package_version_and_rejects_everything_else() {
    let repo = single_crate();
    for tag in [
        "v1.2.0",
        "v1.2",
        "1.2.0",
        "v01.2.0",
        "v1.3.0",
        "core-v1.2.0",
        "nightly",
    ] {
        repo.tag(tag);
    }
    check_tags(
        &repo,
        &[
            ("v1.2.0", 0, "v1.2.0: ok (core 1.2.0 in Cargo.toml)"),
            ("core-v1.2.0", 0, "ok (core 1.2.0"),
            ("v1.2", 1, "so the tag would be v1.2.0"),
            ("1.2.0", 1, "the `v` is missing: write v1.2.0"),
            ("v01.2.0", 1, "not strict SemVer"),
            ("v1.3.0", 1, "tag says 1.3.0, but Cargo.toml at"),
            ("v1.3.0", 1, "declares core 1.2.0; expected tag v1.2.0"),
            ("nightly", 1, "release tags are vX.Y.Z or NAME-vX.Y.Z"),
            ("v9.9.9", 2, "tag v9.9.9 not found"),
        ],
    );
}

#[test]
fn tag_check_reads_the_tagged_commit_not_the_work_tree() {
    let repo = single_crate();
    repo.annotated_tag("v1.2.0", "release 1.2.0");
    repo.write(
        "Cargo.toml",
        "[package]\nname = \"core\"\nversion = \"1.3.0\"\nedition = \"2021\"\n",
    );
    repo.commit_all("chore(release): core v1.3.0");
    repo.tag("v1.2.1");
    check_tags(
        &repo,
        &[
            ("v1.2.0", 0, "ok"),
            ("v1.2.1", 1, "declares core 1.3.0; expected tag v1.3.0"),
        ],
    );
    // Without tags: the ones at HEAD (v1.2.1 only); with --all: every tag, as JSON.
    let out = lockstep(&["tag-check"], repo.path());
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(text(&out).contains("v1.2.1:") && !text(&out).contains("v1.2.0:"));
    let out = lockstep(&["tag-check", "--all", "--json"], repo.path());
    assert_eq!(out.status.code(), Some(1));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["schema"], "lockstep.tag-check/v1");
    assert_eq!(json["ok"], false);
    let tags: Vec<(&str, bool, &str)> = json["tags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (
                t["tag"].as_str().unwrap(),
                t["ok"].as_bool().unwrap(),
                t["expected_tag"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        tags,
        [("v1.2.0", true, "v1.2.0"), ("v1.2.1", false, "v1.3.0")]
    );
    assert_eq!(json["tags"][1]["problem"]["code"], "version_mismatch");
    assert_eq!(json["tags"][1]["file"], "Cargo.toml");
    assert_eq!(json["tags"][1]["version"], "1.3.0");
}

#[test]
fn tag_check_finds_workspace_members_by_name() {
    let repo = GitRepo::new();
    repo.write(
        "Cargo.toml",
        "[workspace]\nmembers = [\"crates/*\"]\nresolver = \"2\"\n\n[workspace.package]\nversion = \"0.7.0\"\n",
    )
    .write(
        "crates/urn-authority/Cargo.toml",
        "[package]\nname = \"urn-authority\"\nversion.workspace = true\n",
    )
    .write(
        "crates/runtime/Cargo.toml",
        "[package]\nname = \"runtime\"\nversion = \"2.0.0-beta.1\"\n",
    );
    repo.commit_all("feat: workspace");
    for tag in [
        "urn-authority-v0.7.0",
        "runtime-v2.0.0-beta.1",
        "runtime-v2.0.0",
        "ghost-v1.0.0",
    ] {
        repo.tag(tag);
    }
    check_tags(
        &repo,
        &[
            (
                "urn-authority-v0.7.0",
                0,
                "ok (urn-authority 0.7.0 in crates/urn-authority/Cargo.toml)",
            ),
            ("runtime-v2.0.0-beta.1", 0, "ok"),
            ("runtime-v2.0.0", 1, "crates/runtime/Cargo.toml at"),
            ("runtime-v2.0.0", 1, "expected tag runtime-v2.0.0-beta.1"),
            ("ghost-v1.0.0", 1, "has no package ghost"),
        ],
    );
    // A tag given as --repo from elsewhere, and from a subdirectory of the work tree.
    let elsewhere = tempfile::tempdir().unwrap();
    let repo_arg = repo.path().to_string_lossy().into_owned();
    let out = lockstep(
        &["tag-check", "--repo", &repo_arg, "runtime-v2.0.0-beta.1"],
        elsewhere.path(),
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let out = lockstep(
        &["tag-check", "urn-authority-v0.7.0"],
        &repo.path().join("crates/runtime"),
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
}

/// `git push` from `repo` with the directory of the lockstep binary first on PATH, so the
/// hook finds it as a user's installed `lockstep`.
fn push(repo: &GitRepo, args: &[&str]) -> Output {
    let bin_dir = Path::new(env!("CARGO_BIN_EXE_lockstep"))
        .parent()
        .expect("the binary is in a directory")
        .to_owned();
    let mut paths = vec![bin_dir];
    paths.extend(std::env::split_paths(
        &std::env::var_os("PATH").unwrap_or_default(),
    ));
    git_command(repo.path(), 0)
        .arg("push")
        .args(args)
        .env("PATH", std::env::join_paths(paths).unwrap())
        .env("NO_COLOR", "1")
        .env_remove("LOCKSTEP")
        .output()
        .expect("git push runs")
}

fn remote_tags(remote: &GitRepo) -> String {
    remote.git(&["tag", "--list"])
}

#[test]
fn the_installed_hook_refuses_a_bad_tag_on_a_real_push() {
    let repo = single_crate();
    let remote = repo.add_bare_remote("origin");
    let out = lockstep(&["hooks", "install"], repo.path());
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(
        text(&out).contains("installed the pre-push hook at"),
        "{}",
        text(&out)
    );

    let branch = push(&repo, &["origin", "main"]);
    assert!(branch.status.success(), "{}", text(&branch));

    repo.annotated_tag("v1.3.0", "not the package version");
    let bad = push(&repo, &["origin", "v1.3.0"]);
    assert!(!bad.status.success(), "the push of v1.3.0 went through");
    let said = text(&bad);
    assert!(said.contains("v1.3.0: tag says 1.3.0"), "{said}");
    assert!(said.contains("expected tag v1.2.0"), "{said}");
    assert!(
        said.contains("push refused by lockstep tag-check"),
        "{said}"
    );
    assert_eq!(remote_tags(&remote), "");

    repo.tag("v1.2");
    let bad = push(&repo, &["origin", "v1.2"]);
    assert!(!bad.status.success());
    assert!(text(&bad).contains("not strict SemVer"), "{}", text(&bad));

    repo.annotated_tag("v1.2.0", "release 1.2.0");
    let good = push(&repo, &["origin", "v1.2.0"]);
    assert!(good.status.success(), "{}", text(&good));
    assert_eq!(remote_tags(&remote), "v1.2.0");

    // Branch pushes are not checked, and deleting a tag is not a release.
    repo.write("src/lib.rs", "// more\n");
    repo.commit_all("fix: more");
    assert!(push(&repo, &["origin", "main"]).status.success());
    assert!(
        push(&repo, &["origin", ":refs/tags/v1.2.0"])
            .status
            .success()
    );
    assert_eq!(remote_tags(&remote), "");
}

fn hook_path(repo: &GitRepo) -> PathBuf {
    repo.path().join(".git/hooks/pre-push")
}

#[test]
fn hooks_install_is_idempotent_and_keeps_foreign_hooks_unless_forced() {
    use std::os::unix::fs::PermissionsExt;
    let repo = single_crate();
    let hook = hook_path(&repo);
    std::fs::create_dir_all(hook.parent().unwrap()).unwrap();
    std::fs::write(&hook, "#!/bin/sh\necho mine\n").unwrap();

    let out = lockstep(&["hooks", "install"], repo.path());
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(
        text(&out).contains("was not written by lockstep; pass --force"),
        "{}",
        text(&out)
    );
    assert_eq!(
        std::fs::read_to_string(&hook).unwrap(),
        "#!/bin/sh\necho mine\n"
    );

    let out = lockstep(&["hooks", "install", "--force", "--json"], repo.path());
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["schema"], "lockstep.hooks-install/v1");
    assert_eq!(json["outcome"], "replaced");
    let backup = hook.with_file_name("pre-push.pre-lockstep");
    assert_eq!(
        std::fs::read_to_string(&backup).unwrap(),
        "#!/bin/sh\necho mine\n"
    );
    let installed = std::fs::read_to_string(&hook).unwrap();
    assert!(installed.starts_with("#!/bin/sh\n# lockstep-hook: pre-push\n"));
    let mode = std::fs::metadata(&hook).unwrap().permissions().mode();
    assert_eq!(mode & 0o111, 0o111, "mode {mode:o}");

    let out = lockstep(&["hooks", "install", "--json"], repo.path());
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["outcome"], "unchanged");

    // An older lockstep hook is rewritten without --force.
    std::fs::write(&hook, "#!/bin/sh\n# lockstep-hook: pre-push\nexit 0\n").unwrap();
    let out = lockstep(&["hooks", "install", "--json"], repo.path());
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["outcome"], "updated", "{}", text(&out));
    assert_eq!(std::fs::read_to_string(&hook).unwrap(), installed);
}

#[test]
fn hook_script_is_valid_posix_sh() {
    let repo = single_crate();
    lockstep(&["hooks", "install"], repo.path());
    let out = Command::new("sh")
        .arg("-n")
        .arg(hook_path(&repo))
        .output()
        .expect("sh runs");
    assert!(out.status.success(), "{}", text(&out));
}
