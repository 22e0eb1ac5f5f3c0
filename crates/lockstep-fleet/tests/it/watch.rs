//! Watchers against loopback imitations of npm, PyPI, the crates.io sparse index and the
//! GitHub releases API.

use std::collections::BTreeSet;
use std::time::Duration;

use lockstep_fleet::events::Notifier;
use lockstep_fleet::watch::{self, CheckOptions, CheckOutcome};
use lockstep_registry::UpstreamBases;
use lockstep_testkit::http::{GitHubRelease, Route, Server};
use serde_json::json;

use crate::TestHome;

fn options(t: &TestHome, server: &Server) -> CheckOptions {
    let base = server.base_url().to_owned();
    let mut opts = CheckOptions::from_env(&t.home);
    opts.bases = UpstreamBases::from_lookup(|v| match v {
        "LOCKSTEP_NPM_REGISTRY" | "LOCKSTEP_PYPI_URL" => Some(base.clone()),
        "LOCKSTEP_CRATES_INDEX" => Some(format!("sparse+{base}/")),
        _ => None,
    });
    opts.registry.github_api = base;
    opts.registry.github_token = None;
    opts.registry.timeout = Duration::from_secs(5);
    opts
}

fn check(t: &TestHome, server: &Server) -> CheckOutcome {
    let mut fleet = t.open();
    watch::check(&mut fleet, &Notifier::default(), &options(t, server)).expect("check runs")
}

fn new_of(o: &CheckOutcome) -> Vec<(String, String, bool)> {
    o.new
        .iter()
        .map(|n| (n.source.clone(), n.version.clone(), n.prerelease))
        .collect()
}

fn npm_doc(versions: &[&str]) -> serde_json::Value {
    let mut v = serde_json::Map::new();
    let mut time = serde_json::Map::new();
    for (i, ver) in versions.iter().enumerate() {
        v.insert((*ver).into(), json!({"name": "@acme/cli", "version": ver}));
        time.insert(
            (*ver).into(),
            json!(format!("2026-02-0{}T10:00:00.000Z", i + 1)),
        );
    }
    time.insert("modified".into(), json!("2026-02-09T10:00:00.000Z"));
    json!({"name": "@acme/cli", "dist-tags": {"latest": versions.last()}, "versions": v, "time": time})
}

#[test]
fn every_kind_of_source_reports_its_versions_once_then_only_what_is_new() {
    let t = TestHome::new();
    let server = Server::start();
    server.route(
        "/@acme%2fcli",
        Route::json(&npm_doc(&["1.0.0", "1.1.0-rc.1"]))
            .etag("a")
            .times(2),
    );
    server.route(
        "/@acme%2fcli",
        Route::json(&npm_doc(&["1.0.0", "1.1.0-rc.1", "1.1.0"])).etag("b"),
    );
    server.route(
        "/pypi/black/json",
        Route::json(&json!({"info": {"name": "black"}, "releases": {
            "24.1.0": [{"upload_time_iso_8601": "2026-01-05T10:00:00.000000Z", "yanked": false}],
            "24.2.0b1": [{"upload_time_iso_8601": "2026-01-20T10:00:00.000000Z", "yanked": false}],
            "23.0.0": [{"upload_time_iso_8601": "2025-01-05T10:00:00.000000Z", "yanked": true}]
        }}))
        .etag("p"),
    );
    server.route(
        "/se/rd/serde",
        Route::ok(
            "{\"name\":\"serde\",\"vers\":\"1.0.0\",\"yanked\":false}\n{\"name\":\"serde\",\"vers\":\"1.0.1\",\"yanked\":true}\n{\"name\":\"serde\",\"vers\":\"1.0.2\",\"yanked\":false,\"pubtime\":\"2026-01-01T00:00:00Z\"}\n",
        )
        .etag("c"),
    );
    server.github(
        "actions/runner",
        2,
        vec![
            GitHubRelease::new("v2.1.0"),
            GitHubRelease::new("v2.1.0-rc.1").prerelease(),
            GitHubRelease::new("v3.0.0").draft(),
            GitHubRelease::new("v2.0.0"),
        ],
    );
    {
        let fleet = t.open();
        for s in [
            "npm:@acme/cli",
            "pypi:black",
            "crates:serde",
            "github:actions/runner",
        ] {
            assert!(
                watch::add(&fleet, s, std::time::SystemTime::now())
                    .expect("add")
                    .added
            );
        }
    }

    let first = check(&t, &server);
    let expected: BTreeSet<(String, String, bool)> = [
        ("npm:@acme/cli", "1.0.0", false),
        ("npm:@acme/cli", "1.1.0-rc.1", true),
        ("pypi:black", "24.1.0", false),
        ("pypi:black", "24.2.0b1", true),
        ("crates:serde", "1.0.0", false),
        ("crates:serde", "1.0.2", false),
        ("github:actions/runner", "2.0.0", false),
        ("github:actions/runner", "2.1.0-rc.1", true),
        ("github:actions/runner", "2.1.0", false),
    ]
    .into_iter()
    .map(|(a, b, c)| (a.to_owned(), b.to_owned(), c))
    .collect();
    assert_eq!(
        new_of(&first).into_iter().collect::<BTreeSet<_>>(),
        expected
    );
    assert!(
        first.sources.iter().all(|s| s.status == "ok"),
        "{:?}",
        first.sources
    );
    let npm = first
        .new
        .iter()
        .find(|n| n.version == "1.0.0" && n.source.starts_with("npm"))
        .expect("npm 1.0.0");
    assert_eq!(npm.released_at.as_deref(), Some("2026-02-01T10:00:00.000Z"));
    assert!(npm.url.starts_with(server.base_url()), "{}", npm.url);

    server.clear_requests();
    let second = check(&t, &server);
    assert!(second.new.is_empty(), "{:?}", second.new);
    // Every source was revalidated, and every answer was a 304.
    let statuses: BTreeSet<u16> = server.requests().iter().map(|r| r.status).collect();
    assert_eq!(statuses, BTreeSet::from([304]), "{:?}", server.requests());
    assert!(
        server
            .requests()
            .iter()
            .all(|r| r.if_none_match().is_some())
    );

    let third = check(&t, &server);
    assert_eq!(
        new_of(&third),
        [("npm:@acme/cli".to_owned(), "1.1.0".to_owned(), false)]
    );
    let list = watch::list(&t.open()).expect("list");
    let cli = list
        .iter()
        .find(|w| w.source == "npm:@acme/cli")
        .expect("listed");
    assert_eq!((cli.latest.as_deref(), cli.versions), (Some("1.1.0"), 3));
}

#[test]
fn faults_fail_one_source_and_never_read_as_no_new_versions() {
    let t = TestHome::new();
    let server = Server::start();
    // 429 with a short Retry-After is waited out; 5xx, a drip and an oversized body fail.
    server.route("/ok", Route::retry_after(1).times(1));
    server.route("/ok", Route::json(&npm_doc(&["1.0.0"])));
    server.route("/broken", Route::error(503));
    server.route(
        "/drip",
        Route::slow(npm_doc(&["1.0.0"]).to_string(), Duration::from_millis(300)),
    );
    server.route("/huge", Route::oversized(70 * 1024 * 1024, true));
    {
        let fleet = t.open();
        for s in ["npm:ok", "npm:broken", "npm:drip", "npm:huge"] {
            watch::add(&fleet, s, std::time::SystemTime::now()).expect("add");
        }
    }
    let mut opts = options(&t, &server);
    opts.registry.timeout = Duration::from_secs(2);
    let mut fleet = t.open();
    let outcome = watch::check(&mut fleet, &Notifier::default(), &opts).expect("check");
    assert_eq!(
        new_of(&outcome),
        [("npm:ok".to_owned(), "1.0.0".to_owned(), false)]
    );
    let status = |s: &str| {
        let found = outcome
            .sources
            .iter()
            .find(|x| x.source == s)
            .expect("listed");
        (found.status, found.error.clone().unwrap_or_default())
    };
    assert_eq!(status("npm:ok").0, "ok");
    let (st, err) = status("npm:broken");
    assert!(st == "error" && err.contains("503"), "{err}");
    let (st, err) = status("npm:drip");
    assert!(
        st == "error" && err.contains("did not answer within"),
        "{err}"
    );
    let (st, err) = status("npm:huge");
    assert!(st == "error" && err.contains("larger than"), "{err}");
    let limited = server
        .requests()
        .iter()
        .filter(|r| r.path() == "/ok")
        .map(|r| r.status)
        .collect::<Vec<_>>();
    assert_eq!(limited, [429, 200]);
    let broken = watch::list(&fleet).expect("list");
    assert!(
        broken
            .iter()
            .any(|w| w.source == "npm:broken" && w.last_status.as_deref() == Some("error"))
    );
}

#[test]
fn concurrent_checks_record_each_version_exactly_once() {
    let t = TestHome::new();
    let server = Server::start();
    let versions: Vec<String> = (0..150).map(|i| format!("1.{i}.0")).collect();
    let refs: Vec<&str> = versions.iter().map(String::as_str).collect();
    server.route("/many", Route::json(&npm_doc(&refs)));
    watch::add(&t.open(), "npm:many", std::time::SystemTime::now()).expect("add");
    let outcomes: Vec<CheckOutcome> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..4).map(|_| s.spawn(|| check(&t, &server))).collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("joined"))
            .collect()
    });
    let mut all: Vec<String> = outcomes
        .iter()
        .flat_map(|o| o.new.iter().map(|n| n.version.clone()))
        .collect();
    all.sort();
    let mut expected = versions.clone();
    expected.sort();
    assert_eq!(all, expected, "each version reported by exactly one check");
    let stored: i64 = t
        .open()
        .store()
        .conn()
        .query_row(
            "SELECT COUNT(*) FROM fleet_versions WHERE source = 'npm:many'",
            [],
            |r| r.get(0),
        )
        .expect("count");
    assert_eq!(stored, 150);
}

#[test]
fn plain_http_to_another_host_is_refused_before_connecting() {
    let t = TestHome::new();
    watch::add(&t.open(), "npm:x", std::time::SystemTime::now()).expect("add");
    let mut opts = CheckOptions::from_env(&t.home);
    opts.bases = UpstreamBases::from_lookup(|v| {
        (v == "LOCKSTEP_NPM_REGISTRY").then(|| "http://registry.example.com".to_owned())
    });
    let outcome = watch::check(&mut t.open(), &Notifier::default(), &opts).expect("check");
    let err = outcome.sources[0].error.clone().unwrap_or_default();
    assert!(err.contains("refusing plain http"), "{err}");
}

#[test]
fn a_github_repository_without_releases_is_read_from_its_tags() {
    let t = TestHome::new();
    let server = Server::start();
    server.github("acme/runner", 10, Vec::new());
    server.route(
        "/repos/acme/runner/tags",
        Route::json(&json!([{"name": "v1.2.0"}, {"name": "v1.3.0-rc.1"}, {"name": "nightly"}]))
            .header(
                "Link",
                &format!(
                    "<{}/repos/acme/runner/tags2>; rel=\"next\"",
                    server.base_url()
                ),
            ),
    );
    server.route(
        "/repos/acme/runner/tags2",
        Route::json(&json!([{"name": "v1.1.0"}])),
    );
    watch::add(
        &t.open(),
        "github:acme/runner",
        std::time::SystemTime::now(),
    )
    .expect("add");
    let outcome = check(&t, &server);
    let got: Vec<(String, bool)> = outcome
        .new
        .iter()
        .map(|n| (n.version.clone(), n.prerelease))
        .collect();
    assert_eq!(
        got,
        [
            ("1.1.0".to_owned(), false),
            ("1.2.0".to_owned(), false),
            ("1.3.0-rc.1".to_owned(), true),
            ("nightly".to_owned(), false)
        ]
    );
    assert_eq!(outcome.sources[0].latest.as_deref(), Some("1.2.0"));
}
