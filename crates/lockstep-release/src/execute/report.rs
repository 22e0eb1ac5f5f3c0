//! What a cascade run reports: its outcome, each repository's run and step timings.

#[allow(unused_imports)]
use super::*;

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
    /// Stopped after the point of no return (something is published), or while waiting for
    /// a registry: nothing was rolled back, the journal is kept, `--resume` continues and
    /// `--abort` undoes what is unpublished (exit 1).
    Stopped,
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
    pub(super) fn planned(repo: &str, wave: usize, steps: &[&Step], status: &str) -> Self {
        RepoRun {
            repo: repo.to_owned(),
            wave,
            packages: steps
                .iter()
                .map(|s| {
                    (
                        s.package.to_string(),
                        s.from.to_string(),
                        s.to.to_string(),
                        s.tag.to_string(),
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
    /// After `--abort` (or a stop past the point of no return): the packages that stay
    /// published, with how to withdraw them.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub published: Vec<StaysPublished>,
}

impl Report {
    /// The exit code design.md assigns.
    pub fn exit_code(&self) -> i32 {
        match self.outcome {
            Outcome::RolledBack | Outcome::PushFailed | Outcome::Stopped => 1,
            _ => 0,
        }
    }
}

/// A repository's run, or its run and the failure that stopped it.
pub(crate) type RepoResult = Result<RepoRun, Box<(RepoRun, Failure)>>;

/// A progress event: a repository and what it is doing.
pub type Progress<'a> = &'a (dyn Fn(&str, &str) + Sync);
