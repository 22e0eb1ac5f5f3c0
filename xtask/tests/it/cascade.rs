//! `release-cascade` end to end: the demo DAG built into temp dirs by its own script, the real
//! `lockstep` binary, real git and cargo. These tests prove issue 4's "done means": the demo
//! releases every repository, `--fail-at` leaves every repository byte-identical, and a cascade
//! killed at any failpoint resumes (one release commit per repository) or aborts cleanly.

use std::collections::{BTreeMap, BTreeSet};
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use lockstep_testkit::git::run_git;
use serde_json::Value;

const DEMO_SH: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../crates/lockstep-release/src/demo.sh"
);

/// Every demo repository and the version the demo releases it at.
const RELEASED: [(&str, &str); 8] = [
    ("manifest", "1.1.0"),
    ("urn-authority", "1.0.1"),
    ("runtime", "1.0.1"),
    ("ecosystem", "1.0.1"),
    ("documentation", "1.0.1"),
    ("release-healer", "1.0.1"),
    ("console", "1.0.1"),
    ("sdk-python", "1.0.1"),
];

/// Each repository's upstreams in the brief's DAG.
fn upstreams(repo: &str) -> &'static [&'static str] {
    match repo {
        "urn-authority" | "sdk-python" => &["manifest"],
        "runtime" | "ecosystem" => &["manifest", "urn-authority"],
        "documentation" => &["ecosystem", "runtime"],
        "release-healer" | "console" => &["runtime"],
        _ => &[],
    }
}

fn released_version(repo: &str) -> &'static str {
    RELEASED
        .iter()
        .find(|(r, _)| *r == repo)
        .map(|(_, v)| *v)
        .unwrap_or_else(|| panic!("{repo} is not a demo repository"))
}

/// A temp dir holding an isolated `CARGO_HOME` and the demo directory `d/`.
struct Demo {
    tmp: tempfile::TempDir,
}

impl Demo {
    /// An empty fixture: `release-cascade --demo --demo-dir d` builds into it.
    fn empty() -> Self {
        let tmp = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(tmp.path().join("cargo-home")).unwrap();
        Demo { tmp }
    }

    /// The demo repositories built by the demo's own script, nothing released yet.
    fn built() -> Self {
        let demo = Demo::empty();
        let out = demo
            .command("bash")
            .arg(DEMO_SH)
            .arg(demo.dir())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "demo.sh failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        demo
    }

    fn root(&self) -> &Path {
        self.tmp.path()
    }

    fn dir(&self) -> PathBuf {
        self.root().join("d")
    }

    fn repo(&self, name: &str) -> PathBuf {
        self.dir().join(name)
    }

    fn config(&self) -> String {
        self.dir().join("cascade.toml").display().to_string()
    }

    fn journal(&self) -> PathBuf {
        self.dir().join(".lockstep/cascade-journal.json")
    }

    fn read(&self, repo: &str, file: &str) -> String {
        std::fs::read_to_string(self.repo(repo).join(file))
            .unwrap_or_else(|e| panic!("read {repo}/{file}: {e}"))
    }

    fn git(&self, repo: &str, args: &[&str]) -> String {
        run_git(&self.repo(repo), args)
    }

    /// A command with the isolated environment every lockstep run and fixture gets.
    fn command(&self, program: &str) -> Command {
        let mut cmd = Command::new(program);
        cmd.current_dir(self.root())
            .env("CARGO_HOME", self.root().join("cargo-home"))
            .env_remove("CARGO_TARGET_DIR")
            .env_remove("RUST_LOG")
            .env_remove("LOCKSTEP_FAILPOINT")
            .env_remove("LOCKSTEP_DEMO_FAIL_AT")
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .env("NO_COLOR", "1")
            .env("LOCKSTEP_ACTOR", "test");
        cmd
    }

    /// Runs `lockstep args` with extra environment.
    fn run_env(&self, args: &[&str], env: &[(&str, &str)]) -> Run {
        let mut cmd = self.command(env!("CARGO_BIN_EXE_lockstep"));
        cmd.args(args);
        for (k, v) in env {
            cmd.env(k, v);
        }
        let out = cmd.output().unwrap();
        let root = self.root().display().to_string();
        let clean = |b: &[u8]| String::from_utf8_lossy(b).replace(&root, "[TMP]");
        Run {
            code: out.status.code(),
            signal: out.status.signal(),
            stdout: clean(&out.stdout),
            stderr: clean(&out.stderr),
        }
    }

    /// Runs `lockstep release-cascade --config d/cascade.toml args`.
    fn cascade(&self, args: &[&str]) -> Run {
        self.cascade_env(args, &[])
    }

    fn cascade_env(&self, args: &[&str], env: &[(&str, &str)]) -> Run {
        let config = self.config();
        let mut all = vec!["release-cascade", "--config", config.as_str()];
        all.extend_from_slice(args);
        self.run_env(&all, env)
    }

    /// Everything a user could see of every repository: refs, index, status and the bytes of
    /// every tracked file (and `Cargo.lock`).
    fn state(&self) -> BTreeMap<String, RepoState> {
        RELEASED
            .iter()
            .map(|(name, _)| ((*name).to_owned(), RepoState::capture(&self.repo(name))))
            .collect()
    }

    /// Gives every repository a bare `origin` in `remotes/NAME.git` holding its `main`.
    fn add_remotes(&self) -> PathBuf {
        let remotes = self.root().join("remotes");
        for (repo, _) in RELEASED {
            let bare = remotes.join(format!("{repo}.git"));
            std::fs::create_dir_all(&bare).unwrap();
            run_git(&bare, &["init", "-q", "--bare"]);
            let url = bare.display().to_string();
            self.git(repo, &["remote", "add", "origin", &url]);
            self.git(repo, &["push", "-q", "origin", "main"]);
        }
        remotes
    }

    /// Writes the plan of `--dry-run --json --from manifest` to `plan.json` and returns its path.
    fn save_plan(&self) -> String {
        let run = self.cascade(&["--dry-run", "--json", "--from", "manifest"]);
        assert_eq!(run.code, Some(0), "{run}");
        let path = self.root().join("plan.json");
        std::fs::write(&path, &run.stdout).unwrap();
        path.display().to_string()
    }
}

#[derive(Debug)]
struct Run {
    code: Option<i32>,
    signal: Option<i32>,
    stdout: String,
    stderr: String,
}

impl Run {
    fn json(&self) -> Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not one JSON object ({e}):\n{self}"))
    }
}

impl std::fmt::Display for Run {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "exit: {:?} signal: {:?}\n--- stdout\n{}--- stderr\n{}",
            self.code, self.signal, self.stdout, self.stderr
        )
    }
}

#[derive(Debug, PartialEq, Eq)]
struct RepoState {
    refs: String,
    index: String,
    status: String,
    files: BTreeMap<String, Vec<u8>>,
}

impl RepoState {
    fn capture(dir: &Path) -> Self {
        let listed = run_git(dir, &["ls-files", "-z"]);
        let mut files: BTreeMap<String, Vec<u8>> = listed
            .split('\0')
            .filter(|f| !f.is_empty())
            .map(|f| {
                let bytes = std::fs::read(dir.join(f))
                    .unwrap_or_else(|e| panic!("read {}/{f}: {e}", dir.display()));
                (f.to_owned(), bytes)
            })
            .collect();
        if let Ok(lock) = std::fs::read(dir.join("Cargo.lock")) {
            files.insert("Cargo.lock".to_owned(), lock);
        }
        RepoState {
            refs: run_git(dir, &["for-each-ref", "--format=%(objectname) %(refname)"]),
            index: run_git(dir, &["ls-files", "-s"]),
            status: run_git(dir, &["status", "--porcelain", "--untracked-files=all"]),
            files,
        }
    }
}

/// Asserts that every repository is byte-identical to `before`, naming each difference.
fn assert_unchanged(
    before: &BTreeMap<String, RepoState>,
    after: &BTreeMap<String, RepoState>,
    what: &str,
) {
    let mut diffs = Vec::new();
    for (repo, b) in before {
        let a = &after[repo];
        if a.refs != b.refs {
            diffs.push(format!(
                "{repo}: refs\n  before:\n{}\n  after:\n{}",
                b.refs, a.refs
            ));
        }
        if a.index != b.index {
            diffs.push(format!("{repo}: index differs"));
        }
        if a.status != b.status {
            diffs.push(format!(
                "{repo}: status {:?} (before {:?})",
                a.status, b.status
            ));
        }
        let names: BTreeSet<&String> = a.files.keys().chain(b.files.keys()).collect();
        for f in names {
            if a.files.get(f) != b.files.get(f) {
                diffs.push(format!("{repo}: {f} differs"));
            }
        }
    }
    assert!(
        diffs.is_empty(),
        "{what}: repositories changed:\n{}",
        diffs.join("\n")
    );
}

/// Asserts that `repo` is released at its demo version: exactly one release commit at HEAD,
/// an annotated tag equal to the package version on it naming the upstream versions, and a
/// clean tree.
fn assert_repo_released(demo: &Demo, repo: &str) {
    let version = released_version(repo);
    let tag = format!("v{version}");
    let subjects = demo.git(repo, &["log", "--format=%s"]);
    let releases: Vec<&str> = subjects
        .lines()
        .filter(|s| s.starts_with("chore(release)"))
        .collect();
    assert_eq!(
        releases,
        [format!("chore(release): {repo} v{version}")],
        "{repo}: release commits in\n{subjects}"
    );
    assert_eq!(
        demo.git(repo, &["log", "-1", "--format=%s"]),
        releases[0],
        "{repo}: the release commit is HEAD"
    );
    // `git describe` without --tags sees annotated tags only.
    assert_eq!(
        demo.git(repo, &["describe", "--exact-match", "HEAD"]),
        tag,
        "{repo}"
    );
    assert_eq!(demo.git(repo, &["cat-file", "-t", &tag]), "tag", "{repo}");
    assert_eq!(
        demo.git(repo, &["tag", "--list"]),
        format!("v1.0.0\n{tag}"),
        "{repo}"
    );
    let manifest = match repo {
        "console" => format!("\"version\": \"{version}\""),
        _ => format!("\nversion = \"{version}\"\n"),
    };
    let file = match repo {
        "console" => "package.json",
        "sdk-python" => "pyproject.toml",
        _ => "Cargo.toml",
    };
    assert!(
        demo.read(repo, file).contains(&manifest),
        "{repo}: {file} does not carry version {version}:\n{}",
        demo.read(repo, file)
    );
    let message = demo.git(repo, &["tag", "--list", "--format=%(contents)", &tag]);
    for up in upstreams(repo) {
        let line = format!("{up} {}", released_version(up));
        assert!(
            message.contains(&line),
            "{repo}: tag message does not name {line}:\n{message}"
        );
    }
    assert_eq!(
        demo.git(repo, &["status", "--porcelain", "--untracked-files=all"]),
        "",
        "{repo}: tree not clean"
    );
}

fn assert_all_released(demo: &Demo) {
    for (repo, _) in RELEASED {
        assert_repo_released(demo, repo);
    }
    assert!(!demo.journal().exists(), "the journal outlived the cascade");
}

/// The `[[package]]` entry of `name` in a Cargo.lock: (version, source).
fn locked(lock: &str, name: &str) -> Option<(String, String)> {
    lock.split("[[package]]").find_map(|block| {
        let field = |key: &str| {
            block.lines().find_map(|l| {
                l.strip_prefix(&format!("{key} = \""))
                    .and_then(|v| v.strip_suffix('"'))
                    .map(str::to_owned)
            })
        };
        (field("name").as_deref() == Some(name)).then(|| {
            (
                field("version").unwrap_or_default(),
                field("source").unwrap_or_default(),
            )
        })
    })
}

#[test]
fn the_demo_releases_every_repository() {
    let demo = Demo::empty();
    let run = demo.run_env(
        &["release-cascade", "--demo", "--demo-dir", "d", "--json"],
        &[],
    );
    assert_eq!(run.code, Some(0), "{run}");
    assert_all_released(&demo);

    // Lockfiles resolve the new upstream versions at their new tags.
    for (repo, _) in RELEASED {
        if !demo.repo(repo).join("Cargo.toml").exists() {
            continue;
        }
        let lock = demo.read(repo, "Cargo.lock");
        for up in upstreams(repo) {
            let v = released_version(up);
            let (version, source) =
                locked(&lock, up).unwrap_or_else(|| panic!("{repo}: no {up} in Cargo.lock"));
            assert_eq!(version, v, "{repo}: Cargo.lock resolves {up}");
            assert!(
                source.contains(&format!("?tag=v{v}#")),
                "{repo}: Cargo.lock source of {up}: {source}"
            );
        }
    }
    let (v, _) = locked(&demo.read("runtime", "Cargo.lock"), "manifest").unwrap();
    assert_eq!(v, "1.1.0");
    assert!(
        demo.read("runtime", "Cargo.toml")
            .contains("/manifest\", tag = \"v1.1.0\" }")
    );
    assert!(
        demo.read("console", "package.json")
            .contains("/runtime#v1.0.1\""),
        "{}",
        demo.read("console", "package.json")
    );
    assert!(
        demo.read("sdk-python", "pyproject.toml")
            .contains("/manifest@v1.1.0\""),
        "{}",
        demo.read("sdk-python", "pyproject.toml")
    );

    // Changelogs: one entry per package, with the feature and the dependency bumps.
    for (repo, version) in RELEASED {
        let log = demo.read(repo, "CHANGELOG.md");
        assert!(log.starts_with("# Changelog\n"), "{repo}:\n{log}");
        assert!(
            log.contains(&format!("\n## [{version}] - ")),
            "{repo}:\n{log}"
        );
        assert_eq!(log.matches("\n## [").count(), 1, "{repo}:\n{log}");
        for up in upstreams(repo) {
            let line = format!("- {up}: v1.0.0 → v{}\n", released_version(up));
            assert!(
                log.contains("### Dependencies") && log.contains(&line),
                "{repo}: no {line:?} in\n{log}"
            );
        }
    }
    assert!(
        demo.read("manifest", "CHANGELOG.md")
            .contains("### Added\n\n- schema_version() for manifest consumers\n")
    );

    // The report.
    let report = run.json();
    assert_eq!(report["schema"], "lockstep.cascade-run/v1");
    assert_eq!(report["outcome"], "released");
    assert!(report["failure"].is_null());
    let repos = report["repos"].as_array().unwrap();
    assert_eq!(repos.len(), 8);
    for r in repos {
        let name = r["repo"].as_str().unwrap();
        assert_eq!(r["status"], "released", "{name}");
        assert_eq!(
            r["commit"].as_str().unwrap(),
            demo.git(name, &["rev-parse", "HEAD"]),
            "{name}"
        );
    }
    let wall = report["wall_ms"].as_u64().unwrap();
    let critical = report["critical_path_ms"].as_u64().unwrap();
    assert!(
        critical > 0 && critical <= wall,
        "wall {wall} critical {critical}"
    );
    eprintln!(
        "demo: wall {wall} ms, critical path {critical} ms, {:.2}×",
        wall as f64 / critical as f64
    );

    // The global view agrees: tags match versions, no pin lags.
    let status = demo.cascade(&["--status", "--check"]);
    assert_eq!(status.code, Some(0), "{status}");
    let status = demo.cascade(&["--status", "--json"]);
    assert_eq!(status.code, Some(0), "{status}");
    let status = status.json();
    assert_eq!(status["schema"], "lockstep.cascade-status/v1");
    assert_eq!(status["lagging_pins"], serde_json::json!([]));
    for p in status["packages"].as_array().unwrap() {
        let name = p["name"].as_str().unwrap();
        assert_eq!(p["version"], released_version(name), "{name}");
        assert_eq!(p["tag_matches"], true, "{name}");
    }
}

#[test]
fn the_demo_runs_within_1_6_times_its_critical_path() {
    let mut ratios = Vec::new();
    for _ in 0..3 {
        let demo = Demo::empty();
        let run = demo.run_env(
            &["release-cascade", "--demo", "--demo-dir", "d", "--json"],
            &[],
        );
        assert_eq!(run.code, Some(0), "{run}");
        let report = run.json();
        let wall = report["wall_ms"].as_u64().unwrap() as f64;
        let critical = report["critical_path_ms"].as_u64().unwrap() as f64;
        eprintln!(
            "demo run: wall {wall} ms, critical path {critical} ms, {:.3}×",
            wall / critical
        );
        ratios.push(wall / critical);
    }
    ratios.sort_by(f64::total_cmp);
    eprintln!("wall / critical path over 3 runs: {ratios:.3?}");
    assert!(
        ratios[1] < 1.6,
        "median wall / critical path {:.3} (runs {ratios:.3?})",
        ratios[1]
    );

    // The measure can tell: one repository at a time, the wall time exceeds the critical path
    // by the work the waves did side by side.
    let demo = Demo::empty();
    let run = demo.run_env(
        &[
            "release-cascade",
            "--demo",
            "--demo-dir",
            "d",
            "--jobs",
            "1",
            "--json",
        ],
        &[],
    );
    assert_eq!(run.code, Some(0), "{run}");
    let report = run.json();
    let serial = report["wall_ms"].as_u64().unwrap() as f64
        / report["critical_path_ms"].as_u64().unwrap() as f64;
    eprintln!("demo run with --jobs 1: {serial:.3}×");
    assert!(
        serial > ratios[1] + 0.2,
        "--jobs 1 ran at {serial:.3}× its critical path, parallel runs at {ratios:.3?}"
    );
}

#[test]
fn a_failing_smoke_test_rolls_every_repository_back_byte_identical() {
    let demo = Demo::built();
    let before = demo.state();
    let run = demo.cascade_env(
        &["--from", "manifest", "--yes"],
        &[("LOCKSTEP_DEMO_FAIL_AT", "runtime")],
    );
    assert_eq!(run.code, Some(1), "{run}");
    assert!(
        run.stdout.contains("runtime failed at smoke"),
        "names the repository and step:\n{run}"
    );
    assert!(
        run.stdout
            .contains("| smoke: runtime fails on purpose (--fail-at runtime)"),
        "shows the output tail:\n{run}"
    );
    assert!(run.stdout.contains("rolled back"), "{run}");
    assert_unchanged(&before, &demo.state(), "after --fail-at runtime");
    assert!(!demo.journal().exists());
}

#[test]
fn demo_fail_at_reports_the_failure_as_json_and_releases_nothing() {
    let demo = Demo::empty();
    let run = demo.run_env(
        &[
            "release-cascade",
            "--demo",
            "--demo-dir",
            "d",
            "--fail-at",
            "runtime",
            "--json",
        ],
        &[],
    );
    assert_eq!(run.code, Some(1), "{run}");
    let report = run.json();
    assert_eq!(report["outcome"], "rolled_back");
    assert_eq!(report["failure"]["repo"], "runtime");
    assert_eq!(report["failure"]["step"], "smoke");
    assert!(
        report["failure"]["output_tail"]
            .as_str()
            .unwrap()
            .contains("fails on purpose"),
        "{report}"
    );
    for (repo, _) in RELEASED {
        assert_eq!(demo.git(repo, &["tag", "--list"]), "v1.0.0", "{repo}");
        assert!(
            !demo
                .git(repo, &["log", "--format=%s"])
                .contains("chore(release)"),
            "{repo}"
        );
        assert_eq!(demo.git(repo, &["status", "--porcelain"]), "", "{repo}");
    }
}

const WAVES: [&[&str]; 4] = [
    &["manifest"],
    &["sdk-python", "urn-authority"],
    &["ecosystem", "runtime"],
    &["console", "documentation", "release-healer"],
];

#[test]
fn the_plan_follows_the_dag_and_its_digest_is_deterministic() {
    let demo = Demo::built();
    let args = ["--dry-run", "--json", "--from", "manifest"];
    let run = demo.cascade(&args);
    assert_eq!(run.code, Some(0), "{run}");
    let plan = run.json();
    assert_eq!(plan["schema"], "lockstep.cascade-plan/v1");
    let waves: Vec<Vec<&str>> = plan["waves"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| {
            let mut names: Vec<&str> = w
                .as_array()
                .unwrap()
                .iter()
                .map(|s| s["package"].as_str().unwrap())
                .collect();
            names.sort_unstable();
            names
        })
        .collect();
    assert_eq!(waves, WAVES);
    let wave_of: BTreeMap<&str, usize> = waves
        .iter()
        .enumerate()
        .flat_map(|(i, w)| w.iter().map(move |p| (*p, i)))
        .collect();
    for step in plan["waves"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|w| w.as_array().unwrap())
    {
        let name = step["package"].as_str().unwrap();
        let ups: Vec<&str> = step["upstreams"]
            .as_array()
            .unwrap()
            .iter()
            .map(|u| u["package"].as_str().unwrap())
            .collect();
        assert_eq!(ups, upstreams(name), "{name}");
        for up in &ups {
            assert!(wave_of[up] < wave_of[name], "{up} is not before {name}");
        }
        assert_eq!(step["to"], released_version(name), "{name}");
        assert_eq!(
            step["tag"],
            format!("v{}", released_version(name)),
            "{name}"
        );
        let edits: BTreeMap<&str, (&str, &str)> = step["pin_edits"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| {
                (
                    e["dependency"].as_str().unwrap(),
                    (e["from"].as_str().unwrap(), e["to"].as_str().unwrap()),
                )
            })
            .collect();
        let expected: BTreeMap<&str, (&str, &str)> = upstreams(name)
            .iter()
            .map(|u| {
                let to = if *u == "manifest" { "v1.1.0" } else { "v1.0.1" };
                (*u, ("v1.0.0", to))
            })
            .collect();
        assert_eq!(edits, expected, "{name}: pin edits are the tags as written");
    }

    let digest = plan["digest"].as_str().unwrap().to_owned();
    let again = demo.cascade(&args).json();
    assert_eq!(again["digest"], digest.as_str(), "same inputs, same digest");
    assert_eq!(again, plan, "same inputs, same plan");

    let text = serde_json::to_string_pretty(&plan).unwrap();
    insta::with_settings!({filters => vec![
        (r"\b[0-9a-f]{64}\b", "[DIGEST]"),
        (r"\b[0-9a-f]{40}\b", "[COMMIT]"),
    ]}, {
        insta::assert_snapshot!("plan", text);
    });

    // A new commit in any repository changes the digest.
    let mut seen = BTreeSet::from([digest]);
    for (repo, _) in RELEASED {
        std::fs::write(demo.repo(repo).join("NOTES.md"), format!("{repo}\n")).unwrap();
        demo.git(repo, &["add", "NOTES.md"]);
        demo.git(repo, &["commit", "-q", "-m", "docs: notes"]);
        let d = demo.cascade(&args).json()["digest"]
            .as_str()
            .unwrap()
            .to_owned();
        assert!(
            seen.insert(d),
            "a commit in {repo} did not change the digest"
        );
    }

    let mermaid = demo.cascade(&["--dry-run", "--mermaid", "--from", "manifest"]);
    assert_eq!(mermaid.code, Some(0), "{mermaid}");
    let first = mermaid.stdout.lines().next().unwrap_or_default();
    assert!(
        first.starts_with("graph ") || first.starts_with("flowchart "),
        "{mermaid}"
    );
    for (repo, _) in RELEASED {
        assert!(mermaid.stdout.contains(repo), "{repo} missing:\n{mermaid}");
    }
}

/// Kills the cascade at `failpoint` and checks that it died by SIGKILL and left its journal.
fn crash(demo: &Demo, failpoint: &str) {
    let run = demo.cascade_env(
        &["--from", "manifest", "--yes"],
        &[("LOCKSTEP_FAILPOINT", failpoint)],
    );
    assert_eq!(run.signal, Some(9), "{failpoint}: not killed\n{run}");
    assert!(
        demo.journal().exists(),
        "{failpoint}: no journal after the crash"
    );
}

/// Crash at `failpoint`; `--abort` restores every repository byte-identical; crash again;
/// `--resume` finishes with exactly one release commit per repository.
fn crash_abort_crash_resume(failpoint: &str) {
    let demo = Demo::built();
    let before = demo.state();

    crash(&demo, failpoint);
    let abort = demo.cascade(&["--abort"]);
    assert_eq!(abort.code, Some(0), "{failpoint}: {abort}");
    assert!(abort.stdout.contains("aborted"), "{failpoint}: {abort}");
    assert!(!demo.journal().exists(), "{failpoint}: journal kept");
    assert_unchanged(&before, &demo.state(), &format!("{failpoint}: --abort"));

    crash(&demo, failpoint);
    let resume = demo.cascade(&["--resume", "--yes", "--json"]);
    assert_eq!(resume.code, Some(0), "{failpoint}: {resume}");
    assert_eq!(
        resume.json()["outcome"],
        "released",
        "{failpoint}: {resume}"
    );
    assert_all_released(&demo);
}

#[test]
fn crash_after_journal_aborts_or_resumes() {
    crash_abort_crash_resume("cascade_after_journal");
}

#[test]
fn crash_after_snapshot_aborts_or_resumes() {
    crash_abort_crash_resume("cascade_after_snapshot");
}

#[test]
fn crash_during_smoke_aborts_or_resumes() {
    crash_abort_crash_resume("cascade_during_smoke");
}

#[test]
fn crash_after_commit_aborts_or_resumes() {
    crash_abort_crash_resume("cascade_after_commit");
}

#[test]
fn crash_after_repo_aborts_or_resumes() {
    crash_abort_crash_resume("cascade_after_repo");
}

#[test]
fn crash_before_finish_aborts_or_resumes() {
    crash_abort_crash_resume("cascade_before_finish");
}

/// Runs `--resume` with `failpoint` set and checks that it died there, journal kept.
fn crash_resume(demo: &Demo, failpoint: &str) {
    let run = demo.cascade_env(&["--resume", "--yes"], &[("LOCKSTEP_FAILPOINT", failpoint)]);
    assert_eq!(
        run.signal,
        Some(9),
        "--resume at {failpoint}: not killed\n{run}"
    );
    assert!(
        demo.journal().exists(),
        "--resume at {failpoint}: no journal"
    );
}

#[test]
fn a_cascade_killed_again_while_resuming_in_a_later_wave_still_aborts_or_resumes() {
    let demo = Demo::built();
    let before = demo.state();

    // manifest released, then killed in wave 2 while urn-authority and sdk-python run side by side.
    crash(&demo, "cascade_after_repo");
    crash_resume(&demo, "cascade_during_smoke");
    assert_repo_released(&demo, "manifest");
    let abort = demo.cascade(&["--abort"]);
    assert_eq!(abort.code, Some(0), "{abort}");
    assert_unchanged(&before, &demo.state(), "--abort after two crashes");
    assert!(!demo.journal().exists());

    // Again, killed after a wave-2 commit, then resumed to the end.
    crash(&demo, "cascade_after_repo");
    crash_resume(&demo, "cascade_after_commit");
    let resume = demo.cascade(&["--resume", "--yes", "--json"]);
    assert_eq!(resume.code, Some(0), "{resume}");
    let report = resume.json();
    assert_eq!(report["outcome"], "released", "{resume}");
    let manifest = report["repos"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["repo"] == "manifest")
        .unwrap();
    assert_eq!(manifest["status"], "skipped", "released before the crash");
    assert_all_released(&demo);
}

#[test]
fn a_failed_push_deletes_the_tags_it_pushed_and_keeps_the_local_releases() {
    let demo = Demo::built();
    let remotes = demo.add_remotes();
    let hook = remotes.join("runtime.git/hooks/pre-receive");
    std::fs::write(&hook, "#!/bin/sh\necho 'rejected by policy' >&2\nexit 1\n").unwrap();
    std::fs::set_permissions(&hook, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();

    let run = demo.cascade(&["--from", "manifest", "--yes", "--push"]);
    assert!(
        run.stdout.contains("runtime failed at push") && run.stdout.contains("rejected by policy"),
        "{run}"
    );
    assert_all_released(&demo);
    for (repo, _) in RELEASED {
        assert_eq!(
            run_git(&remotes.join(format!("{repo}.git")), &["tag", "--list"]),
            "",
            "{repo}: a pushed tag was left on the remote"
        );
    }
    // design.md: exit 2 means "refused before any change"; here eight repositories were
    // released and four remote branches moved.
    assert!(
        run.code != Some(0) && run.code != Some(2),
        "a push failure after local releases exits {:?}, which design.md reserves for \
         success (0) or refusals that changed nothing (2)\n{run}",
        run.code
    );
}

#[test]
fn a_plain_run_after_a_crash_refuses_and_names_resume_and_abort() {
    let demo = Demo::built();
    let mut wrong = Vec::new();
    for failpoint in [
        "cascade_after_journal",
        "cascade_after_snapshot",
        "cascade_during_smoke",
        "cascade_after_commit",
        "cascade_after_repo",
        "cascade_before_finish",
    ] {
        crash(&demo, failpoint);
        let during = demo.state();
        let run = demo.cascade(&["--from", "manifest", "--yes"]);
        let names_both = run.stderr.contains("--resume") && run.stderr.contains("--abort");
        if run.code != Some(2) || !names_both {
            wrong.push(format!("{failpoint}: {run}"));
        }
        assert_unchanged(
            &during,
            &demo.state(),
            &format!("{failpoint}: the refused run"),
        );
        assert!(demo.journal().exists(), "{failpoint}: journal gone");
        let abort = demo.cascade(&["--abort"]);
        assert_eq!(abort.code, Some(0), "{failpoint}: {abort}");
    }
    assert!(
        wrong.is_empty(),
        "a plain run with an interrupted cascade's journal must exit 2 naming --resume and --abort:\n{}",
        wrong.join("\n")
    );
}

#[test]
fn resume_and_abort_without_a_journal_are_no_ops() {
    let demo = Demo::built();
    let before = demo.state();
    for flag in ["--resume", "--abort"] {
        let run = demo.cascade(&[flag, "--yes"]);
        assert_eq!(run.code, Some(0), "{flag}: {run}");
        assert!(run.stdout.contains("nothing to do"), "{flag}: {run}");
        let run = demo.cascade(&[flag, "--yes", "--json"]);
        assert_eq!(run.code, Some(0), "{flag}: {run}");
        assert_eq!(run.json()["outcome"], "nothing_to_do", "{flag}: {run}");
    }
    assert_unchanged(
        &before,
        &demo.state(),
        "--resume / --abort without a journal",
    );
}

#[test]
fn preflight_refuses_a_dirty_tree_and_an_existing_tag_changing_nothing() {
    let demo = Demo::built();

    std::fs::write(demo.repo("runtime").join("src/lib.rs"), "// edited\n").unwrap();
    let before = demo.state();
    let run = demo.cascade(&["--from", "manifest", "--yes"]);
    assert_eq!(run.code, Some(2), "{run}");
    assert!(
        run.stderr
            .contains("runtime: uncommitted changes to src/lib.rs"),
        "{run}"
    );
    assert_unchanged(&before, &demo.state(), "dirty tree refusal");
    assert!(!demo.journal().exists());
    demo.git("runtime", &["checkout", "--", "src/lib.rs"]);

    demo.git("urn-authority", &["tag", "v1.0.1"]);
    let before = demo.state();
    let run = demo.cascade(&["--from", "manifest", "--yes"]);
    assert_eq!(run.code, Some(2), "{run}");
    assert!(
        run.stderr
            .contains("urn-authority: tag v1.0.1 already exists"),
        "{run}"
    );
    assert_unchanged(&before, &demo.state(), "existing tag refusal");
    assert!(!demo.journal().exists());
}

#[test]
fn only_applies_one_repository_of_a_saved_plan() {
    let demo = Demo::built();
    let plan = demo.save_plan();
    let before = demo.state();

    let run = demo.cascade(&["--only", "manifest", "--plan", &plan, "--yes"]);
    assert_eq!(run.code, Some(0), "{run}");
    assert_repo_released(&demo, "manifest");
    let mut after = demo.state();
    let mut rest = before;
    after.remove("manifest");
    rest.remove("manifest");
    assert_unchanged(&rest, &after, "--only manifest");

    let run = demo.cascade(&["--only", "urn-authority", "--plan", &plan, "--yes"]);
    assert_eq!(run.code, Some(0), "{run}");
    assert_repo_released(&demo, "urn-authority");
    assert!(
        demo.read("urn-authority", "Cargo.toml")
            .contains("/manifest\", tag = \"v1.1.0\" }")
    );
    let (v, _) = locked(&demo.read("urn-authority", "Cargo.lock"), "manifest").unwrap();
    assert_eq!(v, "1.1.0");
    let mut after = demo.state();
    after.remove("urn-authority");
    after.remove("manifest");
    rest.remove("urn-authority");
    assert_unchanged(&rest, &after, "--only urn-authority");
    assert!(!demo.journal().exists());
}

#[test]
fn the_plan_names_the_lockfile_command_the_run_executes() {
    let demo = Demo::built();
    let plan_file = demo.save_plan();
    let plan: Value = serde_json::from_str(&std::fs::read_to_string(&plan_file).unwrap()).unwrap();
    let mut mismatches = Vec::new();
    for repo in ["manifest", "urn-authority"] {
        let run = demo.cascade(&["--only", repo, "--plan", &plan_file, "--yes", "--json"]);
        assert_eq!(run.code, Some(0), "{run}");
        let report = run.json();
        let ran: Vec<&str> = report["repos"][0]["notes"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|n| n.as_str()?.strip_prefix("Cargo.lock: "))
            .collect();
        let planned = plan["waves"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|w| w.as_array().unwrap())
            .find(|s| s["repo"] == repo)
            .unwrap()["lockfile_command"]
            .as_str()
            .unwrap();
        if ran != [planned] {
            mismatches.push(format!(
                "{repo}: plan says `{planned}`, the run executed {ran:?}"
            ));
        }
    }
    assert!(
        mismatches.is_empty(),
        "a dry run and a real run must make the same decisions:\n{}",
        mismatches.join("\n")
    );
}

#[test]
fn push_sends_branches_and_tags_to_each_remote() {
    let demo = Demo::built();
    let remotes = demo.add_remotes();
    let run = demo.cascade(&["--from", "manifest", "--yes", "--push", "--json"]);
    assert_eq!(run.code, Some(0), "{run}");
    let pushed: BTreeSet<String> = run.json()["pushed"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p.as_str().unwrap().to_owned())
        .collect();
    let all: BTreeSet<String> = RELEASED.iter().map(|(r, _)| (*r).to_owned()).collect();
    assert_eq!(pushed, all);
    assert_all_released(&demo);
    for (repo, version) in RELEASED {
        let bare = remotes.join(format!("{repo}.git"));
        let tag = format!("refs/tags/v{version}");
        assert_eq!(
            run_git(&bare, &["rev-parse", "refs/heads/main"]),
            demo.git(repo, &["rev-parse", "HEAD"]),
            "{repo}: branch head on the remote"
        );
        assert_eq!(
            run_git(&bare, &["rev-parse", &tag]),
            demo.git(repo, &["rev-parse", &tag]),
            "{repo}: the annotated tag object on the remote"
        );
    }
}

/// `needs:` of each job in an emitted workflow, read line by line.
fn workflow_jobs(yaml: &str) -> BTreeMap<String, (BTreeSet<String>, String)> {
    let mut jobs = BTreeMap::new();
    let mut in_jobs = false;
    let mut current: Option<String> = None;
    for line in yaml.lines() {
        assert!(!line.contains('\t'), "a tab in YAML: {line:?}");
        if line == "jobs:" {
            in_jobs = true;
            continue;
        }
        if !in_jobs {
            continue;
        }
        if let Some(name) = line
            .strip_prefix("  ")
            .filter(|l| !l.starts_with(' '))
            .and_then(|l| l.strip_suffix(':'))
        {
            jobs.insert(name.to_owned(), (BTreeSet::new(), String::new()));
            current = Some(name.to_owned());
        } else if let Some(job) = current.as_ref().and_then(|c| jobs.get_mut(c)) {
            if let Some(list) = line
                .strip_prefix("    needs: [")
                .and_then(|l| l.strip_suffix(']'))
            {
                job.0 = list.split(',').map(|n| n.trim().to_owned()).collect();
            } else if let Some(run) = line.trim_start().strip_prefix("run: lockstep ") {
                job.1 = run.to_owned();
            }
        }
    }
    jobs
}

#[test]
fn emit_github_actions_writes_one_job_per_repository_following_the_dag() {
    let demo = Demo::built();
    let plan = demo.save_plan();
    let run = demo.cascade(&["--emit", "github-actions", "--plan", &plan]);
    assert_eq!(run.code, Some(0), "{run}");
    let yaml = &run.stdout;
    for key in ["name:", "on:", "jobs:"] {
        assert!(
            yaml.lines().any(|l| l.starts_with(key)),
            "no top-level {key}\n{yaml}"
        );
    }
    let jobs = workflow_jobs(yaml);
    let expected: BTreeMap<String, BTreeSet<String>> = RELEASED
        .iter()
        .map(|(repo, _)| {
            (
                format!("release-{repo}"),
                upstreams(repo)
                    .iter()
                    .map(|u| format!("release-{u}"))
                    .collect(),
            )
        })
        .collect();
    let needs: BTreeMap<String, BTreeSet<String>> = jobs
        .iter()
        .map(|(j, (n, _))| (j.clone(), n.clone()))
        .collect();
    assert_eq!(needs, expected, "{yaml}");
    for (repo, _) in RELEASED {
        let (_, command) = &jobs[&format!("release-{repo}")];
        assert!(
            command.starts_with("release-cascade ")
                && command.contains(&format!("--only '{repo}'"))
                && command.contains("--plan ")
                && command.contains("--yes"),
            "{repo}: {command}"
        );
    }

    let on_path = std::env::var_os("PATH")
        .is_some_and(|p| std::env::split_paths(&p).any(|d| d.join("actionlint").is_file()));
    if on_path {
        let file = demo.root().join("cascade.yml");
        std::fs::write(&file, yaml).unwrap();
        let out = Command::new("actionlint").arg(&file).output().unwrap();
        assert!(
            out.status.success(),
            "actionlint:\n{}",
            String::from_utf8_lossy(&out.stdout)
        );
    } else {
        eprintln!("note: actionlint is not on PATH; the workflow was checked by structure only");
    }
}
