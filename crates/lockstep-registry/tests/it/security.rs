use lockstep_registry::{ErrorKind, Options, open};
use lockstep_testkit::http::{Route, Server};

use crate::{index, opts, release, versions};

#[test]
fn plain_http_to_other_hosts_is_refused_before_connecting() {
    for spec in [
        "http://example.com/releases.json",
        "http://10.0.0.1/releases.json",
        "http://127.0.0.1.nip.io/releases.json",
        "http://user:pw@example.com/releases.json",
    ] {
        let err = open(spec, &opts())
            .err()
            .unwrap_or_else(|| panic!("{spec} is refused"));
        assert_eq!(err.kind(), ErrorKind::InsecureUrl, "{spec}");
        assert!(
            !err.to_string().contains("pw@"),
            "credentials stay out of messages: {err}"
        );
    }
    let opts = Options::from_lookup(|name| {
        (name == "LOCKSTEP_GITHUB_API").then(|| "http://github.example.com/api/v3".to_owned())
    });
    let err = open("github:acme/core", &opts).err().expect("refused");
    assert_eq!(err.kind(), ErrorKind::InsecureUrl);
}

#[test]
fn a_redirect_to_plain_http_elsewhere_is_refused_without_following_it() {
    let server = Server::start();
    server.route(
        "/releases.json",
        Route::redirect("http://example.com/releases.json"),
    );
    let err = open(&server.url("/releases.json"), &opts())
        .expect("opens")
        .releases()
        .expect_err("refused");
    assert_eq!(err.kind(), ErrorKind::InsecureUrl);
    assert!(
        err.to_string().contains("http://example.com/releases.json"),
        "{err}"
    );
    let paths: Vec<String> = server.requests().iter().map(|r| r.url.clone()).collect();
    assert_eq!(paths, ["/releases.json"], "nothing else was requested");
}

#[test]
fn loopback_redirects_are_followed_up_to_five_times() {
    let server = Server::start();
    server.route("/r0", Route::redirect(&server.url("/r1")));
    for i in 1..5 {
        server.route(&format!("/r{i}"), Route::redirect(&format!("/r{}", i + 1)));
    }
    server.route("/r5", Route::json(&index(&[release("1.0.0", "stable")])));
    let got = open(&server.url("/r0"), &opts())
        .expect("opens")
        .releases()
        .expect("five redirects are fine");
    assert_eq!(versions(&got), ["1.0.0"]);

    server.route("/loop", Route::redirect("/loop"));
    let err = open(&server.url("/loop"), &opts())
        .expect("opens")
        .releases()
        .expect_err("loop");
    assert_eq!(err.kind(), ErrorKind::Network);
    assert!(
        err.to_string().contains("redirected more than 5 times"),
        "{err}"
    );
    let loops = server
        .requests()
        .iter()
        .filter(|r| r.path() == "/loop")
        .count();
    assert_eq!(loops, 6);
}

#[test]
fn the_token_is_not_sent_to_a_static_index_on_another_host() {
    let server = Server::start();
    server.route(
        "/releases.json",
        Route::json(&index(&[release("1.0.0", "stable")])),
    );
    let mut opts = opts();
    opts.github_api = "https://api.github.com".into();
    opts.github_token = Some("ghp_secret".into());
    open(&server.url("/releases.json"), &opts)
        .expect("opens")
        .releases()
        .expect("reads");
    assert!(!server.requests()[0].has_authorization());
}
