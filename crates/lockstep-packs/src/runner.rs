//! Running a pack's tests and hooks: in the pack's directory, in a process group of their own,
//! with the timeout, and with the process group handed to the journal first.

use std::path::Path;
use std::time::{Duration, SystemTime};

use lockstep_manifest::PackManifest;
use lockstep_smoke::{CommandSpec, Outcome, Pgid, RunResult};
use serde::Serialize;

use crate::Error;
use crate::junit::{self, Counts};

/// Lines of output kept with a test result.
pub const OUTPUT_TAIL_LINES: usize = 20;
/// Time between SIGTERM and SIGKILL when tests time out.
const GRACE: Duration = Duration::from_secs(5);

/// How a test run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum TestStatus {
    /// Exit 0, nothing failed, nothing skipped.
    Passed,
    /// Exit 0, nothing failed, some tests skipped.
    Partial,
    /// A non-zero exit, a failure in the report, or the timeout.
    Failed,
    /// Not run: `--skip-tests`.
    Skipped,
}

impl TestStatus {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            TestStatus::Passed => "passed",
            TestStatus::Partial => "partial",
            TestStatus::Failed => "failed",
            TestStatus::Skipped => "skipped",
        }
    }

    /// Whether the pack may be installed without `--force`.
    pub fn is_ok(self) -> bool {
        !matches!(self, TestStatus::Failed)
    }
}

/// One test run's result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct TestResult {
    /// How it ended.
    pub status: TestStatus,
    /// Test cases counted (1 when the exit code alone decides).
    pub total: u64,
    /// Passed.
    pub passed: u64,
    /// Failed.
    pub failed: u64,
    /// Skipped.
    pub skipped: u64,
    /// How long it ran.
    pub duration_ms: u64,
    /// The last lines of output.
    pub output_tail: String,
    /// When it started, RFC 3339 UTC.
    #[serde(skip)]
    pub started: String,
}

impl TestResult {
    /// The result stored for `--skip-tests`.
    pub fn skipped_by_user() -> Self {
        TestResult {
            status: TestStatus::Skipped,
            total: 0,
            passed: 0,
            failed: 0,
            skipped: 0,
            duration_ms: 0,
            output_tail: String::new(),
            started: lockstep_state::time::rfc3339(SystemTime::now()),
        }
    }
}

impl TestResult {
    /// The row that stores this run.
    pub(crate) fn row(
        &self,
        pack: &str,
        version: &str,
        txid: &str,
        forced: bool,
        skipped_by_user: bool,
    ) -> lockstep_store::packs::TestRunRow {
        lockstep_store::packs::TestRunRow {
            pack: pack.to_owned(),
            version: version.to_owned(),
            txid: txid.to_owned(),
            started: self.started.clone(),
            duration_ms: self.duration_ms,
            total: self.total,
            passed: self.passed,
            failed: self.failed,
            skipped: self.skipped,
            status: self.status.as_str().to_owned(),
            forced,
            skipped_by_user,
            output_tail: self.output_tail.clone(),
        }
    }
}

/// The environment pack commands run with, besides the inherited one.
pub(crate) fn pack_env(
    manifest: &PackManifest,
    pack_dir: &Path,
    home: &Path,
) -> Vec<(String, String)> {
    vec![
        ("LOCKSTEP_PACK_NAME".into(), manifest.name.clone()),
        ("LOCKSTEP_PACK_VERSION".into(), manifest.version.to_string()),
        ("LOCKSTEP_PACK_DIR".into(), pack_dir.display().to_string()),
        ("LOCKSTEP_HOME".into(), home.display().to_string()),
    ]
}

fn spec(
    command: &[String],
    dir: &Path,
    env: &[(String, String)],
    timeout: Duration,
) -> CommandSpec {
    let (program, args) = command
        .split_first()
        .map_or(("", &[][..]), |(p, a)| (p.as_str(), a));
    // A bare name that is a file in the pack (`test.sh`) is the pack's, not one on PATH.
    let program = if !program.contains('/') && dir.join(program).is_file() {
        format!("./{program}")
    } else {
        program.to_owned()
    };
    let mut spec = CommandSpec::new(program)
        .args(args)
        .current_dir(dir)
        .timeout(timeout)
        .grace(GRACE);
    for (k, v) in env {
        spec = spec.env(k, v);
    }
    spec
}

/// Runs the tests of the pack in `dir`; `record` gets the process group once it runs and
/// `None` when it is over.
pub(crate) fn run_tests(
    manifest: &PackManifest,
    dir: &Path,
    env: &[(String, String)],
    record: impl FnMut(Option<Pgid>),
) -> Result<TestResult, Error> {
    let tests = &manifest.tests;
    let report = tests.report.as_ref().map(|r| dir.join(r));
    if let Some(r) = &report {
        // A report shipped with the pack or left by an earlier run must not decide this one.
        let _ = std::fs::remove_file(r);
    }
    let started = lockstep_state::time::rfc3339(SystemTime::now());
    let spec = spec(
        &tests.command,
        dir,
        env,
        Duration::from_secs(u64::from(tests.timeout)),
    );
    let run = lockstep_smoke::run_recorded(&spec, record).map_err(|e| Error::Spawn {
        what: format!("the tests of {}", manifest.name),
        message: e.to_string(),
    })?;
    let mut notes = Vec::new();
    let counts = match &report {
        None => None,
        Some(path) => match read_report(path) {
            Ok(c) => Some(c),
            Err(why) => {
                notes.push(format!(
                    "[lockstep] report {}: {why}",
                    tests.report.as_deref().unwrap_or_default()
                ));
                None
            }
        },
    };
    let exit_ok = run.outcome == Outcome::Passed;
    let (status, counts) = match (exit_ok, counts) {
        (true, Some(c)) if c.failed > 0 => (TestStatus::Failed, c),
        (true, Some(c)) if c.skipped > 0 => (TestStatus::Partial, c),
        (true, Some(c)) => (TestStatus::Passed, c),
        // A report was asked for and not written: the run proves nothing.
        (true, None) if report.is_some() => (TestStatus::Failed, one(false)),
        (true, None) => (TestStatus::Passed, one(true)),
        (false, Some(c)) => (TestStatus::Failed, c),
        (false, None) => (TestStatus::Failed, one(false)),
    };
    match &run.outcome {
        Outcome::Passed => {}
        Outcome::TimedOut => notes.push(format!(
            "[lockstep] timed out after {}s; the process group was killed",
            tests.timeout
        )),
        Outcome::Errored(cause) => notes.push(format!("[lockstep] tests {cause}")),
        _ => {}
    }
    Ok(TestResult {
        status,
        total: counts.total,
        passed: counts.passed,
        failed: counts.failed,
        skipped: counts.skipped,
        duration_ms: run.duration.as_millis() as u64,
        output_tail: tail(&run, &notes),
        started,
    })
}

fn one(passed: bool) -> Counts {
    Counts {
        total: 1,
        passed: u64::from(passed),
        failed: u64::from(!passed),
        skipped: 0,
    }
}

fn tail(run: &RunResult, notes: &[String]) -> String {
    let mut text = run.output.tail_text(OUTPUT_TAIL_LINES);
    for n in notes {
        if !text.is_empty() {
            text.push('\n');
        }
        text.push_str(n);
    }
    text
}

fn read_report(path: &Path) -> Result<Counts, String> {
    let meta = std::fs::metadata(path).map_err(|_| "was not written".to_owned())?;
    if meta.len() > junit::MAX_REPORT_BYTES {
        return Err(format!(
            "is {} bytes; at most {} are read",
            meta.len(),
            junit::MAX_REPORT_BYTES
        ));
    }
    let text = std::fs::read_to_string(path).map_err(|e| format!("cannot be read: {e}"))?;
    junit::parse(&text)
}

/// A hook's end: `Ok(())` when it passed, else how it ended and its output tail.
pub(crate) fn run_hook(
    command: &[String],
    dir: &Path,
    env: &[(String, String)],
    record: impl FnMut(Option<Pgid>),
) -> Result<Result<(), (String, String)>, Error> {
    let spec = spec(command, dir, env, Duration::from_secs(300));
    let run = lockstep_smoke::run_recorded(&spec, record).map_err(|e| Error::Spawn {
        what: command.join(" "),
        message: e.to_string(),
    })?;
    Ok(match run.outcome {
        Outcome::Passed => Ok(()),
        ref other => Err((other.to_string(), tail(&run, &[]))),
    })
}
