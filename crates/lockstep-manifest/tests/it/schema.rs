//! The committed JSON Schemas match the code, and name exactly the fields the reader accepts.

use std::path::PathBuf;

use lockstep_manifest::{ProblemKind, ReleaseIndex, VerticalManifest, schema};
use serde_json::Value;

use crate::support::FINANCE;

fn schema_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../docs/schemas")
}

/// Fails when `docs/schemas/` differs from the code; `LOCKSTEP_BLESS=1` rewrites the files.
#[test]
fn committed_schemas_do_not_drift() {
    let bless = std::env::var_os("LOCKSTEP_BLESS").is_some_and(|v| v == "1");
    for (name, schema) in schema::all() {
        let path = schema_dir().join(name);
        let fresh = format!("{}\n", serde_json::to_string_pretty(&schema).unwrap());
        if bless {
            std::fs::write(&path, &fresh).unwrap();
            continue;
        }
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            committed == fresh,
            "{} is out of date; run `LOCKSTEP_BLESS=1 cargo test -p lockstep-manifest` and commit it",
            path.display()
        );
    }
}

/// The names listed after "accepted fields:" in the problem for an unknown key `zz_unknown`
/// inserted into the mapping at `path`.
fn accepted_by_reader(problems: &[lockstep_manifest::Problem], field: &str) -> Vec<String> {
    let p = problems
        .iter()
        .find(|p| p.kind == ProblemKind::Unknown && p.field == field)
        .unwrap_or_else(|| panic!("no unknown-field problem for {field}: {problems:?}"));
    let list = p.message.split("accepted fields: ").nth(1).unwrap();
    list.split(", ").map(str::to_owned).collect()
}

fn missing_by_reader(problems: &[lockstep_manifest::Problem], prefix: &str) -> Vec<String> {
    let mut out: Vec<String> = problems
        .iter()
        .filter(|p| p.kind == ProblemKind::Missing)
        .filter_map(|p| p.field.strip_prefix(prefix).map(str::to_owned))
        .filter(|f| !f.contains('.'))
        .collect();
    out.sort();
    out
}

fn properties(schema: &Value) -> Vec<String> {
    // serde_json's map is sorted; the reader lists fields in the format's order.
    schema["properties"]
        .as_object()
        .unwrap()
        .keys()
        .cloned()
        .collect()
}

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}

fn required(schema: &Value) -> Vec<String> {
    let mut out: Vec<String> = schema["required"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_owned())
        .collect();
    out.sort();
    out
}

#[test]
fn the_vertical_schema_names_exactly_what_the_reader_accepts_and_requires() {
    let s = schema::vertical_manifest();
    let text =
        format!("{FINANCE}zz_unknown: 1\ncore:\n  zz_unknown: 1\nsmoke_tests:\n  zz_unknown: 1\n")
            .replacen(
                "  contracts_major: 1\n",
                "  contracts_major: 1\n  zz_unknown: 1\n",
                1,
            )
            .replacen(
                "  team: payments\n",
                "  team: payments\n  zz_unknown: 1\n",
                1,
            );
    let problems = VerticalManifest::parse(&text).unwrap_err().problems;
    let p = &s["properties"];
    for (field, schema) in [
        ("zz_unknown", &s),
        ("compatibility.zz_unknown", &p["compatibility"]),
        ("ownership.zz_unknown", &p["ownership"]),
        ("core.zz_unknown", &p["core"]),
        ("smoke_tests.zz_unknown", &p["smoke_tests"]),
    ] {
        assert_eq!(
            sorted(accepted_by_reader(&problems, field)),
            properties(schema),
            "{field}"
        );
        assert_eq!(schema["additionalProperties"], false, "{field}");
    }

    let problems = VerticalManifest::parse("{}\n").unwrap_err().problems;
    assert_eq!(missing_by_reader(&problems, ""), required(&s));
    let text = "compatibility: {}\nownership: {}\nsmoke_tests: {}\n";
    let problems = VerticalManifest::parse(text).unwrap_err().problems;
    assert_eq!(
        missing_by_reader(&problems, "compatibility."),
        required(&p["compatibility"])
    );
    assert_eq!(
        missing_by_reader(&problems, "ownership."),
        required(&p["ownership"])
    );
    assert_eq!(
        missing_by_reader(&problems, "smoke_tests."),
        required(&p["smoke_tests"])
    );
    let core = VerticalManifest::parse(&format!("{FINANCE}core: {{}}\n")).map(|m| m.core);
    assert!(core.is_ok() && required(&p["core"]).is_empty());
}

#[test]
fn the_release_schemas_name_exactly_what_the_reader_accepts_and_requires() {
    let index = schema::release_index();
    let release = &index["$defs"]["release"];
    assert_eq!(schema::release()["$defs"]["release"], *release);
    let text = r#"{"schema": 1, "zz_unknown": 1, "releases": [{"zz_unknown": 1,
        "changelog": {"zz_unknown": 1}, "artifacts": [{"zz_unknown": 1}]}]}"#;
    let problems = ReleaseIndex::parse(text).unwrap_err().problems;
    let p = &release["properties"];
    for (field, schema) in [
        ("zz_unknown", &index),
        ("releases[0].zz_unknown", release),
        ("releases[0].changelog.zz_unknown", &p["changelog"]),
        (
            "releases[0].artifacts[0].zz_unknown",
            &p["artifacts"]["items"],
        ),
    ] {
        assert_eq!(
            sorted(accepted_by_reader(&problems, field)),
            properties(schema),
            "{field}"
        );
    }
    assert_eq!(
        missing_by_reader(&problems, "releases[0]."),
        required(release)
    );
    assert_eq!(
        missing_by_reader(&problems, "releases[0].artifacts[0]."),
        required(&p["artifacts"]["items"])
    );
    let problems = ReleaseIndex::parse("{}").unwrap_err().problems;
    assert_eq!(missing_by_reader(&problems, ""), required(&index));
}

#[test]
fn every_property_is_described() {
    fn walk(v: &Value, path: &str) {
        match v {
            Value::Object(m) => {
                if let Some(Value::Object(props)) = m.get("properties") {
                    for (name, p) in props {
                        assert!(
                            p.get("description").is_some_and(|d| d != "undocumented"),
                            "{path}.{name} is undocumented"
                        );
                    }
                }
                // `if`/`then`/`else` restate properties; they are described where defined.
                for (k, child) in m
                    .iter()
                    .filter(|(k, _)| !["if", "then", "else"].contains(&k.as_str()))
                {
                    walk(child, &format!("{path}.{k}"));
                }
            }
            Value::Array(items) => items.iter().for_each(|i| walk(i, path)),
            _ => {}
        }
    }
    for (name, schema) in schema::all() {
        walk(&schema, name);
    }
}
