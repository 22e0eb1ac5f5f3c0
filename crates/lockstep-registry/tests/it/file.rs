use std::fs;

use lockstep_registry::{ErrorKind, open};

use crate::{index, opts, release, versions};

#[test]
fn reads_a_file_or_a_directory_holding_releases_json() {
    let dir = tempfile::tempdir().expect("temp dir");
    let text = index(&[
        release("1.10.0", "stable"),
        release("1.2.0", "lts"),
        release("1.9.0-beta.1", "beta"),
    ]);
    fs::write(dir.path().join("releases.json"), text.to_string()).expect("write");
    fs::write(dir.path().join("other.json"), text.to_string()).expect("write");
    for spec in [
        dir.path().to_path_buf(),
        dir.path().join("releases.json"),
        dir.path().join("other.json"),
    ] {
        let source = open(spec.to_str().expect("utf-8"), &opts()).expect("opens");
        let releases = source.releases().expect("reads");
        assert_eq!(
            versions(&releases),
            ["1.2.0", "1.9.0-beta.1", "1.10.0"],
            "{}",
            spec.display()
        );
    }
}

#[test]
fn a_missing_file_is_not_found_and_names_the_path() {
    let dir = tempfile::tempdir().expect("temp dir");
    for spec in [dir.path().join("nope.json"), dir.path().to_path_buf()] {
        let source = open(spec.to_str().expect("utf-8"), &opts()).expect("opens");
        let err = source.releases().expect_err("missing");
        assert_eq!(err.kind(), ErrorKind::NotFound);
        let message = err.to_string();
        assert!(
            message.contains(&dir.path().display().to_string()),
            "{message}"
        );
        assert!(
            message.contains("expected a releases.json file, or a directory holding one"),
            "{message}"
        );
    }
}

#[test]
fn invalid_content_reports_every_problem_with_file_line_and_field() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("releases.json");
    fs::write(
        &path,
        "{\"schema\": 1, \"releases\": [\n  {\"version\": \"one\", \"channel\": \"stable\", \"contracts_version\": \"1.0.0\"},\n  {\"version\": \"1.0.0\", \"channel\": \"nightly\", \"contracts_version\": \"1.0.0\"}\n]}\n",
    )
    .expect("write");
    let err = open(path.to_str().expect("utf-8"), &opts())
        .expect("opens")
        .releases()
        .expect_err("invalid");
    assert_eq!(err.kind(), ErrorKind::InvalidData);
    let fields: Vec<(usize, &str)> = err
        .problems()
        .iter()
        .map(|p| (p.line, p.field.as_str()))
        .collect();
    assert_eq!(
        fields,
        [(2, "releases[0].version"), (3, "releases[1].channel")]
    );
    let message = err.to_string();
    assert!(
        message.starts_with(&format!("invalid release index at {}:2:", path.display())),
        "{message}"
    );
    assert!(message.ends_with("(and 1 more)"), "{message}");
}

#[test]
fn non_json_and_non_utf8_files_are_invalid_data() {
    let dir = tempfile::tempdir().expect("temp dir");
    for (name, bytes) in [
        ("a.json", &b"not json"[..]),
        ("b.json", &b"{\"schema\": 1, \xff}"[..]),
        ("c.json", &b""[..]),
    ] {
        let path = dir.path().join(name);
        fs::write(&path, bytes).expect("write");
        let err = open(path.to_str().expect("utf-8"), &opts())
            .expect("opens")
            .releases()
            .expect_err("invalid");
        assert_eq!(err.kind(), ErrorKind::InvalidData, "{name}");
        assert!(!err.problems().is_empty(), "{name}");
    }
}
