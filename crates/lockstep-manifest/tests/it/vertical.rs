//! The vertical manifest: every rule of the format, one small case each.

use lockstep_manifest::{Channel, VersionBound, VerticalManifest, VerticalStatus};

use crate::support::{FINANCE, finance_with, render};

/// Replaces `from` by `to` in the finance manifest and compares the rendered result.
#[track_caller]
fn check(from: &str, to: &str, expected: &str) {
    let text = finance_with(from, to);
    let got = render(&VerticalManifest::parse(&text));
    assert_eq!(
        got, expected,
        "\nreplacing {from:?} by {to:?}\n--- text ---\n{text}"
    );
}

#[test]
fn the_finance_example_parses() {
    let m = VerticalManifest::parse(FINANCE).expect("valid");
    assert_eq!(m.domain_name, "finance");
    assert_eq!(m.domain_version, "2.3.0");
    assert_eq!(m.status, VerticalStatus::Active);
    let c = &m.compatibility;
    assert_eq!(c.min_core_version, "1.0.0".parse::<VersionBound>().unwrap());
    assert_eq!(
        c.max_core_version,
        VersionBound::Wildcard {
            major: Some(1),
            minor: None
        }
    );
    assert_eq!(c.contracts_major, 1);
    assert_eq!(c.update_channel, Channel::Stable);
    assert_eq!(c.smoke_tests_timeout, 300);
    assert_eq!(c.required_capabilities, ["ledger.v1", "events.stream"]);
    assert_eq!(m.ownership.contact, "ada@example.com");
    assert_eq!((m.core, m.smoke_tests), (None, None));
}

#[test]
fn defaults_apply_when_optional_fields_are_absent() {
    let text = finance_with("  update_channel: stable\n  smoke_tests_timeout: 300\n", "");
    let m = VerticalManifest::parse(&text).expect("valid");
    assert_eq!(m.compatibility.update_channel, Channel::Stable);
    assert_eq!(m.compatibility.smoke_tests_timeout, 180);
    let text = finance_with(
        "  required_capabilities:\n    - ledger.v1\n    - events.stream\n",
        "",
    );
    let m = VerticalManifest::parse(&text).expect("valid");
    assert!(m.compatibility.required_capabilities.is_empty());
}

#[test]
fn every_required_field_missing() {
    // Missing fields are reported where the mapping that lacks them starts.
    let section = |name: &str| {
        let start = FINANCE.find(&format!("{name}:\n")).unwrap();
        let len = FINANCE[start..]
            .match_indices('\n')
            .map(|(j, _)| j + 1)
            .find(|&j| !FINANCE[start + j..].starts_with(' '))
            .unwrap();
        FINANCE[start..start + len].to_owned()
    };
    let cases = [
        (
            "domain_name: finance\n",
            "1:1 domain_name [Missing] missing required field `domain_name` (the vertical's name)",
        ),
        (
            "domain_version: 2.3.0\n",
            "1:1 domain_version [Missing] missing required field `domain_version` (the vertical's own version)",
        ),
        (
            "status: active\n",
            "1:1 status [Missing] missing required field `status` (active, deprecated or experimental)",
        ),
        (
            "  min_core_version: 1.0.0\n",
            "5:3 compatibility.min_core_version [Missing] missing required field `min_core_version` (a SemVer version or wildcard)",
        ),
        (
            "  max_core_version: 1.x.x\n",
            "5:3 compatibility.max_core_version [Missing] missing required field `max_core_version` (a SemVer version or wildcard such as 1.x.x)",
        ),
        (
            "  contracts_major: 1\n",
            "5:3 compatibility.contracts_major [Missing] missing required field `contracts_major` (the contracts major version, a whole number)",
        ),
        (
            "  team: payments\n",
            "14:3 ownership.team [Missing] missing required field `team` (the owning team)",
        ),
        (
            "  tech_lead: Ada Lovelace\n",
            "14:3 ownership.tech_lead [Missing] missing required field `tech_lead` (the technical lead)",
        ),
        (
            "  contact: ada@example.com\n",
            "14:3 ownership.contact [Missing] missing required field `contact` (an email address)",
        ),
    ];
    for (remove, expected) in cases {
        check(remove, "", expected);
    }
    check(
        &section("compatibility"),
        "",
        "1:1 compatibility [Missing] missing required field `compatibility` (a mapping with min_core_version, max_core_version, contracts_major)",
    );
    check(
        &section("ownership"),
        "",
        "1:1 ownership [Missing] missing required field `ownership` (a mapping with team, tech_lead, contact)",
    );
}

#[test]
fn version_bounds() {
    const BAD: &str = "is not a version or wildcard";
    const ACCEPTED: &str =
        "expected a SemVer version such as 1.4.0, or a wildcard such as 1.x.x, 1.2.x or *";
    let cases: &[(&str, &str)] = &[
        ("1.x.x", "ok"),
        ("1.2.x", "ok"),
        ("1.x", "ok"),
        ("1.X.X", "ok"),
        ("\"1.x.x\"", "ok"),
        ("'*'", "ok"),
        ("\"*\"", "ok"),
        ("1.9.0", "ok"),
        ("1.9.0-rc.1", "ok"),
        ("1.9.0+build.7", "ok"),
        (
            "x.1.1",
            &format!(
                "6:21 compatibility.max_core_version [Value] \"x.1.1\" {BAD} (a wildcard may only replace trailing parts); {ACCEPTED}"
            ),
        ),
        (
            "1.x.3",
            &format!(
                "6:21 compatibility.max_core_version [Value] \"1.x.3\" {BAD} (a wildcard may only replace trailing parts); {ACCEPTED}"
            ),
        ),
        (
            "01.x.x",
            &format!(
                "6:21 compatibility.max_core_version [Value] \"01.x.x\" {BAD} (numbers must not have leading zeros); {ACCEPTED}"
            ),
        ),
        (
            "latest",
            &format!(
                "6:21 compatibility.max_core_version [Value] \"latest\" {BAD} (unexpected character 'l' while parsing major version number); {ACCEPTED}"
            ),
        ),
        (
            "1.2.3.4",
            &format!(
                "6:21 compatibility.max_core_version [Value] \"1.2.3.4\" {BAD} (unexpected character '.' after patch version number); {ACCEPTED}"
            ),
        ),
        (
            "1.2",
            "6:21 compatibility.max_core_version [Type] expected a SemVer version or wildcard, found the number 1.2; write it in quotes if it is text",
        ),
        (
            "\"1.2\"",
            &format!(
                "6:21 compatibility.max_core_version [Value] \"1.2\" {BAD} (unexpected end of input while parsing minor version number); {ACCEPTED}"
            ),
        ),
        // A bare `*` is YAML alias syntax, so the parser stops; the message says to quote it.
        (
            "*",
            "6:21  [Syntax] not valid YAML: while scanning an anchor or alias, did not find expected alphabetic or numeric character; a bare `*` starts an alias in YAML, quote it: \"*\"",
        ),
    ];
    for (bound, expected) in cases {
        check(
            "max_core_version: 1.x.x",
            &format!("max_core_version: {bound}"),
            expected,
        );
    }
    check(
        "min_core_version: 1.0.0",
        "min_core_version: v1.0.0",
        &format!(
            "5:21 compatibility.min_core_version [Value] \"v1.0.0\" {BAD} (unexpected character 'v' while parsing major version number); {ACCEPTED}"
        ),
    );
    check("min_core_version: 1.0.0", "min_core_version: 1.x.x", "ok");
    check("min_core_version: 1.0.0", "min_core_version: \"*\"", "ok");
}

#[test]
fn min_above_max() {
    let cases = [
        (
            "2.0.0",
            "1.x.x",
            "6:21 compatibility.max_core_version [Value] max_core_version 1.x.x is below min_core_version 2.0.0; expected a maximum at or above the minimum",
        ),
        (
            "1.5.0",
            "1.4.9",
            "6:21 compatibility.max_core_version [Value] max_core_version 1.4.9 is below min_core_version 1.5.0; expected a maximum at or above the minimum",
        ),
        (
            "1.3.x",
            "1.2.x",
            "6:21 compatibility.max_core_version [Value] max_core_version 1.2.x is below min_core_version 1.3.x; expected a maximum at or above the minimum",
        ),
        ("1.5.0", "1.5.0", "ok"),
        ("1.9.9", "1.x.x", "ok"),
        ("2.0.0-beta.1", "2.0.0", "ok"),
        (
            "2.0.0",
            "2.0.0-beta.1",
            "6:21 compatibility.max_core_version [Value] max_core_version 2.0.0-beta.1 is below min_core_version 2.0.0; expected a maximum at or above the minimum",
        ),
        ("\"*\"", "1.0.0", "ok"),
    ];
    for (min, max, expected) in cases {
        let text = finance_with(
            "min_core_version: 1.0.0",
            &format!("min_core_version: {min}"),
        )
        .replacen(
            "max_core_version: 1.x.x",
            &format!("max_core_version: {max}"),
            1,
        );
        assert_eq!(
            render(&VerticalManifest::parse(&text)),
            expected,
            "min {min}, max {max}"
        );
    }
}

#[test]
fn contracts_major() {
    let at = "7:20 compatibility.contracts_major";
    let cases = [
        ("0", "ok".to_owned()),
        ("2", "ok".to_owned()),
        (
            "one",
            format!("{at} [Type] expected a whole number, found a string"),
        ),
        (
            "\"1\"",
            format!(
                "{at} [Type] expected a whole number, found the string \"1\"; remove the quotes"
            ),
        ),
        (
            "'1'",
            format!(
                "{at} [Type] expected a whole number, found the string \"1\"; remove the quotes"
            ),
        ),
        (
            "-1",
            format!(
                "{at} [Value] -1 is out of range; expected a whole number from 0 to 4294967295"
            ),
        ),
        (
            "4294967296",
            format!(
                "{at} [Value] 4294967296 is out of range; expected a whole number from 0 to 4294967295"
            ),
        ),
        (
            "1.5",
            format!("{at} [Type] expected a whole number, found the fraction 1.5"),
        ),
        (
            "[1]",
            format!("{at} [Type] expected a whole number, found a list"),
        ),
        // An empty value is null, located just after the key's colon.
        (
            "",
            "7:18 compatibility.contracts_major [Type] expected a whole number, found null"
                .to_owned(),
        ),
    ];
    for (value, expected) in cases {
        check(
            "contracts_major: 1",
            &format!("contracts_major: {value}"),
            &expected,
        );
    }
}

#[test]
fn channels() {
    for channel in ["stable", "beta", "lts", "canary"] {
        let text = finance_with(
            "update_channel: stable",
            &format!("update_channel: {channel}"),
        );
        let m = VerticalManifest::parse(&text).expect(channel);
        assert_eq!(m.compatibility.update_channel.as_str(), channel);
    }
    let at = "8:19 compatibility.update_channel [Value]";
    let accepted = "expected one of stable, beta, lts, canary";
    check(
        "update_channel: stable",
        "update_channel: Stable",
        &format!("{at} \"Stable\" is not accepted; did you mean `stable`? {accepted}"),
    );
    check(
        "update_channel: stable",
        "update_channel: canery",
        &format!("{at} \"canary\" is not accepted; {accepted}").replace(
            "\"canary\" is not accepted;",
            "\"canery\" is not accepted; did you mean `canary`?",
        ),
    );
    check(
        "update_channel: stable",
        "update_channel: nightly",
        &format!("{at} \"nightly\" is not accepted; {accepted}"),
    );
    check(
        "update_channel: stable",
        "update_channel: 3",
        &format!("{at} \"3\" is not accepted; {accepted}"),
    );
    check(
        "update_channel: stable",
        "update_channel: [beta]",
        "8:19 compatibility.update_channel [Type] expected one of stable, beta, lts, canary, found a list",
    );
}

#[test]
fn smoke_tests_timeout_bounds_are_inclusive() {
    let at = "9:24 compatibility.smoke_tests_timeout";
    let cases = [
        (
            "59",
            format!("{at} [Value] 59 is out of range; expected seconds from 60 to 600"),
        ),
        ("60", "ok".to_owned()),
        ("600", "ok".to_owned()),
        (
            "601",
            format!("{at} [Value] 601 is out of range; expected seconds from 60 to 600"),
        ),
        (
            "0",
            format!("{at} [Value] 0 is out of range; expected seconds from 60 to 600"),
        ),
        (
            "5m",
            format!("{at} [Type] expected seconds, found a string"),
        ),
        (
            "\"300\"",
            format!("{at} [Type] expected seconds, found the string \"300\"; remove the quotes"),
        ),
    ];
    for (value, expected) in cases {
        check(
            "smoke_tests_timeout: 300",
            &format!("smoke_tests_timeout: {value}"),
            &expected,
        );
    }
    let text = finance_with("smoke_tests_timeout: 300", "smoke_tests_timeout: 60");
    assert_eq!(
        VerticalManifest::parse(&text)
            .unwrap()
            .compatibility
            .smoke_tests_timeout,
        60
    );
}

#[test]
fn contact_is_an_email() {
    let at = "16:12 ownership.contact [Value]";
    let accepted = "expected name@domain, such as team@example.com";
    for ok in [
        "team.payments@example.com",
        "a+b@sub.example.co.uk",
        "\"ops@example.com\"",
    ] {
        check("ada@example.com", ok, "ok");
    }
    for bad in [
        "ada",
        "ada@localhost",
        "ada @example.com",
        "a@b@example.com",
        "ada@example..com",
        "ada@-example.com",
    ] {
        check(
            "ada@example.com",
            bad,
            &format!("{at} \"{bad}\" is not an email address; {accepted}"),
        );
    }
    check(
        "ada@example.com",
        "\"@example.com\"",
        &format!("{at} \"@example.com\" is not an email address; {accepted}"),
    );
    check(
        "ada@example.com",
        "\"\"",
        "16:12 ownership.contact [Value] is empty; expected an email address",
    );
}

#[test]
fn status_values() {
    for (word, status) in [
        ("active", VerticalStatus::Active),
        ("deprecated", VerticalStatus::Deprecated),
        ("experimental", VerticalStatus::Experimental),
    ] {
        let m =
            VerticalManifest::parse(&finance_with("status: active", &format!("status: {word}")))
                .expect(word);
        assert_eq!(m.status, status);
    }
    let accepted = "expected one of active, deprecated, experimental";
    check(
        "status: active",
        "status: retired",
        &format!("3:9 status [Value] \"retired\" is not accepted; {accepted}"),
    );
    check(
        "status: active",
        "status: Active",
        &format!(
            "3:9 status [Value] \"Active\" is not accepted; did you mean `active`? {accepted}"
        ),
    );
    check(
        "status: active",
        "status: true",
        "3:9 status [Type] expected one of active, deprecated, experimental, found a boolean",
    );
}

#[test]
fn duplicate_keys_are_reported_at_the_second_occurrence() {
    check(
        "status: active\n",
        "status: active\nstatus: active\n",
        "4:1 status [Duplicate] duplicate key `status`; each key may appear once",
    );
    check(
        "  team: payments\n",
        "  team: payments\n  team: treasury\n",
        "15:3 ownership.team [Duplicate] duplicate key `team`; each key may appear once",
    );
    check(
        "  contracts_major: 1\n",
        "  contracts_major: 1\n  contracts_major: 2\n",
        "8:3 compatibility.contracts_major [Duplicate] duplicate key `contracts_major`; each key may appear once",
    );
    // Flow mappings too, with the column of the second key.
    let text = "ownership: {team: a, tech_lead: b, team: c, contact: a@b.io}\n";
    let problems = VerticalManifest::parse(text).unwrap_err().problems;
    let dup = problems
        .iter()
        .find(|p| p.kind == lockstep_manifest::ProblemKind::Duplicate)
        .unwrap();
    assert_eq!(
        (dup.line, dup.column, dup.field.as_str()),
        (1, 36, "ownership.team")
    );
}

#[test]
fn unknown_fields_suggest_the_nearest() {
    check(
        "  update_channel: stable\n",
        "  update_chanel: stable\n",
        "8:3 compatibility.update_chanel [Unknown] unknown field `update_chanel`; did you mean `update_channel`? accepted fields: min_core_version, max_core_version, contracts_major, update_channel, smoke_tests_timeout, required_capabilities",
    );
    check(
        "  contact: ada@example.com\n",
        "  contact: ada@example.com\n  contatc: x\n",
        "17:3 ownership.contatc [Unknown] unknown field `contatc`; did you mean `contact`? accepted fields: team, tech_lead, contact",
    );
    check(
        "status: active\n",
        "status: active\nowner: ada\n",
        "4:1 owner [Unknown] unknown field `owner`; accepted fields: domain_name, domain_version, status, compatibility, ownership, core, smoke_tests",
    );
}

#[test]
fn wrong_types() {
    check(
        "domain_name: finance",
        "domain_name: [finance]",
        "1:14 domain_name [Type] expected a name, found a list",
    );
    check(
        "domain_name: finance",
        "domain_name: \"  \"",
        "1:14 domain_name [Value] is empty; expected a name",
    );
    check(
        "domain_version: 2.3.0",
        "domain_version: 2.3",
        "2:17 domain_version [Type] expected a version such as 1.0.0, found the number 2.3; write it in quotes if it is text",
    );
    check(
        "    - events.stream\n",
        "    - events.stream\n    - [x]\n",
        "13:7 compatibility.required_capabilities[2] [Type] expected capability names, found a list",
    );
    check(
        "  required_capabilities:\n    - ledger.v1\n    - events.stream\n",
        "  required_capabilities: ledger.v1\n",
        "10:26 compatibility.required_capabilities [Type] expected a list of capability names, found a string",
    );
    assert_eq!(
        render(&VerticalManifest::parse("- a\n- b\n")),
        "1:1  [Type] expected a mapping, found a list"
    );
}

#[test]
fn core_and_smoke_tests_sections() {
    let pin = format!(
        "{FINANCE}core:\n  mode: pin\n  file: rust/Cargo.toml\n  dependency: platform-core\n  registry: github:acme/core\nsmoke_tests:\n  command: [scripts/smoke.sh, --fast]\n"
    );
    let m = VerticalManifest::parse(&pin).expect("valid");
    let core = m.core.as_ref().unwrap();
    assert_eq!(core.registry.as_deref(), Some("github:acme/core"));
    assert_eq!(
        core.mode,
        Some(lockstep_manifest::CoreMode::Pin {
            file: "rust/Cargo.toml".into(),
            dependency: "platform-core".into()
        })
    );
    assert_eq!(
        m.smoke_tests.unwrap().command,
        ["scripts/smoke.sh", "--fast"]
    );

    let cases = [
        ("core:\n  mode: checkout\n", "ok"),
        ("smoke_tests:\n  command: scripts/smoke.sh --fast\n", "ok"),
        (
            "core:\n  mode: pin\n  file: Cargo.toml\n",
            "18:3 core.dependency [Missing] missing required field `dependency` (core's package name in that file)",
        ),
        (
            "core:\n  mode: pin\n  file: go.mod\n  dependency: core\n",
            "19:9 core.file [Value] \"go.mod\" is not a supported package file; expected a path ending in Cargo.toml, package.json or pyproject.toml",
        ),
        (
            "core:\n  mode: checkout\n  file: Cargo.toml\n",
            "19:9 core.file [Value] `file` only applies to `mode: pin`; remove it for `mode: checkout`",
        ),
        (
            "core:\n  mode: vendored\n",
            "18:9 core.mode [Value] \"vendored\" is not accepted; expected one of pin, checkout",
        ),
        (
            "core:\n  file: Cargo.toml\n",
            "18:3 core [Missing] `file` and `dependency` need `mode: pin`",
        ),
        (
            "smoke_tests:\n  command: []\n",
            "18:12 smoke_tests.command [Value] is empty; expected a program path such as smoke_tests/run.sh",
        ),
        // A bad `core` does not hide a bad `smoke_tests` after it.
        (
            "core:\n  mode: vendored\nsmoke_tests:\n  command: []\n",
            "18:9 core.mode [Value] \"vendored\" is not accepted; expected one of pin, checkout\n20:12 smoke_tests.command [Value] is empty; expected a program path such as smoke_tests/run.sh",
        ),
    ];
    for (extra, expected) in cases {
        let text = format!("{FINANCE}{extra}");
        assert_eq!(render(&VerticalManifest::parse(&text)), expected, "{extra}");
    }
}

#[test]
fn several_problems_are_all_reported_in_document_order() {
    let text = "\
# legacy billing, never migrated
domain_name: billing
domain_version: 0.9.0
status: retired
compatibility:
  min_core_version: 2.0.0
  max_core_version: 1.x.x
  contracts_major: \"1\"
  update_channel: nightly
  smoke_tests_timeout: 30
ownership:
  team: billing
  team: finance-ops
  contact: billing-team
";
    insta::assert_snapshot!(render(&VerticalManifest::parse(text)), @r#"
    4:9 status [Value] "retired" is not accepted; expected one of active, deprecated, experimental
    7:21 compatibility.max_core_version [Value] max_core_version 1.x.x is below min_core_version 2.0.0; expected a maximum at or above the minimum
    8:20 compatibility.contracts_major [Type] expected a whole number, found the string "1"; remove the quotes
    9:19 compatibility.update_channel [Value] "nightly" is not accepted; expected one of stable, beta, lts, canary
    10:24 compatibility.smoke_tests_timeout [Value] 30 is out of range; expected seconds from 60 to 600
    12:3 ownership.tech_lead [Missing] missing required field `tech_lead` (the technical lead)
    13:3 ownership.team [Duplicate] duplicate key `team`; each key may appear once
    14:12 ownership.contact [Value] "billing-team" is not an email address; expected name@domain, such as team@example.com
    "#);
    let err = VerticalManifest::parse(text).unwrap_err();
    assert_eq!(err.document, "vertical manifest");
    insta::assert_snapshot!(err.to_string(), @r#"invalid vertical manifest: 8 problems (first at 4:9: status: "retired" is not accepted; expected one of active, deprecated, experimental)"#);
}

#[test]
fn yaml_syntax_errors_name_a_line() {
    let cases = [
        (
            "domain_name: finance\ncompatibility:\n  min_core_version: [1.0.0\n",
            Some(3),
        ),
        ("domain_name: finance\n  status: active\n", Some(2)),
        ("domain_name: \"unterminated\n", Some(2)),
        ("a: b\n---\nc: d\n", None),
    ];
    for (text, line) in cases {
        let err = VerticalManifest::parse(text).unwrap_err();
        assert_eq!(err.problems.len(), 1, "{text}");
        let p = &err.problems[0];
        assert_eq!(
            p.kind,
            lockstep_manifest::ProblemKind::Syntax,
            "{text}: {p}"
        );
        assert!(p.message.starts_with("not valid YAML: "), "{p}");
        if let Some(line) = line {
            assert_eq!(p.line, line, "{text}: {p}");
            assert!(p.column >= 1);
        }
    }
    insta::assert_snapshot!(render(&VerticalManifest::parse("domain_name: finance\n  status: active\n")), @"2:9  [Syntax] not valid YAML: mapping values are not allowed in this context");
    assert_eq!(
        render(&VerticalManifest::parse("")),
        "1:1  [Syntax] the file is empty; expected a YAML mapping"
    );
    assert_eq!(
        render(&VerticalManifest::parse("# only a comment\n")),
        "1:1  [Syntax] the file is empty; expected a YAML mapping"
    );
}

#[test]
fn to_yaml_round_trips_and_keeps_odd_strings() {
    let m = VerticalManifest::parse(FINANCE).unwrap();
    assert_eq!(VerticalManifest::parse(&m.to_yaml()).unwrap(), m);
    let odd = finance_with(
        "tech_lead: Ada Lovelace",
        "tech_lead: \"Zoë \\u2028 \\\"Ada\\\" #1: yes\"",
    );
    let m = VerticalManifest::parse(&odd).unwrap();
    assert_eq!(m.ownership.tech_lead, "Zoë \u{2028} \"Ada\" #1: yes");
    assert_eq!(VerticalManifest::parse(&m.to_yaml()).unwrap(), m);
}
