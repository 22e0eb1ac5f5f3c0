//! The fleet workflow's one error type.

use std::path::PathBuf;

use lockstep_state::{Classify, Severity};

/// Why a fleet command failed. [`Classify`] maps it to an exit code: bad input and errors
/// before any change are `Input` (2); refusals such as a promotion the lab result does not
/// allow are `Refused` (1).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The state database failed.
    #[error(transparent)]
    Store(#[from] lockstep_store::Error),
    /// The audit log failed.
    #[error("audit log: {0}")]
    Audit(#[from] lockstep_audit::Error),
    /// A file or directory could not be read or written.
    #[error("cannot {action} {}: {source}", path.display())]
    Io {
        /// What was being done.
        action: &'static str,
        /// The path.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// A command-line value is not acceptable.
    #[error("invalid {what} `{value}`: expected {expected}")]
    InvalidArgument {
        /// Which argument.
        what: &'static str,
        /// As given.
        value: String,
        /// What would be accepted.
        expected: String,
    },
    /// A configuration file (`lab.toml`, `notify.toml`) has a problem.
    #[error("{}:{line}:{column}: {field}{}{message}", path.display(), if field.is_empty() { "" } else { ": " })]
    Config {
        /// The file.
        path: PathBuf,
        /// 1-based line (0 when unknown).
        line: usize,
        /// 1-based column.
        column: usize,
        /// The field path.
        field: String,
        /// What is wrong and what is accepted.
        message: String,
    },
    /// The source is not watched.
    #[error("{source_spec} is not watched; add it with `lockstep watch add {source_spec}`")]
    NotWatched {
        /// The source.
        source_spec: String,
    },
    /// No lab result allows this promotion.
    #[error(
        "{component}@{version} has no lab result; run `lockstep lab run {component}@{version} --canaries lab.toml` first"
    )]
    NoLabResult {
        /// The component.
        component: String,
        /// The version.
        version: String,
    },
    /// The lab verdict does not allow promotion to this channel.
    #[error(
        "{component}@{version} cannot be promoted to {channel}: its lab verdict is {verdict}; {channel} needs {needs}"
    )]
    Verdict {
        /// The component.
        component: String,
        /// The version.
        version: String,
        /// The channel.
        channel: String,
        /// The newest lab verdict.
        verdict: String,
        /// What the channel needs.
        needs: &'static str,
    },
    /// The version is quarantined.
    #[error("{component}@{version} is quarantined ({reason}); it is never promoted")]
    Quarantined {
        /// The component.
        component: String,
        /// The version.
        version: String,
        /// Why.
        reason: String,
    },
    /// There is no version to fall back to, or none to run.
    #[error("{what}")]
    Nothing {
        /// What is missing.
        what: String,
    },
    /// Running a command in the lab failed to start.
    #[error("lab: {0}")]
    Smoke(#[from] lockstep_smoke::Error),
}

impl Error {
    pub(crate) fn io(
        action: &'static str,
        path: impl Into<PathBuf>,
        source: std::io::Error,
    ) -> Self {
        Error::Io {
            action,
            path: path.into(),
            source,
        }
    }

    pub(crate) fn invalid(what: &'static str, value: &str, expected: impl Into<String>) -> Self {
        Error::InvalidArgument {
            what,
            value: value.to_owned(),
            expected: expected.into(),
        }
    }
}

impl Classify for Error {
    fn kind(&self) -> &'static str {
        match self {
            Error::Store(e) => e.kind(),
            Error::Audit(_) => "audit",
            Error::Io { .. } => "io",
            Error::InvalidArgument { .. } => "invalid_argument",
            Error::Config { .. } => "invalid_config",
            Error::NotWatched { .. } => "not_watched",
            Error::NoLabResult { .. } => "no_lab_result",
            Error::Verdict { .. } => "lab_verdict",
            Error::Quarantined { .. } => "quarantined",
            Error::Nothing { .. } => "nothing",
            Error::Smoke(_) => "lab_runner",
        }
    }

    fn severity(&self) -> Severity {
        match self {
            Error::NoLabResult { .. }
            | Error::Verdict { .. }
            | Error::Quarantined { .. }
            | Error::Nothing { .. } => Severity::Refused,
            _ => Severity::Input,
        }
    }
}
