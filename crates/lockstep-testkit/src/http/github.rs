//! The GitHub-API-shaped repository the server can serve: paginated releases, assets and
//! downloads.

#[allow(unused_imports)]
use super::*;

/// A release as the GitHub-shaped mode serves it.
#[derive(Debug, Clone)]
pub struct GitHubRelease {
    tag: String,
    draft: bool,
    prerelease: bool,
    published_at: Option<String>,
    target_commitish: String,
    body: Option<String>,
    assets: Vec<(String, Vec<u8>)>,
}

impl GitHubRelease {
    /// A published, non-prerelease release of `tag` from `main`, with no body and no assets.
    pub fn new(tag: &str) -> Self {
        GitHubRelease {
            tag: tag.to_owned(),
            draft: false,
            prerelease: false,
            published_at: Some("2026-01-01T00:00:00Z".to_owned()),
            target_commitish: "main".to_owned(),
            body: None,
            assets: Vec::new(),
        }
    }

    /// Marks it as a draft (GitHub then has no `published_at`).
    pub fn draft(mut self) -> Self {
        self.draft = true;
        self.published_at = None;
        self
    }

    /// Sets the prerelease flag.
    pub fn prerelease(mut self) -> Self {
        self.prerelease = true;
        self
    }

    /// Sets `published_at`.
    pub fn published_at(mut self, time: &str) -> Self {
        self.published_at = Some(time.to_owned());
        self
    }

    /// Sets `target_commitish` (a branch name or a commit id).
    pub fn commitish(mut self, commitish: &str) -> Self {
        self.target_commitish = commitish.to_owned();
        self
    }

    /// Sets the release notes.
    pub fn body(mut self, body: &str) -> Self {
        self.body = Some(body.to_owned());
        self
    }

    /// Attaches an asset.
    pub fn asset(mut self, name: &str, bytes: impl Into<Vec<u8>>) -> Self {
        self.assets.push((name.to_owned(), bytes.into()));
        self
    }

    /// Attaches `release.json` with `value` as its content.
    pub fn release_json(self, value: &serde_json::Value) -> Self {
        self.asset("release.json", value.to_string())
    }
}

#[derive(Debug, Clone)]
pub(super) struct GitHubRepo {
    pub(super) per_page: usize,
    pub(super) releases: Vec<GitHubRelease>,
}

pub(super) fn github_route(
    state: &State,
    base: &str,
    url: &str,
    accept: Option<&str>,
) -> Option<Route> {
    let (path, query) = url.split_once('?').unwrap_or((url, ""));
    let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    match segments.as_slice() {
        ["repos", owner, repo, "releases"] => {
            let gh = state.github.get(&format!("{owner}/{repo}"))?;
            let page: usize = query
                .split('&')
                .find_map(|kv| kv.strip_prefix("page="))
                .and_then(|p| p.parse().ok())
                .unwrap_or(1)
                .max(1);
            Some(github_page(base, owner, repo, gh, page))
        }
        ["repos", owner, repo, "releases", "assets", id] => {
            let gh = state.github.get(&format!("{owner}/{repo}"))?;
            let id: usize = id.parse().ok()?;
            let (index, release) = gh
                .releases
                .iter()
                .enumerate()
                .find(|(i, r)| (asset_id(*i, 0)..asset_id(*i, r.assets.len())).contains(&id))?;
            let (name, bytes) = &release.assets[id - asset_id(index, 0)];
            if accept.is_some_and(|a| a.contains("application/octet-stream")) {
                Some(Route::redirect(&download_url(
                    base,
                    owner,
                    repo,
                    &release.tag,
                    name,
                )))
            } else {
                let value = asset_json(
                    base,
                    owner,
                    repo,
                    index,
                    release,
                    id - asset_id(index, 0),
                    bytes,
                );
                Some(Route::json(&value).etag(&etag_of(value.to_string().as_bytes())))
            }
        }
        [owner, repo, "releases", "download", tag, name] => {
            let gh = state.github.get(&format!("{owner}/{repo}"))?;
            let release = gh.releases.iter().find(|r| r.tag == *tag)?;
            let (_, bytes) = release.assets.iter().find(|(n, _)| n == name)?;
            Some(
                Route::ok(bytes.clone())
                    .header("Content-Type", "application/octet-stream")
                    .etag(&etag_of(bytes)),
            )
        }
        _ => None,
    }
}

pub(super) fn asset_id(release_index: usize, asset_index: usize) -> usize {
    (release_index + 1) * 1000 + asset_index
}

pub(super) fn download_url(base: &str, owner: &str, repo: &str, tag: &str, name: &str) -> String {
    format!("{base}/{owner}/{repo}/releases/download/{tag}/{name}")
}

pub(super) fn asset_json(
    base: &str,
    owner: &str,
    repo: &str,
    release_index: usize,
    release: &GitHubRelease,
    asset_index: usize,
    bytes: &[u8],
) -> serde_json::Value {
    let id = asset_id(release_index, asset_index);
    let name = &release.assets[asset_index].0;
    serde_json::json!({
        "id": id,
        "name": name,
        "label": null,
        "state": "uploaded",
        "content_type": "application/octet-stream",
        "size": bytes.len(),
        "download_count": 0,
        "created_at": "2026-01-01T00:00:00Z",
        "updated_at": "2026-01-01T00:00:00Z",
        "url": format!("{base}/repos/{owner}/{repo}/releases/assets/{id}"),
        "browser_download_url": download_url(base, owner, repo, &release.tag, name),
    })
}

pub(super) fn github_page(
    base: &str,
    owner: &str,
    repo: &str,
    gh: &GitHubRepo,
    page: usize,
) -> Route {
    let pages = gh.releases.len().div_ceil(gh.per_page).max(1);
    let start = (page - 1).saturating_mul(gh.per_page);
    let items: Vec<serde_json::Value> = gh
        .releases
        .iter()
        .enumerate()
        .skip(start)
        .take(gh.per_page)
        .map(|(i, r)| {
            let assets: Vec<_> = r
                .assets
                .iter()
                .enumerate()
                .map(|(j, (_, bytes))| asset_json(base, owner, repo, i, r, j, bytes))
                .collect();
            serde_json::json!({
                "id": i + 1,
                "url": format!("{base}/repos/{owner}/{repo}/releases/{}", i + 1),
                "html_url": format!("{base}/{owner}/{repo}/releases/tag/{}", r.tag),
                "tag_name": r.tag,
                "target_commitish": r.target_commitish,
                "name": r.tag,
                "draft": r.draft,
                "prerelease": r.prerelease,
                "created_at": "2026-01-01T00:00:00Z",
                "published_at": r.published_at,
                "body": r.body,
                "assets": assets,
            })
        })
        .collect();
    let body = serde_json::Value::Array(items).to_string();
    let link = |p: usize, rel: &str| {
        format!(
            "<{base}/repos/{owner}/{repo}/releases?per_page={}&page={p}>; rel=\"{rel}\"",
            gh.per_page
        )
    };
    let mut links = Vec::new();
    if page > 1 {
        links.push(link(page - 1, "prev"));
    }
    if page < pages {
        links.push(link(page + 1, "next"));
        links.push(link(pages, "last"));
    }
    if page > 1 {
        links.push(link(1, "first"));
    }
    let etag = etag_of(body.as_bytes());
    let mut route = Route::ok(body)
        .header("Content-Type", "application/json; charset=utf-8")
        .header("X-RateLimit-Limit", "5000")
        .header("X-RateLimit-Remaining", "4999")
        .etag(&etag);
    if !links.is_empty() {
        route = route.header("Link", &links.join(", "));
    }
    route
}
