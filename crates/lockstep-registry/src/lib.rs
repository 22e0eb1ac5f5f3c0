//! Release sources for lockstep: a local index file, a static HTTP index and the GitHub
//! Releases API behind one trait, with caching, pagination, rate limits and checksums.
//!
//! [`open`] turns a registry SPEC — what a user passes as `--registry` — into a
//! [`ReleaseSource`]:
//!
//! | SPEC | source |
//! |---|---|
//! | `path/to/releases.json`, or a directory holding one | [`FileIndex`] |
//! | `https://host/…/releases.json` (`http://` only to loopback) | [`HttpIndex`] |
//! | `github:OWNER/REPO` | [`GitHubReleases`] |
//!
//! [`ReleaseSource::releases`] returns every release in SemVer precedence order (never
//! publication order), drafts excluded. A failed check is an [`Error`], never an empty list:
//! a missing file, a 404 or 5xx, invalid JSON, a truncated body, a timeout, a rate limit.
//! [`download_artifact`] fetches an artifact and checks its size and sha256 before the file
//! appears under its name.
//!
//! What the HTTP sources do for you:
//!
//! - **Conditional requests.** With [`Options::cache_dir`] set (lockstep uses
//!   `.lockstep/cache`), every response with an `ETag` is cached (file name: sha256 of the URL,
//!   written temp → fsync → rename) and revalidated with `If-None-Match`, so an unchanged
//!   registry costs only `304`s. GitHub `release.json` assets are immutable for a given asset
//!   update time and size, so a cached one is not fetched again at all.
//! - **Safety before connecting.** Plain `http://` is refused unless the host is `localhost`,
//!   in 127.0.0.0/8 or `::1`: the registry URL, the GitHub API base, pagination links and every
//!   redirect target (redirects are followed by hand, at most [`MAX_REDIRECTS`], each checked
//!   before it is contacted). The GitHub token goes only to the API's origin, never to a
//!   redirect target elsewhere, and never into a log line or an error.
//! - **Bounded fetches.** A connect timeout, a total timeout per fetch (redirects and body
//!   included), a stall watch (fewer than [`Options::stall_bytes`] in an
//!   [`Options::stall_window`] gives up: a server that stops sending or drips fails in 15 s,
//!   not at the 60 s total) and a body cap, enforced while streaming, so an endless body
//!   fails fast. Artifact downloads stream to disk under the total timeout only.
//! - **Rate limits.** GitHub's `403`/`429` with `X-RateLimit-Remaining: 0` and
//!   `X-RateLimit-Reset`, or `Retry-After`, become [`ErrorKind::RateLimited`] with the reset
//!   time; a `Retry-After` of at most [`MAX_RETRY_WAIT`] is waited out, at most [`MAX_RETRIES`]
//!   times.
//!
//! What it deliberately does not do: judge compatibility (`lockstep-compat`), decide which
//! channel sees what, read the environment behind your back ([`Options::from_env`] is
//! explicit), install a tracing subscriber, or retry failures other than a short `Retry-After`.
//!
//! # Limitations
//!
//! - GitHub releases without a `release.json` asset are described from the tag, the
//!   prerelease flag (beta, else stable) and the body (a `Contracts: X.Y.Z` line); tags that
//!   are not SemVer are skipped with a warning.
//! - An artifact's total timeout is [`Options::timeout`]; raise it for large files.
//! - Signatures on release metadata are not checked yet.
//! - Proxies come from the standard `HTTPS_PROXY`/`HTTP_PROXY`/`NO_PROXY` variables, as the
//!   HTTP library reads them; loopback URLs never use a proxy.
//! - Cache files are never pruned; deleting the cache directory is always safe.
//!
//! ## Examples
//!
//! ```
//! use lockstep_registry::{ErrorKind, Options, open};
//!
//! let dir = tempfile::tempdir()?;
//! std::fs::write(
//!     dir.path().join("releases.json"),
//!     r#"{"schema": 1, "releases": [
//!         {"version": "1.10.0", "channel": "stable", "contracts_version": "1.0.0"},
//!         {"version": "1.9.0", "channel": "lts", "contracts_version": "1.0.0"}
//!     ]}"#,
//! )?;
//! let opts = Options::default();
//! let source = open(dir.path().to_str().expect("a UTF-8 temp path"), &opts)?;
//! let versions: Vec<String> = source.releases()?.iter().map(|r| r.version.to_string()).collect();
//! assert_eq!(versions, ["1.9.0", "1.10.0"]);
//!
//! let err = open("http://example.com/releases.json", &opts).err().expect("refused");
//! assert_eq!(err.kind(), ErrorKind::InsecureUrl);
//! # Ok::<_, Box<dyn std::error::Error>>(())
//! ```

#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod artifact;
mod blob;
mod cache;
mod error;
mod fetch;
mod options;
mod source;
mod time;
mod upstream;
mod url;
pub mod visibility;

pub use artifact::download_artifact;
pub use blob::{download_checked, fetch_document};
pub use error::{Error, ErrorKind, Transport};
pub use fetch::{MAX_REDIRECTS, MAX_RETRIES, MAX_RETRY_WAIT};
pub use lockstep_manifest::{Artifact, Channel, Release};
pub use options::{
    DEFAULT_CONNECT_TIMEOUT, DEFAULT_GITHUB_API, DEFAULT_STALL_BYTES, DEFAULT_STALL_WINDOW,
    DEFAULT_TIMEOUT, Options,
};
pub use source::file::{FileIndex, INDEX_FILE_NAME};
pub use source::github::{GitHubReleases, RELEASE_ASSET};
pub use source::http_index::HttpIndex;
pub use upstream::{
    DEFAULT_CRATES_INDEX, DEFAULT_NPM_REGISTRY, DEFAULT_PYPI_URL, UpstreamBases, UpstreamVersion,
    crates_versions, github_versions, npm_versions, pypi_versions,
};

/// Somewhere releases are published.
pub trait ReleaseSource: Send + Sync {
    /// A short description for messages: the path, URL or `github:OWNER/REPO (API)`.
    fn describe(&self) -> String;

    /// Every release, sorted by SemVer precedence (lowest first), drafts excluded.
    ///
    /// An error means the check failed; it never comes back as an empty list.
    fn releases(&self) -> Result<Vec<Release>, Error>;
}

/// Opens the source a registry SPEC names; see the [crate documentation](crate) for the forms.
///
/// Checks the SPEC and any URL (including the GitHub API base) before anything is contacted;
/// a file is not read until [`ReleaseSource::releases`].
pub fn open(spec: &str, opts: &Options) -> Result<Box<dyn ReleaseSource>, Error> {
    let trimmed = spec.trim();
    let invalid = |reason: &str| Error::InvalidSpec {
        spec: spec.to_owned(),
        reason: reason.to_owned(),
    };
    if trimmed.is_empty() {
        return Err(invalid("it is empty"));
    }
    if let Some(repo) = strip_prefix_ignore_case(trimmed, "github:") {
        return Ok(Box::new(GitHubReleases::new(repo, opts)?));
    }
    if let Some((scheme, _)) = trimmed.split_once("://") {
        if scheme.eq_ignore_ascii_case("https") || scheme.eq_ignore_ascii_case("http") {
            return Ok(Box::new(HttpIndex::new(trimmed, opts)?));
        }
        return Err(invalid(&format!(
            "the scheme `{scheme}://` is not supported"
        )));
    }
    Ok(Box::new(FileIndex::new(trimmed)))
}

fn strip_prefix_ignore_case<'a>(s: &'a str, prefix: &str) -> Option<&'a str> {
    let head = s.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| &s[prefix.len()..])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn specs_choose_a_source_or_say_what_is_accepted() {
        let opts = Options::default();
        for (spec, expected) in [
            ("fixtures/registry", Ok("fixtures/registry")),
            ("./releases.json", Ok("./releases.json")),
            (
                "https://example.com/releases.json",
                Ok("https://example.com/releases.json"),
            ),
            (
                "http://127.0.0.1:8080/r.json",
                Ok("http://127.0.0.1:8080/r.json"),
            ),
            (
                "github:acme/core",
                Ok("github:acme/core (https://api.github.com)"),
            ),
            (
                "GitHub:acme/core.rs",
                Ok("github:acme/core.rs (https://api.github.com)"),
            ),
            (
                "http://example.com/releases.json",
                Err(ErrorKind::InsecureUrl),
            ),
            (
                "ftp://example.com/releases.json",
                Err(ErrorKind::InvalidSpec),
            ),
            ("github:acme", Err(ErrorKind::InvalidSpec)),
            ("github:acme/core/extra", Err(ErrorKind::InvalidSpec)),
            ("github:/core", Err(ErrorKind::InvalidSpec)),
            ("github:../x", Err(ErrorKind::InvalidSpec)),
            ("", Err(ErrorKind::InvalidSpec)),
        ] {
            let got = open(spec, &opts)
                .map(|s| s.describe())
                .map_err(|e| e.kind());
            assert_eq!(got, expected.map(str::to_owned), "{spec:?}");
        }
    }

    #[test]
    fn an_insecure_github_api_base_is_refused_when_opening() {
        let opts = Options {
            github_api: "http://github.example.com/api/v3".into(),
            ..Options::default()
        };
        let err = open("github:acme/core", &opts).err().expect("refused");
        assert_eq!(err.kind(), ErrorKind::InsecureUrl);
        assert!(
            err.to_string().contains("http://github.example.com/api/v3"),
            "{err}"
        );
    }

    #[test]
    fn invalid_spec_messages_list_the_accepted_forms() {
        let err = open("ftp://x/y", &Options::default())
            .err()
            .expect("refused");
        assert_eq!(
            err.to_string(),
            "cannot use registry `ftp://x/y`: the scheme `ftp://` is not supported; expected a path to a releases.json or a directory holding one, an https:// URL, or github:OWNER/REPO"
        );
    }
}
