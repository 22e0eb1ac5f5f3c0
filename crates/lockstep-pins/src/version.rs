//! A package's own version: where it is written, setting it, bumping it.

use crate::splice::{self, Splice};
use crate::{Bump, Change, Ecosystem, Edit, Error, Location, PinValue, cargo, json, npm, python};

/// Sets the package's own version where this file writes it.
pub(crate) fn set_version(file: Ecosystem, text: &str, new: &str) -> Result<Edit, Error> {
    validate(file, new)?;
    let (location, old, splice) = site(file, text, new)?;
    let name = crate::package(file, text)?.name.unwrap_or_default();
    if old == new {
        return Ok(Edit {
            text: text.to_owned(),
            changes: Vec::new(),
            skipped: vec![crate::Skipped {
                location,
                reason: crate::SkipReason::AlreadySet,
            }],
        });
    }
    Ok(Edit {
        text: splice::apply(text, vec![splice]),
        changes: vec![Change {
            location,
            name,
            from: Some(PinValue::Version(old)),
            to: PinValue::Version(new.to_owned()),
        }],
        skipped: Vec::new(),
    })
}

/// Bumps the version where this file writes it.
pub(crate) fn bump_version(file: Ecosystem, text: &str, bump: Bump) -> Result<Edit, Error> {
    let (_, old, _) = site(file, text, "")?;
    let new = bumped(&old, bump).map_err(|reason| Error::InvalidVersion {
        file,
        version: old.clone(),
        reason,
    })?;
    set_version(file, text, &new)
}

/// The location, current value and a splice writing `new` there.
fn site(file: Ecosystem, text: &str, new: &str) -> Result<(Location, String, Splice), Error> {
    match file {
        Ecosystem::Cargo => match cargo::version_site(text)? {
            cargo::VersionSite::Here(location, s) => {
                let splice = s.replace(text, new);
                Ok((location, s.value, splice))
            }
            cargo::VersionSite::Inherited => Err(Error::VersionNotHere {
                file,
                location: "[package].version".into(),
                how: "inherited from the workspace (`version.workspace = true`)",
                instead: "in `[workspace.package] version` of the workspace root's Cargo.toml",
            }),
            cargo::VersionSite::Missing(searched) => Err(Error::NoVersion { file, searched }),
        },
        Ecosystem::Python => match python::version_site(text)? {
            python::VersionSite::Here(location, s) => {
                let splice = s.replace(text, new);
                Ok((location, s.value, splice))
            }
            python::VersionSite::Dynamic => Err(Error::VersionNotHere {
                file,
                location: "[project].version".into(),
                how: "dynamic (computed by the build backend)",
                instead: "where the build backend reads it (a tag, or a `__version__` in the code)",
            }),
            python::VersionSite::Missing(searched) => Err(Error::NoVersion { file, searched }),
        },
        Ecosystem::Npm => match npm::version_site(text)? {
            Some((old, span)) => Ok((
                Location::new("", "version"),
                old,
                Splice::new(span, json::encode(new)),
            )),
            None => Err(Error::NoVersion {
                file,
                searched: vec!["version".into()],
            }),
        },
    }
}

fn validate(file: Ecosystem, version: &str) -> Result<(), Error> {
    let invalid = |reason| Error::InvalidVersion {
        file,
        version: version.to_owned(),
        reason,
    };
    match file {
        Ecosystem::Cargo | Ecosystem::Npm => semver::Version::parse(version)
            .map(drop)
            .map_err(|_| invalid("expected SemVer such as `1.4.0` or `2.0.0-rc.1`")),
        Ecosystem::Python => {
            let ok = version.starts_with(|c: char| c.is_ascii_digit())
                && version
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '+' | '!' | '-' | '_'));
            if ok {
                Ok(())
            } else {
                Err(invalid(
                    "expected a PEP 440 version such as `1.4.0` or `2.0.0rc1`",
                ))
            }
        }
    }
}

/// `1.2.3` bumped. A pre-release is released by the bump that reaches it
/// (`1.3.0-rc.1` minor → `1.3.0`), as npm and cargo-release do; build
/// metadata is dropped.
fn bumped(version: &str, bump: Bump) -> Result<String, &'static str> {
    let v = semver::Version::parse(version).map_err(
        |_| "a bump needs a MAJOR.MINOR.PATCH version; set the new version explicitly instead",
    )?;
    let pre = !v.pre.is_empty();
    let (major, minor, patch) = match bump {
        Bump::Major if pre && v.minor == 0 && v.patch == 0 => (v.major, 0, 0),
        Bump::Major => (v.major + 1, 0, 0),
        Bump::Minor if pre && v.patch == 0 => (v.major, v.minor, 0),
        Bump::Minor => (v.major, v.minor + 1, 0),
        Bump::Patch if pre => (v.major, v.minor, v.patch),
        Bump::Patch => (v.major, v.minor, v.patch + 1),
    };
    Ok(format!("{major}.{minor}.{patch}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bumps() {
        let cases = [
            ("1.2.3", Bump::Major, "2.0.0"),
            ("1.2.3", Bump::Minor, "1.3.0"),
            ("1.2.3", Bump::Patch, "1.2.4"),
            ("0.9.9", Bump::Minor, "0.10.0"),
            ("1.3.0-rc.1", Bump::Minor, "1.3.0"),
            ("1.3.1-rc.1", Bump::Minor, "1.4.0"),
            ("2.0.0-beta.2", Bump::Major, "2.0.0"),
            ("1.2.4-alpha", Bump::Patch, "1.2.4"),
            ("1.2.3+build.5", Bump::Patch, "1.2.4"),
        ];
        for (from, bump, to) in cases {
            assert_eq!(bumped(from, bump).as_deref(), Ok(to), "{from} {bump:?}");
        }
        assert!(bumped("1.2", Bump::Patch).is_err());
    }
}
