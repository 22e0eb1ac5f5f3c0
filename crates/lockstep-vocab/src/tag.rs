//! Release tag formats: a template such as `v{version}` or `{name}-v{version}`, formatted and
//! parsed by the same code so what lockstep writes it also reads back.

use std::fmt;

use semver::Version;

/// A release tag template: literal text around `{version}` and at most one `{name}`.
///
/// A template without `{name}` is a repository-wide tag (one version for every package of
/// the repository, or a repository with one package).
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct TagFormat {
    template: String,
}

/// A template that is not one lockstep can format and parse back.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "tag format `{template}` {problem}; write it like `v{{version}}` or `{{name}}-v{{version}}`"
)]
pub struct TagFormatError {
    /// The template as given.
    pub template: String,
    /// What is wrong with it.
    pub problem: &'static str,
}

impl TagFormat {
    /// `v{version}`: one package, or one version for the whole repository.
    pub fn v_version() -> Self {
        TagFormat {
            template: "v{version}".to_owned(),
        }
    }

    /// `{name}-v{version}`: one tag per package.
    pub fn name_v_version() -> Self {
        TagFormat {
            template: "{name}-v{version}".to_owned(),
        }
    }

    /// Reads a template; it must hold `{version}` exactly once, `{name}` at most once, no
    /// other placeholder, and literal text git accepts in a tag.
    pub fn parse_template(template: &str) -> Result<Self, TagFormatError> {
        let fail = |problem| TagFormatError {
            template: template.to_owned(),
            problem,
        };
        if template.matches("{version}").count() != 1 {
            return Err(fail("must hold {version} exactly once"));
        }
        if template.matches("{name}").count() > 1 {
            return Err(fail("may hold {name} at most once"));
        }
        let literal = template.replace("{version}", "").replace("{name}", "");
        if literal.contains(['{', '}']) {
            return Err(fail("has a placeholder other than {name} and {version}"));
        }
        if literal
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || "~^:?*[\\".contains(c))
            || literal.contains("..")
        {
            return Err(fail("has characters git does not allow in a tag"));
        }
        if template.contains("{name}{version}") || template.contains("{version}{name}") {
            return Err(fail("needs text between {name} and {version}"));
        }
        Ok(TagFormat {
            template: template.to_owned(),
        })
    }

    /// The template as written.
    pub fn template(&self) -> &str {
        &self.template
    }

    /// Whether the format names the package (`{name}`), so each package gets its own tag.
    pub fn per_package(&self) -> bool {
        self.template.contains("{name}")
    }

    /// The tag of `name` at `version`.
    pub fn format(&self, name: &str, version: &Version) -> String {
        self.template
            .replace("{name}", name)
            .replace("{version}", &version.to_string())
    }

    /// Reads a tag back: the package name (when the format has one) and the version, which
    /// must be strict SemVer. `None` when the tag does not follow the format.
    pub fn parse(&self, tag: &str) -> Option<(Option<String>, Version)> {
        let (before_version, after_version) = self.template.split_once("{version}")?;
        let rest = tag.strip_suffix(after_version)?;
        let (name, version_text) = match before_version.split_once("{name}") {
            Some((prefix, between)) => {
                let rest = rest.strip_prefix(prefix)?;
                // The name may contain the separator (`gix-hash-v1.0.0`) and the version may
                // too (`1.0.0-rc.1`): take the first split whose right side is a version.
                let found = rest.match_indices(between).find_map(|(at, _)| {
                    let (name, version) = (&rest[..at], &rest[at + between.len()..]);
                    (!name.is_empty() && Version::parse(version).is_ok()).then_some((name, version))
                })?;
                (Some(found.0.to_owned()), found.1)
            }
            None => (None, rest.strip_prefix(before_version)?),
        };
        if after_version.contains("{name}") {
            return None;
        }
        let version = Version::parse(version_text).ok()?;
        Some((name, version))
    }
}

impl TryFrom<String> for TagFormat {
    type Error = TagFormatError;

    fn try_from(template: String) -> Result<Self, Self::Error> {
        TagFormat::parse_template(&template)
    }
}

impl From<TagFormat> for String {
    fn from(f: TagFormat) -> String {
        f.template
    }
}

impl fmt::Display for TagFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.template)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &str) -> Version {
        Version::parse(s).expect("valid")
    }

    #[test]
    fn formats_and_parses_every_convention() {
        for (template, name, version, tag) in [
            ("v{version}", "serde", "1.0.228", "v1.0.228"),
            ("{version}", "serde", "1.0.228", "1.0.228"),
            (
                "{name}-v{version}",
                "gix-hash",
                "0.15.0",
                "gix-hash-v0.15.0",
            ),
            ("{name}-{version}", "gix-hash", "0.15.0", "gix-hash-0.15.0"),
            (
                "{name}@{version}",
                "@scope/pkg",
                "2.0.0-rc.1",
                "@scope/pkg@2.0.0-rc.1",
            ),
            (
                "{name}/v{version}",
                "tokio-util",
                "0.7.1",
                "tokio-util/v0.7.1",
            ),
        ] {
            let f = TagFormat::parse_template(template).expect("valid template");
            assert_eq!(f.format(name, &v(version)), tag);
            let expected_name = f.per_package().then(|| name.to_owned());
            assert_eq!(
                f.parse(tag),
                Some((expected_name, v(version))),
                "{template}"
            );
        }
    }

    #[test]
    fn other_tags_do_not_parse() {
        let per = TagFormat::name_v_version();
        assert_eq!(per.parse("v1.0.0"), None);
        assert_eq!(per.parse("-v1.0.0"), None);
        assert_eq!(per.parse("a-v1.0"), None);
        let one = TagFormat::v_version();
        assert_eq!(one.parse("1.0.0"), None);
        assert_eq!(one.parse("v01.0.0"), None);
        assert_eq!(one.parse("gix-v1.0.0"), None);
    }

    #[test]
    fn bad_templates_are_refused_with_the_reason() {
        for bad in [
            "v",
            "{name}",
            "{version}{version}",
            "{name}{version}",
            "{tag}-{version}",
            "v {version}",
        ] {
            let err = TagFormat::parse_template(bad).expect_err(bad).to_string();
            assert!(
                err.contains(bad) && err.contains("{name}-v{version}"),
                "{err}"
            );
        }
    }
}
