//! What an upgrade reports: its outcome, the commands it ran, what failed and what was restored.

#[allow(unused_imports)]
use super::*;

/// Options of [`execute`].
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct RunOptions {
    /// Stop after the preflight checks.
    pub dry_run: bool,
    /// Grace between SIGTERM and SIGKILL for smoke tests.
    pub grace: Duration,
    /// The digest the user approved, if any.
    pub expected_digest: Option<String>,
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions {
            dry_run: false,
            grace: DEFAULT_GRACE,
            expected_digest: None,
        }
    }
}

impl RunOptions {
    /// Sets `dry_run`.
    pub fn dry_run(mut self, yes: bool) -> Self {
        self.dry_run = yes;
        self
    }
    /// Sets the SIGTERM→SIGKILL grace.
    pub fn grace(mut self, grace: Duration) -> Self {
        self.grace = grace;
        self
    }
    /// Requires the plan's digest to equal `digest`.
    pub fn expect_digest(mut self, digest: Option<String>) -> Self {
        self.expected_digest = digest;
        self
    }
}

/// How an upgrade ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Outcome {
    /// Applied, tested and committed (exit 0).
    Committed,
    /// The verdict is blocked; nothing was changed (exit 1).
    Blocked,
    /// Applied, failed, and restored to the snapshot, verified (exit 1).
    RolledBack,
    /// Applied, failed, and the restore could not be verified (exit 3).
    RestoreFailed,
    /// `--dry-run`: every preflight check passed; nothing was changed (exit 0).
    DryRun,
}

impl Outcome {
    /// The exit code design.md assigns.
    pub fn exit_code(self) -> i32 {
        match self {
            Outcome::Committed | Outcome::DryRun => 0,
            Outcome::Blocked | Outcome::RolledBack => 1,
            Outcome::RestoreFailed => 3,
        }
    }
}

/// A command the transaction ran.
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct CommandRun {
    /// Program and arguments.
    pub command: Vec<String>,
    /// `passed`, `failed`, `errored` or `timed_out`.
    pub outcome: String,
    /// The exit code, if it exited.
    pub exit_code: Option<i32>,
    /// Wall time.
    pub duration_ms: u64,
    /// The last lines of its output.
    pub output_tail: String,
}

impl CommandRun {
    pub(super) fn from_result(command: Vec<String>, r: &RunResult) -> Self {
        CommandRun {
            command,
            outcome: r.outcome.to_string(),
            exit_code: r.exit_code,
            duration_ms: u64::try_from(r.duration.as_millis()).unwrap_or(u64::MAX),
            output_tail: r.output.tail_text(20),
        }
    }
}

/// Why a transaction was rolled back.
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct Failure {
    /// `apply`, `lockfile`, `smoke_tests` or `commit`.
    pub step: &'static str,
    /// What happened.
    pub message: String,
}

/// What `upgrade` did.
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct UpgradeReport {
    /// Always [`UPGRADE_SCHEMA`].
    pub schema: &'static str,
    /// How it ended.
    pub outcome: Outcome,
    /// The version before.
    pub from: String,
    /// The target.
    pub to: String,
    /// The snapshot taken, if one was.
    pub snapshot: Option<String>,
    /// The commit made (pin mode) or checked out (checkout mode).
    pub commit: Option<String>,
    /// The plan's digest.
    pub plan_digest: String,
    /// The lockfile tool run, if any.
    pub lockfile: Option<CommandRun>,
    /// The smoke test run, if any.
    pub smoke: Option<CommandRun>,
    /// Why it was rolled back, if it was.
    pub failure: Option<Failure>,
    /// For a rollback: whether the restore verified, and the mismatches if not.
    pub restore: Option<RestoreSummary>,
    /// The blocking reasons, when blocked.
    pub reasons: Vec<Reason>,
}

/// The result of an automatic restore.
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct RestoreSummary {
    /// Whether HEAD, index, tracked files and copies equal the snapshot.
    pub verified: bool,
    /// The problems, if not.
    pub problems: Option<String>,
}
