//! The cascade config, `cascade.toml`: which repositories take part in a release cascade.
//!
//! Only the repositories are listed here; their packages and the edges between them are
//! discovered from each repository's own manifests (`Cargo.toml`, `package.json`,
//! `pyproject.toml`) by the engine. `depends_on` adds edges discovery cannot see.

use serde::Serialize;
use serde_json::Value as Json;

use crate::node::{Node, Seg, Value};
use crate::problem::{Invalid, ProblemKind};
use crate::reader::{Fields, Reader};

use crate::cascade_schema::schema;
use crate::toml_node::parse_toml;

/// Size limit for a cascade config.
pub const MAX_CASCADE_BYTES: usize = 1024 * 1024;

/// The file name the command line looks for by default.
pub const CASCADE_FILE_NAME: &str = "cascade.toml";

/// The name the cascade config's JSON Schema is committed under in `docs/schemas/`.
pub const CASCADE_SCHEMA_FILE_NAME: &str = "cascade-config.v1.json";

/// The largest `jobs` value accepted.
pub const MAX_JOBS: u32 = 1024;

/// A parsed and validated `cascade.toml`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct CascadeConfig {
    /// The optional `[cascade]` table.
    pub options: CascadeOptions,
    /// `release_dependents = "needed" | "always"` (default `needed`): which dependents of a
    /// released package are released too.
    pub release_dependents: Option<String>,
    /// The `[[repo]]` entries, in document order; names are unique.
    pub repos: Vec<RepoEntry>,
    /// The optional `[registries]` table: base URLs of the registries releases are published to.
    pub registries: Registries,
    /// The optional `[wait]` table: how long to wait for a registry to show a published version.
    pub wait: WaitBudgets,
}

/// The `[registries]` table: per ecosystem, the registry a cascade publishes to and waits on.
/// `LOCKSTEP_CRATES_INDEX`, `LOCKSTEP_PYPI_URL` and `LOCKSTEP_NPM_REGISTRY` win over these.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
#[non_exhaustive]
pub struct Registries {
    /// The crates index, `sparse+URL`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub crates: Option<String>,
    /// The PyPI base URL, serving `/simple/NAME/`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pypi: Option<String>,
    /// The npm registry URL.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub npm: Option<String>,
}

/// The `[wait]` table: per ecosystem, how many seconds a cascade waits for a published version
/// to become visible before it stops (resumable). `timeout_s` is one number for every
/// ecosystem or a table `{ crates = …, pypi = …, npm = … }`; `LOCKSTEP_WAIT_TIMEOUT_S` wins.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
#[non_exhaustive]
pub struct WaitBudgets {
    /// Seconds for the crates index.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub crates: Option<u32>,
    /// Seconds for PyPI.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pypi: Option<u32>,
    /// Seconds for npm.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub npm: Option<u32>,
}

/// The longest wait budget accepted, in seconds (a day).
pub const MAX_WAIT_S: u32 = 86_400;

/// The optional `[cascade]` table: settings for the whole cascade.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
#[non_exhaustive]
pub struct CascadeOptions {
    /// How many repositories of one wave run at once; `None` means the number of CPUs.
    pub jobs: Option<u32>,
    /// Rewrite a version requirement even when it already admits the new upstream version.
    pub exact_pins: bool,
}

/// One `[[repo]]` entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct RepoEntry {
    /// The repository's name, unique in the config.
    pub name: String,
    /// Where the repository is.
    pub source: RepoSource,
    /// The smoke-test command, relative to the repository's root.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub smoke: Option<String>,
    /// The branch a release must be made from.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub branch: Option<String>,
    /// Repositories this one depends on beyond what its manifests say.
    pub depends_on: Vec<String>,
    /// Packages (of other repositories) whose major version this repository's packages follow.
    pub reexports: Vec<String>,
    /// The remote to push to with `--push`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub remote: Option<String>,
    /// The repository's release tag format, such as `{name}-v{version}` (`{unscoped}` for
    /// an npm name without its scope; a format without either is one shared tag); detected
    /// from existing tags when absent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tag: Option<String>,
    /// How a release is published: a command run after tagging, or `ci` (the tag push
    /// triggers CI); none means git pins only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub publish: Option<String>,
    /// How an emitted CI job installs lockstep.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub install: Option<String>,
    /// Release this repository's `publish = false` packages like any other (an application,
    /// or crates pinned by git tag from outside the cascade).
    pub release_unpublished: bool,
    /// Line of the entry's `[[repo]]` header, from 1, for messages about it.
    #[serde(skip)]
    pub line: usize,
}

/// Where a repository is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum RepoSource {
    /// A directory, relative to `cascade.toml` unless absolute.
    Path(String),
    /// A clone URL.
    Url(String),
}

pub(crate) const TOP: &[&str] = &[
    "cascade",
    "release_dependents",
    "registries",
    "wait",
    "repo",
];
pub(crate) const REGISTRIES: &[&str] = &["crates", "pypi", "npm"];
pub(crate) const WAIT: &[&str] = &["timeout_s"];
pub(crate) const OPTIONS: &[&str] = &["jobs", "exact_pins"];
pub(crate) const REPO: &[&str] = &[
    "name",
    "path",
    "url",
    "smoke",
    "branch",
    "depends_on",
    "reexports",
    "remote",
    "tag",
    "publish",
    "install",
    "release_unpublished",
];
pub(crate) const REPO_REQUIRED: &[&str] = &["name"];

const DOC: &str = "cascade config";

impl CascadeConfig {
    /// Parses and validates a `cascade.toml`, reporting every problem found.
    ///
    /// ```
    /// use lockstep_manifest::{CascadeConfig, RepoSource};
    ///
    /// let text = "\
    /// [[repo]]
    /// name = \"core\"
    /// path = \"core\"
    ///
    /// [[repo]]
    /// name = \"app\"
    /// url = \"https://example.com/app.git\"
    /// depends_on = [\"core\"]
    /// ";
    /// let config = CascadeConfig::parse(text).expect("valid");
    /// assert_eq!(config.repos[0].source, RepoSource::Path("core".into()));
    /// assert_eq!(config.repos[1].depends_on, ["core"]);
    ///
    /// let err = CascadeConfig::parse(&text.replace("\"core\"]", "\"kore\"]")).unwrap_err();
    /// assert_eq!(err.problems[0].field, "repo[1].depends_on[0]");
    /// assert_eq!(err.problems[0].line, 8);
    /// ```
    pub fn parse(text: &str) -> Result<Self, Invalid> {
        let root = parse_toml(text).map_err(|p| Invalid::new(DOC, vec![p]))?;
        let mut r = Reader::new();
        let config = read_config(&mut r, &root);
        match config {
            Some(c) if !r.has_problems() => Ok(c),
            _ => Err(Invalid::new(DOC, r.finish(None))),
        }
    }

    /// The repository with this name.
    pub fn repo(&self, name: &str) -> Option<&RepoEntry> {
        self.repos.iter().find(|r| r.name == name)
    }

    /// The JSON Schema (draft 2020-12) of `cascade.toml`, built from the reader's field lists;
    /// committed as `docs/schemas/`[`CASCADE_SCHEMA_FILE_NAME`].
    ///
    /// It describes the shape; the reader also checks what a schema cannot say well (unique
    /// names, `depends_on` naming a listed repository).
    pub fn schema() -> Json {
        schema()
    }
}

fn read_config(r: &mut Reader, root: &Node) -> Option<CascadeConfig> {
    let f = r.fields(root, TOP)?;
    let options = match f.get("cascade") {
        Some(n) => r.key("cascade", |r| read_options(r, n)).unwrap_or_default(),
        None => CascadeOptions::default(),
    };
    let release_dependents = f.get("release_dependents").and_then(|n| {
        r.key("release_dependents", |r| {
            let value = text(r, n, "\"needed\" or \"always\"")?;
            if matches!(value.as_str(), "needed" | "always") {
                Some(value)
            } else {
                r.report(
                    n.pos,
                    ProblemKind::Value,
                    format!("`{value}` is not accepted; expected \"needed\" or \"always\""),
                );
                None
            }
        })
    });
    let registries = match f.get("registries") {
        Some(n) => r
            .key("registries", |r| read_registries(r, n))
            .unwrap_or_default(),
        None => Registries::default(),
    };
    let wait = match f.get("wait") {
        Some(n) => r.key("wait", |r| read_wait(r, n)).unwrap_or_default(),
        None => WaitBudgets::default(),
    };
    let list = r.required(&f, "repo", "one [[repo]] table per repository")?;
    let repos = r.key("repo", |r| read_repos(r, list))?;
    Some(CascadeConfig {
        options,
        release_dependents,
        repos,
        registries,
        wait,
    })
}

fn read_registries(r: &mut Reader, node: &Node) -> Option<Registries> {
    let f = r.fields(node, REGISTRIES)?;
    let mut url = |name: &'static str, what: &str| {
        let n = f.get(name)?;
        r.key(name, |r| {
            let value = text(r, n, what)?;
            let rest = value.strip_prefix("sparse+").unwrap_or(&value);
            let ok = (rest.starts_with("https://") || rest.starts_with("http://"))
                && rest.len() > "https://".len()
                && !rest.chars().any(char::is_whitespace);
            let sparse_ok = name != "crates" || value.starts_with("sparse+");
            if ok && sparse_ok {
                Some(value)
            } else {
                r.report(
                    n.pos,
                    ProblemKind::Value,
                    format!("\"{value}\" is not accepted; expected {what}"),
                );
                None
            }
        })
    };
    let crates = url(
        "crates",
        "a sparse index URL such as \"sparse+https://index.crates.io/\"",
    );
    let pypi = url(
        "pypi",
        "a PyPI base URL such as \"https://pypi.org\" (serving /simple/NAME/)",
    );
    let npm = url(
        "npm",
        "an npm registry URL such as \"https://registry.npmjs.org\"",
    );
    Some(Registries { crates, pypi, npm })
}

fn read_wait(r: &mut Reader, node: &Node) -> Option<WaitBudgets> {
    let f = r.fields(node, WAIT)?;
    let Some(n) = f.get("timeout_s") else {
        return Some(WaitBudgets::default());
    };
    r.key("timeout_s", |r| {
        let seconds = |r: &mut Reader, n: &Node| {
            r.integer(
                n,
                "seconds to wait for a registry",
                1,
                i128::from(MAX_WAIT_S),
            )
            .and_then(|v| u32::try_from(v).ok())
        };
        if let Value::Map(_) = &n.value {
            let t = r.fields(n, REGISTRIES)?;
            let mut get =
                |name: &'static str| t.get(name).and_then(|v| r.key(name, |r| seconds(r, v)));
            Some(WaitBudgets {
                crates: get("crates"),
                pypi: get("pypi"),
                npm: get("npm"),
            })
        } else {
            let all = seconds(r, n)?;
            Some(WaitBudgets {
                crates: Some(all),
                pypi: Some(all),
                npm: Some(all),
            })
        }
    })
}

fn read_options(r: &mut Reader, node: &Node) -> Option<CascadeOptions> {
    let f = r.fields(node, OPTIONS)?;
    let jobs = f.get("jobs").and_then(|n| {
        r.key("jobs", |r| {
            r.integer(
                n,
                "the number of repositories released at once",
                1,
                i128::from(MAX_JOBS),
            )
        })
    });
    let exact_pins = f
        .get("exact_pins")
        .and_then(|n| r.key("exact_pins", |r| boolean(r, n, "true or false")))
        .unwrap_or(false);
    Some(CascadeOptions {
        jobs: jobs.and_then(|j| u32::try_from(j).ok()),
        exact_pins,
    })
}

fn read_repos(r: &mut Reader, node: &Node) -> Option<Vec<RepoEntry>> {
    let Value::Seq(items) = &node.value else {
        r.report(
            node.pos,
            ProblemKind::Type,
            format!(
                "expected one [[repo]] table per repository, found {}",
                node.value.type_name()
            ),
        );
        return None;
    };
    if items.is_empty() {
        r.report(
            node.pos,
            ProblemKind::Value,
            "is empty; expected at least one [[repo]] table",
        );
        return None;
    }
    let entries: Vec<Option<RepoEntry>> = items
        .iter()
        .enumerate()
        .map(|(i, item)| r.at(Seg::Index(i), |r| read_repo(r, item)))
        .collect();
    // Names and references are checked on the tree, so an entry with other problems still
    // takes part: its name can be a duplicate, its `depends_on` can name an unknown repository.
    let given: Vec<Option<&str>> = items.iter().map(|item| str_field(item, "name")).collect();
    let mut names: Vec<&str> = Vec::with_capacity(items.len());
    for (i, (item, name)) in items.iter().zip(&given).enumerate() {
        let Some(name) = *name else { continue };
        if names.contains(&name) {
            let pos = field(item, "name").map_or(item.pos, |n| n.pos);
            r.at(Seg::Index(i), |r| {
                r.key("name", |r| {
                    r.report(
                        pos,
                        ProblemKind::Duplicate,
                        format!(
                            "a repository named `{name}` is already listed; names must be unique"
                        ),
                    );
                })
            });
        } else {
            names.push(name);
        }
    }
    for (i, (item, own)) in items.iter().zip(&given).enumerate() {
        let Some(Value::Seq(deps)) = field(item, "depends_on").map(|n| &n.value) else {
            continue;
        };
        r.at(Seg::Index(i), |r| {
            r.key("depends_on", |r| {
                for (j, dep) in deps.iter().enumerate() {
                    let Value::Str(name) = &dep.value else {
                        continue;
                    };
                    let message = if Some(name.as_str()) == *own {
                        format!("`{name}` cannot depend on itself; name another repository")
                    } else if !name.trim().is_empty() && !names.contains(&name.as_str()) {
                        format!(
                            "no repository named `{name}`; expected one of: {}",
                            names.join(", ")
                        )
                    } else {
                        continue;
                    };
                    r.at(Seg::Index(j), |r| {
                        r.report(dep.pos, ProblemKind::Value, message)
                    });
                }
            })
        });
    }
    entries.into_iter().collect()
}

fn read_repo(r: &mut Reader, node: &Node) -> Option<RepoEntry> {
    let f = r.fields(node, REPO)?;
    let name = r
        .required(&f, "name", "the repository's name")
        .and_then(|n| r.key("name", |r| text(r, n, "a repository name")));
    let source = read_source(r, &f);
    let smoke = f.get("smoke").and_then(|n| {
        r.key("smoke", |r| {
            text(r, n, "a command, relative to the repository")
        })
    });
    let branch = f
        .get("branch")
        .and_then(|n| r.key("branch", |r| text(r, n, "a branch name such as main")));
    let remote = f
        .get("remote")
        .and_then(|n| r.key("remote", |r| text(r, n, "a remote name or URL")));
    let depends_on = r.key("depends_on", |r| {
        names_list(
            r,
            f.get("depends_on"),
            "repository names",
            "a repository name",
        )
    });
    let reexports = r.key("reexports", |r| {
        names_list(r, f.get("reexports"), "package names", "a package name")
    });
    let tag = f.get("tag").and_then(|n| {
        r.key("tag", |r| {
            let value = text(r, n, "a tag format such as {name}-v{version}")?;
            match lockstep_vocab::TagFormat::parse_template(&value) {
                Ok(_) => Some(value),
                Err(e) => {
                    r.report(n.pos, ProblemKind::Value, e.to_string());
                    None
                }
            }
        })
    });
    let publish = f.get("publish").and_then(|n| {
        r.key("publish", |r| {
            text(r, n, "a command run after tagging, or \"ci\"")
        })
    });
    let install = f.get("install").and_then(|n| {
        r.key("install", |r| {
            text(r, n, "a command that installs lockstep")
        })
    });
    let release_unpublished = f
        .get("release_unpublished")
        .and_then(|n| r.key("release_unpublished", |r| boolean(r, n, "true or false")))
        .unwrap_or(false);
    Some(RepoEntry {
        name: name?,
        source: source?,
        smoke,
        branch,
        depends_on,
        reexports,
        remote,
        tag,
        publish,
        install,
        release_unpublished,
        line: node.pos.line,
    })
}

/// Exactly one of `path` and `url`.
fn read_source(r: &mut Reader, f: &Fields<'_>) -> Option<RepoSource> {
    let path = f.get("path");
    let url = f.get("url");
    match (path, url) {
        (Some(_), Some(u)) => {
            r.key("url", |r| {
                r.report(
                    u.pos,
                    ProblemKind::Value,
                    "give either `path` or `url`, not both",
                )
            });
            None
        }
        (None, None) => {
            r.key("path", |r| {
                r.report(
                    f.pos,
                    ProblemKind::Missing,
                    "missing `path` (a directory relative to cascade.toml) or `url` (a clone URL)",
                )
            });
            None
        }
        (Some(p), None) => r.key("path", |r| {
            let s = text(r, p, "a directory relative to cascade.toml")?;
            if s.contains("://") {
                r.report(
                    p.pos,
                    ProblemKind::Value,
                    format!("\"{s}\" is a URL; write it as `url`, or give a directory as `path`"),
                );
                return None;
            }
            Some(RepoSource::Path(s))
        }),
        (None, Some(u)) => r.key("url", |r| {
            let s = text(r, u, "a clone URL")?;
            if !looks_like_url(&s) {
                r.report(
                    u.pos,
                    ProblemKind::Value,
                    format!(
                        "\"{s}\" is not a clone URL; expected scheme://host/path (https, ssh, git, file) or user@host:path, or give a directory as `path`"
                    ),
                );
                return None;
            }
            Some(RepoSource::Url(s))
        }),
    }
}

fn looks_like_url(s: &str) -> bool {
    if s.chars().any(char::is_whitespace) {
        return false;
    }
    if let Some((scheme, rest)) = s.split_once("://") {
        return !scheme.is_empty()
            && scheme
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
            && !rest.is_empty();
    }
    // scp-like: user@host:path
    match s.split_once(':') {
        Some((user_host, path)) => {
            user_host.contains('@') && !user_host.contains('/') && !path.is_empty()
        }
        None => false,
    }
}

/// A non-empty string; unlike YAML, TOML says what it means, so a number is not a string.
fn text(r: &mut Reader, node: &Node, what: &str) -> Option<String> {
    match &node.value {
        Value::Str(_) => r.string(node, what),
        other => {
            r.report(
                node.pos,
                ProblemKind::Type,
                format!("expected {what} (a string), found {}", other.type_name()),
            );
            None
        }
    }
}

fn boolean(r: &mut Reader, node: &Node, what: &str) -> Option<bool> {
    match &node.value {
        Value::Bool(b) => Some(*b),
        other => {
            r.report(
                node.pos,
                ProblemKind::Type,
                format!("expected {what}, found {}", other.type_name()),
            );
            None
        }
    }
}

/// A list of distinct non-empty strings; repeats are reported at their second occurrence.
fn names_list(r: &mut Reader, node: Option<&Node>, what: &str, one: &str) -> Vec<String> {
    let Some(node) = node else { return Vec::new() };
    let Value::Seq(items) = &node.value else {
        r.report(
            node.pos,
            ProblemKind::Type,
            format!(
                "expected a list of {what}, found {}",
                node.value.type_name()
            ),
        );
        return Vec::new();
    };
    let mut out: Vec<String> = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        r.at(Seg::Index(i), |r| {
            let Some(s) = text(r, item, one) else {
                return;
            };
            if out.contains(&s) {
                r.report(
                    item.pos,
                    ProblemKind::Duplicate,
                    format!("`{s}` is already listed; each name may appear once"),
                );
            } else {
                out.push(s);
            }
        });
    }
    out
}

fn field<'n>(node: &'n Node, name: &str) -> Option<&'n Node> {
    match &node.value {
        Value::Map(entries) => entries.iter().find(|(k, _)| k.name == name).map(|(_, v)| v),
        _ => None,
    }
}

/// A field's value when it is a non-empty string.
fn str_field<'n>(node: &'n Node, name: &str) -> Option<&'n str> {
    match field(node, name).map(|n| &n.value) {
        Some(Value::Str(s)) if !s.trim().is_empty() => Some(s),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_and_scp_paths_are_told_apart_from_directories() {
        for ok in [
            "https://example.com/a.git",
            "file:///tmp/a",
            "git@github.com:o/r.git",
            "ssh://git@host/r",
        ] {
            assert!(looks_like_url(ok), "{ok}");
        }
        for bad in [
            "../core",
            "core",
            "C:/x",
            "https://",
            "a b://c",
            "/srv/git@x:y",
        ] {
            assert!(!looks_like_url(bad), "{bad}");
        }
    }
}
