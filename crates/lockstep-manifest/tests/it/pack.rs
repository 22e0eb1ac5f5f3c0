//! `pack.yaml`: every problem located and explained, hostile input refused, the committed
//! schema in step with the reader.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use lockstep_manifest::{PACK_SCHEMA_FILE_NAME, PackManifest, ProblemKind};

const FULL: &str = "\
name: pg-connector
version: 1.4.0
description: Postgres connector
keywords: [database, postgres]
core:
  min_core_version: 1.0.0
  max_core_version: 1.x.x
  contracts_major: 1
requires:
  - name: base
    version: ^1.2
  - name: tls
tests:
  command: [./run-tests.sh, --fast]
  timeout: 60
  report: out/junit.xml
hooks:
  post_install: ./hooks/setup.sh
  pre_remove: ./hooks/teardown.sh
";

#[test]
fn a_full_manifest_reads_every_field() {
    let p = PackManifest::parse(FULL).unwrap();
    assert_eq!(p.name, "pg-connector");
    assert_eq!(p.version, semver::Version::new(1, 4, 0));
    assert_eq!(p.keywords, ["database", "postgres"]);
    assert_eq!(p.core.contracts_major, Some(1));
    let reqs: Vec<_> = p
        .requires
        .iter()
        .map(|r| (r.name.as_str(), r.version.as_str()))
        .collect();
    assert_eq!(reqs, [("base", "^1.2"), ("tls", "*")]);
    assert_eq!(p.tests.command, ["./run-tests.sh", "--fast"]);
    assert_eq!(
        (p.tests.timeout, p.tests.report.as_deref()),
        (60, Some("out/junit.xml"))
    );
    assert_eq!(
        p.hooks.post_install.as_deref(),
        Some(&["./hooks/setup.sh".to_owned()][..])
    );
    let json = serde_json::to_value(&p).unwrap();
    assert_eq!(json["requires"][0]["version"], "^1.2");
    assert_eq!(json["core"]["max_core_version"], "1.x.x");
}

/// Each case: an edit of FULL and the one problem it must produce, as `line:col field [kind] message`.
#[test]
fn problems_name_line_field_and_what_is_accepted() {
    for (from, to, expected) in [
        (
            "name: pg-connector",
            "name: PG",
            "1:7 name [Value] \"PG\" is not a pack name; expected lowercase letters, digits and '-', starting with a letter, at most 64 characters, such as postgres-connector",
        ),
        (
            "version: 1.4.0",
            "version: one",
            "2:10 version [Value] \"one\" is not a SemVer version (unexpected character 'o' while parsing major version number); expected the pack's version such as 1.4.0",
        ),
        (
            "  max_core_version: 1.x.x",
            "  max_core_version: 0.9.0",
            "7:21 core.max_core_version [Value] max_core_version 0.9.0 is below min_core_version 1.0.0; expected a maximum at or above the minimum",
        ),
        (
            "    version: ^1.2",
            "    version: ^^1",
            "11:14 requires[0].version [Value] \"^^1\" is not a version requirement; expected Cargo syntax such as ^1.2, ~1.4.0, >=1.0, <2 or 1.*",
        ),
        (
            "  timeout: 60",
            "  timeout: 0",
            "15:12 tests.timeout [Value] 0 is out of range; expected seconds from 1 to 86400",
        ),
        (
            "  report: out/junit.xml",
            "  report: ../junit.xml",
            "16:11 tests.report [Value] \"../junit.xml\" leaves the pack; expected a JUnit XML file path relative to the pack's root, without '..'",
        ),
        (
            "  - name: tls",
            "  - name: base",
            "12:5 requires[1] [Duplicate] `base` is required twice; write one entry per pack",
        ),
        (
            "hooks:",
            "hookz:",
            "17:1 hookz [Unknown] unknown field `hookz`; did you mean `hooks`? accepted fields: name, version, description, keywords, core, requires, tests, hooks",
        ),
    ] {
        assert!(FULL.contains(from), "{from}");
        let text = FULL.replace(from, to);
        let err = PackManifest::parse(&text).unwrap_err();
        let got: Vec<String> = err
            .problems
            .iter()
            .map(|p| {
                format!(
                    "{}:{} {} [{:?}] {}",
                    p.line, p.column, p.field, p.kind, p.message
                )
            })
            .collect();
        assert_eq!(got, [expected], "{to}");
    }
}

#[test]
fn missing_sections_are_named() {
    let err = PackManifest::parse("name: x\n").unwrap_err();
    let fields: Vec<_> = err.problems.iter().map(|p| p.field.as_str()).collect();
    assert_eq!(fields, ["version", "description", "tests"]);
    assert!(err.problems.iter().all(|p| p.kind == ProblemKind::Missing));
}

#[track_caller]
fn refused_fast(text: &str) -> ProblemKind {
    let start = Instant::now();
    let err = PackManifest::parse(text).unwrap_err();
    assert!(start.elapsed() < Duration::from_secs(1));
    err.problems[0].kind
}

#[test]
fn hostile_manifests_are_refused_fast() {
    let mut bomb = String::from("a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n");
    for (prev, name) in ["a", "b", "c", "d", "e", "f", "g", "h"]
        .iter()
        .zip(["b", "c", "d", "e", "f", "g", "h", "i"])
    {
        let refs = vec![format!("*{prev}"); 9].join(", ");
        bomb.push_str(&format!("{name}: &{name} [{refs}]\n"));
    }
    assert_eq!(
        refused_fast(&format!("{FULL}{bomb}")),
        ProblemKind::TooLarge
    );
    let huge = format!("{FULL}# {}\n", "x".repeat(2 * 1024 * 1024));
    assert_eq!(refused_fast(&huge), ProblemKind::TooLarge);
}

/// Fails when the committed schema differs from the code; `LOCKSTEP_BLESS=1` rewrites it.
#[test]
fn the_committed_schema_does_not_drift() {
    let fresh = format!(
        "{}\n",
        serde_json::to_string_pretty(&PackManifest::schema()).unwrap()
    );
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../docs/schemas")
        .join(PACK_SCHEMA_FILE_NAME);
    if std::env::var_os("LOCKSTEP_BLESS").is_some_and(|v| v == "1") {
        std::fs::write(&path, &fresh).unwrap();
        return;
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == fresh,
        "{} is out of date; run `LOCKSTEP_BLESS=1 cargo test -p lockstep-manifest` and commit it",
        path.display()
    );
}

#[test]
fn the_schema_names_exactly_what_the_reader_accepts() {
    let s = PackManifest::schema();
    let keys =
        |v: &serde_json::Value| -> Vec<String> { v.as_object().unwrap().keys().cloned().collect() };
    let mut top = keys(&s["properties"]);
    top.sort();
    let mut expected: Vec<String> = [
        "core",
        "description",
        "hooks",
        "keywords",
        "name",
        "requires",
        "tests",
        "version",
    ]
    .map(String::from)
    .to_vec();
    expected.sort();
    assert_eq!(top, expected);
    assert!(!serde_json::to_string(&s).unwrap().contains("undocumented"));
}
