//! One mutating command at a time per work tree: an exclusive lock on `.lockstep/lock`.
//!
//! The lock is an OS file lock (`File::try_lock`), so it is released when its holder exits,
//! however it exits: a `kill -9` never leaves a stale lock behind. The holder writes who it is
//! into the file, so a refused command can name it.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, Write};
use std::path::{Path, PathBuf};

/// The lock file's name inside the state directory.
pub use crate::layout::LOCK_FILE;

/// Errors while taking the lock.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Another process holds the lock.
    #[error(
        "another lockstep command holds {path}: {holder}; wait for it to finish (a crashed holder releases the lock by itself)"
    )]
    Held {
        /// The lock file.
        path: PathBuf,
        /// Who holds it, as it described itself (`pid 4242: upgrade --target 1.1.0 since …`).
        holder: String,
    },
    /// The lock file could not be created or locked.
    #[error("cannot lock {path}: {source}")]
    Io {
        /// The lock file.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
}

/// A held lock; dropping it releases the lock.
#[derive(Debug)]
pub struct Lock {
    file: File,
    path: PathBuf,
}

impl Lock {
    /// Takes the lock in `state_dir` (created if missing) without waiting, describing the holder
    /// as `what` (the command line, say).
    pub fn acquire(state_dir: &Path, what: &str) -> Result<Lock, Error> {
        let path = state_dir.join(LOCK_FILE);
        let io = |source| Error::Io {
            path: path.clone(),
            source,
        };
        std::fs::create_dir_all(state_dir).map_err(io)?;
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(io)?;
        match file.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => {
                let mut holder = String::new();
                let _ = file.read_to_string(&mut holder);
                let holder = holder.trim();
                return Err(Error::Held {
                    path,
                    holder: if holder.is_empty() {
                        "a process that has not described itself yet".to_owned()
                    } else {
                        holder.to_owned()
                    },
                });
            }
            Err(std::fs::TryLockError::Error(e)) => return Err(io(e)),
        }
        let since = crate::time::rfc3339(std::time::SystemTime::now());
        let text = format!("pid {}: {what} (since {since})\n", std::process::id());
        file.set_len(0).map_err(io)?;
        file.rewind().map_err(io)?;
        file.write_all(text.as_bytes()).map_err(io)?;
        file.flush().map_err(io)?;
        Ok(Lock { file, path })
    }

    /// The lock file.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for Lock {
    fn drop(&mut self) {
        let _ = self.file.set_len(0);
        let _ = self.file.unlock();
    }
}

impl crate::Classify for Error {
    fn kind(&self) -> &'static str {
        match self {
            Error::Held { .. } => "lock_held",
            Error::Io { .. } => "io",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn second_holder_is_refused_and_named() {
        let dir = tempfile::tempdir().unwrap();
        let first = Lock::acquire(dir.path(), "upgrade --target 1.1.0").unwrap();
        let err = Lock::acquire(dir.path(), "rollback").unwrap_err();
        let msg = err.to_string();
        assert!(
            msg.contains(&format!("pid {}", std::process::id())),
            "{msg}"
        );
        assert!(msg.contains("upgrade --target 1.1.0"), "{msg}");
        drop(first);
        Lock::acquire(dir.path(), "rollback").unwrap();
    }
}
