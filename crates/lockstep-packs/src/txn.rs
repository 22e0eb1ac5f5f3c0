//! The journal of a pack transaction, the moves that activate it, and recovery.
//!
//! Install, step by step (each journal write is atomic and comes *before* the step):
//!
//! ```text
//! lock ─ recover ─ journal(preparing) ─ fetch into staging/TXID ─ resolve
//!   ─ journal(testing, pgid) ─ tests, each run stored ─ [refused: remove staging, journal]
//!   ─ journal(activating, moves) ─ per pack: packs/NAME → trash/TXID/NAME, staging → packs/NAME
//!   ─ post_install hooks ─ one SQLite transaction: rows + pack_transactions(TXID)
//!   ─ audit record ─ remove trash, staging ─ remove journal
//! ```
//!
//! Recovery reads the journal: `preparing`/`testing` → kill the recorded process group and
//! remove staging (nothing was changed); `activating` → if `pack_transactions` holds TXID the
//! database committed, so finish (audit record, remove trash and staging); otherwise undo the
//! moves (a pack whose staged copy is gone was moved in: move it out; a pack in trash goes
//! back). Removal is the same with moves that stage nothing.

use std::path::Path;
use std::time::Duration;

use lockstep_state::failpoint;
use serde::{Deserialize, Serialize};

use crate::Error;
use crate::home::{Home, JOURNAL_SCHEMA};

/// What a transaction is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// `pack install` / `pack register`.
    Install,
    /// `pack remove`.
    Remove,
    /// `pack test`.
    Test,
}

/// How far a transaction got.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Step {
    /// Fetching and resolving into staging; nothing changed.
    Preparing,
    /// Tests or a hook running (the journal holds its process group); nothing changed.
    Testing,
    /// Moving packs in and out and committing the database.
    Activating,
}

/// One pack an activation moves.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Move {
    pub name: String,
    /// Whether a new version is staged to move in (install); false for a removal.
    pub staged: bool,
}

/// An audit record to write once the transaction commits (also by recovery).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct AuditIntent {
    pub action: String,
    pub outcome: String,
    pub details: serde_json::Map<String, serde_json::Value>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Journal {
    pub schema: String,
    pub txid: String,
    pub kind: Kind,
    pub step: Step,
    pub pid: u32,
    pub command: String,
    pub actor: String,
    pub pgid: Option<u32>,
    pub moves: Vec<Move>,
    pub audit: Vec<AuditIntent>,
}

impl Journal {
    pub(crate) fn new(txid: &str, kind: Kind, command: &str, actor: &str) -> Self {
        Journal {
            schema: JOURNAL_SCHEMA.to_owned(),
            txid: txid.to_owned(),
            kind,
            step: Step::Preparing,
            pid: std::process::id(),
            command: command.to_owned(),
            actor: actor.to_owned(),
            pgid: None,
            moves: Vec::new(),
            audit: Vec::new(),
        }
    }

    pub(crate) fn save(&self, home: &Home) -> Result<(), Error> {
        Ok(home.journal().save(self)?)
    }
}

/// What recovery found and did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Recovery {
    /// The interrupted transaction.
    pub txid: String,
    /// What it was.
    pub kind: Kind,
    /// How far it got.
    pub step: Step,
    /// `discarded` (nothing had changed), `rolled_back` or `finished`.
    pub action: &'static str,
    /// The test or hook process group that was killed, if one was recorded.
    pub killed_group: Option<u32>,
}

/// A fresh transaction id: time and pid, sortable.
pub(crate) fn new_txid() -> String {
    let now = std::time::SystemTime::now();
    let secs = lockstep_state::time::unix_seconds(now);
    let nanos = now
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    format!(
        "{}-{:09}-{}",
        lockstep_state::time::compact_stamp(secs),
        nanos,
        std::process::id()
    )
}

fn rename(from: &Path, to: &Path) -> Result<(), Error> {
    if let Some(parent) = to.parent() {
        std::fs::create_dir_all(parent).map_err(|e| Error::io("create", parent, e))?;
    }
    std::fs::rename(from, to).map_err(|e| Error::io("move", from, e))?;
    for dir in [from.parent(), to.parent()].into_iter().flatten() {
        lockstep_state::fsx::sync_dir(dir).map_err(|e| Error::io("sync", dir, e))?;
    }
    Ok(())
}

fn remove_tree(path: &Path) -> Result<(), Error> {
    match std::fs::remove_dir_all(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(Error::io("remove", path, e)),
    }
}

/// Performs the moves of an activation: each old version aside into trash, each staged one
/// in. The journal (step `activating`, with the moves) must be saved before.
pub(crate) fn move_in(home: &Home, txid: &str, moves: &[Move]) -> Result<(), Error> {
    let staging = home.staging_dir(txid);
    let trash = home.trash_dir(txid);
    for m in moves {
        let live = home.pack_dir(&m.name);
        if live.exists() {
            rename(&live, &trash.join(&m.name))?;
            failpoint::hit("pack_moved_old");
        }
        if m.staged {
            rename(&staging.join(&m.name), &live)?;
            failpoint::hit("pack_moved_new");
        }
    }
    Ok(())
}

/// Undoes [`move_in`] from whatever point it reached.
pub(crate) fn move_back(home: &Home, txid: &str, moves: &[Move]) -> Result<(), Error> {
    let staging = home.staging_dir(txid);
    let trash = home.trash_dir(txid);
    for m in moves.iter().rev() {
        let live = home.pack_dir(&m.name);
        if m.staged && !staging.join(&m.name).exists() && live.exists() {
            // The new version was moved in: move it out (a rename, so a crash here leaves a
            // state this rule reads the same way).
            rename(&live, &staging.join(&m.name))?;
        }
        let old = trash.join(&m.name);
        if old.exists() && !live.exists() {
            rename(&old, &live)?;
        }
    }
    Ok(())
}

/// Removes a transaction's staging and trash directories.
pub(crate) fn clean(home: &Home, txid: &str) -> Result<(), Error> {
    remove_tree(&home.trash_dir(txid))?;
    remove_tree(&home.staging_dir(txid))?;
    // The roots go when empty; another transaction cannot be in flight (the lock is held).
    let _ = std::fs::remove_dir(home.trash_root());
    let _ = std::fs::remove_dir(home.staging_root());
    Ok(())
}

/// Appends the journal's audit records that the log does not hold yet (by `txid` detail).
pub(crate) fn write_audit(home: &Home, j: &Journal) -> Result<(), Error> {
    if j.audit.is_empty() {
        return Ok(());
    }
    let log = lockstep_audit::AuditLog::open(home.audit_path())?;
    let have: Vec<(String, String)> = log
        .records()?
        .into_iter()
        .filter_map(|r| {
            let tx = r.details.get("txid")?.as_str()?.to_owned();
            Some((tx, r.action))
        })
        .collect();
    for intent in &j.audit {
        if have
            .iter()
            .any(|(t, a)| *t == j.txid && *a == intent.action)
        {
            continue;
        }
        let mut rec = lockstep_audit::NewRecord::new(&j.actor, &intent.action, &intent.outcome)
            .detail("txid", j.txid.clone())
            .detail("command", j.command.clone());
        for (k, v) in &intent.details {
            rec = rec.detail(k.clone(), v.clone());
        }
        log.append(rec)?;
    }
    Ok(())
}

/// Finishes or undoes the transaction the home's journal describes; `None` when there is none.
/// The caller holds the home's lock. Staging and trash left without a journal are removed.
pub fn recover_locked(home: &Home) -> Result<Option<Recovery>, Error> {
    let journal = home.journal();
    let Some(j) = journal.load::<Journal>()? else {
        remove_tree(&home.staging_root())?;
        remove_tree(&home.trash_root())?;
        return Ok(None);
    };
    tracing::info!(txid = %j.txid, step = ?j.step, "recovering an interrupted pack transaction");
    let mut killed_group = None;
    if let Some(pgid) = j.pgid.and_then(lockstep_smoke::Pgid::new) {
        if let Ok(kill) = lockstep_smoke::kill_group(pgid, Duration::from_secs(5)) {
            tracing::info!(
                pgid = pgid.as_raw(),
                ?kill,
                "killed the orphaned process group"
            );
        }
        killed_group = Some(pgid.as_raw());
    }
    let action = match j.step {
        Step::Preparing | Step::Testing => "discarded",
        Step::Activating => {
            if home.store()?.pack_transaction_committed(&j.txid)? {
                write_audit(home, &j)?;
                "finished"
            } else {
                move_back(home, &j.txid, &j.moves)?;
                "rolled_back"
            }
        }
    };
    clean(home, &j.txid)?;
    remove_tree(&home.staging_root())?;
    remove_tree(&home.trash_root())?;
    journal.remove()?;
    Ok(Some(Recovery {
        txid: j.txid,
        kind: j.kind,
        step: j.step,
        action,
        killed_group,
    }))
}

/// `recover --home DIR`: takes the lock and recovers.
pub fn recover(home: &Home) -> Result<Option<Recovery>, Error> {
    let _lock = home.lock("recover --home")?;
    recover_locked(home)
}

/// For read-only commands: recover when a journal waits and nobody holds the lock; when
/// another command is running, leave its transaction alone and read what is committed.
pub(crate) fn recover_if_idle(home: &Home) -> Result<Option<Recovery>, Error> {
    if !home.journal().exists() {
        return Ok(None);
    }
    match home.lock("pack (recovering before a read)") {
        Ok(_lock) => recover_locked(home),
        Err(Error::Lock(lockstep_state::lock::Error::Held { .. })) => Ok(None),
        Err(e) => Err(e),
    }
}
