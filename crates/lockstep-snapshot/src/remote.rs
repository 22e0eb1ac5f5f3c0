//! Pushing to remotes, committing as lockstep when the repository names nobody, and clearing
//! the lock files a crash leaves beside refs.
//!
//! Pushing is the one operation that runs the `git` program: it needs the user's transport
//! configuration (SSH keys, credential helpers, `insteadOf` rewrites), which only git itself
//! knows. Everything else in this crate goes through gix.

use std::io::Read;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::error::{Cause, Error, ErrorKind, Result};
use crate::id::{ObjectId, SnapshotId};
use crate::ops::{Identity, Tag};

/// The identity lockstep commits and tags as when the repository configures none.
pub fn fallback_identity() -> Identity {
    Identity::new("lockstep", "lockstep@localhost")
}

/// Runs `op` as the configured identity, and again as [`fallback_identity`] when none is set.
fn with_identity<T>(op: impl Fn(Option<&Identity>) -> Result<T>) -> Result<T> {
    match op(None) {
        Err(e) if e.kind() == ErrorKind::NoIdentity => op(Some(&fallback_identity())),
        other => other,
    }
}

/// [`crate::commit`] as the configured identity, else as lockstep.
pub fn commit_as_configured(
    repo_dir: &Path,
    message: &str,
    paths: &[impl AsRef<Path>],
) -> Result<ObjectId> {
    with_identity(|who| crate::commit(repo_dir, message, paths, who))
}

/// [`crate::create_tag`] as the configured identity, else as lockstep.
pub fn create_tag_as_configured(repo_dir: &Path, name: &str, message: &str) -> Result<Tag> {
    with_identity(|who| crate::create_tag(repo_dir, name, message, who))
}

/// Removes the lock file git (or gix) leaves beside the ref of snapshot `id` when a process
/// dies while writing it; returns whether there was one. Only call this when no other process
/// can be writing that ref (the caller holds lockstep's lock).
pub fn clear_ref_lock(repo_dir: &Path, id: &SnapshotId) -> Result<bool> {
    let lock = repo_dir
        .join(".git")
        .join(format!("{}.lock", id.ref_name()));
    lockstep_state::fsx::remove_durable(&lock).map_err(|e| Error::io("remove", lock, e))
}

/// A push that did not succeed: git's exit status (None when it was killed at the timeout)
/// and the tail of what it printed.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct PushFailure {
    /// git's exit code, `None` when it timed out or died of a signal.
    pub code: Option<i32>,
    /// The last lines git printed (stderr and stdout).
    pub output_tail: String,
}

/// `git push REMOTE REFSPEC…` in `repo_dir`, killed after `timeout`.
///
/// `Ok(Err(_))` is a push git refused or could not make (the remote is unreachable, the
/// branch is behind); `Err(_)` means git could not be started at all.
pub fn push(
    repo_dir: &Path,
    remote: &str,
    refspecs: &[String],
    timeout: Duration,
) -> Result<std::result::Result<(), PushFailure>> {
    let _span =
        tracing::info_span!("push", repo = %repo_dir.display(), remote, refs = refspecs.len())
            .entered();
    let git = || Error::Git {
        repo: repo_dir.to_path_buf(),
        op: "push",
        source: Cause::msg("cannot run the git program; is git installed and on PATH?"),
    };
    let mut child = Command::new("git")
        .arg("push")
        .arg(remote)
        .args(refspecs)
        .current_dir(repo_dir)
        .env("GIT_TERMINAL_PROMPT", "0")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|_| git())?;
    // Drain both pipes on threads so a chatty git never blocks on a full pipe.
    let drain = |pipe: Option<Box<dyn Read + Send>>| {
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            if let Some(mut p) = pipe {
                let _ = p.read_to_end(&mut buf);
            }
            buf
        })
    };
    let out = drain(
        child
            .stdout
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
    );
    let err = drain(
        child
            .stderr
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
    );
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().map_err(|_| git())? {
            break Some(status);
        }
        if started.elapsed() >= timeout {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let mut text = String::from_utf8_lossy(&err.join().unwrap_or_default()).into_owned();
    text.push_str(&String::from_utf8_lossy(&out.join().unwrap_or_default()));
    let tail: Vec<&str> = text.lines().rev().take(10).collect();
    let output_tail = tail.into_iter().rev().collect::<Vec<_>>().join("\n");
    Ok(match status {
        Some(s) if s.success() => Ok(()),
        Some(s) => Err(PushFailure {
            code: s.code(),
            output_tail,
        }),
        None => Err(PushFailure {
            code: None,
            output_tail: format!("{output_tail}\n(killed after {}s)", timeout.as_secs()),
        }),
    })
}
