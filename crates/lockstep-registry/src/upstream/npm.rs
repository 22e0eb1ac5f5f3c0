//! npm: the package document (`GET /NAME`, scoped names as `@scope%2fname`), whose `versions`
//! lists every version and `time` when each was published.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::{UpstreamVersion, json_error, root, semver_prerelease, sort_versions};
use crate::fetch::Client;
use crate::url::Url;
use crate::{Error, Options};

/// The public npm registry.
pub const DEFAULT_NPM_REGISTRY: &str = "https://registry.npmjs.org";

#[derive(Deserialize)]
struct Document {
    #[serde(default)]
    versions: BTreeMap<String, serde::de::IgnoredAny>,
    #[serde(default)]
    time: BTreeMap<String, String>,
}

/// Every version of the npm package `name` (`pkg` or `@scope/pkg`) on the registry at `base`.
pub fn npm_versions(base: &str, name: &str, opts: &Options) -> Result<Vec<UpstreamVersion>, Error> {
    let span = tracing::info_span!("npm_versions", name);
    let _entered = span.enter();
    let base = root(base)?;
    let encoded = name.replacen('/', "%2f", 1);
    let url = Url::parse(&format!("{base}/{encoded}"))?;
    let page = Client::new(opts).get(&url, "application/json")?;
    let doc: Document = serde_json::from_slice(&page.body)
        .map_err(|e| json_error("npm package document", &url, &e))?;
    let mut out: Vec<UpstreamVersion> = doc
        .versions
        .into_keys()
        .map(|version| UpstreamVersion {
            prerelease: semver_prerelease(&version),
            released_at: doc.time.get(&version).cloned(),
            url: format!("{base}/{encoded}/{version}"),
            version,
        })
        .collect();
    sort_versions(&mut out);
    Ok(out)
}
