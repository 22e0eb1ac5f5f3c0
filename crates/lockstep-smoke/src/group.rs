//! Process groups: the id handed to callers, and signalling a whole group.

use std::fmt;
use std::io;
use std::time::{Duration, Instant};

use nix::errno::Errno;
use nix::sys::signal::{Signal, killpg};
use nix::unistd::{Pid, getpgrp};

use crate::Error;

/// How often a group is checked for remaining members while waiting for it to go.
pub(crate) const POLL: Duration = Duration::from_millis(20);

/// A process group id, as the engine records it in its crash journal.
///
/// The command runs as the leader of a new group, so the group id equals the leader's pid.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Pgid(u32);

impl Pgid {
    /// A group id read back from storage; `None` for 0 and 1 (the caller's own group and
    /// init's, which must never be signalled) and for values beyond `i32::MAX`.
    pub fn new(raw: u32) -> Option<Self> {
        (raw > 1 && i32::try_from(raw).is_ok()).then_some(Self(raw))
    }

    /// The raw id, to store.
    pub fn as_raw(self) -> u32 {
        self.0
    }

    fn pid(self) -> Pid {
        // `new` guarantees the value fits an i32.
        Pid::from_raw(i32::try_from(self.0).unwrap_or(i32::MAX))
    }
}

impl fmt::Display for Pgid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// What [`kill_group`] found and did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum GroupKill {
    /// No process was left in the group; nothing was signalled.
    NotFound,
    /// The group was sent SIGTERM and was gone within the grace period.
    Terminated,
    /// The group outlived the grace period and was sent SIGKILL.
    Killed,
}

/// Stops every process left in group `pgid`: SIGTERM, then SIGKILL if any remains after
/// `grace`, and returns once the group is gone (or [`KILL_SLACK`](crate::KILL_SLACK) after the
/// SIGKILL). For recovery after a crash of the process that ran the command.
///
/// A group that is already gone (or holds only zombies) is not an error
/// ([`GroupKill::NotFound`]). The caller's own
/// group is refused. Waiting for the group to go is a poll every 20 ms: a process group cannot
/// be waited on by a process that is not its members' parent.
///
/// # Errors
///
/// [`Error::InvalidGroup`] for the caller's own group; [`Error::Signal`] when the group may not
/// be signalled (`EPERM`: it belongs to another user, most likely a reused id).
pub fn kill_group(pgid: Pgid, grace: Duration) -> Result<GroupKill, Error> {
    let _span = tracing::info_span!("smoke.kill_group", pgid = pgid.0).entered();
    if getpgrp() == pgid.pid() {
        return Err(Error::InvalidGroup {
            pgid: pgid.0,
            reason: "it is the caller's own process group",
        });
    }
    if !alive(pgid)? || !signal(pgid, Signal::SIGTERM)? {
        return Ok(GroupKill::NotFound);
    }
    if wait_gone(pgid, grace)? {
        return Ok(GroupKill::Terminated);
    }
    if !signal(pgid, Signal::SIGKILL)? {
        return Ok(GroupKill::Terminated);
    }
    tracing::warn!("process group outlived its grace period; sent SIGKILL");
    if !wait_gone(pgid, crate::KILL_SLACK)? {
        tracing::warn!("process group still present after SIGKILL");
    }
    Ok(GroupKill::Killed)
}

/// Polls until the group has no live member; `false` if it still has one after `limit`.
fn wait_gone(pgid: Pgid, limit: Duration) -> Result<bool, Error> {
    let deadline = Instant::now() + limit;
    while alive(pgid)? {
        let now = Instant::now();
        if now >= deadline {
            return Ok(false);
        }
        std::thread::sleep(POLL.min(deadline - now));
    }
    Ok(true)
}

/// Sends `sig` to the group; `Ok(false)` when the group is gone.
pub(crate) fn signal(pgid: Pgid, sig: Signal) -> Result<bool, Error> {
    match killpg(pgid.pid(), sig) {
        Ok(()) => Ok(true),
        Err(Errno::ESRCH) => Ok(false),
        Err(errno) => Err(Error::Signal {
            pgid: pgid.0,
            signal: sig.as_str(),
            source: io::Error::from(errno),
        }),
    }
}

/// Whether a live process is left in the group.
///
/// `kill(-pgid, 0)` also succeeds for zombies. Orphans are zombies until init reaps them, and
/// some container inits never do, so on Linux a group whose members are all zombies counts as
/// gone (checked in `/proc`).
pub(crate) fn alive(pgid: Pgid) -> Result<bool, Error> {
    match killpg(pgid.pid(), None) {
        // It exists (EPERM: but is not ours to signal).
        Ok(()) | Err(Errno::EPERM) => Ok(has_live_member(pgid).unwrap_or(true)),
        Err(Errno::ESRCH) => Ok(false),
        Err(errno) => Err(Error::Signal {
            pgid: pgid.0,
            signal: "signal 0",
            source: io::Error::from(errno),
        }),
    }
}

/// Whether `/proc` shows a member of the group that is not a zombie; `None` when `/proc` cannot
/// tell (not Linux, not mounted).
#[cfg(target_os = "linux")]
fn has_live_member(pgid: Pgid) -> Option<bool> {
    let entries = std::fs::read_dir("/proc").ok()?;
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        if !name.bytes().all(|b| b.is_ascii_digit()) {
            continue;
        }
        // The process may be gone already: skip it.
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
            continue;
        };
        if let Some((state, pgrp)) = parse_stat(&stat)
            && pgrp == pgid.0
            && state != 'Z'
            && state != 'X'
        {
            return Some(true);
        }
    }
    Some(false)
}

#[cfg(not(target_os = "linux"))]
fn has_live_member(_pgid: Pgid) -> Option<bool> {
    None
}

/// State and process group from a `/proc/PID/stat` line: `pid (comm) state ppid pgrp …`, where
/// `comm` may itself contain spaces and parentheses.
#[cfg_attr(not(target_os = "linux"), allow(dead_code))]
fn parse_stat(stat: &str) -> Option<(char, u32)> {
    let after_comm = &stat[stat.rfind(')')? + 1..];
    let mut fields = after_comm.split_ascii_whitespace();
    let state = fields.next()?.chars().next()?;
    let _ppid = fields.next()?;
    let pgrp = fields.next()?.parse().ok()?;
    Some((state, pgrp))
}

#[cfg(test)]
mod tests {
    #[test]
    fn parses_proc_stat_lines() {
        for (line, expected) in [
            ("123 (sleep) S 1 120 120 0 -1", Some(('S', 120))),
            ("123 (a (weird) name) Z 1 77 77 0", Some(('Z', 77))),
            ("123 (x) R", None),
            ("garbage", None),
        ] {
            assert_eq!(parse_stat(line), expected, "{line}");
        }
    }

    use super::*;

    #[test]
    fn refuses_ids_that_name_no_child_group() {
        for (raw, ok) in [
            (0, false),
            (1, false),
            (2, true),
            (4_194_304, true),
            (i32::MAX as u32, true),
            (i32::MAX as u32 + 1, false),
            (u32::MAX, false),
        ] {
            assert_eq!(Pgid::new(raw).is_some(), ok, "{raw}");
        }
    }

    #[test]
    fn refuses_the_callers_own_group() {
        let own = Pgid::new(getpgrp().as_raw().unsigned_abs()).expect("a real group id");
        let err = kill_group(own, Duration::ZERO).expect_err("own group refused");
        assert_eq!(err.kind(), crate::ErrorKind::InvalidInput);
    }
}
