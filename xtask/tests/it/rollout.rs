//! `lockstep rollout …` end to end: a real home (SQLite, audit log), versions made known-good
//! through `lab run` and `known-good promote`, reports fed as a script, a signed webhook
//! received on loopback, and kill -9 during `advance`.
//!
//! Which units get the new version is checked against buckets computed here with `sha2` from
//! the contract's definition, not with lockstep's own bucket function.

use std::io::Write;
use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::process::{Command, Output, Stdio};

use lockstep_testkit::webhook::Receiver;
use serde_json::Value;
use sha2::{Digest, Sha256};

const LAB: &str = r#"[[canary]]
name = "smoke"
path = "canary"
test = "true"
timeout = 30
core = { mode = "command", install = "true" }
"#;

/// The contract's bucket: first 8 bytes of SHA-256("lockstep/rollout/v1\0" + id + "\0" + unit),
/// big-endian, modulo 10000.
fn bucket(id: &str, unit: &str) -> u64 {
    let mut h = Sha256::new();
    h.update(b"lockstep/rollout/v1\0");
    h.update(id.as_bytes());
    h.update(b"\0");
    h.update(unit.as_bytes());
    let d = h.finalize();
    u64::from_be_bytes(d[..8].try_into().unwrap()) % 10_000
}

struct Fleet {
    dir: tempfile::TempDir,
}

struct Run {
    code: Option<i32>,
    signal: Option<i32>,
    stdout: String,
    stderr: String,
}

impl Run {
    fn json(&self) -> Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("not JSON ({e}):\n{}\n{}", self.stdout, self.stderr))
    }
    fn ok(self) -> Run {
        assert_eq!(self.code, Some(0), "{}\n{}", self.stdout, self.stderr);
        self
    }
}

impl From<Output> for Run {
    fn from(o: Output) -> Run {
        Run {
            code: o.status.code(),
            signal: o.status.signal(),
            stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        }
    }
}

impl Fleet {
    /// A home with `agent-cli` 1.0.0 then 2.0.0 promoted to stable, and `notify.toml` sending
    /// `rollout_halted` to `hook` if given.
    fn new(hook: Option<&Receiver>) -> Fleet {
        let f = Fleet {
            dir: tempfile::tempdir().unwrap(),
        };
        let canary = f.dir.path().join("canary");
        std::fs::create_dir_all(&canary).unwrap();
        std::fs::write(canary.join("README"), "a canary\n").unwrap();
        std::fs::write(f.dir.path().join("lab.toml"), LAB).unwrap();
        std::fs::create_dir_all(f.home()).unwrap();
        if let Some(h) = hook {
            std::fs::write(
                f.home().join("notify.toml"),
                format!(
                    "[[webhook]]\nurl = \"{}\"\nsecret = \"s3cret\"\nevents = [\"rollout_halted\"]\n",
                    h.url()
                ),
            )
            .unwrap();
        }
        for v in ["1.0.0", "2.0.0"] {
            f.run(&[
                "lab",
                "run",
                &format!("agent-cli@{v}"),
                "--canaries",
                "lab.toml",
            ])
            .ok();
            f.run(&[
                "known-good",
                "promote",
                &format!("agent-cli@{v}"),
                "--channel",
                "stable",
            ])
            .ok();
        }
        f
    }

    fn home(&self) -> std::path::PathBuf {
        self.dir.path().join("home")
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_lockstep"));
        cmd.args(args)
            .current_dir(self.dir.path())
            .env("LOCKSTEP_HOME", self.home())
            .env_remove("LOCKSTEP_STORE")
            .env_remove("LOCKSTEP_FAILPOINT")
            .env("LOCKSTEP_ACTOR", "rollout-test")
            .env("NO_COLOR", "1")
            .env_remove("RUST_LOG");
        cmd
    }

    fn run(&self, args: &[&str]) -> Run {
        self.command(args).output().unwrap().into()
    }

    fn run_with_failpoint(&self, args: &[&str], failpoint: &str) -> Run {
        self.command(args)
            .env("LOCKSTEP_FAILPOINT", failpoint)
            .output()
            .unwrap()
            .into()
    }

    /// Feeds a script of reports through `rollout report --batch -`.
    fn report(&self, prefix: &str, successes: usize, failures: usize) -> Value {
        let mut script = String::new();
        for i in 0..successes {
            script.push_str(&format!(
                "{{\"unit\": \"{prefix}-ok-{i}\", \"outcome\": \"success\", \"latency_ms\": 120}}\n"
            ));
        }
        for i in 0..failures {
            script.push_str(&format!(
                "{{\"unit\": \"{prefix}-bad-{i}\", \"outcome\": \"failure\"}}\n"
            ));
        }
        let mut child = self
            .command(&["rollout", "report", "--batch", "-", "--json"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(script.as_bytes())
            .unwrap();
        let run: Run = child.wait_with_output().unwrap().into();
        run.ok().json()
    }

    fn status(&self) -> Value {
        self.run(&["rollout", "status", "--json"]).ok().json()
    }

    /// Assigns `n` units and checks each against the bucket computed here; returns how many
    /// got the new version.
    fn check_assignments(&self, id: &str, n: usize, stage_bp: u64, halted: bool) -> usize {
        let mut new = 0;
        for i in 0..n {
            let unit = format!("session-{i}");
            let a = self
                .run(&["rollout", "assign", &unit, "--json"])
                .ok()
                .json();
            assert_eq!(a["schema"], "lockstep.rollout-assign/v1");
            assert_eq!(a["bucket"], bucket(id, &unit), "{unit}");
            assert_eq!(a["stage_bp"], stage_bp);
            let inside = !halted && bucket(id, &unit) < stage_bp;
            let (version, why) = if inside {
                ("2.0.0", "rollout")
            } else {
                ("1.0.0", "rollback_target")
            };
            assert_eq!(
                (a["version"].as_str(), a["why"].as_str()),
                (Some(version), Some(why)),
                "{unit}: {a}"
            );
            new += usize::from(inside);
        }
        new
    }
}

fn start(f: &Fleet, min_samples: &str) -> String {
    let s = f
        .run(&[
            "rollout",
            "start",
            "agent-cli@2.0.0",
            "--channel",
            "stable",
            "--stages",
            "1,10,50,100",
            "--min-samples",
            min_samples,
            "--max-failure-rate",
            "0.05",
            "--json",
        ])
        .ok()
        .json();
    assert_eq!(
        (s["state"].as_str(), s["stage_percent"].as_u64()),
        (Some("running"), Some(1))
    );
    assert_eq!(s["rollback"], "1.0.0");
    s["id"].as_str().unwrap().to_owned()
}

#[test]
fn a_scripted_rollout_goes_from_1_to_100_percent() {
    let f = Fleet::new(None);
    let id = start(&f, "80");
    // A second rollout of the component on the channel is refused.
    let again = f.run(&["rollout", "start", "agent-cli@2.0.0", "--channel", "stable"]);
    assert_eq!(again.code, Some(1), "{}", again.stderr);
    assert!(
        again.stderr.contains("already has an active rollout"),
        "{}",
        again.stderr
    );

    // Too few reports: the stage stays, exit 0.
    f.report("early", 10, 0);
    // A unit on the old version reports a failure: stored, not counted against 2.0.0.
    let r = f
        .run(&[
            "rollout",
            "report",
            "old-1",
            "--outcome",
            "failure",
            "--version",
            "1.0.0",
            "--json",
        ])
        .ok()
        .json();
    assert_eq!(
        (
            r["other_version"].as_u64(),
            r["samples"].as_u64(),
            r["failures"].as_u64()
        ),
        (Some(1), Some(10), Some(0))
    );
    let a = f.run(&["rollout", "advance", "--json"]).ok().json();
    assert_eq!(a["decision"], "stay");
    assert_eq!(f.status()["stage_percent"], 1);

    // `resolve` answers from the rollout for an organisation without a pin.
    for org in ["acme", "globex", "initech", "umbrella", "hooli"] {
        let r = f.run(&["resolve", org, "agent-cli", "--json"]).ok().json();
        let inside = bucket(&id, org) < 100;
        let expected = if inside {
            ("2.0.0", "rollout")
        } else {
            ("1.0.0", "rollback_target")
        };
        assert_eq!(
            (r["version"].as_str(), r["why"].as_str()),
            (Some(expected.0), Some(expected.1)),
            "{r}"
        );
    }

    let mut inside_before = 0;
    for (percent, next) in [(1u64, 10u64), (10, 50), (50, 100)] {
        let inside = f.check_assignments(&id, 60, percent * 100, false);
        assert!(inside >= inside_before, "stages only add units");
        inside_before = inside;
        f.report(&format!("stage{percent}"), 80, 0);
        let a = f.run(&["rollout", "advance", "--json"]).ok().json();
        assert_eq!(a["decision"], "advance", "{a}");
        assert_eq!(a["evaluated_percent"], percent);
        let s = f.status();
        assert_eq!(
            (s["state"].as_str(), s["stage_percent"].as_u64()),
            (Some("running"), Some(next))
        );
        assert_eq!(s["samples"], 0, "a new stage starts a new tally");
    }
    f.report("stage100", 60, 1);
    let a = f.run(&["rollout", "advance", "--json"]).ok().json();
    assert_eq!(
        a["decision"], "stay",
        "1 failure in 61 leaves the upper bound above 5 %"
    );
    f.report("stage100-more", 100, 0);
    let a = f.run(&["rollout", "advance", "--json"]).ok().json();
    assert_eq!(a["decision"], "complete", "{a}");
    let s = f.status();
    assert_eq!(s["schema"], "lockstep.rollout-status/v1");
    assert_eq!(s["state"], "completed");
    assert_eq!(s["samples"], 161);
    assert_eq!(s["failures"], 1);
    assert!((s["failure_rate"].as_f64().unwrap() - 1.0 / 161.0).abs() < 1e-12);
    for unit in ["a", "b", "session-1"] {
        let a = f.run(&["rollout", "assign", unit, "--json"]).ok().json();
        assert_eq!(a["version"], "2.0.0");
    }
    let r = f
        .run(&["resolve", "acme", "agent-cli", "--json"])
        .ok()
        .json();
    assert_eq!(
        (r["version"].as_str(), r["why"].as_str()),
        (Some("2.0.0"), Some("known_good"))
    );
    // An org pin overrides the rollout.
    f.run(&[
        "pin",
        "set",
        "acme",
        "agent-cli@1.0.0",
        "--reason",
        "freeze",
        "--by",
        "ops",
    ])
    .ok();
    let a = f
        .run(&["rollout", "assign", "runner-7", "--org", "acme", "--json"])
        .ok()
        .json();
    assert_eq!(
        (a["version"].as_str(), a["why"].as_str()),
        (Some("1.0.0"), Some("pin"))
    );

    // Every transition is in the fleet's audit log.
    let audit = std::fs::read_to_string(f.home().join("audit.jsonl")).unwrap();
    assert_eq!(audit.matches("\"action\":\"rollout_advanced\"").count(), 3);
    assert_eq!(audit.matches("\"action\":\"rollout_completed\"").count(), 1);

    // The same policy for Argo Rollouts.
    let yaml = f.run(&["rollout", "emit", "argo"]).ok().stdout;
    for w in [
        "setWeight: 1\n",
        "setWeight: 10\n",
        "setWeight: 50\n",
        "setWeight: 100\n",
    ] {
        assert!(yaml.contains(w), "{yaml}");
    }
    assert!(yaml.contains("kind: AnalysisTemplate") && yaml.contains("result[0] > 0.05"));
}

#[test]
fn a_rollout_halted_at_10_percent_notifies_and_sends_everyone_back() {
    let hook = Receiver::start("s3cret");
    let f = Fleet::new(Some(&hook));
    let id = start(&f, "80");
    f.report("one", 80, 0);
    assert_eq!(
        f.run(&["rollout", "advance", "--json"]).ok().json()["decision"],
        "advance"
    );
    assert_eq!(f.status()["stage_percent"], 10);
    // A few failures: not credible yet, the stage stays.
    f.report("ten", 20, 2);
    let a = f.run(&["rollout", "advance", "--json"]).ok().json();
    assert_eq!(a["decision"], "stay", "{a}");
    assert!(hook.received().is_empty());
    // Then many: halt, exit 1.
    f.report("ten-more", 0, 8);
    let halt = f.run(&["rollout", "advance", "--json"]);
    assert_eq!(halt.code, Some(1), "{}\n{}", halt.stdout, halt.stderr);
    let a = halt.json();
    assert_eq!(a["decision"], "halt");
    assert_eq!(a["samples"], 30);
    assert_eq!(a["failures"], 10);
    assert!(a["bounds"]["lower"].as_f64().unwrap() > 0.05);
    assert_eq!(a["status"]["state"], "halted");

    let got = hook.received();
    assert_eq!(got.len(), 1, "one notification");
    assert!(got[0].signature_ok);
    assert_eq!(got[0].header("x-lockstep-event"), Some("rollout_halted"));
    let body = got[0].json();
    assert_eq!(body["event"], "rollout_halted");
    assert_eq!(body["component"], "agent-cli");
    assert_eq!(body["version"], "2.0.0");
    assert!(
        body["rollback"].as_str().unwrap().contains("1.0.0"),
        "{body}"
    );
    assert!(
        body["text"].as_str().unwrap().contains("10 of 30"),
        "{body}"
    );

    // Quarantined with the evidence, and never offered again.
    let kg = f.run(&["known-good", "list", "--json"]).ok().json();
    let entry = kg["entries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["version"] == "2.0.0")
        .unwrap()
        .clone();
    assert_eq!(entry["state"], "quarantined");
    assert!(
        entry["reason"].as_str().unwrap().contains("10 of 30"),
        "{entry}"
    );
    let again = f.run(&["rollout", "start", "agent-cli@2.0.0", "--channel", "stable"]);
    assert_eq!(again.code, Some(1));

    // Every unit gets the rollback target.
    f.check_assignments(&id, 60, 1_000, true);
    let s = f.status();
    assert_eq!(
        (s["state"].as_str(), s["stage_percent"].as_u64()),
        (Some("halted"), Some(10))
    );
    assert_eq!(hook.received().len(), 1, "status does not notify again");
}

#[test]
fn kill_9_during_advance_loses_nothing_and_repeats_nothing() {
    let hook = Receiver::start("s3cret");
    let f = Fleet::new(Some(&hook));
    start(&f, "80");
    f.report("a", 80, 0);

    // Killed before the commit: nothing changed; the next advance moves one stage only.
    let killed = f.run_with_failpoint(&["rollout", "advance"], "rollout_advance_before_commit");
    assert_eq!(killed.signal, Some(9), "{}", killed.stderr);
    assert_eq!(f.status()["stage_percent"], 1);
    assert_eq!(
        f.run(&["rollout", "advance", "--json"]).ok().json()["decision"],
        "advance"
    );
    assert_eq!(f.status()["stage_percent"], 10);

    // Killed after a halt committed but before the notification: halted and quarantined
    // already; the next command sends the notification, once.
    f.report("b", 0, 10);
    let killed = f.run_with_failpoint(&["rollout", "advance"], "rollout_advance_after_commit");
    assert_eq!(killed.signal, Some(9), "{}", killed.stderr);
    assert!(hook.received().is_empty());
    let kg = f.run(&["known-good", "list", "--json"]).ok().json();
    assert!(
        kg["entries"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["version"] == "2.0.0" && e["state"] == "quarantined")
    );
    assert_eq!(f.status()["state"], "halted");
    assert_eq!(hook.received().len(), 1, "sent by the next command");
    assert_eq!(hook.received()[0].json()["event"], "rollout_halted");
    f.status();
    assert_eq!(hook.received().len(), 1, "and only once");
    let audit = std::fs::read_to_string(f.home().join("audit.jsonl")).unwrap();
    assert_eq!(
        audit.matches("\"action\":\"rollout_halted\"").count(),
        1,
        "{audit}"
    );
    assert_eq!(
        audit.matches("\"action\":\"rollout_advanced\"").count(),
        1,
        "{audit}"
    );
}

#[test]
fn pause_resume_abort_and_the_dashboard() {
    let f = Fleet::new(None);
    start(&f, "100");
    assert_eq!(
        f.run(&["rollout", "pause", "--json"]).ok().json()["state"],
        "paused"
    );
    let refused = f.run(&["rollout", "advance"]);
    assert_eq!(refused.code, Some(1), "{}", refused.stderr);
    assert!(
        refused
            .stderr
            .contains("cannot advance a rollout that is paused"),
        "{}",
        refused.stderr
    );
    assert_eq!(
        f.run(&["rollout", "resume", "--json"]).ok().json()["state"],
        "running"
    );
    f.report("x", 5, 0);
    assert_eq!(
        f.run(&["rollout", "abort", "--json"]).ok().json()["state"],
        "aborted"
    );
    let a = f
        .run(&["rollout", "assign", "anyone", "--json"])
        .ok()
        .json();
    assert_eq!(
        (a["version"].as_str(), a["why"].as_str()),
        (Some("1.0.0"), Some("rollback_target"))
    );

    // Bad input is exit 2 with an error object.
    let bad = f.run(&[
        "rollout",
        "report",
        "u",
        "--outcome",
        "success",
        "--id",
        "nope",
        "--json",
    ]);
    assert_eq!(bad.code, Some(2), "{}", bad.stderr);
    assert_eq!(bad.json()["kind"], "invalid_argument");
    let bad = f.run(&[
        "rollout",
        "start",
        "agent-cli@2.0.0",
        "--channel",
        "stable",
        "--stages",
        "10,5,100",
        "--json",
    ]);
    assert_eq!(bad.code, Some(2));
    assert_eq!(bad.json()["schema"], "lockstep.error/v1");

    // The dashboard shows the rollout from the same store.
    std::fs::create_dir_all(f.dir.path().join("verticals/finance")).unwrap();
    std::fs::write(
        f.dir.path().join("verticals/finance/vertical_manifest.yaml"),
        "domain_name: finance\ndomain_version: 1.0.0\nstatus: active\ncompatibility: {min_core_version: 1.0.0, max_core_version: 1.x.x, contracts_major: 1}\nownership: {team: t, tech_lead: A, contact: a@example.com}\n",
    )
    .unwrap();
    let d = f
        .run(&[
            "dashboard",
            "--out",
            "site",
            "--verticals",
            "verticals/*/vertical_manifest.yaml",
            "--json",
        ])
        .ok()
        .json();
    assert_eq!(d["schema"], "lockstep.dashboard/v1");
    assert_eq!(d["verticals"].as_array().unwrap().len(), 1);
    assert_eq!(d["verticals"][0]["name"], "finance");
    assert_eq!(d["rollouts"][0]["state"], "aborted");
    assert_eq!(d["rollouts"][0]["stages"][0]["samples"], 5);
    assert!(Path::new(&f.dir.path().join("site/index.html")).is_file());
    assert!(f.dir.path().join("site/assets/dashboard.css").is_file());
}

#[test]
fn the_readme_demo_completes_one_rollout_and_halts_the_other() {
    let dir = tempfile::tempdir().unwrap();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/rollout/demo.sh");
    let out = Command::new("bash")
        .arg(&script)
        .arg(dir.path())
        .env("LOCKSTEP", env!("CARGO_BIN_EXE_lockstep"))
        .env_remove("LOCKSTEP_STORE")
        .env_remove("LOCKSTEP_FAILPOINT")
        .env_remove("LOCKSTEP_REGISTRY")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "demo.sh failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        dir.path().display().to_string()
    );
    let list: Run = Command::new(env!("CARGO_BIN_EXE_lockstep"))
        .args(["rollout", "list", "--json"])
        .env("LOCKSTEP_HOME", dir.path().join("home"))
        .env_remove("LOCKSTEP_STORE")
        .output()
        .unwrap()
        .into();
    let list = list.ok().json();
    let states: Vec<(&str, &str, u64)> = list["rollouts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["version"].as_str().unwrap(),
                r["state"].as_str().unwrap(),
                r["stage_percent"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        states,
        [("1.1.0", "completed", 100), ("2.0.0", "halted", 10)]
    );
    let page = std::fs::read_to_string(dir.path().join("site/index.html")).unwrap();
    assert!(page.contains(r#"<tr data-vertical="finance">"#));
    assert!(page.contains("state-halted") && page.contains("state-completed"));
}

#[test]
fn several_rollouts_need_a_component() {
    let f = Fleet::new(None);
    start(&f, "100");
    for v in ["3.0.0", "3.1.0"] {
        f.run(&[
            "lab",
            "run",
            &format!("other-cli@{v}"),
            "--canaries",
            "lab.toml",
        ])
        .ok();
        f.run(&[
            "known-good",
            "promote",
            &format!("other-cli@{v}"),
            "--channel",
            "stable",
        ])
        .ok();
    }
    f.run(&["rollout", "start", "other-cli@3.1.0", "--channel", "stable"])
        .ok();
    let r = f.run(&["rollout", "status", "--json"]);
    assert_eq!(r.code, Some(2), "{}", r.stderr);
    assert!(
        r.stderr.contains("agent-cli@2.0.0-stable-1")
            && r.stderr.contains("other-cli@3.1.0-stable-1"),
        "{}",
        r.stderr
    );
    let s = f
        .run(&["rollout", "status", "--component", "other-cli", "--json"])
        .ok()
        .json();
    assert_eq!(
        (s["version"].as_str(), s["rollback"].as_str()),
        (Some("3.1.0"), Some("3.0.0"))
    );
    let a = f
        .run(&[
            "rollout",
            "assign",
            "u-1",
            "--component",
            "agent-cli",
            "--json",
        ])
        .ok()
        .json();
    assert_eq!(a["component"], "agent-cli");
}
