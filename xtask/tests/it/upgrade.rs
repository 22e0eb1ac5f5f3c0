//! Issue 3's promise, proved at the command line: whatever happens (a failing smoke test, a
//! hanging one, a crash at any step, a `kill -9` at any instant, a second upgrade at the same
//! time) the vertical ends on the old version or the new one, never in between, and the audit
//! log says what happened.
//!
//! Every test runs the real `lockstep` binary against the fixture `fixtures/upgrade/setup.sh`
//! builds (a core crate with tags v1.0.0, v1.1.0, v1.2.0; a pin-mode vertical; a checkout-mode
//! clone), offline, with an isolated `CARGO_HOME`. Tests that need many fresh copies build the
//! fixture once and `cp -a` it: the copies' `Cargo.toml` still point at the template's core,
//! which is only read.
//!
//! The randomised kill test runs `LOCKSTEP_KILL_RUNS` times (default 5); run it 50 times with
//! `LOCKSTEP_KILL_RUNS=50 cargo test -p xtask --test it upgrade::random_kill -- --nocapture`
//! (`LOCKSTEP_KILL_SEED` picks another seed; the tally is printed).

use std::collections::BTreeMap;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use lockstep_testkit::git::{run_git, try_git};
use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_lockstep");
const SIGKILL: i32 = 9;

// ---------------------------------------------------------------------------------------------
// The fixture and running lockstep

/// One built fixture: `f/{core,registry,vertical,checkout}` and `cargo-home/` in a temp dir.
struct Fixture {
    tmp: tempfile::TempDir,
}

impl Fixture {
    /// Builds the fixture with `fixtures/upgrade/setup.sh`.
    fn new() -> Self {
        let tmp = tempfile::tempdir().unwrap();
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/upgrade/setup.sh");
        let mut cmd = Command::new("bash");
        cmd.arg(&script).arg(tmp.path().join("f"));
        set_env(&mut cmd, &tmp.path().join("cargo-home"));
        let out = cmd.output().unwrap();
        assert!(
            out.status.success(),
            "setup.sh failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        Fixture { tmp }
    }

    /// A copy of this fixture (`cp -a`), cheaper than building one.
    fn copy(&self) -> Self {
        let tmp = tempfile::tempdir().unwrap();
        let status = Command::new("cp")
            .arg("-a")
            .arg(format!("{}/.", self.root().display()))
            .arg(tmp.path())
            .status()
            .unwrap();
        assert!(status.success(), "cp -a failed");
        Fixture { tmp }
    }

    fn root(&self) -> &Path {
        self.tmp.path()
    }

    fn vertical(&self) -> PathBuf {
        self.root().join("f/vertical")
    }

    fn checkout(&self) -> PathBuf {
        self.root().join("f/checkout")
    }

    fn registry(&self) -> PathBuf {
        self.root().join("f/registry/releases.json")
    }

    /// `lockstep ARGS --manifest REPO/vertical_manifest.yaml` in `repo`, with the test env.
    fn lockstep(&self, repo: &Path, args: &[&str]) -> Command {
        let mut cmd = Command::new(BIN);
        cmd.args(args)
            .arg("--manifest")
            .arg(repo.join("vertical_manifest.yaml"))
            .current_dir(repo)
            .stdin(Stdio::null());
        set_env(&mut cmd, &self.root().join("cargo-home"));
        cmd
    }

    fn run(&self, repo: &Path, args: &[&str]) -> Run {
        self.run_env(repo, args, &[])
    }

    fn run_env(&self, repo: &Path, args: &[&str], env: &[(&str, &str)]) -> Run {
        let mut cmd = self.lockstep(repo, args);
        for (k, v) in env {
            cmd.env(k, v);
        }
        let out = cmd.output().unwrap();
        Run {
            args: args.join(" "),
            status: out.status,
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    /// Runs `args` and asserts its exit code.
    fn ok(&self, repo: &Path, args: &[&str], code: i32) -> Run {
        let run = self.run(repo, args);
        assert_eq!(run.status.code(), Some(code), "{run}");
        run
    }

    /// The audit records, through `history --json`.
    fn records(&self, repo: &Path) -> Vec<Value> {
        let json = self.ok(repo, &["history", "--json"], 0).json();
        assert_eq!(json["schema"], "lockstep.history/v1");
        json["records"].as_array().unwrap().clone()
    }

    /// Asserts that `audit verify` passes.
    fn verified(&self, repo: &Path) {
        let run = self.ok(repo, &["audit", "verify", "--json"], 0);
        assert_eq!(run.json()["ok"], true, "{run}");
    }
}

/// The environment every process of a test gets: isolated cargo and git config, no colour, a
/// fixed actor, nothing inherited that would steer lockstep.
fn set_env(cmd: &mut Command, cargo_home: &Path) {
    cmd.env("CARGO_HOME", cargo_home)
        .env_remove("CARGO_TARGET_DIR")
        .env_remove("CARGO_TARGET_DIR_SMOKE")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("NO_COLOR", "1")
        .env("LOCKSTEP_ACTOR", "test")
        .env_remove("LOCKSTEP_FAILPOINT")
        .env_remove("LOCKSTEP_MIN_FREE_BYTES")
        .env_remove("LOCKSTEP_REGISTRY")
        .env_remove("RUST_LOG");
}

/// One finished lockstep run.
struct Run {
    args: String,
    status: ExitStatus,
    stdout: String,
    stderr: String,
}

impl Run {
    fn json(&self) -> Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not one JSON object ({e}):\n{self}"))
    }

    fn killed(&self) -> bool {
        self.status.signal() == Some(SIGKILL)
    }
}

impl std::fmt::Display for Run {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "lockstep {}\nstatus: {:?}\n--- stdout\n{}--- stderr\n{}",
            self.args, self.status, self.stdout, self.stderr
        )
    }
}

/// Kills and reaps a child left running when a test fails midway.
struct Reap(Option<Child>);

impl Drop for Reap {
    fn drop(&mut self) {
        if let Some(mut c) = self.0.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Observing a repository

/// What a repository holds: HEAD, its branch and every tracked file's bytes in the work tree.
#[derive(Clone, PartialEq, Eq)]
struct Tree {
    head: String,
    branch: Option<String>,
    files: BTreeMap<String, Vec<u8>>,
}

impl std::fmt::Debug for Tree {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "HEAD {} on {:?}, files:", self.head, self.branch)?;
        for (p, b) in &self.files {
            write!(f, "\n  {p} ({} bytes)", b.len())?;
        }
        Ok(())
    }
}

fn tree(repo: &Path) -> Tree {
    let branch = try_git(repo, &["symbolic-ref", "-q", "HEAD"]);
    let files = run_git(repo, &["ls-files"])
        .lines()
        .map(|p| (p.to_owned(), std::fs::read(repo.join(p)).unwrap()))
        .collect();
    Tree {
        head: run_git(repo, &["rev-parse", "HEAD"]),
        branch: branch
            .status
            .success()
            .then(|| String::from_utf8_lossy(&branch.stdout).trim().to_owned()),
        files,
    }
}

/// Asserts two trees are equal, naming the first file whose bytes differ.
fn assert_same(expected: &Tree, actual: &Tree, context: &str) {
    assert_eq!(expected.head, actual.head, "HEAD moved: {context}");
    assert_eq!(expected.branch, actual.branch, "branch: {context}");
    assert_eq!(
        expected.files.keys().collect::<Vec<_>>(),
        actual.files.keys().collect::<Vec<_>>(),
        "tracked files: {context}"
    );
    for (path, bytes) in &expected.files {
        assert!(
            actual.files[path] == *bytes,
            "{path} is not byte-identical: {context}\n--- expected\n{}\n--- actual\n{}",
            String::from_utf8_lossy(bytes),
            String::from_utf8_lossy(&actual.files[path])
        );
    }
}

/// Asserts `git status --porcelain` prints nothing (untracked files included: lockstep's
/// state must be excluded through `.git/info/exclude`, not left lying around).
fn assert_clean(repo: &Path, context: &str) {
    let status = run_git(repo, &["status", "--porcelain"]);
    assert_eq!(status, "", "work tree not clean: {context}");
    let exclude = std::fs::read_to_string(repo.join(".git/info/exclude")).unwrap_or_default();
    assert!(
        exclude.lines().any(|l| l == "/.lockstep/"),
        ".lockstep/ is not in .git/info/exclude: {context}"
    );
    let locks = git_lock_files(&repo.join(".git"));
    assert!(
        locks.is_empty(),
        "stale git lock files: {locks:?}: {context}"
    );
}

/// `*.lock` files under `.git` (outside the object store): a crashed writer's leftovers
/// that would block the user's next `git commit`.
fn git_lock_files(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if entry.file_type().unwrap().is_dir() {
            if entry.file_name() != "objects" {
                found.extend(git_lock_files(&path));
            }
        } else if path.extension().is_some_and(|e| e == "lock") {
            found.push(path);
        }
    }
    found
}

/// The platform-core version `Cargo.lock` resolves.
fn locked_core(repo: &Path) -> String {
    let lock = std::fs::read_to_string(repo.join("Cargo.lock")).unwrap();
    let mut lines = lock.lines();
    while let Some(line) = lines.next() {
        if line == "name = \"platform-core\"" {
            let version = lines.next().unwrap();
            return version
                .strip_prefix("version = ")
                .unwrap()
                .trim_matches('"')
                .to_owned();
        }
    }
    panic!("Cargo.lock has no platform-core:\n{lock}")
}

fn journal_path(repo: &Path) -> PathBuf {
    repo.join(".lockstep/journal.json")
}

/// The journal left behind, if any.
fn journal(repo: &Path) -> Option<Value> {
    let text = std::fs::read_to_string(journal_path(repo)).ok()?;
    Some(serde_json::from_str(&text).unwrap())
}

/// Whether `pid` is a live process (a zombie nobody reaped counts as gone: it runs nothing and
/// holds no file open).
fn alive(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|s| {
            let state = s.rsplit_once(") ")?.1.chars().next()?;
            Some(!matches!(state, 'Z' | 'X'))
        })
        .unwrap_or(false)
}

/// Live processes in process group `pgid`.
fn group_members(pgid: u64) -> Vec<u32> {
    let mut members = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Some(pid) = entry.file_name().to_str().and_then(|n| n.parse().ok()) else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
            continue;
        };
        // After "pid (comm) ": state ppid pgrp ...
        let Some((_, rest)) = stat.rsplit_once(") ") else {
            continue;
        };
        let fields: Vec<&str> = rest.split_whitespace().collect();
        if fields.get(2).and_then(|g| g.parse::<u64>().ok()) == Some(pgid) && alive(pid) {
            members.push(pid);
        }
    }
    members
}

fn actions(records: &[Value]) -> Vec<(String, String)> {
    records
        .iter()
        .map(|r| {
            (
                r["action"].as_str().unwrap().to_owned(),
                r["outcome"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(a, o)| ((*a).to_owned(), (*o).to_owned()))
        .collect()
}

/// Polls until `path` exists, for at most `limit`.
fn wait_for_file(path: &Path, limit: Duration) {
    let deadline = Instant::now() + limit;
    while !path.exists() {
        assert!(
            Instant::now() < deadline,
            "{} did not appear within {limit:?}",
            path.display()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Replaces the vertical's smoke test with `script` and commits it.
fn commit_smoke_test(repo: &Path, script: &str) {
    std::fs::write(repo.join("smoke_tests/run.sh"), script).unwrap();
    run_git(
        repo,
        &["commit", "-q", "-a", "-m", "test: replace the smoke test"],
    );
}

// ---------------------------------------------------------------------------------------------
// Old or new, never in between

/// Where a pin-mode upgrade 1.0.0 → 1.1.0 may end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum End {
    Old,
    New,
}

/// The two states a pin-mode upgrade 1.0.0 → 1.1.0 may end in.
struct Ends {
    old: Tree,
    /// The tree id of the commit a clean upgrade makes (trees are content addressed, so a
    /// crashed-then-recovered upgrade that committed has the very same one).
    new_tree: String,
}

impl Ends {
    /// Measures both ends on a copy of `template`, returning them and how long the clean upgrade
    /// took.
    fn measure(template: &Fixture) -> (Ends, Duration) {
        let f = template.copy();
        let v = f.vertical();
        let old = tree(&v);
        let started = Instant::now();
        f.ok(&v, &["upgrade", "--target", "1.1.0", "--yes"], 0);
        let took = started.elapsed();
        let new_tree = run_git(&v, &["rev-parse", "HEAD^{tree}"]);
        (Ends { old, new_tree }, took)
    }

    /// Which end `repo` is at; an error describing the mix when it is at neither.
    fn classify(&self, repo: &Path) -> Result<End, String> {
        let now = tree(repo);
        if now == self.old {
            return Ok(End::Old);
        }
        let parent = try_git(repo, &["rev-parse", "HEAD^"]);
        let parent = String::from_utf8_lossy(&parent.stdout).trim().to_owned();
        let head_tree = run_git(repo, &["rev-parse", "HEAD^{tree}"]);
        let message = run_git(repo, &["log", "-1", "--format=%B"]);
        let worktree_matches_head = run_git(repo, &["status", "--porcelain"]).is_empty();
        if parent == self.old.head
            && head_tree == self.new_tree
            && now.branch == self.old.branch
            && worktree_matches_head
            && message.contains("1.0.0")
            && message.contains("1.1.0")
            && locked_core(repo) == "1.1.0"
        {
            return Ok(End::New);
        }
        Err(format!(
            "neither old nor new:\nold {:?}\nnow {now:?}\nHEAD^ {parent}, HEAD^{{tree}} {head_tree} (new {})\nmessage {message:?}\nstatus:\n{}\nCargo.lock resolves {}",
            self.old,
            self.new_tree,
            run_git(repo, &["status", "--porcelain"]),
            locked_core(repo)
        ))
    }

    /// Asserts the invariants after a crash and `recover`: old or new (returned), clean, no
    /// journal, a verifying chain whose records agree with the end.
    fn check(&self, f: &Fixture, context: &str) -> End {
        let v = f.vertical();
        let end = self
            .classify(&v)
            .unwrap_or_else(|e| panic!("{context}: {e}"));
        assert_clean(&v, context);
        assert!(
            !journal_path(&v).exists(),
            "{context}: the journal is still there"
        );
        f.verified(&v);
        let records = f.records(&v);
        let committed = records
            .iter()
            .filter(|r| r["action"] == "upgrade_committed")
            .count();
        let expected = usize::from(end == End::New);
        assert_eq!(
            committed,
            expected,
            "{context}: ended {end:?} but the log has {committed} upgrade_committed record(s): {:?}",
            actions(&records)
        );
        end
    }
}

// ---------------------------------------------------------------------------------------------
// 1, 2: end to end

#[test]
fn pin_mode_commits_1_1_rolls_back_1_2_and_rolls_back_by_hand_to_1_0() {
    let f = Fixture::new();
    let v = f.vertical();
    let original = tree(&v);

    // 1.0.0 → 1.1.0 commits.
    let run = f.ok(&v, &["upgrade", "--target", "1.1.0", "--yes", "--json"], 0);
    let report = run.json();
    assert_eq!(report["schema"], "lockstep.upgrade/v1");
    assert_eq!(report["outcome"], "committed", "{run}");
    assert_eq!(
        (&report["from"], &report["to"]),
        (&"1.0.0".into(), &"1.1.0".into())
    );
    assert_eq!(report["smoke"]["outcome"], "passed", "{run}");
    let head = run_git(&v, &["rev-parse", "HEAD"]);
    assert_eq!(report["commit"], head.as_str());
    assert_eq!(
        run_git(
            &v,
            &["rev-list", "--count", &format!("{}..HEAD", original.head)]
        ),
        "1",
        "exactly one new commit"
    );
    assert_eq!(run_git(&v, &["rev-parse", "HEAD^"]), original.head);
    let message = run_git(&v, &["log", "-1", "--format=%B"]);
    assert!(
        message.starts_with("chore(deps): upgrade platform-core from 1.0.0 to 1.1.0"),
        "{message}"
    );
    assert_eq!(
        run_git(&v, &["show", "--format=", "--name-only", "HEAD"]),
        "Cargo.lock\nCargo.toml"
    );
    let toml = String::from_utf8(original.files["Cargo.toml"].clone()).unwrap();
    assert_eq!(
        std::fs::read_to_string(v.join("Cargo.toml")).unwrap(),
        toml.replace("tag = \"v1.0.0\"", "tag = \"v1.1.0\""),
        "only the tag changes; comments and layout stay"
    );
    assert_eq!(locked_core(&v), "1.1.0");
    let core_1_1 = run_git(&f.root().join("f/core"), &["rev-parse", "v1.1.0^{commit}"]);
    let lock = std::fs::read_to_string(v.join("Cargo.lock")).unwrap();
    assert!(
        lock.contains(&format!("?tag=v1.1.0#{core_1_1}\"")),
        "{lock}"
    );
    assert_clean(&v, "after 1.1.0");
    assert!(!journal_path(&v).exists());
    let at_1_1 = tree(&v);

    // 1.1.0 → 1.2.0 fails its smoke tests and rolls back, byte for byte.
    let run = f.ok(&v, &["upgrade", "--target", "1.2.0", "--yes"], 1);
    assert!(
        run.stdout.contains("rolled back: restored snapshot"),
        "{run}"
    );
    assert!(
        run.stdout.contains("got 'Hi world :)'"),
        "the smoke test's output is shown: {run}"
    );
    assert_same(&at_1_1, &tree(&v), "after the failed 1.2.0 upgrade");
    assert_clean(&v, "after the failed 1.2.0 upgrade");
    assert!(!journal_path(&v).exists());
    let records = f.records(&v);
    assert_eq!(
        actions(&records),
        pairs(&[
            ("upgrade_started", "started"),
            ("upgrade_committed", "committed"),
            ("upgrade_started", "started"),
            ("rolled_back", "rolled_back"),
        ])
    );
    let rolled = &records[3];
    assert_eq!(
        (&rolled["from"], &rolled["to"]),
        (&"1.1.0".into(), &"1.2.0".into())
    );
    assert_eq!(rolled["details"]["failed_step"], "smoke_tests");
    assert_eq!(rolled["snapshot"], records[2]["snapshot"]);
    assert_eq!(records[1]["details"]["commit"], head.as_str());
    f.verified(&v);

    // `rollback` returns to the snapshot before the last *committed* upgrade: 1.0.0.
    let run = f.ok(&v, &["rollback", "--yes"], 0);
    assert!(run.stdout.contains("core 1.1.0 → 1.0.0"), "{run}");
    assert_same(&original, &tree(&v), "after rollback");
    assert_clean(&v, "after rollback");
    let records = f.records(&v);
    let last = records.last().unwrap();
    assert_eq!(
        (&last["action"], &last["outcome"]),
        (&"rollback".into(), &"restored".into())
    );
    assert_eq!(
        (&last["from"], &last["to"]),
        (&"1.1.0".into(), &"1.0.0".into())
    );
    assert_eq!(last["snapshot"], records[0]["snapshot"]);
    f.verified(&v);
}

#[test]
fn checkout_mode_moves_the_branch_and_rolls_back_byte_identical() {
    let f = Fixture::new();
    let c = f.checkout();
    let original = tree(&c);
    let tag = |t: &str| run_git(&c, &["rev-parse", &format!("{t}^{{commit}}")]);
    assert_eq!(original.head, tag("v1.0.0"));

    let run = f.ok(&c, &["upgrade", "--target", "1.1.0", "--yes", "--json"], 0);
    assert_eq!(run.json()["outcome"], "committed", "{run}");
    let at_1_1 = tree(&c);
    assert_eq!(
        at_1_1.head,
        tag("v1.1.0"),
        "the branch moved to the release"
    );
    assert_eq!(
        at_1_1.branch.as_deref(),
        Some("refs/heads/main"),
        "HEAD stays on main"
    );
    assert_eq!(
        run_git(&c, &["diff", "--stat", "v1.1.0"]),
        "",
        "the work tree is v1.1.0's"
    );
    assert_clean(&c, "after 1.1.0");

    let run = f.ok(&c, &["upgrade", "--target", "1.2.0", "--yes"], 1);
    assert!(run.stdout.contains("rolled back"), "{run}");
    assert_same(&at_1_1, &tree(&c), "after the failed 1.2.0 checkout");
    assert_clean(&c, "after the failed 1.2.0 checkout");
    assert_eq!(
        actions(&f.records(&c)),
        pairs(&[
            ("upgrade_started", "started"),
            ("upgrade_committed", "committed"),
            ("upgrade_started", "started"),
            ("rolled_back", "rolled_back"),
        ])
    );
    f.verified(&c);

    f.ok(&c, &["rollback", "--yes"], 0);
    assert_same(&original, &tree(&c), "after rollback");
    assert_clean(&c, "after rollback");
    f.verified(&c);
}

// ---------------------------------------------------------------------------------------------
// 3: failpoints

/// Each failpoint of the 1.0.0 → 1.1.0 upgrade: the step its journal records, what recovery
/// does, and where the vertical ends.
const UPGRADE_FAILPOINTS: &[(&str, &str, &str, End)] = &[
    ("after_journal", "started", "nothing_applied", End::Old),
    ("after_snapshot", "started", "nothing_applied", End::Old),
    ("before_apply", "snapshotted", "rolled_back", End::Old),
    ("after_pin", "snapshotted", "rolled_back", End::Old),
    ("during_lockfile", "snapshotted", "rolled_back", End::Old),
    ("after_apply", "applied", "rolled_back", End::Old),
    ("during_smoke", "testing", "rolled_back", End::Old),
    ("before_commit", "passed", "rolled_back", End::Old),
    ("after_commit", "committed", "committed", End::New),
    ("after_audit", "committed", "committed", End::New),
];

/// Runs `args` with `LOCKSTEP_FAILPOINT=failpoint` and asserts the process died by SIGKILL.
fn crash(f: &Fixture, repo: &Path, args: &[&str], failpoint: &str) -> Run {
    let run = f.run_env(repo, args, &[("LOCKSTEP_FAILPOINT", failpoint)]);
    assert!(
        run.killed(),
        "{failpoint}: expected death by SIGKILL\n{run}"
    );
    run
}

/// Runs `recover --json`, checks the action it reports and that any orphaned process group is
/// gone, and returns the report.
fn recover(f: &Fixture, repo: &Path, action: &str, context: &str) -> Value {
    let run = f.ok(repo, &["recover", "--json"], 0);
    let json = run.json();
    assert_eq!(json["schema"], "lockstep.recover/v1");
    assert_eq!(json["recovered"]["action"], action, "{context}: {run}");
    if let Some(pgid) = json["recovered"]["killed_group"].as_u64() {
        assert_eq!(
            group_members(pgid),
            Vec::<u32>::new(),
            "{context}: process group {pgid} outlived recovery"
        );
    }
    json
}

#[test]
fn every_failpoint_ends_old_or_new_and_recovers() {
    let mut covered: Vec<&str> = UPGRADE_FAILPOINTS.iter().map(|c| c.0).collect();
    covered.extend(["during_rollback", "rollback_before_restore"]);
    covered.sort_unstable();
    let mut all = lockstep_upgrade::FAILPOINTS.to_vec();
    all.sort_unstable();
    assert_eq!(covered, all, "every failpoint has a case here");

    let template = Fixture::new();
    let (ends, _) = Ends::measure(&template);
    let upgrade = ["upgrade", "--target", "1.1.0", "--yes"];

    for &(failpoint, step, action, end) in UPGRADE_FAILPOINTS {
        let f = template.copy();
        let v = f.vertical();
        crash(&f, &v, &upgrade, failpoint);
        let j = journal(&v).unwrap_or_else(|| panic!("{failpoint}: no journal"));
        assert_eq!(j["step"], step, "{failpoint}: journal {j}");
        let tool_running = matches!(failpoint, "during_lockfile" | "during_smoke");
        assert_eq!(j["pgid"].is_u64(), tool_running, "{failpoint}: journal {j}");

        let json = recover(&f, &v, action, failpoint);
        assert_eq!(
            json["recovered"]["killed_group"].is_u64(),
            tool_running,
            "{failpoint}: {json}"
        );
        assert_eq!(ends.check(&f, failpoint), end, "{failpoint}");
        let records = f.records(&v);
        let last = records.last().unwrap();
        assert_eq!(
            (&last["action"], &last["outcome"]),
            (&"recovered".into(), &action.into()),
            "{failpoint}: {:?}",
            actions(&records)
        );
        assert_eq!(last["details"]["transaction"], "upgrade");
        assert_eq!(
            (&last["from"], &last["to"]),
            (&"1.0.0".into(), &"1.1.0".into())
        );
        assert_eq!(last["snapshot"], j["snapshot"]);

        // A second `recover` finds nothing to do.
        let again = f.ok(&v, &["recover"], 0);
        assert!(again.stdout.contains("nothing to recover"), "{again}");
    }

    // The next `upgrade` recovers first, then does its own work.
    let f = template.copy();
    let v = f.vertical();
    crash(&f, &v, &upgrade, "during_smoke");
    let plan = f.ok(&v, &["plan", "--target", "1.1.0", "--json"], 0).json();
    assert_eq!(plan["pending_recovery"], true, "plan says a journal waits");
    let run = f.ok(&v, &upgrade, 0);
    assert!(
        run.stderr.contains("recovered: an interrupted"),
        "upgrade recovers first: {run}"
    );
    assert_eq!(ends.check(&f, "upgrade after during_smoke"), End::New);
    assert_eq!(
        actions(&f.records(&v)),
        pairs(&[
            ("upgrade_started", "started"),
            ("recovered", "rolled_back"),
            ("upgrade_started", "started"),
            ("upgrade_committed", "committed"),
        ])
    );

    // Checkout mode: the failpoints it reaches (it has no pin or lockfile step).
    for &(failpoint, step, action, end) in UPGRADE_FAILPOINTS {
        if matches!(failpoint, "after_pin" | "during_lockfile") {
            continue;
        }
        let context = format!("checkout mode, {failpoint}");
        let f = template.copy();
        let c = f.checkout();
        let old = tree(&c);
        crash(&f, &c, &upgrade, failpoint);
        assert_eq!(journal(&c).unwrap()["step"], step, "{context}");
        recover(&f, &c, action, &context);
        let now = tree(&c);
        match end {
            End::Old => assert_same(&old, &now, &context),
            End::New => {
                let release = run_git(&c, &["rev-parse", "v1.1.0^{commit}"]);
                assert_eq!(now.head, release, "{context}");
                assert_eq!(now.branch, old.branch, "{context}");
            }
        }
        assert_clean(&c, &context);
        assert!(!journal_path(&c).exists(), "{context}");
        f.verified(&c);
    }

    // A crash while rolling back a failed 1.1.0 → 1.2.0 upgrade ends at 1.1.0.
    let f = template.copy();
    let v = f.vertical();
    f.ok(&v, &upgrade, 0);
    let at_1_1 = tree(&v);
    crash(
        &f,
        &v,
        &["upgrade", "--target", "1.2.0", "--yes"],
        "during_rollback",
    );
    assert_eq!(journal(&v).unwrap()["step"], "rolling_back");
    recover(&f, &v, "rolled_back", "during_rollback");
    assert_same(&at_1_1, &tree(&v), "during_rollback");
    assert_clean(&v, "during_rollback");
    assert!(!journal_path(&v).exists());
    f.verified(&v);
    let records = f.records(&v);
    let last = records.last().unwrap();
    assert_eq!(
        (&last["from"], &last["to"]),
        (&"1.1.0".into(), &"1.2.0".into())
    );

    // A crash in `rollback` before it restores: recovery finishes the rollback to 1.0.0.
    crash(&f, &v, &["rollback", "--yes"], "rollback_before_restore");
    let j = journal(&v).unwrap();
    assert_eq!(
        (&j["kind"], &j["step"]),
        (&"rollback".into(), &"started".into())
    );
    assert_same(&at_1_1, &tree(&v), "nothing restored yet");
    recover(&f, &v, "rollback_finished", "rollback_before_restore");
    assert_same(&ends.old, &tree(&v), "rollback_before_restore");
    assert_clean(&v, "rollback_before_restore");
    assert!(!journal_path(&v).exists());
    f.verified(&v);
    let records = f.records(&v);
    let last = records.last().unwrap();
    assert_eq!(
        (&last["action"], &last["outcome"]),
        (&"recovered".into(), &"rollback_finished".into())
    );
    assert_eq!(last["details"]["transaction"], "rollback");
}

/// The `recovered` record is the audit log's account of a crash: it must name the step the
/// transaction was interrupted at (the journal's step), not the step recovery moved it to.
#[test]
fn recovered_record_names_the_step_that_was_interrupted() {
    let f = Fixture::new();
    let v = f.vertical();
    crash(
        &f,
        &v,
        &["upgrade", "--target", "1.1.0", "--yes"],
        "during_smoke",
    );
    assert_eq!(journal(&v).unwrap()["step"], "testing");
    let run = f.ok(&v, &["recover"], 0);
    let records = f.records(&v);
    let last = records.last().unwrap();
    assert_eq!(last["action"], "recovered");
    assert_eq!(
        last["details"]["interrupted_step"], "testing",
        "the smoke tests were running when lockstep died: {last}"
    );
    assert!(
        run.stderr.contains("stopped at `testing`"),
        "the message names where it stopped: {run}"
    );
}

/// A `kill -9` while the pin file is being written atomically leaves the temp file beside it
/// (`lockstep_state::fsx::temp_name` names it `.<file>.<pid>.tmp`); `random_kill` hits this
/// now and then. This reproduces that instant deterministically: a crash with the journal at
/// `snapshotted`, plus the temp file the dead process was writing. Recovery must leave the work
/// tree clean, since lockstep never dirties the tree it guards.
#[test]
fn a_crash_while_writing_the_pin_leaves_no_temp_file_behind() {
    let f = Fixture::new();
    let v = f.vertical();
    let before = tree(&v);
    crash(
        &f,
        &v,
        &["upgrade", "--target", "1.1.0", "--yes"],
        "before_apply",
    );
    let j = journal(&v).unwrap();
    assert_eq!(j["step"], "snapshotted");
    let pid = j["pid"].as_u64().unwrap();
    let toml = String::from_utf8(before.files["Cargo.toml"].clone()).unwrap();
    std::fs::write(
        v.join(format!(".Cargo.toml.{pid}.tmp")),
        toml.replace("v1.0.0", "v1.1.0"),
    )
    .unwrap();
    recover(&f, &v, "rolled_back", "a torn pin write");
    assert_same(&before, &tree(&v), "a torn pin write");
    assert_clean(&v, "a torn pin write");
}

// ---------------------------------------------------------------------------------------------
// 4: randomised kill -9

/// xorshift64*: a tiny seeded generator, enough to spread kill times.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// Uniform-enough in `0..=max`.
    fn below(&mut self, max: u64) -> u64 {
        self.next() % (max + 1)
    }
}

fn env_number(name: &str, default: u64) -> u64 {
    match std::env::var(name) {
        Ok(v) => v
            .parse()
            .unwrap_or_else(|_| panic!("{name}={v} is not a number")),
        Err(_) => default,
    }
}

/// `kill -9` an upgrade at a random instant, then `recover`: old or new, never in between.
/// The delay is drawn from 0 to 1.2 × a clean upgrade's duration measured in this run (at most
/// 1.5 s), so the kills land inside the transaction on fast and slow machines alike.
#[test]
fn random_kill() {
    let runs = env_number("LOCKSTEP_KILL_RUNS", 5);
    let seed = env_number("LOCKSTEP_KILL_SEED", 0x5eed_1e55_c0ff_ee01);
    let mut rng = Rng(seed | 1);
    let template = Fixture::new();
    let (ends, took) = Ends::measure(&template);
    let max_ms = (took.as_millis() * 6 / 5).clamp(100, 1500) as u64;
    let mut tally = BTreeMap::<String, u32>::new();
    let mut violations = Vec::new();

    for i in 0..runs {
        let delay = rng.below(max_ms);
        let context = format!("run {i} (seed {seed:#x}, kill after {delay} ms)");
        let f = template.copy();
        let v = f.vertical();
        let child = f
            .lockstep(&v, &["upgrade", "--target", "1.1.0", "--yes"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut child = Reap(Some(child));
        std::thread::sleep(Duration::from_millis(delay));
        let c = child.0.as_mut().unwrap();
        c.kill().unwrap();
        let status = c.wait().unwrap();
        child.0 = None;
        let finished = status.signal() != Some(SIGKILL);
        if finished {
            assert_eq!(status.code(), Some(0), "{context}: {status:?}");
        }
        let left = journal(&v);
        let when = match (&left, finished) {
            (_, true) => "finished before the kill".to_owned(),
            (None, false) => "killed before the journal or after its removal".to_owned(),
            (Some(j), false) => format!("killed at journal step {}", j["step"]),
        };
        // Every run is checked, and the violations are reported together at the end, so the
        // tally shows how often each kind of instant breaks the promise.
        let checked = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            let pgid = left.as_ref().and_then(|j| j["pgid"].as_u64());
            let run = f.ok(&v, &["recover", "--json"], 0);
            if let Some(pgid) = pgid {
                assert_eq!(
                    group_members(pgid),
                    Vec::<u32>::new(),
                    "{context}: process group {pgid} outlived recovery"
                );
            }
            let end = ends.check(&f, &context);
            if finished {
                assert_eq!(end, End::New, "{context}: it finished, so it committed");
                assert!(run.json()["recovered"].is_null(), "{context}: {run}");
            }
            end
        }));
        let key = match checked {
            Ok(end) => format!("{end:?}, {when}"),
            Err(panic) => {
                let message = panic
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| panic.downcast_ref::<&str>().map(|s| (*s).to_owned()))
                    .unwrap_or_default();
                violations.push(format!("{context}, {when}: {message}"));
                format!("VIOLATION, {when}")
            }
        };
        *tally.entry(key).or_default() += 1;
    }
    eprintln!(
        "random_kill: {runs} runs, seed {seed:#x}, delays 0..={max_ms} ms (a clean upgrade took {took:?}):"
    );
    for (k, n) in &tally {
        eprintln!("  {n:3}  {k}");
    }
    assert!(
        violations.is_empty(),
        "{} of {runs} kills broke the promise:\n{}",
        violations.len(),
        violations.join("\n")
    );
}

// ---------------------------------------------------------------------------------------------
// 5: a hanging smoke test

const HANGING_SMOKE: &str = r#"#!/bin/sh
# A smoke test that hangs: its grandchild ignores SIGTERM, sleeps and keeps stdout open; it
# ignores SIGTERM itself too.
sh -c 'trap "" TERM; echo $$ > "$HANG_DIR/grandchild.pid"; exec sleep 1000' &
trap "" TERM
echo $$ > "$HANG_DIR/parent.pid"
echo "hanging"
sleep 1000
"#;

#[test]
fn hanging_smoke_test_is_killed_after_timeout_and_grace() {
    let f = Fixture::new();
    let v = f.vertical();
    commit_smoke_test(&v, HANGING_SMOKE);
    let before = tree(&v);
    let hang = f.root().join("hang");
    std::fs::create_dir(&hang).unwrap();

    let started = Instant::now();
    let run = f.run_env(
        &v,
        &[
            "upgrade",
            "--target",
            "1.1.0",
            "--yes",
            "--smoke-timeout",
            "2",
            "--grace",
            "1",
            "--json",
        ],
        &[("HANG_DIR", hang.to_str().unwrap())],
    );
    let took = started.elapsed();
    assert_eq!(run.status.code(), Some(1), "{run}");
    assert!(
        took >= Duration::from_secs(2),
        "returned before the timeout: {took:?}"
    );
    assert!(
        took < Duration::from_secs(20),
        "timeout 2 s + grace 1 s took {took:?}"
    );
    let report = run.json();
    assert_eq!(report["outcome"], "rolled_back", "{run}");
    assert_eq!(report["smoke"]["outcome"], "timed_out", "{run}");
    assert_eq!(report["failure"]["step"], "smoke_tests");
    assert_eq!(report["restore"]["verified"], true);
    for who in ["parent", "grandchild"] {
        let pid: u32 = std::fs::read_to_string(hang.join(format!("{who}.pid")))
            .unwrap()
            .trim()
            .parse()
            .unwrap();
        assert!(
            !alive(pid),
            "the smoke test's {who} (pid {pid}) is still running"
        );
    }
    assert_same(&before, &tree(&v), "after the hanging smoke test");
    assert_clean(&v, "after the hanging smoke test");
    f.verified(&v);
}

// ---------------------------------------------------------------------------------------------
// 6: two upgrades at once

const GATED_SMOKE: &str = r#"#!/bin/sh
# Holds the upgrade, and so its lock, until the test opens the gate.
touch "$GATE_DIR/started"
while [ ! -e "$GATE_DIR/open" ]; do sleep 0.05; done
echo "gate opened"
"#;

#[test]
fn second_upgrade_is_refused_while_the_first_holds_the_lock() {
    let f = Fixture::new();
    let v = f.vertical();
    commit_smoke_test(&v, GATED_SMOKE);
    let before = tree(&v);
    let gate = f.root().join("gate");
    std::fs::create_dir(&gate).unwrap();
    let upgrade = [
        "upgrade",
        "--target",
        "1.1.0",
        "--yes",
        "--smoke-timeout",
        "120",
    ];

    let first = f
        .lockstep(&v, &upgrade)
        .env("GATE_DIR", &gate)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = first.id();
    let mut first = Reap(Some(first));
    wait_for_file(&gate.join("started"), Duration::from_secs(120));

    let second = f.run(&v, &upgrade);
    assert_eq!(second.status.code(), Some(2), "{second}");
    assert!(
        second
            .stderr
            .contains(&format!("pid {pid}: lockstep upgrade --target 1.1.0")),
        "names the holder's pid and command: {second}"
    );
    let json = f.run(&v, &["upgrade", "--target", "1.1.0", "--yes", "--json"]);
    assert_eq!(json.status.code(), Some(2), "{json}");
    assert_eq!(json.json()["schema"], "lockstep.error/v1");
    assert_eq!(json.json()["kind"], "locked");
    // Reading is not blocked by the lock.
    f.ok(&v, &["history"], 0);

    std::fs::write(gate.join("open"), "").unwrap();
    let out = first.0.take().unwrap().wait_with_output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(locked_core(&v), "1.1.0");
    assert_eq!(run_git(&v, &["rev-parse", "HEAD^"]), before.head);
    assert_clean(&v, "after the first upgrade committed");
    // The refused attempts changed nothing and left no record; the first is complete.
    assert_eq!(
        actions(&f.records(&v)),
        pairs(&[
            ("upgrade_started", "started"),
            ("upgrade_committed", "committed"),
        ])
    );
    f.verified(&v);
}

// ---------------------------------------------------------------------------------------------
// 7: preflight refusals, dry run, blocked

/// Everything a refused command must leave alone.
#[derive(Debug, PartialEq, Eq)]
struct Untouched {
    tree: Tree,
    refs: String,
    journal: bool,
    audit: Option<Vec<u8>>,
}

fn untouched(repo: &Path) -> Untouched {
    Untouched {
        tree: tree(repo),
        refs: run_git(repo, &["for-each-ref", "refs/lockstep"]),
        journal: journal_path(repo).exists(),
        audit: std::fs::read(repo.join(".lockstep/audit.jsonl")).ok(),
    }
}

#[test]
fn preflight_refusals_exit_2_and_change_nothing() {
    let f = Fixture::new();
    let v = f.vertical();
    let before = untouched(&v);
    let upgrade = ["upgrade", "--target", "1.1.0", "--yes"];
    let refused = |args: &[&str], env: &[(&str, &str)], says: &str| {
        let run = f.run_env(&v, args, env);
        assert_eq!(run.status.code(), Some(2), "{run}");
        assert!(run.stderr.contains(says), "expected {says:?}: {run}");
        assert_eq!(untouched(&v), before, "{run}");
        run
    };

    // A dirty tree: the message names the file, and the change is kept.
    let main_rs = v.join("src/main.rs");
    let clean = std::fs::read(&main_rs).unwrap();
    let mut dirty = clean.clone();
    dirty.extend_from_slice(b"// work in progress\n");
    std::fs::write(&main_rs, &dirty).unwrap();
    let run = f.run(&v, &upgrade);
    assert_eq!(run.status.code(), Some(2), "{run}");
    assert!(run.stderr.contains("uncommitted changes"), "{run}");
    assert!(run.stderr.contains("src/main.rs"), "{run}");
    assert_eq!(
        std::fs::read(&main_rs).unwrap(),
        dirty,
        "the user's change is kept"
    );
    let mut json_args = upgrade.to_vec();
    json_args.push("--json");
    let json = f.run(&v, &json_args).json();
    assert_eq!(json["schema"], "lockstep.error/v1");
    assert_eq!(json["kind"], "dirty_tree");
    std::fs::write(&main_rs, &clean).unwrap();
    assert_eq!(untouched(&v), before);

    refused(
        &upgrade,
        &[("LOCKSTEP_MIN_FREE_BYTES", "18000000000000000000")],
        "an upgrade needs 18000000000000000000",
    );
    refused(
        &["upgrade", "--target", "1.1.0"],
        &[],
        "pass --yes to proceed",
    );
    refused(
        &[
            "upgrade",
            "--target",
            "1.1.0",
            "--yes",
            "--plan",
            "0123456789ab",
        ],
        &[],
        "the plan changed since it was made (digest 0123456789ab",
    );
    refused(
        &["upgrade", "--target", "1.9.0", "--yes"],
        &[],
        "release 1.9.0 is not in the registry",
    );

    refused(&["rollback", "--yes"], &[], "no committed upgrade");
    refused(
        &["rollback", "--to", "pre-upgrade-20200101-000000", "--yes"],
        &[],
        "no snapshot pre-upgrade-20200101-000000",
    );

    let run = f.ok(&v, &["upgrade", "--target", "1.1.0", "--dry-run"], 0);
    assert!(run.stdout.contains("nothing was changed"), "{run}");
    assert_eq!(untouched(&v), before, "--dry-run");
    assert_eq!(
        f.records(&v),
        Vec::<Value>::new(),
        "refusals leave no record"
    );
}

#[test]
fn blocked_target_exits_1_with_reasons_and_changes_nothing() {
    let f = Fixture::new();
    let v = f.vertical();
    let mut index: Value =
        serde_json::from_str(&std::fs::read_to_string(f.registry()).unwrap()).unwrap();
    let mut two = index["releases"][1].clone();
    two["version"] = "2.0.0".into();
    two["released_at"] = "2026-02-01T12:00:00Z".into();
    index["releases"].as_array_mut().unwrap().push(two);
    std::fs::write(f.registry(), index.to_string()).unwrap();
    let before = tree(&v);

    let run = f.ok(&v, &["upgrade", "--target", "2.0.0", "--yes"], 1);
    assert!(run.stdout.contains("core 2.0.0 is blocked"), "{run}");
    assert!(run.stdout.contains("core_above_max"), "{run}");
    let json = f
        .ok(&v, &["upgrade", "--target", "2.0.0", "--yes", "--json"], 1)
        .json();
    assert_eq!(json["outcome"], "blocked");
    assert_eq!(json["reasons"][0]["code"], "core_above_max");
    assert_same(&before, &tree(&v), "blocked");
    assert_clean(&v, "blocked");
    assert_eq!(
        run_git(&v, &["for-each-ref", "refs/lockstep"]),
        "",
        "no snapshot"
    );
    let records = f.records(&v);
    assert_eq!(
        actions(&records),
        pairs(&[("check", "blocked"), ("check", "blocked")])
    );
    assert_eq!(records[0]["to"], "2.0.0");
    f.verified(&v);
}

/// Asking for the version the vertical is already on is not an upgrade: it must not be
/// recorded as a committed one, or it becomes the snapshot `rollback` returns to.
#[test]
fn upgrade_to_the_current_version_changes_nothing_and_keeps_the_rollback_target() {
    let f = Fixture::new();
    let v = f.vertical();
    let original = tree(&v);
    f.ok(&v, &["upgrade", "--target", "1.1.0", "--yes"], 0);
    let at_1_1 = tree(&v);

    let run = f.ok(&v, &["upgrade", "--target", "1.1.0", "--yes"], 0);
    assert_same(&at_1_1, &tree(&v), "upgrade to the current version");
    let records = f.records(&v);
    assert!(
        !records
            .iter()
            .any(|r| r["action"] == "upgrade_committed" && r["from"] == r["to"]),
        "a 1.1.0 → 1.1.0 upgrade was recorded as committed: {:?}\n{run}",
        actions(&records)
    );
    f.ok(&v, &["rollback", "--yes"], 0);
    assert_same(&original, &tree(&v), "rollback after the no-op upgrade");
}

/// Untracked files are reported, not blocking: an upgrade neither commits nor removes them,
/// whether it commits, rolls back, or is rolled back by hand.
#[test]
fn untracked_files_are_neither_committed_nor_removed() {
    let f = Fixture::new();
    let v = f.vertical();
    let notes = v.join("notes.txt");
    std::fs::write(&notes, "mine\n").unwrap();
    f.ok(&v, &["upgrade", "--target", "1.1.0", "--yes"], 0);
    assert_eq!(
        run_git(&v, &["show", "--format=", "--name-only", "HEAD"]),
        "Cargo.lock\nCargo.toml"
    );
    f.ok(&v, &["upgrade", "--target", "1.2.0", "--yes"], 1);
    f.ok(&v, &["rollback", "--yes"], 0);
    assert_eq!(std::fs::read_to_string(&notes).unwrap(), "mine\n");
    assert_eq!(run_git(&v, &["status", "--porcelain"]), "?? notes.txt");
}

/// A lockfile git does not hold (ignored) is restored from the snapshot's copy, after a failed
/// smoke test and after a crash alike.
#[test]
fn an_ignored_lockfile_is_restored_from_the_snapshot_copy() {
    let f = Fixture::new();
    let v = f.vertical();
    run_git(&v, &["rm", "-q", "--cached", "Cargo.lock"]);
    let mut ignore = std::fs::read_to_string(v.join(".gitignore")).unwrap();
    ignore.push_str("Cargo.lock\n");
    std::fs::write(v.join(".gitignore"), ignore).unwrap();
    run_git(
        &v,
        &["commit", "-q", "-a", "-m", "test: stop tracking Cargo.lock"],
    );
    let lock = std::fs::read(v.join("Cargo.lock")).unwrap();
    let before = tree(&v);

    f.ok(&v, &["upgrade", "--target", "1.2.0", "--yes"], 1);
    assert_eq!(
        std::fs::read(v.join("Cargo.lock")).unwrap(),
        lock,
        "after 1.2.0 failed"
    );
    crash(
        &f,
        &v,
        &["upgrade", "--target", "1.1.0", "--yes"],
        "after_apply",
    );
    assert_eq!(locked_core(&v), "1.1.0", "the crash left the new lockfile");
    recover(&f, &v, "rolled_back", "after_apply");
    assert_eq!(
        std::fs::read(v.join("Cargo.lock")).unwrap(),
        lock,
        "after recover"
    );
    assert_same(&before, &tree(&v), "after recover");
    assert_clean(&v, "after recover");

    f.ok(&v, &["upgrade", "--target", "1.1.0", "--yes"], 0);
    assert_eq!(locked_core(&v), "1.1.0");
    f.ok(&v, &["rollback", "--yes"], 0);
    assert_eq!(
        std::fs::read(v.join("Cargo.lock")).unwrap(),
        lock,
        "after rollback"
    );
    assert_same(&before, &tree(&v), "after rollback");
    f.verified(&v);
}

// ---------------------------------------------------------------------------------------------
// 8: plan

#[test]
fn plan_shows_changes_risk_tests_and_migration_notes() {
    let f = Fixture::new();
    let v = f.vertical();
    let before = untouched(&v);

    let run = f.ok(&v, &["plan", "--target", "1.1.0", "--json"], 0);
    let plan = run.json();
    assert_eq!(plan["schema"], "lockstep.plan/v1");
    assert_eq!(
        (&plan["current"], &plan["target"]),
        (&"1.0.0".into(), &"1.1.0".into())
    );
    assert_eq!(plan["verdict"], "compatible");
    assert_eq!(plan["risk"]["level"], "low");
    let digest = plan["digest"].as_str().unwrap();
    assert!(
        digest.len() == 64 && digest.bytes().all(|b| b.is_ascii_hexdigit()),
        "{digest}"
    );
    let changed: Vec<&str> = plan["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["path"].as_str().unwrap())
        .collect();
    assert_eq!(changed, ["Cargo.toml", "Cargo.lock"]);
    assert_eq!(plan["smoke_tests"]["command"][0], "smoke_tests/run.sh");
    assert_eq!(plan["smoke_tests"]["timeout_seconds"], 120);
    assert_eq!(plan["head"], before.tree.head.as_str());
    let again = f.ok(&v, &["plan", "--target", "1.1.0", "--json"], 0).json();
    assert_eq!(again["digest"], digest, "the digest is deterministic");

    let root = f.root().display().to_string();
    let mut settings = insta::Settings::clone_current();
    settings.add_filter(r"\b[0-9a-f]{64}\b", "[DIGEST]");
    settings.add_filter(r"\b[0-9a-f]{40}\b", "[COMMIT]");
    settings.bind(|| {
        insta::assert_snapshot!("plan_json", run.stdout.replace(&root, "[TMP]"));
    });

    // The digest the user approved is accepted while nothing moved.
    let short = &digest[..12];
    f.ok(
        &v,
        &["upgrade", "--target", "1.1.0", "--plan", short, "--dry-run"],
        0,
    );

    let run = f.ok(&v, &["plan", "--target", "1.2.0"], 0);
    assert!(run.stdout.contains("Migration"), "{run}");
    assert!(
        run.stdout
            .contains("1.2.0: greeting() output changed from 'Hello, NAME!' to 'Hi NAME :)'"),
        "{run}"
    );
    assert!(run.stdout.contains("Risk: LOW"), "{run}");
    assert!(
        run.stdout.contains("Smoke tests: smoke_tests/run.sh"),
        "{run}"
    );
    assert_eq!(untouched(&v), before, "plan changes nothing");
}

// ---------------------------------------------------------------------------------------------
// 9: audit tampering

#[test]
fn audit_tampering_is_named_and_a_torn_tail_is_repaired() {
    let f = Fixture::new();
    let v = f.vertical();
    f.ok(&v, &["upgrade", "--target", "1.1.0", "--yes"], 0);
    f.ok(&v, &["upgrade", "--target", "1.2.0", "--yes"], 1);
    f.ok(&v, &["rollback", "--yes"], 0);
    let log = v.join(".lockstep/audit.jsonl");
    let good = std::fs::read_to_string(&log).unwrap();
    let lines: Vec<&str> = good.lines().collect();
    assert_eq!(lines.len(), 5, "{good}");
    f.verified(&v);

    let tampered = |text: String, seq: Option<u64>, line: u64, says: &str| {
        std::fs::write(&log, text).unwrap();
        let run = f.ok(&v, &["audit", "verify", "--json"], 1);
        let json = run.json();
        assert_eq!(json["ok"], false, "{run}");
        assert_eq!(json["problem"]["seq"].as_u64(), seq, "{says}: {run}");
        assert_eq!(json["problem"]["line"], line, "{says}: {run}");
        let human = f.ok(&v, &["audit", "verify"], 1);
        assert!(human.stdout.contains(says), "expected {says:?}: {human}");
    };
    let joined = |ls: &[&str]| ls.iter().map(|l| format!("{l}\n")).collect::<String>();

    // An edited `to`.
    let edited = lines[1].replacen("\"to\":\"1.1.0\"", "\"to\":\"9.9.9\"", 1);
    assert_ne!(edited, lines[1]);
    let mut ls = lines.clone();
    ls[1] = &edited;
    tampered(joined(&ls), Some(2), 2, "record 2 (line 2) was edited");
    // A deleted record.
    let mut ls = lines.clone();
    ls.remove(2);
    tampered(joined(&ls), Some(3), 3, "record 3 was deleted");
    // Two records swapped.
    let mut ls = lines.clone();
    ls.swap(1, 2);
    tampered(joined(&ls), Some(2), 2, "records were reordered");
    // The last line torn mid-way (a crash mid-write).
    let torn = &good[..good.len() - 30];
    tampered(torn.to_owned(), None, 5, "line 5 is a torn write");

    let run = f.ok(&v, &["recover"], 0);
    assert!(run.stderr.contains("torn last line"), "{run}");
    f.verified(&v);
    let repaired = std::fs::read_to_string(&log).unwrap();
    assert!(
        repaired.starts_with(&joined(&lines[..4])),
        "the intact records are kept as they were"
    );
    let records = f.records(&v);
    assert_eq!(records.len(), 5);
    let last = records.last().unwrap();
    assert_eq!(
        (&last["seq"], &last["action"]),
        (&5.into(), &"repaired".into())
    );
}

// ---------------------------------------------------------------------------------------------
// 10: channel

#[test]
fn channel_switch_rewrites_one_line_and_is_audited() {
    let f = Fixture::new();
    let v = f.vertical();
    let manifest = v.join("vertical_manifest.yaml");
    let before = std::fs::read_to_string(&manifest).unwrap();

    let run = f.ok(&v, &["channel"], 0);
    assert_eq!(run.stdout, "channel: stable\n");
    let run = f.ok(&v, &["channel", "beta"], 0);
    assert!(run.stdout.contains("channel: stable → beta"), "{run}");

    let after = std::fs::read_to_string(&manifest).unwrap();
    let (old, new): (Vec<&str>, Vec<&str>) = (before.lines().collect(), after.lines().collect());
    assert_eq!(old.len(), new.len(), "{after}");
    let changed: Vec<(&str, &str)> = old
        .iter()
        .zip(&new)
        .filter(|(a, b)| a != b)
        .map(|(a, b)| (*a, *b))
        .collect();
    assert_eq!(
        changed,
        [("  update_channel: stable", "  update_channel: beta")]
    );
    assert!(after.ends_with('\n') == before.ends_with('\n'));
    assert_eq!(f.ok(&v, &["channel"], 0).stdout, "channel: beta\n");

    let records = f.records(&v);
    assert_eq!(actions(&records), pairs(&[("channel", "switched")]));
    assert_eq!(records[0]["details"]["channel_from"], "stable");
    assert_eq!(records[0]["details"]["channel_to"], "beta");
    f.verified(&v);
}
