//! Fleet updates: upstream version watchers, a canary compatibility lab, a known-good
//! registry, organisation pins and signed notifications.
//!
//! A platform that keeps a hosted service compatible with fast-moving upstream tools runs this
//! loop: notice a new upstream release ([`watch`]), test it on a few canary repositories
//! ([`lab`]), promote it to the beta or stable channel only when the canaries pass, or
//! quarantine it ([`known_good`]), let an organisation pin a version with a reason and an
//! expiry ([`pins`]), answer "which version should this organisation run, and why"
//! ([`pins::resolve`]), and tell people what changed ([`events`]).
//!
//! Everything lives in a home directory ([`Home`]): the SQLite state database (the fleet
//! tables of `lockstep-store`), the hash-chained audit log `HOME/audit.jsonl` (every promotion,
//! quarantine, pin change and lab run is a record with its actor and reason), `notify.toml`,
//! the HTTP cache and, while a lab run is in flight, its throwaway canary copies. A change and
//! its audit record are committed together through an outbox in the database, so a crash
//! between the two loses no record ([`Fleet::open`] appends what is pending); [`recover`]
//! also removes lab copies a crash left behind and kills their test processes.
//!
//! Each command is one function taking an options value and returning a serialisable outcome;
//! errors are one [`Error`] type implementing [`lockstep_state::Classify`].
//!
//! What it deliberately does not do: speak HTTP itself (the watchers are
//! `lockstep-registry`'s, the webhooks `lockstep-notify`'s), spawn processes other than through
//! `lockstep-smoke`, or roll a version out to the fleet (the rollout workflow builds on
//! [`known_good::rollback_target`] and [`pins::resolve_in`]).
//!
//! # Limitations
//!
//! - One machine: the home is a local directory and SQLite assumes a local file system.
//! - Notifications are sent synchronously within a bounded time (45 s by default); a delivery
//!   that fails by then is logged (`notify log`), not retried later.
//! - Lab canaries hold the component by a pin in `Cargo.toml`, `package.json` or
//!   `pyproject.toml`, or by an install command; a lockfile is regenerated only where the
//!   canary has one.
//!
//! ## Examples
//!
//! ```
//! use lockstep_fleet::{Fleet, Home, known_good, pins, events::Notifier, spec::Channel};
//!
//! let dir = tempfile::tempdir()?;
//! let home = Home::new(dir.path(), None);
//! let mut fleet = Fleet::open(&home)?;
//! let quiet = Notifier::default(); // no webhooks
//!
//! // Without a lab result, nothing is promoted (exit 1 on the command line).
//! let promote = known_good::PromoteOptions::new("cli@1.2.0".parse()?, Channel::Stable, "ana");
//! let refused = known_good::promote(&mut fleet, &quiet, &promote).unwrap_err();
//! assert_eq!(lockstep_state::Classify::kind(&refused), "no_lab_result");
//!
//! // A pin wins over the channel, and is an audit record.
//! let pin = pins::PinOptions::new("acme", "cli@1.1.0".parse()?, "waiting for SSO fix", "ana");
//! pins::set_pin(&mut fleet, &quiet, &pin)?;
//! let r = pins::resolve(&mut fleet, &quiet, &pins::ResolveOptions::new("acme", "cli"))?;
//! assert_eq!((r.version.as_deref(), r.why), (Some("1.1.0"), Some(pins::Why::Pin)));
//! assert_eq!(lockstep_audit::AuditLog::open(home.audit_path())?.records()?.len(), 1);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod error;
pub mod events;
mod home;
pub mod known_good;
pub mod lab;
pub mod labconf;
pub mod pins;
mod recover;
pub mod rollout;
pub mod spec;
pub mod timer;
pub mod watch;

pub use error::Error;

/// Every failpoint of the fleet workflow (`LOCKSTEP_FAILPOINT=NAME` makes the process SIGKILL
/// itself there), for crash tests: the lab's steps, and before and after the commit of each
/// change (its audit record is appended after the commit, or by the next open).
pub const FAILPOINTS: &[&str] = &[
    "lab_copied",
    "lab_testing",
    "lab_before_commit",
    "lab_after_commit",
    "promote_before_commit",
    "promote_after_commit",
    "quarantine_before_commit",
    "quarantine_after_commit",
    "pin_before_commit",
    "pin_after_commit",
    "pin_clear_before_commit",
    "pin_clear_after_commit",
    "pin_expire_before_commit",
    "pin_expire_after_commit",
    "rollout_start_before_commit",
    "rollout_start_after_commit",
    "rollout_advance_before_commit",
    "rollout_advance_after_commit",
    "rollout_pause_before_commit",
    "rollout_pause_after_commit",
    "rollout_resume_before_commit",
    "rollout_resume_after_commit",
    "rollout_abort_before_commit",
    "rollout_abort_after_commit",
];
pub use home::{Fleet, Home, LAB_DIR, NOTIFY_FILE};
pub use recover::{Recovered, recover};
