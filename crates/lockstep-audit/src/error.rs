//! The error type of every fallible operation on an [`AuditLog`](crate::AuditLog).

use std::io;
use std::path::PathBuf;

/// What went wrong while reading or writing an audit log.
///
/// A log that reads fine but fails verification is not an error: [`AuditLog::verify`]
/// returns a [`VerifyReport`](crate::VerifyReport) that names the first bad record.
///
/// [`AuditLog::verify`]: crate::AuditLog::verify
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The directory meant to hold the log could not be created.
    #[error("cannot create the directory {path} for the audit log")]
    CreateDir {
        /// The directory.
        path: PathBuf,
        /// The underlying I/O error.
        #[source]
        source: io::Error,
    },
    /// The log file could not be opened or created.
    #[error("cannot open the audit log {path}")]
    Open {
        /// The log file.
        path: PathBuf,
        /// The underlying I/O error.
        #[source]
        source: io::Error,
    },
    /// The exclusive file lock could not be taken.
    #[error("cannot lock the audit log {path}")]
    Lock {
        /// The log file.
        path: PathBuf,
        /// The underlying I/O error.
        #[source]
        source: io::Error,
    },
    /// Reading the log failed.
    #[error("cannot read the audit log {path}")]
    Read {
        /// The log file.
        path: PathBuf,
        /// The underlying I/O error.
        #[source]
        source: io::Error,
    },
    /// Writing, syncing or replacing the log failed.
    #[error("cannot write the audit log {path}")]
    Write {
        /// The file that was being written (the log, or the temporary file of a repair).
        path: PathBuf,
        /// The underlying I/O error.
        #[source]
        source: io::Error,
    },
    /// A line of the log is not a record (see [`AuditLog::records`](crate::AuditLog::records)).
    #[error("line {line} of the audit log {path} is not a valid record")]
    Parse {
        /// The log file.
        path: PathBuf,
        /// The line, counted from 1.
        line: u64,
        /// Why it did not parse.
        #[source]
        source: serde_json::Error,
    },
    /// The last complete line is well-formed JSON but not a record.
    ///
    /// A crash mid-write cannot produce that, so it is not repaired automatically:
    /// someone has to look at the file.
    #[error(
        "the last line of the audit log {path} (at byte {offset}) is JSON but not an audit record; refusing to append"
    )]
    CorruptTail {
        /// The log file.
        path: PathBuf,
        /// Byte offset where the offending line starts.
        offset: u64,
        /// Why it is not a record.
        #[source]
        source: serde_json::Error,
    },
    /// The file kept changing under the lock (replaced or torn again) and the append gave up.
    #[error(
        "the audit log {path} kept changing while appending; giving up after {attempts} attempts"
    )]
    Unstable {
        /// The log file.
        path: PathBuf,
        /// How many times the append started over.
        attempts: u32,
    },
}

/// The broad class of an [`Error`], for callers that branch on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// An operating-system I/O failure (permissions, disk full, missing directory…).
    Io,
    /// The file lock could not be taken.
    Lock,
    /// The file's content is damaged in a way that needs a human.
    Corrupt,
    /// Other writers kept changing the file.
    Contended,
}

impl Error {
    /// The class of this error.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::CreateDir { .. }
            | Error::Open { .. }
            | Error::Read { .. }
            | Error::Write { .. } => ErrorKind::Io,
            Error::Lock { .. } => ErrorKind::Lock,
            Error::Parse { .. } | Error::CorruptTail { .. } => ErrorKind::Corrupt,
            Error::Unstable { .. } => ErrorKind::Contended,
        }
    }
}
