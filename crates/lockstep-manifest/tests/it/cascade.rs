//! `cascade.toml`: every rule of the format, one small case each; the error report as a
//! snapshot; the committed JSON Schema against the reader.

use std::path::PathBuf;

use lockstep_manifest::{
    CASCADE_SCHEMA_FILE_NAME, CascadeConfig, DocumentKind, ProblemKind, RepoSource, detect_kind,
};
use serde_json::Value;

use crate::support::render;

/// A valid config shaped like the original brief's DAG. Line numbers matter: tests name them.
const BRIEF: &str = r#"[cascade]
jobs = 4
exact_pins = true

[[repo]]
name = "manifest"
path = "repos/manifest"
smoke = "scripts/smoke.sh"
branch = "main"
remote = "origin"

[[repo]]
name = "runtime"
url = "https://example.com/runtime.git"
depends_on = ["manifest"]
reexports = ["manifest-types"]

[[repo]]
name = "docs"
path = "../docs"
"#;

/// Replaces `from` by `to` in `BRIEF` (panicking if it is not there, so a case cannot silently
/// test the unchanged config) and compares the rendered result.
#[track_caller]
fn check(from: &str, to: &str, expected: &str) {
    assert!(BRIEF.contains(from), "{from:?} is not in the base config");
    let text = BRIEF.replacen(from, to, 1);
    let got = render(&CascadeConfig::parse(&text));
    assert_eq!(
        got, expected,
        "\nreplacing {from:?} by {to:?}\n--- text ---\n{text}"
    );
}

#[test]
fn the_brief_example_parses() {
    let c = CascadeConfig::parse(BRIEF).expect("valid");
    assert_eq!(c.options.jobs, Some(4));
    assert!(c.options.exact_pins);
    let names: Vec<_> = c.repos.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(names, ["manifest", "runtime", "docs"]);
    let m = &c.repos[0];
    assert_eq!(m.source, RepoSource::Path("repos/manifest".into()));
    assert_eq!(m.smoke.as_deref(), Some("scripts/smoke.sh"));
    assert_eq!(m.branch.as_deref(), Some("main"));
    assert_eq!(m.remote.as_deref(), Some("origin"));
    assert_eq!(m.line, 5);
    assert!(m.depends_on.is_empty() && m.reexports.is_empty());
    let r = c.repo("runtime").expect("listed");
    assert_eq!(
        r.source,
        RepoSource::Url("https://example.com/runtime.git".into())
    );
    assert_eq!(r.depends_on, ["manifest"]);
    assert_eq!(r.reexports, ["manifest-types"]);
    assert_eq!(r.line, 12);
    let d = c.repo("docs").expect("listed");
    assert_eq!(
        (&d.smoke, &d.branch, &d.remote),
        (&None, &None, &None),
        "optional fields stay absent"
    );
    assert!(c.repo("nope").is_none());
}

#[test]
fn the_cascade_table_is_optional() {
    let text = BRIEF.replacen("[cascade]\njobs = 4\nexact_pins = true\n", "", 1);
    let c = CascadeConfig::parse(&text).expect("valid");
    assert_eq!(c.options.jobs, None);
    assert!(!c.options.exact_pins);
}

#[test]
fn inline_tables_and_scp_urls_are_accepted() {
    let text = "repo = [\n  { name = \"a\", url = \"git@github.com:o/a.git\" },\n  { name = \"b\", path = \"b\", depends_on = [\"a\"] },\n]\n";
    let c = CascadeConfig::parse(text).expect("valid");
    assert_eq!(c.repos[1].depends_on, ["a"]);
    assert_eq!(c.repos[1].line, 3);
}

#[test]
fn repository_fields() {
    // (from, to, expected)
    let cases: &[(&str, &str, &str)] = &[
        (
            "name = \"docs\"\n",
            "",
            "18:1 repo[2].name [Missing] missing required field `name` (the repository's name)",
        ),
        (
            "name = \"docs\"",
            "name = \"\"",
            "19:8 repo[2].name [Value] is empty; expected a repository name",
        ),
        (
            "name = \"docs\"",
            "name = 7",
            "19:8 repo[2].name [Type] expected a repository name (a string), found an integer",
        ),
        (
            "name = \"docs\"",
            "name = \"manifest\"",
            "19:8 repo[2].name [Duplicate] a repository named `manifest` is already listed; names must be unique",
        ),
        (
            "path = \"../docs\"\n",
            "",
            "18:1 repo[2].path [Missing] missing `path` (a directory relative to cascade.toml) or `url` (a clone URL)",
        ),
        (
            "path = \"../docs\"",
            "path = \"../docs\"\nurl = \"https://example.com/docs.git\"",
            "21:7 repo[2].url [Value] give either `path` or `url`, not both",
        ),
        (
            "path = \"../docs\"",
            "path = \"https://example.com/docs.git\"",
            "20:8 repo[2].path [Value] \"https://example.com/docs.git\" is a URL; write it as `url`, or give a directory as `path`",
        ),
        (
            "url = \"https://example.com/runtime.git\"",
            "url = \"runtime\"",
            "14:7 repo[1].url [Value] \"runtime\" is not a clone URL; expected scheme://host/path (https, ssh, git, file) or user@host:path, or give a directory as `path`",
        ),
        (
            "path = \"../docs\"",
            "path = [\"../docs\"]",
            "20:8 repo[2].path [Type] expected a directory relative to cascade.toml (a string), found a list",
        ),
        (
            "smoke = \"scripts/smoke.sh\"",
            "smoke = \"  \"",
            "8:9 repo[0].smoke [Value] is empty; expected a command, relative to the repository",
        ),
        (
            "branch = \"main\"",
            "branch = true",
            "9:10 repo[0].branch [Type] expected a branch name such as main (a string), found a boolean",
        ),
        (
            "remote = \"origin\"",
            "remote = { name = \"origin\" }",
            "10:10 repo[0].remote [Type] expected a remote name or URL (a string), found a mapping",
        ),
        (
            "remote = \"origin\"",
            "remotes = \"origin\"",
            "10:1 repo[0].remotes [Unknown] unknown field `remotes`; did you mean `remote`? accepted fields: name, path, url, smoke, branch, depends_on, reexports, remote, tag, publish, install, release_unpublished",
        ),
        (
            "remote = \"origin\"",
            "remote.name = \"origin\"",
            "10:1 repo[0].remote [Type] expected a remote name or URL (a string), found a mapping",
        ),
    ];
    for (from, to, expected) in cases {
        check(from, to, expected);
    }
}

#[test]
fn name_lists() {
    let cases: &[(&str, &str, &str)] = &[
        (
            "depends_on = [\"manifest\"]",
            "depends_on = \"manifest\"",
            "15:14 repo[1].depends_on [Type] expected a list of repository names, found a string",
        ),
        (
            "depends_on = [\"manifest\"]",
            "depends_on = [\"manifest\", \"docs\", \"manifest\"]",
            "15:35 repo[1].depends_on[2] [Duplicate] `manifest` is already listed; each name may appear once",
        ),
        (
            "depends_on = [\"manifest\"]",
            "depends_on = [\"manfest\"]",
            "15:15 repo[1].depends_on[0] [Value] no repository named `manfest`; expected one of: manifest, runtime, docs",
        ),
        (
            "depends_on = [\"manifest\"]",
            "depends_on = [\"runtime\"]",
            "15:15 repo[1].depends_on[0] [Value] `runtime` cannot depend on itself; name another repository",
        ),
        (
            "depends_on = [\"manifest\"]",
            "depends_on = [\"\"]",
            "15:15 repo[1].depends_on[0] [Value] is empty; expected a repository name",
        ),
        ("depends_on = [\"manifest\"]", "depends_on = []", "ok"),
        (
            "reexports = [\"manifest-types\"]",
            "reexports = [\"a\", 2]",
            "16:19 repo[1].reexports[1] [Type] expected a package name (a string), found an integer",
        ),
        (
            "reexports = [\"manifest-types\"]",
            "reexports = [\"a\", \"a\"]",
            "16:19 repo[1].reexports[1] [Duplicate] `a` is already listed; each name may appear once",
        ),
    ];
    for (from, to, expected) in cases {
        check(from, to, expected);
    }
}

#[test]
fn cascade_options_and_the_document() {
    let cases: &[(&str, &str, &str)] = &[
        (
            "jobs = 4",
            "jobs = 0",
            "2:8 cascade.jobs [Value] 0 is out of range; expected the number of repositories released at once from 1 to 1024",
        ),
        (
            "jobs = 4",
            "jobs = \"4\"",
            "2:8 cascade.jobs [Type] expected the number of repositories released at once, found the string \"4\"; remove the quotes",
        ),
        (
            "exact_pins = true",
            "exact_pins = \"yes\"",
            "3:14 cascade.exact_pins [Type] expected true or false, found a string",
        ),
        (
            "exact_pins = true",
            "exact_pin = true",
            "3:1 cascade.exact_pin [Unknown] unknown field `exact_pin`; did you mean `exact_pins`? accepted fields: jobs, exact_pins",
        ),
        (
            "[cascade]\n",
            "[cascades]\n",
            "1:2 cascades [Unknown] unknown field `cascades`; did you mean `cascade`? accepted fields: cascade, release_dependents, registries, wait, repo",
        ),
        (
            "[cascade]\njobs = 4\n",
            "cascade = 4\njobs = 4\n",
            "1:11 cascade [Type] expected a mapping, found an integer\n2:1 jobs [Unknown] unknown field `jobs`; accepted fields: cascade, release_dependents, registries, wait, repo\n3:1 exact_pins [Unknown] unknown field `exact_pins`; accepted fields: cascade, release_dependents, registries, wait, repo",
        ),
        (
            "[[repo]]\nname = \"docs\"",
            "[repo]\nname = \"docs\"",
            "18:2  [Duplicate] not valid TOML: duplicate key `repo`; each key may appear once in a table",
        ),
        (
            "name = \"docs\"\n",
            "name = \"docs\"\nname = \"again\"\n",
            "20:1  [Duplicate] not valid TOML: duplicate key `name`; each key may appear once in a table",
        ),
        (
            "branch = \"main\"",
            "branch = \"main",
            "9:15  [Syntax] not valid TOML: invalid basic string, expected `\"`",
        ),
    ];
    for (from, to, expected) in cases {
        check(from, to, expected);
    }
    for (text, expected) in [
        (
            "",
            "1:1 repo [Missing] missing required field `repo` (one [[repo]] table per repository)",
        ),
        (
            "repo = []\n",
            "1:8 repo [Value] is empty; expected at least one [[repo]] table",
        ),
        (
            "repo = \"a\"\n",
            "1:8 repo [Type] expected one [[repo]] table per repository, found a string",
        ),
        (
            "repo = [1]\n",
            "1:9 repo[0] [Type] expected a mapping, found an integer",
        ),
    ] {
        assert_eq!(render(&CascadeConfig::parse(text)), expected, "{text:?}");
    }
}

#[test]
fn a_config_over_one_mebibyte_is_refused() {
    let big = format!("{BRIEF}# {}\n", "x".repeat(1024 * 1024));
    let err = CascadeConfig::parse(&big).unwrap_err();
    assert_eq!(err.problems.len(), 1);
    assert_eq!(err.problems[0].kind, ProblemKind::TooLarge);
}

#[test]
fn validate_knows_a_cascade_config_by_its_content() {
    assert_eq!(detect_kind(BRIEF), DocumentKind::CascadeConfig);
}

/// Every problem in one broken config, in document order: what `validate` prints.
#[test]
fn a_broken_config_reports_every_problem_in_order() {
    let text = r#"[cascade]
jobs = -1

[[repo]]
name = "manifest"
path = "repos/manifest"
smoke = ["scripts/smoke.sh"]

[[repo]]
name = "runtime"
url = "file:///srv/git/runtime.git"
path = "repos/runtime"
depends_on = ["manifest", "urn-authority"]

[[repo]]
name = "manifest"
url = "not a url"
brnach = "main"

[[repo]]
path = "repos/docs"
reexports = "manifest"
"#;
    let err = CascadeConfig::parse(text).unwrap_err();
    insta::assert_snapshot!(format!("{err}\n{}", render(&Err::<(), _>(err.clone()))));
}

fn schema_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../docs/schemas")
        .join(CASCADE_SCHEMA_FILE_NAME)
}

/// Fails when the committed schema differs from the code; `LOCKSTEP_BLESS=1` rewrites it.
#[test]
fn the_committed_schema_does_not_drift() {
    let fresh = format!(
        "{}\n",
        serde_json::to_string_pretty(&CascadeConfig::schema()).unwrap()
    );
    let path = schema_path();
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

/// The names after "accepted fields:" in the unknown-field problem at `field`.
fn accepted(text: &str, field: &str) -> Vec<String> {
    let problems = CascadeConfig::parse(text).unwrap_err().problems;
    let p = problems
        .iter()
        .find(|p| p.kind == ProblemKind::Unknown && p.field == field)
        .unwrap_or_else(|| panic!("no unknown-field problem for {field}: {problems:?}"));
    let mut names: Vec<String> = p
        .message
        .split("accepted fields: ")
        .nth(1)
        .unwrap()
        .split(", ")
        .map(str::to_owned)
        .collect();
    names.sort();
    names
}

fn keys(v: &Value) -> Vec<String> {
    v.as_object().unwrap().keys().cloned().collect()
}

#[test]
fn the_schema_names_exactly_what_the_reader_accepts() {
    let s = CascadeConfig::schema();
    let repo = &s["properties"]["repo"]["items"];
    let options = &s["properties"]["cascade"];
    let text = format!("zz_unknown = 1\n{BRIEF}zz_unknown = 1\n").replacen(
        "jobs = 4\n",
        "jobs = 4\nzz_unknown = 1\n",
        1,
    );
    assert_eq!(accepted(&text, "zz_unknown"), keys(&s["properties"]));
    assert_eq!(
        accepted(&text, "cascade.zz_unknown"),
        keys(&options["properties"])
    );
    assert_eq!(
        accepted(&text, "repo[2].zz_unknown"),
        keys(&repo["properties"])
    );
    for object in [&s, options, repo] {
        assert_eq!(object["additionalProperties"], false);
    }
    assert_eq!(s["required"], serde_json::json!(["repo"]));
    assert_eq!(repo["required"], serde_json::json!(["name"]));
    assert_eq!(
        s["$id"].as_str().unwrap().rsplit('/').next(),
        Some(CASCADE_SCHEMA_FILE_NAME)
    );
}

#[test]
fn registries_and_wait_budgets() {
    let text = format!(
        "[registries]\ncrates = \"sparse+http://127.0.0.1:8000/index/\"\npypi = \"http://127.0.0.1:8001\"\nnpm = \"https://npm.example.com\"\n\n[wait]\ntimeout_s = {{ pypi = 300, npm = 120 }}\n\n{BRIEF}"
    );
    let c = CascadeConfig::parse(&text).expect("valid");
    assert_eq!(
        c.registries.crates.as_deref(),
        Some("sparse+http://127.0.0.1:8000/index/")
    );
    assert_eq!(c.registries.pypi.as_deref(), Some("http://127.0.0.1:8001"));
    assert_eq!(c.registries.npm.as_deref(), Some("https://npm.example.com"));
    assert_eq!(
        (c.wait.crates, c.wait.pypi, c.wait.npm),
        (None, Some(300), Some(120))
    );

    // One number is every ecosystem's budget.
    let c = CascadeConfig::parse(&format!("[wait]\ntimeout_s = 90\n{BRIEF}")).expect("valid");
    assert_eq!(
        (c.wait.crates, c.wait.pypi, c.wait.npm),
        (Some(90), Some(90), Some(90))
    );

    // Neither table is required.
    let c = CascadeConfig::parse(BRIEF).expect("valid");
    assert_eq!(c.registries.pypi, None);
    assert_eq!(c.wait.npm, None);

    for (table, expected) in [
        (
            "[registries]\ncrates = \"https://index.crates.io/\"\n",
            "2:10 registries.crates [Value] \"https://index.crates.io/\" is not accepted; expected a sparse index URL such as \"sparse+https://index.crates.io/\"",
        ),
        (
            "[registries]\npypi = \"pypi.org\"\n",
            "2:8 registries.pypi [Value] \"pypi.org\" is not accepted; expected a PyPI base URL such as \"https://pypi.org\" (serving /simple/NAME/)",
        ),
        (
            "[registries]\nyarn = \"https://x\"\n",
            "2:1 registries.yarn [Unknown] unknown field `yarn`; accepted fields: crates, pypi, npm",
        ),
        (
            "[wait]\ntimeout_s = 0\n",
            "2:13 wait.timeout_s [Value] 0 is out of range; expected seconds to wait for a registry from 1 to 86400",
        ),
        (
            "[wait]\ntimeout_s = { pip = 3 }\n",
            "2:15 wait.timeout_s.pip [Unknown] unknown field `pip`; did you mean `pypi`? accepted fields: crates, pypi, npm",
        ),
    ] {
        let got = render(&CascadeConfig::parse(&format!("{table}{BRIEF}")));
        assert_eq!(got, expected, "\n--- table ---\n{table}");
    }
}
