//! Issue 11 at the command line: packs install with their tests run first, refused installs
//! leave nothing behind, `--force` and `--skip-tests` are recorded, every test run is stored,
//! and a `kill -9` at any step or instant leaves the home and its database as before or as
//! after.
//!
//! Every test runs the real `lockstep` binary against the packs `fixtures/packs/setup.sh`
//! builds in a temp dir. The database is read back with SQLite itself, the installed files
//! from the disk: never through lockstep's own report.
//!
//! The randomised kill test runs `LOCKSTEP_KILL_RUNS` times (default 3):
//! `LOCKSTEP_KILL_RUNS=30 cargo test -p xtask --test it pack::random_kill -- --nocapture`.

use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use lockstep_testkit::http::{Route, Server};
use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_lockstep");

struct Fx {
    tmp: tempfile::TempDir,
}

struct Run {
    code: Option<i32>,
    signal: Option<i32>,
    stdout: String,
    stderr: String,
}

impl Run {
    fn json(&self) -> Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| {
            panic!("stdout is not JSON ({e}): {}\n{}", self.stdout, self.stderr)
        })
    }
}

impl Fx {
    fn new() -> Self {
        let tmp = tempfile::tempdir().unwrap();
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/packs/setup.sh");
        let out = Command::new("bash")
            .arg(&script)
            .arg(tmp.path().join("f"))
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        std::fs::create_dir_all(tmp.path().join("home")).unwrap();
        Fx { tmp }
    }

    fn f(&self) -> PathBuf {
        self.tmp.path().join("f")
    }

    fn home(&self) -> PathBuf {
        self.tmp.path().join("home")
    }

    fn cmd(&self, args: &[&str], env: &[(&str, &str)]) -> Command {
        let mut cmd = Command::new(BIN);
        cmd.arg("pack")
            .args(args)
            .arg("--home")
            .arg(self.home())
            .current_dir(self.f())
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .env("NO_COLOR", "1")
            .env("LOCKSTEP_ACTOR", "test")
            .env_remove("LOCKSTEP_FAILPOINT")
            .env_remove("LOCKSTEP_HOME")
            .env_remove("RUST_LOG")
            .stdin(Stdio::null());
        for (k, v) in env {
            cmd.env(k, v);
        }
        cmd
    }

    fn run_env(&self, args: &[&str], env: &[(&str, &str)]) -> Run {
        let out = self.cmd(args, env).output().unwrap();
        Run {
            code: out.status.code(),
            signal: out.status.signal(),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    /// Runs and asserts the exit code.
    #[track_caller]
    fn ok(&self, args: &[&str], code: i32) -> Run {
        let run = self.run_env(args, &[]);
        assert_eq!(
            run.code,
            Some(code),
            "lockstep pack {args:?}\nstdout: {}\nstderr: {}",
            run.stdout,
            run.stderr
        );
        run
    }

    fn recover(&self) -> Value {
        let out = Command::new(BIN)
            .args(["recover", "--json", "--home"])
            .arg(self.home())
            .env("NO_COLOR", "1")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).unwrap()
    }

    fn db(&self) -> rusqlite::Connection {
        rusqlite::Connection::open(self.home().join("state.db")).unwrap()
    }

    /// The installed set, read from the disk and from the database, which must agree:
    /// `NAME@VERSION` per pack, by name.
    #[track_caller]
    fn installed(&self) -> Vec<String> {
        let mut on_disk = Vec::new();
        if let Ok(entries) = std::fs::read_dir(self.home().join("packs")) {
            for e in entries {
                let e = e.unwrap();
                let yaml = std::fs::read_to_string(e.path().join("pack.yaml")).unwrap();
                let version = yaml
                    .lines()
                    .find_map(|l| l.strip_prefix("version: "))
                    .unwrap()
                    .to_owned();
                on_disk.push(format!("{}@{version}", e.file_name().to_string_lossy()));
            }
        }
        on_disk.sort();
        let mut in_db = Vec::new();
        if self.home().join("state.db").exists() {
            let db = self.db();
            let mut stmt = db
                .prepare("SELECT name || '@' || version FROM packs ORDER BY name")
                .unwrap();
            in_db = stmt
                .query_map([], |r| r.get::<_, String>(0))
                .unwrap()
                .map(Result::unwrap)
                .collect();
        }
        assert_eq!(on_disk, in_db, "the disk and the database disagree");
        on_disk
    }

    /// Stored test runs: `NAME VERSION STATUS forced skipped_by_user`, oldest first.
    fn runs(&self) -> Vec<String> {
        let db = self.db();
        let mut stmt = db
            .prepare("SELECT pack, version, status, forced, skipped_by_user FROM pack_test_runs ORDER BY id")
            .unwrap();
        stmt.query_map([], |r| {
            Ok(format!(
                "{} {} {} {} {}",
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, bool>(3)?,
                r.get::<_, bool>(4)?
            ))
        })
        .unwrap()
        .map(Result::unwrap)
        .collect()
    }

    fn audit(&self) -> Vec<Value> {
        std::fs::read_to_string(self.home().join("audit.jsonl"))
            .unwrap_or_default()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }

    /// Nothing of a transaction is left: no journal, staging or trash.
    #[track_caller]
    fn no_debris(&self) {
        for name in ["pack-journal.json", "staging", "trash"] {
            assert!(!self.home().join(name).exists(), "{name} left in the home");
        }
    }

    fn use_index(&self, location: &str) {
        std::fs::write(
            self.home().join("packs.toml"),
            format!("indexes = [\"{location}\"]\n"),
        )
        .unwrap();
    }
}

#[test]
fn passing_failing_forced_and_info_shows_both_runs() {
    let fx = Fx::new();
    let run = fx.ok(&["install", "passing", "--json"], 0);
    let j = run.json();
    assert_eq!(j["schema"], "lockstep.pack-install/v1");
    assert_eq!(j["outcome"], "installed");
    assert_eq!(j["packs"][0]["name"], "passing");
    assert_eq!(j["packs"][0]["test_result"]["status"], "passed");
    assert_eq!(j["packs"][0]["tests_skipped"], false);
    assert_eq!(fx.installed(), ["passing@1.0.0"]);

    // Failing tests: refused, exit 1, nothing left, the run stored.
    let run = fx.ok(&["install", "failing", "--json"], 1);
    let j = run.json();
    assert_eq!(j["outcome"], "refused");
    let r = &j["packs"][0]["test_result"];
    assert_eq!(
        (
            &r["status"],
            &r["total"],
            &r["passed"],
            &r["failed"],
            &r["skipped"]
        ),
        (&"failed".into(), &3.into(), &2.into(), &1.into(), &0.into())
    );
    assert!(
        r["output_tail"]
            .as_str()
            .unwrap()
            .contains("expected 200, got 500")
    );
    assert_eq!(fx.installed(), ["passing@1.0.0"]);
    fx.no_debris();
    let human = fx.ok(&["install", "failing"], 1).stdout;
    assert!(
        human.contains(
            "refused: the tests of failing 1.0.0 failed (total 3, passed 2, failed 1, skipped 0)"
        ),
        "{human}"
    );
    assert!(human.contains("pass --force to install anyway"), "{human}");

    // Forced: installed, warned, a risk acceptance in the audit log.
    let run = fx.ok(&["install", "failing", "--force", "--json"], 0);
    assert_eq!(run.json()["outcome"], "forced");
    assert_eq!(fx.installed(), ["failing@1.0.0", "passing@1.0.0"]);
    let audit = fx.audit();
    let forced: Vec<_> = audit.iter().filter(|r| r["action"] == "forced").collect();
    assert_eq!(forced.len(), 1, "{audit:?}");
    assert_eq!(forced[0]["outcome"], "risk_accepted");
    assert_eq!(
        forced[0]["details"]["failed_tests"],
        serde_json::json!(["failing"])
    );
    assert_eq!(
        fx.runs(),
        [
            "passing 1.0.0 passed false false",
            "failing 1.0.0 failed false false",
            "failing 1.0.0 failed false false",
            "failing 1.0.0 failed true false",
        ]
    );

    let info = fx.ok(&["info", "failing", "--json"], 0).json();
    assert_eq!(info["schema"], "lockstep.pack-info/v1");
    assert_eq!(info["pack"]["version"], "1.0.0");
    assert_eq!(info["pack"]["outcome"], "forced");
    let tests = info["tests"].as_array().unwrap();
    assert_eq!(tests.len(), 3);
    assert_eq!(tests[0]["forced"], true, "newest first");
    assert_eq!(tests[2]["forced"], false);
    for key in [
        "status",
        "total",
        "passed",
        "failed",
        "skipped",
        "started",
        "forced",
        "skipped_by_user",
    ] {
        assert!(tests[0].get(key).is_some(), "{key}");
    }
    let human = fx.ok(&["info", "failing"], 0).stdout;
    let mut settings = insta::Settings::clone_current();
    settings.add_filter(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", "[TIME]");
    settings.add_filter(&regex_escape(&fx.f().display().to_string()), "[FIXTURES]");
    settings.add_filter(&regex_escape(&fx.home().display().to_string()), "[HOME]");
    settings.bind(|| insta::assert_snapshot!("pack_info_forced", human));

    let list = fx.ok(&["list", "--json"], 0).json();
    assert_eq!(list["schema"], "lockstep.pack-list/v1");
    let names: Vec<_> = list["packs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].clone())
        .collect();
    assert_eq!(names, ["failing", "passing"]);
    assert!(list["packs"][0]["installed_at"].is_string());

    // Already installed at that version: refused unless --force.
    let run = fx.ok(&["install", "passing", "--json"], 1);
    assert_eq!(run.json()["kind"], "already_installed");
    fx.ok(&["install", "passing", "--force"], 0);
}

fn regex_escape(s: &str) -> String {
    s.chars()
        .flat_map(|c| {
            if "\\.+*?()|[]{}^$".contains(c) {
                vec!['\\', c]
            } else {
                vec![c]
            }
        })
        .collect()
}

#[test]
fn skip_tests_partial_and_hanging() {
    let fx = Fx::new();
    let j = fx
        .ok(&["install", "failing", "--skip-tests", "--json"], 0)
        .json();
    assert_eq!(j["outcome"], "untested");
    assert_eq!(j["packs"][0]["tests_skipped"], true);
    assert_eq!(j["packs"][0]["test_result"]["status"], "skipped");
    assert_eq!(fx.runs(), ["failing 1.0.0 skipped false true"]);
    assert!(fx.audit().iter().any(|r| r["action"] == "tests_skipped"));

    let j = fx.ok(&["register", "partial", "--json"], 0).json();
    assert_eq!(j["outcome"], "installed");
    let r = &j["packs"][0]["test_result"];
    assert_eq!(
        (&r["status"], &r["skipped"], &r["passed"]),
        (&"partial".into(), &1.into(), &2.into())
    );

    let start = Instant::now();
    let j = fx.ok(&["install", "hanging", "--json"], 1).json();
    assert!(
        start.elapsed() < Duration::from_secs(20),
        "{:?}",
        start.elapsed()
    );
    let r = &j["packs"][0]["test_result"];
    assert_eq!(r["status"], "failed");
    assert!(
        r["output_tail"]
            .as_str()
            .unwrap()
            .contains("timed out after 2s"),
        "{r}"
    );
    assert_eq!(fx.installed(), ["failing@1.0.0", "partial@1.0.0"]);
    fx.no_debris();

    // `pack test` runs an installed pack's tests again and stores the run.
    let j = fx.ok(&["test", "partial", "--json"], 0).json();
    assert_eq!(j["schema"], "lockstep.pack-test/v1");
    assert_eq!(j["test_result"]["status"], "partial");
    assert_eq!(
        fx.runs().last().unwrap(),
        "partial 1.0.0 partial false false"
    );
}

#[test]
fn bad_input_and_refusals_change_nothing() {
    let fx = Fx::new();
    fx.use_index("../f/index/packs.json");
    fx.ok(&["install", "app", "--core-version", "1.4.0"], 0);
    let before = fx.installed();
    assert_eq!(before, ["app@1.0.0", "base@1.1.0"]);
    let runs = fx.runs().len();
    for (args, code, needle) in [
        (vec!["install", "bomb"], 2, "bomb/pack.yaml:\n10:"),
        (vec!["install", "huge"], 2, "at most 1048576 bytes"),
        (vec!["install", "./missing"], 2, "no such directory"),
        (vec!["install", "nosuch"], 2, "no pack named `nosuch`"),
        (
            vec!["install", "clash"],
            1,
            "it requires base ^2, which no offered version matches",
        ),
        (
            vec!["install", "future", "--core-version", "1.4.0"],
            1,
            "needs core >= 9.0.0, but the installed core is 1.4.0",
        ),
        (vec!["remove", "base"], 1, "base is required by app"),
        (vec!["remove", "passing"], 2, "passing is not installed"),
        (
            vec!["register", "nosuch"],
            2,
            "register takes a pack's directory",
        ),
        (
            vec!["install", "--core-version", "one", "passing"],
            2,
            "`one` is not a SemVer version",
        ),
    ] {
        let run = fx.ok(&args, code);
        assert!(run.stderr.contains(needle), "{args:?}: {}", run.stderr);
        let mut json_args = args.clone();
        json_args.push("--json");
        assert_eq!(
            fx.ok(&json_args, code).json()["schema"],
            "lockstep.error/v1"
        );
    }
    assert_eq!(fx.installed(), before);
    assert_eq!(fx.runs().len(), runs, "no test ran");
    fx.no_debris();
    // Conflicting versions: legacy needs base =1.0.0, modern >=1.1; each alone is fine.
    fx.ok(&["remove", "app"], 0);
    let run = fx.ok(&["install", "legacy"], 1);
    assert!(
        run.stderr
            .contains("the installed packs depend on base 1.1.0"),
        "{}",
        run.stderr
    );
    fx.ok(&["remove", "base"], 0);
    let run = fx.ok(&["install", "legacy", "modern"], 1);
    assert!(
        run.stderr.contains("legacy")
            && run.stderr.contains("modern")
            && run.stderr.contains("base"),
        "{}",
        run.stderr
    );
    assert_eq!(fx.installed(), Vec::<String>::new());
    fx.ok(&["install", "modern"], 0);
    assert_eq!(fx.installed(), ["base@1.1.0", "modern@1.0.0"]);
    fx.ok(&["remove", "modern"], 0);
    fx.ok(&["install", "app"], 0);
    fx.ok(&["remove", "app", "--yes"], 0);
    fx.ok(&["remove", "base", "--yes"], 0);
    assert_eq!(fx.installed(), Vec::<String>::new());
}

#[test]
fn index_over_http_git_sources_and_search() {
    let fx = Fx::new();
    let server = Server::start();
    let text = std::fs::read_to_string(fx.f().join("index/packs.json"))
        .unwrap()
        .replace("\"../", &format!("\"{}/", fx.f().display()));
    server.route("/packs.json", Route::ok(text));
    fx.use_index(&server.url("/packs.json"));
    fx.ok(&["core", "set", "1.4.0"], 0);

    let j = fx.ok(&["install", "app", "--json"], 0).json();
    let order: Vec<String> = j["packs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            format!(
                "{}@{}",
                p["name"].as_str().unwrap(),
                p["version"].as_str().unwrap()
            )
        })
        .collect();
    assert_eq!(
        order,
        ["base@1.1.0", "app@1.0.0"],
        "dependencies first, newest base"
    );

    // A git source from the index at a tag, and one given directly at a branch.
    fx.ok(&["install", "tls@=1.0.0"], 0);
    assert!(fx.installed().contains(&"tls@1.0.0".to_owned()));
    let url = format!("file://{}/git/tls.git@main", fx.f().display());
    fx.ok(&["install", &url], 0);
    assert!(fx.installed().contains(&"tls@1.1.0".to_owned()));
    let info = fx.ok(&["info", "tls", "--json"], 0).json();
    let source = info["pack"]["source"].as_str().unwrap();
    assert!(source.contains("tls.git@") && source.len() > 40, "{source}");

    let j = fx.ok(&["search", "fixture", "--json"], 0).json();
    assert_eq!(j["schema"], "lockstep.pack-search/v1");
    let rows: Vec<String> = j["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            format!(
                "{} {} {}",
                r["name"].as_str().unwrap(),
                r["version"].as_str().unwrap(),
                r["compatible"]
            )
        })
        .collect();
    insta::assert_snapshot!("pack_search", rows.join("\n"));
    let human = fx.ok(&["search", "base"], 0).stdout;
    insta::assert_snapshot!("pack_search_human", human);
    assert!(server.requests().iter().all(|r| r.path() == "/packs.json"));
}

#[test]
fn archives_are_checked_against_their_sha256() {
    let fx = Fx::new();
    let tarball = fx.tmp.path().join("passing-1.0.0.tar.gz");
    let status = Command::new("tar")
        .arg("czf")
        .arg(&tarball)
        .arg("-C")
        .arg(fx.f())
        .arg("passing")
        .status()
        .unwrap();
    assert!(status.success());
    let bytes = std::fs::read(&tarball).unwrap();
    let sum = Command::new("sha256sum").arg(&tarball).output().unwrap();
    let sha = String::from_utf8_lossy(&sum.stdout)
        .split_whitespace()
        .next()
        .unwrap()
        .to_owned();
    let server = Server::start();
    server.route("/passing-1.0.0.tar.gz", Route::ok(bytes));
    let index = |sha: &str| {
        serde_json::json!({"schema": 1, "packs": [{
            "name": "passing", "version": "1.0.0", "description": "d", "keywords": [],
            "source": server.url("/passing-1.0.0.tar.gz"), "sha256": sha}]})
        .to_string()
    };
    std::fs::write(fx.home().join("bad.json"), index(&"0".repeat(64))).unwrap();
    fx.use_index("bad.json");
    // `passing` is also a directory in the fixtures; NAME@REQUIREMENT always means the index.
    let run = fx.ok(&["install", "passing@1", "--json"], 2);
    assert!(
        run.json()["error"].as_str().unwrap().contains("sha256"),
        "{}",
        run.stdout
    );
    assert_eq!(fx.installed(), Vec::<String>::new());
    fx.no_debris();
    std::fs::write(fx.home().join("good.json"), index(&sha)).unwrap();
    fx.use_index("good.json");
    fx.ok(&["install", "passing@1"], 0);
    assert_eq!(fx.installed(), ["passing@1.0.0"]);
}

#[test]
fn hooks_run_after_install_and_before_remove() {
    let fx = Fx::new();
    fx.ok(&["install", "hooked"], 0);
    fx.ok(&["remove", "hooked", "--json"], 0);
    let trace = std::fs::read_to_string(fx.home().join("hook-trace.txt")).unwrap();
    assert_eq!(trace, "installed hooked\nremoving hooked\n");
    assert_eq!(fx.installed(), Vec::<String>::new());
}

/// Where an install (or a removal) is when the failpoint kills it, and what recovery must
/// leave: the old installed set, or the new one.
#[test]
fn kill_at_every_failpoint_leaves_old_or_new() {
    let template = Fx::new();
    template.use_index("../f/index/packs.json");
    template.ok(&["install", "base@=1.0.0"], 0);
    let old = vec!["base@1.0.0".to_owned()];
    let new = vec!["app@1.0.0".to_owned(), "base@1.0.0".to_owned()];
    for fp in lockstep_packs::FAILPOINTS
        .iter()
        .filter(|f| !f.starts_with("pack_remove"))
    {
        let fx = copy(&template);
        // A forced reinstall of base moves the old copy aside and the new one in.
        let run = fx.run_env(
            &["install", "base@=1.0.0", "app", "--force"],
            &[("LOCKSTEP_FAILPOINT", fp)],
        );
        assert_eq!(run.signal, Some(9), "{fp}: {}", run.stderr);
        let rec = fx.recover();
        let expected = if matches!(*fp, "pack_committed" | "pack_cleaned") {
            &new
        } else {
            &old
        };
        assert_eq!(&fx.installed(), expected, "after {fp}: {rec}");
        fx.no_debris();
        // The home works afterwards.
        fx.ok(&["install", "app"], if expected == &new { 1 } else { 0 });
    }
    for fp in ["pack_remove_moved", "pack_remove_committed"] {
        let fx = copy(&template);
        let run = fx.run_env(&["remove", "base"], &[("LOCKSTEP_FAILPOINT", fp)]);
        assert_eq!(run.signal, Some(9), "{fp}");
        fx.recover();
        let expected: Vec<String> = if fp == "pack_remove_committed" {
            vec![]
        } else {
            old.clone()
        };
        assert_eq!(fx.installed(), expected, "after {fp}");
        fx.no_debris();
    }
}

/// A kill while the tests run leaves their process group running; recovery kills it.
#[test]
fn recovery_kills_the_tests_left_running() {
    let fx = Fx::new();
    let run = fx.run_env(
        &["install", "hanging"],
        &[("LOCKSTEP_FAILPOINT", "pack_testing")],
    );
    assert_eq!(run.signal, Some(9));
    let journal: Value = serde_json::from_str(
        &std::fs::read_to_string(fx.home().join("pack-journal.json")).unwrap(),
    )
    .unwrap();
    let pgid = journal["pgid"]
        .as_u64()
        .expect("the journal holds the process group");
    // Members of the group that are running (zombies nobody reaps do not count).
    let alive = || {
        std::fs::read_dir("/proc").unwrap().flatten().any(|e| {
            let stat = std::fs::read_to_string(e.path().join("stat")).unwrap_or_default();
            // pid (comm) state ppid pgrp …
            let rest = stat.rsplit_once(") ").map_or("", |(_, r)| r);
            let fields: Vec<&str> = rest.split_whitespace().collect();
            fields.len() > 2 && fields[2] == pgid.to_string() && fields[0] != "Z"
        })
    };
    assert!(alive(), "the tests outlived lockstep");
    // Any pack command recovers first.
    let list = fx.ok(&["list", "--json"], 0).json();
    assert_eq!(list["packs"], serde_json::json!([]));
    assert!(!alive(), "recovery killed the group");
    fx.no_debris();
}

fn copy(template: &Fx) -> Fx {
    let tmp = tempfile::tempdir().unwrap();
    let status = Command::new("cp")
        .arg("-a")
        .arg(format!("{}/.", template.tmp.path().display()))
        .arg(tmp.path())
        .status()
        .unwrap();
    assert!(status.success());
    // The index and the home name paths relative to themselves, so the copy is whole.
    Fx { tmp }
}

#[test]
fn random_kill() {
    let runs: u64 = std::env::var("LOCKSTEP_KILL_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3);
    let seed: u64 = std::env::var("LOCKSTEP_KILL_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(11);
    let template = Fx::new();
    template.use_index("../f/index/packs.json");
    template.ok(&["install", "base@=1.0.0"], 0);
    let old = vec!["base@1.0.0".to_owned()];
    let new = vec!["app@1.0.0".to_owned(), "base@1.0.0".to_owned()];
    // Kill instants spread over one whole install, measured here.
    let probe = copy(&template);
    let start = Instant::now();
    probe.ok(&["install", "base@=1.0.0", "app", "--force"], 0);
    let span = start.elapsed().as_micros() as u64 + 1;
    let mut state = seed;
    let (mut olds, mut news) = (0, 0);
    for i in 0..runs {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let delay = Duration::from_micros((state >> 33) % span);
        let fx = copy(&template);
        let mut child = fx
            .cmd(&["install", "base@=1.0.0", "app", "--force"], &[])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(delay);
        let _ = child.kill();
        let _ = child.wait();
        fx.recover();
        let got = fx.installed();
        assert!(
            got == old || got == new,
            "run {i} (kill after {delay:?}): {got:?}"
        );
        if got == old {
            olds += 1
        } else {
            news += 1
        }
        fx.no_debris();
    }
    eprintln!("random_kill: {runs} runs over {span} µs, {olds} old, {news} new (seed {seed})");
}
