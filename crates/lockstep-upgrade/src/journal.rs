//! The journal of the transaction in flight: `.lockstep/journal.json`.
//!
//! It is written atomically (temp file → fsync → rename → fsync of the directory) before each
//! step is taken, so after a crash it says how far the transaction got: before its snapshot
//! nothing was changed; after it, the snapshot is the way back; once it says `committed`, the
//! new state stands. [`crate::txn::Session::recover`] reads it and finishes the job.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use lockstep_state::journal::JournalFile;

/// The journal's file name inside the state directory.
pub use lockstep_state::layout::JOURNAL_FILE;
/// The journal's schema tag.
pub const SCHEMA: &str = "lockstep.journal/v1";

/// Which transaction the journal belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Kind {
    /// `upgrade`.
    Upgrade,
    /// `rollback`.
    Rollback,
}

/// How far a transaction got. Each step is recorded before it is taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Step {
    /// Preflight passed; the snapshot is about to be taken. Nothing has changed yet.
    Started,
    /// The snapshot exists; the change is about to be applied.
    Snapshotted,
    /// The change was applied (pin and lockfile, or checkout); smoke tests are about to run.
    Applied,
    /// Smoke tests are running (the journal names their process group).
    Testing,
    /// Smoke tests passed; the commit is about to be made.
    Passed,
    /// The new state stands; only the audit record and the journal's removal remain.
    Committed,
    /// The transaction failed and is being restored to its snapshot.
    RollingBack,
    /// A restore was attempted and could not be verified.
    RestoreFailed,
}

impl Step {
    /// The step's name as written in the journal.
    pub fn as_str(self) -> &'static str {
        match self {
            Step::Started => "started",
            Step::Snapshotted => "snapshotted",
            Step::Applied => "applied",
            Step::Testing => "testing",
            Step::Passed => "passed",
            Step::Committed => "committed",
            Step::RollingBack => "rolling_back",
            Step::RestoreFailed => "restore_failed",
        }
    }
}

/// The journal: everything recovery needs to finish or undo the transaction.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Journal {
    /// Always [`SCHEMA`].
    pub schema: String,
    /// The transaction.
    pub kind: Kind,
    /// The snapshot that is the way back (upgrade) or the target (rollback).
    pub snapshot: String,
    /// The core version before.
    pub from: Option<String>,
    /// The core version after.
    pub to: Option<String>,
    /// When the transaction began (RFC 3339).
    pub started_at: String,
    /// The process that wrote it.
    pub pid: u32,
    /// How far it got.
    pub step: Step,
    /// The process group of a running smoke test or lockfile tool, killed by recovery.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pgid: Option<u32>,
    /// The commit made, once made.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commit: Option<String>,
    /// Files the transaction rewrites (relative to the work tree's root), so recovery can
    /// remove a temp file a crash left beside one.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub writes: Vec<String>,
}

pub use lockstep_state::journal::Error;

impl Journal {
    /// A new journal at [`Step::Started`].
    pub fn new(kind: Kind, snapshot: impl Into<String>, started_at: impl Into<String>) -> Self {
        Journal {
            schema: SCHEMA.to_owned(),
            kind,
            snapshot: snapshot.into(),
            from: None,
            to: None,
            started_at: started_at.into(),
            pid: std::process::id(),
            step: Step::Started,
            pgid: None,
            commit: None,
            writes: Vec::new(),
        }
    }

    /// The journal's path in `state_dir`.
    pub fn path(state_dir: &Path) -> PathBuf {
        state_dir.join(JOURNAL_FILE)
    }

    fn file(state_dir: &Path) -> JournalFile {
        JournalFile::new(Self::path(state_dir), SCHEMA)
    }

    /// Reads the journal in `state_dir`, `None` when there is none.
    pub fn load(state_dir: &Path) -> Result<Option<Journal>, Error> {
        Self::file(state_dir).load()
    }

    /// Writes the journal atomically into `state_dir`.
    pub fn save(&self, state_dir: &Path) -> Result<(), Error> {
        Self::file(state_dir).save(self)
    }

    /// Moves to `step` and saves.
    pub fn advance(&mut self, state_dir: &Path, step: Step) -> Result<(), Error> {
        self.step = step;
        self.save(state_dir)
    }

    /// Removes the journal from `state_dir`, durably: the transaction is over.
    pub fn remove(state_dir: &Path) -> Result<(), Error> {
        Self::file(state_dir).remove()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_removes() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(Journal::load(dir.path()).unwrap(), None);
        let mut j = Journal::new(
            Kind::Upgrade,
            "pre-upgrade-20260219-183000",
            "2026-02-19T18:30:00Z",
        );
        j.from = Some("1.0.0".into());
        j.save(dir.path()).unwrap();
        j.advance(dir.path(), Step::Testing).unwrap();
        let back = Journal::load(dir.path()).unwrap().unwrap();
        assert_eq!(back, j);
        assert_eq!(back.step, Step::Testing);
        Journal::remove(dir.path()).unwrap();
        assert_eq!(Journal::load(dir.path()).unwrap(), None);
    }

    #[test]
    fn corrupt_journal_is_named() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(Journal::path(dir.path()), "{not json").unwrap();
        let err = Journal::load(dir.path()).unwrap_err();
        assert!(err.to_string().contains("journal.json"), "{err}");
    }
}
