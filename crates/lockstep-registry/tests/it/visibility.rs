//! Waiting for a registry to show a version, against a loopback imitation that does what real
//! registries cannot be made to do on demand: show a version only after some polls, flap,
//! rate-limit, fail with 5xx, stall or drip.

use std::time::{Duration, Instant};

use lockstep_registry::visibility::{Poll, Registry, Seen, WaitPolicy, Waited, wait_until_visible};
use lockstep_testkit::http::{Route, Server};
use serde_json::json;

use super::opts;

/// A fast policy: the shape of the default one, scaled down for tests.
fn quick() -> WaitPolicy {
    let mut p = WaitPolicy::default();
    p.budget = Duration::from_secs(8);
    p.spacing = Duration::from_millis(60);
    p.first_delay = Duration::from_millis(30);
    p.max_delay = Duration::from_millis(200);
    p.idle_timeout = Duration::from_secs(1);
    p.probe_timeout = Duration::from_secs(3);
    p
}

fn npm_text(versions: &[&str]) -> String {
    let map: serde_json::Map<String, serde_json::Value> = versions
        .iter()
        .map(|v| ((*v).to_owned(), json!({"name": "jscore", "version": v})))
        .collect();
    json!({"name": "jscore", "versions": map}).to_string()
}

fn npm_doc(versions: &[&str]) -> Route {
    Route::ok(npm_text(versions)).header("Content-Type", "application/json")
}

fn wait(registry: &Registry, name: &str, policy: &WaitPolicy) -> (Waited, Vec<Poll>) {
    let mut polls = Vec::new();
    let end = wait_until_visible(registry, name, "1.1.0", &opts(), policy, &mut |p| {
        polls.push(p.clone())
    })
    .expect("the wait itself does not fail");
    (end, polls)
}

fn polls_of(end: Waited) -> u32 {
    match end {
        Waited::Visible { polls, .. } | Waited::NotYet { polls, .. } => polls,
    }
}

#[test]
fn a_version_that_appears_after_some_polls_is_visible_after_two_positive_checks() {
    let server = Server::start();
    server
        .route("/jscore", Route::error(404).times(2))
        .route("/jscore", npm_doc(&["1.0.0"]).times(1))
        .route("/jscore", npm_doc(&["1.0.0", "1.1.0"]));
    let registry = Registry::npm(server.base_url());
    let (end, polls) = wait(&registry, "jscore", &quick());
    assert!(matches!(end, Waited::Visible { polls: 5, .. }), "{end:?}");
    let seen: Vec<&Seen> = polls.iter().map(|p| &p.seen).collect();
    assert_eq!(
        seen,
        [
            &Seen::Missing,
            &Seen::Missing,
            &Seen::Missing,
            &Seen::Listed,
            &Seen::Listed
        ]
    );
    // The pause after a positive check is the spacing; after misses it backs off.
    assert_eq!(polls[3].next_in, Some(quick().spacing));
    assert!(polls[4].next_in.is_none());
    assert_eq!(server.requests().len(), 5);
}

#[test]
fn flapping_visibility_restarts_the_count() {
    let server = Server::start();
    let without = "1.0.0-py3-none-any.whl";
    let page = |files: &[&str]| {
        let links: String = files
            .iter()
            .map(|f| format!("<a href=\"/packages/pycore-{f}\">pycore-{f}</a>\n"))
            .collect();
        Route::ok(format!("<html><body>{links}</body></html>")).header("Content-Type", "text/html")
    };
    server
        .route("/simple/pycore/", page(&["1.1.0.tar.gz"]).times(1))
        .route("/simple/pycore/", page(&[without]).times(1))
        .route(
            "/simple/pycore/",
            page(&[without, "1.1.0-py3-none-any.whl"]),
        );
    let registry = Registry::pypi(server.base_url());
    let (end, polls) = wait(&registry, "PyCore", &quick());
    assert!(matches!(end, Waited::Visible { polls: 4, .. }), "{end:?}");
    let confirmed: Vec<u32> = polls.iter().map(|p| p.confirmed).collect();
    assert_eq!(confirmed, [1, 0, 1, 2]);
}

#[test]
fn retry_after_is_honoured_and_server_errors_are_asked_again() {
    let server = Server::start();
    let index = "{\"name\":\"upcrate\",\"vers\":\"1.0.0\"}\n{\"name\":\"upcrate\",\"vers\":\"1.1.0\",\"yanked\":true}\n";
    server
        .route("/index/up/cr/upcrate", Route::retry_after(1).times(1))
        .route("/index/up/cr/upcrate", Route::error(503).times(1))
        .route("/index/up/cr/upcrate", Route::ok(index));
    let registry = Registry::crates(&format!("sparse+{}/index/", server.base_url()));
    let started = Instant::now();
    let (end, polls) = wait(&registry, "upcrate", &quick());
    assert!(matches!(end, Waited::Visible { polls: 4, .. }), "{end:?}");
    assert_eq!(polls[0].seen, Seen::RateLimited);
    assert!(
        polls[0]
            .next_in
            .is_some_and(|d| d >= Duration::from_millis(900)),
        "Retry-After: 1 must be waited out: {:?}",
        polls[0].next_in
    );
    assert!(matches!(polls[1].seen, Seen::Failed(ref why) if why.contains("503")));
    assert!(started.elapsed() >= Duration::from_millis(900));
}

#[test]
fn a_budget_that_runs_out_is_not_yet_visible_rather_than_an_error() {
    let server = Server::start();
    server.route("/jscore", npm_doc(&["1.0.0"]));
    let mut policy = quick();
    policy.budget = Duration::from_millis(500);
    let started = Instant::now();
    let (end, polls) = wait(&Registry::npm(server.base_url()), "jscore", &policy);
    assert!(matches!(end, Waited::NotYet { .. }), "{end:?}");
    assert!(polls_of(end) >= 3, "backs off but keeps asking: {polls:?}");
    assert!(started.elapsed() < Duration::from_secs(2));
}

#[test]
fn a_stalled_or_dripping_server_costs_one_stall_window_not_the_fetch_timeout() {
    // Stalled: headers, then one byte every 20 s. Dripping: one byte every 200 ms, which no
    // "nothing for N seconds" rule would catch. Both bring fewer than 1 KiB per window (1 s
    // here, 15 s by default) and are given up after one, long before the total (3 s here).
    for interval in [Duration::from_secs(20), Duration::from_millis(200)] {
        let server = Server::start();
        server.route("/jscore", Route::slow(npm_text(&["1.1.0"]), interval));
        let mut policy = quick();
        policy.budget = Duration::from_millis(1500);
        let started = Instant::now();
        let (end, polls) = wait(&Registry::npm(server.base_url()), "jscore", &policy);
        assert!(matches!(end, Waited::NotYet { .. }), "{end:?}");
        assert!(
            matches!(polls[0].seen, Seen::Failed(ref why) if why.contains("stalled")),
            "{interval:?}: {polls:?}"
        );
        assert!(
            polls[0].elapsed >= Duration::from_millis(900)
                && polls[0].elapsed < Duration::from_millis(2500),
            "{interval:?}: the first probe took {:?}",
            polls[0].elapsed
        );
        assert!(
            started.elapsed() < Duration::from_secs(6),
            "{:?}",
            started.elapsed()
        );
    }
}

#[test]
fn every_fetch_gives_up_on_a_dripping_server_after_one_window() {
    let server = Server::start();
    server.route(
        "/drip",
        Route::slow(vec![b' '; 4096], Duration::from_millis(200)),
    );
    let mut opts = opts();
    opts.timeout = Duration::from_secs(10);
    opts.stall_window = Duration::from_secs(1);
    let started = Instant::now();
    let err = lockstep_registry::fetch_document(&server.url("/drip"), &opts)
        .expect_err("a drip is not an answer");
    let took = started.elapsed();
    assert_eq!(err.kind(), lockstep_registry::ErrorKind::Timeout);
    assert!(err.to_string().contains("stalled"), "{err}");
    assert!(
        took < Duration::from_secs(3),
        "{took:?}, not the 10 s total"
    );
}

#[test]
fn one_question_answers_whether_a_version_exists() {
    let server = Server::start();
    server.route("/jscore", npm_doc(&["1.0.0", "1.1.0"]));
    let registry = Registry::npm(server.base_url());
    assert!(
        registry
            .has_version("jscore", "1.1.0", &opts())
            .expect("asked")
    );
    assert!(
        !registry
            .has_version("jscore", "2.0.0", &opts())
            .expect("asked")
    );
    assert!(
        !registry
            .has_version("unknown", "1.0.0", &opts())
            .expect("a 404 is no")
    );
    server.route("/broken", Route::ok("not json"));
    let err = registry
        .has_version("broken", "1.0.0", &opts())
        .expect_err("not a package document");
    assert!(
        err.to_string().contains("invalid registry document"),
        "{err}"
    );
}

/// The figures for the closing note: polls and seconds to visible per ecosystem, on the
/// imitation with a version that appears after three misses, under the default policy's
/// shape (1 s first delay doubling, 3 s spacing) scaled by 1/10.
#[test]
fn figures_per_ecosystem() {
    let mut policy = WaitPolicy::default();
    policy.first_delay = Duration::from_millis(100);
    policy.spacing = Duration::from_millis(300);
    policy.max_delay = Duration::from_secs(3);
    for (registry, name, path, missing, present) in [
        (
            "crates",
            "upcrate",
            "/index/up/cr/upcrate",
            Route::error(404),
            Route::ok("{\"name\":\"upcrate\",\"vers\":\"1.1.0\"}\n"),
        ),
        (
            "pypi",
            "pycore",
            "/simple/pycore/",
            Route::error(404),
            Route::ok("<a href=\"x\">pycore-1.1.0.tar.gz</a>"),
        ),
        (
            "npm",
            "jscore",
            "/jscore",
            Route::error(404),
            npm_doc(&["1.1.0"]),
        ),
    ] {
        let server = Server::start();
        server.route(path, missing.times(3)).route(path, present);
        let reg = match registry {
            "crates" => Registry::crates(&format!("sparse+{}/index/", server.base_url())),
            "pypi" => Registry::pypi(server.base_url()),
            _ => Registry::npm(server.base_url()),
        };
        let (end, _) = wait(&reg, name, &policy);
        let Waited::Visible { polls, elapsed } = end else {
            panic!("{registry}: {end:?}");
        };
        assert_eq!(polls, 5, "{registry}");
        eprintln!(
            "visibility figure: {registry}: visible after {polls} polls, {:.2} s",
            elapsed.as_secs_f64()
        );
    }
}
