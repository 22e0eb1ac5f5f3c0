//! SemVer bumps.

use std::fmt;
use std::str::FromStr;

use semver::{BuildMetadata, Prerelease, Version};
use serde::{Deserialize, Serialize};

use crate::ParseNameError;

/// Which version component a release increments. Ordered by size: `Patch < Minor < Major`.
///
/// [`Bump::apply`] is literal at every version: `Major` on `0.3.1` gives `1.0.0`. The
/// SemVer-aware choice (a breaking change below 1.0.0 is a `Minor`) is made where a bump is
/// derived from a change (`lockstep_cascade::Change::bump_for`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Bump {
    /// `x.y.Z`.
    Patch,
    /// `x.Y.0`.
    Minor,
    /// `X.0.0`.
    Major,
}

impl Bump {
    /// `major`, `minor` or `patch`.
    pub fn as_str(self) -> &'static str {
        match self {
            Bump::Major => "major",
            Bump::Minor => "minor",
            Bump::Patch => "patch",
        }
    }

    /// The next version: the component is incremented, the lower ones reset to 0, pre-release
    /// and build metadata dropped. A pre-release of exactly the version the bump leads to
    /// is finished instead (`1.0.0-rc.1` + `Major` → `1.0.0`, + `Patch` → `1.0.0`;
    /// `1.1.0-rc.1` + `Minor` → `1.1.0`, as npm's `semver inc` does). `None` on overflow.
    pub fn apply(self, version: &Version) -> Option<Version> {
        let (mut major, mut minor, mut patch) = (version.major, version.minor, version.patch);
        let pre = !version.pre.is_empty();
        match self {
            Bump::Major if pre && minor == 0 && patch == 0 => {}
            Bump::Major => {
                major = major.checked_add(1)?;
                (minor, patch) = (0, 0);
            }
            Bump::Minor if pre && patch == 0 => {}
            Bump::Minor => {
                minor = minor.checked_add(1)?;
                patch = 0;
            }
            Bump::Patch if pre => {}
            Bump::Patch => patch = patch.checked_add(1)?,
        }
        Some(Version {
            major,
            minor,
            patch,
            pre: Prerelease::EMPTY,
            build: BuildMetadata::EMPTY,
        })
    }
}

impl fmt::Display for Bump {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Bump {
    type Err = ParseNameError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "major" => Ok(Bump::Major),
            "minor" => Ok(Bump::Minor),
            "patch" => Ok(Bump::Patch),
            _ => Err(ParseNameError {
                input: s.to_owned(),
                expected: "major, minor or patch",
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bumps_and_finishes_pre_releases() {
        let v = |s: &str| Version::parse(s).expect("valid");
        for (from, bump, to) in [
            ("1.2.3", Bump::Patch, "1.2.4"),
            ("1.2.3", Bump::Minor, "1.3.0"),
            ("1.2.3", Bump::Major, "2.0.0"),
            ("1.0.0-rc.1", Bump::Major, "1.0.0"),
            ("1.1.0-rc.1", Bump::Minor, "1.1.0"),
            ("1.1.1-rc.1", Bump::Patch, "1.1.1"),
            ("1.2.3+build", Bump::Patch, "1.2.4"),
        ] {
            assert_eq!(bump.apply(&v(from)), Some(v(to)), "{from} {bump}");
        }
        assert!(Bump::Patch < Bump::Minor && Bump::Minor < Bump::Major);
        assert_eq!("minor".parse::<Bump>(), Ok(Bump::Minor));
        assert!("tiny".parse::<Bump>().is_err());
    }
}
