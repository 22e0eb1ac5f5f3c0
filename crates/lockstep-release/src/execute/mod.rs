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

use crate::Discovered;
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

mod changelog;
mod journal;
mod preflight;
mod provenance;
mod publish;
mod push;
mod registry;
mod report;
mod rollback;
mod steps;
mod waves;

pub use changelog::changelog_entry;
use changelog::*;
pub use journal::{CascadeJournal, RepoState, RepoStatus};
pub use preflight::preflight;
pub use publish::StaysPublished;
use publish::*;
use push::*;
use report::RepoResult;
pub use report::{Failure, Outcome, Progress, RepoRun, Report, StepTime};
use rollback::*;
use steps::*;
use waves::*;

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

struct Ctx<'a> {
    state_dir: PathBuf,
    journal: Mutex<CascadeJournal>,
    audit: AuditLog,
    options: &'a Options,
    progress: Progress<'a>,
}

impl Ctx<'_> {
    /// The plan the journal holds.
    fn plan(&self) -> Result<Plan, ExecError> {
        self.journal
            .lock()
            .map(|j| j.plan.clone())
            .map_err(|_| ExecError::State {
                path: CascadeJournal::path(&self.state_dir),
                message: "the journal's lock was poisoned by a panicking thread".to_owned(),
            })
    }

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

/// The repositories to release, grouped in repository waves: each repository once, with all
/// its steps (one release commit), in the earliest wave after every repository holding one of
/// its in-plan upstreams. When the repositories' graph has a cycle (A needs B needs A, through
/// different packages), each plan wave is its own group instead, so such a repository gets one
/// commit per wave; [`repository_cycle`] names it.
fn groups(plan: &Plan) -> Vec<Vec<(String, Vec<&Step>)>> {
    let Some(repo_wave) = repository_waves(plan) else {
        return plan
            .waves
            .iter()
            .map(|wave| {
                let mut by_repo: BTreeMap<String, Vec<&Step>> = BTreeMap::new();
                for s in wave {
                    by_repo.entry(s.repo.to_string()).or_default().push(s);
                }
                by_repo.into_iter().collect()
            })
            .collect();
    };
    let count = repo_wave.values().map(|w| w + 1).max().unwrap_or(0);
    let mut out: Vec<BTreeMap<String, Vec<&Step>>> = vec![BTreeMap::new(); count];
    for s in plan.steps() {
        out[repo_wave[s.repo.as_str()]]
            .entry(s.repo.to_string())
            .or_default()
            .push(s);
    }
    out.into_iter().map(|m| m.into_iter().collect()).collect()
}

/// Each repository's wave in the repositories' graph (longest path from a repository with no
/// in-plan upstream elsewhere), or `None` when that graph has a cycle.
fn repository_waves(plan: &Plan) -> Option<BTreeMap<String, usize>> {
    let repo_of: BTreeMap<&str, &str> = plan
        .steps()
        .map(|s| (s.package.as_str(), s.repo.as_str()))
        .collect();
    let mut needs: BTreeMap<&str, std::collections::BTreeSet<&str>> = BTreeMap::new();
    for s in plan.steps() {
        let entry = needs.entry(s.repo.as_str()).or_default();
        for u in &s.upstreams {
            if let Some(&r) = repo_of.get(u.package.as_str())
                && r != s.repo
            {
                entry.insert(r);
            }
        }
    }
    let mut wave: BTreeMap<String, usize> = BTreeMap::new();
    let mut left: Vec<&str> = needs.keys().copied().collect();
    while !left.is_empty() {
        let ready: Vec<&str> = left
            .iter()
            .copied()
            .filter(|r| needs[r].iter().all(|u| wave.contains_key(*u)))
            .collect();
        if ready.is_empty() {
            return None;
        }
        for r in &ready {
            let w = needs[r].iter().map(|u| wave[*u] + 1).max().unwrap_or(0);
            wave.insert((*r).to_owned(), w);
        }
        left.retain(|r| !ready.contains(r));
    }
    Some(wave)
}

/// A repository on a cycle of the repositories' graph, when there is one: such a repository
/// is released one commit per wave.
pub fn repository_cycle(plan: &Plan) -> Option<String> {
    if repository_waves(plan).is_some() {
        return None;
    }
    let mut by_repo: BTreeMap<&str, usize> = BTreeMap::new();
    for w in &plan.waves {
        let repos: std::collections::BTreeSet<&str> = w.iter().map(|s| s.repo.as_str()).collect();
        for r in repos {
            *by_repo.entry(r).or_default() += 1;
        }
    }
    by_repo
        .into_iter()
        .find(|(_, n)| *n > 1)
        .map(|(r, _)| r.to_owned())
}

/// The lockfile of a repository, its tool, and whether the tool is installed.
/// The lockfile a package resolves through, as `(directory, file name, tool)`: for a member of
/// a Cargo workspace, the workspace root's `Cargo.lock` (cargo ignores a stray lockfile beside
/// a member, and so does this); otherwise the nearest lockfile of the package's ecosystem, from
/// its manifest's directory up to the repository root.
pub(super) fn lockfile_for(
    repo_dir: &Path,
    manifest: &str,
    eco: Ecosystem,
) -> Option<(PathBuf, &'static str, &'static str)> {
    let start = repo_dir.join(manifest);
    let ancestors: Vec<&Path> = start
        .parent()?
        .ancestors()
        .take_while(|d| d.starts_with(repo_dir))
        .collect();
    if eco == Ecosystem::Cargo
        && let Some(root) = ancestors
            .iter()
            .find(|d| cargo_workspace_holds(d, start.parent().unwrap_or(d)))
    {
        return lockfile_of(root, eco).map(|(f, t)| (root.to_path_buf(), f, t));
    }
    ancestors
        .iter()
        .find_map(|d| lockfile_of(d, eco).map(|(f, t)| (d.to_path_buf(), f, t)))
}

/// Whether `root/Cargo.toml` declares a `[workspace]` that `member` (a directory at or below
/// `root`) is not excluded from.
fn cargo_workspace_holds(root: &Path, member: &Path) -> bool {
    let Ok(text) = std::fs::read_to_string(root.join("Cargo.toml")) else {
        return false;
    };
    let Ok(doc) = text.parse::<toml_edit::DocumentMut>() else {
        return false;
    };
    let Some(ws) = doc.get("workspace").and_then(|w| w.as_table_like()) else {
        return false;
    };
    let rel = member.strip_prefix(root).unwrap_or(member);
    let excluded = ws
        .get("exclude")
        .and_then(|e| e.as_array())
        .is_some_and(|a| {
            a.iter()
                .filter_map(|v| v.as_str())
                .any(|x| rel.starts_with(x.trim_end_matches('/')))
        });
    !excluded
}

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

/// Runs the cascade. Takes the lock, refuses when an interrupted cascade's journal waits, runs
/// the preflight, then releases wave by wave.
pub fn execute(
    discovered: &Discovered,
    plan: &Plan,
    options: &Options,
    progress: Progress<'_>,
) -> Result<Report, ExecError> {
    let _span = tracing::info_span!("cascade.execute", digest = %plan.digest, jobs = options.jobs)
        .entered();
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

/// The lock and the context of an interrupted cascade, `None` when no journal waits.
fn interrupted<'a>(
    discovered: &Discovered,
    options: &'a Options,
    progress: Progress<'a>,
    what: &str,
) -> Result<Option<(Ctx<'a>, Lock)>, ExecError> {
    let state_dir = state_dir(discovered);
    let lock = Lock::acquire(&state_dir, &format!("release-cascade {what}"))?;
    let Some(journal) = CascadeJournal::load(&state_dir)? else {
        return Ok(None);
    };
    let audit = AuditLog::open(state_dir.join(lockstep_state::layout::AUDIT_FILE))?;
    let ctx = Ctx {
        state_dir,
        journal: Mutex::new(journal),
        audit,
        options,
        progress,
    };
    Ok(Some((ctx, lock)))
}

/// Continues an interrupted cascade: released repositories are kept, a half-released one is
/// restored and released again, the rest run as usual.
pub fn resume(
    discovered: &Discovered,
    options: &Options,
    progress: Progress<'_>,
) -> Result<Report, ExecError> {
    let Some((ctx, _lock)) = interrupted(discovered, options, progress, "--resume")? else {
        return Ok(empty_report(Outcome::NothingToDo));
    };
    let plan = ctx.plan()?;
    // Undo whatever a crash left half done, so each repository still gets exactly one release commit.
    let problems = undo_half_done(&ctx);
    if !problems.is_empty() {
        return Err(ExecError::RestoreFailed {
            problems,
            journal: CascadeJournal::path(&ctx.state_dir),
        });
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
    let Some((ctx, _lock)) = interrupted(discovered, options, progress, "--abort")? else {
        return Ok(empty_report(Outcome::NothingToDo));
    };
    let digest = ctx.plan()?.digest;
    // What may be published stays: listed, with how to withdraw it, never deleted.
    let published = stays_published(
        &ctx,
        &registry::Registries::from_config(&discovered.config.config),
    );
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
    report.published = published;
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
        published: Vec::new(),
    }
}

impl lockstep_state::Classify for ExecError {
    fn kind(&self) -> &'static str {
        ExecError::kind(self)
    }
    fn severity(&self) -> lockstep_state::Severity {
        lockstep_state::Severity::unless_inconsistent(self.left_inconsistent())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_workspace_member_locks_through_the_root_and_a_stray_lockfile_is_ignored() {
        let tmp = tempfile::tempdir().expect("a temp dir");
        let root = tmp.path();
        let write = |rel: &str, text: &str| {
            let path = root.join(rel);
            std::fs::create_dir_all(path.parent().expect("a parent")).expect("mkdir");
            std::fs::write(path, text).expect("write");
        };
        write(
            "Cargo.toml",
            "[workspace]\nmembers = [\"tools\"]\nexclude = [\"standalone\"]\n",
        );
        write("Cargo.lock", "version = 4\n");
        write("tools/Cargo.toml", "[package]\nname = \"tools\"\n");
        write("tools/Cargo.lock", "# stray, from an older layout\n");
        write(
            "standalone/Cargo.toml",
            "[package]\nname = \"standalone\"\n",
        );
        write("standalone/Cargo.lock", "version = 4\n");
        write("web/package.json", "{}");
        write("web/package-lock.json", "{}");
        let found = |manifest: &str, eco| {
            lockfile_for(root, manifest, eco).map(|(d, f, _)| {
                d.join(f)
                    .strip_prefix(root)
                    .expect("inside")
                    .display()
                    .to_string()
            })
        };
        assert_eq!(
            found("tools/Cargo.toml", Ecosystem::Cargo).as_deref(),
            Some("Cargo.lock")
        );
        assert_eq!(
            found("standalone/Cargo.toml", Ecosystem::Cargo).as_deref(),
            Some("standalone/Cargo.lock")
        );
        assert_eq!(
            found("web/package.json", Ecosystem::Npm).as_deref(),
            Some("web/package-lock.json")
        );
        assert_eq!(found("tools/Cargo.toml", Ecosystem::Python), None);
    }
}
