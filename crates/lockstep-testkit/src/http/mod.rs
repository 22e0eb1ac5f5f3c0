//! A loopback HTTP server for registry tests: real sockets on `127.0.0.1`, scripted answers.
//!
//! [`Server`] is a [`tiny_http`] server bound to `127.0.0.1:0` and served from a background
//! thread. It stops when dropped, and by itself after [`LIFETIME`] so that a leaked server never
//! lingers. Every request is recorded ([`Server::requests`]) with its headers and the status it
//! was answered with, so a test can assert "the second run cost only 304s" or "the token was not
//! sent to that host".
//!
//! What it can answer:
//!
//! - **static routes** ([`Server::route`]): a [`Route`] with status, headers and body, matched on
//!   `path?query` first and then on the path alone. A route with an [`ETag`](Route::etag) answers
//!   `304 Not Modified` to a matching `If-None-Match`. Routes registered for the same path are
//!   served in order when they are limited with [`Route::times`], so "429 twice, then 200" is
//!   two calls.
//! - **faults**: [`Route::error`] (500 and friends), [`Route::rate_limited`] (403 with
//!   `X-RateLimit-Remaining: 0` and `X-RateLimit-Reset`), [`Route::retry_after`] (429 with
//!   `Retry-After`), [`Route::slow`] (headers at once, then one byte per interval),
//!   [`Route::oversized`] (a large streamed body, announced or chunked) and [`Route::redirect`]
//!   (to any URL, such as a non-loopback `http://` one).
//! - **a GitHub-API-shaped repository** ([`Server::github`]): `GET /repos/OWNER/REPO/releases`
//!   paginated with `Link` headers built from the server's own base URL, release assets at
//!   `/repos/OWNER/REPO/releases/assets/ID` (JSON, or a 302 to the download URL when the client
//!   asks for `application/octet-stream`) and downloads at
//!   `/OWNER/REPO/releases/download/TAG/NAME`, every answer with an `ETag`. Static routes take
//!   precedence, so faults can be injected into any GitHub URL.
//!
//! A body that ends before its `Content-Length` *and then closes the connection* is a fault
//! tiny_http cannot produce (it keeps every connection open for the next request), so it is
//! served by [`RawServer`], which writes scripted bytes on each connection and closes it.
//!
//! ```
//! use lockstep_testkit::http::{Route, Server};
//!
//! let server = Server::start();
//! server.route("/releases.json", Route::json(&serde_json::json!({"schema": 1, "releases": []})).etag("v1"));
//! let url = server.url("/releases.json");
//! assert!(url.starts_with("http://127.0.0.1:"));
//! // … point the code under test at `url`, then:
//! assert!(server.requests().iter().all(|r| r.path() == "/releases.json"));
//! ```

use std::collections::HashMap;
use std::io::{self, Read, Write};
use std::net::{Shutdown, TcpListener};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};

mod github;
mod raw;

pub use github::GitHubRelease;
use github::*;
pub use raw::RawServer;

/// How long a server lives at most; after that it stops answering by itself.
pub const LIFETIME: Duration = Duration::from_secs(300);

/// How often the serving threads look at the stop flag.
const POLL: Duration = Duration::from_millis(20);

/// A scripted HTTP server on `127.0.0.1`; see the [module documentation](self).
#[derive(Debug)]
pub struct Server {
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
}

struct Shared {
    http: tiny_http::Server,
    base: String,
    stop: AtomicBool,
    state: Mutex<State>,
}

impl std::fmt::Debug for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shared")
            .field("base", &self.base)
            .finish_non_exhaustive()
    }
}

#[derive(Default)]
struct State {
    routes: HashMap<String, Vec<Route>>,
    log: Vec<Logged>,
    github: HashMap<String, GitHubRepo>,
}

impl Server {
    /// Starts a server on `127.0.0.1` with a free port.
    ///
    /// # Panics
    ///
    /// When no loopback port can be bound.
    pub fn start() -> Self {
        let http = tiny_http::Server::http("127.0.0.1:0").expect("a loopback port can be bound");
        let port = http
            .server_addr()
            .to_ip()
            .expect("a TCP server has an IP address")
            .port();
        let shared = Arc::new(Shared {
            http,
            base: format!("http://127.0.0.1:{port}"),
            stop: AtomicBool::new(false),
            state: Mutex::new(State::default()),
        });
        let serving = Arc::clone(&shared);
        let thread = thread::Builder::new()
            .name("testkit-http".into())
            .spawn(move || serve(&serving))
            .expect("a thread can be spawned");
        Server {
            shared,
            thread: Some(thread),
        }
    }

    /// The base URL, `http://127.0.0.1:PORT`, without a trailing slash.
    pub fn base_url(&self) -> &str {
        &self.shared.base
    }

    /// The port the server listens on.
    pub fn port(&self) -> u16 {
        self.shared
            .base
            .rsplit(':')
            .next()
            .and_then(|p| p.parse().ok())
            .expect("the base URL ends with the port")
    }

    /// The URL of `path` (which starts with `/`) on this server.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.shared.base)
    }

    /// Answers requests for `path` (`/a/b`, or `/a/b?x=1` to match one query exactly) with
    /// `route`. Routes for the same path are served first to last; a route without
    /// [`Route::times`] answers forever, so later ones are reached only after limited ones run out.
    pub fn route(&self, path: &str, route: Route) -> &Self {
        self.state()
            .routes
            .entry(path.to_owned())
            .or_default()
            .push(route);
        self
    }

    /// Serves `releases` as the GitHub repository `owner_repo` (`"OWNER/REPO"`), `per_page`
    /// releases a page whatever the client asks for, in the order given (GitHub lists the newest
    /// first). Replaces what was served for that repository before.
    pub fn github(&self, owner_repo: &str, per_page: usize, releases: Vec<GitHubRelease>) -> &Self {
        self.state().github.insert(
            owner_repo.to_owned(),
            GitHubRepo {
                per_page: per_page.max(1),
                releases,
            },
        );
        self
    }

    /// Every request served so far, oldest first.
    pub fn requests(&self) -> Vec<Logged> {
        self.state().log.clone()
    }

    /// Forgets the request log (the routes stay).
    pub fn clear_requests(&self) {
        self.state().log.clear();
    }

    fn state(&self) -> MutexGuard<'_, State> {
        lock(&self.shared.state)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        self.shared.http.unblock();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn lock(state: &Mutex<State>) -> MutexGuard<'_, State> {
    // A panicking test thread must not hide the log from the others.
    state
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn serve(shared: &Arc<Shared>) {
    let started = Instant::now();
    while !shared.stop.load(Ordering::SeqCst) && started.elapsed() < LIFETIME {
        match shared.http.recv_timeout(POLL) {
            Ok(Some(request)) => {
                let shared = Arc::clone(shared);
                // One thread per request, so a slow answer does not hold up the others.
                let _ = thread::Builder::new()
                    .name("testkit-http-request".into())
                    .spawn(move || answer(&shared, request));
            }
            Ok(None) => {}
            Err(_) => break,
        }
    }
}

/// One request as the server saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Logged {
    /// `GET`, `HEAD`, …
    pub method: String,
    /// The request target: path and query, such as `/repos/o/r/releases?per_page=100`.
    pub url: String,
    /// Request headers, names in lowercase, in the order received.
    pub headers: Vec<(String, String)>,
    /// The status the server answered with.
    pub status: u16,
}

impl Logged {
    /// The path without the query.
    pub fn path(&self) -> &str {
        self.url.split('?').next().unwrap_or_default()
    }

    /// The value of header `name` (any case), if the request had it.
    pub fn header(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.headers
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The `If-None-Match` the client sent.
    pub fn if_none_match(&self) -> Option<&str> {
        self.header("if-none-match")
    }

    /// Whether the request carried an `Authorization` header.
    pub fn has_authorization(&self) -> bool {
        self.header("authorization").is_some()
    }
}

/// A scripted answer; build one with the constructors and refine it with the `with`-style
/// methods.
#[derive(Debug, Clone)]
pub struct Route {
    status: u16,
    headers: Vec<(String, String)>,
    body: Body,
    etag: Option<String>,
    times: Option<usize>,
}

#[derive(Debug, Clone)]
enum Body {
    Bytes(Vec<u8>),
    /// `len` spaces, streamed; with `Content-Length` when `announce`, else chunked.
    Stream {
        len: u64,
        announce: bool,
    },
    /// Headers (with the full `Content-Length`) at once, then one byte per `interval`.
    Slow {
        bytes: Vec<u8>,
        interval: Duration,
    },
}

impl Route {
    /// An answer with `status` and an empty body.
    pub fn new(status: u16) -> Self {
        Route {
            status,
            headers: Vec::new(),
            body: Body::Bytes(Vec::new()),
            etag: None,
            times: None,
        }
    }

    /// `200 OK` with `body`.
    pub fn ok(body: impl Into<Vec<u8>>) -> Self {
        Route {
            body: Body::Bytes(body.into()),
            ..Route::new(200)
        }
    }

    /// `200 OK` with `value` as JSON.
    pub fn json(value: &serde_json::Value) -> Self {
        Route::ok(value.to_string()).header("Content-Type", "application/json")
    }

    /// An error answer such as 500 or 404, with a GitHub-style JSON body
    /// `{"message": "..."}`.
    pub fn error(status: u16) -> Self {
        let message = match status {
            404 => "Not Found",
            500 => "Internal Server Error",
            502 => "Bad Gateway",
            503 => "Service Unavailable",
            _ => "Error",
        };
        Route::json(&serde_json::json!({ "message": message })).status(status)
    }

    /// A `302 Found` to `location` (any URL: a non-loopback `http://` one tests the refusal).
    pub fn redirect(location: &str) -> Self {
        Route::new(302).header("Location", location)
    }

    /// GitHub's primary rate limit: `403` with `X-RateLimit-Remaining: 0` and
    /// `X-RateLimit-Reset: reset_epoch` (seconds since the Unix epoch).
    pub fn rate_limited(reset_epoch: u64) -> Self {
        Route::json(&serde_json::json!({
            "message": "API rate limit exceeded for 127.0.0.1.",
            "documentation_url": "https://docs.github.com/rest/overview/resources-in-the-rest-api#rate-limiting"
        }))
        .status(403)
        .header("X-RateLimit-Limit", "60")
        .header("X-RateLimit-Remaining", "0")
        .header("X-RateLimit-Used", "60")
        .header("X-RateLimit-Reset", &reset_epoch.to_string())
    }

    /// `429 Too Many Requests` with `Retry-After: seconds`.
    pub fn retry_after(seconds: u64) -> Self {
        Route::json(&serde_json::json!({ "message": "You have exceeded a secondary rate limit." }))
            .status(429)
            .header("Retry-After", &seconds.to_string())
    }

    /// `200 OK` announcing `body`'s full length, then sending it one byte per `interval`
    /// (headers are flushed at once, so it is the body that is slow).
    pub fn slow(body: impl Into<Vec<u8>>, interval: Duration) -> Self {
        Route {
            body: Body::Slow {
                bytes: body.into(),
                interval,
            },
            ..Route::new(200)
        }
    }

    /// `200 OK` streaming `len` bytes (spaces) without holding them in memory; with
    /// `Content-Length` when `announce`, else chunked with no length given up front.
    pub fn oversized(len: u64, announce: bool) -> Self {
        Route {
            body: Body::Stream { len, announce },
            ..Route::new(200)
        }
    }

    /// Sets the status.
    pub fn status(mut self, status: u16) -> Self {
        self.status = status;
        self
    }

    /// Adds a response header.
    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }

    /// Sends `ETag: "tag"` (quoted unless already quoted or weak) and answers `304 Not
    /// Modified` to a request whose `If-None-Match` names it (or is `*`).
    pub fn etag(mut self, tag: &str) -> Self {
        self.etag = Some(quote_etag(tag));
        self
    }

    /// Serves this route only `n` times; then the next route for the same path answers.
    pub fn times(mut self, n: usize) -> Self {
        self.times = Some(n);
        self
    }
}

fn quote_etag(tag: &str) -> String {
    if tag.starts_with('"') || tag.starts_with("W/") {
        tag.to_owned()
    } else {
        format!("\"{tag}\"")
    }
}

fn etag_of(bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    let hex: String = digest[..8].iter().map(|b| format!("{b:02x}")).collect();
    format!("W/\"{hex}\"")
}

fn etag_matches(if_none_match: Option<&str>, etag: &str) -> bool {
    let bare = |t: &str| t.trim().trim_start_matches("W/").to_owned();
    if_none_match.is_some_and(|header| {
        header
            .split(',')
            .any(|t| t.trim() == "*" || bare(t) == bare(etag))
    })
}

/// The answer chosen for a request, before it is written.
enum Answer {
    Route(Route),
    NotModified(String),
}

fn answer(shared: &Shared, request: tiny_http::Request) {
    let url = request.url().to_owned();
    let headers: Vec<(String, String)> = request
        .headers()
        .iter()
        .map(|h| {
            (
                h.field.as_str().as_str().to_ascii_lowercase(),
                h.value.as_str().to_owned(),
            )
        })
        .collect();
    let header = |name: &str| {
        headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    };
    let answer = {
        let mut state = lock(&shared.state);
        let route = take_route(&mut state, &url)
            .or_else(|| github_route(&state, &shared.base, &url, header("accept")))
            .unwrap_or_else(|| Route::error(404));
        let answer = match &route.etag {
            Some(etag) if etag_matches(header("if-none-match"), etag) => {
                Answer::NotModified(etag.clone())
            }
            _ => Answer::Route(route),
        };
        let status = match &answer {
            Answer::Route(r) => r.status,
            Answer::NotModified(_) => 304,
        };
        state.log.push(Logged {
            method: request.method().as_str().to_owned(),
            url,
            headers: headers.clone(),
            status,
        });
        answer
    };
    let _ = match answer {
        Answer::NotModified(etag) => {
            request.respond(tiny_http::Response::empty(304).with_header(header_of("ETag", &etag)))
        }
        Answer::Route(route) => respond(shared, request, route),
    };
}

fn take_route(state: &mut State, url: &str) -> Option<Route> {
    let path = url.split('?').next().unwrap_or_default();
    for key in [url, path] {
        if let Some(routes) = state.routes.get_mut(key)
            && let Some(first) = routes.first_mut()
        {
            let route = first.clone();
            if let Some(n) = &mut first.times {
                *n = n.saturating_sub(1);
                if *n == 0 {
                    routes.remove(0);
                }
            }
            if route.times != Some(0) {
                return Some(route);
            }
        }
    }
    None
}

fn header_of(name: &str, value: &str) -> tiny_http::Header {
    tiny_http::Header::from_bytes(name.as_bytes(), value.as_bytes())
        .expect("scripted header names and values are valid")
}

fn respond(shared: &Shared, request: tiny_http::Request, route: Route) -> io::Result<()> {
    let mut headers: Vec<tiny_http::Header> =
        route.headers.iter().map(|(n, v)| header_of(n, v)).collect();
    if let Some(etag) = &route.etag {
        headers.push(header_of("ETag", etag));
    }
    let status = tiny_http::StatusCode(route.status);
    match route.body {
        Body::Bytes(bytes) => {
            let len = bytes.len();
            request.respond(
                tiny_http::Response::new(status, headers, io::Cursor::new(bytes), Some(len), None)
                    .with_chunked_threshold(usize::MAX),
            )
        }
        Body::Stream { len, announce } => {
            let data = io::repeat(b' ').take(len);
            let length = if announce {
                Some(usize::try_from(len).unwrap_or(usize::MAX))
            } else {
                None
            };
            request.respond(
                tiny_http::Response::new(status, headers, data, length, None)
                    .with_chunked_threshold(if announce { usize::MAX } else { 0 }),
            )
        }
        Body::Slow { bytes, interval } => {
            let mut head = format!(
                "HTTP/1.1 {} {}\r\nContent-Length: {}\r\n",
                route.status,
                status.default_reason_phrase(),
                bytes.len()
            );
            for (n, v) in &route.headers {
                head.push_str(&format!("{n}: {v}\r\n"));
            }
            head.push_str("\r\n");
            let mut writer = request.into_writer();
            writer.write_all(head.as_bytes())?;
            writer.flush()?;
            for byte in bytes {
                if shared.stop.load(Ordering::SeqCst) {
                    break;
                }
                thread::sleep(interval);
                writer.write_all(&[byte])?;
                writer.flush()?;
            }
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn etags_match_strong_weak_lists_and_star() {
        for (header, etag, expected) in [
            (Some("\"a\""), "\"a\"", true),
            (Some("W/\"a\""), "\"a\"", true),
            (Some("\"b\", \"a\""), "W/\"a\"", true),
            (Some("*"), "\"a\"", true),
            (Some("\"b\""), "\"a\"", false),
            (None, "\"a\"", false),
        ] {
            assert_eq!(etag_matches(header, etag), expected, "{header:?} vs {etag}");
        }
    }

    #[test]
    fn limited_routes_run_out_in_order() {
        let mut state = State::default();
        state
            .routes
            .insert("/x".into(), vec![Route::new(429).times(2), Route::new(200)]);
        let statuses: Vec<u16> = (0..4)
            .map(|_| take_route(&mut state, "/x?q=1").map_or(0, |r| r.status))
            .collect();
        assert_eq!(statuses, [429, 429, 200, 200]);
    }

    #[test]
    fn github_pages_link_to_the_next_until_the_last() {
        let mut state = State::default();
        let releases = (1..=5)
            .map(|i| GitHubRelease::new(&format!("v1.{i}.0")))
            .collect();
        state.github.insert(
            "o/r".into(),
            GitHubRepo {
                per_page: 2,
                releases,
            },
        );
        let link = |page: usize| {
            let route = github_route(
                &state,
                "http://h",
                &format!("/repos/o/r/releases?page={page}"),
                None,
            )
            .expect("a page");
            route
                .headers
                .iter()
                .find(|(n, _)| n == "Link")
                .map(|(_, v)| v.clone())
                .unwrap_or_default()
        };
        assert!(link(1).contains("<http://h/repos/o/r/releases?per_page=2&page=2>; rel=\"next\""));
        assert!(link(2).contains("page=3>; rel=\"next\""));
        assert!(!link(3).contains("rel=\"next\""));
    }
}
