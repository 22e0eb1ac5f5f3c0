//! Whether a registry shows a version yet, and waiting until it does.
//!
//! A release cascade publishes an upstream package, then regenerates its dependents'
//! lockfiles against the registry. Between the two, the registry must really serve the new
//! version to the resolvers that will read it: crates.io's sparse index (what Cargo reads),
//! PyPI's simple index (what `uv` and `pip` read) and the npm registry's package document
//! (what `npm` reads). Uploads become visible seconds to minutes later, and caches and CDNs
//! flap in between, so [`wait_until_visible`] counts a version as visible only after
//! [`WaitPolicy::confirmations`] positive checks in a row, [`WaitPolicy::spacing`] apart.
//!
//! Polling backs off (doubling from [`WaitPolicy::first_delay`] up to
//! [`WaitPolicy::max_delay`], with jitter so that many waiters do not poll in step), honours a
//! `Retry-After` or rate-limit reset the server sends, and treats 5xx answers, timeouts and
//! dropped connections as "ask again later". Every probe has a total timeout and a stall
//! watch (too few bytes in a [`WaitPolicy::idle_timeout`] window), so a server that stalls,
//! or drips one byte at a time, costs one window, and never more than
//! [`WaitPolicy::probe_timeout`]. Running out of
//! [`WaitPolicy::budget`] is [`Waited::NotYet`], not an error: the version was published, it is
//! just not visible yet.
//!
//! Only failures that asking again cannot fix come back as [`Error`]: a URL lockstep may not
//! fetch, an answer that is not an index at all.
//!
//! ```
//! use lockstep_registry::visibility::{Registry, WaitPolicy};
//! use lockstep_registry::Options;
//!
//! // A directory of files is not a registry; real ones are URLs. This one refuses plain
//! // http to a host that is not loopback, before connecting.
//! let npm = Registry::npm("http://registry.example.com");
//! assert!(npm.has_version("left-pad", "1.3.0", &Options::default()).is_err());
//!
//! let policy = WaitPolicy::default();
//! assert_eq!(policy.confirmations, 2);
//! // Against a real registry: wait_until_visible(&npm, "left-pad", "1.3.0", &opts, &policy,
//! // &mut |poll| eprintln!("{poll:?}")) ends in Waited::Visible or Waited::NotYet.
//! ```

use std::fmt;
use std::thread;
use std::time::{Duration, Instant, SystemTime};

use serde::Deserialize;

use crate::fetch::Client;
use crate::upstream::{
    DEFAULT_CRATES_INDEX, DEFAULT_NPM_REGISTRY, DEFAULT_PYPI_URL, crate_index_path,
};
use crate::url::Url;
use crate::{Error, ErrorKind, Options};

/// Which kind of registry, and so which document shows a version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum RegistryKind {
    /// A Cargo sparse index (`sparse+URL/`): the crate's index file has a line for it.
    Crates,
    /// A PyPI-compatible server: `/simple/NAME/` lists a file of that version.
    PyPI,
    /// An npm registry: the package document's `versions` has it.
    Npm,
}

impl fmt::Display for RegistryKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            RegistryKind::Crates => "crates index",
            RegistryKind::PyPI => "PyPI",
            RegistryKind::Npm => "npm registry",
        })
    }
}

/// A registry to ask: its kind and base URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Registry {
    kind: RegistryKind,
    base: String,
}

impl Registry {
    /// A Cargo sparse index, `sparse+https://index.crates.io/` or a private one (the
    /// `sparse+` prefix is optional).
    pub fn crates(index: &str) -> Self {
        Registry {
            kind: RegistryKind::Crates,
            base: index.trim().to_owned(),
        }
    }

    /// A PyPI-compatible server root (`https://pypi.org`), whose simple index is at
    /// `ROOT/simple/`. A URL that already ends in `/simple` is taken as the index itself.
    pub fn pypi(root: &str) -> Self {
        Registry {
            kind: RegistryKind::PyPI,
            base: root.trim().to_owned(),
        }
    }

    /// An npm registry root (`https://registry.npmjs.org`).
    pub fn npm(root: &str) -> Self {
        Registry {
            kind: RegistryKind::Npm,
            base: root.trim().to_owned(),
        }
    }

    /// The public registry of a kind.
    pub fn public(kind: RegistryKind) -> Self {
        match kind {
            RegistryKind::Crates => Registry::crates(DEFAULT_CRATES_INDEX),
            RegistryKind::PyPI => Registry::pypi(DEFAULT_PYPI_URL),
            RegistryKind::Npm => Registry::npm(DEFAULT_NPM_REGISTRY),
        }
    }

    /// The kind.
    pub fn kind(&self) -> RegistryKind {
        self.kind
    }

    /// The base URL as given.
    pub fn base(&self) -> &str {
        &self.base
    }

    /// The URL that shows `name`'s versions.
    pub fn document_url(&self, name: &str) -> Result<String, Error> {
        Ok(self.url_of(name)?.shown())
    }

    fn url_of(&self, name: &str) -> Result<Url, Error> {
        let base = self.base.strip_prefix("sparse+").unwrap_or(&self.base);
        let base = base.trim_end_matches('/');
        let text = match self.kind {
            RegistryKind::Crates => format!("{base}/{}", crate_index_path(name)),
            RegistryKind::PyPI if base.ends_with("/simple") => {
                format!("{base}/{}/", pep503_name(name))
            }
            RegistryKind::PyPI => format!("{base}/simple/{}/", pep503_name(name)),
            RegistryKind::Npm => format!("{base}/{}", name.replacen('/', "%2f", 1)),
        };
        Url::parse(&text)
    }

    /// Asks once whether the registry shows `version` of `name` (a yanked crate version counts:
    /// it is still taken). A package the registry has never heard of is `Ok(false)`.
    pub fn has_version(&self, name: &str, version: &str, opts: &Options) -> Result<bool, Error> {
        let url = self.url_of(name)?;
        let body = match Client::new(opts).get(&url, self.accept()) {
            Ok(page) => page.body,
            Err(e) if e.kind() == ErrorKind::NotFound => return Ok(false),
            Err(e) => return Err(e),
        };
        self.judge(&url, &body, name, version)
    }

    fn accept(&self) -> &'static str {
        match self.kind {
            RegistryKind::Crates => "text/plain, application/json",
            RegistryKind::PyPI => "application/vnd.pypi.simple.v1+json, text/html;q=0.5",
            RegistryKind::Npm => {
                "application/vnd.npm.install-v1+json; q=1.0, application/json; q=0.8"
            }
        }
    }

    /// Reads a fetched document: does it show `version`?
    fn judge(&self, url: &Url, body: &[u8], name: &str, version: &str) -> Result<bool, Error> {
        let text = String::from_utf8_lossy(body);
        match self.kind {
            RegistryKind::Crates => crate_index_has(&text, version).map_err(|m| invalid(url, m)),
            RegistryKind::PyPI => Ok(simple_index_files(&text)
                .iter()
                .filter_map(|f| file_version(f, name))
                .any(|v| same_pep440(&v, version))),
            RegistryKind::Npm => {
                #[derive(Deserialize)]
                struct Doc {
                    #[serde(default)]
                    versions: serde_json::Map<String, serde_json::Value>,
                }
                let doc: Doc = serde_json::from_str(&text)
                    .map_err(|e| invalid(url, format!("{e}; expected an npm package document")))?;
                Ok(doc.versions.contains_key(version))
            }
        }
    }
}

impl fmt::Display for Registry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.kind, self.base)
    }
}

/// How long and how often to wait.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct WaitPolicy {
    /// The whole wait, across polls.
    pub budget: Duration,
    /// Positive checks in a row before the version counts as visible.
    pub confirmations: u32,
    /// The pause between two positive checks.
    pub spacing: Duration,
    /// The pause after the first negative check; it doubles up to `max_delay`.
    pub first_delay: Duration,
    /// The longest pause between polls (unless the server asks for longer).
    pub max_delay: Duration,
    /// A probe that brings fewer than [`Options::stall_bytes`] in a window this long (a
    /// server that stalls or drips) is given up, and counts as a failed poll.
    pub idle_timeout: Duration,
    /// A probe that takes longer than this in total is given up.
    pub probe_timeout: Duration,
}

impl Default for WaitPolicy {
    fn default() -> Self {
        WaitPolicy {
            budget: Duration::from_secs(600),
            confirmations: 2,
            spacing: Duration::from_secs(3),
            first_delay: Duration::from_secs(1),
            max_delay: Duration::from_secs(30),
            idle_timeout: Duration::from_secs(10),
            probe_timeout: Duration::from_secs(30),
        }
    }
}

impl WaitPolicy {
    /// The default policy with `budget`.
    pub fn with_budget(budget: Duration) -> Self {
        WaitPolicy {
            budget,
            ..WaitPolicy::default()
        }
    }
}

/// One poll, for progress output.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Poll {
    /// 1 for the first request.
    pub attempt: u32,
    /// Time since the wait began.
    pub elapsed: Duration,
    /// What the poll saw.
    pub seen: Seen,
    /// Positive checks in a row so far.
    pub confirmed: u32,
    /// The pause before the next poll, `None` after the last.
    pub next_in: Option<Duration>,
}

/// What one poll saw.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Seen {
    /// The version is listed.
    Listed,
    /// The document does not list it (or the package is unknown).
    Missing,
    /// The server asked to slow down; the next poll honours it.
    RateLimited,
    /// The poll failed in a way worth retrying (5xx, timeout, stall, dropped connection).
    Failed(String),
}

/// How a wait ended.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Waited {
    /// Seen [`WaitPolicy::confirmations`] times in a row.
    Visible {
        /// Requests made.
        polls: u32,
        /// Time taken.
        elapsed: Duration,
    },
    /// The budget ran out first.
    NotYet {
        /// Requests made.
        polls: u32,
        /// Time taken.
        elapsed: Duration,
    },
}

/// Polls `registry` until it shows `version` of `name`, as [`WaitPolicy`] says; `progress` is
/// called after every poll. See the [module documentation](self).
pub fn wait_until_visible(
    registry: &Registry,
    name: &str,
    version: &str,
    opts: &Options,
    policy: &WaitPolicy,
    progress: &mut dyn FnMut(&Poll),
) -> Result<Waited, Error> {
    let span = tracing::info_span!("wait_until_visible", registry = %registry, name, version);
    let _entered = span.enter();
    let url = registry.url_of(name)?;
    let start = Instant::now();
    let mut polls = 0u32;
    let mut confirmed = 0u32;
    let mut misses = 0u32;
    loop {
        polls += 1;
        let seen = probe(registry, &url, name, version, opts, policy)?;
        let elapsed = start.elapsed();
        let mut asked: Option<Duration> = None;
        let seen = match seen {
            Probe::Seen(true) => {
                confirmed += 1;
                Seen::Listed
            }
            Probe::Seen(false) => {
                confirmed = 0;
                misses += 1;
                Seen::Missing
            }
            Probe::RateLimited(wait) => {
                confirmed = 0;
                asked = Some(wait);
                Seen::RateLimited
            }
            Probe::Failed(why) => {
                confirmed = 0;
                misses += 1;
                Seen::Failed(why)
            }
        };
        let visible = confirmed >= policy.confirmations.max(1);
        let delay = match asked {
            Some(wait) => wait.max(policy.first_delay),
            None if confirmed > 0 => policy.spacing,
            None => jitter(backoff(policy, misses), polls),
        };
        let left = policy.budget.saturating_sub(elapsed);
        let next_in = (!visible && !left.is_zero()).then(|| delay.min(left));
        progress(&Poll {
            attempt: polls,
            elapsed,
            seen,
            confirmed,
            next_in,
        });
        match next_in {
            _ if visible => return Ok(Waited::Visible { polls, elapsed }),
            None => return Ok(Waited::NotYet { polls, elapsed }),
            Some(pause) => thread::sleep(pause),
        }
    }
}

/// `first_delay × 2^(misses-1)`, capped at `max_delay`.
fn backoff(policy: &WaitPolicy, misses: u32) -> Duration {
    let doublings = misses.saturating_sub(1).min(16);
    policy
        .first_delay
        .saturating_mul(1u32 << doublings)
        .min(policy.max_delay)
}

/// `delay` scaled by a factor in [0.75, 1.25), from the clock and the attempt number (no
/// randomness crate; waiters started together still drift apart).
fn jitter(delay: Duration, attempt: u32) -> Duration {
    let nanos = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    let mut x = u64::from(nanos) ^ (u64::from(attempt) << 32) ^ 0x9E37_79B9_7F4A_7C15;
    x ^= x >> 33;
    x = x.wrapping_mul(0xFF51_AFD7_ED55_8CCD);
    x ^= x >> 33;
    let permille = 750 + (x % 500) as u32;
    delay * permille / 1000
}

enum Probe {
    Seen(bool),
    RateLimited(Duration),
    Failed(String),
}

/// One request with a stall watch and a total timeout. Failures worth asking again about
/// become [`Probe::Failed`]; the rest are errors.
fn probe(
    registry: &Registry,
    url: &Url,
    name: &str,
    version: &str,
    opts: &Options,
    policy: &WaitPolicy,
) -> Result<Probe, Error> {
    let mut opts = opts.clone();
    opts.cache_dir = None;
    opts.timeout = policy.probe_timeout;
    opts.connect_timeout = opts.connect_timeout.min(policy.probe_timeout);
    opts.stall_window = policy.idle_timeout;
    let answer = Client::new(&opts).probing().get(url, registry.accept());
    match answer {
        Ok(page) => registry
            .judge(url, &page.body, name, version)
            .map(Probe::Seen),
        Err(e) => match e.kind() {
            ErrorKind::NotFound => Ok(Probe::Seen(false)),
            ErrorKind::RateLimited { reset } => {
                let wait = reset
                    .and_then(|at| at.duration_since(SystemTime::now()).ok())
                    .unwrap_or(policy.max_delay);
                Ok(Probe::RateLimited(wait))
            }
            ErrorKind::Network | ErrorKind::Timeout | ErrorKind::Http { .. } => {
                Ok(Probe::Failed(e.to_string()))
            }
            _ => Err(e),
        },
    }
}

fn invalid(url: &Url, message: String) -> Error {
    Error::InvalidData {
        what: "registry document".to_owned(),
        location: url.shown(),
        problems: vec![lockstep_manifest::Problem::new(
            lockstep_manifest::Pos::UNKNOWN,
            "",
            lockstep_manifest::ProblemKind::Value,
            message,
        )],
    }
}

/// Whether a sparse index file has a line for `version` (yanked or not).
fn crate_index_has(text: &str, version: &str) -> Result<bool, String> {
    #[derive(Deserialize)]
    struct Line {
        vers: String,
    }
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let entry: Line = serde_json::from_str(line).map_err(|e| {
            format!(
                "line {}: {e}; expected one JSON object per version with a `vers` field",
                i + 1
            )
        })?;
        if entry.vers == version {
            return Ok(true);
        }
    }
    Ok(false)
}

/// PEP 503 normalisation: lower case, runs of `-`, `_`, `.` become one `-`.
pub fn pep503_name(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut sep = false;
    for c in name.chars() {
        if matches!(c, '-' | '_' | '.') {
            sep = true;
        } else {
            if sep && !out.is_empty() {
                out.push('-');
            }
            sep = false;
            out.push(c.to_ascii_lowercase());
        }
    }
    out
}

/// The file names a simple index page lists: PEP 691 JSON (`files[].filename`) or PEP 503
/// HTML (the text of each anchor, else the last segment of its `href`).
fn simple_index_files(text: &str) -> Vec<String> {
    if let Ok(value) = serde_json::from_str::<serde_json::Value>(text) {
        return value
            .get("files")
            .and_then(|f| f.as_array())
            .map(|files| {
                files
                    .iter()
                    .filter_map(|f| f.get("filename")?.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default();
    }
    let mut out = Vec::new();
    let lower = text.to_ascii_lowercase();
    let mut at = 0;
    while let Some(open) = lower[at..].find("<a ").map(|i| i + at) {
        let Some(gt) = lower[open..].find('>').map(|i| i + open) else {
            break;
        };
        let Some(close) = lower[gt..].find("</a>").map(|i| i + gt) else {
            break;
        };
        let anchor_text = text[gt + 1..close].trim();
        if anchor_text.is_empty() {
            // Fall back to the href's last segment.
            let tag = &text[open..gt];
            if let Some(h) = lower[open..gt].find("href=") {
                let rest = tag[h + 5..].trim_start_matches(['"', '\'']);
                let end = rest.find(['"', '\'', '#', '?']).unwrap_or(rest.len());
                let file = rest[..end].rsplit('/').next().unwrap_or_default();
                out.push(file.to_owned());
            }
        } else {
            out.push(anchor_text.to_owned());
        }
        at = close + 4;
    }
    out
}

/// The version in a distribution file name of project `name`: a wheel
/// (`NAME-VERSION(-BUILD)?-PY-ABI-PLATFORM.whl`) or an sdist (`NAME-VERSION.tar.gz`, `.zip`).
fn file_version(file: &str, name: &str) -> Option<String> {
    let want = pep503_name(name);
    if let Some(stem) = file.strip_suffix(".whl") {
        let mut parts = stem.split('-');
        let dist = parts.next()?;
        let version = parts.next()?;
        return (pep503_name(dist) == want).then(|| version.to_owned());
    }
    let stem = [".tar.gz", ".zip", ".tar.bz2", ".tgz"]
        .iter()
        .find_map(|ext| file.strip_suffix(ext))?;
    let (dist, version) = stem.rsplit_once('-')?;
    (pep503_name(dist) == want).then(|| version.to_owned())
}

/// Whether a file's PEP 440 version is the release `version` (SemVer or PEP 440):
/// `1.1` is `1.1.0`, `1.2.0-rc.1` is `1.2.0rc1`, case and a leading `v` do not matter.
fn same_pep440(found: &str, version: &str) -> bool {
    normal_pep440(found) == normal_pep440(version)
}

fn normal_pep440(v: &str) -> String {
    let v = v.trim().to_ascii_lowercase();
    let v = v.strip_prefix('v').unwrap_or(&v);
    // Split the release numbers from whatever follows.
    let end = v
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(v.len());
    let (release, rest) = v.split_at(end);
    let mut numbers: Vec<u64> = release
        .trim_end_matches('.')
        .split('.')
        .filter_map(|n| n.parse().ok())
        .collect();
    while numbers.len() > 1 && numbers.last() == Some(&0) {
        numbers.pop();
    }
    let rest = rest
        .trim_start_matches(['-', '.', '_'])
        .replace("alpha", "a")
        .replace("beta", "b")
        .replace(['-', '.', '_'], "");
    let numbers: Vec<String> = numbers.iter().map(u64::to_string).collect();
    format!("{}{rest}", numbers.join("."))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_versions_normalise_as_resolvers_do() {
        assert_eq!(pep503_name("Py_Core.Lib"), "py-core-lib");
        assert_eq!(pep503_name("a--b"), "a-b");
        assert_eq!(
            file_version("py_core-1.1.0-py3-none-any.whl", "py-core").as_deref(),
            Some("1.1.0")
        );
        assert_eq!(
            file_version("py_core-1.1.0.tar.gz", "py-core").as_deref(),
            Some("1.1.0")
        );
        assert_eq!(file_version("other-1.1.0.tar.gz", "py-core"), None);
        assert!(same_pep440("1.1", "1.1.0"));
        assert!(same_pep440("1.2.0rc1", "1.2.0-rc.1"));
        assert!(!same_pep440("1.1.1", "1.1.0"));
        assert!(!same_pep440("1.10.0", "1.1.0"));
    }

    #[test]
    fn simple_pages_list_their_files() {
        let html = r#"<html><body><h1>Links for pycore</h1>
            <a href="/packages/pycore-1.0.0.tar.gz#sha256=ab">pycore-1.0.0.tar.gz</a><br>
            <A HREF="../../packages/pycore-1.1.0-py3-none-any.whl"></A>
            </body></html>"#;
        assert_eq!(
            simple_index_files(html),
            ["pycore-1.0.0.tar.gz", "pycore-1.1.0-py3-none-any.whl"]
        );
        let json =
            r#"{"meta": {"api-version": "1.0"}, "files": [{"filename": "pycore-2.0.0.tar.gz"}]}"#;
        assert_eq!(simple_index_files(json), ["pycore-2.0.0.tar.gz"]);
    }

    #[test]
    fn urls_follow_each_registry_layout() {
        let at = |r: Registry, n: &str| r.document_url(n).expect("a URL");
        assert_eq!(
            at(
                Registry::crates("sparse+http://127.0.0.1:1/index/"),
                "Serde"
            ),
            "http://127.0.0.1:1/index/se/rd/serde"
        );
        assert_eq!(
            at(Registry::pypi("http://127.0.0.1:2"), "Py_Core"),
            "http://127.0.0.1:2/simple/py-core/"
        );
        assert_eq!(
            at(Registry::pypi("http://127.0.0.1:2/simple/"), "x"),
            "http://127.0.0.1:2/simple/x/"
        );
        assert_eq!(
            at(Registry::npm("http://127.0.0.1:3/"), "@acme/core"),
            "http://127.0.0.1:3/@acme%2fcore"
        );
    }

    #[test]
    fn backoff_doubles_up_to_its_cap_and_jitter_stays_within_a_quarter() {
        let policy = WaitPolicy::default();
        assert_eq!(backoff(&policy, 1), Duration::from_secs(1));
        assert_eq!(backoff(&policy, 3), Duration::from_secs(4));
        assert_eq!(backoff(&policy, 40), Duration::from_secs(30));
        for attempt in 0..50 {
            let d = jitter(Duration::from_secs(8), attempt);
            assert!(
                d >= Duration::from_secs(6) && d < Duration::from_secs(10),
                "{d:?}"
            );
        }
    }
}
