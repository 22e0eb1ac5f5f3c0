//! Release tag formats: a template such as `v{version}` or `{name}-v{version}`, formatted and
//! parsed by the same code so what lockstep writes it also reads back.
//!
//! Two placeholders name the package: `{name}`, its whole name (`@npmcli/arborist`), and
//! `{unscoped}`, its name without an npm scope (`arborist`), which release-please and many
//! npm monorepos put in their tags (`arborist-v8.0.0`). A name without a scope is the same
//! under both.

use std::fmt;

use semver::Version;

/// A release tag template: literal text around `{version}` and at most one of `{name}` and
/// `{unscoped}`.
///
/// A template without either is a repository-wide tag (one version for every package of the
/// repository, or a repository with one package).
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
        if template.matches(NAME).count() + template.matches(UNSCOPED).count() > 1 {
            return Err(fail("may hold one of {name} and {unscoped}, once"));
        }
        let literal = template
            .replace("{version}", "")
            .replace(NAME, "")
            .replace(UNSCOPED, "");
        if literal.contains(['{', '}']) {
            return Err(fail(
                "has a placeholder other than {name}, {unscoped} and {version}",
            ));
        }
        if literal
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || "~^:?*[\\".contains(c))
            || literal.contains("..")
        {
            return Err(fail("has characters git does not allow in a tag"));
        }
        if [NAME, UNSCOPED].iter().any(|n| {
            template.contains(&format!("{n}{{version}}"))
                || template.contains(&format!("{{version}}{n}"))
        }) {
            return Err(fail("needs text between the name and {version}"));
        }
        Ok(TagFormat {
            template: template.to_owned(),
        })
    }

    /// The template as written.
    pub fn template(&self) -> &str {
        &self.template
    }

    /// Whether the format names the package (`{name}` or `{unscoped}`), so each package gets
    /// its own tag.
    pub fn per_package(&self) -> bool {
        self.placeholder().is_some()
    }

    /// Whether the format names packages without their npm scope (`{unscoped}`).
    pub fn unscoped(&self) -> bool {
        self.placeholder() == Some(UNSCOPED)
    }

    /// The name placeholder the template holds, if any.
    fn placeholder(&self) -> Option<&'static str> {
        [NAME, UNSCOPED]
            .into_iter()
            .find(|n| self.template.contains(n))
    }

    /// What a tag of package `name` holds in place of the name placeholder: `name` itself,
    /// or its name without scope under `{unscoped}`. Compare [`TagFormat::parse`]'s name with
    /// this, not with the package's name.
    pub fn name_in_tag<'n>(&self, name: &'n str) -> &'n str {
        if self.unscoped() {
            unscoped(name)
        } else {
            name
        }
    }

    /// The tag of `name` at `version`.
    pub fn format(&self, name: &str, version: &Version) -> String {
        let mut tag = self.template.replace("{version}", &version.to_string());
        if let Some(placeholder) = self.placeholder() {
            tag = tag.replace(placeholder, self.name_in_tag(name));
        }
        tag
    }

    /// Reads a tag back: the name it holds (when the format has a name placeholder: under
    /// `{unscoped}`, the name without scope, see [`TagFormat::name_in_tag`]) and the
    /// version, which must be strict SemVer. `None` when the tag does not follow the format.
    pub fn parse(&self, tag: &str) -> Option<(Option<String>, Version)> {
        let (before_version, after_version) = self.template.split_once("{version}")?;
        let rest = tag.strip_suffix(after_version)?;
        let placeholder = self.placeholder().unwrap_or(NAME);
        let (name, version_text) = match before_version.split_once(placeholder) {
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
        if after_version.contains(NAME) || after_version.contains(UNSCOPED) {
            return None;
        }
        let version = Version::parse(version_text).ok()?;
        Some((name, version))
    }
}

const NAME: &str = "{name}";
const UNSCOPED: &str = "{unscoped}";

/// A package name without its npm scope: `arborist` for `@npmcli/arborist`; any other name
/// as it is.
pub fn unscoped(name: &str) -> &str {
    name.strip_prefix('@')
        .and_then(|scoped| scoped.split_once('/'))
        .map_or(name, |(_, bare)| bare)
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
            (
                "{unscoped}-v{version}",
                "@npmcli/arborist",
                "8.0.0",
                "arborist-v8.0.0",
            ),
            (
                "{unscoped}@{version}",
                "libnpmexec",
                "9.0.1",
                "libnpmexec@9.0.1",
            ),
        ] {
            let f = TagFormat::parse_template(template).expect("valid template");
            assert_eq!(f.format(name, &v(version)), tag);
            let expected_name = f.per_package().then(|| f.name_in_tag(name).to_owned());
            assert_eq!(
                f.parse(tag),
                Some((expected_name, v(version))),
                "{template}"
            );
        }
    }

    #[test]
    fn unscoped_drops_only_an_npm_scope() {
        assert_eq!(unscoped("@npmcli/arborist"), "arborist");
        assert_eq!(unscoped("libnpmexec"), "libnpmexec");
        assert_eq!(unscoped("@"), "@");
        assert_eq!(unscoped("a/b"), "a/b");
        let f = TagFormat::parse_template("{unscoped}-v{version}").unwrap();
        assert!(f.per_package() && f.unscoped());
        assert_eq!(f.name_in_tag("@s/x"), "x");
        assert!(!TagFormat::name_v_version().unscoped());
        assert_eq!(TagFormat::name_v_version().name_in_tag("@s/x"), "@s/x");
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
            "{version}{unscoped}",
            "{name}-{unscoped}-{version}",
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
