//! lockstep's state directory and the mechanisms every workflow shares.
//!
//! Every lockstep workflow (upgrade, release cascade, packs, fleet) keeps its state in a
//! `.lockstep/` directory and needs the same few things from it: files that survive a crash
//! whole or not at all, one mutating command at a time, a journal that says how far an
//! interrupted transaction got, failpoints for the crash tests, and timestamps. They live here
//! once, so crash-debris cleanup knows every temp file any crate can leave behind.
//!
//! - [`layout`]: the directory's name and the files in it.
//! - [`fsx`]: crash-safe writes (temp file → fsync → rename → fsync of the directory), durable
//!   removal, and the one temp-file naming rule with its debris sweep.
//! - [`lock`]: an OS file lock naming its holder; a `kill -9` never leaves it stale.
//! - [`journal`]: a typed JSON journal file with a schema tag, written atomically.
//! - [`failpoint`]: `LOCKSTEP_FAILPOINT=<name>` makes the process SIGKILL itself at that step.
//! - [`time`] and [`hex`]: RFC 3339 and calendar arithmetic without a date-time dependency,
//!   lower-case hex.
//! - [`Classify`]: the trait every workflow error implements so a caller (the command line, a
//!   service) maps it to an exit code or an HTTP status in one place.
//!
//! It deliberately does not know what a transaction *does*: the workflows own their steps and
//! recovery; this crate only makes their bookkeeping durable.
//!
//! # Limitations
//!
//! - Unix only: directory fsync and the failpoints' SIGKILL assume a Unix-like system.
//! - The lock is advisory: a process that does not take it is not stopped by it.
//!
//! ## Examples
//!
//! ```
//! use lockstep_state::{fsx, journal::JournalFile, lock::Lock};
//! use serde::{Deserialize, Serialize};
//!
//! #[derive(Debug, PartialEq, Serialize, Deserialize)]
//! struct Progress { schema: String, step: u32 }
//!
//! let dir = tempfile::tempdir()?;
//! let _held = Lock::acquire(dir.path(), "example")?;
//! let file = JournalFile::new(dir.path().join("journal.json"), "example.journal/v1");
//! assert!(file.load::<Progress>()?.is_none());
//! file.save(&Progress { schema: "example.journal/v1".into(), step: 1 })?;
//! assert_eq!(file.load::<Progress>()?.map(|p| p.step), Some(1));
//! fsx::write_atomic(&dir.path().join("note.txt"), b"whole or not at all")?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod failpoint;
pub mod fsx;
pub mod hex;
pub mod journal;
pub mod layout;
pub mod lock;
pub mod time;

/// What an error means for the state the user is in; the command line maps it to an exit code
/// (`Input` 2, `Refused` 1, `Inconsistent` 3) and a service to a status (400/409/500).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Severity {
    /// Bad input or an error before any change: nothing was changed, the user must act.
    Input,
    /// Refused, or failed and undone: the system is as it was.
    Refused,
    /// Failed and could not restore: a journal says what is left.
    Inconsistent,
}

impl Severity {
    /// `Inconsistent` when the state was left inconsistent, else `Input` (nothing changed).
    pub fn unless_inconsistent(inconsistent: bool) -> Severity {
        if inconsistent {
            Severity::Inconsistent
        } else {
            Severity::Input
        }
    }

    /// The exit code the command-line contract gives this severity.
    pub fn exit_code(self) -> u8 {
        match self {
            Severity::Input => 2,
            Severity::Refused => 1,
            Severity::Inconsistent => 3,
        }
    }
}

/// Implemented by every workflow's error type: a short machine-readable kind and what the error
/// means for the state on disk.
pub trait Classify {
    /// A short machine-readable kind, such as `dirty_tree` or `lock_held`.
    fn kind(&self) -> &'static str;
    /// Whether the state was left as it was (and why the user must act) or inconsistent.
    fn severity(&self) -> Severity {
        Severity::Input
    }
}

/// The actor for audit records: `LOCKSTEP_ACTOR`, else `USER@HOSTNAME`, else `lockstep`.
pub fn default_actor() -> String {
    if let Some(a) = std::env::var("LOCKSTEP_ACTOR")
        .ok()
        .filter(|a| !a.is_empty())
    {
        return a;
    }
    let user = std::env::var("USER").ok().filter(|u| !u.is_empty());
    let host = std::fs::read_to_string("/etc/hostname")
        .ok()
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty());
    match (user, host) {
        (Some(u), Some(h)) => format!("{u}@{h}"),
        (Some(u), None) => u,
        _ => "lockstep".to_owned(),
    }
}
