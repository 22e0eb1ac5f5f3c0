//! Opening a work tree, reading HEAD, and the status of tracked and untracked files.

use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;

use gix::bstr::{BStr, BString, ByteSlice};
use gix::status::plumbing::index_as_worktree::{Change, EntryStatus};
use gix::status::plumbing::index_as_worktree_with_renames::{Entry as StatusEntry, VisitEntry};

use crate::error::{Cause, Error, Result};
use crate::id::ObjectId;

/// Where HEAD is: the commit, and the branch unless detached.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Head {
    /// The commit HEAD resolves to; `None` on an unborn branch.
    pub commit: Option<ObjectId>,
    /// The branch's short name (`main`), or `None` when HEAD is detached.
    pub branch: Option<String>,
}

/// Whether a tracked change is staged (index differs from HEAD) or in the work tree only.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum ChangeArea {
    /// The index differs from HEAD's tree (`git diff --cached`).
    Index,
    /// The work tree differs from the index (`git diff`).
    WorkTree,
}

/// How a tracked path changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum ChangeKind {
    /// Added to the index (staged new file, or `git add --intent-to-add`).
    Added,
    /// Content or executable bit changed.
    Modified,
    /// Removed.
    Deleted,
    /// The kind of entry changed (file, symlink, directory).
    TypeChanged,
    /// An unresolved merge conflict.
    Conflicted,
}

/// One tracked path that differs from HEAD.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub struct TrackedChange {
    /// The path relative to the work tree's root, with `/` separators.
    pub path: String,
    /// Staged or in the work tree.
    pub area: ChangeArea,
    /// What changed.
    pub kind: ChangeKind,
}

/// The state of a work tree, like `git status --porcelain` without ignored files.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Status {
    /// Tracked changes, sorted by path then area; empty when the tree is clean.
    pub tracked: Vec<TrackedChange>,
    /// Untracked paths, sorted; a wholly untracked directory is one entry ending in `/`.
    pub untracked: Vec<String>,
}

impl Status {
    /// True when no tracked file differs from HEAD (untracked files do not count).
    pub fn is_clean(&self) -> bool {
        self.tracked.is_empty()
    }

    /// The distinct paths with tracked changes, sorted.
    pub fn dirty_paths(&self) -> Vec<String> {
        let mut paths: Vec<String> = self.tracked.iter().map(|c| c.path.clone()).collect();
        paths.dedup();
        paths
    }
}

/// An open work tree and the path it was opened from; every operation goes through it.
pub(crate) struct Repo {
    pub repo: gix::Repository,
    pub root: PathBuf,
}

impl Repo {
    /// Opens the work tree whose root is `dir`.
    pub fn open(dir: &Path) -> Result<Self> {
        let _span = tracing::debug_span!("open", repo = %dir.display()).entered();
        let repo = gix::open(dir).map_err(|e| Error::NotARepository {
            repo: dir.to_owned(),
            source: Cause::new(e),
        })?;
        if repo.workdir().is_none() {
            return Err(Error::NotARepository {
                repo: dir.to_owned(),
                source: Cause::msg("the repository is bare"),
            });
        }
        Ok(Repo {
            repo,
            root: dir.to_owned(),
        })
    }

    /// The work tree's root as gix sees it.
    pub fn workdir(&self) -> &Path {
        self.repo.workdir().unwrap_or(&self.root)
    }

    /// The absolute path of `rel` (a repository-relative path from the index) in the work tree.
    pub fn worktree_path(&self, rel: &BStr) -> Result<PathBuf> {
        let rel = gix::path::from_bstr(rel).map_err(self.git_err("convert path"))?;
        Ok(self.workdir().join(rel))
    }

    /// Maps a gix error to [`Error::Git`] for operation `op` in this repository.
    pub fn git_err<E>(&self, op: &'static str) -> impl FnOnce(E) -> Error + '_
    where
        E: std::error::Error + Send + Sync + 'static,
    {
        move |e| Error::Git {
            repo: self.root.clone(),
            op,
            source: Cause::new(e),
        }
    }

    /// HEAD's commit (if any) and branch (unless detached).
    pub fn head(&self) -> Result<Head> {
        let head = self.repo.head().map_err(self.git_err("read HEAD"))?;
        let branch = head
            .referent_name()
            .map(|name| name.shorten().to_str_lossy().into_owned());
        let commit = head.id().map(|id| ObjectId::from_gix(id.detach()));
        Ok(Head { commit, branch })
    }

    /// HEAD's commit, or [`Error::UnbornHead`].
    pub fn head_commit(&self) -> Result<gix::ObjectId> {
        let head = self.repo.head().map_err(self.git_err("read HEAD"))?;
        match head.id() {
            Some(id) => Ok(id.detach()),
            None => Err(Error::UnbornHead {
                repo: self.root.clone(),
            }),
        }
    }

    /// The tree of `commit`.
    pub fn tree_of(&self, commit: gix::ObjectId) -> Result<gix::ObjectId> {
        let commit = self
            .repo
            .find_commit(commit)
            .map_err(self.git_err("read commit"))?;
        commit
            .tree_id()
            .map(|id| id.detach())
            .map_err(self.git_err("read commit"))
    }

    /// The index as it is on disk (empty when there is none).
    pub fn index(&self) -> Result<gix::worktree::Index> {
        self.repo
            .index_or_empty()
            .map_err(self.git_err("read index"))
    }

    /// The index that `tree` would have, without stat information.
    pub fn index_from_tree(&self, tree: gix::ObjectId) -> Result<gix::index::File> {
        let _span = tracing::debug_span!("index_from_tree", %tree).entered();
        self.repo
            .index_from_tree(&tree)
            .map_err(self.git_err("read tree"))
    }

    /// Compares the work tree with `index`: changed tracked entries, entries whose stat
    /// needs refreshing, and (when asked) untracked paths.
    pub fn scan_worktree(&self, index: &gix::index::State, untracked: bool) -> Result<Scan> {
        let _span =
            tracing::debug_span!("scan_worktree", repo = %self.root.display(), untracked).entered();
        let dirwalk_options = if untracked {
            Some(
                self.repo
                    .dirwalk_options()
                    .map_err(self.git_err("status"))?
                    .emit_untracked(gix::dir::walk::EmissionMode::CollapseDirectory),
            )
        } else {
            None
        };
        let mut scan = Scan::default();
        let interrupt = AtomicBool::new(false);
        self.repo
            .index_worktree_status(
                index,
                None::<&BStr>,
                &mut scan,
                gix::status::plumbing::index_as_worktree::traits::FastEq,
                NoSubmodules,
                &mut gix::progress::Discard,
                &interrupt,
                gix::status::index_worktree::Options {
                    sorting: None,
                    dirwalk_options,
                    rewrites: None,
                    thread_limit: None,
                },
            )
            .map_err(self.git_err("status"))?;
        scan.changed.sort();
        scan.untracked.sort();
        Ok(scan)
    }

    /// The full status: staged changes (HEAD tree vs index), work tree changes and untracked paths.
    pub fn status(&self) -> Result<Status> {
        let _span = tracing::info_span!("status", repo = %self.root.display()).entered();
        let index = self.index()?;
        let head_tree = match self.repo.head().map_err(self.git_err("read HEAD"))?.id() {
            Some(commit) => Some(self.tree_of(commit.detach())?),
            None => None,
        };
        let (scan, expected) = std::thread::scope(|scope| {
            // The tree is unpacked on a second thread while this one checks the work tree.
            let sync_repo = self.repo.clone().into_sync();
            let expected = scope.spawn(move || -> Result<Option<gix::index::File>, gix::Error> {
                head_tree
                    .map(|tree| sync_repo.to_thread_local().index_from_tree(&tree))
                    .transpose()
            });
            let scan = self.scan_worktree(&index, true);
            let expected = expected
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
            (scan, expected)
        });
        let scan = scan?;
        let empty = gix::index::State::new(self.repo.object_hash());
        let expected = expected.map_err(self.git_err("read tree"))?;
        let expected_state = expected.as_ref().map_or(&empty, |f| &**f);
        let mut tracked: Vec<TrackedChange> = index_differences(&index, expected_state)
            .into_iter()
            .map(|(path, kind)| TrackedChange {
                path: path.to_str_lossy().into_owned(),
                area: ChangeArea::Index,
                kind,
            })
            .collect();
        tracked.extend(scan.changed.into_iter().map(|(path, kind)| TrackedChange {
            path: path.to_str_lossy().into_owned(),
            area: ChangeArea::WorkTree,
            kind,
        }));
        tracked.sort();
        tracked.dedup();
        Ok(Status {
            tracked,
            untracked: scan.untracked,
        })
    }
}

/// What [`Repo::scan_worktree`] found.
#[derive(Default)]
pub(crate) struct Scan {
    /// Tracked entries that differ from the work tree.
    pub changed: Vec<(BString, ChangeKind)>,
    /// Entries (by index position) whose file is unchanged but whose stat should be refreshed.
    pub refreshed: Vec<(usize, gix::index::entry::Stat)>,
    /// Untracked paths (directories end in `/`).
    pub untracked: Vec<String>,
}

impl<'index> VisitEntry<'index> for Scan {
    type ContentChange = ();
    type SubmoduleStatus = ();

    fn visit_entry(&mut self, entry: StatusEntry<'index, (), ()>) {
        match entry {
            StatusEntry::Modification {
                rela_path,
                status,
                entry_index,
                ..
            } => {
                let kind = match status {
                    EntryStatus::NeedsUpdate(stat) => {
                        self.refreshed.push((entry_index, stat));
                        return;
                    }
                    EntryStatus::IntentToAdd => ChangeKind::Added,
                    EntryStatus::Conflict { .. } => ChangeKind::Conflicted,
                    EntryStatus::Change(Change::Removed) => ChangeKind::Deleted,
                    EntryStatus::Change(Change::Type { .. }) => ChangeKind::TypeChanged,
                    EntryStatus::Change(
                        Change::Modification { .. } | Change::SubmoduleModification(()),
                    ) => ChangeKind::Modified,
                };
                self.changed.push((rela_path.to_owned(), kind));
            }
            StatusEntry::DirectoryContents { entry, .. } => {
                if entry.status == gix::dir::entry::Status::Untracked {
                    let mut path = entry.rela_path.to_str_lossy().into_owned();
                    if entry.disk_kind.is_some_and(|k| k.is_dir()) {
                        path.push('/');
                    }
                    self.untracked.push(path);
                }
            }
            StatusEntry::Rewrite { .. } => {}
        }
    }
}

/// Submodules are not looked into: their gitlink entries are compared by commit id only.
#[derive(Clone, Copy)]
struct NoSubmodules;

impl gix::status::plumbing::index_as_worktree::traits::SubmoduleStatus for NoSubmodules {
    type Output = ();

    fn status(&mut self, _entry: &gix::index::Entry, _rela_path: &BStr) -> gix::Result<Option<()>> {
        Ok(None)
    }
}

/// The paths where `index` differs from `expected` (an index made from a tree), by merging the
/// two sorted entry lists. Conflicts in `index` are reported once per path.
pub(crate) fn index_differences(
    index: &gix::index::State,
    expected: &gix::index::State,
) -> Vec<(BString, ChangeKind)> {
    use std::cmp::Ordering;
    let (a, b) = (index.entries(), expected.entries());
    let (mut i, mut j) = (0, 0);
    let mut out = Vec::new();
    while i < a.len() || j < b.len() {
        let order = match (a.get(i), b.get(j)) {
            (Some(x), Some(y)) => x.path(index).cmp(y.path(expected)),
            (Some(_), None) => Ordering::Less,
            (None, _) => Ordering::Greater,
        };
        match order {
            Ordering::Less => {
                let path = a[i].path(index);
                let kind = if a[i].stage_raw() != 0 {
                    ChangeKind::Conflicted
                } else {
                    ChangeKind::Added
                };
                push_once(&mut out, path, kind);
                i += 1;
            }
            Ordering::Greater => {
                out.push((b[j].path(expected).to_owned(), ChangeKind::Deleted));
                j += 1;
            }
            Ordering::Equal => {
                let (x, y) = (&a[i], &b[j]);
                let path = x.path(index);
                if x.stage_raw() != 0 {
                    push_once(&mut out, path, ChangeKind::Conflicted);
                    // Every stage of this path is consumed below; the expected entry with it.
                    while a.get(i).is_some_and(|e| e.path(index) == path) {
                        i += 1;
                    }
                    j += 1;
                    continue;
                }
                if x.flags.contains(gix::index::entry::Flags::INTENT_TO_ADD) {
                    out.push((path.to_owned(), ChangeKind::Added));
                } else if x.mode != y.mode && !x.mode.is_submodule() {
                    let kind = if same_kind(x.mode, y.mode) {
                        ChangeKind::Modified
                    } else {
                        ChangeKind::TypeChanged
                    };
                    out.push((path.to_owned(), kind));
                } else if x.id != y.id {
                    out.push((path.to_owned(), ChangeKind::Modified));
                }
                i += 1;
                j += 1;
            }
        }
    }
    out
}

fn push_once(out: &mut Vec<(BString, ChangeKind)>, path: &BStr, kind: ChangeKind) {
    if out.last().is_none_or(|(p, _)| p != path) {
        out.push((path.to_owned(), kind));
    }
}

fn same_kind(a: gix::index::entry::Mode, b: gix::index::entry::Mode) -> bool {
    use gix::index::entry::Mode;
    let file = |m: Mode| m == Mode::FILE || m == Mode::FILE_EXECUTABLE;
    file(a) && file(b)
}

/// Opens the work tree at `repo_dir` and returns its [`Status`]: tracked changes (staged and
/// not) and untracked paths, like `git status --porcelain` without ignored files.
pub fn status(repo_dir: &Path) -> Result<Status> {
    Repo::open(repo_dir)?.status()
}

/// True when no tracked file in `repo_dir` differs from HEAD; untracked files do not count.
pub fn is_clean(repo_dir: &Path) -> Result<bool> {
    Ok(status(repo_dir)?.is_clean())
}

/// Where HEAD of `repo_dir` is: commit (none on an unborn branch) and branch (none when detached).
pub fn head(repo_dir: &Path) -> Result<Head> {
    Repo::open(repo_dir)?.head()
}

/// Makes sure `pattern` (such as `.lockstep/`) is a line of the repository's `info/exclude`,
/// so lockstep's own files never show up as untracked. Returns whether the line was added.
///
/// The file is rewritten crash-safely; existing lines are kept as they are.
pub fn ensure_excluded(repo_dir: &Path, pattern: &str) -> Result<bool> {
    let repo = Repo::open(repo_dir)?;
    let path = repo.repo.common_dir().join("info").join("exclude");
    let _span = tracing::info_span!("ensure_excluded", path = %path.display(), pattern).entered();
    let pattern = pattern.trim();
    if pattern.is_empty() || pattern.contains('\n') {
        return Err(Error::InvalidPath {
            repo: repo_dir.to_owned(),
            path: PathBuf::from(pattern),
        });
    }
    let mut text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(e) => return Err(Error::io("read", &path, e)),
    };
    if text.lines().any(|line| line.trim() == pattern) {
        return Ok(false);
    }
    if !text.is_empty() && !text.ends_with('\n') {
        text.push('\n');
    }
    text.push_str(pattern);
    text.push('\n');
    crate::fsx::write_atomic(&path, text.as_bytes(), false)?;
    Ok(true)
}
