//! Pack sources: what a SOURCE argument or an index entry names, and fetching it into a
//! staging directory.

use std::io::Read;
use std::path::{Path, PathBuf};

use lockstep_manifest::{PACK_FILE_NAME, PackManifest};
use lockstep_vocab::{Ecosystem, Requirement};

use crate::Error;

/// The largest `pack.yaml` read (the parser refuses more than 1 MiB; reading stops just past).
const MAX_MANIFEST_READ: u64 = 1024 * 1024 + 1;
/// The largest archive downloaded.
const MAX_ARCHIVE_BYTES: u64 = 256 * 1024 * 1024;

/// What a SOURCE names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// A local directory holding `pack.yaml`.
    Dir(PathBuf),
    /// A git repository (any URL git clones, `file://` offline) at a ref, or its default branch.
    Git {
        /// The URL.
        url: String,
        /// A branch, tag or commit.
        reference: Option<String>,
    },
    /// A `.tar.gz` archive, checked against a sha256.
    Archive {
        /// The URL.
        url: String,
    },
    /// A pack looked up in the configured indexes.
    Index {
        /// Its name.
        name: String,
        /// The versions that will do (`*` when not given).
        requirement: Requirement,
    },
}

impl Source {
    /// Reads a SOURCE argument; `cwd` resolves relative directories.
    ///
    /// ```
    /// use std::path::Path;
    /// use lockstep_packs::Source;
    ///
    /// let s = Source::parse("file:///srv/packs/pg.git@v1.2.0", Path::new("/")).unwrap();
    /// assert_eq!(s, Source::Git { url: "file:///srv/packs/pg.git".into(), reference: Some("v1.2.0".into()) });
    /// assert!(matches!(Source::parse("pg@^1.2", Path::new("/nonexistent")).unwrap(), Source::Index { .. }));
    /// ```
    pub fn parse(text: &str, cwd: &Path) -> Result<Source, Error> {
        let bad = |reason: &str| Error::BadSource {
            text: text.to_owned(),
            reason: reason.to_owned(),
        };
        let t = text.trim();
        if t.is_empty() {
            return Err(bad("it is empty"));
        }
        if let Some((scheme, rest)) = t.split_once("://") {
            let path_start = rest.find('/').unwrap_or(rest.len());
            let (url, reference) = match rest[path_start..].rfind('@') {
                Some(at) => {
                    let at = path_start + at;
                    (
                        format!("{scheme}://{}", &rest[..at]),
                        Some(rest[at + 1..].to_owned()),
                    )
                }
                None => (t.to_owned(), None),
            };
            if reference.as_deref() == Some("") {
                return Err(bad("nothing follows '@'; expected a branch, tag or commit"));
            }
            if url.ends_with(".tar.gz") || url.ends_with(".tgz") {
                if scheme != "https" && scheme != "http" {
                    return Err(bad(
                        "archives are fetched over https:// (or http:// to loopback)",
                    ));
                }
                return Ok(Source::Archive { url });
            }
            return Ok(Source::Git { url, reference });
        }
        let path = cwd.join(t);
        if path.is_dir() {
            return Ok(Source::Dir(path.canonicalize().unwrap_or(path)));
        }
        if t.contains('/') || t.starts_with('.') {
            return Err(bad("no such directory"));
        }
        let (name, req) = match t.split_once('@') {
            Some((n, r)) => (n, r),
            None => (t, "*"),
        };
        if !lockstep_manifest::is_pack_name(name) {
            return Err(bad("not a directory, and not a pack name"));
        }
        let requirement = Requirement::parse(req, Ecosystem::Cargo).map_err(|_| {
            bad(&format!(
                "`{req}` is not a version requirement; expected Cargo syntax such as ^1.2 or =1.0.0"
            ))
        })?;
        Ok(Source::Index {
            name: name.to_owned(),
            requirement,
        })
    }

    /// Reads an index entry's `source` (a git URL, a directory, an archive URL).
    pub fn from_index(text: &str) -> Result<Source, Error> {
        match Source::parse(text, Path::new("/"))? {
            Source::Index { .. } => Err(Error::BadSource {
                text: text.to_owned(),
                reason: "an index entry's source must be a directory, a git URL or an archive URL"
                    .into(),
            }),
            s => Ok(s),
        }
    }
}

/// A pack fetched into staging: its files, its manifest, and where it came from.
#[derive(Debug, Clone)]
pub struct Fetched {
    /// The staged directory.
    pub dir: PathBuf,
    /// Its `pack.yaml`, parsed.
    pub manifest: PackManifest,
    /// Its `pack.yaml` as text.
    pub manifest_text: String,
    /// Where it came from, as resolved (a git source names the commit).
    pub source: String,
}

/// Fetches `source` into `dest` (which must not exist) and reads its `pack.yaml`.
/// `sha256` is required for archives.
pub(crate) fn fetch(
    source: &Source,
    shown: &str,
    sha256: Option<&str>,
    dest: &Path,
    opts: &lockstep_registry::Options,
) -> Result<Fetched, Error> {
    let fail = |message: String| Error::Fetch {
        source_text: shown.to_owned(),
        message,
    };
    if let Some(parent) = dest.parent() {
        std::fs::create_dir_all(parent).map_err(|e| Error::io("create", parent, e))?;
    }
    let resolved = match source {
        Source::Dir(dir) => {
            if !dir.join(PACK_FILE_NAME).is_file() {
                return Err(fail(format!("{} has no {PACK_FILE_NAME}", dir.display())));
            }
            // Validate before copying: a hostile pack costs nothing.
            read_manifest(dir)?;
            copy_tree(dir, dest)?;
            dir.display().to_string()
        }
        Source::Git { url, reference } => {
            let commit = lockstep_snapshot::clone_at(url, reference.as_deref(), dest)
                .map_err(|e| fail(error_chain(&e)))?;
            let git_dir = dest.join(".git");
            std::fs::remove_dir_all(&git_dir).map_err(|e| Error::io("remove", git_dir, e))?;
            format!("{url}@{commit}")
        }
        Source::Archive { url } => {
            let Some(sha) = sha256 else {
                return Err(fail("an archive needs a sha256 to be checked against; install it from an index that gives one".into()));
            };
            let file = dest.with_extension("tar.gz");
            let mut opts = opts.clone();
            opts.max_body_bytes = opts.max_body_bytes.max(MAX_ARCHIVE_BYTES);
            lockstep_registry::download_checked(url, sha, &file, &opts)
                .map_err(|e| fail(e.to_string()))?;
            unpack(&file, dest).map_err(|e| fail(format!("cannot unpack the archive: {e}")))?;
            let _ = std::fs::remove_file(&file);
            url.clone()
        }
        Source::Index { name, .. } => {
            return Err(fail(format!("{name} must be looked up in an index first")));
        }
    };
    let (manifest, manifest_text) = read_manifest(dest).map_err(|e| match e {
        // Name the file as the user knows it, not its staging copy.
        Error::InvalidManifest { problems, .. } => Error::InvalidManifest {
            path: PathBuf::from(format!("{shown}/{PACK_FILE_NAME}")),
            problems,
        },
        other => other,
    })?;
    Ok(Fetched {
        dir: dest.to_path_buf(),
        manifest,
        manifest_text,
        source: resolved,
    })
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        s.push_str(": ");
        s.push_str(&c.to_string());
        cur = c.source();
    }
    s
}

/// Reads and validates `dir/pack.yaml`; a file too large is refused without reading it all.
pub(crate) fn read_manifest(dir: &Path) -> Result<(PackManifest, String), Error> {
    let path = dir.join(PACK_FILE_NAME);
    let file = std::fs::File::open(&path).map_err(|e| Error::io("read", &path, e))?;
    let mut bytes = Vec::new();
    file.take(MAX_MANIFEST_READ)
        .read_to_end(&mut bytes)
        .map_err(|e| Error::io("read", &path, e))?;
    let text = String::from_utf8(bytes).map_err(|_| Error::InvalidManifest {
        path: path.clone(),
        problems: vec!["the file is not UTF-8 text".into()],
    })?;
    match PackManifest::parse(&text) {
        Ok(m) => Ok((m, text)),
        Err(invalid) => Err(Error::InvalidManifest {
            path,
            problems: invalid.problems.iter().map(ToString::to_string).collect(),
        }),
    }
}

/// Copies a directory tree (files keep their modes, symlinks stay symlinks), skipping `.git`.
pub(crate) fn copy_tree(from: &Path, to: &Path) -> Result<(), Error> {
    std::fs::create_dir_all(to).map_err(|e| Error::io("create", to, e))?;
    let entries = std::fs::read_dir(from).map_err(|e| Error::io("read", from, e))?;
    for entry in entries {
        let entry = entry.map_err(|e| Error::io("read", from, e))?;
        let name = entry.file_name();
        if name == ".git" {
            continue;
        }
        let src = entry.path();
        let dst = to.join(&name);
        let kind = entry.file_type().map_err(|e| Error::io("read", &src, e))?;
        if kind.is_dir() {
            copy_tree(&src, &dst)?;
        } else if kind.is_symlink() {
            let target = std::fs::read_link(&src).map_err(|e| Error::io("read", &src, e))?;
            std::os::unix::fs::symlink(target, &dst).map_err(|e| Error::io("create", &dst, e))?;
        } else if kind.is_file() {
            std::fs::copy(&src, &dst).map_err(|e| Error::io("copy", &src, e))?;
        }
    }
    Ok(())
}

/// Unpacks a `.tar.gz` into `dest`; an archive whose files all sit under one top directory
/// is unpacked from inside it. Paths leaving `dest` are refused by the tar reader.
fn unpack(file: &Path, dest: &Path) -> std::io::Result<()> {
    let tmp = dest.with_extension("unpack");
    std::fs::create_dir_all(&tmp)?;
    let gz = flate2::read::GzDecoder::new(std::fs::File::open(file)?);
    let mut archive = tar::Archive::new(gz);
    archive.set_preserve_permissions(true);
    archive.unpack(&tmp)?;
    let entries: Vec<_> = std::fs::read_dir(&tmp)?.collect::<Result<_, _>>()?;
    let root = match entries.as_slice() {
        [one] if one.file_type()?.is_dir() && !tmp.join(PACK_FILE_NAME).exists() => one.path(),
        _ => tmp.clone(),
    };
    std::fs::rename(&root, dest)?;
    if root != tmp {
        std::fs::remove_dir_all(&tmp)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sources_are_told_apart() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("local")).unwrap();
        let cwd = dir.path();
        let p = |t: &str| Source::parse(t, cwd);
        assert_eq!(
            p("local").unwrap(),
            Source::Dir(cwd.join("local").canonicalize().unwrap())
        );
        assert_eq!(
            p("file:///r/a@feature/x").unwrap(),
            Source::Git {
                url: "file:///r/a".into(),
                reference: Some("feature/x".into())
            }
        );
        assert_eq!(
            p("ssh://git@host/r.git").unwrap(),
            Source::Git {
                url: "ssh://git@host/r.git".into(),
                reference: None
            }
        );
        assert_eq!(
            p("https://h/p-1.0.0.tar.gz").unwrap(),
            Source::Archive {
                url: "https://h/p-1.0.0.tar.gz".into()
            }
        );
        assert!(matches!(p("pg").unwrap(), Source::Index { name, .. } if name == "pg"));
        for bad in ["./missing", "Not_A_Name", "pg@^^1", "file:///r@", ""] {
            assert!(matches!(p(bad), Err(Error::BadSource { .. })), "{bad}");
        }
    }
}
