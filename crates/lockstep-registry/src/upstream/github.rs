//! GitHub: the releases of a repository (drafts left out), or its tags when it has no
//! releases, through the REST API with `Link` pagination.

use serde::Deserialize;

use super::{UpstreamVersion, json_error, semver_prerelease, sort_versions};
use crate::fetch::Client;
use crate::source::github::next_link;
use crate::url::Url;
use crate::{Error, Options};

const GITHUB_JSON: &str = "application/vnd.github+json";
const MAX_PAGES: usize = 100;

#[derive(Deserialize)]
struct Release {
    tag_name: String,
    #[serde(default)]
    draft: bool,
    #[serde(default)]
    prerelease: bool,
    published_at: Option<String>,
    html_url: Option<String>,
}

#[derive(Deserialize)]
struct Tag {
    name: String,
}

/// Every release of `owner_repo` (`OWNER/REPO`) through the API at
/// [`Options::github_api`](crate::Options::github_api); a tag's leading `v` is dropped.
pub fn github_versions(owner_repo: &str, opts: &Options) -> Result<Vec<UpstreamVersion>, Error> {
    let span = tracing::info_span!("github_versions", repo = owner_repo);
    let _entered = span.enter();
    let (owner, repo) = owner_repo
        .split_once('/')
        .ok_or_else(|| Error::InvalidSpec {
            spec: format!("github:{owner_repo}"),
            reason: "the repository must be written OWNER/REPO".into(),
        })?;
    let api = opts.github_api.trim_end_matches('/');
    let client = Client::new(opts);
    let releases: Vec<Release> = pages(
        &client,
        &format!("{api}/repos/{owner}/{repo}/releases?per_page=100"),
        "GitHub releases page",
    )?;
    let mut out: Vec<UpstreamVersion> = if releases.is_empty() {
        let tags: Vec<Tag> = pages(
            &client,
            &format!("{api}/repos/{owner}/{repo}/tags?per_page=100"),
            "GitHub tags page",
        )?;
        tags.into_iter()
            .map(|t| {
                let version = strip_v(&t.name);
                UpstreamVersion {
                    prerelease: semver_prerelease(&version),
                    released_at: None,
                    url: format!("{api}/repos/{owner}/{repo}/git/ref/tags/{}", t.name),
                    version,
                }
            })
            .collect()
    } else {
        releases
            .into_iter()
            .filter(|r| !r.draft)
            .map(|r| {
                let version = strip_v(&r.tag_name);
                UpstreamVersion {
                    prerelease: r.prerelease || semver_prerelease(&version),
                    released_at: r.published_at,
                    url: r.html_url.unwrap_or_else(|| {
                        format!("{api}/repos/{owner}/{repo}/releases/tags/{}", r.tag_name)
                    }),
                    version,
                }
            })
            .collect()
    };
    sort_versions(&mut out);
    Ok(out)
}

fn pages<T: for<'de> Deserialize<'de>>(
    client: &Client,
    first: &str,
    what: &str,
) -> Result<Vec<T>, Error> {
    let mut url = Url::parse(first)?;
    let mut items = Vec::new();
    for _ in 0..MAX_PAGES {
        let page = client.get(&url, GITHUB_JSON)?;
        let mut batch: Vec<T> =
            serde_json::from_slice(&page.body).map_err(|e| json_error(what, &url, &e))?;
        items.append(&mut batch);
        match page.link.as_deref().and_then(next_link) {
            Some(next) => url = url.join(next)?,
            None => return Ok(items),
        }
    }
    Ok(items)
}

/// `v1.2.3` → `1.2.3`; a tag that does not continue with a digit keeps its `v`.
fn strip_v(tag: &str) -> String {
    match tag.strip_prefix(['v', 'V']) {
        Some(rest) if rest.starts_with(|c: char| c.is_ascii_digit()) => rest.to_owned(),
        _ => tag.to_owned(),
    }
}
