use std::time::Duration;

use lockstep_registry::{ErrorKind, open};
use lockstep_testkit::http::{RawServer, Route, Server};

use crate::{index, opts, release, versions};

#[test]
fn reads_an_index_over_http() {
    let server = Server::start();
    server.route(
        "/core/releases.json",
        Route::json(&index(&[
            release("2.0.0", "stable"),
            release("1.5.0", "lts"),
        ])),
    );
    let source = open(&server.url("/core/releases.json"), &opts()).expect("opens");
    assert_eq!(source.describe(), server.url("/core/releases.json"));
    assert_eq!(
        versions(&source.releases().expect("reads")),
        ["1.5.0", "2.0.0"]
    );
}

#[test]
fn an_unchanged_index_costs_only_a_304_and_gives_the_same_releases() {
    let server = Server::start();
    server.route(
        "/releases.json",
        Route::json(&index(&[
            release("1.0.0", "stable"),
            release("1.1.0", "beta"),
        ]))
        .etag("v1"),
    );
    let cache = tempfile::tempdir().expect("temp dir");
    let opts = opts().with_cache_dir(cache.path().join(".lockstep/cache"));
    let first = open(&server.url("/releases.json"), &opts)
        .expect("opens")
        .releases()
        .expect("reads");
    server.clear_requests();
    let second = open(&server.url("/releases.json"), &opts)
        .expect("opens")
        .releases()
        .expect("reads");
    assert_eq!(first, second);
    let log = server.requests();
    assert_eq!(log.len(), 1);
    assert_eq!(log[0].status, 304);
    assert_eq!(log[0].if_none_match(), Some("\"v1\""));
}

#[test]
fn without_a_cache_every_fetch_is_a_full_one() {
    let server = Server::start();
    server.route(
        "/releases.json",
        Route::json(&index(&[release("1.0.0", "stable")])).etag("v1"),
    );
    for _ in 0..2 {
        open(&server.url("/releases.json"), &opts())
            .expect("opens")
            .releases()
            .expect("reads");
    }
    let log = server.requests();
    assert!(
        log.iter()
            .all(|r| r.status == 200 && r.if_none_match().is_none()),
        "{log:?}"
    );
}

#[test]
fn a_changed_index_is_fetched_again_and_recached() {
    let server = Server::start();
    let cache = tempfile::tempdir().expect("temp dir");
    let opts = opts().with_cache_dir(cache.path());
    server.route(
        "/r.json",
        Route::json(&index(&[release("1.0.0", "stable")]))
            .etag("v1")
            .times(1),
    );
    server.route(
        "/r.json",
        Route::json(&index(&[
            release("1.0.0", "stable"),
            release("1.1.0", "stable"),
        ]))
        .etag("v2"),
    );
    let read = || {
        versions(
            &open(&server.url("/r.json"), &opts)
                .expect("opens")
                .releases()
                .expect("reads"),
        )
    };
    assert_eq!(read(), ["1.0.0"]);
    assert_eq!(read(), ["1.0.0", "1.1.0"]);
    assert_eq!(read(), ["1.0.0", "1.1.0"]);
    let statuses: Vec<u16> = server.requests().iter().map(|r| r.status).collect();
    assert_eq!(statuses, [200, 200, 304]);
}

/// Every way a fetch can fail is an error of the expected kind, never "no releases".
#[test]
fn failed_fetches_are_errors_never_empty_lists() {
    let server = Server::start();
    let valid = index(&[release("1.0.0", "stable")]).to_string();
    server
        .route("/500", Route::error(500))
        .route("/503", Route::error(503))
        .route("/404", Route::error(404))
        .route("/teapot", Route::new(418))
        .route("/not-json", Route::ok("<html>maintenance</html>"))
        .route("/empty", Route::ok(""))
        .route(
            "/invalid-index",
            Route::json(&serde_json::json!({"schema": 2, "releases": {}})),
        )
        .route("/announced-huge", Route::oversized(10 * 1024 * 1024, true))
        .route("/chunked-huge", Route::oversized(256 * 1024 * 1024, false))
        .route(
            "/slow",
            Route::slow(valid.clone(), Duration::from_millis(200)),
        );
    let truncated = RawServer::truncated(&valid.as_bytes()[..10], valid.len());
    let mut opts = opts();
    opts.max_body_bytes = 64 * 1024;
    opts.timeout = Duration::from_secs(1);
    let cases: Vec<(String, ErrorKind, &str)> = vec![
        (
            server.url("/500"),
            ErrorKind::Http { status: 500 },
            "answered HTTP 500: Internal Server Error",
        ),
        (
            server.url("/503"),
            ErrorKind::Http { status: 503 },
            "answered HTTP 503",
        ),
        (
            server.url("/404"),
            ErrorKind::NotFound,
            "was not found (HTTP 404)",
        ),
        (
            server.url("/teapot"),
            ErrorKind::Http { status: 418 },
            "answered HTTP 418",
        ),
        (
            server.url("/not-json"),
            ErrorKind::InvalidData,
            "invalid release index at",
        ),
        (
            server.url("/empty"),
            ErrorKind::InvalidData,
            "invalid release index at",
        ),
        (
            server.url("/invalid-index"),
            ErrorKind::InvalidData,
            "invalid release index at",
        ),
        (
            server.url("/announced-huge"),
            ErrorKind::TooLarge,
            "larger than the 65536-byte limit",
        ),
        (
            server.url("/chunked-huge"),
            ErrorKind::TooLarge,
            "larger than the 65536-byte limit",
        ),
        (
            server.url("/slow"),
            ErrorKind::Timeout,
            "did not answer within 1s",
        ),
        (
            truncated.url("/releases.json"),
            ErrorKind::Network,
            "ended early after 10 bytes",
        ),
    ];
    for (url, kind, text) in cases {
        let result = open(&url, &opts).expect("opens").releases();
        let err = result.expect_err(&url);
        assert_eq!(err.kind(), kind, "{url}: {err}");
        assert!(err.to_string().contains(text), "{url}: {err}");
        assert!(
            err.to_string().contains(&url),
            "the message names the URL: {err}"
        );
    }
    assert_eq!(truncated.connections(), 1);
}

#[test]
fn a_truncated_body_never_reaches_the_cache() {
    let valid = index(&[release("1.0.0", "stable")]).to_string();
    let truncated = RawServer::start(format!(
        "HTTP/1.1 200 OK\r\nETag: \"t\"\r\nContent-Length: {}\r\n\r\n{}",
        valid.len() + 5,
        valid
    ));
    let cache = tempfile::tempdir().expect("temp dir");
    let opts = opts().with_cache_dir(cache.path());
    for _ in 0..2 {
        let err = open(&truncated.url("/r.json"), &opts)
            .expect("opens")
            .releases()
            .expect_err("truncated");
        assert_eq!(err.kind(), ErrorKind::Network, "{err}");
    }
    assert_eq!(std::fs::read_dir(cache.path()).expect("dir").count(), 0);
}
