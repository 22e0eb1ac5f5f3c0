//! `log_since`: the commits since a tag, checked against `git log --first-parent`.

use lockstep_snapshot::{CommitInfo, ErrorKind, log_since};
use lockstep_testkit::git::GitRepo;

/// `(id, summary)` of each commit, as `log_since` gives them.
fn summaries(log: &[CommitInfo]) -> Vec<(String, String)> {
    log.iter()
        .map(|c| (c.id.as_str().to_owned(), c.summary.clone()))
        .collect()
}

/// `(id, summary)` of each commit of `git log --first-parent RANGE`, the oracle.
fn git_log(repo: &GitRepo, range: &str) -> Vec<(String, String)> {
    let out = repo.git(&["log", "--first-parent", "--format=%H %s", range]);
    out.lines()
        .filter(|l| !l.is_empty())
        .map(|l| {
            let (id, summary) = l.split_once(' ').unwrap_or((l, ""));
            (id.to_owned(), summary.to_owned())
        })
        .collect()
}

#[test]
fn commits_since_a_tag_newest_first() {
    let repo = GitRepo::new();
    repo.write("a", "1\n");
    repo.commit_all("chore: init");
    repo.annotated_tag("v0.1.0", "release 0.1.0");
    repo.write("a", "2\n");
    let fix = repo.commit_all("fix: off by one");
    repo.write("a", "3\n");
    let feat = repo.commit_all("feat(api)!: drop v1\n\nBREAKING CHANGE: v1 is gone\n");

    let log = log_since(repo.path(), Some("v0.1.0")).unwrap();
    assert_eq!(
        summaries(&log),
        [
            (feat.clone(), "feat(api)!: drop v1".to_owned()),
            (fix, "fix: off by one".to_owned()),
        ]
    );
    assert_eq!(summaries(&log), git_log(&repo, "v0.1.0..HEAD"));
    // The whole message, as git stores it.
    assert_eq!(
        log[0].message,
        "feat(api)!: drop v1\n\nBREAKING CHANGE: v1 is gone\n"
    );
    assert_eq!(log[0].id.as_str(), feat);
}

#[test]
fn without_a_tag_every_commit_is_listed() {
    let repo = GitRepo::new();
    for i in 0..3 {
        repo.write("a", format!("{i}\n"));
        repo.commit_all(&format!("feat: step {i}"));
    }
    let log = log_since(repo.path(), None).unwrap();
    assert_eq!(log.len(), 3);
    assert_eq!(summaries(&log), git_log(&repo, "HEAD"));
}

#[test]
fn a_tag_at_head_or_ahead_of_it_gives_nothing() {
    let repo = GitRepo::new();
    repo.write("a", "1\n");
    repo.commit_all("chore: init");
    repo.tag("v1.0.0");
    assert_eq!(log_since(repo.path(), Some("v1.0.0")).unwrap(), []);

    // A lightweight tag on a later commit of another branch.
    repo.git(&["checkout", "--quiet", "-b", "next"]);
    repo.write("a", "2\n");
    repo.commit_all("feat: next");
    repo.tag("v2.0.0");
    repo.checkout("main");
    assert_eq!(log_since(repo.path(), Some("v2.0.0")).unwrap(), []);
}

#[test]
fn merges_count_once_and_merged_commits_are_not_listed() {
    let repo = GitRepo::new();
    repo.write("a", "1\n");
    repo.commit_all("chore: init");
    repo.annotated_tag("v1.0.0", "release 1.0.0");
    repo.git(&["checkout", "--quiet", "-b", "topic"]);
    repo.write("b", "1\n");
    repo.commit_all("feat: on the topic branch");
    repo.checkout("main");
    repo.write("a", "2\n");
    repo.commit_all("fix: on main");
    repo.git(&["merge", "--quiet", "--no-ff", "-m", "merge topic", "topic"]);
    repo.write("a", "3\n");
    repo.commit_all("docs: after the merge");

    let log = log_since(repo.path(), Some("v1.0.0")).unwrap();
    let got: Vec<_> = log.iter().map(|c| c.summary.as_str()).collect();
    assert_eq!(
        got,
        ["docs: after the merge", "merge topic", "fix: on main"]
    );
    assert_eq!(summaries(&log), git_log(&repo, "v1.0.0..HEAD"));
}

#[test]
fn a_tag_on_a_merged_branch_hides_what_it_reaches() {
    let repo = GitRepo::new();
    repo.write("a", "1\n");
    repo.commit_all("chore: init");
    repo.git(&["checkout", "--quiet", "-b", "release"]);
    repo.write("r", "1\n");
    repo.commit_all("chore(release): 1.0.0");
    repo.tag("v1.0.0");
    repo.checkout("main");
    repo.write("a", "2\n");
    repo.commit_all("fix: on main");
    repo.git(&[
        "merge",
        "--quiet",
        "--no-ff",
        "-m",
        "merge release",
        "release",
    ]);

    let log = log_since(repo.path(), Some("v1.0.0")).unwrap();
    let got: Vec<_> = log.iter().map(|c| c.summary.as_str()).collect();
    assert_eq!(got, ["merge release", "fix: on main"]);
    assert_eq!(summaries(&log), git_log(&repo, "v1.0.0..HEAD"));
}

#[test]
fn a_missing_tag_and_an_unborn_head_are_typed_errors() {
    let repo = GitRepo::new();
    let err = log_since(repo.path(), None).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::UnbornHead, "{err}");
    repo.write("a", "1\n");
    repo.commit_all("chore: init");
    let err = log_since(repo.path(), Some("v9.9.9")).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound, "{err}");
    assert!(err.to_string().contains("v9.9.9"), "{err}");
}
