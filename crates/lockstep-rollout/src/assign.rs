//! The assignment decision: which version one unit runs now.

use serde::Serialize;

use crate::bucket::bucket;
use crate::state::State;

/// What [`assign`] needs to know about the rollout: borrowed, so a control plane can keep one
/// `View` per rollout and call [`assign`] without allocating.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct View<'a> {
    /// The rollout's id (part of the bucket hash: another rollout reshuffles the units).
    pub id: &'a str,
    /// The version being rolled out.
    pub version: &'a str,
    /// The version units outside the stage, and everyone after a halt, run.
    pub rollback: &'a str,
    /// The rollout's state.
    pub state: State,
    /// The current stage's share in basis points (1 % = 100).
    pub stage_bp: u16,
}

/// Why a unit got its version (the `why` of `rollout assign --json`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Why {
    /// The unit's organisation pins a version.
    Pin,
    /// The unit is inside the stage (or the rollout completed).
    Rollout,
    /// The unit is outside the stage, or the rollout halted or was aborted.
    RollbackTarget,
}

impl Why {
    /// The word used in JSON and text output.
    pub fn as_str(self) -> &'static str {
        match self {
            Why::Pin => "pin",
            Why::Rollout => "rollout",
            Why::RollbackTarget => "rollback_target",
        }
    }
}

/// One unit's assignment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Assignment<'a> {
    /// The version to run.
    pub version: &'a str,
    /// The unit's bucket in `0..10000`.
    pub bucket: u16,
    /// The stage's share in basis points at the time of the decision.
    pub stage_bp: u16,
    /// Why.
    pub why: Why,
}

/// The version `unit` runs now.
///
/// In order: an organisation pin (`pin`, the pinned version) wins; a halted or aborted rollout
/// assigns the rollback target; a completed one the new version; otherwise the unit gets the
/// new version when its [`bucket`] is below `stage_bp`, and the rollback target when not. A
/// paused rollout keeps its stage: units already on the new version stay on it.
pub fn assign<'a>(view: &View<'a>, unit: &str, pin: Option<&'a str>) -> Assignment<'a> {
    let b = bucket(view.id, unit);
    let (version, why) = match (pin, view.state) {
        (Some(pinned), _) => (pinned, Why::Pin),
        (None, State::Halted | State::Aborted) => (view.rollback, Why::RollbackTarget),
        (None, State::Completed) => (view.version, Why::Rollout),
        (None, State::Running | State::Paused) if b < view.stage_bp => (view.version, Why::Rollout),
        (None, State::Running | State::Paused) => (view.rollback, Why::RollbackTarget),
    };
    Assignment {
        version,
        bucket: b,
        stage_bp: view.stage_bp,
        why,
    }
}
