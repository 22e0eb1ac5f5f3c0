//! How sources fetch: cache, GitHub API base and token, timeouts, size cap, user agent.

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

/// The public GitHub API, used when `LOCKSTEP_GITHUB_API` is not set.
pub const DEFAULT_GITHUB_API: &str = "https://api.github.com";
/// Default connect timeout.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// Default total timeout of one fetch (redirects and body included).
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);
/// Default stall window: a fetch must bring [`DEFAULT_STALL_BYTES`] in every such window.
pub const DEFAULT_STALL_WINDOW: Duration = Duration::from_secs(15);
/// Default bytes per stall window (1 KiB: a server dripping a byte every two seconds fails
/// after one window, 15 s, instead of at the 60 s total timeout).
pub const DEFAULT_STALL_BYTES: u64 = 1024;

/// Settings every source shares. Build with [`Options::default`] (no environment) or
/// [`Options::from_env`], then adjust the fields.
///
/// `Debug` never shows the token.
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Options {
    /// Where conditional-request caches live (`.lockstep/cache` under the repository root);
    /// `None` fetches everything every time.
    pub cache_dir: Option<PathBuf>,
    /// The GitHub API base URL, such as `https://api.github.com` or
    /// `https://github.example.com/api/v3`.
    pub github_api: String,
    /// The GitHub token, sent as `Authorization: Bearer …` to the API host only.
    pub github_token: Option<String>,
    /// How long establishing a connection (DNS, TCP, TLS) may take.
    pub connect_timeout: Duration,
    /// How long one fetch may take in total, redirects and body included.
    pub timeout: Duration,
    /// A fetch that brings fewer than [`Options::stall_bytes`] in any window this long is
    /// given up as stalled (a server that stops sending, or drips); zero turns the watch off.
    pub stall_window: Duration,
    /// The bytes a fetch must bring per [`Options::stall_window`].
    pub stall_bytes: u64,
    /// The largest body accepted, in bytes (for indexes, API pages and metadata; an artifact's
    /// cap is its stated size).
    pub max_body_bytes: u64,
    /// The `User-Agent` header.
    pub user_agent: String,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            cache_dir: None,
            github_api: DEFAULT_GITHUB_API.to_owned(),
            github_token: None,
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            timeout: DEFAULT_TIMEOUT,
            stall_window: DEFAULT_STALL_WINDOW,
            stall_bytes: DEFAULT_STALL_BYTES,
            max_body_bytes: lockstep_manifest::MAX_INDEX_BYTES as u64,
            user_agent: format!("lockstep/{}", env!("CARGO_PKG_VERSION")),
        }
    }
}

impl Options {
    /// Defaults, with the GitHub API base from `LOCKSTEP_GITHUB_API` and the token from
    /// `GITHUB_TOKEN` (empty values count as unset).
    pub fn from_env() -> Self {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Like [`Options::from_env`], reading variables through `lookup` (for tests and embedders
    /// with their own configuration).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Self {
        let set = |name| lookup(name).filter(|v: &String| !v.trim().is_empty());
        let mut opts = Options::default();
        if let Some(api) = set("LOCKSTEP_GITHUB_API") {
            opts.github_api = api.trim().to_owned();
        }
        opts.github_token = set("GITHUB_TOKEN").map(|t| t.trim().to_owned());
        opts
    }

    /// The same options with `cache_dir` set.
    pub fn with_cache_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.cache_dir = Some(dir.into());
        self
    }
}

impl fmt::Debug for Options {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Options")
            .field("cache_dir", &self.cache_dir)
            .field("github_api", &self.github_api)
            .field(
                "github_token",
                &self.github_token.as_ref().map(|_| "<redacted>"),
            )
            .field("connect_timeout", &self.connect_timeout)
            .field("timeout", &self.timeout)
            .field("stall_window", &self.stall_window)
            .field("stall_bytes", &self.stall_bytes)
            .field("max_body_bytes", &self.max_body_bytes)
            .field("user_agent", &self.user_agent)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn environment_is_read_through_lookup() {
        let check = |vars: &[(&str, &str)], api: &str, token: Option<&str>| {
            let opts = Options::from_lookup(|name| {
                vars.iter()
                    .find(|(n, _)| *n == name)
                    .map(|(_, v)| (*v).to_owned())
            });
            assert_eq!(opts.github_api, api, "{vars:?}");
            assert_eq!(opts.github_token.as_deref(), token, "{vars:?}");
        };
        check(&[], DEFAULT_GITHUB_API, None);
        check(&[("GITHUB_TOKEN", "")], DEFAULT_GITHUB_API, None);
        check(
            &[
                ("LOCKSTEP_GITHUB_API", "http://127.0.0.1:9"),
                ("GITHUB_TOKEN", "t0k\n"),
            ],
            "http://127.0.0.1:9",
            Some("t0k"),
        );
    }

    #[test]
    fn debug_hides_the_token() {
        let opts = Options {
            github_token: Some("ghp_secret".into()),
            ..Options::default()
        };
        let shown = format!("{opts:?}");
        assert!(!shown.contains("ghp_secret"), "{shown}");
        assert!(shown.contains("<redacted>"));
    }
}
