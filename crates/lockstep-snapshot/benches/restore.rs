//! Restore and snapshot against the git command line, measured in the same run.
//!
//! Generates a repository of 20,000 tracked files (200 directories of 100), then:
//! - restore: modify 1,000 files and delete 100, then `restore` (its verification included) —
//!   versus the same change followed by `git reset --hard <snapshot commit>`;
//! - snapshot: `snapshot` of the clean tree (its clean check, record and ref included) —
//!   versus `git status --porcelain` plus `git update-ref`.
//!
//! Rounds alternate between lockstep and git so both see the same machine noise; the first
//! round warms the page cache and is not counted. Prints the medians and the ratios (targets:
//! at most 1.5). Run with `cargo bench -p lockstep-snapshot`.

use std::path::Path;
use std::time::{Duration, Instant};

use lockstep_snapshot::{SnapshotId, restore, snapshot};
use lockstep_testkit::git::{GitRepo, run_git};

const DIRS: usize = 200;
const FILES_PER_DIR: usize = 100;
const MODIFIED: usize = 1_000;
const DELETED: usize = 100;
const ROUNDS: usize = 9;

fn main() {
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

    let mut ours = Vec::new();
    let mut git = Vec::new();
    for round in 0..=ROUNDS {
        mutate(repo.path(), round * 2);
        let t = Instant::now();
        let verification = restore(repo.path(), &base, &store).expect("restore");
        let elapsed = t.elapsed();
        assert!(verification.is_verified(), "{:?}", verification.mismatches);
        assert_eq!(verification.files_written, MODIFIED + DELETED);

        mutate(repo.path(), round * 2 + 1);
        let t = Instant::now();
        run_git(repo.path(), &["reset", "--quiet", "--hard", &commit]);
        let git_elapsed = t.elapsed();
        if round > 0 {
            ours.push(elapsed);
            git.push(git_elapsed);
        }
    }
    assert_eq!(repo.status_porcelain(), "");
    report(
        "restore (1,000 modified, 100 deleted)",
        "git reset --hard",
        &mut ours,
        &mut git,
    );

    let mut ours = Vec::new();
    let mut git = Vec::new();
    for round in 0..=ROUNDS {
        let id = SnapshotId::new(format!("bench-{round}")).expect("valid id");
        let t = Instant::now();
        snapshot(repo.path(), &id, &[] as &[&str], &store).expect("snapshot");
        let elapsed = t.elapsed();
        lockstep_snapshot::delete(repo.path(), &id, &store).expect("delete");

        let t = Instant::now();
        let porcelain = run_git(repo.path(), &["status", "--porcelain"]);
        run_git(
            repo.path(),
            &[
                "update-ref",
                &format!("refs/lockstep/bench/{round}"),
                "HEAD",
            ],
        );
        let git_elapsed = t.elapsed();
        assert!(porcelain.is_empty());
        if round > 0 {
            ours.push(elapsed);
            git.push(git_elapsed);
        }
    }
    report(
        "snapshot (clean check, record, ref)",
        "git status --porcelain + git update-ref",
        &mut ours,
        &mut git,
    );
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

/// Modifies `MODIFIED` files and deletes `DELETED` others, spread over the tree.
fn mutate(root: &Path, salt: usize) {
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

fn median(samples: &mut [Duration]) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

fn report(what: &str, baseline: &str, ours: &mut [Duration], git: &mut [Duration]) {
    let (ours, git) = (median(ours), median(git));
    let ratio = ours.as_secs_f64() / git.as_secs_f64();
    println!(
        "{what}: lockstep {:.1} ms, {baseline} {:.1} ms, ratio {ratio:.2}x (target <= 1.5x)",
        ours.as_secs_f64() * 1e3,
        git.as_secs_f64() * 1e3
    );
}
