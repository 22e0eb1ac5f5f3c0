//! The small value types commands take: `NAME@VERSION`, channels, actors.

use std::fmt;
use std::str::FromStr;

use serde::Serialize;

use crate::Error;

/// A release channel of the known-good registry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Channel {
    /// Needs a green lab verdict.
    Stable,
    /// Needs a green or yellow lab verdict.
    Beta,
}

impl Channel {
    /// `stable` or `beta`.
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Stable => "stable",
            Channel::Beta => "beta",
        }
    }

    /// Whether a lab verdict allows promotion to this channel.
    pub fn admits(self, verdict: &str) -> bool {
        match self {
            Channel::Stable => verdict == "green",
            Channel::Beta => verdict == "green" || verdict == "yellow",
        }
    }

    fn needs(self) -> &'static str {
        match self {
            Channel::Stable => "a green lab result",
            Channel::Beta => "a green or yellow lab result",
        }
    }

    pub(crate) fn refusal(self, component: &str, version: &str, verdict: &str) -> Error {
        Error::Verdict {
            component: component.to_owned(),
            version: version.to_owned(),
            channel: self.as_str().to_owned(),
            verdict: verdict.to_owned(),
            needs: self.needs(),
        }
    }
}

impl fmt::Display for Channel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Channel {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Error> {
        match s {
            "stable" => Ok(Channel::Stable),
            "beta" => Ok(Channel::Beta),
            _ => Err(Error::invalid("channel", s, "stable or beta")),
        }
    }
}

/// `NAME@VERSION`, where NAME may itself start with `@` (`@scope/pkg@1.2.0`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct ComponentVersion {
    /// The component.
    pub component: String,
    /// The version.
    pub version: String,
}

impl FromStr for ComponentVersion {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Error> {
        let expected = "NAME@VERSION, such as gemini-cli@0.9.0 or @scope/tool@1.2.0";
        let (name, version) = s
            .rsplit_once('@')
            .filter(|(n, v)| !n.is_empty() && !v.is_empty())
            .ok_or_else(|| Error::invalid("component version", s, expected))?;
        check_name("component", name)?;
        check_version(version).map_err(|_| Error::invalid("component version", s, expected))?;
        Ok(ComponentVersion {
            component: name.to_owned(),
            version: version.to_owned(),
        })
    }
}

impl fmt::Display for ComponentVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}@{}", self.component, self.version)
    }
}

/// A component or organisation name: printable, no spaces, at most 200 characters.
pub fn check_name(what: &'static str, name: &str) -> Result<(), Error> {
    let ok = !name.is_empty() && name.len() <= 200 && name.chars().all(|c| c.is_ascii_graphic());
    if ok {
        Ok(())
    } else {
        Err(Error::invalid(
            what,
            name,
            "a non-empty name of printable characters without spaces",
        ))
    }
}

/// A version as upstream writes it: letters, digits, `.`, `-`, `+`, `_`.
pub fn check_version(version: &str) -> Result<(), Error> {
    let ok = !version.is_empty()
        && version.len() <= 100
        && version
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '+' | '_'))
        && version.starts_with(|c: char| c.is_ascii_alphanumeric());
    if ok {
        Ok(())
    } else {
        Err(Error::invalid(
            "version",
            version,
            "a version such as 1.2.0, 1.2.0-rc.1 or 2.0.0b1",
        ))
    }
}

/// A non-empty free text (`--reason`, `--by`).
pub fn check_text(what: &'static str, text: &str) -> Result<(), Error> {
    if text.trim().is_empty() {
        Err(Error::invalid(what, text, "a non-empty text"))
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn component_versions_parse() {
        let check = |s: &str, expected: Option<(&str, &str)>| {
            let got = s.parse::<ComponentVersion>().ok();
            assert_eq!(
                got.as_ref()
                    .map(|c| (c.component.as_str(), c.version.as_str())),
                expected,
                "{s}"
            );
        };
        check("cli@1.2.0", Some(("cli", "1.2.0")));
        check(
            "@scope/tool@1.2.0-rc.1",
            Some(("@scope/tool", "1.2.0-rc.1")),
        );
        check("black@24.1.0b1", Some(("black", "24.1.0b1")));
        check("cli", None);
        check("cli@", None);
        check("@1.0.0", None);
        check("cli@1 .0", None);
        check("c li@1.0", None);
    }
}
