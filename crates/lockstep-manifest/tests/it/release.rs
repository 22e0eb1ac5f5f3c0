//! The release index and single-release metadata.

use lockstep_manifest::{ProblemKind, Release, ReleaseIndex};
use serde_json::json;

use crate::support::render;

const SHA: &str = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";

fn release(version: &str) -> serde_json::Value {
    serde_json::from_str(&release_text(version)).expect("release_text is JSON")
}

/// One release as a person would lay it out: 13 lines, two-space indents inside the index.
fn release_text(version: &str) -> String {
    format!(
        r#"    {{
      "version": "{version}",
      "channel": "stable",
      "contracts_version": "1.0.0",
      "released_at": "2026-01-15T10:00:00Z",
      "commit": "4b825dc642cb6eb9a060e54bf8d69288fbee4904",
      "capabilities": ["ledger.v1"],
      "deprecated_capabilities": [],
      "changelog": {{"breaking": [], "features": ["x"], "fixes": []}},
      "artifacts": [
        {{"name": "core.tar.gz", "url": "https://example.com/core.tar.gz", "sha256": "{SHA}", "size": 4}}
      ]
    }}"#
    )
}

/// A pretty-printed index of five releases, 1.0.0 to 1.4.0, with `edit` applied to the text of
/// the fourth (`releases[3]`), which spans lines 43 to 55.
fn index_with(edit: impl FnOnce(String) -> String) -> String {
    let mut releases: Vec<String> = (0..5).map(|i| release_text(&format!("1.{i}.0"))).collect();
    let edited = edit(releases[3].clone());
    assert_ne!(edited, releases[3], "the edit changed nothing");
    releases[3] = edited;
    format!(
        "{{\n  \"schema\": 1,\n  \"releases\": [\n{}\n  ]\n}}\n",
        releases.join(",\n")
    )
}

/// Replaces `from` by `to` in releases[3] and compares the rendered problems.
#[track_caller]
fn check(from: &str, to: &str, expected: &str) {
    let text = index_with(|r| r.replacen(from, to, 1));
    assert_eq!(render(&ReleaseIndex::parse(&text)), expected, "\n{text}");
}

#[test]
fn a_valid_index_parses_sorted_by_precedence() {
    let text = serde_json::to_string(&json!({"schema": 1, "releases": [
        release("1.10.0"), release("1.2.0"), release("2.0.0-beta.1"), release("2.0.0"), release("1.2.1+build.5"),
    ]}))
    .unwrap();
    let index = ReleaseIndex::parse(&text).expect("valid");
    let versions: Vec<String> = index
        .releases
        .iter()
        .map(|r| r.version.to_string())
        .collect();
    assert_eq!(
        versions,
        ["1.2.0", "1.2.1+build.5", "1.10.0", "2.0.0-beta.1", "2.0.0"]
    );
    let r = &index.releases[0];
    assert_eq!(r.artifacts[0].sha256, SHA);
    assert_eq!(r.changelog.features, ["x"]);
    assert_eq!(ReleaseIndex::parse(&index.to_json()).unwrap(), index);
}

#[test]
fn problems_in_releases_3_point_at_the_right_line_and_column() {
    let sv = "expected a SemVer version such as 1.4.0";
    let cases = [
        (r#""1.3.0""#, r#""1.3""#, format!("44:18 releases[3].version [Value] \"1.3\" is not a SemVer version (unexpected end of input while parsing minor version number); {sv}")),
        (r#""1.3.0""#, r#""v1.3.0""#, format!("44:18 releases[3].version [Value] \"v1.3.0\" is not a SemVer version (unexpected character 'v' while parsing major version number); {sv}")),
        (r#""1.3.0""#, "13", format!("44:18 releases[3].version [Value] \"13\" is not a SemVer version (unexpected end of input while parsing major version number); {sv}")),
        (r#""stable""#, r#""nightly""#, "45:18 releases[3].channel [Value] \"nightly\" is not accepted; expected one of stable, beta, lts, canary".to_owned()),
        // A missing field is placed at the `{` of the object that lacks it.
        ("      \"version\": \"1.3.0\",\n", "", "43:5 releases[3].version [Missing] missing required field `version` (the core version)".to_owned()),
        (r#""contracts_version": "1.0.0""#, r#""contracts_version": null"#, "46:28 releases[3].contracts_version [Type] expected a SemVer version, found null".to_owned()),
        ("2026-01-15T10:00:00Z", "2026-02-30T10:00:00Z", "47:22 releases[3].released_at [Value] \"2026-02-30T10:00:00Z\" is not an RFC 3339 time; expected such as 2026-02-19T18:30:00Z".to_owned()),
        ("2026-01-15T10:00:00Z", "2026-01-15 10:00", "47:22 releases[3].released_at [Value] \"2026-01-15 10:00\" is not an RFC 3339 time; expected such as 2026-02-19T18:30:00Z".to_owned()),
        ("2026-01-15T10:00:00Z", "yesterday", "47:22 releases[3].released_at [Value] \"yesterday\" is not an RFC 3339 time; expected such as 2026-02-19T18:30:00Z".to_owned()),
        ("4b825dc642cb6eb9a060e54bf8d69288fbee4904", "not-hex", "48:17 releases[3].commit [Value] \"not-hex\" is not a commit id; expected 4 to 64 hex digits".to_owned()),
        (r#"["ledger.v1"]"#, r#""ledger.v1""#, "49:23 releases[3].capabilities [Type] expected a list of capability names, found a string".to_owned()),
        (SHA, "abc123", "53:85 releases[3].artifacts[0].sha256 [Value] \"abc123\" is not a sha256; expected 64 hex digits".to_owned()),
        (SHA, &SHA.replace('a', "g"), format!("53:85 releases[3].artifacts[0].sha256 [Value] \"{}\" is not a sha256; expected 64 hex digits", SHA.replace('a', "g"))),
        (r#""size": 4"#, r#""size": -4"#, "53:161 releases[3].artifacts[0].size [Value] -4 is out of range; expected a size in bytes from 0 to 18446744073709551615".to_owned()),
        (r#""size": 4"#, r#""size": "4""#, "53:161 releases[3].artifacts[0].size [Type] expected a size in bytes, found the string \"4\"; remove the quotes".to_owned()),
        (r#""channel": "stable","#, r#""channel": "stable", "migration_guide": "x","#, "45:28 releases[3].migration_guide [Unknown] unknown field `migration_guide`; did you mean `migration_guide_url`? accepted fields: version, channel, contracts_version, released_at, commit, capabilities, deprecated_capabilities, changelog, migration_notes, migration_guide_url, artifacts".to_owned()),
    ];
    for (from, to, expected) in cases {
        check(from, to, &expected);
    }
}

#[test]
fn several_release_problems_are_all_reported_in_document_order() {
    let text = index_with(|r| {
        r.replacen(r#""stable""#, r#""Beta""#, 1)
            .replacen(r#""breaking": []"#, r#""breaking": "everything""#, 1)
            .replacen(SHA, "nope", 1)
    });
    insta::assert_snapshot!(render(&ReleaseIndex::parse(&text)), @r#"
    45:18 releases[3].channel [Value] "Beta" is not accepted; did you mean `beta`? expected one of stable, beta, lts, canary
    51:33 releases[3].changelog.breaking [Type] expected a list of entries, found a string
    53:85 releases[3].artifacts[0].sha256 [Value] "nope" is not a sha256; expected 64 hex digits
    "#);
}

#[test]
fn duplicate_versions_and_duplicate_keys() {
    // 1.1.0+build.2 has the precedence of 1.1.0: the same release twice.
    check(
        r#""1.3.0""#,
        r#""1.1.0+build.2""#,
        "44:18 releases[3].version [Duplicate] version 1.1.0+build.2 is already listed at releases[1]; each version may be released once",
    );
    // A duplicate key in JSON is found at its second occurrence.
    let text = "{\n  \"schema\": 1,\n  \"releases\": [],\n  \"schema\": 1\n}";
    assert_eq!(
        render(&ReleaseIndex::parse(text)),
        "4:3 schema [Duplicate] duplicate key `schema`; each key may appear once"
    );
    check(
        r#""channel": "stable","#,
        r#""channel": "stable", "channel": "beta","#,
        "45:28 releases[3].channel [Duplicate] duplicate key `channel`; each key may appear once",
    );
}

#[test]
fn document_level_problems() {
    let cases = [
        (
            "{\"schema\": 2, \"releases\": []}",
            "1:12 schema [Value] 2 is out of range; expected the format version from 1 to 1",
        ),
        (
            "{\"schema\": \"1\", \"releases\": []}",
            "1:12 schema [Type] expected the format version, found the string \"1\"; remove the quotes",
        ),
        (
            "{\"releases\": []}",
            "1:1 schema [Missing] missing required field `schema` (the format version, 1)",
        ),
        (
            "{\"schema\": 1}",
            "1:1 releases [Missing] missing required field `releases` (a list of releases)",
        ),
        (
            "{\"schema\": 1, \"releases\": {}}",
            "1:27 releases [Type] expected a list of releases, found a mapping",
        ),
        ("[]", "1:1  [Type] expected a mapping, found a list"),
        (
            "{\"schema\": 1, \"releases\": [}",
            "1:28  [Syntax] not valid JSON: expected value",
        ),
        (
            "{\"schema\": 1,\n \"releases\": []\n",
            "3:0  [Syntax] not valid JSON: EOF while parsing an object",
        ),
        (
            "",
            "1:0  [Syntax] not valid JSON: EOF while parsing a value",
        ),
        (
            "{\"schema\": 1, \"releases\": []} trailing",
            "1:31  [Syntax] not valid JSON: trailing characters",
        ),
    ];
    for (text, expected) in cases {
        assert_eq!(render(&ReleaseIndex::parse(text)), expected, "{text}");
    }
    assert_eq!(
        ReleaseIndex::parse("{\"schema\": 1, \"releases\": []}")
            .unwrap()
            .releases,
        []
    );
}

#[test]
fn a_single_release_json() {
    let text = serde_json::to_string_pretty(&release("2.0.0")).unwrap();
    let r = Release::parse_json(&text).expect("valid");
    assert_eq!(r.version.to_string(), "2.0.0");
    assert_eq!(Release::parse_json(&r.to_json().to_string()).unwrap(), r);
    let err = Release::parse_json("{\"version\": \"2.0.0\"}").unwrap_err();
    assert_eq!(err.document, "release metadata");
    insta::assert_snapshot!(render(&Err::<(), _>(err)), @r"
    1:1 channel [Missing] missing required field `channel` (stable, beta, lts or canary)
    1:1 contracts_version [Missing] missing required field `contracts_version` (the contracts version)
    ");
    let err = Release::parse_json("not json").unwrap_err();
    assert_eq!(err.problems[0].kind, ProblemKind::Syntax);
}

#[test]
fn a_broken_large_index_reports_at_most_a_hundred_problems() {
    let releases: Vec<_> = (0..1000).map(|i| json!({"version": format!("1.{i}"), "channel": "stable", "contracts_version": "1.0.0"})).collect();
    let text = serde_json::to_string_pretty(&json!({"schema": 1, "releases": releases})).unwrap();
    let err = ReleaseIndex::parse(&text).unwrap_err();
    assert_eq!(err.problems.len(), 101);
    assert_eq!(err.problems[0].field, "releases[0].version");
    assert_eq!(err.problems[99].field, "releases[99].version");
    let last = &err.problems[100];
    assert_eq!(
        (last.kind, last.message.as_str()),
        (
            ProblemKind::TooLarge,
            "900 more problems not shown; at most 100 are reported"
        )
    );
}
