//! The consumer side of lockstep: a vertical pulls a new core.
//!
//! One module per command, each with its own error type, all implementing
//! `lockstep_state::Classify` so a caller maps them to exit codes or HTTP statuses in one place:
//!
//! - [`flow`]: the front door: find the vertical and its registry, detect the current version,
//!   load releases, plan ([`flow::inputs`], [`flow::plan`], [`flow::status`]).
//! - [`update`]: which newer releases a vertical's channel sees, with verdicts (pure).
//! - [`gate`]: the CI release gate across verticals, and which release it gates.
//! - [`upgrade`]: the plan ([`upgrade::plan`]) and the transaction ([`upgrade::execute`]):
//!   journal → snapshot → apply → smoke tests → commit, or a verified rollback.
//! - [`txn`]: the [`txn::Session`] every mutating command holds: the lock, crash recovery from
//!   the [`journal`], `rollback`, `history`, the audit log.
//! - [`channel`]: switching a manifest's update channel, format-preserving.
//! - [`workspace`], [`current`], [`registry`]: finding a vertical, telling which core it is on,
//!   loading releases.
//!
//! The crate composes the adapters (registry, snapshot, smoke, audit) with the pure planners
//! (`lockstep-compat`, `lockstep-pins`). It knows nothing of terminals. Setting
//! `LOCKSTEP_FAILPOINT` to one of [`FAILPOINTS`] makes the process kill itself with SIGKILL at
//! that step, for crash tests.
//!
//! # Limitations
//!
//! - Checkout mode upgrades to the tag `v<version>` only; other tag conventions need pin mode.
//! - One vertical per call: fleets go through the gate, or a loop of calls.
//!
//! ## Examples
//!
//! ```
//! use lockstep_upgrade::update;
//! use lockstep_upgrade::reexports::{Policy, ReleaseIndex, VerticalManifest};
//!
//! let index = ReleaseIndex::parse(r#"{"schema": 1, "releases": [
//!   {"version": "1.1.0", "channel": "stable", "contracts_version": "1.0.0"},
//!   {"version": "1.2.0-beta.1", "channel": "beta", "contracts_version": "1.0.0"}
//! ]}"#).unwrap();
//! let manifest = VerticalManifest::parse("\
//! domain_name: finance
//! domain_version: 1.0.0
//! status: active
//! compatibility: {min_core_version: 1.0.0, max_core_version: 1.x.x, contracts_major: 1}
//! ownership: {team: payments, tech_lead: Ada, contact: ada@example.com}
//! ").unwrap();
//! let current = semver::Version::new(1, 0, 0);
//! let report = update::report(&manifest, &current, None, &index.releases, Policy::default());
//! assert_eq!(report.latest.unwrap().version, "1.1.0"); // stable does not see the beta
//! ```

#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub use lockstep_state::lock;
use lockstep_state::{failpoint, fsx};

/// The lower-layer types a caller of this crate names (so a command line depends on the
/// workflow crates alone).
pub mod reexports {
    pub use lockstep_compat::{Policy, Reason, Status};
    pub use lockstep_manifest::{
        CascadeConfig, Channel, DocumentKind, Problem, Release, ReleaseIndex, VerticalManifest,
        detect_kind,
    };
    pub use lockstep_state::{Classify, Severity, layout};
}

pub mod channel;
pub mod current;
pub mod flow;
pub mod gate;
mod git;
pub mod journal;
pub mod registry;
pub mod txn;
pub mod update;
pub mod upgrade;
pub mod workspace;

/// The failpoints of the upgrade and rollback transactions, in the order they are reached.
pub const FAILPOINTS: &[&str] = &[
    "after_journal",
    "after_snapshot",
    "before_apply",
    "after_pin",
    "during_lockfile",
    "after_apply",
    "during_smoke",
    "before_commit",
    "after_commit",
    "after_audit",
    "during_rollback",
    "rollback_before_restore",
];
