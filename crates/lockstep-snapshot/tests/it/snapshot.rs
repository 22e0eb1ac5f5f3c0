//! Taking snapshots: the clean check, what is recorded, what is copied.

use lockstep_snapshot::{ErrorKind, snapshot};

use crate::{fixture, id};

#[test]
fn refuses_tracked_changes_and_names_every_path() {
    // (what the test does to the tree, the paths the error must name)
    type Setup = fn(&lockstep_testkit::git::GitRepo);
    let cases: &[(&str, Setup, &[&str])] = &[
        (
            "modified",
            |r| {
                r.write("src/lib.rs", "changed\n");
            },
            &["src/lib.rs"],
        ),
        (
            "deleted",
            |r| {
                r.remove("README.md");
            },
            &["README.md"],
        ),
        (
            "staged new file",
            |r| {
                r.write("new.txt", "n\n").add(&["new.txt"]);
            },
            &["new.txt"],
        ),
        (
            "staged modification",
            |r| {
                r.write("README.md", "x\n").add(&["README.md"]);
            },
            &["README.md"],
        ),
        (
            "staged deletion",
            |r| {
                r.git(&["rm", "--quiet", "--cached", "README.md"]);
            },
            &["README.md"],
        ),
        (
            "mode change",
            |r| {
                r.write_executable("README.md", "# app\n");
            },
            &["README.md"],
        ),
        (
            "several",
            |r| {
                r.write("src/lib.rs", "x\n")
                    .remove("src/deep/nested/mod.rs");
            },
            &["src/deep/nested/mod.rs", "src/lib.rs"],
        ),
    ];
    for (name, setup, expected) in cases {
        let (repo, store) = fixture();
        setup(&repo);
        let err = snapshot(repo.path(), &id(0), &["Cargo.lock"], &store).expect_err(name);
        assert_eq!(err.kind(), ErrorKind::Dirty, "{name}: {err}");
        match &err {
            lockstep_snapshot::Error::Dirty { paths, .. } => assert_eq!(paths, expected, "{name}"),
            other => panic!("{name}: {other}"),
        }
        for path in *expected {
            assert!(err.to_string().contains(path), "{name}: {err}");
        }
        assert!(!store.exists(), "{name}: nothing stored");
        assert_eq!(
            repo.git(&["for-each-ref", "refs/lockstep"]),
            "",
            "{name}: no ref"
        );
    }
}

#[test]
fn untracked_files_are_reported_not_blocking() {
    let (repo, store) = fixture();
    repo.write("notes.txt", "n\n").write("scratch/a.txt", "a\n");
    let taken = snapshot(repo.path(), &id(0), &["Cargo.lock"], &store).expect("snapshot");
    assert_eq!(taken.untracked, vec!["notes.txt", "scratch/"]);
}

#[test]
fn records_head_branch_tree_and_creates_the_ref() {
    let (repo, store) = fixture();
    let taken = snapshot(
        repo.path(),
        &id(0),
        &["Cargo.lock", "package-lock.json"],
        &store,
    )
    .expect("snapshot");
    assert_eq!(taken.commit.as_str(), repo.head());
    assert_eq!(taken.tree.as_str(), repo.rev_parse("HEAD^{tree}"));
    assert_eq!(taken.branch.as_deref(), Some("main"));
    assert_eq!(taken.seq, 1);
    assert!(
        taken.untracked.is_empty(),
        ".lockstep/ is excluded: {:?}",
        taken.untracked
    );
    assert_eq!(
        repo.rev_parse("refs/lockstep/snapshots/pre-upgrade-20260219-183000"),
        repo.head()
    );

    let lock = &taken.files[0];
    assert_eq!(lock.path, "Cargo.lock");
    let digest = lock.content.as_ref().expect("the lockfile exists");
    assert_eq!(digest.size, 10);
    assert_eq!(digest.sha256, sha256_of(b"# lock v1\n"));
    assert_eq!(
        std::fs::read(store.join("pre-upgrade-20260219-183000/files/Cargo.lock")).expect("copy"),
        b"# lock v1\n"
    );
    assert_eq!(taken.files[1].path, "package-lock.json");
    assert_eq!(
        taken.files[1].content, None,
        "a missing file is recorded as absent"
    );

    let read = lockstep_snapshot::read(&store, &id(0)).expect("read record");
    assert_eq!(read, taken);
    assert_eq!(
        repo.status_porcelain(),
        "",
        "snapshot leaves the tree clean"
    );
}

#[test]
fn detached_head_is_recorded_as_such() {
    let (repo, store) = fixture();
    let head = repo.head();
    repo.checkout(&head);
    let taken = snapshot(repo.path(), &id(0), &[] as &[&str], &store).expect("snapshot");
    assert_eq!(taken.branch, None);
    assert_eq!(taken.commit.as_str(), head);
}

#[test]
fn refuses_bad_input() {
    let (repo, store) = fixture();
    snapshot(repo.path(), &id(0), &[] as &[&str], &store).expect("first");
    let again = snapshot(repo.path(), &id(0), &[] as &[&str], &store).expect_err("same id");
    assert_eq!(again.kind(), ErrorKind::AlreadyExists);

    for path in ["../outside", "/etc/passwd", ".git/config"] {
        let err = snapshot(repo.path(), &id(1), &[path], &store).expect_err(path);
        assert_eq!(err.kind(), ErrorKind::InvalidInput, "{path}");
    }

    let empty = lockstep_testkit::git::GitRepo::new();
    let err = snapshot(empty.path(), &id(0), &[] as &[&str], &store).expect_err("unborn");
    assert_eq!(err.kind(), ErrorKind::UnbornHead);

    let not_a_repo = tempfile::tempdir().expect("temp dir");
    let err = snapshot(not_a_repo.path(), &id(0), &[] as &[&str], &store).expect_err("no repo");
    assert_eq!(err.kind(), ErrorKind::NotARepository);
}

pub fn sha256_of(bytes: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}
