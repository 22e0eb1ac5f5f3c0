//! `plan` and `upgrade`: the consumer side's transaction.
//!
//! [`plan`] computes what an upgrade would do (verdict, changelog, files, tests, risk, downtime)
//! and changes nothing; its digest covers everything the upgrade depends on, so
//! `upgrade --plan DIGEST` can refuse when anything drifted. [`execute`] runs the transaction
//! inside a [`Session`]: journal → snapshot → apply → smoke tests → commit, or an automatic,
//! verified rollback, with every attempt in the audit log.

use std::cmp::Ordering;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use lockstep_audit::action;
use lockstep_compat::{Checker, Policy, Reason, Status};
use lockstep_manifest::{CoreMode, Release};
use lockstep_pins::{Ecosystem, GitRef, LockTool, Pin, PinValue};
use lockstep_smoke::{CommandSpec, Outcome as RunOutcome, RunResult};
use lockstep_snapshot::SnapshotId;
use lockstep_vocab::{Requirement, Rewrite};
use semver::Version;
use serde::Serialize;
use sha2::{Digest as _, Sha256};

use crate::current::Current;
use crate::journal::{Journal, Kind, Step};
use crate::txn::Session;
use crate::workspace::Vertical;
use crate::{failpoint, fsx};

/// The JSON schema name of a plan.
pub const PLAN_SCHEMA: &str = "lockstep.plan/v1";
/// The JSON schema name of an upgrade report.
pub const UPGRADE_SCHEMA: &str = "lockstep.upgrade/v1";
/// Free disk space an upgrade needs at the work tree, unless `LOCKSTEP_MIN_FREE_BYTES` says otherwise.
pub const MIN_FREE_BYTES: u64 = 100 * 1024 * 1024;
/// Grace between SIGTERM and SIGKILL for smoke tests.
pub const DEFAULT_GRACE: Duration = Duration::from_secs(10);
/// How long a lockfile tool may run.
pub const LOCKFILE_TIMEOUT: Duration = Duration::from_secs(600);

/// Errors of `plan` and `upgrade` before any change was made (exit code 2).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The target is not in the registry.
    #[error(
        "release {version} is not in the registry {registry}; `update` lists the releases your channel sees"
    )]
    UnknownTarget {
        /// The requested version.
        version: Version,
        /// The registry spec.
        registry: String,
    },
    /// The target is below the current version.
    #[error(
        "core {current} is installed and {target} is older; to go back, use `rollback` (it restores the snapshot taken before an upgrade)"
    )]
    NotAnUpgrade {
        /// The requested version.
        target: Version,
        /// The current version.
        current: Version,
    },
    /// The manifest does not say how the vertical holds core.
    #[error(
        "{manifest} has no `core.mode`, so lockstep cannot apply an upgrade; add `core: {{mode: pin, file: Cargo.toml, dependency: NAME}}` or `core: {{mode: checkout}}`"
    )]
    NoCoreMode {
        /// The manifest.
        manifest: PathBuf,
    },
    /// The pin file is unreadable or unusable.
    #[error("{file}: {message}")]
    Pin {
        /// The package manifest named by `core.file`.
        file: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// Checkout mode needs the release's tag.
    #[error(
        "{root} has no tag {tag}; fetch tags from core's remote (`git fetch --tags`) and retry"
    )]
    MissingTag {
        /// The work tree.
        root: PathBuf,
        /// The tag.
        tag: String,
    },
    /// A lockfile tool is not installed.
    #[error(
        "`{program}` is not on PATH, and the lockfile {lockfile} must be regenerated with `{command}`; install it or add it to PATH"
    )]
    ToolMissing {
        /// The program.
        program: String,
        /// The lockfile.
        lockfile: PathBuf,
        /// The full command.
        command: String,
    },
    /// `--plan DIGEST` does not match the plan computed now.
    #[error(
        "the plan changed since it was made (digest {expected}, now {actual}): the repository, manifest or registry moved; run `plan` again and review it"
    )]
    Drift {
        /// The digest given.
        expected: String,
        /// The digest now.
        actual: String,
    },
    /// Too little free disk space.
    #[error(
        "only {available} bytes free at {root}, an upgrade needs {needed}; free some space and retry"
    )]
    DiskSpace {
        /// The work tree.
        root: PathBuf,
        /// Free bytes.
        available: u64,
        /// Required bytes.
        needed: u64,
    },
    /// A failure of the shared machinery (lock, journal, audit, git).
    #[error(transparent)]
    Txn(#[from] crate::txn::Error),
}

impl Error {
    /// A short machine-readable kind for JSON errors.
    pub fn kind(&self) -> &'static str {
        match self {
            Error::UnknownTarget { .. } => "unknown_target",
            Error::NotAnUpgrade { .. } => "not_an_upgrade",
            Error::NoCoreMode { .. } => "no_core_mode",
            Error::Pin { .. } => "pin",
            Error::MissingTag { .. } => "missing_tag",
            Error::ToolMissing { .. } => "tool_missing",
            Error::Drift { .. } => "plan_drift",
            Error::DiskSpace { .. } => "disk_space",
            Error::Txn(e) => e.kind(),
        }
    }

    /// Whether the system may be left between states (exit code 3).
    pub fn left_inconsistent(&self) -> bool {
        matches!(self, Error::Txn(e) if e.left_inconsistent())
    }
}

/// One release's changelog in the plan.
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct ChangelogEntry {
    /// The release.
    pub version: String,
    /// Breaking changes.
    pub breaking: Vec<String>,
    /// Features.
    pub features: Vec<String>,
    /// Fixes.
    pub fixes: Vec<String>,
}

/// Migration notes of one release.
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct Migration {
    /// The release.
    pub version: String,
    /// Its notes.
    pub notes: Option<String>,
    /// Its guide.
    pub guide_url: Option<String>,
}

/// A file the upgrade will change.
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct FileChange {
    /// Relative to the work tree's root.
    pub path: String,
    /// What changes, in words.
    pub change: String,
}

/// The smoke tests an upgrade runs.
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct SmokePlan {
    /// Program and arguments.
    pub command: Vec<String>,
    /// The working directory.
    pub dir: String,
    /// Seconds before SIGTERM.
    pub timeout_seconds: u64,
}

/// The risk of an upgrade.
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct Risk {
    /// `high`, `medium` or `low`.
    pub level: &'static str,
    /// Why.
    pub why: Vec<String>,
}

/// The estimated downtime.
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct Downtime {
    /// Estimated seconds.
    pub seconds: u64,
    /// How the estimate was made.
    pub basis: String,
}

/// How the change is applied.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "mode", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Apply {
    /// Rewrite a pin and regenerate the lockfile.
    Pin {
        /// The package manifest, relative to the work tree's root.
        file: String,
        /// Core's name there.
        dependency: String,
        /// The pin now, as written.
        pin_from: String,
        /// The pin after, as written, or `(unchanged)` when the requirement already admits the
        /// target.
        pin_to: String,
        /// The value written into the pin; `None` when it stays as it is.
        #[serde(skip)]
        new_pin: Option<PinValue>,
        /// The lockfile, relative to the work tree's root.
        lockfile: String,
        /// The command that regenerates it.
        lockfile_command: Vec<String>,
        /// Where that command runs, relative to the work tree's root.
        lockfile_dir: String,
    },
    /// Check out tag `v<target>`.
    Checkout {
        /// The tag.
        tag: String,
    },
}

/// An upgrade plan. Changes nothing; [`Plan::digest`] covers everything it depends on.
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct Plan {
    /// Always [`PLAN_SCHEMA`].
    pub schema: &'static str,
    /// The vertical's `domain_name`.
    pub vertical: String,
    /// The manifest file.
    pub manifest: String,
    /// The core version now.
    pub current: String,
    /// How the current version was found.
    pub current_source: String,
    /// The target version.
    pub target: String,
    /// The verdict for the target.
    pub verdict: Status,
    /// Its reasons.
    pub reasons: Vec<Reason>,
    /// Changelogs of every release in (current, target], lowest first.
    pub changelog: Vec<ChangelogEntry>,
    /// Migration notes and guides in that range.
    pub migration: Vec<Migration>,
    /// How the change is applied.
    pub apply: Apply,
    /// Files that will change.
    pub changes: Vec<FileChange>,
    /// The smoke tests that will run, if any.
    pub smoke_tests: Option<SmokePlan>,
    /// The risk.
    pub risk: Risk,
    /// The estimated downtime.
    pub downtime: Downtime,
    /// HEAD's commit when the plan was made.
    pub head: Option<String>,
    /// sha256 over the plan, HEAD, the manifest and the pin file.
    pub digest: String,
    /// Set when an interrupted transaction's journal is waiting for `recover`.
    pub pending_recovery: bool,
}

/// What to plan.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct Request {
    /// The target; the highest release the channel sees that is not blocked when `None`.
    pub target: Option<Version>,
    /// The registry spec (for messages).
    pub registry: String,
    /// The compatibility policy.
    pub policy: Policy,
    /// Smoke test timeout override (the manifest's `smoke_tests_timeout` otherwise).
    pub smoke_timeout: Option<Duration>,
}

impl Request {
    /// A request for `target` (or the latest compatible release) from `registry`.
    pub fn new(target: Option<Version>, registry: impl Into<String>) -> Self {
        Request {
            target,
            registry: registry.into(),
            ..Request::default()
        }
    }

    /// Overrides the smoke test timeout.
    pub fn smoke_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.smoke_timeout = timeout;
        self
    }
}

/// What `plan` found: a plan, or that the vertical is up to date.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum Planned {
    /// There is something to do.
    Plan(Box<Plan>),
    /// No release above the current one is compatible (or none exists).
    UpToDate {
        /// The current version.
        current: Version,
        /// The highest release above it that the channel sees, if blocked.
        latest_blocked: Option<(Version, Vec<Reason>)>,
        /// Set when an interrupted transaction's journal is waiting for `recover`.
        pending_recovery: bool,
    },
}

mod execute;
mod plan;
mod report;
mod tx;

pub use execute::execute;
pub use plan::{plan, rewrite_requirement, smoke_command};
pub use report::{CommandRun, Failure, Outcome, RestoreSummary, RunOptions, UpgradeReport};

#[allow(unused_imports)]
use plan::*;
use tx::*;

impl lockstep_state::Classify for Error {
    fn kind(&self) -> &'static str {
        Error::kind(self)
    }
    fn severity(&self) -> lockstep_state::Severity {
        lockstep_state::Severity::unless_inconsistent(self.left_inconsistent())
    }
}
