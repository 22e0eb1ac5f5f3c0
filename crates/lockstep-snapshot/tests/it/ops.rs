//! The git operations for the upgrade and cascade workflows.

use lockstep_snapshot::{
    ChangeArea, ChangeKind, ErrorKind, Identity, checkout_tag, commit, create_tag, delete_tag,
    describe, head, list_tags, resolve_tag, status, tag_exists,
};
use lockstep_testkit::git::GitRepo;

use crate::fixture;

fn bot() -> Identity {
    Identity::new("Lockstep Bot", "bot@lockstep.invalid").at(1_771_525_800, 3600)
}

#[test]
fn status_lists_tracked_changes_by_area_and_untracked_paths() {
    let (repo, _) = fixture();
    assert!(status(repo.path()).expect("status").is_clean());
    repo.write("README.md", "x\n")
        .remove("src/lib.rs")
        .write("staged.txt", "s\n")
        .add(&["staged.txt"])
        .write("untracked/a.txt", "u\n")
        .write("loose.txt", "l\n");
    let status = status(repo.path()).expect("status");
    let tracked: Vec<_> = status
        .tracked
        .iter()
        .map(|c| (c.path.as_str(), c.area, c.kind))
        .collect();
    assert_eq!(
        tracked,
        vec![
            ("README.md", ChangeArea::WorkTree, ChangeKind::Modified),
            ("src/lib.rs", ChangeArea::WorkTree, ChangeKind::Deleted),
            ("staged.txt", ChangeArea::Index, ChangeKind::Added),
        ]
    );
    assert_eq!(status.untracked, vec!["loose.txt", "untracked/"]);
    assert!(!lockstep_snapshot::is_clean(repo.path()).expect("is_clean"));
}

#[test]
fn head_reports_branch_and_detached() {
    let (repo, _) = fixture();
    let h = head(repo.path()).expect("head");
    assert_eq!(h.branch.as_deref(), Some("main"));
    assert_eq!(
        h.commit.as_ref().map(|c| c.as_str().to_owned()),
        Some(repo.head())
    );
    repo.checkout(&repo.head());
    assert_eq!(head(repo.path()).expect("head").branch, None);
    let empty = GitRepo::new();
    assert_eq!(head(empty.path()).expect("unborn").commit, None);
}

#[test]
fn commit_takes_tracked_changes_and_named_paths() {
    let (repo, _) = fixture();
    repo.write("src/lib.rs", "pub fn v() -> u32 { 2 }\n")
        .remove("README.md")
        .write("staged.txt", "s\n")
        .add(&["staged.txt"])
        .write("CHANGELOG.md", "## 2.0.0\n")
        .write("unrelated.txt", "not named\n");
    let before = repo.head();
    let id = commit(
        repo.path(),
        "chore(release): app v2.0.0",
        &["CHANGELOG.md", "Cargo.lock"],
        Some(&bot()),
    )
    .expect("commit");
    assert_eq!(id.as_str(), repo.head());
    assert_eq!(repo.rev_parse("HEAD~1"), before);
    assert_eq!(repo.current_branch().as_deref(), Some("main"));
    assert_eq!(
        repo.git(&[
            "show",
            "--name-status",
            "--format=%an <%ae> %at %ai%n%s",
            "HEAD"
        ]),
        "Lockstep Bot <bot@lockstep.invalid> 1771525800 2026-02-19 19:30:00 +0100\n\
         chore(release): app v2.0.0\n\n\
         A\tCHANGELOG.md\n\
         A\tCargo.lock\n\
         D\tREADME.md\n\
         M\tsrc/lib.rs\n\
         A\tstaged.txt"
    );
    assert_eq!(
        repo.status_porcelain(),
        "?? unrelated.txt",
        "index matches the new commit"
    );
    assert_eq!(repo.git(&["diff-files", "--name-only"]), "");
    // git can read everything back.
    repo.git(&["fsck", "--no-progress"]);

    let err = commit(repo.path(), "again", &[] as &[&str], Some(&bot())).expect_err("nothing left");
    assert_eq!(err.kind(), ErrorKind::NothingToCommit);
}

#[test]
fn commit_uses_configured_identity_and_keeps_executable_bits() {
    let (repo, _) = fixture();
    repo.write_executable("smoke_tests/run.sh", "#!/bin/sh\nexit 1\n");
    commit(repo.path(), "fix: smoke", &[] as &[&str], None).expect("commit");
    assert_eq!(
        repo.git(&["log", "-1", "--format=%an <%ae>"]),
        "Lockstep Test <test@lockstep.invalid>"
    );
    assert_eq!(
        repo.git(&["ls-files", "-s", "smoke_tests/run.sh"])
            .split(' ')
            .next(),
        Some("100755")
    );
    assert_eq!(repo.status_porcelain(), "");
}

#[test]
fn commit_on_unborn_branch() {
    let repo = GitRepo::new();
    repo.write("a.txt", "a\n");
    let id = commit(repo.path(), "initial", &["a.txt"], Some(&bot())).expect("commit");
    assert_eq!(id.as_str(), repo.head());
    assert_eq!(repo.git(&["ls-files"]), "a.txt");
    assert_eq!(repo.status_porcelain(), "");
}

#[test]
fn tags_round_trip_with_describe() {
    let (repo, _) = fixture();
    assert_eq!(describe(repo.path()).expect("describe"), None);

    let tag = create_tag(
        repo.path(),
        "v1.0.0",
        "app 1.0.0\n\nbuilt against core 2.1.0",
        Some(&bot()),
    )
    .expect("tag");
    assert!(tag.annotated);
    assert_eq!(tag.commit.as_str(), repo.head());
    assert_eq!(repo.git(&["cat-file", "-t", "v1.0.0"]), "tag");
    assert_eq!(
        repo.git(&["tag", "-l", "--format=%(contents)", "v1.0.0"]),
        "app 1.0.0\n\nbuilt against core 2.1.0"
    );
    assert_eq!(repo.git(&["describe", "--tags"]), "v1.0.0");
    assert_eq!(
        describe(repo.path())
            .expect("describe")
            .map(|d| d.to_string())
            .as_deref(),
        Some("v1.0.0")
    );

    let err = create_tag(repo.path(), "v1.0.0", "again", Some(&bot())).expect_err("exists");
    assert_eq!(err.kind(), ErrorKind::AlreadyExists);
    let err = create_tag(repo.path(), "bad..name", "m", Some(&bot())).expect_err("invalid");
    assert_eq!(err.kind(), ErrorKind::InvalidInput);

    repo.write("src/lib.rs", "v2\n");
    let second = commit(repo.path(), "feat: two", &[] as &[&str], Some(&bot())).expect("commit");
    repo.write("src/lib.rs", "v3\n");
    commit(repo.path(), "feat: three", &[] as &[&str], Some(&bot())).expect("commit");
    let described = describe(repo.path())
        .expect("describe")
        .expect("a tag is reachable");
    assert_eq!(
        described.to_string(),
        repo.git(&["describe", "--tags", "--abbrev=7"])
    );
    assert_eq!((described.tag.as_str(), described.distance), ("v1.0.0", 2));

    repo.git(&["tag", "light", second.as_str()]);
    let described = describe(repo.path()).expect("describe").expect("tag");
    assert_eq!(
        (described.tag.as_str(), described.distance),
        ("light", 1),
        "lightweight tags count"
    );

    let tags = list_tags(repo.path()).expect("list");
    let summary: Vec<_> = tags
        .iter()
        .map(|t| (t.name.as_str(), t.annotated, t.commit.as_str().to_owned()))
        .collect();
    assert_eq!(
        summary,
        vec![
            ("light", false, second.as_str().to_owned()),
            ("v1.0.0", true, tag.commit.as_str().to_owned())
        ]
    );
    assert_eq!(
        resolve_tag(repo.path(), "v1.0.0").expect("resolve"),
        tag.commit
    );
    assert!(tag_exists(repo.path(), "light").expect("exists"));

    delete_tag(repo.path(), "light").expect("delete");
    assert!(!tag_exists(repo.path(), "light").expect("exists"));
    assert_eq!(
        delete_tag(repo.path(), "light").expect_err("gone").kind(),
        ErrorKind::NotFound
    );
    assert_eq!(
        resolve_tag(repo.path(), "nope")
            .expect_err("missing")
            .kind(),
        ErrorKind::NotFound
    );
}

#[test]
fn checkout_tag_moves_the_branch_with_a_hard_reset() {
    let core = GitRepo::new();
    core.write("lib.rs", "v1\n").write("old.rs", "old\n");
    core.commit_all("v1");
    core.annotated_tag("v1.0.0", "v1");
    let v1_tree = core.tree_hash();
    core.write("lib.rs", "v2\n")
        .remove("old.rs")
        .write("new/mod.rs", "new\n");
    core.commit_all("v2");
    core.annotated_tag("v2.0.0", "v2");
    let v2_tree = core.tree_hash();

    let verification = checkout_tag(core.path(), "v1.0.0").expect("checkout v1");
    assert!(verification.is_verified(), "{:?}", verification.mismatches);
    assert_eq!(core.tree_hash(), v1_tree);
    assert_eq!(core.current_branch().as_deref(), Some("main"));
    assert_eq!(core.head(), core.rev_parse("v1.0.0^{commit}"));
    assert_eq!(core.status_porcelain(), "");

    let verification = checkout_tag(core.path(), "v2.0.0").expect("checkout v2");
    assert!(verification.is_verified(), "{:?}", verification.mismatches);
    assert_eq!(core.tree_hash(), v2_tree);
    assert_eq!(core.git(&["describe", "--tags"]), "v2.0.0");

    core.write("lib.rs", "dirty\n");
    let err = checkout_tag(core.path(), "v1.0.0").expect_err("dirty");
    assert_eq!(err.kind(), ErrorKind::Dirty);
    assert_eq!(core.read("lib.rs"), "dirty\n", "nothing was touched");
}

#[test]
fn ensure_excluded_adds_the_line_once() {
    let repo = GitRepo::new();
    assert!(lockstep_snapshot::ensure_excluded(repo.path(), ".lockstep/").expect("add"));
    assert!(!lockstep_snapshot::ensure_excluded(repo.path(), ".lockstep/").expect("again"));
    let exclude = std::fs::read_to_string(repo.path().join(".git/info/exclude")).expect("read");
    assert_eq!(exclude.lines().filter(|l| *l == ".lockstep/").count(), 1);
    repo.write(".lockstep/journal.json", "{}");
    assert_eq!(repo.status_porcelain(), "");
}
