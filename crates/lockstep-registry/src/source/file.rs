//! A release index on the local file system.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use lockstep_manifest::{MAX_INDEX_BYTES, Pos, Problem, ProblemKind, Release, ReleaseIndex};

use crate::{Error, ReleaseSource};

/// The file name looked for when a SPEC names a directory.
pub const INDEX_FILE_NAME: &str = "releases.json";

/// A `releases.json` on disk, or a directory holding one.
#[derive(Debug, Clone)]
pub struct FileIndex {
    path: PathBuf,
}

impl FileIndex {
    /// A source reading `path`: a release index file, or a directory holding `releases.json`.
    /// Nothing is read until [`ReleaseSource::releases`].
    pub fn new(path: impl Into<PathBuf>) -> Self {
        FileIndex { path: path.into() }
    }

    /// The file that will be read.
    pub fn file(&self) -> PathBuf {
        if self.path.is_dir() {
            self.path.join(INDEX_FILE_NAME)
        } else {
            self.path.clone()
        }
    }
}

impl ReleaseSource for FileIndex {
    fn describe(&self) -> String {
        self.file().display().to_string()
    }

    fn releases(&self) -> Result<Vec<Release>, Error> {
        let path = self.file();
        let span = tracing::info_span!("read_index", path = %path.display());
        let _entered = span.enter();
        let text = read_bounded(&path)?;
        let index = ReleaseIndex::parse(&text).map_err(|invalid| Error::InvalidData {
            what: "release index".into(),
            location: path.display().to_string(),
            problems: invalid.problems,
        })?;
        tracing::debug!(releases = index.releases.len(), "read release index");
        Ok(index.releases)
    }
}

/// Reads `path` as UTF-8, refusing files over [`MAX_INDEX_BYTES`] before reading them.
fn read_bounded(path: &Path) -> Result<String, Error> {
    let meta = fs::metadata(path).map_err(|e| match e.kind() {
        io::ErrorKind::NotFound => Error::FileNotFound {
            path: path.to_owned(),
        },
        _ => Error::io("read", path, e),
    })?;
    if meta.len() > MAX_INDEX_BYTES as u64 {
        return Err(Error::TooLarge {
            location: path.display().to_string(),
            limit: MAX_INDEX_BYTES as u64,
        });
    }
    let bytes = fs::read(path).map_err(|e| Error::io("read", path, e))?;
    String::from_utf8(bytes).map_err(|e| Error::InvalidData {
        what: "release index".into(),
        location: path.display().to_string(),
        problems: vec![not_utf8(e.utf8_error().valid_up_to())],
    })
}

/// The problem of a text that is not UTF-8 at byte `offset`.
pub(crate) fn not_utf8(offset: usize) -> Problem {
    Problem::new(
        Pos::UNKNOWN,
        "",
        ProblemKind::Syntax,
        format!("not UTF-8 text (invalid byte at offset {offset}); expected a JSON document"),
    )
}
