//! The one error type of this crate and the [`ErrorKind`] callers branch on.

use std::fmt;
use std::io;
use std::path::PathBuf;
use std::time::{Duration, SystemTime};

use lockstep_manifest::Problem;

use crate::time::{format_rfc3339, seconds_until};

/// Why reading a registry or downloading an artifact failed.
///
/// Every variant names what was being read (a path or a URL with any credentials removed).
/// The GitHub token never appears in an error. Use [`Error::kind`] to branch.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The registry SPEC is not one of the accepted forms.
    #[error(
        "cannot use registry `{spec}`: {reason}; expected a path to a releases.json or a directory holding one, an https:// URL, or github:OWNER/REPO"
    )]
    InvalidSpec {
        /// The SPEC as given.
        spec: String,
        /// What is wrong with it.
        reason: String,
    },

    /// A plain `http://` URL to a host that is not loopback; refused before any connection.
    #[error(
        "refusing plain http to {url}: only localhost, 127.0.0.0/8 and ::1 may use http://; use https://"
    )]
    InsecureUrl {
        /// The URL refused.
        url: String,
    },

    /// A URL lockstep cannot fetch (not http or https, no host, unparsable).
    #[error("cannot fetch `{url}`: {reason}")]
    BadUrl {
        /// The URL as given.
        url: String,
        /// What is wrong with it.
        reason: &'static str,
    },

    /// No release index file at a path.
    #[error("no release index at {}: expected a releases.json file, or a directory holding one", path.display())]
    FileNotFound {
        /// The path looked at.
        path: PathBuf,
    },

    /// The server answered 404 or 410.
    #[error("{url} was not found (HTTP {status}){}", hint.map(|h| format!("; {h}")).unwrap_or_default())]
    UrlNotFound {
        /// The URL.
        url: String,
        /// 404 or 410.
        status: u16,
        /// What to check.
        hint: Option<&'static str>,
    },

    /// Reading or writing a local file failed.
    #[error("cannot {action} {}", path.display())]
    Io {
        /// What was being done: "read", "write", "create".
        action: &'static str,
        /// The file or directory.
        path: PathBuf,
        /// The underlying error.
        source: io::Error,
    },

    /// The connection failed: DNS, refused, reset, TLS.
    #[error("cannot reach {url}")]
    Network {
        /// The URL.
        url: String,
        /// The transport error.
        source: Transport,
    },

    /// A connect or total timeout expired.
    #[error("{url} did not answer within {}s; check the network or raise the timeout", after.as_secs_f64())]
    Timeout {
        /// The URL.
        url: String,
        /// The timeout that expired.
        after: Duration,
    },

    /// The transfer brought too few bytes for too long: the server stalled or drips.
    #[error("{url} sent only {bytes} bytes in {}s, so the fetch was given up as stalled; try again later, or raise Options::stall_window for a slow link", window.as_secs_f64())]
    Stalled {
        /// The URL.
        url: String,
        /// Bytes received in the last window.
        bytes: u64,
        /// The window.
        window: Duration,
    },

    /// The connection closed before the whole body arrived.
    #[error("the response from {url} ended early after {received} bytes{}; the registry was not read", expected.map(|e| format!(" of {e}")).unwrap_or_default())]
    Truncated {
        /// The URL.
        url: String,
        /// Bytes received before the connection closed.
        received: u64,
        /// The announced `Content-Length`, when there was one.
        expected: Option<u64>,
    },

    /// The server says to slow down (403 or 429 with rate-limit headers).
    #[error("{}", rate_limited_message(url, *reset))]
    RateLimited {
        /// The URL.
        url: String,
        /// When the limit resets, when the server said.
        reset: Option<SystemTime>,
    },

    /// Any other unexpected HTTP status.
    #[error("{url} answered HTTP {status}{}", detail.as_ref().map(|d| format!(": {d}")).unwrap_or_default())]
    Http {
        /// The URL.
        url: String,
        /// The status.
        status: u16,
        /// The server's own explanation (GitHub's `message`), when it gave one.
        detail: Option<String>,
    },

    /// More redirects than lockstep follows, or a redirect without a usable `Location`.
    #[error("{url} redirected {reason}")]
    Redirect {
        /// The URL that redirected.
        url: String,
        /// What went wrong: "more than 5 times", "without a Location header".
        reason: &'static str,
    },

    /// A body larger than the cap.
    #[error(
        "{location} is larger than the {limit}-byte limit; raise Options::max_body_bytes if it is genuine"
    )]
    TooLarge {
        /// The URL or path.
        location: String,
        /// The cap in bytes.
        limit: u64,
    },

    /// The content is not what it should be (invalid JSON, an invalid index, a bad release).
    #[error("invalid {what} at {}", located(location, problems))]
    InvalidData {
        /// What was being read: "release index", "GitHub releases page", "release.json of v1.2.0".
        what: String,
        /// The URL or path.
        location: String,
        /// Every problem found, with line, column and field.
        problems: Vec<Problem>,
    },

    /// A downloaded artifact does not match its metadata.
    #[error(
        "artifact {name} from {url} has {what} {actual}, but the release metadata says {expected}; the download was discarded"
    )]
    Checksum {
        /// The artifact's name.
        name: String,
        /// Where it came from.
        url: String,
        /// "sha256" or "size".
        what: &'static str,
        /// What the metadata says.
        expected: String,
        /// What arrived.
        actual: String,
    },
}

/// The transport error behind [`Error::Network`]; its text is the only thing it exposes, so the
/// HTTP library stays an implementation detail.
#[derive(Debug)]
pub struct Transport(pub(crate) String);

impl fmt::Display for Transport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Transport {}

/// What kind of failure an [`Error`] is, for callers that decide what to do next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The SPEC or a URL is malformed.
    InvalidSpec,
    /// A plain `http://` URL to a non-loopback host was refused.
    InsecureUrl,
    /// The index file, URL or repository does not exist.
    NotFound,
    /// Local I/O failed.
    Io,
    /// The network failed (connect, DNS, TLS, reset, truncated body, redirect trouble).
    Network,
    /// A timeout expired.
    Timeout,
    /// The server rate-limits us; `reset` is when to retry, when known.
    RateLimited {
        /// When the limit resets.
        reset: Option<SystemTime>,
    },
    /// Another unexpected HTTP status.
    Http {
        /// The status.
        status: u16,
    },
    /// The body exceeded the size cap.
    TooLarge,
    /// The content is invalid; [`Error::problems`] has the details.
    InvalidData,
    /// An artifact's size or sha256 does not match.
    Checksum,
}

impl Error {
    /// What kind of failure this is.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::InvalidSpec { .. } | Error::BadUrl { .. } => ErrorKind::InvalidSpec,
            Error::InsecureUrl { .. } => ErrorKind::InsecureUrl,
            Error::FileNotFound { .. } | Error::UrlNotFound { .. } => ErrorKind::NotFound,
            Error::Io { .. } => ErrorKind::Io,
            Error::Network { .. } | Error::Truncated { .. } | Error::Redirect { .. } => {
                ErrorKind::Network
            }
            Error::Timeout { .. } | Error::Stalled { .. } => ErrorKind::Timeout,
            Error::RateLimited { reset, .. } => ErrorKind::RateLimited { reset: *reset },
            Error::Http { status, .. } => ErrorKind::Http { status: *status },
            Error::TooLarge { .. } => ErrorKind::TooLarge,
            Error::InvalidData { .. } => ErrorKind::InvalidData,
            Error::Checksum { .. } => ErrorKind::Checksum,
        }
    }

    /// The problems of an [`ErrorKind::InvalidData`] error (empty for other kinds).
    pub fn problems(&self) -> &[Problem] {
        match self {
            Error::InvalidData { problems, .. } => problems,
            _ => &[],
        }
    }

    pub(crate) fn io(action: &'static str, path: impl Into<PathBuf>, source: io::Error) -> Self {
        Error::Io {
            action,
            path: path.into(),
            source,
        }
    }
}

fn located(location: &str, problems: &[Problem]) -> String {
    let Some(first) = problems.first() else {
        return location.to_owned();
    };
    let mut out = location.to_owned();
    if first.line > 0 {
        out.push_str(&format!(":{}:{}", first.line, first.column));
    }
    out.push_str(": ");
    if !first.field.is_empty() {
        out.push_str(&first.field);
        out.push_str(": ");
    }
    out.push_str(&first.message);
    if problems.len() > 1 {
        out.push_str(&format!(" (and {} more)", problems.len() - 1));
    }
    out
}

fn rate_limited_message(url: &str, reset: Option<SystemTime>) -> String {
    match reset {
        Some(reset) => format!(
            "rate limited by {url} until {} (in {}s); retry after that, or set GITHUB_TOKEN for a higher limit",
            format_rfc3339(reset),
            seconds_until(reset)
        ),
        None => {
            format!("rate limited by {url}; retry later, or set GITHUB_TOKEN for a higher limit")
        }
    }
}
