//! PyPI: the JSON API (`GET /pypi/NAME/json`), whose `releases` maps each version to its
//! files with their upload times.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::{UpstreamVersion, json_error, root};
use crate::fetch::Client;
use crate::url::Url;
use crate::{Error, Options};

/// The public PyPI.
pub const DEFAULT_PYPI_URL: &str = "https://pypi.org";

#[derive(Deserialize)]
struct Project {
    #[serde(default)]
    releases: BTreeMap<String, Vec<File>>,
}

#[derive(Deserialize)]
struct File {
    #[serde(default)]
    upload_time_iso_8601: Option<String>,
    #[serde(default)]
    yanked: bool,
}

/// Every version of the PyPI project `name` at `base` (yanked ones left out), in the order
/// PEP 440 would sort the simple `X.Y.Z` forms (others after them).
pub fn pypi_versions(
    base: &str,
    name: &str,
    opts: &Options,
) -> Result<Vec<UpstreamVersion>, Error> {
    let span = tracing::info_span!("pypi_versions", name);
    let _entered = span.enter();
    let base = root(base)?;
    let url = Url::parse(&format!("{base}/pypi/{name}/json"))?;
    let page = Client::new(opts).get(&url, "application/json")?;
    let project: Project = serde_json::from_slice(&page.body)
        .map_err(|e| json_error("PyPI project JSON", &url, &e))?;
    let mut out: Vec<(Vec<u64>, UpstreamVersion)> = project
        .releases
        .into_iter()
        .filter(|(_, files)| files.is_empty() || files.iter().any(|f| !f.yanked))
        .map(|(version, files)| {
            let released_at = files
                .iter()
                .filter_map(|f| f.upload_time_iso_8601.clone())
                .min();
            (
                release_numbers(&version),
                UpstreamVersion {
                    prerelease: pep440_prerelease(&version),
                    released_at,
                    url: format!("{base}/project/{name}/{version}/"),
                    version,
                },
            )
        })
        .collect();
    // Release numbers first; a pre-release before its final release.
    out.sort_by(|(a, va), (b, vb)| a.cmp(b).then(vb.prerelease.cmp(&va.prerelease)));
    Ok(out.into_iter().map(|(_, v)| v).collect())
}

/// The leading release numbers of a PEP 440 version (`1.10.0rc1` → `[1, 10, 0]`).
fn release_numbers(version: &str) -> Vec<u64> {
    let mut out = Vec::new();
    for part in version.trim_start_matches(['v', 'V']).split('.') {
        let digits: String = part.chars().take_while(char::is_ascii_digit).collect();
        match digits.parse() {
            Ok(n) => out.push(n),
            Err(_) => break,
        }
        if digits.len() != part.len() {
            break;
        }
    }
    out
}

/// PEP 440: a version with `a`, `b`, `rc` (and spellings such as `alpha`, `c`, `pre`) or `dev`
/// is a pre-release; `post` releases and local labels (`+…`) are not.
fn pep440_prerelease(version: &str) -> bool {
    let public = version
        .split('+')
        .next()
        .unwrap_or(version)
        .to_ascii_lowercase();
    let public = public.trim_start_matches('v').replace("post", "");
    public.chars().any(|c| c.is_ascii_alphabetic())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pep440_prereleases() {
        for (v, pre) in [
            ("1.0.0", false),
            ("1.0.0a1", true),
            ("1.0.0b2", true),
            ("1.0.0rc1", true),
            ("1.0.0.dev3", true),
            ("1.0.0.post1", false),
            ("1.0.0+local", false),
            ("2.0", false),
        ] {
            assert_eq!(pep440_prerelease(v), pre, "{v}");
        }
        assert_eq!(release_numbers("1.10.0rc1"), [1, 10, 0]);
    }
}
