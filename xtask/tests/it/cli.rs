//! Whole CLI runs (exit code, stdout, stderr) against fixtures written into temp dirs.

use std::path::{Path, PathBuf};
use std::process::Command;

const RELEASES: &str = r#"{"schema": 1, "releases": [
 {"version": "1.0.0", "channel": "lts", "contracts_version": "1.0.0", "capabilities": ["ledger.v1", "reports.pdf"]},
 {"version": "1.2.0", "channel": "stable", "contracts_version": "1.2.0", "capabilities": ["ledger.v1", "reports.pdf"]},
 {"version": "1.5.0", "channel": "stable", "contracts_version": "1.4.0", "capabilities": ["ledger.v1", "reports.pdf"], "deprecated_capabilities": ["reports.pdf"]},
 {"version": "1.6.0-beta.1", "channel": "beta", "contracts_version": "1.4.0", "capabilities": ["ledger.v1", "reports.pdf"]},
 {"version": "2.0.0", "channel": "stable", "contracts_version": "2.0.0", "capabilities": ["ledger.v2"]}
]}"#;

const FINANCE: &str = "\
# The finance vertical: stays on core 1.x until it migrates to contracts 2.
domain_name: finance
domain_version: 3.1.0
status: active
compatibility:
  min_core_version: 1.0.0
  max_core_version: 1.x.x
  contracts_major: 1
  update_channel: stable
  smoke_tests_timeout: 300
  required_capabilities: [ledger.v1, reports.pdf]
ownership:
  team: payments
  tech_lead: Ada Lovelace
  contact: ada@example.com
";

const LOGISTICS: &str = "\
domain_name: logistics
domain_version: 1.0.0
status: active
compatibility:
  min_core_version: 1.2.0
  max_core_version: 2.x.x
  contracts_major: 2
  required_capabilities: [ledger.v2]
ownership: {team: fleet, tech_lead: Grace Hopper, contact: fleet@example.com}
";

const BROKEN: &str = "\
domain_name: legacy
status: maybe
compatibility:
  min_core_version: 2.0.0
  max_core_version: 1.x.x
  contracts_major: one
ownership: {team: old, tech_lead: Nobody, contact: not-an-email}
";

struct Fixture {
    dir: tempfile::TempDir,
}

impl Fixture {
    fn new() -> Self {
        let f = Fixture {
            dir: tempfile::tempdir().unwrap(),
        };
        f.write("registry/releases.json", RELEASES);
        f.write("verticals/finance/vertical_manifest.yaml", FINANCE);
        f.write("verticals/logistics/vertical_manifest.yaml", LOGISTICS);
        f
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn write(&self, rel: &str, text: &str) -> PathBuf {
        let p = self.dir.path().join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, text).unwrap();
        p
    }

    /// Runs `lockstep` in the fixture dir; returns exit code, stdout and stderr with the temp
    /// path filtered out.
    fn run(&self, args: &[&str]) -> Run {
        self.run_env(args, &[])
    }

    fn run_env(&self, args: &[&str], env: &[(&str, &str)]) -> Run {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_lockstep"));
        cmd.args(args)
            .current_dir(self.path())
            .env_remove("LOCKSTEP_REGISTRY")
            .env_remove("GITHUB_STEP_SUMMARY")
            .env_remove("RUST_LOG")
            .env("NO_COLOR", "1")
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_CONFIG_GLOBAL", "/dev/null");
        for (k, v) in env {
            cmd.env(k, v);
        }
        let out = cmd.output().unwrap();
        let root = self.path().display().to_string();
        let clean = |b: &[u8]| String::from_utf8_lossy(b).replace(&root, "[TMP]");
        Run {
            code: out.status.code().unwrap_or(-1),
            stdout: clean(&out.stdout),
            stderr: clean(&out.stderr),
        }
    }
}

#[derive(Debug)]
struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

impl Run {
    fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not one JSON object ({e}):\n{}", self.stdout))
    }
}

impl std::fmt::Display for Run {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "exit: {}\n--- stdout\n{}--- stderr\n{}",
            self.code, self.stdout, self.stderr
        )
    }
}

const GATE: &[&str] = &[
    "gate",
    "2.0.0",
    "--verticals",
    "verticals/*/vertical_manifest.yaml",
    "--registry",
    "registry",
];

#[test]
fn gate_blocks_a_release_that_breaks_a_vertical() {
    let f = Fixture::new();
    let run = f.run(GATE);
    assert_eq!(run.code, 1, "{run}");
    insta::assert_snapshot!("gate_blocked", run.to_string());
}

#[test]
fn gate_json_and_report_file_agree() {
    let f = Fixture::new();
    let mut args = GATE.to_vec();
    args.extend(["--json", "--report", "gate.json"]);
    let run = f.run(&args);
    assert_eq!(run.code, 1, "{run}");
    let json = run.json();
    assert_eq!(json["schema"], "lockstep.gate/v1");
    assert_eq!(json["version"], "2.0.0");
    assert_eq!(json["blocked"], true);
    let verdicts: Vec<(&str, &str)> = json["verticals"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| (v["name"].as_str().unwrap(), v["verdict"].as_str().unwrap()))
        .collect();
    assert_eq!(
        verdicts,
        [("finance", "blocked"), ("logistics", "compatible")]
    );
    assert_eq!(json["verticals"][0]["reasons"][0]["code"], "core_above_max");
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(f.path().join("gate.json")).unwrap())
            .unwrap();
    assert_eq!(report, json);
}

#[test]
fn gate_passes_when_every_vertical_is_compatible_and_writes_a_step_summary() {
    let f = Fixture::new();
    let summary = f.path().join("summary.md");
    let run = f.run_env(
        &[
            "gate",
            "2.0.0",
            "--verticals",
            "verticals/logistics/*.yaml",
            "--registry",
            "registry",
        ],
        &[("GITHUB_STEP_SUMMARY", summary.to_str().unwrap())],
    );
    assert_eq!(run.code, 0, "{run}");
    assert!(
        run.stdout
            .contains("PASSED: core 2.0.0 is safe for every vertical"),
        "{run}"
    );
    let md = std::fs::read_to_string(summary).unwrap();
    assert!(
        md.starts_with("## lockstep gate: core 2.0.0 — ✅ passed"),
        "{md}"
    );
    assert!(md.contains("| logistics | compatible | — |"), "{md}");
}

#[test]
fn gate_with_an_invalid_manifest_blocks_and_names_the_problems() {
    let f = Fixture::new();
    f.write("verticals/legacy/vertical_manifest.yaml", BROKEN);
    let mut args = GATE.to_vec();
    args.push("--json");
    let run = f.run(&args);
    assert_eq!(run.code, 1, "{run}");
    let json = run.json();
    let legacy = &json["verticals"][1];
    assert_eq!(legacy["name"], "legacy");
    assert_eq!(legacy["verdict"], "invalid");
    let messages: Vec<&str> = legacy["reasons"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["message"].as_str().unwrap())
        .collect();
    assert!(
        messages.iter().any(|m| m.starts_with("2:9: status:")),
        "{messages:?}"
    );
    assert!(
        messages.iter().any(|m| m.contains("contracts_major")),
        "{messages:?}"
    );
    assert!(
        messages.iter().any(|m| m.contains("ownership.contact")),
        "{messages:?}"
    );
}

#[test]
fn gate_that_matches_nothing_blocks() {
    let f = Fixture::new();
    let run = f.run(&[
        "gate",
        "2.0.0",
        "--verticals",
        "nowhere/*.yaml",
        "--registry",
        "registry",
        "--json",
    ]);
    assert_eq!(run.code, 1, "{run}");
    let json = run.json();
    assert_eq!(json["blocked"], true);
    assert_eq!(json["reason"], "no_verticals");
    assert_eq!(json["verticals"], serde_json::json!([]));
}

#[test]
fn gate_of_an_unknown_release_is_an_error_with_a_json_object() {
    let f = Fixture::new();
    let run = f.run(&[
        "gate",
        "9.9.9",
        "--verticals",
        "verticals/*/*.yaml",
        "--registry",
        "registry",
        "--json",
    ]);
    assert_eq!(run.code, 2, "{run}");
    let json = run.json();
    assert_eq!(json["schema"], "lockstep.error/v1");
    assert_eq!(json["kind"], "unknown_release");
    assert!(
        run.stderr
            .contains("error: core 9.9.9 is not in the registry"),
        "{run}"
    );
}

#[test]
fn update_reports_available_releases_and_exit_code_100() {
    let f = Fixture::new();
    let run = f.run(&[
        "update",
        "--manifest",
        "verticals/finance/vertical_manifest.yaml",
        "--registry",
        "registry",
        "--current",
        "1.2.0",
        "--exit-code",
    ]);
    assert_eq!(run.code, 100, "{run}");
    insta::assert_snapshot!("update_available", run.to_string());
}

#[test]
fn update_json_follows_the_contract() {
    let f = Fixture::new();
    let run = f.run(&[
        "update",
        "--manifest",
        "verticals/finance/vertical_manifest.yaml",
        "--registry",
        "registry",
        "--current",
        "1.2.0",
        "--json",
    ]);
    assert_eq!(
        run.code, 0,
        "without --exit-code an available update is still exit 0: {run}"
    );
    let json = run.json();
    assert_eq!(json["schema"], "lockstep.update/v1");
    assert_eq!(json["current"], "1.2.0");
    assert_eq!(json["channel"], "stable");
    assert_eq!(json["latest"]["version"], "2.0.0");
    assert_eq!(json["latest"]["verdict"], "blocked");
    assert_eq!(json["latest_compatible"]["version"], "1.5.0");
    assert_eq!(
        json["latest_compatible"]["verdict"],
        "compatible_with_warnings"
    );
    assert_eq!(
        json["latest_compatible"]["reasons"][0]["code"],
        "capability_deprecated"
    );
    let versions: Vec<&str> = json["available"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["version"].as_str().unwrap())
        .collect();
    assert_eq!(versions, ["1.5.0", "2.0.0"], "stable does not see the beta");
}

#[test]
fn update_on_the_beta_channel_sees_the_beta() {
    let f = Fixture::new();
    let run = f.run(&[
        "update",
        "--manifest",
        "verticals/finance/vertical_manifest.yaml",
        "--registry",
        "registry",
        "--current",
        "1.5.0",
        "--channel",
        "beta",
        "--json",
    ]);
    let json = run.json();
    assert_eq!(json["channel"], "beta");
    assert_eq!(json["latest_compatible"]["version"], "1.6.0-beta.1");
    // Without --channel, the manifest's stable channel sees nothing compatible above 1.5.0.
    let run = f.run(&[
        "update",
        "--manifest",
        "verticals/finance/vertical_manifest.yaml",
        "--registry",
        "registry",
        "--current",
        "1.5.0",
        "--exit-code",
        "--json",
    ]);
    assert_eq!(run.code, 0, "{run}");
    assert_eq!(run.json()["latest_compatible"], serde_json::Value::Null);
}

#[test]
fn update_when_up_to_date() {
    let f = Fixture::new();
    let run = f.run(&[
        "update",
        "--manifest",
        "verticals/logistics/vertical_manifest.yaml",
        "--registry",
        "registry",
        "--current",
        "2.0.0",
        "--exit-code",
    ]);
    assert_eq!(run.code, 0, "{run}");
    assert!(
        run.stdout
            .contains("up to date: core 2.0.0 is the newest release the stable channel sees"),
        "{run}"
    );
}

#[test]
fn status_finds_the_version_the_lockfile_resolved() {
    let f = Fixture::new();
    let manifest = FINANCE.to_owned()
        + "core:\n  mode: pin\n  file: app/Cargo.toml\n  dependency: core\n  registry: ../../registry\n";
    f.write("verticals/finance/vertical_manifest.yaml", &manifest);
    f.write(
        "verticals/finance/app/Cargo.toml",
        "[package]\nname = \"app\"\nversion = \"0.1.0\"\n\n[dependencies]\ncore = { git = \"file:///nowhere/core\", tag = \"v1.2.0\" }\n",
    );
    f.write(
        "verticals/finance/app/Cargo.lock",
        "version = 4\n\n[[package]]\nname = \"app\"\nversion = \"0.1.0\"\n\n[[package]]\nname = \"core\"\nversion = \"1.2.0\"\nsource = \"git+file:///nowhere/core?tag=v1.2.0#0123456789abcdef0123456789abcdef01234567\"\n",
    );
    let run = f.run(&[
        "status",
        "--manifest",
        "verticals/finance/vertical_manifest.yaml",
        "--json",
    ]);
    assert_eq!(run.code, 0, "{run}");
    let json = run.json();
    assert_eq!(json["current"], "1.2.0");
    assert_eq!(json["current_source"]["kind"], "lockfile");
    assert!(
        json["registry"].as_str().unwrap().ends_with("registry"),
        "core.registry is used: {json}"
    );

    // Without the lockfile, the exact git tag pin is the answer.
    std::fs::remove_file(f.path().join("verticals/finance/app/Cargo.lock")).unwrap();
    let run = f.run(&[
        "status",
        "--manifest",
        "verticals/finance/vertical_manifest.yaml",
        "--json",
    ]);
    assert_eq!(run.code, 0, "{run}");
    assert_eq!(run.json()["current_source"]["kind"], "pin");
    assert_eq!(run.json()["current"], "1.2.0");
}

#[test]
fn status_without_any_version_source_says_what_to_do() {
    let f = Fixture::new();
    let run = f.run(&[
        "status",
        "--manifest",
        "verticals/finance/vertical_manifest.yaml",
        "--registry",
        "registry",
    ]);
    assert_eq!(run.code, 2, "{run}");
    assert!(run.stderr.contains("pass --current VERSION"), "{run}");
}

#[test]
fn status_of_an_invalid_manifest_names_file_line_and_field() {
    let f = Fixture::new();
    f.write("verticals/legacy/vertical_manifest.yaml", BROKEN);
    let run = f.run(&[
        "status",
        "--manifest",
        "verticals/legacy/vertical_manifest.yaml",
        "--registry",
        "registry",
        "--current",
        "1.0.0",
    ]);
    assert_eq!(run.code, 2, "{run}");
    insta::assert_snapshot!("status_invalid_manifest", run.to_string());
}

#[test]
fn missing_manifest_is_exit_2_with_a_json_error() {
    let f = Fixture::new();
    let run = f.run(&["status", "--json"]);
    assert_eq!(run.code, 2, "{run}");
    let json = run.json();
    assert_eq!(json["schema"], "lockstep.error/v1");
    assert_eq!(json["kind"], "manifest_not_found");
}

#[test]
fn registry_that_does_not_exist_is_exit_2() {
    let f = Fixture::new();
    let run = f.run(&[
        "update",
        "--manifest",
        "verticals/finance/vertical_manifest.yaml",
        "--registry",
        "nope",
        "--current",
        "1.0.0",
        "--json",
    ]);
    assert_eq!(run.code, 2, "{run}");
    assert_eq!(run.json()["schema"], "lockstep.error/v1");
}

#[test]
fn validate_reports_every_problem_with_exit_1() {
    let f = Fixture::new();
    f.write("verticals/legacy/vertical_manifest.yaml", BROKEN);
    let run = f.run(&[
        "validate",
        "registry",
        "verticals/finance",
        "verticals/legacy/vertical_manifest.yaml",
    ]);
    assert_eq!(run.code, 1, "{run}");
    insta::assert_snapshot!("validate_findings", run.to_string());

    let run = f.run(&[
        "validate",
        "--json",
        "verticals/legacy/vertical_manifest.yaml",
    ]);
    assert_eq!(run.code, 1, "{run}");
    let json = run.json();
    assert_eq!(json["schema"], "lockstep.validate/v1");
    assert_eq!(json["valid"], false);
    let first = &json["files"][0]["problems"][0];
    assert!(
        first["line"].as_u64().unwrap() >= 1 && first["field"].is_string(),
        "{json}"
    );
}

#[test]
fn validate_valid_files_exit_0_and_unreadable_exit_2() {
    let f = Fixture::new();
    let run = f.run(&[
        "validate",
        "registry/releases.json",
        "verticals/logistics/vertical_manifest.yaml",
    ]);
    assert_eq!(run.code, 0, "{run}");
    let run = f.run(&["validate", "missing.yaml"]);
    assert_eq!(run.code, 2, "{run}");
    assert!(run.stderr.contains("cannot read missing.yaml"), "{run}");
}

#[test]
fn colour_only_when_asked_or_on_a_terminal() {
    let f = Fixture::new();
    let plain = f.run(GATE);
    assert!(
        !plain.stdout.contains('\u{1b}'),
        "NO_COLOR and a pipe mean no escapes"
    );
    let mut args = GATE.to_vec();
    args.extend(["--color", "always"]);
    let coloured = f.run_env(&args, &[]);
    assert!(coloured.stdout.contains("\u{1b}["), "--color always paints");
}

#[test]
fn help_shows_examples() {
    let f = Fixture::new();
    for cmd in ["gate", "update", "status", "validate"] {
        let run = f.run(&[cmd, "--help"]);
        assert_eq!(run.code, 0);
        assert!(
            run.stdout.contains("Examples:"),
            "{cmd} --help has examples:\n{}",
            run.stdout
        );
    }
}
