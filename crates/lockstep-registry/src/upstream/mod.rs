//! Upstream version watchers: every published version of a package on npm, PyPI or crates.io,
//! or of a GitHub repository's releases (tags when it has none).
//!
//! One function per source kind ([`npm_versions`], [`pypi_versions`], [`crates_versions`],
//! [`github_versions`]), each taking the registry base (a server root, or for crates.io a
//! `sparse+URL` index) and the same [`Options`](crate::Options) as the release sources, so
//! they share the client: ETag revalidation through the cache directory, `Link` pagination,
//! rate limits with `Retry-After`, timeouts, the body cap and the loopback-only `http://` rule
//! (redirects included). A failed check is an [`Error`](crate::Error), never an empty list.
//!
//! Versions come back with whether they are pre-releases, when upstream says they were
//! published, and the URL they were read from, ordered by SemVer precedence where the versions
//! are SemVer (others keep the registry's order, after them).

mod crates;
mod github;
mod npm;
mod pypi;

use std::cmp::Ordering;

use lockstep_manifest::{Pos, Problem, ProblemKind};

pub(crate) use crates::index_path as crate_index_path;
pub use crates::{DEFAULT_CRATES_INDEX, crates_versions};
pub use github::github_versions;
pub use npm::{DEFAULT_NPM_REGISTRY, npm_versions};
pub use pypi::{DEFAULT_PYPI_URL, pypi_versions};

use crate::Error;
use crate::url::Url;

/// One published version of an upstream package.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct UpstreamVersion {
    /// The version as published (a GitHub tag without a leading `v`).
    pub version: String,
    /// Whether it is a pre-release (SemVer pre-release part, PEP 440 `a`/`b`/`rc`/`dev`, or
    /// GitHub's prerelease flag).
    pub prerelease: bool,
    /// When it was published, RFC 3339, when the registry says.
    pub released_at: Option<String>,
    /// Where it can be seen.
    pub url: String,
}

/// Registry bases for the watchers, as the environment or a config names them.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct UpstreamBases {
    /// The npm registry root (`LOCKSTEP_NPM_REGISTRY`).
    pub npm: String,
    /// The PyPI root serving `/pypi/NAME/json` (`LOCKSTEP_PYPI_URL`).
    pub pypi: String,
    /// The crates.io sparse index, `sparse+URL/` (`LOCKSTEP_CRATES_INDEX`).
    pub crates_index: String,
}

impl Default for UpstreamBases {
    fn default() -> Self {
        UpstreamBases {
            npm: DEFAULT_NPM_REGISTRY.to_owned(),
            pypi: DEFAULT_PYPI_URL.to_owned(),
            crates_index: DEFAULT_CRATES_INDEX.to_owned(),
        }
    }
}

impl UpstreamBases {
    /// The defaults, overridden by `LOCKSTEP_NPM_REGISTRY`, `LOCKSTEP_PYPI_URL` and
    /// `LOCKSTEP_CRATES_INDEX` as `lookup` reads them (empty values count as unset). The GitHub
    /// API base is [`Options::github_api`](crate::Options::github_api).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Self {
        let set = |name| {
            lookup(name)
                .map(|v: String| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        };
        let mut bases = UpstreamBases::default();
        if let Some(v) = set("LOCKSTEP_NPM_REGISTRY") {
            bases.npm = v;
        }
        if let Some(v) = set("LOCKSTEP_PYPI_URL") {
            bases.pypi = v;
        }
        if let Some(v) = set("LOCKSTEP_CRATES_INDEX") {
            bases.crates_index = v;
        }
        bases
    }
}

/// `base` without trailing slashes, checked as a URL lockstep may fetch.
fn root(base: &str) -> Result<String, Error> {
    let trimmed = base.trim().trim_end_matches('/').to_owned();
    Url::parse(&trimmed)?;
    Ok(trimmed)
}

fn invalid(what: &str, url: &Url, message: String) -> Error {
    Error::InvalidData {
        what: what.to_owned(),
        location: url.shown(),
        problems: vec![Problem::new(Pos::UNKNOWN, "", ProblemKind::Value, message)],
    }
}

fn json_error(what: &str, url: &Url, e: &serde_json::Error) -> Error {
    Error::InvalidData {
        what: what.to_owned(),
        location: url.shown(),
        problems: vec![Problem::new(
            Pos::new(e.line(), e.column()),
            "",
            ProblemKind::Syntax,
            format!("{e}"),
        )],
    }
}

/// Sorts by SemVer precedence; versions that are not SemVer go last, in their given order.
fn sort_versions(versions: &mut [UpstreamVersion]) {
    versions.sort_by(|a, b| {
        match (
            semver::Version::parse(&a.version),
            semver::Version::parse(&b.version),
        ) {
            (Ok(x), Ok(y)) => x.cmp_precedence(&y),
            (Ok(_), Err(_)) => Ordering::Less,
            (Err(_), Ok(_)) => Ordering::Greater,
            (Err(_), Err(_)) => Ordering::Equal,
        }
    });
}

/// Whether a SemVer-shaped version has a pre-release part (`1.2.0-rc.1`).
fn semver_prerelease(version: &str) -> bool {
    semver::Version::parse(version).is_ok_and(|v| !v.pre.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn environment_overrides_bases() {
        let b = UpstreamBases::from_lookup(|n| match n {
            "LOCKSTEP_NPM_REGISTRY" => Some("http://127.0.0.1:1".into()),
            "LOCKSTEP_PYPI_URL" => Some(" ".into()),
            _ => None,
        });
        assert_eq!(b.npm, "http://127.0.0.1:1");
        assert_eq!(b.pypi, DEFAULT_PYPI_URL);
        assert_eq!(b.crates_index, DEFAULT_CRATES_INDEX);
    }

    #[test]
    fn versions_sort_by_precedence_then_registry_order() {
        let v = |s: &str| UpstreamVersion {
            version: s.into(),
            prerelease: false,
            released_at: None,
            url: String::new(),
        };
        let mut list = vec![
            v("nightly"),
            v("1.10.0"),
            v("1.2.0"),
            v("1.10.0-rc.1"),
            v("abc"),
        ];
        sort_versions(&mut list);
        let got: Vec<&str> = list.iter().map(|v| v.version.as_str()).collect();
        assert_eq!(got, ["1.2.0", "1.10.0-rc.1", "1.10.0", "nightly", "abc"]);
    }
}
