//! Pack indexes (`packs.json`): which packs exist, in which versions, and where to fetch them.
//!
//! ```json
//! {"schema": 1, "packs": [{"name": "pg", "version": "1.2.0", "description": "…",
//!   "keywords": ["db"], "source": "https://…/pg-1.2.0.tar.gz", "sha256": "…"}]}
//! ```
//!
//! `source` is a git URL with `@REF`, a directory (relative to the index file), or an archive URL
//! ending in `.tar.gz` checked against `sha256`. An entry may also carry `requires` and `core`
//! as its `pack.yaml` says them, so the resolver need not fetch the pack to learn them; the
//! fetched `pack.yaml` stays the authority for what is installed.

use std::path::{Path, PathBuf};

use lockstep_manifest::{PackCore, VersionBound, is_pack_name};
use lockstep_vocab::{Ecosystem, Requirement};
use semver::Version;
use serde::Deserialize;

use crate::Error;
use crate::home::Home;

/// The largest index accepted.
pub const MAX_INDEX_BYTES: u64 = 64 * 1024 * 1024;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct IndexFile {
    schema: u32,
    packs: Vec<RawEntry>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEntry {
    name: String,
    version: Version,
    description: String,
    #[serde(default)]
    keywords: Vec<String>,
    source: String,
    #[serde(default)]
    sha256: Option<String>,
    #[serde(default)]
    requires: Option<Vec<RawRequirement>>,
    #[serde(default)]
    core: Option<RawCore>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRequirement {
    name: String,
    #[serde(default)]
    version: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCore {
    #[serde(default)]
    min_core_version: Option<String>,
    #[serde(default)]
    max_core_version: Option<String>,
    #[serde(default)]
    contracts_major: Option<u64>,
}

/// What a pack needs, as the resolver sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Needs {
    /// Other packs and the versions that will do.
    pub requires: Vec<(String, Requirement)>,
    /// The core range.
    pub core: PackCore,
}

/// One offered version of a pack.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct IndexEntry {
    /// The pack's name.
    pub name: String,
    /// The version offered.
    pub version: Version,
    /// One line for people.
    pub description: String,
    /// Search words.
    pub keywords: Vec<String>,
    /// Where to fetch it: a git URL with `@REF`, an absolute directory, or an archive URL.
    pub source: String,
    /// The archive's sha256, hex.
    pub sha256: Option<String>,
    /// What it needs, when the index says.
    pub needs: Option<Needs>,
    /// The index it came from.
    pub index: String,
}

impl IndexEntry {
    /// An entry built in memory (benchmarks, services that keep their own catalogue).
    pub fn new(name: &str, version: Version, source: &str, needs: Option<Needs>) -> Self {
        IndexEntry {
            name: name.to_owned(),
            version,
            description: String::new(),
            keywords: Vec::new(),
            source: source.to_owned(),
            sha256: None,
            needs,
            index: "(memory)".to_owned(),
        }
    }
}

/// Every entry of the configured indexes; the first index listing a NAME@VERSION wins.
#[derive(Debug, Clone, Default)]
pub struct Index {
    entries: Vec<IndexEntry>,
    /// The indexes read.
    pub locations: Vec<String>,
}

impl Index {
    /// An index of entries built in memory.
    pub fn from_entries(entries: Vec<IndexEntry>) -> Self {
        Index {
            entries,
            locations: vec!["(memory)".into()],
        }
    }

    /// Every entry, in index order.
    pub fn entries(&self) -> &[IndexEntry] {
        &self.entries
    }

    /// The offered versions of `name`.
    pub fn versions_of<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a IndexEntry> + 'a {
        self.entries.iter().filter(move |e| e.name == name)
    }

    /// Reads every index the home configures.
    pub fn load(home: &Home, opts: &lockstep_registry::Options) -> Result<Index, Error> {
        let mut index = Index::default();
        for location in home.indexes()? {
            let (text, base) = read_location(home.dir(), &location, opts)?;
            for entry in parse(&text, &location, base.as_deref())? {
                let dup = index
                    .entries
                    .iter()
                    .any(|e| e.name == entry.name && e.version == entry.version);
                if !dup {
                    index.entries.push(entry);
                }
            }
            index.locations.push(location);
        }
        Ok(index)
    }
}

fn is_url(s: &str) -> bool {
    s.contains("://")
}

/// The index text and, for a file, the directory relative sources are read from.
fn read_location(
    home: &Path,
    location: &str,
    opts: &lockstep_registry::Options,
) -> Result<(String, Option<PathBuf>), Error> {
    let fail = |message: String| Error::Config {
        location: location.to_owned(),
        message,
    };
    if is_url(location) {
        let mut opts = opts.clone();
        opts.max_body_bytes = opts.max_body_bytes.min(MAX_INDEX_BYTES);
        let body = lockstep_registry::fetch_document(location, &opts)
            .map_err(|e| fail(format!("cannot fetch it: {e}")))?;
        return String::from_utf8(body)
            .map(|t| (t, None))
            .map_err(|_| fail("it is not UTF-8 text".into()));
    }
    let path = home.join(location);
    let path = if path.is_dir() {
        path.join("packs.json")
    } else {
        path
    };
    let len = std::fs::metadata(&path)
        .map_err(|e| fail(format!("cannot read {}: {e}", path.display())))?
        .len();
    if len > MAX_INDEX_BYTES {
        return Err(fail(format!(
            "it is {len} bytes; at most {MAX_INDEX_BYTES} are accepted"
        )));
    }
    let text = std::fs::read_to_string(&path)
        .map_err(|e| fail(format!("cannot read {}: {e}", path.display())))?;
    Ok((text, path.parent().map(Path::to_path_buf)))
}

/// Parses `packs.json` text; relative directory sources are made absolute against `base`.
pub fn parse(text: &str, location: &str, base: Option<&Path>) -> Result<Vec<IndexEntry>, Error> {
    let fail = |message: String| Error::Config {
        location: location.to_owned(),
        message,
    };
    let file: IndexFile = serde_json::from_str(text).map_err(|e| {
        fail(format!(
            "{}:{}: {e}; expected {{\"schema\": 1, \"packs\": [{{\"name\", \"version\", \"description\", \"keywords\", \"source\", \"sha256\"}}]}}",
            e.line(),
            e.column()
        ))
    })?;
    if file.schema != 1 {
        return Err(fail(format!(
            "schema: {} is not supported; expected 1",
            file.schema
        )));
    }
    let mut out = Vec::with_capacity(file.packs.len());
    for (i, raw) in file.packs.into_iter().enumerate() {
        let at = |field: &str, message: String| fail(format!("packs[{i}].{field}: {message}"));
        if !is_pack_name(&raw.name) {
            return Err(at(
                "name",
                format!(
                    "\"{}\" is not a pack name; expected lowercase letters, digits and '-'",
                    raw.name
                ),
            ));
        }
        if let Some(sha) = &raw.sha256
            && !(sha.is_empty() || (sha.len() == 64 && sha.bytes().all(|b| b.is_ascii_hexdigit())))
        {
            return Err(at("sha256", "expected 64 hex digits".into()));
        }
        let needs = match (raw.requires, raw.core) {
            (None, None) => None,
            (requires, core) => {
                let mut reqs = Vec::new();
                for (j, r) in requires.unwrap_or_default().into_iter().enumerate() {
                    let text = r.version.unwrap_or_else(|| "*".into());
                    let req = Requirement::parse(&text, Ecosystem::Cargo).map_err(|_| {
                        at(
                            &format!("requires[{j}].version"),
                            format!("\"{text}\" is not a version requirement; expected Cargo syntax such as ^1.2"),
                        )
                    })?;
                    reqs.push((r.name, req));
                }
                let core = match core {
                    None => PackCore::default(),
                    Some(c) => {
                        let bound = |field: &str, v: Option<String>| {
                            v.map(|s| {
                                s.parse::<VersionBound>()
                                    .map_err(|e| at(&format!("core.{field}"), e.to_string()))
                            })
                            .transpose()
                        };
                        let mut core = PackCore::default();
                        core.min_core_version = bound("min_core_version", c.min_core_version)?;
                        core.max_core_version = bound("max_core_version", c.max_core_version)?;
                        core.contracts_major = c.contracts_major;
                        core
                    }
                };
                Some(Needs {
                    requires: reqs,
                    core,
                })
            }
        };
        let source = match base {
            Some(dir) if !is_url(&raw.source) && !raw.source.contains('@') => {
                dir.join(&raw.source).display().to_string()
            }
            _ => raw.source,
        };
        out.push(IndexEntry {
            name: raw.name,
            version: raw.version,
            description: raw.description,
            keywords: raw.keywords,
            source,
            sha256: raw.sha256.filter(|s| !s.is_empty()),
            needs,
            index: location.to_owned(),
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_parse_and_relative_sources_become_absolute() {
        let text = r#"{"schema": 1, "packs": [
            {"name": "pg", "version": "1.0.0", "description": "d", "keywords": ["db"], "source": "pg", "sha256": ""},
            {"name": "tls", "version": "2.0.0", "description": "d", "source": "file:///r/tls@v2", "sha256": null,
             "requires": [{"name": "pg", "version": "^1"}], "core": {"max_core_version": "1.x.x"}}
        ]}"#;
        let e = parse(text, "packs.json", Some(Path::new("/idx"))).unwrap();
        assert_eq!(e[0].source, "/idx/pg");
        assert_eq!(e[1].source, "file:///r/tls@v2");
        assert_eq!(e[1].needs.as_ref().unwrap().requires[0].0, "pg");
        assert!(e[0].needs.is_none());
    }

    #[test]
    fn bad_indexes_say_where_and_what_is_accepted() {
        for (text, expected) in [
            (
                "{\"schema\": 2, \"packs\": []}",
                "schema: 2 is not supported",
            ),
            ("{\"schema\": 1}", "1:13: missing field `packs`"),
            (
                r#"{"schema": 1, "packs": [{"name": "PG", "version": "1.0.0", "description": "", "source": "x"}]}"#,
                "packs[0].name",
            ),
            (
                r#"{"schema": 1, "packs": [{"name": "pg", "version": "1.0", "description": "", "source": "x"}]}"#,
                "1:",
            ),
        ] {
            let err = parse(text, "i.json", None).unwrap_err().to_string();
            assert!(err.contains(expected), "{err}");
        }
    }
}
