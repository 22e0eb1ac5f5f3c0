//! Issue 12 at the command line: watchers against a loopback npm registry (concurrent checks
//! record each version once), the canary lab on scripted canaries (kill -9 mid-run), the
//! known-good registry (kill -9 mid-promotion), pins, resolve and signed webhooks.

use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use lockstep_testkit::http::{Route, Server};
use lockstep_testkit::webhook::Receiver;
use serde_json::{Value, json};

const BIN: &str = env!("CARGO_BIN_EXE_lockstep");

struct Env {
    tmp: tempfile::TempDir,
    vars: Vec<(String, String)>,
}

impl Env {
    fn new() -> Self {
        let tmp = tempfile::tempdir().unwrap();
        let home = tmp.path().join("home");
        Env {
            vars: vec![("LOCKSTEP_HOME".into(), home.display().to_string())],
            tmp,
        }
    }

    fn home(&self) -> PathBuf {
        self.tmp.path().join("home")
    }

    fn var(mut self, k: &str, v: &str) -> Self {
        self.vars.push((k.into(), v.into()));
        self
    }

    fn cmd(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(BIN);
        cmd.args(args)
            .current_dir(self.tmp.path())
            .env("NO_COLOR", "1")
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .env_remove("LOCKSTEP_FAILPOINT")
            .env_remove("LOCKSTEP_STORE")
            .env_remove("LOCKSTEP_NPM_REGISTRY")
            .env_remove("RUST_LOG");
        for (k, v) in &self.vars {
            cmd.env(k, v);
        }
        cmd
    }

    fn run(&self, args: &[&str]) -> (i32, Value, String) {
        let out = self.cmd(args).output().unwrap();
        parse(&out)
    }

    fn run_fp(&self, args: &[&str], failpoint: &str) -> Output {
        self.cmd(args)
            .env("LOCKSTEP_FAILPOINT", failpoint)
            .output()
            .unwrap()
    }

    fn audit_actions(&self) -> Vec<String> {
        let text = std::fs::read_to_string(self.home().join("audit.jsonl")).unwrap_or_default();
        text.lines()
            .map(|l| {
                serde_json::from_str::<Value>(l).unwrap()["action"]
                    .as_str()
                    .unwrap()
                    .to_owned()
            })
            .collect()
    }
}

fn parse(out: &Output) -> (i32, Value, String) {
    let stdout = String::from_utf8_lossy(&out.stdout);
    let value = serde_json::from_str(&stdout).unwrap_or(Value::Null);
    (
        out.status.code().unwrap_or(-1),
        value,
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn fixture(env: &Env) -> PathBuf {
    let dir = env.tmp.path().join("f");
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/fleet/build.sh");
    let out = Command::new("bash").arg(script).arg(&dir).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    dir
}

fn npm_doc(versions: &[String]) -> Value {
    let v: serde_json::Map<String, Value> = versions
        .iter()
        .map(|x| (x.clone(), json!({"version": x})))
        .collect();
    json!({"name": "tool", "versions": v, "time": {}})
}

#[test]
fn watch_check_reports_new_versions_with_exit_100_and_fails_loudly() {
    let server = Server::start();
    server.route(
        "/tool",
        Route::json(&npm_doc(&["1.0.0".into(), "2.0.0-beta.1".into()]))
            .etag("one")
            .times(2),
    );
    server.route(
        "/tool",
        Route::json(&npm_doc(&[
            "1.0.0".into(),
            "2.0.0-beta.1".into(),
            "1.1.0".into(),
        ]))
        .etag("two"),
    );
    server.route("/gone", Route::error(500));
    let env = Env::new().var("LOCKSTEP_NPM_REGISTRY", server.base_url());
    let hook = Receiver::start("watch-secret");
    std::fs::create_dir_all(env.home()).unwrap();
    std::fs::write(
        env.home().join("notify.toml"),
        format!(
            "[[webhook]]\nurl = \"{}\"\nsecret = \"watch-secret\"\nevents = [\"new_version\"]\n",
            hook.url()
        ),
    )
    .unwrap();
    assert_eq!(env.run(&["watch", "add", "npm:tool", "--json"]).0, 0);
    let (code, v, _) = env.run(&["watch", "check", "--exit-code", "--json"]);
    assert_eq!(code, 100);
    assert_eq!(v["schema"], "lockstep.watch-check/v1");
    let new: Vec<(&str, bool)> = v["new"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| {
            (
                n["version"].as_str().unwrap(),
                n["prerelease"].as_bool().unwrap(),
            )
        })
        .collect();
    assert_eq!(new, [("1.0.0", false), ("2.0.0-beta.1", true)]);
    assert_eq!(v["new"][0]["source"], "npm:tool");
    assert_eq!(v["sources"][0]["status"], "ok");
    assert_eq!(
        env.run(&["watch", "check", "--exit-code", "--json"]).0,
        0,
        "a 304: nothing new"
    );
    let (code, v, _) = env.run(&["watch", "check", "--exit-code", "--json"]);
    assert_eq!(
        (code, v["new"][0]["version"].as_str()),
        (100, Some("1.1.0"))
    );

    // A failing source: exit 2, the object still printed, never "no new versions".
    assert_eq!(env.run(&["watch", "add", "npm:gone"]).0, 0);
    let (code, v, stderr) = env.run(&["watch", "check", "--json"]);
    assert_eq!(code, 2, "{stderr}");
    assert_eq!(v["schema"], "lockstep.watch-check/v1");
    let gone = v["sources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["source"] == "npm:gone")
        .unwrap()
        .clone();
    assert_eq!(gone["status"], "error");
    assert!(gone["error"].as_str().unwrap().contains("500"));
    // Something new from another source: 100 with --exit-code, the failure still reported.
    server.route("/fresh", Route::json(&npm_doc(&["3.0.0".into()])));
    assert_eq!(env.run(&["watch", "add", "npm:fresh"]).0, 0);
    let (code, v, _) = env.run(&["watch", "check", "--exit-code", "--json"]);
    assert_eq!(
        (code, v["new"][0]["source"].as_str()),
        (100, Some("npm:fresh"))
    );
    assert!(
        v["sources"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["status"] == "error")
    );
    let (code, v, _) = env.run(&["watch", "add", "svn:tool", "--json"]);
    assert_eq!((code, v["schema"].as_str()), (2, Some("lockstep.error/v1")));
}

#[test]
fn concurrent_watch_checks_record_each_version_once() {
    let server = Server::start();
    let versions: Vec<String> = (0..80).map(|i| format!("0.{i}.0")).collect();
    server.route("/many", Route::json(&npm_doc(&versions)));
    let env = Env::new().var("LOCKSTEP_NPM_REGISTRY", server.base_url());
    assert_eq!(env.run(&["watch", "add", "npm:many"]).0, 0);
    let children: Vec<_> = (0..4)
        .map(|_| {
            env.cmd(&["watch", "check", "--json"])
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let mut seen: Vec<String> = Vec::new();
    for child in children {
        let (code, v, stderr) = parse(&child.wait_with_output().unwrap());
        assert_eq!(code, 0, "{stderr}");
        seen.extend(
            v["new"]
                .as_array()
                .unwrap()
                .iter()
                .map(|n| n["version"].as_str().unwrap().to_owned()),
        );
    }
    seen.sort();
    let mut expected = versions.clone();
    expected.sort();
    assert_eq!(
        seen, expected,
        "every version reported by exactly one of the checks"
    );
    let (_, v, _) = env.run(&["watch", "list", "--json"]);
    assert_eq!(v["sources"][0]["versions"], 80);
}

/// A lab file whose one canary passes for any version (the npm canary's pin, `true` as test).
fn always_green(dir: &Path) -> PathBuf {
    let file = dir.join("lab-always.toml");
    std::fs::write(&file, "[[canary]]\nname = \"always\"\npath = \"canaries/npm-app\"\ntest = \"true\"\ntimeout = 30\ncore = { mode = \"pin\", file = \"package.json\", dependency = \"fleet-component\" }\n").unwrap();
    file
}

#[test]
fn lab_promote_quarantine_pin_resolve_and_the_signed_notification() {
    let env = Env::new();
    let f = fixture(&env);
    let hook = Receiver::start("fleet-secret");
    std::fs::create_dir_all(env.home()).unwrap();
    std::fs::write(
        env.home().join("notify.toml"),
        format!("[[webhook]]\nurl = \"{}\"\nsecret = \"fleet-secret\"\nevents = [\"lab_verdict\", \"promotion\", \"quarantine\", \"pin_set\"]\n", hook.url()),
    )
    .unwrap();
    let lab = f.join("lab.toml").display().to_string();
    let (code, green, stderr) = env.run(&[
        "lab",
        "run",
        "fleet-component@1.1.0",
        "--canaries",
        &lab,
        "--json",
    ]);
    assert_eq!(
        (code, green["verdict"].as_str()),
        (0, Some("green")),
        "{stderr}"
    );
    assert_eq!(green["schema"], "lockstep.lab-run/v1");
    let (code, red, _) = env.run(&[
        "lab",
        "run",
        "fleet-component@2.0.0",
        "--canaries",
        &lab,
        "--json",
    ]);
    assert_eq!((code, red["verdict"].as_str()), (1, Some("red")));
    for c in red["canaries"].as_array().unwrap() {
        assert_eq!(c["status"], "failed");
        for key in ["name", "duration_ms", "exit_code", "output_tail"] {
            assert!(c.get(key).is_some(), "{key}");
        }
    }
    assert_eq!(
        env.run(&[
            "known-good",
            "promote",
            "fleet-component@2.0.0",
            "--channel",
            "beta"
        ])
        .0,
        1
    );
    let (code, _, stderr) = env.run(&[
        "known-good",
        "promote",
        "fleet-component@1.1.0",
        "--channel",
        "stable",
    ]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(
        env.run(&[
            "known-good",
            "quarantine",
            "fleet-component@2.0.0",
            "--reason",
            "renames hello"
        ])
        .0,
        0
    );
    let (_, list, _) = env.run(&["known-good", "list", "--json"]);
    assert_eq!(list["schema"], "lockstep.known-good/v1");
    let entries: Vec<(&str, &str, Option<&str>)> = list["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["version"].as_str().unwrap(),
                e["state"].as_str().unwrap(),
                e["channel"].as_str(),
            )
        })
        .collect();
    assert_eq!(
        entries,
        [
            ("1.1.0", "known_good", Some("stable")),
            ("2.0.0", "quarantined", None)
        ]
    );
    assert_eq!(list["entries"][1]["reason"], "renames hello");

    let (code, pin, stderr) = env.run(&[
        "pin",
        "set",
        "acme",
        "fleet-component@1.0.0",
        "--reason",
        "certified build",
        "--expires",
        "2099-06-30",
        "--by",
        "ana",
        "--json",
    ]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(pin["pin"]["expires"], "2099-06-30T00:00:00Z");
    let (code, r, _) = env.run(&["resolve", "acme", "fleet-component", "--json"]);
    assert_eq!(
        (
            code,
            r["schema"].as_str(),
            r["version"].as_str(),
            r["why"].as_str()
        ),
        (0, Some("lockstep.resolve/v1"), Some("1.0.0"), Some("pin"))
    );
    assert_eq!(r["pin"]["reason"], "certified build");
    let (_, r, _) = env.run(&["resolve", "globex", "fleet-component", "--json"]);
    assert_eq!(
        (r["version"].as_str(), r["why"].as_str(), &r["pin"]),
        (Some("1.1.0"), Some("known_good"), &Value::Null)
    );
    assert_eq!(
        env.run(&[
            "pin",
            "set",
            "acme",
            "fleet-component@1.0.0",
            "--reason",
            "old",
            "--expires",
            "2001-01-01",
            "--by",
            "ana"
        ])
        .0,
        0
    );
    let (_, r, _) = env.run(&["resolve", "acme", "fleet-component", "--json"]);
    assert_eq!(r["why"], "known_good");
    assert!(
        r["notes"]
            .as_array()
            .unwrap()
            .iter()
            .any(|n| n.as_str().unwrap().starts_with("expir")),
        "{r}"
    );
    assert_eq!(
        env.run(&[
            "pin",
            "set",
            "acme",
            "fleet-component@1.0.0",
            "--reason",
            "x",
            "--expires",
            "someday",
            "--by",
            "ana"
        ])
        .0,
        2
    );

    // Every event arrived signed (the receiver checks with its own HMAC).
    let got = hook.received();
    let events: Vec<&str> = got
        .iter()
        .map(|r| r.header("x-lockstep-event").unwrap())
        .collect();
    assert_eq!(
        events,
        [
            "lab_verdict",
            "lab_verdict",
            "promotion",
            "quarantine",
            "pin_set",
            "pin_set"
        ]
    );
    assert!(got.iter().all(|r| r.signature_ok));
    let promotion = got[2].json();
    assert_eq!(
        (
            promotion["component"].as_str(),
            promotion["version"].as_str(),
            promotion["status"].as_str()
        ),
        (Some("fleet-component"), Some("1.1.0"), Some("green"))
    );
    let (_, log, _) = env.run(&["notify", "log", "--json"]);
    assert_eq!(log["attempts"].as_array().unwrap().len(), 6);
    assert_eq!(
        env.audit_actions(),
        [
            "lab_run",
            "lab_run",
            "fleet_promoted",
            "fleet_quarantined",
            "pin_set",
            "pin_set",
            "pin_expired"
        ]
    );
}

#[test]
fn rollback_target_after_three_promotions_is_the_middle_one() {
    let env = Env::new();
    let f = fixture(&env);
    let lab = always_green(&f).display().to_string();
    for v in ["1.0.0", "1.1.0", "1.2.0"] {
        let target = format!("fleet-component@{v}");
        assert_eq!(env.run(&["lab", "run", &target, "--canaries", &lab]).0, 0);
        assert_eq!(
            env.run(&["known-good", "promote", &target, "--channel", "stable"])
                .0,
            0
        );
    }
    let (code, t, _) = env.run(&[
        "known-good",
        "rollback-target",
        "fleet-component",
        "--channel",
        "stable",
        "--json",
    ]);
    assert_eq!(code, 0);
    assert_eq!(
        t,
        json!({"schema": "lockstep.rollback-target/v1", "component": "fleet-component", "channel": "stable", "version": "1.1.0", "current": "1.2.0"})
    );
    assert_eq!(
        env.run(&[
            "known-good",
            "rollback-target",
            "fleet-component",
            "--channel",
            "beta"
        ])
        .0,
        1
    );
}

#[test]
fn kill_9_during_a_promotion_leaves_it_whole_or_absent_with_its_audit_record() {
    let env = Env::new();
    let f = fixture(&env);
    let lab = always_green(&f).display().to_string();
    assert_eq!(
        env.run(&["lab", "run", "fleet-component@1.1.0", "--canaries", &lab])
            .0,
        0
    );
    let promote = [
        "known-good",
        "promote",
        "fleet-component@1.1.0",
        "--channel",
        "stable",
    ];

    let out = env.run_fp(&promote, "promote_before_commit");
    assert_eq!(out.status.signal(), Some(9));
    let (_, list, _) = env.run(&["known-good", "list", "--json"]);
    assert_eq!(list["entries"], json!([]), "nothing promoted");
    assert_eq!(env.audit_actions(), ["lab_run"]);

    let out = env.run_fp(&promote, "promote_after_commit");
    assert_eq!(out.status.signal(), Some(9));
    // The next command finds the promotion committed and appends its audit record, once.
    let (_, list, _) = env.run(&["known-good", "list", "--json"]);
    assert_eq!(list["entries"][0]["version"], "1.1.0");
    assert_eq!(env.audit_actions(), ["lab_run", "fleet_promoted"]);
    env.run(&["known-good", "list"]);
    assert_eq!(env.audit_actions(), ["lab_run", "fleet_promoted"]);
}

#[test]
fn kill_9_during_a_lab_run_leaves_no_copy_or_process_after_recovery() {
    let env = Env::new();
    let f = fixture(&env);
    let lab = f.join("lab-hang.toml").display().to_string();
    let mut child = env
        .cmd(&["lab", "run", "fleet-component@1.1.0", "--canaries", &lab])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Wait until the hanging canary's test runs in its copy, then kill lockstep.
    let lab_dir = env.home().join("lab");
    let started = Instant::now();
    let groups = loop {
        let groups: Vec<u32> = std::fs::read_dir(&lab_dir)
            .into_iter()
            .flatten()
            .flatten()
            .filter_map(|e| std::fs::read_to_string(e.path().join("groups")).ok())
            .flat_map(|t| {
                t.lines()
                    .filter_map(|l| l.parse().ok())
                    .collect::<Vec<u32>>()
            })
            .collect();
        if groups.iter().any(|g| {
            std::fs::read_to_string(format!("/proc/{g}/cmdline")).is_ok_and(|c| c.contains("sleep"))
        }) {
            break groups;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the hanging test never started"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(
        std::fs::read_dir(&lab_dir).unwrap().count() > 0,
        "the crash left its copies"
    );

    // The next lab command recovers first: the orphaned test is killed, the copies removed.
    let quick = always_green(&f).display().to_string();
    assert_eq!(
        env.run(&["lab", "run", "fleet-component@1.1.0", "--canaries", &quick])
            .0,
        0
    );
    assert_eq!(std::fs::read_dir(&lab_dir).unwrap().count(), 0);
    for g in groups {
        let alive =
            std::fs::read_to_string(format!("/proc/{g}/stat")).is_ok_and(|s| !s.contains(") Z "));
        assert!(!alive, "process group {g} survived");
    }
    // The canary itself was never touched.
    assert!(
        std::fs::read_to_string(f.join("canaries/hanging/package.json"))
            .unwrap()
            .contains("\"1.0.0\"")
    );
}

#[test]
fn install_timer_writes_units_and_prints_a_crontab_line() {
    let env = Env::new();
    let units = env.tmp.path().join("units");
    let (code, v, _) = env.run(&[
        "notify",
        "install-timer",
        "--systemd",
        units.to_str().unwrap(),
        "--every",
        "10",
        "--json",
    ]);
    assert_eq!(code, 0);
    assert_eq!(v["files"].as_array().unwrap().len(), 2);
    let service = std::fs::read_to_string(units.join("lockstep-watch.service")).unwrap();
    assert!(service.contains("watch check --notify --home"), "{service}");
    let (_, v, _) = env.run(&["notify", "install-timer", "--cron", "--json"]);
    assert!(v["line"].as_str().unwrap().starts_with("*/15 * * * * "));
}
