//! The lockstep compatibility engine: hold a core release against a vertical's manifest and get
//! a verdict — `compatible`, `compatible_with_warnings` or `blocked` — with every reason that
//! applies; or hold many releases against many verticals at once as a [`Matrix`].
//!
//! Pure: values in, values out. No files, no clock, no network, no logging; explanations are in
//! the returned [`Verdict`]s, where tests and tools can see them.
//!
//! The rules (see `docs/contract.md` for the policy behind them):
//!
//! | code | when | effect |
//! |---|---|---|
//! | `core_below_min` / `core_above_max` | outside `min_core_version`..=`max_core_version` (wildcards admit their whole prefix, pre-releases included) | blocks |
//! | `contracts_major_mismatch` | the release's contracts major ≠ `contracts_major` | blocks |
//! | `capability_missing` | a required capability is not in `capabilities` | blocks |
//! | `capability_deprecated` | a required capability is in `deprecated_capabilities` | warns |
//! | `channel_mismatch` | the vertical's channel does not see the release's channel | warns |
//! | `prerelease` | a pre-release, and the vertical follows stable or lts | warns |
//! | `vertical_not_active` | the manifest's `status` is not `active` | warns |
//! | `outside_support_window` | more than N minors behind the newest final release of its major | warns |
//!
//! Versions compare by SemVer precedence everywhere; build metadata is ignored.
//!
//! # Limitations
//!
//! - A release whose contracts version is unknown (a GitHub release without `release.json`)
//!   is not judged on contracts: no `contracts_major_mismatch` can fire for it.
//! - The support window counts minors within one major; the newest release of a major is
//!   taken among final (non-pre-release) versions of the releases the checker was given.
//!
//! ## Examples
//!
//! ```
//! use lockstep_compat::{Checker, Policy, ReasonCode, Status};
//! use lockstep_manifest::{ReleaseIndex, VerticalManifest};
//!
//! let index = ReleaseIndex::parse(r#"{"schema": 1, "releases": [
//!   {"version": "1.4.0", "channel": "stable", "contracts_version": "1.3.0", "capabilities": ["ledger.v1"]},
//!   {"version": "2.0.0", "channel": "stable", "contracts_version": "2.0.0", "capabilities": ["ledger.v2"]}
//! ]}"#).unwrap();
//! let manifest = VerticalManifest::parse("\
//! domain_name: finance
//! domain_version: 1.0.0
//! status: active
//! compatibility:
//!   min_core_version: 1.0.0
//!   max_core_version: 1.x.x
//!   contracts_major: 1
//!   required_capabilities: [ledger.v1]
//! ownership: {team: payments, tech_lead: Ada, contact: ada@example.com}
//! ").unwrap();
//!
//! let checker = Checker::new(&index.releases, Policy::default());
//! assert_eq!(checker.check(&index.releases[0], &manifest).status, Status::Compatible);
//!
//! let verdict = checker.check(&index.releases[1], &manifest);
//! assert_eq!(verdict.status, Status::Blocked);
//! let codes: Vec<_> = verdict.reasons.iter().map(|r| r.code).collect();
//! assert_eq!(codes, [ReasonCode::CoreAboveMax, ReasonCode::ContractsMajorMismatch, ReasonCode::CapabilityMissing]);
//! ```

#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod check;
mod reason;

pub use check::{Checker, Matrix, Policy};
pub use reason::{Reason, ReasonCode, ReasonSet, Status, Verdict};

/// The README's example runs as a doctest, so it cannot drift from the API.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
