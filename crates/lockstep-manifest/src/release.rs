//! The release index (`releases.json`) and per-release metadata (`release.json`).

use std::cmp::Ordering;

use semver::Version;
use serde::Serialize;

use crate::node::{Node, Seg, Value, parse_json};
use crate::problem::{Invalid, Pos, ProblemKind};
use crate::reader::Reader;
use crate::version::Channel;

/// Largest release index accepted, in bytes (a 10,000-release index is a few MiB).
pub const MAX_INDEX_BYTES: usize = 64 * 1024 * 1024;
/// Largest single `release.json` accepted, in bytes.
pub const MAX_RELEASE_BYTES: usize = 1024 * 1024;

/// The release index: every published core release.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct ReleaseIndex {
    /// Format version; `1`.
    pub schema: u32,
    /// Releases, in SemVer precedence order (lowest first) after parsing.
    pub releases: Vec<Release>,
}

/// One core release and what a vertical needs to know about it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Release {
    /// The core version.
    pub version: Version,
    /// The channel it was published on.
    pub channel: Channel,
    /// The contracts version it implements; `None` when the source did not say (a GitHub release
    /// described only by its tag).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub contracts_version: Option<Version>,
    /// RFC 3339 publication time.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub released_at: Option<String>,
    /// The commit released, as hex.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub commit: Option<String>,
    /// Capabilities the release offers.
    pub capabilities: Vec<String>,
    /// Capabilities still offered but announced for removal.
    pub deprecated_capabilities: Vec<String>,
    /// What changed.
    pub changelog: Changelog,
    /// Free-text migration notes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub migration_notes: Option<String>,
    /// Where the migration guide lives.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub migration_guide_url: Option<String>,
    /// Downloadable artifacts with their checksums.
    pub artifacts: Vec<Artifact>,
}

impl Release {
    /// A release with only a version and channel, every other field empty.
    pub fn new(version: Version, channel: Channel) -> Self {
        Release {
            version,
            channel,
            contracts_version: None,
            released_at: None,
            commit: None,
            capabilities: Vec::new(),
            deprecated_capabilities: Vec::new(),
            changelog: Changelog::default(),
            migration_notes: None,
            migration_guide_url: None,
            artifacts: Vec::new(),
        }
    }

    /// Parses one release object (a GitHub release's `release.json` asset).
    pub fn parse_json(text: &str) -> Result<Self, Invalid> {
        let doc = "release metadata";
        let root = parse_json(text, MAX_RELEASE_BYTES).map_err(|p| Invalid::new(doc, vec![p]))?;
        let mut r = Reader::new();
        let release = read_release(&mut r, &root);
        match release {
            Some(rel) if !r.has_problems() => Ok(rel),
            _ => Err(Invalid::new(doc, r.finish(Some(text)))),
        }
    }

    /// Serialises the release to the JSON object of the release index format.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::to_value(self).expect("a release always serialises")
    }
}

/// The `changelog` object.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
#[non_exhaustive]
pub struct Changelog {
    /// Breaking changes.
    pub breaking: Vec<String>,
    /// New features.
    pub features: Vec<String>,
    /// Fixes.
    pub fixes: Vec<String>,
}

/// A downloadable file of a release.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Artifact {
    /// File name.
    pub name: String,
    /// Where to download it.
    pub url: String,
    /// Lowercase hex sha256 of its bytes.
    pub sha256: String,
    /// Size in bytes.
    pub size: u64,
}

impl Artifact {
    /// Builds an artifact description.
    pub fn new(name: String, url: String, sha256: String, size: u64) -> Self {
        Artifact {
            name,
            url,
            sha256,
            size,
        }
    }
}

pub(crate) const INDEX: &[&str] = &["schema", "releases"];
pub(crate) const RELEASE: &[&str] = &[
    "version",
    "channel",
    "contracts_version",
    "released_at",
    "commit",
    "capabilities",
    "deprecated_capabilities",
    "changelog",
    "migration_notes",
    "migration_guide_url",
    "artifacts",
];
pub(crate) const RELEASE_REQUIRED: &[&str] = &["version", "channel", "contracts_version"];
pub(crate) const CHANGELOG: &[&str] = &["breaking", "features", "fixes"];
pub(crate) const ARTIFACT: &[&str] = &["name", "url", "sha256", "size"];

impl ReleaseIndex {
    /// Parses and validates a release index from JSON text, reporting every problem found.
    /// Releases come back sorted by SemVer precedence, lowest first; two releases with the same
    /// version (build metadata ignored) are a problem.
    ///
    /// ```
    /// let text = r#"{"schema": 1, "releases": [
    ///   {"version": "1.1.0", "channel": "stable", "contracts_version": "1.0.0"},
    ///   {"version": "1.0.0", "channel": "lts", "contracts_version": "1.0.0"}
    /// ]}"#;
    /// let index = lockstep_manifest::ReleaseIndex::parse(text).unwrap();
    /// assert_eq!(index.releases[0].version.to_string(), "1.0.0");
    /// ```
    pub fn parse(text: &str) -> Result<Self, Invalid> {
        let doc = "release index";
        let root = parse_json(text, MAX_INDEX_BYTES).map_err(|p| Invalid::new(doc, vec![p]))?;
        let mut r = Reader::new();
        let index = read_index(&mut r, &root);
        match index {
            Some(i) if !r.has_problems() => Ok(i),
            _ => Err(Invalid::new(doc, r.finish(Some(text)))),
        }
    }

    /// Builds an index from releases, sorting them by precedence.
    pub fn new(mut releases: Vec<Release>) -> Self {
        releases.sort_by(|a, b| a.version.cmp_precedence(&b.version));
        ReleaseIndex {
            schema: 1,
            releases,
        }
    }

    /// Serialises the index to its JSON format.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("an index always serialises")
    }
}

fn read_index(r: &mut Reader, root: &Node) -> Option<ReleaseIndex> {
    let f = r.fields(root, INDEX)?;
    let schema = r
        .required(&f, "schema", "the format version, 1")
        .and_then(|n| r.key("schema", |r| r.integer(n, "the format version", 1, 1)))
        .map(|v| v as u32);
    let list = r.required(&f, "releases", "a list of releases")?;
    let Value::Seq(items) = &list.value else {
        r.key("releases", |r| {
            r.report(
                list.pos,
                ProblemKind::Type,
                format!(
                    "expected a list of releases, found {}",
                    list.value.type_name()
                ),
            )
        });
        return None;
    };
    let mut releases = Vec::with_capacity(items.len());
    r.key("releases", |r| {
        for (i, item) in items.iter().enumerate() {
            if let Some(rel) = r.at(Seg::Index(i), |r| read_release(r, item)) {
                releases.push((i, rel));
            }
        }
    });
    releases.sort_by(|a, b| a.1.version.cmp_precedence(&b.1.version).then(a.0.cmp(&b.0)));
    for pair in releases.windows(2) {
        let (first, dup) = (&pair[0], &pair[1]);
        if first.1.version.cmp_precedence(&dup.1.version) == Ordering::Equal {
            r.key("releases", |r| {
                r.at(Seg::Index(dup.0), |r| {
                    r.key("version", |r| {
                        r.report(
                            Pos::UNKNOWN,
                            ProblemKind::Duplicate,
                            format!(
                                "version {} is already listed at releases[{}]; each version may be released once",
                                dup.1.version, first.0
                            ),
                        )
                    })
                })
            });
        }
    }
    Some(ReleaseIndex {
        schema: schema?,
        releases: releases.into_iter().map(|(_, r)| r).collect(),
    })
}

fn read_release(r: &mut Reader, n: &Node) -> Option<Release> {
    let f = r.fields(n, RELEASE)?;
    let version = r
        .required(&f, "version", "the core version")
        .and_then(|n| r.key("version", |r| r.semver(n, "a SemVer version")));
    let channel = r
        .required(&f, "channel", "stable, beta, lts or canary")
        .and_then(|n| r.key("channel", |r| r.choice(n, &Channel::CHOICES)));
    let contracts_version = r
        .required(&f, "contracts_version", "the contracts version")
        .and_then(|n| r.key("contracts_version", |r| r.semver(n, "a SemVer version")));
    let released_at = r.key("released_at", |r| {
        let node = f.get("released_at")?;
        let s = r.optional_string(Some(node), "an RFC 3339 time")?;
        if is_rfc3339(&s) {
            Some(s)
        } else {
            r.report(
                node.pos,
                ProblemKind::Value,
                format!("\"{s}\" is not an RFC 3339 time; expected such as 2026-02-19T18:30:00Z"),
            );
            None
        }
    });
    let commit = r.key("commit", |r| {
        let node = f.get("commit")?;
        let s = r.optional_string(Some(node), "a hex commit id")?;
        if (4..=64).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_hexdigit()) {
            Some(s.to_ascii_lowercase())
        } else {
            r.report(
                node.pos,
                ProblemKind::Value,
                format!("\"{s}\" is not a commit id; expected 4 to 64 hex digits"),
            );
            None
        }
    });
    let capabilities = r.key("capabilities", |r| {
        r.string_list(f.get("capabilities"), "capability names")
    });
    let deprecated_capabilities = r.key("deprecated_capabilities", |r| {
        r.string_list(f.get("deprecated_capabilities"), "capability names")
    });
    // `?` on the optional objects comes last, so a bad changelog does not hide later problems.
    let changelog = match f.get("changelog") {
        None => Some(Changelog::default()),
        Some(n) if n.value == Value::Null => Some(Changelog::default()),
        Some(n) => r.key("changelog", |r| {
            let c = r.fields(n, CHANGELOG)?;
            Some(Changelog {
                breaking: r.key("breaking", |r| r.string_list(c.get("breaking"), "entries")),
                features: r.key("features", |r| r.string_list(c.get("features"), "entries")),
                fixes: r.key("fixes", |r| r.string_list(c.get("fixes"), "entries")),
            })
        }),
    };
    let migration_notes = r.key("migration_notes", |r| {
        r.optional_string(f.get("migration_notes"), "text")
    });
    let migration_guide_url = r.key("migration_guide_url", |r| {
        r.optional_string(f.get("migration_guide_url"), "a URL")
    });
    let artifacts = match f.get("artifacts") {
        None => Some(Vec::new()),
        Some(n) => r.key("artifacts", |r| read_artifacts(r, n)),
    };
    Some(Release {
        version: version?,
        channel: channel?,
        contracts_version: Some(contracts_version?),
        released_at,
        commit,
        capabilities,
        deprecated_capabilities,
        changelog: changelog?,
        migration_notes,
        migration_guide_url,
        artifacts: artifacts?,
    })
}

fn read_artifacts(r: &mut Reader, n: &Node) -> Option<Vec<Artifact>> {
    let Value::Seq(items) = &n.value else {
        r.report(
            n.pos,
            ProblemKind::Type,
            format!(
                "expected a list of artifacts, found {}",
                n.value.type_name()
            ),
        );
        return None;
    };
    let mut out = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        r.at(Seg::Index(i), |r| {
            let f = r.fields(item, ARTIFACT)?;
            let name = r
                .required(&f, "name", "the file name")
                .and_then(|n| r.key("name", |r| r.string(n, "a file name")));
            let url = r
                .required(&f, "url", "where to download it")
                .and_then(|n| r.key("url", |r| r.string(n, "a URL")));
            let sha256 = r
                .required(&f, "sha256", "the sha256 of the file")
                .and_then(|n| {
                    r.key("sha256", |r| {
                        let s = r.string(n, "64 hex digits")?;
                        if s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit()) {
                            Some(s.to_ascii_lowercase())
                        } else {
                            r.report(
                                n.pos,
                                ProblemKind::Value,
                                format!("\"{s}\" is not a sha256; expected 64 hex digits"),
                            );
                            None
                        }
                    })
                });
            let size = r
                .required(&f, "size", "the size in bytes")
                .and_then(|n| {
                    r.key("size", |r| {
                        r.integer(n, "a size in bytes", 0, i128::from(u64::MAX))
                    })
                })
                .map(|s| s as u64);
            out.push(Artifact {
                name: name?,
                url: url?,
                sha256: sha256?,
                size: size?,
            });
            Some(())
        });
    }
    Some(out)
}

/// RFC 3339 date-time: `YYYY-MM-DDTHH:MM:SS[.frac](Z|±HH:MM)`, with calendar checks.
pub fn is_rfc3339(s: &str) -> bool {
    let b = s.as_bytes();
    if b.len() < 20 {
        return false;
    }
    let digits = |r: std::ops::Range<usize>| -> Option<u32> {
        let part = s.get(r)?;
        if part.bytes().all(|c| c.is_ascii_digit()) {
            part.parse().ok()
        } else {
            None
        }
    };
    let (Some(year), Some(month), Some(day), Some(hour), Some(min), Some(sec)) = (
        digits(0..4),
        digits(5..7),
        digits(8..10),
        digits(11..13),
        digits(14..16),
        digits(17..19),
    ) else {
        return false;
    };
    if b[4] != b'-'
        || b[7] != b'-'
        || !matches!(b[10], b'T' | b't' | b' ')
        || b[13] != b':'
        || b[16] != b':'
    {
        return false;
    }
    let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    let days_in_month = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return false,
    };
    if day == 0 || day > days_in_month || hour > 23 || min > 59 || sec > 60 {
        return false;
    }
    let mut rest = &s[19..];
    if let Some(frac) = rest.strip_prefix('.') {
        let n = frac.bytes().take_while(u8::is_ascii_digit).count();
        if n == 0 {
            return false;
        }
        rest = &frac[n..];
    }
    match rest {
        "Z" | "z" => true,
        off if off.len() == 6 => {
            let ob = off.as_bytes();
            matches!(ob[0], b'+' | b'-')
                && ob[3] == b':'
                && off[1..3].parse::<u32>().is_ok_and(|h| h < 24)
                && off[4..6].parse::<u32>().is_ok_and(|m| m < 60)
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::is_rfc3339;

    #[test]
    fn rfc3339() {
        for ok in [
            "2026-02-19T18:30:00Z",
            "2024-02-29T00:00:00.123+01:00",
            "2026-12-31t23:59:60z",
        ] {
            assert!(is_rfc3339(ok), "{ok}");
        }
        for bad in [
            "2026-02-30T00:00:00Z",
            "2023-02-29T00:00:00Z",
            "2026-02-19",
            "2026-02-19T25:00:00Z",
            "2026-02-19T18:30:00",
            "2026-02-19T18:30:00+1:00",
        ] {
            assert!(!is_rfc3339(bad), "{bad}");
        }
    }
}
