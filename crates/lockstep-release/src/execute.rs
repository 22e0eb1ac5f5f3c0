//! The cascade executor: releases a [`Plan`] wave by wave, the repositories of one wave in
//! parallel, and rolls every touched repository back when any step fails.
//!
//! Per repository: snapshot → rewrite pins → bump versions → regenerate the lockfile → smoke
//! tests → `CHANGELOG.md` → one release commit → annotated tags. State lives in `.lockstep/`
//! beside `cascade.toml`: the lock, `cascade-journal.json` (the plan and each repository's
//! progress, written atomically before every step) and the audit log. A crash leaves the
//! journal; [`resume`] continues after the last released repository (undoing a half-released
//! one first), [`abort`] rolls everything back.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime};

use lockstep_audit::{AuditLog, NewRecord, action};
use lockstep_cascade::{EditKind, Plan, Step};
use lockstep_pins::{Ecosystem, PinValue};
use lockstep_smoke::CommandSpec;
use lockstep_snapshot::SnapshotId;
use serde::{Deserialize, Serialize};

use lockstep_state::journal::JournalFile;

use super::Discovered;
use crate::failpoint;
use crate::fsx;
use lockstep_state::lock::Lock;

/// The journal's file name in the cascade's state directory.
pub use lockstep_state::layout::CASCADE_JOURNAL_FILE as JOURNAL_FILE;
const JOURNAL_SCHEMA: &str = "lockstep.cascade-journal/v1";
/// The JSON schema name of a cascade run report.
pub const RUN_SCHEMA: &str = "lockstep.cascade-run/v1";
/// How long a lockfile tool or smoke command may run.
pub const COMMAND_TIMEOUT: Duration = Duration::from_secs(600);

/// Errors of the executor that happen before any change (exit code 2), or that leave the
/// cascade unrestored (exit code 3, see [`ExecError::left_inconsistent`]).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ExecError {
    /// A preflight check failed; nothing was changed.
    #[error("preflight: {0}")]
    Preflight(String),
    /// `--plan` does not match the plan computed now.
    #[error(
        "the plan changed since it was saved (digest {expected}, now {actual}); run `release-cascade --dry-run` again and review it"
    )]
    Drift {
        /// The digest given.
        expected: String,
        /// The digest now.
        actual: String,
    },
    /// Another cascade holds the lock.
    #[error(transparent)]
    Lock(#[from] lockstep_state::lock::Error),
    /// An interrupted cascade's journal is waiting.
    #[error(
        "an interrupted cascade left {journal} (started {started}); run `release-cascade --resume` to continue it or `--abort` to roll it back"
    )]
    Interrupted {
        /// The journal.
        journal: PathBuf,
        /// When that cascade began.
        started: String,
    },
    /// State files could not be read or written.
    #[error("cascade state {path}: {message}")]
    State {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        message: String,
    },
    /// The audit log.
    #[error("audit log: {0}")]
    Audit(#[from] lockstep_audit::Error),
    /// A rollback could not restore every repository.
    #[error("could not restore {}: the journal {journal} is kept; fix the cause and run `release-cascade --abort` again", problems.join("; "))]
    RestoreFailed {
        /// Per repository, what went wrong.
        problems: Vec<String>,
        /// The journal.
        journal: PathBuf,
    },
}

impl ExecError {
    /// A short machine-readable kind for JSON errors.
    pub fn kind(&self) -> &'static str {
        match self {
            ExecError::Preflight(_) => "preflight",
            ExecError::Drift { .. } => "plan_drift",
            ExecError::Lock(lockstep_state::lock::Error::Held { .. }) => "locked",
            ExecError::Lock(_) => "io",
            ExecError::Interrupted { .. } => "interrupted_cascade",
            ExecError::State { .. } => "io",
            ExecError::Audit(_) => "audit",
            ExecError::RestoreFailed { .. } => "restore_failed",
        }
    }

    /// Whether repositories may be left between states (exit code 3).
    pub fn left_inconsistent(&self) -> bool {
        matches!(self, ExecError::RestoreFailed { .. })
    }
}

/// Options of a cascade run.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Options {
    /// Repositories of one wave released at once.
    pub jobs: usize,
    /// The digest the user approved, if any.
    pub expected_digest: Option<String>,
    /// Extra environment for lockfile tools and smoke commands.
    pub env: Vec<(String, String)>,
    /// Push branches and tags after every wave succeeded.
    pub push: bool,
    /// The actor written into audit records.
    pub actor: String,
    /// Release only this repository's step (a CI job running one node of a saved plan).
    pub only: Option<String>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            jobs: std::thread::available_parallelism().map_or(2, std::num::NonZero::get),
            expected_digest: None,
            env: Vec::new(),
            push: false,
            actor: lockstep_state::default_actor(),
            only: None,
        }
    }
}

impl Options {
    /// Sets the parallelism (at least 1).
    pub fn jobs(mut self, jobs: usize) -> Self {
        self.jobs = jobs.max(1);
        self
    }
    /// Requires the plan's digest to start with `digest`.
    pub fn expect_digest(mut self, digest: Option<String>) -> Self {
        self.expected_digest = digest;
        self
    }
    /// Adds an environment variable for the commands the cascade runs.
    pub fn env(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.env.push((key.into(), value.into()));
        self
    }
    /// Pushes after success.
    pub fn push(mut self, push: bool) -> Self {
        self.push = push;
        self
    }
    /// Releases only `repo`.
    pub fn only(mut self, repo: Option<String>) -> Self {
        self.only = repo;
        self
    }
}

/// A repository's progress, as the journal records it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum RepoStatus {
    /// Not started.
    Pending,
    /// Its snapshot is being taken (it may not exist).
    Snapshotting,
    /// Snapshot taken; changes may have been made.
    Working,
    /// Released: committed and tagged.
    Released,
    /// Rolled back to its snapshot.
    RolledBack,
}

/// One repository in the journal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct RepoState {
    /// Its work tree.
    pub dir: PathBuf,
    /// Its wave.
    pub wave: usize,
    /// Progress.
    pub status: RepoStatus,
    /// The snapshot id, once chosen.
    pub snapshot: Option<String>,
    /// Tags created so far.
    pub tags: Vec<String>,
    /// The release commit.
    pub commit: Option<String>,
    /// A running command's process group, killed by recovery.
    pub pgid: Option<u32>,
}

/// The cascade journal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct CascadeJournal {
    /// Always `lockstep.cascade-journal/v1`.
    pub schema: String,
    /// When the cascade began.
    pub started_at: String,
    /// The plan being executed.
    pub plan: Plan,
    /// Each repository with a step, by name.
    pub repos: BTreeMap<String, RepoState>,
}

impl CascadeJournal {
    fn path(state_dir: &Path) -> PathBuf {
        state_dir.join(JOURNAL_FILE)
    }

    fn file(state_dir: &Path) -> JournalFile {
        JournalFile::new(Self::path(state_dir), JOURNAL_SCHEMA)
    }

    /// Reads the journal in `state_dir`, `None` when there is none.
    pub fn load(state_dir: &Path) -> Result<Option<CascadeJournal>, ExecError> {
        Self::file(state_dir).load().map_err(ExecError::from)
    }

    fn save(&self, state_dir: &Path) -> Result<(), ExecError> {
        Self::file(state_dir).save(self).map_err(ExecError::from)
    }

    fn remove(state_dir: &Path) -> Result<(), ExecError> {
        Self::file(state_dir).remove().map_err(ExecError::from)
    }
}

impl From<lockstep_state::journal::Error> for ExecError {
    fn from(e: lockstep_state::journal::Error) -> Self {
        let path = match &e {
            lockstep_state::journal::Error::Io { path, .. }
            | lockstep_state::journal::Error::Corrupt { path, .. } => path.clone(),
            _ => PathBuf::new(),
        };
        ExecError::State {
            path,
            message: e.to_string(),
        }
    }
}

/// How a cascade ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Outcome {
    /// Every repository released (exit 0).
    Released,
    /// A step failed and every touched repository was restored (exit 1).
    RolledBack,
    /// `--abort` rolled an interrupted cascade back (exit 0).
    Aborted,
    /// Nothing to resume or abort (exit 0).
    NothingToDo,
    /// Every repository released locally, but a push failed; the tags already pushed were
    /// deleted from their remotes (exit 1).
    PushFailed,
}

/// Time spent in one step of one repository.
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct StepTime {
    /// `snapshot`, `pins`, `version`, `lockfile`, `smoke`, `changelog`, `commit`, `tag`.
    pub step: &'static str,
    /// Milliseconds.
    pub ms: u64,
}

/// One repository's part of a run.
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct RepoRun {
    /// The repository.
    pub repo: String,
    /// Its wave.
    pub wave: usize,
    /// Packages released: (name, from, to, tag).
    pub packages: Vec<(String, String, String, String)>,
    /// `released`, `skipped` (already released before a resume), `failed`, `rolled_back`,
    /// `not_started`.
    pub status: String,
    /// The release commit.
    pub commit: Option<String>,
    /// Per-step times.
    pub steps: Vec<StepTime>,
    /// Total milliseconds.
    pub ms: u64,
    /// Notes (a lockfile tool that is not installed, say).
    pub notes: Vec<String>,
}

impl RepoRun {
    /// A run of `steps` in `repo` with `status` and nothing measured yet.
    fn planned(repo: &str, wave: usize, steps: &[&Step], status: &str) -> Self {
        RepoRun {
            repo: repo.to_owned(),
            wave,
            packages: steps
                .iter()
                .map(|s| {
                    (
                        s.package.clone(),
                        s.from.to_string(),
                        s.to.to_string(),
                        s.tag.clone(),
                    )
                })
                .collect(),
            status: status.to_owned(),
            commit: None,
            steps: Vec::new(),
            ms: 0,
            notes: Vec::new(),
        }
    }
}

/// The failure that stopped a cascade.
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct Failure {
    /// The repository.
    pub repo: String,
    /// The step.
    pub step: &'static str,
    /// What happened.
    pub message: String,
    /// The tail of the command's output, when a command failed.
    pub output_tail: String,
}

/// What a cascade run did.
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct Report {
    /// Always [`RUN_SCHEMA`].
    pub schema: &'static str,
    /// How it ended.
    pub outcome: Outcome,
    /// The plan's digest.
    pub digest: String,
    /// Every repository with a step, in wave order.
    pub repos: Vec<RepoRun>,
    /// The failure, if one stopped the cascade.
    pub failure: Option<Failure>,
    /// Wall time of the run.
    pub wall_ms: u64,
    /// The longest chain of per-repository times along the plan's dependencies.
    pub critical_path_ms: u64,
    /// Pushes made (`--push`).
    pub pushed: Vec<String>,
}

impl Report {
    /// The exit code design.md assigns.
    pub fn exit_code(&self) -> i32 {
        match self.outcome {
            Outcome::RolledBack | Outcome::PushFailed => 1,
            _ => 0,
        }
    }
}

/// A repository's run, or its run and the failure that stopped it.
type RepoResult = Result<RepoRun, Box<(RepoRun, Failure)>>;

/// A progress event: a repository and what it is doing.
pub type Progress<'a> = &'a (dyn Fn(&str, &str) + Sync);

struct Ctx<'a> {
    state_dir: PathBuf,
    journal: Mutex<CascadeJournal>,
    audit: AuditLog,
    options: &'a Options,
    progress: Progress<'a>,
}

impl Ctx<'_> {
    fn update(&self, repo: &str, f: impl FnOnce(&mut RepoState)) -> Result<(), ExecError> {
        let mut j = self
            .journal
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(state) = j.repos.get_mut(repo) {
            f(state);
        }
        j.save(&self.state_dir)
    }

    fn state(&self, repo: &str) -> Option<RepoState> {
        self.journal
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .repos
            .get(repo)
            .cloned()
    }

    fn record(
        &self,
        build: impl FnOnce(NewRecord) -> NewRecord,
        act: &str,
        outcome: &str,
    ) -> Result<(), ExecError> {
        self.audit.append(build(NewRecord::new(
            self.options.actor.clone(),
            act,
            outcome,
        )))?;
        Ok(())
    }
}

/// The cascade's state directory: `.lockstep/` beside `cascade.toml`.
pub fn state_dir(discovered: &Discovered) -> PathBuf {
    lockstep_state::layout::state_dir(&discovered.config.dir)
}

fn now() -> String {
    lockstep_audit::rfc3339(SystemTime::now())
}

fn ms(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

/// Groups each wave's steps by repository, in name order.
fn groups(plan: &Plan) -> Vec<Vec<(String, Vec<&Step>)>> {
    plan.waves
        .iter()
        .map(|wave| {
            let mut by_repo: BTreeMap<String, Vec<&Step>> = BTreeMap::new();
            for s in wave {
                by_repo.entry(s.repo.clone()).or_default().push(s);
            }
            by_repo.into_iter().collect()
        })
        .collect()
}

/// The lockfile of a repository, its tool, and whether the tool is installed.
fn lockfile_of(dir: &Path, eco: Ecosystem) -> Option<(&'static str, &'static str)> {
    let candidates: &[(&str, &str)] = match eco {
        Ecosystem::Cargo => &[("Cargo.lock", "cargo")],
        Ecosystem::Npm => &[("package-lock.json", "npm")],
        Ecosystem::Python => &[("uv.lock", "uv"), ("poetry.lock", "poetry")],
    };
    candidates
        .iter()
        .copied()
        .find(|(f, _)| dir.join(f).is_file())
}

/// Checks, across every repository with a step, that nothing stands in the way: clean trees,
/// the configured branches, no tag collisions, lockfile tools present.
pub fn preflight(
    discovered: &Discovered,
    plan: &Plan,
    options: &Options,
) -> Result<Vec<String>, ExecError> {
    if let Some(expected) = &options.expected_digest
        && !plan.digest.starts_with(expected.as_str())
    {
        return Err(ExecError::Drift {
            expected: expected.clone(),
            actual: plan.digest.clone(),
        });
    }
    let mut problems = Vec::new();
    let mut notes = Vec::new();
    for (repo_name, steps) in groups(plan).into_iter().flatten() {
        if options.only.as_ref().is_some_and(|o| *o != repo_name) {
            continue;
        }
        let Some(repo) = discovered.repo(&repo_name) else {
            problems.push(format!(
                "{repo_name}: not in {}",
                discovered.config.path.display()
            ));
            continue;
        };
        match lockstep_snapshot::status(&repo.dir) {
            Ok(s) if s.is_clean() => {}
            Ok(s) => problems.push(format!(
                "{repo_name}: uncommitted changes to {}",
                s.dirty_paths().join(", ")
            )),
            Err(e) => problems.push(format!("{repo_name}: {e}")),
        }
        if let Some(want) = &repo.entry.branch
            && repo.branch.as_deref() != Some(want.as_str())
        {
            problems.push(format!(
                "{repo_name}: on branch {}, cascade.toml says {want}",
                repo.branch.as_deref().unwrap_or("(detached)")
            ));
        }
        for step in &steps {
            if semver::Version::parse(step.tag.rsplit_once('v').map_or("", |(_, v)| v))
                .ok()
                .as_ref()
                != Some(&step.to)
            {
                problems.push(format!(
                    "{repo_name}: tag {} does not end in the package version {}",
                    step.tag, step.to
                ));
            }
            match lockstep_snapshot::tag_exists(&repo.dir, &step.tag) {
                Ok(true) => problems.push(format!("{repo_name}: tag {} already exists", step.tag)),
                Ok(false) => {}
                Err(e) => problems.push(format!("{repo_name}: {e}")),
            }
            let pkg_dir = repo.dir.join(&step.manifest);
            let pkg_dir = pkg_dir.parent().unwrap_or(&repo.dir);
            for dir in [pkg_dir, repo.dir.as_path()] {
                if let Some((file, tool)) = lockfile_of(dir, step.ecosystem) {
                    if !fsx::on_path(tool) {
                        problems.push(format!("{repo_name}: {file} is committed but `{tool}` is not installed to regenerate it"));
                    }
                    break;
                }
            }
            if lockfile_of(pkg_dir, step.ecosystem).is_none()
                && lockfile_of(&repo.dir, step.ecosystem).is_none()
            {
                let tools: &[&str] = match step.ecosystem {
                    Ecosystem::Cargo => &["cargo"],
                    Ecosystem::Npm => &["npm"],
                    _ => &["uv", "poetry"],
                };
                let installed: Vec<&str> =
                    tools.iter().copied().filter(|t| fsx::on_path(t)).collect();
                notes.push(format!(
                    "{repo_name}: {} has no committed lockfile, so only its manifest is updated ({})",
                    step.package,
                    if installed.is_empty() {
                        format!("{} not installed here", tools.join("/"))
                    } else {
                        format!("{} is installed", installed.join("/"))
                    }
                ));
            }
        }
    }
    if problems.is_empty() {
        Ok(notes)
    } else {
        Err(ExecError::Preflight(problems.join("\n  ")))
    }
}

/// Runs the cascade. Takes the lock, refuses when an interrupted cascade's journal waits, runs
/// the preflight, then releases wave by wave.
pub fn execute(
    discovered: &Discovered,
    plan: &Plan,
    options: &Options,
    progress: Progress<'_>,
) -> Result<Report, ExecError> {
    let state_dir = state_dir(discovered);
    let _lock = Lock::acquire(&state_dir, "release-cascade")?;
    if let Some(j) = CascadeJournal::load(&state_dir)? {
        return Err(ExecError::Interrupted {
            journal: CascadeJournal::path(&state_dir),
            started: j.started_at,
        });
    }
    let notes = preflight(discovered, plan, options)?;
    let mut repos = BTreeMap::new();
    for (w, wave) in groups(plan).iter().enumerate() {
        for (name, _) in wave {
            if options.only.as_ref().is_some_and(|o| o != name) {
                continue;
            }
            let dir = discovered
                .repo(name)
                .map(|r| r.dir.clone())
                .unwrap_or_default();
            repos.insert(
                name.clone(),
                RepoState {
                    dir,
                    wave: w,
                    status: RepoStatus::Pending,
                    snapshot: None,
                    tags: Vec::new(),
                    commit: None,
                    pgid: None,
                },
            );
        }
    }
    let journal = CascadeJournal {
        schema: JOURNAL_SCHEMA.to_owned(),
        started_at: now(),
        plan: plan.clone(),
        repos,
    };
    journal.save(&state_dir)?;
    let audit = AuditLog::open(state_dir.join(lockstep_state::layout::AUDIT_FILE))?;
    let ctx = Ctx {
        state_dir,
        journal: Mutex::new(journal),
        audit,
        options,
        progress,
    };
    ctx.record(
        |r| {
            r.detail("digest", plan.digest.clone()).detail(
                "repos",
                ctx.journal.lock().map(|j| j.repos.len()).unwrap_or(0),
            )
        },
        action::CASCADE_STARTED,
        "started",
    )?;
    for n in &notes {
        progress("preflight", n);
    }
    failpoint::hit("cascade_after_journal");
    run_waves(&ctx, discovered, plan)
}

/// Continues an interrupted cascade: released repositories are kept, a half-released one is
/// restored and released again, the rest run as usual.
pub fn resume(
    discovered: &Discovered,
    options: &Options,
    progress: Progress<'_>,
) -> Result<Report, ExecError> {
    let state_dir = state_dir(discovered);
    let _lock = Lock::acquire(&state_dir, "release-cascade --resume")?;
    let Some(journal) = CascadeJournal::load(&state_dir)? else {
        return Ok(empty_report(Outcome::NothingToDo));
    };
    let plan = journal.plan.clone();
    let audit = AuditLog::open(state_dir.join(lockstep_state::layout::AUDIT_FILE))?;
    let ctx = Ctx {
        state_dir,
        journal: Mutex::new(journal),
        audit,
        options,
        progress,
    };
    // Undo whatever a crash left half done, so each repository still gets exactly one release commit.
    let half: Vec<(String, RepoState)> = ctx
        .journal
        .lock()
        .map(|j| {
            j.repos
                .iter()
                .filter(|(_, s)| matches!(s.status, RepoStatus::Snapshotting | RepoStatus::Working))
                .map(|(n, s)| (n.clone(), s.clone()))
                .collect()
        })
        .unwrap_or_default();
    for (name, state) in half {
        progress(&name, "undoing the interrupted step");
        if let Err(p) = undo_repo(&ctx, &name, &state) {
            return Err(ExecError::RestoreFailed {
                problems: vec![p],
                journal: CascadeJournal::path(&ctx.state_dir),
            });
        }
        ctx.update(&name, |s| {
            s.status = RepoStatus::Pending;
            s.snapshot = None;
            s.tags.clear();
            s.pgid = None;
        })?;
    }
    ctx.record(
        |r| r.detail("digest", plan.digest.clone()),
        action::RECOVERED,
        "resumed",
    )?;
    run_waves(&ctx, discovered, &plan)
}

/// Rolls an interrupted cascade back: every repository it touched, in reverse order.
pub fn abort(
    discovered: &Discovered,
    options: &Options,
    progress: Progress<'_>,
) -> Result<Report, ExecError> {
    let state_dir = state_dir(discovered);
    let _lock = Lock::acquire(&state_dir, "release-cascade --abort")?;
    let Some(journal) = CascadeJournal::load(&state_dir)? else {
        return Ok(empty_report(Outcome::NothingToDo));
    };
    let digest = journal.plan.digest.clone();
    let audit = AuditLog::open(state_dir.join(lockstep_state::layout::AUDIT_FILE))?;
    let ctx = Ctx {
        state_dir,
        journal: Mutex::new(journal),
        audit,
        options,
        progress,
    };
    let problems = roll_back_all(&ctx);
    if !problems.is_empty() {
        return Err(ExecError::RestoreFailed {
            problems,
            journal: CascadeJournal::path(&ctx.state_dir),
        });
    }
    ctx.record(
        |r| r.detail("digest", digest.clone()),
        action::CASCADE_ROLLED_BACK,
        "aborted",
    )?;
    CascadeJournal::remove(&ctx.state_dir)?;
    let mut report = empty_report(Outcome::Aborted);
    report.digest = digest;
    Ok(report)
}

fn empty_report(outcome: Outcome) -> Report {
    Report {
        schema: RUN_SCHEMA,
        outcome,
        digest: String::new(),
        repos: Vec::new(),
        failure: None,
        wall_ms: 0,
        critical_path_ms: 0,
        pushed: Vec::new(),
    }
}

fn run_waves(ctx: &Ctx<'_>, discovered: &Discovered, plan: &Plan) -> Result<Report, ExecError> {
    let started = Instant::now();
    let mut runs: BTreeMap<String, RepoRun> = BTreeMap::new();
    let mut failure: Option<Failure> = None;
    'waves: for (w, wave) in groups(plan).into_iter().enumerate() {
        let todo: Vec<(String, Vec<&Step>)> = wave
            .into_iter()
            .filter(|(name, _)| ctx.state(name).is_some())
            .collect();
        let queue = Mutex::new(todo.iter().collect::<Vec<_>>());
        let results: Mutex<Vec<(String, RepoResult)>> = Mutex::new(Vec::new());
        std::thread::scope(|scope| {
            for _ in 0..ctx.options.jobs.min(todo.len()).max(1) {
                scope.spawn(|| {
                    loop {
                        let next = queue.lock().ok().and_then(|mut q| q.pop());
                        let Some((name, steps)) = next else { break };
                        let result = if ctx
                            .state(name)
                            .is_some_and(|s| s.status == RepoStatus::Released)
                        {
                            Ok(RepoRun {
                                commit: ctx.state(name).and_then(|s| s.commit),
                                notes: vec!["released before the interruption".to_owned()],
                                ..RepoRun::planned(name, w, steps, "skipped")
                            })
                        } else {
                            release_repo(ctx, discovered, name, w, steps)
                        };
                        if let Ok(mut r) = results.lock() {
                            r.push((name.clone(), result));
                        }
                    }
                });
            }
        });
        let mut results = results
            .into_inner()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        results.sort_by(|a, b| a.0.cmp(&b.0));
        for (name, result) in results {
            match result {
                Ok(run) => {
                    runs.insert(name, run);
                }
                Err(boxed) => {
                    let (run, f) = *boxed;
                    runs.insert(name, run);
                    if failure.is_none() {
                        failure = Some(f);
                    }
                }
            }
        }
        if failure.is_some() {
            break 'waves;
        }
    }
    let critical = critical_path(plan, &runs);
    let mut report = Report {
        schema: RUN_SCHEMA,
        outcome: Outcome::Released,
        digest: plan.digest.clone(),
        repos: Vec::new(),
        failure: None,
        wall_ms: 0,
        critical_path_ms: critical,
        pushed: Vec::new(),
    };
    if let Some(f) = failure {
        (ctx.progress)(
            &f.repo,
            &format!(
                "{} failed; rolling back every repository the cascade touched",
                f.step
            ),
        );
        let problems = roll_back_all(ctx);
        ctx.record(
            |r| {
                r.detail("digest", plan.digest.clone())
                    .detail("repo", f.repo.clone())
                    .detail("step", f.step)
                    .detail("failure", f.message.clone())
            },
            action::CASCADE_ROLLED_BACK,
            if problems.is_empty() {
                "rolled_back"
            } else {
                "restore_failed"
            },
        )?;
        if !problems.is_empty() {
            return Err(ExecError::RestoreFailed {
                problems,
                journal: CascadeJournal::path(&ctx.state_dir),
            });
        }
        CascadeJournal::remove(&ctx.state_dir)?;
        for run in runs.values_mut() {
            if run.status == "released" || run.status == "skipped" {
                run.status = "rolled_back".to_owned();
            }
        }
        report.outcome = Outcome::RolledBack;
        report.failure = Some(f);
    } else {
        failpoint::hit("cascade_before_finish");
        ctx.record(
            |r| r.detail("digest", plan.digest.clone()),
            action::CASCADE_COMMITTED,
            "released",
        )?;
        CascadeJournal::remove(&ctx.state_dir)?;
        if ctx.options.push {
            match push_all(ctx, discovered, plan) {
                Ok(pushed) => report.pushed = pushed,
                Err(f) => {
                    ctx.record(
                        |r| {
                            r.detail("repo", f.repo.clone())
                                .detail("failure", f.message.clone())
                        },
                        "cascade_push_failed",
                        "push_failed",
                    )?;
                    report.outcome = Outcome::PushFailed;
                    report.failure = Some(f);
                }
            }
        }
    }
    let mut ordered: Vec<RepoRun> = runs.into_values().collect();
    ordered.sort_by(|a, b| (a.wave, &a.repo).cmp(&(b.wave, &b.repo)));
    // Repositories that never started.
    if let Ok(j) = ctx.journal.lock() {
        for (name, s) in &j.repos {
            if !ordered.iter().any(|r| &r.repo == name) {
                ordered.push(RepoRun::planned(name, s.wave, &[], "not_started"));
            }
        }
    }
    report.repos = ordered;
    report.wall_ms = ms(started.elapsed());
    Ok(report)
}

/// The longest chain of per-repository times along the plan's upstream edges.
fn critical_path(plan: &Plan, runs: &BTreeMap<String, RepoRun>) -> u64 {
    let mut best: BTreeMap<String, u64> = BTreeMap::new();
    let repo_of: BTreeMap<&str, &str> = plan
        .steps()
        .map(|s| (s.package.as_str(), s.repo.as_str()))
        .collect();
    for wave in &plan.waves {
        for step in wave {
            let own = runs.get(&step.repo).map_or(0, |r| r.ms);
            let before = step
                .upstreams
                .iter()
                .filter_map(|u| repo_of.get(u.package.as_str()))
                .filter(|r| **r != step.repo)
                .filter_map(|r| best.get(*r))
                .max()
                .copied()
                .unwrap_or(0);
            let v = best.entry(step.repo.clone()).or_insert(0);
            *v = (*v).max(before + own);
        }
    }
    best.values().max().copied().unwrap_or(0)
}

fn undo_repo(ctx: &Ctx<'_>, name: &str, state: &RepoState) -> Result<(), String> {
    if let Some(raw) = state.pgid.and_then(lockstep_smoke::Pgid::new) {
        let _ = lockstep_smoke::kill_group(raw, Duration::from_secs(10));
    }
    remove_crash_debris(ctx, name, state);
    for tag in state.tags.iter().rev() {
        match lockstep_snapshot::tag_exists(&state.dir, tag) {
            Ok(true) => lockstep_snapshot::delete_tag(&state.dir, tag)
                .map_err(|e| format!("{name}: cannot delete tag {tag}: {e}"))?,
            Ok(false) => {}
            Err(e) => return Err(format!("{name}: {e}")),
        }
    }
    let Some(snapshot) = &state.snapshot else {
        return Ok(());
    };
    let id = SnapshotId::new(snapshot).map_err(|e| e.to_string())?;
    let store = ctx.state_dir.join("snapshots").join(name);
    // A crash before the snapshot existed changed nothing.
    if lockstep_snapshot::read(&store, &id).is_err() && state.status == RepoStatus::Snapshotting {
        return Ok(());
    }
    match lockstep_snapshot::restore(&state.dir, &id, &store) {
        Ok(v) if v.is_verified() => {
            let _ = lockstep_snapshot::delete(&state.dir, &id, &store);
            Ok(())
        }
        Ok(v) => Err(format!(
            "{name}: restore of {snapshot} did not verify: {}",
            v.mismatches
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("; ")
        )),
        Err(e) => Err(format!("{name}: cannot restore {snapshot}: {e}")),
    }
}

/// A crash can leave the temp file of an atomic write beside a file the cascade rewrites, and
/// git's lock beside a snapshot ref being written; neither is tracked, so a restore keeps them.
fn remove_crash_debris(ctx: &Ctx<'_>, name: &str, state: &RepoState) {
    let files: Vec<String> = ctx
        .journal
        .lock()
        .map(|j| {
            j.plan
                .steps()
                .filter(|s| s.repo == name)
                .flat_map(|s| {
                    let changelog = Path::new(&s.manifest)
                        .parent()
                        .map_or_else(|| PathBuf::from("CHANGELOG.md"), |p| p.join("CHANGELOG.md"));
                    s.pin_edits
                        .iter()
                        .map(|e| e.file.clone())
                        .chain([s.manifest.clone(), changelog.display().to_string()])
                        .collect::<Vec<_>>()
                })
                .collect()
        })
        .unwrap_or_default();
    for file in files {
        let target = state.dir.join(&file);
        let (Some(dir), Some(base)) = (target.parent(), target.file_name()) else {
            continue;
        };
        let prefix = format!(".{}.", base.to_string_lossy());
        let Ok(entries) = std::fs::read_dir(dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let n = entry.file_name().to_string_lossy().into_owned();
            if n.starts_with(&prefix) && n.ends_with(".tmp") {
                let _ = std::fs::remove_file(entry.path());
            }
        }
    }
    if let Some(id) = state
        .snapshot
        .as_deref()
        .and_then(|s| SnapshotId::new(s).ok())
    {
        let _ = std::fs::remove_file(
            state
                .dir
                .join(".git")
                .join(format!("{}.lock", id.ref_name())),
        );
    }
}

/// Restores every repository the cascade touched, in reverse wave order; returns the problems.
fn roll_back_all(ctx: &Ctx<'_>) -> Vec<String> {
    let mut touched: Vec<(String, RepoState)> = ctx
        .journal
        .lock()
        .map(|j| {
            j.repos
                .iter()
                .filter(|(_, s)| !matches!(s.status, RepoStatus::Pending | RepoStatus::RolledBack))
                .map(|(n, s)| (n.clone(), s.clone()))
                .collect()
        })
        .unwrap_or_default();
    touched.sort_by(|a, b| (b.1.wave, &b.0).cmp(&(a.1.wave, &a.0)));
    let mut problems = Vec::new();
    for (name, state) in touched {
        (ctx.progress)(&name, "rolling back");
        match undo_repo(ctx, &name, &state) {
            Ok(()) => {
                let _ = ctx.update(&name, |s| s.status = RepoStatus::RolledBack);
                let _ = ctx.record(
                    |r| {
                        r.detail("repo", name.clone())
                            .detail("snapshot", state.snapshot.clone().unwrap_or_default())
                            .detail("tags_deleted", state.tags.clone())
                    },
                    action::ROLLBACK,
                    "restored",
                );
            }
            Err(p) => problems.push(p),
        }
    }
    problems
}

struct Work<'a> {
    ctx: &'a Ctx<'a>,
    name: &'a str,
    dir: PathBuf,
    run: RepoRun,
}

impl Work<'_> {
    fn timed<T>(
        &mut self,
        step: &'static str,
        f: impl FnOnce(&mut Self) -> Result<T, Failure>,
    ) -> Result<T, Failure> {
        let t = Instant::now();
        (self.ctx.progress)(self.name, step);
        let r = f(self);
        self.run.steps.push(StepTime {
            step,
            ms: ms(t.elapsed()),
        });
        r
    }

    fn fail(&self, step: &'static str, message: impl Into<String>) -> Failure {
        Failure {
            repo: self.name.to_owned(),
            step,
            message: message.into(),
            output_tail: String::new(),
        }
    }

    fn run_command(
        &self,
        step: &'static str,
        spec: CommandSpec,
        shown: &str,
    ) -> Result<(), Failure> {
        let mut spec = spec
            .timeout(COMMAND_TIMEOUT)
            .env("LOCKSTEP_CASCADE_REPO", self.name);
        for (k, v) in &self.ctx.options.env {
            spec = spec.env(k, v);
        }
        let name = self.name.to_owned();
        let result = lockstep_smoke::run_with(&spec, |pgid| {
            let _ = self.ctx.update(&name, |s| s.pgid = Some(pgid.as_raw()));
            if step == "smoke" {
                failpoint::hit("cascade_during_smoke");
            }
        })
        .map_err(|e| self.fail(step, format!("cannot run `{shown}`: {e}")))?;
        let _ = self.ctx.update(&name, |s| s.pgid = None);
        if result.outcome.is_passed() {
            Ok(())
        } else {
            Err(Failure {
                repo: self.name.to_owned(),
                step,
                message: format!("`{shown}` {}", result.outcome),
                output_tail: result.output.tail_text(15),
            })
        }
    }
}

fn release_repo(
    ctx: &Ctx<'_>,
    discovered: &Discovered,
    name: &str,
    wave: usize,
    steps: &[&Step],
) -> RepoResult {
    let started = Instant::now();
    let dir = discovered
        .repo(name)
        .map(|r| r.dir.clone())
        .unwrap_or_default();
    let mut work = Work {
        ctx,
        name,
        dir,
        run: RepoRun::planned(name, wave, steps, "failed"),
    };
    let result = release_steps(&mut work, discovered, steps);
    work.run.ms = ms(started.elapsed());
    match result {
        Ok(()) => {
            work.run.status = "released".to_owned();
            let _ = ctx.record(
                |r| {
                    r.detail("repo", name.to_owned())
                        .detail("commit", work.run.commit.clone().unwrap_or_default())
                        .detail(
                            "tags",
                            steps.iter().map(|s| s.tag.clone()).collect::<Vec<_>>(),
                        )
                },
                "cascade_repo_released",
                "released",
            );
            Ok(work.run)
        }
        Err(f) => {
            let _ = ctx.record(
                |r| {
                    r.detail("repo", name.to_owned())
                        .detail("step", f.step)
                        .detail("failure", f.message.clone())
                },
                "cascade_repo_failed",
                "failed",
            );
            Err(Box::new((work.run, f)))
        }
    }
}

fn state_err<'n>(step: &'static str, name: &'n str) -> impl FnOnce(ExecError) -> Failure + 'n {
    move |e| Failure {
        repo: name.to_owned(),
        step,
        message: e.to_string(),
        output_tail: String::new(),
    }
}

fn release_steps(
    work: &mut Work<'_>,
    discovered: &Discovered,
    steps: &[&Step],
) -> Result<(), Failure> {
    let ctx = work.ctx;
    let name = work.name;
    let dir = work.dir.clone();
    let store = ctx.state_dir.join("snapshots").join(name);

    // Snapshot.
    let secs = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let mut id = SnapshotId::timestamped("pre-cascade", i64::try_from(secs).unwrap_or(0))
        .map_err(|e| work.fail("snapshot", e.to_string()))?;
    let mut n = 2;
    while store.join(id.as_str()).exists() {
        id = SnapshotId::new(format!("pre-cascade-{secs}-{n}"))
            .map_err(|e| work.fail("snapshot", e.to_string()))?;
        n += 1;
    }
    ctx.update(name, |s| {
        s.status = RepoStatus::Snapshotting;
        s.snapshot = Some(id.to_string());
    })
    .map_err(state_err("snapshot", name))?;
    work.timed("snapshot", |w| {
        lockstep_snapshot::snapshot(&dir, &id, &[] as &[&Path], &store)
            .map(drop)
            .map_err(|e| w.fail("snapshot", e.to_string()))
    })?;
    ctx.update(name, |s| s.status = RepoStatus::Working)
        .map_err(state_err("snapshot", name))?;
    failpoint::hit("cascade_after_snapshot");

    // Pins.
    work.timed("pins", |w| {
        for step in steps {
            for edit in &step.pin_edits {
                let path = dir.join(&edit.file);
                let eco = path
                    .file_name()
                    .and_then(|n| n.to_str())
                    .and_then(Ecosystem::from_file_name)
                    .ok_or_else(|| {
                        w.fail("pins", format!("{} is not a package manifest", edit.file))
                    })?;
                let text = std::fs::read_to_string(&path)
                    .map_err(|e| w.fail("pins", format!("cannot read {}: {e}", edit.file)))?;
                let value = match edit.kind {
                    EditKind::Tag => PinValue::Tag(edit.to.clone()),
                    _ => PinValue::Version(edit.to.clone()),
                };
                let out = lockstep_pins::set_pin(eco, &text, &edit.dependency, &value)
                    .map_err(|e| w.fail("pins", format!("{}: {e}", edit.file)))?;
                fsx::write_atomic(&path, out.text.as_bytes())
                    .map_err(|e| w.fail("pins", format!("cannot write {}: {e}", edit.file)))?;
            }
        }
        Ok(())
    })?;

    // Versions.
    work.timed("version", |w| {
        for step in steps {
            let path = dir.join(&step.manifest);
            let eco = step.ecosystem;
            let text = std::fs::read_to_string(&path)
                .map_err(|e| w.fail("version", format!("cannot read {}: {e}", step.manifest)))?;
            let out = lockstep_pins::set_version(eco, &text, &step.to.to_string())
                .map_err(|e| w.fail("version", format!("{}: {e}", step.manifest)))?;
            fsx::write_atomic(&path, out.text.as_bytes())
                .map_err(|e| w.fail("version", format!("cannot write {}: {e}", step.manifest)))?;
        }
        Ok(())
    })?;

    // Lockfiles.
    work.timed("lockfile", |w| {
        let mut seen: Vec<PathBuf> = Vec::new();
        for step in steps {
            let eco = step.ecosystem;
            let pkg = dir.join(&step.manifest);
            let pkg_dir = pkg.parent().unwrap_or(&dir).to_path_buf();
            let found = [pkg_dir.clone(), dir.clone()]
                .into_iter()
                .find_map(|d| lockfile_of(&d, eco).map(|(f, t)| (d, f, t)));
            let Some((lock_dir, file, tool)) = found else {
                continue;
            };
            if seen.contains(&lock_dir) {
                continue;
            }
            seen.push(lock_dir.clone());
            // The plan's command, so a dry run and a real run agree; computed only for a
            // lockfile discovery did not know about.
            let planned: Option<Vec<String>> = step
                .lockfile_command
                .as_deref()
                .map(|c| c.split_whitespace().map(str::to_owned).collect())
                .filter(|v: &Vec<String>| v.len() > 1 && v[0] == tool);
            let args: Vec<String> = match (planned, tool) {
                (Some(v), _) => v[1..].to_vec(),
                (None, "cargo") => vec!["update".into(), "--workspace".into()],
                (None, "npm") => vec![
                    "install".into(),
                    "--package-lock-only".into(),
                    "--ignore-scripts".into(),
                ],
                (None, _) => vec!["lock".into()],
            };
            let shown = format!("{tool} {}", args.join(" "));
            w.run.notes.push(format!("{file}: {shown}"));
            w.run_command(
                "lockfile",
                CommandSpec::new(tool).args(&args).current_dir(&lock_dir),
                &shown,
            )?;
        }
        Ok(())
    })?;

    // Smoke tests.
    let smoke = discovered.repo(name).and_then(|r| r.entry.smoke.clone());
    if let Some(cmd) = smoke {
        work.timed("smoke", |w| {
            let first = steps.first();
            let spec = CommandSpec::new("/bin/sh")
                .arg("-c")
                .arg(&cmd)
                .current_dir(&dir)
                .versions(
                    first.map(|s| s.from.to_string()).unwrap_or_default(),
                    first.map(|s| s.to.to_string()).unwrap_or_default(),
                );
            w.run_command("smoke", spec, &cmd)
        })?;
    }

    // Changelog.
    let mut paths: Vec<PathBuf> = Vec::new();
    work.timed("changelog", |w| {
        for step in steps {
            let rel = Path::new(&step.manifest)
                .parent()
                .map(|p| p.join("CHANGELOG.md"))
                .unwrap_or_else(|| PathBuf::from("CHANGELOG.md"));
            let path = dir.join(&rel);
            let since = previous_tag(&dir, step);
            let commits = lockstep_snapshot::log_since(&dir, since.as_deref())
                .map(|c| c.into_iter().map(|c| c.summary).collect::<Vec<_>>())
                .unwrap_or_default();
            let old = std::fs::read_to_string(&path).unwrap_or_default();
            let text = changelog_entry(&old, step, &commits, &today());
            fsx::write_atomic(&path, text.as_bytes())
                .map_err(|e| w.fail("changelog", format!("cannot write {}: {e}", rel.display())))?;
            paths.push(rel);
        }
        Ok(())
    })?;

    // Commit.
    work.timed("commit", |w| {
        let message = if steps.len() == 1 {
            steps[0].commit_message()
        } else {
            format!(
                "chore(release): {}",
                steps
                    .iter()
                    .map(|s| format!("{} v{}", s.package, s.to))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        };
        let result = lockstep_snapshot::commit_as_configured(&dir, &message, &paths);
        let id = result.map_err(|e| w.fail("commit", e.to_string()))?;
        w.run.commit = Some(id.to_string());
        Ok(())
    })?;
    let commit = work.run.commit.clone();
    ctx.update(name, |s| s.commit = commit)
        .map_err(state_err("commit", name))?;
    failpoint::hit("cascade_after_commit");

    // Tags.
    work.timed("tag", |w| {
        for step in steps {
            ctx.update(name, |s| s.tags.push(step.tag.clone()))
                .map_err(state_err("tag", name))?;
            let result =
                lockstep_snapshot::create_tag_as_configured(&dir, &step.tag, &step.tag_message());
            result.map_err(|e| w.fail("tag", e.to_string()))?;
        }
        Ok(())
    })?;
    ctx.update(name, |s| s.status = RepoStatus::Released)
        .map_err(state_err("tag", name))?;
    failpoint::hit("cascade_after_repo");
    Ok(())
}

fn today() -> String {
    lockstep_audit::rfc3339(SystemTime::now())
        .chars()
        .take(10)
        .collect()
}

/// The tag of the package's current version, when it exists.
fn previous_tag(dir: &Path, step: &Step) -> Option<String> {
    let prefix = step.tag.strip_suffix(&step.to.to_string())?;
    let tag = format!("{prefix}{}", step.from);
    lockstep_snapshot::tag_exists(dir, &tag)
        .ok()
        .filter(|e| *e)
        .map(|_| tag)
}

/// Prepends a Keep a Changelog entry for `step` to `old`.
pub fn changelog_entry(old: &str, step: &Step, commits: &[String], date: &str) -> String {
    let mut added = Vec::new();
    let mut fixed = Vec::new();
    let mut changed = Vec::new();
    for c in commits {
        let (head, text) = c
            .split_once(':')
            .map_or(("", c.as_str()), |(h, t)| (h, t.trim()));
        let kind = head.split(['(', '!']).next().unwrap_or("");
        if head.ends_with('!') || c.contains("BREAKING CHANGE") {
            changed.push(format!("**Breaking:** {text}"));
        } else if kind == "feat" {
            added.push(text.to_owned());
        } else if kind == "fix" || kind == "perf" {
            fixed.push(text.to_owned());
        }
    }
    let mut entry = format!("## [{}] - {date}\n", step.to);
    for (title, items) in [("Changed", &changed), ("Added", &added), ("Fixed", &fixed)] {
        if !items.is_empty() {
            entry.push_str(&format!("\n### {title}\n\n"));
            for i in items {
                entry.push_str(&format!("- {i}\n"));
            }
        }
    }
    let deps: Vec<String> = step
        .pin_edits
        .iter()
        .map(|e| format!("- {}: {} → {}", e.dependency, e.from, e.to))
        .collect();
    if !deps.is_empty() {
        entry.push_str("\n### Dependencies\n\n");
        for d in deps {
            entry.push_str(&d);
            entry.push('\n');
        }
    }
    if added.is_empty() && fixed.is_empty() && changed.is_empty() && step.pin_edits.is_empty() {
        entry.push_str(&format!(
            "\n- Released as part of a cascade ({}).\n",
            step.reason
        ));
    }
    const HEADER: &str = "# Changelog\n\nAll notable changes to this package are documented here. The format follows\n[Keep a Changelog](https://keepachangelog.com/en/1.1.0/), and versions follow SemVer.\n";
    if old.trim().is_empty() {
        return format!("{HEADER}\n{entry}");
    }
    match old.find("\n## ") {
        Some(at) => format!("{}\n{entry}{}", &old[..=at], &old[at + 1..]),
        None => format!("{}\n\n{entry}", old.trim_end()),
    }
}

/// Pushes each repository's branch and tags, in plan order; on a failure, deletes the tags
/// already pushed and reports.
fn push_all(ctx: &Ctx<'_>, discovered: &Discovered, plan: &Plan) -> Result<Vec<String>, Failure> {
    let mut pushed: Vec<(PathBuf, String, String)> = Vec::new();
    let mut done = Vec::new();
    for wave in groups(plan) {
        for (name, steps) in wave {
            let Some(repo) = discovered.repo(&name) else {
                continue;
            };
            let remote = repo
                .entry
                .remote
                .clone()
                .unwrap_or_else(|| "origin".to_owned());
            let branch = repo.branch.clone().unwrap_or_else(|| "HEAD".to_owned());
            let mut args = vec!["push".to_owned(), remote.clone(), branch];
            args.extend(steps.iter().map(|s| format!("refs/tags/{}", s.tag)));
            (ctx.progress)(&name, &format!("git {}", args.join(" ")));
            let spec = CommandSpec::new("git")
                .args(&args)
                .current_dir(&repo.dir)
                .timeout(COMMAND_TIMEOUT);
            let result = match lockstep_smoke::run(&spec) {
                Ok(r) if r.outcome.is_passed() => Ok(()),
                Ok(r) => Err(r.output.tail_text(10)),
                Err(e) => Err(e.to_string()),
            };
            match result {
                Ok(()) => {
                    for s in &steps {
                        pushed.push((repo.dir.clone(), remote.clone(), s.tag.clone()));
                    }
                    done.push(name.clone());
                }
                Err(tail) => {
                    for (dir, remote, tag) in pushed.iter().rev() {
                        let spec = CommandSpec::new("git")
                            .args(["push", remote.as_str(), &format!(":refs/tags/{tag}")])
                            .current_dir(dir)
                            .timeout(COMMAND_TIMEOUT);
                        let _ = lockstep_smoke::run(&spec);
                    }
                    return Err(Failure {
                        repo: name.clone(),
                        step: "push",
                        message: "push failed; the tags already pushed were deleted from their remotes, and the local releases stand (push again when the remote is fixed)".to_owned(),
                        output_tail: tail,
                    });
                }
            }
        }
    }
    Ok(done)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn step() -> Step {
        let json = r#"{"schema": "lockstep.cascade-plan/v1", "digest": "d", "waves": [[{
            "package": "runtime", "repo": "runtime", "ecosystem": "cargo", "manifest": "Cargo.toml",
            "from": "1.0.0", "to": "1.0.1", "bump": "patch", "reason": "pins manifest 1.0.0 → 1.1.0",
            "pin_edits": [{"file": "Cargo.toml", "dependency": "manifest", "from": "v1.0.0", "to": "v1.1.0", "kind": "tag"}],
            "tag": "v1.0.1", "lockfile_command": null, "smoke": null, "upstreams": []}]]}"#;
        let plan: Plan = serde_json::from_str(json).unwrap();
        plan.waves[0][0].clone()
    }

    #[test]
    fn changelog_entries_follow_keep_a_changelog() {
        let s = step();
        let commits = vec![
            "feat(api): new endpoint".to_owned(),
            "fix: off by one".to_owned(),
            "chore: tidy".to_owned(),
            "feat!: drop v1".to_owned(),
        ];
        let first = changelog_entry("", &s, &commits, "2026-11-22");
        assert!(first.starts_with("# Changelog\n"), "{first}");
        assert!(first.contains("## [1.0.1] - 2026-11-22\n\n### Changed\n\n- **Breaking:** drop v1\n\n### Added\n\n- new endpoint\n\n### Fixed\n\n- off by one\n\n### Dependencies\n\n- manifest: v1.0.0 → v1.1.0\n"), "{first}");
        assert!(!first.contains("tidy"));
        // A second entry goes above the first, below the header.
        let second = changelog_entry(&first, &s, &[], "2026-11-23");
        let new_at = second.find("## [1.0.1] - 2026-11-23").unwrap();
        let old_at = second.find("## [1.0.1] - 2026-11-22").unwrap();
        assert!(
            second.starts_with("# Changelog\n") && new_at < old_at,
            "{second}"
        );
    }
}
