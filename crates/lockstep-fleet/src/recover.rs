//! Recovery after a crash: pending audit records, a torn audit tail, and the lab runs a crash
//! left behind (their test processes and throwaway copies).

use std::path::PathBuf;
use std::time::Duration;

use lockstep_smoke::Pgid;
use serde::Serialize;

use crate::Error;
use crate::home::{Fleet, Home};
use crate::lab::GROUPS_FILE;

/// What [`recover`] did.
#[derive(Debug, Clone, Default, Serialize)]
#[non_exhaustive]
pub struct Recovered {
    /// Lab run directories removed (their copies with them).
    pub removed: Vec<PathBuf>,
    /// Process groups killed.
    pub killed_groups: Vec<u32>,
    /// Lab runs still alive, left alone.
    pub live: Vec<PathBuf>,
    /// Whether a torn audit tail was repaired.
    pub audit_repaired: bool,
}

/// Finishes what a crashed fleet command left in `home`: appends pending audit records
/// (repairing a torn audit tail first), kills the test processes of dead lab runs and removes
/// their copies. Live lab runs (their lock is held) are left alone. A no-op when there is
/// nothing to do.
pub fn recover(home: &Home) -> Result<Recovered, Error> {
    let mut done = Recovered::default();
    if home.audit_path().exists() {
        let log = lockstep_audit::AuditLog::open(home.audit_path())?;
        done.audit_repaired = log.repair_torn_tail("lockstep recover")?.is_some();
    }
    if home.store_path().exists() {
        Fleet::open(home)?;
    }
    let lab = recover_lab(home)?;
    done.removed = lab.removed;
    done.killed_groups = lab.killed_groups;
    done.live = lab.live;
    Ok(done)
}

/// Kills the test processes of dead lab runs and removes their copies.
pub(crate) fn recover_lab(home: &Home) -> Result<Recovered, Error> {
    let mut done = Recovered::default();
    let lab = home.lab_dir();
    let entries = match std::fs::read_dir(&lab) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(done),
        Err(e) => return Err(Error::io("read", &lab, e)),
    };
    for entry in entries.flatten() {
        let dir = entry.path();
        if !dir.is_dir() {
            continue;
        }
        let Ok(lock) = lockstep_state::lock::Lock::acquire(&dir, "lab recovery") else {
            done.live.push(dir);
            continue;
        };
        let groups = std::fs::read_to_string(dir.join(GROUPS_FILE)).unwrap_or_default();
        for pgid in groups
            .lines()
            .filter_map(|l| l.trim().parse::<u32>().ok())
            .filter_map(Pgid::new)
        {
            match lockstep_smoke::kill_group(pgid, Duration::from_secs(2)) {
                Ok(lockstep_smoke::GroupKill::NotFound) => {}
                Ok(_) => done.killed_groups.push(pgid.as_raw()),
                Err(e) => {
                    tracing::warn!(pgid = pgid.as_raw(), error = %e, "cannot kill a lab test's process group")
                }
            }
        }
        drop(lock);
        std::fs::remove_dir_all(&dir).map_err(|e| Error::io("remove", &dir, e))?;
        done.removed.push(dir);
    }
    Ok(done)
}
