//! Errors to exit codes, once: every workflow error implements `lockstep_state::Classify`
//! (a kind and a severity), which maps to the exit code the contract gives it.

use std::fmt::Display;

use lockstep_upgrade::reexports::Classify;
use lockstep_upgrade::workspace;

use crate::out::Failure;

/// Any workflow error as the command line reports it.
pub fn fail<E: Classify + Display>(e: E) -> Failure {
    Failure::new(e.severity().exit_code(), e.kind(), e.to_string())
}

/// A vertical that cannot be loaded; an invalid manifest lists every problem and the next step.
pub fn workspace_failure(e: workspace::Error) -> Failure {
    let kind = e.kind();
    match e {
        workspace::Error::Invalid { path, invalid } => Failure::input(
            kind,
            format!(
                "{} is not a valid vertical manifest ({} problem{}):\n{}\nrun `lockstep validate {}` after fixing it",
                path.display(),
                invalid.problems.len(),
                if invalid.problems.len() == 1 { "" } else { "s" },
                lockstep_upgrade::reexports::Problem::located(
                    &path.display().to_string(),
                    &invalid.problems
                ),
                path.display()
            ),
        ),
        other => fail(other),
    }
}

/// A front-door error of the upgrade side.
pub fn flow_failure(e: lockstep_upgrade::flow::Error) -> Failure {
    match e {
        lockstep_upgrade::flow::Error::Workspace(w) => workspace_failure(w),
        other => fail(other),
    }
}
