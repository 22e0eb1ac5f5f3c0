//! crates.io: the sparse index (`sparse+URL/`), one JSON line per published version at the
//! crate's index path (`1/a`, `2/ab`, `3/a/abc`, `ab/cd/abcd…`).

use serde::Deserialize;

use super::{UpstreamVersion, invalid, semver_prerelease, sort_versions};
use crate::fetch::Client;
use crate::url::Url;
use crate::{Error, Options};

/// The crates.io sparse index.
pub const DEFAULT_CRATES_INDEX: &str = "sparse+https://index.crates.io/";

#[derive(Deserialize)]
struct Line {
    vers: String,
    #[serde(default)]
    yanked: bool,
    #[serde(default)]
    pubtime: Option<String>,
}

/// Every version of the crate `name` in the sparse index `index` (`sparse+https://…/`), yanked
/// ones left out.
pub fn crates_versions(
    index: &str,
    name: &str,
    opts: &Options,
) -> Result<Vec<UpstreamVersion>, Error> {
    let span = tracing::info_span!("crates_versions", name);
    let _entered = span.enter();
    let base = index.trim().strip_prefix("sparse+").unwrap_or(index.trim());
    let base = base.trim_end_matches('/');
    let path = index_path(name);
    let url = Url::parse(&format!("{base}/{path}"))?;
    let page = Client::new(opts).get(&url, "text/plain, application/json")?;
    let text = String::from_utf8(page.body)
        .map_err(|_| invalid("crates.io index file", &url, "it is not UTF-8".into()))?;
    let public = index.trim() == DEFAULT_CRATES_INDEX;
    let mut out = Vec::new();
    for (i, line) in text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
    {
        let entry: Line = serde_json::from_str(line).map_err(|e| {
            invalid(
                "crates.io index file",
                &url,
                format!("line {}: {e}; expected one JSON object per version", i + 1),
            )
        })?;
        if entry.yanked {
            continue;
        }
        out.push(UpstreamVersion {
            prerelease: semver_prerelease(&entry.vers),
            released_at: entry.pubtime,
            url: if public {
                format!("https://crates.io/crates/{name}/{}", entry.vers)
            } else {
                url.shown()
            },
            version: entry.vers,
        });
    }
    sort_versions(&mut out);
    Ok(out)
}

/// The index path of a crate, lower-case, as Cargo's registry index lays it out.
pub(crate) fn index_path(name: &str) -> String {
    let n = name.to_ascii_lowercase();
    match n.len() {
        0..=2 => format!("{}/{n}", n.len()),
        3 => format!("3/{}/{n}", &n[..1]),
        _ => format!("{}/{}/{n}", &n[..2], &n[2..4]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn index_paths() {
        for (name, path) in [
            ("a", "1/a"),
            ("ab", "2/ab"),
            ("abc", "3/a/abc"),
            ("Serde", "se/rd/serde"),
            ("tokio-util", "to/ki/tokio-util"),
        ] {
            assert_eq!(index_path(name), path);
        }
    }
}
