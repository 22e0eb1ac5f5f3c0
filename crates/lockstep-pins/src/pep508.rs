//! PEP 508 requirement strings (`name[extras] specifier ; marker` or
//! `name @ url ; marker`): just enough structure to find the name, the
//! version specifier and a git direct reference's `@ref`, and to edit one of
//! them without touching the rest of the string.

use std::ops::Range;

use crate::occurrence::Outcome;
use crate::toml_text::Str;
use crate::{Ecosystem, Error, GitRef, Pin, PinValue, SkipReason};

/// True for 7 to 40 hexadecimal digits: what URL-style git references use
/// for a commit id (the formats have no other way to say "rev").
pub(crate) fn is_commit(s: &str) -> bool {
    (7..=40).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_hexdigit())
}

/// The parts of a requirement, as byte ranges of the requirement string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Requirement {
    pub(crate) name: Range<usize>,
    /// The version specifier, trimmed (inside the parentheses of the old
    /// `name (>=1.0)` form); empty, at the end of name and extras, when absent.
    pub(crate) spec: Range<usize>,
    /// The URL of a direct reference (`name @ url`).
    pub(crate) url: Option<Range<usize>>,
}

/// Parses the name, specifier and URL of a requirement; `None` when the
/// string does not start with a valid distribution name.
pub(crate) fn parse(req: &str) -> Option<Requirement> {
    let bytes = req.as_bytes();
    let skip_ws = |mut i: usize| {
        while i < bytes.len() && (bytes[i] == b' ' || bytes[i] == b'\t') {
            i += 1;
        }
        i
    };
    let start = skip_ws(0);
    let mut i = start;
    while i < bytes.len()
        && (bytes[i].is_ascii_alphanumeric() || matches!(bytes[i], b'.' | b'-' | b'_'))
    {
        i += 1;
    }
    if i == start || !bytes[start].is_ascii_alphanumeric() {
        return None;
    }
    let name = start..i;
    let mut after_name = i;
    let j = skip_ws(i);
    if bytes.get(j) == Some(&b'[') {
        let close = req[j..].find(']')? + j;
        after_name = close + 1;
    }
    let j = skip_ws(after_name);
    if bytes.get(j) == Some(&b'@') {
        let url_start = skip_ws(j + 1);
        // A URL ends at whitespace (PEP 508 requires a space before `;`).
        let url_end = req[url_start..]
            .find([' ', '\t'])
            .map_or(req.len(), |k| url_start + k);
        let url_end = req[url_start..url_end]
            .find(';')
            .map_or(url_end, |k| url_start + k);
        return Some(Requirement {
            name,
            spec: after_name..after_name,
            url: Some(url_start..url_end),
        });
    }
    let end = req[j..].find(';').map_or(req.len(), |k| j + k);
    let mut spec_start = j;
    let mut spec_end = req[..end].trim_end().len().max(j);
    if bytes.get(j) == Some(&b'(') {
        let close = req[j..end].find(')')? + j;
        spec_start = skip_ws(j + 1);
        spec_end = req[..close].trim_end().len().max(spec_start);
    }
    if spec_start == spec_end {
        return Some(Requirement {
            name,
            spec: after_name..after_name,
            url: None,
        });
    }
    Some(Requirement {
        name,
        spec: spec_start..spec_end,
        url: None,
    })
}

/// Where a git direct reference keeps its `@ref`: the reference's range
/// (empty, where one would go, when absent) within the URL.
fn git_ref_range(url: &str) -> Range<usize> {
    let end = url.find('#').unwrap_or(url.len());
    // The reference comes after the path starts, so `git@host` user info
    // in the authority is never mistaken for it.
    let path_start = url
        .find("://")
        .map(|k| k + 3)
        .and_then(|k| url[k..end].find('/').map(|p| k + p))
        .unwrap_or(0);
    match url[path_start..end].rfind('@') {
        Some(at) => path_start + at + 1..end,
        None => end..end,
    }
}

/// One PEP 508 string in a TOML array.
#[derive(Debug, Clone)]
pub(crate) struct Entry {
    pub(crate) literal: Str,
    pub(crate) parsed: Requirement,
}

impl Entry {
    pub(crate) fn new(literal: Str) -> Option<Entry> {
        let parsed = parse(&literal.value)?;
        Some(Entry { literal, parsed })
    }

    pub(crate) fn name(&self) -> &str {
        &self.literal.value[self.parsed.name.clone()]
    }

    pub(crate) fn pin(&self) -> Pin {
        let req = &self.literal.value;
        let Some(url_range) = &self.parsed.url else {
            let spec = &req[self.parsed.spec.clone()];
            return if spec.is_empty() {
                Pin::Any
            } else {
                Pin::Version(spec.to_owned())
            };
        };
        let url = &req[url_range.clone()];
        if url.starts_with("git+") {
            let r = git_ref_range(url);
            let reference = &url[r.clone()];
            let base = if r.is_empty() {
                url.to_owned()
            } else {
                format!("{}{}", &url[..r.start - 1], &url[r.end..])
            };
            let reference = if reference.is_empty() {
                GitRef::DefaultBranch
            } else if is_commit(reference) {
                GitRef::Rev(reference.to_owned())
            } else {
                GitRef::Tag(reference.to_owned())
            };
            Pin::Git {
                url: base,
                reference,
                version: None,
            }
        } else if let Some(path) = url.strip_prefix("file://") {
            Pin::Path {
                path: path.to_owned(),
                version: None,
            }
        } else {
            Pin::Url(url.to_owned())
        }
    }

    pub(crate) fn plan(
        &self,
        file: Ecosystem,
        text: &str,
        new: &PinValue,
    ) -> Result<Outcome, Error> {
        let req = &self.literal.value;
        let invalid = |reason, expected| Error::InvalidValue {
            file,
            value: new.clone(),
            reason,
            expected,
        };
        let (range, from) = match new {
            PinValue::Version(v) => {
                if !v.trim_start().starts_with(['<', '>', '=', '!', '~']) || v.contains([';', '@'])
                {
                    return Err(invalid(
                        "it is not a PEP 440 version specifier",
                        "a specifier such as `>=1.3,<2` or `==1.3.0`",
                    ));
                }
                if self.parsed.url.is_some() {
                    return Ok(Outcome::Conflict {
                        accepted: "a direct reference takes a tag or rev, not a version specifier",
                    });
                }
                let spec = &req[self.parsed.spec.clone()];
                let from = (!spec.is_empty()).then(|| PinValue::Version(spec.to_owned()));
                (self.parsed.spec.clone(), from)
            }
            PinValue::Tag(v) | PinValue::Rev(v) => {
                if v.contains(['@', '#']) {
                    return Err(invalid(
                        "a direct reference cannot hold `@` or `#` in its git reference",
                        "a tag such as `v1.3.0`",
                    ));
                }
                if matches!(new, PinValue::Rev(_)) && !is_commit(v) {
                    return Err(invalid(
                        "a PEP 508 URL marks a revision only by its form",
                        "a commit id of 7 to 40 hexadecimal digits",
                    ));
                }
                let Some(url_range) = &self.parsed.url else {
                    return Ok(if self.parsed.spec.is_empty() {
                        Outcome::Skip(SkipReason::SourceElsewhere)
                    } else {
                        Outcome::Conflict {
                            accepted: "a git pin needs a direct reference such as `name @ git+https://host/repo@v1.0`",
                        }
                    });
                };
                let url = &req[url_range.clone()];
                if !url.starts_with("git+") {
                    return Ok(Outcome::Conflict {
                        accepted: "only a `git+` direct reference takes a tag or rev",
                    });
                }
                let r = git_ref_range(url);
                let old = &url[r.clone()];
                let from = (!old.is_empty()).then(|| {
                    if is_commit(old) {
                        PinValue::Rev(old.to_owned())
                    } else {
                        PinValue::Tag(old.to_owned())
                    }
                });
                let abs = url_range.start + r.start..url_range.start + r.end;
                if old.is_empty() {
                    let mut new_req = req.clone();
                    new_req.insert_str(abs.start, &format!("@{v}"));
                    return Ok(self.apply(text, new_req, None));
                }
                (abs, from)
            }
        };
        if req[range.clone()] == *new.as_str() {
            return Ok(Outcome::Skip(SkipReason::AlreadySet));
        }
        let mut new_req = req.clone();
        new_req.replace_range(range, new.as_str().trim());
        Ok(self.apply(text, new_req, from))
    }

    fn apply(&self, text: &str, new_req: String, from: Option<PinValue>) -> Outcome {
        Outcome::Apply {
            splices: vec![self.literal.replace(text, &new_req)],
            from,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(req: &str, name: &str, spec: &str, url: Option<&str>) {
        let parsed = parse(req).unwrap_or_else(|| panic!("{req} should parse"));
        assert_eq!(&req[parsed.name.clone()], name, "name of {req}");
        assert_eq!(&req[parsed.spec.clone()], spec, "spec of {req}");
        assert_eq!(parsed.url.map(|u| &req[u]), url, "url of {req}");
    }

    #[test]
    fn parses_the_parts() {
        check("requests", "requests", "", None);
        check("requests>=2.8.1", "requests", ">=2.8.1", None);
        check(
            "requests [security,tests] >= 2.8.1, == 2.8.* ; python_version < \"2.7\"",
            "requests",
            ">= 2.8.1, == 2.8.*",
            None,
        );
        check("name (>=1.0, <2)", "name", ">=1.0, <2", None);
        check("Foo.Bar_baz~=1.4", "Foo.Bar_baz", "~=1.4", None);
        check(
            "pip @ https://github.com/pypa/pip/archive/1.3.1.zip#sha1=da9234ee",
            "pip",
            "",
            Some("https://github.com/pypa/pip/archive/1.3.1.zip#sha1=da9234ee"),
        );
        check(
            "core @ git+https://h/o/core.git@v1.0 ; python_version >= '3.9'",
            "core",
            "",
            Some("git+https://h/o/core.git@v1.0"),
        );
        check("core[x] ; os_name == 'nt'", "core", "", None);
    }

    #[test]
    fn rejects_strings_without_a_name() {
        for bad in ["", "  ", ">=1.0", "-foo", "foo[bar"] {
            assert_eq!(parse(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn finds_git_references_after_the_authority() {
        let cases = [
            ("git+https://h/o/r.git@v1.0", "v1.0"),
            ("git+ssh://git@h/o/r.git@v1.0#egg=r", "v1.0"),
            ("git+ssh://git@h/o/r.git", ""),
            ("git+https://h/o/r.git#subdirectory=x", ""),
        ];
        for (url, expected) in cases {
            assert_eq!(&url[git_ref_range(url)], expected, "{url}");
        }
    }
}
