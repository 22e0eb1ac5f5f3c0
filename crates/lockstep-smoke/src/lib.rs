//! Runs smoke tests and other commands with timeouts, whole-process-group kills and capped
//! output.
//!
//! The only lockstep crate that spawns processes. The engine runs a vertical's smoke tests
//! through it, and the lockfile tools of an upgrade or a cascade too.
//!
//! What it does:
//! - [`run`] / [`run_with`] start a [`CommandSpec`] (program executed directly, its own shebang,
//!   no shell; arguments; working directory; the inherited environment plus extra variables such
//!   as [`FROM_VERSION_VAR`] and [`TO_VERSION_VAR`]) as the leader of a new process group, via
//!   `process-wrap`'s process-group wrapper.
//! - The [`Outcome`]: exit 0 [passed](Outcome::Passed), 1 [failed](Outcome::Failed),
//!   anything else, a signal or a failed spawn [errored](Outcome::Errored) with the cause,
//!   or [timed out](Outcome::TimedOut).
//! - On timeout the whole group gets SIGTERM, then SIGKILL after the grace period (10 s by
//!   default). The runner never blocks on the output pipe: a grandchild that ignores SIGTERM or
//!   keeps stdout open does not hold it past timeout + grace + [`KILL_SLACK`].
//! - stdout and stderr share one pipe, so the [`CapturedOutput`] is interleaved as written;
//!   it keeps the first and last bytes and counts what it dropped between them.
//! - [`run_with`] hands the process group id to a callback right after the spawn (the engine
//!   writes it into its crash journal); [`kill_group`] stops a group left behind by a crashed
//!   parent, and is a no-op when the group is gone.
//! - [`run_all`] runs several commands under a job limit, results in input order.
//!
//! What it does not do: no shell parsing (pass a script), no stdin (it is `/dev/null`), no
//! retries, no interpretation of the output.
//!
//! # Limitations
//!
//! - Unix only (`cfg(unix)`): process groups and signals.
//! - A process that leaves the group (`setsid`, `setpgid`) escapes the kill; if it keeps the
//!   output pipe open, the runner stops waiting for the pipe after the grace period (leader
//!   exited in time) or [`KILL_SLACK`] (after SIGKILL), and returns what it captured so far.
//! - Waiting for leftover processes and [`kill_group`] poll the group every 20 ms (a group
//!   cannot be waited on by a non-parent). Under an init that does not reap orphans, orphaned
//!   zombies still count as members, so such waits last the whole grace period.
//! - A group id stored by a crashed parent may, in theory, have been reused by the time
//!   [`kill_group`] runs; ids are reused only after the whole group is gone.
//!
//! ## Examples
//!
//! ```
//! # #[cfg(unix)] {
//! use std::time::Duration;
//! use lockstep_smoke::{run_with, CommandSpec, Outcome};
//!
//! let spec = CommandSpec::new("/bin/sh")
//!     .args(["-c", "echo \"from $LOCKSTEP_FROM_VERSION to $LOCKSTEP_TO_VERSION\"; exit 1"])
//!     .versions("1.1.0", "1.2.0")
//!     .timeout(Duration::from_secs(30));
//! let mut journal = Vec::new();
//! let result = run_with(&spec, |pgid| journal.push(pgid)).expect("the runner could start");
//!
//! assert_eq!(result.outcome, Outcome::Failed);
//! assert_eq!(result.exit_code, Some(1));
//! assert_eq!(result.output.tail_text(5), "from 1.1.0 to 1.2.0");
//! assert_eq!(journal, vec![result.pgid.expect("it was spawned")]);
//! # }
//! ```

#![forbid(unsafe_code)]
#![deny(missing_docs)]

#[cfg(unix)]
mod error;
#[cfg(unix)]
mod group;
#[cfg(unix)]
mod output;
#[cfg(unix)]
mod parallel;
#[cfg(unix)]
mod run;
#[cfg(unix)]
mod spec;

#[cfg(unix)]
pub use error::{Error, ErrorKind};
#[cfg(unix)]
pub use group::{GroupKill, Pgid, kill_group};
#[cfg(unix)]
pub use output::CapturedOutput;
#[cfg(unix)]
pub use parallel::run_all;
#[cfg(unix)]
pub use run::{ErrorCause, KILL_SLACK, Outcome, RunResult, run, run_recorded, run_with};
#[cfg(unix)]
pub use spec::{CommandSpec, FROM_VERSION_VAR, TO_VERSION_VAR};
