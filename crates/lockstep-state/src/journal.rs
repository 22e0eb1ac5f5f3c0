//! A typed journal file: the record of a transaction in flight, with a schema tag.
//!
//! Each workflow defines its own journal type (what its steps are and what recovery needs);
//! this module only makes it durable: [`JournalFile::save`] writes atomically before a step is
//! taken, [`JournalFile::load`] refuses a file whose `schema` is not the expected one, and
//! [`JournalFile::remove`] ends the transaction durably.

use std::path::{Path, PathBuf};

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::fsx;

/// Errors reading or writing a journal.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// I/O on the journal file.
    #[error("cannot {op} the journal {path}: {source}")]
    Io {
        /// `read`, `write` or `remove`.
        op: &'static str,
        /// The journal file.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The journal is not one this version of lockstep wrote.
    #[error(
        "the journal {path} cannot be read ({message}); it was not written by this version of lockstep, or was edited. Inspect it, undo by hand, then delete it"
    )]
    Corrupt {
        /// The journal file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
}

impl crate::Classify for Error {
    fn kind(&self) -> &'static str {
        match self {
            Error::Io { .. } => "io",
            Error::Corrupt { .. } => "journal_corrupt",
        }
    }
    fn severity(&self) -> crate::Severity {
        match self {
            Error::Io { .. } => crate::Severity::Input,
            Error::Corrupt { .. } => crate::Severity::Inconsistent,
        }
    }
}

/// A journal file at a fixed path with an expected schema tag.
#[derive(Debug, Clone)]
pub struct JournalFile {
    path: PathBuf,
    schema: &'static str,
}

impl JournalFile {
    /// The journal at `path` whose `"schema"` field must equal `schema`.
    pub fn new(path: PathBuf, schema: &'static str) -> Self {
        JournalFile { path, schema }
    }

    /// The file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Reads the journal, `None` when there is none.
    pub fn load<T: DeserializeOwned>(&self) -> Result<Option<T>, Error> {
        let text = match std::fs::read_to_string(&self.path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(source) => {
                return Err(Error::Io {
                    op: "read",
                    path: self.path.clone(),
                    source,
                });
            }
        };
        let corrupt = |message: String| Error::Corrupt {
            path: self.path.clone(),
            message,
        };
        let value: serde_json::Value =
            serde_json::from_str(&text).map_err(|e| corrupt(e.to_string()))?;
        match value.get("schema").and_then(|s| s.as_str()) {
            Some(s) if s == self.schema => {}
            other => {
                return Err(corrupt(format!(
                    "schema {:?}, expected {:?}",
                    other.unwrap_or("(none)"),
                    self.schema
                )));
            }
        }
        serde_json::from_value(value)
            .map(Some)
            .map_err(|e| corrupt(e.to_string()))
    }

    /// Writes the journal atomically (the old one or the new one survives a crash).
    pub fn save<T: Serialize>(&self, journal: &T) -> Result<(), Error> {
        let mut bytes = serde_json::to_vec_pretty(journal).map_err(|e| Error::Corrupt {
            path: self.path.clone(),
            message: e.to_string(),
        })?;
        bytes.push(b'\n');
        fsx::write_atomic(&self.path, &bytes).map_err(|source| Error::Io {
            op: "write",
            path: self.path.clone(),
            source,
        })
    }

    /// Removes the journal durably: the transaction is over. Absent is fine.
    pub fn remove(&self) -> Result<(), Error> {
        fsx::remove_durable(&self.path)
            .map(drop)
            .map_err(|source| Error::Io {
                op: "remove",
                path: self.path.clone(),
                source,
            })
    }

    /// Whether a journal is waiting.
    pub fn exists(&self) -> bool {
        self.path.exists()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct J {
        schema: String,
        step: String,
    }

    #[test]
    fn round_trips_refuses_other_schemas_and_removes() {
        let dir = tempfile::tempdir().unwrap();
        let f = JournalFile::new(dir.path().join("j.json"), "t/v1");
        assert_eq!(f.load::<J>().unwrap(), None);
        let j = J {
            schema: "t/v1".into(),
            step: "started".into(),
        };
        f.save(&j).unwrap();
        assert_eq!(f.load::<J>().unwrap(), Some(j));
        let other = JournalFile::new(dir.path().join("j.json"), "t/v2");
        let err = other.load::<J>().unwrap_err().to_string();
        assert!(err.contains("j.json") && err.contains("t/v2"), "{err}");
        f.remove().unwrap();
        f.remove().unwrap();
        assert!(!f.exists());
        std::fs::write(f.path(), "{not json").unwrap();
        assert!(matches!(f.load::<J>(), Err(Error::Corrupt { .. })));
    }
}
