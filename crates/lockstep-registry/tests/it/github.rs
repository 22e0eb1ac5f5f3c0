use std::time::{Duration, UNIX_EPOCH};

use lockstep_registry::{Channel, ErrorKind, Options, ReleaseSource, open};
use lockstep_testkit::http::{GitHubRelease, Route, Server};
use serde_json::json;

use crate::{opts, versions};

/// Options pointing the GitHub source at `server`.
fn gh_opts(server: &Server) -> Options {
    let mut opts = opts();
    opts.github_api = server.base_url().to_owned();
    opts
}

fn github(server: &Server, opts: &Options) -> Box<dyn ReleaseSource> {
    open("github:acme/core", opts)
        .unwrap_or_else(|e| panic!("opens against {}: {e}", server.base_url()))
}

#[test]
fn follows_link_pagination_to_the_end() {
    let server = Server::start();
    let releases = (0..7)
        .rev()
        .map(|i| GitHubRelease::new(&format!("v1.{i}.0")))
        .collect();
    server.github("acme/core", 3, releases);
    let got = github(&server, &gh_opts(&server))
        .releases()
        .expect("reads");
    assert_eq!(
        versions(&got),
        [
            "1.0.0", "1.1.0", "1.2.0", "1.3.0", "1.4.0", "1.5.0", "1.6.0"
        ]
    );
    let urls: Vec<String> = server.requests().iter().map(|r| r.url.clone()).collect();
    assert_eq!(
        urls,
        [
            "/repos/acme/core/releases?per_page=100",
            "/repos/acme/core/releases?per_page=3&page=2",
            "/repos/acme/core/releases?per_page=3&page=3",
        ]
    );
    let first = &server.requests()[0];
    assert_eq!(first.header("accept"), Some("application/vnd.github+json"));
    assert!(
        first
            .header("user-agent")
            .is_some_and(|ua| ua.starts_with("lockstep/"))
    );
}

#[test]
fn drafts_and_non_version_tags_are_left_out() {
    let server = Server::start();
    server.github(
        "acme/core",
        100,
        vec![
            GitHubRelease::new("v3.0.0").draft(),
            GitHubRelease::new("nightly"),
            GitHubRelease::new("v2.0.0"),
            GitHubRelease::new("release-1.9.0"),
            GitHubRelease::new("1.0.0"),
        ],
    );
    let got = github(&server, &gh_opts(&server))
        .releases()
        .expect("reads");
    assert_eq!(versions(&got), ["1.0.0", "2.0.0"]);
}

#[test]
fn order_is_semver_precedence_never_publication_date() {
    let server = Server::start();
    server.github(
        "acme/core",
        2,
        vec![
            GitHubRelease::new("v1.2.1").published_at("2026-03-01T00:00:00Z"),
            GitHubRelease::new("v2.0.0").published_at("2026-02-01T00:00:00Z"),
            GitHubRelease::new("v2.0.0-rc.1")
                .prerelease()
                .published_at("2026-01-15T00:00:00Z"),
            GitHubRelease::new("v1.10.0").published_at("2026-01-10T00:00:00Z"),
            GitHubRelease::new("v1.9.0").published_at("2026-04-01T00:00:00Z"),
        ],
    );
    let got = github(&server, &gh_opts(&server))
        .releases()
        .expect("reads");
    assert_eq!(
        versions(&got),
        ["1.2.1", "1.9.0", "1.10.0", "2.0.0-rc.1", "2.0.0"]
    );
}

/// Version, channel, contracts version, commit, release time.
type Row = (
    String,
    Channel,
    Option<String>,
    Option<String>,
    Option<String>,
);

#[test]
fn release_json_wins_over_the_prerelease_flag_and_the_tag_describes_the_rest() {
    let server = Server::start();
    let commit = "0123456789abcdef0123456789abcdef01234567";
    server.github(
        "acme/core",
        100,
        vec![
            GitHubRelease::new("v2.0.0-rc.1")
                .prerelease()
                .release_json(&json!({
                    "version": "2.0.0-rc.1", "channel": "canary", "contracts_version": "2.0.0",
                    "capabilities": ["payments"], "artifacts": []
                })),
            GitHubRelease::new("v1.5.0")
                .prerelease()
                .release_json(&json!({
                    "version": "1.5.0", "channel": "stable", "contracts_version": "1.3.0"
                })),
            GitHubRelease::new("v1.4.0")
                .prerelease()
                .commitish(commit)
                .published_at("2026-02-19T18:30:00Z")
                .body("## Notes\n- Contracts: v1.2.0\n- faster"),
            GitHubRelease::new("1.3.0")
                .commitish("main")
                .body("contracts_version: 1.1.0"),
            GitHubRelease::new("v1.2.0").body("nothing to see"),
        ],
    );
    let got = github(&server, &gh_opts(&server))
        .releases()
        .expect("reads");
    let summary: Vec<Row> = got
        .iter()
        .map(|r| {
            (
                r.version.to_string(),
                r.channel,
                r.contracts_version.as_ref().map(ToString::to_string),
                r.commit.clone(),
                r.released_at.clone(),
            )
        })
        .collect();
    let s = |v: &str| Some(v.to_owned());
    assert_eq!(
        summary,
        [
            (
                "1.2.0".into(),
                Channel::Stable,
                None,
                None,
                s("2026-01-01T00:00:00Z")
            ),
            (
                "1.3.0".into(),
                Channel::Stable,
                s("1.1.0"),
                None,
                s("2026-01-01T00:00:00Z")
            ),
            (
                "1.4.0".into(),
                Channel::Beta,
                s("1.2.0"),
                s(commit),
                s("2026-02-19T18:30:00Z")
            ),
            ("1.5.0".into(), Channel::Stable, s("1.3.0"), None, None),
            ("2.0.0-rc.1".into(), Channel::Canary, s("2.0.0"), None, None),
        ]
    );
    assert_eq!(got[4].capabilities, ["payments"]);
}

#[test]
fn an_invalid_release_json_is_an_error_naming_the_release() {
    let server = Server::start();
    server.github(
        "acme/core",
        100,
        vec![
            GitHubRelease::new("v1.0.0")
                .release_json(&json!({"version": "1.0.0", "channel": "weekly"})),
        ],
    );
    let err = github(&server, &gh_opts(&server))
        .releases()
        .expect_err("invalid");
    assert_eq!(err.kind(), ErrorKind::InvalidData);
    assert!(
        err.to_string()
            .starts_with("invalid release.json of v1.0.0 at http://127.0.0.1:"),
        "{err}"
    );
    let mut fields: Vec<&str> = err.problems().iter().map(|p| p.field.as_str()).collect();
    fields.sort_unstable();
    assert_eq!(fields, ["channel", "contracts_version"]);
}

#[test]
fn a_release_json_that_contradicts_its_tag_is_an_error() {
    let server = Server::start();
    server.github(
        "acme/core",
        100,
        vec![GitHubRelease::new("v1.1.0").release_json(&json!({
            "version": "1.0.0", "channel": "stable", "contracts_version": "1.0.0"
        }))],
    );
    let err = github(&server, &gh_opts(&server))
        .releases()
        .expect_err("contradiction");
    assert_eq!(err.kind(), ErrorKind::InvalidData);
    assert!(
        err.to_string()
            .contains("does not match the release tag v1.1.0"),
        "{err}"
    );
}

#[test]
fn an_unchanged_repository_costs_only_304s() {
    let server = Server::start();
    let releases = (0..5)
        .map(|i| {
            GitHubRelease::new(&format!("v1.{i}.0")).release_json(&json!({
                "version": format!("1.{i}.0"), "channel": "stable", "contracts_version": "1.0.0"
            }))
        })
        .collect();
    server.github("acme/core", 2, releases);
    let cache = tempfile::tempdir().expect("temp dir");
    let opts = gh_opts(&server).with_cache_dir(cache.path().join("cache"));
    let first = github(&server, &opts).releases().expect("reads");
    let first_log = server.requests();
    assert_eq!(
        first_log.len(),
        3 + 5,
        "three pages and five assets: {first_log:?}"
    );
    assert!(
        first_log
            .iter()
            .all(|r| r.status == 200 && r.if_none_match().is_none())
    );
    server.clear_requests();

    let second = github(&server, &opts).releases().expect("reads");
    assert_eq!(first, second);
    let log = server.requests();
    assert_eq!(log.len(), 3, "only the pages are revalidated: {log:?}");
    assert!(
        log.iter()
            .all(|r| r.status == 304 && r.if_none_match().is_some()),
        "{log:?}"
    );
}

#[test]
fn a_rate_limit_is_reported_with_its_reset_time() {
    let server = Server::start();
    server.github("acme/core", 100, vec![GitHubRelease::new("v1.0.0")]);
    let reset = 4_102_444_800; // 2100-01-01T00:00:00Z
    server.route("/repos/acme/core/releases", Route::rate_limited(reset));
    let err = github(&server, &gh_opts(&server))
        .releases()
        .expect_err("rate limited");
    assert_eq!(
        err.kind(),
        ErrorKind::RateLimited {
            reset: Some(UNIX_EPOCH + Duration::from_secs(reset))
        }
    );
    let message = err.to_string();
    assert!(
        message.starts_with("rate limited by http://127.0.0.1:"),
        "{message}"
    );
    assert!(
        message.contains(" until 2100-01-01T00:00:00Z (in "),
        "{message}"
    );
    assert!(message.contains("set GITHUB_TOKEN"), "{message}");
    assert_eq!(
        server.requests().len(),
        1,
        "a long rate limit is not retried"
    );
}

#[test]
fn a_short_retry_after_is_waited_out_then_succeeds() {
    let server = Server::start();
    server.github("acme/core", 100, vec![GitHubRelease::new("v1.0.0")]);
    server.route("/repos/acme/core/releases", Route::retry_after(1).times(1));
    server.route("/repos/acme/core/releases", Route::retry_after(0).times(1));
    let got = github(&server, &gh_opts(&server))
        .releases()
        .expect("reads after waiting");
    assert_eq!(versions(&got), ["1.0.0"]);
    let statuses: Vec<u16> = server.requests().iter().map(|r| r.status).collect();
    assert_eq!(statuses, [429, 429, 200]);
}

#[test]
fn retry_after_is_waited_out_at_most_three_times() {
    let server = Server::start();
    server.github("acme/core", 100, vec![GitHubRelease::new("v1.0.0")]);
    server.route("/repos/acme/core/releases", Route::retry_after(0));
    let err = github(&server, &gh_opts(&server))
        .releases()
        .expect_err("still limited");
    assert!(
        matches!(err.kind(), ErrorKind::RateLimited { reset: Some(_) }),
        "{err}"
    );
    assert_eq!(server.requests().len(), 4, "one try and three retries");
}

#[test]
fn a_long_retry_after_is_reported_at_once() {
    let server = Server::start();
    server.route("/repos/acme/core/releases", Route::retry_after(60));
    let err = github(&server, &gh_opts(&server))
        .releases()
        .expect_err("limited");
    assert!(
        matches!(err.kind(), ErrorKind::RateLimited { reset: Some(_) }),
        "{err}"
    );
    assert!(
        err.to_string().contains("(in 60s)") || err.to_string().contains("(in 59s)"),
        "{err}"
    );
    assert_eq!(server.requests().len(), 1);
}

#[test]
fn a_failing_later_page_fails_the_whole_read() {
    let server = Server::start();
    let releases = (0..4)
        .map(|i| GitHubRelease::new(&format!("v1.{i}.0")))
        .collect();
    server.github("acme/core", 2, releases);
    server.route(
        "/repos/acme/core/releases?per_page=2&page=2",
        Route::error(500),
    );
    let err = github(&server, &gh_opts(&server))
        .releases()
        .expect_err("page 2 failed");
    assert_eq!(err.kind(), ErrorKind::Http { status: 500 });
}

#[test]
fn an_unknown_repository_is_not_found_with_a_hint() {
    let server = Server::start();
    let err = github(&server, &gh_opts(&server))
        .releases()
        .expect_err("unknown");
    assert_eq!(err.kind(), ErrorKind::NotFound);
    assert!(
        err.to_string()
            .contains("set GITHUB_TOKEN if the repository is private"),
        "{err}"
    );
}

#[test]
fn a_garbled_api_page_is_invalid_data_with_a_position() {
    let server = Server::start();
    server.route(
        "/repos/acme/core/releases",
        Route::ok("[{\"tag_name\": 1}]"),
    );
    let err = github(&server, &gh_opts(&server))
        .releases()
        .expect_err("garbled");
    assert_eq!(err.kind(), ErrorKind::InvalidData);
    assert_eq!(err.problems()[0].line, 1);
    assert!(
        err.to_string()
            .starts_with("invalid GitHub releases page at http://127.0.0.1:"),
        "{err}"
    );
}

#[test]
fn the_token_goes_to_the_api_host_only_and_never_into_errors() {
    let server = Server::start();
    let token = "ghp_TOPSECRET0123456789";
    server.github(
        "acme/core",
        100,
        vec![GitHubRelease::new("v1.0.0").release_json(&json!({
            "version": "1.0.0", "channel": "stable", "contracts_version": "1.0.0"
        }))],
    );
    // The asset API answers with a redirect to another host (localhost is not 127.0.0.1).
    let elsewhere = format!(
        "http://localhost:{}/acme/core/releases/download/v1.0.0/release.json",
        server.port()
    );
    server.route(
        "/repos/acme/core/releases/assets/1000",
        Route::redirect(&elsewhere),
    );
    let mut opts = Options::from_lookup(|name| match name {
        "LOCKSTEP_GITHUB_API" => Some(server.base_url().to_owned()),
        "GITHUB_TOKEN" => Some(token.to_owned()),
        _ => None,
    });
    opts.timeout = Duration::from_secs(10);
    let got = open("github:acme/core", &opts)
        .expect("opens")
        .releases()
        .expect("reads");
    assert_eq!(versions(&got), ["1.0.0"]);
    let log = server.requests();
    let auth: Vec<(String, Option<String>)> = log
        .iter()
        .map(|r| {
            (
                r.path().to_owned(),
                r.header("authorization").map(str::to_owned),
            )
        })
        .collect();
    let bearer = Some(format!("Bearer {token}"));
    assert_eq!(
        auth,
        [
            ("/repos/acme/core/releases".to_owned(), bearer.clone()),
            ("/repos/acme/core/releases/assets/1000".to_owned(), bearer),
            (
                "/acme/core/releases/download/v1.0.0/release.json".to_owned(),
                None
            ),
        ]
    );
    assert_eq!(log[1].header("accept"), Some("application/octet-stream"));

    server.route("/repos/acme/core/releases", Route::error(500));
    let err = open("github:acme/core", &opts)
        .expect("opens")
        .releases()
        .expect_err("500");
    assert!(!err.to_string().contains(token) && !format!("{err:?}").contains(token));
    assert!(!format!("{opts:?}").contains(token));
}

#[test]
fn without_a_token_assets_come_from_the_browser_url() {
    let server = Server::start();
    server.github(
        "acme/core",
        100,
        vec![GitHubRelease::new("v1.0.0").release_json(&json!({
            "version": "1.0.0", "channel": "lts", "contracts_version": "1.0.0"
        }))],
    );
    let got = github(&server, &gh_opts(&server))
        .releases()
        .expect("reads");
    assert_eq!(got[0].channel, Channel::Lts);
    let paths: Vec<String> = server
        .requests()
        .iter()
        .map(|r| r.path().to_owned())
        .collect();
    assert_eq!(
        paths,
        [
            "/repos/acme/core/releases",
            "/acme/core/releases/download/v1.0.0/release.json"
        ]
    );
    assert!(server.requests().iter().all(|r| !r.has_authorization()));
}
