//! `package.json`: the four dependency objects and the package's own
//! version, edited in place so key order, indentation and every other byte
//! stay as they were.

use std::ops::Range;

use crate::json::{self, Node};
use crate::occurrence::{Editor, Occurrence, Outcome, Scan};
use crate::pep508::is_commit;
use crate::splice::{Splice, line_col};
use crate::{
    DepKind, Dependency, Ecosystem, Error, GitRef, Location, OwnVersion, Package, Pin, PinValue,
    SkipReason, Workspace,
};

const FILE: Ecosystem = Ecosystem::Npm;

const SECTIONS: [(&str, DepKind); 4] = [
    ("dependencies", DepKind::Normal),
    ("devDependencies", DepKind::Dev),
    ("peerDependencies", DepKind::Normal),
    ("optionalDependencies", DepKind::Normal),
];

/// Validates with serde_json (for its error positions), then scans for spans.
fn parse(text: &str) -> Result<Node, Error> {
    if let Err(err) = serde_json::from_str::<serde_json::Value>(text) {
        let message = err.to_string();
        let message = message
            .split(" at line ")
            .next()
            .unwrap_or(&message)
            .to_owned();
        return Err(Error::Syntax {
            file: FILE,
            syntax: "JSON",
            line: err.line(),
            column: err.column(),
            message,
        });
    }
    let root = json::scan(text).ok_or_else(|| {
        let (line, column) = line_col(text, 0);
        Error::Syntax {
            file: FILE,
            syntax: "JSON",
            line,
            column,
            message: "unsupported JSON layout".into(),
        }
    })?;
    match root {
        Node::Object { .. } => Ok(root),
        other => Err(Error::Shape {
            file: FILE,
            path: "the top level".into(),
            found: other.kind(),
            expected: "an object",
        }),
    }
}

pub(crate) fn scan(text: &str) -> Result<Scan, Error> {
    let root = parse(text)?;
    let mut scan = Scan::default();
    for (section, kind) in SECTIONS {
        scan.searched(section);
        let Some(node) = root.get(section) else {
            continue;
        };
        let Node::Object { members } = node else {
            return Err(Error::Shape {
                file: FILE,
                path: section.into(),
                found: node.kind(),
                expected: "an object of package names to version ranges",
            });
        };
        for member in members {
            let location = Location::new(section, member.key.clone());
            let Node::String { value, span } = &member.value else {
                return Err(Error::Shape {
                    file: FILE,
                    path: location.to_string(),
                    found: member.value.kind(),
                    expected: "a string such as \"^1.2.0\" or \"git+https://host/repo.git#v1.2.0\"",
                });
            };
            let entry = Entry {
                literal_span: span.clone(),
                spec: value.clone(),
                parsed: parse_spec(value),
            };
            scan.occurrences.push(Occurrence {
                dep: Dependency {
                    name: entry
                        .parsed
                        .alias
                        .clone()
                        .unwrap_or_else(|| member.key.clone()),
                    key: member.key.clone(),
                    kind,
                    target: None,
                    location,
                    pin: entry.pin(),
                },
                editor: Editor::Npm(entry),
            });
        }
    }
    Ok(scan)
}

/// What kind of specifier a `package.json` value is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SpecKind {
    Version,
    Git,
    Path,
    Url,
    Workspace,
}

#[derive(Debug, Clone)]
struct Spec {
    kind: SpecKind,
    /// The real name of an `npm:name@range` alias.
    alias: Option<String>,
    /// The part that holds the version range (the whole value, or the part after `npm:name@`).
    range: Range<usize>,
    /// For git: the part before `#`, and the fragment after it (empty and at the end when absent).
    git_url: Range<usize>,
    fragment: Option<Range<usize>>,
}

fn parse_spec(spec: &str) -> Spec {
    let whole = 0..spec.len();
    let mut out = Spec {
        kind: SpecKind::Version,
        alias: None,
        range: whole.clone(),
        git_url: whole.clone(),
        fragment: None,
    };
    if let Some(rest) = spec.strip_prefix("npm:") {
        // `npm:@scope/name@range`: the version follows the second `@` of a scoped name.
        let at = rest.get(1..).and_then(|r| r.find('@')).map(|i| i + 1);
        let (name, range) = match at {
            Some(at) => (&rest[..at], 4 + at + 1..spec.len()),
            None => (rest, spec.len()..spec.len()),
        };
        out.alias = Some(name.to_owned());
        out.range = range;
        return out;
    }
    let is_git = [
        "git+",
        "git://",
        "github:",
        "gitlab:",
        "bitbucket:",
        "gist:",
    ]
    .iter()
    .any(|p| spec.starts_with(p))
        || is_github_shorthand(spec);
    out.kind = if spec.starts_with("workspace:") {
        SpecKind::Workspace
    } else if spec.starts_with("file:")
        || spec.starts_with("link:")
        || ["./", "../", "/", "~/"].iter().any(|p| spec.starts_with(p))
    {
        SpecKind::Path
    } else if is_git {
        SpecKind::Git
    } else if spec.starts_with("http://") || spec.starts_with("https://") {
        SpecKind::Url
    } else {
        SpecKind::Version
    };
    if out.kind == SpecKind::Git
        && let Some(hash) = spec.find('#')
    {
        out.git_url = 0..hash;
        out.fragment = Some(hash + 1..spec.len());
    }
    out
}

/// `owner/repo` or `owner/repo#ref`: GitHub shorthand.
fn is_github_shorthand(spec: &str) -> bool {
    let base = spec.split('#').next().unwrap_or(spec);
    let mut parts = base.split('/');
    let valid = |s: &str| {
        !s.is_empty()
            && !s.starts_with(['.', '@'])
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
    };
    matches!((parts.next(), parts.next(), parts.next()), (Some(o), Some(r), None) if valid(o) && valid(r))
}

/// One `package.json` dependency value.
#[derive(Debug, Clone)]
pub(crate) struct Entry {
    literal_span: Range<usize>,
    spec: String,
    parsed: Spec,
}

impl Entry {
    fn pin(&self) -> Pin {
        let spec = &self.spec;
        match self.parsed.kind {
            SpecKind::Version => {
                let range = &spec[self.parsed.range.clone()];
                if range.is_empty() {
                    Pin::Any
                } else {
                    Pin::Version(range.to_owned())
                }
            }
            SpecKind::Workspace => Pin::Inherited,
            SpecKind::Url => Pin::Url(spec.clone()),
            SpecKind::Path => Pin::Path {
                path: spec
                    .strip_prefix("file:")
                    .or_else(|| spec.strip_prefix("link:"))
                    .unwrap_or(spec)
                    .to_owned(),
                version: None,
            },
            SpecKind::Git => {
                let fragment = self.parsed.fragment.clone().map(|f| &spec[f]);
                let reference = match fragment {
                    None | Some("") => GitRef::DefaultBranch,
                    Some(f) => match f.strip_prefix("semver:") {
                        Some(range) => GitRef::Semver(range.to_owned()),
                        None if is_commit(f) => GitRef::Rev(f.to_owned()),
                        None => GitRef::Tag(f.to_owned()),
                    },
                };
                Pin::Git {
                    url: spec[self.parsed.git_url.clone()].to_owned(),
                    reference,
                    version: None,
                }
            }
        }
    }

    pub(crate) fn plan(&self, new: &PinValue) -> Result<Outcome, Error> {
        let spec = &self.spec;
        let value = new.as_str();
        let (range, from): (Range<usize>, Option<PinValue>) = match (new, self.parsed.kind) {
            (_, SpecKind::Workspace) => return Ok(Outcome::Skip(SkipReason::Inherited)),
            (_, SpecKind::Path) => return Ok(Outcome::Skip(SkipReason::PathOnly)),
            (PinValue::Version(_), SpecKind::Version) => {
                let old = &spec[self.parsed.range.clone()];
                let from = (!old.is_empty()).then(|| PinValue::Version(old.to_owned()));
                (self.parsed.range.clone(), from)
            }
            (PinValue::Version(_), SpecKind::Git) => match self.pin() {
                Pin::Git {
                    reference: GitRef::Semver(old),
                    ..
                } => {
                    let start = self
                        .parsed
                        .fragment
                        .as_ref()
                        .map_or(spec.len(), |f| f.start)
                        + "semver:".len();
                    (start..spec.len(), Some(PinValue::Version(old)))
                }
                _ => {
                    return Ok(Outcome::Conflict {
                        accepted: "a git dependency takes a tag or rev (or a `#semver:` range)",
                    });
                }
            },
            (PinValue::Version(_), SpecKind::Url) => {
                return Ok(Outcome::Conflict {
                    accepted: "a tarball URL takes no version; replace the URL by hand",
                });
            }
            (PinValue::Tag(_) | PinValue::Rev(_), SpecKind::Git) => {
                if value.contains('#') {
                    return Err(invalid(
                        new,
                        "a git reference in a URL fragment cannot contain `#`",
                        "a tag such as `v1.3.0`",
                    ));
                }
                if matches!(new, PinValue::Rev(_)) && !is_commit(value) {
                    return Err(invalid(
                        new,
                        "package.json marks a revision only by its form",
                        "a commit id of 7 to 40 hexadecimal digits",
                    ));
                }
                let from = match self.pin() {
                    Pin::Git {
                        reference: GitRef::Tag(t),
                        ..
                    } => Some(PinValue::Tag(t)),
                    Pin::Git {
                        reference: GitRef::Rev(r),
                        ..
                    } => Some(PinValue::Rev(r)),
                    Pin::Git {
                        reference: GitRef::Semver(s),
                        ..
                    } => Some(PinValue::Version(s)),
                    _ => None,
                };
                match &self.parsed.fragment {
                    Some(f) => (f.clone(), from),
                    None => {
                        let new_spec = format!("{spec}#{value}");
                        return Ok(self.apply(&new_spec, None));
                    }
                }
            }
            (PinValue::Tag(_) | PinValue::Rev(_), _) => {
                return Ok(Outcome::Conflict {
                    accepted: "only a git dependency (`git+https://…#tag`, `github:owner/repo#tag`) takes a tag or rev",
                });
            }
        };
        if spec[range.clone()] == *value {
            return Ok(Outcome::Skip(SkipReason::AlreadySet));
        }
        let mut new_spec = spec.clone();
        new_spec.replace_range(range, value);
        Ok(self.apply(&new_spec, from))
    }

    fn apply(&self, new_spec: &str, from: Option<PinValue>) -> Outcome {
        Outcome::Apply {
            splices: vec![Splice::new(
                self.literal_span.clone(),
                json::encode(new_spec),
            )],
            from,
        }
    }
}

fn invalid(new: &PinValue, reason: &'static str, expected: &'static str) -> Error {
    Error::InvalidValue {
        file: FILE,
        value: new.clone(),
        reason,
        expected,
    }
}

fn top_string<'a>(root: &'a Node, key: &str) -> Result<Option<(&'a str, Range<usize>)>, Error> {
    match root.get(key) {
        None => Ok(None),
        Some(Node::String { value, span }) => Ok(Some((value, span.clone()))),
        Some(other) => Err(Error::Shape {
            file: FILE,
            path: key.into(),
            found: other.kind(),
            expected: "a string",
        }),
    }
}

pub(crate) fn package(text: &str) -> Result<Package, Error> {
    let root = parse(text)?;
    let name = top_string(&root, "name")?.map(|(v, _)| v.to_owned());
    let version = top_string(&root, "version")?.map(|(v, _)| OwnVersion::Declared {
        version: v.to_owned(),
        location: Location::new("", "version"),
    });
    let workspaces = match root.get("workspaces") {
        Some(Node::Object { .. }) => root.get("workspaces").and_then(|w| w.get("packages")),
        other => other,
    };
    let workspace = match workspaces {
        None => None,
        Some(Node::Other {
            kind: "an array",
            array,
        }) => Some(Workspace {
            members: array
                .iter()
                .map(|n| match n {
                    Node::String { value, .. } => Ok(value.clone()),
                    other => Err(Error::Shape {
                        file: FILE,
                        path: "workspaces".into(),
                        found: other.kind(),
                        expected: "an array of glob strings",
                    }),
                })
                .collect::<Result<_, _>>()?,
            ..Workspace::default()
        }),
        Some(other) => {
            return Err(Error::Shape {
                file: FILE,
                path: "workspaces".into(),
                found: other.kind(),
                expected: "an array of glob strings, or an object with `packages`",
            });
        }
    };
    Ok(Package {
        name,
        version,
        workspace,
        // `"private": true`: npm refuses to publish it.
        publish: !root.get("private").is_some_and(Node::is_true),
    })
}

/// The span of the `version` string literal and its value.
pub(crate) fn version_site(text: &str) -> Result<Option<(String, Range<usize>)>, Error> {
    let root = parse(text)?;
    Ok(top_string(&root, "version")?.map(|(v, s)| (v.to_owned(), s)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_specifiers() {
        let cases: [(&str, &str); 14] = [
            ("^1.2.3", "Version(\"^1.2.3\")"),
            ("latest", "Version(\"latest\")"),
            ("", "Any"),
            ("npm:@scope/real@^2", "Version(\"^2\")"),
            ("file:../core", "Path { path: \"../core\", version: None }"),
            ("./core", "Path { path: \"./core\", version: None }"),
            ("workspace:^1", "Inherited"),
            ("https://h/x.tgz", "Url(\"https://h/x.tgz\")"),
            (
                "git+https://h/o/r.git#v1.0.0",
                "Git { url: \"git+https://h/o/r.git\", reference: Tag(\"v1.0.0\"), version: None }",
            ),
            (
                "git+ssh://git@h/o/r.git#0123abcd",
                "Git { url: \"git+ssh://git@h/o/r.git\", reference: Rev(\"0123abcd\"), version: None }",
            ),
            (
                "github:o/r#semver:^1.2",
                "Git { url: \"github:o/r\", reference: Semver(\"^1.2\"), version: None }",
            ),
            (
                "o/r",
                "Git { url: \"o/r\", reference: DefaultBranch, version: None }",
            ),
            (
                "git://h/o/r.git#",
                "Git { url: \"git://h/o/r.git\", reference: DefaultBranch, version: None }",
            ),
            ("1.x || >=2.5.0", "Version(\"1.x || >=2.5.0\")"),
        ];
        for (spec, expected) in cases {
            let entry = Entry {
                literal_span: 0..0,
                spec: spec.into(),
                parsed: parse_spec(spec),
            };
            assert_eq!(format!("{:?}", entry.pin()), expected, "{spec}");
        }
    }

    #[test]
    fn aliases_resolve_to_the_real_name() {
        assert_eq!(parse_spec("npm:real@^1").alias.as_deref(), Some("real"));
        assert_eq!(
            parse_spec("npm:@s/real@1").alias.as_deref(),
            Some("@s/real")
        );
        assert_eq!(parse_spec("npm:real").alias.as_deref(), Some("real"));
    }
}
