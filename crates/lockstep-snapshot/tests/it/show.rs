//! `read_file_at` and `CommitTree`: files as a commit holds them, checked against `git show`.

use lockstep_snapshot::{CommitTree, ErrorKind, hooks_dir, read_file_at};
use lockstep_testkit::git::GitRepo;

/// A repository with a tagged first commit (annotated `v1.0.0`, lightweight `light`) and a
/// second commit that changes and removes files.
fn history() -> (GitRepo, String) {
    let repo = GitRepo::new();
    repo.write("Cargo.toml", "[package]\nversion = \"1.0.0\"\n")
        .write("crates/b/Cargo.toml", "b1\n")
        .write("crates/a/Cargo.toml", "a1\n")
        .write("gone.txt", "here\n");
    let first = repo.commit_all("feat: one");
    repo.annotated_tag("v1.0.0", "release 1.0.0").tag("light");
    repo.write("Cargo.toml", "[package]\nversion = \"2.0.0\"\n")
        .remove("gone.txt");
    repo.commit_all("feat: two");
    (repo, first)
}

#[test]
fn reads_what_git_show_prints_at_tags_and_commits() {
    let (repo, first) = history();
    for rev in ["v1.0.0", "light", first.as_str(), &first[..10]] {
        for path in [
            "Cargo.toml",
            "crates/a/Cargo.toml",
            "gone.txt",
            "./crates/b/Cargo.toml",
        ] {
            let ours = read_file_at(repo.path(), rev, path).unwrap();
            // Raw stdout: `GitRepo::git` trims it.
            let git = repo.try_git(&["show", &format!("{rev}:{}", path.trim_start_matches("./"))]);
            assert!(git.status.success());
            assert_eq!(ours, Some(git.stdout), "{rev}:{path}");
        }
    }
    assert_eq!(
        read_file_at(repo.path(), "HEAD", "Cargo.toml")
            .unwrap()
            .as_deref(),
        Some(&b"[package]\nversion = \"2.0.0\"\n"[..])
    );
}

#[test]
fn missing_files_and_directories_are_none() {
    let (repo, _) = history();
    assert_eq!(read_file_at(repo.path(), "HEAD", "gone.txt").unwrap(), None);
    assert_eq!(read_file_at(repo.path(), "v1.0.0", "crates").unwrap(), None);
    assert_eq!(
        read_file_at(repo.path(), "v1.0.0", "crates/c/Cargo.toml").unwrap(),
        None
    );
    assert_eq!(
        read_file_at(repo.path(), "v1.0.0", "gone.txt/x").unwrap(),
        None
    );
}

#[test]
fn lists_directories_sorted() {
    let (repo, _) = history();
    let tree = CommitTree::open(repo.path(), "v1.0.0").unwrap();
    assert_eq!(tree.commit().as_str(), repo.rev_parse("v1.0.0^{commit}"));
    assert_eq!(
        tree.list("").unwrap(),
        Some(vec![
            "Cargo.toml".into(),
            "crates".into(),
            "gone.txt".into()
        ])
    );
    assert_eq!(
        tree.list("crates/").unwrap(),
        Some(vec!["a".into(), "b".into()])
    );
    assert_eq!(tree.list("Cargo.toml").unwrap(), None);
    assert_eq!(tree.list("nowhere").unwrap(), None);
}

#[test]
fn unknown_revisions_and_escaping_paths_are_errors() {
    let (repo, _) = history();
    let err = read_file_at(repo.path(), "v9.9.9", "Cargo.toml").unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound, "{err}");
    for path in ["../outside", "/etc/passwd", "crates/../../x"] {
        let err = read_file_at(repo.path(), "v1.0.0", path).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput, "{path}: {err}");
    }
}

#[test]
fn a_tag_of_a_blob_names_no_commit() {
    let (repo, _) = history();
    let blob = repo.rev_parse("HEAD:Cargo.toml");
    repo.git(&["tag", "blobtag", &blob]);
    let err = read_file_at(repo.path(), "blobtag", "Cargo.toml").unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Git, "{err}");
}

#[test]
fn hooks_dir_follows_core_hooks_path() {
    let (repo, _) = history();
    let git_dir = repo.path().join(".git/hooks");
    assert_eq!(
        hooks_dir(repo.path()).unwrap().canonicalize().ok(),
        Some(git_dir).and_then(|d| {
            std::fs::create_dir_all(&d).unwrap();
            d.canonicalize().ok()
        })
    );
    repo.git(&["config", "core.hooksPath", "ci/hooks"]);
    assert_eq!(
        hooks_dir(repo.path()).unwrap(),
        repo.path().join("ci/hooks")
    );
}
