//! The cascade journal: the plan and each repository's progress, written before every step.

#[allow(unused_imports)]
use super::*;

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
    /// Its `publish` command runs (or its tags are pushed for CI): from here on it may be
    /// published, so it is never rolled back.
    Publishing,
    /// Published; the wait for its registry may not be over.
    Published,
    /// Published and visible where its dependents resolve from: done.
    Visible,
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
    pub(super) fn path(state_dir: &Path) -> PathBuf {
        state_dir.join(JOURNAL_FILE)
    }

    pub(super) fn file(state_dir: &Path) -> JournalFile {
        JournalFile::new(Self::path(state_dir), JOURNAL_SCHEMA)
    }

    /// Reads the journal in `state_dir`, `None` when there is none.
    pub fn load(state_dir: &Path) -> Result<Option<CascadeJournal>, ExecError> {
        Self::file(state_dir).load().map_err(ExecError::from)
    }

    pub(super) fn save(&self, state_dir: &Path) -> Result<(), ExecError> {
        Self::file(state_dir).save(self).map_err(ExecError::from)
    }

    pub(super) fn remove(state_dir: &Path) -> Result<(), ExecError> {
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
