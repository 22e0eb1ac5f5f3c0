//! The shared machinery of every mutating command on a vertical: the lock, the audit log, the
//! journal and crash recovery, plus `rollback`.
//!
//! A [`Session`] is what a mutating command holds while it works: opening one takes the lock
//! (refusing, with the holder's name, when another command has it), keeps `.lockstep/` out of
//! git, repairs a torn audit tail, and recovers an interrupted transaction from its journal
//! before anything else happens.

use std::path::{Path, PathBuf};
use std::time::SystemTime;

use lockstep_audit::{AuditLog, NewRecord, Record, action};
use lockstep_snapshot::SnapshotId;
use serde::Serialize;

use crate::journal::{self, Journal, Kind, Step};
use crate::lock::{self, Lock};
use crate::workspace::Vertical;

/// The audit log's file name inside the state directory.
pub use lockstep_state::layout::AUDIT_FILE;
/// Snapshot copies live here inside the state directory.
pub const SNAPSHOTS_DIR: &str = "snapshots";
/// The environment variable naming the actor written into audit records.
pub const ACTOR_ENV: &str = "LOCKSTEP_ACTOR";

/// Errors of the shared machinery.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Another command holds the lock.
    #[error(transparent)]
    Lock(#[from] lock::Error),
    /// The journal could not be read or written.
    #[error(transparent)]
    Journal(#[from] journal::Error),
    /// The audit log could not be read or written.
    #[error("audit log: {0}")]
    Audit(#[from] lockstep_audit::Error),
    /// A git operation failed.
    #[error(transparent)]
    Snapshot(#[from] lockstep_snapshot::Error),
    /// The state directory could not be prepared.
    #[error("cannot prepare {path}: {source}")]
    StateDir {
        /// The directory.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The work tree has tracked changes.
    #[error(
        "{root} has uncommitted changes to tracked files: {}; commit or stash them first, so a rollback cannot destroy them",
        paths.join(", ")
    )]
    Dirty {
        /// The work tree.
        root: PathBuf,
        /// The changed paths.
        paths: Vec<String>,
    },
    /// A restore could not be verified (or failed outright): the journal is kept.
    #[error(
        "could not restore snapshot {snapshot}: {problem}; the journal {journal} is kept: fix the cause, then run `recover` (or `rollback --to {snapshot}`)"
    )]
    RestoreFailed {
        /// The snapshot.
        snapshot: String,
        /// What went wrong.
        problem: String,
        /// The journal.
        journal: PathBuf,
    },
    /// No snapshot to roll back to.
    #[error("{0}")]
    NothingToRollBack(String),
}

impl Error {
    /// A short machine-readable kind for JSON errors.
    pub fn kind(&self) -> &'static str {
        match self {
            Error::Lock(lock::Error::Held { .. }) => "locked",
            Error::Lock(_) => "io",
            Error::Journal(_) => "journal",
            Error::Audit(_) => "audit",
            Error::Snapshot(_) => "git",
            Error::StateDir { .. } => "io",
            Error::Dirty { .. } => "dirty_tree",
            Error::RestoreFailed { .. } => "restore_failed",
            Error::NothingToRollBack(_) => "no_snapshot",
        }
    }

    /// Whether the system may be left between states (exit code 3) rather than unchanged.
    pub fn left_inconsistent(&self) -> bool {
        matches!(self, Error::RestoreFailed { .. })
    }
}

/// What recovery found and did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Recovery {
    /// The interrupted transaction.
    pub kind: Kind,
    /// The step the journal recorded.
    pub step: Step,
    /// Its snapshot.
    pub snapshot: String,
    /// Versions before and after, if known.
    pub from: Option<String>,
    /// The target version, if known.
    pub to: Option<String>,
    /// What was done: `nothing_applied`, `rolled_back`, `committed` or `rollback_finished`.
    pub action: &'static str,
    /// The process group of an orphaned smoke test or tool that was killed.
    pub killed_group: Option<u32>,
}

/// A mutating command's hold on a vertical's state.
#[derive(Debug)]
pub struct Session {
    root: PathBuf,
    state_dir: PathBuf,
    audit: AuditLog,
    actor: String,
    _lock: Lock,
    /// What recovery did when the session opened, if there was a journal.
    pub recovery: Option<Recovery>,
    /// Whether a torn audit tail was repaired when the session opened.
    pub repaired_audit: bool,
}

pub use lockstep_state::default_actor;

impl Session {
    /// Opens a session on `vertical`: takes the lock (described as `command`), keeps `.lockstep/`
    /// out of git, repairs a torn audit tail and recovers an interrupted transaction.
    pub fn open(vertical: &Vertical, command: &str, actor: &str) -> Result<Session, Error> {
        Self::open_at(&vertical.root, command, actor)
    }

    /// [`Session::open`] for a work tree given by its root.
    pub fn open_at(root: &Path, command: &str, actor: &str) -> Result<Session, Error> {
        let state_dir = lockstep_state::layout::state_dir(root);
        let lock = Lock::acquire(&state_dir, command)?;
        if root.join(".git").exists() {
            lockstep_snapshot::ensure_excluded(root, "/.lockstep/")?;
        }
        let audit = AuditLog::open(state_dir.join(AUDIT_FILE))?;
        let repaired_audit = audit.repair_torn_tail(actor)?.is_some();
        let mut session = Session {
            root: root.to_path_buf(),
            state_dir,
            audit,
            actor: actor.to_owned(),
            _lock: lock,
            recovery: None,
            repaired_audit,
        };
        session.recovery = session.recover()?;
        Ok(session)
    }

    /// The work tree's root.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// `.lockstep/`.
    pub fn state_dir(&self) -> &Path {
        &self.state_dir
    }

    /// Where snapshot copies are stored.
    pub fn snapshot_store(&self) -> PathBuf {
        self.state_dir.join(SNAPSHOTS_DIR)
    }

    /// The audit log.
    pub fn audit(&self) -> &AuditLog {
        &self.audit
    }

    /// Appends an audit record as this session's actor.
    pub fn record(
        &self,
        build: impl FnOnce(NewRecord) -> NewRecord,
        act: &str,
        outcome: &str,
    ) -> Result<Record, Error> {
        Ok(self
            .audit
            .append(build(NewRecord::new(self.actor.clone(), act, outcome)))?)
    }

    /// Refuses a work tree with tracked changes.
    pub fn require_clean(&self) -> Result<(), Error> {
        let status = lockstep_snapshot::status(&self.root)?;
        if status.is_clean() {
            Ok(())
        } else {
            Err(Error::Dirty {
                root: self.root.clone(),
                paths: status.dirty_paths(),
            })
        }
    }

    /// A fresh snapshot id `PREFIX-YYYYMMDD-HHMMSS`, suffixed `-2`, `-3`… when taken.
    pub fn new_snapshot_id(&self, prefix: &str) -> Result<SnapshotId, Error> {
        let now = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let base = SnapshotId::timestamped(prefix, i64::try_from(now).unwrap_or(i64::MAX))?;
        let store = self.snapshot_store();
        let taken = |id: &SnapshotId| -> Result<bool, Error> {
            Ok(store.join(id.as_str()).exists()
                || lockstep_snapshot::list(&self.root, &store)?
                    .iter()
                    .any(|s| s.id == *id))
        };
        if !taken(&base)? {
            return Ok(base);
        }
        for n in 2.. {
            let id = SnapshotId::new(format!("{base}-{n}"))?;
            if !taken(&id)? {
                return Ok(id);
            }
        }
        unreachable!("an unbounded counter finds a free id")
    }

    /// Restores `snapshot` and checks the verification; an unverified restore is an error.
    pub(crate) fn restore_verified(
        &self,
        snapshot: &str,
    ) -> Result<lockstep_snapshot::Verification, String> {
        let id = SnapshotId::new(snapshot).map_err(|e| e.to_string())?;
        match lockstep_snapshot::restore(&self.root, &id, &self.snapshot_store()) {
            Ok(v) if v.is_verified() => Ok(v),
            Ok(v) => Err(v
                .mismatches
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("; ")),
            Err(e) => Err(e.to_string()),
        }
    }

    /// Finishes or undoes the transaction the journal describes; `None` when there is none.
    pub fn recover(&self) -> Result<Option<Recovery>, Error> {
        let Some(mut j) = Journal::load(&self.state_dir)? else {
            return Ok(None);
        };
        tracing::info!(step = j.step.as_str(), snapshot = %j.snapshot, "recovering an interrupted transaction");
        let interrupted = j.step;
        // A crash mid-write leaves the temp file of an atomic write beside its target.
        for file in &j.writes {
            let target = self.root.join(file);
            if let (Some(dir), Some(name)) = (target.parent(), target.file_name()) {
                let tmp = dir.join(crate::fsx::temp_name(&name.to_string_lossy(), j.pid));
                if let Err(e) = std::fs::remove_file(&tmp)
                    && e.kind() != std::io::ErrorKind::NotFound
                {
                    tracing::warn!(path = %tmp.display(), error = %e, "cannot remove a temp file");
                }
            }
        }
        let mut killed_group = None;
        if let Some(raw) = j.pgid.and_then(lockstep_smoke::Pgid::new) {
            // A smoke test or lockfile tool outlived the lockstep that started it.
            if let Ok(kill) = lockstep_smoke::kill_group(raw, std::time::Duration::from_secs(10)) {
                tracing::info!(
                    pgid = raw.as_raw(),
                    ?kill,
                    "killed the orphaned process group"
                );
            }
            killed_group = Some(raw.as_raw());
        }
        let action = match (j.kind, j.step) {
            (Kind::Upgrade, Step::Started) => {
                // A crash while the snapshot ref was written can leave git's ref lock behind.
                let lock = self
                    .root
                    .join(".git")
                    .join(format!("{}.lock", SnapshotId::new(&j.snapshot)?.ref_name()));
                let _ = std::fs::remove_file(lock);
                "nothing_applied"
            }
            (Kind::Upgrade, Step::Committed) => {
                let last = self.audit.records()?.pop();
                let already = last.is_some_and(|r| {
                    r.action == action::UPGRADE_COMMITTED
                        && r.snapshot.as_deref() == Some(&j.snapshot)
                });
                if !already {
                    self.record(
                        |r| versions(r, &j).detail("commit", j.commit.clone().unwrap_or_default()),
                        action::UPGRADE_COMMITTED,
                        "committed",
                    )?;
                }
                "committed"
            }
            (Kind::Upgrade, _) => {
                j.pgid = None;
                j.advance(&self.state_dir, Step::RollingBack)?;
                if let Err(problem) = self.restore_verified(&j.snapshot) {
                    j.advance(&self.state_dir, Step::RestoreFailed)?;
                    return Err(Error::RestoreFailed {
                        snapshot: j.snapshot.clone(),
                        problem,
                        journal: Journal::path(&self.state_dir),
                    });
                }
                "rolled_back"
            }
            (Kind::Rollback, _) => {
                if let Err(problem) = self.restore_verified(&j.snapshot) {
                    return Err(Error::RestoreFailed {
                        snapshot: j.snapshot.clone(),
                        problem,
                        journal: Journal::path(&self.state_dir),
                    });
                }
                "rollback_finished"
            }
        };
        self.record(
            |r| {
                versions(r, &j)
                    .detail("interrupted_step", interrupted.as_str())
                    .detail(
                        "transaction",
                        match j.kind {
                            Kind::Upgrade => "upgrade",
                            Kind::Rollback => "rollback",
                        },
                    )
                    .detail(
                        "killed_group",
                        killed_group.map_or(serde_json::Value::Null, Into::into),
                    )
            },
            action::RECOVERED,
            action,
        )?;
        Journal::remove(&self.state_dir)?;
        Ok(Some(Recovery {
            kind: j.kind,
            step: interrupted,
            snapshot: j.snapshot,
            from: j.from,
            to: j.to,
            action,
            killed_group,
        }))
    }

    /// The snapshot `rollback` restores by default: the one taken before the last committed
    /// upgrade (attempts that were rolled back do not count).
    pub fn default_rollback_target(&self) -> Result<Record, Error> {
        self.audit
            .records()?
            .into_iter()
            .rev()
            .find(|r| r.action == action::UPGRADE_COMMITTED && r.snapshot.is_some())
            .ok_or_else(|| {
                Error::NothingToRollBack(format!(
                    "no committed upgrade in {}; name a snapshot with --to ID (see `history`)",
                    self.audit.path().display()
                ))
            })
    }

    /// `rollback`: restores `to` (or the default target), verified and audited.
    pub fn rollback(&self, to: Option<&str>) -> Result<RollbackReport, Error> {
        let (snapshot, from, back_to) = match to {
            Some(id) => (id.to_owned(), None, None),
            None => {
                let r = self.default_rollback_target()?;
                (
                    r.snapshot.clone().unwrap_or_default(),
                    r.to.clone(),
                    r.from.clone(),
                )
            }
        };
        let id = SnapshotId::new(&snapshot)?;
        // Fails with a clear error when the snapshot does not exist.
        lockstep_snapshot::read(&self.snapshot_store(), &id)?;
        self.require_clean()?;
        let mut j = Journal::new(
            Kind::Rollback,
            &snapshot,
            lockstep_audit::rfc3339(SystemTime::now()),
        );
        j.from = from.clone();
        j.to = back_to.clone();
        j.save(&self.state_dir)?;
        crate::failpoint::hit("rollback_before_restore");
        match self.restore_verified(&snapshot) {
            Ok(v) => {
                self.record(
                    |r| {
                        let r = r
                            .snapshot(&snapshot)
                            .detail("files_written", v.files_written)
                            .detail("files_removed", v.files_removed);
                        let r = match &from {
                            Some(f) => r.from_version(f),
                            None => r,
                        };
                        match &back_to {
                            Some(t) => r.to_version(t),
                            None => r,
                        }
                    },
                    action::ROLLBACK,
                    "restored",
                )?;
                Journal::remove(&self.state_dir)?;
                Ok(RollbackReport {
                    schema: "lockstep.rollback/v1",
                    snapshot,
                    from,
                    to: back_to,
                    verified: true,
                    files_written: v.files_written,
                    files_removed: v.files_removed,
                })
            }
            Err(problem) => {
                self.record(
                    |r| r.snapshot(&snapshot).detail("problem", problem.clone()),
                    action::ROLLBACK,
                    "restore_failed",
                )?;
                Err(Error::RestoreFailed {
                    snapshot,
                    problem,
                    journal: Journal::path(&self.state_dir),
                })
            }
        }
    }
}

/// What `rollback` did.
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct RollbackReport {
    /// `lockstep.rollback/v1`.
    pub schema: &'static str,
    /// The snapshot restored.
    pub snapshot: String,
    /// The version rolled back from, when known.
    pub from: Option<String>,
    /// The version restored, when known.
    pub to: Option<String>,
    /// Whether the restore verified (always true in a report; failures are errors).
    pub verified: bool,
    /// Tracked files written.
    pub files_written: usize,
    /// Tracked files removed.
    pub files_removed: usize,
}

fn versions(r: NewRecord, j: &Journal) -> NewRecord {
    let r = r.snapshot(&j.snapshot);
    let r = match &j.from {
        Some(f) => r.from_version(f),
        None => r,
    };
    match &j.to {
        Some(t) => r.to_version(t),
        None => r,
    }
}

/// Reads the audit log of the work tree at `root` without taking the lock (for `history` and
/// `audit verify`).
pub fn audit_log(root: &Path) -> Result<AuditLog, Error> {
    Ok(AuditLog::open(
        lockstep_state::layout::state_dir(root).join(AUDIT_FILE),
    )?)
}

impl lockstep_state::Classify for Error {
    fn kind(&self) -> &'static str {
        Error::kind(self)
    }
    fn severity(&self) -> lockstep_state::Severity {
        lockstep_state::Severity::unless_inconsistent(self.left_inconsistent())
    }
}
