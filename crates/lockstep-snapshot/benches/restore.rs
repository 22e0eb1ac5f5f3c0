//! Restore and snapshot against the git command line, on divan, measured in the same run.
//!
//! Generates a repository of 20,000 tracked files (200 directories of 100), then:
//! - restore: modify 1,000 files and delete 100 (untimed), then `restore` (its verification
//!   included), versus the same change followed by `git reset --hard <snapshot commit>`;
//! - snapshot: `snapshot` of the clean tree (its clean check, record and ref included), versus
//!   `git status --porcelain` plus `git update-ref`.
//!
//! One round of each side runs before timing, to warm the page cache. divan runs one side's
//! samples, then the other's (the hand-written loop this replaces alternated them); the medians
//! and their ratios are printed at the end (targets: at most 1.5). Run with
//! `cargo bench -p lockstep-snapshot`.

use std::cell::Cell;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use divan::Bencher;
use lockstep_snapshot::{SnapshotId, restore, snapshot};
use lockstep_testkit::git::{GitRepo, run_git};

#[path = "../../../benches/ratio.rs"]
mod ratio;

use ratio::{Ratio, Target, timed};

const DIRS: usize = 200;
const FILES_PER_DIR: usize = 100;
const MODIFIED: usize = 1_000;
const DELETED: usize = 100;

/// The repository, its snapshot store, and the base snapshot that `restore` returns to.
struct Fixture {
    repo: GitRepo,
    store: PathBuf,
    base: SnapshotId,
    commit: String,
    /// A different content for every mutation.
    salt: AtomicUsize,
}

thread_local! {
    // `GitRepo` is not `Sync`; divan runs every sample on the main thread (`threads` unset).
    static FIXTURE: Fixture = Fixture::new();
}

impl Fixture {
    fn new() -> Self {
        let repo = GitRepo::new();
        let started = Instant::now();
        generate(repo.path());
        repo.commit_all("20k files");
        let store = repo.path().join(".lockstep/snapshots");
        lockstep_snapshot::ensure_excluded(repo.path(), ".lockstep/").expect("exclude");
        eprintln!(
            "generated {} tracked files in {:.1?}",
            DIRS * FILES_PER_DIR,
            started.elapsed()
        );
        let base = SnapshotId::new("bench-base").expect("valid id");
        let taken = snapshot(repo.path(), &base, &[] as &[&str], &store).expect("snapshot");
        let commit = taken.commit.to_string();
        let f = Fixture {
            repo,
            store,
            base,
            commit,
            salt: AtomicUsize::new(0),
        };
        // Warm-up: one round of each side.
        f.mutate();
        restore(f.repo.path(), &f.base, &f.store).expect("restore");
        f.mutate();
        run_git(f.repo.path(), &["reset", "--quiet", "--hard", &f.commit]);
        assert_eq!(f.repo.status_porcelain(), "");
        f
    }

    /// Modifies `MODIFIED` files and deletes `DELETED` others, spread over the tree.
    fn mutate(&self) {
        let salt = self.salt.fetch_add(1, Ordering::Relaxed);
        let root = self.repo.path();
        let total = DIRS * FILES_PER_DIR;
        let step = total / (MODIFIED + DELETED);
        for i in 0..MODIFIED + DELETED {
            let n = i * step;
            let path = root.join(format!(
                "d{:03}/f{:03}.txt",
                n / FILES_PER_DIR,
                n % FILES_PER_DIR
            ));
            if i < MODIFIED {
                std::fs::write(&path, format!("modified in round {salt}\n")).expect("modify");
            } else {
                std::fs::remove_file(&path).expect("delete");
            }
        }
    }
}

/// Writes the tree: `dNNN/fNNN.txt`, each a few lines.
fn generate(root: &Path) {
    for d in 0..DIRS {
        let dir = root.join(format!("d{d:03}"));
        std::fs::create_dir_all(&dir).expect("mkdir");
        for f in 0..FILES_PER_DIR {
            let text = format!(
                "directory {d}\nfile {f}\nsome content to make it a realistic small source file\n"
            );
            std::fs::write(dir.join(format!("f{f:03}.txt")), text).expect("write");
        }
    }
}

#[divan::bench_group(sample_count = 9, sample_size = 1)]
mod restore_tree {
    use super::*;

    /// `restore` after 1,000 modifications and 100 deletions, verification included.
    #[divan::bench]
    fn lockstep(bencher: Bencher) {
        FIXTURE.with(|f| {
            bencher.with_inputs(|| f.mutate()).bench_local_values(|()| {
                let verification = timed("restore", || {
                    restore(f.repo.path(), &f.base, &f.store).expect("restore")
                });
                assert!(verification.is_verified(), "{:?}", verification.mismatches);
                assert_eq!(verification.files_written, MODIFIED + DELETED);
            });
        });
    }

    /// The baseline: `git reset --hard` to the snapshot's commit after the same change.
    #[divan::bench]
    fn git_reset_hard(bencher: Bencher) {
        FIXTURE.with(|f| {
            bencher.with_inputs(|| f.mutate()).bench_local_values(|()| {
                timed("reset", || {
                    run_git(f.repo.path(), &["reset", "--quiet", "--hard", &f.commit])
                })
            });
        });
    }
}

#[divan::bench_group(sample_count = 9, sample_size = 1)]
mod snapshot_tree {
    use super::*;

    /// `snapshot` of the clean tree: clean check, record and ref.
    #[divan::bench]
    fn lockstep(bencher: Bencher) {
        FIXTURE.with(|f| {
            assert_eq!(f.repo.status_porcelain(), "");
            let round = Cell::new(0usize);
            let taken: Cell<Option<SnapshotId>> = Cell::new(None);
            bencher
                .with_inputs(|| {
                    // The previous sample's snapshot goes, untimed.
                    if let Some(id) = taken.take() {
                        lockstep_snapshot::delete(f.repo.path(), &id, &f.store).expect("delete");
                    }
                    round.set(round.get() + 1);
                    SnapshotId::new(format!("bench-{}", round.get())).expect("valid id")
                })
                .bench_local_values(|id| {
                    timed("snapshot", || {
                        snapshot(f.repo.path(), &id, &[] as &[&str], &f.store).expect("snapshot")
                    });
                    taken.set(Some(id));
                });
            if let Some(id) = taken.take() {
                lockstep_snapshot::delete(f.repo.path(), &id, &f.store).expect("delete");
            }
        });
    }

    /// The baseline: `git status --porcelain` plus `git update-ref`.
    #[divan::bench]
    fn git_status_update_ref(bencher: Bencher) {
        FIXTURE.with(|f| {
            let round = Cell::new(0usize);
            bencher
                .with_inputs(|| {
                    round.set(round.get() + 1);
                    format!("refs/lockstep/bench/{}", round.get())
                })
                .bench_local_values(|name| {
                    let porcelain = timed("status_update_ref", || {
                        let porcelain = run_git(f.repo.path(), &["status", "--porcelain"]);
                        run_git(f.repo.path(), &["update-ref", &name, "HEAD"]);
                        porcelain
                    });
                    assert!(porcelain.is_empty());
                });
        });
    }
}

fn main() {
    FIXTURE.with(|_| ());
    ratio::main(&[
        Ratio::new(
            "restore (1,000 modified, 100 deleted), lockstep / git reset --hard",
            "restore",
            "reset",
        )
        .target(Target::AtMost(1.5)),
        Ratio::new(
            "snapshot (clean check, record, ref), lockstep / git status --porcelain + git update-ref",
            "snapshot",
            "status_update_ref",
        )
        .target(Target::AtMost(1.5)),
    ]);
}
