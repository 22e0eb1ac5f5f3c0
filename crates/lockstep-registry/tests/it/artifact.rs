use std::fs;

use lockstep_registry::{Artifact, ErrorKind, download_artifact};
use lockstep_testkit::http::{Route, Server};
use sha2::{Digest, Sha256};

use crate::opts;

fn sha256(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn entries(dir: &std::path::Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .expect("dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn a_matching_artifact_is_moved_into_place() {
    let server = Server::start();
    let bytes = b"core-1.0.0 tarball".repeat(1000);
    server.route("/core.tar.gz", Route::ok(bytes.clone()));
    let dest = tempfile::tempdir().expect("temp dir");
    let artifact = Artifact::new(
        "core.tar.gz".into(),
        server.url("/core.tar.gz"),
        sha256(&bytes).to_uppercase(),
        bytes.len() as u64,
    );
    let path = download_artifact(&artifact, dest.path(), &opts()).expect("verified");
    assert_eq!(path, dest.path().join("core.tar.gz"));
    assert_eq!(fs::read(&path).expect("read"), bytes);
    assert_eq!(entries(dest.path()), ["core.tar.gz"]);
    assert_eq!(
        server.requests()[0].header("accept-encoding"),
        None,
        "bytes are hashed as sent"
    );
}

#[test]
fn a_mismatch_leaves_nothing_behind_and_says_expected_and_actual() {
    let server = Server::start();
    let good = b"the real artifact".to_vec();
    let evil = b"the evil artifact".to_vec();
    server
        .route("/evil", Route::ok(evil.clone()))
        .route("/short", Route::ok(good[..5].to_vec()))
        .route("/long", Route::ok(good.repeat(100)))
        .route("/huge", Route::oversized(64 * 1024 * 1024, false));
    let dest = tempfile::tempdir().expect("temp dir");
    let size = good.len() as u64;
    let cases = [
        ("/evil", "sha256", sha256(&good), sha256(&evil)),
        (
            "/short",
            "size",
            format!("{size} bytes"),
            "5 bytes".to_owned(),
        ),
        (
            "/long",
            "size",
            format!("{size} bytes"),
            format!("more than {size} bytes"),
        ),
        (
            "/huge",
            "size",
            format!("{size} bytes"),
            format!("more than {size} bytes"),
        ),
    ];
    for (path, what, expected, actual) in cases {
        let artifact = Artifact::new("core.bin".into(), server.url(path), sha256(&good), size);
        let err = download_artifact(&artifact, dest.path(), &opts()).expect_err(path);
        assert_eq!(err.kind(), ErrorKind::Checksum, "{path}: {err}");
        assert_eq!(
            err.to_string(),
            format!(
                "artifact core.bin from {} has {what} {actual}, but the release metadata says {expected}; the download was discarded",
                server.url(path)
            )
        );
        assert!(
            entries(dest.path()).is_empty(),
            "{path}: {:?}",
            entries(dest.path())
        );
    }
}

#[test]
fn an_existing_file_is_kept_when_the_download_fails() {
    let server = Server::start();
    server.route("/core.bin", Route::error(500));
    let dest = tempfile::tempdir().expect("temp dir");
    fs::write(dest.path().join("core.bin"), "previous").expect("write");
    let artifact = Artifact::new("core.bin".into(), server.url("/core.bin"), sha256(b"x"), 1);
    let err = download_artifact(&artifact, dest.path(), &opts()).expect_err("500");
    assert_eq!(err.kind(), ErrorKind::Http { status: 500 });
    assert_eq!(
        fs::read_to_string(dest.path().join("core.bin")).expect("read"),
        "previous"
    );
    assert_eq!(entries(dest.path()), ["core.bin"]);
}

#[test]
fn names_that_would_escape_the_directory_are_refused_before_downloading() {
    let server = Server::start();
    let dest = tempfile::tempdir().expect("temp dir");
    for name in ["../evil", "a/b", "..", "", "c:\\x"] {
        let artifact = Artifact::new(name.into(), server.url("/x"), sha256(b""), 0);
        let err = download_artifact(&artifact, dest.path(), &opts()).expect_err(name);
        assert_eq!(err.kind(), ErrorKind::InvalidData, "{name:?}");
    }
    let artifact = Artifact::new(
        "core.bin".into(),
        "http://example.com/core.bin".into(),
        sha256(b""),
        0,
    );
    assert_eq!(
        download_artifact(&artifact, dest.path(), &opts()).map_err(|e| e.kind()),
        Err(ErrorKind::InsecureUrl)
    );
    assert!(server.requests().is_empty());
}
