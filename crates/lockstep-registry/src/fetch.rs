//! The one place that talks HTTP: redirects followed by hand (each target checked before it is
//! contacted), the token sent only to the API origin, timeouts, the body cap, rate limits and
//! the conditional-request cache.

use std::io::Read;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant, SystemTime};

use ureq::http::{HeaderMap, Response, StatusCode};

use crate::cache::{Cache, Entry};
use crate::time::{from_epoch, parse_http_date};
use crate::url::Url;
use crate::{Error, Options, Transport};

/// Redirects followed before giving up.
pub const MAX_REDIRECTS: usize = 5;
/// A `Retry-After` of at most this long is waited out instead of reported.
pub const MAX_RETRY_WAIT: Duration = Duration::from_secs(10);
/// How many times a short `Retry-After` is waited out before the rate limit is reported.
pub const MAX_RETRIES: usize = 3;

/// How much of an error response is read for its message.
const ERROR_BODY_BYTES: u64 = 8 * 1024;

/// A body fetched through the cache.
#[derive(Debug)]
pub(crate) struct Page {
    pub(crate) body: Vec<u8>,
    /// The `Link` header, fresh or as cached.
    pub(crate) link: Option<String>,
}

/// What a watched transfer has done: body bytes received, and whether it is sleeping through
/// a `Retry-After`.
#[derive(Debug, Default)]
struct Activity {
    bytes: AtomicU64,
    pausing: AtomicBool,
}

/// An HTTP client configured from [`Options`].
#[derive(Clone)]
pub(crate) struct Client {
    agent: ureq::Agent,
    opts: Options,
    cache: Option<Cache>,
    /// The GitHub API's origin, the only one that gets the token; `None` when the API base
    /// is not a URL lockstep may fetch.
    api_origin: Option<Url>,
    /// What the transfer has done so far, for the watchdog of [`Client::get`].
    activity: Option<Arc<Activity>>,
    /// Whether a short `Retry-After` is waited out here (else reported at once).
    wait_out_rate_limits: bool,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("opts", &self.opts)
            .field("cache", &self.cache)
            .finish_non_exhaustive()
    }
}

/// What the server answered, after redirects.
enum Answer {
    Fresh {
        url: Url,
        response: Box<Response<ureq::Body>>,
    },
    NotModified,
}

impl Client {
    pub(crate) fn new(opts: &Options) -> Self {
        let config = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .max_redirects(0)
            .max_redirects_will_error(false)
            .timeout_connect(Some(opts.connect_timeout))
            .user_agent(opts.user_agent.as_str())
            .build();
        let api_origin = Url::parse(opts.github_api.trim_end_matches('/')).ok();
        Client {
            agent: config.new_agent(),
            opts: opts.clone(),
            cache: opts.cache_dir.clone().map(Cache::new),
            api_origin,
            activity: None,
            wait_out_rate_limits: true,
        }
    }

    /// A client for one probe of a poll loop: it reports every rate limit at once instead of
    /// sleeping through a short `Retry-After` (the caller's loop waits instead).
    pub(crate) fn probing(mut self) -> Self {
        self.wait_out_rate_limits = false;
        self
    }

    pub(crate) fn has_token(&self) -> bool {
        self.api_origin.is_some() && self.opts.github_token.is_some()
    }

    /// GETs `url`, revalidating a cached copy with `If-None-Match` when there is one.
    ///
    /// The request runs on a thread of its own, watched: a transfer that brings fewer than
    /// [`Options::stall_bytes`] in any [`Options::stall_window`] (a server that stalls, or drips
    /// a byte at a time) is given up with [`Error::Stalled`] long before the total timeout. The
    /// abandoned thread ends by itself at the total timeout.
    pub(crate) fn get(&self, url: &Url, accept: &str) -> Result<Page, Error> {
        if self.opts.stall_window.is_zero() {
            return self.get_unwatched(url, accept);
        }
        let activity = Arc::new(Activity::default());
        let mut worker = self.clone();
        worker.activity = Some(Arc::clone(&activity));
        let (tx, rx) = mpsc::channel();
        let (target, accept) = (url.clone(), accept.to_owned());
        thread::Builder::new()
            .name("registry-fetch".into())
            .spawn(move || {
                let _ = tx.send(worker.get_unwatched(&target, &accept));
            })
            .map_err(|e| Error::Network {
                url: url.shown(),
                source: Transport(format!("cannot start a fetch thread: {e}")),
            })?;
        let window = self.opts.stall_window;
        let mut window_start = Instant::now();
        let mut bytes_at_start = 0u64;
        loop {
            match rx.recv_timeout(Duration::from_millis(50)) {
                Ok(answer) => return answer,
                Err(mpsc::RecvTimeoutError::Disconnected) => {
                    return Err(Error::Network {
                        url: url.shown(),
                        source: Transport("the fetch thread ended without an answer".into()),
                    });
                }
                Err(mpsc::RecvTimeoutError::Timeout) => {}
            }
            let bytes = activity.bytes.load(Ordering::Relaxed);
            if activity.pausing.load(Ordering::Relaxed) {
                // Waiting out a Retry-After the server asked for is not a stall.
                window_start = Instant::now();
                bytes_at_start = bytes;
                continue;
            }
            if window_start.elapsed() < window {
                continue;
            }
            let got = bytes - bytes_at_start;
            if got < self.opts.stall_bytes {
                return Err(Error::Stalled {
                    url: url.shown(),
                    bytes: got,
                    window,
                });
            }
            window_start = Instant::now();
            bytes_at_start = bytes;
        }
    }

    fn get_unwatched(&self, url: &Url, accept: &str) -> Result<Page, Error> {
        let span = tracing::debug_span!("fetch", url = %url.shown());
        let _entered = span.enter();
        let cached = self.cache.as_ref().and_then(|c| c.get(url.as_str()));
        match self.request(url, accept, cached.as_ref().map(|e| e.etag.as_str()), true)? {
            Answer::NotModified => {
                let Some(entry) = cached else {
                    return Err(Error::Http {
                        url: url.shown(),
                        status: 304,
                        detail: Some(
                            "not modified, but nothing was asked to be revalidated".into(),
                        ),
                    });
                };
                tracing::debug!("not modified; using the cached copy");
                Ok(Page {
                    body: entry.body,
                    link: entry.link,
                })
            }
            Answer::Fresh {
                url: final_url,
                response,
            } => {
                let etag = header(response.headers(), "etag");
                let link = header(response.headers(), "link");
                let body = self.read_to_vec(&final_url, *response)?;
                if let (Some(cache), Some(etag)) = (&self.cache, etag) {
                    let entry = Entry { etag, link, body };
                    if let Err(e) = cache.put(url.as_str(), &entry) {
                        tracing::warn!(error = %e, "cannot cache the response; the next check fetches it again");
                    }
                    return Ok(Page {
                        body: entry.body,
                        link: entry.link,
                    });
                }
                Ok(Page { body, link })
            }
        }
    }

    /// GETs `url` whose content never changes for `key` (a GitHub asset: its id, update time
    /// and size): a cached copy is used without asking the server again.
    pub(crate) fn get_immutable(
        &self,
        key: &str,
        url: &Url,
        accept: &str,
    ) -> Result<Vec<u8>, Error> {
        let span = tracing::debug_span!("fetch", url = %url.shown(), immutable = true);
        let _entered = span.enter();
        if let Some(entry) = self.cache.as_ref().and_then(|c| c.get(key)) {
            tracing::debug!("using the cached copy");
            return Ok(entry.body);
        }
        let Answer::Fresh {
            url: final_url,
            response,
        } = self.request(url, accept, None, true)?
        else {
            return Err(Error::Http {
                url: url.shown(),
                status: 304,
                detail: None,
            });
        };
        let body = self.read_to_vec(&final_url, *response)?;
        if let Some(cache) = &self.cache {
            let entry = Entry {
                etag: "immutable".into(),
                link: None,
                body,
            };
            if let Err(e) = cache.put(key, &entry) {
                tracing::warn!(error = %e, "cannot cache the response; the next check fetches it again");
            }
            return Ok(entry.body);
        }
        Ok(body)
    }

    /// Streams `url` into `sink`, at most `cap` bytes, without content encoding (the bytes are
    /// hashed as they arrive). Returns the number of bytes received.
    pub(crate) fn download(
        &self,
        url: &Url,
        cap: u64,
        sink: &mut dyn FnMut(&[u8]) -> Result<(), Error>,
    ) -> Result<u64, Error> {
        let span = tracing::debug_span!("download", url = %url.shown());
        let _entered = span.enter();
        let Answer::Fresh {
            url: final_url,
            response,
        } = self.request(url, "application/octet-stream", None, false)?
        else {
            return Err(Error::Http {
                url: url.shown(),
                status: 304,
                detail: None,
            });
        };
        self.read_body(&final_url, *response, cap, sink)
    }

    /// Sends the request, waiting out short `Retry-After`s, and sorts the answer.
    fn request(
        &self,
        url: &Url,
        accept: &str,
        etag: Option<&str>,
        encoded: bool,
    ) -> Result<Answer, Error> {
        let mut retries = 0;
        loop {
            let (final_url, response) = self.follow(url, accept, etag, encoded)?;
            let status = response.status().as_u16();
            tracing::debug!(status, "response");
            match status {
                200..=299 => {
                    return Ok(Answer::Fresh {
                        url: final_url,
                        response: Box::new(response),
                    });
                }
                304 if etag.is_some() => return Ok(Answer::NotModified),
                _ => {}
            }
            if let Some(limit) = rate_limit(status, response.headers(), SystemTime::now()) {
                match limit.retry_after {
                    Some(wait)
                        if self.wait_out_rate_limits
                            && wait <= MAX_RETRY_WAIT
                            && retries < MAX_RETRIES =>
                    {
                        retries += 1;
                        tracing::warn!(
                            seconds = wait.as_secs(),
                            attempt = retries,
                            "rate limited; waiting as the server asks"
                        );
                        if let Some(a) = &self.activity {
                            a.pausing.store(true, Ordering::Relaxed);
                        }
                        thread::sleep(wait);
                        if let Some(a) = &self.activity {
                            a.pausing.store(false, Ordering::Relaxed);
                        }
                        continue;
                    }
                    _ => {
                        return Err(Error::RateLimited {
                            url: final_url.shown(),
                            reset: limit.reset,
                        });
                    }
                }
            }
            let detail = error_detail(response);
            return Err(match status {
                404 | 410 => Error::UrlNotFound {
                    url: final_url.shown(),
                    status,
                    hint: None,
                },
                _ => Error::Http {
                    url: final_url.shown(),
                    status,
                    detail,
                },
            });
        }
    }

    /// Sends GET requests from `url` through at most [`MAX_REDIRECTS`] redirects, checking each
    /// target before contacting it. The whole chain shares one total timeout.
    fn follow(
        &self,
        url: &Url,
        accept: &str,
        etag: Option<&str>,
        encoded: bool,
    ) -> Result<(Url, Response<ureq::Body>), Error> {
        let deadline = Instant::now() + self.opts.timeout;
        let mut current = url.clone();
        for _ in 0..=MAX_REDIRECTS {
            let remaining = deadline.saturating_duration_since(Instant::now());
            if remaining.is_zero() {
                return Err(Error::Timeout {
                    url: current.shown(),
                    after: self.opts.timeout,
                });
            }
            let mut request = self.agent.get(current.as_str()).header("Accept", accept);
            if let Some(etag) = etag {
                request = request.header("If-None-Match", etag);
            }
            if self
                .api_origin
                .as_ref()
                .is_some_and(|api| api.same_origin(&current))
            {
                request = request.header("X-GitHub-Api-Version", "2022-11-28");
                if let Some(token) = &self.opts.github_token {
                    request = request.header("Authorization", format!("Bearer {token}"));
                }
            }
            let mut config = request.config().timeout_global(Some(remaining));
            if !encoded {
                config = config.accept_encoding("");
            }
            if current.is_loopback() {
                config = config.proxy(None);
            }
            let response = config
                .build()
                .call()
                .map_err(|e| self.transport_error(&current, e, None))?;
            let status = response.status();
            if !is_redirect(status) {
                return Ok((current, response));
            }
            let Some(location) = header(response.headers(), "location") else {
                return Err(Error::Redirect {
                    url: current.shown(),
                    reason: "without a Location header",
                });
            };
            let next = current.join(&location)?;
            tracing::debug!(status = status.as_u16(), to = %next.shown(), "redirect");
            current = next;
        }
        Err(Error::Redirect {
            url: url.shown(),
            reason: "more than 5 times",
        })
    }

    /// Reads the whole body, up to [`Options::max_body_bytes`].
    fn read_to_vec(&self, url: &Url, response: Response<ureq::Body>) -> Result<Vec<u8>, Error> {
        let mut body = Vec::new();
        self.read_body(url, response, self.opts.max_body_bytes, &mut |chunk| {
            body.extend_from_slice(chunk);
            Ok(())
        })?;
        Ok(body)
    }

    /// Reads the body into `sink`, failing fast once it exceeds `cap`.
    fn read_body(
        &self,
        url: &Url,
        response: Response<ureq::Body>,
        cap: u64,
        sink: &mut dyn FnMut(&[u8]) -> Result<(), Error>,
    ) -> Result<u64, Error> {
        let identity = response.headers().get("content-encoding").is_none();
        let announced = header(response.headers(), "content-length")
            .and_then(|v| v.trim().parse::<u64>().ok())
            .filter(|_| identity);
        if announced.is_some_and(|n| n > cap) {
            return Err(Error::TooLarge {
                location: url.shown(),
                limit: cap,
            });
        }
        let mut reader = response.into_body().into_reader();
        let mut buf = vec![0u8; 64 * 1024];
        let mut received = 0u64;
        loop {
            let n = match reader.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) => {
                    return Err(self.transport_error(
                        url,
                        ureq::Error::from(e),
                        Some((received, announced)),
                    ));
                }
            };
            received += n as u64;
            if let Some(activity) = &self.activity {
                activity.bytes.fetch_add(n as u64, Ordering::Relaxed);
            }
            if received > cap {
                return Err(Error::TooLarge {
                    location: url.shown(),
                    limit: cap,
                });
            }
            sink(&buf[..n])?;
        }
        Ok(received)
    }

    /// Maps a transport failure; `body` is `(received, announced)` while reading a body.
    fn transport_error(
        &self,
        url: &Url,
        error: ureq::Error,
        body: Option<(u64, Option<u64>)>,
    ) -> Error {
        match (error, body) {
            (ureq::Error::Timeout(which), _) => Error::Timeout {
                url: url.shown(),
                after: if which == ureq::Timeout::Connect {
                    self.opts.connect_timeout
                } else {
                    self.opts.timeout
                },
            },
            (ureq::Error::Io(e), Some((received, expected)))
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::UnexpectedEof
                        | std::io::ErrorKind::ConnectionReset
                        | std::io::ErrorKind::ConnectionAborted
                ) =>
            {
                Error::Truncated {
                    url: url.shown(),
                    received,
                    expected,
                }
            }
            (error, _) => Error::Network {
                url: url.shown(),
                source: Transport(error.to_string()),
            },
        }
    }
}

fn is_redirect(status: StatusCode) -> bool {
    matches!(status.as_u16(), 301 | 302 | 303 | 307 | 308)
}

fn header(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

/// A rate limit the server announced.
#[derive(Debug, PartialEq, Eq)]
struct RateLimit {
    /// When it resets, when known.
    reset: Option<SystemTime>,
    /// How long the server asks to wait (`Retry-After`), when it said.
    retry_after: Option<Duration>,
}

/// Recognises a rate limit: 403 or 429 with `X-RateLimit-Remaining: 0` (and
/// `X-RateLimit-Reset`), or with `Retry-After`; any 429.
fn rate_limit(status: u16, headers: &HeaderMap, now: SystemTime) -> Option<RateLimit> {
    if status != 403 && status != 429 {
        return None;
    }
    let retry_after = header(headers, "retry-after").and_then(|v| {
        let v = v.trim();
        match v.parse::<u64>() {
            Ok(secs) => Some(Duration::from_secs(secs)),
            Err(_) => parse_http_date(v).map(|at| at.duration_since(now).unwrap_or_default()),
        }
    });
    let exhausted = header(headers, "x-ratelimit-remaining").is_some_and(|v| v.trim() == "0");
    let reset_header = header(headers, "x-ratelimit-reset")
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map(from_epoch);
    if status == 403 && !exhausted && retry_after.is_none() {
        return None;
    }
    let reset = match (retry_after, exhausted) {
        (Some(wait), _) => Some(now + wait),
        (None, true) => reset_header,
        (None, false) => None,
    };
    Some(RateLimit { reset, retry_after })
}

/// The server's own explanation of an error: GitHub's JSON `message`, shortened.
fn error_detail(response: Response<ureq::Body>) -> Option<String> {
    let mut bytes = Vec::new();
    response
        .into_body()
        .into_reader()
        .take(ERROR_BODY_BYTES)
        .read_to_end(&mut bytes)
        .ok()?;
    let value: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    let message = value.get("message")?.as_str()?.trim();
    let short: String = message.chars().take(200).collect();
    (!short.is_empty()).then_some(short)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ureq::http::HeaderValue;

    #[test]
    fn rate_limits_are_recognised() {
        let now = from_epoch(1_000);
        let check = |status: u16,
                     pairs: &[(&'static str, &str)],
                     expected: Option<(Option<u64>, Option<u64>)>| {
            let mut headers = HeaderMap::new();
            for (name, value) in pairs {
                headers.insert(*name, HeaderValue::from_str(value).expect("valid header"));
            }
            let got = rate_limit(status, &headers, now);
            let expected = expected.map(|(reset, wait)| RateLimit {
                reset: reset.map(from_epoch),
                retry_after: wait.map(Duration::from_secs),
            });
            assert_eq!(got, expected, "{status} {pairs:?}");
        };
        check(
            403,
            &[
                ("x-ratelimit-remaining", "0"),
                ("x-ratelimit-reset", "5000"),
            ],
            Some((Some(5000), None)),
        );
        check(403, &[("x-ratelimit-remaining", "0")], Some((None, None)));
        check(403, &[("x-ratelimit-remaining", "12")], None);
        check(403, &[], None);
        check(429, &[], Some((None, None)));
        check(429, &[("retry-after", "7")], Some((Some(1_007), Some(7))));
        check(403, &[("retry-after", "60")], Some((Some(1_060), Some(60))));
        check(
            429,
            &[("retry-after", "Thu, 01 Jan 1970 00:20:00 GMT")],
            Some((Some(1_200), Some(200))),
        );
        check(500, &[("retry-after", "1")], None);
    }
}
