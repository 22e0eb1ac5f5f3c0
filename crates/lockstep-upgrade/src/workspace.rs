//! Finding a vertical: its manifest, the work tree that holds it, its state directory and its
//! registry.

use std::path::{Path, PathBuf};

use lockstep_manifest::{Invalid, VerticalManifest};

/// The name lockstep looks for when no `--manifest` is given.
pub const MANIFEST_FILE: &str = "vertical_manifest.yaml";
/// The environment variable that names the default registry.
pub const REGISTRY_ENV: &str = "LOCKSTEP_REGISTRY";

/// Errors while locating or reading a vertical.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// No manifest between the start directory and the repository root.
    #[error(
        "no {MANIFEST_FILE} found in {start} or its parents up to the repository root; pass --manifest PATH"
    )]
    ManifestNotFound {
        /// Where the search started.
        start: PathBuf,
    },
    /// A file could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The manifest does not validate.
    #[error("{path}: {invalid}")]
    Invalid {
        /// The manifest file.
        path: PathBuf,
        /// Every problem found.
        invalid: Invalid,
    },
    /// No registry was named anywhere.
    #[error(
        "no registry configured; pass --registry SPEC, set {REGISTRY_ENV}, or add core.registry to {manifest}"
    )]
    NoRegistry {
        /// The manifest that has no `core.registry`.
        manifest: PathBuf,
    },
}

impl Error {
    /// A short machine-readable kind for JSON errors.
    pub fn kind(&self) -> &'static str {
        match self {
            Error::ManifestNotFound { .. } => "manifest_not_found",
            Error::Read { .. } => "io",
            Error::Invalid { .. } => "invalid_manifest",
            Error::NoRegistry { .. } => "no_registry",
        }
    }
}

/// A vertical as found on disk.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Vertical {
    /// The manifest file.
    pub manifest_path: PathBuf,
    /// The directory holding the manifest.
    pub dir: PathBuf,
    /// The root of the git work tree holding the manifest (the manifest's directory when it is
    /// not in one): where `.lockstep/` lives.
    pub root: PathBuf,
    /// The parsed manifest.
    pub manifest: VerticalManifest,
}

impl Vertical {
    /// Loads the vertical from `--manifest` if given, else by searching from `cwd` upwards.
    pub fn load(manifest: Option<&Path>, cwd: &Path) -> Result<Self, Error> {
        let path = match manifest {
            Some(p) => absolute(cwd, p),
            None => find_manifest(cwd)?,
        };
        let text = std::fs::read_to_string(&path).map_err(|source| Error::Read {
            path: path.clone(),
            source,
        })?;
        let manifest = VerticalManifest::parse(&text).map_err(|invalid| Error::Invalid {
            path: path.clone(),
            invalid,
        })?;
        let dir = path
            .parent()
            .map_or_else(|| cwd.to_path_buf(), Path::to_path_buf);
        let root = work_tree_root(&dir).unwrap_or_else(|| dir.clone());
        Ok(Vertical {
            manifest_path: path,
            dir,
            root,
            manifest,
        })
    }

    /// `.lockstep/` at the root of the work tree.
    pub fn state_dir(&self) -> PathBuf {
        lockstep_state::layout::state_dir(&self.root)
    }

    /// The registry spec: `--registry`, else `LOCKSTEP_REGISTRY` (passed in by the caller),
    /// else `core.registry` in the manifest (a relative path there is relative to the manifest).
    pub fn registry_spec(&self, flag: Option<&str>, env: Option<&str>) -> Result<String, Error> {
        if let Some(s) = flag.or(env).filter(|s| !s.is_empty()) {
            return Ok(s.to_owned());
        }
        let from_manifest = self
            .manifest
            .core
            .as_ref()
            .and_then(|c| c.registry.as_deref())
            .ok_or_else(|| Error::NoRegistry {
                manifest: self.manifest_path.clone(),
            })?;
        Ok(resolve_spec(&self.dir, from_manifest))
    }
}

/// A registry spec written in a file is relative to that file's directory when it is a path.
pub fn resolve_spec(base: &Path, spec: &str) -> String {
    let is_remote =
        spec.starts_with("https://") || spec.starts_with("http://") || spec.starts_with("github:");
    if is_remote || Path::new(spec).is_absolute() {
        spec.to_owned()
    } else {
        base.join(spec).display().to_string()
    }
}

fn absolute(cwd: &Path, p: &Path) -> PathBuf {
    if p.is_absolute() {
        p.to_path_buf()
    } else {
        cwd.join(p)
    }
}

/// Searches `start` and its parents for the manifest, stopping at the work tree's root.
pub fn find_manifest(start: &Path) -> Result<PathBuf, Error> {
    let mut dir = Some(start);
    while let Some(d) = dir {
        let candidate = d.join(MANIFEST_FILE);
        if candidate.is_file() {
            return Ok(candidate);
        }
        if d.join(".git").exists() {
            break;
        }
        dir = d.parent();
    }
    Err(Error::ManifestNotFound {
        start: start.to_path_buf(),
    })
}

pub use lockstep_state::layout::work_tree_root;

impl lockstep_state::Classify for Error {
    fn kind(&self) -> &'static str {
        Error::kind(self)
    }
}
