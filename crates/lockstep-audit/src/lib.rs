//! Append-only, hash-chained JSONL audit log with verification and torn-tail repair.
//!
//! Every lockstep attempt (a check, a plan, an upgrade that committed or rolled back, a
//! recovery) leaves one [`Record`] in `.lockstep/audit.jsonl`. Each record carries its
//! sequence number, the hash of the record before it and its own hash, so [`AuditLog::verify`]
//! can name the first record that was edited, deleted, reordered or cut short.
//!
//! What it does:
//! - [`AuditLog::append`] writes one line under an exclusive file lock ([`std::fs::File::lock`]),
//!   fsyncs it, and returns the sealed record. Threads and processes may append at once; none
//!   is lost and the chain stays sound.
//! - A torn last line left by a crash mid-write is detected and dropped, atomically, with a
//!   [`action::REPAIRED`] record saying what was dropped (length, sha256, a preview). `append`
//!   does this by itself; [`AuditLog::repair_torn_tail`] does it on request (`recover`).
//! - [`AuditLog::verify`] checks the chain and returns a [`VerifyReport`] whose [`Problem`]
//!   names the first bad record and why ([`ProblemKind`]).
//!
//! What it does not do: it keeps no index, rotates nothing, and never rewrites a record
//! (a repair only drops bytes that were never a complete record). It holds domain records,
//! not logs: use `tracing` for those.
//!
//! ## The format
//!
//! One JSON object per line, keys in this order: `seq` (from 1), `time` (RFC 3339 UTC),
//! `actor`, `action`, `from`, `to`, `snapshot` (each a string or `null`), `outcome`,
//! `details` (an object), `prev`, `hash`. `prev` is the previous record's `hash`, and
//! [`GENESIS_PREV`] (sixty-four zeros) for record 1. `hash` is the lower-case hex SHA-256 of
//! the line without its `hash` member, as [`Record::canonical_bytes`] defines, so anyone can
//! recompute it:
//!
//! ```text
//! {"seq":1,"time":"2026-11-22T10:00:00Z","actor":"ana@ci","action":"check","from":"1.1.0","to":"1.2.0","snapshot":null,"outcome":"compatible","details":{},"prev":"0000…","hash":"5d1f…"}
//! ```
//!
//! # Limitations
//!
//! - Tamper-evident, not tamper-proof: whoever can write the file can rewrite every record
//!   from some point on with recomputed hashes. Keep an [`Anchor`] elsewhere (the engine's
//!   journal, a CI artifact) and use [`AuditLog::verify_against`] to notice that, and to notice
//!   records cut from the end, which a chain alone cannot tell from a shorter log.
//! - Appends read the tail, not the whole file: a record damaged in the middle is found by
//!   `verify`, not by `append`.
//! - A repair renames a new file over the log. On non-Unix platforms, where the lock holder
//!   cannot compare inode numbers, an append racing a repair in another process could be lost.
//! - A crash during a repair may leave a `.audit.jsonl.repair-PID` file beside the log; it is
//!   safe to delete.
//! - Times have whole-second precision.
//!
//! ## Examples
//!
//! ```
//! use lockstep_audit::{action, AuditLog, NewRecord};
//!
//! # fn main() -> Result<(), lockstep_audit::Error> {
//! let dir = tempfile::tempdir().expect("a temp dir");
//! let log = AuditLog::open(dir.path().join(".lockstep/audit.jsonl"))?;
//!
//! let started = log.append(
//!     NewRecord::new("ana@ci", action::UPGRADE_STARTED, "started")
//!         .from_version("1.1.0")
//!         .to_version("1.2.0")
//!         .snapshot("pre-upgrade-20261122-100000"),
//! )?;
//! let rolled_back = log.append(
//!     NewRecord::new("ana@ci", action::ROLLED_BACK, "smoke_failed")
//!         .from_version("1.1.0")
//!         .to_version("1.2.0")
//!         .detail("exit_code", 1),
//! )?;
//! assert_eq!((started.seq, rolled_back.seq), (1, 2));
//! assert_eq!(rolled_back.prev, started.hash);
//!
//! let report = log.verify()?;
//! assert!(report.is_ok());
//! assert_eq!(report.records, 2);
//! assert_eq!(log.records()?, vec![started, rolled_back]);
//! # Ok(())
//! # }
//! ```

#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod error;
mod log;
mod record;
mod verify;

pub use error::{Error, ErrorKind};
pub use lockstep_state::time::rfc3339;
pub use log::{AuditLog, Repair, TornReason};
pub use record::{Anchor, GENESIS_PREV, NewRecord, Record, action};
pub use verify::{Problem, ProblemKind, VerifyReport};
