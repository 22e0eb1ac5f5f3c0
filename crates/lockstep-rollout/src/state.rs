//! The rollout state machine.

use serde::{Deserialize, Serialize};

use crate::evaluate::{Decision, Tally, evaluate};
use crate::policy::Policy;

/// Where a rollout is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum State {
    /// Taking reports; `advance` evaluates the stage.
    Running,
    /// Stopped at its stage by a person or a deadline; `resume` continues.
    Paused,
    /// Stopped by bad evidence; everyone runs the rollback target. Final.
    Halted,
    /// Every unit runs the new version. Final.
    Completed,
    /// Stopped by a person; everyone runs the rollback target. Final.
    Aborted,
}

impl State {
    /// The word used in JSON, the database and text output.
    pub fn as_str(self) -> &'static str {
        match self {
            State::Running => "running",
            State::Paused => "paused",
            State::Halted => "halted",
            State::Completed => "completed",
            State::Aborted => "aborted",
        }
    }

    /// Parses [`State::as_str`]'s words.
    pub fn parse(text: &str) -> Option<State> {
        Some(match text {
            "running" => State::Running,
            "paused" => State::Paused,
            "halted" => State::Halted,
            "completed" => State::Completed,
            "aborted" => State::Aborted,
            _ => return None,
        })
    }

    /// Running or paused: the rollout still holds its component and channel.
    pub fn is_active(self) -> bool {
        matches!(self, State::Running | State::Paused)
    }
}

/// An operator's command.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Command {
    /// Running → paused.
    Pause,
    /// Paused → running, with a fresh stage deadline.
    Resume,
    /// Running or paused → aborted.
    Abort,
}

impl Command {
    /// The command's word.
    pub fn as_str(self) -> &'static str {
        match self {
            Command::Pause => "pause",
            Command::Resume => "resume",
            Command::Abort => "abort",
        }
    }
}

/// A transition the rollout's state does not allow.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("cannot {action} a rollout that is {}", state.as_str())]
#[non_exhaustive]
pub struct TransitionError {
    /// What was asked (`advance`, `pause`, `resume`, `abort`).
    pub action: &'static str,
    /// The state it is in.
    pub state: State,
}

/// A rollout: its policy, state, current stage and the stage's tally.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Rollout {
    /// The policy it started with.
    pub policy: Policy,
    /// Where it is.
    pub state: State,
    /// The current stage's index into `policy.stages`.
    pub stage: usize,
    /// When the current stage started (Unix seconds).
    pub stage_started: i64,
    /// The current stage's reports.
    #[serde(skip)]
    pub tally: Tally,
}

impl Rollout {
    /// A rollout at its first stage, started at `now`.
    pub fn new(policy: Policy, now: i64) -> Rollout {
        Rollout {
            policy,
            state: State::Running,
            stage: 0,
            stage_started: now,
            tally: Tally::default(),
        }
    }

    /// A rollout rebuilt from stored fields.
    pub fn from_parts(
        policy: Policy,
        state: State,
        stage: usize,
        stage_started: i64,
        tally: Tally,
    ) -> Rollout {
        Rollout {
            policy,
            state,
            stage,
            stage_started,
            tally,
        }
    }

    /// The current stage in percent.
    pub fn stage_percent(&self) -> u8 {
        self.policy.stages.get(self.stage).copied().unwrap_or(100)
    }

    /// The current stage's share in basis points.
    pub fn stage_bp(&self) -> u16 {
        self.policy.stage_bp(self.stage)
    }

    /// Counts one report in the current stage's tally, when the rollout is active; returns
    /// whether it counted (reports after the end are kept by the caller, not judged).
    pub fn record(&mut self, success: bool, latency_ms: Option<u64>) -> bool {
        if !self.state.is_active() {
            return false;
        }
        self.tally.record(&self.policy, success, latency_ms);
        true
    }

    /// Evaluates the current stage at `now` and applies the decision: a halt, a pause, the
    /// next stage (with a fresh tally and deadline), completion, or nothing.
    pub fn advance(&mut self, now: i64) -> Result<Decision, TransitionError> {
        if self.state != State::Running {
            return Err(TransitionError {
                action: "advance",
                state: self.state,
            });
        }
        let decision = evaluate(
            &self.policy,
            self.stage,
            &self.tally,
            self.stage_started,
            now,
        );
        match &decision {
            Decision::Halt { .. } => self.state = State::Halted,
            Decision::Pause { .. } => self.state = State::Paused,
            Decision::Complete => self.state = State::Completed,
            Decision::Advance { to } => {
                self.stage = *to;
                self.stage_started = now;
                self.tally = Tally::default();
            }
            Decision::Stay => {}
        }
        Ok(decision)
    }

    /// Applies an operator's command at `now`.
    pub fn command(&mut self, command: Command, now: i64) -> Result<(), TransitionError> {
        let refuse = || TransitionError {
            action: command.as_str(),
            state: self.state,
        };
        self.state = match (command, self.state) {
            (Command::Pause, State::Running) => State::Paused,
            (Command::Resume, State::Paused) => {
                self.stage_started = now;
                State::Running
            }
            (Command::Abort, State::Running | State::Paused) => State::Aborted,
            _ => return Err(refuse()),
        };
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_follow_the_state_diagram() {
        let mut r = Rollout::new(Policy::new(vec![50, 100]).unwrap(), 0);
        assert!(r.command(Command::Resume, 1).is_err());
        r.command(Command::Pause, 1).unwrap();
        assert_eq!(r.advance(2).unwrap_err().state, State::Paused);
        r.command(Command::Resume, 10).unwrap();
        assert_eq!((r.state, r.stage_started), (State::Running, 10));
        r.command(Command::Abort, 11).unwrap();
        assert_eq!(r.state, State::Aborted);
        let e = r.command(Command::Abort, 12).unwrap_err();
        assert_eq!(e.to_string(), "cannot abort a rollout that is aborted");
        assert!(!r.record(true, None));
    }

    #[test]
    fn a_stage_past_its_deadline_pauses_rather_than_promotes() {
        let policy = Policy::new(vec![10, 100])
            .unwrap()
            .stage_deadline_secs(60)
            .unwrap();
        let mut r = Rollout::new(policy, 1_000);
        for _ in 0..5 {
            r.record(true, None);
        }
        assert_eq!(r.advance(1_060).unwrap(), Decision::Stay);
        assert_eq!(
            r.advance(1_061).unwrap(),
            Decision::Pause { deadline: 1_060 }
        );
        assert_eq!((r.state, r.stage), (State::Paused, 0));
    }
}
