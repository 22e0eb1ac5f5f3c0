//! Restoring snapshots: byte-identical trees, clean status, attached HEAD, copied files.

use lockstep_snapshot::{Mismatch, restore, snapshot, verify};
use lockstep_testkit::git::GitRepo;

use crate::{fixture, id};

type Change = fn(&GitRepo);

/// Every way an upgrade can leave the repository, and restore must undo.
const CHANGES: &[(&str, Change)] = &[
    ("modify", |r| {
        r.write("src/lib.rs", "pub fn v() -> u32 { 2 }\n");
    }),
    ("delete", |r| {
        r.remove("src/deep/nested/mod.rs");
    }),
    ("stage a new file", |r| {
        r.write("src/new.rs", "// new\n").add(&["src/new.rs"]);
    }),
    ("stage a modification", |r| {
        r.write("README.md", "# changed\n").add(&["README.md"]);
    }),
    ("stage a deletion", |r| {
        r.git(&["rm", "--quiet", "README.md"]);
    }),
    ("commit on top", |r| {
        r.write("src/lib.rs", "pub fn v() -> u32 { 3 }\n")
            .write("src/added/file.rs", "// added\n")
            .remove("README.md");
        r.commit_all("feat: upgrade");
    }),
    ("two commits on top", |r| {
        r.write("a.txt", "a\n");
        r.commit_all("one");
        r.write("a.txt", "b\n");
        r.commit_all("two");
    }),
    ("branch moved to an unrelated root", |r| {
        let empty_tree = "4b825dc642cb6eb9a060e54bf8d69288fbee4904";
        let root = r.git(&["commit-tree", empty_tree, "-m", "unrelated root"]);
        r.git(&["reset", "--quiet", "--hard", &root]);
    }),
    ("mode change", |r| {
        r.write_executable("README.md", "# app\n");
    }),
    ("executable bit dropped", |r| {
        use std::os::unix::fs::PermissionsExt;
        let path = r.path().join("smoke_tests/run.sh");
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o644)).expect("chmod");
    }),
    ("file replaced by a directory", |r| {
        r.remove("README.md").write("README.md/inner.txt", "x\n");
        r.commit_all("dir");
    }),
    ("directory replaced by a file", |r| {
        std::fs::remove_dir_all(r.path().join("src/deep")).expect("rm");
        r.write("src/deep", "now a file\n");
        r.commit_all("file");
    }),
    ("symlink added", |r| {
        std::os::unix::fs::symlink("README.md", r.path().join("link")).expect("symlink");
        r.commit_all("link");
    }),
    ("lockfile rewritten", |r| {
        r.write("Cargo.lock", "# lock v2\n");
    }),
    ("lockfile deleted", |r| {
        r.remove("Cargo.lock");
    }),
    ("absent file created", |r| {
        r.write("package-lock.json", "{}\n");
    }),
    ("switched to another branch with changes", |r| {
        r.git(&["checkout", "--quiet", "-b", "feature"]);
        r.write("src/lib.rs", "feature\n");
        r.commit_all("feature work");
    }),
    ("detached HEAD elsewhere", |r| {
        r.write("x.txt", "x\n");
        let c = r.commit_all("x");
        r.git(&["reset", "--quiet", "--hard", "HEAD~1"]);
        r.checkout(&c);
    }),
    ("everything at once", |r| {
        r.write("src/lib.rs", "v9\n")
            .write("Cargo.lock", "# v9\n")
            .write("package-lock.json", "{}\n");
        r.commit_all("v9");
        r.write("README.md", "dirty\n").remove("smoke_tests/run.sh");
    }),
];

#[test]
fn restore_returns_a_byte_identical_clean_tree() {
    for (name, change) in CHANGES {
        let (repo, store) = fixture();
        let taken = snapshot(
            repo.path(),
            &id(0),
            &["Cargo.lock", "package-lock.json"],
            &store,
        )
        .unwrap_or_else(|e| panic!("{name}: {e}"));
        let before = repo.tree_hash();

        change(&repo);
        assert_ne!(
            repo.tree_hash() + &repo.head(),
            before.clone() + taken.commit.as_str(),
            "{name}: the change changed something"
        );

        let verification =
            restore(repo.path(), &id(0), &store).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(
            verification.is_verified(),
            "{name}: {:?}",
            verification.mismatches
        );
        assert_eq!(repo.tree_hash(), before, "{name}: tree is byte-identical");
        assert_eq!(repo.status_porcelain(), "", "{name}: status is clean");
        assert_eq!(repo.head(), taken.commit.as_str(), "{name}: HEAD");
        assert_eq!(
            repo.current_branch().as_deref(),
            Some("main"),
            "{name}: HEAD on its branch"
        );
        assert_eq!(
            repo.rev_parse("main"),
            taken.commit.as_str(),
            "{name}: branch moved back"
        );
        assert_eq!(
            repo.git(&["diff", "--cached", "--name-only"]),
            "",
            "{name}: index equals HEAD"
        );
        // git itself agrees that the index is up to date with the files.
        assert_eq!(
            repo.git(&["diff-files", "--name-only"]),
            "",
            "{name}: no stat-dirty entries"
        );

        let again = restore(repo.path(), &id(0), &store).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(again.is_verified(), "{name}: second restore");
        assert_eq!(
            again.files_written, 0,
            "{name}: a second restore writes nothing"
        );
        assert_eq!(repo.tree_hash(), before, "{name}: restore is idempotent");
    }
}

#[test]
fn restore_writes_only_what_differs() {
    let (repo, store) = fixture();
    snapshot(repo.path(), &id(0), &[] as &[&str], &store).expect("snapshot");
    repo.write("src/lib.rs", "changed\n").remove("README.md");
    let verification = restore(repo.path(), &id(0), &store).expect("restore");
    assert!(verification.is_verified(), "{:?}", verification.mismatches);
    assert_eq!(
        (verification.files_written, verification.files_removed),
        (2, 0)
    );

    repo.write("new.txt", "n\n");
    repo.commit_all("add");
    let verification = restore(repo.path(), &id(0), &store).expect("restore");
    assert_eq!(
        (verification.files_written, verification.files_removed),
        (0, 1)
    );
    assert!(!repo.path().join("new.txt").exists());
}

#[test]
fn untracked_files_are_left_alone() {
    let (repo, store) = fixture();
    snapshot(repo.path(), &id(0), &[] as &[&str], &store).expect("snapshot");
    repo.write("src/lib.rs", "changed\n")
        .write("notes.txt", "mine\n");
    let verification = restore(repo.path(), &id(0), &store).expect("restore");
    assert!(verification.is_verified(), "{:?}", verification.mismatches);
    assert_eq!(repo.read("notes.txt"), "mine\n");
    assert_eq!(repo.status_porcelain(), "?? notes.txt");
}

#[test]
fn detached_snapshot_restores_detached() {
    let (repo, store) = fixture();
    let head = repo.head();
    repo.checkout(&head);
    snapshot(repo.path(), &id(0), &[] as &[&str], &store).expect("snapshot");
    repo.write("x", "x\n");
    repo.commit_all("x");
    let verification = restore(repo.path(), &id(0), &store).expect("restore");
    assert!(verification.is_verified(), "{:?}", verification.mismatches);
    assert_eq!(repo.current_branch(), None);
    assert_eq!(repo.head(), head);
}

#[test]
fn tampered_stored_copy_is_reported_and_not_restored() {
    let (repo, store) = fixture();
    let taken = snapshot(repo.path(), &id(0), &["Cargo.lock"], &store).expect("snapshot");
    repo.write("Cargo.lock", "# lock v2\n");
    std::fs::write(
        store.join(id(0).as_str()).join("files/Cargo.lock"),
        "# evil\n",
    )
    .expect("tamper");

    let verification = restore(repo.path(), &id(0), &store).expect("restore runs");
    assert!(!verification.is_verified());
    let expected = taken.files[0]
        .content
        .as_ref()
        .expect("copied")
        .sha256
        .clone();
    assert_eq!(
        verification.mismatches,
        vec![
            Mismatch::StoredCopy {
                path: "Cargo.lock".into(),
                expected: expected.clone(),
                actual: Some(crate::snapshot::sha256_of(b"# evil\n")),
            },
            Mismatch::CopiedFile {
                path: "Cargo.lock".into(),
                expected: Some(expected),
                actual: Some(crate::snapshot::sha256_of(b"# lock v2\n")),
            },
        ]
    );
    assert_eq!(
        repo.read("Cargo.lock"),
        "# lock v2\n",
        "the tampered copy was not written"
    );
    assert_eq!(repo.status_porcelain(), "", "git state was still restored");
}

#[test]
fn verify_detects_every_kind_of_drift() {
    type Case = (&'static str, Change, fn(&Mismatch) -> bool);
    let cases: &[Case] = &[
        ("nothing changed", |_| {}, |_| false),
        (
            "copied file tampered",
            |r| {
                r.write("Cargo.lock", "# tampered\n");
            },
            |m| matches!(m, Mismatch::CopiedFile { path, .. } if path == "Cargo.lock"),
        ),
        (
            "copied file deleted",
            |r| {
                r.remove("Cargo.lock");
            },
            |m| matches!(m, Mismatch::CopiedFile { actual: None, .. }),
        ),
        (
            "absent file appeared",
            |r| {
                r.write("package-lock.json", "{}");
            },
            |m| matches!(m, Mismatch::CopiedFile { expected: None, .. }),
        ),
        (
            "tracked file modified",
            |r| {
                r.write("README.md", "# other\n");
            },
            |m| matches!(m, Mismatch::WorkTree { path } if path == "README.md"),
        ),
        (
            "tracked file staged",
            |r| {
                r.write("README.md", "# other\n").add(&["README.md"]);
            },
            |m| matches!(m, Mismatch::Index { path } if path == "README.md"),
        ),
        (
            "new commit",
            |r| {
                r.git(&["commit", "--quiet", "--allow-empty", "-m", "empty"]);
            },
            |m| matches!(m, Mismatch::Head { .. }),
        ),
        (
            "other branch",
            |r| {
                r.git(&["checkout", "--quiet", "-b", "other"]);
            },
            |m| matches!(m, Mismatch::Branch { .. }),
        ),
    ];
    for (name, change, expected) in cases {
        let (repo, store) = fixture();
        snapshot(
            repo.path(),
            &id(0),
            &["Cargo.lock", "package-lock.json"],
            &store,
        )
        .expect("snapshot");
        change(&repo);
        let verification = verify(repo.path(), &id(0), &store).expect("verify");
        if verification.mismatches.is_empty() {
            assert!(*name == "nothing changed", "{name}: nothing detected");
        } else {
            assert!(
                verification.mismatches.iter().all(expected),
                "{name}: {:?}",
                verification.mismatches
            );
            assert_eq!(
                verification.mismatches.len(),
                1,
                "{name}: {:?}",
                verification.mismatches
            );
        }
    }
}

#[test]
fn restore_of_unknown_snapshot_is_not_found() {
    let (repo, store) = fixture();
    let err = restore(repo.path(), &id(9), &store).expect_err("no such snapshot");
    assert_eq!(err.kind(), lockstep_snapshot::ErrorKind::NotFound);
}
