//! Failures of the runner itself (not of the command it runs).

use std::io;
use std::path::PathBuf;

/// A failure of the runner itself.
///
/// A command that fails, crashes, times out or cannot be spawned is not an `Error`: it is a
/// [`RunResult`](crate::RunResult) with an [`Outcome`](crate::Outcome) saying so. `Error` is for
/// what keeps the runner from running anything (no pipe, no thread) and for [`kill_group`]
/// failures.
///
/// [`kill_group`]: crate::kill_group
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The pipe for the command's output could not be created.
    #[error("cannot create an output pipe for {program}")]
    Pipe {
        /// The program that was to run.
        program: PathBuf,
        /// The underlying I/O error.
        #[source]
        source: io::Error,
    },
    /// A helper thread (output reader, waiter, parallel worker) could not be started.
    #[error("cannot start the {role} thread for {program}")]
    Thread {
        /// What the thread was for.
        role: &'static str,
        /// The program that was to run.
        program: PathBuf,
        /// The underlying I/O error.
        #[source]
        source: io::Error,
    },
    /// Not a process group this crate may signal (0, 1, beyond `i32`, or the caller's own group).
    #[error("refusing to signal process group {pgid}: {reason}")]
    InvalidGroup {
        /// The process group id given.
        pgid: u32,
        /// Why it is refused.
        reason: &'static str,
    },
    /// Sending a signal to a process group failed (other than because it is gone).
    #[error("cannot send {signal} to process group {pgid}")]
    Signal {
        /// The process group.
        pgid: u32,
        /// The signal's name, such as `SIGTERM`.
        signal: &'static str,
        /// The underlying error (`EPERM`: the group belongs to someone else).
        #[source]
        source: io::Error,
    },
}

/// The broad class of an [`Error`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The operating system refused a resource (pipe, thread).
    Resources,
    /// The caller passed a process group that must not be signalled.
    InvalidInput,
    /// The process group exists but may not be signalled by this process.
    PermissionDenied,
    /// Another signalling failure.
    Signal,
}

impl Error {
    /// The class of this error.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::Pipe { .. } | Error::Thread { .. } => ErrorKind::Resources,
            Error::InvalidGroup { .. } => ErrorKind::InvalidInput,
            Error::Signal { source, .. } if source.kind() == io::ErrorKind::PermissionDenied => {
                ErrorKind::PermissionDenied
            }
            Error::Signal { .. } => ErrorKind::Signal,
        }
    }
}
