//! Releases of a GitHub repository, read through the REST API.

use std::cmp::Ordering;
use std::collections::HashSet;

use lockstep_manifest::{Channel, Pos, Problem, ProblemKind, Release, is_rfc3339};
use semver::Version;
use serde::Deserialize;

use crate::fetch::Client;
use crate::source::file::not_utf8;
use crate::url::Url;
use crate::{Error, Options, ReleaseSource};

/// The asset whose content describes a release; it wins over everything GitHub says.
pub const RELEASE_ASSET: &str = "release.json";
/// Pages read at most (100 releases each) before giving up on a runaway pagination.
const MAX_PAGES: usize = 1000;
const GITHUB_JSON: &str = "application/vnd.github+json";

/// The releases of `OWNER/REPO` on GitHub (or GitHub Enterprise, through the API base).
#[derive(Debug)]
pub struct GitHubReleases {
    owner: String,
    repo: String,
    api: String,
    client: Client,
}

/// A release as the API lists it; only the fields lockstep reads.
#[derive(Debug, Deserialize)]
struct ApiRelease {
    tag_name: String,
    #[serde(default)]
    draft: bool,
    #[serde(default)]
    prerelease: bool,
    published_at: Option<String>,
    target_commitish: Option<String>,
    body: Option<String>,
    #[serde(default)]
    assets: Vec<ApiAsset>,
}

#[derive(Debug, Deserialize)]
struct ApiAsset {
    name: String,
    url: String,
    browser_download_url: String,
    #[serde(default)]
    updated_at: Option<String>,
    #[serde(default)]
    size: u64,
}

impl GitHubReleases {
    /// A source for `owner_repo` (`"OWNER/REPO"`) with the API base, token and limits of
    /// `opts`. The API base is checked here, before anything is contacted.
    pub fn new(owner_repo: &str, opts: &Options) -> Result<Self, Error> {
        let invalid = |reason: &str| Error::InvalidSpec {
            spec: format!("github:{owner_repo}"),
            reason: reason.to_owned(),
        };
        let (owner, repo) = owner_repo
            .split_once('/')
            .ok_or_else(|| invalid("the repository must be written OWNER/REPO"))?;
        let valid = |s: &str| {
            !s.is_empty()
                && s != "."
                && s != ".."
                && s.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
        };
        if !valid(owner) || !valid(repo) {
            return Err(invalid(
                "OWNER and REPO may hold only letters, digits, '-', '_' and '.'",
            ));
        }
        let api = opts.github_api.trim_end_matches('/').to_owned();
        Url::parse(&api)?;
        Ok(GitHubReleases {
            owner: owner.to_owned(),
            repo: repo.to_owned(),
            api,
            client: Client::new(opts),
        })
    }

    fn first_page(&self) -> Result<Url, Error> {
        Url::parse(&format!(
            "{}/repos/{}/{}/releases?per_page=100",
            self.api, self.owner, self.repo
        ))
    }

    /// Builds a release from the API's description, or `None` for a tag that is not a version.
    fn release(&self, item: ApiRelease) -> Result<Option<Release>, Error> {
        let tag_version = version_of_tag(&item.tag_name);
        if let Some(asset) = item.assets.iter().find(|a| a.name == RELEASE_ASSET) {
            return self
                .release_from_asset(&item.tag_name, tag_version, asset)
                .map(Some);
        }
        let Some(version) = tag_version else {
            tracing::warn!(tag = %item.tag_name, "skipping a release whose tag is not a SemVer version (vX.Y.Z or X.Y.Z)");
            return Ok(None);
        };
        let channel = if item.prerelease {
            Channel::Beta
        } else {
            Channel::Stable
        };
        let mut release = Release::new(version, channel);
        release.released_at = item.published_at.filter(|t| is_rfc3339(t));
        release.commit = item
            .target_commitish
            .filter(|c| is_commit_id(c))
            .map(|c| c.to_ascii_lowercase());
        release.contracts_version = item.body.as_deref().and_then(contracts_version_in);
        Ok(Some(release))
    }

    fn release_from_asset(
        &self,
        tag: &str,
        tag_version: Option<Version>,
        asset: &ApiAsset,
    ) -> Result<Release, Error> {
        // With a token, the API URL works for private repositories too; without one, the
        // browser URL does not spend the small anonymous API quota.
        let (url, accept) = if self.client.has_token() {
            (Url::parse(&asset.url)?, "application/octet-stream")
        } else {
            (
                Url::parse(&asset.browser_download_url)?,
                "application/octet-stream",
            )
        };
        // An asset's content cannot change without its update time changing.
        let key = format!(
            "{}#{}#{}",
            url.as_str(),
            asset.updated_at.as_deref().unwrap_or_default(),
            asset.size
        );
        let bytes = self.client.get_immutable(&key, &url, accept)?;
        let what = format!("{RELEASE_ASSET} of {tag}");
        let invalid = |problems| Error::InvalidData {
            what: what.clone(),
            location: url.shown(),
            problems,
        };
        let text = String::from_utf8(bytes)
            .map_err(|e| invalid(vec![not_utf8(e.utf8_error().valid_up_to())]))?;
        let release = Release::parse_json(&text).map_err(|e| invalid(e.problems))?;
        if let Some(tagged) = tag_version
            && tagged.cmp_precedence(&release.version) != Ordering::Equal
        {
            return Err(invalid(vec![Problem::new(
                Pos::UNKNOWN,
                "version",
                ProblemKind::Value,
                format!(
                    "version {} does not match the release tag {tag}; publish release.json with version {tagged}",
                    release.version
                ),
            )]));
        }
        Ok(release)
    }
}

impl ReleaseSource for GitHubReleases {
    fn describe(&self) -> String {
        format!("github:{}/{} ({})", self.owner, self.repo, self.api)
    }

    fn releases(&self) -> Result<Vec<Release>, Error> {
        let span =
            tracing::info_span!("github_releases", repo = %format!("{}/{}", self.owner, self.repo));
        let _entered = span.enter();
        let mut url = self.first_page()?;
        let mut seen = HashSet::new();
        let mut releases = Vec::new();
        loop {
            if !seen.insert(url.as_str().to_owned()) || seen.len() > MAX_PAGES {
                return Err(Error::InvalidData {
                    what: "GitHub releases pagination".into(),
                    location: url.shown(),
                    problems: vec![Problem::new(
                        Pos::UNKNOWN,
                        "",
                        ProblemKind::Value,
                        format!(
                            "the Link header leads back to a page already read, or past {MAX_PAGES} pages"
                        ),
                    )],
                });
            }
            let page = self.client.get(&url, GITHUB_JSON).map_err(|e| match e {
                Error::UrlNotFound { url, status, .. } => Error::UrlNotFound {
                    url,
                    status,
                    hint: Some(
                        "check OWNER/REPO, and set GITHUB_TOKEN if the repository is private",
                    ),
                },
                other => other,
            })?;
            let items: Vec<ApiRelease> =
                serde_json::from_slice(&page.body).map_err(|e| Error::InvalidData {
                    what: "GitHub releases page".into(),
                    location: url.shown(),
                    problems: vec![json_problem(&e)],
                })?;
            tracing::debug!(
                page = seen.len(),
                releases = items.len(),
                "read releases page"
            );
            for item in items.into_iter().filter(|r| !r.draft) {
                if let Some(release) = self.release(item)? {
                    releases.push(release);
                }
            }
            match page.link.as_deref().and_then(next_link) {
                Some(next) => url = url.join(next)?,
                None => break,
            }
        }
        releases.sort_by(|a, b| a.version.cmp_precedence(&b.version));
        releases.dedup_by(|later, earlier| {
            let duplicate = later.version.cmp_precedence(&earlier.version) == Ordering::Equal;
            if duplicate {
                tracing::warn!(version = %later.version, "two releases carry the same version; keeping the first listed");
            }
            duplicate
        });
        Ok(releases)
    }
}

/// The version a tag names: `v1.2.3`, `V1.2.3` or `1.2.3` (pre-releases and build metadata
/// included).
pub(crate) fn version_of_tag(tag: &str) -> Option<Version> {
    let bare = tag.strip_prefix(['v', 'V']).unwrap_or(tag);
    Version::parse(bare).ok()
}

/// Whether `s` is a full commit id (40 or 64 hex digits); branch names are not.
fn is_commit_id(s: &str) -> bool {
    matches!(s.len(), 40 | 64) && s.bytes().all(|b| b.is_ascii_hexdigit())
}

/// The contracts version a release body states, on a line such as `contracts_version: 1.2.0`
/// or `Contracts: v1.2.0` (list markers, emphasis and code spans allowed).
pub(crate) fn contracts_version_in(body: &str) -> Option<Version> {
    body.lines().find_map(|line| {
        let line = line.replace(['*', '`', '_'], " ");
        let line = line
            .trim_start_matches(|c: char| c.is_whitespace() || matches!(c, '-' | '+' | '#' | '>'));
        let (key, value) = line.split_once(':')?;
        let key: Vec<&str> = key.split_whitespace().collect();
        let key = key.join(" ").to_ascii_lowercase();
        if key != "contracts" && key != "contracts version" {
            return None;
        }
        let value = value.split_whitespace().next()?;
        version_of_tag(value)
    })
}

/// The `next` target of a `Link` header.
pub(crate) fn next_link(header: &str) -> Option<&str> {
    header.split(',').find_map(|part| {
        let (target, params) = part.split_once(';')?;
        let target = target.trim().strip_prefix('<')?.strip_suffix('>')?;
        params
            .split(';')
            .any(|p| {
                let p = p.trim().replace(' ', "");
                p == "rel=\"next\"" || p == "rel=next"
            })
            .then_some(target)
    })
}

fn json_problem(e: &serde_json::Error) -> Problem {
    let message = e.to_string();
    let message = match message.rfind(" at line ") {
        Some(i) => message[..i].to_owned(),
        None => message,
    };
    Problem::new(
        Pos::new(e.line(), e.column()),
        "",
        ProblemKind::Syntax,
        format!("{message}; expected the GitHub releases API's JSON list"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_name_versions() {
        for (tag, expected) in [
            ("v1.2.3", Some("1.2.3")),
            ("1.2.3", Some("1.2.3")),
            ("V2.0.0-rc.1", Some("2.0.0-rc.1")),
            ("v1.2.3+build.5", Some("1.2.3+build.5")),
            ("v1.2", None),
            ("release-1.2.3", None),
            ("nightly", None),
        ] {
            assert_eq!(
                version_of_tag(tag).map(|v| v.to_string()).as_deref(),
                expected,
                "{tag}"
            );
        }
    }

    #[test]
    fn bodies_state_contracts_versions() {
        for (body, expected) in [
            ("contracts_version: 1.2.0", Some("1.2.0")),
            ("Notes\n\nContracts: v2.0.0\n", Some("2.0.0")),
            ("- **Contracts version:** `1.4.1`", Some("1.4.1")),
            ("* contracts: 3.0.0-beta.1 (see docs)", Some("3.0.0-beta.1")),
            ("Contracts: soon", None),
            ("Breaking contracts changes: 2.0.0", None),
            ("No contracts mentioned", None),
            ("", None),
        ] {
            assert_eq!(
                contracts_version_in(body).map(|v| v.to_string()).as_deref(),
                expected,
                "{body:?}"
            );
        }
    }

    #[test]
    fn link_headers_name_the_next_page() {
        for (header, expected) in [
            (
                r#"<https://api/x?page=2>; rel="next", <https://api/x?page=9>; rel="last""#,
                Some("https://api/x?page=2"),
            ),
            (
                r#"<https://api/x?page=1>; rel="prev", <https://api/x?page=3>; rel="next""#,
                Some("https://api/x?page=3"),
            ),
            (r#"<https://api/x?page=1>; rel="first""#, None),
            (
                "<https://api/x?page=2>; rel=next",
                Some("https://api/x?page=2"),
            ),
            ("garbage", None),
        ] {
            assert_eq!(next_link(header), expected, "{header}");
        }
    }

    #[test]
    fn commit_ids_are_full_hex_ids() {
        for (s, expected) in [
            ("0123456789abcdef0123456789abcdef01234567", true),
            ("main", false),
            ("cafe", false),
            ("0123456789abcdef0123456789abcdef0123456z", false),
        ] {
            assert_eq!(is_commit_id(s), expected, "{s}");
        }
    }
}
