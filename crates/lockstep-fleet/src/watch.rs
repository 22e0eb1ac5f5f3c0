//! Upstream version watchers: `watch add|remove|list|check`.
//!
//! A source is `npm:NAME` (scoped names too), `pypi:NAME`, `crates:NAME` or
//! `github:OWNER/REPO`, stored exactly as given. `check` fetches every source through
//! `lockstep-registry` (ETag cache under `HOME/cache`, pagination, rate limits, timeouts, body
//! caps, loopback-only `http://`) and records each version not seen before in one transaction,
//! so concurrent checks never record a version twice and each new version is reported by
//! exactly one of them. The first check of a source reports every version as new.

use std::time::SystemTime;

use lockstep_registry::{Options, UpstreamBases, UpstreamVersion};
use lockstep_store::fleet as db;
use serde::Serialize;

use crate::Error;
use crate::events::{DeliveryReport, Event, Notifier};
use crate::home::{Fleet, Home, now_text};

/// The kinds of upstream source.
pub const KINDS: &[&str] = &["npm", "pypi", "crates", "github"];

/// A parsed source.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Source {
    /// As given.
    pub source: String,
    /// `npm`, `pypi`, `crates` or `github`.
    pub kind: String,
    /// The package name or `OWNER/REPO`.
    pub name: String,
}

impl Source {
    /// Parses `npm:NAME`, `pypi:NAME`, `crates:NAME` or `github:OWNER/REPO`.
    pub fn parse(spec: &str) -> Result<Source, Error> {
        let expected = "npm:NAME (or npm:@scope/NAME), pypi:NAME, crates:NAME or github:OWNER/REPO";
        let bad = || Error::invalid("source", spec, expected);
        let (kind, name) = spec.split_once(':').ok_or_else(bad)?;
        let plain = |s: &str| {
            !s.is_empty()
                && s.len() <= 214
                && s.chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
                && !matches!(s, "." | "..")
        };
        let ok = match kind {
            "npm" => match name.strip_prefix('@') {
                Some(scoped) => scoped
                    .split_once('/')
                    .is_some_and(|(s, n)| plain(s) && plain(n)),
                None => plain(name),
            },
            "pypi" | "crates" => plain(name),
            "github" => name
                .split_once('/')
                .is_some_and(|(o, r)| plain(o) && plain(r)),
            _ => false,
        };
        if !ok {
            return Err(bad());
        }
        Ok(Source {
            source: spec.to_owned(),
            kind: kind.to_owned(),
            name: name.to_owned(),
        })
    }

    /// Every version upstream lists.
    pub fn fetch(
        &self,
        bases: &UpstreamBases,
        opts: &Options,
    ) -> Result<Vec<UpstreamVersion>, lockstep_registry::Error> {
        match self.kind.as_str() {
            "npm" => lockstep_registry::npm_versions(&bases.npm, &self.name, opts),
            "pypi" => lockstep_registry::pypi_versions(&bases.pypi, &self.name, opts),
            "crates" => lockstep_registry::crates_versions(&bases.crates_index, &self.name, opts),
            _ => lockstep_registry::github_versions(&self.name, opts),
        }
    }
}

/// What `watch add` did.
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct Added {
    /// The source.
    pub source: String,
    /// Its kind.
    pub kind: String,
    /// Its name.
    pub name: String,
    /// `false` when it was already watched.
    pub added: bool,
}

/// `watch add SOURCE`.
pub fn add(fleet: &Fleet, spec: &str, now: SystemTime) -> Result<Added, Error> {
    let s = Source::parse(spec)?;
    let added = db::add_watch(
        fleet.store.conn(),
        &s.source,
        &s.kind,
        &s.name,
        &now_text(now),
    )?;
    Ok(Added {
        source: s.source,
        kind: s.kind,
        name: s.name,
        added,
    })
}

/// `watch remove SOURCE`: whether it was watched.
pub fn remove(fleet: &Fleet, spec: &str) -> Result<bool, Error> {
    Ok(db::remove_watch(fleet.store.conn(), spec)?)
}

/// One line of `watch list`.
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct Watched {
    /// The source.
    pub source: String,
    /// The newest version seen (SemVer precedence where it applies; else the last recorded).
    pub latest: Option<String>,
    /// Versions seen.
    pub versions: usize,
    /// When it was last checked.
    pub last_checked_at: Option<String>,
    /// `ok` or `error`.
    pub last_status: Option<String>,
    /// The last error.
    pub last_error: Option<String>,
}

/// `watch list`.
pub fn list(fleet: &Fleet) -> Result<Vec<Watched>, Error> {
    let conn = fleet.store.conn();
    db::watches(conn)?
        .into_iter()
        .map(|w| {
            let seen = db::versions(conn, &w.source)?;
            Ok(Watched {
                latest: latest(seen.iter().map(|v| v.version.as_str())),
                versions: seen.len(),
                source: w.source,
                last_checked_at: w.last_checked_at,
                last_status: w.last_status,
                last_error: w.last_error,
            })
        })
        .collect()
}

/// The newest of `versions`: highest SemVer precedence, or the last one when none is SemVer.
fn latest<'a>(versions: impl Iterator<Item = &'a str>) -> Option<String> {
    let all: Vec<&str> = versions.collect();
    all.iter()
        .filter_map(|v| semver::Version::parse(v).ok().map(|p| (p, *v)))
        .max_by(|a, b| a.0.cmp_precedence(&b.0))
        .map(|(_, v)| v.to_owned())
        .or_else(|| all.last().map(|v| (*v).to_owned()))
}

/// Options of `watch check`.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct CheckOptions {
    /// Registry bases.
    pub bases: UpstreamBases,
    /// Fetch settings (timeouts, cache, GitHub API and token).
    pub registry: Options,
    /// Send `new_version` events.
    pub notify: bool,
    /// The clock.
    pub now: SystemTime,
}

impl CheckOptions {
    /// Bases and GitHub settings from the environment, the cache under `HOME/cache`, a body cap
    /// of 64 MiB (npm documents of popular packages are large).
    pub fn from_env(home: &Home) -> Self {
        let mut registry = Options::from_env().with_cache_dir(home.cache_dir());
        registry.max_body_bytes = 64 * 1024 * 1024;
        CheckOptions {
            bases: UpstreamBases::from_lookup(|v| std::env::var(v).ok()),
            registry,
            notify: false,
            now: SystemTime::now(),
        }
    }
}

/// A version seen for the first time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct NewVersion {
    /// The source, as given to `watch add`.
    pub source: String,
    /// The version.
    pub version: String,
    /// Whether it is a pre-release.
    pub prerelease: bool,
    /// When upstream published it.
    pub released_at: Option<String>,
    /// Where it was seen.
    pub url: String,
}

/// One source's check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct SourceStatus {
    /// The source.
    pub source: String,
    /// The newest version upstream lists (after this check).
    pub latest: Option<String>,
    /// `ok` or `error`.
    pub status: &'static str,
    /// Why it failed.
    pub error: Option<String>,
}

/// What `watch check` found.
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct CheckOutcome {
    /// Versions recorded for the first time, by source.
    pub new: Vec<NewVersion>,
    /// Every source's status, by source.
    pub sources: Vec<SourceStatus>,
    /// Webhook deliveries (with `notify`).
    pub notifications: Vec<DeliveryReport>,
}

/// `watch check`: fetches every source (in parallel) and records what is new.
pub fn check(
    fleet: &mut Fleet,
    notifier: &Notifier,
    opts: &CheckOptions,
) -> Result<CheckOutcome, Error> {
    let watches = db::watches(fleet.store.conn())?;
    let fetched: Vec<(Source, Result<Vec<UpstreamVersion>, String>)> =
        std::thread::scope(|scope| {
            let handles: Vec<_> = watches
                .iter()
                .map(|w| {
                    scope.spawn(move || {
                        let source = Source {
                            source: w.source.clone(),
                            kind: w.kind.clone(),
                            name: w.name.clone(),
                        };
                        let result = source
                            .fetch(&opts.bases, &opts.registry)
                            .map_err(|e| e.to_string());
                        (source, result)
                    })
                })
                .collect();
            handles
                .into_iter()
                .zip(&watches)
                .map(|(h, w)| {
                    h.join().unwrap_or_else(|_| {
                        (
                            Source {
                                source: w.source.clone(),
                                kind: w.kind.clone(),
                                name: w.name.clone(),
                            },
                            Err("the fetch panicked".to_owned()),
                        )
                    })
                })
                .collect()
        });
    let now = now_text(opts.now);
    let mut outcome = CheckOutcome {
        new: Vec::new(),
        sources: Vec::new(),
        notifications: Vec::new(),
    };
    for (source, result) in fetched {
        match result {
            Ok(versions) => {
                let rows: Vec<db::SeenVersion> = versions
                    .iter()
                    .map(|v| {
                        db::SeenVersion::new(
                            &source.source,
                            &v.version,
                            v.prerelease,
                            v.released_at.clone(),
                            &v.url,
                            &now,
                        )
                    })
                    .collect();
                let recorded = db::record_versions(fleet.store.conn_mut(), &rows)?;
                db::record_check(fleet.store.conn(), &source.source, &now, None)?;
                outcome.new.extend(recorded.into_iter().map(|v| NewVersion {
                    source: v.source,
                    version: v.version,
                    prerelease: v.prerelease,
                    released_at: v.released_at,
                    url: v.url,
                }));
                outcome.sources.push(SourceStatus {
                    latest: latest(
                        versions
                            .iter()
                            .filter(|v| !v.prerelease)
                            .map(|v| v.version.as_str()),
                    )
                    .or_else(|| latest(versions.iter().map(|v| v.version.as_str()))),
                    source: source.source,
                    status: "ok",
                    error: None,
                });
            }
            Err(error) => {
                db::record_check(fleet.store.conn(), &source.source, &now, Some(&error))?;
                outcome.sources.push(SourceStatus {
                    source: source.source,
                    latest: None,
                    status: "error",
                    error: Some(error),
                });
            }
        }
    }
    if opts.notify {
        for n in &outcome.new {
            let event = Event::new(
                "new_version",
                &n.source,
                &n.version,
                "untested",
                format!(
                    "{} {} was published{}{}",
                    n.source,
                    n.version,
                    if n.prerelease { " (pre-release)" } else { "" },
                    n.released_at.as_ref().map(|t| format!(" at {t}")).unwrap_or_default()
                ),
                "nothing changed yet: test it with `lockstep lab run NAME@VERSION --canaries lab.toml`",
            )
            .with("url", n.url.as_str())
            .with("prerelease", n.prerelease);
            outcome.notifications.extend(notifier.send(fleet, &event));
        }
    }
    Ok(outcome)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sources_parse_or_say_what_is_accepted() {
        for (spec, ok) in [
            ("npm:left-pad", true),
            ("npm:@google/gemini-cli", true),
            ("pypi:black", true),
            ("crates:serde_json", true),
            ("github:actions/runner", true),
            ("npm:@scope", false),
            ("github:actions", false),
            ("docker:nginx", false),
            ("npm:", false),
            ("left-pad", false),
            ("pypi:../x", false),
        ] {
            assert_eq!(Source::parse(spec).is_ok(), ok, "{spec}");
        }
    }

    #[test]
    fn latest_prefers_semver_precedence() {
        assert_eq!(
            latest(["1.2.0", "1.10.0", "1.9.0"].into_iter()).as_deref(),
            Some("1.10.0")
        );
        assert_eq!(latest(["b", "a"].into_iter()).as_deref(), Some("a"));
        assert_eq!(latest(std::iter::empty()), None);
    }
}
