//! Staged rollout decisions: which unit runs which version, and when a stage advances or halts.
//!
//! A staged rollout sends a new version to a growing share of units (sessions, runners,
//! organisations): 1 %, then 10 %, 50 %, 100 %. This crate holds every decision of that
//! workflow as pure functions over values, so a control plane can call them in-process on
//! every session start and a test can check them without a database or a clock:
//!
//! - [`bucket`]: a unit's stable bucket in `0..10000`, from SHA-256 over a domain tag, the
//!   rollout's id and the unit id. The same unit lands in the same bucket on every machine and
//!   every run, and a stage of `p` basis points holds exactly the buckets below `p`, so
//!   stages only add units.
//! - [`assign()`]: the version one unit runs now (an organisation pin wins; a halted or aborted
//!   rollout sends everyone to the rollback target; a unit inside the stage gets the new
//!   version, one outside it the rollback target).
//! - [`evaluate()`]: what to do with the current stage given its tally: halt when the Wilson
//!   score interval's *lower* bound of the failure rate is above the threshold (the rollout is
//!   credibly bad, whatever the sample size); advance when at least the minimum number of
//!   samples was seen *and* the interval's *upper* bound is below the threshold (credibly
//!   good); otherwise stay, and pause once the stage's deadline has passed.
//! - [`Rollout`]: the state machine (running, paused, halted, completed, aborted) that applies
//!   those decisions and the operator's commands, refusing transitions that make no sense.
//! - [`argo::emit`]: the same policy as an Argo Rollouts `Rollout` and `AnalysisTemplate`.
//!
//! It deliberately does not store anything, read a clock, send notifications or know the
//! known-good registry: times come in as Unix seconds, and the fleet workflow
//! (`lockstep-fleet`) does the rest.
//!
//! # Limitations
//!
//! - Stages are whole percentages (1 to 100), the granularity Argo Rollouts' `setWeight` has.
//! - A report slower than the latency limit counts as a failure: the rollout watches one rate,
//!   not a latency distribution.
//! - The confidence level is one `z` value for both bounds (default 1.96, about 95 %).
//!
//! ## Examples
//!
//! ```
//! use lockstep_rollout::{assign, bucket, evaluate, Decision, Policy, Tally, View, Why, State};
//!
//! let policy = Policy::new(vec![1, 10, 50, 100])?;
//! // Where a unit lands is fixed by the rollout id and the unit id alone.
//! let b = bucket("ro-1", "session-42");
//! assert!(b < 10_000);
//!
//! let view = View {
//!     id: "ro-1",
//!     version: "2.0.0",
//!     rollback: "1.9.0",
//!     state: State::Running,
//!     stage_bp: 10_000,
//! };
//! let a = assign(&view, "session-42", None);
//! assert_eq!((a.version, a.why), ("2.0.0", Why::Rollout));
//!
//! // Three failures out of five is credibly above a 5 % threshold: halt.
//! let tally = Tally { samples: 5, failures: 3, slow: 0 };
//! assert!(matches!(evaluate(&policy, 0, &tally, 0, 60), Decision::Halt { .. }));
//! // Three successes are not enough to advance.
//! let tally = Tally { samples: 3, failures: 0, slow: 0 };
//! assert_eq!(evaluate(&policy, 0, &tally, 0, 60), Decision::Stay);
//! # Ok::<(), lockstep_rollout::PolicyError>(())
//! ```

#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod argo;
mod assign;
mod bucket;
mod evaluate;
mod policy;
mod state;

pub use assign::{Assignment, View, Why, assign};
pub use bucket::{BUCKETS, DOMAIN, bucket};
pub use evaluate::{Bounds, Decision, HaltEvidence, Tally, evaluate, wilson};
pub use policy::{Policy, PolicyError};
pub use state::{Command, Rollout, State, TransitionError};
