//! Which core version a vertical is on now, and how we know.

use std::path::{Path, PathBuf};

use lockstep_manifest::CoreMode;
use semver::Version;
use serde::Serialize;

use crate::workspace::Vertical;

/// Where the current version came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[non_exhaustive]
pub enum CurrentSource {
    /// `--current`.
    Flag,
    /// The version a lockfile resolved for core.
    Lockfile {
        /// The lockfile.
        file: PathBuf,
    },
    /// An exact pin in the package manifest.
    Pin {
        /// The package manifest.
        file: PathBuf,
        /// The pin as written.
        pin: String,
    },
    /// The latest tag reachable from HEAD.
    GitDescribe {
        /// The tag.
        tag: String,
    },
}

impl std::fmt::Display for CurrentSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CurrentSource::Flag => f.write_str("--current"),
            CurrentSource::Lockfile { file } => write!(f, "lockfile {}", file.display()),
            CurrentSource::Pin { file, pin } => write!(f, "pin {pin} in {}", file.display()),
            CurrentSource::GitDescribe { tag } => write!(f, "git describe --tags ({tag})"),
        }
    }
}

/// The current core version and its source.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Current {
    /// The version.
    pub version: Version,
    /// How it was found.
    pub source: CurrentSource,
}

/// Errors while finding the current version.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Nothing told us the version.
    #[error("cannot tell which core version {manifest} is on: {tried}; pass --current VERSION")]
    Unknown {
        /// The manifest.
        manifest: PathBuf,
        /// What was tried, for the message.
        tried: String,
    },
    /// A file named by the manifest could not be read.
    #[error("cannot read {path} (named by core.file in the manifest): {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
}

impl Error {
    /// A short machine-readable kind.
    pub fn kind(&self) -> &'static str {
        match self {
            Error::Unknown { .. } => "unknown_current_version",
            Error::Read { .. } => "io",
        }
    }
}

/// Finds the current version: `flag`, else the manifest's `core` section (the lockfile's
/// resolved version, then an exact pin), else the latest reachable git tag.
pub fn detect(vertical: &Vertical, flag: Option<&Version>) -> Result<Current, Error> {
    if let Some(v) = flag {
        return Ok(Current {
            version: v.clone(),
            source: CurrentSource::Flag,
        });
    }
    let mut tried = Vec::new();
    if let Some(CoreMode::Pin { file, dependency }) = vertical
        .manifest
        .core
        .as_ref()
        .and_then(|c| c.mode.as_ref())
    {
        let pkg_file = vertical.dir.join(file);
        if !pkg_file.is_file() {
            return Err(Error::Read {
                path: pkg_file,
                source: std::io::Error::new(std::io::ErrorKind::NotFound, "no such file"),
            });
        }
        let pkg_dir = pkg_file.parent().unwrap_or(&vertical.dir).to_path_buf();
        if let Some((lock, version)) = from_lockfiles(&pkg_dir, &vertical.root, dependency) {
            return Ok(Current {
                version,
                source: CurrentSource::Lockfile { file: lock },
            });
        }
        tried.push(format!(
            "no lockfile near {} resolves `{dependency}`",
            pkg_file.display()
        ));
        let text = std::fs::read_to_string(&pkg_file).map_err(|source| Error::Read {
            path: pkg_file.clone(),
            source,
        })?;
        match exact_pin(&pkg_file, &text, dependency) {
            Some((pin, version)) => {
                return Ok(Current {
                    version,
                    source: CurrentSource::Pin {
                        file: pkg_file,
                        pin,
                    },
                });
            }
            None => tried.push(format!(
                "the pin of `{dependency}` in {} is not an exact version or tag",
                pkg_file.display()
            )),
        }
    }
    match crate::git::describe_tag(&vertical.root) {
        Some(tag) => {
            let v = tag.strip_prefix('v').unwrap_or(&tag);
            match Version::parse(v) {
                Ok(version) => {
                    return Ok(Current {
                        version,
                        source: CurrentSource::GitDescribe { tag },
                    });
                }
                Err(_) => tried.push(format!(
                    "the latest git tag {tag:?} is not a SemVer version"
                )),
            }
        }
        None => tried.push("git describe --tags found no tag".to_owned()),
    }
    Err(Error::Unknown {
        manifest: vertical.manifest_path.clone(),
        tried: tried.join("; "),
    })
}

/// Looks for the version a lockfile resolved for `dependency`, from `dir` up to `root`.
fn from_lockfiles(dir: &Path, root: &Path, dependency: &str) -> Option<(PathBuf, Version)> {
    let mut d = Some(dir);
    while let Some(cur) = d {
        for name in ["Cargo.lock", "uv.lock", "poetry.lock"] {
            let p = cur.join(name);
            if let Some(v) = std::fs::read_to_string(&p)
                .ok()
                .and_then(|text| toml_lock_version(&text, dependency))
            {
                return Some((p, v));
            }
        }
        let p = cur.join("package-lock.json");
        if let Some(v) = std::fs::read_to_string(&p)
            .ok()
            .and_then(|text| npm_lock_version(&text, dependency))
        {
            return Some((p, v));
        }
        if cur == root {
            break;
        }
        d = cur.parent();
    }
    None
}

pub use lockstep_pins::{npm_lock_version, toml_lock_version};

/// An exact pin: `=1.2.0` (Cargo), `1.2.0` / `=1.2.0` (npm), `==1.2.0` (Python), or a git tag
/// `v1.2.0`. Ranges say nothing exact about what is installed, so they are not used.
fn exact_pin(file: &Path, text: &str, dependency: &str) -> Option<(String, Version)> {
    use lockstep_pins::{Ecosystem, GitRef, Pin};
    let eco = Ecosystem::from_file_name(file.file_name()?.to_str()?)?;
    let deps = lockstep_pins::pins(eco, text, dependency).ok()?;
    deps.iter().find_map(|d| {
        let candidate = match &d.pin {
            Pin::Version(req) => {
                let req = req.trim();
                let exact = req
                    .strip_prefix("==")
                    .or_else(|| req.strip_prefix('='))
                    .map(str::trim);
                match (eco, exact) {
                    (_, Some(v)) => v.to_owned(),
                    (Ecosystem::Npm, None) => req.to_owned(),
                    _ => return None,
                }
            }
            Pin::Git {
                reference: GitRef::Tag(tag),
                ..
            } => tag.strip_prefix('v').unwrap_or(tag).to_owned(),
            _ => return None,
        };
        let version = Version::parse(&candidate).ok()?;
        Some((d.pin.describe(), version))
    })
}

impl lockstep_state::Classify for Error {
    fn kind(&self) -> &'static str {
        Error::kind(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_lockfiles() {
        let cargo = "version = 4\n\n[[package]]\nname = \"core\"\nversion = \"1.1.0\"\nsource = \"git+file:///x?tag=v1.1.0#abc\"\n\n[[package]]\nname = \"app\"\nversion = \"0.1.0\"\n";
        assert_eq!(
            toml_lock_version(cargo, "core"),
            Some(Version::new(1, 1, 0))
        );
        assert_eq!(toml_lock_version(cargo, "nope"), None);
        let npm = r#"{"lockfileVersion": 3, "packages": {"": {}, "node_modules/core": {"version": "2.0.1"}}}"#;
        assert_eq!(npm_lock_version(npm, "core"), Some(Version::new(2, 0, 1)));
    }
}
