//! Channels and the version bounds a manifest may write (`1.4.0`, `1.x.x`, `1.2.x`, `*`).

use std::cmp::Ordering;
use std::fmt;
use std::str::FromStr;

use semver::{Prerelease, Version};
use serde::{Deserialize, Serialize};

/// A release channel. Channels nest: a vertical on a channel sees that channel's releases and
/// those of every steadier channel (see [`Channel::sees`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Channel {
    /// Long-term support: only lts releases.
    Lts,
    /// Stable and lts releases.
    Stable,
    /// Beta, stable and lts releases.
    Beta,
    /// Everything: canary, beta, stable and lts releases.
    Canary,
}

impl Channel {
    /// Every channel, steadiest first.
    pub const ALL: [Channel; 4] = [
        Channel::Lts,
        Channel::Stable,
        Channel::Beta,
        Channel::Canary,
    ];

    /// Every channel with its name, in the order messages list them.
    pub(crate) const CHOICES: [(&'static str, Channel); 4] = [
        ("stable", Channel::Stable),
        ("beta", Channel::Beta),
        ("lts", Channel::Lts),
        ("canary", Channel::Canary),
    ];

    /// The channel's name as written in files.
    pub const fn as_str(self) -> &'static str {
        match self {
            Channel::Lts => "lts",
            Channel::Stable => "stable",
            Channel::Beta => "beta",
            Channel::Canary => "canary",
        }
    }

    /// Whether a vertical on `self` sees a release published on `release`.
    ///
    /// ```
    /// use lockstep_manifest::Channel;
    /// assert!(Channel::Beta.sees(Channel::Stable));
    /// assert!(Channel::Stable.sees(Channel::Lts));
    /// assert!(!Channel::Stable.sees(Channel::Beta));
    /// assert!(!Channel::Lts.sees(Channel::Stable));
    /// ```
    pub const fn sees(self, release: Channel) -> bool {
        match self {
            Channel::Lts => matches!(release, Channel::Lts),
            // The order of the enum is the order of nesting above lts.
            _ => release as u8 <= self as u8,
        }
    }
}

impl fmt::Display for Channel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The error for a channel name that is not one of stable, beta, lts, canary.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown channel \"{0}\"; expected one of stable, beta, lts, canary")]
pub struct UnknownChannel(pub String);

impl FromStr for Channel {
    type Err = UnknownChannel;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Channel::ALL
            .into_iter()
            .find(|c| c.as_str() == s)
            .ok_or_else(|| UnknownChannel(s.to_owned()))
    }
}

/// A bound on the core version: an exact SemVer version, or a wildcard prefix.
///
/// A wildcard admits every version with that prefix, pre-releases included: `1.x.x` admits
/// `1.5.0-beta.1` but not `2.0.0-beta.1`. Comparisons use SemVer precedence (build metadata is
/// ignored).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum VersionBound {
    /// An exact version; inclusive at both ends of a range.
    Exact(Version),
    /// `*` (no major), `1.x.x` (major only) or `1.2.x` (major and minor).
    Wildcard {
        /// The fixed major, or `None` for `*`.
        major: Option<u64>,
        /// The fixed minor, or `None`.
        minor: Option<u64>,
    },
}

/// The error for a version bound that is neither SemVer nor a wildcard.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "\"{input}\" is not a version or wildcard ({reason}); expected a SemVer version such as 1.4.0, or a wildcard such as 1.x.x, 1.2.x or *"
)]
pub struct BadBound {
    /// What was written.
    pub input: String,
    /// Why it was refused.
    pub reason: String,
}

impl VersionBound {
    /// The lowest version the bound admits when used as a minimum (`None` for `*`).
    pub fn floor(&self) -> Option<Version> {
        match *self {
            VersionBound::Exact(ref v) => Some(v.clone()),
            VersionBound::Wildcard { major: None, .. } => None,
            VersionBound::Wildcard {
                major: Some(major),
                minor,
            } => Some(lowest(major, minor.unwrap_or(0))),
        }
    }

    /// Whether `v` satisfies the bound used as a minimum (`v >= bound`).
    pub fn admits_from_below(&self, v: &Version) -> bool {
        match self.floor() {
            None => true,
            Some(f) => v.cmp_precedence(&f) != Ordering::Less,
        }
    }

    /// Whether `v` satisfies the bound used as a maximum (`v <= bound`, or inside the prefix).
    pub fn admits_from_above(&self, v: &Version) -> bool {
        match *self {
            VersionBound::Exact(ref e) => v.cmp_precedence(e) != Ordering::Greater,
            VersionBound::Wildcard { major: None, .. } => true,
            VersionBound::Wildcard {
                major: Some(major),
                minor: None,
            } => v.cmp_precedence(&lowest(major.saturating_add(1), 0)) == Ordering::Less,
            VersionBound::Wildcard {
                major: Some(major),
                minor: Some(minor),
            } => v.cmp_precedence(&lowest(major, minor.saturating_add(1))) == Ordering::Less,
        }
    }

    /// The first version the bound no longer admits as a maximum (exclusive ceiling), or `None`
    /// for an exact bound (inclusive) and for `*`.
    pub fn ceiling_exclusive(&self) -> Option<Version> {
        match *self {
            VersionBound::Wildcard {
                major: Some(major),
                minor: None,
            } => Some(lowest(major.saturating_add(1), 0)),
            VersionBound::Wildcard {
                major: Some(major),
                minor: Some(minor),
            } => Some(lowest(major, minor.saturating_add(1))),
            _ => None,
        }
    }
}

/// `major.minor.0-0`, the lowest version SemVer orders under that prefix.
fn lowest(major: u64, minor: u64) -> Version {
    let mut v = Version::new(major, minor, 0);
    // "0" is the lowest pre-release identifier there is.
    v.pre = Prerelease::new("0").expect("\"0\" is a valid pre-release identifier");
    v
}

impl FromStr for VersionBound {
    type Err = BadBound;
    fn from_str(input: &str) -> Result<Self, Self::Err> {
        let s = input.trim();
        let bad = |reason: &str| BadBound {
            input: input.to_owned(),
            reason: reason.to_owned(),
        };
        let is_wild = |p: &str| matches!(p, "x" | "X" | "*");
        if is_wild(s) {
            return Ok(VersionBound::Wildcard {
                major: None,
                minor: None,
            });
        }
        let parts: Vec<&str> = s.split('.').collect();
        if parts.iter().any(|p| is_wild(p)) {
            let num = |p: &str| -> Result<u64, BadBound> {
                if p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()) {
                    return Err(bad(&format!("\"{p}\" is not a number or x")));
                }
                if p.len() > 1 && p.starts_with('0') {
                    return Err(bad("numbers must not have leading zeros"));
                }
                p.parse().map_err(|_| bad("number too large"))
            };
            return match parts.as_slice() {
                [m, w] | [m, w, _] if is_wild(w) && parts[1..].iter().all(|p| is_wild(p)) => {
                    Ok(VersionBound::Wildcard {
                        major: Some(num(m)?),
                        minor: None,
                    })
                }
                [m, n, w] if is_wild(w) => Ok(VersionBound::Wildcard {
                    major: Some(num(m)?),
                    minor: Some(num(n)?),
                }),
                _ => Err(bad("a wildcard may only replace trailing parts")),
            };
        }
        Version::parse(s)
            .map(VersionBound::Exact)
            .map_err(|e| bad(&e.to_string()))
    }
}

impl fmt::Display for VersionBound {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            VersionBound::Exact(v) => write!(f, "{v}"),
            VersionBound::Wildcard { major: None, .. } => f.write_str("*"),
            VersionBound::Wildcard {
                major: Some(m),
                minor: None,
            } => write!(f, "{m}.x.x"),
            VersionBound::Wildcard {
                major: Some(m),
                minor: Some(n),
            } => write!(f, "{m}.{n}.x"),
        }
    }
}

impl Serialize for VersionBound {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for VersionBound {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &str) -> Version {
        Version::parse(s).unwrap()
    }

    #[test]
    fn parses_bounds() {
        let cases = [
            ("1.2.3", "1.2.3"),
            ("1.x.x", "1.x.x"),
            ("1.x", "1.x.x"),
            ("1.*", "1.x.x"),
            ("1.X.X", "1.x.x"),
            ("1.2.x", "1.2.x"),
            ("1.2.*", "1.2.x"),
            ("*", "*"),
            ("x", "*"),
            ("1.0.0-beta.1", "1.0.0-beta.1"),
        ];
        for (input, shown) in cases {
            let b: VersionBound = input.parse().unwrap();
            assert_eq!(b.to_string(), shown, "{input}");
        }
        for bad in ["1.x.3", "x.1.1", "1.2", "abc", "", "01.x.x", "1.2.3.4"] {
            assert!(bad.parse::<VersionBound>().is_err(), "{bad} should fail");
        }
    }

    #[test]
    fn wildcard_membership() {
        let b: VersionBound = "1.x.x".parse().unwrap();
        assert!(b.admits_from_above(&v("1.99.0")));
        assert!(b.admits_from_above(&v("1.5.0-beta.1")));
        assert!(!b.admits_from_above(&v("2.0.0-beta.1")));
        assert!(!b.admits_from_above(&v("2.0.0")));
        assert!(b.admits_from_below(&v("1.0.0-alpha")));
        assert!(!b.admits_from_below(&v("0.9.9")));
        let e: VersionBound = "1.4.0".parse().unwrap();
        assert!(e.admits_from_above(&v("1.4.0+build.5")));
        assert!(e.admits_from_above(&v("1.4.0-rc.1")));
        assert!(!e.admits_from_below(&v("1.4.0-rc.1")));
    }
}
