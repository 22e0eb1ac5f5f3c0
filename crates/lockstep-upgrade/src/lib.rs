//! The lockstep workflows other tools embed.
//!
//! Each workflow is a module with its own error type: [`gate`] (the CI release gate across
//! verticals), [`update`] (which newer releases a vertical's channel sees, with verdicts), over
//! shared mechanisms: [`workspace`] (finding a vertical, its work tree and registry),
//! [`current`] (which core version a vertical is on) and [`registry`] (loading releases).
//!
//! The engine composes the adapters (`lockstep-registry`, and for later workflows the
//! snapshot, smoke and audit crates) with the pure planners (`lockstep-compat`). It knows
//! nothing of terminals: rendering and exit codes belong to the command line.
//!
//! The upgrade transaction lives in [`upgrade`] (plan and execute) over [`txn`] (the
//! [`txn::Session`] every mutating command holds: [`lock`], [`journal`], crash recovery,
//! `rollback`). Setting `LOCKSTEP_FAILPOINT` to one of [`FAILPOINTS`] makes the process kill
//! itself with SIGKILL at that step, for crash tests.
//!
//! # Limitations
//!
//! - A repository whose packages land in different cascade waves gets one release commit per
//!   wave, not one in all.
//!
//! ## Examples
//!
//! ```
//! use lockstep_upgrade::update;
//! use lockstep_compat::Policy;
//! use lockstep_manifest::{ReleaseIndex, VerticalManifest};
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
