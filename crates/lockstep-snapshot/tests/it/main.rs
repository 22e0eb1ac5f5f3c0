//! Integration tests of lockstep-snapshot on real git repositories built by lockstep-testkit.

mod log;
mod ops;
mod restore;
mod show;
mod snapshot;
mod store;

use std::path::PathBuf;

use lockstep_snapshot::SnapshotId;
use lockstep_testkit::git::GitRepo;

/// A repository with a few tracked files in nested directories, an executable, an ignored
/// lockfile (not committed) and `.lockstep/` excluded; returns it with its store directory.
pub fn fixture() -> (GitRepo, PathBuf) {
    let repo = GitRepo::new();
    repo.write("README.md", "# app\n")
        .write("src/lib.rs", "pub fn v() -> u32 { 1 }\n")
        .write("src/deep/nested/mod.rs", "// nested\n")
        .write_executable("smoke_tests/run.sh", "#!/bin/sh\nexit 0\n")
        .ignore("Cargo.lock");
    repo.commit_all("feat: first");
    repo.write("Cargo.lock", "# lock v1\n");
    lockstep_snapshot::ensure_excluded(repo.path(), ".lockstep/").expect("exclude .lockstep/");
    let store = repo.path().join(".lockstep/snapshots");
    (repo, store)
}

/// A snapshot id for test number `n`.
pub fn id(n: i64) -> SnapshotId {
    SnapshotId::timestamped("pre-upgrade", 1_771_525_800 + n).expect("valid id")
}
